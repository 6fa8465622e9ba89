// Links a generated nf.c with the runtime (state structures + a shell) into an executable.
//
//   dpdk:  cc -std=c11 -O3 -flto -Wall -Wextra -Werror -I<shells> -I<structures> <dpdk cflags as
//          -isystem> nf.c structures/*.c shells/flags.c shells/dpdk_shell.c -o OUT <dpdk libs>
//   trace: cc -std=c11 -O3 -flto -Wall -Wextra -Werror -I<shells> -I<structures> -DVIG_TRACE_TARGET
//          nf.c structures/*.c shells/flags.c shells/pcapng.c shells/trace_shell.c -o OUT
//
// (runtime-c/shells/README.md documents the same command lines.)
import { readdir } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// execa is ESM-only: it is imported lazily so that this module also loads where TypeScript is
// compiled to CommonJS (e.g. `uvu -r tsx`, which require()s test files and their imports).
type Execa = typeof import("execa").execa;
let execaPromise: Promise<Execa> | undefined;
function loadExeca(): Promise<Execa> {
  execaPromise ??= import("execa").then((m) => m.execa);
  return execaPromise;
}

export type LinkTarget = "dpdk" | "trace";

export interface LinkOptions {
  /** Path of the generated nf.c. */
  generatedC: string;
  target: LinkTarget;
  /** Path of the executable to produce. */
  output: string;
  /** Appended after the standard flags (e.g. ["-g"], ["-march=native"], ["-DNDEBUG"]). */
  extraCFlags?: string[];
}

/** The C compiler rejected the program (or could not be run); stderr holds its diagnostics. */
export class CCompileError extends Error {
  readonly stderr: string;
  readonly command: string;
  constructor(message: string, stderr: string, command: string) {
    super(message);
    this.name = "CCompileError";
    this.stderr = stderr;
    this.command = command;
  }
}

/** runtime-c/, located from this module's file (compiler/cli/link.ts -> ../../runtime-c). */
export const RUNTIME_C_DIR = fileURLToPath(new URL("../../runtime-c/", import.meta.url));
const SHELLS_DIR = resolve(RUNTIME_C_DIR, "shells");
const STRUCTURES_DIR = resolve(RUNTIME_C_DIR, "structures");

/** -flto lets the compiler inline the structures' functions (separate files, for their proofs) into
 * the NF's per-packet code: 74 fewer instructions per NAT packet (docs/performance.md). */
export const BASE_CFLAGS: readonly string[] = ["-std=c11", "-O3", "-flto", "-Wall", "-Wextra", "-Werror"];

interface DpdkFlags {
  cflags: string[];
  libs: string[];
}

let dpdkFlagsCache: Promise<DpdkFlags> | undefined;

function splitArgs(s: string): string[] {
  return s.split(/\s+/).filter((a) => a.length > 0);
}

/** pkg-config's libdpdk flags, with include directories turned into -isystem so that
 * warnings in DPDK's own headers cannot break -Werror builds. */
export function dpdkFlags(): Promise<DpdkFlags> {
  dpdkFlagsCache ??= (async (): Promise<DpdkFlags> => {
    const execa = await loadExeca();
    const run = async (what: string): Promise<string> => {
      const r = await execa("pkg-config", [what, "libdpdk"], { reject: false });
      if (r.exitCode !== 0 || r.failed) {
        const why = r.stderr || r.shortMessage || "unknown error";
        throw new CCompileError(
          `pkg-config ${what} libdpdk failed: is libdpdk-dev installed? (${why.trim()})`,
          String(r.stderr ?? ""),
          `pkg-config ${what} libdpdk`,
        );
      }
      return String(r.stdout);
    };
    const cflags: string[] = [];
    for (const a of splitArgs(await run("--cflags"))) {
      if (a.startsWith("-I")) cflags.push("-isystem", a.slice(2));
      else cflags.push(a);
    }
    return { cflags, libs: splitArgs(await run("--libs")) };
  })();
  const p = dpdkFlagsCache;
  p.catch(() => {
    if (dpdkFlagsCache === p) dpdkFlagsCache = undefined;
  });
  return p;
}

async function structureSources(): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(STRUCTURES_DIR);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".c"))
    .sort()
    .map((n) => resolve(STRUCTURES_DIR, n));
}

/** The full cc argument list for a target (exported for the README and tests). */
export async function ccArguments(opts: LinkOptions): Promise<string[]> {
  const nfC = isAbsolute(opts.generatedC) ? opts.generatedC : resolve(opts.generatedC);
  const out = isAbsolute(opts.output) ? opts.output : resolve(opts.output);
  const args: string[] = [...BASE_CFLAGS, "-I", SHELLS_DIR, "-I", STRUCTURES_DIR];
  const sources = [nfC, ...(await structureSources()), resolve(SHELLS_DIR, "flags.c")];
  let libs: string[] = [];
  if (opts.target === "dpdk") {
    const dpdk = await dpdkFlags();
    args.push(...dpdk.cflags);
    sources.push(resolve(SHELLS_DIR, "dpdk_shell.c"));
    libs = dpdk.libs;
  } else if (opts.target === "trace") {
    // The generated code's trace-only hooks (seeding/reading state for `vigorc replay`).
    args.push("-DVIG_TRACE_TARGET");
    sources.push(resolve(SHELLS_DIR, "pcapng.c"), resolve(SHELLS_DIR, "trace_shell.c"));
  } else {
    throw new Error(`unknown link target ${String(opts.target)} (expected "dpdk" or "trace")`);
  }
  args.push(...(opts.extraCFlags ?? []), ...sources, "-o", out, ...libs);
  return args;
}

/** Compiles the generated NF + runtime-c into an executable. Throws CCompileError with the
 * compiler's stderr when compilation or linking fails. */
export async function linkNf(opts: LinkOptions): Promise<void> {
  const args = await ccArguments(opts);
  const cc = process.env["CC"] && process.env["CC"].trim() !== "" ? process.env["CC"].trim() : "cc";
  const command = [cc, ...args].join(" ");
  const execa = await loadExeca();
  const r = await execa(cc, args, { reject: false, all: false, stripFinalNewline: false });
  if (r.failed || r.exitCode !== 0) {
    const stderr = String(r.stderr ?? "");
    const first = stderr.split("\n").find((l) => /error/.test(l)) ?? r.shortMessage ?? "";
    throw new CCompileError(
      `C compilation of ${opts.generatedC} for target ${opts.target} failed` +
        (first ? `: ${first.trim()}` : ""),
      stderr,
      command,
    );
  }
}
