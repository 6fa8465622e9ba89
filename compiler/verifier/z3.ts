/**
 * The one Z3 context of the process (z3-solver allows one per process): created on first use and
 * reused by every verification in the process, with small helpers for fixed-width arithmetic.
 */
import { init, type Arith, type Bool, type BitVec, type Context, type Expr } from "z3-solver";

export type Z = Context<"main">;
export type BV = BitVec<number, "main">;
export type B = Bool<"main">;
export type AnyExpr = Expr<"main">;
export type { Arith };

let ctxPromise: Promise<Z> | undefined;
let current: Z | undefined;

export function z3(): Promise<Z> {
  ctxPromise ??= (async () => {
    const { Context } = await init();
    const c = Context("main");
    current = c;
    return c;
  })();
  return ctxPromise;
}

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
      extended.set(ext.id(), e);
      return ext;
    }
    const orig = extended.get(e.id());
    if (orig !== undefined && orig.size() <= w) return this.resize(orig, w);
    return e.extract(w - 1, 0);
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
/** Zero-extended terms and what they extended: narrowing them back gives the original term (keeps terms identical). */
const extended = new Map<number, BV>();

export function isTrue(b: B): boolean {
  return current !== undefined && current.isTrue(b);
}
export function isFalse(b: B): boolean {
  return current !== undefined && current.isFalse(b);
}
