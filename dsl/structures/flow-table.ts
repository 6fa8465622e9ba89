/**
 * FlowTable: the expiring flow table (Vigor's "emap"; C: runtime-c/structures/flow_table.h),
 * built on the three other models: a FlowMap key -> index, a vector of keys, an IndexAllocator.
 * Abstract view: a set of entries (index, key, last-refresh time) with distinct indexes and
 * distinct keys; an entry idle for longer than `expiration` is removed by expire().
 */
import { IndexAllocator } from "./allocator.ts";
import { FlowMap } from "./map.ts";
import { ContractViolation, copyRecord, recordKey, requireU32, requireU64, type u32, type u64 } from "./record.ts";

export class FlowTable<K extends object> {
  readonly capacity: u32;
  readonly expiration: u64;
  private readonly map: FlowMap<K>;
  private readonly keys: Array<K | undefined>;
  private readonly alloc: IndexAllocator;

  constructor(capacity: u32, expiration: u64) {
    requireU64(expiration, "FlowTable expiration");
    this.alloc = new IndexAllocator(capacity);
    this.map = new FlowMap<K>(capacity);
    this.capacity = capacity;
    this.expiration = expiration;
    this.keys = new Array<K | undefined>(capacity).fill(undefined);
  }

  /** Removes every entry with now - time > expiration (oldest first); returns how many. */
  expire(now: u64): u32 {
    let n = 0;
    for (;;) {
      const i = this.alloc.expireOne(now, this.expiration);
      if (i === undefined) return n;
      this.map.erase(this.keys[i] as K);
      this.keys[i] = undefined;
      n++;
    }
  }

  /** The index of `k`'s entry, or undefined. */
  find(k: K): u32 | undefined {
    return this.map.get(k);
  }

  /**
   * Adds an entry for `k` with time `now` at the index the allocator hands out; undefined iff the
   * table is full. Requires: `k` absent.
   */
  add(k: K, now: u64): u32 | undefined {
    if (this.map.get(k) !== undefined) throw new ContractViolation(`FlowTable.add: key ${recordKey(k)} is already present`);
    const i = this.alloc.allocate(now);
    if (i === undefined) return undefined;
    this.map.put(k, i);
    this.keys[i] = copyRecord(k);
    return i;
  }

  /** A copy of the key of entry `i`, or undefined when `i` holds no entry (or i >= capacity). */
  keyAt(i: u32): K | undefined {
    requireU32(i, "FlowTable.keyAt index");
    if (!this.alloc.isAllocated(i)) return undefined;
    return copyRecord(this.keys[i] as K);
  }

  /** Sets entry `i`'s time to `now`. Requires: entry `i` exists. */
  refresh(i: u32, now: u64): void {
    this.alloc.refresh(i, now);
  }

  /** Removes entry `i`. Requires: entry `i` exists. */
  remove(i: u32): void {
    requireU32(i, "FlowTable.remove index");
    if (!this.alloc.isAllocated(i)) throw new ContractViolation(`FlowTable.remove: index ${i} holds no entry`);
    this.map.erase(this.keys[i] as K);
    this.keys[i] = undefined;
    this.alloc.free(i);
  }

  get size(): u32 {
    return this.alloc.count;
  }

  /** Abstract view: the entries, least recently refreshed first. */
  entries(): Array<{ index: u32; key: K; time: u64 }> {
    return [...this.alloc.allocated()].map(([index, time]) => ({ index, key: copyRecord(this.keys[index] as K), time }));
  }
}
