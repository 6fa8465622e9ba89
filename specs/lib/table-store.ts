/**
 * The storage behind the spec's immutable Table (spec.ts): every version of a table shares one
 * mutable store, so that concrete spec runs (`vigorc test` on 65,536-entry tables) cost per
 * operation what the operation touches, not the table's size.
 *
 * Persistence by rerooting (Baker's trick for persistent arrays): the store holds the contents of
 * one version, the current one; every other version is a list of slot changes relative to another
 * version, in a tree whose root is the current version. Reading a version first makes it current
 * by applying the changes on its path and inverting them, so going back to an older version costs
 * what changed since, and the usual use (each packet's state derived from the previous one, read a
 * few times) costs O(1) per change. Versions nobody holds are garbage: the tree's edges point from
 * older versions to newer ones only where the older one is still reachable from a Table.
 *
 * The store keeps, in sync at every slot change: entries by index, indexes by the key's canonical
 * string (recordKey), entries by age (a heap: expiry pops the oldest) and the allocated indexes as
 * a two-level bitset (lowest free index in O(capacity / 1024) words at worst).
 */
import type { u32, u64 } from "../../dsl/types.ts";

/** One stored entry: its key, the key's canonical string and its last-refresh time. */
export interface Slot<K> {
  readonly key: K;
  readonly id: string;
  readonly time: u64;
}

interface Change<K> {
  readonly index: u32;
  readonly slot: Slot<K> | undefined;
}

/** A version of a table: current (its contents are the store's) or a list of changes to `base`. */
export class Version<K> {
  constructor(
    readonly store: Store<K>,
    private changes: Change<K>[],
    private base: Version<K> | undefined,
  ) {}

  /** Makes this version the store's current one; returns the store, ready to read. */
  read(): Store<K> {
    const path: Version<K>[] = [];
    for (let v: Version<K> = this; v.base !== undefined; v = v.base) path.push(v);
    // From the version next to the current one back to this one: apply, then invert the edge.
    for (let j = path.length - 1; j >= 0; j--) {
      const v = path[j]!;
      const old = v.base!;
      old.changes = this.store.apply(v.changes);
      old.base = v;
      v.changes = [];
      v.base = undefined;
    }
    return this.store;
  }

  /**
   * A new version: this one with the slot changes `edit` makes through `set` (applied in order, and
   * visible to `edit` as it goes). This version stays valid, as changes relative to the new one.
   */
  derive(edit: (set: (index: u32, slot: Slot<K> | undefined) => void, store: Store<K>) => void): Version<K> {
    const store = this.read();
    const undo: Change<K>[] = [];
    edit((index, slot) => undo.push({ index, slot: store.set(index, slot) }), store);
    const next = new Version<K>(store, [], undefined);
    this.changes = undo.reverse();
    this.base = next;
    return next;
  }

  /**
   * The indexes whose slots differ between this version and `other` (of the same store), each with
   * its slot here and there; undefined when `other` belongs to another store.
   */
  differences(other: Version<K>): { index: u32; here: Slot<K> | undefined; there: Slot<K> | undefined }[] | undefined {
    if (other.store !== this.store) return undefined;
    const store = this.read();
    // `other` = current + the changes along its path; the first change of an index on the path wins.
    const theirs = new Map<u32, Slot<K> | undefined>();
    for (let v: Version<K> = other; v.base !== undefined; v = v.base) {
      // Within one version's changes the last one of an index wins.
      for (let k = v.changes.length - 1; k >= 0; k--) {
        const c = v.changes[k]!;
        if (!theirs.has(c.index)) theirs.set(c.index, c.slot);
      }
    }
    const out: { index: u32; here: Slot<K> | undefined; there: Slot<K> | undefined }[] = [];
    for (const [index, there] of theirs) {
      const here = store.slots.get(index);
      if (here?.id !== there?.id || here?.time !== there?.time) out.push({ index, here, there });
    }
    return out;
  }
}

/** The contents of the current version, with the indexes the operations need. */
export class Store<K> {
  readonly slots = new Map<u32, Slot<K>>();
  readonly byKey = new Map<string, u32>();
  readonly byAge = new AgeHeap();
  readonly used = new IndexBits();

  /** Sets slot `index` (undefined: frees it); returns the slot it held. */
  set(index: u32, slot: Slot<K> | undefined): Slot<K> | undefined {
    const old = this.slots.get(index);
    if (old !== undefined) {
      this.byKey.delete(old.id);
      this.byAge.remove(index);
    }
    if (slot === undefined) {
      this.slots.delete(index);
      this.used.clear(index);
    } else {
      this.slots.set(index, slot);
      this.byKey.set(slot.id, index);
      this.byAge.push(index, slot.time);
      this.used.set(index);
    }
    return old;
  }

  /** Applies changes in order; returns the changes that undo them. */
  apply(changes: readonly Change<K>[]): Change<K>[] {
    const undo: Change<K>[] = [];
    for (const c of changes) undo.push({ index: c.index, slot: this.set(c.index, c.slot) });
    return undo.reverse();
  }
}

/** A binary min-heap of indexes by time (ties by index), with each index's position for removal. */
export class AgeHeap {
  private readonly heap: { index: u32; time: u64 }[] = [];
  private readonly position = new Map<u32, number>();

  /** The oldest index and its time. */
  peek(): { index: u32; time: u64 } | undefined {
    return this.heap[0];
  }

  push(index: u32, time: u64): void {
    this.heap.push({ index, time });
    this.position.set(index, this.heap.length - 1);
    this.up(this.heap.length - 1);
  }

  remove(index: u32): void {
    const at = this.position.get(index);
    if (at === undefined) return;
    this.position.delete(index);
    const last = this.heap.pop()!;
    if (at === this.heap.length) return;
    this.heap[at] = last;
    this.position.set(last.index, at);
    this.up(at);
    this.down(this.position.get(last.index)!);
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.time < y.time || (x.time === y.time && x.index < y.index);
  }

  private swap(a: number, b: number): void {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    this.heap[a] = y;
    this.heap[b] = x;
    this.position.set(y.index, a);
    this.position.set(x.index, b);
  }

  private up(at: number): void {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.less(at, parent)) return;
      this.swap(at, parent);
      at = parent;
    }
  }

  private down(at: number): void {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let min = at;
      if (l < this.heap.length && this.less(l, min)) min = l;
      if (r < this.heap.length && this.less(r, min)) min = r;
      if (min === at) return;
      this.swap(at, min);
      at = min;
    }
  }
}

const FULL = 0xffff_ffff;
/** The lowest set bit of a nonzero 32-bit word. */
const lowestBit = (w: number): number => 31 - Math.clz32(w & -w);

/**
 * A set of indexes (the allocated ones) as a bitset, plus a summary bitset of its full words, so
 * that the lowest index NOT in the set skips full stretches 1,024 indexes at a time. Grown on demand:
 * indexes past the arrays are absent.
 */
export class IndexBits {
  private words = new Uint32Array(0);
  private full = new Uint32Array(0);

  private grow(word: number): void {
    if (word < this.words.length) return;
    const words = new Uint32Array(Math.max(word + 1, this.words.length * 2));
    words.set(this.words);
    this.words = words;
    const full = new Uint32Array(Math.ceil(words.length / 32));
    full.set(this.full);
    this.full = full;
  }

  set(i: u32): void {
    const w = i >>> 5;
    this.grow(w);
    this.words[w] = (this.words[w]! | (1 << (i & 31))) >>> 0;
    if (this.words[w] === FULL) this.full[w >>> 5] = (this.full[w >>> 5]! | (1 << (w & 31))) >>> 0;
  }

  clear(i: u32): void {
    const w = i >>> 5;
    if (w >= this.words.length) return;
    this.words[w] = (this.words[w]! & ~(1 << (i & 31))) >>> 0;
    this.full[w >>> 5] = (this.full[w >>> 5]! & ~(1 << (w & 31))) >>> 0;
  }

  /** The lowest index >= from that is not in the set (may be >= any capacity: callers compare). */
  lowestAbsent(from: u32): number {
    let w = Math.floor(from / 32);
    if (w >= this.words.length) return from;
    const inWord = ~this.words[w]! & (FULL << (from & 31));
    if (inWord !== 0) return w * 32 + lowestBit(inWord);
    // The next word after w that is not full, through the summary.
    w++;
    for (let s = w >>> 5; s < this.full.length; s++) {
      const mask = s === w >>> 5 ? FULL << (w & 31) : FULL;
      const notFull = ~this.full[s]! & mask;
      if (notFull !== 0) {
        const word = s * 32 + lowestBit(notFull);
        if (word >= this.words.length) return this.words.length * 32;
        return word * 32 + lowestBit(~this.words[word]!);
      }
    }
    return this.words.length * 32;
  }
}
