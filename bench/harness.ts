/**
 * The bench harness, shared by bench/run.ts and bench/compare.ts: the traffic capture, the DPDK
 * command line (pcap infinite_rx -> NF -> net_null, one lcore) and the NFs' flags.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { writePcap } from "../dsl/pcapng.ts";
import { frame, ipv4, rng } from "../tests/lib/packets.ts";

export type NfName = "nop" | "nat";

/** SCHED_FIFO needs root (or CAP_SYS_NICE) and chrt (util-linux). */
export function canUseRealtime(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync("chrt", ["--fifo", "1", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** `flows` distinct LAN->WAN UDP flows, one 60-byte frame each (64 on the wire), shuffled. */
export function trafficPcap(flows: number, file: string): void {
  const r = rng(0x5eed + flows);
  const order = Array.from({ length: flows }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const packets = order.map((f, n) => ({
    timeNs: 1_000_000_000n + BigInt(n) * 100n,
    data: frame({
      srcMac: 0x02_00_00_00_01_01n,
      dstMac: 0x02_00_00_00_01_02n,
      // 256 hosts x 256 source ports per host: every flow id differs.
      srcIp: ipv4(10, 99, (f >> 8) & 0xff, 1 + ((f >> 16) & 0x3f)),
      dstIp: ipv4(198, 18, 0, 1 + (f % 7)),
      protocol: 17,
      srcPort: 10000 + (f & 0xff) * 17,
      dstPort: 5000 + (f % 13),
      payload: 18,
    }),
  }));
  if (packets[0]!.data.length !== 60) throw new Error(`frame length ${packets[0]!.data.length}, expected 60`);
  fs.writeFileSync(file, writePcap(packets));
}

/** The NFs' flags on the harness: the NAT's table holds 65,536 flows that never expire in a run. */
export const NF_FLAGS: Record<NfName, string[]> = {
  nop: [],
  nat: ["--wan", "1", "--external-ip", "198.18.255.1", "--start-port", "0", "--max-flows", "65536", "--expiration", "60s"],
};

/** The binary's command line for one run (EAL arguments, then the shell's and the NF's flags).
 * `strict`: at burst 1, the shell's --pipeline 0 (each packet processed before the next rx). */
export function harnessArgs(nf: NfName, pcap: string, o: { lcore: number; burst: number; seconds: number; flows: number; strict?: boolean }): string[] {
  return [
    "-l", String(o.lcore), "--no-huge", "--no-pci", "-m", "768", "--no-shconf", "--no-telemetry", "--log-level", "lib.eal:error",
    `--vdev=net_pcap0,rx_pcap=${pcap},infinite_rx=1`,
    "--vdev=net_null0,no-rx=1",
    "--",
    ...NF_FLAGS[nf],
    "--burst", String(o.burst),
    ...(o.strict === true ? ["--pipeline", "0"] : []),
    "--duration-s", String(o.seconds),
    // The pool must hold more mbufs than the capture has packets (infinite_rx keeps them all).
    "--mbufs", String(Math.max(32767, 2 ** Math.ceil(Math.log2(o.flows + 8192)) - 1)),
    "--stats",
  ];
}
