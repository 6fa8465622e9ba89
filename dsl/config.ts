/**
 * Config declarations. Each field becomes a command-line flag of the built NF (kebab-case name),
 * checked at start-up against its range; the same declarations bound the verifier's symbolic config.
 */
import type { Device, Ipv4Addr, MacAddr, Nanos, u16, u32, u64, u8 } from "./types.ts";

interface Documented {
  /** One line for --help. */
  doc?: string;
}
interface Ranged<T> extends Documented {
  default?: T;
  min?: T;
  max?: T;
}

export type FieldSpec =
  | { kind: "uint"; width: 8 | 16 | 32 | 64; opts: Ranged<number | bigint> }
  | { kind: "device"; opts: Documented & { default?: number } }
  | { kind: "ipv4"; opts: Documented & { default?: string } }
  | { kind: "mac"; opts: Documented & { default?: string } }
  | { kind: "duration"; opts: Documented & { default?: string; min?: string; max?: string } }
  | { kind: "bool"; opts: Documented & { default?: boolean } }
  | { kind: "perDevice"; of: FieldSpec };

/** Phantom-typed field: T is the value an NF reads from cfg. */
export type Field<T> = FieldSpec & { readonly __value?: T };

export const field = {
  u8: (opts: Ranged<number> = {}): Field<u8> => ({ kind: "uint", width: 8, opts }),
  u16: (opts: Ranged<number> = {}): Field<u16> => ({ kind: "uint", width: 16, opts }),
  u32: (opts: Ranged<number> = {}): Field<u32> => ({ kind: "uint", width: 32, opts }),
  u64: (opts: Ranged<bigint> = {}): Field<u64> => ({ kind: "uint", width: 64, opts }),
  device: (opts: Documented & { default?: number } = {}): Field<Device> => ({ kind: "device", opts }),
  ipv4: (opts: Documented & { default?: string } = {}): Field<Ipv4Addr> => ({ kind: "ipv4", opts }),
  mac: (opts: Documented & { default?: string } = {}): Field<MacAddr> => ({ kind: "mac", opts }),
  duration: (opts: Documented & { default?: string; min?: string; max?: string } = {}): Field<Nanos> => ({
    kind: "duration",
    opts,
  }),
  bool: (opts: Documented & { default?: boolean } = {}): Field<boolean> => ({ kind: "bool", opts }),
  /** One value per device, given as repeatable `--flag <device>,<value>`; read as cfg.flag[device]. */
  perDevice: <T>(of: Field<T>): Field<readonly T[]> => ({ kind: "perDevice", of }),
};

export type ConfigSchema = Record<string, Field<unknown>>;
export type ConfigOf<S extends ConfigSchema> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/** Identity, for type inference: `export const config = defineConfig({...})`. */
export function defineConfig<S extends ConfigSchema>(schema: S): S {
  return schema;
}

/** The flag name of a config field: startPort -> start-port. */
export function flagName(fieldName: string): string {
  return fieldName.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

const DURATION_UNITS: Record<string, bigint> = { ns: 1n, us: 1000n, ms: 1_000_000n, s: 1_000_000_000n };

/** Parses "10s", "500ms", "250us", "7ns" or "42" (ns). Returns undefined when malformed. */
export function parseDuration(text: string): bigint | undefined {
  const m = /^(\d+)(ns|us|ms|s)?$/.exec(text.trim());
  if (!m) return undefined;
  return BigInt(m[1]!) * DURATION_UNITS[m[2] ?? "ns"]!;
}

/** Parses "a.b.c.d" into a host-order u32. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
}

/** Parses "xx:xx:xx:xx:xx:xx" into a 48-bit value. */
export function parseMac(text: string): bigint | undefined {
  const m = /^([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){5}$/.exec(text.trim());
  if (!m) return undefined;
  return BigInt("0x" + text.trim().replaceAll(":", ""));
}

export function formatIpv4(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
}

export function formatMac(v: bigint): string {
  return v.toString(16).padStart(12, "0").replace(/(..)(?!$)/g, "$1:");
}
