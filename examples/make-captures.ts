/** Regenerates the demo's bundled captures (examples/lan.pcap, examples/wan.pcap). */
import * as fs from "node:fs";
import * as path from "node:path";
import { writePcap } from "../dsl/pcapng.ts";
import { frame, ipv4 } from "../tests/lib/packets.ts";

const dir = path.dirname(new URL(import.meta.url).pathname);
const lan = [
  frame({ srcIp: ipv4(10, 0, 0, 2), dstIp: ipv4(198, 51, 100, 7), protocol: 6, srcPort: 40000, dstPort: 80, payload: 16 }),
  frame({ srcIp: ipv4(10, 0, 0, 3), dstIp: ipv4(198, 51, 100, 7), protocol: 17, srcPort: 5353, dstPort: 53, payload: 24 }),
  frame({ srcIp: ipv4(10, 0, 0, 2), dstIp: ipv4(198, 51, 100, 7), protocol: 6, srcPort: 40000, dstPort: 80, payload: 32 }),
  frame({ srcIp: ipv4(10, 0, 0, 4), dstIp: ipv4(203, 0, 113, 5), protocol: 17, srcPort: 6000, dstPort: 123, payload: 48, udpNoChecksum: true }),
  frame({ srcIp: ipv4(10, 0, 0, 5), dstIp: ipv4(203, 0, 113, 5), protocol: 1, payload: 16 }),
].map((data, i) => ({ timeNs: BigInt(i + 1) * 1_000_000n, data }));
const wan = [
  frame({ srcIp: ipv4(198, 51, 100, 66), dstIp: ipv4(192, 0, 2, 1), protocol: 6, srcPort: 80, dstPort: 5000, payload: 8 }),
  frame({ srcIp: ipv4(198, 51, 100, 66), dstIp: ipv4(192, 0, 2, 1), protocol: 17, srcPort: 53, dstPort: 60000, payload: 8 }),
].map((data, i) => ({ timeNs: BigInt(i + 1) * 1_000_000n, data }));
fs.writeFileSync(path.join(dir, "lan.pcap"), writePcap(lan));
fs.writeFileSync(path.join(dir, "wan.pcap"), writePcap(wan));
