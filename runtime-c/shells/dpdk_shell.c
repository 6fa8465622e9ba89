/* DPDK shell: runs an NF on every available DPDK port, one core.
 *
 *   <binary> <EAL args> -- [NF flags] [shell flags]
 *
 * Devices are the available ports in port-id order (device_count = port count, read once at
 * start-up); env.device_macs come from rte_eth_macaddr_get. Each port gets one rx and one tx
 * queue; all share one mbuf pool. The loop polls each port for up to --burst packets, calls
 * nf_process once per packet (time: TSC in ns, read once per burst, never decreasing), then
 * sends each packet to the returned device (buffered per port: one tx call per port per burst),
 * frees drops, and floods copies to every other port. At burst 1 it pipelines --pipeline packets
 * (default 2: each packet is prefetched, then processed after the next two rx calls; see
 * pipeline_step; --pipeline 0 turns it off). See README.md for the flags and stats.
 *
 * Exit status: 0 clean stop, 1 runtime error (EAL, ports, memory), 2 bad flags. */
#define _GNU_SOURCE

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "flags.h"
#include "nf.h"

#define MAX_BURST 64
#define MAX_PIPELINE 8
#define MAX_PACKET_LEN 65535u
#define RX_DESC 1024
#define TX_DESC 1024

/* Whether the NF can see the mbuf's packet: one segment and a length nf_process takes (uint16_t).
 * The others are dropped unprocessed (and counted). */
static inline bool nf_can_process(const struct rte_mbuf *m) {
  return m->nb_segs == 1 && m->pkt_len <= MAX_PACKET_LEN;
}

static uint64_t opt_burst = 1;
static uint64_t opt_max_packets = 0;
static uint64_t opt_idle_exit_ms = 0;
static uint64_t opt_duration_s = 0;
static uint64_t opt_stats = 0;
static uint64_t opt_mbufs = 0; /* 0: automatic */
static uint64_t opt_pipeline = 2;

static const struct vig_shell_flag shell_flags[] = {
    {"burst", "Receive up to N packets per rx call (and send up to N per tx call).", VIG_SHELL_UINT,
     1, MAX_BURST, 1, &opt_burst},
    {"max-packets", "Stop after processing N packets (0: no limit).", VIG_SHELL_UINT, 0, UINT64_MAX,
     0, &opt_max_packets},
    {"idle-exit-ms",
     "Stop when nothing was received for N ms (counted from start-up until the first packet) "
     "(0: never).",
     VIG_SHELL_UINT, 0, UINT64_C(1) << 40, 0, &opt_idle_exit_ms},
    {"duration-s", "Stop after N seconds (0: no limit).", VIG_SHELL_UINT, 0, UINT64_C(1) << 31, 0,
     &opt_duration_s},
    {"stats",
     "At exit, print packets_in=, packets_out=, dropped=, seconds=, mpps=, "
     "nf_cycles_per_packet=, loop_cycles_per_packet= (one per line) on stdout.",
     VIG_SHELL_SWITCH, 0, 1, 0, &opt_stats},
    {"mbufs",
     "Number of mbufs in the packet pool shared by all ports; it must exceed the packets of an "
     "infinite_rx pcap. 0: the largest of 262143, 131071, 65535, 32767, 16383, 8191 that fits "
     "in memory (EAL -m).",
     VIG_SHELL_UINT, 0, UINT64_C(1) << 26, 0, &opt_mbufs},
    {"pipeline",
     "At burst 1, hold up to N received packets, each prefetched, and process the oldest after "
     "each rx (an idle link holds none). 0: process each packet before the next rx.",
     VIG_SHELL_UINT, 0, MAX_PIPELINE, 2, &opt_pipeline},
};

static volatile sig_atomic_t quit_signal = 0;

static void on_signal(int sig) { quit_signal = sig; }

struct tx_queue {
  uint16_t n;
  struct rte_mbuf *pkts[MAX_BURST];
};

static uint16_t port_ids[NF_MAX_DEVICES];
static bool port_started[NF_MAX_DEVICES];
static uint16_t port_count;
static struct tx_queue txq[NF_MAX_DEVICES];

static void close_ports(void) {
  for (uint16_t d = 0; d < port_count; d++) {
    if (port_started[d]) {
      int r = rte_eth_dev_stop(port_ids[d]);
      if (r != 0) {
        fprintf(stderr, "warning: stopping port %u failed: %s\n", (unsigned)port_ids[d],
                rte_strerror(-r));
      }
      port_started[d] = false;
    }
    rte_eth_dev_close(port_ids[d]);
  }
  port_count = 0;
}

static int finish(int status) {
  close_ports();
  rte_eal_cleanup();
  return status;
}

static int setup_port(uint16_t port, struct rte_mempool *pool) {
  struct rte_eth_conf conf;
  memset(&conf, 0, sizeof conf);
  struct rte_eth_dev_info info;
  int r = rte_eth_dev_info_get(port, &info);
  if (r != 0) {
    fprintf(stderr, "error: port %u: cannot get device info: %s\n", (unsigned)port,
            rte_strerror(-r));
    return -1;
  }
  r = rte_eth_dev_configure(port, 1, 1, &conf);
  if (r != 0) {
    fprintf(stderr, "error: port %u: configure failed: %s\n", (unsigned)port, rte_strerror(-r));
    return -1;
  }
  uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
  r = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
  if (r != 0) {
    fprintf(stderr, "error: port %u: cannot adjust descriptor counts: %s\n", (unsigned)port,
            rte_strerror(-r));
    return -1;
  }
  int socket = rte_eth_dev_socket_id(port);
  unsigned sock = socket < 0 ? (unsigned)SOCKET_ID_ANY : (unsigned)socket;
  r = rte_eth_rx_queue_setup(port, 0, nb_rxd, sock, NULL, pool);
  if (r != 0) {
    fprintf(stderr, "error: port %u: rx queue setup failed: %s (too few mbufs? see --mbufs)\n",
            (unsigned)port, rte_strerror(-r));
    return -1;
  }
  r = rte_eth_tx_queue_setup(port, 0, nb_txd, sock, NULL);
  if (r != 0) {
    fprintf(stderr, "error: port %u: tx queue setup failed: %s\n", (unsigned)port,
            rte_strerror(-r));
    return -1;
  }
  return 0;
}

/* The packet loop's state and counters. */
struct loop_ctx {
  struct nf_state *state;
  const struct nf_config *cfg;
  const struct nf_env *env;
  struct rte_mempool *pool;
  uint16_t ndev;
  bool stats;
  uint64_t packets_in, packets_out, dropped, oversize, invalid, tx_refused, copy_failed, nf_cycles;
  uint64_t busy_end_tsc;
};

/* A packet received, prefetched and not yet processed, with its input device and arrival time. */
struct held_packet {
  struct rte_mbuf *m;
  uint16_t device;
  uint64_t now;
};

/* The burst-1 pipeline's held packets, oldest first from head (a ring of depth slots). Once full
 * it stays full (head moves) until release_held empties it. */
struct pipeline {
  unsigned depth, head, n;
  struct held_packet held[MAX_PIPELINE];
};

static inline void prefetch_packet(struct loop_ctx *c, struct rte_mbuf *m, uint16_t d,
                                   uint64_t now) {
  if (likely(nf_can_process(m))) {
    nf_prefetch(c->state, c->cfg, c->env, rte_pktmbuf_mtod(m, uint8_t *), (uint16_t)m->data_len, d,
                now);
  }
}

static inline uint16_t process_packet(struct loop_ctx *c, struct rte_mbuf *m, uint16_t d,
                                      uint64_t now) {
  if (unlikely(!nf_can_process(m))) {
    c->oversize++;
    return NF_ACTION_DROP;
  }
  return nf_process(c->state, c->cfg, c->env, rte_pktmbuf_mtod(m, uint8_t *), (uint16_t)m->data_len,
                    d, now);
}

/* Queues each packet on its output port (copies for a flood), frees drops, then makes one tx call
 * per port with packets. */
static void send_packets(struct loop_ctx *c, struct rte_mbuf **bufs, const uint16_t *actions,
                         uint16_t n, uint16_t d) {
  const uint16_t ndev = c->ndev;
  uint64_t dirty = 0;
  for (uint16_t i = 0; i < n; i++) {
    struct rte_mbuf *m = bufs[i];
    const uint16_t a = actions[i];
    if (likely(a < ndev)) {
      struct tx_queue *q = &txq[a];
      q->pkts[q->n++] = m;
      dirty |= UINT64_C(1) << a;
    } else if (a == NF_ACTION_FLOOD && ndev > 1) {
      const uint16_t last = d == ndev - 1 ? (uint16_t)(ndev - 2) : (uint16_t)(ndev - 1);
      for (uint16_t e = 0; e < ndev; e++) {
        if (e == d) {
          continue;
        }
        struct rte_mbuf *copy = m;
        if (e != last) {
          copy = rte_pktmbuf_copy(m, c->pool, 0, UINT32_MAX);
          if (unlikely(copy == NULL)) {
            c->copy_failed++;
            c->dropped++;
            continue;
          }
        }
        struct tx_queue *q = &txq[e];
        q->pkts[q->n++] = copy;
        dirty |= UINT64_C(1) << e;
      }
    } else {
      if (a != NF_ACTION_DROP && a != NF_ACTION_FLOOD) {
        c->invalid++;
      }
      c->dropped++;
      rte_pktmbuf_free(m);
    }
  }
  while (dirty != 0) {
    const unsigned e = (unsigned)__builtin_ctzll(dirty);
    dirty &= dirty - 1;
    struct tx_queue *q = &txq[e];
    const uint16_t sent = rte_eth_tx_burst(port_ids[e], 0, q->pkts, q->n);
    c->packets_out += sent;
    if (unlikely(sent < q->n)) {
      c->tx_refused += (uint64_t)(q->n - sent);
      c->dropped += (uint64_t)(q->n - sent);
      rte_pktmbuf_free_bulk(q->pkts + sent, (unsigned)(q->n - sent));
    }
    q->n = 0;
  }
  if (c->stats) {
    c->busy_end_tsc = rte_rdtsc();
  }
}

/* A burst received on device d at time now (TSC t0): processed and sent at once. */
static void process_burst(struct loop_ctx *c, struct rte_mbuf **bufs, uint16_t n, uint16_t d,
                          uint64_t now, uint64_t t0) {
  uint16_t actions[MAX_BURST];
  /* Over a burst, each packet's table lookup starts loading before the first packet is
   * processed, so the cache misses overlap instead of following one another. */
  if (n > 1) {
    for (uint16_t i = 0; i < n; i++) {
      prefetch_packet(c, bufs[i], d, now);
    }
  }
  for (uint16_t i = 0; i < n; i++) {
    actions[i] = process_packet(c, bufs[i], d, now);
  }
  if (c->stats) {
    c->nf_cycles += rte_rdtsc() - t0;
  }
  send_packets(c, bufs, actions, n, d);
}

/* A held packet processed with its own device and time, counted from TSC t0, and sent. */
static inline void process_held(struct loop_ctx *c, struct held_packet h, uint64_t t0) {
  const uint16_t action = process_packet(c, h.m, h.device, h.now);
  if (c->stats) {
    c->nf_cycles += rte_rdtsc() - t0;
  }
  send_packets(c, &h.m, &action, 1, h.device);
}

/* The pipeline (burst 1): the packet m just received is prefetched; when depth packets are
 * already held, the oldest is processed and sent and m takes its place. Each held packet keeps its
 * own device and arrival time, so packets are processed in arrival order with their own times;
 * what changes is that a packet's table lines load while the packets before it are processed and
 * while the next rx calls run. */
static void pipeline_step(struct loop_ctx *c, struct pipeline *p, struct rte_mbuf *m, uint16_t d,
                          uint64_t now, uint64_t t0) {
  prefetch_packet(c, m, d, now);
  const struct held_packet in = {m, d, now};
  if (p->n < p->depth) {
    p->held[p->n++] = in; /* head is 0 until the ring is full */
    if (c->stats) {
      c->nf_cycles += rte_rdtsc() - t0;
    }
    return;
  }
  struct held_packet h = p->held[p->head];
  p->held[p->head] = in;
  p->head = p->head + 1 == p->depth ? 0 : p->head + 1;
  process_held(c, h, t0);
}

/* Processes and sends the held packets, oldest first (when nothing arrived, and before stopping).
 */
static void release_held(struct loop_ctx *c, struct pipeline *p) {
  for (unsigned i = 0; i < p->n; i++) {
    const uint64_t t0 = c->stats ? rte_rdtsc() : 0;
    unsigned k = p->head + i;
    struct held_packet h = p->held[k >= p->depth ? k - p->depth : k];
    process_held(c, h, t0);
  }
  p->head = 0;
  p->n = 0;
}

/* ns = tsc * 10^9 / hz, as (tsc * mult) >> 32 in 128-bit arithmetic (no overflow). */
static uint64_t tsc_mult;

static inline uint64_t tsc_to_ns(uint64_t tsc) {
  return (uint64_t)(((unsigned __int128)tsc * tsc_mult) >> 32);
}

int main(int argc, char **argv) {
  const char *prog = argc > 0 ? argv[0] : "nf";
  char usage[640];
  snprintf(usage, sizeof usage,
           "Usage: %s <EAL args> -- [NF flags] [shell flags]\n"
           "Runs the NF '%s' on every available DPDK port (device N = the N-th port).\n"
           "Example without a NIC: %s --no-huge --no-pci -m 256 --no-shconf --no-telemetry \\\n"
           "  --vdev=net_pcap0,rx_pcap=in.pcap --vdev=net_pcap1,tx_pcap=out.pcap -- "
           "--idle-exit-ms 500",
           prog, nf_name, prog);
  struct vig_flags_spec spec = {usage, shell_flags, sizeof shell_flags / sizeof shell_flags[0]};

  /* Find the application part (after "--") before EAL touches argv. */
  int dashdash = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      dashdash = i;
      break;
    }
  }
  int app_argc = dashdash >= 0 ? argc - dashdash - 1 : 0;
  char **app_argv = dashdash >= 0 ? argv + dashdash + 1 : argv + argc;
  if (vig_flags_wants_help(app_argc, app_argv) ||
      (dashdash < 0 && vig_flags_wants_help(argc - 1, argv + 1))) {
    vig_flags_print_help(stdout, &spec);
    return 0;
  }
  struct nf_config *cfg = calloc(1, nf_config_size ? nf_config_size : 1);
  if (cfg == NULL) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  /* Syntax-only pass: bad flags fail before EAL initialisation. */
  if (vig_flags_parse(&spec, app_argc, app_argv, cfg, NULL) != VIG_FLAGS_OK) {
    return VIG_EXIT_BAD_FLAGS;
  }
  char **saved_app_argv = calloc((size_t)app_argc + 1, sizeof *saved_app_argv);
  if (saved_app_argv == NULL) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  memcpy(saved_app_argv, app_argv, (size_t)app_argc * sizeof *app_argv);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int eal = rte_eal_init(argc, argv);
  if (eal < 0) {
    fprintf(stderr, "error: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }

  uint16_t pid;
  uint16_t avail = rte_eth_dev_count_avail();
  if (avail == 0) {
    fprintf(stderr, "error: no DPDK port available (bind a NIC or pass --vdev=...)\n");
    return finish(1);
  }
  if (avail > NF_MAX_DEVICES) {
    fprintf(stderr, "error: %u ports available but an NF supports at most %d devices\n",
            (unsigned)avail, NF_MAX_DEVICES);
    return finish(1);
  }
  RTE_ETH_FOREACH_DEV(pid) {
    if (port_count < NF_MAX_DEVICES) {
      port_ids[port_count++] = pid;
    }
  }
  struct nf_env env;
  memset(&env, 0, sizeof env);
  env.device_count = port_count;
  for (uint16_t d = 0; d < port_count; d++) {
    struct rte_ether_addr mac;
    if (rte_eth_macaddr_get(port_ids[d], &mac) == 0) {
      uint64_t v = 0;
      for (int b = 0; b < RTE_ETHER_ADDR_LEN; b++) {
        v = v << 8 | mac.addr_bytes[b];
      }
      env.device_macs[d] = v;
    }
  }
  if (vig_flags_parse(&spec, app_argc, saved_app_argv, cfg, &env) != VIG_FLAGS_OK) {
    return finish(VIG_EXIT_BAD_FLAGS);
  }
  free(saved_app_argv);
  (void)eal;

  static const unsigned auto_sizes[] = {262143, 131071, 65535, 32767, 16383, 8191};
  struct rte_mempool *pool = NULL;
  unsigned pool_size = 0;
  for (size_t i = 0; i < sizeof auto_sizes / sizeof auto_sizes[0]; i++) {
    pool_size = opt_mbufs != 0 ? (unsigned)opt_mbufs : auto_sizes[i];
    unsigned cache = pool_size >= 1536 ? 256 : 0;
    pool = rte_pktmbuf_pool_create("vig_mbufs", pool_size, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   rte_socket_id());
    if (pool != NULL || opt_mbufs != 0) {
      break;
    }
  }
  if (pool == NULL) {
    fprintf(stderr, "error: cannot create a pool of %u mbufs: %s (see --mbufs, EAL -m)\n",
            pool_size, rte_strerror(rte_errno));
    return finish(1);
  }
  for (uint16_t d = 0; d < port_count; d++) {
    if (setup_port(port_ids[d], pool) != 0) {
      return finish(1);
    }
  }
  for (uint16_t d = 0; d < port_count; d++) {
    int r = rte_eth_dev_start(port_ids[d]);
    if (r != 0) {
      fprintf(stderr, "error: port %u: start failed: %s\n", (unsigned)port_ids[d],
              rte_strerror(-r));
      return finish(1);
    }
    port_started[d] = true;
    rte_eth_promiscuous_enable(port_ids[d]); /* not every driver supports it */
  }

  struct nf_state *state = nf_state_create(cfg, &env);
  if (state == NULL) {
    fprintf(stderr, "error: nf_state_create failed (out of memory)\n");
    return finish(1);
  }
  /* Operators (and tests) wait for this line: from here on packets are processed. */
  fprintf(stderr, "%s: running on %u devices (SIGINT or SIGTERM stops)\n", nf_name,
          (unsigned)port_count);

  const uint64_t hz = rte_get_tsc_hz();
  tsc_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / (hz ? hz : 1));
  const uint16_t ndev = port_count;
  const uint16_t burst = (uint16_t)opt_burst;
  const uint64_t max_packets = opt_max_packets;
  const bool stats = opt_stats != 0;
  const uint64_t idle_cycles = opt_idle_exit_ms * (hz / 1000);
  const uint64_t duration_cycles = opt_duration_s * hz;
  const bool pipelined = burst == 1 && opt_pipeline > 0;

  struct loop_ctx ctx = {
      .state = state, .cfg = cfg, .env = &env, .pool = pool, .ndev = ndev, .stats = stats};
  uint64_t prev_ns = 0;
  const uint64_t start_tsc = rte_rdtsc();
  uint64_t last_rx_tsc = start_tsc, first_rx_tsc = 0;
  struct rte_mbuf *bufs[MAX_BURST];
  struct pipeline pipeline = {.depth = (unsigned)opt_pipeline, .head = 0, .n = 0};

  while (!quit_signal) {
    bool got = false;
    for (uint16_t d = 0; d < ndev; d++) {
      uint16_t want = burst;
      if (max_packets != 0) {
        uint64_t left = max_packets - ctx.packets_in;
        if (left < want) {
          want = (uint16_t)left;
        }
        if (want == 0) {
          break;
        }
      }
      const uint16_t n = rte_eth_rx_burst(port_ids[d], 0, bufs, want);
      if (n == 0) {
        continue;
      }
      got = true;
      const uint64_t t0 = rte_rdtsc();
      if (first_rx_tsc == 0) {
        first_rx_tsc = t0;
      }
      last_rx_tsc = t0;
      uint64_t now = tsc_to_ns(t0);
      if (now < prev_ns) {
        now = prev_ns;
      }
      prev_ns = now;
      ctx.packets_in += n;
      if (pipelined) {
        pipeline_step(&ctx, &pipeline, bufs[0], d, now, t0);
      } else {
        process_burst(&ctx, bufs, n, d, now, t0);
      }
    }
    if (max_packets != 0 && ctx.packets_in >= max_packets) {
      break;
    }
    if (!got) {
      /* An idle link holds no packet. */
      release_held(&ctx, &pipeline);
      const uint64_t t = rte_rdtsc();
      if (idle_cycles != 0 && t - last_rx_tsc >= idle_cycles) {
        break;
      }
      if (duration_cycles != 0 && t - start_tsc >= duration_cycles) {
        break;
      }
    } else if (duration_cycles != 0 && last_rx_tsc - start_tsc >= duration_cycles) {
      break;
    }
  }
  release_held(&ctx, &pipeline);
  const uint64_t end_tsc = rte_rdtsc();

  if (quit_signal != 0) {
    fprintf(stderr, "%s: stopping on signal %d\n", nf_name, (int)quit_signal);
  }
  if (ctx.oversize != 0) {
    fprintf(stderr,
            "warning: %" PRIu64 " packets multi-segment or longer than %u bytes dropped "
            "unprocessed\n",
            ctx.oversize, MAX_PACKET_LEN);
  }
  if (ctx.invalid != 0) {
    fprintf(stderr,
            "warning: the NF returned a non-existent output device for %" PRIu64
            " packets (dropped)\n",
            ctx.invalid);
  }
  if (ctx.copy_failed != 0) {
    fprintf(stderr, "warning: %" PRIu64 " flood copies failed (mbuf pool exhausted)\n",
            ctx.copy_failed);
  }
  if (stats) {
    const uint64_t busy =
        first_rx_tsc != 0 && ctx.busy_end_tsc > first_rx_tsc ? ctx.busy_end_tsc - first_rx_tsc : 0;
    const double seconds = hz ? (double)busy / (double)hz : 0.0;
    const double wall = hz ? (double)(end_tsc - start_tsc) / (double)hz : 0.0;
    printf("packets_in=%" PRIu64 "\n", ctx.packets_in);
    printf("packets_out=%" PRIu64 "\n", ctx.packets_out);
    printf("dropped=%" PRIu64 "\n", ctx.dropped);
    printf("tx_refused=%" PRIu64 "\n", ctx.tx_refused);
    printf("seconds=%.6f\n", seconds);
    printf("wall_seconds=%.6f\n", wall);
    printf("mpps=%.4f\n", seconds > 0 ? (double)ctx.packets_in / seconds / 1e6 : 0.0);
    printf("nf_cycles_per_packet=%.1f\n",
           ctx.packets_in ? (double)ctx.nf_cycles / (double)ctx.packets_in : 0.0);
    printf("loop_cycles_per_packet=%.1f\n",
           ctx.packets_in ? (double)busy / (double)ctx.packets_in : 0.0);
    printf("burst=%u\n", (unsigned)burst);
    printf("mbufs=%u\n", pool_size);
    printf("tsc_hz=%" PRIu64 "\n", hz);
    fflush(stdout);
  }
  free(cfg);
  return finish(0);
}
