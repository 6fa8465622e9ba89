// The NAT built by vigorc, end to end on DPDK: pcap vdevs for a LAN port (device 0) and the WAN
// port (device 1), no NIC, no hugepages. The output captures are decoded by tshark (not by our
// code): addresses, ports, MACs and IPv4/TCP/UDP checksums.
//
// Ordering: with --burst 1 the shell polls device 0 then device 1 once per loop, so WAN packet k
// is processed right after LAN packet k. The WAN capture therefore starts with as many filler
// packets (unsolicited, must be dropped) as the LAN capture has packets: every reply arrives
// after every LAN packet.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writePcap } from "../dsl/pcapng.ts";
import { buildNf } from "./lib/build.ts";
import { frame, ipv4 } from "./lib/packets.ts";
import { EAL_BASE, hasCommand, run } from "./fixtures/shells/helpers.ts";

const EXTERNAL_IP = "198.18.200.1";
const START_PORT = 40000;
const MAX_FLOWS = 1000;
const LAN_MAC = 0x02_00_00_00_0a_01n; // next hop behind device 0 (--eth-dest 0,...)
const WAN_MAC = 0x02_00_00_00_0b_01n; // next hop behind device 1
const macStr = (m: bigint) => m.toString(16).padStart(12, "0").replace(/(..)(?!$)/g, "$1:");
const ipStr = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join(".");

interface Flow {
  proto: 6 | 17;
  src: number;
  sport: number;
  dst: number;
  dport: number;
}

const FLOWS: Flow[] = [
  { proto: 17, src: ipv4(10, 99, 0, 2), sport: 5353, dst: ipv4(198, 18, 0, 10), dport: 53 },
  { proto: 6, src: ipv4(10, 99, 0, 2), sport: 40001, dst: ipv4(198, 18, 0, 10), dport: 80 },
  { proto: 17, src: ipv4(10, 99, 0, 3), sport: 5353, dst: ipv4(198, 18, 0, 10), dport: 53 },
  { proto: 6, src: ipv4(10, 99, 0, 3), sport: 40001, dst: ipv4(198, 18, 0, 11), dport: 443 },
  { proto: 17, src: ipv4(10, 99, 1, 7), sport: 1234, dst: ipv4(198, 18, 0, 12), dport: 9999 },
  { proto: 6, src: ipv4(10, 99, 1, 7), sport: 1234, dst: ipv4(198, 18, 0, 12), dport: 9999 },
];

interface Decoded {
  ethSrc: string;
  ethDst: string;
  src: string;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
  ipChecksum: string;
  l4Checksum: string;
}

/** Decodes a capture with tshark, checksum validation on. */
function tshark(file: string): Decoded[] {
  const fields = ["eth.src", "eth.dst", "ip.src", "ip.dst", "ip.proto", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status"];
  const out = execFileSync(
    "tshark",
    ["-n", "-r", file, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|", "-E", "occurrence=f", ...fields.flatMap((f) => ["-e", f])],
    { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "ignore"] },
  );
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const c = l.split("|");
      const tcp = c[5] !== "";
      return {
        ethSrc: c[0]!, ethDst: c[1]!, src: c[2]!, dst: c[3]!, proto: Number(c[4]),
        sport: Number(tcp ? c[5] : c[7]), dport: Number(tcp ? c[6] : c[8]),
        ipChecksum: c[9]!, l4Checksum: tcp ? c[10]! : c[11]!,
      };
    });
}

// tshark's checksum status: 1 = good (0 bad, 2 unverified).
const GOOD = "1";

const tsharkOk = hasCommand("tshark");

test("DPDK NAT on pcap vdevs: translates LAN flows, translates replies back, drops the rest (checked by tshark)", async () => {
  if (!tsharkOk) {
    console.warn("SKIP dpdk-nat: tshark is not installed (apt-get install -y tshark)");
    return;
  }
  const binary = await buildNf("nfs/nat.ts", "dpdk");
  const dir = mkdtempSync(join(tmpdir(), "vigorc-dpdk-nat-"));
  try {
    const t0 = 1_000_000_000n;
    // LAN: each flow twice (the second packet must reuse the port), plus packets the NAT drops.
    const lan: Uint8Array[] = [];
    for (const f of [...FLOWS, ...FLOWS]) lan.push(frame({ srcMac: 0x02_00_00_00_0a_02n, srcIp: f.src, dstIp: f.dst, protocol: f.proto, srcPort: f.sport, dstPort: f.dport, payload: 30 }));
    const lanForwarded = lan.length;
    lan.push(frame({ srcIp: ipv4(10, 99, 0, 2), dstIp: ipv4(198, 18, 0, 10), protocol: 1, payload: 30 })); // ICMP
    lan.push(frame({ srcIp: ipv4(10, 99, 0, 2), dstIp: ipv4(198, 18, 0, 10), protocol: 17, srcPort: 7, dstPort: 7, payload: 30, moreFragments: true })); // fragment
    lan.push(frame({ srcIp: ipv4(10, 99, 0, 2), dstIp: ipv4(198, 18, 0, 10), protocol: 17, srcPort: 7, dstPort: 7, payload: 30 }).slice(0, 38)); // truncated UDP
    lan.push(frame({ etherType: 0x86dd, srcIp: 0, dstIp: 0, protocol: 17, payload: 30 })); // not IPv4

    // WAN: fillers (as many as LAN packets) that must be dropped, then replies, then spoofed ones.
    const ext = ipv4(198, 18, 200, 1);
    const wan: Uint8Array[] = [];
    for (let i = 0; i < lan.length; i++) {
      wan.push(frame({ srcIp: ipv4(198, 18, 0, 10), dstIp: ext, protocol: 17, srcPort: 53, dstPort: START_PORT + 500 + i, payload: 20 })); // unallocated port
    }
    // The NAT hands out the lowest free index first: flow k gets START_PORT + k (RFC 3022 leaves
    // the choice to the NAT; the LAN-side output below checks the ports really are these).
    const replies = FLOWS.map((f, k) => frame({ srcMac: 0x02_00_00_00_0b_02n, srcIp: f.dst, dstIp: ext, protocol: f.proto, srcPort: f.dport, dstPort: START_PORT + k, payload: 25 }));
    wan.push(...replies);
    wan.push(frame({ srcIp: ipv4(198, 18, 0, 99), dstIp: ext, protocol: 17, srcPort: 53, dstPort: START_PORT, payload: 20 })); // spoofed source IP
    wan.push(frame({ srcIp: FLOWS[0]!.dst, dstIp: ext, protocol: 17, srcPort: 54, dstPort: START_PORT, payload: 20 })); // wrong source port
    wan.push(frame({ srcIp: FLOWS[0]!.dst, dstIp: ext, protocol: 6, srcPort: 53, dstPort: START_PORT, payload: 20 })); // wrong protocol
    wan.push(frame({ srcIp: FLOWS[0]!.dst, dstIp: ext, protocol: 17, srcPort: 53, dstPort: START_PORT - 1, payload: 20 })); // below the port range

    const write = (name: string, frames: Uint8Array[]) => {
      const p = join(dir, name);
      writeFileSync(p, writePcap(frames.map((data, i) => ({ timeNs: t0 + BigInt(i) * 1000n, data }))));
      return p;
    };
    const lanIn = write("lan-in.pcap", lan);
    const wanIn = write("wan-in.pcap", wan);
    const lanOut = join(dir, "lan-out.pcap");
    const wanOut = join(dir, "wan-out.pcap");
    const r = await run(binary, [
      ...EAL_BASE, "-l", "0",
      `--vdev=net_pcap0,rx_pcap=${lanIn},tx_pcap=${lanOut}`,
      `--vdev=net_pcap1,rx_pcap=${wanIn},tx_pcap=${wanOut}`,
      "--",
      "--wan", "1", "--external-ip", EXTERNAL_IP, "--start-port", String(START_PORT), "--max-flows", String(MAX_FLOWS), "--expiration", "60s",
      "--eth-dest", `0,${macStr(LAN_MAC)}`, "--eth-dest", `1,${macStr(WAN_MAC)}`,
      "--burst", "1", "--idle-exit-ms", "400", "--stats",
    ], 60_000);
    assert.is(r.exitCode, 0, `NAT exited ${r.exitCode} (signal ${r.signal}, timed out ${r.timedOut}):\n${r.stderr.slice(-2000)}`);
    assert.match(r.stdout, new RegExp(`packets_in=${lan.length + wan.length}\\b`));

    // WAN side: every TCP/UDP LAN packet, translated.
    const wanPk = tshark(wanOut);
    assert.is(wanPk.length, lanForwarded, `WAN output: ${JSON.stringify(wanPk, null, 1)}`);
    const portOf = new Map<string, number>();
    wanPk.forEach((p, i) => {
      const f = FLOWS[i % FLOWS.length]!;
      assert.is(p.src, EXTERNAL_IP, `packet ${i}: source IP`);
      assert.is(p.dst, ipStr(f.dst), `packet ${i}: destination IP kept`);
      assert.is(p.proto, f.proto);
      assert.is(p.dport, f.dport, `packet ${i}: destination port kept`);
      assert.ok(p.sport >= START_PORT && p.sport < START_PORT + MAX_FLOWS, `packet ${i}: source port ${p.sport} out of range`);
      assert.is(p.ethDst, macStr(WAN_MAC), `packet ${i}: next-hop MAC`);
      assert.is(p.ipChecksum, GOOD, `packet ${i}: IPv4 checksum`);
      assert.is(p.l4Checksum, GOOD, `packet ${i}: ${f.proto === 6 ? "TCP" : "UDP"} checksum`);
      const key = JSON.stringify(f);
      if (portOf.has(key)) assert.is(p.sport, portOf.get(key), `packet ${i}: same flow, same port`);
      else portOf.set(key, p.sport);
    });
    assert.is(new Set(portOf.values()).size, FLOWS.length, "distinct flows get distinct ports");
    FLOWS.forEach((f, k) => assert.is(portOf.get(JSON.stringify(f)), START_PORT + k, `flow ${k}: lowest free port first`));

    // LAN side: exactly the valid replies, translated back to the internal hosts.
    const lanPk = tshark(lanOut);
    assert.is(lanPk.length, FLOWS.length, `LAN output: ${JSON.stringify(lanPk, null, 1)}`);
    lanPk.forEach((p, k) => {
      const f = FLOWS[k]!;
      assert.is(p.src, ipStr(f.dst), `reply ${k}: source IP kept`);
      assert.is(p.sport, f.dport, `reply ${k}: source port kept`);
      assert.is(p.dst, ipStr(f.src), `reply ${k}: destination IP translated back`);
      assert.is(p.dport, f.sport, `reply ${k}: destination port translated back`);
      assert.is(p.proto, f.proto);
      assert.is(p.ethDst, macStr(LAN_MAC), `reply ${k}: next-hop MAC`);
      assert.is(p.ipChecksum, GOOD, `reply ${k}: IPv4 checksum`);
      assert.is(p.l4Checksum, GOOD, `reply ${k}: L4 checksum`);
    });
    // Sanity of the decoding itself: tshark reports a corrupted checksum as bad.
    const bad = lan[0]!.slice();
    bad[24] = bad[24]! ^ 0xff; // IPv4 header checksum byte
    const badFile = write("bad.pcap", [bad]);
    assert.is.not(tshark(badFile)[0]!.ipChecksum, GOOD);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
