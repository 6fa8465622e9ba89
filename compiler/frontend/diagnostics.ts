/** Diagnostics in tsc's shape: file:line:col - error VIGnnnn: message, the code, and a hint. */
import type { Node } from "ts-morph";
import type { SourceLoc } from "../ir/ir.ts";

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
  /** What to write instead. */
  hint?: string;
  /** The offending source line. */
  sourceLine?: string;
  /** Length of the offending span on that line, for the underline. */
  length?: number;
}

/** Thrown by the frontend to stop at the first error of a kind that makes further analysis meaningless. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => formatDiagnostic(d)).join("\n"));
  }
}

export function locOf(node: Node): SourceLoc {
  const sf = node.getSourceFile();
  const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
  return { file: sf.getFilePath(), line, column, text: node.getText() };
}

export function diagnosticAt(node: Node, code: string, message: string, hint?: string): Diagnostic {
  const sf = node.getSourceFile();
  const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
  const sourceLine = sf.getFullText().split("\n")[line - 1] ?? "";
  const length = Math.max(1, Math.min(node.getEnd() - node.getStart(), sourceLine.length - column + 1));
  return { file: sf.getFilePath(), line, column, code, message, hint, sourceLine, length };
}

export function formatDiagnostic(d: Diagnostic, cwd = globalThis.process?.cwd?.() ?? ""): string {
  const file = cwd && d.file.startsWith(cwd + "/") ? d.file.slice(cwd.length + 1) : d.file;
  const lines = [`${file}:${d.line}:${d.column} - error ${d.code}: ${d.message}`];
  if (d.sourceLine !== undefined) {
    const gutter = String(d.line);
    lines.push("", `${gutter} ${d.sourceLine}`, `${" ".repeat(gutter.length)} ${" ".repeat(d.column - 1)}${"~".repeat(d.length ?? 1)}`);
  }
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  return lines.join("\n");
}
