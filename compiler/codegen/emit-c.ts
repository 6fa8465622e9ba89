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

const STRUCTURE_C: Record<StructureDecl["kind"], { cType: string; header: string }> = {
  FlowTable: { cType: "flow_table", header: "flow_table.h" },
  FlowMap: { cType: "map", header: "map.h" },
  Vector: { cType: "vector", header: "vector.h" },
  IndexAllocator: { cType: "allocator", header: "allocator.h" },
};

/**
 * ACSL: what each structure's operations may write (its footprint), as l-values reached from its
 * handle `h`. Only contents and counters: the handle's own fields and the pointers in it never change
 * after allocation, so footprints of later calls are the same sets as at entry.
 */
const FOOTPRINT: Record<StructureDecl["kind"], (h: string) => string[]> = {
  FlowTable: (h) => [
    ...FOOTPRINT.FlowMap(`${h}->map`),
    ...FOOTPRINT.Vector(`${h}->keys`),
    `${h}->hashes[0 .. ${h}->capacity - 1]`,
    ...FOOTPRINT.IndexAllocator(`${h}->alloc`),
  ],
  FlowMap: (h) => [`${h}->size`, `${h}->slots[0 .. ${h}->table_size - 1]`, `${h}->keys[0 .. ${h}->table_size * ${h}->key_size - 1]`],
  Vector: (h) => [`${h}->data[0 .. ${h}->capacity * ${h}->elem_size - 1]`],
  IndexAllocator: (h) => [`${h}->count`, `${h}->oldest`, `${h}->newest`, `${h}->cells[0 .. ${h}->capacity - 1]`],
};

/** ACSL: the blocks a structure is made of (for the separation precondition). */
const BLOCKS: Record<StructureDecl["kind"], (h: string) => string[]> = {
  FlowTable: (h) => [h, ...BLOCKS.FlowMap(`${h}->map`), ...BLOCKS.Vector(`${h}->keys`), `${h}->hashes + (0 .. ${h}->capacity - 1)`, ...BLOCKS.IndexAllocator(`${h}->alloc`)],
  FlowMap: (h) => [h, `${h}->slots + (0 .. ${h}->table_size - 1)`, `${h}->keys + (0 .. ${h}->table_size * ${h}->key_size - 1)`],
  Vector: (h) => [h, `${h}->data + (0 .. ${h}->capacity * ${h}->elem_size - 1)`],
  IndexAllocator: (h) => [h, `${h}->cells + (0 .. ${h}->capacity - 1)`],
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
    const unused = ["st", "cfg", "env", "pkt", "len", "device", "time_ns"].map((n) => `  (void)${n};`);
    return [`/* ${this.sourceName}:${f.loc.line}: function ${f.name} */`, this.functionContract(isProcess), `${signature} {`, ...unused, ...body, "}"].join("\n");
  }

  // ------------------------------------------------------------ ACSL

  /** Everything a generated function may write: the packet and the structures' footprints. */
  private frameAssigns(): string[] {
    return ["pkt[0 .. len - 1]", ...this.m.state.flatMap((d) => FOOTPRINT[d.kind](`st->${d.name}`))];
  }

  /**
   * The shell's guarantees at every call of nf_process (runtime-c/shells/nf.h): a valid packet of
   * `len` bytes, a device below device_count <= NF_MAX_DEVICES, a config within its declared ranges
   * and constraints (checked at start-up), structures of the declared capacities, all in separate
   * memory; and the NF's state invariant (see nfStateModel).
   */
  private functionContract(isProcess: boolean): string {
    const req: string[] = [
      "\\valid(pkt + (0 .. len - 1))",
      "\\valid_read(cfg) && \\valid_read(env) && \\valid_read(st)",
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
    const blocks = ["pkt + (0 .. len - 1)", "cfg", "env", "st", ...this.m.state.flatMap((d) => BLOCKS[d.kind](`st->${d.name}`))];
    req.push(`\\separated(${blocks.join(", ")})`);
    if (this.m.state.length > 0) req.push("nf_state_inv(st)");
    // nf_process is called by the shell only; helpers state what they may write, for their callers.
    const assigns = isProcess ? [] : [`  assigns ${this.frameAssigns().join(", ")};`];
    const lines = ["/*@", ...req.map((r) => `  requires ${r}${r.includes("; //") ? "" : ";"}`), ...assigns, "*/"];
    return lines.join("\n");
  }

  /**
   * Record fields the NF stores devices in: every literal of the record sets them from the input
   * device or a device config field. The state invariant says stored records keep them below
   * NF_MAX_DEVICES, so reading one back and indexing a per-device array with it is in bounds.
   */
  private deviceFields(record: string): string[] {
    const lits: Extract<Expr, { kind: "recordLit" }>[] = [];
    const visitExpr = (e: Expr): void => {
      if (e.kind === "recordLit" && e.record === record) lits.push(e);
      for (const v of Object.values(e)) {
        if (v !== null && typeof v === "object" && "kind" in v && "type" in v) visitExpr(v as Expr);
        if (Array.isArray(v)) for (const x of v) if (x !== null && typeof x === "object" && "type" in x) visitExpr(x as Expr);
      }
      if (e.kind === "recordLit") for (const x of Object.values(e.fields)) visitExpr(x);
    };
    const visitStmts = (ss: Stmt[]): void => {
      for (const s of ss) {
        for (const v of Object.values(s)) {
          if (v !== null && typeof v === "object" && "kind" in v && "type" in v) visitExpr(v as Expr);
          if (Array.isArray(v))
            for (const x of v) {
              if (x !== null && typeof x === "object" && "type" in x) visitExpr(x as Expr);
            }
        }
        if (s.kind === "if") {
          visitStmts(s.then);
          visitStmts(s.else);
        }
        if (s.kind === "for") visitStmts(s.body);
      }
    };
    for (const f of [this.m.process, ...this.m.functions]) visitStmts(f.body);
    if (lits.length === 0) return [];
    const isDevice = (e: Expr): boolean =>
      (e.kind === "context" && e.field === "device") || (e.kind === "config" && this.m.config.find((c) => c.name === e.field)?.kind === "device");
    const rec = this.m.records.find((r) => r.name === record);
    return (rec?.fields ?? []).map((f) => f.name).filter((name) => lits.every((l) => l.fields[name] !== undefined && isDevice(l.fields[name]!)));
  }

  /**
   * The abstract view of the state that accessor contracts speak about: `<s>_holds(st, i, r)` (slot
   * i of structure s is in use and holds record r), `<s>_allocated(st, i)`, and the NF's state
   * invariant nf_state_inv. The accessors' contracts are proven against the structures' contracts
   * (runtime-c/structures/*.h) separately; generated per-packet code is proven against them.
   */
  nfStateModel(): string {
    if (this.m.state.length === 0) return "";
    const preds: string[] = [];
    const inv: string[] = [];
    for (const d of this.m.state) {
      if (d.kind === "IndexAllocator") {
        preds.push(`  predicate ${d.name}_allocated{L}(struct nf_state *st, integer index);`);
        continue;
      }
      const rec = d.record!;
      preds.push(`  predicate ${d.name}_holds{L}(struct nf_state *st, integer index, struct ${rec} r);`);
      const dev = this.deviceFields(rec);
      if (d.kind !== "FlowMap" && dev.length > 0)
        inv.push(`(\\forall integer i; \\forall struct ${rec} r; ${d.name}_holds(st, i, r) ==> ${dev.map((f) => `r.${f} < NF_MAX_DEVICES`).join(" && ")})`);
    }
    return [
      "/*@ axiomatic nf_state_model {",
      ...preds,
      "  }",
      `  predicate nf_state_inv{L}(struct nf_state *st) = ${inv.length === 0 ? "\\true" : inv.join(" &&\n    ")};`,
      "*/",
    ].join("\n");
  }

  private accessorContract(d: StructureDecl, method: string): string {
    const h = `st->${d.name}`;
    const cap = `${h}->capacity`;
    const fp = FOOTPRINT[d.kind](h).join(", ");
    const rec = d.record;
    const dev = rec ? this.deviceFields(rec) : [];
    const holdsAny = (i: string) => `\\exists struct ${rec} r; ${d.name}_holds(st, ${i}, r)`;
    const c: string[] = ["requires \\valid_read(st) && nf_state_inv(st);"];
    const writes = (extra: string[] = []) =>
      c.push(`assigns ${fp};`, "ensures nf_state_inv(st);", `ensures ${cap} == \\old(${cap});`, ...extra);
    // What the state invariant gives about a record read back (stated here so callers need no quantifiers).
    const devOk = (r: string) => dev.map((f) => ` && ${r}.${f} < NF_MAX_DEVICES`).join("");
    const reads = (extra: string[] = []) => c.push("assigns \\nothing;", ...extra);
    switch (`${d.kind}.${method}`) {
      case "FlowTable.find":
      case "FlowMap.get":
        reads([`ensures \\result.present ==> \\result.value < ${d.kind === "FlowMap" ? "4294967296" : cap} && ${d.kind === "FlowMap" ? "\\true" : `${d.name}_holds(st, \\result.value, key)`};`]);
        break;
      case "FlowTable.keyAt":
        reads([`ensures \\result.present ==> index < ${cap} && ${d.name}_holds(st, index, \\result.value)${devOk("\\result.value")};`]);
        break;
      case "FlowTable.size":
      case "FlowMap.size":
        reads([`ensures \\result <= ${cap};`]);
        break;
      case "FlowTable.add":
        if (dev.length > 0) c.push(`requires ${dev.map((f) => `key.${f} < NF_MAX_DEVICES`).join(" && ")};`);
        writes([`ensures \\result.present ==> \\result.value < ${cap} && ${d.name}_holds(st, \\result.value, key);`]);
        break;
      case "FlowTable.refresh":
      case "FlowTable.remove":
        c.push(`requires index < ${cap} && ${holdsAny("index")};`);
        writes();
        break;
      case "FlowTable.expire":
        writes([`ensures \\result <= ${cap};`]);
        break;
      case "FlowMap.put":
      case "FlowMap.erase":
        writes();
        break;
      case "Vector.get":
        c.push(`requires index < ${cap};`);
        reads([`ensures ${d.name}_holds(st, index, \\result)${devOk("\\result")};`]);
        break;
      case "Vector.set":
        c.push(`requires index < ${cap};`);
        if (dev.length > 0) c.push(`requires ${dev.map((f) => `value.${f} < NF_MAX_DEVICES`).join(" && ")};`);
        writes();
        break;
      case "IndexAllocator.isAllocated":
        c.push(`requires index < ${cap};`);
        reads([`ensures \\result ==> ${d.name}_allocated(st, index);`]);
        break;
      case "IndexAllocator.count":
        reads([`ensures \\result <= ${cap};`]);
        break;
      case "IndexAllocator.allocate":
      case "IndexAllocator.expireOne":
        writes([`ensures \\result.present ==> \\result.value < ${cap} && ${d.name}_allocated(st, \\result.value);`]);
        break;
      case "IndexAllocator.refresh":
      case "IndexAllocator.free":
        c.push(`requires index < ${cap} && ${d.name}_allocated(st, index);`);
        writes();
        break;
      default:
        writes();
    }
    return ["/*@", ...c.map((l) => "  " + l), "*/"].join("\n");
  }

  /** Typed wrappers around the generic runtime-c structures, one per operation the NF uses. */
  accessors(): string[] {
    const out: string[] = [];
    for (const d of this.m.state) {
      const rec = d.record;
      const key = rec ? `struct ${rec}` : "";
      const p = `st->${d.name}`;
      const fn = (ret: string, method: string, params: string, body: string[]) =>
        out.push([this.accessorContract(d, method), `static inline ${ret} ${d.name}_${snake(method)}(struct nf_state *st${params}) {`, ...body.map((b) => "  " + b), "}"].join("\n"));
      switch (d.kind) {
        case "FlowTable":
          fn("struct vig_opt_u32", "find", `, ${key} key`, [
            "struct vig_opt_u32 r = {false, 0};",
            `r.present = vig_flow_table_find(${p}, &key, ${rec}_hash(&key), &r.value);`,
            "return r;",
          ]);
          fn(`struct opt_${rec}`, "keyAt", ", uint32_t index", [
            `const struct ${rec} *k = vig_flow_table_key(${p}, index);`,
            `struct opt_${rec} r = {false, {0}};`,
            "if (k != NULL) {",
            "  r.present = true;",
            "  r.value = *k;",
            "}",
            "return r;",
          ]);
          fn("uint32_t", "size", "", [`return vig_flow_table_size(${p});`]);
          fn("struct vig_opt_u32", "add", `, ${key} key, uint64_t now`, [
            "struct vig_opt_u32 r = {false, 0};",
            `r.present = vig_flow_table_add(${p}, &key, ${rec}_hash(&key), now, &r.value);`,
            "return r;",
          ]);
          fn("void", "refresh", ", uint32_t index, uint64_t now", [`vig_flow_table_refresh(${p}, index, now);`]);
          fn("void", "remove", ", uint32_t index", [`vig_flow_table_remove(${p}, index);`]);
          fn("uint32_t", "expire", ", uint64_t now", [`return vig_flow_table_expire(${p}, now);`]);
          break;
        case "FlowMap":
          fn("struct vig_opt_u32", "get", `, ${key} key`, [
            "struct vig_opt_u32 r = {false, 0};",
            `r.present = vig_map_get(${p}, &key, ${rec}_hash(&key), &r.value);`,
            "return r;",
          ]);
          fn("uint32_t", "size", "", [`return vig_map_size(${p});`]);
          fn("void", "put", `, ${key} key, uint32_t value`, [`vig_map_put(${p}, &key, ${rec}_hash(&key), value);`]);
          fn("void", "erase", `, ${key} key`, [`vig_map_erase(${p}, &key, ${rec}_hash(&key));`]);
          break;
        case "Vector":
          fn(key, "get", ", uint32_t index", [`return *(const ${key} *)vig_vector_at_const(${p}, index);`]);
          fn("void", "set", `, uint32_t index, ${key} value`, [`*(${key} *)vig_vector_at(${p}, index) = value;`]);
          break;
        case "IndexAllocator":
          fn("bool", "isAllocated", ", uint32_t index", [`return vig_allocator_is_allocated(${p}, index);`]);
          fn("uint32_t", "count", "", [`return vig_allocator_count(${p});`]);
          fn("struct vig_opt_u32", "allocate", ", uint64_t now", [
            "struct vig_opt_u32 r = {false, 0};",
            `r.present = vig_allocator_allocate(${p}, now, &r.value);`,
            "return r;",
          ]);
          fn("void", "refresh", ", uint32_t index, uint64_t now", [`vig_allocator_refresh(${p}, index, now);`]);
          fn("void", "free", ", uint32_t index", [`vig_allocator_free(${p}, index);`]);
          fn("struct vig_opt_u32", "expireOne", ", uint64_t now, uint64_t expiration", [
            "struct vig_opt_u32 r = {false, 0};",
            `r.present = vig_allocator_expire_one(${p}, now, expiration, &r.value);`,
            "return r;",
          ]);
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
        return `vig_flow_table_alloc(sizeof(struct ${d.record}), ${cap}, ${this.expr(d.expiration!)})`;
      case "FlowMap":
        return `vig_map_alloc(sizeof(struct ${d.record}), ${cap})`;
      case "Vector":
        return `vig_vector_alloc(sizeof(struct ${d.record}), ${cap})`;
      case "IndexAllocator":
        return `vig_allocator_alloc(${cap})`;
    }
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
    const functions = [...m.functions.map((f) => this.function(f, false)), this.function(m.process, true)];
    return TEMPLATE({
      source: path.relative(process.cwd(), m.file) || m.file,
      sourceName: this.sourceName,
      name: m.name,
      includes: [...new Set(m.state.map((d) => STRUCTURE_C[d.kind].header))],
      records: m.records.map((r) => ({ name: r.name, line: r.loc.line, members: recordMembers(r), fields: r.fields.map((f) => f.name) })),
      configMembers,
      flags,
      flagCount: flags.length,
      constraints: m.constraints.map((c) => ({ expr: stripParens(this.expr(c.expr)), text: cString(c.loc.text), line: c.loc.line })),
      capacities: m.state.map((d) => ({ name: d.name, expr: this.expr(d.capacity), line: d.loc.line })),
      structures: m.state.map((d) => ({ name: d.name, cType: STRUCTURE_C[d.kind].cType, alloc: this.structureAlloc(d), line: d.loc.line })),
      stateModel: this.nfStateModel(),
      accessors: this.accessors(),
      functions,
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
