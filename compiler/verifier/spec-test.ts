/**
 * `vigorc test <nf.ts> IN.pcapng [--spec FILE] [--devices N] [NF flags...]`: runs the compiled trace
 * binary on a capture and checks every packet, one by one, against the reference spec executed
 * concretely (specs/lib/spec.ts is its semantics).
 *
 * The spec's abstract state starts empty (the abstract view of the NF's freshly created state) and
 * is carried from packet to packet: each packet's expected state becomes the next packet's state.
 * Where the spec leaves a choice open ("any free index" in Table.add), the choice is read back from
 * what the binary did (see resolveChoice); the packet is then checked against the spec run with that
 * choice, so a resolution can only make the spec agree with an output the spec allows.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { formatIpv4, formatMac } from "../../dsl/config.ts";
import { IPV4_CHECKSUM_OFFSET, IPV4_OFFSET, LAYOUTS, PROTOCOL_TCP, PROTOCOL_UDP, TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET, type FieldLayout } from "../../dsl/layout.ts";
import type { Context } from "../../dsl/nf.ts";
import { internetChecksum, Packet } from "../../dsl/packet.ts";
import { PcapngError, readPcapng, writePcapng, type ReadPacket } from "../../dsl/pcapng.ts";
import { configFromFlags, FlagError, MAX_DEVICES, traceDeviceMac, type ConfigValues, type NfDefinition } from "../../dsl/runner.ts";
import { setIndexChooser, Table, type Expected, type FreeIndexes, type Rewrite } from "../../specs/lib/spec.ts";
import { loadSpecFile } from "../frontend/spec.ts";
import { build, UsageError } from "../cli/main.ts";
import { CCompileError } from "../cli/link.ts";
import { decodePacket } from "./report.ts";
import { BadInput, formatDiagnostics } from "./verify.ts";
import { ROOT } from "./root.ts";

/** The trace shell drops longer packets without running the NF (runtime-c/shells/trace_shell.c). */
const MAX_PACKET_LEN = 65535;
/** How many entry indexes of a table a disagreement report lists. */
const SHOWN_INDEXES = 16;

export interface SpecTestOptions {
  nfFile: string;
  capture: string;
  /** Default: specs/<nf>.spec.ts next to the NF's folder. */
  specFile?: string;
  /** The NF's config flags, exactly as the trace binary takes them. */
  nfFlags?: string[];
  /** Device count; default: the interfaces the capture declares. */
  devices?: number;
  /** How many disagreements to keep in detail (default 5). */
  maxReported?: number;
}

/** One output record of the binary: the device it went out of and its bytes. */
export interface Sent {
  device: number;
  data: Uint8Array;
}

/** An entry of the spec's state that the spec looked at while deciding (for reports). */
export interface LookedAt {
  table: string;
  index: number;
  key: object;
  time: bigint;
}

export interface Disagreement {
  /** 1-based position in the capture (as Wireshark numbers frames). */
  packet: number;
  timeNs: bigint;
  device: number;
  input: Uint8Array;
  sent: Sent[];
  expected: Expected<object>;
  /** The packet the spec expects sent (open fields as the binary sent them, or as in the input when it sent nothing). */
  expectedOutput?: Uint8Array;
  differences: string[];
  /** Entries of the spec's state the spec read for this packet. */
  lookedAt: LookedAt[];
  /** Each table of the spec's state before the packet: its size and its first indexes. */
  tables: { name: string; size: number; indexes: number[] }[];
  /** Other packets with the same timestamp right next to this one: outputs are attributed by timestamp. */
  sharedTimestamp: number;
}

export interface SpecTestResult {
  nf: string;
  specFile: string;
  binary: string;
  deviceCount: number;
  flags: string[];
  /** Packets in the capture, packets checked (the rest are longer than the trace shell takes). */
  packets: number;
  checked: number;
  agreed: number;
  /** Packets per action the spec expected. */
  expectedActions: { drop: number; forward: number; flood: number };
  /** Open choices of the spec ("any free index") taken from the binary's output rather than the default (lowest free index). */
  choicesFromBinary: number;
  disagreements: number;
  first: Disagreement[];
  seconds: { build: number; binary: number; spec: number };
}

// ---------------------------------------------------------------------------------------- build

/** Every file whose content can change the trace binary of `nfFile`. */
function buildInputs(nfFile: string): string[] {
  const files = new Set<string>();
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|c|h|hbs)$/.test(e.name)) files.add(p);
    }
  };
  for (const d of ["dsl", "compiler/frontend", "compiler/ir", "compiler/codegen", "compiler/cli", "runtime-c/shells", "runtime-c/structures", "runtime-c/packet"]) walk(path.join(ROOT, d));
  // The NF and the local modules it imports (types, records), transitively.
  const pending = [path.resolve(nfFile)];
  while (pending.length > 0) {
    const f = pending.pop()!;
    if (files.has(f) || !fs.existsSync(f)) continue;
    files.add(f);
    for (const m of fs.readFileSync(f, "utf8").matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)) pending.push(path.resolve(path.dirname(f), m[1]!));
  }
  return [...files].sort();
}

/**
 * The trace binary of `nfFile`, built once per content under build/trace-cache/<nf>-<digest>/
 * (digest of the NF, its local imports, the compiler, the dsl, runtime-c and $CC). Undefined when the
 * frontend rejects the NF (its diagnostics are printed).
 */
export async function cachedTraceBinary(nfFile: string): Promise<string | undefined> {
  const h = createHash("sha256");
  h.update(process.env["CC"] ?? "");
  for (const f of buildInputs(nfFile)) h.update(f).update("\0").update(fs.readFileSync(f)).update("\0");
  const name = path.basename(nfFile).replace(/\.ts$/, "");
  const cacheDir = path.join(ROOT, "build", "trace-cache");
  const dir = path.join(cacheDir, `${name}-${h.digest("hex").slice(0, 16)}`);
  const binary = path.join(dir, `${name}-trace`);
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(cacheDir, { recursive: true });
  // Built in a private directory and renamed into place, so that concurrent runs never see half a binary.
  const tmp = fs.mkdtempSync(path.join(cacheDir, `.${name}-`));
  try {
    const r = await build(nfFile, "trace", path.join(tmp, `${name}-trace`));
    if (!r) return undefined;
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      if (!fs.existsSync(binary)) throw e; // else: another run put the same binary there first
    }
    // Older builds of the same NF are stale: keep one per NF name (a build of another NF whose name
    // extends this one, e.g. nat-x for nat, has a name that is not followed by the digest alone).
    const stale = new RegExp(`^${name.replace(/[^a-zA-Z0-9]/g, "\\$&")}-[0-9a-f]{16}$`);
    for (const d of fs.readdirSync(cacheDir)) {
      if (stale.test(d) && path.join(cacheDir, d) !== dir) fs.rmSync(path.join(cacheDir, d), { recursive: true, force: true });
    }
    return binary;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------- spec running

type AbstractState = Record<string, Table<object>>;
type SpecFn = (pkt: Packet, ctx: Context, cfg: ConfigValues, st: AbstractState) => Expected<AbstractState>;

/** A Table.add call of the spec: the table's free indexes, and the index it got. */
interface Choice {
  free: FreeIndexes;
  index: number;
}

interface SpecRun {
  expected: Expected<AbstractState>;
  choices: Choice[];
}

/** The abstract view of the NF's initial state: each FlowTable becomes an empty Table. */
function initialState(nf: NfDefinition, cfg: ConfigValues): AbstractState {
  const concrete = nf.state ? (nf.state as (c: ConfigValues) => Record<string, unknown>)(cfg) : {};
  const out: AbstractState = {};
  for (const [name, s] of Object.entries(concrete)) {
    const t = s as { entries?: unknown; capacity?: unknown; expiration?: unknown };
    if (typeof t.entries !== "function" || typeof t.capacity !== "number" || typeof t.expiration !== "bigint") {
      throw new BadInput(`state '${name}' is not a FlowTable: specs (and vigorc test) see FlowTables only`);
    }
    out[name] = Table.fromFlowTable(s as never);
  }
  return out;
}

/**
 * Wraps the tables of a state so that every entry the spec finds (find, at) is recorded: used to
 * show, for a disagreement, which flows the spec based its decision on.
 */
function recording(st: AbstractState, seen: LookedAt[]): AbstractState {
  const wrap = (name: string, t: Table<object>): Table<object> =>
    new Proxy(t, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          const r: unknown = (v as (...a: unknown[]) => unknown).apply(target, args);
          if ((prop === "find" || prop === "at") && r !== undefined) {
            const e = r as { index: number; key: object; time: bigint };
            seen.push({ table: name, index: e.index, key: e.key, time: e.time });
          }
          if (r instanceof Table) return wrap(name, r);
          if (r !== null && typeof r === "object" && "table" in r && r.table instanceof Table) return { ...r, table: wrap(name, r.table) };
          return r;
        };
      },
    });
  return Object.fromEntries(Object.entries(st).map(([n, t]) => [n, wrap(n, t)]));
}

class SpecCrash extends Error {}

/** Runs the spec on one packet; `pick` chooses the index of each add() (default: the lowest free one). */
function runSpec(spec: SpecFn, data: Uint8Array, ctx: Context, cfg: ConfigValues, st: AbstractState, pick?: (free: FreeIndexes) => number): SpecRun {
  const choices: Choice[] = [];
  setIndexChooser((free) => {
    const index = pick ? pick(free) : free.lowest();
    choices.push({ free, index });
    return index;
  });
  try {
    const expected = spec(new Packet(new Uint8Array(data)), ctx, cfg, st);
    if (expected === null || typeof expected !== "object" || !["drop", "forward", "flood"].includes(expected.action)) {
      throw new SpecCrash("the spec returned something other than drop(...), forward(...) or flood(...)");
    }
    return { expected, choices };
  } catch (e) {
    if (e instanceof SpecCrash) throw e;
    throw new SpecCrash(e instanceof Error ? e.message : String(e));
  } finally {
    setIndexChooser((free) => free.lowest());
  }
}

// ------------------------------------------------------------------------------------- comparing

type Group = keyof Omit<Rewrite, "checksums">;

/** Where a rewritable field lives in this packet (undefined: the packet lacks the header). */
interface FieldPlace {
  name: string;
  at: number;
  layout: FieldLayout;
}

function headerStarts(input: Packet): { ethernet?: number; ipv4?: number; tcp?: number; udp?: number } {
  const ip = input.ipv4();
  const l4 = ip === undefined ? 0 : IPV4_OFFSET + ip.ihl * 4;
  return {
    ethernet: input.ethernet() ? 0 : undefined,
    ipv4: ip ? IPV4_OFFSET : undefined,
    tcp: input.tcp() ? l4 : undefined,
    udp: input.udp() ? l4 : undefined,
  };
}

function placeOf(input: Packet, group: Group, field: string): FieldPlace | undefined {
  const starts = headerStarts(input);
  const header = group === "l4" ? (starts.tcp !== undefined ? "tcp" : starts.udp !== undefined ? "udp" : undefined) : group;
  if (header === undefined) return undefined;
  const start = starts[header];
  const layout = (LAYOUTS[header] as Record<string, FieldLayout>)[field];
  if (start === undefined || layout === undefined) return undefined;
  return { name: `${header}.${field}`, at: start + layout.offset, layout };
}

function readField(data: Uint8Array, p: FieldPlace): bigint {
  let v = 0n;
  for (let i = 0; i < p.layout.bytes; i++) v = (v << 8n) | BigInt(data[p.at + i] ?? 0);
  return v;
}

function isAny(v: unknown): boolean {
  return typeof v === "object" && v !== null && "__any" in v;
}

function formatValue(name: string, v: bigint): string {
  if (/^ipv4\.(src|dst)$/.test(name)) return formatIpv4(Number(v));
  if (name.startsWith("ethernet.")) return formatMac(v);
  return String(v);
}

/** The named fields of every header the packet has, for naming differing bytes. */
function fieldNameAt(input: Packet, offset: number): string {
  const starts = headerStarts(input);
  for (const h of ["tcp", "udp", "ipv4", "ethernet"] as const) {
    const s = starts[h];
    if (s === undefined) continue;
    for (const [f, l] of Object.entries(LAYOUTS[h] as Record<string, FieldLayout>)) {
      if (offset >= s + l.offset && offset < s + l.offset + l.bytes) return `${h}.${f}`;
    }
  }
  return `byte ${offset}`;
}

const read16 = (d: Uint8Array, at: number) => ((d[at] ?? 0) << 8) | (d[at + 1] ?? 0);
/** One's complement: 0x0000 and 0xffff are both zero. */
const onesEqual = (a: number, b: number) => a === b || ((a === 0 || a === 0xffff) && (b === 0 || b === 0xffff));

/** The TCP/UDP pseudo-header sum of a packet (before folding). */
function pseudoSum(d: Uint8Array, segmentLength: number, protocol: number): number {
  const ip = IPV4_OFFSET;
  return read16(d, ip + 12) + read16(d, ip + 14) + read16(d, ip + 16) + read16(d, ip + 18) + protocol + segmentLength;
}

/**
 * "checksums: valid": each checksum must verify in the output whenever it did in the input; more
 * precisely (what `vigorc verify` proves: the RFC 1624 update of the input's checksum), the
 * verification sum of the output equals the input's, so an invalid input checksum stays wrong by the
 * same amount. A UDP checksum of 0 ("none") stays 0 and a non-zero one never becomes 0.
 */
function checksumDifferences(input: Packet, out: Uint8Array): string[] {
  const diffs: string[] = [];
  const d = input.data;
  const ip = input.ipv4();
  if (ip === undefined) return diffs;
  const hdrEnd = IPV4_OFFSET + ip.ihl * 4;
  const verify = (x: Uint8Array) => internetChecksum(x, IPV4_OFFSET, hdrEnd);
  if (!onesEqual(verify(d), verify(out))) {
    diffs.push(
      verify(d) === 0 || verify(d) === 0xffff
        ? `IPv4 header checksum 0x${read16(out, IPV4_OFFSET + IPV4_CHECKSUM_OFFSET).toString(16)} is not valid (the input's was)`
        : `IPv4 header checksum 0x${read16(out, IPV4_OFFSET + IPV4_CHECKSUM_OFFSET).toString(16)} is not the RFC 1624 update of the input's (invalid) one`,
    );
  }
  const segment = ip.totalLength - ip.ihl * 4;
  const l4Check = (name: string, csAt: number, protocol: number) => {
    const vin = internetChecksum(d, hdrEnd, hdrEnd + segment, pseudoSum(d, segment, protocol));
    const vout = internetChecksum(out, hdrEnd, hdrEnd + segment, pseudoSum(out, segment, protocol));
    if (!onesEqual(vin, vout)) {
      diffs.push(
        vin === 0 || vin === 0xffff
          ? `${name} checksum 0x${read16(out, csAt).toString(16)} is not valid (the input's was)`
          : `${name} checksum 0x${read16(out, csAt).toString(16)} is not the RFC 1624 update of the input's (invalid) one`,
      );
    }
  };
  if (input.tcp() !== undefined) l4Check("TCP", hdrEnd + TCP_CHECKSUM_OFFSET, PROTOCOL_TCP);
  else if (input.udp() !== undefined) {
    const csAt = hdrEnd + UDP_CHECKSUM_OFFSET;
    if (read16(d, csAt) === 0) {
      if (read16(out, csAt) !== 0) diffs.push(`UDP checksum 0x${read16(out, csAt).toString(16)}: the input had none (0), which must stay 0`);
    } else if (read16(out, csAt) === 0) diffs.push("UDP checksum became 0 (\"no checksum\"); a computed 0 is sent as 0xffff");
    else l4Check("UDP", csAt, PROTOCOL_UDP);
  }
  return diffs;
}

/**
 * The output the spec expects for `input`: its stated fields written through the dsl's header
 * setters (which update the checksums as an NF's writes do, RFC 1624), the checksums then put back
 * unless the spec says checksums: "valid"; and which bytes are not compared ("any" fields, and the
 * checksums when "valid": checksumDifferences checks those). An "any" field takes the value the
 * binary sent (`sent`, for showing the expected packet), else keeps the input's.
 */
export function expectedBytes(input: Packet, rewrite: Rewrite, sent?: Uint8Array): { bytes: Uint8Array; ignored: boolean[]; problems: string[] } {
  const out = new Packet(new Uint8Array(input.data));
  const ignored = new Array<boolean>(input.data.length).fill(false);
  const problems: string[] = [];
  const header = (name: string): Record<string, unknown> | undefined =>
    (name === "ethernet" ? out.ethernet() : name === "ipv4" ? out.ipv4() : name === "tcp" ? out.tcp() : out.udp()) as unknown as Record<string, unknown> | undefined;
  for (const [group, fields] of Object.entries(rewrite)) {
    if (group === "checksums" || fields === undefined || typeof fields !== "object") continue;
    for (const [field, value] of Object.entries(fields as Record<string, unknown>)) {
      if (value === undefined) continue;
      const p = placeOf(input, group as Group, field);
      if (p === undefined) {
        problems.push(`the spec rewrites ${group}.${field} but the packet has no such header`);
        continue;
      }
      let v: bigint;
      if (isAny(value)) {
        for (let i = 0; i < p.layout.bytes; i++) ignored[p.at + i] = true;
        if (sent === undefined || sent.length !== input.data.length) continue;
        v = readField(sent, p);
      } else {
        v = BigInt(value as number | bigint);
        const bits = Math.min(p.layout.width, p.layout.bytes * 8);
        if (v < 0n || v >= 1n << BigInt(bits)) {
          problems.push(`the spec's value ${v} for ${p.name} does not fit in ${bits} bits`);
          continue;
        }
      }
      const h = header(p.name.split(".")[0]!)!;
      h[field] = typeof h[field] === "bigint" ? v : Number(v);
    }
  }
  const s = headerStarts(input);
  const checksumAt = [s.ipv4 !== undefined ? IPV4_OFFSET + IPV4_CHECKSUM_OFFSET : undefined, s.tcp !== undefined ? s.tcp + TCP_CHECKSUM_OFFSET : s.udp !== undefined ? s.udp + UDP_CHECKSUM_OFFSET : undefined];
  for (const at of checksumAt) {
    if (at === undefined) continue;
    if (rewrite.checksums === "valid") ignored[at] = ignored[at + 1] = true;
    else out.data.set(input.data.subarray(at, at + 2), at);
  }
  return { bytes: out.data, ignored, problems };
}

/**
 * A packet's bytes with the fields a spec may rewrite (Rewrite) and the checksums blanked: a record
 * the NF sent for a packet has the packet's key. Used only to attribute records to packets that share
 * a timestamp; the comparison proper is outputDifferences.
 */
function contentKey(data: Uint8Array): string {
  const pkt = new Packet(data);
  const blank = new Uint8Array(data);
  const fields: [Group, string][] = [
    ["ethernet", "src"], ["ethernet", "dst"],
    ["ipv4", "tos"], ["ipv4", "id"], ["ipv4", "ttl"], ["ipv4", "src"], ["ipv4", "dst"], ["ipv4", "checksum"],
    ["l4", "srcPort"], ["l4", "dstPort"], ["l4", "checksum"],
  ];
  for (const [g, f] of fields) {
    const place = placeOf(pkt, g, f);
    if (place) blank.fill(0, place.at, place.at + place.layout.bytes);
  }
  return Buffer.from(blank).toString("latin1");
}

/** How the spec's expected action reads for a human. */
function describeExpected(e: Expected<object>): string {
  if (e.action === "drop") return "drop";
  const fields: string[] = [];
  for (const [group, fs_] of Object.entries(e.rewrite)) {
    if (group === "checksums" || typeof fs_ !== "object" || fs_ === null) continue;
    for (const [f, v] of Object.entries(fs_ as Record<string, unknown>)) {
      if (v === undefined) continue;
      fields.push(`${group}.${f} = ${isAny(v) ? "any" : formatValue(`${group === "l4" ? "tcp" : group}.${f}`, BigInt(v as number | bigint))}`);
    }
  }
  if (e.rewrite.checksums === "valid") fields.push("checksums valid");
  const what = e.action === "forward" ? `forward to device ${e.device}` : "flood";
  return `${what}${fields.length > 0 ? `, with ${fields.join(", ")}` : ", unchanged"}`;
}

function describeSent(sent: Sent[], inputDevice: number, deviceCount: number): string {
  if (sent.length === 0) return "drop";
  if (sent.length === 1) return `forward to device ${sent[0]!.device}`;
  const all = Array.from({ length: deviceCount }, (_, d) => d).filter((d) => d !== inputDevice);
  if (sent.map((s) => s.device).join() === all.join()) return "flood";
  return `${sent.length} copies, to devices ${sent.map((s) => s.device).join(", ")}`;
}

/** Everything that differs between what the binary sent for one packet and what the spec expects. */
export function outputDifferences(input: Packet, inputDevice: number, deviceCount: number, e: Expected<object>, sent: Sent[]): string[] {
  const diffs: string[] = [];
  let devices: number[];
  if (e.action === "drop") devices = [];
  else if (e.action === "forward") devices = [e.device];
  else devices = Array.from({ length: deviceCount }, (_, d) => d).filter((d) => d !== inputDevice);
  if (e.action === "forward" && e.device >= deviceCount) diffs.push(`the spec forwards to device ${e.device}, which does not exist (${deviceCount} devices)`);
  if (sent.length !== devices.length || sent.some((s, i) => s.device !== devices[i])) {
    diffs.push(`action: the binary did ${describeSent(sent, inputDevice, deviceCount)}; the spec expects ${e.action === "forward" ? `forward to device ${e.device}` : e.action}`);
  }
  if (e.action === "drop" || sent.length === 0) return diffs;
  const exp = expectedBytes(input, e.rewrite);
  diffs.push(...exp.problems);
  // Every copy carries the same bytes: compare the first, and the others to it.
  const out = sent[0]!.data;
  if (out.length !== input.data.length) {
    diffs.push(`length: the binary sent ${out.length} bytes for a ${input.data.length}-byte packet`);
    return diffs;
  }
  // Differing bytes, reported once per field (by its first differing byte).
  const differing = new Map<string, number>();
  for (let i = 0; i < out.length; i++) {
    if (exp.ignored[i] || out[i] === exp.bytes[i]) continue;
    const name = fieldNameAt(input, i);
    if (!differing.has(name)) differing.set(name, i);
  }
  for (const [name, at] of differing) {
    const [h, f] = name.split(".") as [keyof typeof LAYOUTS, string];
    const layout = (LAYOUTS[h] as Record<string, FieldLayout> | undefined)?.[f];
    if (layout) {
      const place = { name, at: headerStarts(input)[h]! + layout.offset, layout };
      const fmt = (x: Uint8Array) => (layout.bits === undefined ? formatValue(name, readField(x, place)) : `0x${readField(x, place).toString(16)}`);
      const why = /\.checksum$/.test(name) ? ' (the spec does not say checksums: "valid", so they must be unchanged)' : "";
      diffs.push(`${name}: the binary sent ${fmt(out)}, the spec expects ${fmt(exp.bytes)}${why}`);
    } else {
      diffs.push(`${name}: the binary sent 0x${out[at]!.toString(16)}, the spec expects 0x${exp.bytes[at]!.toString(16)} (unchanged)`);
    }
  }
  if (e.rewrite.checksums === "valid") diffs.push(...checksumDifferences(input, out));
  for (const s of sent.slice(1)) {
    if (Buffer.compare(s.data, out) !== 0) diffs.push(`the copy sent to device ${s.device} differs from the one sent to device ${sent[0]!.device}`);
  }
  return diffs;
}

/**
 * The spec left one index open ("any free index") and, run with the lowest free index, disagrees
 * with the binary: find the free index the binary used, read back from its output. Each number the
 * spec's outcome states (output device, rewritten fields) is computed by the spec for two
 * different free indexes; a field that moves with the index is taken to be affine in it (NAT:
 * port = startPort + index), which gives the index the binary's value corresponds to. Candidates
 * are only ever free indexes below the capacity, and the caller re-checks the packet against the
 * spec run with the candidate, so a wrong guess can only leave a disagreement standing.
 */
function candidateIndexes(first: SpecRun, again: (index: number) => SpecRun, input: Packet, sent: Sent[]): number[] {
  const c = first.choices[0]!;
  const d1 = c.index;
  const d2 = c.free.lowest(d1 + 1);
  if (d1 >= c.free.capacity || d2 >= c.free.capacity || sent.length === 0) return [];
  const second = again(d2);
  const numbers = (r: SpecRun, out: Uint8Array | undefined): Map<string, bigint> => {
    const m = new Map<string, bigint>();
    if (r.expected.action === "forward") m.set("device", BigInt(r.expected.device));
    for (const [group, fields] of Object.entries(r.expected.rewrite)) {
      if (group === "checksums" || typeof fields !== "object" || fields === null) continue;
      for (const [f, v] of Object.entries(fields as Record<string, unknown>)) {
        if (v === undefined || isAny(v)) continue;
        const p = placeOf(input, group as Group, f);
        if (p) m.set(p.name, out ? readField(out, p) : BigInt(v as number | bigint));
      }
    }
    return m;
  };
  const v1 = numbers(first, undefined);
  const v2 = numbers(second, undefined);
  const observed = numbers(first, sent[0]!.data);
  observed.set("device", BigInt(sent[0]!.device));
  const out = new Set<number>();
  for (const [name, a] of v1) {
    const b = v2.get(name);
    const o = observed.get(name);
    if (b === undefined || o === undefined || a === b) continue;
    const step = b - a;
    const span = BigInt(d2 - d1);
    // index = d1 + (o - a) * span / step, when that is a whole number.
    const num = (o - a) * span;
    if (num % step !== 0n) continue;
    const i = d1 + Number(num / step);
    if (c.free.isFree(i)) out.add(i);
  }
  return [...out];
}

// ------------------------------------------------------------------------------------ the command

function defaultSpecFile(nfFile: string): string {
  const name = path.basename(nfFile).replace(/\.ts$/, "");
  return path.resolve(path.dirname(path.resolve(nfFile)), "..", "specs", `${name}.spec.ts`);
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
}

export async function specTest(opts: SpecTestOptions): Promise<SpecTestResult> {
  const flags = opts.nfFlags ?? [];
  const maxReported = opts.maxReported ?? 5;
  if (!fs.existsSync(opts.nfFile)) throw new BadInput(`${opts.nfFile}: no such file`);
  const specFile = opts.specFile ?? defaultSpecFile(opts.nfFile);
  if (!fs.existsSync(specFile)) throw new BadInput(`${specFile}: no such spec file${opts.specFile ? "" : " (give one with --spec FILE)"}`);

  // The capture first: a bad capture or flag is reported before anything is built.
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(opts.capture);
  } catch (e) {
    throw new BadInput(`${opts.capture}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  let packets: ReadPacket[];
  let interfaces: number;
  try {
    const cap = readPcapng(bytes);
    packets = cap.packets;
    interfaces = cap.interfaces.length;
  } catch (e) {
    if (e instanceof PcapngError) throw new BadInput(`${opts.capture}: ${e.message}`);
    throw e;
  }
  const deviceCount = opts.devices ?? interfaces;
  if (deviceCount < 1 || deviceCount > MAX_DEVICES) {
    throw new BadInput(
      opts.devices === undefined
        ? `${opts.capture}: declares ${interfaces} interfaces; an NF has 1..${MAX_DEVICES} devices (give --devices N)`
        : `--devices ${deviceCount}: an NF has 1..${MAX_DEVICES} devices`,
    );
  }
  const stray = packets.findIndex((p) => p.device >= deviceCount);
  if (stray >= 0) throw new BadInput(`${opts.capture}: packet ${stray + 1} is on interface ${packets[stray]!.device}, but there are ${deviceCount} devices${opts.devices === undefined ? "" : " (--devices)"}`);

  const nf = (await importModule(opts.nfFile)) as unknown as NfDefinition;
  if (typeof nf.process !== "function" || typeof nf.config !== "object") throw new BadInput(`${opts.nfFile}: not an NF module (it exports no config and process)`);
  let cfg: ConfigValues;
  try {
    cfg = configFromFlags(nf, flags, deviceCount);
  } catch (e) {
    if (e instanceof FlagError) throw new BadInput(e.message);
    throw e;
  }

  const loaded = loadSpecFile(specFile);
  if (loaded.diagnostics.length > 0 || !loaded.spec) throw new BadInput(`${specFile}: errors in the spec`, loaded.diagnostics);
  const spec = (await importModule(specFile))["spec"];
  if (typeof spec !== "function") throw new BadInput(`${specFile}: a spec file exports function spec(pkt, ctx, cfg, st)`);

  const t0 = performance.now();
  let binary: string | undefined;
  try {
    binary = await cachedTraceBinary(opts.nfFile);
  } catch (e) {
    if (e instanceof CCompileError) throw new Error(`the C compiler rejected the generated code for ${opts.nfFile} (a vigorc bug): ${e.message}`);
    throw e;
  }
  if (binary === undefined) throw new BadInput(`${opts.nfFile}: the NF does not compile`);
  const t1 = performance.now();

  // The binary gets the capture rewritten with exactly `deviceCount` interfaces and ns timestamps, so
  // that it and the spec see the same devices, times and bytes whatever the capture's own format.
  const { execa } = await import("execa");
  const work = fs.mkdtempSync(path.join(process.env["TMPDIR"] ?? "/tmp", "vigorc-test-"));
  let sentAll: ReadPacket[];
  try {
    const inFile = path.join(work, "in.pcapng");
    const outFile = path.join(work, "out.pcapng");
    fs.writeFileSync(inFile, writePcapng(deviceCount, packets));
    const r = await execa(binary, [inFile, outFile, ...flags], { reject: false });
    if (r.exitCode === 2) throw new BadInput(`the NF's flags: ${String(r.stderr).trim()}`);
    if (r.exitCode !== 0) throw new Error(`the trace binary ${binary} failed (exit ${String(r.exitCode)}): ${String(r.stderr).trim()}`);
    sentAll = readPcapng(fs.readFileSync(outFile)).packets;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const t2 = performance.now();

  const result: SpecTestResult = {
    nf: path.basename(opts.nfFile).replace(/\.ts$/, ""),
    specFile,
    binary,
    deviceCount,
    flags,
    packets: packets.length,
    checked: 0,
    agreed: 0,
    expectedActions: { drop: 0, forward: 0, flood: 0 },
    choicesFromBinary: 0,
    disagreements: 0,
    first: [],
    seconds: { build: (t1 - t0) / 1000, binary: (t2 - t1) / 1000, spec: 0 },
  };
  const specFn = spec as SpecFn;
  let state = initialState(nf, cfg);
  let now = 0n;
  let pos = 0;
  // Packets [n, blockEnd) share a timestamp; `later` counts the content keys of those after n.
  let blockEnd = 0;
  const later = new Map<string, number>();
  for (let n = 0; n < packets.length; n++) {
    const p = packets[n]!;
    if (p.timeNs > now) now = p.timeNs; // the trace shell's clock never goes back
    if (p.data.length > MAX_PACKET_LEN) continue;
    const ctx: Context = { device: p.device, time: now, deviceCount, deviceMac: traceDeviceMac };
    const crash = (e: unknown): never => {
      const hint = e instanceof TypeError ? ` (does ${path.basename(specFile)} describe ${path.basename(opts.nfFile)}? it reads state or config the NF lacks)` : "";
      throw new BadInput(`${specFile}: the spec failed on packet ${n + 1} (time ${p.timeNs} ns, device ${p.device}): ${e instanceof Error ? e.message : String(e)}${hint}`);
    };
    const run = (pick?: (free: FreeIndexes) => number, st = state): SpecRun => {
      try {
        return runSpec(specFn, p.data, ctx, cfg, st, pick);
      } catch (e) {
        return crash(e);
      }
    };
    let r = run();
    // The binary's records for this packet: those stamped with its timestamp. When the next packet
    // has the same timestamp, this one takes the leading records that can only come from it among
    // the packets of that timestamp (attribution by content), else as many as the spec expects; the
    // last of them takes the rest.
    const expectedCount = r.expected.action === "drop" ? 0 : r.expected.action === "forward" ? 1 : Math.max(0, deviceCount - 1);
    let available = 0;
    while (pos + available < sentAll.length && sentAll[pos + available]!.timeNs === p.timeNs) available++;
    if (n >= blockEnd) {
      // A new run of packets with one timestamp: the content keys of those after each packet.
      blockEnd = n + 1;
      while (blockEnd < packets.length && packets[blockEnd]!.timeNs === p.timeNs) blockEnd++;
      later.clear();
      if (blockEnd > n + 1) for (let k = n + 1; k < blockEnd; k++) later.set(contentKey(packets[k]!.data), (later.get(contentKey(packets[k]!.data)) ?? 0) + 1);
    } else {
      const own = contentKey(p.data);
      later.set(own, later.get(own)! - 1);
    }
    let take = available;
    if (blockEnd > n + 1) {
      const own = contentKey(p.data);
      let mine = 0;
      while (mine < available && mine < Math.max(1, deviceCount - 1) && contentKey(sentAll[pos + mine]!.data) === own) mine++;
      const alsoLater = mine > 0 && (later.get(own) ?? 0) > 0;
      take = mine > 0 && !alsoLater ? mine : Math.min(expectedCount, available);
    }
    const sent: Sent[] = sentAll.slice(pos, pos + take).map((s) => ({ device: s.device, data: s.data }));
    pos += take;

    const input = new Packet(p.data);
    let diffs = outputDifferences(input, p.device, deviceCount, r.expected, sent);
    if (diffs.length > 0 && r.choices.length === 1) {
      for (const i of candidateIndexes(r, (index) => run(() => index), input, sent)) {
        const again = run(() => i);
        const d = outputDifferences(input, p.device, deviceCount, again.expected, sent);
        if (d.length === 0) {
          r = again;
          diffs = d;
          result.choicesFromBinary++;
          break;
        }
      }
    }
    result.checked++;
    result.expectedActions[r.expected.action]++;
    if (diffs.length === 0) result.agreed++;
    else {
      result.disagreements++;
      if (result.first.length < maxReported) {
        const lookedAt: LookedAt[] = [];
        const chosen = r.choices.map((c) => c.index);
        run(() => chosen.shift() ?? 0, recording(state, lookedAt));
        let shared = 0;
        for (let k = n - 1; k >= 0 && packets[k]!.timeNs === p.timeNs; k--) shared++;
        for (let k = n + 1; k < packets.length && packets[k]!.timeNs === p.timeNs; k++) shared++;
        const tables = Object.entries(state).map(([name, t]) => ({ name, size: t.size, indexes: t.entries().map((e) => e.index).sort((a, b) => a - b).slice(0, SHOWN_INDEXES) }));
        const want = r.expected.action === "drop" ? undefined : expectedBytes(input, r.expected.rewrite, sent[0]?.data);
        const expectedOutput = want !== undefined && want.problems.length === 0 ? want.bytes : undefined;
        result.first.push({ packet: n + 1, timeNs: p.timeNs, device: p.device, input: p.data, sent, expected: r.expected, expectedOutput, differences: diffs, lookedAt, tables, sharedTimestamp: shared });
      }
    }
    state = r.expected.state ?? state;
  }
  if (pos < sentAll.length) {
    // Cannot happen with the trace shell (every record carries its input's timestamp); said rather than hidden.
    throw new Error(`${sentAll.length - pos} output record(s) of the binary match no input packet's timestamp`);
  }
  result.seconds.spec = (performance.now() - t2) / 1000;
  return result;
}

// ------------------------------------------------------------------------------------- reporting

function formatTime(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, "0")} s`;
}

function formatKey(key: object): string {
  return Object.entries(key as Record<string, number | bigint>)
    .map(([k, v]) => `${k}=${/ip$/i.test(k) && typeof v === "number" ? formatIpv4(v) : String(v)}`)
    .join(" ");
}

export function formatDisagreement(d: Disagreement, deviceCount: number): string {
  const lines = [`DISAGREEMENT at packet ${d.packet} (time ${formatTime(d.timeNs)}, device ${d.device})`];
  lines.push(`  input: ${decodePacket(d.input).join("\n  ")}`);
  for (const t of d.tables) {
    const more = t.size > t.indexes.length ? ", ..." : "";
    lines.push(`  the spec's state before the packet (before expiry): '${t.name}' has ${t.size} entr${t.size === 1 ? "y" : "ies"}${t.size > 0 ? ` (indexes ${t.indexes.join(", ")}${more})` : ""}`);
  }
  for (const e of d.lookedAt) lines.push(`    the spec looked at ${e.table}[${e.index}]: ${formatKey(e.key)}, last refreshed at ${formatTime(e.time)}`);
  lines.push(`  the binary: ${describeSent(d.sent, d.device, deviceCount)}`);
  for (const s of d.sent.slice(0, 1)) lines.push(`    output on device ${s.device}: ${decodePacket(s.data).join("\n    ")}`);
  lines.push(`  the spec expects: ${describeExpected(d.expected)}`);
  if (d.expectedOutput) {
    const open = d.sent.length > 0 ? "open fields as the binary sent them" : "open fields as in the input";
    lines.push(`    expected output (${open}): ${decodePacket(d.expectedOutput).join("\n    ")}`);
  }
  lines.push("  what differs:");
  for (const x of d.differences) lines.push(`    - ${x}`);
  if (d.sharedTimestamp > 0) {
    lines.push(`  note: ${d.sharedTimestamp} neighbouring packet(s) have the same timestamp; the binary's records were attributed to them by content (or, where that cannot tell, as the spec expects)`);
  }
  return lines.join("\n");
}

export function formatSpecTest(r: SpecTestResult): string {
  const rel = (f: string) => path.relative(process.cwd(), f);
  const skipped = r.packets - r.checked;
  const lines = [
    `${r.nf}: ${r.checked} packet${r.checked === 1 ? "" : "s"} checked against ${rel(r.specFile)} — ${r.disagreements === 0 ? "ALL AGREE" : `${r.disagreements} DISAGREE`} (${r.agreed} agree)`,
    `  ${r.deviceCount} device${r.deviceCount === 1 ? "" : "s"}; flags: ${r.flags.length > 0 ? r.flags.join(" ") : "(defaults)"}; binary ${rel(r.binary)}`,
    `  the spec expected: ${r.expectedActions.forward} forward, ${r.expectedActions.drop} drop, ${r.expectedActions.flood} flood` +
      (r.choicesFromBinary > 0 ? `; ${r.choicesFromBinary} "any free index" choice(s) taken from the binary's output` : ""),
  ];
  if (skipped > 0) lines.push(`  ${skipped} packet(s) longer than ${MAX_PACKET_LEN} bytes not checked (the trace shell drops them unprocessed)`);
  lines.push(`  time: build ${r.seconds.build.toFixed(2)}s, binary ${r.seconds.binary.toFixed(2)}s, spec ${r.seconds.spec.toFixed(2)}s`);
  for (const d of r.first) lines.push("", formatDisagreement(d, r.deviceCount));
  if (r.disagreements > r.first.length) lines.push("", `  ... and ${r.disagreements - r.first.length} more disagreement(s) (later ones may follow from the first)`);
  return lines.join("\n");
}

const USAGE = "vigorc test <nf.ts> IN.pcapng [--spec FILE] [--devices N] [NF flags...]";
const HELP = `Runs the NF's compiled trace binary on IN.pcapng (interface id = input device, timestamp =
arrival time) and checks every packet against the reference spec executed concretely.
  --spec FILE   the spec (default: specs/<nf>.spec.ts)
  --devices N   device count (default: the interfaces the capture declares)
  NF flags      the NF's config, as its binary takes them (e.g. --wan 0 --external-ip 192.0.2.1)
exit: 0 every packet agrees, 1 a disagreement, 2 bad input, 3 internal error`;

/** Splits the command line: our options, two positionals, and everything else for the NF. */
export function parseTestArgs(args: string[]): SpecTestOptions | "help" {
  if (args.includes("--help") || args.includes("-h")) return "help";
  const positional: string[] = [];
  const nfFlags: string[] = [];
  let specFile: string | undefined;
  let devices: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const value = () => {
      const v = a.startsWith("--") && eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (name === "--spec") {
      if (specFile !== undefined) throw new UsageError("--spec given twice");
      specFile = value();
    } else if (name === "--devices") {
      const v = value();
      if (!/^\d+$/.test(v) || devices !== undefined) throw new UsageError(devices !== undefined ? "--devices given twice" : `--devices: '${v}' is not a device count`);
      devices = Number(v);
    } else if (a.startsWith("--")) {
      nfFlags.push(a);
      if (eq < 0 && i + 1 < args.length) nfFlags.push(args[++i]!);
    } else if (a.startsWith("-") && a.length > 1) {
      throw new UsageError(`unknown option ${a} (usage: ${USAGE})`);
    } else positional.push(a);
  }
  if (positional.length !== 2) throw new UsageError(`expected an NF file and a capture (usage: ${USAGE})`);
  return { nfFile: positional[0]!, capture: positional[1]!, specFile, devices, nfFlags };
}

/** `vigorc test`: exit 0 when every packet agrees, 1 on a disagreement, 2 on bad input. */
export async function test(args: string[]): Promise<number> {
  const opts = parseTestArgs(args);
  if (opts === "help") {
    console.log(`usage: ${USAGE}\n\n${HELP}`);
    return 0;
  }
  let r: SpecTestResult;
  try {
    r = await specTest(opts);
  } catch (e) {
    if (e instanceof BadInput) {
      if (e.diagnostics.length > 0) console.error(formatDiagnostics(e.diagnostics) + "\n");
      console.error(`vigorc test: ${e.message}`);
      return 2;
    }
    throw e;
  }
  console.log(formatSpecTest(r));
  return r.disagreements === 0 ? 0 : 1;
}
