/**
 * Header layouts: the one place that says where each header field lives and how writing it
 * affects checksums. The dsl runtime (headers.ts) and the compiler (codegen, verifier) both read it.
 */
import type { Width } from "./types.ts";

export type HeaderName = "ethernet" | "ipv4" | "tcp" | "udp";

/** Which checksums a write to the field must keep valid (incremental update, RFC 1624). */
export type ChecksumEffect =
  | "none"
  | "ipv4" //        the IPv4 header checksum
  | "ipv4+pseudo" // the IPv4 header checksum and the TCP/UDP checksum (pseudo-header field)
  | "l4"; //         the TCP or UDP checksum of the header itself

export interface FieldLayout {
  /** Offset from the start of the header, in bytes. */
  offset: number;
  /** Bytes read big-endian (network order). */
  bytes: 1 | 2 | 4 | 6;
  /** For sub-byte fields: the value is (raw >> shift) & (2**bits - 1). */
  shift?: number;
  bits?: number;
  /** The DSL type of the value. */
  width: Width;
  writable: boolean;
  checksum: ChecksumEffect;
}

export const ETHERNET_LENGTH = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const IPV4_OFFSET = ETHERNET_LENGTH;
export const IPV4_MIN_LENGTH = 20;
export const IPV4_CHECKSUM_OFFSET = 10;
export const PROTOCOL_TCP = 6;
export const PROTOCOL_UDP = 17;
export const TCP_MIN_LENGTH = 20;
export const TCP_CHECKSUM_OFFSET = 16;
export const UDP_LENGTH = 8;
export const UDP_CHECKSUM_OFFSET = 6;

const field = (
  offset: number,
  bytes: 1 | 2 | 4 | 6,
  width: Width,
  writable: boolean,
  checksum: ChecksumEffect,
  bits?: { shift: number; bits: number },
): FieldLayout => ({ offset, bytes, width, writable, checksum, ...bits });

export const LAYOUTS = {
  ethernet: {
    dst: field(0, 6, 64, true, "none"),
    src: field(6, 6, 64, true, "none"),
    etherType: field(12, 2, 16, false, "none"),
  },
  ipv4: {
    version: field(0, 1, 8, false, "none", { shift: 4, bits: 4 }),
    ihl: field(0, 1, 8, false, "none", { shift: 0, bits: 4 }),
    tos: field(1, 1, 8, true, "ipv4"),
    totalLength: field(2, 2, 16, false, "none"),
    id: field(4, 2, 16, true, "ipv4"),
    moreFragments: field(6, 2, 8, false, "none", { shift: 13, bits: 1 }),
    fragmentOffset: field(6, 2, 16, false, "none", { shift: 0, bits: 13 }),
    ttl: field(8, 1, 8, true, "ipv4"),
    protocol: field(9, 1, 8, false, "none"),
    checksum: field(10, 2, 16, false, "none"),
    src: field(12, 4, 32, true, "ipv4+pseudo"),
    dst: field(16, 4, 32, true, "ipv4+pseudo"),
  },
  tcp: {
    srcPort: field(0, 2, 16, true, "l4"),
    dstPort: field(2, 2, 16, true, "l4"),
    seq: field(4, 4, 32, true, "l4"),
    ack: field(8, 4, 32, true, "l4"),
    flags: field(13, 1, 8, false, "none"),
    window: field(14, 2, 16, true, "l4"),
    checksum: field(16, 2, 16, false, "none"),
  },
  udp: {
    srcPort: field(0, 2, 16, true, "l4"),
    dstPort: field(2, 2, 16, true, "l4"),
    length: field(4, 2, 16, false, "none"),
    checksum: field(6, 2, 16, false, "none"),
  },
} as const satisfies Record<HeaderName, Record<string, FieldLayout>>;

/** Derived boolean properties (no storage of their own). */
export const DERIVED = {
  ipv4: { isFragment: "moreFragments != 0 || fragmentOffset != 0" },
} as const;

/** The class name an NF sees for each header. */
export const HEADER_CLASS: Record<HeaderName, string> = {
  ethernet: "EthernetHeader",
  ipv4: "Ipv4Header",
  tcp: "TcpHeader",
  udp: "UdpHeader",
};
