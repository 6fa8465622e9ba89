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

/** How a concrete run picks "any free index" (the checker sets it to the NF's actual choice). */
let chooseIndex: (free: (i: u32) => boolean, capacity: u32) => u32 = (free, capacity) => {
  for (let i = 0; i < capacity; i++) if (free(i)) return i;
  return capacity;
};
export function setIndexChooser(f: (free: (i: u32) => boolean, capacity: u32) => u32): void {
  chooseIndex = f;
}

export class SpecViolation extends Error {}

/** The abstract FlowTable: a set of entries, at most `capacity`, idle ones removed by expire(). */
export class Table<K> {
  constructor(
    readonly capacity: u32,
    readonly expiration: u64,
    private readonly items: ReadonlyMap<u32, { key: K; time: u64 }>,
  ) {}

  static fromFlowTable<K extends object>(t: FlowTable<K>): Table<K> {
    return new Table<K>(t.capacity, t.expiration, new Map(t.entries().map((e) => [e.index, { key: e.key, time: e.time }])));
  }

  get size(): u32 {
    return this.items.size;
  }
  /** The table without the entries idle for longer than the expiration (now - time > expiration). */
  expire(now: u64): Table<K> {
    return new Table(this.capacity, this.expiration, new Map([...this.items].filter(([, e]) => now - e.time <= this.expiration)));
  }
  find(key: K): Entry<K> | undefined {
    const id = recordKey(key as object);
    for (const [index, e] of this.items) if (recordKey(e.key as object) === id) return { index, key: e.key, time: e.time };
    return undefined;
  }
  at(index: u32): Entry<K> | undefined {
    const e = this.items.get(index);
    return e === undefined ? undefined : { index, key: e.key, time: e.time };
  }
  /** Entry `index` with its time set to now. Requires: the entry exists. */
  refresh(index: u32, now: u64): Table<K> {
    const e = this.items.get(index);
    if (e === undefined) throw new SpecViolation(`spec: refresh(${index}): no such entry`);
    return new Table(this.capacity, this.expiration, new Map(this.items).set(index, { key: e.key, time: now }));
  }
  /** The table with a new entry for key at ANY free index below the capacity. Requires: key absent, not full. */
  add(key: K, now: u64): Added<K> {
    if (this.find(key) !== undefined) throw new SpecViolation("spec: add() of a key that is present");
    if (this.items.size >= this.capacity) throw new SpecViolation("spec: add() to a full table");
    const index = chooseIndex((i) => i < this.capacity && !this.items.has(i), this.capacity);
    return { table: new Table(this.capacity, this.expiration, new Map(this.items).set(index, { key, time: now })), index };
  }
  remove(index: u32): Table<K> {
    const m = new Map(this.items);
    m.delete(index);
    return new Table(this.capacity, this.expiration, m);
  }
  /** Same entries (indexes, keys, times). */
  equals(other: Table<K>): boolean {
    if (other.items.size !== this.items.size) return false;
    for (const [i, e] of this.items) {
      const o = other.items.get(i);
      if (!o || o.time !== e.time || recordKey(o.key as object) !== recordKey(e.key as object)) return false;
    }
    return true;
  }
  /** Every entry (index, key, time) as a list, for messages. */
  entries(): Entry<K>[] {
    return [...this.items].map(([index, e]) => ({ index, key: e.key, time: e.time }));
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
