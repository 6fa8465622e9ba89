/**
 * Throughput benchmark: NOP vs NAT on DPDK's pcap (infinite_rx) -> net_null harness, one core.
 *
 *   npm run bench                        # NOP and NAT, burst 1 (strict and pipelined) and 32,
 *                                        # 60,000 flows, 5 runs x 5 s
 *   npm run bench -- --runs 3 --seconds 2  # quicker
 *   npm run bench -- --sweep             # + throughput against flow count (bench/sweep.svg)
 *
 * Options: --runs N (>= 1, default 5), --seconds S (default 5), --flows N (default 60000),
 * --bursts 1,32, --sweep, --sweep-flows 1000,2000,..., --sweep-runs N (default 3),
 * --sweep-burst B (default 1), --sweep-strict, --lcore N (default 1), --out DIR (default bench/),
 * --no-isolate.
 *
 * Loops: at burst 1 each NF runs twice, "strict" (the shell's --pipeline 0: each packet processed
 * before the next rx) and "pipelined" (the shell's default, --pipeline 2: packet k is prefetched,
 * then packet k - 2 processed; runtime-c/shells/README.md); a burst above 1 is one loop, "burst" (nf_prefetch
 * over the burst, then nf_process). The sweep runs the pipelined loop at burst 1 unless
 * --sweep-strict.
 *
 * Isolation: when run as root, each NF runs under SCHED_FIFO (chrt --fifo 50) on its lcore, so
 * other processes on this small machine cannot preempt it mid-measurement (on a loaded 2-core
 * machine that alone changed NOP from ~14 to ~26 Mpps). --no-isolate runs at normal priority.
 *
 * Traffic: 64-byte UDP frames on the wire (60 bytes in the capture + 4 bytes FCS), one packet
 * per flow, flows in a fixed pseudo-random order; the capture loops forever (infinite_rx), so
 * after the first pass every NAT packet is a flow-table hit (as in Vigor's experiments). The
 * frames enter on device 0 (a LAN port of the NAT: --wan 1) and leave on device 1 (net_null).
 * The NAT's table holds 65,536 flows and flows expire after 60 s (longer than any run).
 *
 * Per run the shell's --stats gives packets and TSC cycles: loop cycles per packet (rx + NF +
 * tx, from the first received packet to the end of the last burst) and the NF's own cycles per
 * packet (TSC read around the nf_prefetch and nf_process calls of each burst). I/O cost = loop - NF.
 * Runs are interleaved: run r of every (NF, burst) before run r + 1 of any.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { build } from "../compiler/cli/main.ts";
import { canUseRealtime, harnessArgs, trafficPcap, type NfName } from "./harness.ts";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

interface Options {
  runs: number;
  seconds: number;
  flows: number;
  bursts: number[];
  sweep: boolean;
  sweepFlows: number[];
  sweepRuns: number;
  sweepBurst: number;
  sweepStrict: boolean;
  lcore: number;
  out: string;
  /** Run the NF under SCHED_FIFO (chrt) so other work on the machine cannot preempt its lcore. */
  isolate: boolean;
}

function usage(msg: string): never {
  console.error(`bench: ${msg}`);
  console.error("usage: npm run bench -- [--runs N] [--seconds S] [--flows N] [--bursts 1,32] [--sweep] [--sweep-flows a,b,..] [--sweep-runs N] [--sweep-burst B] [--sweep-strict] [--lcore N] [--out DIR] [--no-isolate]");
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    runs: 5,
    seconds: 5,
    flows: 60000,
    bursts: [1, 32],
    sweep: false,
    sweepFlows: [1000, 2000, 4000, 8000, 16000, 24000, 32000, 40000, 48000, 56000, 60000, 64000],
    sweepRuns: 3,
    sweepBurst: 1,
    sweepStrict: false,
    lcore: 1,
    out: path.join(ROOT, "bench"),
    isolate: canUseRealtime(),
  };
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    if (v === undefined || !/^\d+$/.test(v)) usage(`${name} needs a whole number`);
    const n = Number(v);
    if (n < min || n > max) usage(`${name} must be in ${min}..${max}, got ${n}`);
    return n;
  };
  const list = (name: string, v: string | undefined, min: number, max: number): number[] => {
    if (v === undefined) usage(`${name} needs a comma-separated list`);
    return v.split(",").map((x) => int(name, x, min, max));
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    switch (a) {
      case "--runs": o.runs = int(a, v, 1, 1000); i++; break;
      case "--seconds": o.seconds = int(a, v, 1, 3600); i++; break;
      case "--flows": o.flows = int(a, v, 1, 65536); i++; break;
      case "--bursts": o.bursts = list(a, v, 1, 64); i++; break;
      case "--sweep": o.sweep = true; break;
      case "--sweep-flows": o.sweepFlows = list(a, v, 1, 65536); i++; break;
      case "--sweep-runs": o.sweepRuns = int(a, v, 1, 1000); i++; break;
      case "--sweep-burst": o.sweepBurst = int(a, v, 1, 64); i++; break;
      case "--sweep-strict": o.sweepStrict = true; break;
      case "--lcore": o.lcore = int(a, v, 0, 1023); i++; break;
      case "--out": if (v === undefined) usage("--out needs a directory"); o.out = path.resolve(v); i++; break;
      case "--no-isolate": o.isolate = false; break;
      case "-h": case "--help": usage("help");
      default: usage(`unknown option ${a}`);
    }
  }
  return o;
}

// ---- runs ----

interface RunResult {
  mpps: number;
  loopCycles: number;
  nfCycles: number;
  packetsIn: number;
  packetsOut: number;
  dropped: number;
  tscHz: number;
}

/** The shell's packet loop: see the header comment. */
export type Loop = "strict" | "pipelined" | "burst";

function runOnce(binary: string, nf: NfName, pcap: string, burst: number, loop: Loop, o: Options, flows: number): Promise<RunResult> {
  const args = harnessArgs(nf, pcap, { lcore: o.lcore, burst, seconds: o.seconds, flows, strict: loop === "strict" });
  return new Promise((resolve, reject) => {
    const [cmd, ...cmdArgs] = o.isolate ? ["chrt", "--fifo", "50", binary, ...args] : [binary, ...args];
    const p = spawn(cmd!, cmdArgs, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), (o.seconds + 60) * 1000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      const kv = new Map<string, string>();
      for (const line of out.split("\n")) {
        const m = /^(\w+)=(.*)$/.exec(line.trim());
        if (m) kv.set(m[1]!, m[2]!);
      }
      const num = (k: string): number => {
        const v = kv.get(k);
        if (v === undefined) throw new Error(`${nf} burst ${burst}: no ${k}= in the output (exit ${code})\n${err.slice(-2000)}`);
        return Number(v);
      };
      try {
        if (code !== 0) throw new Error(`${nf} burst ${burst} exited with ${code}\n${err.slice(-2000)}`);
        const r: RunResult = {
          mpps: num("mpps"),
          loopCycles: num("loop_cycles_per_packet"),
          nfCycles: num("nf_cycles_per_packet"),
          packetsIn: num("packets_in"),
          packetsOut: num("packets_out"),
          dropped: num("dropped"),
          tscHz: num("tsc_hz"),
        };
        if (r.packetsIn === 0) throw new Error(`${nf} burst ${burst}: no packet received\n${err.slice(-2000)}`);
        // Every packet must be forwarded: a NAT drop would mean a full table or expired flows.
        if (r.dropped > 0) throw new Error(`${nf} burst ${burst} dropped ${r.dropped} of ${r.packetsIn} packets: the harness is wrong`);
        resolve(r);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

// ---- statistics and output ----

export interface Entry {
  nf: NfName;
  burst: number;
  loop: Loop;
  flows: number;
  mpps_median: number;
  mpps_min: number;
  mpps_max: number;
  /** Median total (rx + NF + tx) TSC cycles per packet. */
  cycles_per_packet: number;
  /** Median TSC cycles per packet inside nf_process (the NF's own cost). */
  nf_cycles_per_packet: number;
  /** cycles_per_packet - nf_cycles_per_packet: the shell's and the drivers' I/O cost. */
  io_cycles_per_packet: number;
  runs: number;
  seconds: number;
  mpps_runs: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const r2 = (x: number) => Math.round(x * 100) / 100;
const r1 = (x: number) => Math.round(x * 10) / 10;

function entry(nf: NfName, burst: number, loop: Loop, flows: number, rs: RunResult[], seconds: number): Entry {
  const mpps = rs.map((r) => r.mpps);
  const total = median(rs.map((r) => r.loopCycles));
  const nfc = median(rs.map((r) => r.nfCycles));
  return {
    nf, burst, loop, flows,
    mpps_median: r2(median(mpps)), mpps_min: r2(Math.min(...mpps)), mpps_max: r2(Math.max(...mpps)),
    cycles_per_packet: r1(total), nf_cycles_per_packet: r1(nfc), io_cycles_per_packet: r1(total - nfc),
    runs: rs.length, seconds, mpps_runs: mpps.map(r2),
  };
}

/** The loops measured at a burst size: both at burst 1 (unless `only` names one), else "burst". */
function loopsAt(burst: number, only?: Loop): Loop[] {
  if (burst > 1) return ["burst"];
  return only !== undefined ? [only] : ["strict", "pipelined"];
}

async function measure(
  binaries: Record<NfName, string>, flows: number, bursts: number[], runs: number, o: Options, workDir: string, onlyLoop?: Loop,
): Promise<Entry[]> {
  const pcap = path.join(workDir, `udp-${flows}-flows.pcap`);
  if (!fs.existsSync(pcap)) trafficPcap(flows, pcap);
  const configs: { nf: NfName; burst: number; loop: Loop }[] = [];
  for (const burst of bursts) for (const loop of loopsAt(burst, onlyLoop)) for (const nf of ["nop", "nat"] as const) configs.push({ nf, burst, loop });
  const results = new Map<string, RunResult[]>();
  const key = (c: { nf: NfName; burst: number; loop: Loop }) => `${c.nf}/${c.burst}/${c.loop}`;
  for (let run = 1; run <= runs; run++) {
    for (const c of configs) {
      const r = await runOnce(binaries[c.nf], c.nf, pcap, c.burst, c.loop, o, flows);
      results.set(key(c), [...(results.get(key(c)) ?? []), r]);
      console.error(`  flows ${flows} run ${run}/${runs} ${c.nf.padEnd(3)} burst ${String(c.burst).padStart(2)} ${c.loop.padEnd(9)}: ${r.mpps.toFixed(2)} Mpps, ${r.loopCycles.toFixed(0)} cycles/packet (NF ${r.nfCycles.toFixed(0)})`);
    }
  }
  return configs.map((c) => entry(c.nf, c.burst, c.loop, flows, results.get(key(c))!, o.seconds));
}

function markdownTable(entries: Entry[]): string {
  const nop = new Map(entries.filter((e) => e.nf === "nop").map((e) => [`${e.burst}/${e.loop}/${e.flows}`, e]));
  const lines = [
    "| NF | burst | loop | flows | Mpps median | Mpps min | Mpps max | cycles/packet (total) | NF cycles/packet | I/O cycles/packet | vs NOP |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const e of entries) {
    const base = nop.get(`${e.burst}/${e.loop}/${e.flows}`);
    const ratio = base && base.mpps_median > 0 ? `${Math.round((e.mpps_median / base.mpps_median) * 100)}%` : "";
    lines.push(`| ${e.nf.toUpperCase()} | ${e.burst} | ${e.loop} | ${e.flows} | ${e.mpps_median.toFixed(2)} | ${e.mpps_min.toFixed(2)} | ${e.mpps_max.toFixed(2)} | ${e.cycles_per_packet.toFixed(1)} | ${e.nf_cycles_per_packet.toFixed(1)} | ${e.io_cycles_per_packet.toFixed(1)} | ${ratio} |`);
  }
  return lines.join("\n");
}

function sweepSvg(entries: Entry[], burst: number, loop: Loop): string {
  const W = 720, H = 420, L = 70, R = 150, T = 40, B = 60;
  const series: { nf: NfName; color: string; pts: Entry[] }[] = [
    { nf: "nop", color: "#1f77b4", pts: entries.filter((e) => e.nf === "nop").sort((a, b) => a.flows - b.flows) },
    { nf: "nat", color: "#d62728", pts: entries.filter((e) => e.nf === "nat").sort((a, b) => a.flows - b.flows) },
  ];
  const maxFlows = Math.max(...entries.map((e) => e.flows));
  const maxMpps = Math.max(1, ...entries.map((e) => e.mpps_max));
  const yTop = Math.ceil(maxMpps / 5) * 5;
  const x = (f: number) => L + (f / maxFlows) * (W - L - R);
  const y = (m: number) => T + (1 - m / yTop) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">Throughput vs flow count (burst ${burst}${loop === "burst" ? "" : `, ${loop} loop`}, 64-byte UDP, one core; median of runs, bars: min-max)</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 20}" text-anchor="middle">flows (NAT table: 65,536 entries)</text>`,
    `<text x="20" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 20 ${(T + H - B) / 2})">Mpps</text>`,
  ];
  for (let m = 0; m <= yTop; m += yTop / 5) {
    parts.push(`<line x1="${L}" y1="${y(m)}" x2="${W - R}" y2="${y(m)}" stroke="#ddd"/>`, `<text x="${L - 6}" y="${y(m) + 4}" text-anchor="end">${m}</text>`);
  }
  for (let f = 0; f <= maxFlows; f += 16000) {
    parts.push(`<line x1="${x(f)}" y1="${H - B}" x2="${x(f)}" y2="${H - B + 5}" stroke="black"/>`, `<text x="${x(f)}" y="${H - B + 18}" text-anchor="middle">${f}</text>`);
  }
  series.forEach((s, i) => {
    if (s.pts.length === 0) return;
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.pts.map((e) => `${x(e.flows).toFixed(1)},${y(e.mpps_median).toFixed(1)}`).join(" ")}"/>`);
    for (const e of s.pts) {
      parts.push(
        `<line x1="${x(e.flows)}" y1="${y(e.mpps_min)}" x2="${x(e.flows)}" y2="${y(e.mpps_max)}" stroke="${s.color}"/>`,
        `<circle cx="${x(e.flows)}" cy="${y(e.mpps_median)}" r="3" fill="${s.color}"><title>${s.nf} ${e.flows} flows: ${e.mpps_median} Mpps</title></circle>`,
      );
    }
    parts.push(`<rect x="${W - R + 15}" y="${T + i * 20}" width="14" height="4" fill="${s.color}"/>`, `<text x="${W - R + 35}" y="${T + i * 20 + 6}">${s.nf.toUpperCase()}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  return `${cpu}, ${os.cpus().length} CPUs, Linux ${os.release()}, commit ${commit}, ${new Date().toISOString()}`;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const workDir = path.join(ROOT, "build", "bench");
  fs.mkdirSync(workDir, { recursive: true });
  fs.mkdirSync(o.out, { recursive: true });
  console.error("bench: building NOP and NAT (dpdk target)");
  const binaries = {} as Record<NfName, string>;
  for (const nf of ["nop", "nat"] as const) {
    const r = await build(path.join(ROOT, "nfs", `${nf}.ts`), "dpdk", path.join(workDir, nf));
    if (!r) throw new Error(`nfs/${nf}.ts was rejected by the frontend`);
    binaries[nf] = r.binary;
  }
  const command = `npm run bench --${process.argv.slice(2).map((a) => ` ${a}`).join("")}`;
  console.error(`bench: ${o.runs} runs x ${o.seconds} s per (NF, burst), ${o.flows} flows, lcore ${o.lcore}${o.isolate ? ", SCHED_FIFO" : ", shared with other work (no SCHED_FIFO)"}`);
  const entries = await measure(binaries, o.flows, o.bursts, o.runs, o, workDir);
  let sweep: Entry[] = [];
  if (o.sweep) {
    const sweepLoop = loopsAt(o.sweepBurst, o.sweepStrict ? "strict" : "pipelined")[0]!;
    console.error(`bench: sweep over ${o.sweepFlows.join(", ")} flows, burst ${o.sweepBurst} (${sweepLoop}), ${o.sweepRuns} runs`);
    for (const flows of o.sweepFlows) {
      const already = flows === o.flows && o.bursts.includes(o.sweepBurst) && o.sweepRuns <= o.runs;
      sweep.push(...(already ? entries.filter((e) => e.burst === o.sweepBurst && e.loop === sweepLoop) : await measure(binaries, flows, [o.sweepBurst], o.sweepRuns, o, workDir, sweepLoop)));
    }
    fs.writeFileSync(path.join(o.out, "sweep.svg"), sweepSvg(sweep, o.sweepBurst, sweepLoop));
  }
  const all = [...entries, ...sweep.filter((e) => !entries.includes(e))];
  fs.writeFileSync(path.join(o.out, "results.json"), JSON.stringify(all, null, 2) + "\n");
  const table = markdownTable(entries);
  const md = [
    "# Benchmark results",
    "",
    `Command: \`${command}\``,
    "",
    `Machine: ${machine()}`,
    "",
    `Harness: DPDK net_pcap (infinite_rx) -> NF -> net_null (no-rx), one lcore${o.isolate ? " at SCHED_FIFO priority (chrt --fifo 50)" : " (not isolated: other load on the machine shows in the figures)"}, no DPDK hugepages (the NF's tables use transparent huge pages); 64-byte UDP frames; ${o.runs} interleaved runs of ${o.seconds} s each; cycles are TSC cycles.`,
    "",
    table,
    ...(o.sweep ? ["", `## Sweep (burst ${o.sweepBurst}, ${o.sweepBurst > 1 ? "burst" : o.sweepStrict ? "strict" : "pipelined"} loop, ${o.sweepRuns} runs each)`, "", markdownTable(sweep), "", "![throughput vs flows](sweep.svg)"] : []),
    "",
  ].join("\n");
  fs.writeFileSync(path.join(o.out, "results.md"), md);
  console.log(table);
  for (const loop of ["strict", "pipelined"] as const) {
    const nat1 = entries.find((e) => e.nf === "nat" && e.burst === 1 && e.loop === loop);
    const nop1 = entries.find((e) => e.nf === "nop" && e.burst === 1 && e.loop === loop);
    if (nat1 && nop1) console.log(`${loop === "strict" ? "\n" : ""}NAT/NOP at burst 1 (${loop} loop), ${o.flows} flows: ${Math.round((nat1.mpps_median / nop1.mpps_median) * 100)}% (target >= 50%)`);
  }
  console.log(`wrote ${path.relative(ROOT, path.join(o.out, "results.json"))}, ${path.relative(ROOT, path.join(o.out, "results.md"))}${o.sweep ? `, ${path.relative(ROOT, path.join(o.out, "sweep.svg"))}` : ""}`);
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
