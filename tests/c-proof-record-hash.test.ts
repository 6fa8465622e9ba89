/**
 * The records' hash as the C stage proves it (cvc4 alone, as C_STAGE_PROVERS): `<record>_hash`, a
 * sum of independent products (`vig_hash_term`), against `<record>_hash_of`. The NAT's FlowId_hash
 * is proven with the whole NAT (tests/c-proof-nf.test.ts); this is a record with a 64-bit field,
 * hashed as its two halves, which no NF in nfs/ has. A wrong power in the C is rejected. That the
 * sum is the polynomial hash: tests/record-hash.test.ts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { emitC } from "../compiler/codegen/emit-c.ts";
import { compileNf } from "../compiler/frontend/index.ts";
import { proveC } from "../compiler/verifier/c-proof.ts";
import { C_STAGE_PROVERS } from "../compiler/verifier/c-stage.ts";

const INCLUDE_DIRS = ["packet", "shells", "structures"].map((d) => join("runtime-c", d));

function generated(): string {
  const compiled = compileNf("tests/fixtures/c-proof/mac-learner.ts");
  assert.ok(compiled.module);
  return emitC(compiled.module);
}

async function proveHash(text: string) {
  const file = join(mkdtempSync(join(tmpdir(), "vigorc-hash-")), "nf.c");
  writeFileSync(file, text);
  return proveC({ files: [file], includeDirs: INCLUDE_DIRS, functions: ["Station_hash", "vig_hash_term"], provers: C_STAGE_PROVERS, unsignedOverflow: true, extraArgs: ["-wp-auto", "wp:split"] });
}

test("a record with a 64-bit field: its hash proven against <record>_hash_of", async () => {
  const r = await proveHash(generated());
  console.log(`    Station_hash, vig_hash_term: ${r.proven}/${r.total} goals in ${r.seconds.toFixed(1)} s`);
  assert.equal(r.failures, []);
  assert.ok(r.total > 10, `goals: ${r.total}`);
  assert.equal(r.proven, r.total);
});

test("a wrong power in the C hash is rejected", async () => {
  const text = generated();
  // 3422824465 = K^3 mod 2^32, the power of the field's low half (the record has three parts).
  const right = "(uint32_t)(r->mac % UINT64_C(4294967296)), 3422824465u)";
  assert.ok(text.includes(right), "generated hash changed: update this test");
  const r = await proveHash(text.replace(right, "(uint32_t)(r->mac % UINT64_C(4294967296)), 3422824466u)"));
  assert.ok(r.total > 0);
  assert.ok(r.failures.some((f) => f.function === "Station_hash"), JSON.stringify(r.failures));
  assert.ok(r.proven < r.total);
});

test.run();
