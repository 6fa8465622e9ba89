/**
 * Vector: index -> record, `capacity` slots, each initialised to `zero`
 * (C: runtime-c/structures/vector.h, where `zero` is the all-zero record).
 */
import { ContractViolation, copyRecord, requireCapacity, type u32 } from "./record.ts";

export class Vector<V extends object> {
  readonly capacity: u32;
  private readonly slots: V[];

  constructor(capacity: u32, zero: V) {
    requireCapacity(capacity);
    this.capacity = capacity;
    this.slots = Array.from({ length: capacity }, () => copyRecord(zero));
  }

  private check(i: u32, op: string): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.capacity) {
      throw new ContractViolation(`Vector.${op}: index ${i} is not below capacity ${this.capacity}`);
    }
  }

  /** A copy of the record at `i`. Requires: i < capacity. */
  get(i: u32): V {
    this.check(i, "get");
    return copyRecord(this.slots[i] as V);
  }

  /** Stores a copy of `v` at `i`. Requires: i < capacity. */
  set(i: u32, v: V): void {
    this.check(i, "set");
    this.slots[i] = copyRecord(v);
  }
}
