/**
 * C-level proofs: runs Frama-C WP with RTE guards on C files (the runtime structures, or generated
 * NF code that includes their headers) and reports which proof goals were proven.
 *
 * Provers: z3 and cvc4 through why3, with a project-local why3 configuration made by
 * runtime-c/contracts/why3-config.sh (WHY3CONFIG; $HOME is never consulted).
 *
 * Usage as a command (or runtime-c/contracts/prove.sh):
 *   npx tsx compiler/verifier/c-proof.ts [-I dir]... [--fct f,g] [--skip f,g] [--timeout s] [--steps n] [--cache dir] file.c...
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "./root.ts";

export interface CGoalFailure {
  file: string;
  line: number;
  function: string;
  goal: string;
  status: string;
}

export interface CProofResult {
  proven: number;
  total: number;
  seconds: number;
  failures: CGoalFailure[];
  log: string;
}

export interface ProveCOptions {
  files: string[];
  includeDirs: string[];
  /** Only the goals of these functions (default: every function defined in `files`). */
  functions?: string[];
  /** No goals for these functions (e.g. allocation wrappers around malloc). */
  skipFunctions?: string[];
  /** Per-goal prover timeout (default 10 s). */
  timeoutSeconds?: number;
  /**
   * Per-goal prover step limit (`-wp-steps`; z3's and cvc4's rlimit). With steps the provers get no
   * wall-clock limit of their own, so a proof does not depend on the machine's load; keep
   * timeoutSeconds as a generous backstop then. Default: none (time limit only).
   */
  steps?: number;
  /** Appended to the frama-c command line before the files (e.g. ["-wp-split"], ["-D", "X=1"]). */
  extraArgs?: string[];
  /** Unsigned wrap-around is an alarm too (default true: vigorc treats every overflow as an error). */
  unsignedOverflow?: boolean;
  /** Parallel prover processes (default 2). */
  parallel?: number;
  /** The provers WP runs on each goal, side by side (default z3 and cvc4). */
  provers?: string[];
}

const WHY3_CONFIG_SCRIPT = join(ROOT, "runtime-c", "contracts", "why3-config.sh");

type Execa = typeof import("execa").execa;
let execaFn: Execa | undefined;
/** execa is ESM-only; load it lazily so this module also works when loaded as CommonJS (uvu -r tsx). */
async function getExeca(): Promise<Execa> {
  execaFn ??= (await import("execa")).execa;
  return execaFn;
}

/** The project-local why3 configuration (created on first use). */
export async function why3Config(): Promise<string> {
  const execa = await getExeca();
  const r = await execa("sh", [WHY3_CONFIG_SCRIPT], { reject: false });
  if (r.exitCode !== 0) throw new Error(`why3 configuration failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** The frama-c arguments proveC uses (before the files), exposed for scripts and reports. */
export function framaCArgs(opts: Omit<ProveCOptions, "files">, csvReport: string): { before: string[]; after: string[] } {
  const before = [
    "-machdep",
    "x86_64",
    "-c11",
    "-cpp-extra-args=" + opts.includeDirs.map((d) => `-I${resolve(d)}`).join(" "),
    "-warn-signed-overflow",
    ...(opts.unsignedOverflow === false ? [] : ["-warn-unsigned-overflow"]),
    "-wp",
    "-wp-rte",
    "-wp-prover",
    (opts.provers ?? ["z3", "cvc4"]).join(","),
    "-wp-timeout",
    String(opts.timeoutSeconds ?? 10),
    ...(opts.steps !== undefined ? ["-wp-steps", String(opts.steps)] : []),
    "-wp-par",
    String(opts.parallel ?? 2),
    ...(opts.functions !== undefined && opts.functions.length > 0 ? ["-wp-fct", opts.functions.join(",")] : []),
    ...(opts.skipFunctions !== undefined && opts.skipFunctions.length > 0 ? ["-wp-skip-fct", opts.skipFunctions.join(",")] : []),
    ...(opts.extraArgs ?? []),
  ];
  const after = ["-then", "-report-csv", csvReport, "-report-no-proven", "-report-no-untried"];
  return { before, after };
}

/** Parses `[wp] Proved goals:   N / M`. */
function parseProved(log: string): { proven: number; total: number } | undefined {
  const m = /\[wp\] Proved goals:\s+(\d+)\s*\/\s*(\d+)/.exec(log);
  if (m === null) return undefined;
  return { proven: Number(m[1]), total: Number(m[2]) };
}

/** Parses the report plugin's CSV (directory, file, line, function, kind, status, property). */
function parseCsv(csv: string): CGoalFailure[] {
  const failures: CGoalFailure[] = [];
  for (const row of csv.split("\n").slice(1)) {
    if (row.trim() === "") continue;
    const [dir = "", file = "", line = "0", fn = "", kind = "", status = "", ...prop] = row.split("\t");
    // A function's own `requires` only gets a status consolidated from its call sites (each call
    // site is a goal of the caller, reported as "precondition of f"), and Frama-C's libc specs are
    // not ours to prove: neither is a goal of the analysed functions.
    if (kind === "precondition" || dir.startsWith("FRAMAC_SHARE")) continue;
    failures.push({
      file: dir === "." || dir === "" ? file : join(dir, file),
      line: Number(line) || 0,
      function: fn,
      goal: `${kind}: ${prop.join("\t")}`.trim(),
      status,
    });
  }
  return failures;
}

/** Goals WP reports as not proven in its console output (`[wp] [Failed] Goal typed_f_ensures`). */
function parseFailedGoals(log: string): CGoalFailure[] {
  const out: CGoalFailure[] = [];
  const re = /^\[wp\] \[(Failed|Timeout|Unknown|Stepout|Invalid)\] Goal (\S+)/gm;
  for (let m = re.exec(log); m !== null; m = re.exec(log)) {
    out.push({ file: "", line: 0, function: "", goal: m[2] ?? "", status: m[1] ?? "Unknown" });
  }
  return out;
}

/**
 * Runs `frama-c -wp -wp-rte -wp-prover z3,cvc4` on `files` and reports the goals.
 * proven === total (and total > 0) means every goal (contracts, loop invariants, assigns, RTE
 * guards, callee preconditions) of the selected functions was proven. Never throws for proof
 * failures; a frama-c error (parse error, missing tool) gives total 0 and one failure with status
 * "error".
 */
export async function proveC(opts: ProveCOptions): Promise<CProofResult> {
  const execa = await getExeca();
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), "vigorc-cproof-"));
  try {
    const conf = await why3Config();
    const csv = join(work, "report.csv");
    const { before, after } = framaCArgs(opts, csv);
    const files = opts.files.map((f) => resolve(f));
    const run = await execa("frama-c", [...before, ...files, ...after], {
      reject: false,
      all: true,
      cwd: work, // WP may write scratch files (.frama-c) in the working directory
      env: { WHY3CONFIG: conf },
      maxBuffer: 512 * 1024 * 1024,
    });
    const log = run.all ?? `${run.stdout}\n${run.stderr}`;
    const seconds = (Date.now() - started) / 1000;
    const counts = parseProved(log);
    if (run.exitCode !== 0 || counts === undefined) {
      // Nothing to prove (e.g. a partition of the goals that selects none): zero goals, not an error.
      const noGoals = run.exitCode === 0 && /\[wp\] (No proof obligations|Warning: No goal generated)/.test(log);
      if (noGoals) return { proven: 0, total: 0, seconds, failures: [], log };
      return {
        proven: 0,
        total: 0,
        seconds,
        failures: [{ file: files.map((f) => basename(f)).join(" "), line: 0, function: "", goal: `frama-c exited with code ${run.exitCode}`, status: "error" }],
        log,
      };
    }
    let failures: CGoalFailure[] = [];
    try {
      failures = parseCsv(await readFile(csv, "utf8"));
    } catch {
      failures = [];
    }
    if (counts.proven < counts.total && failures.length === 0) failures = parseFailedGoals(log);
    return { proven: counts.proven, total: counts.total, seconds, failures, log };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A one-line summary, e.g. `map.c: 212/212 goals proven in 41.3 s`. */
export function summarize(label: string, r: CProofResult): string {
  const head = `${label}: ${r.proven}/${r.total} goals proven in ${r.seconds.toFixed(1)} s`;
  const lines = r.failures.map((f) => `  ${f.file}:${f.line} ${f.function}: ${f.goal} [${f.status}]`);
  return [head, ...lines].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const includeDirs: string[] = [];
  const files: string[] = [];
  let functions: string[] | undefined;
  let skipFunctions: string[] | undefined;
  let timeoutSeconds: number | undefined;
  let cacheDir: string | undefined;
  let steps: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "-I") includeDirs.push(argv[++i] as string);
    else if (a.startsWith("-I")) includeDirs.push(a.slice(2));
    else if (a === "--fct") functions = (argv[++i] as string).split(",");
    else if (a === "--skip") skipFunctions = (argv[++i] as string).split(",");
    else if (a === "--timeout") timeoutSeconds = Number(argv[++i]);
    else if (a === "--cache") cacheDir = argv[++i] as string;
    else if (a === "--steps") steps = Number(argv[++i]);
    else files.push(a);
  }
  if (files.length === 0) {
    console.error("usage: c-proof.ts [-I dir]... [--fct f,g] [--skip f,g] [--timeout s] [--steps n] [--cache dir] file.c...");
    return 2;
  }
  for (const f of files) if (!includeDirs.includes(dirname(f))) includeDirs.push(dirname(f));
  // --cache dir: WP's result cache (as the c stage's wpCacheArgs), e.g. .vigorc-cache/wp.
  const cache = cacheDir === undefined ? [] : ["-wp-cache", "update", "-wp-cache-dir", resolve(cacheDir)];
  const r = await proveC({ files, includeDirs, functions, skipFunctions, timeoutSeconds, steps, extraArgs: ["-wp-split", ...cache] });
  console.log(summarize(files.map((f) => basename(f)).join(" "), r));
  if (r.failures.some((f) => f.status === "error")) console.log(r.log);
  return r.total > 0 && r.proven === r.total ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(2);
    },
  );
}
