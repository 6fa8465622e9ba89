/** Human rendering of counterexamples: configuration, prior state, packet decoded, what the NF did and what was expected. */
import * as path from "node:path";
import { formatIpv4, formatMac } from "../../dsl/config.ts";
import { Packet } from "../../dsl/packet.ts";
import type { Counterexample } from "./counterexample.ts";

export function decodePacket(data: Uint8Array): string[] {
  const p = new Packet(new Uint8Array(data));
  const lines: string[] = [`${data.length} bytes`];
  const eth = p.ethernet();
  if (!eth) return [...lines, "  (shorter than an Ethernet header)", `  hex ${hex(data)}`];
  lines.push(`  Ethernet ${formatMac(eth.src)} -> ${formatMac(eth.dst)} type 0x${eth.etherType.toString(16).padStart(4, "0")}`);
  const ip = p.ipv4();
  if (!ip) {
    lines.push("  (no valid IPv4 header)");
  } else {
    lines.push(`  IPv4 ${formatIpv4(ip.src)} -> ${formatIpv4(ip.dst)} proto ${ip.protocol} ihl ${ip.ihl} len ${ip.totalLength} ttl ${ip.ttl} ${ip.isFragment ? "FRAGMENT " : ""}checksum 0x${ip.checksum.toString(16)}`);
    const tcp = p.tcp();
    const udp = p.udp();
    if (tcp) lines.push(`  TCP ${tcp.srcPort} -> ${tcp.dstPort} checksum 0x${tcp.checksum.toString(16)}`);
    else if (udp) lines.push(`  UDP ${udp.srcPort} -> ${udp.dstPort} checksum 0x${udp.checksum.toString(16)}`);
    else lines.push("  (no TCP/UDP header)");
  }
  lines.push(`  hex ${hex(data.slice(0, 64))}${data.length > 64 ? "..." : ""}`);
  return lines;
}

export function hex(d: Uint8Array): string {
  return Buffer.from(d).toString("hex");
}

export function formatCounterexample(cx: Counterexample): string {
  const out: string[] = [`COUNTEREXAMPLE — ${cx.summary}`];
  if (cx.failedParts.length > 0) out.push(`  what fails: ${cx.failedParts.join("; ")}`);
  out.push(`  configuration: ${cx.flags.join(" ")}  (${cx.deviceCount} device${cx.deviceCount === 1 ? "" : "s"})`);
  for (const [name, t] of Object.entries(cx.state)) {
    out.push(`  state '${name}' before the packet: ${t.size} entr${t.size === 1 ? "y" : "ies"} (capacity ${t.capacity}, expiration ${t.expiration}ns)${t.entries.length < t.size ? `, of which the NF looks at:` : ""}`);
    for (const e of t.entries) out.push(`    [${e.index}] ${Object.entries(e.key).map(([k, v]) => `${k}=${/ip$/i.test(k) ? formatIpv4(Number(v)) : v}`).join(" ")} time ${e.time}`);
  }
  out.push(`  packet at time ${cx.time} on device ${cx.device}: ${decodePacket(Buffer.from(cx.packetHex, "hex")).join("\n  ")}`);
  out.push(`  the NF: ${cx.nfDid.action}${cx.nfDid.device !== undefined ? ` to device ${cx.nfDid.device}` : ""}`);
  if (cx.nfDid.outputHex !== undefined) out.push(`    output ${decodePacket(Buffer.from(cx.nfDid.outputHex, "hex")).join("\n    ")}`);
  if (cx.specExpected) out.push(`  the spec expects: ${cx.specExpected.action}${cx.specExpected.device !== undefined ? ` to device ${cx.specExpected.device}` : ""}`);
  if (cx.file) out.push(`  written to ${path.relative(process.cwd(), cx.file)}; replay it on the compiled binary: vigorc replay ${path.relative(process.cwd(), cx.nfFile)} ${path.relative(process.cwd(), cx.file)}`);
  return out.join("\n");
}
