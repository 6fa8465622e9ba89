#ifndef VIG_FLOW_TABLE_H
#define VIG_FLOW_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "allocator.h"
#include "map.h"
#include "vector.h"

struct vig_flow_table {
  uint32_t key_size;
  uint32_t capacity;
  uint64_t expiration;
  struct vig_map *map;         /* key -> index */
  struct vig_vector *keys;     /* index -> key */
  uint32_t *hashes;            /* index -> hash of its key */
  struct vig_allocator *alloc; /* indexes with their last-refresh times */
};

struct vig_flow_table *vig_flow_table_alloc(uint32_t key_size, uint32_t capacity,
                                            uint64_t expiration_ns);
uint32_t vig_flow_table_expire(struct vig_flow_table *t, uint64_t now);
bool vig_flow_table_find(const struct vig_flow_table *t, const void *key, uint32_t hash,
                         uint32_t *index_out);
bool vig_flow_table_add(struct vig_flow_table *t, const void *key, uint32_t hash, uint64_t now,
                        uint32_t *index_out);
const void *vig_flow_table_key(const struct vig_flow_table *t, uint32_t index);
void vig_flow_table_refresh(struct vig_flow_table *t, uint32_t index, uint64_t now);
void vig_flow_table_remove(struct vig_flow_table *t, uint32_t index);
uint32_t vig_flow_table_size(const struct vig_flow_table *t);

#endif
