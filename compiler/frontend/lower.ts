/**
 * Lowers a checked NF source file to the IR: resolves declarations (records, config, constraints,
 * state, functions), types every expression with fixed-width integers, and enforces the DSL rules
 * that need types. Errors are collected as located diagnostics; lowering goes on after an error
 * where it can, so that one run reports as much as possible.
 */
import {
  Node,
  SyntaxKind,
  type CallExpression,
  type Expression,
  type FunctionDeclaration,
  type ObjectLiteralExpression,
  type SourceFile,
  type Statement,
  type TypeNode,
} from "ts-morph";
import * as path from "node:path";
import { flagName, parseDuration, parseIpv4, parseMac } from "../../dsl/config.ts";
import { DERIVED, HEADER_CLASS, LAYOUTS, type FieldLayout, type HeaderName } from "../../dsl/layout.ts";
import { maxOf } from "../../dsl/types.ts";
import {
  BOOL,
  int,
  sameType,
  typeToString,
  type BinaryOp,
  type CompareOp,
  type ConfigField,
  type ConfigKind,
  type Constraint,
  type Expr,
  type FunctionDecl,
  type IntType,
  type IntWidth,
  type NfModule,
  type RecordDecl,
  type SourceLoc,
  type Stmt,
  type StructureDecl,
  type StructureKind,
  type Type,
} from "../ir/ir.ts";
import { resolveSlot, resultType, STRUCTURE_CONSTRUCTORS, STRUCTURE_METHODS } from "../ir/structures.ts";
import { diagnosticAt, locOf, type Diagnostic } from "./diagnostics.ts";

/** The most devices a shell supports (runtime-c/shells/nf.h NF_MAX_DEVICES). */
export const MAX_DEVICES = 32n;

const INT_ALIASES: Record<string, IntWidth> = {
  u8: 8,
  u16: 16,
  u32: 32,
  u64: 64,
  Device: 16,
  Ipv4Addr: 32,
  MacAddr: 64,
  Nanos: 64,
};
const HEADER_BY_CLASS: Record<string, HeaderName> = Object.fromEntries(
  Object.entries(HEADER_CLASS).map(([h, c]) => [c, h as HeaderName]),
);
const STRUCTURE_KINDS = new Set<string>(Object.keys(STRUCTURE_METHODS));
/**
 * The largest key a FlowTable or FlowMap holds, in bytes: runtime-c's map keeps each key inside
 * its 32-byte slot (VIG_MAP_KEY_MAX in map.h; tests/frontend.test.ts checks the two agree).
 */
export const MAP_KEY_MAX_BYTES = 16;

/** The four objects process() receives; helpers may receive them too. */
type SpecialParam = "packet" | "context" | "config" | "state";
const SPECIAL_PARAM_TYPES: Record<string, SpecialParam> = {
  Packet: "packet",
  Context: "context",
  Config: "config",
  State: "state",
};

const C_RESERVED = new Set(
  "auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while bool true false pkt len cfg st env device time_ns main".split(
    " ",
  ),
);

type Binding =
  | { kind: "local"; name: string; type: Type; mutable: boolean }
  | { kind: "special"; special: SpecialParam }
  | { kind: "const"; value: bigint; type: Type };

class Scope {
  private readonly names = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): Binding | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
  define(name: string, b: Binding): void {
    this.names.set(name, b);
  }
}

interface FunctionInfo {
  decl: FunctionDeclaration;
  /** Parameter positions that are special objects (dropped from the IR). */
  special: (SpecialParam | undefined)[];
  params: { name: string; type: Type }[];
  returnType: Type | "void";
  /** Writes state or headers: may only be called as a statement. */
  effects: boolean;
}

export class Lowerer {
  readonly diagnostics: Diagnostic[] = [];
  private readonly records = new Map<string, RecordDecl>();
  private readonly constants = new Map<string, { value: bigint; type: Type }>();
  private config: ConfigField[] = [];
  private state: StructureDecl[] = [];
  private readonly functions = new Map<string, FunctionInfo>();
  /** Per-function: IR local names already used (locals are unique per function). */
  private usedNames = new Set<string>();
  private currentFunction = "";
  private readonly callGraph = new Map<string, Set<string>>();

  constructor(private readonly source: SourceFile) {}

  private error(node: Node, code: string, message: string, hint?: string): void {
    this.diagnostics.push(diagnosticAt(node, code, message, hint));
  }

  lower(): NfModule | undefined {
    const sf = this.source;
    for (const iface of sf.getInterfaces()) this.declareRecord(iface.getName(), iface.getProperties(), iface);
    for (const alias of sf.getTypeAliases()) {
      const typeNode = alias.getTypeNode();
      if (typeNode && Node.isTypeLiteral(typeNode)) this.declareRecord(alias.getName(), typeNode.getProperties(), alias);
    }
    for (const stmt of sf.getVariableStatements()) {
      for (const decl of stmt.getDeclarations()) {
        const init = decl.getInitializer();
        if (decl.getName() === "config") {
          if (init) this.config = this.lowerConfig(init);
        } else if (init) {
          this.declareConstant(decl.getName(), decl.getTypeNode(), init);
        }
      }
    }
    const fns = sf.getFunctions();
    const processDecl = fns.find((f) => f.getName() === "process");
    if (!processDecl) {
      this.error(sf, "VIG2001", "an NF exports a function process(pkt: Packet, ctx: Context, cfg: Config, st: State): Action");
      return undefined;
    }
    for (const fn of fns) {
      const name = fn.getName() ?? "";
      if (name === "state" || name === "constraints") continue;
      this.functions.set(name, this.functionInfo(fn));
    }
    const stateFn = fns.find((f) => f.getName() === "state");
    if (stateFn) this.state = this.lowerState(stateFn);
    const constraintsFn = fns.find((f) => f.getName() === "constraints");
    const constraints = constraintsFn ? this.lowerConstraints(constraintsFn) : [];

    const lowered = new Map<string, FunctionDecl>();
    for (const [name, info] of this.functions) lowered.set(name, this.lowerFunction(name, info));
    this.checkRecursion();
    if (this.diagnostics.length > 0) return undefined;

    const helpers = this.topologicalHelpers().map((n) => lowered.get(n)!);
    return {
      name: path.basename(sf.getFilePath()).replace(/\.ts$/, ""),
      file: sf.getFilePath(),
      records: [...this.records.values()],
      config: this.config,
      constraints,
      state: this.state,
      functions: helpers,
      process: lowered.get("process")!,
    };
  }

  // ---------------------------------------------------------------- declarations

  private declareRecord(name: string, props: { getName(): string; getTypeNode(): TypeNode | undefined }[], node: Node): void {
    if (name in SPECIAL_PARAM_TYPES || name === "Action") return;
    const fields: RecordDecl["fields"] = [];
    for (const p of props) {
      const t = this.typeFromNode(p.getTypeNode(), node);
      if (t?.kind !== "int") {
        this.error(node, "VIG2002", `record ${name}: field '${p.getName()}' must have a fixed-width integer type (u8, u16, u32, u64, Device, Ipv4Addr, MacAddr)`);
        continue;
      }
      fields.push({ name: p.getName(), type: t });
    }
    if (fields.length === 0) this.error(node, "VIG2002", `record ${name} has no fields`);
    this.records.set(name, { name, fields, loc: locOf(node) });
  }

  private declareConstant(name: string, typeNode: TypeNode | undefined, init: Expression): void {
    const declared = typeNode ? this.typeFromNode(typeNode, init) : undefined;
    const value = this.literalValue(init);
    if (value === undefined) {
      this.error(init, "VIG2003", `module-level const '${name}' must be an integer literal`, "compute per-packet values inside process()");
      return;
    }
    const type = declared ?? (typeof value === "bigint" && Node.isBigIntLiteral(init) ? int(64) : int(32));
    if (type.kind !== "int" || value > maxOf(type.width)) {
      this.error(init, "VIG2003", `constant ${name} = ${value} does not fit ${typeToString(type)}`);
      return;
    }
    this.constants.set(name, { value, type });
  }

  private literalValue(e: Expression): bigint | undefined {
    if (Node.isNumericLiteral(e)) {
      const v = e.getLiteralValue();
      return Number.isInteger(v) && v >= 0 ? BigInt(v) : undefined;
    }
    if (Node.isBigIntLiteral(e)) return BigInt(e.getText().slice(0, -1));
    return undefined;
  }

  /** A type annotation as an IR type. */
  private typeFromNode(node: TypeNode | undefined, at: Node): Type | undefined {
    if (!node) return undefined;
    if (Node.isUnionTypeNode(node)) {
      const parts = node.getTypeNodes();
      const defined = parts.filter((p) => p.getKind() !== SyntaxKind.UndefinedKeyword && p.getText() !== "undefined");
      if (defined.length === 1 && parts.length === 2) {
        const inner = this.typeFromNode(defined[0], at);
        return inner ? { kind: "option", inner } : undefined;
      }
      this.error(node, "VIG2004", `type ${node.getText()} is not available`, "use T or T | undefined");
      return undefined;
    }
    if (node.getKind() === SyntaxKind.BooleanKeyword) return BOOL;
    const text = node.getText();
    if (text in INT_ALIASES) return int(INT_ALIASES[text]!);
    if (text in HEADER_BY_CLASS) return { kind: "header", header: HEADER_BY_CLASS[text]! };
    if (text === "Action") return { kind: "action" };
    const recordName = text;
    if (this.records.has(recordName) || this.source.getInterface(recordName) || this.source.getTypeAlias(recordName)) {
      return { kind: "record", name: recordName };
    }
    this.error(node, "VIG2004", `type ${text} is not available in an NF`, "use u8, u16, u32, u64, boolean, a record type, or a header type");
    return undefined;
  }

  // ---------------------------------------------------------------- config

  private lowerConfig(init: Expression): ConfigField[] {
    let obj: Expression = init;
    if (Node.isCallExpression(init) && init.getExpression().getText() === "defineConfig") obj = init.getArguments()[0] as Expression;
    if (!obj || !Node.isObjectLiteralExpression(obj)) {
      this.error(init, "VIG2010", "config must be an object literal of field declarations", "export const config = defineConfig({ wan: field.device(), ... })");
      return [];
    }
    const fields: ConfigField[] = [];
    for (const prop of obj.getProperties()) {
      if (!Node.isPropertyAssignment(prop)) {
        this.error(prop, "VIG2010", "a config field is `name: field.kind({...})`");
        continue;
      }
      const f = this.lowerConfigField(prop.getName(), prop.getInitializerOrThrow(), false);
      if (f) fields.push(f);
    }
    return fields;
  }

  private lowerConfigField(name: string, e: Expression, perDevice: boolean): ConfigField | undefined {
    const loc = locOf(e);
    if (!Node.isCallExpression(e) || !Node.isPropertyAccessExpression(e.getExpression())) {
      this.error(e, "VIG2011", `config field ${name}: expected field.u8/u16/u32/u64/device/ipv4/mac/duration/bool/perDevice(...)`);
      return undefined;
    }
    const kindName = (e.getExpression() as import("ts-morph").PropertyAccessExpression).getName();
    const arg = e.getArguments()[0];
    if (kindName === "perDevice") {
      if (perDevice || !arg || !Node.isExpression(arg)) {
        this.error(e, "VIG2011", `config field ${name}: perDevice takes one field declaration`);
        return undefined;
      }
      return this.lowerConfigField(name, arg, true);
    }
    const opts = new Map<string, Expression>();
    if (arg && Node.isObjectLiteralExpression(arg)) {
      for (const p of arg.getProperties()) if (Node.isPropertyAssignment(p)) opts.set(p.getName(), p.getInitializerOrThrow());
    }
    const doc = opts.get("doc");
    const docText = doc && Node.isStringLiteral(doc) ? doc.getLiteralValue() : "";
    const kinds: Record<string, { kind: ConfigKind; width: IntWidth; min: bigint; max: bigint }> = {
      u8: { kind: "uint", width: 8, min: 0n, max: maxOf(8) },
      u16: { kind: "uint", width: 16, min: 0n, max: maxOf(16) },
      u32: { kind: "uint", width: 32, min: 0n, max: maxOf(32) },
      u64: { kind: "uint", width: 64, min: 0n, max: maxOf(64) },
      device: { kind: "device", width: 16, min: 0n, max: MAX_DEVICES - 1n },
      ipv4: { kind: "ipv4", width: 32, min: 0n, max: maxOf(32) },
      mac: { kind: "mac", width: 64, min: 0n, max: (1n << 48n) - 1n },
      duration: { kind: "duration", width: 64, min: 0n, max: maxOf(64) },
      bool: { kind: "bool", width: 8, min: 0n, max: 1n },
    };
    const k = kinds[kindName];
    if (!k) {
      this.error(e, "VIG2011", `config field ${name}: unknown field kind '${kindName}'`);
      return undefined;
    }
    const value = (key: string): bigint | undefined => {
      const v = opts.get(key);
      if (v === undefined) return undefined;
      let parsed: bigint | undefined;
      if (Node.isStringLiteral(v)) {
        const s = v.getLiteralValue();
        if (k.kind === "duration") parsed = parseDuration(s);
        else if (k.kind === "ipv4") {
          const ip = parseIpv4(s);
          parsed = ip === undefined ? undefined : BigInt(ip);
        } else if (k.kind === "mac") parsed = parseMac(s);
      } else if (v.getKind() === SyntaxKind.TrueKeyword || v.getKind() === SyntaxKind.FalseKeyword) {
        parsed = k.kind === "bool" ? (v.getKind() === SyntaxKind.TrueKeyword ? 1n : 0n) : undefined;
      } else if (k.kind === "uint" || k.kind === "device") {
        parsed = this.literalValue(v);
      }
      if (parsed === undefined) this.error(v, "VIG2012", `config field ${name}: '${v.getText()}' is not a valid ${key} for a ${kindName} field`);
      return parsed;
    };
    const min = value("min") ?? k.min;
    const max = value("max") ?? k.max;
    const dflt = value("default");
    if (min < k.min || max > k.max || min > max) {
      this.error(e, "VIG2012", `config field ${name}: range ${min}..${max} is outside ${k.min}..${k.max} or empty`);
    }
    if (dflt !== undefined && (dflt < min || dflt > max)) {
      this.error(opts.get("default")!, "VIG2012", `config field ${name}: default ${dflt} is outside its range ${min}..${max}`);
    }
    return { name, flag: flagName(name), kind: k.kind, width: k.width, min, max, default: dflt, perDevice, doc: docText, loc };
  }

  // ---------------------------------------------------------------- state and constraints

  /** Binds the single parameter of state(c) / constraints(c) to the config. */
  private configOnlyScope(fn: FunctionDeclaration): Scope {
    const scope = new Scope();
    const param = fn.getParameters()[0];
    if (param) scope.define(param.getName(), { kind: "special", special: "config" });
    return scope;
  }

  private lowerState(fn: FunctionDeclaration): StructureDecl[] {
    const scope = this.configOnlyScope(fn);
    const body = fn.getBody();
    const stmts = body && Node.isBlock(body) ? body.getStatements() : [];
    const ret = stmts.length === 1 && Node.isReturnStatement(stmts[0]) ? stmts[0].getExpression() : undefined;
    const obj = ret && Node.isParenthesizedExpression(ret) ? ret.getExpression() : ret;
    if (!obj || !Node.isObjectLiteralExpression(obj)) {
      this.error(fn, "VIG2020", "state(cfg) must be `return { name: new FlowTable<Key>(capacity, expiration), ... }`");
      return [];
    }
    const out: StructureDecl[] = [];
    for (const prop of obj.getProperties()) {
      const init = Node.isPropertyAssignment(prop) ? prop.getInitializer() : undefined;
      if (!init || !Node.isNewExpression(init)) {
        this.error(prop, "VIG2020", "each state entry is `name: new Structure<Record>(...)`");
        continue;
      }
      const kind = init.getExpression().getText();
      if (!STRUCTURE_KINDS.has(kind)) {
        this.error(init, "VIG2021", `'${kind}' is not a state structure`, `use one of ${[...STRUCTURE_KINDS].join(", ")}`);
        continue;
      }
      const structKind = kind as StructureKind;
      const typeArgs = init.getTypeArguments();
      let record: string | undefined;
      if (structKind !== "IndexAllocator") {
        const t = this.typeFromNode(typeArgs[0], init);
        if (t?.kind !== "record") {
          this.error(init, "VIG2022", `${kind} needs a record type argument, e.g. new ${kind}<FlowId>(...)`);
          continue;
        }
        record = t.name;
        const keyBytes = (this.records.get(record)?.fields ?? []).reduce((n, f) => n + f.type.width / 8, 0);
        if ((structKind === "FlowTable" || structKind === "FlowMap") && keyBytes > MAP_KEY_MAX_BYTES) {
          this.error(init, "VIG2024", `${kind} keys are at most ${MAP_KEY_MAX_BYTES} bytes; ${record} is ${keyBytes}`, "leave out fields the key does not need, or use narrower ones");
          continue;
        }
      }
      const names = STRUCTURE_CONSTRUCTORS[structKind];
      const args = init.getArguments() as Expression[];
      if (args.length !== names.length) {
        this.error(init, "VIG2022", `${kind} takes (${names.join(", ")})`);
        continue;
      }
      const decl: StructureDecl = { name: (prop as import("ts-morph").PropertyAssignment).getName(), kind: structKind, record, capacity: undefined as unknown as Expr, loc: locOf(init) };
      names.forEach((n, i) => {
        const expected: Type = n === "capacity" ? int(32) : n === "expiration" ? int(64) : { kind: "record", name: record! };
        decl[n] = this.coerce(this.lowerExpr(args[i]!, scope, expected), expected, args[i]!);
      });
      const zero = decl.zero;
      const allZero = zero?.kind === "recordLit" && Object.values(zero.fields).every((f) => f.kind === "const" && f.value === 0n);
      if (structKind === "Vector" && !allZero) {
        this.error(args[1]!, "VIG2023", "a Vector starts with every element zero", "write the zero record literal, e.g. { device: 0, ip: 0 }");
      }
      out.push(decl);
    }
    return out;
  }

  private lowerConstraints(fn: FunctionDeclaration): Constraint[] {
    const scope = this.configOnlyScope(fn);
    const body = fn.getBody();
    const stmts = body && Node.isBlock(body) ? body.getStatements() : [];
    const ret = stmts.length === 1 && Node.isReturnStatement(stmts[0]) ? stmts[0].getExpression() : undefined;
    if (!ret) {
      this.error(fn, "VIG2030", "constraints(cfg) must be a single `return <condition>;`");
      return [];
    }
    const parts: Expression[] = [];
    const split = (e: Expression): void => {
      if (Node.isParenthesizedExpression(e)) return split(e.getExpression());
      if (Node.isBinaryExpression(e) && e.getOperatorToken().getKind() === SyntaxKind.AmpersandAmpersandToken) {
        split(e.getLeft());
        split(e.getRight());
      } else parts.push(e);
    };
    split(ret);
    return parts.map((p) => ({ expr: this.expectBool(this.lowerExpr(p, scope), p), loc: locOf(p) }));
  }

  // ---------------------------------------------------------------- functions

  private functionInfo(fn: FunctionDeclaration): FunctionInfo {
    const special: (SpecialParam | undefined)[] = [];
    const params: { name: string; type: Type }[] = [];
    for (const p of fn.getParameters()) {
      const typeText = p.getTypeNode()?.getText() ?? "";
      const s = SPECIAL_PARAM_TYPES[typeText];
      special.push(s);
      if (s) continue;
      const t = this.typeFromNode(p.getTypeNode(), p);
      if (!p.getTypeNode()) this.error(p, "VIG2040", `parameter '${p.getName()}' needs a type`, "e.g. x: u32");
      params.push({ name: p.getName(), type: t ?? int(32) });
    }
    const rt = fn.getReturnTypeNode();
    const returnType: Type | "void" = rt && rt.getText() !== "void" ? (this.typeFromNode(rt, fn) ?? "void") : "void";
    if (!rt && fn.getName() !== "process") this.error(fn, "VIG2041", `function ${fn.getName()} needs a return type`, "e.g. function f(x: u32): u32");
    const effects = fn.getDescendants().some((d) => this.isEffect(d));
    return { decl: fn, special, params, returnType, effects };
  }

  private isEffect(n: Node): boolean {
    if (Node.isBinaryExpression(n) && n.getOperatorToken().getKind() === SyntaxKind.EqualsToken) {
      return Node.isPropertyAccessExpression(n.getLeft());
    }
    if (Node.isCallExpression(n)) {
      const callee = n.getExpression();
      if (Node.isPropertyAccessExpression(callee)) {
        const target = callee.getExpression();
        if (Node.isPropertyAccessExpression(target)) {
          const method = callee.getName();
          return Object.values(STRUCTURE_METHODS).some((m) => m[method]?.mutates === true);
        }
      }
    }
    return false;
  }

  private freshName(name: string): string {
    let base = C_RESERVED.has(name) ? `${name}_` : name;
    base = base.replace(/^_+/, "v_");
    let candidate = base;
    for (let i = 2; this.usedNames.has(candidate); i++) candidate = `${base}_${i}`;
    this.usedNames.add(candidate);
    return candidate;
  }

  private lowerFunction(name: string, info: FunctionInfo): FunctionDecl {
    this.usedNames = new Set();
    this.currentFunction = name;
    this.callGraph.set(name, new Set());
    const scope = new Scope();
    for (const [n, c] of this.constants) scope.define(n, { kind: "const", value: c.value, type: c.type });
    const params: FunctionDecl["params"] = [];
    info.decl.getParameters().forEach((p, i) => {
      const s = info.special[i];
      if (s) {
        scope.define(p.getName(), { kind: "special", special: s });
        return;
      }
      const irName = this.freshName(p.getName());
      const type = info.params.find((q) => q.name === p.getName())!.type;
      params.push({ name: irName, type });
      scope.define(p.getName(), { kind: "local", name: irName, type, mutable: false });
    });
    const body = info.decl.getBody();
    const stmts = body && Node.isBlock(body) ? this.lowerBlock(body.getStatements(), scope, info.returnType) : [];
    if (name === "process" && (info.returnType === "void" || info.returnType.kind !== "action")) {
      this.error(info.decl, "VIG2042", "process must return an Action", "function process(pkt: Packet, ctx: Context, cfg: Config, st: State): Action");
    }
    return { name, params, returnType: info.returnType, body: stmts, loc: locOf(info.decl.getNameNode() ?? info.decl) };
  }

  private checkRecursion(): void {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (fn: string, via: Node | undefined): void => {
      if (done.has(fn)) return;
      if (visiting.has(fn)) {
        const decl = this.functions.get(fn)?.decl;
        this.error(via ?? decl!, "VIG1015", `recursion: ${fn} calls itself (directly or through other functions)`, "rewrite it as a loop with a static bound");
        return;
      }
      visiting.add(fn);
      for (const callee of this.callGraph.get(fn) ?? []) {
        const site = this.functions.get(fn)?.decl.getDescendantsOfKind(SyntaxKind.CallExpression).find((c) => c.getExpression().getText() === callee);
        visit(callee, site);
      }
      visiting.delete(fn);
      done.add(fn);
    };
    for (const fn of this.callGraph.keys()) visit(fn, undefined);
  }

  /** Helpers reachable from process, callees first. */
  private topologicalHelpers(): string[] {
    const order: string[] = [];
    const seen = new Set<string>();
    const visit = (fn: string): void => {
      if (seen.has(fn)) return;
      seen.add(fn);
      for (const c of this.callGraph.get(fn) ?? []) visit(c);
      if (fn !== "process") order.push(fn);
    };
    visit("process");
    return order;
  }

  // ---------------------------------------------------------------- statements

  private lowerBlock(stmts: Statement[], parent: Scope, returnType: Type | "void"): Stmt[] {
    const scope = new Scope(parent);
    const out: Stmt[] = [];
    for (const s of stmts) out.push(...this.lowerStmt(s, scope, returnType));
    return out;
  }

  private lowerBody(s: Statement, scope: Scope, returnType: Type | "void"): Stmt[] {
    return Node.isBlock(s) ? this.lowerBlock(s.getStatements(), scope, returnType) : this.lowerBlock([s], scope, returnType);
  }

  private lowerStmt(s: Statement, scope: Scope, returnType: Type | "void"): Stmt[] {
    const loc = locOf(s);
    if (Node.isBlock(s)) return this.lowerBlock(s.getStatements(), scope, returnType);
    if (Node.isEmptyStatement(s)) return [];
    if (Node.isVariableStatement(s)) {
      const out: Stmt[] = [];
      for (const d of s.getDeclarations()) {
        const init = d.getInitializer();
        const nameNode = d.getNameNode();
        if (!Node.isIdentifier(nameNode)) {
          this.error(d, "VIG1016", "destructuring is not available", "declare one variable at a time");
          continue;
        }
        if (!init) {
          this.error(d, "VIG2050", `'${d.getName()}' needs an initial value`, `let ${d.getName()}: u32 = 0;`);
          continue;
        }
        const declared = this.typeFromNode(d.getTypeNode(), d);
        const irName = this.freshName(d.getName());
        const mutable = s.getDeclarationKind() === "let";
        const call = this.stateCallOf(init, scope);
        if (call) {
          const rt = call.resultType;
          if (rt === "void") {
            this.error(init, "VIG2051", `${call.method} returns nothing`);
            continue;
          }
          out.push({ kind: "stateCall", structure: call.structure, method: call.method, args: call.args, result: { name: irName, declare: rt }, loc });
          scope.define(d.getName(), { kind: "local", name: irName, type: rt, mutable });
          continue;
        }
        const value = this.lowerExpr(init, scope, declared);
        const type = declared ?? value.type;
        out.push({ kind: "let", name: irName, varType: type, init: this.coerce(value, type, init), loc });
        scope.define(d.getName(), { kind: "local", name: irName, type, mutable });
      }
      return out;
    }
    if (Node.isIfStatement(s)) {
      const cond = this.expectBool(this.lowerExpr(s.getExpression(), scope), s.getExpression());
      const elseStmt = s.getElseStatement();
      return [
        {
          kind: "if",
          cond,
          then: this.lowerBody(s.getThenStatement(), scope, returnType),
          else: elseStmt ? this.lowerBody(elseStmt, scope, returnType) : [],
          loc,
        },
      ];
    }
    if (Node.isReturnStatement(s)) {
      const e = s.getExpression();
      if (!e) return [{ kind: "return", loc }];
      if (returnType === "void") {
        this.error(s, "VIG2052", "this function returns nothing");
        return [];
      }
      return [{ kind: "return", value: this.coerce(this.lowerExpr(e, scope, returnType), returnType, e), loc }];
    }
    if (Node.isForStatement(s)) return this.lowerFor(s, scope, returnType);
    if (Node.isExpressionStatement(s)) return this.lowerExprStmt(s.getExpression(), scope, loc);
    this.error(s, "VIG1016", `${s.getKindName()} is not available in an NF`);
    return [];
  }

  private lowerFor(s: import("ts-morph").ForStatement, scope: Scope, returnType: Type | "void"): Stmt[] {
    const loc = locOf(s);
    const fail = (): Stmt[] => {
      this.error(s, "VIG1005", "loops need a static bound", "write for (let i: u32 = 0; i < N; i++) where N is a constant, a config field with a max, or ctx.deviceCount");
      return [];
    };
    const init = s.getInitializer();
    const cond = s.getCondition();
    const inc = s.getIncrementor();
    if (!init || !Node.isVariableDeclarationList(init) || init.getDeclarations().length !== 1 || !cond || !inc) return fail();
    const d = init.getDeclarations()[0]!;
    const varName = d.getName();
    const isIncrement =
      (Node.isPostfixUnaryExpression(inc) || Node.isPrefixUnaryExpression(inc)) &&
      inc.getOperatorToken() === SyntaxKind.PlusPlusToken &&
      inc.getOperand().getText() === varName;
    if (!isIncrement || !Node.isBinaryExpression(cond) || cond.getLeft().getText() !== varName) return fail();
    const op = cond.getOperatorToken().getKind();
    if (op !== SyntaxKind.LessThanToken) return fail();
    const declared = this.typeFromNode(d.getTypeNode(), d);
    const varType: IntType = declared?.kind === "int" ? declared : int(32);
    const fromNode = d.getInitializer();
    if (!fromNode) return fail();
    const from = this.coerce(this.lowerExpr(fromNode, scope, varType), varType, fromNode);
    const to = this.coerce(this.lowerExpr(cond.getRight(), scope, varType), varType, cond.getRight());
    const bound = this.staticMax(to);
    const start = this.staticMin(from);
    if (bound === undefined || start === undefined) return fail();
    for (const a of s.getStatement().getDescendantsOfKind(SyntaxKind.BinaryExpression)) {
      if (a.getOperatorToken().getKind() >= SyntaxKind.FirstAssignment && a.getOperatorToken().getKind() <= SyntaxKind.LastAssignment && a.getLeft().getText() === varName) {
        this.error(a, "VIG1005", `the loop variable '${varName}' may not be assigned in the loop body`);
      }
    }
    const inner = new Scope(scope);
    const irName = this.freshName(varName);
    inner.define(varName, { kind: "local", name: irName, type: varType, mutable: false });
    const body = this.lowerBody(s.getStatement(), inner, returnType);
    const maxIterations = bound > start ? bound - start : 0n;
    return [{ kind: "for", variable: irName, varType, from, to, maxIterations, body, loc }];
  }

  /** An upper bound known without running the NF, if any. */
  private staticMax(e: Expr): bigint | undefined {
    if (e.kind === "const") return e.value;
    if (e.kind === "config") return this.config.find((f) => f.name === e.field)?.max;
    if (e.kind === "context" && e.field === "deviceCount") return MAX_DEVICES;
    if (e.kind === "convert") return this.staticMax(e.operand);
    return undefined;
  }

  private staticMin(e: Expr): bigint | undefined {
    if (e.kind === "const") return e.value;
    if (e.kind === "convert") return this.staticMin(e.operand);
    return 0n;
  }

  private lowerExprStmt(e: Expression, scope: Scope, loc: SourceLoc): Stmt[] {
    if (Node.isParenthesizedExpression(e)) return this.lowerExprStmt(e.getExpression(), scope, loc);
    if ((Node.isPostfixUnaryExpression(e) || Node.isPrefixUnaryExpression(e)) && (e.getOperatorToken() === SyntaxKind.PlusPlusToken || e.getOperatorToken() === SyntaxKind.MinusMinusToken)) {
      const op: BinaryOp = e.getOperatorToken() === SyntaxKind.PlusPlusToken ? "+" : "-";
      return this.lowerAssignment(e.getOperand(), op, undefined, scope, loc);
    }
    if (Node.isBinaryExpression(e)) {
      const opKind = e.getOperatorToken().getKind();
      const compound: Partial<Record<SyntaxKind, BinaryOp>> = {
        [SyntaxKind.PlusEqualsToken]: "+",
        [SyntaxKind.MinusEqualsToken]: "-",
        [SyntaxKind.AsteriskEqualsToken]: "*",
        [SyntaxKind.PercentEqualsToken]: "%",
        [SyntaxKind.AmpersandEqualsToken]: "&",
        [SyntaxKind.BarEqualsToken]: "|",
        [SyntaxKind.CaretEqualsToken]: "^",
        [SyntaxKind.LessThanLessThanEqualsToken]: "<<",
        [SyntaxKind.GreaterThanGreaterThanEqualsToken]: ">>",
        [SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken]: ">>",
      };
      if (opKind === SyntaxKind.EqualsToken) return this.lowerAssignment(e.getLeft(), undefined, e.getRight(), scope, loc);
      const op = compound[opKind];
      if (op) return this.lowerAssignment(e.getLeft(), op, e.getRight(), scope, loc);
      if (opKind === SyntaxKind.SlashEqualsToken) {
        this.error(e, "VIG1003", "'/=' is fractional on numbers", "write x = div(x, y)");
        return [];
      }
    }
    if (Node.isCallExpression(e)) {
      const call = this.stateCallOf(e, scope);
      if (call) return [{ kind: "stateCall", structure: call.structure, method: call.method, args: call.args, loc }];
      const callee = e.getExpression();
      if (Node.isIdentifier(callee) && this.functions.has(callee.getText())) {
        const lowered = this.lowerHelperCall(e, scope, true);
        if (lowered && lowered.kind === "call") return [{ kind: "callStmt", fn: lowered.fn, args: lowered.args, loc }];
        return [];
      }
    }
    this.error(e, "VIG2053", "this expression statement has no effect", "assign its value, or call a state operation such as st.flows.refresh(i, ctx.time)");
    return [];
  }

  private lowerAssignment(target: Expression, op: BinaryOp | undefined, valueNode: Expression | undefined, scope: Scope, loc: SourceLoc): Stmt[] {
    // Header field write: ip.src = v
    if (Node.isPropertyAccessExpression(target)) {
      const handle = this.lowerExpr(target.getExpression(), scope);
      if (handle.type.kind === "header") {
        const header = handle.type.header;
        const layout = (LAYOUTS[header] as Record<string, FieldLayout>)[target.getName()];
        if (!layout) {
          this.error(target, "VIG2060", `${HEADER_CLASS[header]} has no field '${target.getName()}'`);
          return [];
        }
        if (!layout.writable) {
          this.error(target, "VIG2061", `${HEADER_CLASS[header]}.${target.getName()} is read-only`, "lengths, protocol and checksums are kept consistent by the runtime");
          return [];
        }
        const fieldType = int(layout.width);
        const current: Expr = { kind: "headerField", handle, header, field: target.getName(), type: fieldType, loc };
        const value = this.assignedValue(current, op, valueNode, scope, fieldType, target, loc);
        return [{ kind: "setHeaderField", handle, header, field: target.getName(), value, loc }];
      }
      this.error(target, "VIG2062", `cannot assign to ${target.getText()}`, "records are values: build a new one with a literal; config is read-only");
      return [];
    }
    if (!Node.isIdentifier(target)) {
      this.error(target, "VIG2062", `cannot assign to ${target.getText()}`);
      return [];
    }
    const b = scope.lookup(target.getText());
    if (!b || b.kind !== "local") {
      this.error(target, "VIG2062", `cannot assign to '${target.getText()}'`);
      return [];
    }
    if (!b.mutable) {
      this.error(target, "VIG2063", `'${target.getText()}' is const`);
      return [];
    }
    if (op === undefined && valueNode) {
      const call = this.stateCallOf(valueNode, scope);
      if (call) {
        if (call.resultType === "void" || !sameType(call.resultType, b.type)) {
          this.error(valueNode, "VIG2064", `${call.method} returns ${typeToString(call.resultType)}, not ${typeToString(b.type)}`);
          return [];
        }
        return [{ kind: "stateCall", structure: call.structure, method: call.method, args: call.args, result: { name: b.name }, loc }];
      }
    }
    const current: Expr = { kind: "local", name: b.name, type: b.type, loc };
    return [{ kind: "assign", name: b.name, value: this.assignedValue(current, op, valueNode, scope, b.type, target, loc), loc }];
  }

  private assignedValue(current: Expr, op: BinaryOp | undefined, valueNode: Expression | undefined, scope: Scope, type: Type, at: Node, loc: SourceLoc): Expr {
    if (op === undefined) return this.coerce(this.lowerExpr(valueNode!, scope, type), type, valueNode!);
    const rhs: Expr = valueNode ? this.lowerExpr(valueNode, scope, type) : { kind: "const", value: 1n, type, loc };
    return this.coerce(this.arith(op, current, rhs, at, loc), type, at);
  }

  /** A call to a state operation that changes state, e.g. st.flows.add(k, t). */
  private stateCallOf(e: Expression, scope: Scope): { structure: string; method: string; args: Expr[]; resultType: Type | "void" } | undefined {
    if (!Node.isCallExpression(e)) return undefined;
    const target = this.structureTarget(e.getExpression(), scope);
    if (!target) return undefined;
    const sig = STRUCTURE_METHODS[target.decl.kind][target.method];
    if (!sig || !sig.mutates) return undefined;
    const args = this.structureArgs(e, target.decl, sig.params, scope);
    return { structure: target.decl.name, method: target.method, args, resultType: resultType(sig, target.decl.record) };
  }

  /** st.<name>.<method> → the structure and method, if the expression has that shape. */
  private structureTarget(callee: Node, scope: Scope): { decl: StructureDecl; method: string } | undefined {
    if (!Node.isPropertyAccessExpression(callee)) return undefined;
    const obj = callee.getExpression();
    if (!Node.isPropertyAccessExpression(obj)) return undefined;
    const root = obj.getExpression();
    if (!Node.isIdentifier(root)) return undefined;
    const b = scope.lookup(root.getText());
    if (b?.kind !== "special" || b.special !== "state") return undefined;
    const decl = this.state.find((s) => s.name === obj.getName());
    if (!decl) {
      this.error(obj, "VIG2070", `the state has no structure '${obj.getName()}'`);
      return undefined;
    }
    if (!STRUCTURE_METHODS[decl.kind][callee.getName()]) {
      this.error(callee, "VIG2071", `${decl.kind} has no operation '${callee.getName()}'`, `available: ${Object.keys(STRUCTURE_METHODS[decl.kind]).join(", ")}`);
      return undefined;
    }
    return { decl, method: callee.getName() };
  }

  private structureArgs(call: CallExpression, decl: StructureDecl, params: readonly (Type | "record")[], scope: Scope): Expr[] {
    const args = call.getArguments() as Expression[];
    if (args.length !== params.length) {
      this.error(call, "VIG2072", `${decl.kind}.${(call.getExpression() as import("ts-morph").PropertyAccessExpression).getName()} takes ${params.length} argument(s)`);
      return [];
    }
    return args.map((a, i) => {
      const t = resolveSlot(params[i]!, decl.record);
      return this.coerce(this.lowerExpr(a, scope, t), t, a);
    });
  }

  // ---------------------------------------------------------------- expressions

  private lowerExpr(e: Expression, scope: Scope, expected?: Type): Expr {
    return this.lowerExprInner(e, scope, expected);
  }

  private bad(e: Node, code: string, message: string, hint?: string): Expr {
    this.error(e, code, message, hint);
    return { kind: "const", value: 0n, type: int(32), loc: locOf(e) };
  }

  private lowerExprInner(e: Expression, scope: Scope, expected?: Type): Expr {
    const loc = locOf(e);
    if (Node.isParenthesizedExpression(e)) return this.lowerExpr(e.getExpression(), scope, expected);
    if (Node.isNumericLiteral(e) || Node.isBigIntLiteral(e)) {
      const value = this.literalValue(e);
      if (value === undefined) return this.bad(e, "VIG1002", `${e.getText()} is not a non-negative integer`);
      let type: IntType = Node.isBigIntLiteral(e) ? int(64) : int(32);
      if (expected?.kind === "int" && (expected.width === 64) === Node.isBigIntLiteral(e) && value <= maxOf(expected.width)) type = expected;
      else if (!Node.isBigIntLiteral(e)) type = int(value <= maxOf(8) && expected?.kind === "int" && expected.width <= 8 ? 8 : value <= maxOf(16) && expected?.kind === "int" && expected.width <= 16 ? 16 : 32);
      if (value > maxOf(type.width)) return this.bad(e, "VIG2080", `${e.getText()} does not fit in ${typeToString(type)}`, "write 64-bit values as bigint literals (e.g. 10n)");
      return { kind: "const", value, type, loc };
    }
    if (e.getKind() === SyntaxKind.TrueKeyword || e.getKind() === SyntaxKind.FalseKeyword) {
      return { kind: "boolConst", value: e.getKind() === SyntaxKind.TrueKeyword, type: BOOL, loc };
    }
    if (Node.isIdentifier(e)) return this.lowerIdentifier(e, scope);
    if (Node.isPropertyAccessExpression(e)) return this.lowerPropertyAccess(e, scope);
    if (Node.isElementAccessExpression(e)) {
      const obj = e.getExpression();
      const arg = e.getArgumentExpression();
      if (Node.isPropertyAccessExpression(obj) && this.isSpecial(obj.getExpression(), scope, "config") && arg) {
        const f = this.config.find((c) => c.name === obj.getName());
        if (f?.perDevice) {
          const index = this.coerce(this.lowerExpr(arg, scope, int(16)), int(16), arg);
          return { kind: "configAt", field: f.name, index, type: int(f.width), loc };
        }
      }
      return this.bad(e, "VIG1010", "indexing is available only on per-device config fields", "keep indexed data in a Vector in state and use st.v.get(i)");
    }
    if (Node.isCallExpression(e)) return this.lowerCall(e, scope, expected);
    if (Node.isBinaryExpression(e)) return this.lowerBinary(e, scope, expected);
    if (Node.isPrefixUnaryExpression(e)) {
      if (e.getOperatorToken() === SyntaxKind.ExclamationToken) {
        return { kind: "not", operand: this.expectBool(this.lowerExpr(e.getOperand(), scope), e.getOperand()), type: BOOL, loc };
      }
      if (e.getOperatorToken() === SyntaxKind.MinusToken) return this.bad(e, "VIG2081", "integers are unsigned: there are no negative values", "subtract from a larger value, checking it first");
      return this.bad(e, "VIG1016", `the operator in ${e.getText()} is not available`);
    }
    if (Node.isConditionalExpression(e)) {
      const cond = this.expectBool(this.lowerExpr(e.getCondition(), scope), e.getCondition());
      let a = this.lowerExpr(e.getWhenTrue(), scope, expected);
      let b = this.lowerExpr(e.getWhenFalse(), scope, expected ?? a.type);
      if (a.type.kind === "int" && b.type.kind === "int") {
        const w = Math.max(a.type.width, b.type.width) as IntWidth;
        a = this.coerce(a, int(w), e);
        b = this.coerce(b, int(w), e);
      } else if (!sameType(a.type, b.type)) return this.bad(e, "VIG2082", `both branches must have the same type (${typeToString(a.type)} vs ${typeToString(b.type)})`);
      return { kind: "cond", cond, then: a, else: b, type: a.type, loc };
    }
    if (Node.isObjectLiteralExpression(e)) return this.lowerRecordLiteral(e, scope, expected);
    if (Node.isNonNullExpression(e)) return this.bad(e, "VIG2083", "non-null assertions ('!') are not available", "check with `if (x === undefined) return drop();` first");
    if (Node.isAsExpression(e) || Node.isTypeAssertion(e)) return this.bad(e, "VIG2084", "type assertions are not available", "convert with u8(x), u16(x), u32(x), u64(x) or wrap16(x)...");
    if (e.getKind() === SyntaxKind.UndefinedKeyword || e.getText() === "undefined") {
      return this.bad(e, "VIG2085", "'undefined' can only be compared against", "write x === undefined");
    }
    return this.bad(e, "VIG1016", `${e.getKindName()} is not available in an NF`);
  }

  private isSpecial(e: Node, scope: Scope, special: SpecialParam): boolean {
    if (!Node.isIdentifier(e)) return false;
    const b = scope.lookup(e.getText());
    return b?.kind === "special" && b.special === special;
  }

  private lowerIdentifier(e: import("ts-morph").Identifier, scope: Scope): Expr {
    const loc = locOf(e);
    const b = scope.lookup(e.getText());
    if (!b) {
      const sym = e.getSymbol();
      const decl = sym?.getDeclarations()[0];
      if (decl && Node.isVariableDeclaration(decl) && decl.getSourceFile() === this.source) {
        return this.bad(e, "VIG1012", `'${e.getText()}' is module-level data`, "only integer constants may be module-level; keep state in state(cfg)");
      }
      return this.bad(e, "VIG2090", `'${e.getText()}' is not available here`);
    }
    if (b.kind === "const") return { kind: "const", value: b.value, type: b.type, loc };
    if (b.kind === "special") return this.bad(e, "VIG2091", `'${e.getText()}' can only be used through its fields and methods`);
    const local: Expr = { kind: "local", name: b.name, type: b.type, loc };
    return this.narrowed(local, e);
  }

  /** Inserts an unwrap where TypeScript's flow typing shows an option to be present. */
  private narrowed(value: Expr, node: Node): Expr {
    if (value.type.kind !== "option") return value;
    if (node.getType().isNullable() || node.getType().isUndefined()) return value;
    return { kind: "unwrap", operand: value, type: value.type.inner, loc: value.loc };
  }

  private lowerPropertyAccess(e: import("ts-morph").PropertyAccessExpression, scope: Scope): Expr {
    const loc = locOf(e);
    const obj = e.getExpression();
    const name = e.getName();
    if (this.isSpecial(obj, scope, "config")) {
      const f = this.config.find((c) => c.name === name);
      if (!f) return this.bad(e, "VIG2092", `config has no field '${name}'`);
      if (f.perDevice) return this.bad(e, "VIG2093", `config field ${name} has one value per device`, `read it as cfg.${name}[device]`);
      return { kind: "config", field: name, type: f.kind === "bool" ? BOOL : int(f.width), loc };
    }
    if (this.isSpecial(obj, scope, "context")) {
      const fields: Record<string, Type> = { device: int(16), time: int(64), deviceCount: int(16) };
      const t = fields[name];
      if (!t) return this.bad(e, "VIG2094", `Context has no field '${name}'`, "use ctx.device, ctx.time, ctx.deviceCount or ctx.deviceMac(d)");
      return { kind: "context", field: name as "device" | "time" | "deviceCount", type: t, loc };
    }
    if (this.isSpecial(obj, scope, "packet")) {
      if (name === "length") return { kind: "context", field: "length", type: int(16), loc };
      return this.bad(e, "VIG2095", `Packet has no field '${name}'`, "use pkt.length, pkt.ethernet(), pkt.ipv4(), pkt.tcp(), pkt.udp()");
    }
    if (Node.isPropertyAccessExpression(obj) && this.isSpecial(obj.getExpression(), scope, "state")) {
      const target = this.structureTarget(e, scope);
      if (!target) return this.bad(e, "VIG2070", `unknown state access ${e.getText()}`);
      const sig = STRUCTURE_METHODS[target.decl.kind][name]!;
      if (!sig.property) return this.bad(e, "VIG2096", `${name} is an operation: call it`);
      return { kind: "stateRead", structure: target.decl.name, method: name, args: [], type: resultType(sig, target.decl.record) as Type, loc };
    }
    const base = this.lowerExpr(obj, scope);
    if (base.type.kind === "option") {
      return this.bad(e, "VIG2097", `'${obj.getText()}' may be undefined here`, `check first: if (${obj.getText()} === undefined) return drop();`);
    }
    if (base.type.kind === "header") {
      const header = base.type.header;
      if (header in DERIVED && name in (DERIVED as Record<string, Record<string, string>>)[header]!) {
        return { kind: "isFragment", handle: base, type: BOOL, loc };
      }
      const layout = (LAYOUTS[header] as Record<string, { width: IntWidth }>)[name];
      if (!layout) return this.bad(e, "VIG2060", `${HEADER_CLASS[header]} has no field '${name}'`);
      return { kind: "headerField", handle: base, header, field: name, type: int(layout.width), loc };
    }
    if (base.type.kind === "record") {
      const rec = this.records.get(base.type.name);
      const f = rec?.fields.find((x) => x.name === name);
      if (!f) return this.bad(e, "VIG2098", `record ${base.type.name} has no field '${name}'`);
      return { kind: "recordField", record: base, field: name, type: f.type, loc };
    }
    return this.bad(e, "VIG2099", `${typeToString(base.type)} has no field '${name}'`);
  }

  private lowerCall(e: CallExpression, scope: Scope, expected?: Type): Expr {
    const loc = locOf(e);
    const callee = e.getExpression();
    const args = e.getArguments() as Expression[];
    if (Node.isPropertyAccessExpression(callee)) {
      const obj = callee.getExpression();
      const method = callee.getName();
      if (this.isSpecial(obj, scope, "packet")) {
        if (method in HEADER_CLASS && args.length === 0) {
          const header = method as HeaderName;
          return { kind: "parse", header, type: { kind: "option", inner: { kind: "header", header } }, loc };
        }
        return this.bad(e, "VIG2095", `Packet has no operation '${method}'`, "use pkt.ethernet(), pkt.ipv4(), pkt.tcp(), pkt.udp()");
      }
      if (this.isSpecial(obj, scope, "context") && method === "deviceMac" && args.length === 1) {
        const device = this.coerce(this.lowerExpr(args[0]!, scope, int(16)), int(16), args[0]!);
        return { kind: "deviceMac", device, type: int(64), loc };
      }
      const target = this.structureTarget(callee, scope);
      if (target) {
        const sig = STRUCTURE_METHODS[target.decl.kind][method]!;
        if (sig.mutates) {
          return this.bad(e, "VIG2073", `${method} changes the state: call it as a statement or as the initial value of a let/const`, `const i = st.${target.decl.name}.${method}(...);`);
        }
        if (sig.property) return this.bad(e, "VIG2096", `${method} is a property: write st.${target.decl.name}.${method}`);
        const a = this.structureArgs(e, target.decl, sig.params, scope);
        return { kind: "stateRead", structure: target.decl.name, method, args: a, type: resultType(sig, target.decl.record) as Type, loc };
      }
      return this.bad(e, "VIG2100", `${callee.getText()} is not available in an NF`);
    }
    if (!Node.isIdentifier(callee)) return this.bad(e, "VIG2100", `${callee.getText()} cannot be called`);
    const name = callee.getText();
    const dslName = this.dslImportName(callee);
    if (dslName) {
      const one = (t?: Type): Expr => {
        if (args.length !== 1) return this.bad(e, "VIG2101", `${name} takes one argument`);
        return this.lowerExpr(args[0]!, scope, t);
      };
      switch (dslName) {
        case "drop":
        case "flood":
          return { kind: "action", action: dslName, type: { kind: "action" }, loc };
        case "forward": {
          const device = this.coerce(one(int(16)), int(16), args[0] ?? e);
          return { kind: "forward", device, type: { kind: "action" }, loc };
        }
        case "u8":
        case "u16":
        case "u32":
        case "u64":
        case "wrap8":
        case "wrap16":
        case "wrap32":
        case "wrap64": {
          const width = Number(dslName.replace(/\D/g, "")) as IntWidth;
          const operand = one();
          if (operand.type.kind !== "int") return this.bad(e, "VIG2102", `${name} converts integers, not ${typeToString(operand.type)}`);
          return { kind: "convert", mode: dslName.startsWith("wrap") ? "wrap" : "checked", operand, type: int(width), loc };
        }
        case "div":
        case "mod": {
          if (args.length !== 2) return this.bad(e, "VIG2101", `${name} takes two arguments`);
          return this.arith(dslName === "div" ? "/" : "%", this.lowerExpr(args[0]!, scope, expected), this.lowerExpr(args[1]!, scope, expected), e, loc);
        }
        default:
          return this.bad(e, "VIG2100", `${name} cannot be called in an NF`);
      }
    }
    if (this.functions.has(name)) return this.lowerHelperCall(e, scope, false) ?? this.bad(e, "VIG2100", `bad call to ${name}`);
    return this.bad(e, "VIG2100", `${name} is not a function of this NF or the dsl`);
  }

  private lowerHelperCall(e: CallExpression, scope: Scope, asStatement: boolean): Expr | undefined {
    const name = e.getExpression().getText();
    const info = this.functions.get(name)!;
    if (name === "process") {
      this.error(e, "VIG1015", "recursion: process calls itself");
      return undefined;
    }
    if (info.effects && !asStatement) {
      this.error(e, "VIG2103", `${name} changes state or headers: call it as a statement`);
      return undefined;
    }
    this.callGraph.get(this.currentFunction)?.add(name);
    const args = e.getArguments() as Expression[];
    if (args.length !== info.special.length) {
      this.error(e, "VIG2101", `${name} takes ${info.special.length} argument(s)`);
      return undefined;
    }
    const irArgs: Expr[] = [];
    let p = 0;
    args.forEach((a, i) => {
      const s = info.special[i];
      if (s) {
        if (!this.isSpecial(a, scope, s)) this.error(a, "VIG2104", `pass the ${s} object itself`);
        return;
      }
      const t = info.params[p++]!.type;
      irArgs.push(this.coerce(this.lowerExpr(a, scope, t), t, a));
    });
    const rt = info.returnType === "void" ? ({ kind: "action" } as Type) : info.returnType;
    return { kind: "call", fn: name, args: irArgs, type: rt, loc: locOf(e) };
  }

  /** The dsl export an identifier refers to, if it is one. */
  private dslImportName(id: import("ts-morph").Identifier): string | undefined {
    const sym = id.getSymbol();
    const decl = sym?.getDeclarations()[0];
    if (!decl || !Node.isImportSpecifier(decl)) return undefined;
    return decl.getName();
  }

  private lowerRecordLiteral(e: ObjectLiteralExpression, scope: Scope, expected?: Type): Expr {
    let recordName = expected?.kind === "record" ? expected.name : undefined;
    if (!recordName) {
      const ctxType = e.getContextualType();
      const sym = ctxType?.getAliasSymbol() ?? ctxType?.getSymbol();
      recordName = sym?.getName();
    }
    const rec = recordName ? this.records.get(recordName) : undefined;
    if (!rec) return this.bad(e, "VIG2110", "an object literal must be a declared record", "annotate it: const k: FlowId = { ... }");
    const fields: Record<string, Expr> = {};
    for (const p of e.getProperties()) {
      if (Node.isShorthandPropertyAssignment(p)) {
        const f = rec.fields.find((x) => x.name === p.getName());
        if (!f) continue;
        fields[p.getName()] = this.coerce(this.lowerIdentifier(p.getNameNode(), scope), f.type, p);
        continue;
      }
      if (!Node.isPropertyAssignment(p)) {
        this.error(p, "VIG1016", "only `field: value` entries are available in a record literal");
        continue;
      }
      const f = rec.fields.find((x) => x.name === p.getName());
      if (!f) {
        this.error(p, "VIG2098", `record ${rec.name} has no field '${p.getName()}'`);
        continue;
      }
      const init = p.getInitializerOrThrow();
      fields[f.name] = this.coerce(this.lowerExpr(init, scope, f.type), f.type, init);
    }
    for (const f of rec.fields) if (!(f.name in fields)) this.error(e, "VIG2111", `record ${rec.name}: field '${f.name}' is missing`);
    return { kind: "recordLit", record: rec.name, fields, type: { kind: "record", name: rec.name }, loc: locOf(e) };
  }

  private lowerBinary(e: import("ts-morph").BinaryExpression, scope: Scope, expected?: Type): Expr {
    const loc = locOf(e);
    const k = e.getOperatorToken().getKind();
    const left = e.getLeft();
    const right = e.getRight();
    if (k === SyntaxKind.AmpersandAmpersandToken || k === SyntaxKind.BarBarToken) {
      const l = this.expectBool(this.lowerExpr(left, scope), left);
      const r = this.expectBool(this.lowerExpr(right, scope), right);
      return { kind: "logical", op: k === SyntaxKind.AmpersandAmpersandToken ? "&&" : "||", left: l, right: r, type: BOOL, loc };
    }
    const compare: Partial<Record<SyntaxKind, CompareOp>> = {
      [SyntaxKind.EqualsEqualsEqualsToken]: "==",
      [SyntaxKind.ExclamationEqualsEqualsToken]: "!=",
      [SyntaxKind.LessThanToken]: "<",
      [SyntaxKind.LessThanEqualsToken]: "<=",
      [SyntaxKind.GreaterThanToken]: ">",
      [SyntaxKind.GreaterThanEqualsToken]: ">=",
    };
    const cop = compare[k];
    if (cop) {
      const isUndef = (n: Expression) => n.getText() === "undefined";
      if (isUndef(left) || isUndef(right)) {
        if (cop !== "==" && cop !== "!=") return this.bad(e, "VIG2112", "undefined can only be tested with === or !==");
        const operandNode = isUndef(left) ? right : left;
        const operand = this.lowerExpr(operandNode, scope);
        const raw = operand.kind === "unwrap" ? operand.operand : operand;
        if (raw.type.kind !== "option") return this.bad(e, "VIG2113", `${operandNode.getText()} is never undefined here`);
        const present: Expr = { kind: "isPresent", operand: raw, type: BOOL, loc };
        return cop === "!=" ? present : { kind: "not", operand: present, type: BOOL, loc };
      }
      const [l, r] = this.lowerOperands(left, right, scope);
      if (l.type.kind === "bool" && r.type.kind === "bool" && (cop === "==" || cop === "!=")) {
        return { kind: "compare", op: cop, left: l, right: r, type: BOOL, loc };
      }
      if (l.type.kind !== "int" || r.type.kind !== "int") {
        return this.bad(e, "VIG2114", `cannot compare ${typeToString(l.type)} with ${typeToString(r.type)}`, "compare integer fields one by one");
      }
      const w = Math.max(l.type.width, r.type.width) as IntWidth;
      return { kind: "compare", op: cop, left: this.coerce(l, int(w), left), right: this.coerce(r, int(w), right), type: BOOL, loc };
    }
    const arith: Partial<Record<SyntaxKind, BinaryOp>> = {
      [SyntaxKind.PlusToken]: "+",
      [SyntaxKind.MinusToken]: "-",
      [SyntaxKind.AsteriskToken]: "*",
      [SyntaxKind.PercentToken]: "%",
      [SyntaxKind.AmpersandToken]: "&",
      [SyntaxKind.BarToken]: "|",
      [SyntaxKind.CaretToken]: "^",
      [SyntaxKind.LessThanLessThanToken]: "<<",
      [SyntaxKind.GreaterThanGreaterThanToken]: ">>",
      [SyntaxKind.GreaterThanGreaterThanGreaterThanToken]: ">>",
      [SyntaxKind.SlashToken]: "/",
    };
    const op = arith[k];
    if (!op) return this.bad(e, "VIG1016", `the operator '${e.getOperatorToken().getText()}' is not available`);
    const [l, r] = this.lowerOperands(left, right, scope, expected);
    if (l.type.kind === "int" && l.type.width < 64) {
      if (op === "/") return this.bad(e, "VIG1003", "'/' on u8..u32 is fractional in TypeScript", `write div(${left.getText()}, ${right.getText()})`);
      const widest = Math.max(l.type.width, r.type.kind === "int" ? r.type.width : 0);
      if (widest === 32 && (op === "&" || op === "|" || op === "^" || op === "<<")) {
        return this.bad(e, "VIG2115", `'${e.getOperatorToken().getText()}' on 32-bit numbers is signed in TypeScript`, "convert to u64 first (u64(x)), or use u8/u16 values");
      }
      if (widest === 32 && k === SyntaxKind.GreaterThanGreaterThanToken) {
        return this.bad(e, "VIG2115", "'>>' on 32-bit numbers is signed in TypeScript", "use '>>>'");
      }
    }
    return this.arith(op, l, r, e, loc);
  }

  /** Lowers two operands; an untyped literal takes the other side's type. */
  private lowerOperands(left: Expression, right: Expression, scope: Scope, expected?: Type): [Expr, Expr] {
    const isLit = (n: Expression) => Node.isNumericLiteral(n) || Node.isBigIntLiteral(n);
    if (isLit(left) && !isLit(right)) {
      const r = this.lowerExpr(right, scope, expected);
      return [this.lowerExpr(left, scope, r.type), r];
    }
    const l = this.lowerExpr(left, scope, expected);
    return [l, this.lowerExpr(right, scope, l.type)];
  }

  /** Checked arithmetic in the wider operand width. */
  private arith(op: BinaryOp, l: Expr, r: Expr, at: Node, loc: SourceLoc): Expr {
    if (l.type.kind !== "int" || r.type.kind !== "int") {
      return this.bad(at, "VIG2116", `'${op}' needs integers, not ${typeToString(l.type)} and ${typeToString(r.type)}`);
    }
    if ((l.type.width === 64) !== (r.type.width === 64)) {
      return this.bad(at, "VIG2117", "cannot mix u64 with narrower integers", "convert explicitly: u64(x) or u32(t)");
    }
    const w = (op === "<<" || op === ">>" ? l.type.width : Math.max(l.type.width, r.type.width)) as IntWidth;
    const left = this.coerce(l, int(w), at);
    const right = op === "<<" || op === ">>" ? r : this.coerce(r, int(w), at);
    return { kind: "binary", op, left, right, type: int(w), loc };
  }

  private expectBool(e: Expr, at: Node): Expr {
    if (e.type.kind !== "bool") this.error(at, "VIG2118", `expected a boolean, found ${typeToString(e.type)}`, "compare explicitly, e.g. x !== 0");
    return e;
  }

  /** Fits a value to a type: integer widening is free, narrowing is a checked conversion (an obligation). */
  private coerce(e: Expr, to: Type, at: Node): Expr {
    if (sameType(e.type, to)) return e;
    if (e.type.kind === "int" && to.kind === "int") {
      if ((e.type.width === 64) !== (to.width === 64) && e.kind !== "const") {
        this.error(at, "VIG2117", `cannot mix ${typeToString(e.type)} with ${typeToString(to)}`, to.width === 64 ? "convert with u64(x)" : "convert with u32(x) (checked) or wrap32(x)");
        return e;
      }
      if (e.kind === "const" && e.value <= maxOf(to.width)) return { ...e, type: to };
      return { kind: "convert", mode: "checked", operand: e, type: to, loc: e.loc };
    }
    if (to.kind === "option" && (sameType(e.type, to.inner) || (e.kind === "const" && to.inner.kind === "int"))) {
      // An optional holds what a state operation returned; the DSL has no way to build one.
      this.error(at, "VIG2120", `cannot store a ${typeToString(e.type)} in a ${typeToString(to)}: optional values only come from state operations`, `use a separate ${typeToString(to.inner)} local, e.g. const port = idx === undefined ? 0 : idx`);
      return e;
    }
    if (e.type.kind === "option" && sameType(e.type.inner, to)) return { kind: "unwrap", operand: e, type: to, loc: e.loc };
    this.error(at, "VIG2119", `expected ${typeToString(to)}, found ${typeToString(e.type)}`);
    return e;
  }
}

export function lowerModule(source: SourceFile): { module?: NfModule; diagnostics: Diagnostic[] } {
  const l = new Lowerer(source);
  const module = l.lower();
  return { module, diagnostics: l.diagnostics };
}
