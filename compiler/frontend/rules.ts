/**
 * DSL rules that need no types: constructs outside the subset, found by walking the syntax tree.
 * Rules that need types (integer widths, recursion, state use) live in lower.ts.
 */
import { Node, SyntaxKind, type SourceFile } from "ts-morph";
import * as fs from "node:fs";
import * as path from "node:path";
import { diagnosticAt, type Diagnostic } from "./diagnostics.ts";

const DSL_DIR = fs.realpathSync(path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../dsl"));

/** Globals an NF may not touch, with what to do instead. */
const FORBIDDEN_GLOBALS: Record<string, string> = {
  Date: "time comes only from the packet context: use ctx.time (ns)",
  Math: "no floating point or randomness; use integer arithmetic (div, mod, min via if)",
  console: "an NF does no I/O; the verifier and `vigorc test` show what it does",
  process: "an NF does no I/O and reads no environment; declare a config field",
  globalThis: "an NF reads no globals; declare a config field or a state structure",
  window: "an NF reads no globals",
  require: "import only from the dsl",
  setTimeout: "there are no timers; expire state with a FlowTable's expiration",
  setInterval: "there are no timers; expire state with a FlowTable's expiration",
  fetch: "an NF does no I/O",
  Promise: "an NF is synchronous",
  JSON: "there are no strings in an NF",
  String: "there are no strings in an NF",
  Number: "use the conversions u8/u16/u32/u64 or wrap8..wrap64 from the dsl",
  BigInt: "use the conversion u64(x) from the dsl",
  Array: "no growing arrays; use a Vector in state",
  Object: "records are plain object types; build them with a literal",
  parseInt: "there are no strings in an NF",
  parseFloat: "no floating point",
  eval: "no dynamic code",
  Symbol: "not available in an NF",
  Map: "use a FlowMap or FlowTable in state",
  Set: "use a FlowMap or IndexAllocator in state",
};

export function checkSubsetRules(source: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (node: Node, code: string, message: string, hint?: string) =>
    out.push(diagnosticAt(node, code, message, hint));

  for (const imp of source.getImportDeclarations()) {
    const target = imp.getModuleSpecifierSourceFile();
    const inDsl = target !== undefined && fs.realpathSync(target.getFilePath()).startsWith(DSL_DIR + path.sep);
    if (!inDsl) {
      report(imp, "VIG1017", `imports only from the dsl are allowed, not '${imp.getModuleSpecifierValue()}'`, 'import { ... } from "../dsl/index.ts"');
    }
  }

  for (const stmt of source.getStatements()) {
    if (Node.isVariableStatement(stmt)) {
      const kind = stmt.getDeclarationKind();
      if (kind !== "const") {
        report(stmt, "VIG1012", `a module-level '${kind}' is state outside the declared structures`, "keep persistent state in a structure returned by state(cfg); constants may be 'const'");
      }
    }
  }

  source.forEachDescendant((node, traversal) => {
    switch (node.getKind()) {
      case SyntaxKind.ImportDeclaration:
        traversal.skip();
        return;
      case SyntaxKind.AnyKeyword:
        return report(node, "VIG1001", "the type 'any' is not allowed", "give a fixed-width type such as u32, or a record type");
      case SyntaxKind.UnknownKeyword:
        return report(node, "VIG1001", "the type 'unknown' is not allowed", "give a fixed-width type such as u32, or a record type");
      case SyntaxKind.NumericLiteral: {
        const text = node.getText();
        if (/[.eE]/.test(text) && !/^0[xX]/.test(text)) {
          return report(node, "VIG1002", `floating-point literal ${text}: there is no floating point in an NF`, "use integers (times are u64 nanoseconds; scale fractions to integers)");
        }
        return;
      }
      case SyntaxKind.TryStatement:
        return report(node, "VIG1004", "try/catch is not available: an NF never throws", "check conditions with if and return drop()");
      case SyntaxKind.ThrowStatement:
        return report(node, "VIG1004", "throw is not available: an NF never throws", "return drop() instead");
      case SyntaxKind.WhileStatement:
      case SyntaxKind.DoStatement:
      case SyntaxKind.ForInStatement:
      case SyntaxKind.ForOfStatement:
        return report(node, "VIG1005", "loops need a static bound", "write for (let i: u32 = 0; i < N; i++) where N is a constant or a config field with a max");
      case SyntaxKind.ArrowFunction:
      case SyntaxKind.FunctionExpression:
        return report(node, "VIG1006", "closures are not available", "declare a top-level function and call it");
      case SyntaxKind.ClassDeclaration:
      case SyntaxKind.ClassExpression:
        return report(node, "VIG1009", "classes are not available in an NF", "use record types (interfaces of fixed-width fields) and functions");
      case SyntaxKind.ArrayLiteralExpression:
        return report(node, "VIG1010", "arrays are not available: an NF allocates nothing per packet", "keep indexed data in a Vector declared in state(cfg)");
      case SyntaxKind.StringLiteral:
      case SyntaxKind.NoSubstitutionTemplateLiteral:
      case SyntaxKind.TemplateExpression:
        if (!insideConfigDeclaration(node)) {
          return report(node, "VIG1007", "strings are not available in an NF", "strings may appear only in the config declaration (docs, defaults)");
        }
        return;
      case SyntaxKind.StringKeyword:
        return report(node, "VIG1007", "strings are not available in an NF", "use fixed-width integers");
      case SyntaxKind.NumberKeyword:
        return report(node, "VIG1019", "'number' has no width", "use u8, u16 or u32 (or u64 for bigint values)");
      case SyntaxKind.BigIntKeyword:
        return report(node, "VIG1019", "'bigint' has no width", "use u64");
      case SyntaxKind.AsyncKeyword:
      case SyntaxKind.AwaitExpression:
      case SyntaxKind.YieldExpression:
        return report(node, "VIG1014", "asynchronous code is not available: an NF handles one packet synchronously");
      case SyntaxKind.SwitchStatement:
        return report(node, "VIG1016", "switch is not available", "use if / else if");
      case SyntaxKind.SpreadElement:
      case SyntaxKind.SpreadAssignment:
        return report(node, "VIG1016", "spread is not available", "list the fields explicitly");
      case SyntaxKind.DeleteExpression:
      case SyntaxKind.TypeOfExpression:
      case SyntaxKind.VoidExpression:
        return report(node, "VIG1016", `'${node.getFirstChild()?.getText()}' is not available in an NF`);
      case SyntaxKind.LabeledStatement:
        return report(node, "VIG1016", "labels are not available");
      case SyntaxKind.QuestionQuestionToken:
        return report(node.getParentOrThrow(), "VIG1016", "'??' is not available", "test with === undefined and use if/else");
      case SyntaxKind.QuestionDotToken:
        return report(node.getParentOrThrow(), "VIG1016", "optional chaining is not available", "test with === undefined first");
      case SyntaxKind.EqualsEqualsToken:
      case SyntaxKind.ExclamationEqualsToken:
        return report(node.getParentOrThrow(), "VIG1013", `'${node.getText()}' compares loosely`, `use '${node.getText()}='`);
      case SyntaxKind.InstanceOfKeyword:
      case SyntaxKind.InKeyword:
        if (Node.isBinaryExpression(node.getParent())) {
          return report(node.getParentOrThrow(), "VIG1016", `'${node.getText()}' is not available in an NF`);
        }
        return;
      case SyntaxKind.NewExpression:
        if (!insideFunctionNamed(node, "state")) {
          return report(node, "VIG1011", "'new' allocates: an NF allocates only in state(cfg)", "declare the structure in state(cfg) and use it through st");
        }
        return;
      case SyntaxKind.Identifier: {
        const name = node.getText();
        const hint = FORBIDDEN_GLOBALS[name];
        if (hint !== undefined && isGlobalReference(node)) {
          return report(node, "VIG1008", `'${name}' is not available in an NF`, hint);
        }
        return;
      }
      default:
        return;
    }
  });
  return out;
}

function insideConfigDeclaration(node: Node): boolean {
  for (let n: Node | undefined = node; n; n = n.getParent()) {
    if (Node.isVariableDeclaration(n) && n.getName() === "config" && Node.isSourceFile(n.getParent()?.getParent()?.getParent())) return true;
  }
  return false;
}

function insideFunctionNamed(node: Node, name: string): boolean {
  const fn = node.getFirstAncestorByKind(SyntaxKind.FunctionDeclaration);
  return fn?.getName() === name && Node.isSourceFile(fn.getParent());
}

/** An identifier that names a global (not a property name, not a local or import). */
function isGlobalReference(node: Node): boolean {
  const parent = node.getParent();
  if (Node.isPropertyAccessExpression(parent) && parent.getNameNode() === node) return false;
  if (Node.isPropertyAssignment(parent) && parent.getNameNode() === node) return false;
  if (Node.isPropertySignature(parent) || Node.isMethodDeclaration(parent)) return false;
  const symbol = node.getSymbol();
  if (!symbol) return true;
  return symbol.getDeclarations().every((d) => d.getSourceFile().isDeclarationFile() || d.getSourceFile().isInNodeModules());
}
