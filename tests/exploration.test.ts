/**
 * The symbolic executor asks at every branch whether each side is feasible; compiler/verifier/prove.ts
 * answers "feasible" from the model of an earlier feasible path when that model makes the facts and
 * the new path condition true, and asks the solver otherwise. Claims: the NAT's exploration finds
 * exactly the same paths (same branches taken, same actions) either way, and the models answer a
 * good share of the questions (so the solver is asked less). A reuse that wrongly said "feasible"
 * would add a path; one that pruned would lose one: either fails the first assertion.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as path from "node:path";
import { compileNf } from "../compiler/frontend/index.ts";
import { loadSpecFile } from "../compiler/frontend/spec.ts";
import { Prover } from "../compiler/verifier/prove.ts";
import { z3 } from "../compiler/verifier/z3.ts";
import { ROOT } from "./lib/build.ts";

async function explore(reuseModels: boolean): Promise<{ paths: string[]; checks: number; byModel: number }> {
  const nf = compileNf(path.join(ROOT, "nfs/nat.ts")).module;
  const spec = loadSpecFile(path.join(ROOT, "specs/nat.spec.ts")).spec;
  assert.ok(nf && spec, "the NAT and its spec compile");
  const prover = new Prover(await z3(), nf);
  prover.reuseModels = reuseModels;
  prover.setInvariants(spec.invariants);
  await prover.run();
  return { paths: prover.paths.map((p) => `${p.trail.join(" ")} -> ${p.action.kind}`), checks: prover.checks, byModel: prover.feasibleByModel };
}

test("reusing models finds the same NAT paths with fewer solver checks", async () => {
  const asked = await explore(false);
  const reused = await explore(true);
  assert.is(asked.byModel, 0);
  assert.ok(asked.paths.length >= 16, `the NAT has its paths (${asked.paths.length})`);
  assert.equal(reused.paths, asked.paths);
  assert.ok(reused.byModel > 0 && reused.checks + reused.byModel === asked.checks, `${reused.checks} checks + ${reused.byModel} by model = ${asked.checks}`);
  assert.ok(reused.checks <= asked.checks * 0.75, `${reused.checks} of ${asked.checks} questions still checked`);
});

test.run();
