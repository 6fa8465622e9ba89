#include "map.h"

#include <stddef.h>
#include <stdlib.h>

/* Largest capacity: the table (a prime >= 2 * capacity) must stay below 2^31. */
#define VIG_MAP_MAX_CAPACITY 0x3FFFFFF0u

static bool is_prime(uint32_t n) {
  if (n < 2) {
    return false;
  }
  for (uint32_t d = 2; d <= n / d; d++) {
    if (n % d == 0) {
      return false;
    }
  }
  return true;
}

struct vig_map *vig_map_alloc(uint32_t key_size, uint32_t capacity) {
  if (key_size == 0 || capacity == 0 || capacity > VIG_MAP_MAX_CAPACITY) {
    return NULL;
  }
  uint32_t table_size = 2 * capacity;
  while (!is_prime(table_size)) {
    table_size++;
  }
  struct vig_map *m = malloc(sizeof(struct vig_map));
  if (m == NULL) {
    return NULL;
  }
  struct vig_map_slot *slots = calloc(table_size, sizeof(struct vig_map_slot));
  uint8_t *keys = calloc(table_size, key_size);
  if (slots == NULL || keys == NULL) {
    free(slots);
    free(keys);
    free(m);
    return NULL;
  }
  m->key_size = key_size;
  m->capacity = capacity;
  m->table_size = table_size;
  m->size = 0;
  m->slots = slots;
  m->keys = keys;
  return m;
}

/* The slot at distance d from bucket b (b, d < table_size), wrapping around. */
static uint32_t slot_at(uint32_t table_size, uint32_t b, uint32_t d) {
  return d < table_size - b ? b + d : d - (table_size - b);
}

static bool key_equals(const uint8_t *a, const uint8_t *b, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    if (a[i] != b[i]) {
      return false;
    }
  }
  return true;
}

static bool slot_matches(const struct vig_map *m, uint32_t s, const uint8_t *key, uint32_t hash) {
  return m->slots[s].busy != 0 && m->slots[s].hash == hash &&
         key_equals(m->keys + (size_t)s * m->key_size, key, m->key_size);
}

bool vig_map_get(const struct vig_map *m, const void *key, uint32_t hash, uint32_t *value_out) {
  uint32_t t = m->table_size;
  uint32_t b = hash % t;
  uint32_t n = m->slots[b].probes;
  for (uint32_t d = 0; d < n; d++) {
    uint32_t s = slot_at(t, b, d);
    if (slot_matches(m, s, key, hash)) {
      *value_out = m->slots[s].value;
      return true;
    }
  }
  return false;
}

void vig_map_put(struct vig_map *m, const void *key, uint32_t hash, uint32_t value) {
  const uint8_t *k = key;
  uint32_t t = m->table_size;
  uint32_t b = hash % t;
  uint32_t d = 0;
  uint32_t s = b;
  while (d < t) {
    s = slot_at(t, b, d);
    if (m->slots[s].busy == 0) {
      break;
    }
    d++;
  }
  uint8_t *dst = m->keys + (size_t)s * m->key_size;
  for (uint32_t i = 0; i < m->key_size; i++) {
    dst[i] = k[i];
  }
  m->slots[s].busy = 1;
  m->slots[s].hash = hash;
  m->slots[s].value = value;
  if (m->slots[b].probes <= d) {
    m->slots[b].probes = d + 1;
  }
  m->size++;
}

void vig_map_erase(struct vig_map *m, const void *key, uint32_t hash) {
  uint32_t t = m->table_size;
  uint32_t b = hash % t;
  uint32_t n = m->slots[b].probes;
  uint32_t s = b;
  for (uint32_t d = 0; d < n; d++) {
    s = slot_at(t, b, d);
    if (slot_matches(m, s, key, hash)) {
      break;
    }
  }
  m->slots[s].busy = 0;
  m->size--;
  /* Shrink the bucket's probe count to 1 + the largest distance of its remaining entries. */
  while (m->slots[b].probes > 0) {
    uint32_t last = slot_at(t, b, m->slots[b].probes - 1);
    if (m->slots[last].busy != 0 && m->slots[last].hash % t == b) {
      break;
    }
    m->slots[b].probes--;
  }
}

uint32_t vig_map_size(const struct vig_map *m) { return m->size; }
