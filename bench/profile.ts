/**
 * The NF's own per-packet cost without DPDK (bench/nf_loop.c: a loop calling nf_process over the
 * bench capture), natively and under valgrind's callgrind with this CPU's caches:
 *
 *   npx tsx bench/profile.ts [--flows N] [--passes N] [--runs N] [--burst B | --pipeline D] [--callgrind] NF...
 *   npx tsx bench/profile.ts --build OUT NF_C      # only build the loop binary for NF_C
 *
 * An NF is a generated nf.c (built with this tree's runtime-c) or a loop binary built before
 * with --build (to compare runtimes: build the base one from another tree). The bench's traffic
 * (bench/harness.ts: --flows LAN flows, one 60-byte frame each) is replayed --passes times (the
 * first adds every flow, the later ones are flow-table hits, as in the bench), in the DPDK shell's
 * strict burst-1 loop, or with --burst B its loop over bursts (nf_prefetch over the burst, then
 * nf_process), or with --pipeline D its burst-1 pipeline (bench/nf_loop.c).
 *
 * Native: --runs interleaved runs (SCHED_FIFO when root), the median of the TSC cycles per packet
 * of the later passes, frame copy included. --callgrind: instructions and cache misses per packet
 * inside nf_process and nf_prefetch over the later passes (load-independent), with D1 and LL set
 * to this CPU's L1d and L2 (from /sys), so "LL misses" are the L2 misses that cost L3 or memory latency.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BASE_CFLAGS, RUNTIME_C_DIR } from "../compiler/cli/link.ts";
import { canUseRealtime, NF_FLAGS, trafficPcap } from "./harness.ts";

const BENCH_DIR = path.dirname(new URL(import.meta.url).pathname);

function usage(msg: string): never {
  console.error(`profile: ${msg}\nusage: npx tsx bench/profile.ts [--flows N] [--passes N] [--runs N] [--burst B | --pipeline D] [--callgrind] NF...\n       npx tsx bench/profile.ts --build OUT NF_C`);
  process.exit(2);
}

/** Compiles nf_loop.c alone (no -flto: nf_process stays a call) and links it with nfC and the
 * runtime as `vigorc build` does (compiler/cli/link.ts's flags, -g for annotation). */
export function buildLoop(nfC: string, out: string): void {
  const shells = path.join(RUNTIME_C_DIR, "shells");
  const structures = path.join(RUNTIME_C_DIR, "structures");
  const loopObject = `${out}.loop.o`;
  execFileSync("cc", ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I", shells, "-c", path.join(BENCH_DIR, "nf_loop.c"), "-o", loopObject], { stdio: "inherit" });
  const sources = fs.readdirSync(structures).filter((n) => n.endsWith(".c")).sort().map((n) => path.join(structures, n));
  execFileSync("cc", [...BASE_CFLAGS, "-g", "-I", shells, "-I", structures, "-I", path.join(RUNTIME_C_DIR, "packet"), nfC, ...sources, path.join(shells, "flags.c"), loopObject, "-o", out], { stdio: "inherit" });
  fs.rmSync(loopObject);
}

/** A cache level from /sys: size in bytes, ways, line size (valgrind's --D1/--LL syntax). */
function cacheGeometry(index: number): string {
  const dir = `/sys/devices/system/cpu/cpu0/cache/index${index}`;
  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8").trim();
  const size = read("size");
  const bytes = Number.parseInt(size, 10) * (size.endsWith("K") ? 1024 : size.endsWith("M") ? 1 << 20 : 1);
  return `${bytes},${read("ways_of_associativity")},${read("coherency_line_size")}`;
}

export interface CallgrindCounts {
  /** Per packet, inside nf_process and nf_prefetch, passes after the first. */
  instructions: number;
  d1Misses: number;
  llMisses: number;
}

export function callgrind(binary: string, args: string[], packets: number): CallgrindCounts {
  const out = path.join(os.tmpdir(), `vigorc-profile-${process.pid}.callgrind`);
  execFileSync("valgrind", ["--tool=callgrind", "--cache-sim=yes", `--D1=${cacheGeometry(0)}`, `--LL=${cacheGeometry(2)}`, "--toggle-collect=nf_process", "--toggle-collect=nf_prefetch", `--callgrind-out-file=${out}`, binary, ...args], { stdio: ["ignore", "ignore", "ignore"] });
  const text = fs.readFileSync(out, "utf8");
  fs.rmSync(out);
  const events = /^events: (.*)$/m.exec(text)?.[1]?.split(" ");
  const totals = /^(?:totals|summary): (.*)$/m.exec(text)?.[1]?.split(" ").map(Number);
  if (!events || !totals) throw new Error("callgrind output without events/totals");
  const get = (e: string) => {
    const i = events.indexOf(e);
    if (i < 0) throw new Error(`callgrind output without ${e}`);
    return (totals[i] ?? 0) / packets; // callgrind leaves trailing zero counts out
  };
  return { instructions: get("Ir"), d1Misses: get("D1mr") + get("D1mw"), llMisses: get("DLmr") + get("DLmw") };
}

function main(): void {
  const opts = { flows: 60000, passes: 3, runs: 5 };
  const loop: string[] = [];
  let useCallgrind = false;
  let buildOut: string | undefined;
  const nfs: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const key = a.replace(/^--/, "") as keyof typeof opts;
    if (a === "--callgrind") useCallgrind = true;
    else if (a === "--build") buildOut = argv[++i] ?? usage("--build needs an output path");
    else if (a === "--burst" || a === "--pipeline") {
      const v = argv[++i] ?? "";
      if (!/^\d+$/.test(v) || loop.length > 0) usage(`${a} needs a whole number (and only one of --burst, --pipeline)`);
      loop.push(a, v);
    }
    else if (a.startsWith("--") && key in opts) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) usage(`${a} needs a positive whole number`);
      opts[key] = v;
    } else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else if (!fs.existsSync(a)) usage(`no such file: ${a}`);
    else nfs.push(path.resolve(a));
  }
  if (buildOut !== undefined) {
    if (nfs.length !== 1 || !nfs[0]!.endsWith(".c")) usage("--build takes one generated nf.c");
    buildLoop(nfs[0]!, path.resolve(buildOut));
    return;
  }
  if (nfs.length === 0) usage("give at least one nf.c or loop binary");
  if (opts.passes < 2) usage("--passes must be at least 2");

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "vigorc-profile-"));
  const binaries = nfs.map((nf, i) => {
    if (!nf.endsWith(".c")) return nf;
    const out = path.join(work, `loop${i}`);
    buildLoop(nf, out);
    return out;
  });
  const pcap = path.join(work, "traffic.pcap");
  trafficPcap(opts.flows, pcap);
  const args = [pcap, String(opts.passes), ...loop, ...NF_FLAGS.nat];
  const realtime = canUseRealtime();
  const cycles = binaries.map(() => [] as number[]);
  for (let run = 0; run < opts.runs; run++) {
    binaries.forEach((bin, i) => {
      const cmd = realtime ? ["chrt", "--fifo", "50", bin, ...args] : [bin, ...args];
      const out = execFileSync(cmd[0]!, cmd.slice(1), { encoding: "utf8" });
      const c = Number(/loop_cycles_per_packet=([\d.]+)/.exec(out)?.[1]);
      cycles[i]!.push(c);
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(`${opts.flows} flows, ${opts.passes} passes (hits after the first), ${loop.length > 0 ? loop.join(" ") : "strict burst 1"}, ${opts.runs} interleaved runs${realtime ? ", SCHED_FIFO" : ""}, load ${os.loadavg()[0]!.toFixed(1)}:`);
  binaries.forEach((bin, i) => {
    let line = `  ${nfs[i]}: loop ${median(cycles[i]!).toFixed(1)} cycles/packet (runs: ${cycles[i]!.map((c) => c.toFixed(0)).join(" ")})`;
    if (useCallgrind) {
      const c = callgrind(bin, args, opts.flows * (opts.passes - 1));
      line += `; nf_process and nf_prefetch: ${c.instructions.toFixed(1)} instructions, ${c.d1Misses.toFixed(2)} D1 misses, ${c.llMisses.toFixed(2)} LL (L2) misses per packet`;
    }
    console.log(line);
  });
  fs.rmSync(work, { recursive: true });
}

main();
