// linkNf (compiler/cli/link.ts) and the DPDK shell end to end, with the fixture NF on DPDK's
// net_pcap / net_null virtual devices (no NIC, no hugepages). Every process is time-bounded.
import { existsSync, writeFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CCompileError, ccArguments, linkNf } from "../compiler/cli/link.ts";
import { readPcap, writePcap } from "../dsl/pcapng.ts";
import { EAL_BASE, be, fixtureBinary, ownErrorLines, packet, readBytes, run, tmpPath } from "./fixtures/shells/helpers.ts";

const NF_FLAGS = ["--external-ip", "10.0.0.1"];

// ---- linkNf ----

test("linkNf: a C error throws CCompileError carrying the compiler's stderr", async () => {
  const src = tmpPath("bad_nf.c");
  writeFileSync(src, '#include "nf.h"\nint broken(void) { return undeclared_thing; }\n');
  for (const target of ["trace", "dpdk"] as const) {
    const output = tmpPath(`bad_${target}`);
    try {
      await linkNf({ generatedC: src, target, output });
      assert.unreachable("should have thrown");
    } catch (e) {
      assert.instance(e, CCompileError);
      const err = e as CCompileError;
      assert.match(err.stderr, /undeclared_thing/);
      assert.match(err.message, /bad_nf\.c/);
    }
    assert.ok(!existsSync(output));
  }
});

test("linkNf: -Werror is on (an unused variable fails)", async () => {
  const src = tmpPath("warn_nf.c");
  writeFileSync(src, "int f(void);\nint f(void) { int unused = 1; return 0; }\n");
  try {
    await linkNf({ generatedC: src, target: "trace", output: tmpPath("warn") });
    assert.unreachable("should have thrown");
  } catch (e) {
    assert.instance(e, CCompileError);
    assert.match((e as CCompileError).stderr, /unused/);
  }
});

test("linkNf: command line (C11, -O3, warnings as errors, include dirs, DPDK via -isystem)", async () => {
  const trace = await ccArguments({ generatedC: "x/nf.c", target: "trace", output: "x/out" });
  for (const a of ["-std=c11", "-O3", "-Wall", "-Wextra", "-Werror"]) assert.ok(trace.includes(a), a);
  assert.ok(trace.some((a) => a.endsWith("runtime-c/shells/trace_shell.c")));
  assert.ok(trace.some((a) => a.endsWith("runtime-c/shells/pcapng.c")));
  assert.ok(trace.some((a) => a.endsWith("runtime-c/shells/flags.c")));
  assert.ok(!trace.some((a) => a.includes("dpdk")));
  const dpdk = await ccArguments({ generatedC: "x/nf.c", target: "dpdk", output: "x/out", extraCFlags: ["-g"] });
  assert.ok(dpdk.some((a) => a.endsWith("runtime-c/shells/dpdk_shell.c")));
  assert.ok(dpdk.includes("-isystem"));
  assert.ok(!dpdk.some((a) => a.startsWith("-I/usr/include/dpdk")));
  assert.ok(dpdk.includes("-g"));
  assert.ok(dpdk.includes("-lrte_ethdev"));
});

test("linkNf: builds both targets of the fixture NF", async () => {
  for (const target of ["trace", "dpdk"] as const) {
    const bin = await fixtureBinary(target);
    assert.ok(existsSync(bin), bin);
  }
});

// ---- DPDK shell end to end ----

function pcapPath(packets: Uint8Array[]): string {
  const path = tmpPath("in.pcap");
  writeFileSync(path, writePcap(packets.map((data, i) => ({ timeNs: BigInt(i) * 1000n, data }))));
  return path;
}

/** Two pcap ports: 0 reads `input` and writes out0, 1 writes out1 (and reads nothing). */
function twoPorts(input: string): { args: string[]; out0: string; out1: string } {
  const out0 = tmpPath("out0.pcap");
  const out1 = tmpPath("out1.pcap");
  return {
    args: [...EAL_BASE, `--vdev=net_pcap0,rx_pcap=${input},tx_pcap=${out0}`, `--vdev=net_pcap1,tx_pcap=${out1}`],
    out0,
    out1,
  };
}

function statsOf(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

const MIXED: Uint8Array[] = [
  packet(0x11, 64, 1), // -> 1
  packet(0xdd, 64, 2), // drop
  packet(0xff, 100, 3), // flood -> 1 (the only other port)
  packet(0xc0, 64, 4), // config dump -> 1
  packet(0xe0, 64, 5), // env dump -> 1
  packet(0x11, 1514, 6), // -> 1
  packet(0x11, 60, 7), // -> 1
];

for (const burst of [1, 32]) {
  test(`dpdk: forwards, floods, drops and rewrites (burst ${burst}, --idle-exit-ms)`, async () => {
    const bin = await fixtureBinary("dpdk");
    const { args, out0, out1 } = twoPorts(pcapPath(MIXED));
    const started = Date.now();
    const r = await run(bin, [
      ...args,
      "--",
      ...NF_FLAGS,
      "--start-port",
      "2000",
      "--eth-dest=1,0a:0b:0c:0d:0e:0f",
      "--burst",
      String(burst),
      "--idle-exit-ms",
      "300",
      "--stats",
    ]);
    assert.is(r.exitCode, 0, r.stderr);
    assert.ok(Date.now() - started < 15_000);
    assert.is(ownErrorLines(r.stderr).length, 0, r.stderr);
    const stats = statsOf(r.stdout);
    assert.is(stats.get("packets_in"), "7");
    assert.is(stats.get("packets_out"), "6");
    assert.is(stats.get("dropped"), "1");
    assert.is(stats.get("burst"), String(burst));
    for (const k of ["seconds", "mpps", "nf_cycles_per_packet", "loop_cycles_per_packet"]) {
      assert.ok(stats.has(k), k);
      assert.ok(Number.isFinite(Number(stats.get(k))), `${k}=${stats.get(k)}`);
    }
    assert.is(readPcap(readBytes(out0)).packets.length, 0);
    const out = readPcap(readBytes(out1)).packets;
    const expected = [0, 2, 3, 4, 5, 6];
    assert.is(out.length, expected.length);
    out.forEach((p, i) => {
      const src = MIXED[expected[i] ?? -1];
      assert.ok(src !== undefined);
      assert.is(p.data.length, src.length, `packet ${i} length`);
      if (src[0] === 0xc0) {
        assert.is(be(p.data, 1, 2), 2000n); // start-port
        assert.is(be(p.data, 9, 4), 0x0a000001n); // external-ip
        assert.is(be(p.data, 35, 6), 0x0a0b0c0d0e0fn); // eth-dest[1]
      } else if (src[0] === 0xe0) {
        assert.is(be(p.data, 1, 2), 2n); // device_count
        assert.ok(be(p.data, 3, 6) !== 0n, "device 0's MAC from rte_eth_macaddr_get");
      } else {
        assert.equal(Array.from(p.data), Array.from(src), `packet ${i} bytes`);
      }
    });
  });
}

test("dpdk: flood copies to every other port (3 ports)", async () => {
  const bin = await fixtureBinary("dpdk");
  const input = pcapPath([packet(0xff, 64, 1), packet(0xff, 1000, 2), packet(0x11, 64, 3)]);
  const outs = [tmpPath("o0.pcap"), tmpPath("o1.pcap"), tmpPath("o2.pcap")];
  const r = await run(bin, [
    ...EAL_BASE,
    `--vdev=net_pcap0,rx_pcap=${input},tx_pcap=${outs[0]}`,
    `--vdev=net_pcap1,tx_pcap=${outs[1]}`,
    `--vdev=net_pcap2,tx_pcap=${outs[2]}`,
    "--",
    ...NF_FLAGS,
    "--burst",
    "4",
    "--max-packets",
    "3",
  ]);
  assert.is(r.exitCode, 0, r.stderr);
  const got = outs.map((o) => readPcap(readBytes(o)).packets.map((p) => [p.data.length, p.data[0]]));
  assert.equal(got, [[], [[64, 0xff], [1000, 0xff], [64, 0x11]], [[64, 0xff], [1000, 0xff]]]);
});

test("dpdk: --max-packets stops after N packets", async () => {
  const bin = await fixtureBinary("dpdk");
  const input = pcapPath(Array.from({ length: 10 }, (_, i) => packet(0x11, 64, i)));
  for (const burst of ["1", "4"]) {
    const { args, out1 } = twoPorts(input);
    const r = await run(bin, [...args, "--", ...NF_FLAGS, "--max-packets", "3", "--burst", burst, "--stats"], 20_000);
    assert.is(r.exitCode, 0, r.stderr);
    assert.not.ok(r.timedOut);
    assert.is(statsOf(r.stdout).get("packets_in"), "3");
    assert.equal(readPcap(readBytes(out1)).packets.map((p) => p.data[1]), [7, 8, 9]);
  }
});

test("dpdk: --idle-exit-ms also stops when nothing ever arrives", async () => {
  const bin = await fixtureBinary("dpdk");
  const { args, out1 } = twoPorts(pcapPath([]));
  const started = Date.now();
  const r = await run(bin, [...args, "--", ...NF_FLAGS, "--idle-exit-ms", "200"], 20_000);
  assert.is(r.exitCode, 0, r.stderr);
  assert.ok(Date.now() - started < 10_000);
  assert.is(readPcap(readBytes(out1)).packets.length, 0);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`dpdk: ${signal} stops the loop cleanly and flushes the output pcap`, async () => {
    const bin = await fixtureBinary("dpdk");
    const { args, out1 } = twoPorts(pcapPath(MIXED.slice(0, 3)));
    const { execa } = await import("execa");
    const child = execa(bin, [...args, "--", ...NF_FLAGS, "--stats"], {
      reject: false,
      timeout: 20_000,
      killSignal: "SIGKILL",
      stdin: "ignore",
    });
    // Signal once the loop runs (EAL start-up can take seconds on a loaded machine).
    await new Promise<void>((resolve) => {
      let seen = "";
      const cap = setTimeout(resolve, 15_000);
      child.stderr?.on("data", (d: Buffer) => {
        seen += d.toString();
        if (/running on \d+ devices/.test(seen)) {
          clearTimeout(cap);
          setTimeout(resolve, 1000); // time to read the 3 packets of the capture
        }
      });
    });
    child.kill(signal);
    const r = await child;
    assert.is(r.exitCode, 0, String(r.stderr));
    assert.match(String(r.stderr), new RegExp(`stopping on signal ${signal === "SIGTERM" ? 15 : 2}`));
    assert.is(statsOf(String(r.stdout)).get("packets_in"), "3");
    assert.is(readPcap(readBytes(out1)).packets.length, 2);
  });
}

test("dpdk: time is read once per burst and never decreases; nf_prefetch runs over each burst of more than one packet, and ahead of each packet at burst 1 unless --pipeline 0", async () => {
  const bin = await fixtureBinary("dpdk");
  const input = pcapPath(Array.from({ length: 6 }, (_, i) => packet(0x7e, 64, i)));
  // nf_prefetch calls seen by each packet's nf_process: a burst of 8 prefetches all 6 first; the
  // burst-1 pipeline of depth D prefetches packet k + D before processing packet k (the last D
  // are processed when rx returns nothing or the loop stops); --pipeline 0 never prefetches.
  const cases = [
    { burst: 8, flags: [], prefetches: [6n, 6n, 6n, 6n, 6n, 6n] },
    { burst: 1, flags: [], prefetches: [3n, 4n, 5n, 6n, 6n, 6n] }, // default depth 2
    { burst: 1, flags: ["--pipeline", "1"], prefetches: [2n, 3n, 4n, 5n, 6n, 6n] },
    { burst: 1, flags: ["--pipeline", "0"], prefetches: [0n, 0n, 0n, 0n, 0n, 0n] },
  ];
  for (const c of cases) {
    const { args, out1 } = twoPorts(input);
    const r = await run(bin, [...args, "--", ...NF_FLAGS, "--burst", String(c.burst), ...c.flags, "--max-packets", "6"]);
    assert.is(r.exitCode, 0, r.stderr);
    const out = readPcap(readBytes(out1)).packets;
    const times = out.map((p) => be(p.data, 1, 8));
    assert.equal(out.map((p) => p.data[50]), [0, 1, 2, 3, 4, 5].map((tag) => (50 * 7 + tag) & 0xff), "arrival order");
    assert.equal(out.map((p) => be(p.data, 9, 8)), [1n, 2n, 3n, 4n, 5n, 6n]); // NF packet counter
    for (let i = 1; i < times.length; i++) assert.ok((times[i] ?? 0n) >= (times[i - 1] ?? 0n), "non-decreasing");
    assert.ok((times[0] ?? 0n) > 0n);
    if (c.burst === 8) assert.is(new Set(times).size, 1, "one clock read for the whole burst");
    assert.equal(out.map((p) => be(p.data, 17, 8)), c.prefetches, `burst ${c.burst} ${c.flags.join(" ")}`);
  }
});

test("dpdk: the burst-1 pipeline holds no packet once the link is idle (depths 1 and 3)", async () => {
  const bin = await fixtureBinary("dpdk");
  // The capture's packets all arrive at start-up; the loop then stays idle for 2 s before
  // --idle-exit-ms stops it. The held packets must be processed as soon as an rx returns nothing,
  // not when the loop stops: the last one's processing clock (CLOCK_MONOTONIC, written by the
  // fixture NF) is within a fraction of the idle time of the first one's. 7 packets at depth 3
  // leave the ring's oldest packet in its middle slot when the link goes idle.
  const tags = [0, 1, 2, 3, 4, 5, 6];
  const input = pcapPath(tags.map((i) => packet(0x7e, 64, i)));
  for (const depth of ["1", "3"]) {
    const { args, out1 } = twoPorts(input);
    const r = await run(bin, [...args, "--", ...NF_FLAGS, "--burst", "1", "--pipeline", depth, "--idle-exit-ms", "2000", "--stats"]);
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(statsOf(r.stdout).get("packets_out"), String(tags.length));
    const out = readPcap(readBytes(out1)).packets;
    assert.equal(out.map((p) => p.data[50]), tags.map((tag) => (50 * 7 + tag) & 0xff), `depth ${depth}: arrival order`);
    const processedNs = out.map((p) => be(p.data, 25, 8));
    const spreadMs = Number((processedNs[tags.length - 1] ?? 0n) - (processedNs[0] ?? 0n)) / 1e6;
    assert.ok(spreadMs >= 0 && spreadMs < 1000, `depth ${depth}: last packet processed ${spreadMs} ms after the first`);
  }
});

test("dpdk: throughput harness (infinite_rx pcap -> net_null) with --duration-s", async () => {
  const bin = await fixtureBinary("dpdk");
  const input = pcapPath(Array.from({ length: 100 }, (_, i) => packet(0x11, 64, i)));
  const r = await run(
    bin,
    [
      ...EAL_BASE,
      `--vdev=net_pcap0,rx_pcap=${input},infinite_rx=1`,
      "--vdev=net_null0,no-rx=1",
      "--",
      ...NF_FLAGS,
      "--duration-s",
      "1",
      "--burst",
      "32",
      "--stats",
    ],
    20_000,
  );
  assert.is(r.exitCode, 0, r.stderr);
  const stats = statsOf(r.stdout);
  assert.ok(Number(stats.get("mpps")) > 0.1, r.stdout);
  assert.is(stats.get("packets_in"), stats.get("packets_out"));
  assert.ok(Number(stats.get("seconds")) > 0.5 && Number(stats.get("seconds")) < 2, r.stdout);
});

test("dpdk: EAL failure and no ports are reported (exit 1)", async () => {
  const bin = await fixtureBinary("dpdk");
  const r = await run(bin, [...EAL_BASE, "--", ...NF_FLAGS, "--max-packets", "1"]);
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stderr, /error: no DPDK port available/);
  const r2 = await run(bin, [...EAL_BASE, "--vdev=net_bogus0", "--", ...NF_FLAGS]);
  assert.is(r2.exitCode, 1, r2.stderr);
  assert.match(r2.stderr, /error: EAL initialisation failed/);
});

test.run();
