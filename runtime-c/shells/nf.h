/* The contract between a generated NF (compiler/codegen output) and the shells
 * (dpdk_shell.c, trace_shell.c). Every generated nf.c defines the symbols below;
 * the shells own I/O, time, flag parsing and the packet loop. */
#ifndef VIG_NF_H
#define VIG_NF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Devices are numbered 0..device_count-1; a per-device config field is an array of this size. */
#define NF_MAX_DEVICES 32
/* nf_process returns an output device, or one of these. */
#define NF_ACTION_DROP 0xFFFFu
#define NF_ACTION_FLOOD 0xFFFEu

enum nf_flag_kind {
  NF_FLAG_UINT,     /* decimal (or 0x hex) integer in [min, max] */
  NF_FLAG_DEVICE,   /* device number < device_count */
  NF_FLAG_IPV4,     /* a.b.c.d, stored host order: a<<24 | b<<16 | c<<8 | d */
  NF_FLAG_MAC,      /* xx:xx:xx:xx:xx:xx, stored as a 48-bit value, first octet most significant */
  NF_FLAG_DURATION, /* integer with unit ns/us/ms/s (no unit: ns), stored in ns, in [min, max] */
  NF_FLAG_BOOL      /* true/false/1/0 */
};

struct nf_flag {
  const char *name; /* kebab-case, without the leading "--" */
  const char *doc;
  enum nf_flag_kind kind;
  uint8_t width_bits; /* 8, 16, 32 or 64: the storage of the config field */
  bool per_device;    /* repeatable "--name <device>,<value>"; field is width[NF_MAX_DEVICES] */
  bool required;      /* no default: must be given */
  uint64_t min, max;  /* inclusive, for UINT and DURATION */
  uint64_t default_value; /* for per_device: the value of every device not named */
  size_t offset;          /* offsetof(struct nf_config, field) */
};

/* What the NF may know about the machine it runs on. */
struct nf_env {
  uint16_t device_count;
  uint64_t device_macs[NF_MAX_DEVICES]; /* 48-bit values, as NF_FLAG_MAC */
};

struct nf_config; /* generated: one field per declared config field */
struct nf_state;  /* generated: one pointer per declared state structure */

extern const char nf_name[];
extern const struct nf_flag nf_flags[];
extern const size_t nf_flag_count;
extern const size_t nf_config_size;

/* Checks the NF's cross-field constraints on a fully parsed config.
 * Returns NULL when they hold, else a static message quoting the violated constraint. */
const char *nf_config_check(const struct nf_config *cfg, const struct nf_env *env);

/* Allocates and initialises the state structures (all allocation happens here).
 * Returns NULL when memory is exhausted. */
struct nf_state *nf_state_create(const struct nf_config *cfg, const struct nf_env *env);

/* Processes one packet in place. time_ns never decreases from one call to the next.
 * Returns an output device (< device_count, never NF_ACTION_*), NF_ACTION_DROP or NF_ACTION_FLOOD. */
uint16_t nf_process(struct nf_state *st, const struct nf_config *cfg, const struct nf_env *env,
                    uint8_t *packet, uint16_t length, uint16_t device, uint64_t time_ns);

/* Cache hints for a later nf_process of this packet (same arguments): starts loading the table
 * entries its first lookup will read. Changes nothing (neither the state nor the packet), so the
 * shells may call it for every packet of a burst before processing the burst, or for a packet
 * before processing the one received before it (the DPDK shell's burst-1 pipeline); hints
 * computed before earlier packets changed the state are stale at worst. */
void nf_prefetch(struct nf_state *st, const struct nf_config *cfg, const struct nf_env *env,
                 uint8_t *packet, uint16_t length, uint16_t device, uint64_t time_ns);

#endif
