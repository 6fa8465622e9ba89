/**
 * Side-by-side comparison of DPDK binaries on the bench harness (pcap infinite_rx -> NF ->
 * net_null), runs interleaved binary by binary, each at SCHED_FIFO priority when run as root:
 *
 *   npx tsx bench/compare.ts [--flows N] [--runs N] [--seconds S] [--burst B] BINARY...
 *
 * A binary whose path contains "nop" runs without flags; any other gets the NAT's bench flags.
 * Prints, per binary, median Mpps, NF cycles per packet and loop cycles per packet. Use it to
 * measure a change (build the NF before and after with `vigorc build -o`) as a ratio in one run.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writePcap } from "../dsl/pcapng.ts";
import { frame, ipv4, rng } from "../tests/lib/packets.ts";

function usage(msg: string): never {
  console.error(`compare: ${msg}\nusage: npx tsx bench/compare.ts [--flows N] [--runs N] [--seconds S] [--burst B] BINARY...`);
  process.exit(2);
}

const opts = { flows: 60000, runs: 5, seconds: 3, burst: 1 };
const binaries: string[] = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const key = a.replace(/^--/, "") as keyof typeof opts;
  if (a.startsWith("--") && key in opts) {
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 1) usage(`${a} needs a positive whole number`);
    opts[key] = v;
  } else if (a.startsWith("-")) usage(`unknown option ${a}`);
  else if (!fs.existsSync(a)) usage(`no such binary: ${a}`);
  else binaries.push(path.resolve(a));
}
if (binaries.length === 0) usage("give at least one binary");

/** The same traffic as bench/run.ts: one 60-byte UDP frame per flow, flows shuffled. */
const pcap = path.join(os.tmpdir(), `vigorc-compare-${opts.flows}.pcap`);
if (!fs.existsSync(pcap)) {
  const r = rng(0x5eed + opts.flows);
  const order = Array.from({ length: opts.flows }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const packets = order.map((f, n) => ({
    timeNs: 1_000_000_000n + BigInt(n) * 100n,
    data: frame({ srcMac: 0x020000000101n, dstMac: 0x020000000102n, srcIp: ipv4(10, 99, (f >> 8) & 0xff, 1 + ((f >> 16) & 0x3f)), dstIp: ipv4(198, 18, 0, 1 + (f % 7)), protocol: 17, srcPort: 10000 + (f & 0xff) * 17, dstPort: 5000 + (f % 13), payload: 18 }),
  }));
  fs.writeFileSync(pcap, writePcap(packets));
}

const NAT_FLAGS = ["--wan", "1", "--external-ip", "198.18.255.1", "--start-port", "0", "--max-flows", "65536", "--expiration", "60s"];
const realtime = process.getuid?.() === 0 && spawnSync("chrt", ["--fifo", "1", "true"]).status === 0;
const results = new Map<string, { mpps: number[]; nf: number[]; loop: number[] }>();
for (let run = 1; run <= opts.runs; run++) {
  for (const bin of binaries) {
    const args = ["-l", "1", "--no-huge", "--no-pci", "-m", "768", "--no-shconf", "--no-telemetry", "--log-level", "lib.eal:error", `--vdev=net_pcap0,rx_pcap=${pcap},infinite_rx=1`, "--vdev=net_null0,no-rx=1", "--", ...(path.basename(bin).includes("nop") ? [] : NAT_FLAGS), "--burst", String(opts.burst), "--duration-s", String(opts.seconds), "--mbufs", "131071", "--stats"];
    const out = realtime ? execFileSync("chrt", ["--fifo", "50", bin, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }) : execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const kv = new Map(out.split("\n").map((l) => l.trim().split("=") as [string, string]));
    const e = results.get(bin) ?? { mpps: [], nf: [], loop: [] };
    e.mpps.push(Number(kv.get("mpps")));
    e.nf.push(Number(kv.get("nf_cycles_per_packet")));
    e.loop.push(Number(kv.get("loop_cycles_per_packet")));
    results.set(bin, e);
    console.error(`run ${run}/${opts.runs} ${path.basename(bin)}: ${kv.get("mpps")} Mpps, NF ${kv.get("nf_cycles_per_packet")}, loop ${kv.get("loop_cycles_per_packet")} cycles/packet`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`${opts.flows} flows, burst ${opts.burst}, ${opts.runs} runs x ${opts.seconds} s${realtime ? ", SCHED_FIFO" : ""}; medians:`);
for (const [bin, e] of results) console.log(`  ${bin}: ${median(e.mpps).toFixed(2)} Mpps, NF ${median(e.nf).toFixed(0)}, loop ${median(e.loop).toFixed(0)} cycles/packet`);
