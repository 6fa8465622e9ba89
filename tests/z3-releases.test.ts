/**
 * z3-solver releases a term when its JS object is garbage collected (a FinalizationRegistry calls
 * Z3's dec_ref on the main thread), while an async check runs on a worker thread over the same
 * context: compiler/verifier/z3.ts defers those releases until no check is in flight (the cause of
 * the "memory access out of bounds" traps). Claim: a release that comes during a check is deferred,
 * and every deferred release has run once the check is over. Without the deferral, releasesDeferred
 * stays 0 and the test fails.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execa } from "execa";
import { ROOT } from "./lib/build.ts";

const SCRIPT = `
import { z3, pendingReleases } from ${JSON.stringify(path.join(ROOT, "compiler/verifier/z3.ts"))};
import * as zmod from ${JSON.stringify(path.join(ROOT, "compiler/verifier/z3.ts"))};
const Z = await z3();
const x = Z.BitVec.const("x", 48);
const y = Z.BitVec.const("y", 48);
const s = new Z.Solver();
// Factoring a 24-bit prime: unsat, and slow enough (bit-blasted multiplication) to collect garbage meanwhile.
s.add(x.mul(y).eq(Z.BitVec.val(16777213n, 48)), x.ugt(1), y.ugt(1), x.ult(1 << 24), y.ult(1 << 24));
let garbage = [];
for (let i = 0; i < 20000; i++) garbage.push(x.add(Z.BitVec.val(BigInt(i), 48)));
const during = [];
const checking = s.check().then((r) => { during.push("done"); return r; });
garbage = [];
for (let i = 0; i < 20 && during.length === 0; i++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 50));
}
const deferredDuring = zmod.releasesDeferred;
const result = await checking;
console.log(JSON.stringify({ result, deferredDuring, checkStillRan: during.length, pendingAfter: pendingReleases() }));
process.exit(0);
`;

/** Runs a script in a fresh process with the garbage collector exposed; returns its last line, parsed. */
async function runWithGc<T>(name: string, script: string): Promise<T> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vigorc-z3-")), `${name}.mts`);
  fs.writeFileSync(file, script);
  const r = await execa("node", ["--expose-gc", "--import", "tsx", file], { cwd: ROOT, reject: false, timeout: 300_000 });
  assert.is(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as T;
}

test("releases of garbage-collected terms wait while a check runs, and run after it", async () => {
  const out = await runWithGc<{ result: string; deferredDuring: number; pendingAfter: number }>("releases", SCRIPT);
  assert.is(out.result, "unsat");
  assert.ok(out.deferredDuring > 0, `releases deferred during the check: ${out.deferredDuring}`);
  assert.is(out.pendingAfter, 0, "every deferred release ran after the check");
});

/**
 * Z3 gives a freed term's id to the next new term (measured: about half of 2,000 new terms took
 * ids of 2,000 freed ones). Claim: the verifier's maps keyed by term id (TermMap) hold their keys,
 * so a new term never finds a freed term's entry: here, Bits.resize narrowing a new 72-bit sum
 * back to 16 bits must truncate it, not return the 16-bit term a freed zero-extension extended.
 * With a plain Map<id, term> this fails (a new term gets a freed extension's id).
 */
const REUSE_SCRIPT = `
import { z3, Bits } from ${JSON.stringify(path.join(ROOT, "compiler/verifier/z3.ts"))};
const Z = await z3();
const b = new Bits(Z);
const narrow = [];
for (let i = 0; i < 2000; i++) narrow.push(b.named("n" + i, 16));
(() => { for (const n of narrow) b.resize(n, 72); })(); // the extensions themselves are dropped
for (let r = 0; r < 5; r++) {
  globalThis.gc();
  await new Promise((res) => setTimeout(res, 50));
}
const z = b.named("z", 72);
let stale = 0;
for (let i = 0; i < 4000; i++) {
  const r = b.resize(z.add(b.val(i + 1, 72)), 16);
  if (narrow.some((n) => n.eqIdentity(r))) stale++;
}
console.log(JSON.stringify({ stale }));
process.exit(0);
`;

test("a term freed by Z3 leaves no entry for the new term that takes its id", async () => {
  const out = await runWithGc<{ stale: number }>("reuse", REUSE_SCRIPT);
  assert.is(out.stale, 0, "narrowed terms that belong to freed terms");
});

test.run();
