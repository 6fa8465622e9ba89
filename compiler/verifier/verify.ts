/**
 * `vigorc verify`: runs the stages (today "spec"; the "c" stage is appended by c-proof.ts) and
 * reports. verifyNf() is the programmatic entry point.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { FunctionDeclaration } from "ts-morph";
import { compileNf, formatDiagnostic, type Diagnostic } from "../frontend/index.ts";
import { loadSpecFile } from "../frontend/spec.ts";
import type { NfModule } from "../ir/ir.ts";
import { ChecksumLemmas } from "./checksum-lemmas.ts";
import { extractCounterexample, type Counterexample } from "./counterexample.ts";
import { VerifyUnsupported } from "./exec-nf.ts";
import { Prover, type Goal } from "./prove.ts";
import { SpecError, type SpecFn } from "./spec-interp.ts";
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
  /** Stop at the first failure of each group (default true). */
  firstFailureOnly?: boolean;
}

export interface GroupResult {
  name: string;
  proven: number;
  total: number;
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

export async function verifyNf(opts: VerifyOptions): Promise<VerifyResult> {
  const t0 = performance.now();
  const progress = opts.progress ?? (() => undefined);
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
  try {
    prover.setInvariants(invariants);
    await prover.run();
  } catch (e) {
    if (e instanceof VerifyUnsupported) throw new BadInput(e.message);
    if (e instanceof SpecError) throw new BadInput("error in a spec", [e.diagnostic]);
    throw e;
  }
  progress(`explored ${prover.paths.length} paths of ${nf.name} in ${((performance.now() - tExec) / 1000).toFixed(2)}s`);

  const groups: { name: string; goals: () => Goal[] | Promise<Goal[]> }[] = [{ name: "no overflow, division by zero, out-of-range index or structure misuse", goals: () => prover.obligationGoals() }];
  if (invariants.size > 0) groups.push({ name: `state invariants (${[...invariants.keys()].join(", ")}) are preserved`, goals: () => prover.invariantGoals() });
  if (specDecl) {
    const d = specDecl;
    groups.push({ name: `reference spec ${path.relative(process.cwd(), specFile)}`, goals: () => prover.specGoals(prover.specOutcomes(d)) });
  }
  for (const p of properties) groups.push({ name: `property ${p.name}`, goals: () => prover.propertyGoals(p.decl) });

  const results: GroupResult[] = [];
  const counterexamples: Counterexample[] = [];
  for (const g of groups) {
    const tg = performance.now();
    let goals: Goal[];
    try {
      goals = await g.goals();
    } catch (e) {
      if (e instanceof SpecError) throw new BadInput(`error in a spec`, [e.diagnostic]);
      if (e instanceof VerifyUnsupported) throw new BadInput(e.message);
      throw e;
    }
    let proven = 0;
    let cx: Counterexample | undefined;
    for (const abstract of goals) {
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
      if (!cx) {
        cx = await extractCounterexample(prover, goal, g.name, opts.counterexampleDir);
        counterexamples.push(cx);
      }
      if (opts.firstFailureOnly !== false) break;
    }
    const r: GroupResult = { name: g.name, proven, total: goals.length, seconds: (performance.now() - tg) / 1000, counterexample: cx };
    results.push(r);
    progress(`${r.proven === r.total ? "proven   " : "DISPROVEN"} ${g.name}: ${r.proven}/${r.total} goals, ${r.seconds.toFixed(2)}s`);
  }
  if (prover.checksumsDemanded) {
    // The arithmetic half of "checksums stay valid" (the per-path half is in the spec's goals).
    const tg = performance.now();
    const lemmas = await new ChecksumLemmas(Z).prove();
    const failed = lemmas.find((l) => !l.proven);
    const r: GroupResult = { name: "checksum arithmetic (RFC 1071 sums, RFC 1624 update) lemmas", proven: lemmas.filter((l) => l.proven).length, total: lemmas.length, seconds: (performance.now() - tg) / 1000 };
    results.push(r);
    progress(`${failed ? "DISPROVEN" : "proven   "} ${r.name}: ${r.proven}/${r.total} goals, ${r.seconds.toFixed(2)}s${failed ? ` (${failed.what})` : ""}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const proven = results.every((r) => r.proven === r.total);
  const stage: StageResult = {
    name: "spec",
    proven,
    goals: { proven: results.reduce((s, r) => s + r.proven, 0), total: results.reduce((s, r) => s + r.total, 0) },
    seconds,
    failures: counterexamples.map((c) => ({ message: c.summary, file: c.location?.file, line: c.location?.line })),
  };
  return { nf: nf.name, proven, stages: [stage], paths: prover.paths.length, groups: results, counterexamples, seconds };
}

export function formatDiagnostics(ds: Diagnostic[]): string {
  return ds.map((d) => formatDiagnostic(d)).join("\n\n");
}
