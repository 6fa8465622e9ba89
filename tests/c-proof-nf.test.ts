/**
 * The "c" stage: generated NF code (nf_process, the record key and hash functions) proven free of
 * runtime errors by Frama-C WP + RTE against the accessors' and packet.h's contracts, packet.h
 * proven against its own, and planted bugs rejected with their C and TypeScript lines. What the
 * stage assumes (the accessors' contracts) is listed in compiler/verifier/c-stage.ts and
 * compiler/codegen/README.md.
 *
 * Cost: each function is proven once. The planted bugs are one-line mutations of the code vigorc
 * generates today (made at test time, so they never go stale), all planted in one copy of the NAT
 * and proven in one run over the call preconditions only (WP's @requires goals).
 */
import * as assert from "uvu/assert";
import { test } from "uvu";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitC } from "../compiler/codegen/emit-c.ts";
import { compileNf } from "../compiler/frontend/index.ts";
import { proveC } from "../compiler/verifier/c-proof.ts";
import { nfFunctions, runCStage, wpCacheArgs } from "../compiler/verifier/c-stage.ts";
import type { StageResult } from "../compiler/verifier/stage.ts";

test("NOP: generated code proven, with its real goal count", async () => {
  const r = await runCStage({ nfFile: "nfs/nop.ts" });
  console.log(`    NOP: ${r.goals.proven}/${r.goals.total} goals in ${r.seconds.toFixed(1)} s`);
  assert.equal(r.name, "c");
  assert.equal(r.failures, []);
  assert.ok(r.goals.total > 0, `goals: ${r.goals.total}`);
  assert.equal(r.goals.proven, r.goals.total);
  assert.ok(r.proven);
});

/**
 * The whole NAT run (242 goals) takes ~10 min of wall time on a loaded 2-core machine (most of it
 * WP's own simplifier), which alone would break CI's 20-minute budget: it runs with
 * VIGORC_FULL_PROOFS=1. So does packet.h's own proof (288 goals, ~2 min; the header did not change
 * in session 3, when the runtime structures' full proofs took CI's time). CI still proves the NAT's
 * call preconditions (the planted run below) and NOP in full.
 */
const FULL_PROOFS = process.env["VIGORC_FULL_PROOFS"] === "1";

(FULL_PROOFS ? test : test.skip)("NAT: every goal of nf_process (nf_state_kept included) and the record key and hash functions proven", async () => {
  const r = await runCStage({ nfFile: "nfs/nat.ts" });
  console.log(`    NAT: ${r.goals.proven}/${r.goals.total} goals in ${r.seconds.toFixed(1)} s`);
  for (const f of r.failures) console.log(`      ${f.file}:${f.line} (${f.cLocation}) ${f.message}`);
  assert.ok(r.goals.total > 200, `goals: ${r.goals.total}`);
  assert.equal(r.failures, []);
  assert.equal(r.goals.proven, r.goals.total);
  assert.ok(r.proven);
});

/**
 * nf_prefetch (the DPDK shell runs it over each burst before processing it) and its helpers: every
 * goal, in CI too (the whole-NAT run above covers them as well). It must write nothing (assigns
 * \nothing) and be free of runtime errors for every packet, like nf_process.
 */
test("NAT: nf_prefetch and its prefetch helpers proven (writes nothing, no runtime error)", async () => {
  const compiled = compileNf("nfs/nat.ts");
  assert.ok(compiled.module);
  const functions = nfFunctions(emitC(compiled.module), { accessors: false }).filter((f) => /prefetch/.test(f));
  assert.equal(functions.sort(), ["nf_prefetch", "vig_prefetch", "vig_prefetch_flow_table_entry"]);
  const r = await runCStage({ nfFile: "nfs/nat.ts", functions });
  console.log(`    NAT nf_prefetch: ${r.goals.proven}/${r.goals.total} goals in ${r.seconds.toFixed(1)} s`);
  for (const f of r.failures) console.log(`      ${f.file}:${f.line} (${f.cLocation}) ${f.message}`);
  assert.ok(r.goals.total > 50, `goals: ${r.goals.total}`);
  assert.equal(r.failures, []);
  assert.equal(r.goals.proven, r.goals.total);
  assert.ok(r.proven);
});

(FULL_PROOFS ? test : test.skip)("packet.h: every function proven against its contract", async () => {
  const header = await readFile("runtime-c/packet/packet.h", "utf8");
  const functions = [...header.matchAll(/^static inline [\w ]+?\**(vig_\w+)\(/gm)].map((m) => m[1]!);
  assert.ok(functions.includes("vig_l4_write") && functions.includes("vig_parse_ipv4"), functions.join(","));
  const r = await proveC({
    files: ["tests/fixtures/c-proof/packet.c"],
    includeDirs: ["runtime-c/packet"],
    functions,
    unsignedOverflow: true,
    extraArgs: wpCacheArgs(),
  });
  console.log(`    packet.h: ${r.proven}/${r.total} goals in ${r.seconds.toFixed(1)} s`);
  assert.ok(r.total > 200, `goals: ${r.total}`);
  assert.equal(r.failures, []);
  assert.equal(r.proven, r.total);
});

/**
 * The planted bugs, one-line mutations of the generated NAT, each breaking a different callee's
 * precondition on a different path, so one proof of the mutated nf_process rejects all three.
 */
const PLANTED = {
  overread: { from: "srcPort = vig_load16(pkt, tcp.offset + 0u);", to: "srcPort = vig_load16(pkt, tcp.offset + 20u);" },
  refreshUnchecked: { from: "\n    if (!flow_2.present) {\n", to: "\n    if (false) {\n" },
  addPresent: { from: "\n    if (!index.present) {\n", to: "\n    if (true) {\n" },
};

/** Proves nf_process of the generated NAT with every PLANTED mutation; the C line of each. */
async function plantInNat(): Promise<{ r: StageResult; cFile: string; lines: Record<keyof typeof PLANTED, number> }> {
  const compiled = compileNf("nfs/nat.ts");
  assert.ok(compiled.module);
  const generated = emitC(compiled.module);
  let planted = generated;
  const lines = {} as Record<keyof typeof PLANTED, number>;
  // Only nf_process is mutated: nf_prefetch, after it, repeats its statements up to the lookups.
  const processEnd = generated.indexOf("\nvoid nf_prefetch(");
  assert.ok(processEnd > 0);
  for (const [name, { from, to }] of Object.entries(PLANTED) as [keyof typeof PLANTED, { from: string; to: string }][]) {
    const at = generated.indexOf(from);
    const again = generated.indexOf(from, at + 1);
    assert.ok(at >= 0 && at < processEnd && (again < 0 || again > processEnd), `mutation target not found once in nf_process: ${from}`);
    // Each mutation keeps the line count, so lines of the generated file stay valid.
    assert.equal(to.split("\n").length, from.split("\n").length);
    lines[name] = generated.slice(0, at).split("\n").length;
    planted = planted.replace(from, to);
  }
  const dir = await mkdtemp(join(tmpdir(), "vigorc-planted-"));
  const cFile = join(dir, "nat-planted.c");
  try {
    await writeFile(cFile, planted);
    // Each planted bug breaks a callee's precondition: only those goals (WP's @requires) are proven;
    // the rest of nf_process is the NAT test's.
    // 30 s per goal, not the default 10: a correct goal (nat.ts:103) timed out at 10 s when CI ran
    // the test lanes side by side. A step limit (3M, the runtime test's) made the run load-
    // independent but 2x slower (521 s wall / 463 s CPU), the bugs' false goals running to the limit.
    const r = await runCStage({ nfFile: "nfs/nat.ts", cFile, functions: ["nf_process"], properties: ["@requires"], splitStrategy: false, timeoutSeconds: 30 });
    console.log(`    planted NAT: ${r.goals.proven}/${r.goals.total} goals in ${r.seconds.toFixed(1)} s`);
    return { r, cFile, lines };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
let plantedRun: ReturnType<typeof plantInNat> | undefined;
const planted = () => (plantedRun ??= plantInNat());

test("planted bug: TCP port read past the header is rejected at nat.ts:61", async () => {
  const { r, cFile, lines } = await planted();
  assert.not.ok(r.proven);
  assert.ok(r.goals.proven < r.goals.total);
  const f = r.failures.find((x) => x.line === 61);
  assert.ok(f !== undefined, JSON.stringify(r.failures));
  assert.ok(f.file?.endsWith("nat.ts"));
  assert.equal(f.cLocation, `${cFile}:${lines.overread}`);
  assert.match(f.message, /vig_load16/);
});

test("planted accessor misuse: refreshing a WAN-side index without checking keyAt found it is rejected at nat.ts:97", async () => {
  const { r, cFile, lines } = await planted();
  // The refresh needs an entry at the index (flow table precondition).
  const f = r.failures.find((x) => x.line === 97 && /flows_refresh/.test(x.message));
  assert.ok(f !== undefined, JSON.stringify(r.failures));
  assert.ok(f.file?.endsWith("nat.ts"));
  assert.ok(f.cLocation?.startsWith(`${cFile}:`));
  assert.ok(Number(f.cLocation?.split(":").pop()) > lines.refreshUnchecked, f.cLocation);
});

test("planted accessor misuse: adding a flow that find reported present is rejected at nat.ts:82", async () => {
  const { r } = await planted();
  const f = r.failures.find((x) => x.line === 82 && /flows_add/.test(x.message));
  assert.ok(f !== undefined, JSON.stringify(r.failures));
  assert.ok(f.file?.endsWith("nat.ts"));
});

test("planted bugs: no other goal fails (each rejection is the bug's own)", async () => {
  const { r } = await planted();
  const lines = r.failures.map((x) => x.line);
  assert.ok(lines.every((l) => l === 61 || l === 82 || l === 97), JSON.stringify(r.failures));
});

test.run();
