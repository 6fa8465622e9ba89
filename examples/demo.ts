/**
 * Demo: build the NAT, run it under DPDK on examples/lan.pcap (device 1, LAN) and
 * examples/wan.pcap (device 0, WAN), and print what it sent, decoded by tshark.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execa } from "execa";
import { build } from "../compiler/cli/main.ts";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const out = path.join(ROOT, "build", "demo");
fs.mkdirSync(out, { recursive: true });

console.log("== vigorc build nfs/nat.ts -o build/demo/nat");
const built = await build(path.join(ROOT, "nfs/nat.ts"), "dpdk", path.join(out, "nat"));
if (!built) process.exit(2);

const eal = ["--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--no-telemetry", "-l", "0", "--log-level", "error"];
const vdevs = [
  `--vdev=net_pcap0,rx_pcap=${ROOT}/examples/wan.pcap,tx_pcap=${out}/out-wan.pcap`,
  `--vdev=net_pcap1,rx_pcap=${ROOT}/examples/lan.pcap,tx_pcap=${out}/out-lan.pcap`,
];
const flags = ["--wan", "0", "--external-ip", "192.0.2.1", "--eth-dest", "0,02:00:00:00:0a:0a", "--eth-dest", "1,02:00:00:00:0b:0b", "--idle-exit-ms", "300", "--stats"];
console.log(`== build/demo/nat ${[...eal, ...vdevs].join(" ")} -- ${flags.join(" ")}`);
const run = await execa(built.binary, [...eal, ...vdevs, "--", ...flags], { reject: false, timeout: 60_000 });
console.log(run.stdout);
if (run.exitCode !== 0) {
  console.error(run.stderr);
  process.exit(1);
}

for (const [label, file] of [["LAN in (device 1)", `${ROOT}/examples/lan.pcap`], ["WAN in (device 0)", `${ROOT}/examples/wan.pcap`], ["sent on the WAN (device 0)", `${out}/out-wan.pcap`], ["sent on the LAN (device 1)", `${out}/out-lan.pcap`]]) {
  console.log(`\n== ${label}`);
  const t = await execa("tshark", ["-r", file!, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields", "-e", "frame.number", "-e", "eth.src", "-e", "eth.dst", "-e", "ip.src", "-e", "ip.dst", "-e", "_ws.col.Protocol", "-e", "tcp.srcport", "-e", "udp.srcport", "-e", "tcp.dstport", "-e", "udp.dstport", "-e", "ip.checksum.status", "-E", "header=y"], { reject: false });
  console.log(t.exitCode === 0 ? t.stdout || "(nothing)" : `tshark failed: ${t.stderr}`);
}
console.log("\nThe LAN flows leave with source 192.0.2.1 and ports 1024, 1025, ...; the unsolicited WAN packets are dropped.");
