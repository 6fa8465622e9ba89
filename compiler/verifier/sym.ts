/**
 * Symbolic models shared by the NF executor and the spec interpreter:
 * - the packet: an array of bytes (index u16) and a length <= MTU, parsed and written with the
 *   rules of dsl/packet.ts (the C runtime's packet.h implements the same rules);
 * - the abstract FlowTable: entries (index, key, time) as uninterpreted functions of the index,
 *   with the structure's invariants instantiated lazily at every index and key that is looked at;
 *   updates are functional overlays, so the state before and after a packet can be compared.
 */
import type { SMTArray, BitVecSort, FuncDecl } from "z3-solver";
import {
  ETHERNET_LENGTH,
  ETHERTYPE_IPV4,
  IPV4_CHECKSUM_OFFSET,
  IPV4_OFFSET,
  LAYOUTS,
  PROTOCOL_TCP,
  PROTOCOL_UDP,
  TCP_CHECKSUM_OFFSET,
  UDP_CHECKSUM_OFFSET,
  UDP_LENGTH,
  TCP_MIN_LENGTH,
  type FieldLayout,
  type HeaderName,
} from "../../dsl/layout.ts";
import type { RecordDecl } from "../ir/ir.ts";
import { apply, Bits, TermMap, type AnyExpr, type B, type BV, type Z } from "./z3.ts";

/** The largest frame the verifier considers: 1514 bytes (Ethernet MTU 1500 + 14-byte header, no FCS). */
export const MAX_FRAME = 1514;

export type Arr = SMTArray<"main", [BitVecSort<number, "main">], BitVecSort<number, "main">>;

/**
 * An offset as `base + k`: base undefined for a constant; otherwise the id of a term whose values
 * lie in `range` (today only the L4 header offset, see l4Offset).
 */
interface AffineOffset {
  base: number | undefined;
  k: number;
  range?: [number, number];
}

/** What a store wrote: the array it was made from, the offset and the byte. */
interface StoreRecord {
  parent: Arr;
  at: BV;
  value: BV;
}

/** Smallest IHL of a present IPv4 header: the L4 offset is 14 + 4 * IHL, at least 34. */
const MIN_IHL = 5;

export class PacketModel {
  /** Offsets whose form is known (by term id; z3 terms are hash-consed, so equal terms share an id). */
  private readonly offsets = new TermMap<BV, AffineOffset>();
  /** How each array built by write/writeIf was made (by term id). */
  private readonly stores = new TermMap<Arr, StoreRecord>();

  constructor(
    readonly Z: Z,
    readonly b: Bits,
  ) {}

  at(off: BV, k: number): BV {
    if (k === 0) return off;
    const f = this.form(off);
    if (f !== undefined && f.base === undefined) return this.c16(f.k + k);
    const r = off.add(this.b.val(k, 16));
    if (f !== undefined) this.offsets.set(r, { ...f, k: f.k + k });
    return r;
  }

  /** The offset's form: recorded, or a numeral's (constants made anywhere, not only by c16). */
  private form(x: BV): AffineOffset | undefined {
    const f = this.offsets.get(x);
    if (f !== undefined || !this.Z.isBitVecVal(x)) return f;
    const g = { base: undefined, k: Number(x.value()) };
    this.offsets.set(x, g);
    return g;
  }

  /**
   * Whether two offsets are the same, different, or undecided here, from their forms alone.
   * Decided cases: both constants; the same base; a constant outside the range of base + k.
   */
  private relate(x: BV, y: BV): "same" | "different" | "unknown" {
    if (x.id() === y.id()) return "same";
    const fx = this.form(x);
    const fy = this.form(y);
    if (fx === undefined || fy === undefined) return "unknown";
    if (fx.base === fy.base) return (fx.k - fy.k) % 0x10000 === 0 ? "same" : "different";
    const [c, sym] = fx.base === undefined ? [fx, fy] : fy.base === undefined ? [fy, fx] : [undefined, undefined];
    if (c === undefined || sym?.range === undefined) return "unknown";
    const [lo, hi] = [sym.range[0] + sym.k, sym.range[1] + sym.k];
    return hi < 0x10000 && (c.k < lo || c.k > hi) ? "different" : "unknown";
  }

  /**
   * The byte at off: stores at offsets known to differ are skipped and a store at the same offset
   * gives its byte (read-over-write, done here so the solver gets small terms: the output packet is
   * a chain of some 50 stores, and reading its headers at fixed offsets then costs nothing).
   */
  byte(arr: Arr, off: BV): BV {
    let a = arr;
    for (let st = this.stores.get(a); st !== undefined; st = this.stores.get(a)) {
      const rel = this.relate(st.at, off);
      if (rel === "same") return st.value;
      if (rel === "unknown") break;
      a = st.parent;
    }
    return a.select(off) as BV;
  }
  private store(arr: Arr, at: BV, value: BV): Arr {
    const a = arr.store(at, value) as Arr;
    this.stores.set(a, { parent: arr, at, value });
    return a;
  }
  /** n bytes big-endian at off. */
  read(arr: Arr, off: BV, n: number): BV {
    const bytes: BV[] = [];
    for (let i = 0; i < n; i++) bytes.push(this.byte(arr, this.at(off, i)));
    return n === 1 ? bytes[0]! : (this.Z.Concat(...bytes) as BV);
  }
  write(arr: Arr, off: BV, n: number, value: BV): Arr {
    const v = this.b.resize(value, 8 * n);
    let a = arr;
    for (let i = 0; i < n; i++) {
      const hi = 8 * (n - i) - 1;
      a = this.store(a, this.at(off, i), v.extract(hi, hi - 7));
    }
    return a;
  }
  /** Writes n bytes at off when cond holds (else rewrites the same bytes): no if-then-else over arrays. */
  writeIf(arr: Arr, cond: B, off: BV, n: number, value: BV): Arr {
    const v = this.b.resize(value, 8 * n);
    let a = arr;
    for (let i = 0; i < n; i++) {
      const hi = 8 * (n - i) - 1;
      const at = this.at(off, i);
      a = this.store(a, at, this.b.ite(cond, v.extract(hi, hi - 7), this.byte(arr, at)));
    }
    return a;
  }
  read16(arr: Arr, off: BV): BV {
    return this.read(arr, off, 2);
  }
  c16(k: number): BV {
    let c = this.constants.get(k);
    if (c === undefined) {
      this.constants.set(k, (c = this.b.val(k, 16)));
      this.offsets.set(c, { base: undefined, k: ((k % 0x10000) + 0x10000) % 0x10000 });
    }
    return c;
  }
  private readonly constants = new Map<number, BV>();

  /**
   * A term derived from a packet (and the other terms in `from`), built once: the spec and every
   * property parse the same packets again for every path (in a NAT run, parsing was ~0.4 s of
   * main-thread CPU). The entry holds `from`, so their ids are not reused while it lives.
   */
  private derived<T>(arr: Arr, what: string, from: AnyExpr[], build: () => T): T {
    let known = this.derivations.get(arr);
    if (known === undefined) this.derivations.set(arr, (known = new Map()));
    const key = `${what}(${from.map((t) => t.id()).join(",")})`;
    const hit = known.get(key);
    if (hit !== undefined) return hit.value as T;
    const value = build();
    known.set(key, { from, value });
    return value;
  }
  private readonly derivations = new TermMap<Arr, Map<string, { from: AnyExpr[]; value: unknown }>>();

  ethernetPresent(len: BV): B {
    return len.uge(this.c16(ETHERNET_LENGTH));
  }
  ihl(arr: Arr): BV {
    return this.derived(arr, "ihl", [], () => this.byte(arr, this.c16(IPV4_OFFSET)).and(this.b.val(0xf, 8)).zeroExt(8));
  }
  totalLength(arr: Arr): BV {
    return this.read16(arr, this.c16(IPV4_OFFSET + 2));
  }
  ipv4Present(arr: Arr, len: BV): B {
    return this.derived(arr, "ipv4Present", [len], () => this.ipv4PresentTerm(arr, len));
  }
  private ipv4PresentTerm(arr: Arr, len: BV): B {
    const b = this.b;
    const ihl4 = this.ihl(arr).zeroExt(16).mul(b.val(4, 32));
    const total = this.totalLength(arr).zeroExt(16);
    return b.and(
      len.uge(this.c16(IPV4_OFFSET + 20)),
      this.read16(arr, this.c16(12)).eq(this.c16(ETHERTYPE_IPV4)),
      this.byte(arr, this.c16(IPV4_OFFSET)).lshr(b.val(4, 8)).eq(b.val(4, 8)),
      this.ihl(arr).uge(this.c16(5)),
      total.uge(ihl4),
      b.val(IPV4_OFFSET, 32).add(total).ule(len.zeroExt(16)),
    );
  }
  /**
   * 14 + 4 * IHL, computed with IHL raised to 5 when below: the L4 header is only read or written
   * where it is present (l4Present), which implies IHL >= 5, and there both are the same offset.
   * The bound lets byte() tell L4 offsets (34 and up) from the Ethernet and IPv4 header bytes.
   */
  l4Offset(arr: Arr): BV {
    return this.derived(arr, "l4Offset", [], () => this.l4OffsetTerm(arr));
  }
  private l4OffsetTerm(arr: Arr): BV {
    const ihl = this.ihl(arr);
    const clamped = this.b.ite(ihl.ult(this.c16(MIN_IHL)), this.c16(MIN_IHL), ihl);
    const off = this.c16(IPV4_OFFSET).add(clamped.mul(this.c16(4)));
    this.offsets.set(off, { base: off.id(), k: 0, range: [IPV4_OFFSET + 4 * MIN_IHL, IPV4_OFFSET + 4 * 15] });
    return off;
  }
  l4Present(arr: Arr, len: BV, protocol: number, minLength: number): B {
    return this.derived(arr, `l4Present:${protocol}:${minLength}`, [len], () => this.l4PresentTerm(arr, len, protocol, minLength));
  }
  private l4PresentTerm(arr: Arr, len: BV, protocol: number, minLength: number): B {
    const b = this.b;
    return b.and(
      this.ipv4Present(arr, len),
      this.byte(arr, this.c16(IPV4_OFFSET + 9)).eq(b.val(protocol, 8)),
      this.read16(arr, this.c16(IPV4_OFFSET + 6)).and(this.c16(0x1fff)).eq(this.c16(0)),
      this.ihl(arr).zeroExt(16).mul(b.val(4, 32)).add(b.val(minLength, 32)).ule(this.totalLength(arr).zeroExt(16)),
    );
  }
  /** Parse a header: presence and start offset (dsl/packet.ts rules). */
  parse(arr: Arr, len: BV, header: HeaderName): { present: B; off: BV } {
    switch (header) {
      case "ethernet":
        return { present: this.ethernetPresent(len), off: this.c16(0) };
      case "ipv4":
        return { present: this.ipv4Present(arr, len), off: this.c16(IPV4_OFFSET) };
      case "tcp":
        return { present: this.l4Present(arr, len, PROTOCOL_TCP, TCP_MIN_LENGTH), off: this.l4Offset(arr) };
      case "udp":
        return { present: this.l4Present(arr, len, PROTOCOL_UDP, UDP_LENGTH), off: this.l4Offset(arr) };
    }
  }

  layout(header: HeaderName, field: string): FieldLayout {
    const f = (LAYOUTS[header] as Record<string, FieldLayout>)[field];
    if (!f) throw new Error(`no field ${header}.${field}`);
    return f;
  }

  readField(arr: Arr, off: BV, header: HeaderName, field: string): BV {
    const f = this.layout(header, field);
    let raw = this.read(arr, this.at(off, f.offset), f.bytes);
    if (f.bits !== undefined) {
      raw = raw.lshr(this.b.val(f.shift ?? 0, raw.size())).and(this.b.val((1n << BigInt(f.bits)) - 1n, raw.size()));
    }
    return this.b.resize(raw, f.width);
  }

  isFragment(arr: Arr): B {
    const flags = this.read16(arr, this.c16(IPV4_OFFSET + 6));
    return this.b.or(flags.and(this.c16(0x2000)).neq(this.c16(0)), flags.and(this.c16(0x1fff)).neq(this.c16(0)));
  }

  /**
   * RFC 1624 eqn. 3 (dsl/packet.ts checksumUpdate16, runtime-c vig_checksum_update), as an
   * application of the uninterpreted function `checksumUpdate16` (see ChecksumFn): goals are first
   * proven for every function in its place, and its arithmetic enters only where that fails.
   */
  checksumUpdate(c: BV, oldWord: BV, newWord: BV): BV {
    return checksumFn(this.Z, this.b).apply(c, oldWord, newWord);
  }

  /** Packet.updateChecksum: UDP's "no checksum" 0 stays 0, and a computed 0 becomes 0xffff. */
  updateChecksum(arr: Arr, at: BV, oldWord: BV, newWord: BV, isUdp: B, when?: B): Arr {
    const b = this.b;
    const cur = this.read16(arr, at);
    const next = this.checksumUpdate(cur, oldWord, newWord);
    const udpFixed = b.ite(b.and(isUdp, next.eq(this.c16(0))), this.c16(0xffff), next);
    const value = b.ite(b.and(isUdp, cur.eq(this.c16(0))), cur, udpFixed);
    return when === undefined ? this.write(arr, at, 2, value) : this.writeIf(arr, when, at, 2, value);
  }

  /** Header.write of dsl/packet.ts: the bytes, then every checksum the field is covered by. */
  writeField(arr: Arr, len: BV, off: BV, header: HeaderName, field: string, value: BV): Arr {
    const f = this.layout(header, field);
    if (f.bits !== undefined) throw new Error(`sub-byte field ${header}.${field} is not writable`);
    const first = f.offset & ~1;
    const last = (f.offset + f.bytes - 1) & ~1;
    const before: BV[] = [];
    for (let w = first; w <= last; w += 2) before.push(this.read16(arr, this.at(off, w)));
    let a = this.write(arr, this.at(off, f.offset), f.bytes, value);
    const F = this.Z.Bool.val(false);
    for (let w = first, k = 0; w <= last; w += 2, k++) {
      const oldWord = before[k]!;
      const newWord = this.read16(a, this.at(off, w));
      if (header === "ipv4") {
        a = this.updateChecksum(a, this.c16(IPV4_OFFSET + IPV4_CHECKSUM_OFFSET), oldWord, newWord, F);
        if (f.checksum === "ipv4+pseudo") {
          const tcp = this.l4Present(a, len, PROTOCOL_TCP, TCP_CHECKSUM_OFFSET + 2);
          const udp = this.l4Present(a, len, PROTOCOL_UDP, UDP_LENGTH);
          const l4 = this.l4Offset(a);
          // Two guarded writes, not one at ite(tcp, ..): offsets stay base + constant (see byte()).
          a = this.updateChecksum(a, this.at(l4, TCP_CHECKSUM_OFFSET), oldWord, newWord, F, tcp);
          a = this.updateChecksum(a, this.at(l4, UDP_CHECKSUM_OFFSET), oldWord, newWord, this.Z.Bool.val(true), this.b.and(this.b.not(tcp), udp));
        }
      } else if (header === "tcp") {
        a = this.updateChecksum(a, this.at(off, TCP_CHECKSUM_OFFSET), oldWord, newWord, F);
      } else if (header === "udp") {
        a = this.updateChecksum(a, this.at(off, UDP_CHECKSUM_OFFSET), oldWord, newWord, this.Z.Bool.val(true));
      }
    }
    return a;
  }
}

/**
 * The checksum update as an uninterpreted function U(checksum, oldWord, newWord) plus, for every
 * application built, its definition (RFC 1624 eqn. 3 on 16-bit words). A goal proven with U
 * uninterpreted holds for the real arithmetic too (it holds for every function); a goal that
 * fails that way is checked again with the definitions of the applications added (`definitions`),
 * so every counterexample uses the real arithmetic. Why: bit-blasting chains of one's complement
 * additions is what made the checksum goals time out, while the per-path fact the verifier needs
 * is structural (the output checksum is the update chain of the input's); the arithmetic fact
 * (an update chain keeps a valid checksum valid) is proven once, over integers (checksum-lemmas.ts).
 */
export class ChecksumFn {
  private readonly fn: FuncDecl<"main">;
  private readonly defs = new TermMap<AnyExpr, B>();

  constructor(
    readonly Z: Z,
    readonly b: Bits,
  ) {
    const W16 = Z.BitVec.sort(16);
    this.fn = Z.Function.declare("checksumUpdate16", W16, W16, W16, W16);
  }

  apply(c: BV, oldWord: BV, newWord: BV): BV {
    const app = apply<BV>(this.fn, c, oldWord, newWord);
    if (!this.defs.has(app)) this.defs.set(app, app.eq(this.arithmetic(c, oldWord, newWord)));
    return app;
  }

  /** The definitions of the applications that occur in these formulas (inside one another too). */
  definitionsFor(formulas: AnyExpr[]): B[] {
    const seen = new Set<number>();
    const out: B[] = [];
    const todo: AnyExpr[] = [...formulas];
    while (todo.length > 0) {
      const e = todo.pop()!;
      const id = e.id();
      if (seen.has(id)) continue;
      seen.add(id);
      if (!this.Z.isApp(e)) continue;
      const def = this.defs.get(e);
      if (def) {
        out.push(def);
        todo.push(def);
      }
      todo.push(...(e.children() as AnyExpr[]));
    }
    return out;
  }

  /** RFC 1624 eqn. 3 with 32-bit sums folded twice, exactly as dsl/packet.ts checksumUpdate16. */
  arithmetic(c: BV, oldWord: BV, newWord: BV): BV {
    const b = this.b;
    const w32 = (x: BV) => x.zeroExt(16);
    let sum = w32(c.not()).add(w32(oldWord.not())).add(w32(newWord));
    sum = sum.and(b.val(0xffff, 32)).add(sum.lshr(b.val(16, 32)));
    sum = sum.and(b.val(0xffff, 32)).add(sum.lshr(b.val(16, 32)));
    return sum.not().extract(15, 0);
  }
}

const checksumFns = new WeakMap<Bits, ChecksumFn>();
/** One checksum function per verification (per Bits): the NF, the spec goals and refinement share it. */
export function checksumFn(Z: Z, b: Bits): ChecksumFn {
  let f = checksumFns.get(b);
  if (!f) checksumFns.set(b, (f = new ChecksumFn(Z, b)));
  return f;
}

// ------------------------------------------------------------------------------------ tables

export type Rec = Record<string, BV>;

export interface TableView {
  readonly base: BaseTable;
  readonly cap: BV;
  readonly exp: BV;
  readonly size: BV;
  alloc(i: BV): B;
  key(i: BV): Rec;
  time(i: BV): BV;
  find(k: Rec): { present: B; index: BV };
}

/** A sink for facts that hold of the (arbitrary) initial state: structure invariants, choices. */
export interface FactSink {
  assume(fact: B): void;
}

/** The state before the packet: arbitrary, subject to the FlowTable invariants (instantiated lazily). */
export class BaseTable implements TableView {
  readonly base = this;
  readonly size: BV;
  private readonly allocF: FuncDecl<"main">;
  private readonly timeF: FuncDecl<"main">;
  private readonly keyF: Record<string, FuncDecl<"main">>;
  private readonly findP: FuncDecl<"main">;
  private readonly findI: FuncDecl<"main">;
  private readonly seenIndex = new Set<number>();
  private readonly seenKey = new Set<number>();
  /** Every index term looked at (for counterexamples). */
  readonly touched: BV[] = [];
  /** The spec's invariant of an entry (assumed of every entry of this, the prior state). */
  entryInvariant?: (index: BV, key: Rec, time: BV) => B;
  readonly touchedKeys: Rec[] = [];

  constructor(
    readonly Z: Z,
    readonly b: Bits,
    readonly name: string,
    readonly record: RecordDecl,
    readonly cap: BV,
    readonly exp: BV,
    readonly now: BV,
    readonly facts: FactSink,
    readonly deviceCount: BV,
  ) {
    const I = Z.BitVec.sort(32);
    const K = Z.BitVec.sort(this.keyBits());
    this.allocF = Z.Function.declare(`${name}.allocated`, I, Z.Bool.sort());
    this.timeF = Z.Function.declare(`${name}.time`, I, Z.BitVec.sort(64));
    this.keyF = Object.fromEntries(record.fields.map((f) => [f.name, Z.Function.declare(`${name}.key.${f.name}`, I, Z.BitVec.sort(f.type.width))]));
    this.findP = Z.Function.declare(`${name}.has`, K, Z.Bool.sort());
    this.findI = Z.Function.declare(`${name}.indexOf`, K, I);
    this.size = Z.BitVec.const(`${name}.size`, 32);
    facts.assume(this.size.ule(cap));
  }

  /**
   * Key fields declared with the Device type: the table invariant includes "holds an existing
   * device" (assumed of the prior state, proven of every key the NF adds).
   */
  get deviceFields(): string[] {
    return this.record.fields.filter((f) => new RegExp(`\\b${f.name}\\??\\s*:\\s*Device\\b`).test(this.record.loc.text)).map((f) => f.name);
  }
  keyInvariant(k: Rec): B {
    return this.b.and(...this.deviceFields.map((n) => this.b.resize(k[n]!, 16).ult(this.deviceCount)));
  }

  keyBits(): number {
    return this.record.fields.reduce((s, f) => s + f.type.width, 0);
  }
  pack(k: Rec): BV {
    const parts = this.record.fields.map((f) => this.b.resize(k[f.name]!, f.type.width));
    return parts.length === 1 ? parts[0]! : (this.Z.Concat(...parts) as BV);
  }
  recEq(a: Rec, c: Rec): B {
    return this.b.and(...this.record.fields.map((f) => this.b.eq(a[f.name]!, c[f.name]!)));
  }

  private rawAlloc(i: BV): B {
    return apply<B>(this.allocF, i);
  }
  private rawTime(i: BV): BV {
    return apply<BV>(this.timeF, i);
  }
  private rawKey(i: BV): Rec {
    return Object.fromEntries(this.record.fields.map((f) => [f.name, apply<BV>(this.keyF[f.name]!, i)]));
  }
  private rawFind(k: Rec): { present: B; index: BV } {
    const p = this.pack(k);
    return { present: apply<B>(this.findP, p), index: apply<BV>(this.findI, p) };
  }

  /** Instantiates the invariants at index i: an allocated index is < capacity, its key maps back to it, its time <= now. */
  private onIndex(i: BV): void {
    const id = i.id();
    if (this.seenIndex.has(id)) return;
    this.seenIndex.add(id);
    this.touched.push(i);
    const k = this.rawKey(i);
    const f = this.rawFind(k);
    this.facts.assume(this.b.implies(this.rawAlloc(i), this.b.and(i.ult(this.cap), f.present, f.index.eq(i), this.rawTime(i).ule(this.now), this.keyInvariant(k), this.entryInvariant?.(i, k, this.rawTime(i)) ?? this.Z.Bool.val(true))));
  }
  /** Instantiates the invariants at key k: a present key's index is allocated and holds k. */
  private onKey(k: Rec): void {
    const p = this.pack(k);
    const id = p.id();
    if (this.seenKey.has(id)) return;
    this.seenKey.add(id);
    this.touchedKeys.push(k);
    const f = this.rawFind(k);
    this.facts.assume(this.b.implies(f.present, this.b.and(f.index.ult(this.cap), this.rawAlloc(f.index), this.recEq(this.rawKey(f.index), k))));
    this.onIndex(f.index);
  }

  alloc(i: BV): B {
    this.onIndex(i);
    return this.rawAlloc(i);
  }
  key(i: BV): Rec {
    this.onIndex(i);
    return this.rawKey(i);
  }
  time(i: BV): BV {
    this.onIndex(i);
    return this.rawTime(i);
  }
  find(k: Rec): { present: B; index: BV } {
    this.onKey(k);
    return this.rawFind(k);
  }
}

/** A table defined from another by closures (an overlay). */
class Overlay implements TableView {
  constructor(
    readonly base: BaseTable,
    readonly cap: BV,
    readonly exp: BV,
    readonly size: BV,
    readonly alloc: (i: BV) => B,
    readonly key: (i: BV) => Rec,
    readonly time: (i: BV) => BV,
    readonly find: (k: Rec) => { present: B; index: BV },
  ) {}
}

const expireMemo = new WeakMap<TableView, Map<string, TableView>>();

export class TableOps {
  constructor(
    readonly Z: Z,
    readonly b: Bits,
    readonly facts: FactSink,
  ) {}

  alive(t: TableView, i: BV, now: BV): B {
    return this.b.and(t.alloc(i), now.sub(t.time(i)).ule(t.exp));
  }

  /** Removes every entry with now - time > expiration. The result is memoized, so that the NF and the spec see the same table. */
  expire(t: TableView, now: BV): TableView {
    let memo = expireMemo.get(t);
    if (!memo) expireMemo.set(t, (memo = new Map()));
    const id = `${now.id()}`;
    const hit = memo.get(id);
    if (hit) return hit;
    const size = this.b.fresh(`${t.base.name}.sizeAfterExpiry`, 32);
    this.facts.assume(size.ule(t.size));
    const r = new Overlay(
      t.base,
      t.cap,
      t.exp,
      size,
      (i) => this.alive(t, i, now),
      (i) => t.key(i),
      (i) => t.time(i),
      (k) => {
        const f = t.find(k);
        return { present: this.b.and(f.present, now.sub(t.time(f.index)).ule(t.exp)), index: f.index };
      },
    );
    expiredSizes.set(r, { before: t, now });
    memo.set(id, r);
    return r;
  }

  refresh(t: TableView, i0: BV, now: BV): TableView {
    // Arrows, not t.alloc etc.: t may be the BaseTable itself (an NF that refreshes without expiring).
    return new Overlay(t.base, t.cap, t.exp, t.size, (i) => t.alloc(i), (i) => t.key(i), (i) => this.b.ite(i.eq(i0), now, t.time(i)), (q) => t.find(q));
  }

  /** Adds k at index j when `present` (the caller states what j is). */
  addAt(t: TableView, k: Rec, now: BV, j: BV, present: B): TableView {
    const b = this.b;
    const here = (i: BV) => b.and(present, i.eq(j));
    return new Overlay(
      t.base,
      t.cap,
      t.exp,
      b.ite(present, t.size.add(b.val(1, 32)), t.size),
      (i) => b.or(here(i), t.alloc(i)),
      (i) => {
        const old = t.key(i);
        const h = here(i);
        return Object.fromEntries(Object.keys(old).map((n) => [n, b.ite(h, b.resize(k[n]!, old[n]!.size()), old[n]!)]));
      },
      (i) => b.ite(here(i), now, t.time(i)),
      (q) => {
        const f = t.find(q);
        const same = b.and(present, t.base.recEq(q, k));
        return { present: b.or(same, f.present), index: b.ite(same, j, f.index) };
      },
    );
  }

  /** NF add: any free index below the capacity, or nothing when the table is full. */
  add(t: TableView, k: Rec, now: BV): { table: TableView; present: B; index: BV } {
    const b = this.b;
    const j = b.fresh(`${t.base.name}.newIndex`, 32);
    const present = t.size.ult(t.cap);
    this.facts.assume(b.implies(present, b.and(j.ult(t.cap), b.not(t.alloc(j)))));
    return { table: this.addAt(t, k, now, j, present), present, index: j };
  }

  remove(t: TableView, i0: BV): TableView {
    const b = this.b;
    return new Overlay(
      t.base,
      t.cap,
      t.exp,
      t.size.sub(b.val(1, 32)),
      (i) => b.and(t.alloc(i), b.not(i.eq(i0))),
      (i) => t.key(i),
      (i) => t.time(i),
      (q) => {
        const f = t.find(q);
        return { present: b.and(f.present, b.not(f.index.eq(i0))), index: f.index };
      },
    );
  }

  ite(c: B, x: TableView, y: TableView): TableView {
    const b = this.b;
    return new Overlay(
      x.base,
      x.cap,
      x.exp,
      b.ite(c, x.size, y.size),
      (i) => this.Z.If(c, x.alloc(i), y.alloc(i)) as B,
      (i) => {
        const kx = x.key(i);
        const ky = y.key(i);
        return Object.fromEntries(Object.keys(kx).map((n) => [n, b.ite(c, kx[n]!, ky[n]!)]));
      },
      (i) => b.ite(c, x.time(i), y.time(i)),
      (q) => {
        const fx = x.find(q);
        const fy = y.find(q);
        return { present: this.Z.If(c, fx.present, fy.present) as B, index: b.ite(c, fx.index, fy.index) };
      },
    );
  }

  /**
   * Equality of two tables over the same base, for all indexes and keys: checked at the skolem
   * index x and key q (fresh constants), which proves it for every index and key.
   */
  equal(a: TableView, c: TableView, x: BV, q: Rec): B {
    const b = this.b;
    const ax = a.alloc(x);
    const fa = a.find(q);
    const fc = c.find(q);
    return b.and(
      a.size.eq(c.size),
      ax.eq(c.alloc(x)),
      b.implies(ax, b.and(a.base.recEq(a.key(x), c.key(x)), a.time(x).eq(c.time(x)))),
      fa.present.eq(fc.present),
      b.implies(fa.present, fa.index.eq(fc.index)),
    );
  }
}

/** Tables produced by expire(): which table and time they came from (counterexample extraction). */
export const expiredSizes = new WeakMap<TableView, { before: TableView; now: BV }>();
