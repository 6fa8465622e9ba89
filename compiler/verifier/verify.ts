/**
 * `vigorc verify`: runs the stages (today "spec"; the "c" stage is appended by c-proof.ts) and
 * reports. verifyNf() is the programmatic entry point.
 */
import { fork } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { FunctionDeclaration } from "ts-morph";
import { compileNf, formatDiagnostic, type Diagnostic } from "../frontend/index.ts";
import { loadSpecFile } from "../frontend/spec.ts";
import type { NfModule } from "../ir/ir.ts";
import { ChecksumLemmas, type LemmaResult } from "./checksum-lemmas.ts";
import { HELPER_COMMAND } from "./helper-command.ts";
import { extractCounterexample, type Counterexample } from "./counterexample.ts";
import { VerifyUnsupported, type NfPath } from "./exec-nf.ts";
import { Prover, type Goal } from "./prove.ts";
import { SpecError, type Outcome, type SpecFn } from "./spec-interp.ts";
import type { StageResult } from "./stage.ts";
import { z3 } from "./z3.ts";

export const TRUSTED_BASE = [
  "Z3 (the SMT solver) and the z3-solver bindings",
  "the TypeScript frontend that lowers the NF to the IR (the verifier executes the IR that codegen compiles)",
  "the codegen from IR to C, as validated by differential tests against the dsl runtime",
  "the C compiler",
  "the runtime shell (DPDK or trace) and DPDK itself",
  "the C state structures' agreement with their TypeScript models (differential tests; Frama-C where the C stage runs)",
  "Frama-C (for the C stage)",
  "for checksums: that checksum-lemmas.ts transcribes the RFC 1624 update of dsl/packet.ts and packet.h faithfully, and the induction over update chains that joins the per-path goals to the one-step lemmas (compiler/verifier/README.md)",
];

export class BadInput extends Error {
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[] = [],
  ) {
    super(message);
  }
}

export interface VerifyOptions {
  nfFile: string;
  /** Default: specs/<nf>.spec.ts next to the NF's nfs/ folder; with `properties` only, its invariants are used but its spec is not checked. */
  specFile?: string;
  /** Files or names of properties; default: every property of specs/<nf>.properties.ts. */
  properties?: string[];
  /** Where to write counterexamples (default: build/counterexamples). */
  counterexampleDir?: string;
  progress?: (line: string) => void;
  /** Stop checking a group at its first failure (default true). */
  firstFailureOnly?: boolean;
  /** Processes checking paths side by side (see workerCount). */
  workers?: number;
}

export interface GroupResult {
  name: string;
  proven: number;
  total: number;
  /** Time on this group alone: building its goals, and checking them one by one when a path's goals were not proven together. */
  seconds: number;
  counterexample?: Counterexample;
}

export interface VerifyResult {
  nf: string;
  proven: boolean;
  stages: StageResult[];
  paths: number;
  groups: GroupResult[];
  counterexamples: Counterexample[];
  /** The solver's time on the paths' all-goals-together queries (see checkPath). */
  togetherSeconds: number;
  seconds: number;
}

function defaultSpecDir(nfFile: string): string {
  return path.resolve(path.dirname(path.resolve(nfFile)), "..", "specs");
}

interface PropertyRef {
  decl: FunctionDeclaration;
  name: string;
}

function resolveProperties(opts: VerifyOptions, nfName: string): PropertyRef[] {
  const specDir = defaultSpecDir(opts.nfFile);
  const defaultFile = path.join(specDir, `${nfName}.properties.ts`);
  const load = (file: string): PropertyRef[] => {
    const r = loadSpecFile(file);
    if (r.diagnostics.length > 0 || !r.spec) throw new BadInput(`${file}: errors in the property file`, r.diagnostics);
    return r.spec.properties.map((d) => ({ decl: d, name: d.getName() ?? "?" }));
  };
  if (opts.properties === undefined) return fs.existsSync(defaultFile) ? load(defaultFile) : [];
  const out: PropertyRef[] = [];
  let declared: PropertyRef[] | undefined;
  for (const p of opts.properties) {
    if (p.endsWith(".ts") || fs.existsSync(p)) {
      out.push(...load(p));
      continue;
    }
    declared ??= fs.existsSync(defaultFile) ? load(defaultFile) : [];
    const hit = declared.find((d) => d.name === p);
    if (!hit) {
      const known = declared.map((d) => d.name).join(", ") || "none";
      throw new BadInput(`unknown property '${p}' for ${nfName} (declared in ${path.relative(process.cwd(), defaultFile)}: ${known})`);
    }
    out.push(hit);
  }
  return out;
}

/** What every verifying process sets up the same way: the NF's paths and the groups of goals. */
interface Setup {
  nf: NfModule;
  prover: Prover;
  groups: { name: string; goals: (paths: NfPath[]) => Goal[] }[];
  exploreSeconds: number;
  /** Groups with a counterexample in this process: with firstFailureOnly, their later paths' goals are not checked. */
  failed: Set<number>;
}

async function setUp(opts: VerifyOptions): Promise<Setup> {
  const fe = compileNf(opts.nfFile);
  if (!fe.module || fe.diagnostics.length > 0) throw new BadInput(`${opts.nfFile}: the NF does not compile`, fe.diagnostics);
  const nf: NfModule = fe.module;
  const explicitSpec = opts.specFile !== undefined;
  const specFile = opts.specFile ?? path.join(defaultSpecDir(opts.nfFile), `${nf.name}.spec.ts`);
  let specDecl: FunctionDeclaration | undefined;
  let invariants = new Map<string, SpecFn>();
  if (explicitSpec || fs.existsSync(specFile) || opts.properties === undefined) {
    const r = loadSpecFile(specFile);
    if (r.diagnostics.length > 0 || !r.spec) throw new BadInput(`${specFile}: errors in the spec`, r.diagnostics);
    if (!r.spec.spec) throw new BadInput(`${specFile}: a spec file exports function spec(pkt, ctx, cfg, st)`);
    // `--property` alone checks those properties only; the spec file still gives the state invariants.
    if (explicitSpec || opts.properties === undefined) specDecl = r.spec.spec;
    invariants = r.spec.invariants;
  }
  const properties = resolveProperties(opts, nf.name);

  const Z = await z3();
  const prover = new Prover(Z, nf);
  const tExec = performance.now();
  await asBadInput(async () => {
    prover.setInvariants(invariants);
    await prover.run();
  });
  const groups: Setup["groups"] = [{ name: "no overflow, division by zero, out-of-range index or structure misuse", goals: (ps) => prover.obligationGoals(ps) }];
  if (invariants.size > 0) groups.push({ name: `state invariants (${[...invariants.keys()].join(", ")}) are preserved`, goals: (ps) => prover.invariantGoals(ps) });
  if (specDecl) {
    const d = specDecl;
    let outcomes: Outcome[] | undefined;
    groups.push({ name: `reference spec ${path.relative(process.cwd(), specFile)}`, goals: (ps) => prover.specGoals((outcomes ??= prover.specOutcomes(d)), ps) });
  }
  for (const p of properties) groups.push({ name: `property ${p.name}`, goals: (ps) => prover.propertyGoals(p.decl, ps) });
  return { nf, prover, groups, exploreSeconds: (performance.now() - tExec) / 1000, failed: new Set() };
}

/** Spec errors and unsupported NF constructs found while building terms are bad input (exit 2). */
async function asBadInput<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof SpecError) throw new BadInput("error in a spec", [e.diagnostic]);
    if (e instanceof VerifyUnsupported) throw new BadInput(e.message);
    throw e;
  }
}

/** The goals of one path, group by group (a unit of work: processes share the paths). */
interface PathResult {
  path: number;
  groups: { proven: number; total: number; seconds: number; counterexample?: Counterexample }[];
  /** The solver's time on the query of all the path's goals together. */
  togetherSeconds: number;
  checksumsDemanded: boolean;
}

/**
 * A path's goals, every group's, are first checked together, in one query: its path condition
 * and facts are then bit-blasted once instead of once per goal (NAT, 248 goals, one process:
 * 20.3 / 21.5 -> 15.2 / 16.8 s CPU, 2 interleaved runs). When that query is not proven, each goal
 * is checked on its own, so that the failing one is named, decided with the checksum arithmetic
 * if need be, and gets its counterexample, as when checked alone. A group that already failed
 * (first failure only) is left out.
 */
async function checkPath(s: Setup, id: number, opts: VerifyOptions): Promise<PathResult> {
  const { prover } = s;
  const p = prover.paths.find((x) => x.id === id);
  if (!p) throw new Error(`no path ${id}`);
  const built = await asBadInput(() =>
    s.groups.map((g, i) => {
      const t = performance.now();
      const goals = g.goals([p]);
      return { goals, seconds: (performance.now() - t) / 1000, skipped: groupStopped(s, i, opts) };
    }),
  );
  const t = performance.now();
  const together = built.flatMap((g) => (g.skipped ? [] : g.goals));
  const allProven = together.length > 0 && !(await prover.refute(prover.together(p, together)));
  const togetherSeconds = (performance.now() - t) / 1000;
  const groups: PathResult["groups"] = [];
  for (const [i, g] of built.entries()) {
    if (allProven && !g.skipped) groups.push({ proven: g.goals.length, total: g.goals.length, seconds: g.seconds });
    else groups.push(await checkGroup(s, i, g.goals, g.seconds, opts));
  }
  return { path: id, groups, togetherSeconds, checksumsDemanded: prover.checksumsDemanded };
}

/** With firstFailureOnly (the default), a group with a counterexample in this process checks no more goals. */
function groupStopped(s: Setup, i: number, opts: VerifyOptions): boolean {
  return opts.firstFailureOnly !== false && s.failed.has(i);
}

/** The group's goals one by one (what checkPath does when they are not proven together). */
async function checkGroup(s: Setup, i: number, goals: Goal[], seconds: number, opts: VerifyOptions): Promise<PathResult["groups"][number]> {
  const { prover } = s;
  const tg = performance.now();
  let proven = 0;
  let cx: Counterexample | undefined;
  for (const abstract of groupStopped(s, i, opts) ? [] : goals) {
    let goal = abstract;
    if (!(await prover.refute(goal))) {
      proven++;
      continue;
    }
    // Failed with the checksum update uninterpreted: decide it with the real arithmetic.
    goal = prover.withArithmetic(abstract);
    if (!(await prover.refute(goal))) {
      proven++;
      continue;
    }
    cx ??= await extractCounterexample(prover, goal, s.groups[i]!.name, opts.counterexampleDir);
    s.failed.add(i);
    if (groupStopped(s, i, opts)) break;
  }
  return { proven, total: goals.length, seconds: seconds + (performance.now() - tg) / 1000, counterexample: cx };
}

/**
 * Processes that check paths side by side: the solver's work is most of a run and each process
 * has one z3 context that checks one query at a time, so a second process (which explores the
 * same paths, deterministically) takes paths from the same queue. It costs CPU (its own start-up
 * and exploration), so the default is a second process only when the cores are idle now;
 * VIGORC_VERIFY_WORKERS sets the count (1: this process alone).
 */
async function workerCount(opts: VerifyOptions): Promise<number> {
  const env = process.env["VIGORC_VERIFY_WORKERS"];
  const n = opts.workers ?? (env ? Number(env) : Math.min(2, Math.max(1, Math.floor((await idleCores()) + 0.5))));
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/**
 * How many cores are idle now: the idle share of every core's time over a short sample. Not the
 * load average, which lags by a minute: right after one verify run it still counted that run, so
 * back-to-back runs on an idle machine got no helper.
 */
async function idleCores(sampleMs = 100): Promise<number> {
  const total = (t: os.CpuInfo["times"]) => t.user + t.nice + t.sys + t.irq + t.idle;
  const before = os.cpus();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = os.cpus();
  let idle = 0;
  let all = 0;
  after.forEach((c, i) => {
    const b = before[i];
    if (!b) return;
    idle += c.times.idle - b.times.idle;
    all += total(c.times) - total(b.times);
  });
  return all > 0 ? (idle / all) * after.length : 0;
}

export async function verifyNf(opts: VerifyOptions): Promise<VerifyResult> {
  const t0 = performance.now();
  const progress = opts.progress ?? (() => undefined);
  // Helpers start first, so that their setup overlaps this process's.
  const helpers = Array.from({ length: (await workerCount(opts)) - 1 }, () => startHelper(opts));
  try {
    const s = await setUp(opts);
    progress(`explored ${s.prover.paths.length} paths of ${s.nf.name} in ${s.exploreSeconds.toFixed(2)}s`);
    // Paths from the last: the NAT's translating paths come last and cost most, so they start first.
    const queue = s.prover.paths.map((p) => p.id).reverse();
    const done = new Map<number, PathResult>();
    const report = (r: PathResult, who: string) => {
      done.set(r.path, r);
      const proven = r.groups.reduce((n, g) => n + g.proven, 0);
      const total = r.groups.reduce((n, g) => n + g.total, 0);
      const seconds = r.groups.reduce((n, g) => n + g.seconds, r.togetherSeconds);
      progress(`path ${r.path}: ${proven}/${total} goals ${proven === total ? "proven" : "NOT proven"}, ${seconds.toFixed(2)}s${who}`);
    };
    const helping = helpers.map((h, i) => h.run(queue, (r) => report(r, ` (process ${i + 2})`)));
    let lemmas: LemmaRun | undefined;
    // VIGORC_VERIFY_HELPERS_ONLY=1 (tests): the helpers take every path while they live.
    if (helpers.length === 0 || !process.env["VIGORC_VERIFY_HELPERS_ONLY"]) {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        report(await checkPath(s, id, opts), "");
        // The checksum lemmas as soon as a path demands them, between two paths: the shorter
        // paths left in the queue then even out the processes' ends (proven after the last path,
        // they were the end of the run: ~0.4 s of the NAT's wall time).
        if (!lemmas && s.prover.checksumsDemanded) lemmas = await proveChecksumLemmas(s);
      }
      // The queue is empty: a helper still starting up gets nothing; one checking a path finishes it.
      for (const h of helpers) h.finish();
    }
    await Promise.all(helping);
    // Paths a helper took but did not finish (it died): checked here.
    for (const p of s.prover.paths) if (!done.has(p.id)) report(await checkPath(s, p.id, opts), "");
    return await finish(s, [...done.values()].sort((a, b) => a.path - b.path), t0, progress, lemmas);
  } finally {
    for (const h of helpers) h.stop();
  }
}

interface LemmaRun {
  lemmas: LemmaResult[];
  seconds: number;
}
/** The arithmetic half of "checksums stay valid" (the per-path half is in the spec's goals). */
async function proveChecksumLemmas(s: Setup): Promise<LemmaRun> {
  const t = performance.now();
  const lemmas = await new ChecksumLemmas(s.prover.Z).prove();
  return { lemmas, seconds: (performance.now() - t) / 1000 };
}

async function finish(s: Setup, paths: PathResult[], t0: number, progress: (line: string) => void, lemmaRun?: LemmaRun): Promise<VerifyResult> {
  const results: GroupResult[] = s.groups.map((g, i) => {
    const parts = paths.map((p) => p.groups[i]!);
    return {
      name: g.name,
      proven: parts.reduce((n, x) => n + x.proven, 0),
      total: parts.reduce((n, x) => n + x.total, 0),
      seconds: parts.reduce((n, x) => n + x.seconds, 0),
      counterexample: parts.find((x) => x.counterexample)?.counterexample,
    };
  });
  for (const r of results) progress(`${r.proven === r.total ? "proven   " : "DISPROVEN"} ${r.name}: ${r.proven}/${r.total} goals, ${r.seconds.toFixed(2)}s`);
  const counterexamples = results.flatMap((r) => (r.counterexample ? [r.counterexample] : []));
  if (paths.some((p) => p.checksumsDemanded)) {
    const { lemmas, seconds } = lemmaRun ?? (await proveChecksumLemmas(s));
    const failed = lemmas.find((l) => !l.proven);
    const r: GroupResult = { name: "checksum arithmetic (RFC 1071 sums, RFC 1624 update) lemmas", proven: lemmas.filter((l) => l.proven).length, total: lemmas.length, seconds };
    results.push(r);
    progress(`${failed ? "DISPROVEN" : "proven   "} ${r.name}: ${r.proven}/${r.total} goals, ${r.seconds.toFixed(2)}s${failed ? ` (${failed.what})` : ""}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const proven = results.every((r) => r.proven === r.total);
  const stage: StageResult = {
    name: "spec",
    proven,
    goals: { proven: results.reduce((n, r) => n + r.proven, 0), total: results.reduce((n, r) => n + r.total, 0) },
    seconds,
    failures: counterexamples.map((c) => ({ message: c.summary, file: c.location?.file, line: c.location?.line })),
  };
  const togetherSeconds = paths.reduce((n, p) => n + p.togetherSeconds, 0);
  return { nf: s.nf.name, proven, stages: [stage], paths: s.prover.paths.length, groups: results, counterexamples, togetherSeconds, seconds };
}

// ---------------------------------------------------------------------------- helper processes

type ToHelper = { kind: "setup"; opts: VerifyOptions } | { kind: "path"; id: number } | { kind: "stop" };
type FromHelper = { kind: "ready" } | { kind: "result"; result: PathResult };

const CLI = fileURLToPath(new URL("../../bin/vigorc.js", import.meta.url));

/** A helper process: takes paths from the queue while it has any; a helper that dies only loses time. */
function startHelper(opts: VerifyOptions) {
  const child = fork(CLI, [HELPER_COMMAND], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const send = (m: ToHelper) => {
    if (child.connected) child.send(m);
  };
  send({ kind: "setup", opts: { ...opts, progress: undefined } });
  // Messages before run() (the helper's "ready" may come first) wait for it.
  let handle: ((m: FromHelper) => void) | undefined;
  let readyBeforeRun = false;
  child.on("message", (m: FromHelper) => {
    if (handle) handle(m);
    else if (m.kind === "ready") readyBeforeRun = true;
  });
  let inFlight = false;
  let finished: (() => void) | undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  child.on("exit", () => finished!());
  return {
    /** Sends paths from the queue until it is empty (resolves then, or when the helper dies). */
    run(queue: number[], onResult: (r: PathResult) => void): Promise<void> {
      const next = () => {
        const id = queue.shift();
        inFlight = id !== undefined;
        send(id === undefined ? { kind: "stop" } : { kind: "path", id });
        if (id === undefined) finished!();
      };
      handle = (m) => {
        if (m.kind === "result") onResult(m.result);
        next();
      };
      if (readyBeforeRun) next();
      return done;
    },
    /** Stops waiting for a helper that has no path. */
    finish(): Promise<void> {
      if (!inFlight) finished!();
      return done;
    },
    stop: () => {
      if (child.exitCode === null) child.kill();
    },
  };
}

/** The helper's side (`vigorc verify-helper`, started by verifyNf only): set up, then check the paths it is sent. */
export async function verifyHelper(): Promise<number> {
  let setup: Promise<Setup> | undefined;
  let opts: VerifyOptions | undefined;
  // The parent gone (it finished or crashed): nothing left to do.
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: ToHelper) => {
    void (async () => {
      if (m.kind === "setup") {
        opts = m.opts;
        setup = setUp(opts);
        await setup;
        process.send?.({ kind: "ready" } satisfies FromHelper);
      } else if (m.kind === "path") {
        if (process.env["VIGORC_INJECT_HELPER_CRASH"]) process.exit(1); // tests: a helper that dies
        const result = await checkPath(await setup!, m.id, opts!);
        process.send?.({ kind: "result", result } satisfies FromHelper);
      } else {
        process.exit(0);
      }
    })().catch((e: unknown) => {
      // The parent checks the path itself (and reports bad input itself, from its own setup).
      if (process.env["VIGORC_VERIFY_DEBUG"]) console.error(`vigorc ${HELPER_COMMAND}:`, e);
      process.exit(1);
    });
  });
  return new Promise(() => undefined);
}

export function formatDiagnostics(ds: Diagnostic[]): string {
  return ds.map((d) => formatDiagnostic(d)).join("\n\n");
}
