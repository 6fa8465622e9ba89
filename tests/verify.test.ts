/**
 * vigorc verify: NOP and NAT proven (NAT: reference spec with checksums, every property, the
 * checksum lemmas); wrong NFs and wrong specs disproven with counterexamples (exit 1); bad input is
 * a located error with exit 2; `vigorc new` scaffolds an NF and a spec that verify.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { execa } from "execa";
import { ROOT } from "./lib/build.ts";
import { writeMutant, type Edit } from "./lib/mutants.ts";
import { compileNf } from "../compiler/frontend/index.ts";
import { Prover } from "../compiler/verifier/prove.ts";
import { z3 } from "../compiler/verifier/z3.ts";

// Generous timeouts: the NAT takes seconds on an idle machine, minutes on a loaded shared one.
const vigorc = (args: string[], cwd = ROOT, env: Record<string, string> = {}) => execa("node", [path.join(ROOT, "bin/vigorc.js"), ...args], { cwd, reject: false, timeout: 900_000, env });

interface JsonReport {
  nf: string;
  proven: boolean;
  stages: { name: string; proven: boolean; goals: { proven: number; total: number } }[];
}
function specStage(stdout: string): JsonReport["stages"][number] {
  const report = JSON.parse(stdout) as JsonReport;
  const spec = report.stages.find((s) => s.name === "spec");
  assert.ok(spec, "a stage named spec");
  return spec;
}

test("NOP is proven against specs/nop.spec.ts (--json shape)", async () => {
  const r = await vigorc(["verify", "nfs/nop.ts", "--no-c", "--json"]);
  assert.is(r.exitCode, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { nf: string; proven: boolean; stages: { name: string; proven: boolean; goals: { proven: number; total: number } }[] };
  assert.is(report.nf, "nop");
  assert.ok(report.proven);
  const spec = report.stages.find((s) => s.name === "spec");
  assert.ok(spec && spec.proven && spec.goals.total > 0 && spec.goals.proven === spec.goals.total);
});

test("a z3 WebAssembly trap reruns verify in a fresh process; a trap in every run is an internal error (exit 3)", async () => {
  const once = await execa("node", [path.join(ROOT, "bin/vigorc.js"), "verify", "nfs/nop.ts", "--no-c", "--json"], { cwd: ROOT, reject: false, timeout: 300_000, env: { VIGORC_INJECT_Z3_TRAP: "once" } });
  assert.is(once.exitCode, 0, once.stderr);
  assert.match(once.stderr, /z3 \(WebAssembly\) crashed .*verifying again in a fresh process \(run 2 of 3\)/);
  assert.ok(specStage(once.stdout).proven);
  const always = await execa("node", [path.join(ROOT, "bin/vigorc.js"), "verify", "nfs/nop.ts", "--no-c", "--json"], { cwd: ROOT, reject: false, timeout: 300_000, env: { VIGORC_INJECT_Z3_TRAP: "always" } });
  assert.is(always.exitCode, 3, always.stderr);
  assert.match(always.stderr, /internal error: z3 \(WebAssembly\) crashed in 3 runs out of 3/);
  assert.is(always.stdout, "");
});

test("a goal is checked with the facts about what it mentions, and again with every fact before it counts as violated", async () => {
  const prover = new Prover(await z3(), compileNf(path.join(ROOT, "nfs/nop.ts")).module!);
  const [p] = await prover.run();
  const b = prover.b;
  // A fact naming a fresh constant the goals do not mention: left out of the first attempt.
  const x = b.fresh("x", 64);
  prover.inputs.facts.assume(b.and(x.eq(b.val(3, 64)), prover.inputs.time.eq(x)));
  const goal = (t: number) => ({ group: "test", path: p!, cond: prover.inputs.time.eq(b.val(t, 64)), message: `time is ${t}` });
  assert.is(await prover.refute(goal(3)), undefined, "proven with every fact (without the fact it is violated)");
  const m = await prover.refute(goal(4));
  assert.ok(m, "time 4 is refuted");
  assert.is(m.eval(prover.inputs.time.eq(b.val(3, 64))).toString(), "true", "the model satisfies the left-out fact");
});

test("a NOP that sends frames back out of their input device is disproven", async () => {
  const r = await vigorc(["verify", "tests/fixtures/verify/nop-reflects.ts", "--spec", "specs/nop.spec.ts", "--no-c"]);
  assert.is(r.exitCode, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /COUNTEREXAMPLE/);
  assert.match(r.stdout, /the NF: forward to device 0/);
  assert.match(r.stdout, /the spec expects: forward to device 1/);
});

test("two processes check the paths side by side: same verdicts, counterexamples through the helper, a helper that dies loses no goal", async () => {
  const two = { VIGORC_VERIFY_WORKERS: "2", VIGORC_VERIFY_HELPERS_ONLY: "1" };
  const proven = await vigorc(["verify", "nfs/nop.ts", "--no-c"], ROOT, two);
  assert.is(proven.exitCode, 0, proven.stdout + proven.stderr);
  assert.match(proven.stdout, /PROVEN — 5\/5 goals over 3 paths/);
  for (const p of [1, 2, 3]) assert.match(proven.stderr, new RegExp(`path ${p}: .*\\(process 2\\)`), "the helper checked every path");
  const wrong = await vigorc(["verify", "tests/fixtures/verify/nop-reflects.ts", "--spec", "specs/nop.spec.ts", "--no-c"], ROOT, two);
  assert.is(wrong.exitCode, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stdout, /the NF: forward to device 0/);
  assert.match(wrong.stdout, /the spec expects: forward to device 1/);
  const dies = await vigorc(["verify", "nfs/nop.ts", "--no-c"], ROOT, { ...two, VIGORC_INJECT_HELPER_CRASH: "1" });
  assert.is(dies.exitCode, 0, dies.stdout + dies.stderr);
  assert.match(dies.stdout, /PROVEN — 5\/5 goals over 3 paths/);
  assert.not.match(dies.stderr, /\(process 2\)/, "this process checked every path");
});

test("an unknown property name is bad input: exit 2 naming the declared ones", async () => {
  const r = await vigorc(["verify", "nfs/nat.ts", "--property", "noSuchThing", "--no-c"]);
  assert.is(r.exitCode, 2);
  assert.match(r.stderr, /unknown property 'noSuchThing'.*wanNeverAllocates/);
});

test("NAT is proven: reference spec (checksums included), every property, the checksum lemmas", async () => {
  // The JSON and the human report, side by side (each run is single-threaded; CI has 2 cores).
  const [r, human] = await Promise.all([vigorc(["verify", "nfs/nat.ts", "--no-c", "--json"]), vigorc(["verify", "nfs/nat.ts", "--no-c"])]);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  const spec = specStage(r.stdout);
  assert.ok(spec.proven);
  assert.ok(spec.goals.total > 0);
  assert.is(spec.goals.proven, spec.goals.total);
  // The human report names every group, the checksum lemmas among them, and prints progress.
  assert.is(human.exitCode, 0, human.stdout + human.stderr);
  assert.match(human.stderr, /explored \d+ paths of nat/);
  for (const p of ["unsolicitedWanDropped", "spoofedRepliesDropped", "wanNeverAllocates", "validRepliesTranslatedBack", "newFlowAllocatedWhenRoom", "knownFlowsRefreshed", "untranslatedKeepState", "dropsChangeNothing", "outputNeverInput"]) {
    assert.match(human.stdout, new RegExp(`✓ property ${p} \\(`));
  }
  assert.match(human.stdout, /✓ reference spec specs\/nat\.spec\.ts/);
  assert.match(human.stdout, /✓ checksum arithmetic .* lemmas \(4\/4/);
});

test("one NAT property on its own is checked without the reference spec", async () => {
  const r = await vigorc(["verify", "nfs/nat.ts", "--no-c", "--property", "wanNeverAllocates"]);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✓ property wanNeverAllocates/);
  assert.not.match(r.stdout, /reference spec/);
});

/** Wrong specs: specs/nat.spec.ts demanding behaviour the NAT rightly lacks (mutants written at test time). */
const WRONG_SPECS: { name: string; what: string; expects: "forward" | "drop"; edits: Edit[] }[] = [
  {
    name: "nat-spec-forwards-spoofed",
    what: "replies forwarded even when spoofed",
    expects: "forward",
    edits: [["  if (ip.src !== f.dstIp || srcPort !== f.dstPort || ip.protocol !== f.protocol) return drop(unchanged);\n", ""]],
  },
  {
    name: "nat-spec-other-port-mapping",
    what: "a different port mapping",
    expects: "forward",
    edits: [["      l4: { srcPort: cfg.startPort + added.index },", "      l4: { srcPort: cfg.startPort + added.index + 1 },"]],
  },
  {
    // The spec's comparison and index of two u16 fields are taken in 16 bits, like the NF's
    // (spec-interp.ts compare, index): an off-by-one there must still be seen.
    name: "nat-spec-drops-first-port",
    what: "a reply to the first external port dropped",
    expects: "drop",
    edits: [["  if (dstPort < cfg.startPort) return drop(unchanged);", "  if (dstPort <= cfg.startPort) return drop(unchanged);"]],
  },
];

for (const { name, what, expects, edits } of WRONG_SPECS) {
  test(`a NAT spec that demands ${what} is disproven with a counterexample`, async () => {
    const spec = writeMutant("specs/nat.spec.ts", "wrong-specs", name, `demands ${what}`, edits);
    const r = await vigorc(["verify", "nfs/nat.ts", "--spec", spec, "--property", "outputNeverInput", "--no-c", "--out", fs.mkdtempSync("/tmp/vigorc-cx-")]);
    assert.is(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✗ reference spec/);
    assert.match(r.stdout, /COUNTEREXAMPLE/);
    assert.match(r.stdout, new RegExp(`the spec expects: ${expects}`));
    assert.match(r.stdout, /✓ property outputNeverInput/);
  });
}

for (const [fixture, line, message] of [
  ["nat-spec-type-error", 6, /Type 'string' is not assignable/],
  ["nat-spec-unknown-state", 6, /Property 'sessions' does not exist/],
] as const) {
  test(`bad spec ${fixture}: a located error naming the spec file and line, exit 2`, async () => {
    const r = await vigorc(["verify", "nfs/nat.ts", "--spec", `tests/fixtures/verify/${fixture}.ts`, "--no-c"]);
    assert.is(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`tests/fixtures/verify/${fixture}\\.ts:${line}:\\d+`));
    assert.match(r.stderr, message);
  });
}

test("vigorc new writes an NF and a spec that verifies against it", async () => {
  const dir = fs.mkdtempSync("/tmp/vigorc-new-");
  fs.symlinkSync(path.join(ROOT, "dsl"), path.join(dir, "dsl"));
  fs.mkdirSync(path.join(dir, "specs"));
  fs.symlinkSync(path.join(ROOT, "specs/lib"), path.join(dir, "specs/lib"));
  const made = await vigorc(["new", "mynf"], dir);
  assert.is(made.exitCode, 0, made.stderr);
  assert.match(made.stdout, /specs\/mynf\.spec\.ts/);
  const r = await vigorc(["verify", "nfs/mynf.ts", "--no-c", "--json"], dir);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  const spec = specStage(r.stdout);
  assert.ok(spec.proven && spec.goals.total > 0 && spec.goals.proven === spec.goals.total);
  fs.rmSync(dir, { recursive: true });
});

test.run();
