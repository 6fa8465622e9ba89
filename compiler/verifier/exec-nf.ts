/**
 * Symbolic execution of the NF IR (the IR codegen compiles): every feasible path through
 * process() for a symbolic packet, device, time, configuration and prior state, with the proof
 * obligations (overflow, division by zero, ranges, structure preconditions) met along the way.
 */
import type { HeaderName } from "../../dsl/layout.ts";
import type { ConfigField, Expr, FunctionDecl, IntWidth, NfModule, SourceLoc, Stmt, StructureDecl } from "../ir/ir.ts";
import { MAX_FRAME, PacketModel, TableOps, type Arr, type FactSink, type Rec, type TableView, BaseTable } from "./sym.ts";
import { apply, Bits, isFalse, isTrue, type B, type BV, type Z } from "./z3.ts";
import type { FuncDecl } from "z3-solver";

export type Val =
  | { k: "bv"; e: BV }
  | { k: "bool"; e: B }
  | { k: "rec"; name: string; f: Rec }
  | { k: "hdr"; header: HeaderName; off: BV }
  | { k: "opt"; present: B; v: Val }
  | { k: "act"; kind: "drop" | "forward" | "flood"; dev: BV };

export interface Obligation {
  /** Must hold whenever the path condition does. */
  cond: B;
  kind: "overflow" | "division" | "range" | "contract" | "loop";
  message: string;
  loc: SourceLoc;
}

export interface NfPath {
  id: number;
  pc: B[];
  action: { kind: "drop" | "forward" | "flood"; dev: BV };
  pkt: Arr;
  tables: Map<string, TableView>;
  obligations: Obligation[];
  /** Indexes the NF allocated / refreshed on this path (witnesses for the spec's choices). */
  added: { index: BV; present: B }[];
  refreshed: BV[];
  /** Source lines of the branches taken, for messages. */
  trail: string[];
}

/** The symbolic inputs of one packet: shared by the NF, the spec and the properties. */
export class SymInputs {
  readonly pkt: Arr;
  readonly len: BV;
  readonly device: BV;
  readonly deviceCount: BV;
  readonly time: BV;
  readonly cfg = new Map<string, { field: ConfigField; value?: BV; perDevice?: FuncDecl<"main"> }>();
  readonly tables = new Map<string, BaseTable>();
  readonly deviceMacF: FuncDecl<"main">;
  /** The one packet model of these inputs: the NF's and the spec's reads see each other's writes. */
  readonly pm: PacketModel;
  private readonly seenCfgIndex = new Set<string>();

  constructor(
    readonly Z: Z,
    readonly b: Bits,
    readonly nf: NfModule,
    readonly facts: FactSink,
  ) {
    this.pkt = Z.Array.const("packet", Z.BitVec.sort(16), Z.BitVec.sort(8)) as Arr;
    this.len = b.named("packet.length", 16);
    this.device = b.named("input.device", 16);
    this.deviceCount = b.named("deviceCount", 16);
    this.time = b.named("time", 64);
    this.pm = new PacketModel(Z, b);
    this.deviceMacF = Z.Function.declare("deviceMac", Z.BitVec.sort(16), Z.BitVec.sort(64));
    facts.assume(this.len.ule(b.val(MAX_FRAME, 16)));
    facts.assume(b.and(this.deviceCount.uge(b.val(1, 16)), this.deviceCount.ule(b.val(32, 16)), this.device.ult(this.deviceCount)));
    for (const f of nf.config) {
      if (f.perDevice) {
        this.cfg.set(f.name, { field: f, perDevice: Z.Function.declare(`cfg.${f.name}`, Z.BitVec.sort(16), Z.BitVec.sort(f.width)) });
      } else {
        const v = b.named(`cfg.${f.name}`, f.width);
        this.cfg.set(f.name, { field: f, value: v });
        facts.assume(this.rangeFact(f, v));
      }
    }
  }

  private rangeFact(f: ConfigField, v: BV): B {
    const b = this.b;
    const parts = [v.uge(b.val(f.min, f.width)), v.ule(b.val(f.max, f.width))];
    if (f.kind === "device") parts.push(b.resize(v, 16).ult(this.deviceCount));
    return b.and(...parts);
  }

  config(name: string): BV {
    const c = this.cfg.get(name);
    if (!c?.value) throw new Error(`config field ${name} is not scalar`);
    return c.value;
  }
  configAt(name: string, index: BV): BV {
    const c = this.cfg.get(name);
    if (!c?.perDevice) throw new Error(`config field ${name} is not per-device`);
    const v = apply<BV>(c.perDevice, index);
    const key = `${name}:${index.id()}`;
    if (!this.seenCfgIndex.has(key)) {
      this.seenCfgIndex.add(key);
      this.facts.assume(this.rangeFact(c.field, v));
    }
    return v;
  }
  deviceMac(d: BV): BV {
    return apply<BV>(this.deviceMacF, d);
  }
}

export class VerifyUnsupported extends Error {}

interface State {
  pc: B[];
  env: Map<string, Val>;
  pkt: Arr;
  tables: Map<string, TableView>;
  obligations: Obligation[];
  added: { index: BV; present: B }[];
  refreshed: BV[];
  trail: string[];
  /** Set when the current function returned. */
  ret?: Val | "void";
}

function clone(s: State): State {
  return { ...s, pc: [...s.pc], env: new Map(s.env), tables: new Map(s.tables), obligations: [...s.obligations], added: [...s.added], refreshed: [...s.refreshed], trail: [...s.trail], ret: undefined };
}

export class NfExecutor {
  readonly pm: PacketModel;
  readonly ops: TableOps;
  private readonly functions = new Map<string, FunctionDecl>();
  private readonly structures = new Map<string, StructureDecl>();
  paths: NfPath[] = [];
  forkChecks = 0;

  constructor(
    readonly Z: Z,
    readonly b: Bits,
    readonly nf: NfModule,
    readonly inputs: SymInputs,
    readonly feasible: (pc: B[]) => Promise<boolean>,
  ) {
    this.pm = inputs.pm;
    this.ops = new TableOps(Z, b, inputs.facts);
    for (const f of nf.functions) this.functions.set(f.name, f);
    for (const s of nf.state) this.structures.set(s.name, s);
  }

  /** The initial tables (arbitrary state satisfying the invariants). */
  initialTables(): Map<string, TableView> {
    if (this.inputs.tables.size > 0 || this.nf.state.length === 0) return new Map(this.inputs.tables);
    const out = new Map<string, TableView>();
    for (const s of this.nf.state) {
      if (s.kind !== "FlowTable") throw new VerifyUnsupported(`${s.kind} (state '${s.name}') is not supported by the verifier yet: only FlowTable`);
      const record = this.nf.records.find((r) => r.name === s.record);
      if (!record) throw new Error(`record ${s.record} not found`);
      const env = new Map<string, Val>();
      const cap = this.configExpr(s.capacity, env);
      const exp = s.expiration ? this.configExpr(s.expiration, env) : this.b.val(0, 64);
      const t = new BaseTable(this.Z, this.b, s.name, record, this.b.resize(cap, 32), this.b.resize(exp, 64), this.inputs.time, this.inputs.facts, this.inputs.deviceCount);
      this.inputs.tables.set(s.name, t);
      out.set(s.name, t);
    }
    return out;
  }

  private configExpr(e: Expr, env: Map<string, Val>): BV {
    const st: State = { pc: [], env, pkt: this.inputs.pkt, tables: new Map(), obligations: [], added: [], refreshed: [], trail: [] };
    const v = this.eval(e, st, this.b.Z.Bool.val(true));
    if (v.k !== "bv") throw new Error("structure sizes must be integers");
    return v.e;
  }

  /**
   * The declared constraints over the config, evaluated with mathematical integers (as the flag
   * parser does): each value is a signed term just wide enough for its range (a u16 plus a u32:
   * 34 bits), since every goal whose proof needs a constraint bit-blasts it.
   */
  assumeConstraints(): void {
    const b = this.b;
    const signExt = (x: BV, w: number): BV => (x.size() < w ? x.signExt(w - x.size()) : x);
    const both = (l: BV, r: BV, w: number): [BV, BV] => [signExt(l, w), signExt(r, w)];
    const math = (e: Expr): BV | B => {
      switch (e.kind) {
        case "const": {
          const v = BigInt(e.value);
          const magnitude = v < 0n ? -v - 1n : v;
          return b.val(e.value, magnitude.toString(2).length + 1);
        }
        case "boolConst":
          return this.Z.Bool.val(e.value);
        case "config": {
          const v = this.inputs.config(e.field);
          return e.type.kind === "bool" ? v.neq(b.val(0, v.size())) : v.zeroExt(1);
        }
        case "convert":
          return math(e.operand);
        case "not":
          return b.not(math(e.operand) as B);
        case "logical":
          return e.op === "&&" ? b.and(math(e.left) as B, math(e.right) as B) : b.or(math(e.left) as B, math(e.right) as B);
        case "binary": {
          const l = math(e.left) as BV;
          const r = math(e.right) as BV;
          const wide = Math.max(l.size(), r.size());
          // A sum or difference needs one bit more than its wider operand, a product both widths.
          const widths: Partial<Record<string, number>> = { "+": wide + 1, "-": wide + 1, "*": l.size() + r.size(), "&": wide, "|": wide, "^": wide };
          const w = widths[e.op];
          if (w === undefined) throw new VerifyUnsupported(`${e.loc.file}:${e.loc.line}: '${e.op}' in a constraint is not supported by the verifier yet`);
          const [x, y] = both(l, r, w);
          const ops: Record<string, () => BV> = { "+": () => x.add(y), "-": () => x.sub(y), "*": () => x.mul(y), "&": () => x.and(y), "|": () => x.or(y), "^": () => x.xor(y) };
          return ops[e.op]!();
        }
        case "compare": {
          const l = math(e.left);
          const r = math(e.right);
          if (!this.Z.isBitVec(l) || !this.Z.isBitVec(r)) return e.op === "==" ? l.eq(r) : l.neq(r);
          const [x, y] = both(l, r, Math.max(l.size(), r.size()));
          if (e.op === "==") return x.eq(y);
          if (e.op === "!=") return x.neq(y);
          return e.op === "<" ? x.slt(y) : e.op === "<=" ? x.sle(y) : e.op === ">" ? x.sgt(y) : x.sge(y);
        }
        default:
          throw new VerifyUnsupported(`${e.loc.file}:${e.loc.line}: ${e.kind} in a constraint is not supported by the verifier yet`);
      }
    };
    for (const c of this.nf.constraints) this.inputs.facts.assume(math(c.expr) as B);
  }

  async run(): Promise<NfPath[]> {
    const tables = this.initialTables();
    const st: State = { pc: [], env: new Map(), pkt: this.inputs.pkt, tables, obligations: [], added: [], refreshed: [], trail: [] };
    const finals = await this.block(this.nf.process.body, st);
    this.paths = [];
    for (const f of finals) {
      const r = f.ret;
      if (r === undefined || r === "void" || r.k !== "act") {
        f.obligations.push({ cond: this.Z.Bool.val(false), kind: "contract", message: "process() ends without returning an action", loc: this.nf.process.loc });
        continue;
      }
      this.paths.push({ id: this.paths.length + 1, pc: f.pc, action: { kind: r.kind, dev: r.dev }, pkt: f.pkt, tables: f.tables, obligations: f.obligations, added: f.added, refreshed: f.refreshed, trail: f.trail });
    }
    return this.paths;
  }

  // --------------------------------------------------------------- statements

  private async block(stmts: Stmt[], st: State): Promise<State[]> {
    let live: State[] = [st];
    const done: State[] = [];
    for (const s of stmts) {
      const next: State[] = [];
      for (const cur of live) {
        for (const r of await this.stmt(s, cur)) (r.ret !== undefined ? done : next).push(r);
      }
      live = next;
      if (live.length === 0) break;
    }
    return [...done, ...live];
  }

  private oblige(st: State, guard: B, cond: B, kind: Obligation["kind"], message: string, loc: SourceLoc): void {
    const c = this.b.implies(guard, cond);
    if (isTrue(c)) return;
    st.obligations.push({ cond: c, kind, message, loc });
  }

  private async stmt(s: Stmt, st: State): Promise<State[]> {
    const T = this.Z.Bool.val(true);
    switch (s.kind) {
      case "let":
        return this.withValue(s.init, st, (v, x) => (x.env.set(s.name, v), [x]));
      case "assign":
        return this.withValue(s.value, st, (v, x) => (x.env.set(s.name, v), [x]));
      case "setHeaderField": {
        const h = this.eval(s.handle, st, T);
        const v = this.eval(s.value, st, T);
        if (h.k !== "hdr" || v.k !== "bv") throw new Error("bad header write");
        st.pkt = this.pm.writeField(st.pkt, this.inputs.len, h.off, s.header, s.field, v.e);
        return [st];
      }
      case "stateCall":
        return [this.stateCall(s, st)];
      case "if": {
        const c = this.eval(s.cond, st, T);
        if (c.k !== "bool") throw new Error("if on a non-boolean");
        const out: State[] = [];
        const where = `${s.loc.line}`;
        if (!isFalse(c.e)) {
          const t = clone(st);
          t.pc.push(c.e);
          t.trail.push(`${where}:then`);
          if (isTrue(c.e) || (await this.check(t.pc))) out.push(...(await this.block(s.then, t)));
        }
        if (!isTrue(c.e)) {
          const e = clone(st);
          e.pc.push(this.b.not(c.e));
          e.trail.push(`${where}:else`);
          if (isFalse(c.e) || (await this.check(e.pc))) out.push(...(await this.block(s.else, e)));
        }
        return out;
      }
      case "return": {
        if (!s.value) {
          st.ret = "void";
          return [st];
        }
        return this.withValue(s.value, st, (v, x) => ((x.ret = v), [x]));
      }
      case "callStmt": {
        const results = await this.callFunction(s.fn, s.args, st, s.loc);
        return results.map((r) => ((r.ret = undefined), r));
      }
      case "for":
        return this.forLoop(s, st);
    }
  }

  private async check(pc: B[]): Promise<boolean> {
    this.forkChecks++;
    return this.feasible(pc);
  }

  /** Evaluates an expression that may call a helper (which may fork), then continues. */
  private async withValue(e: Expr, st: State, k: (v: Val, st: State) => State[]): Promise<State[]> {
    if (e.kind === "call") {
      const out: State[] = [];
      for (const r of await this.callFunction(e.fn, e.args, st, e.loc)) {
        const v = r.ret;
        r.ret = undefined;
        if (v === undefined || v === "void") throw new Error(`${e.fn} returned no value`);
        out.push(...k(v, r));
      }
      return out;
    }
    return k(this.eval(e, st, this.Z.Bool.val(true)), st);
  }

  private async callFunction(name: string, args: Expr[], st: State, loc: SourceLoc): Promise<State[]> {
    const fn = this.functions.get(name);
    if (!fn) throw new VerifyUnsupported(`${loc.file}:${loc.line}: call to unknown function ${name}`);
    const values = args.map((a) => this.eval(a, st, this.Z.Bool.val(true)));
    const callerEnv = st.env;
    const inner = clone(st);
    inner.env = new Map();
    fn.params.forEach((p, i) => inner.env.set(p.name, values[i]!));
    const results = await this.block(fn.body, inner);
    return results.map((r) => ({ ...r, env: new Map(callerEnv), ret: r.ret ?? "void" }));
  }

  private async forLoop(s: Extract<Stmt, { kind: "for" }>, st: State): Promise<State[]> {
    if (s.maxIterations > 64n) throw new VerifyUnsupported(`${s.loc.file}:${s.loc.line}: loops of more than 64 iterations are not supported by the verifier yet`);
    const T = this.Z.Bool.val(true);
    const from = this.eval(s.from, st, T);
    const to = this.eval(s.to, st, T);
    if (from.k !== "bv" || to.k !== "bv") throw new Error("bad loop bounds");
    let live: State[] = [st];
    const out: State[] = [];
    for (let n = 0n; n <= s.maxIterations; n++) {
      const next: State[] = [];
      for (const cur of live) {
        const v = from.e.add(this.b.val(n, s.varType.width));
        const more = v.ult(to.e);
        if (n === s.maxIterations) {
          this.oblige(cur, T, this.b.not(more), "loop", "the loop runs longer than its static bound", s.loc);
          out.push(cur);
          continue;
        }
        const exit = clone(cur);
        exit.pc.push(this.b.not(more));
        if (await this.check(exit.pc)) out.push(exit);
        const body = clone(cur);
        body.pc.push(more);
        if (!(await this.check(body.pc))) continue;
        body.env.set(s.variable, { k: "bv", e: v });
        for (const r of await this.block(s.body, body)) (r.ret !== undefined ? out : next).push(r);
      }
      live = next;
    }
    return out;
  }

  private table(st: State, name: string): TableView {
    const t = st.tables.get(name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  }

  private timeMonotone(st: State, t: TableView, now: BV, loc: SourceLoc, op: string): void {
    const x = this.b.fresh("someIndex", 32);
    this.oblige(st, this.Z.Bool.val(true), this.b.implies(t.alloc(x), t.time(x).ule(now)), "contract", `${op}: time earlier than a stored time`, loc);
  }

  private stateCall(s: Extract<Stmt, { kind: "stateCall" }>, st: State): State {
    const T = this.Z.Bool.val(true);
    const decl = this.structures.get(s.structure)!;
    if (decl.kind !== "FlowTable") throw new VerifyUnsupported(`${decl.kind} is not supported by the verifier yet`);
    const t = this.table(st, s.structure);
    const args = s.args.map((a) => this.eval(a, st, T));
    const bv = (i: number): BV => {
      const v = args[i]!;
      if (v.k !== "bv") throw new Error("expected an integer argument");
      return v.e;
    };
    const set = (v: Val) => {
      if (s.result) st.env.set(s.result.name, v);
    };
    const b = this.b;
    const what = `${s.structure}.${s.method}`;
    switch (s.method) {
      case "expire": {
        const now = bv(0);
        this.timeMonotone(st, t, now, s.loc, what);
        const after = this.ops.expire(t, now);
        st.tables.set(s.structure, after);
        set({ k: "bv", e: t.size.sub(after.size) });
        return st;
      }
      case "add": {
        const k = args[0]!;
        if (k.k !== "rec") throw new Error("add needs a record");
        const now = bv(1);
        this.oblige(st, T, b.not(t.find(k.f).present), "contract", `${what}: the key is already present`, s.loc);
        this.timeMonotone(st, t, now, s.loc, what);
        this.oblige(st, T, t.base.keyInvariant(k.f), "contract", `${what}: a Device field of the key holds a device that does not exist (table invariant)`, s.loc);
        const r = this.ops.add(t, k.f, now);
        st.tables.set(s.structure, r.table);
        st.added.push({ index: r.index, present: r.present });
        set({ k: "opt", present: r.present, v: { k: "bv", e: r.index } });
        return st;
      }
      case "refresh": {
        const i = bv(0);
        this.oblige(st, T, t.alloc(i), "contract", `${what}: index ${s.args[0]!.loc.text} holds no entry`, s.loc);
        this.timeMonotone(st, t, bv(1), s.loc, what);
        st.tables.set(s.structure, this.ops.refresh(t, i, bv(1)));
        st.refreshed.push(i);
        return st;
      }
      case "remove": {
        const i = bv(0);
        this.oblige(st, T, t.alloc(i), "contract", `${what}: index ${s.args[0]!.loc.text} holds no entry`, s.loc);
        st.tables.set(s.structure, this.ops.remove(t, i));
        return st;
      }
      default:
        throw new VerifyUnsupported(`${what} is not supported by the verifier yet`);
    }
  }

  // --------------------------------------------------------------- expressions

  private width(e: Expr): IntWidth {
    if (e.type.kind !== "int") throw new Error(`expected an integer: ${e.loc.text}`);
    return e.type.width;
  }

  private bvOf(v: Val): BV {
    if (v.k !== "bv") throw new Error(`expected an integer value, got ${v.k}`);
    return v.e;
  }
  private boolOf(v: Val): B {
    if (v.k !== "bool") throw new Error(`expected a boolean value, got ${v.k}`);
    return v.e;
  }

  eval(e: Expr, st: State, guard: B): Val {
    const b = this.b;
    const Z = this.Z;
    const inp = this.inputs;
    switch (e.kind) {
      case "const":
        return { k: "bv", e: b.val(e.value, this.width(e)) };
      case "boolConst":
        return { k: "bool", e: Z.Bool.val(e.value) };
      case "local": {
        const v = st.env.get(e.name);
        if (!v) throw new Error(`unbound local ${e.name}`);
        return v;
      }
      case "config": {
        const v = inp.config(e.field);
        return e.type.kind === "bool" ? { k: "bool", e: v.neq(b.val(0, v.size())) } : { k: "bv", e: v };
      }
      case "configAt": {
        const i = this.bvOf(this.eval(e.index, st, guard));
        this.oblige(st, guard, b.and(i.ult(b.val(32, 16)), i.ult(inp.deviceCount)), "range", `${e.loc.text}: device index out of range`, e.loc);
        const v = inp.configAt(e.field, i);
        return e.type.kind === "bool" ? { k: "bool", e: v.neq(b.val(0, v.size())) } : { k: "bv", e: v };
      }
      case "context":
        switch (e.field) {
          case "device":
            return { k: "bv", e: inp.device };
          case "time":
            return { k: "bv", e: inp.time };
          case "deviceCount":
            return { k: "bv", e: inp.deviceCount };
          case "length":
            return { k: "bv", e: inp.len };
        }
        break;
      case "deviceMac": {
        const d = this.bvOf(this.eval(e.device, st, guard));
        this.oblige(st, guard, d.ult(inp.deviceCount), "range", `${e.loc.text}: device out of range`, e.loc);
        return { k: "bv", e: inp.deviceMac(d) };
      }
      case "binary":
        return { k: "bv", e: this.binary(e, st, guard) };
      case "compare": {
        const l = this.eval(e.left, st, guard);
        const r = this.eval(e.right, st, guard);
        if (l.k === "bool" && r.k === "bool") return { k: "bool", e: e.op === "==" ? l.e.eq(r.e) : l.e.neq(r.e) };
        const x = this.bvOf(l);
        const y = b.resize(this.bvOf(r), x.size());
        const ops = { "==": () => x.eq(y), "!=": () => x.neq(y), "<": () => x.ult(y), "<=": () => x.ule(y), ">": () => x.ugt(y), ">=": () => x.uge(y) };
        return { k: "bool", e: ops[e.op]() };
      }
      case "logical": {
        const l = this.boolOf(this.eval(e.left, st, guard));
        const rGuard = e.op === "&&" ? b.and(guard, l) : b.and(guard, b.not(l));
        const r = this.boolOf(this.eval(e.right, st, rGuard));
        return { k: "bool", e: e.op === "&&" ? b.and(l, r) : b.or(l, r) };
      }
      case "not":
        return { k: "bool", e: b.not(this.boolOf(this.eval(e.operand, st, guard))) };
      case "cond": {
        const c = this.boolOf(this.eval(e.cond, st, guard));
        const x = this.eval(e.then, st, b.and(guard, c));
        const y = this.eval(e.else, st, b.and(guard, b.not(c)));
        return this.iteVal(c, x, y);
      }
      case "convert": {
        const v = this.bvOf(this.eval(e.operand, st, guard));
        const w = this.width(e);
        if (e.mode === "checked") this.oblige(st, guard, b.fits(v, w), "overflow", `${e.loc.text}: value does not fit in u${w}`, e.loc);
        return { k: "bv", e: b.resize(v, w) };
      }
      case "recordField": {
        const r = this.eval(e.record, st, guard);
        const rec = r.k === "opt" ? r.v : r;
        if (rec.k !== "rec") throw new Error("field of a non-record");
        return { k: "bv", e: rec.f[e.field]! };
      }
      case "recordLit": {
        const f: Rec = {};
        for (const [n, x] of Object.entries(e.fields)) f[n] = this.bvOf(this.eval(x, st, guard));
        return { k: "rec", name: e.record, f };
      }
      case "headerField": {
        const h = this.eval(e.handle, st, guard);
        const hv = h.k === "opt" ? h.v : h;
        if (hv.k !== "hdr") throw new Error("field of a non-header");
        return { k: "bv", e: this.pm.readField(st.pkt, hv.off, e.header, e.field) };
      }
      case "isFragment":
        return { k: "bool", e: this.pm.isFragment(st.pkt) };
      case "isPresent": {
        const v = this.eval(e.operand, st, guard);
        return { k: "bool", e: v.k === "opt" ? v.present : Z.Bool.val(true) };
      }
      case "unwrap": {
        const v = this.eval(e.operand, st, guard);
        return v.k === "opt" ? v.v : v;
      }
      case "stateRead":
        return this.stateRead(e, st, guard);
      case "parse": {
        const p = this.pm.parse(st.pkt, inp.len, e.header);
        return { k: "opt", present: p.present, v: { k: "hdr", header: e.header, off: p.off } };
      }
      case "call":
        throw new VerifyUnsupported(`${e.loc.file}:${e.loc.line}: a helper call inside an expression (${e.loc.text}) is not supported by the verifier yet; assign it to a const first`);
      case "action":
        return { k: "act", kind: e.action, dev: b.val(0, 16) };
      case "forward": {
        const d = this.bvOf(this.eval(e.device, st, guard));
        this.oblige(st, guard, d.ult(inp.deviceCount), "range", `forward(${e.device.loc.text}): the device may not exist`, e.loc);
        return { k: "act", kind: "forward", dev: d };
      }
    }
    throw new Error(`unhandled expression ${(e as Expr).kind}`);
  }

  private iteVal(c: B, x: Val, y: Val): Val {
    const b = this.b;
    if (x.k === "bv" && y.k === "bv") return { k: "bv", e: b.ite(c, x.e, b.resize(y.e, x.e.size())) };
    if (x.k === "bool" && y.k === "bool") return { k: "bool", e: this.Z.If(c, x.e, y.e) as B };
    if (x.k === "rec" && y.k === "rec") return { k: "rec", name: x.name, f: Object.fromEntries(Object.keys(x.f).map((n) => [n, b.ite(c, x.f[n]!, y.f[n]!)])) };
    if (x.k === "opt" && y.k === "opt") return { k: "opt", present: this.Z.If(c, x.present, y.present) as B, v: this.iteVal(c, x.v, y.v) };
    if (x.k === "hdr" && y.k === "hdr" && x.header === y.header) return { k: "hdr", header: x.header, off: b.ite(c, x.off, y.off) };
    throw new VerifyUnsupported(`a conditional expression over ${x.k} values is not supported by the verifier yet`);
  }

  private stateRead(e: Extract<Expr, { kind: "stateRead" }>, st: State, guard: B): Val {
    const t = this.table(st, e.structure);
    const b = this.b;
    const args = e.args.map((a) => this.eval(a, st, guard));
    switch (e.method) {
      case "find": {
        const k = args[0]!;
        if (k.k !== "rec") throw new Error("find needs a record");
        const f = t.find(k.f);
        return { k: "opt", present: f.present, v: { k: "bv", e: f.index } };
      }
      case "keyAt": {
        const i = this.bvOf(args[0]!);
        const decl = this.structures.get(e.structure)!;
        return { k: "opt", present: t.alloc(i), v: { k: "rec", name: decl.record!, f: t.key(i) } };
      }
      case "size":
        return { k: "bv", e: t.size };
      case "capacity":
        return { k: "bv", e: t.cap };
      default:
        throw new VerifyUnsupported(`${e.structure}.${e.method} is not supported by the verifier yet`);
    }
    void b;
  }

  private binary(e: Extract<Expr, { kind: "binary" }>, st: State, guard: B): BV {
    const b = this.b;
    const w = this.width(e);
    const l = b.resize(this.bvOf(this.eval(e.left, st, guard)), w);
    const rRaw = this.bvOf(this.eval(e.right, st, guard));
    const r = b.resize(rRaw, w);
    const loc = e.loc;
    const ob = (cond: B, kind: Obligation["kind"], msg: string) => this.oblige(st, guard, cond, kind, `${loc.text}: ${msg}`, loc);
    const wide = (x: BV) => x.zeroExt(w);
    switch (e.op) {
      case "+":
        ob(b.fits(wide(l).add(wide(r)), w), "overflow", `overflows u${w}`);
        return l.add(r);
      case "-":
        ob(l.uge(r), "overflow", `underflows (the result would be negative)`);
        return l.sub(r);
      case "*":
        ob(b.fits(wide(l).mul(wide(r)), w), "overflow", `overflows u${w}`);
        return l.mul(r);
      case "/":
        ob(r.neq(b.val(0, w)), "division", "division by zero");
        return l.udiv(r);
      case "%":
        ob(r.neq(b.val(0, w)), "division", "remainder by zero");
        return l.urem(r);
      case "&":
        return l.and(r);
      case "|":
        return l.or(r);
      case "^":
        return l.xor(r);
      case "<<": {
        const amount = b.resize(rRaw, w);
        ob(rRaw.ult(b.val(w, rRaw.size())), "overflow", `shift by u${w} width or more`);
        ob(b.fits(wide(l).shl(b.resize(rRaw, 2 * w)), w), "overflow", `overflows u${w}`);
        return l.shl(amount);
      }
      case ">>": {
        ob(rRaw.ult(b.val(w, rRaw.size())), "overflow", `shift by u${w} width or more`);
        return l.lshr(b.resize(rRaw, w));
      }
    }
  }
}
