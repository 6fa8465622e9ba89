// pcapng (and classic pcap) reading and writing, for the trace target, counterexample replay
// and tests. Format: IETF draft-ietf-opsawg-pcapng; classic pcap: the libpcap file format.
//
// Reader: Section Header (both byte orders), Interface Description (if_tsresol, if_tsoffset,
// if_name), Enhanced Packet, Simple Packet and obsolete Packet blocks; other blocks are skipped.
// Malformed input throws PcapngError naming the block and its file offset.

export const LINKTYPE_ETHERNET = 1;

export interface PcapngInterface {
  linkType: number;
  snapLen: number;
  /** The raw if_tsresol byte (default 6: microseconds). MSB clear: 10^-v s; set: 2^-(v&0x7f) s. */
  tsResol: number;
  /** Timestamp units per second, from tsResol. */
  unitsPerSecond: bigint;
  /** if_tsoffset, in seconds (default 0). */
  tsOffsetSeconds: bigint;
  name?: string;
}

export interface Packet {
  /** Input/output device: the interface id. */
  device: number;
  /** Timestamp in ns since the epoch (plus if_tsoffset). */
  timeNs: bigint;
  data: Uint8Array;
}

export interface ReadPacket extends Packet {
  /** Length on the wire (may exceed data.length when the capture was truncated). */
  originalLength: number;
}

export interface Pcapng {
  interfaces: PcapngInterface[];
  packets: ReadPacket[];
}

export class PcapngError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = "PcapngError";
    this.offset = offset;
  }
}

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const NS_PER_S = 1_000_000_000n;

const BLOCK_NAMES: Record<number, string> = {
  [BT_SHB]: "Section Header Block",
  [BT_IDB]: "Interface Description Block",
  [BT_PB]: "Packet Block",
  [BT_SPB]: "Simple Packet Block",
  [BT_EPB]: "Enhanced Packet Block",
};

function hex32(n: number): string {
  return "0x" + (n >>> 0).toString(16).padStart(8, "0");
}

function blockError(index: number, type: number, offset: number, what: string): PcapngError {
  const name = BLOCK_NAMES[type] ?? "block";
  return new PcapngError(
    `malformed pcapng: block ${index} (${name}, type ${hex32(type)}) at offset ${offset}: ${what}`,
    offset,
  );
}

function unitsOf(tsResol: number): bigint {
  return tsResol & 0x80 ? 1n << BigInt(tsResol & 0x7f) : 10n ** BigInt(tsResol);
}

function toNs(ifc: PcapngInterface, ts: bigint): bigint {
  // ns = ts * 10^9 / unitsPerSecond, truncated (exact for 10^-k with k <= 9 and 2^-k)
  return (ts * NS_PER_S) / ifc.unitsPerSecond + ifc.tsOffsetSeconds * NS_PER_S;
}

/** Reads a pcapng file. Interfaces are those of all sections, in file order; a packet's device
 * is its interface id within its section (as the trace shell does). */
export function readPcapng(bytes: Uint8Array): Pcapng {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const interfaces: PcapngInterface[] = [];
  const packets: ReadPacket[] = [];
  let section: PcapngInterface[] = [];
  let little = true;
  let inSection = false;
  let pos = 0;
  let index = 0;
  let lastTime = 0n;
  if (bytes.length === 0) {
    throw new PcapngError("malformed pcapng: the file is empty", 0);
  }
  while (pos < bytes.length) {
    index++;
    const at = pos;
    if (bytes.length - at < 12) {
      throw blockError(index, 0, at, `only ${bytes.length - at} bytes left, a block needs at least 12`);
    }
    const typeLe = view.getUint32(at, true);
    if (typeLe === BT_SHB) {
      if (bytes.length - at < 28) {
        throw blockError(index, BT_SHB, at, `truncated (${bytes.length - at} bytes left, needs 28)`);
      }
      const magicLe = view.getUint32(at + 8, true);
      if (magicLe === BYTE_ORDER_MAGIC) little = true;
      else if (magicLe === 0x4d3c2b1a) little = false;
      else throw blockError(index, BT_SHB, at, `bad byte-order magic ${hex32(magicLe)}`);
    } else if (index === 1) {
      if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(typeLe)) {
        throw new PcapngError("malformed pcapng: this is a classic pcap file, not pcapng", 0);
      }
      throw blockError(index, typeLe, at, "a pcapng file must start with a Section Header Block");
    }
    const u16 = (o: number): number => view.getUint16(o, little);
    const u32 = (o: number): number => view.getUint32(o, little);
    const type = u32(at);
    const len = u32(at + 4);
    if (len < 12 || len % 4 !== 0) {
      throw blockError(index, type, at, `block length ${len} is not a multiple of 4 of at least 12`);
    }
    if (len > bytes.length - at) {
      throw blockError(
        index,
        type,
        at,
        `block length ${len} runs past the end of the file (${bytes.length - at} bytes left)`,
      );
    }
    const trailer = u32(at + len - 4);
    if (trailer !== len) {
      throw blockError(index, type, at, `trailing block length ${trailer} differs from ${len}`);
    }
    switch (type) {
      case BT_SHB: {
        const major = u16(at + 12);
        if (major !== 1) {
          throw blockError(index, type, at, `unsupported pcapng version ${major}.${u16(at + 14)}`);
        }
        inSection = true;
        section = [];
        break;
      }
      case BT_IDB: {
        if (!inSection) throw blockError(index, type, at, "no Section Header Block before it");
        if (len < 20) throw blockError(index, type, at, `block length ${len} is shorter than 20`);
        const ifc: PcapngInterface = {
          linkType: u16(at + 8),
          snapLen: u32(at + 12),
          tsResol: 6,
          unitsPerSecond: 1_000_000n,
          tsOffsetSeconds: 0n,
        };
        let off = at + 16;
        const end = at + len - 4;
        while (off + 4 <= end) {
          const code = u16(off);
          const olen = u16(off + 2);
          const padded = (olen + 3) & ~3;
          if (code === 0) break;
          if (off + 4 + padded > end) {
            throw blockError(index, type, at, `option ${code} at offset ${off} (length ${olen}) overruns the block`);
          }
          if (code === 9) {
            if (olen !== 1) throw blockError(index, type, at, `if_tsresol option has length ${olen}, expected 1`);
            const v = bytes[off + 4] ?? 0;
            if (v & 0x80 ? (v & 0x7f) > 63 : v > 19) {
              throw blockError(index, type, at, `if_tsresol value 0x${v.toString(16)} is not supported`);
            }
            ifc.tsResol = v;
            ifc.unitsPerSecond = unitsOf(v);
          } else if (code === 14) {
            if (olen !== 8) throw blockError(index, type, at, `if_tsoffset option has length ${olen}, expected 8`);
            ifc.tsOffsetSeconds = view.getBigInt64(off + 4, little);
          } else if (code === 2) {
            ifc.name = new TextDecoder().decode(bytes.subarray(off + 4, off + 4 + olen)).replace(/\0+$/, "");
          }
          off += 4 + padded;
        }
        section.push(ifc);
        interfaces.push(ifc);
        break;
      }
      case BT_EPB:
      case BT_PB: {
        if (len < 32) throw blockError(index, type, at, `block length ${len} is shorter than 32`);
        const ifId = type === BT_EPB ? u32(at + 8) : u16(at + 8);
        const ts = (BigInt(u32(at + 12)) << 32n) | BigInt(u32(at + 16));
        const cap = u32(at + 20);
        const orig = u32(at + 24);
        if (cap > len - 32) {
          throw blockError(index, type, at, `captured length ${cap} exceeds the block (${len - 32} bytes of data room)`);
        }
        const ifc = section[ifId];
        if (ifc === undefined) {
          throw blockError(
            index,
            type,
            at,
            `interface id ${ifId} is not declared (the section has ${section.length} interface${section.length === 1 ? "" : "s"})`,
          );
        }
        const timeNs = toNs(ifc, ts);
        lastTime = timeNs;
        packets.push({ device: ifId, timeNs, data: bytes.slice(at + 28, at + 28 + cap), originalLength: orig });
        break;
      }
      case BT_SPB: {
        if (len < 16) throw blockError(index, type, at, `block length ${len} is shorter than 16`);
        const ifc = section[0];
        if (ifc === undefined) throw blockError(index, type, at, "no interface declared before a Simple Packet Block");
        const orig = u32(at + 8);
        let cap = Math.min(orig, len - 16);
        if (ifc.snapLen !== 0) cap = Math.min(cap, ifc.snapLen);
        // No timestamp in a Simple Packet Block: it inherits the previous packet's.
        packets.push({ device: 0, timeNs: lastTime, data: bytes.slice(at + 12, at + 12 + cap), originalLength: orig });
        break;
      }
      default:
        if (!inSection) throw blockError(index, type, at, "no Section Header Block before it");
        break;
    }
    pos = at + len;
  }
  return { interfaces, packets };
}

class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;
  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad4(): void {
    while (this.length % 4 !== 0) this.u8(0);
  }
  patch32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function checkPacket(p: Packet, i: number, interfaceCount: number | undefined): void {
  if (interfaceCount !== undefined && (!Number.isInteger(p.device) || p.device < 0 || p.device >= interfaceCount)) {
    throw new RangeError(`packet ${i}: device ${p.device} is not an interface 0..${interfaceCount - 1}`);
  }
  if (p.timeNs < 0n || p.timeNs >= 1n << 64n) {
    throw new RangeError(`packet ${i}: timeNs ${p.timeNs} does not fit in an unsigned 64-bit value`);
  }
  if (p.data.length > 0xffffffff) throw new RangeError(`packet ${i}: too long`);
}

/** Writes a pcapng (little-endian) with interfaceCount Ethernet interfaces ("dev0".."devN-1",
 * if_tsresol=9: ns timestamps) and one Enhanced Packet Block per packet (interface id = device). */
export function writePcapng(interfaceCount: number, packets: readonly Packet[]): Uint8Array {
  if (!Number.isInteger(interfaceCount) || interfaceCount < 0 || interfaceCount > 0xffffffff) {
    throw new RangeError(`interfaceCount ${interfaceCount} is not a valid count`);
  }
  const w = new ByteWriter(64 + packets.reduce((n, p) => n + p.data.length + 36, 0) + interfaceCount * 40);
  // Section Header Block
  w.u32(BT_SHB);
  w.u32(28);
  w.u32(BYTE_ORDER_MAGIC);
  w.u16(1);
  w.u16(0);
  w.u32(0xffffffff); // section length -1: unknown
  w.u32(0xffffffff);
  w.u32(28);
  const enc = new TextEncoder();
  for (let i = 0; i < interfaceCount; i++) {
    const start = w.length;
    w.u32(BT_IDB);
    w.u32(0); // patched
    w.u16(LINKTYPE_ETHERNET);
    w.u16(0);
    w.u32(0); // snaplen 0: no limit
    const name = enc.encode(`dev${i}`);
    w.u16(2);
    w.u16(name.length);
    w.bytes(name);
    w.pad4();
    w.u16(9); // if_tsresol
    w.u16(1);
    w.u8(9);
    w.pad4();
    w.u16(0); // opt_endofopt
    w.u16(0);
    const len = w.length - start + 4;
    w.u32(len);
    w.patch32(start + 4, len);
  }
  packets.forEach((p, i) => {
    checkPacket(p, i, interfaceCount);
    const padded = (p.data.length + 3) & ~3;
    const len = 32 + padded;
    w.u32(BT_EPB);
    w.u32(len);
    w.u32(p.device);
    w.u32(Number(p.timeNs >> 32n));
    w.u32(Number(p.timeNs & 0xffffffffn));
    w.u32(p.data.length);
    w.u32(p.data.length);
    w.bytes(p.data);
    w.pad4();
    w.u32(len);
  });
  return w.result();
}

/** Writes a classic pcap (little-endian, nanosecond timestamps: magic 0xa1b23c4d, Ethernet,
 * snaplen 65535), e.g. for DPDK's net_pcap vdev. Devices are not recorded. */
export function writePcap(packets: readonly Pick<Packet, "timeNs" | "data">[]): Uint8Array {
  const w = new ByteWriter(24 + packets.reduce((n, p) => n + p.data.length + 16, 0));
  w.u32(0xa1b23c4d);
  w.u16(2);
  w.u16(4);
  w.u32(0); // thiszone
  w.u32(0); // sigfigs
  w.u32(65535);
  w.u32(LINKTYPE_ETHERNET);
  packets.forEach((p, i) => {
    checkPacket({ device: 0, ...p }, i, undefined);
    const sec = p.timeNs / NS_PER_S;
    if (sec > 0xffffffffn) throw new RangeError(`packet ${i}: timeNs ${p.timeNs} is past 2106 (classic pcap limit)`);
    w.u32(Number(sec));
    w.u32(Number(p.timeNs % NS_PER_S));
    w.u32(p.data.length);
    w.u32(p.data.length);
    w.bytes(p.data);
  });
  return w.result();
}

export interface Pcap {
  linkType: number;
  snapLen: number;
  packets: { timeNs: bigint; data: Uint8Array; originalLength: number }[];
}

/** Reads a classic pcap (either byte order, micro- or nanosecond magic). */
export function readPcap(bytes: Uint8Array): Pcap {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24) throw new PcapngError(`malformed pcap: the file header needs 24 bytes, got ${bytes.length}`, 0);
  const magicLe = view.getUint32(0, true);
  let little: boolean;
  let nano: boolean;
  switch (magicLe) {
    case 0xa1b2c3d4: little = true; nano = false; break;
    case 0xa1b23c4d: little = true; nano = true; break;
    case 0xd4c3b2a1: little = false; nano = false; break;
    case 0x4d3cb2a1: little = false; nano = true; break;
    default:
      throw new PcapngError(`malformed pcap: bad magic ${hex32(magicLe)} at offset 0`, 0);
  }
  const snapLen = view.getUint32(16, little);
  const linkType = view.getUint32(20, little) & 0xffff;
  const packets: Pcap["packets"] = [];
  let pos = 24;
  let index = 0;
  while (pos < bytes.length) {
    index++;
    if (bytes.length - pos < 16) {
      throw new PcapngError(`malformed pcap: record ${index} at offset ${pos}: truncated header`, pos);
    }
    const sec = BigInt(view.getUint32(pos, little));
    const frac = BigInt(view.getUint32(pos + 4, little));
    const cap = view.getUint32(pos + 8, little);
    const orig = view.getUint32(pos + 12, little);
    if (cap > bytes.length - pos - 16) {
      throw new PcapngError(`malformed pcap: record ${index} at offset ${pos}: captured length ${cap} runs past the end`, pos);
    }
    packets.push({
      timeNs: sec * NS_PER_S + (nano ? frac : frac * 1000n),
      data: bytes.slice(pos + 16, pos + 16 + cap),
      originalLength: orig,
    });
    pos += 16 + cap;
  }
  return { linkType, snapLen, packets };
}
