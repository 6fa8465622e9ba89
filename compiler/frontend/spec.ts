/**
 * The spec frontend: loads a spec or property file with ts-morph, type-checks it with TypeScript
 * (against the NF's own Config, State and record types, which specs import), and finds its
 * functions: `spec` (the reference spec) and every other exported function (properties).
 */
import { Node, type ArrowFunction, type FunctionDeclaration, type FunctionExpression, type SourceFile } from "ts-morph";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Diagnostic } from "./diagnostics.ts";
import { loadProgram } from "./program.ts";

export interface SpecFile {
  file: string;
  source: SourceFile;
  /** The reference spec, if the file has one. */
  spec?: FunctionDeclaration;
  /** Exported functions other than `spec`: properties. */
  properties: FunctionDeclaration[];
  /** `export const invariants = { table: (entry, cfg) => ... }`: per-table entry invariants. */
  invariants: Map<string, ArrowFunction | FunctionExpression>;
}

export function loadSpecFile(file: string): { spec?: SpecFile; diagnostics: Diagnostic[] } {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) {
    return { diagnostics: [{ file: absolute, line: 1, column: 1, code: "VIG3000", message: `${file}: no such spec file` }] };
  }
  const { source, diagnostics } = loadProgram(absolute);
  if (diagnostics.length > 0) return { diagnostics };
  const fns = source.getFunctions().filter((f) => f.isExported());
  const spec = fns.find((f) => f.getName() === "spec");
  const properties = fns.filter((f) => f.getName() !== "spec");
  const out: Diagnostic[] = [];
  for (const f of properties) {
    const rt = f.getReturnTypeNode()?.getText();
    if (rt !== "boolean") {
      const { line, column } = source.getLineAndColumnAtPos(f.getStart());
      out.push({ file: absolute, line, column, code: "VIG3002", message: `property ${f.getName()} must return boolean (declare it: function ${f.getName()}(s: Step<Config, State>): boolean)` });
    }
  }
  const invariants = new Map<string, ArrowFunction | FunctionExpression>();
  const inv = source.getVariableDeclaration("invariants");
  const init = inv?.getInitializer();
  if (inv && init) {
    if (!Node.isObjectLiteralExpression(init)) {
      const { line, column } = source.getLineAndColumnAtPos(init.getStart());
      out.push({ file: absolute, line, column, code: "VIG3003", message: "invariants must be an object literal: { table: (entry, cfg) => condition }" });
    } else {
      for (const p of init.getProperties()) {
        const fn = Node.isPropertyAssignment(p) ? p.getInitializer() : undefined;
        if (fn && Node.isPropertyAssignment(p) && (Node.isArrowFunction(fn) || Node.isFunctionExpression(fn))) invariants.set(p.getName(), fn);
        else {
          const { line, column } = source.getLineAndColumnAtPos(p.getStart());
          out.push({ file: absolute, line, column, code: "VIG3003", message: "each invariant is `table: (entry, cfg) => condition`" });
        }
      }
    }
  }
  return { spec: { file: absolute, source, spec, properties, invariants }, diagnostics: out };
}
