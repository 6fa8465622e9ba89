#ifndef VIG_MAP_H
#define VIG_MAP_H

#include <stdbool.h>
#include <stdint.h>

struct vig_map_slot {
  uint32_t busy;   /* 1 when the slot holds an entry */
  uint32_t hash;   /* the entry's hash */
  uint32_t value;  /* the entry's value */
  uint32_t probes; /* bucket data: 1 + the largest distance of an entry whose home is this slot */
};

struct vig_map {
  uint32_t key_size;
  uint32_t capacity;   /* max number of entries */
  uint32_t table_size; /* number of slots */
  uint32_t size;       /* number of entries */
  struct vig_map_slot *slots;
  uint8_t *keys; /* table_size * key_size bytes: the key of slot s at s * key_size */
};

struct vig_map *vig_map_alloc(uint32_t key_size, uint32_t capacity);
bool vig_map_get(const struct vig_map *m, const void *key, uint32_t hash, uint32_t *value_out);
void vig_map_put(struct vig_map *m, const void *key, uint32_t hash, uint32_t value);
void vig_map_erase(struct vig_map *m, const void *key, uint32_t hash);
uint32_t vig_map_size(const struct vig_map *m);

#endif
