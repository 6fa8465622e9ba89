/**
 * packet.h's lemmas (shifts by a constant are multiplications), proven by Frama-C WP with its
 * bit-shift tactic (`-wp-auto wp:bitshift`: z3 and cvc4 alone do not prove them). Every other proof
 * that includes packet.h (its functions, the generated NFs) runs with -wp-fct, which leaves lemma
 * goals out and uses the lemmas as facts: this test is what makes those facts proven, not assumed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { proveC } from "../compiler/verifier/c-proof.ts";

const LEMMA_ARGS = ["-wp-auto", "wp:bitshift"];

function lemmaNames(source: string): string[] {
  return [...source.matchAll(/\blemma (\w+)\s*:/g)].map((m) => m[1]!);
}

test("packet.h: every lemma proven (WP bit-shift tactic)", async () => {
  const names = lemmaNames(readFileSync("runtime-c/packet/packet.h", "utf8"));
  assert.ok(names.includes("vig_shift8") && names.includes("vig_shift16"), names.join(","));
  const r = await proveC({
    files: ["tests/fixtures/c-proof/packet.c"],
    includeDirs: ["runtime-c/packet"],
    extraArgs: [...LEMMA_ARGS, "-wp-prop", names.join(",")],
  });
  console.log(`    packet.h lemmas: ${r.proven}/${r.total} goals in ${r.seconds.toFixed(1)} s`);
  assert.equal(r.failures, []);
  assert.equal(r.total, names.length);
  assert.equal(r.proven, r.total);
});

test("the same tactic does not prove a false shift lemma", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigorc-lemma-"));
  const file = join(dir, "wrong.c");
  writeFileSync(file, "/*@ lemma wrong_shift8: \\forall integer x; (x << 8) == x * 255; */\n");
  const r = await proveC({ files: [file], includeDirs: [], extraArgs: LEMMA_ARGS });
  assert.equal(r.total, 1);
  assert.equal(r.proven, 0);
});

test.run();
