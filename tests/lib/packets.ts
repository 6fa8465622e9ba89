/** Builds Ethernet/IPv4/TCP/UDP frames with valid checksums, for tests and benchmarks. */
import { internetChecksum } from "../../dsl/packet.ts";

export interface FrameSpec {
  srcMac?: bigint;
  dstMac?: bigint;
  etherType?: number;
  srcIp: number;
  dstIp: number;
  protocol: number; // 6 TCP, 17 UDP, other: raw payload after IP
  srcPort?: number;
  dstPort?: number;
  ttl?: number;
  /** IPv4 option bytes (padded to a multiple of 4). */
  options?: number[];
  payload?: Uint8Array | number;
  /** Sets MF / fragment offset (in 8-byte units). */
  moreFragments?: boolean;
  fragmentOffset?: number;
  /** UDP only: send checksum 0 ("no checksum"). */
  udpNoChecksum?: boolean;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >> 8) & 0xff;
  b[at + 1] = v & 0xff;
}
function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, (v >>> 16) & 0xffff);
  put16(b, at + 2, v & 0xffff);
}
function put48(b: Uint8Array, at: number, v: bigint): void {
  for (let i = 5; i >= 0; i--) {
    b[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

export function frame(s: FrameSpec): Uint8Array {
  const options = [...(s.options ?? [])];
  while (options.length % 4 !== 0) options.push(0);
  const ihl = 5 + options.length / 4;
  const payload = typeof s.payload === "number" ? new Uint8Array(s.payload).map((_, i) => (i * 7 + 3) & 0xff) : (s.payload ?? new Uint8Array(0));
  const l4Length = s.protocol === 6 ? 20 + payload.length : s.protocol === 17 ? 8 + payload.length : payload.length;
  const totalLength = ihl * 4 + l4Length;
  const b = new Uint8Array(14 + totalLength);
  put48(b, 0, s.dstMac ?? 0x02_00_00_00_00_01n);
  put48(b, 6, s.srcMac ?? 0x02_00_00_00_00_aan);
  put16(b, 12, s.etherType ?? 0x0800);
  const ip = 14;
  b[ip] = 0x40 | ihl;
  put16(b, ip + 2, totalLength);
  put16(b, ip + 4, 0x1234);
  put16(b, ip + 6, (s.moreFragments ? 0x2000 : 0) | (s.fragmentOffset ?? 0));
  b[ip + 8] = s.ttl ?? 64;
  b[ip + 9] = s.protocol;
  put32(b, ip + 12, s.srcIp);
  put32(b, ip + 16, s.dstIp);
  b.set(options, ip + 20);
  put16(b, ip + 10, internetChecksum(b, ip, ip + ihl * 4));
  const l4 = ip + ihl * 4;
  const pseudo = (len: number) => {
    const p = new Uint8Array(12);
    put32(p, 0, s.srcIp);
    put32(p, 4, s.dstIp);
    p[9] = s.protocol;
    put16(p, 10, len);
    let sum = 0;
    for (let i = 0; i < 12; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
    return sum;
  };
  if (s.protocol === 6) {
    put16(b, l4, s.srcPort ?? 1000);
    put16(b, l4 + 2, s.dstPort ?? 80);
    put32(b, l4 + 4, 1);
    b[l4 + 12] = 0x50;
    b[l4 + 13] = 0x18;
    put16(b, l4 + 14, 65535);
    b.set(payload, l4 + 20);
    put16(b, l4 + 16, internetChecksum(b, l4, l4 + l4Length, pseudo(l4Length)));
  } else if (s.protocol === 17) {
    put16(b, l4, s.srcPort ?? 1000);
    put16(b, l4 + 2, s.dstPort ?? 53);
    put16(b, l4 + 4, l4Length);
    b.set(payload, l4 + 8);
    if (!s.udpNoChecksum) {
      const c = internetChecksum(b, l4, l4 + l4Length, pseudo(l4Length));
      put16(b, l4 + 6, c === 0 ? 0xffff : c);
    }
  } else {
    b.set(payload, l4);
  }
  return b;
}

/** A small deterministic PRNG (mulberry32), so failures are reproducible from the seed. */
export function rng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
    chance: (p) => next() < p,
  };
}

export function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}
