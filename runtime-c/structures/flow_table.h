/* vig_flow_table: the expiring flow table (Vigor's "emap"), built on a vig_map key -> index, a
 * vig_vector of keys, a hash per index and a vig_allocator of indexes with their last-refresh
 * times. TypeScript model: dsl/structures/flow-table.ts (FlowTable).
 *
 * Abstract view: a set of entries (index, key, hash, time) with distinct indexes and distinct
 * (key, hash) pairs: vig_flow_table_entry(t, i) says index i holds an entry, whose key is the
 * key_size bytes at vig_flow_table_key_at(t, i), whose hash is t->hashes[i] and whose time is
 * vig_allocator_time(t->alloc, i). Indexes are handed out as the allocator does (LIFO free
 * stack) and entries expire oldest first. Every operation is O(1) expected except expire, which
 * is O(1) per removed entry; only vig_flow_table_alloc allocates memory.
 */
#ifndef VIG_FLOW_TABLE_H
#define VIG_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocator.h"
#include "map.h"
#include "vector.h"

/* Fields are private: use the functions below. */
struct vig_flow_table {
  size_t key_size;
  size_t capacity;
  uint64_t expiration;
  struct vig_map *map;         /* key (with hash) -> index */
  struct vig_vector *keys;     /* index -> key */
  uint32_t *hashes;            /* index -> hash of its key */
  struct vig_allocator *alloc; /* indexes in use, with their last-refresh times */
};

/*@
  logic char *vig_flow_table_key_at{L}(struct vig_flow_table *t, integer i) =
    vig_vector_elem(t->keys, i);

  predicate vig_flow_table_entry{L}(struct vig_flow_table *t, integer i) =
    vig_allocator_allocated(t->alloc, i);

  // Entry i holds key k with hash h.
  predicate vig_flow_table_maps{L}(struct vig_flow_table *t, char *k, integer h, integer i) =
    vig_flow_table_entry(t, i) && t->hashes[i] == h &&
    vig_map_bytes_eq{L, L}(k, vig_flow_table_key_at(t, i), t->key_size);

  predicate vig_flow_table_has{L}(struct vig_flow_table *t, char *k, integer h) =
    \exists integer i; vig_flow_table_maps(t, k, h, i);

  // The table's blocks do not overlap.
  predicate vig_flow_table_apart{L}(struct vig_flow_table *t) =
    \separated(t, t->map, t->map->slots + (0 .. t->map->table_size - 1),
               t->map->order + (0 .. t->map->table_size - 1),
               t->keys, t->keys->data + (0 .. t->capacity * t->key_size - 1),
               t->hashes + (0 .. t->capacity - 1),
               t->alloc, t->alloc->cells + (0 .. t->capacity - 1),
               t->alloc->order + (0 .. t->capacity - 1));

  predicate vig_flow_table_valid{L}(struct vig_flow_table *t) =
    \valid(t) && 1 <= t->key_size <= 0xFFFFFFFF && 1 <= t->capacity <= VIG_MAP_MAX_CAPACITY &&
    vig_map_inv(t->map) && vig_vector_valid(t->keys) && vig_allocator_inv(t->alloc) &&
    \valid(t->hashes + (0 .. t->capacity - 1)) &&
    t->map->key_size == t->key_size && t->map->capacity == t->capacity &&
    t->keys->elem_size == t->key_size && t->keys->capacity == t->capacity &&
    t->alloc->capacity == t->capacity && vig_flow_table_apart(t);

  // Map slot s holds the entry of index i: its key bytes and hash, with value i.
  predicate vig_flow_table_slot_of{L}(struct vig_flow_table *t, integer s, integer i) =
    0 <= s < t->map->table_size && vig_map_busy(t->map, s) && t->map->slots[s].value == i &&
    t->map->slots[s].hash == t->hashes[i] &&
    vig_map_key_at(t->map, s, vig_flow_table_key_at(t, i));

  // The representation invariant: the map's entries are exactly the entries' keys, bound to their
  // indexes (stated slot by slot; vig_flow_table_map_is_entries below says it abstractly).
  predicate vig_flow_table_inv{L}(struct vig_flow_table *t) =
    vig_flow_table_valid(t) &&
    t->map->size == t->alloc->count &&
    (\forall integer i; vig_flow_table_entry(t, i) ==>
      \exists integer s; vig_flow_table_slot_of(t, s, i)) &&
    (\forall integer s; 0 <= s < t->map->table_size && vig_map_busy(t->map, s) ==>
      vig_flow_table_entry(t, t->map->slots[s].value) &&
      vig_flow_table_slot_of(t, s, t->map->slots[s].value));

  lemma vig_flow_table_map_is_entries{L}:
    \forall struct vig_flow_table *t, char *k, integer h, v;
      vig_flow_table_inv(t) && vig_map_maps(t->map, k, h, v) ==> vig_flow_table_maps(t, k, h, v);
  lemma vig_flow_table_entries_in_map{L}:
    \forall struct vig_flow_table *t, char *k, integer h, v;
      vig_flow_table_inv(t) && vig_flow_table_maps(t, k, h, v) ==> vig_map_maps(t->map, k, h, v);

  // Between L1 and L2, every index other than i kept its key bytes and its hash: a caller holding
  // another entry's key (vig_flow_table_key) still reads the same bytes there.
  predicate vig_flow_table_keys_same_except{L1, L2}(struct vig_flow_table *t, integer i) =
    \forall integer x; 0 <= x < \at(t->capacity, L1) && x != i ==>
      \at(t->hashes[x], L1) == \at(t->hashes[x], L2) &&
      (\forall integer j; 0 <= j < \at(t->key_size, L1) ==>
        \at(vig_flow_table_key_at(t, x)[j], L1) == \at(vig_flow_table_key_at(t, x)[j], L2));

  // A key argument: key_size readable bytes outside the table's own storage.
  predicate vig_flow_table_key_ok{L}(struct vig_flow_table *t, char *k) =
    \valid_read(k + (0 .. t->key_size - 1)) &&
    \separated(k + (0 .. t->key_size - 1), t->map->slots + (0 .. t->map->table_size - 1),
               t->keys->data + (0 .. t->capacity * t->key_size - 1));
*/

/* A table of at most `capacity` entries with keys of `key_size` bytes, expiring entries idle for
 * longer than expiration_ns; NULL when key_size or capacity is 0, key_size exceeds VIG_MAP_KEY_MAX,
 * capacity exceeds VIG_MAP_MAX_CAPACITY, or memory is short. */
/*@ assigns \result \from key_size, capacity, expiration_ns;
    ensures \result == \null ||
      (vig_flow_table_inv(\result) && \result->key_size == key_size &&
       \result->capacity == capacity && \result->expiration == expiration_ns &&
       \result->alloc->count == 0);
*/
struct vig_flow_table *vig_flow_table_alloc(uint32_t key_size, uint32_t capacity,
                                            uint64_t expiration_ns);

/* Removes every entry with now - time > expiration; returns how many. Requires: now is not
 * earlier than any entry's time. */
/*@ requires vig_flow_table_inv(t) && vig_allocator_times_le(t->alloc, now);
    assigns t->map->size, t->map->slots[0 .. t->map->table_size - 1],
      t->map->order[0 .. t->map->table_size - 1],
      t->alloc->count, t->alloc->oldest, t->alloc->newest,
      t->alloc->cells[0 .. t->capacity - 1],
      t->alloc->order[0 .. t->capacity - 1];
    ensures vig_flow_table_inv(t);
    ensures \forall integer i; 0 <= i < t->capacity ==>
      (vig_flow_table_entry(t, i) <==>
        \old(vig_flow_table_entry(t, i)) &&
        now - \old(vig_allocator_time(t->alloc, i)) <= t->expiration);
    ensures \forall integer i; vig_flow_table_entry(t, i) ==>
      vig_allocator_time(t->alloc, i) == \old(vig_allocator_time(t->alloc, i));
    ensures \result == \old(t->alloc->count) - t->alloc->count;
*/
uint32_t vig_flow_table_expire(struct vig_flow_table *t, uint64_t now);

/* If an entry holds key (with hash), stores its index in *index_out and returns true. */
/*@ requires vig_flow_table_inv(t);
    requires \valid_read((char *)key + (0 .. t->key_size - 1));
    requires \valid(index_out) &&
      \separated(index_out, t, t->map, t->map->slots + (0 .. t->map->table_size - 1),
                 t->hashes + (0 .. t->capacity - 1));
    assigns *index_out;
    ensures \result <==> vig_flow_table_has(t, (char *)key, hash);
    ensures \result ==> vig_flow_table_maps(t, (char *)key, hash, *index_out);
*/
bool vig_flow_table_find(const struct vig_flow_table *t, const void *key, uint32_t hash,
                         uint32_t *index_out);

/* Adds an entry for key (with hash) at time `now` at the index the allocator hands out; false iff
 * the table is full. Requires: key absent; now is not earlier than any entry's time. */
/*@ requires vig_flow_table_inv(t) && vig_allocator_times_le(t->alloc, now);
    requires vig_allocator_can_stamp(t->alloc);
    requires vig_flow_table_key_ok(t, (char *)key);
    requires !vig_flow_table_has(t, (char *)key, hash);
    requires \valid(index_out) &&
      \separated(index_out, t, t->map, t->map->slots + (0 .. t->map->table_size - 1),
                 t->hashes + (0 .. t->capacity - 1), t->alloc,
                 t->alloc->cells + (0 .. t->capacity - 1),
                 t->alloc->order + (0 .. t->capacity - 1));
    assigns t->map->size, t->map->slots[0 .. t->map->table_size - 1],
      t->map->order[0 .. t->map->table_size - 1],
      t->keys->data[0 .. t->capacity * t->key_size - 1], t->hashes[0 .. t->capacity - 1],
      t->alloc->count, t->alloc->clock, t->alloc->oldest, t->alloc->newest,
      t->alloc->cells[0 .. t->capacity - 1], *index_out;
    ensures vig_flow_table_inv(t);
    behavior full:
      assumes t->alloc->count == t->capacity;
      ensures !\result;
      ensures vig_allocator_same_except{Old, Here}(t->alloc, -1);
      ensures vig_flow_table_keys_same_except{Old, Here}(t, -1);
    behavior added:
      assumes t->alloc->count < t->capacity;
      ensures \result && *index_out == \old(vig_allocator_next_free(t->alloc));
      ensures vig_flow_table_maps(t, (char *)key, hash, *index_out);
      ensures vig_allocator_time(t->alloc, *index_out) == now;
      ensures vig_allocator_same_except{Old, Here}(t->alloc, *index_out);
      ensures vig_flow_table_keys_same_except{Old, Here}(t, *index_out);
    complete behaviors;
    disjoint behaviors;
*/
bool vig_flow_table_add(struct vig_flow_table *t, const void *key, uint32_t hash, uint64_t now,
                        uint32_t *index_out);

/* The key of entry `index`, or NULL when there is no such entry (or index >= capacity). */
/*@ requires vig_flow_table_inv(t);
    assigns \nothing;
    ensures vig_flow_table_entry(t, index) ==>
      \result == (void *)vig_flow_table_key_at(t, index) &&
      \valid_read((char *)\result + (0 .. t->key_size - 1));
    ensures !vig_flow_table_entry(t, index) ==> \result == \null;
*/
const void *vig_flow_table_key(const struct vig_flow_table *t, uint32_t index);

/* Sets entry `index`'s time to `now`. Requires: the entry exists; now not earlier than any time. */
/*@ requires vig_flow_table_inv(t) && vig_allocator_times_le(t->alloc, now);
    requires vig_allocator_can_stamp(t->alloc);
    requires vig_flow_table_entry(t, index);
    assigns t->alloc->clock, t->alloc->oldest, t->alloc->newest,
      t->alloc->cells[0 .. t->capacity - 1];
    ensures vig_flow_table_inv(t);
    ensures vig_flow_table_entry(t, index) && vig_allocator_time(t->alloc, index) == now;
    ensures vig_allocator_same_except{Old, Here}(t->alloc, index);
*/
void vig_flow_table_refresh(struct vig_flow_table *t, uint32_t index, uint64_t now);

/* Removes entry `index`. Requires: the entry exists. */
/*@ requires vig_flow_table_inv(t);
    requires vig_flow_table_entry(t, index);
    assigns t->map->size, t->map->slots[0 .. t->map->table_size - 1],
      t->map->order[0 .. t->map->table_size - 1],
      t->alloc->count, t->alloc->oldest, t->alloc->newest,
      t->alloc->cells[0 .. t->capacity - 1],
      t->alloc->order[0 .. t->capacity - 1];
    ensures vig_flow_table_inv(t);
    ensures !vig_flow_table_entry(t, index);
    ensures vig_allocator_same_except{Old, Here}(t->alloc, index);
    ensures vig_allocator_next_free(t->alloc) == index;
    ensures t->alloc->count == \old(t->alloc->count) - 1;
*/
void vig_flow_table_remove(struct vig_flow_table *t, uint32_t index);

/* Number of entries. */
/*@ requires vig_flow_table_inv(t);
    assigns \nothing;
    ensures \result == t->alloc->count;
*/
uint32_t vig_flow_table_size(const struct vig_flow_table *t);

#endif
