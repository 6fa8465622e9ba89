#include "flow_table.h"
#include "bulk_alloc.h"

#include <stdlib.h>

/* A C label for ACSL's \at(e, L), seen only by Frama-C (compilers would warn: unused label). */
#ifdef __FRAMAC__
#define PROOF_LABEL(l)                                                                             \
  l:;
#else
#define PROOF_LABEL(l)
#endif

struct vig_flow_table *vig_flow_table_alloc(uint32_t key_size, uint32_t capacity,
                                            uint64_t expiration_ns) {
  if (key_size == 0 || capacity == 0 || capacity > VIG_MAP_MAX_CAPACITY) {
    return NULL;
  }
  struct vig_flow_table *t = malloc(sizeof(struct vig_flow_table));
  struct vig_map *map = vig_map_alloc(key_size, capacity);
  struct vig_vector *keys = vig_vector_alloc(key_size, capacity);
  struct vig_allocator *alloc = vig_allocator_alloc(capacity);
  uint32_t *hashes = vig_bulk_calloc(capacity, sizeof(uint32_t));
  if (t == NULL || map == NULL || keys == NULL || alloc == NULL || hashes == NULL) {
    /* The structures have no destructor: they live as long as the NF, which exits on NULL. */
    free(t);
    vig_bulk_free(hashes, capacity, sizeof(uint32_t));
    return NULL;
  }
  t->key_size = key_size;
  t->capacity = capacity;
  t->expiration = expiration_ns;
  t->map = map;
  t->keys = keys;
  t->hashes = hashes;
  t->alloc = alloc;
  return t;
}

uint32_t vig_flow_table_expire(struct vig_flow_table *t, uint64_t now) {
  uint32_t n = 0;
  uint32_t i = 0;
  /*@ loop invariant vig_flow_table_inv(t) && vig_allocator_times_le(t->alloc, now);
      loop invariant 0 <= n && n == \at(t->alloc->count, Pre) - t->alloc->count;
      loop invariant \forall integer j; 0 <= j < t->capacity ==>
        (vig_flow_table_entry(t, j) ==> \at(vig_flow_table_entry(t, j), Pre) &&
           vig_allocator_time(t->alloc, j) == \at(vig_allocator_time(t->alloc, j), Pre)) &&
        (\at(vig_flow_table_entry(t, j), Pre) && !vig_flow_table_entry(t, j) ==>
           now - \at(vig_allocator_time(t->alloc, j), Pre) > t->expiration);
      loop assigns n, i, t->map->size, t->map->slots[0 .. t->map->table_size - 1],
        t->map->order[0 .. t->map->table_size - 1],
        t->alloc->count, t->alloc->oldest, t->alloc->newest,
        t->alloc->cells[0 .. t->capacity - 1], t->alloc->order[0 .. t->capacity - 1];
      loop variant t->alloc->count;
  */
  while (vig_allocator_expire_one(t->alloc, now, t->expiration, &i)) {
    vig_map_erase(t->map, vig_vector_at_const(t->keys, i), t->hashes[i]);
    n++;
  }
  return n;
}

bool vig_flow_table_find(const struct vig_flow_table *t, const void *key, uint32_t hash,
                         uint32_t *index_out) {
  bool found = vig_map_get(t->map, key, hash, index_out);
  /*@ assert found ==> vig_map_maps(t->map, (char *)key, hash, *index_out); */
  /*@ assert found ==> vig_flow_table_maps(t, (char *)key, hash, *index_out); */
  /*@ assert !found ==> \forall integer i; vig_flow_table_entry(t, i) && t->hashes[i] == hash ==>
        !vig_map_bytes_eq{Here, Here}((char *)key, vig_flow_table_key_at(t, i), t->key_size); */
  return found;
}

bool vig_flow_table_add(struct vig_flow_table *t, const void *key, uint32_t hash, uint64_t now,
                        uint32_t *index_out) {
  uint32_t i;
  if (!vig_allocator_allocate(t->alloc, now, &i)) {
    return false;
  }
  const char *k = key;
  char *dst = vig_vector_at(t->keys, i);
  /*@ loop invariant 0 <= b <= t->key_size;
      loop invariant \forall integer j; 0 <= j < b ==> dst[j] == k[j];
      loop assigns b, dst[0 .. t->key_size - 1];
      loop variant t->key_size - b;
  */
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
