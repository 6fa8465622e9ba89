/**
 * The spec language: what specs/<nf>.spec.ts and property files import.
 *
 * A spec is TypeScript in the NF subset over the ABSTRACT view of the NF's state: a FlowTable is a
 * Table, a set of entries { index, key, time } with distinct indexes and keys. Specs are pure:
 * every operation returns a new value. The same functions run concretely (this file: `vigorc test`,
 * `vigorc replay`) and symbolically (`vigorc verify` interprets the spec's source with Z3; this
 * file's classes are its reference semantics).
 *
 * - A reference spec `export function spec(pkt, ctx, cfg, st): Expected<State>` returns what the NF
 *   must do: drop(state), forward(device, state, rewrite) or flood(state, rewrite).
 * - A property `export function name(s: Step<Config, State>): boolean` states a fact about one
 *   packet: the state before and after, the packet in and out, the action.
 */
import type { Action, Context } from "../../dsl/nf.ts";
import type { Packet } from "../../dsl/packet.ts";
import type { FlowTable } from "../../dsl/structures/flow-table.ts";
import { recordKey } from "../../dsl/structures/record.ts";
import type { Device, MacAddr, Nanos, u16, u32, u64, u8 } from "../../dsl/types.ts";
import { Store, Version } from "./table-store.ts";

export type { Packet, Context, Action, Device, Nanos, u8, u16, u32, u64 };

/** One entry of a table: its index, key and last-refresh time. */
export interface Entry<K> {
  readonly index: u32;
  readonly key: K;
  readonly time: u64;
}

/** add() result: the new table and the index the entry went to (any free index below the capacity). */
export interface Added<K> {
  readonly table: Table<K>;
  readonly index: u32;
}

/** The free indexes of a table below its capacity, as Table.add's choice of "any free index" sees them. */
export interface FreeIndexes {
  readonly capacity: u32;
  isFree(i: u32): boolean;
  /** The lowest free index >= from (default 0), or the capacity when there is none. */
  lowest(from?: u32): u32;
}

/** How a concrete run picks "any free index" (the checker sets it to the NF's actual choice). */
let chooseIndex: (free: FreeIndexes) => u32 = (free) => free.lowest();
export function setIndexChooser(f: (free: FreeIndexes) => u32): void {
  chooseIndex = f;
}

export class SpecViolation extends Error {}

/**
 * The abstract FlowTable: a set of entries, at most `capacity`, idle ones removed by expire().
 * Immutable: every operation returns a new table and leaves this one as it was. The versions of a
 * table share one store (table-store.ts), so an operation costs what it changes (expire: the
 * entries it removes), whatever the table's size.
 */
export class Table<K> {
  private constructor(
    readonly capacity: u32,
    readonly expiration: u64,
    /** How many entries the table holds. */
    readonly size: u32,
    private readonly version: Version<K>,
  ) {}

  /** A table holding `entries` (distinct indexes below the capacity, distinct keys). */
  static of<K extends object>(capacity: u32, expiration: u64, entries: Iterable<Entry<K>>): Table<K> {
    let size = 0;
    const empty = new Version<K>(new Store<K>(), [], undefined);
    const version = empty.derive((set, store) => {
      for (const e of entries) {
        const id = recordKey(e.key);
        if (!Number.isInteger(e.index) || e.index < 0 || e.index >= capacity) throw new SpecViolation(`spec: entry index ${e.index} is not below the capacity ${capacity}`);
        if (store.slots.has(e.index) || store.byKey.has(id)) throw new SpecViolation(`spec: two entries with index ${e.index} or key ${id}`);
        set(e.index, { key: e.key, id, time: e.time });
        size++;
      }
    });
    return new Table<K>(capacity, expiration, size, version);
  }

  static fromFlowTable<K extends object>(t: FlowTable<K>): Table<K> {
    return Table.of(t.capacity, t.expiration, t.entries());
  }

  /** The table without the entries idle for longer than the expiration (now - time > expiration). */
  expire(now: u64): Table<K> {
    let removed = 0;
    const version = this.version.derive((set, store) => {
      for (let oldest = store.byAge.peek(); oldest !== undefined && now - oldest.time > this.expiration; oldest = store.byAge.peek()) {
        set(oldest.index, undefined);
        removed++;
      }
    });
    return new Table(this.capacity, this.expiration, this.size - removed, version);
  }
  find(key: K): Entry<K> | undefined {
    const store = this.version.read();
    const index = store.byKey.get(recordKey(key as object));
    return index === undefined ? undefined : this.at(index);
  }
  at(index: u32): Entry<K> | undefined {
    const e = this.version.read().slots.get(index);
    return e === undefined ? undefined : { index, key: e.key, time: e.time };
  }
  /** Entry `index` with its time set to now. Requires: the entry exists. */
  refresh(index: u32, now: u64): Table<K> {
    const e = this.version.read().slots.get(index);
    if (e === undefined) throw new SpecViolation(`spec: refresh(${index}): no such entry`);
    return new Table(this.capacity, this.expiration, this.size, this.version.derive((set) => set(index, { ...e, time: now })));
  }
  /** The table with a new entry for key at ANY free index below the capacity. Requires: key absent, not full. */
  add(key: K, now: u64): Added<K> {
    const id = recordKey(key as object);
    if (this.version.read().byKey.has(id)) throw new SpecViolation("spec: add() of a key that is present");
    if (this.size >= this.capacity) throw new SpecViolation("spec: add() to a full table");
    const free: FreeIndexes = {
      capacity: this.capacity,
      isFree: (i) => Number.isInteger(i) && i >= 0 && i < this.capacity && this.version.read().slots.get(i) === undefined,
      lowest: (from = 0) => Math.min(this.capacity, this.version.read().used.lowestAbsent(from)),
    };
    const index = chooseIndex(free);
    if (!free.isFree(index)) throw new SpecViolation(`spec: add() chose index ${index}, which is not a free index below the capacity ${this.capacity}`);
    const table = new Table(this.capacity, this.expiration, this.size + 1, this.version.derive((set) => set(index, { key, id, time: now })));
    return { table, index };
  }
  remove(index: u32): Table<K> {
    if (this.version.read().slots.get(index) === undefined) return this;
    return new Table(this.capacity, this.expiration, this.size - 1, this.version.derive((set) => set(index, undefined)));
  }
  /** Same entries (indexes, keys, times). */
  equals(other: Table<K>): boolean {
    if (other.size !== this.size) return false;
    // Versions of one table: compare only the indexes changed between them.
    const changed = this.version.differences(other.version);
    if (changed !== undefined) return changed.length === 0;
    for (const [index, e] of this.version.read().slots) {
      const o = other.version.read().slots.get(index);
      if (o === undefined || o.time !== e.time || o.id !== e.id) return false;
    }
    return true;
  }
  /** Every entry (index, key, time), by index, for messages. */
  entries(): Entry<K>[] {
    return [...this.version.read().slots].sort(([a], [b]) => a - b).map(([index, e]) => ({ index, key: e.key, time: e.time }));
  }
}

/** The abstract view of an NF's state type: every FlowTable<K> becomes a Table<K>. */
export type Abstract<S> = { readonly [N in keyof S]: S[N] extends FlowTable<infer K> ? Table<K> : never };

/**
 * State invariants: a fact about every entry of a table that the NF maintains (e.g. "NAT flows
 * never come from the WAN device"). `vigorc verify` assumes it of the state before each packet and
 * proves it of the state after, so it holds of every reachable state (induction over packets).
 * Export it from the spec file as `export const invariants: Invariants<Config, State> = {...}`.
 */
export type Invariants<C, S> = {
  readonly [N in keyof S]?: S[N] extends FlowTable<infer K> ? (entry: Entry<K>, cfg: C) => boolean : never;
};

/** "Any value": an output field the spec leaves open (e.g. MAC addresses). */
export interface Any {
  readonly __any: true;
}
export const any: Any = { __any: true };

type Open<T> = T | Any;
/** The header fields a spec may state for the output packet; every other byte must be unchanged. */
export interface Rewrite {
  ethernet?: { src?: Open<MacAddr>; dst?: Open<MacAddr> };
  ipv4?: { src?: Open<u32>; dst?: Open<u32>; tos?: Open<u8>; id?: Open<u16>; ttl?: Open<u8> };
  tcp?: { srcPort?: Open<u16>; dstPort?: Open<u16> };
  udp?: { srcPort?: Open<u16>; dstPort?: Open<u16> };
  /** The ports of whichever of TCP or UDP the packet carries. */
  l4?: { srcPort?: Open<u16>; dstPort?: Open<u16> };
  /**
   * "valid": the IPv4 header checksum and the TCP/UDP checksum are valid in the output whenever they
   * were valid in the input (a UDP checksum of 0, "none", stays 0). Without it, checksums must be unchanged.
   */
  checksums?: "valid";
}

/** What the NF must do with one packet; A is the abstract state. `state` omitted: the state must not change at all. */
export interface Expected<A> {
  readonly action: "drop" | "forward" | "flood";
  readonly device: Device;
  readonly state?: A;
  readonly rewrite: Rewrite;
}
/** What a reference spec returns for an NF whose state type is S. */
export type Outcome<S> = Expected<Abstract<S>>;

export function drop<A extends object>(state?: A): Expected<A> {
  return { action: "drop", device: 0, state, rewrite: {} };
}
export function forward<A extends object>(device: Device, state?: A, rewrite: Rewrite = {}): Expected<A> {
  return { action: "forward", device, state, rewrite };
}
export function flood<A extends object>(state?: A, rewrite: Rewrite = {}): Expected<A> {
  return { action: "flood", device: 0, state, rewrite };
}

/** One packet's step, for properties. */
export interface Step<C, S> {
  readonly cfg: C;
  readonly device: Device;
  readonly time: Nanos;
  readonly deviceCount: u16;
  /** The packet as it arrived. */
  readonly packet: Packet;
  /** The packet as the NF sent it (equal to `packet` when dropped). */
  readonly output: Packet;
  readonly action: Action;
  /** The state before the packet (before expiry) and after it. */
  readonly before: Abstract<S>;
  readonly after: Abstract<S>;
}
