#include "flow_table.h"

#include <stdlib.h>

struct vig_flow_table *vig_flow_table_alloc(uint32_t key_size, uint32_t capacity,
                                            uint64_t expiration_ns) {
  struct vig_flow_table *t = malloc(sizeof(struct vig_flow_table));
  if (t == NULL) {
    return NULL;
  }
  t->map = vig_map_alloc(key_size, capacity);
  t->keys = vig_vector_alloc(key_size, capacity);
  t->alloc = vig_allocator_alloc(capacity);
  t->hashes = capacity == 0 ? NULL : calloc(capacity, sizeof(uint32_t));
  if (t->map == NULL || t->keys == NULL || t->alloc == NULL || t->hashes == NULL) {
    /* The structures have no destructor (they live as long as the NF, which exits on NULL). */
    free(t->hashes);
    free(t);
    return NULL;
  }
  t->key_size = key_size;
  t->capacity = capacity;
  t->expiration = expiration_ns;
  return t;
}

uint32_t vig_flow_table_expire(struct vig_flow_table *t, uint64_t now) {
  uint32_t n = 0;
  uint32_t i;
  while (vig_allocator_expire_one(t->alloc, now, t->expiration, &i)) {
    vig_map_erase(t->map, vig_vector_at_const(t->keys, i), t->hashes[i]);
    n++;
  }
  return n;
}

bool vig_flow_table_find(const struct vig_flow_table *t, const void *key, uint32_t hash,
                         uint32_t *index_out) {
  return vig_map_get(t->map, key, hash, index_out);
}

bool vig_flow_table_add(struct vig_flow_table *t, const void *key, uint32_t hash, uint64_t now,
                        uint32_t *index_out) {
  uint32_t i;
  if (!vig_allocator_allocate(t->alloc, now, &i)) {
    return false;
  }
  const uint8_t *k = key;
  uint8_t *dst = vig_vector_at(t->keys, i);
  for (uint32_t b = 0; b < t->key_size; b++) {
    dst[b] = k[b];
  }
  t->hashes[i] = hash;
  vig_map_put(t->map, key, hash, i);
  *index_out = i;
  return true;
}

const void *vig_flow_table_key(const struct vig_flow_table *t, uint32_t index) {
  if (!vig_allocator_is_allocated(t->alloc, index)) {
    return NULL;
  }
  return vig_vector_at_const(t->keys, index);
}

void vig_flow_table_refresh(struct vig_flow_table *t, uint32_t index, uint64_t now) {
  vig_allocator_refresh(t->alloc, index, now);
}

void vig_flow_table_remove(struct vig_flow_table *t, uint32_t index) {
  vig_map_erase(t->map, vig_vector_at_const(t->keys, index), t->hashes[index]);
  vig_allocator_free(t->alloc, index);
}

uint32_t vig_flow_table_size(const struct vig_flow_table *t) {
  return vig_allocator_count(t->alloc);
}
