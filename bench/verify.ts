/**
 * Verification-time benchmark: wall seconds of `vigorc verify --no-c --json` (the spec stage only)
 * for NOP, for NAT (reference spec + every property) and for each NAT property on its own.
 *
 *   npm run bench:verify                 # 5 runs of each
 *   npm run bench:verify -- --runs 3     # quicker
 *   npm run bench:verify -- --only nop   # cases whose name contains "nop"
 *
 * Each run is a fresh process (Z3 start-up included, as a user sees it). Runs are interleaved
 * (run r of every case before run r + 1 of any) so that a burst of load on the shared machine
 * does not land on one case only; the load average before and after is recorded with the
 * results, since on a loaded machine wall time is mostly waiting. Also recorded: CPU seconds
 * (user + system) of the process, a figure less sensitive to load.
 * Writes bench/verify-results.json and bench/verify-results.md (--out DIR to change).
 */
import { execa } from "execa";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

interface Case {
  name: string;
  args: string[];
}

interface Run {
  wall: number;
  cpu: number;
  proven: boolean;
  goals: string;
}

function parseOptions(argv: string[]): { runs: number; out: string; only?: string } {
  let runs = 5;
  let out = path.join(ROOT, "bench");
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--runs") {
      runs = Number(next());
      if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes an integer >= 1");
    } else if (a === "--out") out = path.resolve(next());
    else if (a === "--only") only = next();
    else throw new Error(`unknown option ${a} (options: --runs N, --out DIR, --only TEXT)`);
  }
  return { runs, out, only };
}

/** The NAT's declared properties, read from the property file (export function NAME). */
function natProperties(): string[] {
  const text = fs.readFileSync(path.join(ROOT, "specs/nat.properties.ts"), "utf8");
  return [...text.matchAll(/^export function (\w+)/gm)].map((m) => m[1]!);
}

async function runOnce(c: Case): Promise<Run> {
  const t0 = performance.now();
  // `time -f` gives the child's CPU seconds (user + system) on the last line of stderr.
  const r = await execa("/usr/bin/time", ["-f", "cpu %U %S", "node", path.join(ROOT, "bin/vigorc.js"), "verify", ...c.args, "--no-c", "--json"], { cwd: ROOT, reject: false });
  const wall = (performance.now() - t0) / 1000;
  const cpuLine = r.stderr.split("\n").filter((l) => l.startsWith("cpu ")).pop() ?? "cpu 0 0";
  const [, user, sys] = cpuLine.split(" ");
  let proven = false;
  let goals = "?";
  try {
    const report = JSON.parse(r.stdout) as { proven: boolean; stages: { name: string; goals: { proven: number; total: number } }[] };
    proven = report.proven && r.exitCode === 0;
    const spec = report.stages.find((s) => s.name === "spec");
    if (spec) goals = `${spec.goals.proven}/${spec.goals.total}`;
  } catch {
    throw new Error(`vigorc verify ${c.args.join(" ")} failed (exit ${r.exitCode}):\n${r.stderr}`);
  }
  return { wall, cpu: Number(user) + Number(sys), proven, goals };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const r2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  let cases: Case[] = [
    { name: "nop", args: ["nfs/nop.ts"] },
    { name: "nat (spec + all properties)", args: ["nfs/nat.ts"] },
    ...natProperties().map((p) => ({ name: `nat --property ${p}`, args: ["nfs/nat.ts", "--property", p] })),
  ];
  if (opts.only !== undefined) cases = cases.filter((c) => c.name.includes(opts.only!));
  const loadBefore = os.loadavg();
  const runs = new Map<string, Run[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < opts.runs; r++) {
    for (const c of cases) {
      const x = await runOnce(c);
      runs.get(c.name)!.push(x);
      console.error(`run ${r + 1}/${opts.runs} ${c.name}: ${x.wall.toFixed(2)}s wall, ${x.cpu.toFixed(2)}s cpu, ${x.proven ? "proven" : "NOT PROVEN"} ${x.goals}`);
    }
  }
  const loadAfter = os.loadavg();
  const rows = cases.map((c) => {
    const rs = runs.get(c.name)!;
    const wall = rs.map((x) => x.wall);
    const cpu = rs.map((x) => x.cpu);
    return {
      case: c.name,
      command: `vigorc verify ${c.args.join(" ")} --no-c --json`,
      runs: rs.length,
      proven: rs.every((x) => x.proven),
      goals: rs[0]!.goals,
      wall_median: r2(median(wall)),
      wall_min: r2(Math.min(...wall)),
      wall_max: r2(Math.max(...wall)),
      cpu_median: r2(median(cpu)),
    };
  });
  const machine = { cpus: os.cpus().length, load_before: loadBefore.map(r2), load_after: loadAfter.map(r2), date: new Date().toISOString() };
  fs.mkdirSync(opts.out, { recursive: true });
  fs.writeFileSync(path.join(opts.out, "verify-results.json"), JSON.stringify({ machine, rows }, null, 2) + "\n");
  const md = [
    `# vigorc verify (spec stage, --no-c): wall seconds`,
    ``,
    `${opts.runs} runs per case, interleaved, each a fresh process. ${machine.cpus} CPUs; load average (1/5/15 min) ${machine.load_before.join("/")} before, ${machine.load_after.join("/")} after. ${machine.date}.`,
    ``,
    `| case | goals | proven | wall median | wall min | wall max | CPU median |`,
    `|---|---|---|---|---|---|---|`,
    ...rows.map((x) => `| ${x.case} | ${x.goals} | ${x.proven ? "yes" : "NO"} | ${x.wall_median.toFixed(2)} | ${x.wall_min.toFixed(2)} | ${x.wall_max.toFixed(2)} | ${x.cpu_median.toFixed(2)} |`),
    ``,
  ].join("\n");
  fs.writeFileSync(path.join(opts.out, "verify-results.md"), md);
  console.log(md);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(3);
});
