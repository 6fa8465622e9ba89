/**
 * The "c" stage of `vigorc verify`: the generated C of an NF, proven free of runtime errors by
 * Frama-C WP with RTE guards (cvc4, see C_STAGE_PROVERS and c-proof.ts).
 *
 * What is proven, for every packet length and content: every per-packet function of nf.c
 * (nfFunctions: nf_process, the NF's helpers, the records' key-byte and hash functions, and with
 * VIGORC_PROVE_ACCESSORS=1 the typed structure accessors) meets its contract, with every memory
 * access in bounds (packet, config, environment, key buffers), no signed or unsigned arithmetic
 * overflow (-warn-unsigned-overflow: the IR verifier proves NF arithmetic never wraps and the hash
 * is written not to wrap, so any wrap is a codegen bug), and every callee's precondition met:
 * packet.h's access functions (how many bytes a present header guarantees) and the typed structure
 * accessors, whose contracts restate the runtime-c/structures contracts for the NF's records (e.g.
 * an index refreshed holds an entry, a key added is absent, times never go back). Each generated
 * function also keeps the state: `nf_state_kept`, its promise that the state invariant and the
 * times bound still hold on return (what the next packet's nf_process assumes), is proven too.
 *
 * What is assumed: the requires clause of nf_process (the shell's guarantees: a valid packet of
 * `len` bytes, device < device_count <= NF_MAX_DEVICES, config within its declared ranges and
 * constraints, structures of the declared capacities satisfying their invariants, apart from the
 * packet, config and environment, and no stored time later than time_ns), the contracts of
 * runtime-c/structures (proven by tests/c-proof-runtime.test.ts, outside the known gaps it lists)
 * and of packet.h (proven by tests/c-proof-nf.test.ts, its lemmas by tests/c-proof-packet-lemmas.test.ts), and by default the accessors' contracts: proving them against the
 * structures' contracts (VIGORC_PROVE_ACCESSORS=1) still leaves goals unproven (the state invariant
 * after find/add/refresh/expire and some of the flow table's call preconditions).
 *
 * Measured (tests/c-proof-nf.test.ts, see compiler/codegen/README.md for the figures and command).
 */
import { mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { emitC } from "../codegen/emit-c.ts";
import { compileNf, formatDiagnostic } from "../frontend/index.ts";
import { proveC, type CGoalFailure, type CProofResult } from "./c-proof.ts";
import type { StageFailure, StageResult } from "./stage.ts";
import { ROOT } from "./root.ts";

const INCLUDE_DIRS = ["packet", "shells", "structures"].map((d) => join(ROOT, "runtime-c", d));

export interface CStageOptions {
  /** The NF source (nfs/*.ts). */
  nfFile: string;
  /** Where nf.c is written (default: a temporary folder, removed afterwards). */
  workDir?: string;
  /** Prove this C file instead of the NF's generated code (tests: planted bugs). */
  cFile?: string;
  /** Per-goal prover timeout in seconds (default 10). */
  timeoutSeconds?: number;
  /** Prove only these functions (default: nfFunctions, every per-packet function of nf.c). */
  functions?: string[];
  /**
   * Also prove the structure accessors against the structures' contracts (default: only with
   * VIGORC_PROVE_ACCESSORS=1; some of their goals are not proven yet, see the codegen README).
   */
  proveAccessors?: boolean;
  /**
   * Only goals of these properties (WP's -wp-prop: names or categories such as "@requires", the
   * preconditions of every call). Default: every goal of `functions`.
   */
  properties?: string[];
  /**
   * WP's split tactic (WP_STRATEGY) on goals the provers do not prove whole (default true). The
   * planted-bug test turns it off: its goals are call preconditions, proven whole, and splitting
   * the bugs' false goals only multiplies the time spent failing them.
   */
  splitStrategy?: boolean;
  /**
   * Reuse prover results from the WP cache (default true; VIGORC_WP_CACHE=off disables it). WP keys
   * each entry by a digest of the whole prover task (goal and hypotheses), the prover and its limits,
   * so a changed goal is proven again, and only a result a prover returned is replayed.
   */
  cache?: boolean;
}

/**
 * A goal the provers do not prove whole gets WP's split tactic: one subgoal per case of the
 * branches it depends on. After nf_process's branches join, a goal such as the NAT's
 * `cfg->ethDest[out]` (nat.ts:104) carries every branch's state updates at once and the provers time
 * out on it; each branch's case alone is proven in well under a second.
 */
const WP_STRATEGY = ["-wp-auto", "wp:split"];

/**
 * Generated code is proven with cvc4 alone. On nf_process's call preconditions (reads of the packet
 * under the state's many separation hypotheses) z3 runs to its time limit where cvc4 needs 0.1-0.3 s
 * (29 of the NAT nf_process's 47 prover goals), and each of those z3 attempts holds one of WP's
 * prover slots until then. NAT nf_process, one run each at load 9-11: z3 and cvc4 84/84 in 719 s
 * wall, 321 s CPU; cvc4 alone 84/84 in 344 s wall, 203 s CPU.
 */
export const C_STAGE_PROVERS = ["cvc4"];

/**
 * proveC arguments that make WP reuse prover results from its cache, kept next to the why3
 * configuration (runtime-c/contracts/why3-config.sh); none when VIGORC_WP_CACHE=off.
 */
export function wpCacheArgs(mode: "update" | "rebuild" = "update"): string[] {
  if (process.env.VIGORC_WP_CACHE === "off") return [];
  const dir = join(process.env.VIGORC_CACHE_DIR ?? join(ROOT, ".vigorc-cache"), "wp");
  mkdirSync(dir, { recursive: true });
  return ["-wp-cache", mode, "-wp-cache-dir", dir];
}

/** The TypeScript line a C line comes from: the nearest `/* nat.ts:LINE...` comment at or above it. */
export function sourceLineOf(cText: string, cLine: number): { file: string; line: number } | undefined {
  const lines = cText.split("\n");
  for (let i = Math.min(cLine, lines.length) - 1; i >= 0; i--) {
    const m = /\/\* ([\w.-]+\.ts):(\d+)[: ]/.exec(lines[i]!);
    if (m) return { file: m[1]!, line: Number(m[2]) };
  }
  return undefined;
}

/**
 * The functions of generated code the stage proves: every function nf.c defines (nf_process, the
 * NF's helpers, the records' key-byte and hash functions, and with `accessors` the typed structure
 * accessors) except the start-up ones, nf_config_check and nf_state_create (run once, before any
 * packet, by the shell).
 */
export function nfFunctions(cText: string, opts: { accessors: boolean }): string[] {
  const names: string[] = [];
  // The trace-target section (vigorc replay) is compiled out for Frama-C: not ours to prove.
  cText = cText.replace(/^#ifdef VIG_TRACE_TARGET\n[\s\S]*?^#endif.*$/gm, "");
  const re = /^(static )?(inline )?[A-Za-z_][\w ]*?[ *](\w+)\(([^;{]*)\)\s*\{$/gm;
  for (let m = re.exec(cText); m !== null; m = re.exec(cText)) {
    const name = m[3]!;
    const isAccessor = m[2] !== undefined && m[4]!.startsWith("struct nf_state *st");
    if (name === "nf_config_check" || name === "nf_state_create" || names.includes(name)) continue;
    if (isAccessor && !opts.accessors) continue;
    names.push(name);
  }
  return names;
}

export async function runCStage(opts: CStageOptions): Promise<StageResult> {
  const started = Date.now();
  const fail = (message: string): StageResult => ({
    name: "c",
    proven: false,
    goals: { proven: 0, total: 0 },
    seconds: (Date.now() - started) / 1000,
    failures: [{ message, file: opts.nfFile }],
  });
  const ownDir = opts.workDir === undefined && opts.cFile === undefined;
  const workDir = opts.workDir ?? (opts.cFile ? dirname(opts.cFile) : await mkdtemp(join(tmpdir(), "vigorc-c-")));
  try {
    let cFile = opts.cFile;
    if (cFile === undefined) {
      const r = compileNf(opts.nfFile);
      if (!r.module) return fail(r.diagnostics.map((d) => formatDiagnostic(d)).join("\n"));
      cFile = join(workDir, "nf.c");
      await writeFile(cFile, emitC(r.module));
    }
    const cText = await readFile(cFile, "utf8");
    const functions = opts.functions ?? nfFunctions(cText, { accessors: opts.proveAccessors ?? process.env.VIGORC_PROVE_ACCESSORS === "1" });
    const prove = (run: ProofRun, cache: string[]) =>
      proveC({
        files: [cFile],
        includeDirs: INCLUDE_DIRS,
        functions: run.functions,
        unsignedOverflow: true,
        provers: C_STAGE_PROVERS,
        timeoutSeconds: opts.timeoutSeconds ?? 10,
        extraArgs: [...(opts.splitStrategy === false ? [] : WP_STRATEGY), ...(run.properties.length > 0 ? [`-wp-prop=${run.properties.join(",")}`] : []), ...cache],
      });
    const proof = await proveInParallel(proofRuns(cText, functions, opts.properties), async (run) => {
      const cache = opts.cache === false ? [] : wpCacheArgs();
      const r = await prove(run, cache);
      // The cache replays failures as well: cvc4 answers "unknown" when it reaches its time limit,
      // which on a loaded machine a goal it proves in a second can do, and that answer was then
      // replayed by every later run. A run with an unproven goal is proven again with the provers
      // (and their new answers cached) before it counts.
      return r.proven < r.total && cache.length > 0 ? prove(run, wpCacheArgs("rebuild")) : r;
    });
    if (proof.total === 0 && /\[wp\] Warning: No goal generated/.test(proof.log)) {
      // Nothing to check (e.g. NOP: no memory access, no arithmetic, no call).
      return { name: "c", proven: true, goals: { proven: 0, total: 0 }, seconds: (Date.now() - started) / 1000, failures: [] };
    }
    const failures: StageFailure[] = proof.failures
      .filter((f) => f.status === "error" || functions.includes(f.function))
      .map((f) => toStageFailure(f, cFile, cText, opts.nfFile));
    if (proof.proven < proof.total && failures.length === 0)
      failures.push({ message: `${proof.total - proof.proven} goal(s) not proven (see frama-c log)`, file: opts.nfFile });
    return {
      name: "c",
      proven: proof.total > 0 && proof.proven === proof.total && failures.length === 0,
      goals: { proven: proof.proven, total: proof.total },
      seconds: (Date.now() - started) / 1000,
      failures,
    };
  } finally {
    if (ownDir) await rm(workDir, { recursive: true, force: true });
  }
}

/** One Frama-C run of the stage: these functions, only these properties (none: all of them). */
export interface ProofRun {
  functions: string[];
  properties: string[];
}

/**
 * How the stage's goals are spread over Frama-C processes. Most of a run's time is WP's own
 * simplifier (one process, one core) on the goals of the per-packet functions, whose paths carry
 * every state update before the goal; the provers are a small share. So each per-packet function
 * (nf_process and the NF's helpers, which take the state) is proven by two runs, its RTE guards
 * and the rest (contracts, callees' preconditions), and the small functions (key bytes, hash) by
 * one more; proveInParallel runs them side by side. With `properties`, one run.
 */
export function proofRuns(cText: string, functions: string[], properties?: string[]): ProofRun[] {
  if (properties !== undefined) return [{ functions, properties }];
  const perPacket = functions.filter((f) => new RegExp(`\\b${f}\\(struct nf_state \\*st, const struct nf_config \\*cfg`).test(cText));
  const small = functions.filter((f) => !perPacket.includes(f));
  return [
    ...perPacket.flatMap((f) => [
      { functions: [f], properties: ["rte"] },
      { functions: [f], properties: ["-rte"] },
    ]),
    ...(small.length > 0 ? [{ functions: small, properties: [] }] : []),
  ];
}

/**
 * Runs `prove` on every run, as many at a time as the machine has cores, and adds up the goals
 * (each goal belongs to exactly one run).
 */
async function proveInParallel(runs: ProofRun[], prove: (run: ProofRun) => Promise<CProofResult>): Promise<CProofResult> {
  const results: CProofResult[] = new Array<CProofResult>(runs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < runs.length; i = next++) results[i] = await prove(runs[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), runs.length) }, worker));
  return {
    proven: results.reduce((n, r) => n + r.proven, 0),
    total: results.reduce((n, r) => n + r.total, 0),
    seconds: Math.max(0, ...results.map((r) => r.seconds)),
    failures: results.flatMap((r) => r.failures),
    log: results.map((r) => r.log).join("\n"),
  };
}

function toStageFailure(f: CGoalFailure, cFile: string, cText: string, nfFile: string): StageFailure {
  if (f.status === "error") return { message: `Frama-C failed: ${f.goal}`, file: nfFile };
  const inNf = basename(f.file) === basename(cFile);
  const cLocation = `${inNf ? cFile : f.file}:${f.line}`;
  const src = inNf ? sourceLineOf(cText, f.line) : undefined;
  const file = src ? join(dirname(nfFile), src.file) : nfFile;
  return {
    message: `${f.function}: ${f.goal} not proven (${f.status})`,
    file,
    ...(src ? { line: src.line } : {}),
    cLocation,
  };
}

/** `npx tsx compiler/verifier/c-stage.ts nfs/nat.ts [nf.c]`: runs the stage and prints its result. */
async function main(argv: string[]): Promise<number> {
  const [nfFile, cFile] = argv;
  if (nfFile === undefined) {
    console.error("usage: c-stage.ts <nf.ts> [nf.c]");
    return 2;
  }
  const r = await runCStage({ nfFile, ...(cFile ? { cFile } : {}) });
  console.log(`c: ${r.goals.proven}/${r.goals.total} goals proven in ${r.seconds.toFixed(1)} s`);
  for (const f of r.failures) console.log(`  ${f.file ?? ""}:${f.line ?? "?"} (${f.cLocation ?? ""}) ${f.message}`);
  return r.proven ? 0 : 1;
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
