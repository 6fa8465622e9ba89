/**
 * The dsl runtime's driver: runs an NF module, as plain TypeScript, over packets the way the trace
 * target does (runtime-c/shells/trace_shell.c): time clamped to never decrease, device X's MAC
 * 02:00:00:00:00:XX, a flood sent to every device but the input one in increasing order, each
 * output stamped with the time of the packet that caused it.
 */
import { flagName, parseDuration, parseIpv4, parseMac, type ConfigSchema, type FieldSpec } from "./config.ts";
import type { Action, Context } from "./nf.ts";
import { Packet } from "./packet.ts";
import { maxOf, type Width } from "./types.ts";

/** What an NF module exports. */
export interface NfDefinition {
  config: ConfigSchema;
  constraints?: (cfg: never) => boolean;
  state?: (cfg: never) => object;
  process: (pkt: Packet, ctx: Context, cfg: never, st: never) => Action;
}

export type ConfigValue = number | bigint | boolean | readonly (number | bigint | boolean)[];
export type ConfigValues = Record<string, ConfigValue>;

export interface TracePacket {
  device: number;
  timeNs: bigint;
  data: Uint8Array;
}

export class FlagError extends Error {}

export const MAX_DEVICES = 32;

/** Device X's own MAC on the trace target: 02:00:00:00:00:XX. */
export function traceDeviceMac(device: number): bigint {
  return 0x02_00_00_00_00_00n + BigInt(device);
}

interface Range {
  min: bigint;
  max: bigint;
}

function rangeOf(spec: FieldSpec, deviceCount: number): Range {
  if (spec.kind === "perDevice") return rangeOf(spec.of, deviceCount);
  const o = spec.opts as { min?: number | bigint | string; max?: number | bigint | string };
  switch (spec.kind) {
    case "uint":
      return { min: BigInt((o.min as number | bigint | undefined) ?? 0), max: BigInt((o.max as number | bigint | undefined) ?? maxOf(spec.width as Width)) };
    case "device":
      return { min: 0n, max: BigInt(deviceCount - 1) };
    case "duration":
      return { min: parseDuration(String(o.min ?? "0")) ?? 0n, max: o.max === undefined ? maxOf(64) : parseDuration(String(o.max))! };
    default:
      return { min: 0n, max: maxOf(64) };
  }
}

function parseValue(spec: FieldSpec, text: string, flag: string, deviceCount: number): number | bigint | boolean {
  const bad = (why: string) => new FlagError(`--${flag}: ${why}`);
  const inRange = (v: bigint) => {
    const r = rangeOf(spec, deviceCount);
    if (v < r.min || v > r.max) throw bad(`${text} is out of range ${r.min}..${r.max}`);
    return v;
  };
  switch (spec.kind) {
    case "uint": {
      if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text)) throw bad(`'${text}' is not an unsigned integer`);
      const v = inRange(BigInt(text));
      return spec.width === 64 ? v : Number(v);
    }
    case "device": {
      if (!/^\d+$/.test(text)) throw bad(`'${text}' is not a device number`);
      return Number(inRange(BigInt(text)));
    }
    case "ipv4": {
      const v = parseIpv4(text);
      if (v === undefined) throw bad(`'${text}' is not an IPv4 address`);
      return v;
    }
    case "mac": {
      const v = parseMac(text);
      if (v === undefined) throw bad(`'${text}' is not a MAC address`);
      return v;
    }
    case "duration": {
      const v = parseDuration(text);
      if (v === undefined) throw bad(`'${text}' is not a duration`);
      return inRange(v);
    }
    case "bool":
      if (["true", "1"].includes(text)) return true;
      if (["false", "0"].includes(text)) return false;
      throw bad(`'${text}' is not true/false`);
    case "perDevice":
      throw bad("nested per-device field");
  }
}

function defaultValue(spec: FieldSpec): number | bigint | boolean | undefined {
  if (spec.kind === "perDevice") return undefined;
  const d = (spec.opts as { default?: number | bigint | string | boolean }).default;
  if (d === undefined) return undefined;
  switch (spec.kind) {
    case "uint":
      return spec.width === 64 ? BigInt(d as number | bigint) : Number(d);
    case "device":
      return Number(d);
    case "ipv4":
      return parseIpv4(String(d));
    case "mac":
      return parseMac(String(d));
    case "duration":
      return parseDuration(String(d));
    case "bool":
      return Boolean(d);
  }
}

/** Builds an NF's config from its command-line flags, with the same rules as runtime-c/shells/flags.c. */
export function configFromFlags(nf: NfDefinition, args: readonly string[], deviceCount: number): ConfigValues {
  const schema = nf.config;
  const byFlag = new Map(Object.entries(schema).map(([name, spec]) => [flagName(name), { name, spec: spec as FieldSpec }]));
  const values: ConfigValues = {};
  const given = new Set<string>();
  for (const [name, s] of Object.entries(schema)) {
    const spec = s as FieldSpec;
    if (spec.kind === "perDevice") {
      const d = defaultValue(spec.of) ?? 0n;
      values[name] = new Array(MAX_DEVICES).fill(d);
    } else {
      const d = defaultValue(spec);
      if (d !== undefined) values[name] = d;
    }
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) throw new FlagError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf("=");
    const flag = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const entry = byFlag.get(flag);
    if (!entry) throw new FlagError(`--${flag}: unknown flag`);
    const text = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (text === undefined) throw new FlagError(`--${flag}: missing value`);
    const { name, spec } = entry;
    if (spec.kind === "perDevice") {
      const comma = text.indexOf(",");
      if (comma < 0) throw new FlagError(`--${flag}: expected <device>,<value>`);
      const device = parseValue({ kind: "device", opts: {} }, text.slice(0, comma), flag, deviceCount) as number;
      const arr = [...(values[name] as (number | bigint | boolean)[])];
      arr[device] = parseValue(spec.of, text.slice(comma + 1), flag, deviceCount);
      values[name] = arr;
    } else {
      if (given.has(flag)) throw new FlagError(`--${flag}: given twice`);
      values[name] = parseValue(spec, text, flag, deviceCount);
    }
    given.add(flag);
  }
  for (const [name, s] of Object.entries(schema)) {
    if (!(name in values)) throw new FlagError(`--${flagName(name)}: required flag is missing`);
    const spec = s as FieldSpec;
    if (spec.kind === "device" && (values[name] as number) >= deviceCount) {
      throw new FlagError(`--${flagName(name)}: device ${String(values[name])} does not exist`);
    }
  }
  if (nf.constraints && !(nf.constraints as (c: ConfigValues) => boolean)(values)) {
    throw new FlagError("constraint violated");
  }
  return values;
}

/** An NF instance: config and state, processing packets one at a time. */
export class NfInstance {
  readonly state: object;
  private lastTime = 0n;

  constructor(
    readonly nf: NfDefinition,
    readonly config: ConfigValues,
    readonly deviceCount: number,
    readonly deviceMac: (device: number) => bigint = traceDeviceMac,
  ) {
    this.state = nf.state ? (nf.state as (c: ConfigValues) => object)(config) : {};
  }

  /** Runs one packet (its data is modified in place) and returns the NF's action. */
  process(device: number, timeNs: bigint, data: Uint8Array): Action {
    if (timeNs > this.lastTime) this.lastTime = timeNs;
    const ctx: Context = { device, time: this.lastTime, deviceCount: this.deviceCount, deviceMac: this.deviceMac };
    const process = this.nf.process as (p: Packet, c: Context, cfg: ConfigValues, st: object) => Action;
    return process(new Packet(data), ctx, this.config, this.state);
  }

  /** Runs one packet and returns what the trace target would write for it. */
  step(input: TracePacket): TracePacket[] {
    const data = new Uint8Array(input.data);
    const action = this.process(input.device, input.timeNs, data);
    switch (action.kind) {
      case "drop":
        return [];
      case "forward":
        return [{ device: action.device, timeNs: input.timeNs, data }];
      case "flood": {
        const out: TracePacket[] = [];
        for (let d = 0; d < this.deviceCount; d++) if (d !== input.device) out.push({ device: d, timeNs: input.timeNs, data: new Uint8Array(data) });
        return out;
      }
    }
  }

  run(inputs: readonly TracePacket[]): TracePacket[] {
    return inputs.flatMap((p) => this.step(p));
  }
}
