/**
 * IndexAllocator: indexes 0..capacity-1, each free or allocated with its last-refresh time
 * (Vigor's double chain; C: runtime-c/structures/allocator.h).
 *
 * Deterministic orders shared with the C implementation:
 * - free indexes form a LIFO list, initially 0, 1, ..., capacity-1 (allocate takes 0 first);
 *   free() pushes the index back on top;
 * - allocated indexes are ordered by last refresh: allocate and refresh move an index to the
 *   newest end; expireOne looks only at the oldest end. Ties keep that order.
 * Times must never go backwards: every `now` is >= the time of every allocated index (a precondition).
 */
import { ContractViolation, requireCapacity, requireU32, requireU64, type u32, type u64 } from "./record.ts";

export class IndexAllocator {
  readonly capacity: u32;
  /** Free list, top (next to allocate) at the end of the array. */
  private readonly freeStack: u32[];
  /** Allocated indexes in refresh order (Map keeps insertion order), oldest first. */
  private readonly order = new Map<u32, u64>();
  /** The largest stored time (0 when nothing is allocated): `now` may never be earlier. */
  private newest = 0n;

  constructor(capacity: u32) {
    requireCapacity(capacity);
    this.capacity = capacity;
    this.freeStack = [];
    for (let i = capacity - 1; i >= 0; i--) this.freeStack.push(i);
  }

  private checkTime(now: u64, op: string): void {
    requireU64(now, `IndexAllocator.${op} time`);
    if (now < this.newest) {
      throw new ContractViolation(`IndexAllocator.${op}: time ${now} is earlier than a stored time ${this.newest}`);
    }
  }

  private checkAllocated(i: u32, op: string): void {
    requireU32(i, `IndexAllocator.${op} index`);
    if (!this.order.has(i)) throw new ContractViolation(`IndexAllocator.${op}: index ${i} is not allocated`);
  }

  /** Allocates the index on top of the free list with time `now`; undefined iff every index is allocated. */
  allocate(now: u64): u32 | undefined {
    this.checkTime(now, "allocate");
    const i = this.freeStack.pop();
    if (i === undefined) return undefined;
    this.order.set(i, now);
    this.newest = now;
    return i;
  }

  /** Sets the time of allocated index `i` to `now` and makes it the newest. Requires: i allocated. */
  refresh(i: u32, now: u64): void {
    this.checkAllocated(i, "refresh");
    this.checkTime(now, "refresh");
    this.order.delete(i);
    this.order.set(i, now);
    this.newest = now;
  }

  /** False for free indexes and for i >= capacity. */
  isAllocated(i: u32): boolean {
    requireU32(i, "IndexAllocator.isAllocated index");
    return this.order.has(i);
  }

  /** Frees allocated index `i` (it becomes the next one allocated). Requires: i allocated. */
  free(i: u32): void {
    this.checkAllocated(i, "free");
    const time = this.order.get(i) as u64;
    this.order.delete(i);
    this.freeStack.push(i);
    if (time === this.newest) {
      this.newest = 0n;
      for (const t of this.order.values()) if (t > this.newest) this.newest = t;
    }
  }

  /**
   * Frees the least recently refreshed index if now - its time > expiration and returns it;
   * otherwise changes nothing and returns undefined.
   */
  expireOne(now: u64, expiration: u64): u32 | undefined {
    this.checkTime(now, "expireOne");
    requireU64(expiration, "IndexAllocator.expireOne expiration");
    for (const [i, time] of this.order) {
      if (now - time > expiration) {
        this.free(i);
        return i;
      }
      return undefined;
    }
    return undefined;
  }

  get count(): u32 {
    return this.order.size;
  }

  /** Abstract view: allocated index -> last refresh time, oldest first. */
  allocated(): Map<u32, u64> {
    return new Map(this.order);
  }
}
