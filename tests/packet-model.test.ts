/**
 * The verifier's packet terms (PacketModel in compiler/verifier/sym.ts) resolve reads through
 * stores while building terms. Claim: every resolved read equals the plain array read through all
 * the stores, for every packet and every value written (Z3 proves each equality valid); and the
 * reads the verifier relies on (fixed header offsets, L4 offset + constant) are actually resolved.
 * A store wrongly skipped ("different" when the offsets may meet) or wrongly taken fails the first.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PacketModel, type Arr } from "../compiler/verifier/sym.ts";
import { Bits, z3, type BV } from "../compiler/verifier/z3.ts";

test("resolved reads equal the plain reads through every store", async () => {
  const Z = await z3();
  const b = new Bits(Z);
  const pm = new PacketModel(Z, b);
  const input = Z.Array.const("packet", Z.BitVec.sort(16), Z.BitVec.sort(8)) as Arr;
  const l4 = pm.l4Offset(input);
  const anywhere = b.fresh("anywhere", 16);
  const cond = b.freshBool("cond");
  // Writes at every kind of offset: fixed (IPv4 checksum, inside the L4 range), L4 + k, unknown.
  const writes: { at: BV; n: number; guarded: boolean }[] = [
    { at: pm.c16(24), n: 2, guarded: false },
    { at: pm.at(l4, 0), n: 2, guarded: false },
    { at: pm.at(l4, 16), n: 2, guarded: true },
    { at: pm.c16(40), n: 1, guarded: false },
    { at: anywhere, n: 1, guarded: false },
    { at: pm.at(l4, 6), n: 2, guarded: true },
    { at: pm.c16(0), n: 6, guarded: false },
    { at: pm.at(l4, 2), n: 2, guarded: false },
  ];
  let resolved = input;
  let plain = input;
  for (const [i, w] of writes.entries()) {
    const value = b.fresh(`value${i}`, 8 * w.n);
    resolved = w.guarded ? pm.writeIf(resolved, cond, w.at, w.n, value) : pm.write(resolved, w.at, w.n, value);
    for (let j = 0; j < w.n; j++) {
      const at = w.at.add(b.val(j, 16));
      const hi = 8 * (w.n - j) - 1;
      const byte = value.extract(hi, hi - 7);
      plain = plain.store(at, w.guarded ? b.ite(cond, byte, plain.select(at) as BV) : byte) as Arr;
    }
  }
  const reads = [pm.c16(14), pm.c16(24), pm.c16(25), pm.c16(33), pm.c16(34), pm.c16(40), pm.c16(5), pm.at(l4, 1), pm.at(l4, 6), pm.at(l4, 17), pm.at(l4, 30), b.fresh("somewhere", 16)];
  const solver = new Z.Solver();
  for (const at of reads) {
    solver.push();
    solver.add(b.not(pm.byte(resolved, at).eq(plain.select(at) as BV)));
    assert.is(await solver.check(), "unsat", `read at ${at.toString()}`);
    solver.pop();
  }
  // Resolved, not left to the solver: bytes written after the store at an unknown offset, at a
  // fixed offset and at L4 + k (the reads the output-packet checks make), are the written terms.
  for (const at of [pm.c16(5), pm.at(l4, 3)]) assert.match(pm.byte(resolved, at).sexpr(), /^\(\(_ extract \d+ \d+\) value\d+!\d+\)$/, at.toString());
});

test.run();
