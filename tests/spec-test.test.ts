/**
 * vigorc test: the compiled trace binary checked packet by packet against the spec executed
 * concretely. NAT and NOP agree with their specs on realistic captures; NATs with planted bugs
 * (mutations of nfs/nat.ts) disagree, and the report names the first packet the bug shows on;
 * bad input is exit 2.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { Packet } from "../dsl/packet.ts";
import { writePcapng } from "../dsl/pcapng.ts";
import { configFromFlags, NfInstance, type NfDefinition, type TracePacket } from "../dsl/runner.ts";
import { any, drop, flood, forward } from "../specs/lib/spec.ts";
import { BadInput } from "../compiler/verifier/verify.ts";
import { outputDifferences, specTest } from "../compiler/verifier/spec-test.ts";
import { ROOT, tempDir } from "./lib/build.ts";
import { frame, ipv4 } from "./lib/packets.ts";
import { mixedTraffic, natTraffic } from "./lib/traffic.ts";
import { writeMutant } from "./lib/mutants.ts";
import { SPOOF_CHECK, wrongNatFile } from "./lib/wrong-nats.ts";
import * as nat from "../nfs/nat.ts";

const vigorc = (args: string[]) => execa("node", [path.join(ROOT, "bin/vigorc.js"), ...args], { cwd: ROOT, reject: false, timeout: 120_000 });

// A small table (it fills up) with a short expiration (flows expire during the capture's pauses).
const NAT_FLAGS = ["--wan", "0", "--external-ip", "192.0.2.1", "--start-port", "1000", "--max-flows", "48", "--expiration", "3ms", "--eth-dest", "1,02:bb:00:00:00:01"];
const DEVICES = 3;
const natDef = nat as unknown as NfDefinition;
const natConfig = configFromFlags(natDef, NAT_FLAGS, DEVICES);

const dir = tempDir("spec-test");
const natCapture = path.join(dir, "nat.pcapng");
// LAN flows, replies, spoofed replies, unsolicited WAN packets, expiry, full table, malformed frames,
// IPv4 options, fragments, UDP without checksum (tests/lib/traffic.ts); replies aimed by the dsl runtime.
const natInputs = natTraffic(new NfInstance(natDef, natConfig, DEVICES), { count: 8000, seed: 11, wan: 0, lanDevices: [1, 2], stepNs: 20_000n, pauseNs: 4_000_000n, pauseChance: 0.002 });
fs.writeFileSync(natCapture, writePcapng(DEVICES, natInputs));

/** A NAT with a planted bug: nfs/nat.ts with `find` replaced (tests/lib/mutants.ts). */
function mutant(name: string, find: string, replace: string): string {
  return writeMutant("nfs/nat.ts", "spec-test", name, `${JSON.stringify(find)} replaced`, [[find, replace]]);
}


/** The first packet (1-based) on which the dsl runtimes of nfs/nat.ts and of `file` send different things. */
async function firstDivergence(file: string, inputs: TracePacket[]): Promise<number> {
  const wrong = (await import(pathToFileURL(file).href)) as NfDefinition;
  const good = new NfInstance(natDef, natConfig, DEVICES);
  const bad = new NfInstance(wrong, configFromFlags(wrong, NAT_FLAGS, DEVICES), DEVICES);
  const key = (ps: TracePacket[]) => ps.map((p) => `${p.device}:${Buffer.from(p.data).toString("hex")}`).join();
  for (let n = 0; n < inputs.length; n++) if (key(good.step(inputs[n]!)) !== key(bad.step(inputs[n]!))) return n + 1;
  return 0;
}

test("NAT agrees with specs/nat.spec.ts on a realistic 8,000-packet capture (exit 0)", async () => {
  const r = await vigorc(["test", "nfs/nat.ts", natCapture, ...NAT_FLAGS]);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /nat: 8000 packets checked against specs\/nat\.spec\.ts — ALL AGREE \(8000 agree\)/);
  // The capture exercises both directions and the open "any free index" choice.
  const m = /the spec expected: (\d+) forward, (\d+) drop, 0 flood; (\d+) "any free index" choice/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[1]) > 2000 && Number(m[2]) > 2000, `forward/drop mix too thin: ${m[0]}`);
  assert.ok(Number(m[3]) > 50, `free-index choices read back from the binary: ${m[3]}`);
});

test("NOP agrees with specs/nop.spec.ts on 5,000 frames over 3 devices", async () => {
  const capture = path.join(dir, "nop.pcapng");
  fs.writeFileSync(capture, writePcapng(3, mixedTraffic(5000, 3, 3)));
  const r = await specTest({ nfFile: path.join(ROOT, "nfs/nop.ts"), capture });
  assert.is(r.checked, 5000);
  assert.is(r.disagreements, 0, r.first.map((d) => d.differences.join("; ")).join("\n"));
  assert.ok(r.expectedActions.forward > 2000 && r.expectedActions.drop > 1000);
});

test("a NAT without the spoof check disagrees (exit 1); the report names the first spoofed reply it forwards", async () => {
  const file = mutant("nat-no-spoof-check", SPOOF_CHECK, "");
  const first = await firstDivergence(file, natInputs);
  assert.ok(first > 0);
  const r = await vigorc(["test", path.relative(ROOT, file), natCapture, "--spec", "specs/nat.spec.ts", ...NAT_FLAGS]);
  assert.is(r.exitCode, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /DISAGREE/);
  const reported = /DISAGREEMENT at packet (\d+) \(time [\d.]+ s, device 0\)/.exec(r.stdout);
  assert.ok(reported, r.stdout);
  assert.is(Number(reported[1]), first);
  assert.match(r.stdout, /the binary: forward to device [12]/);
  assert.match(r.stdout, /the spec expects: drop/);
  assert.match(r.stdout, /the spec looked at flows\[\d+\]: srcIp=10\.0\./);
});

test("packets sharing a timestamp (a capture with 1 ms resolution): records are attributed by content", async () => {
  const coarse = natInputs.map((p) => ({ ...p, timeNs: (p.timeNs / 1_000_000n) * 1_000_000n }));
  const capture = path.join(dir, "nat-coarse.pcapng");
  fs.writeFileSync(capture, writePcapng(DEVICES, coarse));
  const spec = path.join(ROOT, "specs/nat.spec.ts");
  const good = await specTest({ nfFile: path.join(ROOT, "nfs/nat.ts"), capture, specFile: spec, nfFlags: NAT_FLAGS });
  assert.is(good.disagreements, 0, good.first.map((d) => `packet ${d.packet}: ${d.differences.join("; ")}`).join("\n"));
  const file = mutant("nat-no-spoof-check", SPOOF_CHECK, "");
  const bad = await specTest({ nfFile: file, capture, specFile: spec, nfFlags: NAT_FLAGS });
  assert.ok(bad.first[0]!.sharedTimestamp > 0, "the capture has no shared timestamps");
  assert.is(bad.first[0]!.packet, await firstDivergence(file, coarse));
});

test("a NAT whose LAN ports are off by one disagrees, even though the index is read back from the binary", async () => {
  const file = mutant("nat-port-off-by-one", "const externalPort: u16 = cfg.startPort + index;", "const externalPort: u16 = cfg.startPort + index + 1;");
  const r = await specTest({ nfFile: file, capture: natCapture, specFile: path.join(ROOT, "specs/nat.spec.ts"), nfFlags: NAT_FLAGS });
  assert.ok(r.disagreements > 0);
  // Port start+i+1 alone is a legal choice (index i+1); the first reply aimed at the real flow exposes it.
  const first = r.first[0]!;
  assert.ok(first.packet >= (await firstDivergence(file, natInputs)));
  assert.is(first.device, 0);
});

test("a NAT that translates TCP replies to the wrong port: the report shows the output the spec expects next to the binary's", async () => {
  const file = mutant("nat-tcp-reply-port", "    if (tcp !== undefined) tcp.dstPort = flow.srcPort;", "    if (tcp !== undefined) tcp.dstPort = flow.dstPort;");
  const r = await vigorc(["test", path.relative(ROOT, file), natCapture, "--spec", "specs/nat.spec.ts", ...NAT_FLAGS]);
  assert.is(r.exitCode, 1, r.stdout + r.stderr);
  const report = r.stdout.slice(r.stdout.indexOf("DISAGREEMENT"));
  const m = /output on device \d: \d+ bytes\n.*\n.*\n\s+TCP (\d+) -> (\d+) checksum.*\n[^]*?the spec expects: forward to device \d, with ipv4\.dst = [\d.]+, l4\.dstPort = (\d+).*\n\s+expected output \(open fields as the binary sent them\): \d+ bytes\n.*\n.*\n\s+TCP (\d+) -> (\d+) checksum/.exec(report);
  assert.ok(m, report.slice(0, 3000));
  const [, sentSrc, sentDst, specDst, expSrc, expDst] = m;
  // The binary sent the flow's remote port back as the destination; the expected packet has the host's.
  assert.is(sentDst, sentSrc);
  assert.is(expSrc, sentSrc);
  assert.is(expDst, specDst);
  assert.ok(expDst !== sentDst);
  assert.match(report, new RegExp(`tcp\\.dstPort: the binary sent ${sentDst}, the spec expects ${specDst}`));
});

test("a NAT that refreshes a flow before the spoof check disagrees (spoofed packets keep flows alive)", async () => {
  const file = wrongNatFile("refresh-before-spoof-check");
  const r = await specTest({ nfFile: file, capture: natCapture, specFile: path.join(ROOT, "specs/nat.spec.ts"), nfFlags: NAT_FLAGS });
  assert.ok(r.disagreements > 0);
  // Behaviour the spec allows may come first (the kept flow only moves later flows to other free indexes).
  assert.ok(r.first[0]!.packet >= (await firstDivergence(file, natInputs)));
  assert.match(r.first[0]!.differences.join(), /action: the binary did drop; the spec expects forward/);
});

test("checksums: \"valid\" is checked by recomputing; without it they must be unchanged; UDP 0 stays 0", () => {
  const udp = (noChecksum: boolean) => new Packet(frame({ srcIp: ipv4(10, 0, 0, 1), dstIp: ipv4(198, 51, 100, 1), protocol: 17, srcPort: 1234, dstPort: 53, payload: 20, udpNoChecksum: noChecksum }));
  const rewrite = { ipv4: { src: ipv4(192, 0, 2, 1) }, ethernet: { src: any }, checksums: "valid" as const };
  const translated = (p: Packet) => {
    const out = new Packet(new Uint8Array(p.data));
    out.ipv4()!.src = ipv4(192, 0, 2, 1); // the dsl runtime keeps both checksums valid
    out.ethernet()!.src = 0x02_00_00_00_00_07n;
    return out.data;
  };
  const input = udp(false);
  assert.equal(outputDifferences(input, 1, 2, forward(0, undefined, rewrite), [{ device: 0, data: translated(input) }]), []);
  const stale = translated(input);
  stale[14 + 10] ^= 0x01; // the IPv4 header checksum
  assert.match(outputDifferences(input, 1, 2, forward(0, undefined, rewrite), [{ device: 0, data: stale }]).join(), /IPv4 header checksum .* is not valid/);
  const staleUdp = new Uint8Array(input.data);
  staleUdp.set(translated(input).subarray(0, 34)); // headers rewritten, UDP checksum left as it was
  assert.match(outputDifferences(input, 1, 2, forward(0, undefined, rewrite), [{ device: 0, data: staleUdp }]).join(), /UDP checksum .* is not valid/);
  const none = udp(true);
  assert.equal(outputDifferences(none, 1, 2, forward(0, undefined, rewrite), [{ device: 0, data: translated(none) }]), []);
  assert.match(outputDifferences(input, 1, 2, forward(0, undefined, { ipv4: { src: ipv4(192, 0, 2, 1) }, ethernet: { src: any } }), [{ device: 0, data: translated(input) }]).join(), /ipv4\.checksum: .*must be unchanged/);
  assert.match(outputDifferences(input, 1, 2, drop(), [{ device: 0, data: input.data }]).join(), /the binary did forward to device 0; the spec expects drop/);
});

test("actions: a flood is one copy per other device, in device order, all alike", () => {
  const input = new Packet(frame({ srcIp: ipv4(10, 0, 0, 1), dstIp: ipv4(10, 0, 0, 2), protocol: 6 }));
  const copy = (device: number) => ({ device, data: new Uint8Array(input.data) });
  assert.equal(outputDifferences(input, 1, 4, flood(), [copy(0), copy(2), copy(3)]), []);
  assert.match(outputDifferences(input, 1, 4, flood(), [copy(0), copy(3)]).join(), /the binary did 2 copies, to devices 0, 3; the spec expects flood/);
  assert.match(outputDifferences(input, 1, 4, flood(), [copy(0), copy(1), copy(2), copy(3)]).join(), /the spec expects flood/);
  const changed = copy(3);
  changed.data[20] ^= 0xff; // the IPv4 flags/fragment bytes
  assert.match(outputDifferences(input, 1, 4, flood(), [copy(0), copy(2), changed]).join(), /the copy sent to device 3 differs/);
  assert.match(outputDifferences(input, 1, 4, forward(2), [copy(3)]).join(), /the binary did forward to device 3; the spec expects forward to device 2/);
});

test("bad input is exit 2 with a clear error: malformed capture (located), bad flag, spec with a type error", async () => {
  const truncated = path.join(dir, "truncated.pcapng");
  fs.writeFileSync(truncated, fs.readFileSync(natCapture).subarray(0, 1000));
  const r1 = await vigorc(["test", "nfs/nat.ts", truncated, ...NAT_FLAGS]);
  assert.is(r1.exitCode, 2, r1.stdout + r1.stderr);
  assert.match(r1.stderr, /truncated\.pcapng: malformed pcapng: block \d+ .* at offset \d+/);
  const r2 = await vigorc(["test", "nfs/nat.ts", natCapture, "--wan", "0", "--external-ip", "192.0.2.1", "--max-flows", "70000"]);
  assert.is(r2.exitCode, 2, r2.stdout + r2.stderr);
  assert.match(r2.stderr, /--max-flows: 70000 is out of range 1\.\.65536/);
  const bad = path.join(ROOT, "tests/fixtures/spec-test/nat-type-error.spec.ts");
  try {
    await specTest({ nfFile: path.join(ROOT, "nfs/nat.ts"), capture: natCapture, specFile: bad, nfFlags: NAT_FLAGS });
    assert.unreachable("a spec with a type error was accepted");
  } catch (e) {
    assert.instance(e, BadInput);
    const d = (e as BadInput).diagnostics[0];
    assert.ok(d && d.file === bad && d.line === 9, JSON.stringify(d));
  }
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test.run();
