// Flag parsing of the shells (runtime-c/shells/flags.c), through the fixture NF.
import { existsSync, statSync, writeFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readPcap, readPcapng, writePcap, writePcapng } from "../dsl/pcapng.ts";
import {
  EAL_BASE,
  be,
  fixtureBinary,
  ownErrorLines,
  packet,
  readBytes,
  run,
  tmpPath,
} from "./fixtures/shells/helpers.ts";

const REQUIRED = ["--external-ip", "10.0.0.1"];

function twoDeviceInput(): string {
  const path = tmpPath("in.pcapng");
  writeFileSync(
    path,
    writePcapng(2, [
      { device: 0, timeNs: 1000n, data: packet(0xc0) },
      { device: 1, timeNs: 2000n, data: packet(0x11) },
    ]),
  );
  return path;
}

// [flags, the flag the one-line error must name, a fragment of the message]
const BAD: [string[], string, RegExp][] = [
  [["--start-port", "70000", ...REQUIRED], "--start-port", /70000 is out of range 0\.\.65535/],
  [["--start-port=12x", ...REQUIRED], "--start-port", /not an unsigned integer/],
  [["--start-port", "-1", ...REQUIRED], "--start-port", /'-1' is not an unsigned integer/],
  [["--start-port", "0x", ...REQUIRED], "--start-port", /not an unsigned integer/],
  [["--small", "201", ...REQUIRED], "--small", /out of range 0\.\.200/],
  [["--big", "18446744073709551616", ...REQUIRED], "--big", /out of range/],
  [["--max-flows", "0", ...REQUIRED], "--max-flows", /out of range 1\.\.65536/],
  [["--external-ip", "1.2.3"], "--external-ip", /not an IPv4 address/],
  [["--external-ip", "1.2.3.256"], "--external-ip", /not an IPv4 address/],
  [["--external-ip", "1.2.3.4.5"], "--external-ip", /not an IPv4 address/],
  [["--gateway-mac", "02:00:00:00:00", ...REQUIRED], "--gateway-mac", /not a MAC address/],
  [["--gateway-mac", "02:00:00:00:00:zz", ...REQUIRED], "--gateway-mac", /not a MAC address/],
  [["--expiration", "10m", ...REQUIRED], "--expiration", /unknown unit 'm'/],
  [["--expiration", "2h", ...REQUIRED], "--expiration", /unknown unit 'h'/],
  [["--expiration", "abc", ...REQUIRED], "--expiration", /not a duration/],
  [["--expiration", "500ns", ...REQUIRED], "--expiration", /out of range 1us\.\.3600s/],
  [["--expiration", "3601s", ...REQUIRED], "--expiration", /out of range/],
  [["--expiration", "99999999999999999999s", ...REQUIRED], "--expiration", /out of range/],
  [["--verbose=maybe", ...REQUIRED], "--verbose", /not a boolean/],
  [["--wan", "2", ...REQUIRED], "--wan", /device 2 does not exist \(2 devices: 0\.\.1\)/],
  [["--wan", "one", ...REQUIRED], "--wan", /not a device number/],
  [["--wan", "99999999999999999999", ...REQUIRED], "--wan", /device 99999999999999999999 does not exist/],
  [["--wan=", ...REQUIRED], "--wan", /'' is not a device number/],
  [["--eth-dest", "99999999999999999999,02:00:00:00:00:01", ...REQUIRED], "--eth-dest", /does not exist/],
  [["--eth-dest", "5,02:00:00:00:00:01", ...REQUIRED], "--eth-dest", /device 5 does not exist/],
  [["--eth-dest", "1", ...REQUIRED], "--eth-dest", /expected <device>,<mac>/],
  [["--eth-dest", "1,02:00", ...REQUIRED], "--eth-dest", /not a MAC address/],
  [
    ["--eth-dest", "0,02:00:00:00:00:01", "--eth-dest", "0,02:00:00:00:00:02", ...REQUIRED],
    "--eth-dest",
    /device 0 given more than once/,
  ],
  [["--bogus", "1", ...REQUIRED], "--bogus", /unknown flag/],
  [[...REQUIRED, "--start-port"], "--start-port", /missing value/],
  [["--start-port", "--small", "3", ...REQUIRED], "--start-port", /missing value/],
  [[], "--external-ip", /required flag is missing/],
  [["--start-port", "60000", "--max-flows", "10000", ...REQUIRED], "start-port + max-flows", /constraint violated/],
  [["--small", "1", "--small", "2", ...REQUIRED], "--small", /given more than once/],
  [[...REQUIRED, "--stats", "--stats"], "--stats", /given more than once/],
  [[...REQUIRED, "stray"], "stray", /unexpected argument/],
];

for (const [flags, name, message] of BAD) {
  test(`trace: ${flags.join(" ") || "(no flags)"} -> exit 2 naming ${name}`, async () => {
    const bin = await fixtureBinary("trace");
    const out = tmpPath("out.pcapng");
    const r = await run(bin, [twoDeviceInput(), out, ...flags]);
    assert.is(r.exitCode, 2, `exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.is(lines.length, 1, `exactly one stderr line, got: ${r.stderr}`);
    const line = lines[0] ?? "";
    assert.ok(line.startsWith("error: "), line);
    assert.ok(line.includes(name), `names ${name}: ${line}`);
    assert.match(line, message);
    assert.is(r.stdout, "");
    assert.ok(!existsSync(out) || statSync(out).size === 0, "no output written");
  });
}

test("trace: missing positional arguments -> exit 2", async () => {
  const bin = await fixtureBinary("trace");
  const r = await run(bin, ["--external-ip", "1.2.3.4"]);
  assert.is(r.exitCode, 2);
  assert.is(r.stderr.trimEnd().split("\n").length, 1);
});

test("trace: --help lists every flag with kind, range, default and doc; exit 0", async () => {
  const bin = await fixtureBinary("trace");
  for (const args of [["--help"], ["in.pcapng", "out.pcapng", "--start-port", "99999", "--help"]]) {
    const r = await run(bin, args);
    assert.is(r.exitCode, 0);
    for (const name of [
      "--start-port",
      "--max-flows",
      "--wan",
      "--external-ip",
      "--gateway-mac",
      "--expiration",
      "--verbose",
      "--small",
      "--eth-dest",
      "--big",
      "--stats",
    ]) {
      assert.ok(r.stdout.includes(name), `${name} in help`);
    }
    assert.match(r.stdout, /--start-port <uint>\n\s+kind: uint; range: 0\.\.65535; default: 1024\n\s+First external port\./);
    assert.match(r.stdout, /--external-ip <ipv4>\n\s+kind: ipv4; required/);
    assert.match(r.stdout, /--expiration <duration>\n\s+kind: duration; range: 1us\.\.3600s; default: 10s/);
    assert.match(r.stdout, /--gateway-mac <mac>\n\s+kind: mac; default: 02:00:00:00:00:aa/);
    assert.match(r.stdout, /--eth-dest <device>,<mac>\n.*per device, repeatable/);
    assert.match(r.stdout, /--verbose <bool>\n\s+kind: bool; default: false/);
  }
});

test("trace: good flags reach the NF (all kinds, both syntaxes, defaults)", async () => {
  const bin = await fixtureBinary("trace");
  const input = twoDeviceInput();
  const out = tmpPath("out.pcapng");
  const r = await run(bin, [
    input,
    out,
    "--start-port=0x400",
    "--max-flows",
    "1000",
    "--wan",
    "0",
    "--external-ip",
    "192.0.2.1",
    "--gateway-mac=AA:bb:cc:dd:ee:0f",
    "--expiration",
    "250ms",
    "--verbose",
    "--eth-dest",
    "1,02:00:00:00:00:01",
    "--big",
    "18446744073709551615",
  ]);
  assert.is(r.exitCode, 0, r.stderr);
  const { packets } = readPcapng(readBytes(out));
  assert.is(packets.length, 2);
  const dump = packets[0];
  assert.ok(dump !== undefined);
  assert.is(dump.device, 1); // 0 -> 0^1
  const p = dump.data.subarray(1);
  assert.is(be(p, 0, 2), 1024n); // start-port
  assert.is(be(p, 2, 4), 1000n); // max-flows
  assert.is(be(p, 6, 2), 0n); // wan
  assert.is(be(p, 8, 4), 0xc0000201n); // external-ip, host order
  assert.is(be(p, 12, 6), 0xaabbccddee0fn); // gateway-mac
  assert.is(be(p, 18, 8), 250_000_000n); // expiration in ns
  assert.is(be(p, 26, 1), 1n); // verbose
  assert.is(be(p, 27, 1), 7n); // small: default
  assert.is(be(p, 28, 6), 0xeen); // eth-dest[0]: default
  assert.is(be(p, 34, 6), 0x020000000001n); // eth-dest[1]
  assert.is(be(p, 40, 8), 0xffffffffffffffffn); // big
});

test("trace: defaults and duration units", async () => {
  const bin = await fixtureBinary("trace");
  for (const [text, ns] of [
    ["1000", 1000n],
    ["5us", 5000n],
    ["7ms", 7_000_000n],
    ["3600s", 3_600_000_000_000n],
    ["42ns", -1n],
  ] as const) {
    const out = tmpPath("out.pcapng");
    const r = await run(bin, [twoDeviceInput(), out, ...REQUIRED, "--expiration", text, "--verbose", "false"]);
    if (ns < 0n) {
      assert.is(r.exitCode, 2);
      continue;
    }
    assert.is(r.exitCode, 0, r.stderr);
    const dump = readPcapng(readBytes(out)).packets[0];
    assert.ok(dump !== undefined);
    const p = dump.data.subarray(1);
    assert.is(be(p, 0, 2), 1024n);
    assert.is(be(p, 2, 4), 4096n);
    assert.is(be(p, 6, 2), 1n);
    assert.is(be(p, 18, 8), ns);
    assert.is(be(p, 26, 1), 0n);
  }
});

// DPDK target: the same parser, but some checks only happen after EAL init (device count).
function dpdkArgs(inPcap: string, outPcap: string): string[] {
  return [
    ...EAL_BASE,
    `--vdev=net_pcap0,rx_pcap=${inPcap}`,
    `--vdev=net_pcap1,tx_pcap=${outPcap}`,
    "--",
  ];
}

function smallPcap(): string {
  const path = tmpPath("in.pcap");
  writeFileSync(path, writePcap([{ timeNs: 1n, data: packet(0x11) }]));
  return path;
}

test("dpdk: syntax errors fail before EAL init with one line, exit 2", async () => {
  const bin = await fixtureBinary("dpdk");
  for (const [flags, name] of [
    [["--start-port", "70000", ...REQUIRED], "--start-port"],
    [["--burst", "65", ...REQUIRED], "--burst"],
    [["--burst", "0", ...REQUIRED], "--burst"],
    [["--nope", ...REQUIRED], "--nope"],
    [["--idle-exit-ms", "x", ...REQUIRED], "--idle-exit-ms"],
    [[], "--external-ip"],
  ] as const) {
    const out = tmpPath("out.pcap");
    const r = await run(bin, [...dpdkArgs(smallPcap(), out), ...flags, "--max-packets", "1"]);
    assert.is(r.exitCode, 2, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.is(lines.length, 1, r.stderr);
    assert.ok((lines[0] ?? "").includes(name), r.stderr);
    assert.ok(!existsSync(out), "EAL never started, so no output file");
  }
});

test("dpdk: device and constraint errors after EAL init: exit 2, no packet", async () => {
  const bin = await fixtureBinary("dpdk");
  for (const [flags, name] of [
    [["--wan", "2", ...REQUIRED], "--wan"],
    [["--eth-dest", "3,02:00:00:00:00:01", ...REQUIRED], "--eth-dest"],
    [["--start-port", "65000", ...REQUIRED], "start-port + max-flows"],
  ] as const) {
    const out = tmpPath("out.pcap");
    const r = await run(bin, [...dpdkArgs(smallPcap(), out), ...flags, "--idle-exit-ms", "200"]);
    assert.is(r.exitCode, 2, r.stderr);
    const errors = ownErrorLines(r.stderr);
    assert.is(errors.length, 1, r.stderr);
    assert.ok((errors[0] ?? "").includes(name), r.stderr);
    if (existsSync(out)) assert.is(readPcap(readBytes(out)).packets.length, 0);
  }
});

test("dpdk: --help exits 0 without EAL and lists NF and shell flags", async () => {
  const bin = await fixtureBinary("dpdk");
  for (const args of [["--help"], ["--no-huge", "--", "--help"]]) {
    const r = await run(bin, args);
    assert.is(r.exitCode, 0);
    for (const name of ["--start-port", "--eth-dest", "--burst", "--max-packets", "--idle-exit-ms", "--duration-s", "--stats", "--mbufs"]) {
      assert.ok(r.stdout.includes(name), name);
    }
    assert.not.match(r.stderr, /EAL/);
  }
});

test.run();
