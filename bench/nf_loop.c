/* A bare packet loop around a generated NF, without DPDK: for profiling the NF's own per-packet
 * cost under valgrind (bench/profile.ts) and for timing it without the drivers.
 *
 *   nf_loop CAPTURE.pcap PASSES [--burst B | --pipeline D] [NF flags]
 *
 * Reads a classic pcap (dsl/pcapng.ts writePcap: little-endian, nanosecond timestamps), then
 * PASSES times over its frames: copies each frame into a packet buffer (nf_process rewrites it in
 * place) and calls nf_process as device 0 of 2, the time advancing 100 ns per packet, in one of
 * the DPDK shell's loops (struct loop_shape; default: strict burst 1). Every
 * packet must be forwarded (exit 1 otherwise: a flow-table miss that failed, a malformed frame).
 * Prints `packets=`, `loop_cycles_per_packet=` (TSC over the passes after the first, copy
 * included) on stdout.
 *
 * Compiled on its own without -flto (bench/profile.ts) so that nf_process is never inlined here:
 * `valgrind --tool=callgrind --toggle-collect=nf_process --toggle-collect=nf_prefetch` then
 * counts exactly the NF's calls,
 * from the second pass on (the statistics are zeroed there). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#endif

#include "flags.h"
#include "nf.h"

#define PCAP_HEADER 24u
#define PCAP_RECORD 16u
#define DEVICES 2u
#define MAX_BURST 64u
#define MAX_DEPTH 8u
#define MBUF_STRIDE 2304u /* an mbuf: 128 B header + 2 KiB + 128 B headroom */

/* The DPDK shell's packet loops (runtime-c/shells/dpdk_shell.c): burst > 1, nf_prefetch over the
 * burst then nf_process over it; burst 1 with depth D, each packet prefetched on arrival and
 * processed after D more (0: strict, no nf_prefetch). */
struct loop_shape {
  size_t burst, depth;
};

struct frame {
  const uint8_t *data;
  uint16_t len;
};

static int dropped(long pass, size_t frame) {
  fprintf(stderr, "error: pass %ld, frame %zu dropped\n", pass, frame);
  return 1;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *read_all(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  size_t cap = 1u << 20, n = 0;
  uint8_t *buf = malloc(cap);
  size_t got;
  while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      uint8_t *bigger = realloc(buf, cap);
      if (bigger == NULL)
        free(buf);
      buf = bigger;
    }
  }
  fclose(f);
  *size = n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s CAPTURE.pcap PASSES [--burst B | --pipeline D] [NF flags]\n",
            argv[0]);
    return 2;
  }
  struct loop_shape loop = {1, 0};
  int first_flag = 3;
  if (argc > 4 && (strcmp(argv[3], "--burst") == 0 || strcmp(argv[3], "--pipeline") == 0)) {
    const unsigned long v = strtoul(argv[4], NULL, 10);
    if (argv[3][2] == 'b' ? v < 1 || v > MAX_BURST : v > MAX_DEPTH) {
      fprintf(stderr, "error: %s %s is out of range\n", argv[3], argv[4]);
      return 2;
    }
    *(argv[3][2] == 'b' ? &loop.burst : &loop.depth) = v;
    first_flag = 5;
  }
  long passes = strtol(argv[2], NULL, 10);
  size_t size = 0;
  uint8_t *pcap = read_all(argv[1], &size);
  if (pcap == NULL || size < PCAP_HEADER || le32(pcap) != 0xa1b23c4du || passes < 2) {
    fprintf(stderr, "error: %s is not a nanosecond pcap (or PASSES < 2)\n", argv[1]);
    return 1;
  }
  size_t count = 0;
  for (size_t at = PCAP_HEADER; at + PCAP_RECORD <= size; at += PCAP_RECORD + le32(pcap + at + 8))
    count++;
  struct frame *frames = calloc(count, sizeof *frames);
  size_t k = 0;
  for (size_t at = PCAP_HEADER; k < count; at += PCAP_RECORD + le32(pcap + at + 8), k++) {
    uint32_t len = le32(pcap + at + 8);
    if (len > 64 || at + PCAP_RECORD + len > size) {
      fprintf(stderr, "error: frame %zu: %u bytes (at most 64, inside the file)\n", k, len);
      return 1;
    }
    frames[k] = (struct frame){pcap + at + PCAP_RECORD, (uint16_t)len};
  }

  struct nf_env env;
  memset(&env, 0, sizeof env);
  env.device_count = DEVICES;
  for (uint32_t d = 0; d < DEVICES; d++)
    env.device_macs[d] = UINT64_C(0x020000000000) | d;
  struct nf_config *cfg = calloc(1, nf_config_size ? nf_config_size : 1);
  struct vig_flags_spec spec = {"Usage: nf_loop CAPTURE.pcap PASSES [NF flags]", NULL, 0};
  if (cfg == NULL ||
      vig_flags_parse(&spec, argc - first_flag, argv + first_flag, cfg, &env) != VIG_FLAGS_OK)
    return 2;
  struct nf_state *st = nf_state_create(cfg, &env);
  if (st == NULL) {
    fprintf(stderr, "error: nf_state_create failed\n");
    return 1;
  }

  /* Packet buffers as the DPDK shell's mbufs hold them: one per packet of a burst (or of the
   * pipeline), each in its own 2 KiB + 128 B buffer as rte_pktmbuf_pool_create lays them out. */
  static _Alignas(64) uint8_t bufs[MAX_BURST + 1][MBUF_STRIDE];
  uint8_t *pkt[MAX_BURST + 1];
  uint64_t when[MAX_BURST + 1];
  uint16_t lens[MAX_BURST + 1];
  uint64_t now = 1000000000u, start = 0;
  const size_t group = loop.burst > 1 ? loop.burst : 1;
  size_t slot = 0, held = 0;
  for (long p = 0; p < passes; p++) {
    if (p == 1) {
      /* Under callgrind: count the hits only (the first pass adds every flow). */
      CALLGRIND_ZERO_STATS;
      start = __rdtsc();
    }
    for (size_t i = 0; i < count; i += group) {
      const size_t n = count - i < group ? count - i : group;
      if (loop.burst > 1) {
        for (size_t j = 0; j < n; j++) {
          pkt[j] = bufs[j];
          lens[j] = frames[i + j].len;
          memcpy(pkt[j], frames[i + j].data, lens[j]);
        }
        for (size_t j = 0; j < n; j++)
          nf_prefetch(st, cfg, &env, pkt[j], lens[j], 0, now);
        for (size_t j = 0; j < n; j++)
          if (nf_process(st, cfg, &env, pkt[j], lens[j], 0, now) == NF_ACTION_DROP)
            return dropped(p, i + j);
        now += 100 * n;
        continue;
      }
      /* burst 1: the frame goes to the next buffer of a ring of depth + 1 (the last pass leaves
       * its last depth packets unprocessed) */
      uint8_t *b = bufs[slot];
      memcpy(b, frames[i].data, frames[i].len);
      if (loop.depth == 0) {
        if (nf_process(st, cfg, &env, b, frames[i].len, 0, now) == NF_ACTION_DROP)
          return dropped(p, i);
      } else {
        nf_prefetch(st, cfg, &env, b, frames[i].len, 0, now);
        pkt[slot] = b;
        lens[slot] = frames[i].len;
        when[slot] = now;
        const size_t old = slot == loop.depth ? 0 : slot + 1;
        if (held == loop.depth) {
          if (nf_process(st, cfg, &env, pkt[old], lens[old], 0, when[old]) == NF_ACTION_DROP)
            return dropped(p, i);
        } else {
          held++;
        }
      }
      slot = slot == loop.depth ? 0 : slot + 1;
      now += 100;
    }
  }
  uint64_t cycles = __rdtsc() - start;
  printf("packets=%zu\nloop_cycles_per_packet=%.1f\n", count,
         (double)cycles / (double)(count * (size_t)(passes - 1)));
  return 0;
}
