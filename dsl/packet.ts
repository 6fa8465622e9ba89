/**
 * The dsl runtime's packet: header parsing with "absent" (undefined) for truncated or
 * non-matching packets, field access through LAYOUTS, and checksums kept valid on every write.
 * runtime-c/packet/packet.h implements exactly the same rules in C.
 */
import {
  ETHERNET_LENGTH,
  ETHERTYPE_IPV4,
  IPV4_CHECKSUM_OFFSET,
  IPV4_MIN_LENGTH,
  IPV4_OFFSET,
  LAYOUTS,
  PROTOCOL_TCP,
  PROTOCOL_UDP,
  TCP_CHECKSUM_OFFSET,
  TCP_MIN_LENGTH,
  UDP_CHECKSUM_OFFSET,
  UDP_LENGTH,
  type FieldLayout,
} from "./layout.ts";
import type { MacAddr, u16, u32, u8 } from "./types.ts";

function readRaw(data: Uint8Array, at: number, bytes: number): bigint {
  let v = 0n;
  for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(data[at + i]!);
  return v;
}

function writeRaw(data: Uint8Array, at: number, bytes: number, value: bigint): void {
  for (let i = bytes - 1; i >= 0; i--) {
    data[at + i] = Number(value & 0xffn);
    value >>= 8n;
  }
}

function read16(data: Uint8Array, at: number): number {
  return (data[at]! << 8) | data[at + 1]!;
}

function write16(data: Uint8Array, at: number, value: number): void {
  data[at] = value >> 8;
  data[at + 1] = value & 0xff;
}

/** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), one's complement arithmetic on 16 bits. */
export function checksumUpdate16(checksum: number, oldWord: number, newWord: number): number {
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One's complement checksum of data[from..to) (RFC 1071), with an initial partial sum. */
export function internetChecksum(data: Uint8Array, from: number, to: number, initial = 0): number {
  let sum = initial;
  for (let i = from; i + 1 < to; i += 2) sum += read16(data, i);
  if ((to - from) % 2 === 1) sum += data[to - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export class Packet {
  constructor(readonly data: Uint8Array) {}

  get length(): u16 {
    return this.data.length;
  }

  ethernet(): EthernetHeader | undefined {
    return this.data.length >= ETHERNET_LENGTH ? new EthernetHeader(this) : undefined;
  }

  ipv4(): Ipv4Header | undefined {
    const d = this.data;
    if (d.length < IPV4_OFFSET + IPV4_MIN_LENGTH) return undefined;
    if (read16(d, 12) !== ETHERTYPE_IPV4) return undefined;
    const versionIhl = d[IPV4_OFFSET]!;
    const ihl = versionIhl & 0xf;
    const totalLength = read16(d, IPV4_OFFSET + 2);
    if (versionIhl >> 4 !== 4 || ihl < 5) return undefined;
    if (totalLength < ihl * 4 || IPV4_OFFSET + totalLength > d.length) return undefined;
    return new Ipv4Header(this);
  }

  tcp(): TcpHeader | undefined {
    const at = this.l4Offset(PROTOCOL_TCP, TCP_MIN_LENGTH);
    return at === undefined ? undefined : new TcpHeader(this, at);
  }

  udp(): UdpHeader | undefined {
    const at = this.l4Offset(PROTOCOL_UDP, UDP_LENGTH);
    return at === undefined ? undefined : new UdpHeader(this, at);
  }

  /** Where the L4 header starts, if the packet is an unfragmented-or-first-fragment IPv4 packet of that protocol whose datagram holds minLength bytes of it. */
  private l4Offset(protocol: number, minLength: number): number | undefined {
    if (this.ipv4() === undefined) return undefined;
    const d = this.data;
    if (d[IPV4_OFFSET + 9] !== protocol) return undefined;
    if ((read16(d, IPV4_OFFSET + 6) & 0x1fff) !== 0) return undefined;
    const ihlBytes = (d[IPV4_OFFSET]! & 0xf) * 4;
    if (ihlBytes + minLength > read16(d, IPV4_OFFSET + 2)) return undefined;
    return IPV4_OFFSET + ihlBytes;
  }

  /** Where the TCP/UDP checksum of this packet is, if a pseudo-header change must update it. */
  l4ChecksumOffset(): number | undefined {
    const tcp = this.l4Offset(PROTOCOL_TCP, TCP_CHECKSUM_OFFSET + 2);
    if (tcp !== undefined) return tcp + TCP_CHECKSUM_OFFSET;
    const udp = this.l4Offset(PROTOCOL_UDP, UDP_LENGTH);
    return udp === undefined ? undefined : udp + UDP_CHECKSUM_OFFSET;
  }

  /** Updates the checksum at `at` for a change of one 16-bit word; UDP's "no checksum" 0 stays 0. */
  updateChecksum(at: number, oldWord: number, newWord: number, isUdp: boolean): void {
    const current = read16(this.data, at);
    if (isUdp && current === 0) return;
    let next = checksumUpdate16(current, oldWord, newWord);
    if (isUdp && next === 0) next = 0xffff;
    write16(this.data, at, next);
  }
}

/** Field access shared by all headers: reads and checksum-preserving writes. */
abstract class Header {
  constructor(
    protected readonly packet: Packet,
    protected readonly start: number,
  ) {}

  protected read(f: FieldLayout): bigint {
    const raw = readRaw(this.packet.data, this.start + f.offset, f.bytes);
    return f.bits === undefined ? raw : (raw >> BigInt(f.shift ?? 0)) & ((1n << BigInt(f.bits)) - 1n);
  }

  protected readNumber(f: FieldLayout): number {
    return Number(this.read(f));
  }

  protected write(f: FieldLayout, value: bigint): void {
    const d = this.packet.data;
    // The aligned 16-bit words the field covers, relative to the header start (always even).
    const first = f.offset & ~1;
    const last = (f.offset + f.bytes - 1) & ~1;
    const before: number[] = [];
    for (let w = first; w <= last; w += 2) before.push(read16(d, this.start + w));
    writeRaw(d, this.start + f.offset, f.bytes, value);
    for (let w = first, k = 0; w <= last; w += 2, k++) {
      this.afterWordChange(before[k]!, read16(d, this.start + w), f);
    }
  }

  protected abstract afterWordChange(oldWord: number, newWord: number, f: FieldLayout): void;
}

export class EthernetHeader extends Header {
  constructor(packet: Packet) {
    super(packet, 0);
  }
  protected afterWordChange(): void {}

  get dst(): MacAddr {
    return this.read(LAYOUTS.ethernet.dst);
  }
  set dst(v: MacAddr) {
    this.write(LAYOUTS.ethernet.dst, v);
  }
  get src(): MacAddr {
    return this.read(LAYOUTS.ethernet.src);
  }
  set src(v: MacAddr) {
    this.write(LAYOUTS.ethernet.src, v);
  }
  get etherType(): u16 {
    return this.readNumber(LAYOUTS.ethernet.etherType);
  }
}

export class Ipv4Header extends Header {
  constructor(packet: Packet) {
    super(packet, IPV4_OFFSET);
  }

  protected afterWordChange(oldWord: number, newWord: number, f: FieldLayout): void {
    this.packet.updateChecksum(this.start + IPV4_CHECKSUM_OFFSET, oldWord, newWord, false);
    if (f.checksum !== "ipv4+pseudo") return;
    const l4 = this.packet.l4ChecksumOffset();
    if (l4 !== undefined) {
      this.packet.updateChecksum(l4, oldWord, newWord, this.protocol === PROTOCOL_UDP);
    }
  }

  get version(): u8 {
    return this.readNumber(LAYOUTS.ipv4.version);
  }
  get ihl(): u8 {
    return this.readNumber(LAYOUTS.ipv4.ihl);
  }
  get tos(): u8 {
    return this.readNumber(LAYOUTS.ipv4.tos);
  }
  set tos(v: u8) {
    this.write(LAYOUTS.ipv4.tos, BigInt(v));
  }
  get totalLength(): u16 {
    return this.readNumber(LAYOUTS.ipv4.totalLength);
  }
  get id(): u16 {
    return this.readNumber(LAYOUTS.ipv4.id);
  }
  set id(v: u16) {
    this.write(LAYOUTS.ipv4.id, BigInt(v));
  }
  get moreFragments(): u8 {
    return this.readNumber(LAYOUTS.ipv4.moreFragments);
  }
  get fragmentOffset(): u16 {
    return this.readNumber(LAYOUTS.ipv4.fragmentOffset);
  }
  /** True for every fragment of a fragmented datagram (the first one included). */
  get isFragment(): boolean {
    return this.moreFragments !== 0 || this.fragmentOffset !== 0;
  }
  get ttl(): u8 {
    return this.readNumber(LAYOUTS.ipv4.ttl);
  }
  set ttl(v: u8) {
    this.write(LAYOUTS.ipv4.ttl, BigInt(v));
  }
  get protocol(): u8 {
    return this.readNumber(LAYOUTS.ipv4.protocol);
  }
  get checksum(): u16 {
    return this.readNumber(LAYOUTS.ipv4.checksum);
  }
  get src(): u32 {
    return this.readNumber(LAYOUTS.ipv4.src);
  }
  set src(v: u32) {
    this.write(LAYOUTS.ipv4.src, BigInt(v));
  }
  get dst(): u32 {
    return this.readNumber(LAYOUTS.ipv4.dst);
  }
  set dst(v: u32) {
    this.write(LAYOUTS.ipv4.dst, BigInt(v));
  }
}

export class TcpHeader extends Header {
  protected afterWordChange(oldWord: number, newWord: number): void {
    this.packet.updateChecksum(this.start + TCP_CHECKSUM_OFFSET, oldWord, newWord, false);
  }

  get srcPort(): u16 {
    return this.readNumber(LAYOUTS.tcp.srcPort);
  }
  set srcPort(v: u16) {
    this.write(LAYOUTS.tcp.srcPort, BigInt(v));
  }
  get dstPort(): u16 {
    return this.readNumber(LAYOUTS.tcp.dstPort);
  }
  set dstPort(v: u16) {
    this.write(LAYOUTS.tcp.dstPort, BigInt(v));
  }
  get seq(): u32 {
    return this.readNumber(LAYOUTS.tcp.seq);
  }
  set seq(v: u32) {
    this.write(LAYOUTS.tcp.seq, BigInt(v));
  }
  get ack(): u32 {
    return this.readNumber(LAYOUTS.tcp.ack);
  }
  set ack(v: u32) {
    this.write(LAYOUTS.tcp.ack, BigInt(v));
  }
  get flags(): u8 {
    return this.readNumber(LAYOUTS.tcp.flags);
  }
  get window(): u16 {
    return this.readNumber(LAYOUTS.tcp.window);
  }
  set window(v: u16) {
    this.write(LAYOUTS.tcp.window, BigInt(v));
  }
  get checksum(): u16 {
    return this.readNumber(LAYOUTS.tcp.checksum);
  }
}

export class UdpHeader extends Header {
  protected afterWordChange(oldWord: number, newWord: number): void {
    this.packet.updateChecksum(this.start + UDP_CHECKSUM_OFFSET, oldWord, newWord, true);
  }

  get srcPort(): u16 {
    return this.readNumber(LAYOUTS.udp.srcPort);
  }
  set srcPort(v: u16) {
    this.write(LAYOUTS.udp.srcPort, BigInt(v));
  }
  get dstPort(): u16 {
    return this.readNumber(LAYOUTS.udp.dstPort);
  }
  set dstPort(v: u16) {
    this.write(LAYOUTS.udp.dstPort, BigInt(v));
  }
  get length(): u16 {
    return this.readNumber(LAYOUTS.udp.length);
  }
  get checksum(): u16 {
    return this.readNumber(LAYOUTS.udp.checksum);
  }
}
