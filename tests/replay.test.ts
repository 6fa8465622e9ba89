/**
 * Wrong NATs are rejected by `vigorc verify`, and `vigorc replay` reproduces each counterexample on
 * the variant's compiled trace binary (started in the counterexample's prior state); the same
 * counterexamples do not reproduce on the correct NAT; bad input to replay is exit 2.
 *
 * The variants (tests/lib/wrong-nats.ts: mutants of nfs/nat.ts written at test time) are verified
 * two at a time; the trace binaries are
 * built once per NF into one build directory shared by every replay of this process.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { execa } from "execa";
import { main } from "../compiler/cli/main.ts";
import { compileNf } from "../compiler/frontend/index.ts";
import { ROOT, tempDir } from "./lib/build.ts";
import { WRONG_NATS, wrongNatFile } from "./lib/wrong-nats.ts";

const VARIANTS = WRONG_NATS.map((v) => v.name);

/**
 * How the variants are verified. The reference spec's goals are slow on NAT under load (see
 * compiler/verifier/README.md), so the variants are rejected through the obligations and the NAT
 * properties, except those no property catches, which are verified against the reference spec
 * alone; VIGORC_REPLAY_WITH_SPEC=1 verifies every variant against both.
 */
const WITH_SPEC = process.env["VIGORC_REPLAY_WITH_SPEC"] === "1";
/** Only the reference spec says what these break (e.g. that a full table drops new flows). */
const SPEC_ONLY = new Set(["full-table-borrows-port"]);
function verifyArgs(variant: string): string[] {
  if (WITH_SPEC) return ["--spec", "specs/nat.spec.ts", "--property", "specs/nat.properties.ts"];
  return SPEC_ONLY.has(variant) ? ["--spec", "specs/nat.spec.ts"] : ["--property", "specs/nat.properties.ts"];
}

const work = tempDir("replay");
const buildDir = path.join(work, "bin");
const VERIFY_TIMEOUT_MS = 600_000;

const vigorc = (args: string[], timeout = 300_000) => execa("node", [path.join(ROOT, "bin/vigorc.js"), ...args], { cwd: ROOT, reject: false, timeout });
/** `vigorc replay` through the CLI (a process: exit code and streams as a user sees them). */
const replayCli = (nf: string, cx: string) => vigorc(["replay", nf, cx, "--build-dir", buildDir]);

/**
 * `vigorc replay` in this process (the CLI's main, its console output captured): the same code
 * path without a node + TypeScript start-up per replay. Replays run one at a time.
 */
async function replay(nf: string, cx: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.map(String).join(" "));
  console.error = (...a: unknown[]) => void err.push(a.map(String).join(" "));
  try {
    const exitCode = await main(["replay", path.resolve(ROOT, nf), path.resolve(ROOT, cx), "--build-dir", buildDir]);
    return { exitCode, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

interface Verified {
  exitCode: number | undefined;
  output: string;
  /** Counterexample files written, by group (file name order). */
  counterexamples: string[];
}

/** Runs jobs at most `limit` at a time (the machine has 2 cores shared with other work). */
function limiter(limit: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((go) => queue.push(go));
    running++;
    try {
      return await job();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}
const slot = limiter(2);

const verified = new Map<string, Promise<Verified>>();
function verifyVariant(name: string): Promise<Verified> {
  let p = verified.get(name);
  if (!p) {
    p = slot(async () => {
      const out = path.join(work, name);
      const r = await vigorc(["verify", wrongNatFile(name), ...verifyArgs(name), "--no-c", "--out", out], VERIFY_TIMEOUT_MS);
      const files = fs.existsSync(out) ? fs.readdirSync(out).filter((f) => f.endsWith(".json")).sort().map((f) => path.join(out, f)) : [];
      return { exitCode: r.exitCode, output: `${r.stdout}\n${r.stderr}`, counterexamples: files };
    });
    verified.set(name, p);
  }
  return p;
}

// Start every verification now (two at a time, the slowest first) so the tests below mostly wait for results.
const active = [...VARIANTS.filter((v) => SPEC_ONLY.has(v)), ...VARIANTS.filter((v) => !SPEC_ONLY.has(v))];
for (const v of active) void verifyVariant(v);

test("there are at least 12 wrong NATs, each saying what its one bug is, and each compiles", () => {
  assert.ok(new Set(VARIANTS).size >= 12, `only ${new Set(VARIANTS).size} distinct variants`);
  for (const v of WRONG_NATS) {
    assert.ok(v.bug.length > 20 && v.edits.length > 0, `${v.name}: no bug description or no edit`);
    const fe = compileNf(wrongNatFile(v.name));
    assert.equal(fe.diagnostics.map((d) => d.message), [], `${v.name} does not compile`);
  }
});

for (const v of VARIANTS) {
  test(`${v}: verify rejects it and replay reproduces its counterexamples on the trace binary`, async () => {
    const r = await verifyVariant(v);
    assert.is(r.exitCode, 1, `verify should disprove ${v}:\n${r.output}`);
    assert.ok(r.counterexamples.length > 0, `no counterexample file:\n${r.output}`);
    let reproduced = 0;
    const log: string[] = [];
    for (const cx of r.counterexamples) {
      assert.ok(fs.existsSync(cx.replace(/\.json$/, ".pcapng")), `${cx}: no pcapng next to it`);
      const rep = await replay(wrongNatFile(v), cx);
      log.push(`${path.basename(cx)}: exit ${rep.exitCode}\n${rep.stdout}\n${rep.stderr}`);
      if (rep.exitCode === 0) {
        // Only a model the binary cannot mirror may fail to reproduce (replay says so).
        assert.match(rep.stdout, /^NOT REPRODUCIBLE: .*a verifier abstraction/m, log.at(-1));
        continue;
      }
      assert.is(rep.exitCode, 1, log.at(-1));
      assert.match(rep.stdout, /^REPRODUCED: /m);
      assert.match(rep.stdout, /the binary: (drop|flood|forward to device \d+)/);
      reproduced++;
    }
    assert.ok(reproduced >= 1, `no counterexample of ${v} reproduced:\n${log.join("\n")}`);
  });
}

/**
 * Without the reference spec, verify does not assume its invariant (no flow on the WAN device), so
 * some property counterexamples start from states no NAT reaches; the correct NAT "fails" on those
 * too. Only counterexamples whose prior state satisfies the invariant are replayed on it.
 */
function reachableByNat(file: string): boolean {
  const cx = JSON.parse(fs.readFileSync(file, "utf8")) as { config: { wan?: string }; state: Record<string, { entries: { key: { device?: string } }[] }> };
  return Object.values(cx.state).every((t) => t.entries.every((e) => e.key.device !== cx.config.wan));
}

test("the same counterexamples do not reproduce on the correct NAT (so replay can say no)", async () => {
  let replayed = 0;
  for (const v of active) {
    const r = await verifyVariant(v);
    for (const cx of r.counterexamples) {
      if (!reachableByNat(cx)) continue;
      const rep = await replay("nfs/nat.ts", cx);
      if (rep.exitCode === 2 && /refuses this counterexample/.test(rep.stderr)) {
        // A configuration the correct NAT's constraint rejects (the start-port-overflow variant's).
        assert.match(rep.stderr, /configuration constraint violated/, rep.stderr);
        continue;
      }
      assert.is(rep.exitCode, 0, `${v}: ${path.basename(cx)} must not reproduce on nfs/nat.ts:\n${rep.stdout}\n${rep.stderr}`);
      assert.match(rep.stdout, /^NOT REPRODUC(ED|IBLE): /m);
      replayed++;
    }
  }
  console.log(`  ${replayed} counterexamples of the wrong NATs replayed on nfs/nat.ts: none reproduced`);
  assert.ok(replayed >= 5, `only ${replayed} counterexamples replayed on the correct NAT`);
});

/** The hand-written counterexample: a valid reply to flow 2 (device 1); flow 0 older; index 1 free; one filler. */
const VALID_REPLY = path.join(ROOT, "tests/fixtures/nat-wrong/cx/valid-reply.json");

test("spec expectations: a valid reply is translated back by nfs/nat.ts (not reproduced), sent to the WAN by a wrong NAT (reproduced)", async () => {
  const ok = await replay("nfs/nat.ts", VALID_REPLY);
  assert.is(ok.exitCode, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^NOT REPRODUCED: the compiled binary does what the spec expects/m);
  assert.match(ok.stdout, /prior state seeded: 'flows': 2 entries as recorded \+ 1 filler \(size 3\), capacity 4/);
  assert.match(ok.stdout, /IPv4 8\.8\.8\.8 -> 192\.168\.0\.5 proto 17/);
  assert.match(ok.stdout, /\[2\] srcIp=192\.168\.0\.5 .* time 500/);
  const wrong = await replay(wrongNatFile("replies-to-wan-device"), VALID_REPLY);
  assert.is(wrong.exitCode, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stdout, /^REPRODUCED: the compiled binary violates the spec: action: forward to device 0 instead of forward to device 1/m);
});

/**
 * VALID_REPLY at time 1200: flow 0 (time 50) has expired (idle 1150 > 1000 ns), flow 2 (now at 300)
 * has not. The spec expects flow 0 gone, flow 2 refreshed and `sizeAfter` entries left; with
 * `sizeAfterExpiry`, the model's expiry leaves that many entries. Written as `name`.json.
 */
function expiredReply(name: string, sizeAfter: number, sizeAfterExpiry?: number): string {
  const cx = JSON.parse(fs.readFileSync(VALID_REPLY, "utf8")) as {
    time: string;
    state: { flows: { sizeAfterExpiry?: number; entries: { time: string }[] } };
    specExpected: { state: { flows: { size: number; at: Record<string, unknown> } } };
  };
  cx.time = "1200";
  cx.state.flows.entries[1]!.time = "300";
  if (sizeAfterExpiry !== undefined) cx.state.flows.sizeAfterExpiry = sizeAfterExpiry;
  const expected = cx.specExpected.state.flows;
  expected.size = sizeAfter;
  expected.at["0"] = null;
  (expected.at["2"] as { time: string }).time = "1200";
  const file = path.join(work, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(cx, null, 2));
  return file;
}

test("spec expectations on the state: an expired flow must be gone (missing-expiry keeps it: reproduced)", async () => {
  const file = expiredReply("expired", 2);
  const ok = await replay("nfs/nat.ts", file);
  assert.is(ok.exitCode, 0, ok.stdout + ok.stderr);
  const wrong = await replay(wrongNatFile("missing-expiry"), file);
  assert.is(wrong.exitCode, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stdout, /^REPRODUCED: .*'flows'\[0\] holds srcIp=192\.168\.0\.6 .* should be free/m);
});

test("entries nobody looked at that the model's expiry removes are seeded idle since time 0 (or NOT REPRODUCIBLE when no seeding can)", async () => {
  // The model's expiry also removes the filler entry: 1 of the 3 entries is left.
  const file = expiredReply("idle-filler", 1, 1);
  const ok = await replay("nfs/nat.ts", file);
  assert.is(ok.exitCode, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /prior state seeded: 'flows': 2 entries as recorded \+ 1 filler \(size 3; 1 of them idle since time 0, which expiry removes as in the model\)/);
  // The binary's expiry removed flow 0 and the filler: 1 entry left, as the spec expects.
  assert.match(ok.stdout, /state 'flows' after: 1 entry/);
  assert.match(ok.stdout, /^NOT REPRODUCED: the compiled binary does what the spec expects/m);
  const wrong = await replay(wrongNatFile("missing-expiry"), file);
  assert.is(wrong.exitCode, 1, wrong.stdout + wrong.stderr);
  assert.match(wrong.stdout, /^REPRODUCED: .*'flows' has 3 entries, not 1/m);

  // Two entries gone but only one filler to seed idle: no concrete table has this model's expiry.
  const impossible = await replay("nfs/nat.ts", expiredReply("idle-fillers-missing", 0, 0));
  assert.is(impossible.exitCode, 0, impossible.stdout + impossible.stderr);
  assert.match(impossible.stdout, /^NOT REPRODUCIBLE: in the verifier's model, expiry leaves 0 of the 3 entries of 'flows'; the 2 entries it looked at leave 1/m);
});

test("bad input to replay: missing file, malformed JSON, a counterexample of another NF: exit 2, located", async () => {
  const missing = await replayCli("nfs/nat.ts", path.join(work, "nope.json"));
  assert.is(missing.exitCode, 2);
  assert.match(missing.stderr, /nope\.json: no such file/);

  const broken = path.join(work, "broken.json");
  fs.writeFileSync(broken, '{\n  "nf": "nat",\n  "flags": [1, 2\n}\n');
  const bad = await replayCli("nfs/nat.ts", broken);
  assert.is(bad.exitCode, 2);
  assert.match(bad.stderr, /broken\.json:\d+:\d+: not valid JSON/);

  const notCx = path.join(work, "not-cx.json");
  fs.writeFileSync(notCx, '{\n  "nf": "nat",\n  "flags": []\n}\n');
  const wrongShape = await replayCli("nfs/nat.ts", notCx);
  assert.is(wrongShape.exitCode, 2);
  assert.match(wrongShape.stderr, /not-cx\.json:\d+:\d+: 'deviceCount'/);

  const any = (await verifyVariant(active[0]!)).counterexamples.find((f) => fs.readFileSync(f, "utf8").includes('"flows"'));
  if (any) {
    const other = await replayCli("nfs/nop.ts", any);
    assert.is(other.exitCode, 2);
    assert.match(other.stderr, /names table 'flows', which nop .* does not declare/);
  }

  const usage = await vigorc(["replay", "nfs/nat.ts"]);
  assert.is(usage.exitCode, 2);
  assert.match(usage.stderr, /usage: vigorc replay <nf\.ts> <counterexample\.json>/);
});

test.after(() => {
  if (!process.env["VIGORC_KEEP_TEST_FILES"]) fs.rmSync(work, { recursive: true, force: true });
});

test.run();
