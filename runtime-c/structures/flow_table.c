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

/* Key bytes of the vector outside record i are the same at L1 and L2 (offsets: linear). In an
 * axiomatic block so that WP gives the lemma only to the goals that use the predicate. */
/*@ axiomatic vig_flow_table_key_frame {
      predicate vig_flow_table_data_same_outside{L1, L2}(struct vig_flow_table *t, integer i) =
        \forall integer o; 0 <= o < \at(t->capacity, L1) * \at(t->key_size, L1) &&
          (o < i * \at(t->key_size, L1) || o >= i * \at(t->key_size, L1) + \at(t->key_size, L1)) ==>
          \at(t->keys->data[o], L1) == \at(t->keys->data[o], L2);

      // The same, record by record (the only non-linear step, proven once).
      lemma vig_flow_table_data_same_records{L1, L2}:
        \forall struct vig_flow_table *t, integer i;
          \at(t->keys, L1) == \at(t->keys, L2) &&
          \at(t->keys->data, L1) == \at(t->keys->data, L2) &&
          \at(t->key_size, L1) == \at(t->key_size, L2) &&
          \at(t->keys->elem_size, L1) == \at(t->key_size, L1) && \at(t->key_size, L1) > 0 &&
          0 <= i < \at(t->capacity, L1) && vig_flow_table_data_same_outside{L1, L2}(t, i) ==>
          \forall integer x, j; 0 <= x < \at(t->capacity, L1) && x != i &&
            0 <= j < \at(t->key_size, L1) ==>
            \at(vig_flow_table_key_at(t, x)[j], L1) == \at(vig_flow_table_key_at(t, x)[j], L2);
    }
*/

/* The table's layout (the pointers and sizes its blocks are made of) is the same at L1 and L2, so
 * the blocks are still apart: \separated depends on addresses only. Proven once, for the functions
 * whose callees write other fields of the same C types (the allocator's times, stamps and links).
 */
/*@ axiomatic vig_flow_table_layout_framing {
      predicate vig_flow_table_layout_same{L1, L2}(struct vig_flow_table *t) =
        \at(t->key_size, L1) == \at(t->key_size, L2) &&
        \at(t->capacity, L1) == \at(t->capacity, L2) && \at(t->map, L1) == \at(t->map, L2) &&
        \at(t->keys, L1) == \at(t->keys, L2) && \at(t->hashes, L1) == \at(t->hashes, L2) &&
        \at(t->alloc, L1) == \at(t->alloc, L2) &&
        \at(t->map->slots, L1) == \at(t->map->slots, L2) &&
        \at(t->map->order, L1) == \at(t->map->order, L2) &&
        \at(t->map->table_size, L1) == \at(t->map->table_size, L2) &&
        \at(t->map->key_size, L1) == \at(t->map->key_size, L2) &&
        \at(t->keys->data, L1) == \at(t->keys->data, L2) &&
        \at(t->alloc->cells, L1) == \at(t->alloc->cells, L2) &&
        \at(t->alloc->order, L1) == \at(t->alloc->order, L2);

      lemma vig_flow_table_apart_kept{L1, L2}:
        \forall struct vig_flow_table *t;
          vig_flow_table_apart{L1}(t) && vig_flow_table_layout_same{L1, L2}(t) ==>
          vig_flow_table_apart{L2}(t);
    }
*/

/* The map's uniqueness as the flow table uses it: a key and hash match at most one slot, and after
 * an erase that freed the one slot matching them (vig_map_erase's postcondition) the busy slots are
 * the old ones but that one, each with its fields. Map facts, but only the flow table needs them in
 * this form: in an axiomatic block so that only the goals that use its predicates get its lemmas.
 */
/*@ axiomatic vig_flow_table_map_uniqueness {
      predicate vig_map_one_match{L}(struct vig_map *m, char *k, integer h) =
        \forall integer s1, s2; 0 <= s1 < m->table_size && 0 <= s2 < m->table_size &&
          vig_map_match(m, s1, k, h) && vig_map_match(m, s2, k, h) ==> s1 == s2;

      lemma vig_map_match_same_keys{L}:
        \forall struct vig_map *m, char *k, integer h, s1, s2;
          vig_map_match(m, s1, k, h) && vig_map_match(m, s2, k, h) ==>
          vig_map_same_keys(m, s1, s2);
      lemma vig_map_unique_one_match{L}:
        \forall struct vig_map *m, char *k, integer h;
          vig_map_unique(m) ==> vig_map_one_match(m, k, h);

      predicate vig_map_erased{L1, L2}(struct vig_map *m, char *k, integer h) =
        (\forall integer s; 0 <= s < \at(m->table_size, L1) && vig_map_busy{L2}(m, s) ==>
          vig_map_busy{L1}(m, s) && !vig_map_match{L1}(m, s, k, h) &&
          \at(m->slots[s].hash, L2) == \at(m->slots[s].hash, L1) &&
          \at(m->slots[s].value, L2) == \at(m->slots[s].value, L1) &&
          (\forall integer j; 0 <= j < \at(m->key_size, L1) ==>
            \at(m->slots[s].key[j], L2) == \at(m->slots[s].key[j], L1))) &&
        (\forall integer s; 0 <= s < \at(m->table_size, L1) && vig_map_busy{L1}(m, s) &&
          !vig_map_match{L1}(m, s, k, h) ==> vig_map_busy{L2}(m, s));

      lemma vig_map_erased_one{L1, L2}:
        \forall struct vig_map *m, char *k, integer h, e;
          0 <= e < \at(m->table_size, L1) && vig_map_one_match{L1}(m, k, h) &&
          vig_map_match{L1}(m, e, k, h) && !vig_map_busy{L2}(m, e) &&
          vig_map_same_except{L1, L2}(m, e) ==> vig_map_erased{L1, L2}(m, k, h);
    }
*/

/* Where entry `index` sits in the map, as facts about the current state (a ghost function: its
 * contract is proven once, here, where the context is only the invariant; a caller gets the
 * facts without instantiating the invariant's quantifiers). The entry's key and hash are in the
 * map, the slots matching them are one slot, and a busy slot holds index iff it matches them. */
/*@ ghost
  /@ requires vig_flow_table_inv(t) && vig_flow_table_entry(t, index);
     assigns \nothing;
     ensures vig_map_has(t->map, vig_flow_table_key_at(t, index), t->hashes[index]);
     ensures vig_map_one_match(t->map, vig_flow_table_key_at(t, index), t->hashes[index]);
     ensures \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
       (t->map->slots[s].value == index <==>
        vig_map_match(t->map, s, vig_flow_table_key_at(t, index), t->hashes[index]));
  @/
  static void entry_slot(struct vig_flow_table *t, uint32_t index) {
    /@ assert \exists integer s; vig_flow_table_slot_of(t, s, index); @/
    /@ assert \forall integer s; vig_flow_table_slot_of(t, s, index) ==>
         0 <= s < t->map->table_size &&
         vig_map_match(t->map, s, vig_flow_table_key_at(t, index), t->hashes[index]); @/
    /@ assert vig_map_unique(t->map); @/
    /@ assert vig_map_one_match(t->map, vig_flow_table_key_at(t, index), t->hashes[index]); @/
    /@ assert \forall integer s; 0 <= s < t->map->table_size &&
         vig_map_match(t->map, s, vig_flow_table_key_at(t, index), t->hashes[index]) ==>
         t->map->slots[s].value == index; @/
    /@ assert \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) &&
         t->map->slots[s].value == index ==> vig_flow_table_slot_of(t, s, index); @/
  }
*/

/* Erases the entry of `index` (key and hash: its key bytes and hash) from the map, and states what
 * that did slot by slot without the map's existential (the freed slot is the one that held index)
 * and what it kept: the context is the table's validity, not its invariant. */
/*@ requires vig_flow_table_valid(t) && 0 <= index < t->capacity;
    requires vig_map_key_ok(t->map, (char *)key) && vig_map_has(t->map, (char *)key, hash);
    requires vig_map_one_match(t->map, (char *)key, hash);
    requires \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
      (t->map->slots[s].value == index <==> vig_map_match(t->map, s, (char *)key, hash));
    assigns t->map->size, t->map->slots[0 .. t->map->table_size - 1],
      t->map->order[0 .. t->map->table_size - 1];
    ensures vig_flow_table_valid(t) && t->map->size == \old(t->map->size) - 1;
    ensures vig_flow_table_layout_same{Old, Here}(t);
    ensures t->keys->elem_size == \old(t->keys->elem_size) &&
      t->keys->capacity == \old(t->keys->capacity) && t->map->capacity == \old(t->map->capacity);
    ensures vig_allocator_unchanged{Old, Here}(t->alloc);
    ensures \forall integer x; 0 <= x < t->capacity ==> t->hashes[x] == \old(t->hashes[x]);
    ensures \forall integer o; 0 <= o < t->capacity * t->key_size ==>
      t->keys->data[o] == \old(t->keys->data[o]);
    ensures \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
      \old(vig_map_busy(t->map, s)) && \old(t->map->slots[s].value) != index;
    ensures \forall integer s; 0 <= s < t->map->table_size && \old(vig_map_busy(t->map, s)) &&
      \old(t->map->slots[s].value) != index ==>
      vig_map_busy(t->map, s) && t->map->slots[s].value == \old(t->map->slots[s].value) &&
      t->map->slots[s].hash == \old(t->map->slots[s].hash) &&
      (\forall integer j; 0 <= j < t->key_size ==>
        t->map->slots[s].key[j] == \old(t->map->slots[s].key[j]));
*/
static void erase_entry(struct vig_flow_table *t, const char *key, uint32_t hash)
/*@ ghost (uint32_t index) */ {
  vig_map_erase(t->map, key, hash);
  /*@ assert t->map == \at(t->map, Pre) && t->keys == \at(t->keys, Pre) &&
        t->hashes == \at(t->hashes, Pre) && t->alloc == \at(t->alloc, Pre); */
  /*@ assert t->map->slots == \at(t->map->slots, Pre) &&
        t->map->order == \at(t->map->order, Pre) && t->keys->data == \at(t->keys->data, Pre) &&
        t->alloc->cells == \at(t->alloc->cells, Pre) &&
        t->alloc->order == \at(t->alloc->order, Pre); */
  /*@ assert t->key_size == \at(t->key_size, Pre) && t->capacity == \at(t->capacity, Pre); */
  /*@ assert t->map->table_size == \at(t->map->table_size, Pre) &&
        t->map->key_size == \at(t->map->key_size, Pre); */
  /* The freed slot was the one matching key and hash, i.e. the one that held index. */
  /*@ assert vig_map_erased{Pre, Here}(t->map, (char *)key, hash); */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
        \at(vig_map_busy(t->map, s), Pre) &&
        !\at(vig_map_match(t->map, s, (char *)key, hash), Pre); */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size && \at(vig_map_busy(t->map, s), Pre) &&
        !\at(vig_map_match(t->map, s, (char *)key, hash), Pre) ==>
        \at(t->map->slots[s].value, Pre) != index; */
  /*@ assert vig_flow_table_layout_same{Pre, Here}(t); */
  /*@ assert vig_flow_table_apart(t); */
  /* The allocator is apart from the map's blocks, so it kept every field (each kind a step). */
  /*@ assert t->alloc->capacity == \at(t->alloc->capacity, Pre) &&
        t->alloc->count == \at(t->alloc->count, Pre) && t->alloc->clock == \at(t->alloc->clock,
     Pre);
   */
  /*@ assert t->alloc->oldest == \at(t->alloc->oldest, Pre) &&
        t->alloc->newest == \at(t->alloc->newest, Pre); */
  /*@ assert \forall integer i; 0 <= i < t->capacity ==>
        t->alloc->cells[i].prev == \at(t->alloc->cells[i].prev, Pre) &&
        t->alloc->cells[i].next == \at(t->alloc->cells[i].next, Pre); */
  /*@ assert \forall integer i; 0 <= i < t->capacity ==>
        t->alloc->cells[i].pos == \at(t->alloc->cells[i].pos, Pre) &&
        t->alloc->order[i] == \at(t->alloc->order[i], Pre); */
  /*@ assert \forall integer i; 0 <= i < t->capacity ==>
        t->alloc->cells[i].time == \at(t->alloc->cells[i].time, Pre) &&
        t->alloc->cells[i].stamp == \at(t->alloc->cells[i].stamp, Pre) &&
        t->alloc->cells[i].allocated == \at(t->alloc->cells[i].allocated, Pre); */
  /*@ assert vig_allocator_unchanged{Pre, Here}(t->alloc); */
  /*@ assert vig_allocator_inv(t->alloc) && vig_vector_valid(t->keys); */
}

/* Removes entry `index` from the map: afterwards the invariant holds for the table without it
 * (the allocator still has it). */
/*@ requires vig_flow_table_inv(t) && vig_flow_table_entry(t, index);
    assigns t->map->size, t->map->slots[0 .. t->map->table_size - 1],
      t->map->order[0 .. t->map->table_size - 1];
    ensures vig_flow_table_valid(t) && t->map->size == t->alloc->count - 1;
    ensures \forall integer i; vig_flow_table_entry(t, i) && i != index ==>
      \exists integer s; vig_flow_table_slot_of(t, s, i);
    ensures \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
      t->map->slots[s].value != index && vig_flow_table_entry(t, t->map->slots[s].value) &&
      vig_flow_table_slot_of(t, s, t->map->slots[s].value);
*/
static void forget_key(struct vig_flow_table *t, uint32_t index) {
  const char *key = vig_vector_at_const(t->keys, index);
  uint32_t hash = t->hashes[index];
  /*@ ghost entry_slot(t, index); */
  erase_entry(t, key, hash) /*@ ghost (index) */;
  /*@ assert \forall integer i; vig_flow_table_entry(t, i) <==> \at(vig_flow_table_entry(t, i), Pre);
   */
  /*@ assert \forall integer s, j; 0 <= s < t->map->table_size && 0 <= j < t->key_size &&
        vig_map_busy(t->map, s) ==> t->map->slots[s].key[j] == \at(t->map->slots[s].key[j], Pre); */
  /*@ assert vig_flow_table_data_same_outside{Pre, Here}(t, index); */
  /*@ assert \forall integer x, j; 0 <= x < t->capacity && x != index && 0 <= j < t->key_size ==>
        vig_flow_table_key_at(t, x)[j] == \at(vig_flow_table_key_at(t, x)[j], Pre); */
  /*@ assert \forall integer s, i; 0 <= s < t->map->table_size && 0 <= i < t->capacity &&
        i != index && vig_map_busy(t->map, s) &&
        \at(vig_map_key_at(t->map, s, vig_flow_table_key_at(t, i)), Pre) ==>
        vig_map_key_at(t->map, s, vig_flow_table_key_at(t, i)); */
  /*@ assert \forall integer s, i; 0 <= s < t->map->table_size && 0 <= i < t->capacity &&
        i != index && vig_map_busy(t->map, s) && \at(vig_flow_table_slot_of(t, s, i), Pre) ==>
        vig_flow_table_slot_of(t, s, i); */
  /*@ assert \forall integer s, i; 0 <= s < t->map->table_size && 0 <= i < t->capacity &&
        i != index && \at(vig_flow_table_slot_of(t, s, i), Pre) ==> vig_flow_table_slot_of(t, s, i);
   */
}

uint32_t vig_flow_table_expire(struct vig_flow_table *t, uint64_t now) {
  uint32_t n = 0;
  uint32_t i = 0;
  /* The sizes in the loop assigns are taken at Pre: the loop's effect on the table's size_t
   * fields (uint64_t, like the allocator's times) is then not needed to show them in the
   * function's assigns clause. */
  /*@ loop invariant vig_flow_table_inv(t) && vig_allocator_times_le(t->alloc, now);
      loop invariant 0 <= n && n == \at(t->alloc->count, Pre) - t->alloc->count;
      loop invariant \forall integer j; 0 <= j < t->capacity ==>
        (vig_flow_table_entry(t, j) ==> \at(vig_flow_table_entry(t, j), Pre) &&
           vig_allocator_time(t->alloc, j) == \at(vig_allocator_time(t->alloc, j), Pre)) &&
        (\at(vig_flow_table_entry(t, j), Pre) && !vig_flow_table_entry(t, j) ==>
           now - \at(vig_allocator_time(t->alloc, j), Pre) > t->expiration);
      loop invariant vig_flow_table_layout_same{Pre, Here}(t);
      loop assigns n, i, t->map->size, t->map->slots[0 .. \at(t->map->table_size, Pre) - 1],
        t->map->order[0 .. \at(t->map->table_size, Pre) - 1],
        t->alloc->count, t->alloc->oldest, t->alloc->newest,
        t->alloc->cells[0 .. \at(t->capacity, Pre) - 1],
        t->alloc->order[0 .. \at(t->capacity, Pre) - 1];
      loop variant t->alloc->count;
  */
  while (vig_allocator_oldest_expired(t->alloc, now, t->expiration, &i)) {
    vig_flow_table_remove(t, i);
    n++;
  }
  return n;
}

bool vig_flow_table_find(const struct vig_flow_table *t, const void *key, uint32_t hash,
                         uint32_t *index_out) {
  uint32_t v = 0;
  if (!vig_map_get(t->map, key, hash, &v)) {
    /*@ assert !vig_map_has(t->map, (char *)key, hash); */
    /*@ assert \forall integer i; !vig_map_maps(t->map, (char *)key, hash, i); */
    /*@ assert !vig_flow_table_has(t, (char *)key, hash); */
    return false;
  }
  /*@ assert vig_map_maps(t->map, (char *)key, hash, v); */
  /*@ assert vig_flow_table_maps(t, (char *)key, hash, v); */
  *index_out = v;
  /*@ assert vig_flow_table_maps(t, (char *)key, hash, *index_out); */
  return true;
}

bool vig_flow_table_add(struct vig_flow_table *t, const void *key, uint32_t hash, uint64_t now,
                        uint32_t *index_out) {
  uint32_t i;
  /*@ assert !vig_map_has(t->map, (char *)key, hash); */
  if (!vig_allocator_allocate(t->alloc, now, &i)) {
    return false;
  }
  PROOF_LABEL(Allocated);
  /*@ assert 0 <= i < t->capacity && vig_vector_valid(t->keys) && t->keys->capacity == t->capacity;
   */
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
  /*@ assert vig_flow_table_data_same_outside{Allocated, Here}(t, i); */
  t->hashes[i] = hash;
  PROOF_LABEL(Stored);
  /* Only the allocator, record i and hashes[i] changed: the map did not. */
  /*@ assert vig_map_unchanged{Pre, Here}(t->map); */
  /*@ assert vig_map_inv(t->map) && !vig_map_has(t->map, (char *)key, hash); */
  /*@ assert \forall integer j; 0 <= j < t->key_size ==> vig_flow_table_key_at(t, i)[j] == k[j]; */
  /* The old entries, with the same slots. */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
        t->map->slots[s].value != i && vig_flow_table_entry(t, t->map->slots[s].value) &&
        vig_flow_table_slot_of(t, s, t->map->slots[s].value); */
  /*@ assert \forall integer x; vig_flow_table_entry(t, x) && x != i ==>
        \exists integer s; vig_flow_table_slot_of(t, s, x); */
  vig_map_put(t->map, key, hash, i);
  *index_out = i;
  /*@ assert vig_allocator_unchanged{Stored, Here}(t->alloc); */
  /*@ assert \forall integer o; 0 <= o < t->capacity * t->key_size ==>
        t->keys->data[o] == \at(t->keys->data[o], Stored); */
  /*@ assert \forall integer x; 0 <= x < t->capacity ==> t->hashes[x] == \at(t->hashes[x], Stored);
   */
  /*@ assert vig_allocator_inv(t->alloc); */
  /*@ assert vig_flow_table_valid(t) && t->map->size == t->alloc->count; */
  /*@ assert \forall integer x; vig_flow_table_entry(t, x) ==>
        \exists integer s; vig_flow_table_slot_of(t, s, x); */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
        vig_flow_table_entry(t, t->map->slots[s].value) &&
        vig_flow_table_slot_of(t, s, t->map->slots[s].value); */
  /*@ assert vig_flow_table_maps(t, (char *)key, hash, i); */
  /* The frame: only record i and hashes[i] of the keys and hashes changed. */
  /*@ assert vig_flow_table_data_same_outside{Pre, Here}(t, i); */
  /*@ assert \forall integer x; 0 <= x < t->capacity && x != i ==>
        t->hashes[x] == \at(t->hashes[x], Pre); */
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
  /* Only the allocator's clock, list ends and cells changed: what the invariant reads elsewhere
   * kept its value (each assertion a goal of its own, a hypothesis of the next). */
  /*@ assert t->map == \at(t->map, Pre) && t->keys == \at(t->keys, Pre) &&
        t->hashes == \at(t->hashes, Pre) && t->alloc == \at(t->alloc, Pre); */
  /*@ assert t->map->slots == \at(t->map->slots, Pre) &&
        t->map->order == \at(t->map->order, Pre) && t->keys->data == \at(t->keys->data, Pre) &&
        t->alloc->cells == \at(t->alloc->cells, Pre) &&
        t->alloc->order == \at(t->alloc->order, Pre); */
  /*@ assert t->key_size == \at(t->key_size, Pre) && t->capacity == \at(t->capacity, Pre); */
  /*@ assert t->map->table_size == \at(t->map->table_size, Pre) &&
        t->map->key_size == \at(t->map->key_size, Pre); */
  /*@ assert vig_flow_table_layout_same{Pre, Here}(t); */
  /*@ assert vig_flow_table_apart(t); */
  /*@ assert t->keys->elem_size == \at(t->keys->elem_size, Pre) &&
        t->keys->capacity == \at(t->keys->capacity, Pre) &&
        t->map->capacity == \at(t->map->capacity, Pre) && t->map->size == \at(t->map->size, Pre); */
  /*@ assert \forall integer x; 0 <= x < t->capacity ==> t->hashes[x] == \at(t->hashes[x], Pre); */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size ==>
        t->map->slots[s].hash == \at(t->map->slots[s].hash, Pre) &&
        t->map->slots[s].value == \at(t->map->slots[s].value, Pre) &&
        t->map->slots[s].busy == \at(t->map->slots[s].busy, Pre); */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size ==>
        t->map->slots[s].probes == \at(t->map->slots[s].probes, Pre) &&
        t->map->order[s].slot == \at(t->map->order[s].slot, Pre) &&
        t->map->order[s].pos == \at(t->map->order[s].pos, Pre); */
  /*@ assert vig_map_unchanged{Pre, Here}(t->map); */
  /*@ assert vig_map_valid(t->map) && vig_vector_valid(t->keys); */
  /*@ assert vig_map_inv(t->map); */
  /*@ assert \forall integer j;
        vig_flow_table_entry(t, j) <==> \at(vig_flow_table_entry(t, j), Pre); */
  /*@ assert vig_flow_table_valid(t); */
  /*@ assert \forall integer s, j; 0 <= s < t->map->table_size && 0 <= j < t->key_size ==>
        t->map->slots[s].key[j] == \at(t->map->slots[s].key[j], Pre); */
  /*@ assert \forall integer o; 0 <= o < t->capacity * t->key_size ==>
        t->keys->data[o] == \at(t->keys->data[o], Pre); */
  /*@ assert \forall integer s, i; 0 <= s < t->map->table_size && 0 <= i < t->capacity ==>
        \at(vig_map_key_at(t->map, s, vig_flow_table_key_at(t, i)), Pre) ==>
        vig_map_key_at(t->map, s, vig_flow_table_key_at(t, i)); */
  /*@ assert \forall integer s, i; 0 <= s < t->map->table_size && 0 <= i < t->capacity &&
        \at(vig_flow_table_slot_of(t, s, i), Pre) ==> vig_flow_table_slot_of(t, s, i); */
  /*@ assert \forall integer i; vig_flow_table_entry(t, i) ==>
        \exists integer s; vig_flow_table_slot_of(t, s, i); */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
        vig_flow_table_entry(t, t->map->slots[s].value) &&
        vig_flow_table_slot_of(t, s, t->map->slots[s].value); */
}

/* Frees allocator index `index`. The other blocks of the table kept their contents: stated here,
 * where the context is only the table's layout, so that vig_flow_table_remove (whose context holds
 * the whole invariant) need not show each of them across the allocator's whole-cell assigns. */
/*@ requires \valid(t) && vig_flow_table_apart(t) && t->alloc->capacity == t->capacity;
    requires vig_allocator_inv(t->alloc) && vig_allocator_allocated(t->alloc, index);
    assigns t->alloc->count, t->alloc->oldest, t->alloc->newest,
      t->alloc->order[0 .. t->capacity - 1], t->alloc->cells[0 .. t->capacity - 1];
    ensures vig_allocator_inv(t->alloc) && !vig_allocator_allocated(t->alloc, index);
    ensures vig_allocator_same_except{Old, Here}(t->alloc, index);
    ensures t->alloc->count == \old(t->alloc->count) - 1;
    ensures vig_allocator_next_free(t->alloc) == index;
    ensures vig_flow_table_layout_same{Old, Here}(t) && vig_flow_table_apart(t);
    ensures t->keys->elem_size == \old(t->keys->elem_size) &&
      t->keys->capacity == \old(t->keys->capacity) &&
      t->map->capacity == \old(t->map->capacity) && t->map->size == \old(t->map->size) &&
      t->alloc->capacity == \old(t->alloc->capacity);
    ensures \forall integer x; 0 <= x < t->capacity ==> t->hashes[x] == \old(t->hashes[x]);
    ensures vig_map_unchanged{Old, Here}(t->map);
*/
static void free_index(struct vig_flow_table *t, uint32_t index) {
  vig_allocator_free(t->alloc, index);
  /*@ assert t->map == \at(t->map, Pre) && t->keys == \at(t->keys, Pre) &&
        t->hashes == \at(t->hashes, Pre) && t->alloc == \at(t->alloc, Pre); */
  /*@ assert t->map->slots == \at(t->map->slots, Pre) &&
        t->map->order == \at(t->map->order, Pre) && t->keys->data == \at(t->keys->data, Pre) &&
        t->alloc->cells == \at(t->alloc->cells, Pre) &&
        t->alloc->order == \at(t->alloc->order, Pre); */
  /*@ assert t->key_size == \at(t->key_size, Pre) && t->capacity == \at(t->capacity, Pre); */
  /*@ assert t->map->table_size == \at(t->map->table_size, Pre) &&
        t->map->key_size == \at(t->map->key_size, Pre); */
  /*@ assert vig_flow_table_layout_same{Pre, Here}(t); */
  /*@ assert vig_flow_table_apart(t); */
  /*@ assert \forall integer x; 0 <= x < t->capacity ==> t->hashes[x] == \at(t->hashes[x], Pre); */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size ==>
        t->map->slots[s].hash == \at(t->map->slots[s].hash, Pre) &&
        t->map->slots[s].value == \at(t->map->slots[s].value, Pre) &&
        t->map->slots[s].busy == \at(t->map->slots[s].busy, Pre); */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size ==>
        t->map->slots[s].probes == \at(t->map->slots[s].probes, Pre) &&
        t->map->order[s].slot == \at(t->map->order[s].slot, Pre) &&
        t->map->order[s].pos == \at(t->map->order[s].pos, Pre); */
}

void vig_flow_table_remove(struct vig_flow_table *t, uint32_t index) {
  forget_key(t, index);
  PROOF_LABEL(Forgotten);
  free_index(t, index);
  /* Only the allocator changed (free_index): the map, keys and hashes are the same. */
  /*@ assert vig_map_valid(t->map) && vig_vector_valid(t->keys); */
  /*@ assert vig_map_inv(t->map); */
  /*@ assert \forall integer j; vig_flow_table_entry(t, j) <==>
        \at(vig_flow_table_entry(t, j), Forgotten) && j != index; */
  /*@ assert vig_flow_table_valid(t) && t->map->size == t->alloc->count; */
  /*@ assert \forall integer s, j; 0 <= s < t->map->table_size && 0 <= j < t->key_size ==>
        t->map->slots[s].key[j] == \at(t->map->slots[s].key[j], Forgotten); */
  /*@ assert \forall integer o; 0 <= o < t->capacity * t->key_size ==>
        t->keys->data[o] == \at(t->keys->data[o], Forgotten); */
  /*@ assert \forall integer s, i; 0 <= s < t->map->table_size && 0 <= i < t->capacity ==>
        \at(vig_map_key_at(t->map, s, vig_flow_table_key_at(t, i)), Forgotten) ==>
        vig_map_key_at(t->map, s, vig_flow_table_key_at(t, i)); */
  /*@ assert \forall integer s, i; 0 <= s < t->map->table_size && 0 <= i < t->capacity &&
        \at(vig_flow_table_slot_of(t, s, i), Forgotten) ==> vig_flow_table_slot_of(t, s, i); */
  /*@ assert \forall integer i; vig_flow_table_entry(t, i) ==>
        \exists integer s; vig_flow_table_slot_of(t, s, i); */
  /*@ assert \forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
        vig_flow_table_entry(t, t->map->slots[s].value) &&
        vig_flow_table_slot_of(t, s, t->map->slots[s].value); */
}

uint32_t vig_flow_table_size(const struct vig_flow_table *t) {
  return vig_allocator_count(t->alloc);
}
