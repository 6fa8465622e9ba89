/** Loads an NF (or spec) source file with ts-morph and reports TypeScript's own errors in our diagnostic shape. */
import { Project, ts, type SourceFile } from "ts-morph";
import * as path from "node:path";
import * as fs from "node:fs";
import type { Diagnostic } from "./diagnostics.ts";

export const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  allowImportingTsExtensions: true,
  types: [],
  // The language only, no DOM: the default library for ES2022 includes the DOM's declarations,
  // whose parsing was most of every command's start-up (NFs and specs never use them).
  lib: ["lib.es2022.d.ts"],
};

export interface LoadedProgram {
  project: Project;
  source: SourceFile;
  diagnostics: Diagnostic[];
}

/**
 * One project for every file loaded by the process (an NF, its spec, its properties): the ES2022
 * library declarations are parsed once, not once per file. Files already in it are re-read from
 * disk, so a file changed or deleted since is seen as it is now.
 */
let project: Project | undefined;

export function loadProgram(file: string): LoadedProgram {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) {
    throw new Error(`${file}: no such file`);
  }
  project ??= new Project({ compilerOptions: COMPILER_OPTIONS, skipAddingFilesFromTsConfig: true });
  for (const f of project.getSourceFiles()) if (!f.isInNodeModules()) f.refreshFromFileSystemSync();
  const source = project.getSourceFile(absolute) ?? project.addSourceFileAtPath(absolute);
  project.resolveSourceFileDependencies();
  const diagnostics = project
    .getProgram()
    .getSemanticDiagnostics(source)
    .concat(project.getProgram().getSyntacticDiagnostics(source))
    .map((d): Diagnostic => {
      const message = ts.flattenDiagnosticMessageText(d.getMessageText() as string | ts.DiagnosticMessageChain, "\n");
      const start = d.getStart() ?? 0;
      const { line, column } = source.getLineAndColumnAtPos(start);
      const sourceLine = source.getFullText().split("\n")[line - 1] ?? "";
      return {
        file: absolute,
        line,
        column,
        code: `TS${d.getCode()}`,
        message,
        sourceLine,
        length: Math.max(1, Math.min(d.getLength() ?? 1, sourceLine.length - column + 1)),
      };
    });
  return { project, source, diagnostics };
}
