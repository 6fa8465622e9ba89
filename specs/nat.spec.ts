/**
 * NAT reference spec (brief §7, RFC 3022 NAPT for TCP and UDP over IPv4).
 * Flows are entries of the abstract flow table; a LAN flow at index i is seen on the WAN as
 * (externalIp, startPort + i). Checksums stay valid; MAC addresses are left open.
 */
import type { Config, FlowId, State } from "../nfs/nat.ts";
import { any, drop, forward, type Abstract, type Context, type Invariants, type Outcome, type Packet, type u16 } from "./lib/spec.ts";

/** Flows are LAN flows: none was created by a packet from the WAN device. */
export const invariants: Invariants<Config, State> = {
  flows: (entry, cfg) => entry.key.device !== cfg.wan,
};

export function spec(pkt: Packet, ctx: Context, cfg: Config, st: Abstract<State>): Outcome<State> {
  // Every packet first forgets the flows idle for longer than the expiration.
  const flows = st.flows.expire(ctx.time);
  const unchanged = { flows: flows };

  const ip = pkt.ipv4();
  if (pkt.ethernet() === undefined || ip === undefined || ip.isFragment) return drop(unchanged);
  const tcp = pkt.tcp();
  const udp = pkt.udp();
  let srcPort: u16 = 0;
  let dstPort: u16 = 0;
  if (tcp !== undefined) {
    srcPort = tcp.srcPort;
    dstPort = tcp.dstPort;
  } else if (udp !== undefined) {
    srcPort = udp.srcPort;
    dstPort = udp.dstPort;
  } else {
    return drop(unchanged); // ICMP, other protocols
  }

  if (ctx.device !== cfg.wan) {
    // From the LAN: the flow as the host sees it.
    const flow: FlowId = { srcIp: ip.src, dstIp: ip.dst, srcPort: srcPort, dstPort: dstPort, device: ctx.device, protocol: ip.protocol };
    const known = flows.find(flow);
    if (known !== undefined) {
      return forward(cfg.wan, { flows: flows.refresh(known.index, ctx.time) }, {
        ipv4: { src: cfg.externalIp },
        l4: { srcPort: cfg.startPort + known.index },
        ethernet: { src: any, dst: any },
        checksums: "valid",
      });
    }
    if (flows.size >= cfg.maxFlows) return drop(unchanged); // the table is full
    const added = flows.add(flow, ctx.time);
    return forward(cfg.wan, { flows: added.table }, {
      ipv4: { src: cfg.externalIp },
      l4: { srcPort: cfg.startPort + added.index },
      ethernet: { src: any, dst: any },
      checksums: "valid",
    });
  }

  // From the WAN: the port names the flow.
  if (dstPort < cfg.startPort) return drop(unchanged);
  const entry = flows.at(dstPort - cfg.startPort);
  if (entry === undefined) return drop(unchanged);
  const f = entry.key;
  // A reply must come from the flow's destination, with the flow's protocol; else it is spoofed.
  if (ip.src !== f.dstIp || srcPort !== f.dstPort || ip.protocol !== f.protocol) return drop(unchanged);
  return forward(f.device, { flows: flows.refresh(entry.index, ctx.time) }, {
    ipv4: { dst: f.srcIp },
    l4: { dstPort: f.srcPort },
    ethernet: { src: any, dst: any },
    checksums: "valid",
  });
}
