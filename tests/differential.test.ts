/**
 * Differential tests: each NF runs over the same packets in the dsl runtime (plain TypeScript) and
 * as the compiled trace binary; the outputs (device, timestamp, bytes) must be identical.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { execa } from "execa";
import { readPcapng, writePcapng } from "../dsl/pcapng.ts";
import { configFromFlags, NfInstance, type NfDefinition, type TracePacket } from "../dsl/runner.ts";
import { buildNf, tempDir } from "./lib/build.ts";
import { mixedTraffic, natTraffic } from "./lib/traffic.ts";
import * as nat from "../nfs/nat.ts";
import * as nop from "../nfs/nop.ts";

const hex = (d: Uint8Array) => Buffer.from(d).toString("hex");

async function runTrace(binary: string, deviceCount: number, inputs: TracePacket[], flags: string[]): Promise<TracePacket[]> {
  const dir = tempDir("diff");
  const input = path.join(dir, "in.pcapng");
  const output = path.join(dir, "out.pcapng");
  fs.writeFileSync(input, writePcapng(deviceCount, inputs));
  const r = await execa(binary, [input, output, ...flags], { reject: false, timeout: 120_000 });
  assert.is(r.exitCode, 0, `trace binary failed: ${r.stderr}`);
  const packets = readPcapng(fs.readFileSync(output)).packets;
  fs.rmSync(dir, { recursive: true });
  return packets;
}

function compare(expected: TracePacket[], actual: TracePacket[], inputs: TracePacket[]): void {
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const e = expected[i];
    const a = actual[i];
    if (!e || !a || e.device !== a.device || e.timeNs !== a.timeNs || hex(e.data) !== hex(a.data)) {
      const cause = inputs.find((p) => p.timeNs === (e ?? a)!.timeNs);
      assert.unreachable(
        `output ${i} differs (of ${expected.length} expected, ${actual.length} actual)\n` +
          `  dsl runtime: ${e ? `device ${e.device} t=${e.timeNs} ${hex(e.data)}` : "nothing"}\n` +
          `  trace binary: ${a ? `device ${a.device} t=${a.timeNs} ${hex(a.data)}` : "nothing"}\n` +
          `  input: ${cause ? `device ${cause.device} ${hex(cause.data)}` : "?"}`,
      );
    }
  }
}

async function differential(nfFile: string, nf: NfDefinition, deviceCount: number, flags: string[], inputs: TracePacket[]): Promise<number> {
  const binary = await buildNf(nfFile, "trace");
  const expected = new NfInstance(nf, configFromFlags(nf, flags, deviceCount), deviceCount).run(inputs);
  const actual = await runTrace(binary, deviceCount, inputs, flags);
  compare(expected, actual, inputs);
  return expected.length;
}

test("NOP: dsl runtime and trace binary agree on 20,000 packets", async () => {
  const inputs = mixedTraffic(20_000, 1, 3);
  const sent = await differential("nfs/nop.ts", nop as NfDefinition, 3, [], inputs);
  assert.ok(sent > 10_000, `only ${sent} outputs`);
});

const NAT_CONFIGS: { name: string; flags: string[]; stepNs: bigint; pauseNs: bigint }[] = [
  {
    name: "small table (full, expiring)",
    flags: ["--wan", "0", "--external-ip", "192.0.2.1", "--start-port", "1000", "--max-flows", "48", "--expiration", "3ms", "--eth-dest", "0,02:aa:00:00:00:00", "--eth-dest", "2,02:bb:00:00:00:02"],
    stepNs: 20_000n,
    pauseNs: 4_000_000n,
  },
  {
    name: "full port range, WAN on device 2",
    flags: ["--wan", "2", "--external-ip", "203.0.113.9", "--start-port", "0", "--max-flows", "65536", "--expiration", "1s"],
    stepNs: 50_000n,
    pauseNs: 2_000_000_000n,
  },
];

for (const c of NAT_CONFIGS) {
  test(`NAT (${c.name}): dsl runtime and trace binary agree on 20,000 packets`, async () => {
    const deviceCount = 3;
    const nfDef = nat as unknown as NfDefinition;
    const wan = Number(c.flags[c.flags.indexOf("--wan") + 1]);
    const lan = [0, 1, 2].filter((d) => d !== wan);
    const model = new NfInstance(nfDef, configFromFlags(nfDef, c.flags, deviceCount), deviceCount);
    const inputs = natTraffic(model, { count: 20_000, seed: 7 + wan, wan, lanDevices: lan, stepNs: c.stepNs, pauseNs: c.pauseNs, pauseChance: 0.002 });
    const sent = await differential("nfs/nat.ts", nfDef, deviceCount, c.flags, inputs);
    const translatedBack = model.run([]).length; // the model is only used to aim replies
    assert.ok(sent > 5_000, `only ${sent} of 20,000 packets were forwarded: the traffic does not exercise the NAT`);
    assert.is(translatedBack, 0);
  });
}

test.run();
