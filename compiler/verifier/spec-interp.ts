/**
 * Symbolic interpreter of specs and properties: runs the spec's TypeScript source (the same
 * functions `vigorc test` runs concretely with specs/lib/spec.ts) over Z3 terms. Integers are
 * mathematical (72-bit signed terms: exact for sums and differences of u64 values), as in
 * TypeScript; a spec that branches forks into guarded outcomes.
 */
import { Node, SyntaxKind, type ArrowFunction, type Expression, type FunctionDeclaration, type FunctionExpression, type Statement } from "ts-morph";

export type SpecFn = FunctionDeclaration | ArrowFunction | FunctionExpression;
import type { HeaderName } from "../../dsl/layout.ts";
import { diagnosticAt, type Diagnostic } from "../frontend/diagnostics.ts";
import type { NfModule } from "../ir/ir.ts";
import type { SymInputs } from "./exec-nf.ts";
import { PacketModel, TableOps, type Arr, type Rec, type TableView } from "./sym.ts";
import { Bits, isFalse, isTrue, Z3_decl_kind, type B, type BV, type Z } from "./z3.ts";

export const W = 72;

export type SVal =
  | { k: "int"; e: BV }
  | { k: "bool"; e: B }
  | { k: "str"; s: string }
  | { k: "undef" }
  | { k: "opt"; present: B; v: SVal }
  | { k: "obj"; f: Record<string, SVal> }
  | { k: "table"; name: string; t: TableView }
  | { k: "pkt"; arr: Arr }
  | { k: "hdr"; header: HeaderName; arr: Arr; off: BV }
  | { k: "any" }
  | { k: "expected"; action: "drop" | "forward" | "flood"; device: BV; state?: Record<string, TableView>; rewrite: Record<string, SVal> }
  | { k: "fn"; decl: SpecFn }
  | { k: "builtin"; name: string }
  | { k: "cfgArr"; field: string }
  | { k: "ctx" };

export class SpecError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/** A choice the spec made (add at "any free index"): must be a valid choice, under its guard. */
export interface ChoiceGoal {
  guard: B;
  cond: B;
  what: string;
}

export interface Outcome {
  guard: B;
  value: SVal;
}

const LIB_FILE = /specs\/lib\/spec\.ts$/;

export class SpecInterpreter {
  readonly pm: PacketModel;
  readonly ops: TableOps;
  choices: ChoiceGoal[] = [];
  /** The index the spec's add() on a table picks: a placeholder the checker binds to a witness. */
  readonly choiceVars = new Map<string, BV>();
  /** Skolem index / key per table for table equality. */
  readonly skolems = new Map<string, { x: BV; q: Rec }>();
  private depth = 0;
  /** The condition under which the statement being interpreted runs (guards the spec's choices). */
  private curGuard: B | undefined;

  constructor(
    readonly Z: Z,
    readonly b: Bits,
    readonly nf: NfModule,
    readonly inputs: SymInputs,
  ) {
    this.pm = inputs.pm;
    this.ops = new TableOps(Z, b, inputs.facts);
  }

  err(node: Node, message: string, hint?: string): never {
    throw new SpecError(diagnosticAt(node, "VIG3001", message, hint));
  }

  int(e: BV): SVal {
    return { k: "int", e: this.b.resize(e, W) };
  }
  T(): B {
    return this.Z.Bool.val(true);
  }

  // ----------------------------------------------------------------- values the spec receives

  cfgObj(): SVal {
    const f: Record<string, SVal> = {};
    for (const [name, c] of this.inputs.cfg) {
      if (c.field.perDevice) f[name] = { k: "cfgArr", field: name };
      else if (c.field.kind === "bool") f[name] = { k: "bool", e: c.value!.neq(this.b.val(0, c.value!.size())) };
      else f[name] = this.int(c.value!);
    }
    return { k: "obj", f };
  }
  tablesObj(tables: Map<string, TableView>): SVal {
    return { k: "obj", f: Object.fromEntries([...tables].map(([n, t]) => [n, { k: "table", name: n, t } as SVal])) };
  }
  actionObj(kind: string, dev: BV): SVal {
    return { k: "obj", f: { kind: { k: "str", s: kind }, device: this.int(dev) } };
  }

  choiceVar(table: string): BV {
    let v = this.choiceVars.get(table);
    if (!v) this.choiceVars.set(table, (v = this.b.named(`spec.choice.${table}`, 32)));
    return v;
  }
  skolem(t: TableView, name: string): { x: BV; q: Rec } {
    let s = this.skolems.get(name);
    if (!s) {
      const q: Rec = Object.fromEntries(t.base.record.fields.map((f) => [f.name, this.b.named(`${name}.someKey.${f.name}`, f.type.width)]));
      this.skolems.set(name, (s = { x: this.b.named(`${name}.someIndex`, 32), q }));
    }
    return s;
  }

  // ----------------------------------------------------------------- functions and statements

  call(decl: SpecFn, args: SVal[]): Outcome[] {
    if (++this.depth > 50) this.err(decl, "recursion is not available in a spec");
    try {
      const env = new Map<string, SVal>();
      decl.getParameters().forEach((p, i) => env.set(p.getName(), args[i] ?? { k: "undef" }));
      const body = decl.getBody();
      if (body && Node.isArrowFunction(decl) && !Node.isBlock(body)) return [{ guard: this.T(), value: this.expr(body as Expression, env) }];
      if (!body || !Node.isBlock(body)) this.err(decl, "a spec function needs a body");
      const out: Outcome[] = [];
      const outer = this.curGuard ?? this.T();
      try {
        this.stmts(body.getStatements(), env, this.T(), out, outer);
      } finally {
        this.curGuard = outer;
      }
      return out;
    } finally {
      this.depth--;
    }
  }

  private stmts(list: Statement[], env: Map<string, SVal>, guard: B, out: Outcome[], outer: B): void {
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      this.curGuard = this.b.and(outer, guard);
      if (Node.isBlock(s)) {
        this.stmts([...s.getStatements(), ...list.slice(i + 1)], env, guard, out, outer);
        return;
      }
      if (Node.isVariableStatement(s)) {
        for (const d of s.getDeclarations()) {
          const init = d.getInitializer();
          if (!init) this.err(d, "a spec variable needs an initial value");
          env.set(d.getName(), this.expr(init, env));
        }
        continue;
      }
      if (Node.isExpressionStatement(s)) {
        const e = s.getExpression();
        if (Node.isBinaryExpression(e) && e.getOperatorToken().getKind() === SyntaxKind.EqualsToken && Node.isIdentifier(e.getLeft())) {
          env.set(e.getLeft().getText(), this.expr(e.getRight(), env));
          continue;
        }
        this.err(s, "a spec statement is a const/let, an assignment to a local, an if or a return");
      }
      if (Node.isIfStatement(s)) {
        const c = this.bool(this.expr(s.getExpression(), env), s.getExpression());
        const rest = list.slice(i + 1);
        const thenS = s.getThenStatement();
        const elseS = s.getElseStatement();
        const asList = (x: Statement | undefined): Statement[] => (x === undefined ? [] : Node.isBlock(x) ? x.getStatements() : [x]);
        if (!isFalse(c)) this.stmts([...asList(thenS), ...rest], new Map(env), this.b.and(guard, c), out, outer);
        if (!isTrue(c)) this.stmts([...asList(elseS), ...rest], new Map(env), this.b.and(guard, this.b.not(c)), out, outer);
        return;
      }
      if (Node.isReturnStatement(s)) {
        const e = s.getExpression();
        out.push({ guard, value: e ? this.expr(e, env) : { k: "undef" } });
        return;
      }
      if (Node.isEmptyStatement(s)) continue;
      this.err(s, `${s.getKindName()} is not available in a spec`, "specs use const/let, if and return; loops over entries are written with Table operations");
    }
    out.push({ guard, value: { k: "undef" } });
  }

  /** Merges the outcomes of a helper into one value. */
  merge(outs: Outcome[], at: Node): SVal {
    if (outs.length === 0) this.err(at, "this function never returns");
    let v = outs[outs.length - 1]!.value;
    for (let i = outs.length - 2; i >= 0; i--) v = this.ite(outs[i]!.guard, outs[i]!.value, v, at);
    return v;
  }

  ite(c: B, x: SVal, y: SVal, at: Node): SVal {
    if (isTrue(c)) return x;
    if (isFalse(c)) return y;
    const b = this.b;
    if (x.k === "int" && y.k === "int") return { k: "int", e: b.ite(c, x.e, y.e) };
    if (x.k === "bool" && y.k === "bool") return { k: "bool", e: this.Z.If(c, x.e, y.e) as B };
    if (x.k === "str" && y.k === "str" && x.s === y.s) return x;
    if (x.k === "undef" && y.k === "undef") return x;
    if (x.k === "undef" && y.k === "opt") return { k: "opt", present: b.and(b.not(c), y.present), v: y.v };
    if (x.k === "opt" && y.k === "undef") return { k: "opt", present: b.and(c, x.present), v: x.v };
    if (x.k === "opt" && y.k === "opt") return { k: "opt", present: this.Z.If(c, x.present, y.present) as B, v: this.ite(c, x.v, y.v, at) };
    if (x.k === "opt" || y.k === "opt") {
      const ox = x.k === "opt" ? x : { k: "opt" as const, present: this.T(), v: x };
      const oy = y.k === "opt" ? y : { k: "opt" as const, present: this.T(), v: y };
      return this.ite(c, ox, oy, at);
    }
    if (x.k === "undef") return { k: "opt", present: b.not(c), v: y };
    if (y.k === "undef") return { k: "opt", present: c, v: x };
    if (x.k === "obj" && y.k === "obj") {
      const f: Record<string, SVal> = {};
      for (const n of Object.keys(x.f)) if (n in y.f) f[n] = this.ite(c, x.f[n]!, y.f[n]!, at);
      return { k: "obj", f };
    }
    if (x.k === "table" && y.k === "table") return { k: "table", name: x.name, t: this.ops.ite(c, x.t, y.t) };
    if (x.k === "hdr" && y.k === "hdr" && x.header === y.header && x.arr === y.arr) return { k: "hdr", header: x.header, arr: x.arr, off: b.ite(c, x.off, y.off) };
    return this.err(at, `cannot choose between a ${x.k} and a ${y.k} here`, "give both branches values of the same kind");
  }

  bool(v: SVal, at: Node): B {
    if (v.k === "bool") return v.e;
    return this.err(at, `expected a boolean, found ${v.k}`);
  }
  bv(v: SVal, at: Node): BV {
    if (v.k === "int") return v.e;
    if (v.k === "opt" && v.v.k === "int") return v.v.e;
    return this.err(at, `expected an integer, found ${v.k}`);
  }

  // ----------------------------------------------------------------- expressions

  expr(e: Expression, env: Map<string, SVal>): SVal {
    const b = this.b;
    if (Node.isParenthesizedExpression(e)) return this.expr(e.getExpression(), env);
    if (Node.isNumericLiteral(e)) return { k: "int", e: b.val(BigInt(e.getLiteralValue()), W) };
    if (Node.isBigIntLiteral(e)) return { k: "int", e: b.val(BigInt(e.getText().slice(0, -1)), W) };
    if (Node.isStringLiteral(e) || Node.isNoSubstitutionTemplateLiteral(e)) return { k: "str", s: e.getLiteralValue() };
    if (e.getKind() === SyntaxKind.TrueKeyword) return { k: "bool", e: this.Z.Bool.val(true) };
    if (e.getKind() === SyntaxKind.FalseKeyword) return { k: "bool", e: this.Z.Bool.val(false) };
    if (Node.isIdentifier(e)) return this.identifier(e, env);
    if (Node.isNonNullExpression(e)) return this.unwrap(this.expr(e.getExpression(), env));
    if (Node.isAsExpression(e) || Node.isSatisfiesExpression(e)) return this.expr(e.getExpression(), env);
    if (Node.isPropertyAccessExpression(e)) return this.property(this.expr(e.getExpression(), env), e.getName(), e);
    if (Node.isElementAccessExpression(e)) {
      const obj = this.expr(e.getExpression(), env);
      const arg = e.getArgumentExpression();
      if (obj.k !== "cfgArr" || !arg) this.err(e, "indexing is available only on per-device config fields");
      const i = this.bv(this.expr(arg, env), arg);
      return this.int(this.inputs.configAt(obj.field, b.resize(i, 16)));
    }
    if (Node.isObjectLiteralExpression(e)) {
      const f: Record<string, SVal> = {};
      for (const p of e.getProperties()) {
        if (Node.isPropertyAssignment(p)) f[p.getName()] = this.expr(p.getInitializerOrThrow(), env);
        else if (Node.isShorthandPropertyAssignment(p)) f[p.getName()] = this.identifier(p.getNameNode(), env);
        else this.err(p, "only `name: value` entries are available in a spec object");
      }
      return { k: "obj", f };
    }
    if (Node.isConditionalExpression(e)) {
      const c = this.bool(this.expr(e.getCondition(), env), e.getCondition());
      return this.ite(c, this.expr(e.getWhenTrue(), env), this.expr(e.getWhenFalse(), env), e);
    }
    if (Node.isPrefixUnaryExpression(e)) {
      if (e.getOperatorToken() === SyntaxKind.ExclamationToken) return { k: "bool", e: b.not(this.bool(this.expr(e.getOperand(), env), e)) };
      if (e.getOperatorToken() === SyntaxKind.MinusToken) return { k: "int", e: this.bv(this.expr(e.getOperand(), env), e).neg() };
      this.err(e, `the operator in ${e.getText()} is not available in a spec`);
    }
    if (Node.isBinaryExpression(e)) return this.binary(e, env);
    if (Node.isCallExpression(e)) return this.callExpr(e, env);
    return this.err(e, `${e.getKindName()} is not available in a spec`);
  }

  private unwrap(v: SVal): SVal {
    return v.k === "opt" ? v.v : v;
  }

  private identifier(e: Node, env: Map<string, SVal>): SVal {
    const name = e.getText();
    const v = env.get(name);
    if (v) return v;
    if (name === "undefined") return { k: "undef" };
    let sym = e.getSymbol();
    if (sym?.isAlias()) sym = sym.getAliasedSymbol() ?? sym;
    const decl = sym?.getDeclarations()[0];
    if (!decl) return this.err(e, `'${name}' is not defined`);
    if (LIB_FILE.test(decl.getSourceFile().getFilePath())) {
      if (name === "any" || sym?.getName() === "any") return { k: "any" };
      return { k: "builtin", name: sym?.getName() ?? name };
    }
    if (Node.isFunctionDeclaration(decl)) return { k: "fn", decl };
    if (Node.isVariableDeclaration(decl)) {
      const init = decl.getInitializer();
      const st = decl.getVariableStatement();
      if (init && st && st.getDeclarationKind() === "const" && (Node.isNumericLiteral(init) || Node.isBigIntLiteral(init))) return this.expr(init, new Map());
    }
    if (/dsl\/types\.ts$/.test(decl.getSourceFile().getFilePath())) return { k: "builtin", name: sym?.getName() ?? name };
    return this.err(e, `'${name}' is not available in a spec`, "specs use their parameters, local constants, functions of spec files and specs/lib/spec.ts");
  }

  private property(obj: SVal, name: string, at: Node): SVal {
    const v = this.unwrap(obj);
    const b = this.b;
    switch (v.k) {
      case "obj": {
        const f = v.f[name];
        if (!f) return this.err(at, `'${name}' does not exist here`);
        return f;
      }
      case "pkt":
        if (name === "length") return this.int(this.inputs.len);
        break;
      case "hdr":
        if (name === "isFragment") return { k: "bool", e: this.pm.isFragment(v.arr) };
        try {
          return this.int(this.pm.readField(v.arr, v.off, v.header, name));
        } catch {
          return this.err(at, `${v.header} has no field '${name}'`);
        }
      case "table":
        if (name === "size") return this.int(v.t.size);
        if (name === "capacity") return this.int(v.t.cap);
        if (name === "expiration") return this.int(v.t.exp);
        break;
      case "ctx":
        if (name === "device") return this.int(this.inputs.device);
        if (name === "time") return this.int(this.inputs.time);
        if (name === "deviceCount") return this.int(this.inputs.deviceCount);
        break;
      default:
        break;
    }
    void b;
    return this.err(at, `'${name}' is not available on this ${v.k} value`);
  }

  private binary(e: import("ts-morph").BinaryExpression, env: Map<string, SVal>): SVal {
    const b = this.b;
    const k = e.getOperatorToken().getKind();
    const l = this.expr(e.getLeft(), env);
    const r = this.expr(e.getRight(), env);
    if (k === SyntaxKind.AmpersandAmpersandToken) return { k: "bool", e: b.and(this.bool(l, e.getLeft()), this.bool(r, e.getRight())) };
    if (k === SyntaxKind.BarBarToken) return { k: "bool", e: b.or(this.bool(l, e.getLeft()), this.bool(r, e.getRight())) };
    if (k === SyntaxKind.EqualsEqualsEqualsToken || k === SyntaxKind.ExclamationEqualsEqualsToken) {
      const eq = this.equal(l, r, e);
      return { k: "bool", e: k === SyntaxKind.EqualsEqualsEqualsToken ? eq : b.not(eq) };
    }
    const x = this.bv(l, e.getLeft());
    const y = this.bv(r, e.getRight());
    switch (k) {
      case SyntaxKind.PlusToken:
        return { k: "int", e: x.add(y) };
      case SyntaxKind.MinusToken:
        return { k: "int", e: x.sub(y) };
      case SyntaxKind.AsteriskToken:
        return { k: "int", e: x.mul(y) };
      case SyntaxKind.LessThanToken:
        return { k: "bool", e: this.compare(x, y, (p, q) => p.ult(q), (p, q) => p.slt(q)) };
      case SyntaxKind.LessThanEqualsToken:
        return { k: "bool", e: this.compare(x, y, (p, q) => p.ule(q), (p, q) => p.sle(q)) };
      case SyntaxKind.GreaterThanToken:
        return { k: "bool", e: this.compare(x, y, (p, q) => p.ugt(q), (p, q) => p.sgt(q)) };
      case SyntaxKind.GreaterThanEqualsToken:
        return { k: "bool", e: this.compare(x, y, (p, q) => p.uge(q), (p, q) => p.sge(q)) };
      case SyntaxKind.AmpersandToken:
        return { k: "int", e: x.and(y) };
      case SyntaxKind.BarToken:
        return { k: "int", e: x.or(y) };
      default:
        return this.err(e, `the operator '${e.getOperatorToken().getText()}' is not available in a spec`);
    }
  }

  /**
   * A comparison of two spec integers: unsigned in their narrow widths when both are zero-extended
   * values (the NF's comparison of the same fields, term for term), else signed in 72 bits.
   */
  private compare(x: BV, y: BV, narrow: (p: BV, q: BV) => B, wide: (p: BV, q: BV) => B): B {
    const p = this.b.unsignedNarrow(x);
    const q = this.b.unsignedNarrow(y);
    if (p === undefined || q === undefined) return wide(x, y);
    const w = Math.max(p.size(), q.size());
    return narrow(this.b.resize(p, w), this.b.resize(q, w));
  }

  private equal(l: SVal, r: SVal, at: Node): B {
    const b = this.b;
    if (l.k === "undef" && r.k === "undef") return this.T();
    if (l.k === "undef") return r.k === "opt" ? b.not(r.present) : this.Z.Bool.val(false);
    if (r.k === "undef") return l.k === "opt" ? b.not(l.present) : this.Z.Bool.val(false);
    const x = this.unwrap(l);
    const y = this.unwrap(r);
    if (x.k === "int" && y.k === "int") return this.compare(x.e, y.e, (p, q) => p.eq(q), (p, q) => p.eq(q));
    if (x.k === "bool" && y.k === "bool") return x.e.eq(y.e);
    if (x.k === "str" && y.k === "str") return this.Z.Bool.val(x.s === y.s);
    return this.err(at, `cannot compare a ${x.k} with a ${y.k} using ===`, "compare fields one by one, or tables with .equals()");
  }

  toRec(v: SVal, t: TableView, at: Node): Rec {
    const o = this.unwrap(v);
    if (o.k !== "obj") this.err(at, "expected a key record");
    const rec: Rec = {};
    for (const f of t.base.record.fields) {
      const x = o.f[f.name];
      if (!x) this.err(at, `the key has no field '${f.name}' (record ${t.base.record.name})`);
      rec[f.name] = this.b.resize(this.bv(x, at), f.type.width);
    }
    return rec;
  }
  recObj(r: Rec): SVal {
    return { k: "obj", f: Object.fromEntries(Object.entries(r).map(([n, e]) => [n, this.int(e)])) };
  }
  entryObj(t: TableView, index: BV): SVal {
    return { k: "obj", f: { index: this.int(index), key: this.recObj(t.key(index)), time: this.int(t.time(index)) } };
  }

  private callExpr(e: import("ts-morph").CallExpression, env: Map<string, SVal>): SVal {
    const b = this.b;
    const callee = e.getExpression();
    const argNodes = e.getArguments() as Expression[];
    const args = () => argNodes.map((a) => this.expr(a, env));
    if (Node.isPropertyAccessExpression(callee)) {
      const obj = this.unwrap(this.expr(callee.getExpression(), env));
      const m = callee.getName();
      if (obj.k === "pkt" && ["ethernet", "ipv4", "tcp", "udp"].includes(m)) {
        const p = this.pm.parse(obj.arr, this.inputs.len, m as HeaderName);
        return { k: "opt", present: p.present, v: { k: "hdr", header: m as HeaderName, arr: obj.arr, off: p.off } };
      }
      if (obj.k === "ctx" && m === "deviceMac") return this.int(this.inputs.deviceMac(b.resize(this.bv(args()[0]!, e), 16)));
      if (obj.k === "table") return this.tableMethod(obj, m, args(), e);
      return this.err(e, `${callee.getText()} is not available in a spec`);
    }
    const f = this.expr(callee as Expression, env);
    const a = args();
    if (f.k === "fn") return this.merge(this.call(f.decl, a), e);
    if (f.k === "builtin") {
      switch (f.name) {
        case "drop":
        case "flood":
          return this.expected(f.name, b.val(0, 16), a[0], a[1], e);
        case "forward":
          return this.expected("forward", b.resize(this.bv(a[0]!, e), 16), a[1], a[2], e);
        case "u8":
        case "u16":
        case "u32":
        case "u64":
          return a[0]!;
        case "wrap8":
        case "wrap16":
        case "wrap32":
        case "wrap64": {
          const w = Number(f.name.slice(4));
          return this.int(b.resize(this.bv(a[0]!, e), w));
        }
      }
    }
    return this.err(e, `${callee.getText()} cannot be called in a spec`);
  }

  private expected(action: "drop" | "forward" | "flood", device: BV, state: SVal | undefined, rewrite: SVal | undefined, at: Node): SVal {
    let st: Record<string, TableView> | undefined;
    if (state !== undefined && state.k !== "undef") {
      if (state.k !== "obj") this.err(at, "the expected state is an object of tables, e.g. { flows: table }");
      st = {};
      for (const [n, v] of Object.entries(state.f)) {
        if (v.k !== "table") this.err(at, `state entry '${n}' must be a table`);
        st[n] = v.t;
      }
    }
    const rw = rewrite !== undefined && rewrite.k === "obj" ? rewrite.f : {};
    return { k: "expected", action, device, state: st, rewrite: rw };
  }

  /**
   * A table index from a spec integer, valid where the integer is in 0..2^32-1 (the table reads
   * nothing elsewhere). A difference of two narrow values is taken in their width, as the NF
   * computes its index (u16 - u16): in range, both are exact, and Z3 then sees one index term.
   */
  private index(x: BV): BV {
    const b = this.b;
    if (this.Z.isApp(x) && x.decl().kind() === Z3_decl_kind.Z3_OP_BSUB && x.numArgs() === 2) {
      const p = b.unsignedNarrow(x.arg(0) as BV);
      const q = b.unsignedNarrow(x.arg(1) as BV);
      if (p !== undefined && q !== undefined) {
        const w = Math.max(p.size(), q.size());
        if (w <= 32) return b.resize(b.resize(p, w).sub(b.resize(q, w)), 32);
      }
    }
    return b.resize(x, 32);
  }

  private tableMethod(obj: Extract<SVal, { k: "table" }>, m: string, a: SVal[], at: Node): SVal {
    const b = this.b;
    const t = obj.t;
    const idx = (v: SVal): { i: BV; ok: B } => {
      const x = this.bv(v, at);
      return { i: this.index(x), ok: b.and(x.sge(b.val(0, W)), x.slt(b.val(1n << 32n, W))) };
    };
    const time = (v: SVal) => b.resize(this.bv(v, at), 64);
    switch (m) {
      case "expire":
        return { k: "table", name: obj.name, t: this.ops.expire(t, time(a[0]!)) };
      case "find": {
        const f = t.find(this.toRec(a[0]!, t, at));
        return { k: "opt", present: f.present, v: this.entryObj(t, f.index) };
      }
      case "at": {
        const { i, ok } = idx(a[0]!);
        return { k: "opt", present: b.and(ok, t.alloc(i)), v: this.entryObj(t, i) };
      }
      case "refresh":
        return { k: "table", name: obj.name, t: this.ops.refresh(t, idx(a[0]!).i, time(a[1]!)) };
      case "remove":
        return { k: "table", name: obj.name, t: this.ops.remove(t, idx(a[0]!).i) };
      case "add": {
        const j = this.choiceVar(obj.name);
        const k = this.toRec(a[0]!, t, at);
        this.choices.push({ guard: this.curGuard ?? this.T(), cond: b.and(j.ult(t.cap), b.not(t.alloc(j)), t.size.ult(t.cap), b.not(t.find(k).present)), what: `${obj.name}.add: a free index below the capacity, the key absent` });
        return { k: "obj", f: { table: { k: "table", name: obj.name, t: this.ops.addAt(t, k, time(a[1]!), j, this.T()) }, index: this.int(j) } };
      }
      case "equals": {
        const other = a[0]!;
        if (other.k !== "table") this.err(at, "equals() compares two tables");
        const s = this.skolem(t, obj.name);
        return { k: "bool", e: this.ops.equal(t, other.t, s.x, s.q) };
      }
      default:
        return this.err(at, `Table has no operation '${m}' the verifier knows`, "available: expire, find, at, refresh, add, remove, equals, size, capacity, expiration");
    }
  }
}
