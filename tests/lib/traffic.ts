/**
 * Test traffic for the NFs: a structured mix (new flows, replies, spoofed replies, unsolicited
 * packets, full tables, expiry, non-IP, truncated headers, IPv4 options, fragments, TCP and UDP,
 * UDP checksum 0) plus random bytes. Replies are aimed using what the dsl runtime did with earlier
 * packets, so that they exercise the NAT's reverse path.
 */
import type { NfInstance, TracePacket } from "../../dsl/runner.ts";
import { frame, ipv4, rng } from "./packets.ts";

interface Flow {
  srcIp: number;
  srcPort: number;
  dstIp: number;
  dstPort: number;
  protocol: number;
  device: number;
  /** The translated source port seen on the WAN, once known. */
  externalPort?: number;
}

export interface TrafficOptions {
  count: number;
  seed: number;
  wan: number;
  lanDevices: number[];
  /** Mean time between packets and the chance of a long pause (to expire flows), in ns. */
  stepNs: bigint;
  pauseNs: bigint;
  pauseChance: number;
}

const PROTOCOLS = [6, 17];

/** Generates `count` packets, running them through `model` as it goes (the model's state advances). */
export function natTraffic(model: NfInstance, o: TrafficOptions): TracePacket[] {
  const r = rng(o.seed);
  const flows: Flow[] = [];
  const out: TracePacket[] = [];
  let time = 1_000_000_000n;
  const host = () => ipv4(10, 0, r.int(4), 1 + r.int(20));
  const server = () => ipv4(198, 51, 100, 1 + r.int(8));
  const newFlow = (): Flow => ({
    srcIp: host(),
    srcPort: 1024 + r.int(64),
    dstIp: server(),
    dstPort: r.pick([53, 80, 443, 8080]),
    protocol: r.pick(PROTOCOLS),
    device: r.pick(o.lanDevices),
  });
  const lanFrame = (f: Flow, extra: Partial<Parameters<typeof frame>[0]> = {}) =>
    frame({ srcIp: f.srcIp, dstIp: f.dstIp, srcPort: f.srcPort, dstPort: f.dstPort, protocol: f.protocol, payload: r.int(40), ...extra });
  const replyFrame = (f: Flow, extra: Partial<Parameters<typeof frame>[0]> = {}) =>
    frame({ srcIp: f.dstIp, dstIp: ipv4(192, 0, 2, 1), srcPort: f.dstPort, dstPort: f.externalPort ?? 1024 + r.int(128), protocol: f.protocol, payload: r.int(40), ...extra });

  for (let n = 0; n < o.count; n++) {
    time += r.chance(o.pauseChance) ? o.pauseNs : BigInt(r.int(Number(o.stepNs) * 2));
    const known = flows.filter((f) => f.externalPort !== undefined);
    const pickKnown = () => (known.length > 0 ? r.pick(known) : newFlow());
    const roll = r.next();
    let device = o.wan;
    let data: Uint8Array;
    let flow: Flow | undefined;
    if (roll < 0.3) {
      flow = flows.length > 0 && r.chance(0.5) ? r.pick(flows) : newFlow();
      if (!flows.includes(flow)) flows.push(flow);
      device = flow.device;
      data = lanFrame(flow);
    } else if (roll < 0.55) {
      data = replyFrame(pickKnown());
    } else if (roll < 0.63) {
      const f = pickKnown();
      const spoof = r.int(3);
      data = replyFrame(f, spoof === 0 ? { srcIp: f.dstIp ^ 1 } : spoof === 1 ? { srcPort: f.dstPort ^ 1 } : { protocol: f.protocol === 6 ? 17 : 6 });
    } else if (roll < 0.7) {
      data = frame({ srcIp: server(), dstIp: ipv4(192, 0, 2, 1), srcPort: 80, dstPort: r.int(65536), protocol: r.pick(PROTOCOLS) });
    } else if (roll < 0.74) {
      device = r.chance(0.5) ? o.wan : r.pick(o.lanDevices);
      data = lanFrame(newFlow(), { etherType: r.pick([0x0806, 0x86dd, 0x8100]) });
    } else if (roll < 0.79) {
      device = r.chance(0.5) ? o.wan : r.pick(o.lanDevices);
      const full = device === o.wan ? replyFrame(pickKnown()) : lanFrame(newFlow());
      data = full.slice(0, r.int(full.length));
    } else if (roll < 0.84) {
      const options = Array.from({ length: 4 * (1 + r.int(10)) }, () => r.int(256));
      if (r.chance(0.5)) {
        flow = flows.length > 0 ? r.pick(flows) : newFlow();
        if (!flows.includes(flow)) flows.push(flow);
        device = flow.device;
        data = lanFrame(flow, { options });
      } else data = replyFrame(pickKnown(), { options });
    } else if (roll < 0.88) {
      device = r.chance(0.5) ? o.wan : r.pick(o.lanDevices);
      const frag = { moreFragments: r.chance(0.5), fragmentOffset: r.chance(0.5) ? 0 : 1 + r.int(100) };
      data = device === o.wan ? replyFrame(pickKnown(), frag) : lanFrame(newFlow(), frag);
    } else if (roll < 0.91) {
      flow = { ...newFlow(), protocol: 17 };
      flows.push(flow);
      device = flow.device;
      data = lanFrame(flow, { udpNoChecksum: true });
    } else if (roll < 0.94) {
      device = r.chance(0.5) ? o.wan : r.pick(o.lanDevices);
      data = frame({ srcIp: host(), dstIp: server(), protocol: r.pick([1, 47, 132]), payload: 8 + r.int(30) });
    } else if (roll < 0.97) {
      // Malformed IPv4: bad version/IHL, total length beyond or below the frame.
      device = r.chance(0.5) ? o.wan : r.pick(o.lanDevices);
      data = lanFrame(newFlow());
      const which = r.int(4);
      if (which === 0) data[14] = (data[14]! & 0xf0) | r.int(5);
      else if (which === 1) data[14] = 0x60 | (data[14]! & 0xf);
      else if (which === 2) data[17] = (data[17]! + 1 + r.int(50)) & 0xff;
      else data[16] = 0;
    } else {
      device = r.int(o.lanDevices.length + 1) === 0 ? o.wan : r.pick(o.lanDevices);
      data = new Uint8Array(r.int(120)).map(() => r.int(256));
      if (data.length > 24 && r.chance(0.6)) {
        data[12] = 0x08;
        data[13] = 0x00;
        data[14] = 0x45;
      }
    }
    const packet = { device, timeNs: time, data };
    out.push(packet);
    const results = model.step(packet);
    if (flow && results.length === 1 && results[0]!.device === o.wan && data.length >= 38) {
      const d = results[0]!.data;
      const l4 = 14 + (d[14]! & 0xf) * 4;
      flow.externalPort = (d[l4]! << 8) | d[l4 + 1]!;
    }
  }
  return out;
}

/** Any traffic for NFs that do not care about flows (NOP): a mix of valid and random frames. */
export function mixedTraffic(count: number, seed: number, devices: number): TracePacket[] {
  const r = rng(seed);
  let time = 1_000_000n;
  return Array.from({ length: count }, () => {
    time += BigInt(r.int(5000));
    const device = r.int(devices);
    const data = r.chance(0.7)
      ? frame({ srcIp: r.int(2 ** 32), dstIp: r.int(2 ** 32), protocol: r.pick([6, 17, 1]), srcPort: r.int(65536), dstPort: r.int(65536), payload: r.int(64) })
      : new Uint8Array(r.int(100)).map(() => r.int(256));
    return { device, timeNs: time, data };
  });
}
