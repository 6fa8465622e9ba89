/** The frontend: NF source file in, NF IR (or located diagnostics) out. */
import type { NfModule } from "../ir/ir.ts";
import type { Diagnostic } from "./diagnostics.ts";
import { lowerModule } from "./lower.ts";
import { loadProgram } from "./program.ts";
import { checkSubsetRules } from "./rules.ts";

export interface FrontendResult {
  module?: NfModule;
  diagnostics: Diagnostic[];
}

export function compileNf(file: string): FrontendResult {
  const { source, diagnostics: tsDiagnostics } = loadProgram(file);
  const ruleDiagnostics = checkSubsetRules(source);
  const diagnostics = [...tsDiagnostics, ...ruleDiagnostics];
  if (diagnostics.length > 0) return { diagnostics: sortDiagnostics(diagnostics) };
  const lowered = lowerModule(source);
  return { module: lowered.module, diagnostics: sortDiagnostics(lowered.diagnostics) };
}

function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => a.line - b.line || a.column - b.column);
}

export { formatDiagnostic, type Diagnostic } from "./diagnostics.ts";
