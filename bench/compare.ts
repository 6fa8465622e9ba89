/**
 * Side-by-side comparison of DPDK binaries on the bench harness (pcap infinite_rx -> NF ->
 * net_null), runs interleaved binary by binary, each at SCHED_FIFO priority when run as root:
 *
 *   npx tsx bench/compare.ts [--flows N] [--runs N] [--seconds S] [--burst B] BINARY[,FLAG...]...
 *
 * A binary whose path contains "nop" runs without flags; any other gets the NAT's bench flags.
 * Shell flags after commas are added to that binary's runs (e.g. `build/nat,--pipeline,0` beside
 * `build/nat` compares the strict burst-1 loop with the pipelined one); `--burst,B` there replaces
 * --burst for that binary (e.g. `build/nat build/nat,--burst,32`: both bursts in one run).
 * Prints, per binary, median Mpps, NF cycles per packet and loop cycles per packet. Use it to
 * measure a change (build the NF before and after with `vigorc build -o`) as a ratio in one run.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { canUseRealtime, harnessArgs, trafficPcap } from "./harness.ts";

function usage(msg: string): never {
  console.error(`compare: ${msg}\nusage: npx tsx bench/compare.ts [--flows N] [--runs N] [--seconds S] [--burst B] BINARY[,FLAG...]...`);
  process.exit(2);
}

const opts = { flows: 60000, runs: 5, seconds: 3, burst: 1 };
const binaries: { label: string; file: string; flags: string[]; burst: number | undefined }[] = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const key = a.replace(/^--/, "") as keyof typeof opts;
  if (a.startsWith("--") && key in opts) {
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 1) usage(`${a} needs a positive whole number`);
    opts[key] = v;
  } else if (a.startsWith("-")) usage(`unknown option ${a}`);
  else {
    const [file = "", ...flags] = a.split(",");
    if (!fs.existsSync(file)) usage(`no such binary: ${file}`);
    const at = flags.indexOf("--burst");
    const burst = at >= 0 ? Number(flags.splice(at, 2)[1]) : undefined;
    if (burst !== undefined && !(Number.isInteger(burst) && burst >= 1)) usage(`${a}: --burst needs a positive whole number`);
    binaries.push({ label: a, file: path.resolve(file), flags, burst });
  }
}
if (binaries.length === 0) usage("give at least one binary");

const pcap = path.join(os.tmpdir(), `vigorc-compare-${opts.flows}.pcap`);
if (!fs.existsSync(pcap)) trafficPcap(opts.flows, pcap);
const realtime = canUseRealtime();
const results = new Map<string, { mpps: number[]; nf: number[]; loop: number[] }>();
for (let run = 1; run <= opts.runs; run++) {
  for (const { label, file, flags, burst } of binaries) {
    const args = [...harnessArgs(path.basename(file).includes("nop") ? "nop" : "nat", pcap, { lcore: 1, burst: burst ?? opts.burst, seconds: opts.seconds, flows: opts.flows }), ...flags];
    const out = realtime ? execFileSync("chrt", ["--fifo", "50", file, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }) : execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const kv = new Map(out.split("\n").map((l) => l.trim().split("=") as [string, string]));
    const e = results.get(label) ?? { mpps: [], nf: [], loop: [] };
    e.mpps.push(Number(kv.get("mpps")));
    e.nf.push(Number(kv.get("nf_cycles_per_packet")));
    e.loop.push(Number(kv.get("loop_cycles_per_packet")));
    results.set(label, e);
    console.error(`run ${run}/${opts.runs} ${label}: ${kv.get("mpps")} Mpps, NF ${kv.get("nf_cycles_per_packet")}, loop ${kv.get("loop_cycles_per_packet")} cycles/packet`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`${opts.flows} flows, burst ${opts.burst}, ${opts.runs} runs x ${opts.seconds} s${realtime ? ", SCHED_FIFO" : ""}; medians:`);
for (const [label, e] of results) console.log(`  ${label}: ${median(e.mpps).toFixed(2)} Mpps, NF ${median(e.nf).toFixed(0)}, loop ${median(e.loop).toFixed(0)} cycles/packet`);
