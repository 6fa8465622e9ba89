/** The DSL: everything an NF or a spec imports. */
export * from "./types.ts";
export { Packet, EthernetHeader, Ipv4Header, TcpHeader, UdpHeader } from "./packet.ts";
export { field, defineConfig, type ConfigOf, type ConfigSchema } from "./config.ts";
export { drop, forward, flood, type Action, type Context } from "./nf.ts";
export { FlowMap } from "./structures/map.ts";
export { Vector } from "./structures/vector.ts";
export { IndexAllocator } from "./structures/allocator.ts";
export { FlowTable } from "./structures/flow-table.ts";
