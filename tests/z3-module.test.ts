/**
 * compiler/verifier/z3.ts loads z3-solver's WebAssembly glue from a copy without its function-table
 * assertion (a debug check that cost ~1.7 s of solver-thread CPU per NAT run). Claims: the shipped
 * glue has that assertion exactly once (else the copy silently stops being made: this fails when a
 * new z3-solver changes it, so that the speed-up is looked at again); the loaded copy differs from
 * the shipped file in that line only; z3's solver threads run the copy (they load the module from
 * the factory's own file); and the copy solves (an unsat and a sat query give the same answers as
 * the shipped module).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execa } from "execa";
import { TABLE_ASSERTION, TABLE_ASSERTION_REMOVED, z3ModuleFiles } from "../compiler/verifier/z3.ts";
import { ROOT } from "./lib/build.ts";

test("the loaded z3 module is the shipped one with the table assertion removed, and nothing else", () => {
  const { shipped, loaded } = z3ModuleFiles();
  const text = fs.readFileSync(shipped, "utf8");
  assert.is(text.split(TABLE_ASSERTION).length, 2, "z3-solver's glue has the assertion exactly once");
  assert.is.not(loaded, shipped);
  assert.is(fs.readFileSync(loaded, "utf8"), text.replace(TABLE_ASSERTION, TABLE_ASSERTION_REMOVED));
});

// A child process per module: one z3 context per process. It prints the answers and the scripts
// z3's threads were started from (emscripten starts each with node's worker_threads.Worker).
const SCRIPT = `
import { createRequire } from "node:module";
const workerThreads = createRequire(import.meta.url)("node:worker_threads");
const scripts = new Set();
const Worker = workerThreads.Worker;
workerThreads.Worker = class extends Worker {
  constructor(file, options) {
    scripts.add(String(file));
    super(file, options);
  }
};
const { z3 } = await import(${JSON.stringify(path.join(ROOT, "compiler/verifier/z3.ts"))});
const Z = await z3();
const x = Z.BitVec.const("x", 32);
const y = Z.BitVec.const("y", 32);
const answers = [];
for (const f of [x.mul(y).eq(Z.BitVec.val(221n, 32)).and(x.ugt(1)).and(y.ugt(1)).and(x.ult(256)).and(y.ult(256)), x.add(y).eq(x).and(y.neq(Z.BitVec.val(0n, 32)))]) {
  const s = new Z.Solver();
  s.add(f);
  answers.push(await s.check());
}
console.log(JSON.stringify({ answers, scripts: [...scripts] }));
`;

async function run(asShipped: boolean): Promise<{ answers: string[]; scripts: string[] }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vigorc-z3-module-")), "threads.mts");
  fs.writeFileSync(file, SCRIPT);
  const r = await execa("node", ["--import", "tsx", file], {
    cwd: ROOT,
    env: { VIGORC_Z3_AS_SHIPPED: asShipped ? "1" : "0" },
    timeout: 60_000,
  });
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { answers: string[]; scripts: string[] };
}

test("z3's threads run the copy, and it answers as the shipped module does", async () => {
  const { shipped, loaded } = z3ModuleFiles();
  const [copy, asShipped] = await Promise.all([run(false), run(true)]);
  assert.equal(copy.answers, ["sat", "unsat"]);
  assert.equal(asShipped.answers, copy.answers);
  assert.ok(copy.scripts.length > 0, "z3 started threads");
  assert.equal(new Set(copy.scripts.map((s) => s.replace(/^file:\/\//, ""))), new Set([loaded]));
  assert.equal(new Set(asShipped.scripts.map((s) => s.replace(/^file:\/\//, ""))), new Set([shipped]));
});

test.run();
