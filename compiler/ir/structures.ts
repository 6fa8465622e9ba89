/**
 * The state structures' operations as the IR sees them: argument and result types, and whether
 * they change state. One table for the frontend (typing), codegen (C calls) and the verifier (models).
 */
import { BOOL, int, type StructureKind, type Type } from "./ir.ts";

/** An argument or result: a fixed type, or the structure's record (key or element). */
export type Slot = Type | "record";

export interface MethodSig {
  params: Slot[];
  returns: Slot | { option: Slot } | "void";
  mutates: boolean;
  /** Properties (size, capacity) are read without parentheses. */
  property?: boolean;
}

const U32 = int(32);
const U64 = int(64);

export const STRUCTURE_METHODS: Record<StructureKind, Record<string, MethodSig>> = {
  FlowTable: {
    find: { params: ["record"], returns: { option: U32 }, mutates: false },
    keyAt: { params: [U32], returns: { option: "record" }, mutates: false },
    size: { params: [], returns: U32, mutates: false, property: true },
    capacity: { params: [], returns: U32, mutates: false, property: true },
    add: { params: ["record", U64], returns: { option: U32 }, mutates: true },
    refresh: { params: [U32, U64], returns: "void", mutates: true },
    remove: { params: [U32], returns: "void", mutates: true },
    expire: { params: [U64], returns: U32, mutates: true },
  },
  FlowMap: {
    get: { params: ["record"], returns: { option: U32 }, mutates: false },
    size: { params: [], returns: U32, mutates: false, property: true },
    capacity: { params: [], returns: U32, mutates: false, property: true },
    put: { params: ["record", U32], returns: "void", mutates: true },
    erase: { params: ["record"], returns: "void", mutates: true },
  },
  Vector: {
    get: { params: [U32], returns: "record", mutates: false },
    capacity: { params: [], returns: U32, mutates: false, property: true },
    set: { params: [U32, "record"], returns: "void", mutates: true },
  },
  IndexAllocator: {
    isAllocated: { params: [U32], returns: BOOL, mutates: false },
    count: { params: [], returns: U32, mutates: false, property: true },
    capacity: { params: [], returns: U32, mutates: false, property: true },
    allocate: { params: [U64], returns: { option: U32 }, mutates: true },
    refresh: { params: [U32, U64], returns: "void", mutates: true },
    free: { params: [U32], returns: "void", mutates: true },
    expireOne: { params: [U64, U64], returns: { option: U32 }, mutates: true },
  },
};

/** Constructor arguments, in order, as declared in state(cfg). */
export const STRUCTURE_CONSTRUCTORS: Record<StructureKind, ("capacity" | "expiration" | "zero")[]> = {
  FlowTable: ["capacity", "expiration"],
  FlowMap: ["capacity"],
  Vector: ["capacity", "zero"],
  IndexAllocator: ["capacity"],
};

export function resolveSlot(slot: Slot, record: string | undefined): Type {
  if (slot !== "record") return slot;
  if (record === undefined) throw new Error("structure without a record type");
  return { kind: "record", name: record };
}

export function resultType(sig: MethodSig, record: string | undefined): Type | "void" {
  const r = sig.returns;
  if (r === "void") return "void";
  if (typeof r === "object" && "option" in r) return { kind: "option", inner: resolveSlot(r.option, record) };
  return resolveSlot(r, record);
}
