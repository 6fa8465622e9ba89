/**
 * C-level proofs of the runtime structures (runtime-c/structures): Frama-C WP + RTE with z3 and
 * cvc4 (compiler/verifier/c-proof.ts) proves each implementation against the ACSL contracts in
 * its header, and rejects planted bugs.
 *
 * The *_alloc functions (thin wrappers around malloc) are not proven: WP's typed memory model
 * cannot use malloc's specification for a struct. What they do after allocating is in a helper
 * (map_init, allocator_init) that is proven. See runtime-c/contracts/README.md.
 *
 * Goals not proven yet are confined to the functions listed below (`knownGaps`, also in
 * runtime-c/contracts/README.md). By default the test proves every other function, and in a run of
 * its own every lemma outside `lemmaGaps`, where every goal must be proven, plus the planted bugs.
 * With VIGORC_PROVE_ALL=1 it also runs WP on the functions with known gaps (slow: the unproven goals
 * run into the prover limit) and fails on an unproven goal outside them; it prints proven/total
 * either way.
 *
 * Prover results are reused from WP's cache (compiler/verifier/c-stage.ts wpCacheArgs: keyed by
 * each goal's whole prover task, so a changed goal is proven again; VIGORC_WP_CACHE=off proves
 * everything afresh).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { proveC, summarize, type CProofResult } from "../compiler/verifier/c-proof.ts";
import { wpCacheArgs } from "../compiler/verifier/c-stage.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const STRUCTURES = join(ROOT, "runtime-c", "structures");
/**
 * Per-goal prover limits for the functions that must be proven. The bound is in steps (z3's and
 * cvc4's rlimit), which does not depend on the machine's load, so a goal is proven or not the same
 * way on a busy CI machine; the time limit is only a backstop. The hardest goal proven so far
 * needs about 5 million z3 steps or 200 thousand cvc4 steps, and the two race on each goal.
 */
const STEPS = Number(process.env.VIGORC_WP_STEPS ?? 3_000_000);
const TIMEOUT = Number(process.env.VIGORC_WP_TIMEOUT ?? 600);
/** Time limit (s) for the functions with known gaps (their failing goals run into it). */
const GAP_TIMEOUT = Number(process.env.VIGORC_WP_GAP_TIMEOUT ?? 10);
const PROVE_ALL = process.env.VIGORC_PROVE_ALL === "1";

interface Target {
  file: string;
  /** Allocation wrappers around malloc: not proven (see the header of this file). */
  skip: string[];
  /** Functions that still have unproven goals (visible gaps, see runtime-c/contracts/README.md). */
  knownGaps: string[];
  /** Proven, every goal, but checked only with VIGORC_PROVE_ALL=1: CI's 20-minute budget (runtime-c/contracts/README.md). */
  outsideCi?: string[];
  /**
   * ACSL lemmas (the file's and its headers') that WP does not prove under the limits: left out of
   * the lemma run, every other lemma must be proven. Undefined: the file has no lemma. (The
   * function runs above select functions, and WP then generates no lemma goal: lemmas need a run
   * of their own.)
   */
  lemmaGaps?: string[];
}

/** Header lemmas not proven yet (map.h, allocator.h), in every file that includes the header. */
const MAP_LEMMA_GAPS = ["vig_map_inv_unchanged"];
const ALLOCATOR_LEMMA_GAPS = ["vig_allocator_inv_unchanged"];

const TARGETS: Target[] = [
  { file: "vector.c", skip: ["vig_vector_alloc"], knownGaps: [] },
  {
    file: "map.c",
    skip: ["vig_map_alloc"],
    knownGaps: [],
    lemmaGaps: [...MAP_LEMMA_GAPS, "vig_map_erase_gone", "vig_map_erase_unique", "vig_map_erase_probes", "vig_map_put_unique", "vig_map_put_probes"],
  },
  {
    file: "allocator.c",
    skip: ["vig_allocator_alloc"],
    knownGaps: [],
    lemmaGaps: [...ALLOCATOR_LEMMA_GAPS],
  },
  {
    file: "flow_table.c",
    skip: ["vig_flow_table_alloc"],
    knownGaps: ["vig_flow_table_add"],
    outsideCi: ["vig_flow_table_expire"],
    lemmaGaps: [...MAP_LEMMA_GAPS, ...ALLOCATOR_LEMMA_GAPS, "vig_flow_table_data_same_records"],
  },
];

interface Outcome {
  /** Functions without known gaps, and the lemmas: every goal must be proven. */
  complete: CProofResult;
  /** Functions with known gaps: unproven goals allowed, and reported. */
  gaps: CProofResult | undefined;
  /** The lemmas outside lemmaGaps: every goal must be proven. */
  lemmas: CProofResult | undefined;
}

const outcomes = new Map<string, Outcome>();

async function proveTarget(t: Target): Promise<Outcome> {
  const base = { files: [join(STRUCTURES, t.file)], includeDirs: [STRUCTURES], parallel: 2, extraArgs: ["-wp-split", ...wpCacheArgs()] };
  const complete = await proveC({ ...base, skipFunctions: [...t.skip, ...t.knownGaps, ...(PROVE_ALL ? [] : (t.outsideCi ?? []))], timeoutSeconds: TIMEOUT, steps: STEPS });
  console.log(summarize(`${t.file} (complete functions)`, complete));
  let gaps: CProofResult | undefined;
  if (t.knownGaps.length > 0 && PROVE_ALL) {
    gaps = await proveC({ ...base, functions: t.knownGaps, timeoutSeconds: GAP_TIMEOUT });
    console.log(summarize(`${t.file} (functions with known gaps, ${GAP_TIMEOUT} s limit)`, gaps));
  }
  let lemmas: CProofResult | undefined;
  if (t.lemmaGaps !== undefined) {
    const props = ["@lemma", ...t.lemmaGaps.map((l) => `-${l}`)].join(",");
    lemmas = await proveC({ ...base, extraArgs: [...base.extraArgs, "-wp-prop", props], timeoutSeconds: TIMEOUT, steps: STEPS });
    console.log(summarize(`${t.file} (lemmas outside lemmaGaps: ${t.lemmaGaps.length})`, lemmas));
  }
  return { complete, gaps, lemmas };
}

test.before(async () => {
  // One file at a time with two prover processes (2 cores): z3 and cvc4 race on each goal and
  // the first answer cancels the other.
  for (const t of TARGETS) outcomes.set(t.file, await proveTarget(t));
});

for (const t of TARGETS) {
  test(`${t.file}: WP proves its contracts (every goal outside the listed gaps)`, () => {
    const o = outcomes.get(t.file);
    assert.ok(o !== undefined);
    for (const r of [o.complete, o.gaps, o.lemmas]) {
      if (r === undefined) continue;
      assert.equal(r.failures.filter((f) => f.status === "error"), [], r.log.slice(-3000));
      assert.ok(r.total > 0, "no goals");
    }
    assert.equal(o.complete.failures, [], `unproven goals in ${t.file}`);
    assert.is(o.complete.proven, o.complete.total);
    if (t.lemmaGaps !== undefined) {
      assert.ok(o.lemmas !== undefined && o.lemmas.total > 0, `no lemma goals in ${t.file}`);
      assert.equal(o.lemmas.failures, [], `unproven lemmas in ${t.file}`);
      assert.is(o.lemmas.proven, o.lemmas.total);
    }
    if (o.gaps !== undefined) {
      const unexpected = o.gaps.failures.filter((f) => !t.knownGaps.includes(f.function) && !f.file.startsWith("FRAMAC_SHARE"));
      assert.equal(unexpected, [], `unproven goals outside the known gaps of ${t.file}`);
    }
  });
}

/**
 * A planted bug: the real implementation with exactly one line changed, written to a temp dir
 * (a mutated copy of the current file, so the bug never drifts from the code under test).
 */
function plant(file: string, correct: string, buggy: string): string {
  const source = readFileSync(join(STRUCTURES, file), "utf8");
  assert.is(source.split(correct).length, 2, `${file} must contain '${correct}' exactly once`);
  const out = join(mkdtempSync(join(tmpdir(), "vigorc-planted-")), file);
  writeFileSync(out, source.replace(correct, `${buggy} /* PLANTED BUG */`));
  return out;
}

async function provePlanted(file: string, functions: string[]): Promise<CProofResult> {
  const r = await proveC({
    files: [file],
    includeDirs: [STRUCTURES],
    functions,
    timeoutSeconds: 5,
    parallel: 2,
  });
  console.log(summarize(`planted ${file}`, r));
  return r;
}

test("planted bug: map.c with an off-by-one in probing is rejected", async () => {
  const file = plant("map.c", "return d < t - b ? b + d : d - (t - b);", "return d <= t - b ? b + d : d - (t - b);");
  const r = await provePlanted(file, ["slot_at", "find_slot"]);
  assert.equal(r.failures.filter((f) => f.status === "error"), []);
  assert.ok(r.total > 0 && r.proven < r.total, `${r.proven}/${r.total}`);
  assert.ok(r.failures.some((f) => f.function === "slot_at"), JSON.stringify(r.failures));
});

test("planted bug: allocator.c with an off-by-one in a bounds check is rejected", async () => {
  const file = plant("allocator.c", "return index < a->capacity && a->cells[index].allocated != 0;", "return index <= a->capacity && a->cells[index].allocated != 0;");
  const r = await provePlanted(file, ["vig_allocator_is_allocated"]);
  assert.equal(r.failures.filter((f) => f.status === "error"), []);
  assert.ok(r.total > 0 && r.proven < r.total, `${r.proven}/${r.total}`);
  assert.ok(
    r.failures.some((f) => f.function === "vig_allocator_is_allocated" && /mem_access/.test(f.goal)),
    JSON.stringify(r.failures),
  );
});

test.run();
