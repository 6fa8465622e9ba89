/* A small pcapng reader (in-memory, both byte orders) and writer (host byte order).
 * Reader: Section Header, Interface Description (if_tsresol, if_tsoffset), Enhanced Packet,
 * Simple Packet and obsolete Packet blocks; every other block type is skipped.
 * Writer: one section, N Ethernet interfaces with if_tsresol=9 (ns), Enhanced Packet Blocks. */
#ifndef VIG_PCAPNG_H
#define VIG_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PCAPNG_LINKTYPE_ETHERNET 1
#define PCAPNG_MAX_INTERFACES 65536

struct pcapng_interface {
  uint16_t link_type;
  uint32_t snap_len;
  uint64_t units_per_second; /* from if_tsresol; default 1000000 (microseconds) */
  bool resol_is_power_of_10;
  uint8_t resol_exponent;
  int64_t ts_offset_s; /* if_tsoffset */
};

struct pcapng_packet {
  uint32_t interface;    /* index within the current section */
  bool has_time;         /* false for Simple Packet Blocks */
  uint64_t time_ns;      /* the timestamp converted to ns (0 when !has_time) */
  const uint8_t *data;   /* points into the reader's buffer */
  uint32_t captured_len; /* bytes at data */
  uint32_t original_len; /* length on the wire */
  uint64_t block_offset; /* file offset of the block, for messages */
};

struct pcapng_reader {
  const uint8_t *data;
  size_t size;
  size_t pos;
  bool swap; /* current section is in the other byte order */
  bool in_section;
  uint64_t section_count;
  uint64_t block_count;
  struct pcapng_interface *interfaces; /* of the current section */
  uint32_t interface_count;
  uint32_t interface_capacity;
  uint32_t max_interface_count;     /* over all sections read so far */
  uint32_t non_ethernet_interfaces; /* interfaces read so far whose link type is not Ethernet */
  char error[256];
};

/* Prepares reading data[0..size-1] (not copied; must outlive the reader). */
void pcapng_reader_init(struct pcapng_reader *r, const uint8_t *data, size_t size);
/* Restarts reading from the beginning. */
void pcapng_reader_rewind(struct pcapng_reader *r);
/* Returns 1 and fills *p for the next packet, 0 at the end of the data, -1 on malformed input
 * (r->error holds a one-line message naming the block and its offset). */
int pcapng_reader_next(struct pcapng_reader *r, struct pcapng_packet *p);
void pcapng_reader_free(struct pcapng_reader *r);

struct pcapng_writer {
  FILE *file;
  char *buffer;
  uint64_t packets;
  bool failed;
};

/* Creates path and writes the section header and interface_count Ethernet interfaces
 * (if_tsresol=9, if_name "devN"). Returns false (errno set) on failure. */
bool pcapng_writer_open(struct pcapng_writer *w, const char *path, uint32_t interface_count);
/* Writes one Enhanced Packet Block. Returns false on a write error. */
bool pcapng_writer_packet(struct pcapng_writer *w, uint32_t interface, uint64_t time_ns,
                          const uint8_t *data, uint32_t length);
/* Flushes and closes. Returns false if any write failed. */
bool pcapng_writer_close(struct pcapng_writer *w);

#endif
