/**
 * Counterexamples: a concrete configuration, prior state, time and packet (from a Z3 model) on
 * which the NF breaks a goal; decoded for a human and written as a JSON file + a pcapng of the
 * packet, which `vigorc replay` runs on the compiled trace binary.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Model } from "z3-solver";
import { formatIpv4, formatMac } from "../../dsl/config.ts";
import type { Goal, Prover } from "./prove.ts";
import type { BV, B } from "./z3.ts";

export interface CxEntry {
  index: number;
  key: Record<string, string>;
  time: string;
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
  /** Entries before the packet (before expiry), per table, and the table sizes. */
  state: Record<string, { entries: CxEntry[]; size: number; sizeAfterExpiry?: number; capacity: number; expiration: string }>;
  nfDid: { action: string; device?: number; outputHex?: string };
  specExpected?: { action: string; device?: number };
  failedParts: string[];
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

/** Re-solves the failing goal with extra "small and replayable" constraints when possible. */
async function replayFriendlyModel(prover: Prover, goal: Goal): Promise<Model<"main">> {
  const b = prover.b;
  const inp = prover.inputs;
  const small: B[][] = [];
  const tables = [...inp.tables.values()];
  small.push([inp.len.ule(b.val(128, 16))]);
  small.push(tables.map((t) => t.cap.ule(b.val(4, 32))));
  small.push(tables.flatMap((t) => t.touched.map((i) => b.implies(t.alloc(i), i.ule(b.val(3, 32))))));
  small.push(tables.flatMap((t) => goal.path.added.map((a) => b.implies(a.present, a.index.ule(b.val(3, 32))))));
  small.push([inp.time.ule(b.val(1n << 40n, 64))]);
  small.push(tables.flatMap((t) => [t.exp.ule(b.val(1n << 36n, 64)), t.exp.uge(b.val(2, 64))]));
  // Realizable sizes: the distinct allocated indexes looked at fit in the size.
  for (const t of tables) {
    const terms = t.touched;
    const distinct = terms.map((i, k) => b.and(t.alloc(i), ...terms.slice(0, k).map((j) => b.not(i.eq(j)))));
    if (distinct.length > 0) {
      const count = distinct.map((d) => b.ite(d, b.val(1, 32), b.val(0, 32))).reduce((x, y) => x.add(y));
      small.unshift([count.ule(t.size)]);
    }
  }
  let active = small;
  for (;;) {
    prover.solver.push();
    for (const c of goal.path.pc) prover.solver.add(c);
    for (const c of goal.assume ?? []) prover.solver.add(c);
    prover.solver.add(b.not(goal.cond));
    for (const g of active) for (const c of g) prover.solver.add(c);
    const r = await prover.solver.check();
    const m = r === "sat" ? prover.solver.model() : undefined;
    prover.solver.pop();
    if (m) return m;
    if (active.length === 0) throw new Error("the counterexample disappeared");
    active = active.slice(0, -1);
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
  const state: Counterexample["state"] = {};
  for (const [name, t] of inp.tables) {
    const seen = new Map<number, CxEntry>();
    for (const i of t.touched) {
      const index = Number(num(m, i));
      if (seen.has(index) || !truth(m, t.alloc(i))) continue;
      const key = Object.fromEntries(Object.entries(t.key(i)).map(([n, e]) => [n, String(num(m, e))]));
      seen.set(index, { index, key, time: String(num(m, t.time(i))) });
    }
    state[name] = {
      entries: [...seen.values()].sort((a, c) => a.index - c.index),
      size: Number(num(m, t.size)),
      capacity: Number(num(m, t.cap)),
      expiration: String(num(m, t.exp)),
    };
  }
  const p = goal.path;
  const nfDid: Counterexample["nfDid"] = { action: p.action.kind };
  if (p.action.kind === "forward") nfDid.device = Number(num(m, p.action.dev));
  if (p.action.kind !== "drop") nfDid.outputHex = Buffer.from(bytes(p.pkt)).toString("hex");
  let specExpected: Counterexample["specExpected"];
  for (const o of goal.outcomes ?? []) {
    if (o.value.k === "expected" && truth(m, o.guard)) {
      specExpected = { action: o.value.action };
      if (o.value.action === "forward") specExpected.device = Number(num(m, o.value.device));
    }
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
  fs.writeFileSync(file, JSON.stringify(cx, null, 2) + "\n");
  return cx;
}
