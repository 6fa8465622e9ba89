/**
 * The arithmetic half of "checksums stay valid", proven by Z3 in every run that needs it (so it is
 * not trusted): one's complement sums (RFC 1071) are commutative and associative, and one RFC 1624
 * update turns a valid checksum into a valid one (UDP: a 0, "no checksum", stays 0 and a valid one
 * never becomes 0). A chain of updates follows by induction on its length (README: at each step the
 * other words, already updated or not, are regrouped into `rest` by the two first lemmas); Z3 proves
 * the one-step lemmas in milliseconds, while a 2-update chain stated directly takes it ~20 s and a
 * 3-update chain over a minute. Stated over mathematical integers on 16-bit words, transcribing
 * dsl/packet.ts checksumUpdate16 and runtime-c vig_checksum_update operation by operation (those
 * are integer programs: 0xFFFF - x, % 65536, / 65536), which Z3 decides in milliseconds where the
 * same statements over bit-vectors time out. The per-path half (the NF's output checksum is that
 * chain applied to the input's, every other covered word unchanged) is in prove.ts.
 */
import type { Arith, Bool, Context } from "z3-solver";
import { newSolver } from "./z3.ts";

type Int = Arith<"main">;
type B = Bool<"main">;

export interface LemmaResult {
  what: string;
  proven: boolean;
}

export class ChecksumLemmas {
  private readonly Z: Context<"main">;
  private counter = 0;

  constructor(Z: Context<"main">) {
    this.Z = Z;
  }

  private int(v: number): Int {
    return this.Z.Int.val(v);
  }
  /** A fresh 16-bit word, with its range fact. */
  private word(name: string, facts: B[]): Int {
    const x = this.Z.Int.const(`${name}!lemma${++this.counter}`);
    facts.push(x.ge(0), x.le(0xffff));
    return x;
  }
  /** RFC 1071 one's complement addition of two words (end-around carry). */
  onesAdd(x: Int, y: Int): Int {
    const s = x.add(y);
    return this.Z.If(s.ge(0x10000), s.sub(0xffff), s) as Int;
  }
  onesSum(xs: Int[]): Int {
    return xs.reduce((s, x) => this.onesAdd(s, x));
  }
  /** checksumUpdate16 / vig_checksum_update: 0xFFFF - fold(fold((0xFFFF - c) + (0xFFFF - m) + m')). */
  update(c: Int, oldWord: Int, newWord: Int): Int {
    const fold = (s: Int) => s.mod(0x10000).add(s.div(0x10000));
    const ffff = this.int(0xffff);
    return ffff.sub(fold(fold(ffff.sub(c).add(ffff.sub(oldWord)).add(newWord))));
  }
  /** Packet.updateChecksum for UDP: 0 stays 0; a computed 0 is sent as 0xFFFF. */
  udpUpdate(c: Int, oldWord: Int, newWord: Int): Int {
    const next = this.update(c, oldWord, newWord);
    return this.Z.If(c.eq(0), c, this.Z.If(next.eq(0), this.int(0xffff), next)) as Int;
  }

  statements(): { what: string; facts: B[]; claim: B }[] {
    const out: { what: string; facts: B[]; claim: B }[] = [];
    {
      const facts: B[] = [];
      const [x, y, z] = [this.word("x", facts), this.word("y", facts), this.word("z", facts)];
      out.push({ what: "one's complement addition is commutative", facts, claim: this.onesAdd(x, y).eq(this.onesAdd(y, x)) });
      out.push({ what: "one's complement addition is associative", facts, claim: this.onesAdd(this.onesAdd(x, y), z).eq(this.onesAdd(x, this.onesAdd(y, z))) });
    }
    {
      for (const udp of [false, true]) {
        const facts: B[] = [];
        // rest: the sum of the covered words no update touches; nonzero: one of them known to be nonzero.
        const rest = this.word("rest", facts);
        const nonzero = this.word("nonzeroWord", facts);
        const c = this.word("checksum", facts);
        const oldWord = this.word("old", facts);
        const newWord = this.word("new", facts);
        const c2 = udp ? this.udpUpdate(c, oldWord, newWord) : this.update(c, oldWord, newWord);
        const validIn = this.onesSum([rest, nonzero, oldWord, c]).eq(0xffff);
        const validOut = this.onesSum([rest, nonzero, newWord, c2]).eq(0xffff);
        const Z = this.Z;
        if (!udp) {
          out.push({ what: "an RFC 1624 update keeps a valid checksum valid", facts, claim: Z.Implies(Z.And(nonzero.neq(0), validIn), validOut) });
        } else {
          out.push({
            what: "a UDP checksum update keeps a valid checksum valid and nonzero, and 0 (none) stays 0",
            facts,
            claim: Z.And(Z.Implies(Z.And(nonzero.neq(0), c.neq(0), validIn), Z.And(c2.neq(0), validOut)), Z.Implies(c.eq(0), c2.eq(0))),
          });
        }
      }
    }
    return out;
  }

  /** Proves every lemma with a solver of its own (none of the verification's facts). */
  async prove(): Promise<LemmaResult[]> {
    const results: LemmaResult[] = [];
    for (const s of this.statements()) {
      const solver = newSolver(this.Z);
      for (const f of s.facts) solver.add(f);
      solver.add(this.Z.Not(s.claim));
      results.push({ what: s.what, proven: (await solver.check()) === "unsat" });
    }
    return results;
  }
}
