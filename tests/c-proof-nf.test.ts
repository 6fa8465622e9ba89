/**
 * The "c" stage: generated NF code (nf_process, the record key and hash functions) proven free of
 * runtime errors by Frama-C WP + RTE against the accessors' and packet.h's contracts, packet.h
 * proven against its own, and planted bugs rejected with their C and TypeScript lines. What the
 * stage assumes (the accessors' contracts) is listed in compiler/verifier/c-stage.ts and
 * compiler/codegen/README.md.
 *
 * Cost: each function is proven once, with cvc4 alone (C_STAGE_PROVERS). The planted bugs are one-line mutations of the code vigorc
 * generates today (made at test time, so they never go stale), all planted in one copy of the NAT
 * and proven in one run over the preconditions they break only (named in the contracts, at every call
 * site of nf_process).
 */
import * as assert from "uvu/assert";
import { test } from "uvu";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitC } from "../compiler/codegen/emit-c.ts";
import { compileNf } from "../compiler/frontend/index.ts";
import { proveC } from "../compiler/verifier/c-proof.ts";
import { C_STAGE_PROVERS, nfFunctions, runCStage, wpCacheArgs } from "../compiler/verifier/c-stage.ts";
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
 * The whole NAT (every function of nf.c but the start-up ones: nf_process with nf_state_kept,
 * nf_prefetch and its helpers, the record key and hash functions), in CI since the stage proves
 * generated code with cvc4 alone (C_STAGE_PROVERS): 315/315 goals in 509 s wall at load 7-8, WP
 * cache off. nf_prefetch's helpers are among the functions proven (checked below), so they have no
 * test of their own.
 */
test("NAT: every goal of the generated code proven (nf_process with nf_state_kept, nf_prefetch, key and hash functions)", async () => {
  const compiled = compileNf("nfs/nat.ts");
  assert.ok(compiled.module);
  const functions = nfFunctions(emitC(compiled.module), { accessors: false });
  for (const f of ["nf_process", "nf_prefetch", "vig_prefetch_flow_table_entry", "FlowId_hash", "FlowId_encode"]) assert.ok(functions.includes(f), functions.join(","));
  const r = await runCStage({ nfFile: "nfs/nat.ts" });
  console.log(`    NAT: ${r.goals.proven}/${r.goals.total} goals in ${r.seconds.toFixed(1)} s`);
  for (const f of r.failures) console.log(`      ${f.file}:${f.line} (${f.cLocation}) ${f.message}`);
  assert.ok(r.goals.total > 250, `goals: ${r.goals.total}`);
  assert.equal(r.failures, []);
  assert.equal(r.goals.proven, r.goals.total);
  assert.ok(r.proven);
});

/** packet.h's functions against their contracts (its lemmas: tests/c-proof-packet-lemmas.test.ts). */
test("packet.h: every function proven against its contract", async () => {
  const header = await readFile("runtime-c/packet/packet.h", "utf8");
  const functions = [...header.matchAll(/^static inline [\w ]+?\**(vig_\w+)\(/gm)].map((m) => m[1]!);
  assert.ok(functions.includes("vig_l4_write") && functions.includes("vig_parse_ipv4"), functions.join(","));
  const r = await proveC({
    files: ["tests/fixtures/c-proof/packet.c"],
    includeDirs: ["runtime-c/packet"],
    functions,
    unsignedOverflow: true,
    provers: C_STAGE_PROVERS,
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
    // Each planted bug breaks one named precondition of a callee (packet.h's loads: `readable`; the
    // accessors: `key_absent`, `entry_exists`): only those goals, at every call site of nf_process,
    // are proven (the correct call sites must be proven, the bugs' rejected); the rest of nf_process
    // is the NAT test's. Session 5: all of nf_process's call preconditions (@requires) with cvc4
    // alone left a correct goal unproven at load 7 (vig_store48 after the LAN/WAN join, nat.ts:103,
    // which needs the split tactic, off here: the bugs' false goals would each be split).
    const r = await runCStage({
      nfFile: "nfs/nat.ts",
      cFile,
      functions: ["nf_process"],
      properties: ["readable", "key_absent", "entry_exists"],
      splitStrategy: false,
      // Failing by design: with the cache, the stage would prove the failing run a second time
      // (a cached failure may be a transient one, see c-stage.ts).
      cache: false,
    });
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
  // Exactly the three bugs' goals are unproven; every other selected call site is proven.
  assert.equal(r.goals.total - r.goals.proven, 3);
  assert.ok(r.goals.total > 3, `goals: ${r.goals.total}`);
});

test.run();
