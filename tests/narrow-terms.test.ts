/**
 * Specs compute in 72 bits and the NF in its fields' widths; the verifier narrows spec values back
 * to the NF's widths (Bits.unsignedNarrow, Bits.resize) so that both sides name the same terms.
 * Claim: a narrowed term's zero-extension is the original term, for every value of its inputs (Z3
 * proves each equality valid), and choices between extensions are actually narrowed. A narrowing
 * that drops a bit or picks the wrong branch fails the first check.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Bits, z3, type BV } from "../compiler/verifier/z3.ts";

async function valid(Z: Awaited<ReturnType<typeof z3>>, claim: ReturnType<BV["eq"]>): Promise<boolean> {
  const s = new Z.Solver();
  s.add(Z.Not(claim));
  return (await s.check()) === "unsat";
}

test("narrowed terms extend back to the original, for every input", async () => {
  const Z = await z3();
  const b = new Bits(Z);
  const port = b.named("narrow.port", 16);
  const other = b.named("narrow.other", 8);
  const c = b.freshBool("narrow.c");
  const d = b.freshBool("narrow.d");
  const wide = (x: BV) => b.resize(x, 72);
  // The spec's `let p = 0; if (tcp) p = tcp.port; else if (udp) p = udp.port;`, merged.
  const merged = b.ite(c, wide(port), b.ite(d, wide(other), b.val(0, 72)));
  const cases: { term: BV; width: number }[] = [
    { term: wide(port), width: 16 },
    { term: merged, width: 16 },
    { term: b.val(1234, 72), width: 11 },
    { term: b.ite(c, b.val(70000, 72), wide(port)), width: 17 },
  ];
  for (const { term, width } of cases) {
    const n = b.unsignedNarrow(term);
    assert.ok(n !== undefined, `narrowed: ${term.sexpr()}`);
    assert.is(n.size(), width);
    assert.ok(await valid(Z, b.resize(n, 72).eq(term)), `zero-extends back: ${term.sexpr()}`);
    // resize to a width the narrow term fits: no truncation of a 72-bit term left.
    assert.ok(await valid(Z, b.resize(term, 32).eq(term.extract(31, 0))));
    assert.not.match(b.resize(term, 32).sexpr(), /extract/);
  }
  // Not narrowed: values that may use the high bits.
  assert.is(b.unsignedNarrow(wide(port).sub(b.val(1, 72))), undefined);
  assert.is(b.unsignedNarrow(b.ite(c, wide(port), b.named("narrow.any", 72))), undefined);
});

test.run();
