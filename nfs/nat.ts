/**
 * NAT: RFC 3022 network address and port translation (NAPT) for TCP and UDP over IPv4.
 * LAN flows get a port start-port + i on the external IP, where i is the flow's index in the table.
 */
import {
  defineConfig,
  drop,
  field,
  FlowTable,
  forward,
  type Action,
  type ConfigOf,
  type Context,
  type Device,
  type Packet,
  type u16,
  type u32,
  type u8,
} from "../dsl/index.ts";

export const config = defineConfig({
  wan: field.device({ doc: "the device facing the external network" }),
  externalIp: field.ipv4({ doc: "the address LAN flows get on the WAN side" }),
  startPort: field.u16({ default: 1024, doc: "first external port handed out" }),
  maxFlows: field.u32({ min: 1, max: 65536, default: 64512, doc: "capacity of the flow table (start-port + max-flows <= 65536)" }),
  expiration: field.duration({ default: "10s", min: "1ns", doc: "a flow idle for longer is forgotten" }),
  ethDest: field.perDevice(field.mac({ default: "ff:ff:ff:ff:ff:ff", doc: "next-hop MAC behind a device" })),
});
export type Config = ConfigOf<typeof config>;

export function constraints(c: Config): boolean {
  return c.startPort + c.maxFlows <= 65536;
}

/** A LAN flow, as seen on the LAN side. */
export interface FlowId {
  srcIp: u32;
  dstIp: u32;
  srcPort: u16;
  dstPort: u16;
  device: Device;
  protocol: u8;
}

export function state(c: Config) {
  return { flows: new FlowTable<FlowId>(c.maxFlows, c.expiration) };
}
export type State = ReturnType<typeof state>;

export function process(pkt: Packet, ctx: Context, cfg: Config, st: State): Action {
  st.flows.expire(ctx.time);

  const eth = pkt.ethernet();
  const ip = pkt.ipv4();
  if (eth === undefined || ip === undefined || ip.isFragment) return drop();
  let srcPort: u16 = 0;
  let dstPort: u16 = 0;
  const tcp = pkt.tcp();
  const udp = pkt.udp();
  if (tcp !== undefined) {
    srcPort = tcp.srcPort;
    dstPort = tcp.dstPort;
  } else if (udp !== undefined) {
    srcPort = udp.srcPort;
    dstPort = udp.dstPort;
  } else {
    return drop();
  }

  let out: Device = cfg.wan;
  if (ctx.device !== cfg.wan) {
    const flow: FlowId = {
      srcIp: ip.src,
      dstIp: ip.dst,
      srcPort: srcPort,
      dstPort: dstPort,
      device: ctx.device,
      protocol: ip.protocol,
    };
    let index = st.flows.find(flow);
    if (index === undefined) {
      index = st.flows.add(flow, ctx.time);
      if (index === undefined) return drop();
    } else {
      st.flows.refresh(index, ctx.time);
    }
    const externalPort: u16 = cfg.startPort + index;
    ip.src = cfg.externalIp;
    if (tcp !== undefined) tcp.srcPort = externalPort;
    if (udp !== undefined) udp.srcPort = externalPort;
  } else {
    if (dstPort < cfg.startPort) return drop();
    const index: u32 = dstPort - cfg.startPort;
    const flow = st.flows.keyAt(index);
    if (flow === undefined) return drop();
    if (flow.dstIp !== ip.src || flow.dstPort !== srcPort || flow.protocol !== ip.protocol) return drop();
    st.flows.refresh(index, ctx.time);
    ip.dst = flow.srcIp;
    if (tcp !== undefined) tcp.dstPort = flow.srcPort;
    if (udp !== undefined) udp.dstPort = flow.srcPort;
    out = flow.device;
  }
  eth.src = ctx.deviceMac(out);
  eth.dst = cfg.ethDest[out];
  return forward(out);
}
