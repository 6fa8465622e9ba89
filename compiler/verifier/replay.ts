/**
 * `vigorc replay <nf.ts> <counterexample.json>`: runs a counterexample written by `vigorc verify`
 * on the NF's compiled trace binary, started in the counterexample's prior state, and says whether
 * the binary shows the violation.
 *
 * The prior state is rebuilt through the structures' own operations (runtime-c/shells/trace_state.h):
 * a fresh table hands out indexes 0, 1, 2, ... and a removed index is the next one handed out (LIFO),
 * so dummy entries are added up to the highest index needed, each recorded entry replaces its dummy
 * in time order (that gives the age order), and the remaining dummies are removed last, the one the
 * NF's next add must get removed last of all. Entries the verifier did not look at (the table holds
 * `size` entries) are filler keys that cannot match the packet: fresh (refreshed at the packet's
 * time), except as many as the model's expiry removes besides the entries looked at, which are
 * idle since time 0 (idleFillers).
 *
 * Exit: 1 reproduced (the binary violates the spec, or for an obligation/property counterexample,
 * does exactly what the verifier recorded), 0 not reproduced, 2 bad input, 3 internal error.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatIpv4, formatMac } from "../../dsl/config.ts";
import { Packet } from "../../dsl/packet.ts";
import { readPcapng, writePcapng } from "../../dsl/pcapng.ts";
import { build, EXIT, parseArgs, PACKET_DIR, UsageError } from "../cli/main.ts";
import { RUNTIME_C_DIR } from "../cli/link.ts";
import { emitC } from "../codegen/emit-c.ts";
import { compileNf, formatDiagnostic } from "../frontend/index.ts";
import type { NfModule, RecordDecl } from "../ir/ir.ts";
import type { Counterexample, CxEntry, CxTable, CxTableAfter } from "./counterexample.ts";
import { decodePacket } from "./report.ts";
import { expectedBytes } from "./spec-test.ts";
import { any, type Rewrite } from "../../specs/lib/spec.ts";

/** A table as the binary left it: entries by index, and its size. */
interface TableDump {
  size: number;
  entries: Map<number, { time: string; key: string[] }>;
}

interface BinaryResult {
  action: "drop" | "forward" | "flood";
  device?: number;
  output?: Uint8Array;
  tables: Map<string, TableDump>;
}

class BadCounterexample extends Error {}

export async function replay(args: string[]): Promise<number> {
  const { positional, options } = parseArgs(args, ["--build-dir"], ["--quiet"]);
  const [nfFile, cxFile] = positional;
  if (!nfFile || !cxFile || positional.length > 2) throw new UsageError("usage: vigorc replay <nf.ts> <counterexample.json>");
  if (!fs.existsSync(nfFile)) throw new UsageError(`${nfFile}: no such file`);
  if (!fs.existsSync(cxFile)) throw new UsageError(`${cxFile}: no such file`);
  const fe = compileNf(nfFile);
  if (!fe.module || fe.diagnostics.length > 0) {
    for (const d of fe.diagnostics) console.error(formatDiagnostic(d) + "\n");
    console.error(`vigorc replay: ${nfFile}: the NF does not compile`);
    return EXIT.badInput;
  }
  const nf = fe.module;
  let cx: Counterexample;
  try {
    cx = loadCounterexample(cxFile, nf);
  } catch (e) {
    if (e instanceof BadCounterexample) {
      console.error(`vigorc replay: ${e.message}`);
      return EXIT.badInput;
    }
    throw e;
  }
  const binary = await traceBinary(nfFile, nf, options.get("--build-dir")?.[0] ?? path.join("build", "replay"));
  if (binary === undefined) return EXIT.internal;

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "vigorc-replay-"));
  try {
    const plan = statePlan(cx, nf);
    fs.writeFileSync(path.join(work, "state.txt"), plan.text);
    fs.writeFileSync(path.join(work, "in.pcapng"), writePcapng(cx.deviceCount, [{ device: cx.device, timeNs: BigInt(cx.time), data: Buffer.from(cx.packetHex, "hex") }]));
    const { execa } = await import("execa");
    const run = await execa(binary, [path.join(work, "in.pcapng"), path.join(work, "out.pcapng"), ...cx.flags, "--state", path.join(work, "state.txt"), "--state-out", path.join(work, "after.txt")], { reject: false });
    if (run.exitCode !== 0) {
      const why = String(run.stderr || run.shortMessage).trim();
      if (run.exitCode === 1 || run.exitCode === 2) {
        console.error(`vigorc replay: ${cxFile}: the trace binary of ${nfFile} refuses this counterexample (exit ${run.exitCode}): ${why}`);
        console.error(`(was the counterexample found for another NF or configuration? it records ${cx.nfFile})`);
        return EXIT.badInput;
      }
      console.error(`vigorc replay: internal error: the trace binary failed (exit ${run.exitCode ?? "?"}): ${why}`);
      return EXIT.internal;
    }
    const result = binaryResult(cx, fs.readFileSync(path.join(work, "out.pcapng")), fs.readFileSync(path.join(work, "after.txt"), "utf8"));
    return report(cx, cxFile, binary, plan.summary, result, nf, options.has("--quiet"));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------- input

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  return `${line}:${pos - before.lastIndexOf("\n")}`;
}

/** Reads and checks a counterexample file against the NF; errors name the file and the field. */
export function loadCounterexample(file: string, nf: NfModule): Counterexample {
  const text = fs.readFileSync(file, "utf8");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    throw new BadCounterexample(`${file}:${pos ? lineCol(text, Number(pos[1])) : "1:1"}: not valid JSON (${msg})`);
  }
  const where = (field: string) => `${file}:${fieldLine(text, field)}`;
  const need = (ok: boolean, field: string, what: string) => {
    if (!ok) throw new BadCounterexample(`${where(field)}: '${field}' ${what} (is this a counterexample written by vigorc verify?)`);
  };
  const o = raw as Record<string, unknown>;
  need(typeof raw === "object" && raw !== null && !Array.isArray(raw), "nf", "missing: the file is not a JSON object");
  const isUint = (v: unknown) => typeof v === "string" && /^\d+$/.test(v);
  need(Array.isArray(o["flags"]) && (o["flags"] as unknown[]).every((f) => typeof f === "string"), "flags", "must be a list of strings");
  need(Number.isInteger(o["deviceCount"]) && (o["deviceCount"] as number) >= 1 && (o["deviceCount"] as number) <= 32, "deviceCount", "must be an integer in 1..32");
  need(Number.isInteger(o["device"]) && (o["device"] as number) >= 0 && (o["device"] as number) < (o["deviceCount"] as number), "device", "must be a device number below deviceCount");
  need(isUint(o["time"]), "time", "must be a decimal string (ns)");
  need(typeof o["packetHex"] === "string" && /^([0-9a-f]{2})*$/i.test(o["packetHex"] as string), "packetHex", "must be an even-length hex string");
  const did = o["nfDid"] as Record<string, unknown> | undefined;
  need(typeof did === "object" && did !== null && ["drop", "forward", "flood"].includes(did["action"] as string), "nfDid", "must say what the NF did (action drop, forward or flood)");
  need(typeof o["state"] === "object" && o["state"] !== null, "state", "must be an object (one entry per table)");
  for (const [name, t] of Object.entries(o["state"] as Record<string, CxTable>)) {
    const decl = nf.state.find((d) => d.name === name);
    need(decl?.kind === "FlowTable", "state", `names table '${name}', which ${nf.name} (${nf.file}) does not declare as a FlowTable`);
    const rec = nf.records.find((r) => r.name === decl!.record)!;
    need(Array.isArray(t.entries) && Number.isInteger(t.size) && Number.isInteger(t.capacity), name, "must have entries, size and capacity");
    need(t.capacity >= 1 && t.capacity <= 1 << 24 && t.size >= t.entries.length && t.size <= t.capacity, name, "has a size or capacity that no table can have");
    need(typeof t.after === "object" && t.after !== null && typeof t.after.at === "object", name, "must record the state after the packet ('after')");
    for (const e of [...t.entries, ...Object.values(t.after?.at ?? {}).filter((x): x is CxEntry => x !== null)]) {
      need(Number.isInteger(e.index) && e.index >= 0 && e.index < t.capacity && isUint(e.time), name, `has an entry with a bad index or time (index ${String(e.index)})`);
      const fields = rec.fields.map((f) => f.name);
      need(
        typeof e.key === "object" && Object.keys(e.key).sort().join() === [...fields].sort().join() && Object.values(e.key).every(isUint),
        name,
        `has a key whose fields are not ${rec.name}'s (${fields.join(", ")}): the counterexample is for another NF`,
      );
    }
  }
  return raw as Counterexample;
}

/** The line of the first `"field"` in the JSON text (1 when absent), for located messages. */
function fieldLine(text: string, field: string): string {
  const at = text.indexOf(`"${field}"`);
  return at < 0 ? "1:1" : lineCol(text, at);
}

// ------------------------------------------------------------------------------- the binary

/** Every file the trace binary is made of besides the generated C (for the cache key). */
function runtimeFiles(): string[] {
  const dirs = ["shells", "structures", "packet"].map((d) => path.join(RUNTIME_C_DIR, d));
  return dirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((f) => /\.[ch]$/.test(f)).sort().map((f) => path.join(d, f)) : []));
}

/** The NF's trace binary, built once per (generated C, runtime) in buildDir. */
async function traceBinary(nfFile: string, nf: NfModule, buildDir: string): Promise<string | undefined> {
  const h = createHash("sha256").update(emitC(nf));
  for (const f of runtimeFiles()) h.update(f).update(fs.readFileSync(f));
  const out = path.resolve(buildDir, `${nf.name}-${h.digest("hex").slice(0, 16)}`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(buildDir, { recursive: true });
  // Built under a private name then renamed: concurrent replays of the same NF do not collide.
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    const r = await build(nfFile, "trace", tmp);
    if (!r) return undefined;
    fs.renameSync(tmp, out);
    return out;
  } catch (e) {
    console.error(`vigorc replay: internal error: building the trace binary of ${nfFile} failed: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  } finally {
    fs.rmSync(`${tmp}.gen`, { recursive: true, force: true });
  }
}

/**
 * The operations that rebuild the prior state (see the module comment and trace_state.h):
 * `add TABLE TIME INDEX V1..Vn` / `remove TABLE INDEX`, in an order whose times never decrease.
 */
export function statePlan(cx: Counterexample, nf: NfModule): { text: string; summary: string[] } {
  const lines: string[] = ["# vigorc replay: the prior state of " + (cx.file ?? "a counterexample")];
  const summary: string[] = [];
  const now = BigInt(cx.time);
  interface Item {
    table: string;
    index: number;
    time: bigint;
    key: bigint[];
  }
  const items: Item[] = [];
  const tail: string[] = [];
  let t0 = now;
  const dummyPhase: string[] = [];
  for (const [name, t] of Object.entries(cx.state)) {
    const rec = recordOf(nf, name);
    const values = (k: Record<string, string>) => rec.fields.map((f) => BigInt(k[f.name]!));
    const used = new Set<string>([...t.entries.map((e) => values(e.key).join()), ...(t.absentKeys ?? []).map((k) => values(k).join())]);
    let serial = 0n;
    // Keys unlike any real one: every field at its maximum minus a serial number.
    const freshKey = (): bigint[] => {
      for (;;) {
        const k = rec.fields.map((f) => ((1n << BigInt(f.type.width)) - 1n - serial) & ((1n << BigInt(f.type.width)) - 1n));
        serial++;
        if (!used.has(k.join())) {
          used.add(k.join());
          return k;
        }
      }
    };
    const next = t.addedIndex ?? t.specChoiceIndex;
    const reserved = new Set<number>([...t.entries.map((e) => e.index), ...(t.free ?? []).filter((i) => i < t.capacity), ...(next !== undefined && next < t.capacity ? [next] : [])]);
    const fillers: number[] = [];
    for (let i = 0; fillers.length < t.size - t.entries.length && i < t.capacity; i++) if (!reserved.has(i)) fillers.push(i);
    const top = Math.max(-1, ...reserved, ...fillers) + 1;
    const idle = idleFillers(cx, t) ?? 0;
    const fillerTime = (k: number) => (k < idle ? 0n : now);
    for (const e of t.entries) if (BigInt(e.time) < t0) t0 = BigInt(e.time);
    if (idle > 0) t0 = 0n;
    const dummies = Array.from({ length: top }, (_, i) => ({ i, key: freshKey() }));
    for (const d of dummies) dummyPhase.push(`add ${name} TIME0 ${d.i} ${d.key.join(" ")}`);
    for (const e of t.entries) items.push({ table: name, index: e.index, time: BigInt(e.time), key: values(e.key) });
    fillers.forEach((i, k) => items.push({ table: name, index: i, time: fillerTime(k), key: freshKey() }));
    const taken = new Set([...t.entries.map((e) => e.index), ...fillers]);
    const leftover = dummies.map((d) => d.i).filter((i) => !taken.has(i) && i !== next);
    for (const i of leftover) tail.push(`remove ${name} ${i}`);
    if (next !== undefined && next < top && !taken.has(next)) tail.push(`remove ${name} ${next}`);
    summary.push(
      `'${name}': ${entries(t.entries.length)} as recorded` +
        (fillers.length > 0 ? ` + ${fillers.length} filler${fillers.length === 1 ? "" : "s"} (size ${t.size}${idle > 0 ? `; ${idle} of them idle since time 0, which expiry removes as in the model` : ""})` : "") +
        `, capacity ${t.capacity}` +
        (next !== undefined ? `, next add index ${next}` : ""),
    );
  }
  lines.push(...dummyPhase.map((l) => l.replace("TIME0", String(t0))));
  items.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  for (const it of items) lines.push(`remove ${it.table} ${it.index}`, `add ${it.table} ${it.time} ${it.index} ${it.key.join(" ")}`);
  lines.push(...tail);
  return { text: lines.join("\n") + "\n", summary };
}

/** How many of the entries looked at are idle for longer than the expiration at the packet's time. */
function expiredEntries(cx: Counterexample, t: CxTable): number {
  return t.entries.filter((e) => BigInt(cx.time) - BigInt(e.time) > BigInt(t.expiration)).length;
}

/**
 * How many filler entries (those the verifier did not look at) replay seeds idle since time 0, so
 * that expiry at the packet's time leaves the model's size after expiry: the model's expiry may
 * remove entries nobody looked at. Undefined when no seeding gives that size (more entries gone
 * than there are fillers, fewer than the entries looked at that expire, or fillers that cannot be
 * idle long enough because the packet's time is within the expiration).
 */
export function idleFillers(cx: Counterexample, t: CxTable): number | undefined {
  if (t.sizeAfterExpiry === undefined) return 0;
  const idle = t.size - t.sizeAfterExpiry - expiredEntries(cx, t);
  if (idle < 0 || idle > t.size - t.entries.length || (idle > 0 && BigInt(cx.time) <= BigInt(t.expiration))) return undefined;
  return idle;
}

/** A key given as its record's field values in declaration order, for a human (addresses dotted). */
function formatKey(rec: RecordDecl, values: string[]): string {
  return rec.fields.map((f, i) => `${f.name}=${/ip$/i.test(f.name) ? formatIpv4(Number(values[i])) : values[i]}`).join(" ");
}

function entries(n: number): string {
  return `${n} entr${n === 1 ? "y" : "ies"}`;
}

function recordOf(nf: NfModule, table: string): RecordDecl {
  const decl = nf.state.find((d) => d.name === table)!;
  return nf.records.find((r) => r.name === decl.record)!;
}

function binaryResult(cx: Counterexample, outPcapng: Uint8Array, dump: string): BinaryResult {
  const outs = readPcapng(outPcapng).packets;
  const tables = new Map<string, TableDump>();
  let cur: TableDump | undefined;
  for (const line of dump.split("\n")) {
    const w = line.trim().split(/\s+/);
    if (w[0] === "table") {
      cur = { size: Number(w[3]), entries: new Map() };
      tables.set(w[1]!, cur);
    } else if (w[0] === "entry" && cur) {
      cur.entries.set(Number(w[1]), { time: w[2]!, key: w.slice(3) });
    }
  }
  // With one device the shell has nobody to flood to: a flood and a drop look the same.
  if (outs.length === 0) return { action: cx.nfDid.action === "flood" && cx.deviceCount === 1 ? "flood" : "drop", tables };
  if (outs.length === 1 && !(cx.nfDid.action === "flood" && cx.deviceCount === 2)) return { action: "forward", device: outs[0]!.device, output: outs[0]!.data, tables };
  return { action: "flood", output: outs[0]!.data, tables };
}

// ------------------------------------------------------------------------------- comparison

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

/** Differences between the binary's table and a recorded one, at the recorded indexes. */
function tableDiffs(name: string, rec: RecordDecl, got: TableDump | undefined, want: CxTableAfter | undefined): string[] {
  if (!got || !want) return [];
  const out: string[] = [];
  if (got.size !== want.size) out.push(`'${name}' has ${entries(got.size)}, not ${want.size}`);
  for (const [idx, w] of Object.entries(want.at)) {
    const g = got.entries.get(Number(idx));
    if (w === null && g) out.push(`'${name}'[${idx}] holds ${formatKey(rec, g.key)} (time ${g.time}), should be free`);
    else if (w !== null && !g) out.push(`'${name}'[${idx}] is free, should hold an entry with time ${w.time}`);
    else if (w !== null && g) {
      const wk = rec.fields.map((f) => w.key[f.name]!);
      if (wk.join() !== g.key.join()) out.push(`'${name}'[${idx}] holds ${formatKey(rec, g.key)}, should hold ${formatKey(rec, wk)}`);
      if (w.time !== g.time) out.push(`'${name}'[${idx}] has time ${g.time}, should have ${w.time}`);
    }
  }
  return out;
}

/** The rewrite a counterexample records the spec stating ("ipv4.src" -> decimal value or "any"), as the spec's Rewrite. */
function rewriteOf(fields: Record<string, string>, checksumsValid: boolean | undefined): Rewrite {
  const groups: Record<string, Record<string, bigint | typeof any>> = {};
  for (const [name, value] of Object.entries(fields)) {
    const [group, field] = name.split(".") as [string, string];
    (groups[group] ??= {})[field] = value === "any" ? any : BigInt(value);
  }
  return { ...groups, ...(checksumsValid ? { checksums: "valid" } : {}) } as Rewrite;
}

function describe(action: string, device: number | undefined): string {
  return action === "forward" ? `forward to device ${device}` : action;
}

function report(cx: Counterexample, cxFile: string, binary: string, seeded: string[], r: BinaryResult, nf: NfModule, quiet: boolean): number {
  const log = (s: string) => {
    if (!quiet) console.log(s);
  };
  const input = Buffer.from(cx.packetHex, "hex");
  log(`replaying ${cxFile}`);
  log(`  ${cx.summary}`);
  log(`  on ${path.relative(process.cwd(), binary)} (trace binary of ${path.relative(process.cwd(), nf.file)})`);
  log(`  configuration: ${cx.flags.join(" ")}  (${cx.deviceCount} device${cx.deviceCount === 1 ? "" : "s"})`);
  for (const s of seeded) log(`  prior state seeded: ${s}`);
  log(`  packet at time ${cx.time} on device ${cx.device}: ${decodePacket(input).join("\n  ")}`);
  log(`\n  the binary: ${describe(r.action, r.device)}${r.action === "flood" && cx.deviceCount < 3 ? ` (with ${cx.deviceCount} device${cx.deviceCount === 1 ? ", a flood sends nothing" : ", a flood is one copy"})` : ""}`);
  if (r.output) log(`    output ${decodePacket(r.output).join("\n    ")}`);
  for (const [name, t] of r.tables) {
    const rec = recordOf(nf, name);
    const at = Object.keys(cx.state[name]?.after.at ?? {}).map(Number);
    const shown = [...t.entries].filter(([i]) => at.includes(i));
    log(`    state '${name}' after: ${entries(t.size)}${shown.length > 0 ? "; at the recorded indexes:" : ""}`);
    for (const [i, e] of shown) log(`      [${i}] ${formatKey(rec, e.key)} time ${e.time}`);
  }

  // Against what the verifier recorded of the NF.
  const recordedDiffs: string[] = [];
  if (r.action !== cx.nfDid.action || (r.action === "forward" && r.device !== cx.nfDid.device)) recordedDiffs.push(`action: ${describe(r.action, r.device)}, recorded ${describe(cx.nfDid.action, cx.nfDid.device)}`);
  else if (cx.nfDid.outputHex !== undefined && !sameBytes(r.output, Buffer.from(cx.nfDid.outputHex, "hex"))) recordedDiffs.push("output bytes differ from the recorded ones");
  for (const [name, t] of Object.entries(cx.state)) recordedDiffs.push(...tableDiffs(name, recordOf(nf, name), r.tables.get(name), t.after));

  // Against the spec.
  let specDiffs: string[] | undefined;
  const exp = cx.specExpected;
  if (exp) {
    specDiffs = [];
    log(`  the spec expects: ${describe(exp.action, exp.device)}${exp.fields ? ` with ${Object.entries(exp.fields).map(([f, v]) => `${f}=${v === "any" ? "any" : /ipv4\.(src|dst)$/.test(f) ? formatIpv4(Number(v)) : /ethernet/.test(f) ? formatMac(BigInt(v)) : v}`).join(", ")}${exp.checksumsValid ? ", checksums updated" : ""}` : ""}`);
    const flood2 = exp.action === "flood" && r.action === "forward" && cx.deviceCount === 2 && r.device !== cx.device;
    if (!flood2 && (r.action !== exp.action || (exp.action === "forward" && r.device !== exp.device))) specDiffs.push(`action: ${describe(r.action, r.device)} instead of ${describe(exp.action, exp.device)}`);
    else if (exp.action !== "drop" && exp.fields) {
      const want = expectedBytes(new Packet(input), rewriteOf(exp.fields, exp.checksumsValid), r.output);
      if (want.problems.length > 0) specDiffs.push(...want.problems);
      else if (!sameBytes(r.output, want.bytes)) {
        specDiffs.push("output bytes differ from the expected ones");
        log(`    expected output (open fields as the binary sent them) ${decodePacket(want.bytes).join("\n    ")}`);
      }
    }
    for (const [name, t] of Object.entries(exp.state ?? {})) specDiffs.push(...tableDiffs(name, recordOf(nf, name), r.tables.get(name), t));
  }

  // What the binary can mirror: expiry removes the seeded entries idle for too long (see idleFillers).
  const unfaithful = Object.entries(cx.state).filter(([, t]) => idleFillers(cx, t) === undefined);
  log("");
  if (unfaithful.length > 0) {
    const [name, t] = unfaithful[0]!;
    const gone = expiredEntries(cx, t);
    console.log(
      `NOT REPRODUCIBLE: in the verifier's model, expiry leaves ${t.sizeAfterExpiry} of the ${t.size} entries of '${name}'; ` +
        `the ${t.entries.length} entries it looked at leave ${t.entries.length - gone}, and no times of the ${t.size - t.entries.length} others give that ` +
        `at time ${cx.time} with expiration ${t.expiration} (a verifier abstraction, not a bug shown).`,
    );
    return EXIT.ok;
  }
  if (specDiffs !== undefined) {
    if (specDiffs.length === 0) {
      console.log(`NOT REPRODUCED: the compiled binary does what the spec expects on this counterexample.`);
      if (recordedDiffs.length > 0) console.log(`  (it differs from what the verifier recorded of ${cx.nfFile}: ${recordedDiffs.join("; ")})`);
      return EXIT.ok;
    }
    console.log(`REPRODUCED: the compiled binary violates the spec: ${specDiffs.join("; ")}`);
    console.log(recordedDiffs.length === 0 ? `  (exactly the behaviour the verifier recorded)` : `  (differs from the verifier's record: ${recordedDiffs.join("; ")})`);
    return EXIT.failed;
  }
  // Obligation / property counterexamples: the recorded behaviour is the violation.
  if (recordedDiffs.length === 0) {
    console.log(`REPRODUCED: the compiled binary does exactly what the verifier recorded, which breaks ${cx.summary}`);
    return EXIT.failed;
  }
  console.log(`NOT REPRODUCED: the compiled binary does not do what the verifier recorded: ${recordedDiffs.join("; ")}`);
  return EXIT.ok;
}
