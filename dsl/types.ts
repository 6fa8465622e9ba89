/**
 * Fixed-width integers of the DSL. u8..u32 are JavaScript numbers, u64 is a bigint, so that
 * TypeScript itself refuses to mix 64-bit values (times, MACs) with narrower ones.
 * The compiler reads the alias names (u8, u16, ...) from declarations to know each width.
 */
export type u8 = number;
export type u16 = number;
export type u32 = number;
export type u64 = bigint;

/** A device (port) number: 0..deviceCount-1. */
export type Device = u16;
/** An IPv4 address, host order: a.b.c.d is a<<24 | b<<16 | c<<8 | d. */
export type Ipv4Addr = u32;
/** A MAC address as a 48-bit value, first octet most significant. */
export type MacAddr = u64;
/** A time or duration in nanoseconds. */
export type Nanos = u64;

/** Raised by the dsl runtime when an integer leaves its type's range (the verifier proves this never happens). */
export class IntegerOverflow extends Error {}

const LIMITS = { 8: 0xffn, 16: 0xffffn, 32: 0xffff_ffffn, 64: 0xffff_ffff_ffff_ffffn } as const;
export type Width = keyof typeof LIMITS;

export function maxOf(width: Width): bigint {
  return LIMITS[width];
}

function checked(width: Width, value: number | bigint): bigint {
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw new IntegerOverflow(`u${width}: ${value} is not an integer`);
  }
  const v = BigInt(value);
  if (v < 0n || v > LIMITS[width]) throw new IntegerOverflow(`u${width}: ${v} is out of range`);
  return v;
}

/** Checked conversions: the value must fit (a proof obligation for the verifier). */
export function u8(value: number | bigint): u8 {
  return Number(checked(8, value));
}
export function u16(value: number | bigint): u16 {
  return Number(checked(16, value));
}
export function u32(value: number | bigint): u32 {
  return Number(checked(32, value));
}
export function u64(value: number | bigint): u64 {
  return checked(64, value);
}

/** Wrapping conversions: keep the low bits, as C's unsigned arithmetic does. */
export function wrap8(value: number | bigint): u8 {
  return Number(BigInt.asUintN(8, BigInt(value)));
}
export function wrap16(value: number | bigint): u16 {
  return Number(BigInt.asUintN(16, BigInt(value)));
}
export function wrap32(value: number | bigint): u32 {
  return Number(BigInt.asUintN(32, BigInt(value)));
}
export function wrap64(value: number | bigint): u64 {
  return BigInt.asUintN(64, BigInt(value));
}

/** Integer division and remainder for u8..u32 (the `/` operator on numbers is fractional). */
export function div(a: number, b: number): number {
  if (b === 0) throw new IntegerOverflow("division by zero");
  return Math.floor(a / b);
}
export function mod(a: number, b: number): number {
  if (b === 0) throw new IntegerOverflow("division by zero");
  return a % b;
}
