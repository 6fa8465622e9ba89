/**
 * The "c" stage: generated NF code proven free of runtime errors by Frama-C WP + RTE, and a
 * planted bug (a header read past the packet's length) rejected with its C and TypeScript lines.
 */
import * as assert from "uvu/assert";
import { test } from "uvu";
import { runCStage } from "../compiler/verifier/c-stage.ts";

test("NOP: generated code proven (nothing to check)", async () => {
  const r = await runCStage({ nfFile: "nfs/nop.ts" });
  assert.equal(r.name, "c");
  assert.ok(r.proven, JSON.stringify(r.failures));
  assert.equal(r.goals.proven, r.goals.total);
});

test("NAT: every goal of nf_process proven", async () => {
  const r = await runCStage({ nfFile: "nfs/nat.ts" });
  console.log(`    NAT: ${r.goals.proven}/${r.goals.total} goals in ${r.seconds.toFixed(1)} s`);
  assert.ok(r.goals.total > 50, `goals: ${r.goals.total}`);
  assert.equal(r.failures, []);
  assert.equal(r.goals.proven, r.goals.total);
  assert.ok(r.proven);
});

test("planted bug: TCP port read past the header is rejected at nat.ts:61", async () => {
  const cFile = "tests/fixtures/c-proof/nat-tcp-overread.c";
  const r = await runCStage({ nfFile: "nfs/nat.ts", cFile, timeoutSeconds: 5 });
  assert.not.ok(r.proven);
  assert.ok(r.goals.proven < r.goals.total);
  const f = r.failures.find((x) => x.line === 61);
  assert.ok(f !== undefined, JSON.stringify(r.failures));
  assert.ok(f.file?.endsWith("nat.ts"));
  assert.ok(f.cLocation?.endsWith("nat-tcp-overread.c:253"), f.cLocation);
  assert.match(f.message, /vig_load16/);
});

test.run();
