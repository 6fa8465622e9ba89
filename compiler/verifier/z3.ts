/**
 * The one Z3 context of the process (z3-solver allows one per process): created on first use and
 * reused by every verification in the process, with small helpers for fixed-width arithmetic.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createApi } from "z3-solver/build/high-level/index.js";
import { init as initLowLevel, Z3_ast_kind, type Z3Core } from "z3-solver/build/low-level/index.js";
import type { Arith, Bool, BitVec, Context, Expr, FuncDecl, Solver } from "z3-solver";
// Not from "z3-solver" itself: its entry point loads the shipped module (see z3ModuleFactory).
import { Z3_decl_kind } from "z3-solver/build/low-level/types.__GENERATED__.js";
import { ROOT } from "./root.ts";

export type Z = Context<"main">;
export type BV = BitVec<number, "main">;
export type B = Bool<"main">;
export type AnyExpr = Expr<"main">;
export type { Arith };
export { Z3_decl_kind };

let ctxPromise: Promise<Z> | undefined;
/** z3-solver's low-level API (raw pointers), set with the context (see uninterpretedNames). */
let lowLevel: Z3Core | undefined;
let current: Z | undefined;

export function z3(): Promise<Z> {
  ctxPromise ??= (async () => {
    const { Context } = await withDeferredFinalizers(async () => {
      lowLevel = (await initLowLevel(z3ModuleFactory())).Z3;
      return createApi(lowLevel);
    });
    const c = Context("main");
    guardChecks(c);
    current = c;
    return c;
  })();
  return ctxPromise;
}

/**
 * z3-solver's WebAssembly module factory (build/z3-built.js), loaded from a copy without the one
 * debug assertion that costs real time. z3-solver 4.16's emscripten glue is built with assertions:
 * every indirect call that may throw goes through `getWasmTableEntry`, which asserts that its
 * function-table cache agrees with the table by reading the table again (`wasmTable.get`). In a
 * NAT run that read was ~1.7 s of the solver thread's ~7.5 s CPU. The cache is only ever filled
 * from the table, so the assertion cannot fail; the copy differs from the shipped file in that
 * line only. It is written once per content under build/z3-solver-<digest>/, because z3's solver
 * threads load the module from its file (the factory's own path); the .wasm is read from the
 * package. The shipped module is loaded instead when the line is not found (another z3-solver
 * version), when the copy cannot be written, or with VIGORC_Z3_AS_SHIPPED=1 (comparisons).
 */
function z3ModuleFactory(): () => Promise<unknown> {
  const { shipped, loaded } = z3ModuleFiles();
  const factory = require(loaded) as (module: { locateFile: (name: string) => string }) => Promise<unknown>;
  return () => factory({ locateFile: (name) => path.join(path.dirname(shipped), name) });
}
const require = createRequire(import.meta.url);

/** The module file z3-solver ships and the one z3ModuleFactory loads (tests). */
export function z3ModuleFiles(): { shipped: string; loaded: string } {
  const shipped = require.resolve("z3-solver/build/z3-built.js");
  return { shipped, loaded: process.env["VIGORC_Z3_AS_SHIPPED"] === "1" ? shipped : (withoutTableAssertion(shipped) ?? shipped) };
}

export const TABLE_ASSERTION = "assert(wasmTable.get(funcPtr) == func, 'JavaScript-side Wasm function table mirror is out of date!');";
export const TABLE_ASSERTION_REMOVED = "/* vigorc: table-cache assertion removed (compiler/verifier/z3.ts) */";

/** The path of a copy of `shipped` with TABLE_ASSERTION removed, written if need be; undefined if it has none or cannot be written. */
function withoutTableAssertion(shipped: string): string | undefined {
  const text = fs.readFileSync(shipped, "utf8");
  const at = text.indexOf(TABLE_ASSERTION);
  if (at < 0 || text.indexOf(TABLE_ASSERTION, at + 1) >= 0) return undefined;
  const digest = createHash("sha256").update(text).update(TABLE_ASSERTION_REMOVED).digest("hex").slice(0, 16);
  const dir = path.join(ROOT, "build", `z3-solver-${digest}`);
  // .cjs: the project is ESM ("type": "module") and the module is CommonJS.
  const file = path.join(dir, "z3-built.cjs");
  if (fs.existsSync(file)) return file;
  try {
    fs.mkdirSync(dir, { recursive: true });
    // Written aside and renamed, so that a concurrent run never loads half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text.slice(0, at) + TABLE_ASSERTION_REMOVED + text.slice(at + TABLE_ASSERTION.length));
    fs.renameSync(tmp, file);
    return file;
  } catch {
    return undefined;
  }
}

/**
 * A solver with the verifier's settings. blast_select_store: a read through a store becomes an
 * if-then-else at rewrite time instead of array axioms during the search (the packets are arrays
 * of bytes written by the NF and read by the spec). Six of the NAT's dumped path queries: 7.5 / 8.7
 * -> 4.2 / 4.2 s CPU; a whole NAT run on the idle machine gained much less (README.md, "Not done").
 */
export function newSolver(c: Z): Solver<"main"> {
  const s = new c.Solver();
  s.set("blast_select_store", true);
  return s;
}

/*
 * Why z3-solver's WebAssembly module trapped ("memory access out of bounds" in
 * ast_manager::delete_node, seen in long runs): z3-solver releases a term when its JS object is
 * garbage collected, calling Z3's dec_ref from a FinalizationRegistry on the main thread, while an
 * async check runs on a worker thread over the same (not thread-safe) context. Here every release
 * that comes while a check is in flight waits until no check is (tests/z3-releases.test.ts).
 */
let checksInFlight = 0;
const deferredReleases: (() => void)[] = [];
/** Releases deferred so far, and those still waiting (tests). */
export let releasesDeferred = 0;
export const pendingReleases = (): number => deferredReleases.length;

/** Runs f (z3-solver's init, which creates its FinalizationRegistry) with releases deferred while a check runs. */
async function withDeferredFinalizers<T>(f: () => Promise<T>): Promise<T> {
  const Native = globalThis.FinalizationRegistry;
  class Deferring<H> extends Native<H> {
    constructor(release: (held: H) => void) {
      super((held) => {
        if (checksInFlight === 0) return release(held);
        releasesDeferred++;
        deferredReleases.push(() => release(held));
      });
    }
  }
  globalThis.FinalizationRegistry = Deferring;
  try {
    return await f();
  } finally {
    globalThis.FinalizationRegistry = Native;
  }
}

/** Counts the checks in flight (every solver of the context shares the prototype) and runs the deferred releases after. */
function guardChecks(c: Z): void {
  const proto = Object.getPrototypeOf(new c.Solver()) as { check: (...args: unknown[]) => Promise<unknown> };
  const check = proto.check;
  proto.check = async function (this: unknown, ...args: unknown[]) {
    checksInFlight++;
    try {
      return await check.apply(this, args);
    } finally {
      // splice, not shift: shifting a large array one element at a time copies it each time
      // (128,174 releases took 4.9 s of main-thread CPU in one NAT run; 0.27 s so).
      if (--checksInFlight === 0) for (const r of deferredReleases.splice(0)) r();
    }
  };
}

/**
 * The names of the uninterpreted constants and functions e mentions, from one walk through its
 * DAG with z3's low-level API (raw pointers, each node once). Printing e and scanning the text
 * instead cost ~30x more (a NAT run's goals print to ~1.2 million characters) and also caught the
 * printer's own let-names (`a!1`).
 */
export function uninterpretedNames(e: AnyExpr): string[] {
  const Z3 = lowLevel!;
  const ctx = e.ctx.ptr;
  const names = new Set<string>();
  const seen = new Set<number>(); // ids are stable during the walk: e holds its subterms
  for (const stack = [e.ast]; stack.length > 0; ) {
    const a = stack.pop()!;
    const id = Z3.get_ast_id(ctx, a);
    if (seen.has(id)) continue;
    seen.add(id);
    if (Z3.get_ast_kind(ctx, a) !== Z3_ast_kind.Z3_APP_AST) continue;
    const app = Z3.to_app(ctx, a);
    const decl = Z3.get_app_decl(ctx, app);
    if (Z3.get_decl_kind(ctx, decl) === Z3_decl_kind.Z3_OP_UNINTERPRETED) names.add(Z3.get_symbol_string(ctx, Z3.get_decl_name(ctx, decl)));
    for (let i = Z3.get_app_num_args(ctx, app) - 1; i >= 0; i--) stack.push(Z3.get_app_arg(ctx, app, i));
  }
  return [...names];
}

/**
 * decl(args), memoized. z3-solver's FuncDecl.call prints the whole declaration on every call (its
 * argument-count message is built before the check), which was ~1 s of a NAT run's main thread.
 * The memo holds the arguments, so their ids are not reused while it lives.
 */
export function apply<R extends AnyExpr>(decl: FuncDecl<"main">, ...args: AnyExpr[]): R {
  let memo = applications.get(decl);
  if (!memo) applications.set(decl, (memo = new Map()));
  const key = args.map((a) => a.id()).join(",");
  let hit = memo.get(key);
  if (!hit) memo.set(key, (hit = { args, app: decl.call(...args) }));
  return hit.app as R;
}
const applications = new WeakMap<FuncDecl<"main">, Map<string, { args: AnyExpr[]; app: AnyExpr }>>();

/** Width-safe helpers bound to a context. */
export class Bits {
  constructor(readonly Z: Z) {}
  val(v: bigint | number, w: number): BV {
    return this.Z.BitVec.val(BigInt(v), w);
  }
  fresh(name: string, w: number): BV {
    return this.Z.BitVec.const(`${name}!${++freshCounter}`, w);
  }
  named(name: string, w: number): BV {
    return this.Z.BitVec.const(name, w);
  }
  freshBool(name: string): B {
    return this.Z.Bool.const(`${name}!${++freshCounter}`);
  }
  /** Zero-extends or truncates to width w. */
  resize(e: BV, w: number): BV {
    const cur = e.size();
    if (cur === w) return e;
    if (cur < w) {
      const ext = e.zeroExt(w - cur);
      extended.set(ext, e);
      return ext;
    }
    const orig = extended.get(e);
    if (orig !== undefined && orig.size() <= w) return this.resize(orig, w);
    const narrow = this.unsignedNarrow(e);
    if (narrow !== undefined && narrow.size() <= w) return this.resize(narrow, w);
    return e.extract(w - 1, 0);
  }

  /**
   * e as a narrower term whose zero-extension is e, when e's structure shows one: a zero-extension,
   * a numeral, or a choice between such. Specs compute in 72 bits and the NF in its fields'
   * widths; narrowing a spec's value back to the NF's width gives the NF's own term, so Z3 sees
   * equal terms (a table read at the same index) instead of proving two widths equal bit by bit.
   */
  unsignedNarrow(e: BV, depth = 0): BV | undefined {
    if (depth > 8) return undefined;
    const orig = extended.get(e);
    if (orig !== undefined) return orig;
    if (this.Z.isBitVecVal(e)) {
      const v = e.value();
      const bits = Math.max(1, v.toString(2).length);
      return bits < e.size() ? this.val(v, bits) : undefined;
    }
    if (!this.Z.isApp(e)) return undefined;
    const kind = e.decl().kind();
    if (kind === Z3_decl_kind.Z3_OP_ZERO_EXT) return e.arg(0) as BV;
    if (kind === Z3_decl_kind.Z3_OP_ITE) {
      const a = this.unsignedNarrow(e.arg(1) as BV, depth + 1);
      const b = this.unsignedNarrow(e.arg(2) as BV, depth + 1);
      if (a === undefined || b === undefined) return undefined;
      const w = Math.max(a.size(), b.size());
      if (w >= e.size()) return undefined;
      return this.ite(e.arg(0) as B, this.resize(a, w), this.resize(b, w));
    }
    return undefined;
  }
  /** Does the (unsigned) value fit in w bits? */
  fits(e: BV, w: number): B {
    const cur = e.size();
    if (cur <= w) return this.Z.Bool.val(true);
    return e.extract(cur - 1, w).eq(this.val(0, cur - w));
  }
  ite(c: B, a: BV, b: BV): BV {
    return this.Z.If(c, a, b) as BV;
  }
  and(...xs: B[]): B {
    const ys = xs.filter((x) => !isTrue(x));
    if (ys.some(isFalse)) return this.Z.Bool.val(false);
    if (ys.length === 0) return this.Z.Bool.val(true);
    if (ys.length === 1) return ys[0]!;
    return this.Z.And(...ys);
  }
  or(...xs: B[]): B {
    const ys = xs.filter((x) => !isFalse(x));
    if (ys.some(isTrue)) return this.Z.Bool.val(true);
    if (ys.length === 0) return this.Z.Bool.val(false);
    if (ys.length === 1) return ys[0]!;
    return this.Z.Or(...ys);
  }
  not(x: B): B {
    if (isTrue(x)) return this.Z.Bool.val(false);
    if (isFalse(x)) return this.Z.Bool.val(true);
    return this.Z.Not(x);
  }
  implies(a: B, b: B): B {
    if (isTrue(a)) return b;
    if (isFalse(a) || isTrue(b)) return this.Z.Bool.val(true);
    return this.Z.Implies(a, b);
  }
  eq(a: BV, b: BV): B {
    const w = Math.max(a.size(), b.size());
    return this.resize(a, w).eq(this.resize(b, w));
  }
}

let freshCounter = 0;

/**
 * A map keyed by Z3 term identity that holds its keys. A term nothing holds is freed and its id
 * can be given to a new term, which would then find the freed term's entry: an offset, a store or
 * a narrower form that is not its own.
 */
export class TermMap<K extends AnyExpr, V> {
  private readonly entries = new Map<number, { key: K; value: V }>();
  get(k: K): V | undefined {
    return this.entries.get(k.id())?.value;
  }
  set(k: K, value: V): void {
    this.entries.set(k.id(), { key: k, value });
  }
  has(k: K): boolean {
    return this.entries.has(k.id());
  }
}

/** Zero-extended terms and what they extended: narrowing them back gives the original term (keeps terms identical). */
const extended = new TermMap<BV, BV>();

export function isTrue(b: B): boolean {
  return current !== undefined && current.isTrue(b);
}
export function isFalse(b: B): boolean {
  return current !== undefined && current.isFalse(b);
}

/** How many times `vigorc verify` runs in all when z3's WebAssembly module traps (see rerunOnZ3Trap). */
export const Z3_ATTEMPTS = 3;

export function isWasmTrap(e: unknown): e is Error {
  return e instanceof WebAssembly.RuntimeError || (e instanceof Error && e.name === "RuntimeError");
}

/**
 * z3-solver's WebAssembly build sometimes traps ("memory access out of bounds") in the middle of a
 * long run (seen about once in five CI runs of the full NAT; the same run passes when repeated,
 * and the heap is far below its 2 GiB limit). After a trap the module is unusable and the process
 * has the one z3 context it may have, so the command starts again in a fresh process, at most
 * Z3_ATTEMPTS runs in all; a trap that repeats is reported as an internal error (exit 3). Nothing
 * is lost: results are printed only at the end of a run, progress goes to stderr.
 * internalError reports any other uncaught error (and a repeated trap) and gives the exit code.
 * Returns the handler, for a trap that surfaces as a rejected promise the caller catches.
 * VIGORC_INJECT_Z3_TRAP=once|always plants a trap (tests of this path).
 */
export function rerunOnZ3Trap(command: string, internalError: (e: unknown) => number): (e: unknown) => void {
  const attempt = Number(process.env["VIGORC_Z3_ATTEMPT"] ?? "1");
  const onTrap = (e: unknown): void => {
    // Other uncaught errors: what the CLI does with any internal error (a throw here would exit 7).
    if (!isWasmTrap(e)) process.exit(internalError(e));
    if (attempt >= Z3_ATTEMPTS) process.exit(internalError(new Error(`z3 (WebAssembly) crashed in ${attempt} runs out of ${Z3_ATTEMPTS}: ${e.message}`)));
    console.error(`vigorc ${command}: z3 (WebAssembly) crashed (${e.message}); verifying again in a fresh process (run ${attempt + 1} of ${Z3_ATTEMPTS})`);
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", env: { ...process.env, VIGORC_Z3_ATTEMPT: String(attempt + 1) } });
    process.exit(r.status ?? 3);
  };
  process.on("uncaughtException", onTrap);
  process.on("unhandledRejection", onTrap);
  const inject = process.env["VIGORC_INJECT_Z3_TRAP"];
  if (inject === "always" || (inject === "once" && attempt === 1)) {
    setTimeout(() => {
      throw new WebAssembly.RuntimeError("memory access out of bounds (injected by VIGORC_INJECT_Z3_TRAP)");
    }, 200);
  }
  return onTrap;
}
