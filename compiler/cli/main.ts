/**
 * vigorc: the command line. Each command is a thin layer over the stages:
 * check (frontend), build (frontend + codegen + link), new (scaffold), verify / replay / test (verifier).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { emitC } from "../codegen/emit-c.ts";
import { compileNf, formatDiagnostic } from "../frontend/index.ts";
import type { NfModule } from "../ir/ir.ts";
import { CCompileError, linkNf, RUNTIME_C_DIR, type LinkTarget } from "./link.ts";
import { scaffold } from "./scaffold.ts";
import { HELPER_COMMAND } from "../verifier/helper-command.ts";

export const PACKET_DIR = path.resolve(RUNTIME_C_DIR, "packet");

/** Exit codes: 0 success, 1 the NF is wrong (disproven, failed test), 2 bad input, 3 internal error. */
export const EXIT = { ok: 0, failed: 1, badInput: 2, internal: 3 } as const;

export class UsageError extends Error {}

const USAGE = `usage: vigorc <command> [options]

commands:
  check <nf.ts>                               check the NF against the DSL rules
  build <nf.ts> [-o OUT] [--target dpdk|trace] compile the NF (default target: dpdk)
  new <name>                                  scaffold nfs/<name>.ts and specs/<name>.spec.ts
  verify <nf.ts> [--spec FILE] [--property FILE|NAME]... [--json] [--no-c]
  replay <nf.ts> <counterexample.json>        run a counterexample on the compiled trace binary
  test <nf.ts> IN.pcapng                      check the trace binary's outputs against the spec

exit codes: 0 ok, 1 the NF or spec is wrong, 2 bad input, 3 internal error`;

/** Parses `--name value` / `-o value` options; positional arguments are returned in order. */
export function parseArgs(args: string[], valued: string[], flags: string[] = [], repeatable: string[] = []) {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("-")) {
      const [name, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
      if (flags.includes(name)) {
        options.set(name, ["true"]);
        continue;
      }
      if (!valued.includes(name)) throw new UsageError(`unknown option ${name}`);
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      if (options.has(name) && !repeatable.includes(name)) throw new UsageError(`${name} given twice`);
      options.set(name, [...(options.get(name) ?? []), value]);
    } else positional.push(a);
  }
  return { positional, options };
}

/** Frontend with diagnostics printed; undefined when the NF is rejected. */
export function frontend(file: string): NfModule | undefined {
  const r = compileNf(file);
  for (const d of r.diagnostics) console.error(formatDiagnostic(d) + "\n");
  if (r.diagnostics.length > 0) {
    console.error(`${r.diagnostics.length} error${r.diagnostics.length === 1 ? "" : "s"} in ${file}`);
    return undefined;
  }
  return r.module;
}

function requireFile(file: string | undefined, what: string): string {
  if (!file) throw new UsageError(`missing ${what}`);
  if (!fs.existsSync(file)) throw new UsageError(`${file}: no such file`);
  return file;
}

const CLANG_FORMAT_STYLE = path.resolve(RUNTIME_C_DIR, "..", ".clang-format");

/** Formats generated C with the project's clang-format style, when clang-format is installed. */
async function formatC(file: string): Promise<void> {
  const { execa } = await import("execa");
  await execa("clang-format", ["-i", `--style=file:${CLANG_FORMAT_STYLE}`, file], { reject: false });
}

export interface BuildResult {
  binary: string;
  generatedC: string;
}

/** Frontend + codegen + link. Generated C is kept next to the output, in <out>.gen/. */
export async function build(nfFile: string, target: LinkTarget, output: string): Promise<BuildResult | undefined> {
  const m = frontend(nfFile);
  if (!m) return undefined;
  const genDir = `${output}.gen`;
  fs.mkdirSync(genDir, { recursive: true });
  const generatedC = path.join(genDir, "nf.c");
  fs.writeFileSync(generatedC, emitC(m));
  await formatC(generatedC);
  await linkNf({ generatedC, target, output, extraCFlags: ["-I", PACKET_DIR] });
  return { binary: output, generatedC };
}

async function cmdBuild(args: string[]): Promise<number> {
  const { positional, options } = parseArgs(args, ["-o", "--target"]);
  const file = requireFile(positional[0], "NF file");
  const target = options.get("--target")?.[0] ?? "dpdk";
  if (target !== "dpdk" && target !== "trace") throw new UsageError(`--target must be dpdk or trace, not '${target}'`);
  const name = path.basename(file).replace(/\.ts$/, "");
  const output = options.get("-o")?.[0] ?? path.join("build", target === "dpdk" ? name : `${name}-trace`);
  try {
    const r = await build(file, target, output);
    if (!r) return EXIT.badInput;
    console.log(`built ${r.binary} (target ${target}; generated C in ${r.generatedC})`);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CCompileError) {
      console.error(`internal error: the C compiler rejected the generated code for ${file}.`);
      console.error(`This is a vigorc bug, not yours. Generated files kept in ${output}.gen/`);
      console.error(`command: ${e.command}`);
      console.error(e.stderr.split("\n").slice(0, 30).join("\n"));
      return EXIT.internal;
    }
    throw e;
  }
}

function cmdCheck(args: string[]): number {
  const { positional } = parseArgs(args, []);
  const file = requireFile(positional[0], "NF file");
  const m = frontend(file);
  if (!m) return EXIT.badInput;
  const summary = [`${m.config.length} config field(s)`, `${m.state.length} state structure(s)`, `${m.records.length} record(s)`];
  console.log(`${file}: ok (${summary.join(", ")})`);
  return EXIT.ok;
}

function cmdNew(args: string[]): number {
  const { positional } = parseArgs(args, []);
  const name = positional[0];
  if (!name || !/^[a-z][a-z0-9_]*$/.test(name)) throw new UsageError("vigorc new <name>: a lowercase identifier, e.g. vigorc new mynf");
  for (const f of scaffold(name, process.cwd())) console.log(`created ${f}`);
  return EXIT.ok;
}

type Command = (args: string[]) => number | Promise<number>;

async function loadVerifierCommand(name: "verify" | "replay" | "test" | "verifyHelperCommand"): Promise<Command> {
  const mod = (await import("../verifier/commands.ts")) as Record<string, Command>;
  const cmd = mod[name];
  if (!cmd) throw new Error(`the verifier does not provide '${name}'`);
  return cmd;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const commands: Record<string, Command> = {
    check: cmdCheck,
    build: cmdBuild,
    new: cmdNew,
    verify: async (a) => (await loadVerifierCommand("verify"))(a),
    replay: async (a) => (await loadVerifierCommand("replay"))(a),
    test: async (a) => (await loadVerifierCommand("test"))(a),
    // Not in the usage: started by verify to check paths side by side (compiler/verifier/verify.ts).
    [HELPER_COMMAND]: async (a) => (await loadVerifierCommand("verifyHelperCommand"))(a),
  };
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command ? EXIT.ok : EXIT.badInput;
  }
  const run = commands[command];
  if (!run) {
    console.error(`vigorc: unknown command '${command}'\n\n${USAGE}`);
    return EXIT.badInput;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`vigorc ${command}: ${e.message}`);
      return EXIT.badInput;
    }
    return reportInternalError(command, e);
  }
}

/** Prints an internal error (the stack too with VIGORC_DEBUG=1); returns its exit code. */
export function reportInternalError(command: string, e: unknown): number {
  console.error(`vigorc ${command}: internal error: ${e instanceof Error ? e.message : String(e)}`);
  if (process.env["VIGORC_DEBUG"] && e instanceof Error) console.error(e.stack);
  return EXIT.internal;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
