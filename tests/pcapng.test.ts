// pcapng: the TypeScript reader/writer (dsl/pcapng.ts), the C reader/writer through the trace
// shell (runtime-c/shells/trace_shell.c), and tshark as a third-party reader.
import { existsSync, writeFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  PcapngError,
  readPcap,
  readPcapng,
  writePcap,
  writePcapng,
  type Packet,
} from "../dsl/pcapng.ts";
import { be, fixtureBinary, hasCommand, packet, readBytes, run, tmpPath } from "./fixtures/shells/helpers.ts";

// ---- a hand-rolled block builder (either byte order) for inputs the writer never produces ----

class Bytes {
  readonly parts: number[] = [];
  constructor(readonly little: boolean) {}
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    const b = [v & 0xff, (v >>> 8) & 0xff];
    this.parts.push(...(this.little ? b : b.reverse()));
    return this;
  }
  u32(v: number): this {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    this.parts.push(...(this.little ? b : b.reverse()));
    return this;
  }
  u64(v: bigint): this {
    const hi = Number((v >> 32n) & 0xffffffffn);
    const lo = Number(v & 0xffffffffn);
    return this.little ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  bytes(d: Uint8Array): this {
    this.parts.push(...d);
    return this;
  }
  pad(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
}

function block(little: boolean, type: number, body: (b: Bytes) => void): number[] {
  const inner = new Bytes(little);
  body(inner);
  inner.pad();
  const len = inner.parts.length + 12;
  const b = new Bytes(little).u32(type).u32(len).bytes(Uint8Array.from(inner.parts)).u32(len);
  return b.parts;
}

function shb(little: boolean): number[] {
  return block(little, 0x0a0d0d0a, (b) => b.u32(0x1a2b3c4d).u16(1).u16(0).u64(0xffffffffffffffffn));
}

function idb(little: boolean, tsresol?: number, tsoffset?: bigint, snaplen = 0): number[] {
  return block(little, 1, (b) => {
    b.u16(1).u16(0).u32(snaplen);
    if (tsresol !== undefined) b.u16(9).u16(1).u8(tsresol).pad();
    if (tsoffset !== undefined) b.u16(14).u16(8).u64(tsoffset);
    b.u16(0).u16(0);
  });
}

function epb(little: boolean, ifc: number, ts: bigint, data: Uint8Array, options = false): number[] {
  return block(little, 6, (b) => {
    b.u32(ifc).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)).u32(data.length).u32(data.length);
    b.bytes(data).pad();
    if (options) b.u16(1).u16(3).bytes(Uint8Array.from([0x61, 0x62, 0x63])).pad().u16(0).u16(0);
  });
}

function file(...blocks: number[][]): Uint8Array {
  return Uint8Array.from(blocks.flat());
}

// ---- TypeScript reader/writer ----

test("TS: writePcapng -> readPcapng round trip (interfaces, devices, ns timestamps, bytes)", () => {
  const packets: Packet[] = [
    { device: 0, timeNs: 0n, data: new Uint8Array(0) },
    { device: 2, timeNs: 1_700_000_000_123_456_789n, data: packet(1, 61) },
    { device: 1, timeNs: 5n, data: packet(2, 1514) },
    { device: 2, timeNs: 0xffff_ffff_ffff_ffffn, data: packet(3, 3) },
  ];
  const r = readPcapng(writePcapng(3, packets));
  assert.is(r.interfaces.length, 3);
  for (const [i, ifc] of r.interfaces.entries()) {
    assert.is(ifc.linkType, 1);
    assert.is(ifc.tsResol, 9);
    assert.is(ifc.unitsPerSecond, 1_000_000_000n);
    assert.is(ifc.name, `dev${i}`);
  }
  assert.is(r.packets.length, packets.length);
  r.packets.forEach((p, i) => {
    const q = packets[i];
    assert.ok(q !== undefined);
    assert.is(p.device, q.device);
    assert.is(p.timeNs, q.timeNs);
    assert.equal(Array.from(p.data), Array.from(q.data));
    assert.is(p.originalLength, q.data.length);
  });
});

test("TS: writer rejects bad devices and times", () => {
  assert.throws(() => writePcapng(2, [{ device: 2, timeNs: 0n, data: new Uint8Array(1) }]), /device 2/);
  assert.throws(() => writePcapng(1, [{ device: 0, timeNs: -1n, data: new Uint8Array(1) }]), /timeNs/);
  assert.throws(() => writePcapng(1, [{ device: 0, timeNs: 1n << 64n, data: new Uint8Array(1) }]), /timeNs/);
});

test("TS: big-endian sections, default microseconds, 2^-n resolution, if_tsoffset, SPB, PB, unknown blocks", () => {
  for (const little of [true, false]) {
    const data = packet(9, 20);
    const bytes = file(
      shb(little),
      idb(little), // default: microseconds
      idb(little, 0x80 | 10), // 2^-10 s
      idb(little, 3, 100n), // milliseconds, +100 s
      block(little, 0x00000bad, (b) => b.u32(7)), // unknown: skipped
      epb(little, 0, 1_500_000n, data, true), // 1.5 s in us
      epb(little, 1, 1024n * 3n, data), // 3 s
      epb(little, 2, 2n, data), // 2 ms + 100 s
      block(little, 2, (b) => b.u16(1).u16(0).u32(0).u32(512).u32(4).u32(4).bytes(data.subarray(0, 4))), // PB
      block(little, 3, (b) => b.u32(data.length).bytes(data)), // SPB: interface 0, no time
      block(little, 5, (b) => b.u32(0).u32(0).u32(0)), // ISB: skipped
    );
    const r = readPcapng(bytes);
    assert.equal(
      r.interfaces.map((i) => [i.tsResol, i.unitsPerSecond, i.tsOffsetSeconds]),
      [
        [6, 1_000_000n, 0n],
        [0x8a, 1024n, 0n],
        [3, 1000n, 100n],
      ],
    );
    assert.equal(
      r.packets.map((p) => [p.device, p.timeNs, p.data.length]),
      [
        [0, 1_500_000_000n, 20],
        [1, 3_000_000_000n, 20],
        [2, 100_002_000_000n, 20],
        [1, 500_000_000n, 4],
        [0, 500_000_000n, 20],
      ],
      `little=${little}`,
    );
  }
});

test("TS: two sections, each with its own interfaces", () => {
  const bytes = file(shb(true), idb(true, 9), epb(true, 0, 7n, packet(1)), shb(false), idb(false, 9), idb(false, 9), epb(false, 1, 8n, packet(2)));
  const r = readPcapng(bytes);
  assert.is(r.interfaces.length, 3);
  assert.equal(r.packets.map((p) => [p.device, p.timeNs]), [
    [0, 7n],
    [1, 8n],
  ]);
});

const MALFORMED: [string, Uint8Array, RegExp][] = [
  ["empty", new Uint8Array(0), /empty/],
  ["not a SHB first", file(idb(true)), /block 1 .*at offset 0: a pcapng file must start with a Section Header Block/],
  ["classic pcap", writePcap([{ timeNs: 0n, data: packet(1) }]), /classic pcap/],
  ["bad byte-order magic", file(block(true, 0x0a0d0d0a, (b) => b.u32(0x12345678).u16(1).u16(0).u64(0n))), /byte-order magic/],
  ["truncated block", file(shb(true), idb(true)).subarray(0, 40), /block 2 .*at offset 28: .*(runs past the end|bytes left)/],
  ["bad trailer", (() => { const f = file(shb(true), idb(true)); f[f.length - 4] = 99; return f; })(), /block 2 .*offset 28: trailing block length 99/],
  ["undeclared interface", file(shb(true), idb(true), epb(true, 1, 0n, packet(1))), /block 3 \(Enhanced Packet Block.*interface id 1 is not declared \(the section has 1 interface\)/],
  ["caplen past block", (() => { const f = file(shb(true), idb(true), epb(true, 0, 0n, packet(1, 8))); f[28 + 24 + 20] = 200; return f; })(), /block 3 .*at offset 52: captured length 200 exceeds the block/],
  ["length not multiple of 4", (() => { const f = file(shb(true), idb(true)); f[32] = 21; return f; })(), /block 2 .*not a multiple of 4/],
  ["bad version", file(block(true, 0x0a0d0d0a, (b) => b.u32(0x1a2b3c4d).u16(2).u16(0).u64(0n))), /unsupported pcapng version 2\.0/],
  ["trailing garbage", Uint8Array.from([...file(shb(true), idb(true)), 1, 2, 3]), /only 3 bytes left/],
];

for (const [name, bytes, message] of MALFORMED) {
  test(`TS: malformed (${name}) -> PcapngError naming block and offset`, () => {
    try {
      readPcapng(bytes);
      assert.unreachable("should have thrown");
    } catch (e) {
      assert.instance(e, PcapngError);
      assert.match((e as Error).message, message);
    }
  });
}

test("TS: writePcap -> readPcap round trip (ns magic)", () => {
  const pk = [
    { timeNs: 1_600_000_000_987_654_321n, data: packet(1) },
    { timeNs: 3n, data: packet(2, 1500) },
  ];
  const bytes = writePcap(pk);
  assert.is(new DataView(bytes.buffer).getUint32(0, true), 0xa1b23c4d);
  const r = readPcap(bytes);
  assert.is(r.linkType, 1);
  assert.equal(r.packets.map((p) => [p.timeNs, p.data.length]), [
    [1_600_000_000_987_654_321n, 64],
    [3n, 1500],
  ]);
});

// ---- C reader/writer through the trace shell ----

async function trace(input: Uint8Array, flags: string[] = ["--external-ip", "1.2.3.4"]) {
  const bin = await fixtureBinary("trace");
  const inPath = tmpPath("in.pcapng");
  const outPath = tmpPath("out.pcapng");
  writeFileSync(inPath, input);
  const r = await run(bin, [inPath, outPath, ...flags]);
  return { ...r, inPath, outPath };
}

test("C trace shell reads what TS writes; TS reads what C writes; timestamps, devices, floods", async () => {
  const input: Packet[] = [
    { device: 0, timeNs: 1_000n, data: packet(0x11, 64, 1) }, // -> 1
    { device: 1, timeNs: 2_000n, data: packet(0x11, 80, 2) }, // -> 0
    { device: 2, timeNs: 3_000n, data: packet(0x11, 60, 3) }, // -> 3
    { device: 1, timeNs: 4_000n, data: packet(0xff, 70, 4) }, // flood -> 0, 2, 3
    { device: 3, timeNs: 5_000n, data: packet(0xdd, 64, 5) }, // drop
    { device: 0, timeNs: 1_700_000_000_000_000_001n, data: packet(0x11, 1514, 6) }, // -> 1
    { device: 3, timeNs: 7_000n, data: packet(0x11, 1, 7) }, // -> 2 (1 byte)
  ];
  const r = await trace(writePcapng(4, input), ["--external-ip", "1.2.3.4", "--stats"]);
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stderr, "");
  assert.match(r.stdout, /^packets_in=7\npackets_out=8\ndropped=1$/);
  const out = readPcapng(readBytes(r.outPath));
  assert.is(out.interfaces.length, 4);
  for (const ifc of out.interfaces) {
    assert.is(ifc.linkType, 1);
    assert.is(ifc.tsResol, 9);
  }
  const expect: [number, number][] = [
    [0, 1],
    [1, 0],
    [2, 3],
    [3, 0],
    [3, 2],
    [3, 3],
    [5, 1],
    [6, 2],
  ];
  assert.is(out.packets.length, expect.length);
  expect.forEach(([src, dev], i) => {
    const p = out.packets[i];
    const q = input[src];
    assert.ok(p !== undefined && q !== undefined);
    assert.is(p.device, dev, `record ${i} device`);
    assert.is(p.timeNs, q.timeNs, `record ${i} timestamp`);
    assert.equal(Array.from(p.data), Array.from(q.data), `record ${i} bytes`);
  });
});

test("trace: the NF gets a never-decreasing time; outputs keep the original timestamps", async () => {
  const times = [5_000n, 9_000n, 7_000n, 9_000n, 20_000n, 1n];
  const input = times.map((t, i) => ({ device: 0, timeNs: t, data: packet(0x7e, 64, i) }));
  const r = await trace(writePcapng(2, input));
  assert.is(r.exitCode, 0, r.stderr);
  const out = readPcapng(readBytes(r.outPath)).packets;
  assert.equal(out.map((p) => p.timeNs), times);
  assert.equal(
    out.map((p) => be(p.data, 1, 8)),
    [5_000n, 9_000n, 9_000n, 9_000n, 20_000n, 20_000n],
  );
  assert.equal(out.map((p) => be(p.data, 9, 8)), [1n, 2n, 3n, 4n, 5n, 6n]);
  // nf_prefetch before every nf_process, so the differential tests run generated nf_prefetch too.
  assert.equal(out.map((p) => be(p.data, 17, 8)), [1n, 2n, 3n, 4n, 5n, 6n]);
});

test("trace: big-endian, microsecond input is read by C; env has one device per IDB with MAC 02:00:00:00:00:XX", async () => {
  const bytes = file(
    shb(false),
    idb(false),
    idb(false),
    idb(false, 0x80 | 20),
    epb(false, 1, 123_456n, packet(0xe0)),
    epb(false, 2, 1n << 20n, packet(0xe0)),
    block(false, 3, (b) => b.u32(64).bytes(packet(0xe0))),
  );
  const r = await trace(bytes);
  assert.is(r.exitCode, 0, r.stderr);
  const out = readPcapng(readBytes(r.outPath)).packets;
  assert.equal(
    out.map((p) => [p.device, p.timeNs, be(p.data, 1, 2), be(p.data, 3, 6)]),
    [
      [0, 123_456_000n, 3n, 0x020000000001n], // device 1 -> 0
      // device 2 -> 3 does not exist: dropped
      [1, 1_000_000_000n, 3n, 0x020000000000n], // SPB: device 0, previous timestamp
    ],
  );
});

test("trace: packets over 65535 bytes are dropped with a counted warning", async () => {
  const input = [
    { device: 0, timeNs: 1n, data: packet(0x11, 70_000) },
    { device: 0, timeNs: 2n, data: packet(0x11, 65_535) },
    { device: 1, timeNs: 3n, data: packet(0x11, 70_001) },
  ];
  const r = await trace(writePcapng(2, input));
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /^warning: 2 packets longer than 65535 bytes dropped unprocessed$/);
  const out = readPcapng(readBytes(r.outPath)).packets;
  assert.equal(out.map((p) => [p.device, p.data.length]), [[1, 65_535]]);
});

for (const [name, bytes, message] of MALFORMED) {
  test(`trace: malformed input (${name}) -> exit 1, one line, no output`, async () => {
    const r = await trace(bytes);
    assert.is(r.exitCode, 1, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.is(lines.length, 1, r.stderr);
    assert.ok((lines[0] ?? "").startsWith(`error: ${r.inPath}: `), r.stderr);
    assert.match(lines[0] ?? "", message);
    assert.ok(!existsSync(r.outPath));
  });
}

test("trace: missing input file -> exit 1; no interface -> exit 1; too many interfaces -> exit 1", async () => {
  const bin = await fixtureBinary("trace");
  const r1 = await run(bin, [tmpPath("nope.pcapng"), tmpPath("o.pcapng"), "--external-ip", "1.2.3.4"]);
  assert.is(r1.exitCode, 1);
  assert.match(r1.stderr, /^error: cannot read .*No such file/);
  const r2 = await trace(file(shb(true)));
  assert.is(r2.exitCode, 1);
  assert.match(r2.stderr, /declares no interface/);
  const r3 = await trace(writePcapng(33, []));
  assert.is(r3.exitCode, 1);
  assert.match(r3.stderr, /33 interfaces.*at most 32/);
});

test("trace: a non-Ethernet interface is processed with a warning", async () => {
  const raw = file(shb(true), block(true, 1, (b) => b.u16(101).u16(0).u32(0).u16(0).u16(0)), idb(true), epb(true, 0, 5n, packet(0x11)));
  const r = await trace(raw);
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /^warning: .*1 interface is not Ethernet/);
  assert.equal(readPcapng(readBytes(r.outPath)).packets.map((p) => [p.device, p.timeNs]), [[1, 5000n]]);
});

test("trace: an empty capture gives an output with the same interfaces and no packet", async () => {
  const r = await trace(writePcapng(5, []));
  assert.is(r.exitCode, 0, r.stderr);
  const out = readPcapng(readBytes(r.outPath));
  assert.is(out.interfaces.length, 5);
  assert.is(out.packets.length, 0);
});

test("tshark reads the trace shell's output", async () => {
  if (!hasCommand("tshark")) {
    console.log("  (tshark not installed: skipped)");
    return;
  }
  const input: Packet[] = [
    { device: 0, timeNs: 1_700_000_000_123_456_789n, data: packet(0x11) },
    { device: 2, timeNs: 1_700_000_001_000_000_001n, data: packet(0xff) },
  ];
  const r = await trace(writePcapng(3, input));
  assert.is(r.exitCode, 0, r.stderr);
  const t = await run("tshark", ["-r", r.outPath, "-T", "fields", "-e", "frame.interface_id", "-e", "frame.time_epoch", "-e", "frame.len"]);
  assert.is(t.exitCode, 0, t.stderr);
  const rows = t.stdout.trim().split("\n").map((l) => l.split("\t"));
  assert.equal(rows, [
    ["1", "1700000000.123456789", "64"],
    ["0", "1700000001.000000001", "64"],
    ["1", "1700000001.000000001", "64"],
  ]);
});

test.run();
