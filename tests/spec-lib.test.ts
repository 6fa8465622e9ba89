/**
 * specs/lib/spec.ts's Table (immutable, its versions sharing one indexed store) against the plain
 * definition of the abstract table (a fresh map of entries per version, every query a scan): on
 * random operation sequences that go back to old versions and read versions alternately, every
 * query answers the same. Plus the cost the store exists for: operations on a large table do not
 * scan it.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { recordKey } from "../dsl/structures/record.ts";
import { setIndexChooser, SpecViolation, Table, type Entry, type FreeIndexes } from "../specs/lib/spec.ts";
import { rng } from "./lib/packets.ts";

interface Key {
  a: number;
  b: number;
}

/** The abstract table by its definition: entries by index, every version a fresh copy. */
class PlainTable {
  constructor(
    readonly capacity: number,
    readonly expiration: bigint,
    readonly items: ReadonlyMap<number, { key: Key; time: bigint }>,
  ) {}
  get size(): number {
    return this.items.size;
  }
  expire(now: bigint): PlainTable {
    return new PlainTable(this.capacity, this.expiration, new Map([...this.items].filter(([, e]) => now - e.time <= this.expiration)));
  }
  find(key: Key): Entry<Key> | undefined {
    for (const [index, e] of this.items) if (recordKey(e.key) === recordKey(key)) return { index, key: e.key, time: e.time };
    return undefined;
  }
  at(index: number): Entry<Key> | undefined {
    const e = this.items.get(index);
    return e && { index, key: e.key, time: e.time };
  }
  refresh(index: number, now: bigint): PlainTable {
    const e = this.items.get(index)!;
    return new PlainTable(this.capacity, this.expiration, new Map(this.items).set(index, { key: e.key, time: now }));
  }
  lowestFree(from: number): number {
    for (let i = from; i < this.capacity; i++) if (!this.items.has(i)) return i;
    return this.capacity;
  }
  add(key: Key, now: bigint, index: number): PlainTable {
    return new PlainTable(this.capacity, this.expiration, new Map(this.items).set(index, { key, time: now }));
  }
  remove(index: number): PlainTable {
    const m = new Map(this.items);
    m.delete(index);
    return new PlainTable(this.capacity, this.expiration, m);
  }
  equals(o: PlainTable): boolean {
    return o.size === this.size && [...this.items].every(([i, e]) => o.items.get(i)?.time === e.time && recordKey(o.items.get(i)!.key) === recordKey(e.key));
  }
  entries(): Entry<Key>[] {
    return [...this.items].sort(([a], [b]) => a - b).map(([index, e]) => ({ index, key: e.key, time: e.time }));
  }
}

/** Runs `ops` random operations over a pool of versions of one table of capacity `capacity`. */
function differential(seed: number, capacity: number, ops: number): void {
  const r = rng(seed);
  const expiration = 50n;
  const pool: { t: Table<Key>; p: PlainTable; now: bigint }[] = [{ t: Table.of<Key>(capacity, expiration, []), p: new PlainTable(capacity, expiration, new Map()), now: 0n }];
  const key = (): Key => ({ a: r.int(capacity * 2), b: r.int(2) });
  const index = () => r.int(capacity + 1);
  for (let n = 0; n < ops; n++) {
    // Mostly the newest version (a packet after packet), sometimes an old one (re-runs, before/after).
    const at = r.chance(0.7) ? pool.length - 1 : r.int(pool.length);
    const v = pool[at]!;
    const what = `seed ${seed}, op ${n} on version ${at}`;
    const now = v.now + BigInt(r.int(8));
    const roll = r.next();
    let next: { t: Table<Key>; p: PlainTable } | undefined;
    if (roll < 0.15) next = { t: v.t.expire(now), p: v.p.expire(now) };
    else if (roll < 0.3) {
      const i = index();
      if (v.p.at(i)) next = { t: v.t.refresh(i, now), p: v.p.refresh(i, now) };
      else assert.throws(() => v.t.refresh(i, now), (e: unknown) => e instanceof SpecViolation, what);
    } else if (roll < 0.5) {
      const k = key();
      if (v.p.find(k) || v.p.size >= capacity) {
        assert.throws(() => v.t.add(k, now), (e: unknown) => e instanceof SpecViolation, what);
        continue;
      }
      // The lowest free index, or a random free one found through the chooser's view of the table.
      const random = r.chance(0.5);
      let seen: FreeIndexes | undefined;
      setIndexChooser((free) => {
        seen = free;
        if (!random) return free.lowest();
        const from = r.int(capacity);
        return free.lowest(from) < capacity ? free.lowest(from) : free.lowest();
      });
      try {
        const added = v.t.add(k, now);
        const expected = random ? added.index : v.p.lowestFree(0);
        assert.is(added.index, expected, what);
        assert.ok(v.p.at(added.index) === undefined && added.index < capacity, what);
        next = { t: added.table, p: v.p.add(k, now, added.index) };
        // The chooser's view stays the table before the add, even after the add.
        const probe = r.int(capacity + 2);
        assert.is(seen!.isFree(probe), probe < capacity && !v.p.at(probe), `${what}: isFree(${probe})`);
        assert.is(seen!.lowest(probe), v.p.lowestFree(probe), `${what}: lowest(${probe})`);
      } finally {
        setIndexChooser((free) => free.lowest());
      }
    } else if (roll < 0.6) {
      const i = index();
      next = { t: v.t.remove(i), p: v.p.remove(i) };
    }
    else if (roll < 0.75) {
      const k = key();
      assert.equal(v.t.find(k), v.p.find(k), `${what}: find`);
      const i = index();
      assert.equal(v.t.at(i), v.p.at(i), `${what}: at(${i})`);
    } else if (roll < 0.9) {
      const o = pool[r.int(pool.length)]!;
      assert.is(v.t.equals(o.t), v.p.equals(o.p), `${what}: equals`);
      assert.is(o.t.equals(v.t), o.p.equals(v.p), `${what}: equals, the other way`);
    } else {
      assert.is(v.t.size, v.p.size, `${what}: size`);
      assert.equal(v.t.entries(), v.p.entries(), `${what}: entries`);
    }
    if (next) {
      assert.is(next.t.size, next.p.size, `${what}: size after`);
      pool.push({ ...next, now });
      if (pool.length > 40) pool.splice(r.int(pool.length - 1), 1);
    }
  }
  for (const v of pool) assert.equal(v.t.entries(), v.p.entries(), `seed ${seed}: a surviving version`);
}

test("Table agrees with the plain definition on random operations over old and new versions (capacities 1, 3, 7, 64)", () => {
  for (const [seed, capacity] of [[1, 1], [2, 3], [3, 7], [4, 64], [5, 64]] as const) differential(seed, capacity, 20_000);
});

test("an equal table built another way is equal; a different time or key is not", () => {
  const k = (a: number): Key => ({ a, b: 0 });
  const t = Table.of<Key>(8, 10n, [{ index: 2, key: k(1), time: 5n }, { index: 5, key: k(2), time: 6n }]);
  const same = Table.of<Key>(8, 10n, [{ index: 5, key: k(2), time: 6n }, { index: 2, key: k(1), time: 5n }]);
  assert.ok(t.equals(same) && same.equals(t));
  assert.ok(!t.equals(t.refresh(2, 7n)));
  assert.ok(t.equals(t.refresh(2, 7n).refresh(2, 5n)), "versions of one table: the same contents by another path");
  assert.ok(!t.equals(Table.of<Key>(8, 10n, [{ index: 2, key: k(3), time: 5n }, { index: 5, key: k(2), time: 6n }])));
  assert.throws(() => Table.of<Key>(8, 10n, [{ index: 2, key: k(1), time: 5n }, { index: 3, key: k(1), time: 5n }]), /two entries/);
  assert.throws(() => Table.of<Key>(8, 10n, [{ index: 8, key: k(1), time: 5n }]), /not below the capacity 8/);
});

test("a full 65,536-entry table: 100,000 expire/find/refresh/add steps take seconds, not a scan of the table each", () => {
  const capacity = 65536;
  let t = Table.of<Key>(capacity, 1000n, []);
  for (let i = 0; i < capacity - 1; i++) t = t.add({ a: i, b: 0 }, BigInt(i >> 6)).table;
  const start = performance.now();
  let now = BigInt(capacity >> 6);
  for (let n = 0; n < 100_000; n++) {
    now += 1n;
    t = t.expire(now);
    const k = { a: n % (capacity * 2), b: 0 };
    const e = t.find(k);
    t = e ? t.refresh(e.index, now) : t.size < capacity ? t.add(k, now).table : t;
  }
  const seconds = (performance.now() - start) / 1000;
  assert.ok(t.size <= capacity && t.size > 0);
  // Measured 1.4 s at load 6; a scan per find would build 65,536 key strings each, 6.5 billion in all.
  assert.ok(seconds < 20, `${seconds.toFixed(1)} s for 100,000 operations`);
});

test.run();
