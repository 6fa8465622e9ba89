/**
 * Programs outside the DSL: each fixture in tests/fixtures/frontend/ starts with
 * `// expect <code> line <n>` and must be rejected with that diagnostic at that line.
 * The shipped NFs must be accepted.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { execa } from "execa";
import { compileNf, formatDiagnostic } from "../compiler/frontend/index.ts";
import { MAP_KEY_MAX_BYTES } from "../compiler/frontend/lower.ts";
import { ROOT } from "./lib/build.ts";

const DIR = path.join(ROOT, "tests/fixtures/frontend");
const fixtures = fs.readdirSync(DIR).filter((f) => f.endsWith(".ts")).sort();

test("there are at least 15 rejected programs", () => {
  assert.ok(fixtures.length >= 15, `${fixtures.length} fixtures`);
});

for (const f of fixtures) {
  test(`rejects ${f}`, () => {
    const file = path.join(DIR, f);
    const header = /^\/\/ expect (\S+) line (\d+)/.exec(fs.readFileSync(file, "utf8"));
    assert.ok(header, `${f} lacks its '// expect CODE line N' header`);
    const [, code, line] = header!;
    const r = compileNf(file);
    assert.is(r.module, undefined, `${f} was accepted`);
    const hit = r.diagnostics.find((d) => d.code === code && d.line === Number(line));
    assert.ok(hit, `${f}: expected ${code} at line ${line}, got:\n${r.diagnostics.map((d) => formatDiagnostic(d)).join("\n")}`);
    assert.ok(hit!.column >= 1 && hit!.sourceLine !== undefined && hit!.sourceLine.length > 0, "diagnostic shows the offending code");
    if (code!.startsWith("VIG")) assert.ok(hit!.hint || hit!.message.length > 20, "VIG diagnostics say what to write instead");
  });
}

for (const nf of ["nfs/nop.ts", "nfs/nat.ts"]) {
  test(`accepts ${nf}`, () => {
    const r = compileNf(path.join(ROOT, nf));
    assert.equal(r.diagnostics.map((d) => formatDiagnostic(d)), []);
    assert.ok(r.module);
  });
}

test("vigorc check: exit 2 and a tsc-style located message, no stack trace", async () => {
  const r = await execa("node", [path.join(ROOT, "bin/vigorc.js"), "check", "tests/fixtures/frontend/recursion.ts"], { cwd: ROOT, reject: false });
  assert.is(r.exitCode, 2);
  assert.match(r.stderr, /^tests\/fixtures\/frontend\/recursion\.ts:\d+:\d+ - error VIG1015: recursion/m);
  assert.match(r.stderr, /hint: /);
  assert.not.match(r.stderr, /at .*\.ts:\d+:\d+\)/);
});

test("vigorc check accepts the NAT with exit 0", async () => {
  const r = await execa("node", [path.join(ROOT, "bin/vigorc.js"), "check", "nfs/nat.ts"], { cwd: ROOT, reject: false });
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /nat\.ts: ok/);
});

test("vigorc new scaffolds an NF that checks", async () => {
  const dir = fs.mkdtempSync("/tmp/vigorc-new-");
  fs.symlinkSync(path.join(ROOT, "dsl"), path.join(dir, "dsl"));
  const r = await execa("node", [path.join(ROOT, "bin/vigorc.js"), "new", "mynf"], { cwd: dir, reject: false });
  assert.is(r.exitCode, 0, r.stderr);
  const c = compileNf(path.join(dir, "nfs/mynf.ts"));
  assert.equal(c.diagnostics.map((d) => formatDiagnostic(d)), []);
  const again = await execa("node", [path.join(ROOT, "bin/vigorc.js"), "new", "mynf"], { cwd: dir, reject: false });
  assert.is(again.exitCode, 2);
  fs.rmSync(dir, { recursive: true });
});

test.run();

test("the frontend's key limit is runtime-c's map slot key size", () => {
  const header = fs.readFileSync(path.join(ROOT, "runtime-c/structures/map.h"), "utf8");
  const m = /#define VIG_MAP_KEY_MAX (\d+)u/.exec(header);
  assert.ok(m, "map.h defines VIG_MAP_KEY_MAX");
  assert.is(Number(m![1]), MAP_KEY_MAX_BYTES);
});
