/** The NAT's flags on the built binaries: each kind of bad flag is one line naming it, exit code 2, no packet processed. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { execa } from "execa";
import { writePcapng } from "../dsl/pcapng.ts";
import { buildNf, tempDir } from "./lib/build.ts";
import { frame, ipv4 } from "./lib/packets.ts";

const GOOD = ["--wan", "0", "--external-ip", "192.0.2.1"];
const CASES: [string, string[], RegExp][] = [
  ["start port out of range", ["--start-port", "70000"], /--start-port: .*70000.*out of range/],
  ["max flows zero (below its declared min)", ["--max-flows", "0"], /--max-flows: .*out of range/],
  ["malformed number", ["--start-port", "12ab"], /--start-port/],
  ["malformed IPv4", ["--external-ip", "192.0.2.300"], /--external-ip/],
  ["malformed MAC", ["--eth-dest", "1,02:00:00:00:00"], /--eth-dest/],
  ["per-device flag naming a missing device", ["--eth-dest", "7,02:00:00:00:00:07"], /--eth-dest: .*7/],
  ["wan device that does not exist", ["--wan", "5"], /--wan: .*5/],
  ["duration with an unknown unit", ["--expiration", "10m"], /--expiration: .*unit/],
  ["duration zero (below its declared min)", ["--expiration", "0s"], /--expiration/],
  ["constraint start-port + max-flows <= 65536", ["--start-port", "2000", "--max-flows", "65000"], /startPort \+ c\.maxFlows <= 65536/],
  ["unknown flag", ["--bogus", "1"], /--bogus: unknown flag/],
  ["missing value", ["--start-port"], /--start-port/],
  ["flag given twice", ["--start-port", "1", "--start-port", "2"], /--start-port/],
];

test("bad NAT flags: one line, exit 2, no output written", async () => {
  const binary = await buildNf("nfs/nat.ts", "trace");
  const dir = tempDir("flags");
  const input = path.join(dir, "in.pcapng");
  fs.writeFileSync(input, writePcapng(2, [{ device: 1, timeNs: 1n, data: frame({ srcIp: ipv4(10, 0, 0, 1), dstIp: ipv4(1, 1, 1, 1), protocol: 17 }) }]));
  for (const [name, flags, expected] of CASES) {
    const output = path.join(dir, `out-${name.replace(/\W+/g, "-")}.pcapng`);
    const args = [...GOOD.filter((_, i) => !flags.includes(GOOD[i - (i % 2)]!)), ...flags];
    const r = await execa(binary, [input, output, ...args], { reject: false, timeout: 10_000 });
    assert.is(r.exitCode, 2, `${name}: exit ${r.exitCode}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.is(lines.length, 1, `${name}: ${r.stderr}`);
    assert.match(lines[0]!, expected, name);
    assert.not.ok(fs.existsSync(output) && fs.statSync(output).size > 0, `${name}: output written`);
  }
  const missing = await execa(binary, [input, path.join(dir, "o.pcapng"), "--wan", "0"], { reject: false });
  assert.is(missing.exitCode, 2);
  assert.match(missing.stderr, /--external-ip: required/);
  const ok = await execa(binary, [input, path.join(dir, "ok.pcapng"), ...GOOD], { reject: false });
  assert.is(ok.exitCode, 0, ok.stderr);
  fs.rmSync(dir, { recursive: true });
});

test("the DPDK NAT rejects a bad flag with exit 2 before processing", async () => {
  const binary = await buildNf("nfs/nat.ts", "dpdk");
  const eal = ["--no-huge", "--no-pci", "-m", "128", "--no-shconf", "--no-telemetry", "--log-level", "error", "--vdev=net_null0,no-rx=1", "--vdev=net_null1,no-rx=1"];
  const r = await execa(binary, [...eal, "--", "--wan", "0", "--external-ip", "300.1.1.1"], { reject: false, timeout: 30_000 });
  assert.is(r.exitCode, 2, r.stderr);
  assert.match(r.stderr, /error: --external-ip/);
});

test.run();
