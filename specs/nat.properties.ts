/** NAT properties (pay-as-you-go): each a few lines, each proven on its own by `vigorc verify`. */
import type { Config, State } from "../nfs/nat.ts";
import type { Packet, Step, u16 } from "./lib/spec.ts";

type NatStep = Step<Config, State>;

/** Translatable: Ethernet + unfragmented IPv4 + TCP or UDP. */
function translatable(p: Packet): boolean {
  const ip = p.ipv4();
  return p.ethernet() !== undefined && ip !== undefined && !ip.isFragment && (p.tcp() !== undefined || p.udp() !== undefined);
}
function srcPortOf(p: Packet): u16 {
  const tcp = p.tcp();
  const udp = p.udp();
  return tcp !== undefined ? tcp.srcPort : udp !== undefined ? udp.srcPort : 0;
}
function dstPortOf(p: Packet): u16 {
  const tcp = p.tcp();
  const udp = p.udp();
  return tcp !== undefined ? tcp.dstPort : udp !== undefined ? udp.dstPort : 0;
}
/** Is this packet from the WAN to a port whose flow is live? */
function solicited(s: NatStep): boolean {
  const port = dstPortOf(s.packet);
  return port >= s.cfg.startPort && s.before.flows.expire(s.time).at(port - s.cfg.startPort) !== undefined;
}

/** Unsolicited WAN packets (no live flow behind the port) are dropped. */
export function unsolicitedWanDropped(s: NatStep): boolean {
  return s.device !== s.cfg.wan || solicited(s) || s.action.kind === "drop";
}

/** A WAN packet whose source is not the flow's destination is dropped and does not refresh the flow. */
export function spoofedRepliesDropped(s: NatStep): boolean {
  const ip = s.packet.ipv4();
  if (s.device !== s.cfg.wan || !translatable(s.packet) || !solicited(s) || ip === undefined) return true;
  const live = s.before.flows.expire(s.time);
  const entry = live.at(dstPortOf(s.packet) - s.cfg.startPort);
  if (entry === undefined) return true;
  const spoofed = ip.src !== entry.key.dstIp || srcPortOf(s.packet) !== entry.key.dstPort || ip.protocol !== entry.key.protocol;
  return !spoofed || (s.action.kind === "drop" && s.after.flows.equals(live));
}

/** WAN packets never create flows. */
export function wanNeverAllocates(s: NatStep): boolean {
  return s.device !== s.cfg.wan || s.after.flows.size <= s.before.flows.expire(s.time).size;
}

/** A valid reply goes back to the flow's device, to the internal host's address and port. */
export function validRepliesTranslatedBack(s: NatStep): boolean {
  const ip = s.packet.ipv4();
  if (s.device !== s.cfg.wan || !translatable(s.packet) || !solicited(s) || ip === undefined) return true;
  const entry = s.before.flows.expire(s.time).at(dstPortOf(s.packet) - s.cfg.startPort);
  if (entry === undefined) return true;
  const f = entry.key;
  if (ip.src !== f.dstIp || srcPortOf(s.packet) !== f.dstPort || ip.protocol !== f.protocol) return true;
  const out = s.output.ipv4();
  return s.action.kind === "forward" && s.action.device === f.device && out !== undefined && out.dst === f.srcIp && dstPortOf(s.output) === f.srcPort;
}

/** A new LAN flow gets an entry when the table has room. */
export function newFlowAllocatedWhenRoom(s: NatStep): boolean {
  const ip = s.packet.ipv4();
  if (s.device === s.cfg.wan || !translatable(s.packet) || ip === undefined) return true;
  const live = s.before.flows.expire(s.time);
  const flow = { srcIp: ip.src, dstIp: ip.dst, srcPort: srcPortOf(s.packet), dstPort: dstPortOf(s.packet), device: s.device, protocol: ip.protocol };
  if (live.find(flow) !== undefined || live.size >= s.cfg.maxFlows) return true;
  const entry = s.after.flows.find(flow);
  return entry !== undefined && entry.time === s.time && s.action.kind === "forward" && s.after.flows.size === live.size + 1;
}

/** A LAN packet of a known flow refreshes it and keeps its external port. */
export function knownFlowsRefreshed(s: NatStep): boolean {
  const ip = s.packet.ipv4();
  if (s.device === s.cfg.wan || !translatable(s.packet) || ip === undefined) return true;
  const flow = { srcIp: ip.src, dstIp: ip.dst, srcPort: srcPortOf(s.packet), dstPort: dstPortOf(s.packet), device: s.device, protocol: ip.protocol };
  const known = s.before.flows.expire(s.time).find(flow);
  if (known === undefined) return true;
  const now = s.after.flows.find(flow);
  return now !== undefined && now.index === known.index && now.time === s.time && srcPortOf(s.output) === s.cfg.startPort + known.index;
}

/** Packets the NAT does not translate leave the state as expiry left it. */
export function untranslatedKeepState(s: NatStep): boolean {
  return translatable(s.packet) || s.after.flows.equals(s.before.flows.expire(s.time));
}

/** Dropped packets change nothing but expiry (the state changes only as specified). */
export function dropsChangeNothing(s: NatStep): boolean {
  return s.action.kind !== "drop" || s.after.flows.equals(s.before.flows.expire(s.time));
}

/** The output device is never the input device. */
export function outputNeverInput(s: NatStep): boolean {
  return s.action.kind !== "forward" || s.action.device !== s.device;
}
