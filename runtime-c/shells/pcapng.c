/* pcapng reader/writer: see pcapng.h. Format: IETF draft-ietf-opsawg-pcapng. */
#include "pcapng.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define BT_SHB UINT32_C(0x0A0D0D0A)
#define BT_IDB UINT32_C(1)
#define BT_PB UINT32_C(2)
#define BT_SPB UINT32_C(3)
#define BT_EPB UINT32_C(6)
#define BYTE_ORDER_MAGIC UINT32_C(0x1A2B3C4D)

#define OPT_END 0
#define OPT_IF_NAME 2
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14

#define NS_PER_S UINT64_C(1000000000)

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const struct pcapng_reader *r, size_t off) {
  const uint8_t *p = r->data + off;
  return r->swap ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t rd32(const struct pcapng_reader *r, size_t off) {
  const uint8_t *p = r->data + off;
  if (r->swap) {
    return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
  }
  return le32(p);
}

static uint64_t rd64(const struct pcapng_reader *r, size_t off) {
  uint64_t a = rd32(r, off), b = rd32(r, off + 4);
  return r->swap ? (a << 32 | b) : (b << 32 | a);
}

static const char *block_name(uint32_t type) {
  switch (type) {
  case BT_SHB:
    return "Section Header Block";
  case BT_IDB:
    return "Interface Description Block";
  case BT_PB:
    return "Packet Block";
  case BT_SPB:
    return "Simple Packet Block";
  case BT_EPB:
    return "Enhanced Packet Block";
  default:
    return "block";
  }
}

static int fail(struct pcapng_reader *r, uint32_t type, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct pcapng_reader *r, uint32_t type, size_t offset, const char *fmt, ...) {
  int n = snprintf(r->error, sizeof r->error,
                   "malformed pcapng: block %" PRIu64 " (%s, type 0x%08" PRIx32 ") at offset %zu: ",
                   r->block_count + 1, block_name(type), type, offset);
  if (n > 0 && (size_t)n < sizeof r->error) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error + n, sizeof r->error - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

void pcapng_reader_init(struct pcapng_reader *r, const uint8_t *data, size_t size) {
  memset(r, 0, sizeof *r);
  r->data = data;
  r->size = size;
}

void pcapng_reader_rewind(struct pcapng_reader *r) {
  r->pos = 0;
  r->swap = false;
  r->in_section = false;
  r->section_count = 0;
  r->block_count = 0;
  r->interface_count = 0;
  r->non_ethernet_interfaces = 0;
  r->error[0] = '\0';
}

void pcapng_reader_free(struct pcapng_reader *r) {
  free(r->interfaces);
  r->interfaces = NULL;
  r->interface_capacity = 0;
  r->interface_count = 0;
}

/* Converts a timestamp in an interface's units to ns. Returns false on overflow. */
static bool to_ns(const struct pcapng_interface *ifc, uint64_t ts, uint64_t *ns) {
  unsigned __int128 v;
  if (ifc->resol_is_power_of_10) {
    if (ifc->resol_exponent <= 9) {
      uint64_t mult = NS_PER_S / ifc->units_per_second;
      v = (unsigned __int128)ts * mult;
    } else {
      v = ts / (ifc->units_per_second / NS_PER_S);
    }
  } else {
    v = ((unsigned __int128)ts * NS_PER_S) >> ifc->resol_exponent;
  }
  __int128 s = (__int128)v + (__int128)ifc->ts_offset_s * (__int128)NS_PER_S;
  if (s < 0 || s > (__int128)UINT64_MAX) {
    return false;
  }
  *ns = (uint64_t)s;
  return true;
}

static int read_idb(struct pcapng_reader *r, size_t at, uint32_t len) {
  if (!r->in_section) {
    return fail(r, BT_IDB, at, "no Section Header Block before it");
  }
  if (len < 20) {
    return fail(r, BT_IDB, at, "block length %" PRIu32 " is shorter than 20", len);
  }
  struct pcapng_interface ifc;
  memset(&ifc, 0, sizeof ifc);
  ifc.link_type = rd16(r, at + 8);
  ifc.snap_len = rd32(r, at + 12);
  ifc.units_per_second = 1000000;
  ifc.resol_is_power_of_10 = true;
  ifc.resol_exponent = 6;
  size_t off = at + 16, end = at + len - 4;
  while (off + 4 <= end) {
    uint16_t code = rd16(r, off), olen = rd16(r, off + 2);
    size_t padded = ((size_t)olen + 3) & ~(size_t)3;
    if (code == OPT_END) {
      break;
    }
    if (off + 4 + padded > end) {
      return fail(r, BT_IDB, at, "option %u at offset %zu (length %u) overruns the block",
                  (unsigned)code, off, (unsigned)olen);
    }
    if (code == OPT_IF_TSRESOL) {
      if (olen != 1) {
        return fail(r, BT_IDB, at, "if_tsresol option has length %u, expected 1", (unsigned)olen);
      }
      uint8_t v = r->data[off + 4];
      if (v & 0x80) {
        uint8_t e = v & 0x7F;
        if (e > 63) {
          return fail(r, BT_IDB, at, "if_tsresol 2^-%u is not supported (max 2^-63)", (unsigned)e);
        }
        ifc.resol_is_power_of_10 = false;
        ifc.resol_exponent = e;
        ifc.units_per_second = UINT64_C(1) << e;
      } else {
        if (v > 19) {
          return fail(r, BT_IDB, at, "if_tsresol 10^-%u is not supported (max 10^-19)",
                      (unsigned)v);
        }
        uint64_t u = 1;
        for (uint8_t i = 0; i < v; i++) {
          u *= 10;
        }
        ifc.resol_is_power_of_10 = true;
        ifc.resol_exponent = v;
        ifc.units_per_second = u;
      }
    } else if (code == OPT_IF_TSOFFSET) {
      if (olen != 8) {
        return fail(r, BT_IDB, at, "if_tsoffset option has length %u, expected 8", (unsigned)olen);
      }
      ifc.ts_offset_s = (int64_t)rd64(r, off + 4);
    }
    off += 4 + padded;
  }
  if (r->interface_count >= PCAPNG_MAX_INTERFACES) {
    return fail(r, BT_IDB, at, "more than %d interfaces in one section", PCAPNG_MAX_INTERFACES);
  }
  if (r->interface_count == r->interface_capacity) {
    uint32_t cap = r->interface_capacity ? r->interface_capacity * 2 : 8;
    struct pcapng_interface *n = realloc(r->interfaces, cap * sizeof *n);
    if (n == NULL) {
      return fail(r, BT_IDB, at, "out of memory");
    }
    r->interfaces = n;
    r->interface_capacity = cap;
  }
  r->interfaces[r->interface_count++] = ifc;
  if (ifc.link_type != PCAPNG_LINKTYPE_ETHERNET) {
    r->non_ethernet_interfaces++;
  }
  if (r->interface_count > r->max_interface_count) {
    r->max_interface_count = r->interface_count;
  }
  return 0;
}

int pcapng_reader_next(struct pcapng_reader *r, struct pcapng_packet *p) {
  for (;;) {
    size_t at = r->pos;
    if (at == r->size) {
      if (r->block_count == 0) {
        snprintf(r->error, sizeof r->error, "malformed pcapng: the file is empty");
        return -1;
      }
      return 0;
    }
    if (r->size - at < 12) {
      return fail(r, 0, at, "only %zu bytes left, a block needs at least 12", r->size - at);
    }
    uint32_t type_le = le32(r->data + at);
    if (type_le == BT_SHB) {
      uint32_t magic = le32(r->data + at + 8);
      if (r->size - at < 28) {
        return fail(r, BT_SHB, at, "truncated (%zu bytes left, needs 28)", r->size - at);
      }
      if (magic == BYTE_ORDER_MAGIC) {
        r->swap = false;
      } else if (magic == UINT32_C(0x4D3C2B1A)) {
        r->swap = true;
      } else {
        return fail(r, BT_SHB, at, "bad byte-order magic 0x%08" PRIx32, magic);
      }
    } else if (r->block_count == 0) {
      if (type_le == UINT32_C(0xA1B2C3D4) || type_le == UINT32_C(0xD4C3B2A1) ||
          type_le == UINT32_C(0xA1B23C4D) || type_le == UINT32_C(0x4D3CB2A1)) {
        snprintf(r->error, sizeof r->error,
                 "malformed pcapng: this is a classic pcap file, not pcapng (convert it with "
                 "editcap -F pcapng)");
        return -1;
      }
      return fail(r, type_le, at, "a pcapng file must start with a Section Header Block");
    }
    uint32_t type = rd32(r, at);
    uint32_t len = rd32(r, at + 4);
    if (len < 12 || len % 4 != 0) {
      return fail(r, type, at, "block length %" PRIu32 " is not a multiple of 4 of at least 12",
                  len);
    }
    if (len > r->size - at) {
      return fail(r, type, at,
                  "block length %" PRIu32 " runs past the end of the file (%zu bytes left)", len,
                  r->size - at);
    }
    uint32_t trailer = rd32(r, at + len - 4);
    if (trailer != len) {
      return fail(r, type, at, "trailing block length %" PRIu32 " differs from %" PRIu32, trailer,
                  len);
    }
    switch (type) {
    case BT_SHB: {
      uint16_t major = rd16(r, at + 12);
      if (major != 1) {
        return fail(r, type, at, "unsupported pcapng version %u.%u", (unsigned)major,
                    (unsigned)rd16(r, at + 14));
      }
      r->in_section = true;
      r->section_count++;
      r->interface_count = 0;
      break;
    }
    case BT_IDB:
      if (read_idb(r, at, len) < 0) {
        return -1;
      }
      break;
    case BT_EPB:
    case BT_PB: {
      if (len < 32) {
        return fail(r, type, at, "block length %" PRIu32 " is shorter than 32", len);
      }
      uint32_t ifc = type == BT_EPB ? rd32(r, at + 8) : rd16(r, at + 8);
      uint64_t ts = (uint64_t)rd32(r, at + 12) << 32 | rd32(r, at + 16);
      uint32_t cap = rd32(r, at + 20), orig = rd32(r, at + 24);
      if (cap > len - 32) {
        return fail(r, type, at,
                    "captured length %" PRIu32 " exceeds the block (%" PRIu32
                    " bytes of data room)",
                    cap, len - 32);
      }
      if (ifc >= r->interface_count) {
        return fail(r, type, at,
                    "interface id %" PRIu32 " is not declared (the section has %" PRIu32
                    " interface%s)",
                    ifc, r->interface_count, r->interface_count == 1 ? "" : "s");
      }
      if (!to_ns(&r->interfaces[ifc], ts, &p->time_ns)) {
        return fail(r, type, at, "timestamp %" PRIu64 " does not fit in 64-bit nanoseconds", ts);
      }
      p->interface = ifc;
      p->has_time = true;
      p->data = r->data + at + 28;
      p->captured_len = cap;
      p->original_len = orig;
      p->block_offset = at;
      r->pos = at + len;
      r->block_count++;
      return 1;
    }
    case BT_SPB: {
      if (len < 16) {
        return fail(r, type, at, "block length %" PRIu32 " is shorter than 16", len);
      }
      if (r->interface_count == 0) {
        return fail(r, type, at, "no interface declared before a Simple Packet Block");
      }
      uint32_t orig = rd32(r, at + 8);
      uint32_t cap = orig;
      if (cap > len - 16) {
        cap = len - 16;
      }
      uint32_t snap = r->interfaces[0].snap_len;
      if (snap != 0 && cap > snap) {
        cap = snap;
      }
      p->interface = 0;
      p->has_time = false;
      p->time_ns = 0;
      p->data = r->data + at + 12;
      p->captured_len = cap;
      p->original_len = orig;
      p->block_offset = at;
      r->pos = at + len;
      r->block_count++;
      return 1;
    }
    default:
      if (!r->in_section) {
        return fail(r, type, at, "no Section Header Block before it");
      }
      break; /* unknown or uninteresting block: skipped */
    }
    r->pos = at + len;
    r->block_count++;
  }
}

/* ---- writer (always little-endian) ---- */

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static void emit(struct pcapng_writer *w, const void *p, size_t n) {
  if (n != 0 && fwrite(p, 1, n, w->file) != n) {
    w->failed = true;
  }
}

bool pcapng_writer_open(struct pcapng_writer *w, const char *path, uint32_t interface_count) {
  memset(w, 0, sizeof *w);
  w->file = fopen(path, "wb");
  if (w->file == NULL) {
    return false;
  }
  w->buffer = malloc(1 << 20);
  if (w->buffer != NULL) {
    setvbuf(w->file, w->buffer, _IOFBF, 1 << 20);
  }
  uint8_t shb[28];
  put32(shb, BT_SHB);
  put32(shb + 4, 28);
  put32(shb + 8, BYTE_ORDER_MAGIC);
  put16(shb + 12, 1);
  put16(shb + 14, 0);
  put32(shb + 16, UINT32_MAX); /* section length: unknown (-1) */
  put32(shb + 20, UINT32_MAX);
  put32(shb + 24, 28);
  emit(w, shb, sizeof shb);
  for (uint32_t i = 0; i < interface_count; i++) {
    uint8_t idb[48];
    memset(idb, 0, sizeof idb);
    char name[16];
    int nlen = snprintf(name, sizeof name, "dev%" PRIu32, i);
    size_t npad = ((size_t)nlen + 3) & ~(size_t)3;
    size_t len = 16 + 4 + npad + 8 + 4 + 4;
    put32(idb, BT_IDB);
    put32(idb + 4, (uint32_t)len);
    put16(idb + 8, PCAPNG_LINKTYPE_ETHERNET);
    put16(idb + 10, 0);
    put32(idb + 12, 0); /* snaplen 0: no limit */
    size_t o = 16;
    put16(idb + o, OPT_IF_NAME);
    put16(idb + o + 2, (uint16_t)nlen);
    memcpy(idb + o + 4, name, (size_t)nlen);
    o += 4 + npad;
    put16(idb + o, OPT_IF_TSRESOL);
    put16(idb + o + 2, 1);
    idb[o + 4] = 9; /* 10^-9 s */
    o += 8;
    put16(idb + o, OPT_END);
    put16(idb + o + 2, 0);
    o += 4;
    put32(idb + o, (uint32_t)len);
    emit(w, idb, len);
  }
  return !w->failed;
}

bool pcapng_writer_packet(struct pcapng_writer *w, uint32_t interface, uint64_t time_ns,
                          const uint8_t *data, uint32_t length) {
  static const uint8_t zeros[4] = {0, 0, 0, 0};
  uint32_t pad = (4 - (length & 3)) & 3;
  uint32_t total = 32 + length + pad;
  uint8_t hdr[28], tail[4];
  put32(hdr, BT_EPB);
  put32(hdr + 4, total);
  put32(hdr + 8, interface);
  put32(hdr + 12, (uint32_t)(time_ns >> 32));
  put32(hdr + 16, (uint32_t)time_ns);
  put32(hdr + 20, length);
  put32(hdr + 24, length);
  put32(tail, total);
  emit(w, hdr, sizeof hdr);
  emit(w, data, length);
  emit(w, zeros, pad);
  emit(w, tail, sizeof tail);
  w->packets++;
  return !w->failed;
}

bool pcapng_writer_close(struct pcapng_writer *w) {
  bool ok = !w->failed;
  if (w->file != NULL) {
    if (fclose(w->file) != 0) {
      ok = false;
    }
    w->file = NULL;
  }
  free(w->buffer);
  w->buffer = NULL;
  return ok;
}
