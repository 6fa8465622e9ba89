/**
 * Codegen: NF IR in, one C file out (nf.c, satisfying runtime-c/shells/nf.h). The file layout is
 * the handlebars template templates/nf.c.hbs; this module renders types, expressions, statements
 * and the structure accessors that the template places.
 */
import Handlebars from "handlebars";
import * as fs from "node:fs";
import * as path from "node:path";
import { LAYOUTS, type FieldLayout, type HeaderName } from "../../dsl/layout.ts";
import type { ConfigField, Expr, FunctionDecl, IntWidth, NfModule, RecordDecl, SourceLoc, Stmt, StructureDecl, Type } from "../ir/ir.ts";
import { resultType, STRUCTURE_METHODS } from "../ir/structures.ts";

const TEMPLATE = Handlebars.compile(
  fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), "templates", "nf.c.hbs"), "utf8"),
  { noEscape: true },
);

/** Arguments every generated function receives: the shell's view of the current packet. */
const CONTEXT_PARAMS =
  "struct nf_state *st, const struct nf_config *cfg, const struct nf_env *env, uint8_t *pkt, uint16_t len, uint16_t device, uint64_t time_ns";
const CONTEXT_ARGS = "st, cfg, env, pkt, len, device, time_ns";
/** Opening lines of every generated function: a function need not use every context parameter. */
const CONTEXT_UNUSED = CONTEXT_ARGS.split(", ").map((n) => `  (void)${n};`);
/**
 * ACSL name of every generated function's `ensures` that the state invariant and times bound still
 * hold on return (what the next packet assumes), so that a failure names it.
 */
const STATE_KEPT = "nf_state_kept";

const STRUCTURE_C: Record<StructureDecl["kind"], { cType: string; header: string }> = {
  FlowTable: { cType: "flow_table", header: "flow_table.h" },
  FlowMap: { cType: "map", header: "map.h" },
  Vector: { cType: "vector", header: "vector.h" },
  IndexAllocator: { cType: "allocator", header: "allocator.h" },
};

/**
 * ACSL: what each structure's operations may write (the union of the `assigns` clauses in
 * runtime-c/structures/*.h, written in the same terms so that WP matches them without reasoning),
 * as l-values reached from the handle `h`. The handles' own fields and the pointers in them never
 * change after allocation, so these are the same sets before and after every call.
 */
const FOOTPRINT: Record<StructureDecl["kind"], (h: string) => string[]> = {
  FlowTable: (h) => [
    `${h}->map->size`,
    `${h}->map->slots[0 .. ${h}->map->table_size - 1]`,
    `${h}->map->order[0 .. ${h}->map->table_size - 1]`,
    `${h}->keys->data[0 .. ${h}->capacity * ${h}->key_size - 1]`,
    `${h}->hashes[0 .. ${h}->capacity - 1]`,
    `${h}->alloc->count`,
    `${h}->alloc->clock`,
    `${h}->alloc->oldest`,
    `${h}->alloc->newest`,
    `${h}->alloc->cells[0 .. ${h}->capacity - 1]`,
    `${h}->alloc->order[0 .. ${h}->capacity - 1]`,
  ],
  FlowMap: (h) => [
    `${h}->size`,
    `${h}->slots[0 .. ${h}->table_size - 1]`,
    `${h}->order[0 .. ${h}->table_size - 1]`,
  ],
  Vector: (h) => [`${h}->data[0 .. ${h}->capacity * ${h}->elem_size - 1]`],
  IndexAllocator: (h) => [
    `${h}->count`,
    `${h}->clock`,
    `${h}->oldest`,
    `${h}->newest`,
    `${h}->cells[0 .. ${h}->capacity - 1]`,
    `${h}->order[0 .. ${h}->capacity - 1]`,
  ],
};

/** ACSL: the blocks a structure is made of (for separation), as in its header's `valid` predicate. */
const BLOCKS: Record<StructureDecl["kind"], (h: string) => string[]> = {
  FlowTable: (h) => [
    h,
    ...BLOCKS.FlowMap(`${h}->map`),
    `${h}->keys`,
    `${h}->keys->data + (0 .. ${h}->capacity * ${h}->key_size - 1)`,
    `${h}->hashes + (0 .. ${h}->capacity - 1)`,
    `${h}->alloc`,
    `${h}->alloc->cells + (0 .. ${h}->capacity - 1)`,
    `${h}->alloc->order + (0 .. ${h}->capacity - 1)`,
  ],
  FlowMap: (h) => [
    h,
    `${h}->slots + (0 .. ${h}->table_size - 1)`,
    `${h}->order + (0 .. ${h}->table_size - 1)`,
  ],
  Vector: (h) => [h, `${h}->data + (0 .. ${h}->capacity * ${h}->elem_size - 1)`],
  IndexAllocator: (h) => [h, `${h}->cells + (0 .. ${h}->capacity - 1)`, `${h}->order + (0 .. ${h}->capacity - 1)`],
};

/** ACSL: the structure's representation invariant (its header's), which every accessor keeps. */
const STRUCTURE_INV: Record<StructureDecl["kind"], (h: string) => string> = {
  FlowTable: (h) => `vig_flow_table_inv(${h})`,
  FlowMap: (h) => `vig_map_inv(${h})`,
  Vector: (h) => `vig_vector_valid(${h})`,
  IndexAllocator: (h) => `vig_allocator_inv(${h})`,
};

/** ACSL: the allocator holding a structure's times (structures whose operations take `now`). */
const TIMED_ALLOCATOR: Partial<Record<StructureDecl["kind"], (h: string) => string>> = {
  FlowTable: (h) => `${h}->alloc`,
  IndexAllocator: (h) => h,
};

/** ACSL: the field holding the size of a structure's records (checked against the record's key bytes). */
const RECORD_SIZE_FIELD: Partial<Record<StructureDecl["kind"], string>> = {
  FlowTable: "key_size",
  FlowMap: "key_size",
  Vector: "elem_size",
};

/**
 * The prefetch calls nf_prefetch makes (CEmitter.prefetchFunction): what a lookup reads first,
 * computed from the structure's fixed fields only (so a hint computed before other packets change
 * the table is stale at worst, never unsafe). A map lookup's is map.h's vig_map_prefetch (proven
 * with map.c, which also owns the home-bucket formula); the flow table's entry hint is emitted
 * here (PREFETCH_HELPERS, when used, with runtime-c/structures/prefetch.h's vig_prefetch) and proven
 * by the C stage like every function of nf.c.
 */
export type PrefetchCall = "vig_map_prefetch" | "vig_prefetch_flow_table_entry";
/** vig_prefetch, shared with the structures (runtime-c/structures/prefetch.h). */
const PREFETCH_HEADER = "prefetch.h";
const PREFETCH_HELPERS: Partial<Record<PrefetchCall, string>> = {
  vig_prefetch_flow_table_entry: `/* What reading entry index of a flow table reads: its allocator cell (is it in use, its time) and
 * its key bytes. */
/*@ requires vig_flow_table_valid(t);
    assigns \\nothing; */
static inline void vig_prefetch_flow_table_entry(struct vig_flow_table *t, uint32_t index) {
  if (index < t->capacity) {
    vig_prefetch(t->alloc->cells + index);
    vig_prefetch(vig_vector_at_const(t->keys, index));
  }
}`,
};

const FLAG_KIND: Record<ConfigField["kind"], string> = {
  uint: "NF_FLAG_UINT",
  device: "NF_FLAG_DEVICE",
  ipv4: "NF_FLAG_IPV4",
  mac: "NF_FLAG_MAC",
  duration: "NF_FLAG_DURATION",
  bool: "NF_FLAG_BOOL",
};

export function uintType(width: IntWidth): string {
  return `uint${width}_t`;
}

export function cType(t: Type | "void"): string {
  if (t === "void") return "void";
  switch (t.kind) {
    case "int":
      return uintType(t.width);
    case "bool":
      return "bool";
    case "record":
      return `struct ${t.name}`;
    case "header":
      return "uint16_t"; // the header's offset in the packet
    case "option":
      if (t.inner.kind === "header") return "struct vig_hdr";
      if (t.inner.kind === "record") return `struct opt_${t.inner.name}`;
      if (t.inner.kind === "int" && t.inner.width === 32) return "struct vig_opt_u32";
      throw new Error(`no C option type for ${JSON.stringify(t.inner)}`);
    case "action":
      return "uint16_t";
  }
}

function cString(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, " ");
}

function literal(value: bigint, width: IntWidth): string {
  if (width === 64) return `UINT64_C(${value})`;
  return `${value}u`;
}

/** Record layout with explicit padding (fields in declared order, each naturally aligned). */
function recordMembers(r: RecordDecl): string[] {
  const members: string[] = [];
  let offset = 0;
  let maxAlign = 1;
  let pad = 0;
  for (const f of r.fields) {
    const size = f.type.width / 8;
    maxAlign = Math.max(maxAlign, size);
    if (offset % size !== 0) {
      const gap = size - (offset % size);
      members.push(`uint8_t pad${pad++}[${gap}]`);
      offset += gap;
    }
    members.push(`${uintType(f.type.width)} ${f.name}`);
    offset += size;
  }
  if (offset % maxAlign !== 0) members.push(`uint8_t pad${pad++}[${maxAlign - (offset % maxAlign)}]`);
  return members;
}

/**
 * How a record travels as key bytes (templates/nf.c.hbs): fields in declared order, each
 * little-endian, no padding, so two records are equal iff their key bytes are. Gives the ACSL
 * byte-of-record function and hash, and the C of the byte function, decoder and hash.
 */
/** The records' hash multiplier (Knuth's multiplicative constant) and modulus. */
export const HASH_K = 2654435761n;
const HASH_MODULUS = 4294967296n;

/**
 * A record's hash, the polynomial (((v1 * K + v2) * K + ...) * K + vn) * K modulo 2^32, as a sum
 * of independent products v_i * (K^(n+1-i) mod 2^32), each reduced modulo 2^32 (`vig_hash_term`),
 * so no multiplication waits for another. `hashOf` is that sum in ACSL, as the C computes it.
 */
export function recordHashPowers(parts: number): bigint[] {
  return Array.from({ length: parts }, (_, i) => HASH_K ** BigInt(parts - i) % HASH_MODULUS);
}

function recordHash(parts: { logic: string; c: string }[]): { hashOf: string; hashC: string } {
  const powers = recordHashPowers(parts.length);
  return {
    hashOf: `(${parts.map((p, i) => `vig_hash_term_of(${p.logic}, ${powers[i]})`).join(" + ")}) % ${HASH_MODULUS}`,
    hashC: parts.map((p, i) => `vig_hash_term(${p.c}, ${powers[i]}u)`).join(" + "),
  };
}

function recordKeyCode(r: RecordDecl): { bytes: number; byteOf: string; encode: string[]; hashOf: string; hashC: string; decode: string[] } {
  const logicBytes: string[] = [];
  const cBytes: string[] = [];
  const decode: string[] = [];
  const hashParts: { logic: string; c: string }[] = [];
  let at = 0;
  for (const f of r.fields) {
    const n = f.type.width / 8;
    const wide = f.type.width === 64;
    for (let j = 0; j < n; j++) {
      const scale = 256n ** BigInt(j);
      logicBytes.push(j === 0 ? `r.${f.name} % 256` : `r.${f.name} / ${scale} % 256`);
      const c = j === 0 ? `v.${f.name} % 256u` : `v.${f.name} / ${wide ? `UINT64_C(${scale})` : `${scale}u`} % 256u`;
      cBytes.push(wide ? `(uint32_t)(${c})` : c);
    }
    decode.push(
      n === 1
        ? `r.${f.name} = (uint8_t)vig_byte_of(bytes[${at}]);`
        : `r.${f.name} = (${uintType(f.type.width)})vig_key_u${f.type.width}(bytes + ${at});`,
    );
    if (wide) {
      hashParts.push(
        { logic: `r.${f.name} % 4294967296`, c: `(uint32_t)(r->${f.name} % UINT64_C(4294967296))` },
        { logic: `r.${f.name} / 4294967296`, c: `(uint32_t)(r->${f.name} / UINT64_C(4294967296))` },
      );
    } else {
      hashParts.push({ logic: `r.${f.name}`, c: `r->${f.name}` });
    }
    at += n;
  }
  const byteOf = logicBytes.map((b, k) => `j == ${k} ? ${b} :`).join("\n      ") + " 0";
  return {
    bytes: at,
    byteOf,
    encode: cBytes.map((c, k) => `bytes[${k}] = vig_char_of(${c});`),
    ...recordHash(hashParts),
    decode,
  };
}

/** Which little-endian key loaders (templates/nf.c.hbs) the records need; wider ones use narrower. */
function keyWidths(records: RecordDecl[]): { u16: boolean; u32: boolean; u64: boolean } {
  const widths = new Set(records.flatMap((r) => r.fields.map((f) => f.type.width)));
  const u64 = widths.has(64);
  const u32 = u64 || widths.has(32);
  return { u16: u32 || widths.has(16), u32, u64 };
}

class CEmitter {
  private readonly sourceName: string;
  constructor(private readonly m: NfModule) {
    this.sourceName = path.basename(m.file);
  }

  private where(loc: SourceLoc): string {
    const firstLine = loc.text.split("\n")[0]!.trim().replace(/\*\//g, "* /");
    const shown = firstLine.length > 70 ? firstLine.slice(0, 67) + "..." : firstLine;
    return `/* ${this.sourceName}:${loc.line}: ${shown} */`;
  }

  // ------------------------------------------------------------ expressions

  expr(e: Expr): string {
    switch (e.kind) {
      case "const":
        return literal(e.value, e.type.kind === "int" ? e.type.width : 32);
      case "boolConst":
        return e.value ? "true" : "false";
      case "local":
        return e.name;
      case "config":
        return this.m.config.find((f) => f.name === e.field)?.kind === "bool" ? `(cfg->${e.field} != 0u)` : `cfg->${e.field}`;
      case "configAt":
        return `cfg->${e.field}[${this.expr(e.index)}]`;
      case "context":
        return { device: "device", time: "time_ns", deviceCount: "env->device_count", length: "len" }[e.field];
      case "deviceMac":
        return `env->device_macs[${this.expr(e.device)}]`;
      case "binary": {
        const width = (e.type as { width: IntWidth }).width;
        const inner = `${this.expr(e.left)} ${e.op} ${this.expr(e.right)}`;
        // Narrow operands are promoted to int by C; the verifier proves the value fits the IR width.
        return width < 32 ? `(${uintType(width)})(${inner})` : `(${inner})`;
      }
      case "compare":
        return `(${this.expr(e.left)} ${e.op} ${this.expr(e.right)})`;
      case "logical":
        return `(${this.expr(e.left)} ${e.op} ${this.expr(e.right)})`;
      case "not":
        return `!${this.expr(e.operand)}`;
      case "cond":
        return `(${this.expr(e.cond)} ? ${this.expr(e.then)} : ${this.expr(e.else)})`;
      case "convert":
        return `(${cType(e.type)})${this.expr(e.operand)}`;
      case "recordField":
        return `${this.expr(e.record)}.${e.field}`;
      case "recordLit": {
        const rec = this.m.records.find((r) => r.name === e.record)!;
        const fields = rec.fields.map((f) => `.${f.name} = ${this.expr(e.fields[f.name]!)}`).join(", ");
        return `(struct ${e.record}){${fields}}`;
      }
      case "headerField":
        return this.headerRead(e.handle, e.header, e.field);
      case "isFragment":
        return "vig_ipv4_is_fragment(pkt)";
      case "isPresent":
        return `${this.expr(e.operand)}.present`;
      case "unwrap":
        return e.type.kind === "header" ? `${this.expr(e.operand)}.offset` : `${this.expr(e.operand)}.value`;
      case "stateRead":
        // A capacity is fixed by the config: no call (the structures keep theirs private).
        if (e.method === "capacity") return `(uint32_t)(${this.expr(this.m.state.find((d) => d.name === e.structure)!.capacity)})`;
        return `${e.structure}_${snake(e.method)}(st${e.args.map((a) => ", " + this.expr(a)).join("")})`;
      case "parse":
        return `vig_parse_${e.header}(pkt, len)`;
      case "call":
        return `${e.fn}(${CONTEXT_ARGS}${e.args.map((a) => ", " + this.expr(a)).join("")})`;
      case "action":
        return e.action === "drop" ? "NF_ACTION_DROP" : "NF_ACTION_FLOOD";
      case "forward":
        return this.expr(e.device);
    }
  }

  private headerRead(handle: Expr, header: HeaderName, field: string): string {
    const f = (LAYOUTS[header] as Record<string, FieldLayout>)[field]!;
    const at = `${this.expr(handle)} + ${f.offset}u`;
    const load = `vig_load${f.bytes * 8}(pkt, ${at})`;
    if (f.bits === undefined) return load;
    const shifted = f.shift ? `${load} / ${2 ** f.shift}u` : load;
    return `(${uintType(f.width)})(${shifted} % ${2 ** f.bits}u)`;
  }

  private headerWrite(handle: Expr, header: HeaderName, field: string, value: Expr): string {
    const f = (LAYOUTS[header] as Record<string, FieldLayout>)[field]!;
    const v = this.expr(value);
    switch (header) {
      case "ethernet":
        return `vig_store${f.bytes * 8}(pkt, ${this.expr(handle)} + ${f.offset}u, ${v});`;
      case "ipv4":
        return `vig_ipv4_write(pkt, len, ${f.offset}u, ${f.bytes}u, ${v}, ${f.checksum === "ipv4+pseudo"});`;
      case "tcp":
      case "udp":
        return `vig_l4_write(pkt, ${this.expr(handle)}, ${f.offset}u, ${f.bytes}u, ${v}, ${header === "udp"});`;
    }
  }

  // ------------------------------------------------------------ statements

  stmts(list: Stmt[], indent: string): string[] {
    return list.flatMap((s) => this.stmt(s, indent));
  }

  private stmt(s: Stmt, indent: string): string[] {
    const lines = [indent + this.where(s.loc)];
    const add = (line: string) => lines.push(indent + line);
    switch (s.kind) {
      case "let":
        add(`${cType(s.varType)} ${s.name} = ${this.expr(s.init)};`);
        break;
      case "assign":
        add(`${s.name} = ${this.expr(s.value)};`);
        break;
      case "setHeaderField":
        add(this.headerWrite(s.handle, s.header, s.field, s.value));
        break;
      case "stateCall": {
        const call = `${s.structure}_${snake(s.method)}(st${s.args.map((a) => ", " + this.expr(a)).join("")})`;
        if (!s.result) add(`${this.discardsResult(s) ? "(void)" : ""}${call};`);
        else if (s.result.declare) add(`${cType(s.result.declare)} ${s.result.name} = ${call};`);
        else add(`${s.result.name} = ${call};`);
        break;
      }
      case "if": {
        add(`if (${stripParens(this.expr(s.cond))}) {`);
        lines.push(...this.stmts(s.then, indent + "  "));
        if (s.else.length > 0) {
          add("} else {");
          lines.push(...this.stmts(s.else, indent + "  "));
        }
        add("}");
        break;
      }
      case "return":
        add(s.value ? `return ${this.expr(s.value)};` : "return;");
        break;
      case "for": {
        const t = uintType(s.varType.width);
        const assigned = [...new Set(assignedLocals(s.body))].filter((n) => n !== s.variable);
        add(`/*@ loop assigns ${[s.variable, ...assigned, ...this.frameAssigns()].join(", ")};`);
        if (this.m.state.length > 0) add(`    loop invariant nf_state_inv(st);`);
        add(`    loop invariant ${s.variable} >= ${this.expr(s.from)};`);
        add(`    loop variant ${this.expr(s.to)} - ${s.variable}; */`);
        add(`for (${t} ${s.variable} = ${this.expr(s.from)}; ${s.variable} < ${this.expr(s.to)}; ${s.variable}++) {`);
        lines.push(...this.stmts(s.body, indent + "  "));
        add("}");
        break;
      }
      case "callStmt":
        add(`${s.fn}(${CONTEXT_ARGS}${s.args.map((a) => ", " + this.expr(a)).join("")});`);
        break;
    }
    return lines;
  }

  private discardsResult(s: Extract<Stmt, { kind: "stateCall" }>): boolean {
    const decl = this.m.state.find((d) => d.name === s.structure)!;
    return resultType(STRUCTURE_METHODS[decl.kind][s.method]!, decl.record) !== "void";
  }

  // ------------------------------------------------------------ functions

  function(f: FunctionDecl, isProcess: boolean): string {
    const params = f.params.map((p) => `, ${cType(p.type)} ${p.name}`).join("");
    const signature = isProcess
      ? `uint16_t nf_process(${CONTEXT_PARAMS})`
      : `static ${cType(f.returnType)} ${f.name}(${CONTEXT_PARAMS}${params})`;
    const body = this.stmts(f.body, "  ");
    return [`/* ${this.sourceName}:${f.loc.line}: function ${f.name} */`, this.functionContract(isProcess ? "process" : "helper"), `${signature} {`, ...CONTEXT_UNUSED, ...body, "}"].join("\n");
  }

  // ------------------------------------------------------------ nf_prefetch

  /**
   * nf_prefetch (runtime-c/shells/nf.h): the slice of process up to its first table lookup on each
   * path, the lookup replaced by a prefetch of what it reads first. Kept: declarations,
   * assignments and branches whose expressions read only the packet, config and context. Skipped:
   * state updates without a result (process does them; the hint may then be for a stale table,
   * which costs a wasted prefetch, never a wrong result). A path ends (`return;`) at its lookup and
   * at anything else: an update with a result, a header write, a loop, a helper call, a state read
   * other than a prefetchable lookup. It writes nothing, which its contract (assigns \nothing)
   * says and the C stage proves with the rest of its goals.
   */
  prefetchFunction(): string {
    const used = new Set<PrefetchCall>();
    const body = this.prefetchSlice(this.m.process.body, "  ", used).lines;
    this.prefetchHelpersUsed = used;
    return [
      `/* ${this.sourceName}:${this.m.process.loc.line}: function ${this.m.process.name}, up to its table lookups: cache hints for nf_process */`,
      this.functionContract("prefetch"),
      `void nf_prefetch(${CONTEXT_PARAMS}) {`,
      ...CONTEXT_UNUSED,
      ...(used.size > 0 ? body : ["  /* no table lookup to prefetch */"]),
      "}",
    ].join("\n");
  }

  /** Set by prefetchFunction: the prefetch calls nf_prefetch makes (their helpers: PREFETCH_HELPERS). */
  prefetchHelpersUsed = new Set<PrefetchCall>();

  /** The slice of `list` (see prefetchFunction); `ends` when every path through it has returned. */
  private prefetchSlice(list: Stmt[], indent: string, used: Set<PrefetchCall>): { lines: string[]; ends: boolean } {
    const lines: string[] = [];
    const add = (...ls: string[]) => lines.push(...ls.map((l) => indent + l));
    const end = () => {
      add("return;");
      return { lines, ends: true };
    };
    for (const s of list) {
      lines.push(indent + this.where(s.loc));
      switch (s.kind) {
        case "let":
        case "assign": {
          const value = s.kind === "let" ? s.init : s.value;
          if (readsState(value)) {
            lines.push(...(this.prefetchOf(value, used) ?? []).map((h) => indent + h));
            return end();
          }
          if (s.kind === "assign") add(`${s.name} = ${this.expr(s.value)};`);
          // The slice may not read every local it keeps (-Wunused-but-set-variable).
          else add(`${cType(s.varType)} ${s.name} = ${this.expr(s.init)};`, `(void)${s.name};`);
          break;
        }
        case "stateCall":
          if (s.result !== undefined || s.args.some(readsState)) return end();
          add("/* a state update: done by nf_process, not here */");
          break;
        case "if": {
          if (readsState(s.cond)) return end();
          add(`if (${stripParens(this.expr(s.cond))}) {`);
          const then = this.prefetchSlice(s.then, indent + "  ", used);
          const otherwise = this.prefetchSlice(s.else, indent + "  ", used);
          lines.push(...then.lines);
          if (s.else.length > 0) {
            add("} else {");
            lines.push(...otherwise.lines);
          }
          add("}");
          if (then.ends && otherwise.ends) return { lines, ends: true };
          break;
        }
        default:
          // return, a header write, a loop or a helper call ends the slice.
          return end();
      }
    }
    return { lines, ends: false };
  }

  /** The prefetch replacing a lookup (the whole value of a declaration or assignment), if it has one. */
  private prefetchOf(e: Expr, used: Set<PrefetchCall>): string[] | undefined {
    if (e.kind !== "stateRead" || e.args.some(readsState)) return undefined;
    const d = this.m.state.find((x) => x.name === e.structure)!;
    const h = `st->${d.name}`;
    const byHash = (map: string) => {
      used.add("vig_map_prefetch");
      const key = e.args[0]!;
      if (key.kind === "local") return [`vig_map_prefetch(${map}, ${d.record}_hash(&${key.name}));`];
      return ["{", `  const struct ${d.record} key = ${this.expr(key)};`, `  vig_map_prefetch(${map}, ${d.record}_hash(&key));`, "}"];
    };
    switch (`${d.kind}.${e.method}`) {
      case "FlowTable.find":
        return byHash(`${h}->map`);
      case "FlowMap.get":
        return byHash(h);
      case "FlowTable.keyAt":
        used.add("vig_prefetch_flow_table_entry");
        return [`vig_prefetch_flow_table_entry(${h}, ${this.expr(e.args[0]!)});`];
      default:
        return undefined;
    }
  }

  // ------------------------------------------------------------ ACSL

  /** Everything a generated function may write: the packet and the structures' footprints. */
  private frameAssigns(): string[] {
    return ["pkt[0 .. len - 1]", ...this.m.state.flatMap((d) => FOOTPRINT[d.kind](`st->${d.name}`))];
  }

  /**
   * The shell's guarantees at every call of nf_process (runtime-c/shells/nf.h): a valid packet of
   * `len` bytes, a device below device_count <= NF_MAX_DEVICES, a config within its declared ranges
   * and constraints (checked at start-up), structures of the declared capacities satisfying their
   * invariants, in memory apart from the packet, config and environment, and times that never go
   * back (every stored time <= time_ns). Every generated function keeps the state invariant and the
   * times bound, so the assumption at the next packet is what this one ensures.
   */
  private functionContract(kind: "process" | "helper" | "prefetch"): string {
    const req: string[] = [
      "\\valid(pkt + (0 .. len - 1))",
      "\\valid_read(cfg) && \\valid_read(env)",
      "1 <= env->device_count <= NF_MAX_DEVICES && device < env->device_count",
    ];
    for (const f of this.m.config) {
      const typeMax = (1n << BigInt(f.width)) - 1n;
      const bound = (v: string): string[] => {
        const out: string[] = [];
        if (f.kind === "device") out.push(`${v} < env->device_count`);
        if (f.kind === "bool") out.push(`${v} <= 1`);
        if (f.min > 0n) out.push(`${v} >= ${f.min}`);
        if (f.max < typeMax && f.kind !== "device") out.push(`${v} <= ${f.max}`);
        return out;
      };
      const conds = bound(f.perDevice ? `cfg->${f.name}[d]` : `cfg->${f.name}`);
      if (conds.length === 0) continue;
      req.push(f.perDevice ? `\\forall integer d; 0 <= d < NF_MAX_DEVICES ==> ${conds.join(" && ")}` : conds.join(" && "));
    }
    for (const c of this.m.constraints) req.push(`${stripParens(this.expr(c.expr))}; // ${this.sourceName}:${c.loc.line}`);
    for (const d of this.m.state) req.push(`st->${d.name}->capacity == ${this.expr(d.capacity)} && ${this.expr(d.capacity)} >= 1`);
    const ensures: string[] = [];
    if (this.m.state.length > 0) {
      req.push("nf_state_inv(st) && nf_state_times_le(st, time_ns)");
      // nf_prefetch writes nothing (its assigns says so), so it keeps the state trivially.
      if (kind !== "prefetch") ensures.push(`${STATE_KEPT}: nf_state_inv(st) && nf_state_times_le(st, time_ns)`);
    } else req.push("\\valid_read(st)");
    req.push("\\separated(pkt + (0 .. len - 1), cfg, env)");
    // Each of packet, config and environment is apart from the state (the state's own blocks are
    // apart from each other by nf_state_inv): fewer hypotheses than one n-ary \separated.
    const state = ["st", ...this.m.state.flatMap((d) => BLOCKS[d.kind](`st->${d.name}`))];
    for (const x of ["pkt + (0 .. len - 1)", "cfg", "env"]) req.push(state.map((b) => `\\separated(${x}, ${b})`).join(" &&\n    "));
    // nf_process is called by the shell only; helpers state what they may write, for their callers;
    // nf_prefetch writes nothing at all.
    const assigns = { process: [], helper: [`  assigns ${this.frameAssigns().join(", ")};`], prefetch: ["  assigns \\nothing;"] }[kind];
    const lines = [
      "/*@",
      ...req.map((r) => `  requires ${r}${r.includes("; //") ? "" : ";"}`),
      ...assigns,
      ...ensures.map((e) => `  ensures ${e};`),
      "*/",
    ];
    return lines.join("\n");
  }

  /**
   * Record fields the NF stores devices in: every literal of the record sets them from the input
   * device or a device config field. The state invariant says stored records keep them below
   * NF_MAX_DEVICES, so reading one back and indexing a per-device array with it is in bounds.
   */
  private deviceFields(record: string): string[] {
    const lits: Extract<Expr, { kind: "recordLit" }>[] = [];
    for (const f of [this.m.process, ...this.m.functions])
      walkExprs(f.body, (e) => {
        if (e.kind === "recordLit" && e.record === record) lits.push(e);
      });
    if (lits.length === 0) return [];
    const isDevice = (e: Expr): boolean =>
      (e.kind === "context" && e.field === "device") || (e.kind === "config" && this.m.config.find((c) => c.name === e.field)?.kind === "device");
    const rec = this.m.records.find((r) => r.name === record);
    return (rec?.fields ?? []).map((f) => f.name).filter((name) => lits.every((l) => l.fields[name] !== undefined && isDevice(l.fields[name]!)));
  }

  /**
   * The NF's view of its state, in terms of the structures' own contracts (runtime-c/structures/*.h):
   * nf_state_inv (every structure's representation invariant, records of the size the NF stores,
   * the state's blocks apart from each other), nf_state_times_le (no stored time after `now`), and
   * per keyed structure `<s>_has(st, r)` (an entry's key bytes encode record r, with r's hash).
   */
  nfStateModel(): string {
    if (this.m.state.length === 0) return "";
    const inv: string[] = ["\\valid_read(st)"];
    const times: string[] = [];
    const preds: string[] = [];
    for (const d of this.m.state) {
      const h = `st->${d.name}`;
      inv.push(STRUCTURE_INV[d.kind](h));
      const sizeField = RECORD_SIZE_FIELD[d.kind];
      if (sizeField !== undefined) inv.push(`${h}->${sizeField} == ${d.record}_KEY_BYTES`);
      inv.push(...BLOCKS[d.kind](h).map((b) => `\\separated(st, ${b})`));
      const alloc = TIMED_ALLOCATOR[d.kind];
      if (alloc !== undefined) times.push(`vig_allocator_times_le(${alloc(h)}, now)`);
      const r = d.record;
      if (d.kind === "FlowTable")
        preds.push(
          `  predicate ${d.name}_has{L}(struct nf_state *st, struct ${r} r) =\n    \\exists integer i; vig_flow_table_entry(${h}, i) && ${h}->hashes[i] == ${r}_hash_of(r) &&\n      ${r}_encodes(vig_flow_table_key_at(${h}, i), r);`,
        );
      if (d.kind === "FlowMap")
        preds.push(
          `  predicate ${d.name}_has{L}(struct nf_state *st, struct ${r} r) =\n    \\exists integer s; 0 <= s < ${h}->table_size && vig_map_busy(${h}, s) &&\n      ${h}->slots[s].hash == ${r}_hash_of(r) && ${r}_encodes(&${h}->slots[s].key[0], r);`,
        );
    }
    // Different structures live in different blocks.
    const blocks = this.m.state.map((d) => BLOCKS[d.kind](`st->${d.name}`));
    for (let i = 0; i < blocks.length; i++)
      for (let j = i + 1; j < blocks.length; j++) for (const x of blocks[i]!) for (const y of blocks[j]!) inv.push(`\\separated(${x}, ${y})`);
    return [
      "/*@",
      `  predicate nf_state_inv{L}(struct nf_state *st) =\n    ${inv.join(" &&\n    ")};`,
      `  predicate nf_state_times_le{L}(struct nf_state *st, integer now) =\n    ${times.length === 0 ? "\\true" : times.join(" && ")};`,
      ...preds,
      "*/",
    ].join("\n");
  }

  /**
   * The contract of a typed accessor: the structure function's contract restated for the NF (record
   * keys, the state invariant and times bound kept). WP proves it against the structure's contract;
   * generated functions are proven against it. Each operation's own precondition is named
   * (`key_absent`, `entry_exists` ...) so that a proof can select it at every call site (WP's
   * -wp-prop, as tests/c-proof-nf.test.ts's planted-bug run does).
   */
  private accessorContract(d: StructureDecl, method: string): string {
    const h = `st->${d.name}`;
    const cap = `${h}->capacity`;
    const dev = d.record ? this.deviceFields(d.record) : [];
    const c: string[] = ["requires nf_state_inv(st);"];
    const timesLe = (now: string) => `vig_allocator_times_le(${TIMED_ALLOCATOR[d.kind]?.(h) ?? ""}, ${now})`;
    const reads = (...ensures: string[]) => c.push("assigns \\nothing;", ...ensures.map((e) => `ensures ${e};`));
    const writes = (...ensures: string[]) =>
      c.push(`assigns ${FOOTPRINT[d.kind](h).join(",\n    ")};`, "ensures nf_state_inv(st);", ...ensures.map((e) => `ensures ${e};`));
    // An operation that takes `now` needs (and keeps) every stored time <= now; one that does not
    // keeps any such bound.
    const withNow = () => c.push(`requires ${timesLe("now")};`);
    const keepsTimes = `\\forall integer t; \\at(${timesLe("t")}, Pre) ==> ${timesLe("t")}`;
    const entry = (i: string) => `vig_flow_table_entry(${h}, ${i})`;
    const allocated = (i: string) => `vig_allocator_allocated(${h}, ${i})`;
    switch (`${d.kind}.${method}`) {
      case "FlowTable.find":
        reads(`\\result.present <==> ${d.name}_has(st, key)`, `\\result.present ==> \\result.value < ${cap} && ${entry("\\result.value")}`);
        break;
      case "FlowTable.keyAt":
        reads(`\\result.present ==> index < ${cap} && ${entry("index")}${dev.map((f) => ` && \\result.value.${f} < NF_MAX_DEVICES`).join("")}`);
        break;
      case "FlowTable.size":
        reads(`\\result <= ${cap}`);
        break;
      case "FlowTable.add":
        withNow();
        c.push(`requires key_absent: !${d.name}_has(st, key);`);
        writes(timesLe("now"), `\\result.present ==> \\result.value < ${cap} && ${entry("\\result.value")}`);
        break;
      case "FlowTable.refresh":
        withNow();
        c.push(`requires entry_exists: ${entry("index")};`);
        writes(timesLe("now"));
        break;
      case "FlowTable.remove":
        c.push(`requires entry_exists: ${entry("index")};`);
        writes(keepsTimes);
        break;
      case "FlowTable.expire":
        withNow();
        writes(timesLe("now"), `\\result <= ${cap}`);
        break;
      case "FlowMap.get":
        reads(`\\result.present <==> ${d.name}_has(st, key)`);
        break;
      case "FlowMap.size":
        reads(`\\result == ${h}->size && \\result <= ${cap}`);
        break;
      case "FlowMap.put":
        c.push(`requires key_absent: !${d.name}_has(st, key) && ${h}->size < ${cap};`);
        writes();
        break;
      case "FlowMap.erase":
        c.push(`requires key_present: ${d.name}_has(st, key);`);
        writes();
        break;
      case "Vector.get":
        c.push(`requires index_in_range: index < ${cap};`);
        reads();
        break;
      case "Vector.set":
        c.push(`requires index_in_range: index < ${cap};`);
        writes();
        break;
      case "IndexAllocator.isAllocated":
        reads(`\\result <==> ${allocated("index")}`, `\\result ==> index < ${cap}`);
        break;
      case "IndexAllocator.count":
        reads(`\\result <= ${cap}`);
        break;
      case "IndexAllocator.allocate":
        withNow();
        writes(timesLe("now"), `\\result.present ==> \\result.value < ${cap} && ${allocated("\\result.value")}`);
        break;
      case "IndexAllocator.expireOne":
        withNow();
        writes(timesLe("now"), `\\result.present ==> \\result.value < ${cap}`);
        break;
      case "IndexAllocator.refresh":
        withNow();
        c.push(`requires index_allocated: ${allocated("index")};`);
        writes(timesLe("now"));
        break;
      case "IndexAllocator.free":
        c.push(`requires index_allocated: ${allocated("index")};`);
        writes(keepsTimes);
        break;
      default:
        throw new Error(`no accessor contract for ${d.kind}.${method}`);
    }
    return ["/*@", ...c.map((l) => "  " + l), "*/"].join("\n");
  }

  /**
   * Typed wrappers around the generic runtime-c structures, one per operation the NF uses. Records
   * go to the structures as key bytes (`<record>_encode`) and come back through `<record>_decode`.
   */
  accessors(): string[] {
    const out: string[] = [];
    for (const d of this.m.state) {
      const rec = d.record;
      const key = rec ? `struct ${rec}` : "";
      const p = `st->${d.name}`;
      const fn = (ret: string, method: string, params: string, body: string[]) =>
        out.push([this.accessorContract(d, method), `static inline ${ret} ${d.name}_${snake(method)}(struct nf_state *st${params}) {`, ...body.map((b) => "  " + b), "}"].join("\n"));
      const encodeKey = [`char key_bytes[${rec}_KEY_BYTES];`, `${rec}_encode(&key, key_bytes);`];
      const optIndex = (call: string) => ["struct vig_opt_u32 r = {false, 0};", `r.present = ${call};`, "return r;"];
      switch (d.kind) {
        case "FlowTable": {
          const dev = this.deviceFields(rec!);
          fn("struct vig_opt_u32", "find", `, ${key} key`, [...encodeKey, ...optIndex(`vig_flow_table_find(${p}, key_bytes, ${rec}_hash(&key), &r.value)`)]);
          fn(`struct opt_${rec}`, "keyAt", ", uint32_t index", [
            `struct opt_${rec} r = {false, {0}};`,
            `const char *k = vig_flow_table_key(${p}, index);`,
            "if (k != NULL) {",
            `  r.value = ${rec}_decode(k);`,
            ...(dev.length === 0
              ? ["  r.present = true;"]
              : [
                  "  /* Entries were added with devices < NF_MAX_DEVICES, but the flow table's contract does not",
                  "   * say that adding an entry leaves the other entries' keys unchanged, so no state invariant",
                  "   * can carry that: the check (never false at run time) is what proves later device indexing. */",
                  `  r.present = ${dev.map((f) => `r.value.${f} < NF_MAX_DEVICES`).join(" && ")};`,
                ]),
            "}",
            "return r;",
          ]);
          fn("uint32_t", "size", "", [`return vig_flow_table_size(${p});`]);
          fn("struct vig_opt_u32", "add", `, ${key} key, uint64_t now`, [
            ...encodeKey,
            ...optIndex(`vig_flow_table_add(${p}, key_bytes, ${rec}_hash(&key), now, &r.value)`),
          ]);
          fn("void", "refresh", ", uint32_t index, uint64_t now", [`vig_flow_table_refresh(${p}, index, now);`]);
          fn("void", "remove", ", uint32_t index", [`vig_flow_table_remove(${p}, index);`]);
          fn("uint32_t", "expire", ", uint64_t now", [`return vig_flow_table_expire(${p}, now);`]);
          break;
        }
        case "FlowMap":
          fn("struct vig_opt_u32", "get", `, ${key} key`, [...encodeKey, ...optIndex(`vig_map_get(${p}, key_bytes, ${rec}_hash(&key), &r.value)`)]);
          fn("uint32_t", "size", "", [`return vig_map_size(${p});`]);
          fn("void", "put", `, ${key} key, uint32_t value`, [...encodeKey, `vig_map_put(${p}, key_bytes, ${rec}_hash(&key), value);`]);
          fn("void", "erase", `, ${key} key`, [...encodeKey, `vig_map_erase(${p}, key_bytes, ${rec}_hash(&key));`]);
          break;
        case "Vector":
          fn(key, "get", ", uint32_t index", [`return ${rec}_decode(vig_vector_at_const(${p}, index));`]);
          fn("void", "set", `, uint32_t index, ${key} value`, [`${rec}_encode(&value, vig_vector_at(${p}, index));`]);
          break;
        case "IndexAllocator":
          fn("bool", "isAllocated", ", uint32_t index", [`return vig_allocator_is_allocated(${p}, index);`]);
          fn("uint32_t", "count", "", [`return vig_allocator_count(${p});`]);
          fn("struct vig_opt_u32", "allocate", ", uint64_t now", optIndex(`vig_allocator_allocate(${p}, now, &r.value)`));
          fn("void", "refresh", ", uint32_t index, uint64_t now", [`vig_allocator_refresh(${p}, index, now);`]);
          fn("void", "free", ", uint32_t index", [`vig_allocator_free(${p}, index);`]);
          fn("struct vig_opt_u32", "expireOne", ", uint64_t now, uint64_t expiration", optIndex(`vig_allocator_expire_one(${p}, now, expiration, &r.value)`));
          break;
      }
    }
    return this.onlyUsed(out);
  }

  /** Drops accessors the NF never calls (unused static functions would fail -Werror). */
  private onlyUsed(accessors: string[]): string[] {
    const bodies = [this.m.process, ...this.m.functions].map((f) => this.function(f, f === this.m.process)).join("\n");
    return accessors.filter((a) => {
      const name = /static inline [^(]*? (\w+)\(/.exec(a.slice(a.indexOf("static inline")))![1]!;
      return new RegExp(`\\b${name}\\(`).test(bodies);
    });
  }

  structureAlloc(d: StructureDecl): string {
    const cap = this.expr(d.capacity);
    switch (d.kind) {
      case "FlowTable":
        return `vig_flow_table_alloc(${d.record}_KEY_BYTES, ${cap}, ${this.expr(d.expiration!)})`;
      case "FlowMap":
        return `vig_map_alloc(${d.record}_KEY_BYTES, ${cap})`;
      case "Vector":
        return `vig_vector_alloc(${d.record}_KEY_BYTES, ${cap})`;
      case "IndexAllocator":
        return `vig_allocator_alloc(${cap})`;
    }
  }

  /**
   * Trace target only (`#ifdef VIG_TRACE_TARGET` in the template; runtime-c/shells/trace_state.h):
   * seeding and reading the FlowTables for `vigorc replay`, through their public API. Kept apart
   * from the verified code: neither the DPDK build nor Frama-C sees it.
   */
  traceHooks(): string {
    const tables = this.m.state.filter((d) => d.kind === "FlowTable" && d.record);
    const records = [...new Set(tables.map((d) => d.record!))].map((n) => this.m.records.find((r) => r.name === n)!);
    const out: string[] = ["#include <string.h>", "", '#include "trace_state.h"', ""];
    for (const r of records) {
      out.push(
        `static void ${r.name}_from_values(struct ${r.name} *r, const uint64_t *v) {`,
        "  memset(r, 0, sizeof *r);",
        ...r.fields.map((f, i) => `  r->${f.name} = (${uintType(f.type.width)})v[${i}];`),
        "}",
        "",
        `static void ${r.name}_to_values(const struct ${r.name} *r, uint64_t *v) {`,
        ...r.fields.map((f, i) => `  v[${i}] = r->${f.name};`),
        "}",
        "",
      );
    }
    const entries = tables.map((d) => `    {"${d.name}", ${this.m.records.find((r) => r.name === d.record)!.fields.length}},`);
    out.push(
      "const struct nf_trace_table nf_trace_tables[] = {",
      ...(entries.length > 0 ? entries : ["    {NULL, 0},"]),
      "};",
      `const size_t nf_trace_table_count = ${tables.length};`,
      "",
    );
    const perTable = (signature: string, body: (d: StructureDecl, rec: string) => string[], ...fallback: string[]) =>
      out.push(
        `${signature} {`,
        "  switch (table) {",
        ...tables.flatMap((d, i) => [`  case ${i}: {`, ...body(d, d.record!).map((l) => "    " + l), "  }"]),
        "  default:",
        ...fallback.map((l) => "    " + l),
        "  }",
        "}",
        "",
      );
    perTable("uint32_t nf_trace_capacity(const struct nf_config *cfg, size_t table)", (d) => [`return ${this.expr(d.capacity)};`], "(void)cfg;", "return 0;");
    perTable(
      "bool nf_trace_add(struct nf_state *st, size_t table, const uint64_t *key, uint64_t now, uint32_t *index_out)",
      (d, rec) => [`struct ${rec} k;`, `char bytes[${rec}_KEY_BYTES];`, `${rec}_from_values(&k, key);`, `${rec}_encode(&k, bytes);`, `return vig_flow_table_add(st->${d.name}, bytes, ${rec}_hash(&k), now, index_out);`],
      "(void)st, (void)key, (void)now, (void)index_out;", "return false;",
    );
    perTable(
      "bool nf_trace_find(struct nf_state *st, size_t table, const uint64_t *key, uint32_t *index_out)",
      (d, rec) => [`struct ${rec} k;`, `char bytes[${rec}_KEY_BYTES];`, `${rec}_from_values(&k, key);`, `${rec}_encode(&k, bytes);`, `return vig_flow_table_find(st->${d.name}, bytes, ${rec}_hash(&k), index_out);`],
      "(void)st, (void)key, (void)index_out;", "return false;",
    );
    perTable("void nf_trace_remove(struct nf_state *st, size_t table, uint32_t index)", (d) => [`vig_flow_table_remove(st->${d.name}, index);`, "return;"], "(void)st, (void)index;", "return;");
    perTable(
      "bool nf_trace_entry(struct nf_state *st, size_t table, uint32_t index, uint64_t *key_out, uint64_t *time_out)",
      (d, rec) => [
        `const char *bytes = vig_flow_table_key(st->${d.name}, index);`,
        "if (bytes == NULL) return false;",
        `struct ${rec} k = ${rec}_decode(bytes);`,
        `${rec}_to_values(&k, key_out);`,
        "/* flow_table.h has no time accessor: the allocator's cell is read directly (trace only). */",
        `*time_out = st->${d.name}->alloc->cells[index].time;`,
        "return true;",
      ],
      "(void)st, (void)index, (void)key_out, (void)time_out;", "return false;",
    );
    return out.join("\n");
  }

  render(): string {
    const m = this.m;
    const flags = m.config.map((f) => ({
      flag: f.flag,
      field: f.name,
      doc: cString(f.doc),
      kind: FLAG_KIND[f.kind],
      width: f.width,
      perDevice: f.perDevice,
      required: f.default === undefined,
      min: literal(f.min, 64),
      max: literal(f.max, 64),
      default: literal(f.default ?? 0n, 64),
    }));
    const configMembers = m.config.map((f) => `${uintType(f.width)} ${f.name}${f.perDevice ? "[NF_MAX_DEVICES]" : ""}`);
    if (configMembers.length === 0) configMembers.push("char unused");
    const functions = [...m.functions.map((f) => this.function(f, false)), this.function(m.process, true), this.prefetchFunction()];
    const prefetchHelpers = [...this.prefetchHelpersUsed].sort().flatMap((h) => PREFETCH_HELPERS[h] ?? []);
    return TEMPLATE({
      source: path.relative(process.cwd(), m.file) || m.file,
      sourceName: this.sourceName,
      name: m.name,
      includes: [...new Set(m.state.map((d) => STRUCTURE_C[d.kind].header)), ...(prefetchHelpers.length > 0 ? [PREFETCH_HEADER] : [])],
      keyRecords: m.state.some((d) => d.record !== undefined),
      keyWidths: keyWidths(m.records.filter((r) => m.state.some((d) => d.record === r.name))),
      records: m.records.map((r) => ({
        name: r.name,
        line: r.loc.line,
        members: recordMembers(r),
        key: m.state.some((d) => d.record === r.name) ? recordKeyCode(r) : undefined,
      })),
      configMembers,
      flags,
      flagCount: flags.length,
      constraints: m.constraints.map((c) => ({ expr: stripParens(this.expr(c.expr)), text: cString(c.loc.text), line: c.loc.line })),
      capacities: m.state.map((d) => ({ name: d.name, expr: this.expr(d.capacity), line: d.loc.line })),
      structures: m.state.map((d) => ({ name: d.name, cType: STRUCTURE_C[d.kind].cType, alloc: this.structureAlloc(d), line: d.loc.line })),
      stateModel: this.nfStateModel(),
      accessors: this.accessors(),
      prefetchHelpers,
      functions,
      traceHooks: this.traceHooks(),
    });
  }
}

/** Locals a statement list assigns (for loop assigns clauses). */
function assignedLocals(ss: Stmt[]): string[] {
  return ss.flatMap((s) => {
    switch (s.kind) {
      case "assign":
        return [s.name];
      case "stateCall":
        return s.result && !s.result.declare ? [s.result.name] : [];
      case "if":
        return [...assignedLocals(s.then), ...assignedLocals(s.else)];
      case "for":
        return assignedLocals(s.body);
      default:
        return [];
    }
  });
}

const isExprNode = (v: unknown): v is Expr => v !== null && typeof v === "object" && "kind" in v && "type" in v;

/** Calls `fn` on `e` and every subexpression of it. */
function visitExpr(e: Expr, fn: (e: Expr) => void): void {
  fn(e);
  for (const v of Object.values(e)) {
    if (isExprNode(v)) visitExpr(v, fn);
    if (Array.isArray(v)) for (const x of v) if (isExprNode(x)) visitExpr(x, fn);
  }
  if (e.kind === "recordLit") for (const x of Object.values(e.fields)) visitExpr(x, fn);
}

/** Calls `fn` on every expression (and subexpression) of `ss`, nested blocks included. */
function walkExprs(ss: Stmt[], fn: (e: Expr) => void): void {
  for (const s of ss) {
    for (const v of Object.values(s)) {
      if (isExprNode(v)) visitExpr(v, fn);
      if (Array.isArray(v)) for (const x of v) if (isExprNode(x)) visitExpr(x, fn);
    }
    if (s.kind === "if") {
      walkExprs(s.then, fn);
      walkExprs(s.else, fn);
    }
    if (s.kind === "for") walkExprs(s.body, fn);
  }
}

/** Whether evaluating `e` reads the state (a structure call or a helper, which takes the state). */
function readsState(e: Expr): boolean {
  let reads = false;
  visitExpr(e, (x) => {
    if ((x.kind === "stateRead" && x.method !== "capacity") || x.kind === "call") reads = true;
  });
  return reads;
}

function snake(method: string): string {
  return method.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** Removes one pair of redundant outer parentheses, for readability. */
function stripParens(s: string): string {
  if (!s.startsWith("(") || !s.endsWith(")")) return s;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "(") depth++;
    else if (s[i] === ")") depth--;
    if (depth === 0 && i < s.length - 1) return s;
  }
  return s.slice(1, -1);
}

export function emitC(m: NfModule): string {
  return new CEmitter(m).render();
}
