/**
 * Twelve wrong NATs, each nfs/nat.ts with ONE small realistic bug (tests/replay.test.ts: `vigorc
 * verify` must reject each, and `vigorc replay` must reproduce its counterexample on the compiled
 * trace binary). Each is written at test time as a mutant of the real NAT (tests/lib/mutants.ts).
 */
import { writeMutant, type Edit } from "./mutants.ts";

export interface WrongNat {
  name: string;
  bug: string;
  edits: readonly Edit[];
}

/** The NAT's spoof check on replies (a whole source line). */
export const SPOOF_CHECK = "    if (flow.dstIp !== ip.src || flow.dstPort !== srcPort || flow.protocol !== ip.protocol) return drop();\n";
const WAN_REFRESH = "    st.flows.refresh(index, ctx.time);\n";
const UDP_SRC_WRITE = "    if (udp !== undefined) udp.srcPort = externalPort;\n";

export const WRONG_NATS: readonly WrongNat[] = [
  {
    name: "flow-key-without-dst-ip",
    bug: "the flow key leaves the remote address out (dstIp is always 0): replies never pass the spoof check, and flows to different hosts share an entry",
    edits: [["      dstIp: ip.dst,", "      dstIp: 0,"]],
  },
  {
    name: "full-table-borrows-port",
    bug: "when the table is full, a new flow borrows index 0's port instead of being dropped: its packets leave with another flow's external port",
    // Not `index = 0` in the full-table branch: the DSL rejects storing a plain value in an optional local (VIG2120).
    edits: [
      ["      if (index === undefined) return drop();\n", ""],
      ["    const externalPort: u16 = cfg.startPort + index;", "    const externalPort: u16 = cfg.startPort + (index === undefined ? 0 : index);"],
    ],
  },
  {
    name: "lan-back-to-input-device",
    bug: "translated LAN packets are sent back out of the device they came in on instead of the WAN device",
    edits: [[UDP_SRC_WRITE, `${UDP_SRC_WRITE}    out = ctx.device;\n`]],
  },
  {
    name: "missing-expiry",
    bug: "the flow table is never expired: idle flows stay forever (and keep answering)",
    edits: [["  st.flows.expire(ctx.time);\n\n", ""]],
  },
  {
    name: "no-spoof-check-dst-ip",
    bug: "the spoof check forgets the remote address: a reply from any host to a flow's port is translated in, as long as its source port and protocol match",
    edits: [["    if (flow.dstIp !== ip.src || flow.dstPort", "    if (flow.dstPort"]],
  },
  {
    name: "refresh-before-spoof-check",
    bug: "the flow is refreshed before the spoof check, so spoofed replies (dropped correctly) keep a flow alive",
    edits: [[SPOOF_CHECK + WAN_REFRESH, WAN_REFRESH + SPOOF_CHECK]],
  },
  {
    name: "replies-to-wan-device",
    bug: "replies are translated but sent out of the WAN device: the flow's device is never looked up",
    edits: [["    out = flow.device;\n", ""]],
  },
  {
    name: "reverse-port-off-by-one",
    bug: "the reverse mapping (WAN port -> flow index) is off by one: a reply to port start-port + i is matched against flow i - 1",
    edits: [
      ["    if (dstPort < cfg.startPort) return drop();", "    if (dstPort <= cfg.startPort) return drop();"],
      ["    const index: u32 = dstPort - cfg.startPort;", "    const index: u32 = dstPort - cfg.startPort - 1;"],
    ],
  },
  {
    name: "start-port-overflow",
    bug: "the configuration constraint is off by one (start-port + max-flows <= 65537), so start-port + index overflows 16 bits for the last index of some configurations",
    edits: [["  return c.startPort + c.maxFlows <= 65536;", "  return c.startPort + c.maxFlows <= 65537;"]],
  },
  {
    name: "udp-port-not-translated",
    bug: "the UDP source port is never rewritten (only TCP's is): UDP flows leave with the internal port, so their replies cannot find the flow",
    edits: [[UDP_SRC_WRITE, ""]],
  },
  {
    name: "unsolicited-wan-flooded",
    bug: "WAN packets to a port with no flow are flooded to every other device instead of being dropped",
    edits: [
      ["  drop,\n", "  drop,\n  flood,\n"],
      ["    if (flow === undefined) return drop();", "    if (flow === undefined) return flood();"],
    ],
  },
  {
    name: "wan-low-ports-allocate",
    bug: "WAN packets to ports below start-port are treated like LAN packets: they allocate a flow (on the WAN device) and are forwarded back to the WAN",
    edits: [["  if (ctx.device !== cfg.wan) {", "  if (ctx.device !== cfg.wan || dstPort < cfg.startPort) {"]],
  },
];

/** Writes the wrong NAT `name` under build/nat-wrong/ (once per process) and returns its path. */
const written = new Map<string, string>();
export function wrongNatFile(name: string): string {
  let file = written.get(name);
  if (!file) {
    const w = WRONG_NATS.find((v) => v.name === name);
    if (!w) throw new Error(`no wrong NAT named ${name}`);
    file = writeMutant("nfs/nat.ts", "nat-wrong", w.name, w.bug, w.edits);
    written.set(name, file);
  }
  return file;
}
