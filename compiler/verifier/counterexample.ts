/**
 * Counterexamples: a concrete configuration, prior state, time and packet (from a Z3 model) on
 * which the NF breaks a goal; decoded for a human and written as a JSON file + a pcapng of the
 * packet, which `vigorc replay` runs on the compiled trace binary.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Model } from "z3-solver";
import { formatIpv4, formatMac } from "../../dsl/config.ts";
import { writePcapng } from "../../dsl/pcapng.ts";
import { MAX_DEVICES, traceDeviceMac } from "../../dsl/runner.ts";
import type { Goal, Prover } from "./prove.ts";
import { W, type SVal } from "./spec-interp.ts";
import type { TableView } from "./sym.ts";
import type { BV, B } from "./z3.ts";

export interface CxEntry {
  index: number;
  key: Record<string, string>;
  time: string;
}

/** A table after the packet, at the indexes the counterexample is about: entry or free (null). */
export interface CxTableAfter {
  size: number;
  at: Record<string, CxEntry | null>;
}

export interface CxTable {
  /** Entries before the packet (before expiry) at the indexes looked at. */
  entries: CxEntry[];
  /** Indexes looked at that hold no entry (replay must keep them free). */
  free: number[];
  /** Keys looked up and absent (replay must not use them for filler entries). */
  absentKeys: Record<string, string>[];
  /** Entries in all (the others are not looked at: replay fills them with filler keys). */
  size: number;
  /** Entries left by expiry at the packet's time, in the model (which may let entries nobody looked at expire). */
  sizeAfterExpiry: number;
  capacity: number;
  expiration: string;
  /** The index the NF's add took on this path, if it added. */
  addedIndex?: number;
  /** The index the spec's add picks ("any free index"), when the spec adds. */
  specChoiceIndex?: number;
  /** What the NF left, at the entries' indexes, the free ones and the added one. */
  after: CxTableAfter;
}

export interface Counterexample {
  nf: string;
  nfFile: string;
  goal: string;
  group: string;
  summary: string;
  location?: { file: string; line: number };
  config: Record<string, string | string[]>;
  flags: string[];
  deviceCount: number;
  device: number;
  time: string;
  packetHex: string;
  /** The prior state per table, and the state the NF left. */
  state: Record<string, CxTable>;
  nfDid: { action: string; device?: number; outputHex?: string };
  /** What the reference spec expects (absent for property goals). */
  specExpected?: {
    action: string;
    device?: number;
    /** Output fields the spec sets, "ipv4.src" -> decimal value or "any". */
    fields?: Record<string, string>;
    checksumsValid?: boolean;
    /** The state the spec expects, at the same indexes as state[t].after. */
    state?: Record<string, CxTableAfter>;
  };
  failedParts: string[];
  /** The packet as a pcapng (deviceCount interfaces, the packet on its device at its time), next to file. */
  pcapng?: string;
  file?: string;
}

function num(m: Model<"main">, e: BV): bigint {
  const v = m.eval(e, true);
  const s = v.toString();
  if (s.startsWith("#x")) return BigInt("0x" + s.slice(2));
  if (s.startsWith("#b")) return BigInt("0b" + s.slice(2));
  return BigInt(s);
}
function truth(m: Model<"main">, e: B): boolean {
  return m.eval(e, true).toString() === "true";
}
/** A spec value in the model: a decimal integer (spec integers are W-bit signed) or "any". */
function specValue(m: Model<"main">, v: SVal): string {
  if (v.k === "any") return "any";
  if (v.k !== "int") return "?";
  const x = num(m, v.e);
  return String(x >= 1n << BigInt(W - 1) ? x - (1n << BigInt(W)) : x);
}

/** Re-solves the failing goal with extra "small and replayable" constraints when possible. */
async function replayFriendlyModel(prover: Prover, goal: Goal): Promise<Model<"main">> {
  const b = prover.b;
  const inp = prover.inputs;
  const baseScopes = prover.solver.numScopes();
  const small: B[][] = [];
  const tables = [...inp.tables.values()];
  // The trace binary's device MACs, so that the recorded output bytes are the binary's.
  small.push(Array.from({ length: MAX_DEVICES }, (_, d) => inp.deviceMac(b.val(d, 16)).eq(b.val(traceDeviceMac(d), 64))));
  /** How many distinct indexes looked at in `t` satisfy `holds`. */
  const countTouched = (t: (typeof tables)[number], holds: (i: BV) => B) =>
    t.touched.map((i, k) => b.ite(b.and(holds(i), ...t.touched.slice(0, k).map((j) => b.not(i.eq(j)))), b.val(1, 32), b.val(0, 32))).reduce((x, y) => x.add(y), b.val(0, 32));
  const expired = (t: (typeof tables)[number]) => (i: BV) => b.and(t.alloc(i), inp.time.sub(t.time(i)).ugt(t.exp));
  const alive = (t: (typeof tables)[number]) => (i: BV) => b.and(t.alloc(i), inp.time.sub(t.time(i)).ule(t.exp));
  // The model's size after expiry is a free term (at most the size): expiry as replay can seed it
  // has the entries looked at expire by their times, and removes entries nobody looked at only when
  // some time is old enough (now > expiration; replay seeds those fillers idle since time 0).
  for (const t of tables) {
    const left = prover.interp.ops.expire(t, inp.time).size;
    const gone = countTouched(t, expired(t));
    small.unshift([left.uge(countTouched(t, alive(t))), left.add(gone).ule(t.size), b.or(left.add(gone).eq(t.size), inp.time.ugt(t.exp))]);
  }
  // Preferably no entry nobody looked at expires (replay's fillers then are all fresh, and the
  // binary's next add takes the index replay puts on top of its free stack).
  small.push(tables.map((t) => prover.interp.ops.expire(t, inp.time).size.add(countTouched(t, expired(t))).eq(t.size)));
  // A flood is only visible on the binary with at least 3 devices (1: nobody to send to; 2: one copy).
  if (goal.path.action.kind === "flood") small.push([inp.deviceCount.uge(b.val(3, 16))]);
  small.push([inp.len.ule(b.val(128, 16))]);
  small.push(tables.map((t) => t.cap.ule(b.val(4, 32))));
  small.push(tables.flatMap((t) => t.touched.map((i) => b.implies(t.alloc(i), i.ule(b.val(3, 32))))));
  small.push(tables.flatMap((t) => goal.path.added.map((a) => b.implies(a.present, a.index.ule(b.val(3, 32))))));
  small.push([inp.time.ule(b.val(1n << 40n, 64))]);
  small.push(tables.flatMap((t) => [t.exp.ule(b.val(1n << 36n, 64)), t.exp.uge(b.val(2, 64))]));
  // Realizable sizes: the distinct allocated indexes looked at fit in the size, and the distinct
  // free ones below the capacity fit in what the size leaves free.
  for (const t of tables) {
    if (t.touched.length > 0) small.unshift([countTouched(t, (i) => t.alloc(i)).ule(t.size), countTouched(t, (i) => b.and(b.not(t.alloc(i)), i.ult(t.cap))).add(t.size).ule(t.cap)]);
  }
  // Least important: no entry looked at expires (the binary's add then takes the index replay
  // puts on top of its free stack, which is the one recorded).
  small.push(tables.flatMap((t) => t.touched.map((i) => b.implies(t.alloc(i), inp.time.sub(t.time(i)).ule(t.exp)))));
  // All preferences at once (the usual case), else greedily in priority order: each group is kept
  // when the goal's violation stays satisfiable with it and the groups kept before it.
  prover.solver.push();
  try {
    for (const c of goal.path.pc) prover.solver.add(c);
    for (const c of goal.assume ?? []) prover.solver.add(c);
    prover.solver.add(b.not(goal.cond));
    // The answer is the model of the last satisfiable check.
    let model: Model<"main"> | undefined;
    const check = async () => {
      const r = await prover.solver.check();
      if (r === "sat") model = prover.solver.model();
      return r;
    };
    prover.solver.push();
    for (const g of small) for (const c of g) prover.solver.add(c);
    if ((await check()) === "sat") return model!;
    prover.solver.pop();
    for (const g of small) {
      prover.solver.push();
      for (const c of g) prover.solver.add(c);
      if ((await check()) !== "sat") prover.solver.pop();
    }
    if (model !== undefined) return model;
    const r = await check();
    if (r !== "sat") throw new Error(`the counterexample disappeared (Z3 now says ${r} of the failed goal)`);
    return model!;
  } finally {
    // Back to the prover's base level (every push above is undone).
    while (prover.solver.numScopes() > baseScopes) prover.solver.pop();
  }
}

export async function extractCounterexample(prover: Prover, goal: Goal, group: string, dir = "build/counterexamples"): Promise<Counterexample> {
  const m = await replayFriendlyModel(prover, goal);
  const inp = prover.inputs;
  const nf = prover.nf;
  const deviceCount = Number(num(m, inp.deviceCount));
  const config: Record<string, string | string[]> = {};
  const flags: string[] = [];
  const fmt = (kind: string, v: bigint): string => (kind === "ipv4" ? formatIpv4(Number(v)) : kind === "mac" ? formatMac(v) : kind === "duration" ? `${v}ns` : kind === "bool" ? String(v !== 0n) : String(v));
  for (const [name, c] of inp.cfg) {
    const f = c.field;
    if (c.value) {
      const s = fmt(f.kind, num(m, c.value));
      config[name] = s;
      flags.push(`--${f.flag}`, s);
    } else {
      const vals: string[] = [];
      for (let d = 0; d < deviceCount; d++) {
        const s = fmt(f.kind, num(m, inp.configAt(name, prover.b.val(d, 16))));
        vals.push(s);
        flags.push(`--${f.flag}`, `${d},${s}`);
      }
      config[name] = vals;
    }
  }
  const len = Number(num(m, inp.len));
  const bytes = (arr: typeof inp.pkt) => {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = Number(num(m, arr.select(prover.b.val(i, 16)) as BV));
    return out;
  };
  const packet = bytes(inp.pkt);
  const p = goal.path;
  const state: Counterexample["state"] = {};
  const entryAt = (t: TableView, i: BV, index: number): CxEntry | null =>
    truth(m, t.alloc(i)) ? { index, key: Object.fromEntries(Object.entries(t.key(i)).map(([n, e]) => [n, String(num(m, e))])), time: String(num(m, t.time(i))) } : null;
  /** A table at the recorded indexes (first term of each index value). */
  const view = (t: TableView, at: Map<number, BV>): CxTableAfter => ({
    size: Number(num(m, t.size)),
    at: Object.fromEntries([...at].map(([index, i]) => [String(index), entryAt(t, i, index)])),
  });
  const indexTerms = new Map<string, Map<number, BV>>();
  for (const [name, t] of inp.tables) {
    const terms = new Map<number, BV>();
    for (const i of [...t.touched, ...p.added.filter((a) => truth(m, a.present)).map((a) => a.index)]) {
      const index = Number(num(m, i));
      if (!terms.has(index)) terms.set(index, i);
    }
    indexTerms.set(name, terms);
    const entries: CxEntry[] = [];
    const free: number[] = [];
    for (const i of t.touched) {
      const index = Number(num(m, i));
      if (entries.some((e) => e.index === index) || free.includes(index)) continue;
      const e = entryAt(t, i, index);
      if (e) entries.push(e);
      else if (index < Number(num(m, t.cap))) free.push(index);
    }
    const absentKeys = t.touchedKeys
      .filter((k) => !truth(m, t.find(k).present))
      .map((k) => Object.fromEntries(Object.entries(k).map(([n, e]) => [n, String(num(m, e))])));
    const added = p.added.find((a) => truth(m, a.present));
    const choice = prover.interp.choiceVars.get(name);
    state[name] = {
      entries: entries.sort((a, c) => a.index - c.index),
      free: free.sort((a, c) => a - c),
      absentKeys,
      size: Number(num(m, t.size)),
      sizeAfterExpiry: Number(num(m, prover.interp.ops.expire(t, inp.time).size)),
      capacity: Number(num(m, t.cap)),
      expiration: String(num(m, t.exp)),
      addedIndex: added ? Number(num(m, added.index)) : undefined,
      specChoiceIndex: choice !== undefined && goal.outcomes !== undefined ? Number(num(m, choice)) : undefined,
      after: view(p.tables.get(name)!, terms),
    };
  }
  const nfDid: Counterexample["nfDid"] = { action: p.action.kind };
  if (p.action.kind === "forward") nfDid.device = Number(num(m, p.action.dev));
  if (p.action.kind !== "drop") nfDid.outputHex = Buffer.from(bytes(p.pkt)).toString("hex");
  let specExpected: Counterexample["specExpected"];
  for (const o of goal.outcomes ?? []) {
    const v = o.value;
    if (v.k !== "expected" || !truth(m, o.guard)) continue;
    specExpected = { action: v.action };
    if (v.action === "forward") specExpected.device = Number(num(m, v.device));
    const fields: Record<string, string> = {};
    for (const [group, g] of Object.entries(v.rewrite)) {
      if (group === "checksums") specExpected.checksumsValid = g.k === "str" && g.s === "valid";
      else if (g.k === "obj") for (const [f, x] of Object.entries(g.f)) fields[`${group}.${f}`] = specValue(m, x);
    }
    if (v.action !== "drop") specExpected.fields = fields;
    specExpected.state = Object.fromEntries([...inp.tables].map(([name, t]) => [name, view(v.state?.[name] ?? t, indexTerms.get(name)!)]));
  }
  const failedParts = (goal.parts ?? []).filter((x) => !truth(m, x.cond)).map((x) => x.what);
  const cx: Counterexample = {
    nf: nf.name,
    nfFile: nf.file,
    goal: goal.message,
    group,
    summary: `${group}: ${goal.message}${goal.loc ? ` (${path.relative(process.cwd(), goal.loc.file)}:${goal.loc.line})` : ""}`,
    location: goal.loc ? { file: goal.loc.file, line: goal.loc.line } : undefined,
    config,
    flags,
    deviceCount,
    device: Number(num(m, inp.device)),
    time: String(num(m, inp.time)),
    packetHex: Buffer.from(packet).toString("hex"),
    state,
    nfDid,
    specExpected,
    failedParts,
  };
  fs.mkdirSync(dir, { recursive: true });
  const slug = group.replace(/^property /, "").replace(/[^a-zA-Z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
  const file = path.join(dir, `${nf.name}-${slug}.json`);
  cx.file = file;
  const pcapng = file.replace(/\.json$/, ".pcapng");
  fs.writeFileSync(pcapng, writePcapng(deviceCount, [{ device: cx.device, timeNs: BigInt(cx.time), data: packet }]));
  cx.pcapng = path.basename(pcapng);
  fs.writeFileSync(file, JSON.stringify(cx, null, 2) + "\n");
  return cx;
}
