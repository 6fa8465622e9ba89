/**
 * The "c" stage: generated NF code (nf_process, the record key and hash functions) proven free of
 * runtime errors by Frama-C WP + RTE against the accessors' and packet.h's contracts (the accessors
 * against the structures' contracts with VIGORC_PROVE_ACCESSORS=1, not all proven yet), and planted bugs rejected with their C and TypeScript lines. Planted bugs
 * are one-line mutations of the code vigorc generates today (made at test time, so they never go
 * stale); they only prove nf_process, whose callees' contracts the NAT test proves.
 */
import * as assert from "uvu/assert";
import { test } from "uvu";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitC } from "../compiler/codegen/emit-c.ts";
import { compileNf } from "../compiler/frontend/index.ts";
import { proveC } from "../compiler/verifier/c-proof.ts";
import { runCStage, wpCacheArgs } from "../compiler/verifier/c-stage.ts";
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

test("NAT: every goal of nf_process and the record key and hash functions proven", async () => {
  const r = await runCStage({ nfFile: "nfs/nat.ts" });
  console.log(`    NAT: ${r.goals.proven}/${r.goals.total} goals in ${r.seconds.toFixed(1)} s`);
  assert.ok(r.goals.total > 100, `goals: ${r.goals.total}`);
  assert.equal(r.failures, []);
  assert.equal(r.goals.proven, r.goals.total);
  assert.ok(r.proven);
});

test("packet.h: every function proven against its contract", async () => {
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

/** Proves nf_process of the generated NAT with `from` replaced by `to`; returns the result and the C line of the change. */
async function plantInNat(from: string, to: string): Promise<{ r: StageResult; cFile: string; line: number }> {
  const compiled = compileNf("nfs/nat.ts");
  assert.ok(compiled.module);
  const generated = emitC(compiled.module);
  const at = generated.indexOf(from);
  assert.ok(at >= 0 && generated.indexOf(from, at + 1) < 0, `mutation target not found once: ${from}`);
  const dir = await mkdtemp(join(tmpdir(), "vigorc-planted-"));
  const cFile = join(dir, "nat-planted.c");
  try {
    await writeFile(cFile, generated.replace(from, to));
    const r = await runCStage({ nfFile: "nfs/nat.ts", cFile, functions: ["nf_process"], timeoutSeconds: 5 });
    return { r, cFile, line: generated.slice(0, at).split("\n").length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("planted bug: TCP port read past the header is rejected at nat.ts:61", async () => {
  const { r, cFile, line } = await plantInNat("srcPort = vig_load16(pkt, tcp.offset + 0u);", "srcPort = vig_load16(pkt, tcp.offset + 20u);");
  assert.not.ok(r.proven);
  assert.ok(r.goals.proven < r.goals.total);
  const f = r.failures.find((x) => x.line === 61);
  assert.ok(f !== undefined, JSON.stringify(r.failures));
  assert.ok(f.file?.endsWith("nat.ts"));
  assert.equal(f.cLocation, `${cFile}:${line}`);
  assert.match(f.message, /vig_load16/);
});

test("planted accessor misuse: refreshing a WAN-side index without checking keyAt found it is rejected at nat.ts:97", async () => {
  const { r, cFile, line } = await plantInNat("\n    if (!flow_2.present) {\n", "\n    if (false) {\n");
  assert.not.ok(r.proven);
  // The refresh needs an entry at the index (flow table precondition), and the device read back
  // indexes per-device arrays: both unproven without the check.
  const f = r.failures.find((x) => x.line === 97 && /flows_refresh/.test(x.message));
  assert.ok(f !== undefined, JSON.stringify(r.failures));
  assert.ok(f.file?.endsWith("nat.ts"));
  assert.ok(f.cLocation?.startsWith(`${cFile}:`));
  assert.ok(Number(f.cLocation?.split(":").pop()) > line, f.cLocation);
});

test("planted accessor misuse: adding a flow that find reported present is rejected at nat.ts:82", async () => {
  const { r } = await plantInNat("\n    if (!index.present) {\n", "\n    if (true) {\n");
  assert.not.ok(r.proven);
  const f = r.failures.find((x) => x.line === 82 && /flows_add/.test(x.message));
  assert.ok(f !== undefined, JSON.stringify(r.failures));
  assert.ok(f.file?.endsWith("nat.ts"));
});

test.run();
