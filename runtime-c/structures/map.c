#include "map.h"
#include "bulk_alloc.h"
#include "prefetch.h"

#include <stdlib.h>

/* A lookup that finds its entry in its home bucket reads one cache line: the slot tables are
 * allocated on 64-byte (huge page) boundaries when large (bulk_alloc.c), and a slot is 32 bytes. */
_Static_assert(sizeof(struct vig_map_slot) == 32, "a map slot is half a cache line");

/* A C label for ACSL's \at(e, L), seen only by Frama-C (compilers would warn: unused label). */
#ifdef __FRAMAC__
#define PROOF_LABEL(l)                                                                             \
  l:;
#else
#define PROOF_LABEL(l)
#endif

/*@ requires n >= 2;
    assigns \nothing;
*/
static bool is_prime(uint32_t n) {
  /*@ loop invariant 2 <= d <= n;
      loop assigns d;
      loop variant n - d;
  */
  for (uint32_t d = 2; d <= n / d; d++) {
    if (n % d == 0) {
      return false;
    }
  }
  return true;
}

/* The table size for a capacity: the smallest prime >= 2 * capacity (bounded by the maximum). */
/*@ requires 1 <= capacity <= VIG_MAP_MAX_CAPACITY;
    assigns \nothing;
    ensures 2 * capacity <= \result <= VIG_MAP_MAX_TABLE;
*/
static uint32_t table_size_for(uint32_t capacity) {
  uint32_t t = 2 * capacity;
  /*@ loop invariant 2 * capacity <= t <= VIG_MAP_MAX_TABLE;
      loop assigns t;
      loop variant VIG_MAP_MAX_TABLE - t;
  */
  while (t < VIG_MAP_MAX_TABLE && !is_prime(t)) {
    t++;
  }
  return t;
}

/*@ requires \valid(m) && \valid(slots + (0 .. table_size - 1));
    requires \valid(order + (0 .. table_size - 1));
    requires \separated(m, slots + (0 .. table_size - 1), order + (0 .. table_size - 1));
    requires 1 <= key_size <= VIG_MAP_KEY_MAX && capacity >= 1;
    requires 2 * capacity <= table_size <= VIG_MAP_MAX_TABLE;
    assigns *m, slots[0 .. table_size - 1], order[0 .. table_size - 1];
    ensures vig_map_inv(m);
    ensures m->key_size == key_size && m->capacity == capacity && m->size == 0;
    ensures \forall char *k, integer h; !vig_map_has(m, k, h);
*/
static void map_init(struct vig_map *m, uint32_t key_size, uint32_t capacity, uint32_t table_size,
                     struct vig_map_slot *slots, struct vig_map_rank *order) {
  m->key_size = key_size;
  m->capacity = capacity;
  m->table_size = table_size;
  m->size = 0;
  m->slots = slots;
  m->order = order;
  /*@ loop invariant 0 <= i <= table_size;
      loop invariant \forall integer s; 0 <= s < i ==>
        slots[s].busy == 0 && slots[s].probes == 0 && order[s].pos == s && order[s].slot == s;
      loop assigns i, slots[0 .. table_size - 1], order[0 .. table_size - 1];
      loop variant table_size - i;
  */
  for (uint32_t i = 0; i < table_size; i++) {
    slots[i].busy = 0;
    slots[i].hash = 0;
    slots[i].value = 0;
    slots[i].probes = 0;
    order[i].slot = (int32_t)i;
    order[i].pos = (int32_t)i;
  }
  /*@ assert m->table_size == table_size && m->size == 0 && m->key_size == key_size; */
  /*@ assert m->slots == slots && m->order == order; */
  /*@ assert vig_map_valid(m); */
  /*@ assert \forall integer x; 0 <= x < table_size ==> !vig_map_busy(m, x); */
  /*@ assert \forall integer i; 0 <= i < table_size ==>
        0 <= m->order[i].slot < m->table_size && m->order[m->order[i].slot].pos == i; */
  /*@ assert \forall integer x; 0 <= x < table_size ==>
        0 <= m->order[x].pos < m->table_size && m->order[m->order[x].pos].slot == x &&
        (vig_map_busy(m, x) <==> m->order[x].pos < m->size); */
  /*@ assert vig_map_perm(m); */
  /*@ assert vig_map_probes_ok(m); */
  /*@ assert vig_map_unique(m); */
}

struct vig_map *vig_map_alloc(uint32_t key_size, uint32_t capacity) {
  if (key_size == 0 || key_size > VIG_MAP_KEY_MAX || capacity == 0 ||
      capacity > VIG_MAP_MAX_CAPACITY) {
    return NULL;
  }
  uint32_t table_size = table_size_for(capacity);
  struct vig_map *m = malloc(sizeof(struct vig_map));
  struct vig_map_slot *slots = vig_bulk_calloc(table_size, sizeof(struct vig_map_slot));
  struct vig_map_rank *order = vig_bulk_calloc(table_size, sizeof(struct vig_map_rank));
  if (m == NULL || slots == NULL || order == NULL) {
    free(m);
    vig_bulk_free(slots, table_size, sizeof(struct vig_map_slot));
    vig_bulk_free(order, table_size, sizeof(struct vig_map_rank));
    return NULL;
  }
  map_init(m, key_size, capacity, table_size, slots, order);
  return m;
}

/* The slot at distance d from bucket b, wrapping around. */
/*@ requires b < t && d < t;
    assigns \nothing;
    ensures \result < t;
    ensures \result == vig_map_probe(t, b, d);
    ensures vig_map_dist(t, b, \result) == d;
*/
static uint32_t slot_at(uint32_t t, uint32_t b, uint32_t d) {
  return d < t - b ? b + d : d - (t - b);
}

/* The home bucket of a hash: a multiplication and a shift (a division by the table size, as with
 * `hash % t`, delays the lookup's first load by its latency: docs/performance.md). */
/*@ requires 1 <= t <= VIG_MAP_MAX_TABLE;
    assigns \nothing;
    ensures \result == vig_map_bucket(hash, t) && \result < t;
*/
static uint32_t home_bucket(uint32_t hash, uint32_t t) {
  return (uint32_t)((uint64_t)hash * t / 4294967296u);
}

/* Slot s holds key (with hash). */
/*@ requires vig_map_valid(m) && s < m->table_size;
    requires \valid_read(key + (0 .. m->key_size - 1));
    assigns \nothing;
    ensures \result <==> vig_map_match(m, s, key, hash);
*/
static bool slot_matches(const struct vig_map *m, uint32_t s, const char *key, uint32_t hash) {
  const struct vig_map_slot *slot = m->slots + s;
  if (slot->busy == 0 || slot->hash != hash) {
    return false;
  }
  size_t n = m->key_size;
  size_t i = 0;
  /* Four bytes per step while four are left: fewer loop-control instructions (with a size_t
   * index, i + 1 .. i + 3 are address displacements). */
  /*@ loop invariant 0 <= i <= n;
      loop invariant \forall integer j; 0 <= j < i ==> slot->key[j] == key[j];
      loop assigns i;
      loop variant n - i;
  */
  for (; n - i >= 4; i += 4) {
    if (slot->key[i] != key[i] || slot->key[i + 1] != key[i + 1] ||
        slot->key[i + 2] != key[i + 2] || slot->key[i + 3] != key[i + 3]) {
      return false;
    }
  }
  /*@ loop invariant 0 <= i <= n;
      loop invariant \forall integer j; 0 <= j < i ==> slot->key[j] == key[j];
      loop assigns i;
      loop variant n - i;
  */
  for (; i < n; i++) {
    if (slot->key[i] != key[i]) {
      return false;
    }
  }
  return true;
}

/* The slot holding key (with hash), or table_size when there is none. */
/*@ requires vig_map_inv(m);
    requires \valid_read(k + (0 .. m->key_size - 1));
    assigns \nothing;
    ensures \result <= m->table_size;
    ensures \result < m->table_size ==> vig_map_match(m, \result, k, hash);
    ensures \result == m->table_size ==> !vig_map_has(m, k, hash);
*/
static uint32_t find_slot(const struct vig_map *m, const char *k, uint32_t hash) {
  uint32_t t = (uint32_t)m->table_size;
  uint32_t b = home_bucket(hash, t);
  uint32_t n = (uint32_t)m->slots[b].probes;
  /*@ loop invariant 0 <= d <= n;
      loop invariant \forall integer e; 0 <= e < d ==> !vig_map_match(m, vig_map_probe(t, b, e), k,
     hash); loop assigns d; loop variant n - d;
  */
  for (uint32_t d = 0; d < n; d++) {
    uint32_t s = slot_at(t, b, d);
    if (slot_matches(m, s, k, hash)) {
      return s;
    }
  }
  /*@ assert \forall integer x; 0 <= x < t && vig_map_match(m, x, k, hash) ==>
        vig_map_home(m, x) == b && vig_map_dist(t, b, x) < n &&
        vig_map_probe(t, b, vig_map_dist(t, b, x)) == x; */
  return t;
}

bool vig_map_get(const struct vig_map *m, const void *key, uint32_t hash, uint32_t *value_out) {
  uint32_t s = find_slot(m, key, hash);
  if (s == m->table_size) {
    return false;
  }
  /*@ assert vig_map_match(m, s, (char *)key, hash); */
  PROOF_LABEL(Before);
  *value_out = m->slots[s].value;
  /* *value_out is outside the map: the map is unchanged. */
  /*@ assert m->key_size == \at(m->key_size, Before) && m->table_size == \at(m->table_size, Before);
   */
  /*@ assert m->slots[s].busy == \at(m->slots[s].busy, Before); */
  /*@ assert m->slots[s].hash == \at(m->slots[s].hash, Before); */
  /*@ assert m->slots[s].value == *value_out; */
  /*@ assert vig_map_match(m, s, (char *)key, hash); */
  return true;
}

/* The invariant-preservation facts of put and erase are lemmas between two states (the
 * function's entry and its end), each proven once in a small context; the functions only
 * establish the step predicate and let the provers instantiate them. Each group sits in an
 * axiomatic block with its step predicate: WP gives a block's lemmas only to the goals that use
 * one of its symbols, so the other goals of this file do not carry them. */
/*@ axiomatic vig_map_put_facts {
      // put: slot s, free at L1, holds (key, hash) at L2; nothing else changed.
      predicate vig_map_put_step{L1, L2}(struct vig_map *m, integer s, char *key, integer hash) =
        vig_map_same_except{L1, L2}(m, s) && 0 <= s < \at(m->table_size, L1) &&
        !vig_map_busy{L1}(m, s) && vig_map_busy{L2}(m, s) &&
        vig_map_key_at{L2}(m, s, key) && \at(m->slots[s].hash, L2) == hash &&
        vig_map_key_same{L1, L2}(key, \at(m->key_size, L1));

      lemma vig_map_same_except_trans{L1, L2, L3}:
        \forall struct vig_map *m, integer s;
          vig_map_same_except{L1, L2}(m, s) && vig_map_same_except{L2, L3}(m, s) ==>
          vig_map_same_except{L1, L3}(m, s);

      lemma vig_map_put_frame{L1, L2}:
        \forall struct vig_map *m, integer s, char *key, integer hash, char *k, integer h, v;
          vig_map_put_step{L1, L2}(m, s, key, hash) &&
          vig_map_key_same{L1, L2}(k, \at(m->key_size, L1)) &&
          !(h == hash && vig_map_bytes_eq{L2, L2}(k, key, \at(m->key_size, L1))) ==>
          (vig_map_maps{L1}(m, k, h, v) <==> vig_map_maps{L2}(m, k, h, v));
      lemma vig_map_put_unique{L1, L2}:
        \forall struct vig_map *m, integer s, char *key, integer hash;
          vig_map_put_step{L1, L2}(m, s, key, hash) && vig_map_unique{L1}(m) &&
          !vig_map_has{L1}(m, key, hash) ==>
          vig_map_unique{L2}(m);
      // Probe counts only grew, and the new entry's distance is covered. (Not proven, and, like
      // vig_map_erase_probes, false in WP's logic as stated: a lemma's hashes are not known to fit
      // 32 bits, so a home bucket may lie past table_size; runtime-c/contracts/README.md.)
      lemma vig_map_put_probes{L1, L2}:
        \forall struct vig_map *m, integer s, char *key, integer hash;
          vig_map_put_step{L1, L2}(m, s, key, hash) && vig_map_probes_ok{L1}(m) &&
          (\forall integer x; 0 <= x < \at(m->table_size, L1) ==>
            \at(m->slots[x].probes, L1) <= \at(m->slots[x].probes, L2) <= \at(m->table_size, L1)) &&
          vig_map_dist(\at(m->table_size, L2), vig_map_home{L2}(m, s), s) <
            \at(m->slots[vig_map_home{L2}(m, s)].probes, L2) ==>
          vig_map_probes_ok{L2}(m);
    }

    axiomatic vig_map_erase_facts {
      // erase: slot s, holding (key, hash) at L1, is free at L2; nothing else changed.
      predicate vig_map_erase_step{L1, L2}(struct vig_map *m, integer s, char *key, integer hash) =
        vig_map_same_except{L1, L2}(m, s) && 0 <= s < \at(m->table_size, L1) &&
        vig_map_match{L1}(m, s, key, hash) && !vig_map_busy{L2}(m, s) &&
        vig_map_key_same{L1, L2}(key, \at(m->key_size, L1));

      lemma vig_map_erase_unique{L1, L2}:
        \forall struct vig_map *m, integer s, char *key, integer hash;
          vig_map_erase_step{L1, L2}(m, s, key, hash) && vig_map_unique{L1}(m) ==>
          vig_map_unique{L2}(m);
      lemma vig_map_erase_gone{L1, L2}:
        \forall struct vig_map *m, integer s, char *key, integer hash;
          vig_map_erase_step{L1, L2}(m, s, key, hash) && vig_map_unique{L1}(m) ==>
          !vig_map_has{L2}(m, key, hash);
      lemma vig_map_erase_frame{L1, L2}:
        \forall struct vig_map *m, integer s, char *key, integer hash, char *k, integer h, v;
          vig_map_erase_step{L1, L2}(m, s, key, hash) &&
          vig_map_key_same{L1, L2}(k, \at(m->key_size, L1)) &&
          !(h == hash && vig_map_bytes_eq{L2, L2}(k, key, \at(m->key_size, L1))) ==>
          (vig_map_maps{L1}(m, k, h, v) <==> vig_map_maps{L2}(m, k, h, v));
      // Only busy flags went down: every remaining entry is still covered.
      lemma vig_map_erase_probes{L1, L2}:
        \forall struct vig_map *m, integer s, char *key, integer hash;
          vig_map_erase_step{L1, L2}(m, s, key, hash) && vig_map_probes_ok{L1}(m) &&
          (\forall integer x; 0 <= x < \at(m->table_size, L1) ==>
            \at(m->slots[x].probes, L1) == \at(m->slots[x].probes, L2)) ==>
          vig_map_probes_ok{L2}(m);
    }
*/

/* Copies key k into slot s; no other key bytes (of the map or of keys outside it) change. */
/*@ requires vig_map_valid(m) && s < m->table_size && vig_map_key_ok(m, k);
    assigns m->slots[s].key[0 .. VIG_MAP_KEY_MAX - 1];
    ensures vig_map_key_at(m, s, k);
    ensures vig_map_key_same{Pre, Here}(k, m->key_size);
    ensures \forall char *k2;
      vig_map_key_ok(m, k2) ==> vig_map_key_same{Pre, Here}(k2, m->key_size);
    ensures vig_map_same_except{Pre, Here}(m, s);
*/
static void store_key(struct vig_map *m, uint32_t s, const char *k) {
  struct vig_map_slot *slot = m->slots + s;
  uint32_t n = (uint32_t)m->key_size;
  /*@ loop invariant 0 <= i <= n;
      loop invariant \forall integer j; 0 <= j < i ==> slot->key[j] == k[j];
      loop assigns i, slot->key[0 .. VIG_MAP_KEY_MAX - 1];
      loop variant n - i;
  */
  for (uint32_t i = 0; i < n; i++) {
    slot->key[i] = k[i];
  }
}

/* The distance from bucket b of the first free slot (there is one: size < table_size). */
/*@ requires vig_map_valid(m) && vig_map_perm(m) && m->size < m->table_size;
    requires b < m->table_size;
    assigns \nothing;
    ensures \result < m->table_size;
    ensures !vig_map_busy(m, vig_map_probe(m->table_size, b, \result));
*/
static uint32_t free_distance(const struct vig_map *m, uint32_t b) {
  uint32_t t = (uint32_t)m->table_size;
  /* order[size] is a free slot: the search below stops at the latest there. */
  /*@ assert 0 <= m->order[m->size].slot < t && !vig_map_busy(m, m->order[m->size].slot); */
  /*@ assert 0 <= vig_map_dist(t, b, m->order[m->size].slot) < t &&
        vig_map_probe(t, b, vig_map_dist(t, b, m->order[m->size].slot)) ==
          m->order[m->size].slot; */
  uint32_t d = 0;
  /*@ loop invariant 0 <= d <= t;
      loop invariant \forall integer e; 0 <= e < d ==> vig_map_busy(m, vig_map_probe(t, b, e));
      loop assigns d;
      loop variant t - d;
  */
  while (d < t && m->slots[slot_at(t, b, d)].busy != 0) {
    d++;
  }
  /*@ assert d < t; */
  return d;
}

/* Moves free slot s to the busy part of order. */
/*@ requires vig_map_valid(m) && vig_map_perm(m);
    requires s < m->table_size && !vig_map_busy(m, s) && m->size < m->table_size;
    assigns m->size, m->order[0 .. m->table_size - 1], m->slots[s].busy;
    ensures vig_map_perm(m) && vig_map_busy(m, s) && m->size == \old(m->size) + 1;
    ensures \forall integer x; 0 <= x < m->table_size && x != s ==>
      m->slots[x].busy == \old(m->slots[x].busy);
*/
static void mark_busy(struct vig_map *m, uint32_t s) {
  int32_t p = m->order[s].pos;
  int32_t n = m->size;
  /*@ assert n <= p < m->table_size && m->order[p].slot == s; */
  int32_t first_free = m->order[n].slot;
  /*@ assert first_free < m->table_size && m->order[first_free].pos == n; */
  /*@ assert first_free == s <==> p == n; */
  m->order[p].slot = first_free;
  m->order[first_free].pos = p;
  m->order[n].slot = (int32_t)s;
  m->order[s].pos = n;
  m->slots[s].busy = 1;
  m->size = n + 1;
  /*@ assert m->order[n].slot == s && m->order[s].pos == n; */
  /*@ assert p != n ==> m->order[p].slot == first_free && m->order[first_free].pos == p; */
  /*@ assert \forall integer i; 0 <= i < m->table_size && i != p && i != n ==>
        m->order[i].slot == \at(m->order[i].slot, Pre); */
  /*@ assert \forall integer x; 0 <= x < m->table_size && x != s && x != first_free ==>
        m->order[x].pos == \at(m->order[x].pos, Pre) &&
        m->slots[x].busy == \at(m->slots[x].busy, Pre); */
}

/* Moves busy slot s to the free part of order. */
/*@ requires vig_map_valid(m) && vig_map_perm(m);
    requires s < m->table_size && vig_map_busy(m, s) && m->size <= m->table_size;
    assigns m->size, m->order[0 .. m->table_size - 1], m->slots[s].busy;
    ensures vig_map_perm(m) && !vig_map_busy(m, s) && m->size == \old(m->size) - 1;
    ensures \forall integer x; 0 <= x < m->table_size && x != s ==>
      m->slots[x].busy == \old(m->slots[x].busy);
    ensures vig_map_same_except{Pre, Here}(m, s);
*/
static void mark_free(struct vig_map *m, uint32_t s) {
  int32_t p = m->order[s].pos;
  /*@ assert p < m->size && m->order[p].slot == s; */
  int32_t n = m->size - 1;
  int32_t last_busy = m->order[n].slot;
  /*@ assert last_busy < m->table_size && m->order[last_busy].pos == n; */
  /*@ assert last_busy == s <==> p == n; */
  m->order[p].slot = last_busy;
  m->order[last_busy].pos = p;
  m->order[n].slot = (int32_t)s;
  m->order[s].pos = n;
  m->slots[s].busy = 0;
  m->size = n;
  /*@ assert m->order[n].slot == s && m->order[s].pos == n; */
  /*@ assert p != n ==> m->order[p].slot == last_busy && m->order[last_busy].pos == p; */
  /*@ assert \forall integer i; 0 <= i < m->table_size && i != p && i != n ==>
        m->order[i].slot == \at(m->order[i].slot, Pre); */
  /*@ assert \forall integer x; 0 <= x < m->table_size && x != s && x != last_busy ==>
        m->order[x].pos == \at(m->order[x].pos, Pre) &&
        m->slots[x].busy == \at(m->slots[x].busy, Pre); */
}

/* Makes free slot s an entry with the given hash and value (its key is already in place). */
/*@ requires vig_map_valid(m) && vig_map_perm(m);
    requires s < m->table_size && !vig_map_busy(m, s) && m->size < m->table_size;
    assigns m->size, m->order[0 .. m->table_size - 1], m->slots[s].busy, m->slots[s].hash,
      m->slots[s].value;
    ensures vig_map_perm(m) && m->size == \old(m->size) + 1;
    ensures vig_map_busy(m, s) && m->slots[s].hash == hash && m->slots[s].value == value;
    ensures \forall integer x; 0 <= x < m->table_size && x != s ==>
      m->slots[x].busy == \old(m->slots[x].busy) && m->slots[x].hash == \old(m->slots[x].hash) &&
      m->slots[x].value == \old(m->slots[x].value);
    ensures vig_map_same_except{Pre, Here}(m, s);
    ensures \forall integer x; 0 <= x < m->table_size ==>
      m->slots[x].probes == \old(m->slots[x].probes);
*/
static void fill_slot(struct vig_map *m, uint32_t s, uint32_t hash, uint32_t value) {
  m->slots[s].hash = hash;
  m->slots[s].value = value;
  mark_busy(m, s);
}

/* Bucket b's probe count covers distance d. */
/*@ requires vig_map_valid(m) && b < m->table_size && d < m->table_size;
    requires 0 <= m->slots[b].probes <= m->table_size;
    assigns m->slots[b].probes;
    ensures m->slots[b].probes == (\old(m->slots[b].probes) <= d ? d + 1 :
   \old(m->slots[b].probes));
*/
static void cover_distance(struct vig_map *m, uint32_t b, uint32_t d) {
  if (m->slots[b].probes <= d) {
    m->slots[b].probes = d + 1;
  }
}

/* Puts the entry (k, hash, value) in free slot s at distance d from its home bucket b. */
/*@ requires vig_map_valid(m) && vig_map_perm(m) && m->size < m->table_size;
    requires s < m->table_size && !vig_map_busy(m, s) && vig_map_key_ok(m, k);
    requires b < m->table_size && d < m->table_size;
    requires \forall integer x; 0 <= x < m->table_size ==> m->slots[x].probes <= m->table_size;
    assigns m->size, m->order[0 .. m->table_size - 1], m->slots[0 .. m->table_size - 1];
    ensures vig_map_perm(m) && m->size == \old(m->size) + 1;
    ensures vig_map_put_step{Pre, Here}(m, s, k, hash) && m->slots[s].value == value;
    ensures \forall char *k2;
      vig_map_key_ok(m, k2) ==> vig_map_key_same{Pre, Here}(k2, m->key_size);
    ensures \forall integer x; 0 <= x < m->table_size ==>
      \old(m->slots[x].probes) <= m->slots[x].probes <= m->table_size;
    ensures m->slots[b].probes > d;
*/
static void occupy(struct vig_map *m, uint32_t s, uint32_t b, uint32_t d, const char *k,
                   uint32_t hash, uint32_t value) {
  store_key(m, s, k);
  PROOF_LABEL(Stored);
  fill_slot(m, s, hash, value);
  PROOF_LABEL(Filled);
  /*@ assert \forall integer x; 0 <= x < m->table_size ==>
        m->slots[x].probes == \at(m->slots[x].probes, Pre); */
  cover_distance(m, b, d);
  /*@ assert \forall integer x; 0 <= x < m->table_size && x != b ==>
        m->slots[x].probes == \at(m->slots[x].probes, Pre); */
  /*@ assert vig_map_same_except{Pre, Filled}(m, s); */
  /*@ assert vig_map_same_except{Pre, Here}(m, s); */
  /*@ assert vig_map_key_at(m, s, k) && vig_map_key_same{Pre, Here}(k, m->key_size); */
}

void vig_map_put(struct vig_map *m, const void *key, uint32_t hash, uint32_t value) {
  const char *k = key;
  uint32_t t = (uint32_t)m->table_size;
  uint32_t b = home_bucket(hash, t);
  uint32_t d = free_distance(m, b);
  uint32_t s = slot_at(t, b, d);
  occupy(m, s, b, d, k, hash, value);
  /*@ assert vig_map_valid(m) && m->size <= m->capacity && vig_map_perm(m); */
  /*@ assert vig_map_home(m, s) == b && vig_map_dist(t, b, s) == d; */
  /*@ assert vig_map_probes_ok(m); */
  /*@ assert vig_map_unique(m); */
  /*@ assert vig_map_match(m, s, k, hash) && m->slots[s].value == value; */
}

/* Shrinks bucket b's probe count to 1 + the largest distance of the entries whose home it is. */
/*@ requires vig_map_valid(m) && b < m->table_size && vig_map_probes_ok(m);
    assigns m->slots[b].probes;
    ensures vig_map_probes_ok(m);
*/
static void shrink_probes(struct vig_map *m, uint32_t b) {
  uint32_t t = (uint32_t)m->table_size;
  /*@ loop invariant 0 <= m->slots[b].probes <= t;
      loop invariant \forall integer x; 0 <= x < t && vig_map_busy(m, x) ==>
        vig_map_dist(t, vig_map_home(m, x), x) < m->slots[vig_map_home(m, x)].probes;
      loop assigns m->slots[b].probes;
      loop variant m->slots[b].probes;
  */
  while (m->slots[b].probes > 0) {
    uint32_t last = slot_at(t, b, m->slots[b].probes - 1);
    if (m->slots[last].busy != 0 && home_bucket(m->slots[last].hash, t) == b) {
      break;
    }
    /* No entry of bucket b sits at distance probes - 1: that slot is `last`. */
    /*@ assert \forall integer x; 0 <= x < t && vig_map_busy(m, x) && vig_map_home(m, x) == b ==>
          vig_map_probe(t, b, vig_map_dist(t, b, x)) == x && x != last; */
    m->slots[b].probes--;
  }
}

void vig_map_erase(struct vig_map *m, const void *key, uint32_t hash) {
  uint32_t t = (uint32_t)m->table_size;
  uint32_t b = home_bucket(hash, t);
  uint32_t s = find_slot(m, key, hash);
  mark_free(m, s);
  /*@ assert vig_map_valid(m) && b < m->table_size; */
  /*@ assert vig_map_same_except{Pre, Here}(m, s); */
  /*@ assert vig_map_erase_step{Pre, Here}(m, s, (char *)key, hash); */
  /*@ assert vig_map_probes_ok(m); */
  shrink_probes(m, b);
  /*@ assert vig_map_valid(m) && m->size <= m->capacity && vig_map_perm(m); */
  /*@ assert vig_map_erase_step{Pre, Here}(m, s, (char *)key, hash); */
  /*@ assert vig_map_unique(m); */
  /*@ assert !vig_map_has(m, (char *)key, hash); */
}

void vig_map_prefetch(const struct vig_map *m, uint32_t hash) {
  uint32_t b = home_bucket(hash, (uint32_t)m->table_size);
  vig_prefetch(m->slots + b);
}

uint32_t vig_map_size(const struct vig_map *m) { return (uint32_t)m->size; }
