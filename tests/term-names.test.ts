/**
 * The verifier keeps out of a goal's query the facts about fresh constants the goal does not
 * mention (prove.ts freshConstants), reading the names from the terms with uninterpretedNames
 * (z3.ts). Claim: it finds every uninterpreted constant and function a term mentions, however
 * deeply shared, and nothing else: no interpreted operator, and none of the let-names (`a!1`)
 * that z3's printer gives shared subterms (the printed form, scanned before, had them).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { apply, Bits, uninterpretedNames, z3, type BV } from "../compiler/verifier/z3.ts";

test("uninterpretedNames: the constants and functions a term mentions, and only those", async () => {
  const Z = await z3();
  const b = new Bits(Z);
  const x = b.fresh("names.x", 16);
  const y = b.named("names.y", 16);
  const f = Z.Function.declare("names.f!77", Z.BitVec.sort(16), Z.BitVec.sort(16));
  // A shared subterm, used many times: printed with let-bindings.
  let shared = apply<BV>(f, x.add(y).mul(x));
  for (let i = 0; i < 6; i++) shared = shared.add(shared).xor(shared.mul(y));
  const term = shared.eq(b.val(3, 16)).and(b.freshBool("names.c"));
  assert.match(term.sexpr(), /a!1/, "the printer names shared subterms");
  const names = uninterpretedNames(term).sort();
  assert.equal(names, ["names.f!77", x.name().toString(), "names.y", term.arg(1).decl().name().toString()].sort());
  assert.equal(uninterpretedNames(b.val(5, 16).add(b.val(6, 16))), []);
});

test.run();
