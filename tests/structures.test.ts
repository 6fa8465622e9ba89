/**
 * Differential tests: each C structure (runtime-c/structures) against its TypeScript model
 * (dsl/structures) on seeded random operation scripts. The C side runs in a harness
 * (tests/fixtures/structures/harness.c) compiled at test time, once with -O2 -Werror and once with
 * AddressSanitizer + UndefinedBehaviorSanitizer; both must print exactly what the model computes.
 * Set VIGORC_TEST_SEED to replay a failing run.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { IndexAllocator } from "../dsl/structures/allocator.ts";
import { FlowTable } from "../dsl/structures/flow-table.ts";
import { FlowMap } from "../dsl/structures/map.ts";
import { ContractViolation } from "../dsl/structures/record.ts";
import { Vector } from "../dsl/structures/vector.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const STRUCTURES = join(ROOT, "runtime-c", "structures");
const HARNESS = join(ROOT, "tests", "fixtures", "structures", "harness.c");

const CAPACITIES = [1, 3, 7, 100, 1000];
const OPS_PER_RUN = 25_000; // x 5 capacities = 125,000 operations per structure
const BASE_SEED = process.env.VIGORC_TEST_SEED !== undefined ? Number(process.env.VIGORC_TEST_SEED) : 20240607;

/** mulberry32: small, seeded, good enough to drive operation choices. */
function prng(seed: number): { next(): number; int(n: number): number; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), chance: (p) => next() < p };
}

/** The harness's keys: key_of(k) = [k & 0xff, k >> 8 & 0xff, 0xa5, k % 7, 0, 0x5a]. */
interface Key {
  lo: number;
  hi: number;
}
const keyRecord = (k: number): Key => ({ lo: k & 0xff, hi: (k >> 8) & 0xff });
const keyHex = (r: Key): string => {
  const k = r.lo | (r.hi << 8);
  return [r.lo, r.hi, 0xa5, k % 7, 0, 0x5a].map((b) => b.toString(16).padStart(2, "0")).join("");
};

type HashMode = "mixed" | "weak" | "constant";
function hashOf(k: number, mode: HashMode): number {
  if (mode === "constant") return 0x9e3779b9;
  if (mode === "weak") return k % 3;
  let h = Math.imul(k ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

/** Operation scripts alternate phases (fill, mixed, drain/expire) long enough to fill a structure. */
const phaseLength = (capacity: number): number => Math.max(2500, 6 * capacity);

interface Script {
  header: string;
  ops: string[];
  expected: string[];
}

/** Map key sizes: the harness's 6-byte keys, and VIG_MAP_KEY_MAX (map.h) bytes, which fill a slot's key. */
const MAP_KEY_MAX = Number(/#define VIG_MAP_KEY_MAX (\d+)u/.exec(readFileSync(join(STRUCTURES, "map.h"), "utf8"))?.[1]);
const mapKeySize = (capacity: number): number => ([1, 7, 1000].includes(capacity) ? MAP_KEY_MAX : 6);

function mapScript(seed: number, capacity: number): Script {
  const r = prng(seed);
  const mode: HashMode = (["mixed", "weak", "constant"] as const)[seed % 3] as HashMode;
  const model = new FlowMap<Key>(capacity);
  const domain = 2 * capacity + 3;
  const ops: string[] = [];
  const expected: string[] = [];
  while (ops.length < OPS_PER_RUN) {
    const k = r.int(domain);
    const h = hashOf(k, mode);
    const present = model.get(keyRecord(k)) !== undefined;
    // Phases: fill (puts win), mixed, drain (erases win), so full and empty maps both happen.
    const phase = Math.floor(ops.length / phaseLength(capacity)) % 3;
    const dice = r.next();
    const wantPut = phase === 0 ? dice < 0.8 : phase === 1 ? dice < 0.4 : dice < 0.2;
    const wantErase = !wantPut && (phase === 0 ? dice > 0.95 : phase === 1 ? dice > 0.7 : dice > 0.4);
    if (wantPut && !present && model.size < capacity) {
      const v = r.chance(0.1) ? 0xffffffff : r.int(1 << 30);
      model.put(keyRecord(k), v);
      ops.push(`p ${k} ${h} ${v}`);
      expected.push(`ok ${model.size}`);
    } else if (wantErase && present) {
      model.erase(keyRecord(k));
      ops.push(`e ${k} ${h}`);
      expected.push(`ok ${model.size}`);
    } else if (dice < 0.97) {
      const v = model.get(keyRecord(k));
      ops.push(`g ${k} ${h}`);
      expected.push(v === undefined ? "0" : `1 ${v}`);
    } else {
      ops.push("s");
      expected.push(String(model.size));
    }
  }
  return { header: `map ${capacity} ${mapKeySize(capacity)}`, ops, expected };
}

interface Elem {
  x: number;
  y: bigint;
}
const elemHex = (e: Elem): string => {
  const bytes: number[] = [];
  for (let b = 0; b < 4; b++) bytes.push((e.x >>> (8 * b)) & 0xff);
  for (let b = 0; b < 8; b++) bytes.push(Number((e.y >> BigInt(8 * b)) & 0xffn));
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
};

function vectorScript(seed: number, capacity: number): Script {
  const r = prng(seed);
  const model = new Vector<Elem>(capacity, { x: 0, y: 0n });
  const ops: string[] = [];
  const expected: string[] = [];
  while (ops.length < OPS_PER_RUN) {
    const i = r.int(capacity);
    if (r.chance(0.5)) {
      const e: Elem = { x: r.int(2 ** 32), y: (BigInt(r.int(2 ** 32)) << 32n) | BigInt(r.int(2 ** 32)) };
      model.set(i, e);
      ops.push(`s ${i} ${e.x} ${e.y}`);
      expected.push("ok");
    } else {
      ops.push(`g ${i}`);
      expected.push(elemHex(model.get(i)));
    }
  }
  return { header: `vector ${capacity}`, ops, expected };
}

function allocatorScript(seed: number, capacity: number): Script {
  const r = prng(seed);
  const model = new IndexAllocator(capacity);
  const ops: string[] = [];
  const expected: string[] = [];
  let now = BigInt(r.int(1000));
  if (seed % 4 === 0) now = 0xffff_ffff_ffff_ffffn - 100_000_000n; // near the top of u64
  const expiration = BigInt(r.int(30) + (capacity > 10 ? capacity : 0));
  const pickAllocated = (): number | undefined => {
    const all = [...model.allocated().keys()];
    return all.length === 0 ? undefined : all[r.int(all.length)];
  };
  while (ops.length < OPS_PER_RUN) {
    // Phases: fill (time stands still, allocations win), mixed, expire (time jumps).
    const phase = Math.floor(ops.length / phaseLength(capacity)) % 3;
    if (phase === 2 && r.chance(0.05)) now += BigInt(r.int(Number(expiration) + 2));
    else if (phase !== 0 && r.chance(0.3)) now += BigInt(r.int(4)); // ties happen often
    const dice = r.next();
    if (dice < (phase === 0 ? 0.6 : 0.3)) {
      const i = model.allocate(now);
      ops.push(`a ${now}`);
      expected.push(i === undefined ? "0" : `1 ${i}`);
    } else if (dice < 0.5) {
      const i = pickAllocated();
      if (i === undefined) continue;
      model.refresh(i, now);
      ops.push(`r ${i} ${now}`);
      expected.push("ok");
    } else if (dice < 0.6) {
      const i = r.chance(0.1) ? (r.chance(0.5) ? 0xffffffff : capacity + r.int(3)) : r.int(capacity);
      ops.push(`i ${i}`);
      expected.push(model.isAllocated(i) ? "1" : "0");
    } else if (dice < 0.7) {
      const i = pickAllocated();
      if (i === undefined) continue;
      model.free(i);
      ops.push(`f ${i}`);
      expected.push("ok");
    } else if (dice < 0.9 && phase !== 0) {
      const exp = r.chance(0.8) ? expiration : BigInt(r.int(5));
      const i = model.expireOne(now, exp);
      ops.push(`e ${now} ${exp}`);
      expected.push(i === undefined ? "0" : `1 ${i}`);
    } else {
      ops.push("c");
      expected.push(String(model.count));
    }
  }
  return { header: `allocator ${capacity}`, ops, expected };
}

function flowTableScript(seed: number, capacity: number): Script {
  const r = prng(seed);
  const mode: HashMode = (["mixed", "weak", "constant"] as const)[seed % 3] as HashMode;
  const expiration = BigInt(1 + r.int(40) + capacity * (1 + r.int(3)));
  const model = new FlowTable<Key>(capacity, expiration);
  const domain = 2 * capacity + 3;
  const ops: string[] = [];
  const expected: string[] = [];
  let now = BigInt(r.int(100));
  const pickAllocated = (): number | undefined => {
    const all = model.entries();
    return all.length === 0 ? undefined : all[r.int(all.length)]?.index;
  };
  while (ops.length < OPS_PER_RUN) {
    // Phases: fill (time stands still), mixed, expire (time jumps by up to the expiration).
    const phase = Math.floor(ops.length / phaseLength(capacity)) % 3;
    if (phase === 2 && r.chance(0.02)) now += BigInt(r.int(Number(expiration) + 2));
    else if (phase === 1 && r.chance(0.4)) now += BigInt(r.int(3));
    const k = r.int(domain);
    const h = hashOf(k, mode);
    const dice = r.next();
    if (dice < 0.15) {
      ops.push(`x ${now}`);
      expected.push(String(model.expire(now)));
    } else if (dice < 0.4) {
      const i = model.find(keyRecord(k));
      ops.push(`f ${k} ${h}`);
      expected.push(i === undefined ? "0" : `1 ${i}`);
    } else if (dice < 0.65) {
      if (model.find(keyRecord(k)) !== undefined) continue;
      const i = model.add(keyRecord(k), now);
      ops.push(`a ${k} ${h} ${now}`);
      expected.push(i === undefined ? "0" : `1 ${i}`);
    } else if (dice < 0.75) {
      const i = r.chance(0.1) ? capacity + r.int(2) : r.int(capacity);
      const key = model.keyAt(i);
      ops.push(`k ${i}`);
      expected.push(key === undefined ? "null" : keyHex(key));
    } else if (dice < 0.88) {
      const i = pickAllocated();
      if (i === undefined) continue;
      model.refresh(i, now);
      ops.push(`r ${i} ${now}`);
      expected.push("ok");
    } else if (dice < 0.95 && phase !== 0) {
      const i = pickAllocated();
      if (i === undefined) continue;
      model.remove(i);
      ops.push(`m ${i}`);
      expected.push("ok");
    } else {
      ops.push("s");
      expected.push(String(model.size));
    }
  }
  return { header: `flow ${capacity} ${expiration}`, ops, expected };
}

type Execa = typeof import("execa").execa;
let execa: Execa;
let workDir = "";
const binaries: Record<string, string> = {};

test.before(async () => {
  // execa is ESM-only: load it with import() (uvu -r tsx loads test files as CommonJS).
  execa = (await import("execa")).execa;
  workDir = await mkdtemp(join(tmpdir(), "vigorc-structures-"));
  const sources = ["map.c", "vector.c", "allocator.c", "flow_table.c", "bulk_alloc.c"].map((f) => join(STRUCTURES, f));
  const common = ["-std=c11", "-Wall", "-Wextra", "-Werror", `-I${STRUCTURES}`, ...sources, HARNESS];
  binaries.O2 = join(workDir, "harness-O2");
  binaries.sanitized = join(workDir, "harness-asan");
  await Promise.all([
    execa("cc", ["-O2", ...common, "-o", binaries.O2]),
    execa("cc", ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", ...common, "-o", binaries.sanitized]),
  ]);
});

test.after(async () => {
  if (workDir !== "") await rm(workDir, { recursive: true, force: true });
});

async function compare(name: string, make: (seed: number, capacity: number) => Script): Promise<number> {
  let total = 0;
  for (const [n, capacity] of CAPACITIES.entries()) {
    const seed = BASE_SEED + 7919 * n + name.length;
    const script = make(seed, capacity);
    const input = `${script.header}\n${script.ops.join("\n")}\n`;
    for (const [build, binary] of Object.entries(binaries)) {
      const run = await execa(binary, [], {
        input,
        reject: false,
        stripFinalNewline: false,
        maxBuffer: 256 * 1024 * 1024,
        // The structures live as long as the NF: they have no destructor, so no leak report.
        env: { ASAN_OPTIONS: "detect_leaks=0" },
      });
      const context = `${name}, capacity ${capacity}, seed ${seed} (VIGORC_TEST_SEED=${BASE_SEED}), ${build} build`;
      if (run.exitCode !== 0) assert.unreachable(`${context}: harness exited with ${run.exitCode}: ${run.stderr.slice(0, 2000)}`);
      const actual = run.stdout.split("\n");
      for (let i = 0; i < script.ops.length; i++) {
        if (actual[i] !== script.expected[i]) {
          const recent = script.ops.slice(Math.max(0, i - 5), i + 1).join(" | ");
          assert.unreachable(
            `${context}: operation #${i} '${script.ops[i]}': C printed '${actual[i]}', model expects '${script.expected[i]}' (last ops: ${recent})`,
          );
        }
      }
      assert.is(actual.length, script.ops.length + 1, `${context}: extra output`);
    }
    total += script.ops.length;
  }
  return total;
}

test("map: C vig_map agrees with FlowMap on 125,000 random operations", async () => {
  assert.ok((await compare("map", mapScript)) >= 100_000);
});

test(`map: vig_map_alloc takes keys of 1 to ${MAP_KEY_MAX} bytes, returns NULL for 0 and for more`, async () => {
  for (const binary of Object.values(binaries)) {
    const run = await execa(binary, [], { input: "mapalloc 100\n", env: { ASAN_OPTIONS: "detect_leaks=0" } });
    assert.is(run.stdout, `0 0\n1 1\n6 1\n${MAP_KEY_MAX} 1\n${MAP_KEY_MAX + 1} 0\n1000 0`);
  }
});

test("vector: C vig_vector agrees with Vector on 125,000 random operations", async () => {
  assert.ok((await compare("vector", vectorScript)) >= 100_000);
});

test("allocator: C vig_allocator agrees with IndexAllocator on 125,000 random operations", async () => {
  assert.ok((await compare("allocator", allocatorScript)) >= 100_000);
});

test("flow table: C vig_flow_table agrees with FlowTable on 125,000 random operations", async () => {
  assert.ok((await compare("flow table", flowTableScript)) >= 100_000);
});

test("models: preconditions are enforced with ContractViolation", () => {
  const m = new FlowMap<Key>(1);
  m.put(keyRecord(1), 5);
  assert.throws(() => m.put(keyRecord(1), 6), (e: unknown) => e instanceof ContractViolation);
  assert.throws(() => m.put(keyRecord(2), 6), (e: unknown) => e instanceof ContractViolation);
  assert.throws(() => m.erase(keyRecord(2)), (e: unknown) => e instanceof ContractViolation);
  const a = new IndexAllocator(2);
  assert.is(a.allocate(10n), 0);
  assert.throws(() => a.allocate(9n), (e: unknown) => e instanceof ContractViolation);
  assert.throws(() => a.refresh(1, 10n), (e: unknown) => e instanceof ContractViolation);
  assert.throws(() => a.free(1), (e: unknown) => e instanceof ContractViolation);
  assert.is(a.isAllocated(7), false);
  const v = new Vector<Elem>(2, { x: 0, y: 0n });
  assert.throws(() => v.get(2), (e: unknown) => e instanceof ContractViolation);
  const t = new FlowTable<Key>(2, 10n);
  assert.is(t.add(keyRecord(3), 1n), 0);
  assert.throws(() => t.add(keyRecord(3), 1n), (e: unknown) => e instanceof ContractViolation);
  assert.throws(() => t.remove(1), (e: unknown) => e instanceof ContractViolation);
  assert.equal(t.entries(), [{ index: 0, key: keyRecord(3), time: 1n }]);
  assert.is(t.expire(11n), 0);
  assert.is(t.expire(12n), 1);
  assert.is(t.size, 0);
});

test.run();
