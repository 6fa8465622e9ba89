/* Trace target only: what a generated nf.c offers the trace shell so that `vigorc replay` can
 * start the NF in a counterexample's prior state and read the state it leaves.
 *
 * The generated code defines these inside `#ifdef VIG_TRACE_TARGET` (defined by the trace link
 * only), so neither the DPDK build nor Frama-C sees them. Tables are the NF's FlowTables in
 * declaration order; a key is given as the values of its record's fields in declaration order.
 * Every operation goes through the structures' public API, except reading an entry's time,
 * which has no accessor in flow_table.h (see nf_trace_entry in the generated code).
 *
 * The symbols are weak: a hand-written nf.c without them still links, and the shell then refuses
 * --state / --state-out (nf_trace_available() is false). */
#ifndef VIG_TRACE_STATE_H
#define VIG_TRACE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nf.h"

/* The largest number of fields a key record may have for the trace hooks. */
#define NF_TRACE_MAX_FIELDS 64

#define NF_TRACE_WEAK __attribute__((weak))

struct nf_trace_table {
  const char *name;   /* the state field's name, e.g. "flows" */
  size_t field_count; /* fields of its key record */
};

extern const struct nf_trace_table nf_trace_tables[] NF_TRACE_WEAK;
extern const size_t nf_trace_table_count NF_TRACE_WEAK;

/* The table's capacity under this configuration. */
NF_TRACE_WEAK uint32_t nf_trace_capacity(const struct nf_config *cfg, size_t table);
/* vig_flow_table_add with the key built from `key` (field_count values, each truncated to its
 * field's width); false when the table is full. Requires: the key is absent. */
NF_TRACE_WEAK bool nf_trace_add(struct nf_state *st, size_t table, const uint64_t *key,
                                uint64_t now, uint32_t *index_out);
/* vig_flow_table_find. */
NF_TRACE_WEAK bool nf_trace_find(struct nf_state *st, size_t table, const uint64_t *key,
                                 uint32_t *index_out);
/* vig_flow_table_remove. Requires: the entry exists. */
NF_TRACE_WEAK void nf_trace_remove(struct nf_state *st, size_t table, uint32_t index);
/* Entry `index`: false when absent; else its key's field values and its last-refresh time. */
NF_TRACE_WEAK bool nf_trace_entry(struct nf_state *st, size_t table, uint32_t index,
                                  uint64_t *key_out, uint64_t *time_out);

/* Does the linked nf.c define the hooks? */
static inline bool nf_trace_available(void) {
  return &nf_trace_table_count != NULL && nf_trace_add != NULL && nf_trace_find != NULL &&
         nf_trace_remove != NULL && nf_trace_entry != NULL && nf_trace_capacity != NULL;
}

#endif
