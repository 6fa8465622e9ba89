/**
 * FlowMap: key record -> u32 value, at most `capacity` entries (C: runtime-c/structures/map.h).
 * Abstract view: a partial function from keys to values.
 */
import { ContractViolation, copyRecord, recordKey, requireCapacity, requireU32, type u32 } from "./record.ts";

export class FlowMap<K extends object> {
  readonly capacity: u32;
  private readonly items = new Map<string, { key: K; value: u32 }>();

  constructor(capacity: u32) {
    requireCapacity(capacity);
    this.capacity = capacity;
  }

  /** The value bound to `k`, or undefined when `k` is absent. */
  get(k: K): u32 | undefined {
    return this.items.get(recordKey(k))?.value;
  }

  /** Binds `k` to `v`. Requires: `k` absent and size < capacity. */
  put(k: K, v: u32): void {
    requireU32(v, "FlowMap.put value");
    const id = recordKey(k);
    if (this.items.has(id)) throw new ContractViolation(`FlowMap.put: key ${id} is already present`);
    if (this.items.size >= this.capacity) throw new ContractViolation("FlowMap.put: the map is full");
    this.items.set(id, { key: copyRecord(k), value: v });
  }

  /** Removes `k`. Requires: `k` present. */
  erase(k: K): void {
    const id = recordKey(k);
    if (!this.items.delete(id)) throw new ContractViolation(`FlowMap.erase: key ${id} is absent`);
  }

  get size(): u32 {
    return this.items.size;
  }

  /** Abstract view: every (key, value) pair (copies). */
  entries(): Array<[K, u32]> {
    return [...this.items.values()].map(({ key, value }) => [copyRecord(key), value]);
  }
}
