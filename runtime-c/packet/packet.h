/* Packet access for generated NF code: header parsing ("absent" for truncated or non-matching
 * packets), big-endian field loads/stores, and checksum-preserving writes (RFC 1624).
 * Same rules as dsl/packet.ts; the differential tests hold the two together.
 *
 * ACSL: every function has a contract that Frama-C WP proves with -wp-rte (and
 * -warn-unsigned-overflow): memory accesses stay inside what the precondition declares valid,
 * no arithmetic wraps. The parse contracts state how many bytes a present header guarantees
 * (offset + minimum length <= len), which is what generated code needs to read its fields.
 * Offsets are below 65536: packets are at most 65535 bytes (len is a uint16_t). The loads' bounds
 * precondition is named `readable`, so that a proof can select it at every call site
 * (`-wp-prop=readable`, as tests/c-proof-nf.test.ts's planted-bug run does). */
#ifndef VIG_PACKET_H
#define VIG_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#define VIG_ETHERNET_LENGTH 14u
#define VIG_IPV4_OFFSET 14u
#define VIG_IPV4_MIN_LENGTH 20u
#define VIG_TCP_MIN_LENGTH 20u
#define VIG_TCP_CHECKSUM 16u
#define VIG_UDP_LENGTH 8u
#define VIG_UDP_CHECKSUM 6u

/* A parsed header: present or not, and where it starts in the packet. */
struct vig_hdr {
  bool present;
  uint16_t offset;
};

/* An optional index (structure lookups). */
struct vig_opt_u32 {
  bool present;
  uint32_t value;
};

/* Multi-byte fields are read and written through q = p + at: GCC merges q[0], q[1], ... into one
 * access (with a byte swap), which it cannot for p[at], p[at + 1] (a 32-bit at + 1 may wrap), and
 * a load only when written with shifts, not multiplications (NAT: 667 -> 584 instructions per
 * packet, docs/performance.md). WP sees shifts by a constant through these lemmas, proven with its
 * bit-shift tactic (tests/packet-lemmas.test.ts). */
/*@ lemma vig_shift8: \forall integer x; (x << 8) == x * 256;
    lemma vig_shift16: \forall integer x; (x << 16) == x * 65536; */

/*@ requires readable: at < 65536 && \valid_read(p + at);
    assigns \nothing;
    ensures \result == p[at]; */
static inline uint8_t vig_load8(const uint8_t *p, uint32_t at) { return p[at]; }
/*@ requires readable: at + 1 < 65536 && \valid_read(p + (at .. at + 1));
    assigns \nothing;
    ensures \result == p[at] * 256 + p[at + 1]; */
static inline uint16_t vig_load16(const uint8_t *p, uint32_t at) {
  const uint8_t *q = p + at;
  return (uint16_t)(((uint32_t)q[0] << 8) + q[1]);
}
/*@ requires readable: at + 3 < 65536 && \valid_read(p + (at .. at + 3));
    assigns \nothing;
    ensures \result == (p[at] * 256 + p[at + 1]) * 65536 + p[at + 2] * 256 + p[at + 3]; */
static inline uint32_t vig_load32(const uint8_t *p, uint32_t at) {
  const uint8_t *q = p + at;
  return ((uint32_t)vig_load16(q, 0) << 16) + vig_load16(q, 2);
}
/*@ requires readable: at + 5 < 65536 && \valid_read(p + (at .. at + 5));
    assigns \nothing; */
static inline uint64_t vig_load48(const uint8_t *p, uint32_t at) {
  const uint8_t *q = p + at;
  return (uint64_t)vig_load16(q, 0) * 4294967296u + vig_load32(q, 2);
}

/*@ requires at < 65536 && \valid(p + at);
    assigns p[at];
    ensures p[at] == v; */
static inline void vig_store8(uint8_t *p, uint32_t at, uint8_t v) { p[at] = v; }
/*@ requires at + 1 < 65536 && \valid(p + (at .. at + 1));
    assigns p[at .. at + 1];
    ensures p[at] * 256 + p[at + 1] == v; */
static inline void vig_store16(uint8_t *p, uint32_t at, uint16_t v) {
  uint8_t *q = p + at;
  q[0] = (uint8_t)(v / 256u);
  q[1] = (uint8_t)(v % 256u);
}
/*@ requires at + 3 < 65536 && \valid(p + (at .. at + 3));
    assigns p[at .. at + 3]; */
static inline void vig_store32(uint8_t *p, uint32_t at, uint32_t v) {
  uint8_t *q = p + at;
  vig_store16(q, 0, (uint16_t)(v / 65536u));
  vig_store16(q, 2, (uint16_t)(v % 65536u));
}
/*@ requires at + 5 < 65536 && \valid(p + (at .. at + 5));
    assigns p[at .. at + 5]; */
static inline void vig_store48(uint8_t *p, uint32_t at, uint64_t v) {
  uint8_t *q = p + at;
  vig_store16(q, 0, (uint16_t)(v / 4294967296u % 65536u));
  vig_store32(q, 2, (uint32_t)(v % 4294967296u));
}

/*@ assigns \nothing;
    ensures \result.present <==> len >= VIG_ETHERNET_LENGTH;
    ensures \result.offset == 0; */
static inline struct vig_hdr vig_parse_ethernet(const uint8_t *p, uint16_t len) {
  (void)p;
  return (struct vig_hdr){len >= VIG_ETHERNET_LENGTH, 0};
}

/*@ requires \valid_read(p + (0 .. len - 1));
    assigns \nothing;
    ensures \result.present ==> \result.offset == VIG_IPV4_OFFSET &&
      len >= VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH && p[14] % 16 >= 5 &&
      p[14] % 16 * 4 <= p[16] * 256 + p[17] && VIG_IPV4_OFFSET + p[16] * 256 + p[17] <= len; */
static inline struct vig_hdr vig_parse_ipv4(const uint8_t *p, uint16_t len) {
  struct vig_hdr none = {false, 0};
  if (len < VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH || vig_load16(p, 12) != 0x0800u) return none;
  uint8_t version_ihl = p[VIG_IPV4_OFFSET];
  uint32_t ihl = version_ihl % 16u;
  uint32_t total_length = vig_load16(p, VIG_IPV4_OFFSET + 2);
  if (version_ihl / 16u != 4u || ihl < 5u) return none;
  if (total_length < ihl * 4u || VIG_IPV4_OFFSET + total_length > len) return none;
  return (struct vig_hdr){true, VIG_IPV4_OFFSET};
}

/* The L4 header of a TCP/UDP datagram that is not a later fragment and holds min_length bytes of it.
 * The protocol is tested before the IPv4 header is parsed, so that of the NF's TCP and UDP parses
 * of a packet only the one for its own protocol parses the IPv4 header again. */
/*@ requires \valid_read(p + (0 .. len - 1)) && min_length <= VIG_TCP_MIN_LENGTH;
    assigns \nothing;
    ensures \result.present ==> len >= VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH &&
      \result.offset >= VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH &&
      \result.offset + min_length <= len; */
static inline struct vig_hdr vig_parse_l4(const uint8_t *p, uint16_t len, uint8_t protocol,
                                          uint32_t min_length) {
  struct vig_hdr none = {false, 0};
  if (len <= VIG_IPV4_OFFSET + 9u || p[VIG_IPV4_OFFSET + 9] != protocol) return none;
  if (!vig_parse_ipv4(p, len).present) return none;
  if (vig_load16(p, VIG_IPV4_OFFSET + 6) % 8192u != 0u) return none;
  uint32_t ihl_bytes = p[VIG_IPV4_OFFSET] % 16u * 4u;
  if (ihl_bytes + min_length > vig_load16(p, VIG_IPV4_OFFSET + 2)) return none;
  return (struct vig_hdr){true, (uint16_t)(VIG_IPV4_OFFSET + ihl_bytes)};
}

/*@ requires \valid_read(p + (0 .. len - 1));
    assigns \nothing;
    ensures \result.present ==> len >= VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH &&
      \result.offset >= VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH &&
      \result.offset + VIG_TCP_MIN_LENGTH <= len; */
static inline struct vig_hdr vig_parse_tcp(const uint8_t *p, uint16_t len) {
  return vig_parse_l4(p, len, 6, VIG_TCP_MIN_LENGTH);
}
/*@ requires \valid_read(p + (0 .. len - 1));
    assigns \nothing;
    ensures \result.present ==> len >= VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH &&
      \result.offset >= VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH &&
      \result.offset + VIG_UDP_LENGTH <= len; */
static inline struct vig_hdr vig_parse_udp(const uint8_t *p, uint16_t len) {
  return vig_parse_l4(p, len, 17, VIG_UDP_LENGTH);
}

/*@ requires \valid_read(p + (VIG_IPV4_OFFSET + 6 .. VIG_IPV4_OFFSET + 7));
    assigns \nothing; */
static inline bool vig_ipv4_is_fragment(const uint8_t *p) {
  return vig_load16(p, VIG_IPV4_OFFSET + 6) % 16384u != 0u;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
/*@ assigns \nothing; */
static inline uint16_t vig_checksum_update(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  uint32_t sum = (uint32_t)(0xFFFFu - checksum) + (uint32_t)(0xFFFFu - old_word) + new_word;
  sum = sum % 65536u + sum / 65536u;
  sum = sum % 65536u + sum / 65536u;
  return (uint16_t)(0xFFFFu - sum);
}

/* Applies a one-word change to the checksum stored at `at`; a UDP checksum of 0 (none) stays 0. */
/*@ requires at + 1 < 65536 && \valid(p + (at .. at + 1));
    assigns p[at .. at + 1]; */
static inline void vig_checksum_apply(uint8_t *p, uint32_t at, uint16_t old_word, uint16_t new_word,
                                      bool udp) {
  uint16_t current = vig_load16(p, at);
  if (udp && current == 0u) return;
  uint16_t next = vig_checksum_update(current, old_word, new_word);
  if (udp && next == 0u) next = 0xFFFFu;
  vig_store16(p, at, next);
}

/* Where the TCP/UDP checksum is, when an IPv4 pseudo-header change must update it (0: nowhere). */
/*@ requires \valid_read(p + (0 .. len - 1)) && \valid(udp);
    requires \separated(udp, p + (0 .. len - 1));
    assigns *udp;
    ensures \result == 0 || (\result >= VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH && \result + 2 <= len); */
static inline uint32_t vig_l4_checksum_at(const uint8_t *p, uint16_t len, bool *udp) {
  /* One parse, for the packet's own protocol (a TCP parse, then a UDP one, cost 71 instructions
   * per NAT packet). */
  bool is_udp = len > VIG_IPV4_OFFSET + 9u && p[VIG_IPV4_OFFSET + 9] == 17u;
  struct vig_hdr h = is_udp ? vig_parse_l4(p, len, 17, VIG_UDP_LENGTH)
                            : vig_parse_l4(p, len, 6, VIG_TCP_CHECKSUM + 2);
  *udp = is_udp;
  if (!h.present) return 0u;
  return h.offset + (is_udp ? VIG_UDP_CHECKSUM : VIG_TCP_CHECKSUM);
}

/* Writes `bytes` bytes (1, 2 or 4) of an IPv4 header field at header offset `field`, keeping the
 * IPv4 checksum valid, and the TCP/UDP one too when `pseudo` (the field is in the pseudo-header). */
/*@ requires len >= VIG_IPV4_OFFSET + VIG_IPV4_MIN_LENGTH && \valid(p + (0 .. len - 1));
    requires bytes == 1 || bytes == 2 || bytes == 4;
    requires field + bytes <= VIG_IPV4_MIN_LENGTH && (bytes <= 2 || field % 2 == 0);
    assigns p[0 .. len - 1]; */
static inline void vig_ipv4_write(uint8_t *p, uint16_t len, uint32_t field, uint32_t bytes,
                                  uint32_t value, bool pseudo) {
  uint32_t first = field - field % 2u;
  uint32_t last = (field + bytes - 1u) - (field + bytes - 1u) % 2u;
  uint16_t before[2] = {vig_load16(p, VIG_IPV4_OFFSET + first),
                        vig_load16(p, VIG_IPV4_OFFSET + last)};
  if (bytes == 1u) vig_store8(p, VIG_IPV4_OFFSET + field, (uint8_t)value);
  else if (bytes == 2u) vig_store16(p, VIG_IPV4_OFFSET + field, (uint16_t)value);
  else vig_store32(p, VIG_IPV4_OFFSET + field, value);
  bool udp = false;
  uint32_t l4 = pseudo ? vig_l4_checksum_at(p, len, &udp) : 0u;
  /*@ loop invariant 0 <= k <= (last - first) / 2 + 1;
      loop assigns k, p[0 .. len - 1];
      loop variant (last - first) / 2 + 1 - k; */
  for (uint32_t k = 0; k <= (last - first) / 2u; k++) {
    uint16_t now = vig_load16(p, VIG_IPV4_OFFSET + first + 2u * k);
    vig_checksum_apply(p, VIG_IPV4_OFFSET + 10u, before[k], now, false);
    if (l4 != 0u) vig_checksum_apply(p, l4, before[k], now, udp);
  }
}

/* Writes a TCP or UDP header field (2 or 4 bytes, word aligned), keeping its checksum valid. */
/*@ requires bytes == 2 || bytes == 4;
    requires field % 2 == 0 && l4 + field + bytes <= 65535 &&
             l4 + (udp ? VIG_UDP_CHECKSUM : VIG_TCP_CHECKSUM) + 2 <= 65535;
    requires \valid(p + (l4 + field .. l4 + field + bytes - 1));
    requires \valid(p + (l4 + (udp ? VIG_UDP_CHECKSUM : VIG_TCP_CHECKSUM) ..
                          l4 + (udp ? VIG_UDP_CHECKSUM : VIG_TCP_CHECKSUM) + 1));
    assigns p[l4 + field .. l4 + field + bytes - 1],
            p[l4 + (udp ? VIG_UDP_CHECKSUM : VIG_TCP_CHECKSUM) ..
              l4 + (udp ? VIG_UDP_CHECKSUM : VIG_TCP_CHECKSUM) + 1]; */
static inline void vig_l4_write(uint8_t *p, uint32_t l4, uint32_t field, uint32_t bytes,
                                uint32_t value, bool udp) {
  uint32_t checksum_at = l4 + (udp ? VIG_UDP_CHECKSUM : VIG_TCP_CHECKSUM);
  uint16_t before[2] = {vig_load16(p, l4 + field), vig_load16(p, l4 + field + bytes - 2u)};
  if (bytes == 2u) vig_store16(p, l4 + field, (uint16_t)value);
  else vig_store32(p, l4 + field, value);
  /*@ loop invariant 0 <= k <= bytes / 2;
      loop assigns k, p[l4 + field .. l4 + field + bytes - 1], p[checksum_at .. checksum_at + 1];
      loop variant bytes / 2 - k; */
  for (uint32_t k = 0; k < bytes / 2u; k++) {
    vig_checksum_apply(p, checksum_at, before[k], vig_load16(p, l4 + field + 2u * k), udp);
  }
}

#endif
