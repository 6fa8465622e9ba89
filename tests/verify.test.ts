/** vigorc verify on NOP: proven; a wrong NOP disproven with a counterexample; bad input is exit 2. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as path from "node:path";
import { execa } from "execa";
import { ROOT } from "./lib/build.ts";

const vigorc = (args: string[]) => execa("node", [path.join(ROOT, "bin/vigorc.js"), ...args], { cwd: ROOT, reject: false, timeout: 120_000 });

test("NOP is proven against specs/nop.spec.ts (--json shape)", async () => {
  const r = await vigorc(["verify", "nfs/nop.ts", "--no-c", "--json"]);
  assert.is(r.exitCode, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { nf: string; proven: boolean; stages: { name: string; proven: boolean; goals: { proven: number; total: number } }[] };
  assert.is(report.nf, "nop");
  assert.ok(report.proven);
  const spec = report.stages.find((s) => s.name === "spec");
  assert.ok(spec && spec.proven && spec.goals.total > 0 && spec.goals.proven === spec.goals.total);
});

test("a NOP that sends frames back out of their input device is disproven", async () => {
  const r = await vigorc(["verify", "tests/fixtures/verify/nop-reflects.ts", "--spec", "specs/nop.spec.ts", "--no-c"]);
  assert.is(r.exitCode, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /COUNTEREXAMPLE/);
  assert.match(r.stdout, /the NF: forward to device 0/);
  assert.match(r.stdout, /the spec expects: forward to device 1/);
});

test("an unknown property name is bad input: exit 2 naming the declared ones", async () => {
  const r = await vigorc(["verify", "nfs/nat.ts", "--property", "noSuchThing", "--no-c"]);
  assert.is(r.exitCode, 2);
  assert.match(r.stderr, /unknown property 'noSuchThing'.*wanNeverAllocates/);
});

test.run();
