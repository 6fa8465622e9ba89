/**
 * Records (fixed-width keys and elements) as the structure models see them, and the error the
 * models raise when a caller breaks a precondition.
 *
 * A record is a plain object whose fields are numbers (u8..u32) or bigints (u64), possibly nested
 * records. Two records are the same key iff their canonical strings (recordKey) are equal, which
 * mirrors the C side, where keys are generated structs without padding compared byte by byte.
 */
import type { u32, u64 } from "../types.ts";

export type { u32, u64 };

/** A precondition of a structure operation was broken by the caller (the verifier proves NFs never do this). */
export class ContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContractViolation";
  }
}

type FieldValue = number | bigint | object;

function canonical(value: unknown): string {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new ContractViolation(`record field ${value} is not an integer`);
    return String(value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, FieldValue>;
    const names = Object.keys(obj).sort();
    return `{${names.map((n) => `${n}:${canonical(obj[n])}`).join(",")}}`;
  }
  throw new ContractViolation(`record field of type ${typeof value} (records hold numbers, bigints and records)`);
}

/** Canonical identity of a record: sorted field names with their values, e.g. `{a:1,t:5n}`. */
export function recordKey(r: object): string {
  return canonical(r);
}

/** A deep copy of a record (structures store and return copies, like the C byte copies). */
export function copyRecord<R extends object>(r: R): R {
  const out: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(r as Record<string, FieldValue>)) {
    out[name] = typeof value === "object" && value !== null ? copyRecord(value) : value;
  }
  return out as R;
}

const U32_MAX = 0xffff_ffff;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Checks that `v` is a u32 (precondition of every operation taking a u32). */
export function requireU32(v: u32, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new ContractViolation(`${what}: ${v} is not a u32`);
}

/** Checks that `v` is a u64 (times and durations in ns). */
export function requireU64(v: u64, what: string): void {
  if (typeof v !== "bigint" || v < 0n || v > U64_MAX) throw new ContractViolation(`${what}: ${String(v)} is not a u64`);
}

/** Checks a structure capacity: a u32 of at least 1. */
export function requireCapacity(capacity: u32): void {
  requireU32(capacity, "capacity");
  if (capacity < 1) throw new ContractViolation("capacity must be at least 1");
}
