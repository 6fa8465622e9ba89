/**
 * The NF IR: the one representation that codegen compiles and the verifier executes symbolically.
 * Structured (if/for/return, no goto); every expression is pure and typed with fixed-width
 * integers; effects (state calls, header writes) happen only in statements.
 */
import type { HeaderName } from "../../dsl/layout.ts";

export interface SourceLoc {
  file: string;
  line: number;
  column: number;
  /** The source text, for messages. */
  text: string;
}

export type IntWidth = 8 | 16 | 32 | 64;
export type IntType = { kind: "int"; width: IntWidth };
export type Type =
  | IntType
  | { kind: "bool" }
  | { kind: "record"; name: string }
  | { kind: "header"; header: HeaderName }
  | { kind: "option"; inner: Type }
  | { kind: "action" };

export const int = (width: IntWidth): IntType => ({ kind: "int", width });
export const BOOL: Type = { kind: "bool" };

export interface RecordDecl {
  name: string;
  fields: { name: string; type: IntType }[];
  loc: SourceLoc;
}

export type ConfigKind = "uint" | "device" | "ipv4" | "mac" | "duration" | "bool";
export interface ConfigField {
  name: string;
  flag: string;
  kind: ConfigKind;
  /** Storage width of one value (bool: 8). */
  width: IntWidth;
  min: bigint;
  max: bigint;
  default?: bigint;
  perDevice: boolean;
  doc: string;
  loc: SourceLoc;
}

export interface Constraint {
  expr: Expr;
  loc: SourceLoc;
}

export type StructureKind = "FlowTable" | "FlowMap" | "Vector" | "IndexAllocator";
export interface StructureDecl {
  name: string;
  kind: StructureKind;
  /** FlowTable and FlowMap: key record; Vector: element record. */
  record?: string;
  capacity: Expr;
  /** FlowTable: the expiration duration. */
  expiration?: Expr;
  /** Vector: the initial value of every element. */
  zero?: Expr;
  loc: SourceLoc;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "&" | "|" | "^" | "<<" | ">>";
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** Context values available to process(). */
export type ContextField = "device" | "time" | "deviceCount" | "length";

export type Expr = (
  | { kind: "const"; value: bigint }
  | { kind: "boolConst"; value: boolean }
  | { kind: "local"; name: string }
  | { kind: "config"; field: string }
  | { kind: "configAt"; field: string; index: Expr }
  | { kind: "context"; field: ContextField }
  | { kind: "deviceMac"; device: Expr }
  /** Checked arithmetic: the result must be representable in `type` (an obligation). */
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr }
  | { kind: "compare"; op: CompareOp; left: Expr; right: Expr }
  | { kind: "logical"; op: "&&" | "||"; left: Expr; right: Expr }
  | { kind: "not"; operand: Expr }
  | { kind: "cond"; cond: Expr; then: Expr; else: Expr }
  /** Width change: "checked" must fit (obligation), "wrap" keeps the low bits. */
  | { kind: "convert"; mode: "checked" | "wrap"; operand: Expr }
  | { kind: "recordField"; record: Expr; field: string }
  | { kind: "recordLit"; record: string; fields: Record<string, Expr> }
  | { kind: "headerField"; handle: Expr; header: HeaderName; field: string }
  | { kind: "isFragment"; handle: Expr }
  | { kind: "isPresent"; operand: Expr }
  /** The value inside an option known (by the frontend's flow typing) to be present. */
  | { kind: "unwrap"; operand: Expr }
  /** A pure state read: FlowTable.find/keyAt/size, FlowMap.get/size, Vector.get, IndexAllocator.isAllocated/count. */
  | { kind: "stateRead"; structure: string; method: string; args: Expr[] }
  | { kind: "parse"; header: HeaderName }
  | { kind: "call"; fn: string; args: Expr[] }
  | { kind: "action"; action: "drop" | "flood" }
  | { kind: "forward"; device: Expr }
) & { type: Type; loc: SourceLoc };

export type Stmt = (
  | { kind: "let"; name: string; varType: Type; init: Expr }
  | { kind: "assign"; name: string; value: Expr }
  | { kind: "setHeaderField"; handle: Expr; header: HeaderName; field: string; value: Expr }
  /**
   * A state update. `result` names the local that receives its return value, if any
   * (FlowTable.add / IndexAllocator.allocate return an option index; expire returns a count);
   * with `declare` the statement also declares that local.
   */
  | {
      kind: "stateCall";
      structure: string;
      method: string;
      args: Expr[];
      result?: { name: string; declare?: Type };
    }
  | { kind: "if"; cond: Expr; then: Stmt[]; else: Stmt[] }
  | { kind: "return"; value?: Expr }
  /** for (let v = from; v < to; v++) with to <= from + maxIterations known statically. */
  | { kind: "for"; variable: string; varType: IntType; from: Expr; to: Expr; maxIterations: bigint; body: Stmt[] }
  | { kind: "callStmt"; fn: string; args: Expr[] }
) & { loc: SourceLoc };

export interface FunctionDecl {
  name: string;
  params: { name: string; type: Type }[];
  returnType: Type | "void";
  body: Stmt[];
  loc: SourceLoc;
}

/** process(pkt, ctx, cfg, st): the parameter names the NF chose, for messages and codegen. */
export interface NfModule {
  name: string;
  file: string;
  records: RecordDecl[];
  config: ConfigField[];
  constraints: Constraint[];
  state: StructureDecl[];
  /** Helper functions, callees before callers. */
  functions: FunctionDecl[];
  process: FunctionDecl;
}

export function typeToString(t: Type | "void"): string {
  if (t === "void") return "void";
  switch (t.kind) {
    case "int":
      return t.width === 64 ? "u64" : `u${t.width}`;
    case "bool":
      return "boolean";
    case "record":
      return t.name;
    case "header":
      return t.header;
    case "option":
      return `${typeToString(t.inner)} | undefined`;
    case "action":
      return "Action";
  }
}

export function sameType(a: Type, b: Type): boolean {
  return typeToString(a) === typeToString(b);
}
