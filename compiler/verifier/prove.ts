/**
 * The "spec" stage of `vigorc verify`: symbolic execution of the NF IR, then, path by path, Z3
 * proves the obligations (no overflow, no division by zero, indexes in range, structure
 * preconditions), the reference spec (action, output bytes, checksums, state update) and every
 * property. A failed goal yields a counterexample (see counterexample.ts).
 */
import type { FunctionDeclaration } from "ts-morph";
import { IPV4_OFFSET, PROTOCOL_TCP, PROTOCOL_UDP, TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET, UDP_LENGTH, type HeaderName } from "../../dsl/layout.ts";
import type { NfModule, SourceLoc } from "../ir/ir.ts";
import { NfExecutor, SymInputs, type NfPath } from "./exec-nf.ts";
import { SpecInterpreter, W, type Outcome, type SpecFn, type SVal } from "./spec-interp.ts";
import { checksumFn, type Arr, type TableView } from "./sym.ts";
import { Bits, isTrue, newSolver, TermMap, uninterpretedNames, type B, type BV, type Z } from "./z3.ts";
import type { Model, Solver } from "z3-solver";

export interface Goal {
  /** "obligation" | "spec" | "property:<name>" */
  group: string;
  path: NfPath;
  /** Must hold on the path. */
  cond: B;
  message: string;
  loc?: SourceLoc;
  /** Named parts, evaluated in a counterexample to say what went wrong. */
  parts?: { what: string; cond: B }[];
  /** Spec outcomes (for the counterexample's "expected"). */
  outcomes?: Outcome[];
  /** Extra assumptions of this goal (witness bindings). */
  assume?: B[];
  /** Goals checked together (see Prover.together): cond is their conjunction. */
  conjuncts?: B[];
}

/**
 * The fresh constants (Bits.fresh: `name!N`) the formulas mention. Memoized by term: path
 * conditions and facts recur in every group's goals.
 */
function freshConstants(formulas: B[]): Set<string> {
  const out = new Set<string>();
  for (const f of formulas) {
    let names = freshMemo.get(f);
    if (names === undefined) freshMemo.set(f, (names = uninterpretedNames(f).filter((n) => FRESH_NAME.test(n))));
    for (const n of names) out.add(n);
  }
  return out;
}
const FRESH_NAME = /![0-9]+$/;
const freshMemo = new TermMap<B, string[]>();

export interface Failure {
  goal: Goal;
  model: Model<"main">;
}

export class Prover {
  readonly b: Bits;
  readonly solver: Solver<"main">;
  readonly inputs: SymInputs;
  readonly exec: NfExecutor;
  readonly interp: SpecInterpreter;
  paths: NfPath[] = [];
  checks = 0;
  /** Every fact assumed of the inputs (ranges, constraints, invariant instances), in order. */
  readonly facts: B[] = [];
  /** Skolem offset for "every byte". */
  readonly someOffset: BV;

  constructor(
    readonly Z: Z,
    readonly nf: NfModule,
  ) {
    this.b = new Bits(Z);
    this.solver = newSolver(Z);
    const facts = {
      assume: (f: B) => {
        if (isTrue(f)) return;
        this.facts.push(f);
        this.solver.add(f);
      },
    };
    this.inputs = new SymInputs(Z, this.b, nf, facts);
    this.exec = new NfExecutor(Z, this.b, nf, this.inputs, (pc) => this.sat(pc));
    this.interp = new SpecInterpreter(Z, this.b, nf, this.inputs);
    this.someOffset = this.b.named("someByteOffset", 16);
  }

  /** Set when a spec outcome demands valid checksums (the checksum lemmas must then be proven too). */
  checksumsDemanded = false;

  /**
   * The goal with the arithmetic of every checksum update application defined (see ChecksumFn):
   * checked when the goal fails with the update uninterpreted, so that it is decided, and any
   * counterexample computed, with the real arithmetic.
   */
  withArithmetic(g: Goal): Goal {
    const assume = g.assume ?? [];
    return { ...g, assume: [...assume, ...checksumFn(this.Z, this.b).definitionsFor([g.cond, ...g.path.pc, ...assume, g.path.pkt])] };
  }

  /**
   * Whether a path condition is feasible (with the facts). A model of an earlier feasible path
   * often satisfies a later one (a branch's first child shares its parent's model), and evaluating
   * the condition in it is much cheaper than a check (most of the exploration's time was checks
   * that found a model, 20-90 ms each). The answer is the same: a model that makes the facts and
   * the condition true shows them satisfiable, and "unsat" always comes from the solver.
   */
  async sat(pc: B[]): Promise<boolean> {
    if (this.reuseModels && this.models.some((m) => this.satisfies(m, pc))) {
      this.feasibleByModel++;
      return true;
    }
    this.checks++;
    this.solver.push();
    for (const c of pc) this.solver.add(c);
    const r = await this.check("path feasibility");
    if (r === "sat") this.models.push({ model: this.solver.model(), facts: this.facts.length });
    this.solver.pop();
    return r !== "unsat";
  }
  /** Models of feasible path conditions, each with the number of facts assumed when it was found. */
  private readonly models: { model: Model<"main">; facts: number }[] = [];
  /** Feasibility questions answered by an earlier model (tests, VIGORC_VERIFY_DEBUG). */
  feasibleByModel = 0;
  /** Off: every feasibility question goes to the solver (tests compare the paths). */
  reuseModels = true;

  /** Whether m makes pc true and also every fact assumed after it was found (completing m where it is silent). */
  private satisfies(m: { model: Model<"main">; facts: number }, pc: B[]): boolean {
    // The newest conditions first: the branch just taken is the one an older model most often misses.
    return [...pc].reverse().concat(this.facts.slice(m.facts)).every((c) => isTrue(m.model.eval(c, true)));
  }

  /** The solver's check, timed: VIGORC_VERIFY_DEBUG=1 prints the slow ones, =2 every one. */
  private async check(what: string, solver: Solver<"main"> = this.solver): Promise<"sat" | "unsat" | "unknown"> {
    const debug = process.env["VIGORC_VERIFY_DEBUG"];
    if (debug === "2") console.error(`  [check] ${what}`);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const r = await solver.check();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    if (debug && (ms > 200 || debug === "2")) console.error(`  [${ms > 200 ? "slow " : ""}${ms.toFixed(0)}ms wall, ${cpuMs.toFixed(0)}ms cpu] ${what}`);
    return r;
  }

  /**
   * Checks a goal; returns the model of a violation, or undefined when proven. Each goal gets a
   * fresh solver with the facts about what it mentions: a fact naming a fresh constant (another
   * path's new index, another goal's skolem) the goal does not mention is left out. Leaving out
   * assumptions can only turn a proof into a spurious violation, so a violation is checked again
   * with every fact. Measured on the NAT: the one incremental solver shared by all goals slowed
   * down as its history grew (one goal 0.4 s alone, 11 s in the run), and irrelevant facts slowed
   * the rest (README.md, "Not done").
   */
  async refute(g: Goal): Promise<Model<"main"> | undefined> {
    this.checks++;
    const query = [...g.path.pc, ...(g.assume ?? []), this.b.not(g.cond)];
    // The conjuncts' constants one by one: each is memoized, their conjunction is new.
    const mentioned = freshConstants([...g.path.pc, ...(g.assume ?? []), ...(g.conjuncts ?? [g.cond])]);
    const relevant = this.facts.filter((f) => [...freshConstants([f])].every((c) => mentioned.has(c)));
    const attempts = relevant.length < this.facts.length ? [relevant, this.facts] : [this.facts];
    for (const facts of attempts) {
      const solver = newSolver(this.Z);
      for (const c of [...facts, ...query]) solver.add(c);
      const r = await this.check(`${g.group}: ${g.message}${facts === this.facts ? "" : ` (${facts.length}/${this.facts.length} facts)`}`, solver);
      if (r === "unknown") throw new Error(`Z3 could not decide: ${g.message}`);
      if (r === "unsat") return undefined;
      if (facts === this.facts) return solver.model();
    }
    throw new Error("unreachable: the last attempt has every fact");
  }

  /**
   * One goal for several of a path's goals: their conjunction, under all their assumptions (the
   * spec's witness bindings only define its choice variables, which no other goal mentions).
   */
  together(path: NfPath, goals: Goal[]): Goal {
    const conjuncts = goals.map((g) => g.cond);
    return { group: "together", path, cond: this.b.and(...conjuncts), conjuncts, message: `path ${path.id}: its ${goals.length} goals together`, assume: goals.flatMap((g) => g.assume ?? []) };
  }

  /** Installs the spec's state invariants: assumed of the prior state's entries (lazily, per entry looked at). */
  setInvariants(invariants: Map<string, SpecFn>): void {
    this.invariants = invariants;
    this.exec.initialTables();
    for (const [name, fn] of invariants) {
      const t = this.inputs.tables.get(name);
      if (!t) this.interp.err(fn, `the NF has no table '${name}'`);
      t.entryInvariant = (i, k, time) => this.invariantAt(fn, i, k, time);
    }
  }
  invariants = new Map<string, SpecFn>();

  private invariantAt(fn: SpecFn, i: BV, k: Record<string, BV>, time: BV): B {
    const interp = this.interp;
    const entry: SVal = { k: "obj", f: { index: interp.int(i), key: interp.recObj(k), time: interp.int(time) } };
    return interp.bool(interp.merge(interp.call(fn, [entry, interp.cfgObj()]), fn), fn);
  }

  /** The invariants hold of every entry after the packet (so, by induction, of every reachable state). */
  invariantGoals(paths = this.paths): Goal[] {
    const b = this.b;
    const out: Goal[] = [];
    for (const p of paths) {
      for (const [name, fn] of this.invariants) {
        const t = p.tables.get(name)!;
        const x = this.interp.skolem(t, name).x;
        out.push({ group: "invariant", path: p, cond: b.implies(t.alloc(x), this.invariantAt(fn, x, t.key(x), t.time(x))), message: `the invariant of '${name}' holds after path ${p.id}` });
      }
    }
    return out;
  }

  async run(): Promise<NfPath[]> {
    this.exec.assumeConstraints();
    const t0 = performance.now();
    this.paths = await this.exec.run();
    if (process.env["VIGORC_VERIFY_DEBUG"]) console.error(`  [explore] ${this.paths.length} paths, ${this.checks} checks, ${this.feasibleByModel} by model, ${(performance.now() - t0).toFixed(0)} ms`);
    return this.paths;
  }

  initialTables(): Map<string, TableView> {
    return new Map([...this.inputs.tables].map(([n, t]) => [n, t as TableView]));
  }

  obligationGoals(paths = this.paths): Goal[] {
    return paths.flatMap((p) => p.obligations.map((o) => ({ group: "obligation", path: p, cond: o.cond, message: o.message, loc: o.loc })));
  }

  /** The spec's outcomes for this packet (independent of the NF path). */
  specOutcomes(decl: FunctionDeclaration): Outcome[] {
    const args: SVal[] = [{ k: "pkt", arr: this.inputs.pkt }, { k: "ctx" }, this.interp.cfgObj(), this.interp.tablesObj(this.initialTables())];
    const outs = this.interp.call(decl, args);
    for (const o of outs) if (o.value.k !== "expected") this.interp.err(decl, "the spec must return drop(...), forward(...) or flood(...) on every path");
    return outs;
  }

  /** Witness for the spec's "any free index": the index the NF allocated (or refreshed) on this path. */
  witnesses(p: NfPath): B[] {
    const out: B[] = [];
    for (const [table, v] of this.interp.choiceVars) {
      void table;
      const w = p.added[0]?.index ?? p.refreshed[0];
      if (w) out.push(v.eq(w));
    }
    return out;
  }

  /**
   * Per path, one goal: some spec outcome's guard holds, and under the guard of each outcome every
   * part of it (action, state, output bytes, each checksum) holds, as do the spec's choices. The
   * guards are disjoint (the spec is a function), so this says the NF does what the spec says.
   * One query per path (the parts name what fails in a counterexample): checking first which
   * outcomes a path allows cost more than the goals (refuting an infeasible outcome took up to a
   * minute of solver time), and one query per part repeated the path's work.
   */
  specGoals(outcomes: Outcome[], paths = this.paths): Goal[] {
    const b = this.b;
    const expected = outcomes.filter((o) => o.value.k === "expected");
    return paths.map((p) => {
      const parts: { what: string; cond: B }[] = [{ what: "the spec defines an outcome", cond: b.or(...expected.map((o) => o.guard)) }];
      for (const o of expected) {
        for (const x of this.match(p, o.value as Extract<SVal, { k: "expected" }>).parts) parts.push({ what: x.what, cond: b.implies(o.guard, x.cond) });
      }
      for (const c of this.interp.choices) parts.push({ what: `the spec's choice is valid: ${c.what}`, cond: b.implies(c.guard, c.cond) });
      return { group: "spec", path: p, cond: b.and(...parts.map((x) => x.cond)), message: `path ${p.id}: the NF does what the spec says`, parts, outcomes, assume: this.witnesses(p) };
    });
  }

  propertyGoals(decl: FunctionDeclaration, paths = this.paths): Goal[] {
    const b = this.b;
    const name = decl.getName() ?? "property";
    return paths.map((p) => {
      const i = this.interp;
      const step: SVal = {
        k: "obj",
        f: {
          cfg: i.cfgObj(),
          device: i.int(this.inputs.device),
          time: i.int(this.inputs.time),
          deviceCount: i.int(this.inputs.deviceCount),
          packet: { k: "pkt", arr: this.inputs.pkt },
          output: { k: "pkt", arr: p.pkt },
          action: i.actionObj(p.action.kind, p.action.dev),
          before: i.tablesObj(this.initialTables()),
          after: i.tablesObj(p.tables),
        },
      };
      const outs = i.call(decl, [step]);
      const cond = b.or(...outs.map((o) => b.and(o.guard, i.bool(o.value, decl))));
      return { group: `property:${name}`, path: p, cond, message: `${name} holds on path ${p.id}`, loc: undefined };
    });
  }

  // ------------------------------------------------------------------------ matching

  private match(p: NfPath, exp: Extract<SVal, { k: "expected" }>): { ok: B; parts: { what: string; cond: B }[] } {
    const b = this.b;
    const parts: { what: string; cond: B }[] = [];
    const actionOk = exp.action === p.action.kind ? (exp.action === "forward" ? b.eq(exp.device, p.action.dev) : this.Z.Bool.val(true)) : this.Z.Bool.val(false);
    parts.push({ what: "action", cond: actionOk });
    // State.
    const initial = this.initialTables();
    for (const [name, after] of p.tables) {
      const expected = exp.state?.[name] ?? initial.get(name)!;
      const s = this.interp.skolem(after, name);
      parts.push({ what: `state '${name}'`, cond: this.interp.ops.equal(after, expected, s.x, s.q) });
    }
    if (exp.action !== "drop") parts.push(...this.outputParts(p.pkt, exp.rewrite));
    return { ok: b.and(...parts.map((x) => x.cond)), parts };
  }

  private outputParts(out: Arr, rewrite: Record<string, SVal>): { what: string; cond: B }[] {
    const b = this.b;
    const pm = this.exec.pm;
    const inArr = this.inputs.pkt;
    const len = this.inputs.len;
    const parts: { what: string; cond: B }[] = [];
    let expected = inArr;
    const excluded: B[] = [];
    const o = this.someOffset;
    const range = (start: BV, n: number) => b.and(o.uge(start), o.ult(start.add(b.val(n, 16))));
    const tcp = pm.parse(inArr, len, "tcp");
    const udp = pm.parse(inArr, len, "udp");
    for (const [group, v] of Object.entries(rewrite)) {
      if (group === "checksums") continue;
      if (v.k !== "obj") continue;
      const headers: HeaderName[] = group === "l4" ? ["tcp", "udp"] : [group as HeaderName];
      for (const [field, val] of Object.entries(v.f)) {
        for (const h of headers) {
          const p = pm.parse(inArr, len, h);
          const present = group === "l4" ? b.or(tcp.present, udp.present) : p.present;
          const f = pm.layout(h, field);
          const at = pm.at(p.off, f.offset);
          const active = group === "l4" ? (h === "tcp" ? tcp.present : b.and(b.not(tcp.present), udp.present)) : this.Z.Bool.val(true);
          parts.push({ what: `the packet has the ${group} header the spec rewrites`, cond: present });
          if (val.k === "any") {
            excluded.push(b.and(active, range(at, f.bytes)));
          } else if (val.k === "int") {
            parts.push({ what: `${group}.${field} fits in ${f.width} bits`, cond: b.implies(active, b.and(val.e.sge(b.val(0, W)), b.fits(val.e, f.width))) });
            expected = pm.writeIf(expected, active, at, f.bytes, b.resize(val.e, 8 * f.bytes));
          }
        }
      }
    }
    const checksums = rewrite["checksums"];
    if (checksums?.k === "str" && checksums.s === "valid") {
      this.checksumsDemanded = true;
      const ipv4 = pm.parse(inArr, len, "ipv4");
      const ipCs = b.val(IPV4_OFFSET + 10, 16);
      const tcpCs = pm.l4Present(inArr, len, PROTOCOL_TCP, TCP_CHECKSUM_OFFSET + 2);
      const udpCs = pm.l4Present(inArr, len, PROTOCOL_UDP, UDP_LENGTH);
      const l4 = pm.l4Offset(inArr);
      const tcpAt = pm.at(l4, TCP_CHECKSUM_OFFSET);
      const udpAt = pm.at(l4, UDP_CHECKSUM_OFFSET);
      excluded.push(b.and(ipv4.present, range(ipCs, 2)), b.and(tcpCs, range(tcpAt, 2)), b.and(b.not(tcpCs), udpCs, range(udpAt, 2)));
      const word = (a: Arr, off: number | BV) => pm.read16(a, typeof off === "number" ? b.val(off, 16) : off);
      // The RFC 1624 update chain from the input's checksum over the rewritten words (input word
      // -> output word), in header order; UDP: 0 (no checksum) stays 0, a computed 0 is sent as 0xFFFF.
      const chain = (at: BV, words: BV[], udpRule: boolean): BV => {
        let c = word(inArr, at);
        for (const w of words) {
          const next = pm.checksumUpdate(c, word(inArr, w), word(out, w));
          c = udpRule ? b.ite(c.eq(b.val(0, 16)), c, b.ite(next.eq(b.val(0, 16)), b.val(0xffff, 16), next)) : next;
        }
        return c;
      };
      // Only the words of the fields the spec names (the others are proven unchanged byte by byte).
      const named = (group: string, field: string) => {
        const g = rewrite[group];
        return g?.k === "obj" && field in g.f;
      };
      const fieldWords = (group: string, fields: [string, number[]][], base: (k: number) => BV) => fields.filter(([f]) => named(group, f)).flatMap(([, ks]) => ks.map(base));
      const ipField = (k: number) => b.val(IPV4_OFFSET + k, 16);
      const ipWords = fieldWords("ipv4", [["tos", [0]], ["id", [4]], ["ttl", [8]], ["src", [12, 14]], ["dst", [16, 18]]], ipField);
      const portWords = (h: string) => fieldWords(h, [["srcPort", [0]], ["dstPort", [2]]], (k) => pm.at(l4, k));
      const l4Words = [...fieldWords("ipv4", [["src", [12, 14]], ["dst", [16, 18]]], ipField), ...portWords("l4"), ...portWords("tcp"), ...portWords("udp")];
      // A covered word that is nonzero and unchanged (the one-step lemma needs one: see checksum-lemmas.ts).
      const versionWord = b.val(IPV4_OFFSET, 16);
      const protocolAt = b.val(IPV4_OFFSET + 9, 16);
      const zero8 = b.val(0, 8);
      const l4Present = b.or(tcpCs, udpCs);
      parts.push({ what: "the IPv4 version word (covered by the header checksum) is nonzero and unchanged", cond: b.implies(ipv4.present, b.and(word(inArr, versionWord).neq(b.val(0, 16)), word(out, versionWord).eq(word(inArr, versionWord)))) });
      parts.push({ what: "the pseudo-header's protocol word (covered by the TCP/UDP checksum) is nonzero and unchanged", cond: b.implies(l4Present, b.and(pm.byte(inArr, protocolAt).neq(zero8), pm.byte(out, protocolAt).eq(pm.byte(inArr, protocolAt)))) });
      parts.push({ what: "the IPv4 header checksum is the RFC 1624 update chain of the input's over the rewritten words", cond: b.implies(ipv4.present, word(out, ipCs).eq(chain(ipCs, ipWords, false))) });
      parts.push({ what: "the TCP checksum is the RFC 1624 update chain of the input's over the rewritten words", cond: b.implies(tcpCs, word(out, tcpAt).eq(chain(tcpAt, l4Words, false))) });
      parts.push({ what: "the UDP checksum is the RFC 1624 update chain of the input's over the rewritten words (0, no checksum, stays 0)", cond: b.implies(b.and(b.not(tcpCs), udpCs), word(out, udpAt).eq(chain(udpAt, l4Words, true))) });
    }
    const outByte = pm.byte(out, o);
    const expByte = pm.byte(expected, o);
    parts.push({ what: "every other output byte", cond: b.implies(b.and(o.ult(len), b.not(b.or(...excluded))), outByte.eq(expByte)) });
    return parts;
  }
}
