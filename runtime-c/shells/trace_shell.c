/* Trace shell: runs an NF over a pcapng capture.
 *
 *   <binary> IN.pcapng OUT.pcapng [NF flags] [--stats] [--state FILE] [--state-out FILE]
 *
 * Devices are the interfaces declared in IN (device_count = number of Interface Description
 * Blocks, at most NF_MAX_DEVICES); device X has MAC 02:00:00:00:00:XX. Each packet's interface
 * id is its input device and its timestamp its arrival time (passed to the NF clamped so that
 * it never decreases). OUT gets the same number of Ethernet interfaces (ns timestamps) and one
 * Enhanced Packet Block per output: interface id = output device, timestamp = the original
 * timestamp of the input packet; a flood writes one record per device but the input one, in
 * increasing device order.
 *
 * --state FILE seeds the NF's tables before the first packet and --state-out FILE writes them
 * after the last one (see "Replay state" in README.md; used by `vigorc replay`).
 *
 * Exit status: 0 done, 1 unreadable/malformed input (capture or state file) or I/O error,
 * 2 bad flags. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flags.h"
#include "nf.h"
#include "pcapng.h"
#include "trace_state.h"

#define MAX_PACKET_LEN 65535u

static uint64_t opt_stats;

static const struct vig_shell_flag shell_flags[] = {
    {"stats", "Print packets_in=, packets_out=, dropped= lines on stdout at exit.",
     VIG_SHELL_SWITCH, 0, 1, 0, &opt_stats},
};

static uint8_t packet_buf[MAX_PACKET_LEN + 1] __attribute__((aligned(64)));

/* Maps (regular files) or reads (pipes, ...) the whole input. *mapped tells how to release it. */
static uint8_t *read_file(const char *path, size_t *size, bool *mapped) {
  *mapped = false;
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return NULL;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    errno = EISDIR;
    return NULL;
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      close(fd);
      *size = (size_t)st.st_size;
      *mapped = true;
      return p;
    }
  }
  /* Not mappable (pipe, empty file, ...): read it. */
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf != NULL) {
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      int e = errno;
      free(buf);
      buf = NULL;
      errno = e;
      break;
    }
    if (got == 0) {
      break;
    }
    n += (size_t)got;
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        free(buf);
        buf = NULL;
        errno = ENOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  close(fd);
  *size = n;
  return buf;
}

static void release_file(uint8_t *data, size_t size, bool mapped) {
  if (mapped) {
    munmap(data, size);
  } else {
    free(data);
  }
}

/* What a flag-parsing result means for main: -1 go on, else the exit code (help printed: 0). */
static int flags_outcome(enum vig_flags_result result, const struct vig_flags_spec *spec) {
  switch (result) {
  case VIG_FLAGS_OK:
    return -1;
  case VIG_FLAGS_HELP:
    vig_flags_print_help(stdout, spec);
    return 0;
  case VIG_FLAGS_ERROR:
  default:
    return VIG_EXIT_BAD_FLAGS;
  }
}

/* ---- Replay state (--state / --state-out): see README.md, "Replay state". ---- */

/* The trace shell's own options with a file argument, taken out of argv before the flag parser
 * (which only knows numbers and switches) sees it. Returns the new argc, or -1 after an error. */
static int take_path_option(int argc, char **argv, const char *name, const char **value) {
  size_t n = strlen(name);
  int out = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, n) == 0 &&
        (a[2 + n] == '\0' || a[2 + n] == '=')) {
      if (*value != NULL) {
        fprintf(stderr, "error: --%s: given more than once\n", name);
        return -1;
      }
      if (a[2 + n] == '=') {
        *value = a + 3 + n;
      } else if (i + 1 < argc) {
        *value = argv[++i];
      } else {
        fprintf(stderr, "error: --%s needs a file name\n", name);
        return -1;
      }
      continue;
    }
    argv[out++] = argv[i];
  }
  return out;
}

static bool parse_u64(const char *s, uint64_t *v) {
  if (*s == '\0' || *s == '-') {
    return false;
  }
  char *end;
  errno = 0;
  unsigned long long x = strtoull(s, &end, 0);
  if (errno != 0 || *end != '\0') {
    return false;
  }
  *v = (uint64_t)x;
  return true;
}

/* The hooks exist and pass keys in arrays of NF_TRACE_MAX_FIELDS values. */
static bool tables_fit(void) {
  if (!nf_trace_available()) {
    fprintf(stderr, "error: this NF was not generated by vigorc: it has no state hooks for "
                    "--state / --state-out\n");
    return false;
  }
  for (size_t t = 0; t < nf_trace_table_count; t++) {
    if (nf_trace_tables[t].field_count > NF_TRACE_MAX_FIELDS) {
      fprintf(stderr,
              "error: table %s: its key has more than %d fields (replay state unsupported)\n",
              nf_trace_tables[t].name, NF_TRACE_MAX_FIELDS);
      return false;
    }
  }
  return true;
}

static long find_table(const char *name) {
  for (size_t t = 0; t < nf_trace_table_count; t++) {
    if (strcmp(nf_trace_tables[t].name, name) == 0) {
      return (long)t;
    }
  }
  return -1;
}

/* Runs the operations of a state file, one per line ('#' starts a comment):
 *   add TABLE TIME INDEX V1 .. Vn   add the key (its record's field values) at TIME; it must get
 * INDEX remove TABLE INDEX              remove the entry at INDEX Times must not decrease.
 * *last_time receives the last time used. Returns false after one "error: FILE:LINE: ..." line on
 * stderr. */
static bool seed_state(const char *path, struct nf_state *st, const struct nf_config *cfg,
                       uint64_t *last_time) {
  if (!tables_fit()) {
    return false;
  }
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "error: cannot read %s: %s\n", path, strerror(errno));
    return false;
  }
  char line[4096];
  unsigned lineno = 0;
  bool ok = true;
  while (ok && fgets(line, sizeof line, f) != NULL) {
    lineno++;
    char *hash = strchr(line, '#');
    if (hash != NULL) {
      *hash = '\0';
    }
    char *words[NF_TRACE_MAX_FIELDS + 8];
    size_t n = 0;
    for (char *w = strtok(line, " \t\r\n"); w != NULL; w = strtok(NULL, " \t\r\n")) {
      if (n == sizeof words / sizeof words[0]) {
        break;
      }
      words[n++] = w;
    }
    if (n == 0) {
      continue;
    }
    const char *what = NULL;
    long table = n >= 2 ? find_table(words[1]) : -1;
    uint64_t nums[NF_TRACE_MAX_FIELDS + 8];
    for (size_t i = 2; i < n && what == NULL; i++) {
      if (!parse_u64(words[i], &nums[i])) {
        what = "not a number";
      }
    }
    if (what != NULL) {
      /* reported below */
    } else if (n < 2 || table < 0) {
      what = "unknown table (or missing)";
    } else if (strcmp(words[0], "add") == 0) {
      size_t fields = nf_trace_tables[table].field_count;
      uint32_t index = 0;
      if (n != 4 + fields) {
        what = "add needs TABLE TIME INDEX and one value per key field";
      } else if (nums[2] < *last_time) {
        what = "times must not decrease";
      } else if (nums[3] >= nf_trace_capacity(cfg, (size_t)table)) {
        what = "index beyond the table's capacity";
      } else if (nf_trace_find(st, (size_t)table, &nums[4], &index)) {
        what = "the key is already in the table";
      } else if (!nf_trace_add(st, (size_t)table, &nums[4], nums[2], &index)) {
        what = "the table is full";
      } else if (index != nums[3]) {
        fprintf(stderr, "error: %s:%u: the table handed out index %" PRIu32 ", not %" PRIu64 "\n",
                path, lineno, index, nums[3]);
        ok = false;
      } else {
        *last_time = nums[2];
      }
    } else if (strcmp(words[0], "remove") == 0) {
      uint64_t scratch[NF_TRACE_MAX_FIELDS], time;
      if (n != 3) {
        what = "remove needs TABLE INDEX";
      } else if (nums[2] >= nf_trace_capacity(cfg, (size_t)table) ||
                 !nf_trace_entry(st, (size_t)table, (uint32_t)nums[2], scratch, &time)) {
        what = "no entry at that index";
      } else {
        nf_trace_remove(st, (size_t)table, (uint32_t)nums[2]);
      }
    } else {
      what = "unknown operation (add or remove)";
    }
    if (what != NULL) {
      fprintf(stderr, "error: %s:%u: %s\n", path, lineno, what);
      ok = false;
    }
  }
  if (ok && ferror(f)) {
    fprintf(stderr, "error: cannot read %s: %s\n", path, strerror(errno));
    ok = false;
  }
  fclose(f);
  return ok;
}

/* Writes every table: "table NAME size N capacity C", then "entry INDEX TIME V1 .. Vn" per entry
 * in index order. */
static bool dump_state(const char *path, struct nf_state *st, const struct nf_config *cfg) {
  if (!tables_fit()) {
    return false;
  }
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    return false;
  }
  for (size_t t = 0; t < nf_trace_table_count; t++) {
    uint32_t cap = nf_trace_capacity(cfg, t);
    uint64_t key[NF_TRACE_MAX_FIELDS], time;
    uint32_t size = 0;
    for (uint32_t i = 0; i < cap; i++) {
      size += nf_trace_entry(st, t, i, key, &time) ? 1u : 0u;
    }
    fprintf(f, "table %s size %" PRIu32 " capacity %" PRIu32 "\n", nf_trace_tables[t].name, size,
            cap);
    for (uint32_t i = 0; i < cap; i++) {
      if (nf_trace_entry(st, t, i, key, &time)) {
        fprintf(f, "entry %" PRIu32 " %" PRIu64, i, time);
        for (size_t k = 0; k < nf_trace_tables[t].field_count; k++) {
          fprintf(f, " %" PRIu64, key[k]);
        }
        fputc('\n', f);
      }
    }
  }
  return fclose(f) == 0;
}

int main(int argc, char **argv) {
  const char *prog = argc > 0 ? argv[0] : "nf";
  char usage[512];
  snprintf(usage, sizeof usage,
           "Usage: %s IN.pcapng OUT.pcapng [NF flags] [shell flags]\n"
           "Runs the NF '%s' over IN.pcapng (interface id = input device, timestamp = arrival\n"
           "time) and writes every packet it sends to OUT.pcapng (interface id = output device).\n"
           "  --state FILE      seed the NF's tables first (vigorc replay; README.md)\n"
           "  --state-out FILE  write the NF's tables after the last packet",
           prog, nf_name);
  struct vig_flags_spec spec = {usage, shell_flags, sizeof shell_flags / sizeof shell_flags[0]};

  if (argc > 1 && vig_flags_wants_help(argc - 1, argv + 1)) {
    vig_flags_print_help(stdout, &spec);
    return 0;
  }
  if (argc < 3 || strncmp(argv[1], "--", 2) == 0 || strncmp(argv[2], "--", 2) == 0) {
    fprintf(stderr,
            "error: expected IN.pcapng OUT.pcapng before the flags (usage: %s "
            "IN.pcapng OUT.pcapng [flags]; see --help)\n",
            prog);
    return VIG_EXIT_BAD_FLAGS;
  }
  const char *in_path = argv[1], *out_path = argv[2];
  const char *state_path = NULL, *state_out_path = NULL;
  argc = take_path_option(argc, argv, "state", &state_path);
  if (argc >= 0) {
    argc = take_path_option(argc, argv, "state-out", &state_out_path);
  }
  if (argc < 0) {
    return VIG_EXIT_BAD_FLAGS;
  }

  struct nf_config *cfg = calloc(1, nf_config_size ? nf_config_size : 1);
  if (cfg == NULL) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  /* Syntax-only pass: bad flags are reported before the input is even read. */
  int stop = flags_outcome(vig_flags_parse(&spec, argc - 3, argv + 3, cfg, NULL), &spec);
  if (stop >= 0)
    return stop;

  size_t size = 0;
  bool mapped = false;
  uint8_t *data = read_file(in_path, &size, &mapped);
  if (data == NULL) {
    fprintf(stderr, "error: cannot read %s: %s\n", in_path, strerror(errno));
    return 1;
  }
  struct pcapng_reader reader;
  pcapng_reader_init(&reader, data, size);
  struct pcapng_packet pkt;
  int r;
  uint64_t packet_count = 0;
  while ((r = pcapng_reader_next(&reader, &pkt)) == 1) {
    packet_count++;
  }
  if (r < 0) {
    fprintf(stderr, "error: %s: %s\n", in_path, reader.error);
    return 1;
  }
  uint32_t interfaces = reader.max_interface_count;
  if (interfaces == 0) {
    fprintf(stderr,
            "error: %s: declares no interface (Interface Description Block), so no "
            "device\n",
            in_path);
    return 1;
  }
  if (interfaces > NF_MAX_DEVICES) {
    fprintf(stderr,
            "error: %s: declares %" PRIu32 " interfaces, but an NF supports at most %d "
            "devices\n",
            in_path, interfaces, NF_MAX_DEVICES);
    return 1;
  }

  if (reader.non_ethernet_interfaces != 0) {
    fprintf(stderr,
            "warning: %s: %" PRIu32 " interface%s not Ethernet (link type 1); its packets are "
            "given to the NF as Ethernet frames anyway\n",
            in_path, reader.non_ethernet_interfaces,
            reader.non_ethernet_interfaces == 1 ? " is" : "s are");
  }

  struct nf_env env;
  memset(&env, 0, sizeof env);
  env.device_count = (uint16_t)interfaces;
  for (uint32_t d = 0; d < interfaces; d++) {
    env.device_macs[d] = UINT64_C(0x020000000000) | d;
  }
  stop = flags_outcome(vig_flags_parse(&spec, argc - 3, argv + 3, cfg, &env), &spec);
  if (stop >= 0)
    return stop;

  struct nf_state *state = nf_state_create(cfg, &env);
  if (state == NULL) {
    fprintf(stderr, "error: nf_state_create failed (out of memory)\n");
    return 1;
  }

  uint64_t now = 0;
  if (state_path != NULL && !seed_state(state_path, state, cfg, &now)) {
    return 1;
  }

  struct pcapng_writer writer;
  if (!pcapng_writer_open(&writer, out_path, interfaces)) {
    fprintf(stderr, "error: cannot write %s: %s\n", out_path, strerror(errno));
    return 1;
  }

  uint64_t in = 0, out = 0, dropped = 0, oversize = 0, invalid = 0;
  uint64_t last_ts = 0;
  pcapng_reader_rewind(&reader);
  while ((r = pcapng_reader_next(&reader, &pkt)) == 1) {
    in++;
    uint64_t ts = pkt.has_time ? pkt.time_ns : last_ts;
    last_ts = ts;
    if (ts > now) {
      now = ts;
    }
    if (pkt.captured_len > MAX_PACKET_LEN) {
      oversize++;
      dropped++;
      continue;
    }
    uint16_t dev = (uint16_t)pkt.interface;
    uint16_t len = (uint16_t)pkt.captured_len;
    memcpy(packet_buf, pkt.data, len);
    /* One packet at a time, so nothing to overlap: the call is here so that every trace run (the
     * differential tests, vigorc replay and test) checks that nf_prefetch changes nothing. */
    nf_prefetch(state, cfg, &env, packet_buf, len, dev, now);
    uint16_t action = nf_process(state, cfg, &env, packet_buf, len, dev, now);
    if (action == NF_ACTION_DROP) {
      dropped++;
    } else if (action == NF_ACTION_FLOOD) {
      if (env.device_count < 2) {
        dropped++; /* nobody to flood to */
      }
      for (uint16_t d = 0; d < env.device_count; d++) {
        if (d != dev) {
          pcapng_writer_packet(&writer, d, ts, packet_buf, len);
          out++;
        }
      }
    } else if (action < env.device_count) {
      pcapng_writer_packet(&writer, action, ts, packet_buf, len);
      out++;
    } else {
      invalid++;
      dropped++;
    }
  }
  if (r < 0) { /* cannot happen: the first pass validated the file */
    fprintf(stderr, "error: %s: %s\n", in_path, reader.error);
    pcapng_writer_close(&writer);
    return 1;
  }
  if (!pcapng_writer_close(&writer)) {
    fprintf(stderr, "error: writing %s failed: %s\n", out_path, strerror(errno));
    return 1;
  }
  if (state_out_path != NULL && !dump_state(state_out_path, state, cfg)) {
    fprintf(stderr, "error: writing %s failed: %s\n", state_out_path, strerror(errno));
    return 1;
  }
  if (oversize != 0) {
    fprintf(stderr, "warning: %" PRIu64 " packet%s longer than %u bytes dropped unprocessed\n",
            oversize, oversize == 1 ? "" : "s", MAX_PACKET_LEN);
  }
  if (invalid != 0) {
    fprintf(stderr,
            "warning: the NF returned a non-existent output device for %" PRIu64
            " packet%s (dropped)\n",
            invalid, invalid == 1 ? "" : "s");
  }
  if (opt_stats) {
    printf("packets_in=%" PRIu64 "\npackets_out=%" PRIu64 "\ndropped=%" PRIu64 "\n", in, out,
           dropped);
  }
  (void)packet_count;
  pcapng_reader_free(&reader);
  release_file(data, size, mapped);
  free(cfg);
  return 0;
}
