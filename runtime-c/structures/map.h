/* vig_map: key -> uint32_t value with a fixed capacity (max number of entries).
 *
 * Keys are fixed-size byte strings (key_size bytes, at most VIG_MAP_KEY_MAX, compared byte by
 * byte); the caller supplies a 32-bit hash with each key. Abstractly the map is a partial function
 * from (key bytes, hash) to values: vig_map_maps(m, k, h, v) below. A caller that computes the hash
 * as a function of the key (as generated code does) thus sees a partial function from keys to
 * values, the TypeScript model dsl/structures/map.ts (FlowMap).
 *
 * Implementation: open addressing with linear probing in a table of table_size slots (the smallest
 * prime >= 2 * capacity, so the load factor stays <= 1/2). An entry's home bucket is
 * hash * table_size / 2^32 (so the hash's high bits must be well mixed); it sits at the first free
 * slot from there (wrapping around). Each bucket b records probes = 1 + the largest distance from b
 * of an entry whose home is b, so a lookup looks at no more than `probes` slots from its home
 * bucket. Entries never move (as in Vigor's libVig map); erase frees the slot and shrinks its
 * bucket's probe count. A slot is 32 bytes and holds all a lookup reads (hash, value, busy flag,
 * its bucket's probe count and the key bytes), so a lookup that finds its entry in its home bucket
 * reads one cache line. The slots are also kept in a permutation `order` with the busy ones first
 * and each slot's position in it (pos), in an array of their own (only put and erase read them):
 * that is what lets the proof see, without counting, that a put always finds a free slot and that
 * size counts the entries. Every operation is O(1) expected; only vig_map_alloc allocates memory.
 *
 * Bytes are `char` in the contracts: Frama-C WP's typed memory model treats `void *` as `char *`.
 */
#ifndef VIG_MAP_H
#define VIG_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest capacity (the table must stay below 2^31 slots). */
#define VIG_MAP_MAX_CAPACITY 0x3FFFFFF0u
#define VIG_MAP_MAX_TABLE 0x7FFFFFFFu
/* Largest key size: the key bytes live in the slot, which this makes 32 bytes (the NAT's flow id
 * is 15 bytes). */
#define VIG_MAP_KEY_MAX 16u

/* Field types are chosen so that different kinds of data rarely share a C type (hash, value,
 * probes and busy uint32_t, positions and size int32_t, the map's fixed fields size_t, key bytes
 * char): Frama-C WP's typed memory model keeps one memory per C type, so writing one kind visibly
 * leaves the others unchanged (fields of one struct are told apart by their offsets). The size_t
 * fields (key_size, table_size, capacity) are never written after vig_map_alloc; size is int32_t
 * because only the functions that move slots in order write it. busy is not uint8_t because
 * packet bytes are: with a uint8_t flag a packet write would not visibly leave the map unchanged
 * in the proofs of generated NF code. */
struct vig_map_slot {
  uint32_t hash;             /* the entry's hash */
  uint32_t value;            /* the entry's value */
  uint32_t probes;           /* as a bucket: 1 + largest distance of an entry whose home it is */
  uint32_t busy;             /* 1 when the slot holds an entry, else 0 */
  char key[VIG_MAP_KEY_MAX]; /* the entry's key (its first key_size bytes) */
};

/* The permutation of the slots, and its inverse, side by side: order[i].slot is the slot at
 * position i (busy ones first), order[s].pos is slot s's position. */
struct vig_map_rank {
  int32_t slot;
  int32_t pos;
};

/* Fields are private: use the functions below. */
struct vig_map {
  size_t key_size;
  size_t capacity;   /* max number of entries */
  size_t table_size; /* number of slots */
  int32_t size;      /* number of entries (int32_t like order: see above) */
  struct vig_map_slot *slots;
  struct vig_map_rank *order; /* order[0 .. size - 1].slot are busy, the rest free */
};

/*@
  // The slot at distance d from bucket b, and the distance from bucket b to slot s.
  logic integer vig_map_probe(integer t, integer b, integer d) = b + d < t ? b + d : b + d - t;
  logic integer vig_map_dist(integer t, integer b, integer s) = s >= b ? s - b : s + t - b;
  lemma vig_map_probe_dist:
    \forall integer t, b, s; 0 <= b < t && 0 <= s < t ==>
      0 <= vig_map_dist(t, b, s) < t && vig_map_probe(t, b, vig_map_dist(t, b, s)) == s;

  predicate vig_map_busy{L}(struct vig_map *m, integer s) = m->slots[s].busy != 0;
  // The home bucket of hash h (< 2^32) in a table of t slots: h * t / 2^32, a multiplication
  // instead of a division (the hash's high bits choose the bucket). In an axiomatic block so that
  // goals that do not use it do not carry its non-linear definition.
  axiomatic vig_map_buckets {
    logic integer vig_map_bucket(integer h, integer t) = h * t / 4294967296;
  }
  logic integer vig_map_home{L}(struct vig_map *m, integer s) =
    vig_map_bucket(m->slots[s].hash, m->table_size);

  predicate vig_map_bytes_eq{L1, L2}(char *a, char *b, integer n) =
    \forall integer j; 0 <= j < n ==> \at(a[j], L1) == \at(b[j], L2);
  // Slot s holds key k.
  predicate vig_map_key_at{L}(struct vig_map *m, integer s, char *k) =
    \forall integer j; 0 <= j < m->key_size ==> m->slots[s].key[j] == k[j];
  predicate vig_map_same_keys{L}(struct vig_map *m, integer s1, integer s2) =
    \forall integer j; 0 <= j < m->key_size ==> m->slots[s1].key[j] == m->slots[s2].key[j];

  predicate vig_map_valid{L}(struct vig_map *m) =
    \valid(m) && 1 <= m->key_size <= VIG_MAP_KEY_MAX && m->capacity >= 1 &&
    2 * m->capacity <= m->table_size <= VIG_MAP_MAX_TABLE &&
    \valid(m->slots + (0 .. m->table_size - 1)) && \valid(m->order + (0 .. m->table_size - 1)) &&
    \separated(m, m->slots + (0 .. m->table_size - 1), m->order + (0 .. m->table_size - 1));

  // order is a permutation of the slots (pos its inverse), busy slots first: size counts them.
  predicate vig_map_perm{L}(struct vig_map *m) =
    0 <= m->size &&
    (\forall integer i; 0 <= i < m->table_size ==>
      0 <= m->order[i].slot < m->table_size && m->order[m->order[i].slot].pos == i) &&
    (\forall integer s; 0 <= s < m->table_size ==>
      0 <= m->order[s].pos < m->table_size && m->order[m->order[s].pos].slot == s &&
      (vig_map_busy(m, s) <==> m->order[s].pos < m->size));

  // Every entry lies within `probes` slots of its home bucket.
  predicate vig_map_probes_ok{L}(struct vig_map *m) =
    (\forall integer b; 0 <= b < m->table_size ==> 0 <= m->slots[b].probes <= m->table_size) &&
    (\forall integer s; 0 <= s < m->table_size && vig_map_busy(m, s) ==>
      vig_map_dist(m->table_size, vig_map_home(m, s), s) < m->slots[vig_map_home(m, s)].probes);

  // No two entries have the same key and hash.
  predicate vig_map_unique{L}(struct vig_map *m) =
    \forall integer s1, s2; 0 <= s1 < m->table_size && 0 <= s2 < m->table_size && s1 != s2 &&
      vig_map_busy(m, s1) && vig_map_busy(m, s2) && m->slots[s1].hash == m->slots[s2].hash ==>
      !vig_map_same_keys(m, s1, s2);

  // The representation invariant.
  predicate vig_map_inv{L}(struct vig_map *m) =
    vig_map_valid(m) && m->size <= m->capacity &&
    vig_map_perm(m) && vig_map_probes_ok(m) && vig_map_unique(m);

  predicate vig_map_match{L}(struct vig_map *m, integer s, char *k, integer h) =
    vig_map_busy(m, s) && m->slots[s].hash == h && vig_map_key_at(m, s, k);

  // Abstract view: (k, h) is in the map / is bound to v.
  predicate vig_map_has{L}(struct vig_map *m, char *k, integer h) =
    \exists integer s; 0 <= s < m->table_size && vig_map_match(m, s, k, h);
  predicate vig_map_maps{L}(struct vig_map *m, char *k, integer h, integer v) =
    \exists integer s; 0 <= s < m->table_size && vig_map_match(m, s, k, h) && m->slots[s].value ==
  v;

  // A key argument: key_size readable bytes, outside the map's own storage.
  predicate vig_map_key_ok{L}(struct vig_map *m, char *k) =
    \valid_read(k + (0 .. m->key_size - 1)) &&
    \separated(k + (0 .. m->key_size - 1), m->slots + (0 .. m->table_size - 1));

  // Between L1 and L2, only slot s may have changed (busy flag, hash, value, key bytes).
  predicate vig_map_same_except{L1, L2}(struct vig_map *m, integer s) =
    \at(m->table_size, L1) == \at(m->table_size, L2) &&
    \at(m->key_size, L1) == \at(m->key_size, L2) &&
    \at(m->slots, L1) == \at(m->slots, L2) &&
    (\forall integer x; 0 <= x < \at(m->table_size, L1) && x != s ==>
      \at(m->slots[x].busy, L1) == \at(m->slots[x].busy, L2) &&
      \at(m->slots[x].hash, L1) == \at(m->slots[x].hash, L2) &&
      \at(m->slots[x].value, L1) == \at(m->slots[x].value, L2) &&
      (\forall integer j; 0 <= j < \at(m->key_size, L1) ==>
        \at(m->slots[x].key[j], L1) == \at(m->slots[x].key[j], L2)));

  predicate vig_map_key_same{L1, L2}(char *k, integer n) =
    \forall integer j; 0 <= j < n ==> \at(k[j], L1) == \at(k[j], L2);

  // For callers that change other memory: every location of the map's state is the same at L1
  // and L2, so its invariant and contents carry over (the lemmas are proven once; a goal only
  // has to show the pointwise equalities). In an axiomatic block so that WP gives the lemmas only
  // to the goals that use vig_map_unchanged.
  axiomatic vig_map_framing {
    predicate vig_map_unchanged{L1, L2}(struct vig_map *m) =
      \at(m->key_size, L1) == \at(m->key_size, L2) &&
      \at(m->capacity, L1) == \at(m->capacity, L2) &&
      \at(m->table_size, L1) == \at(m->table_size, L2) && \at(m->size, L1) == \at(m->size, L2) &&
      \at(m->slots, L1) == \at(m->slots, L2) && \at(m->order, L1) == \at(m->order, L2) &&
      (\forall integer s; 0 <= s < \at(m->table_size, L1) ==>
        \at(m->slots[s].hash, L1) == \at(m->slots[s].hash, L2) &&
        \at(m->slots[s].value, L1) == \at(m->slots[s].value, L2) &&
        \at(m->slots[s].probes, L1) == \at(m->slots[s].probes, L2) &&
        \at(m->slots[s].busy, L1) == \at(m->slots[s].busy, L2) &&
        \at(m->order[s].slot, L1) == \at(m->order[s].slot, L2) &&
        \at(m->order[s].pos, L1) == \at(m->order[s].pos, L2) &&
        (\forall integer j; 0 <= j < \at(m->key_size, L1) ==>
          \at(m->slots[s].key[j], L1) == \at(m->slots[s].key[j], L2)));

    // Not proven, and false in WP's logic as stated: a lemma's hashes are not known to fit 32
    // bits, so a home bucket may lie past table_size (runtime-c/contracts/README.md).
    lemma vig_map_inv_unchanged{L1, L2}:
      \forall struct vig_map *m;
        vig_map_inv{L1}(m) && vig_map_unchanged{L1, L2}(m) && vig_map_valid{L2}(m) ==>
        vig_map_inv{L2}(m);
    // A slot's match carries over (the step vig_map_has_unchanged needs for each witness).
    lemma vig_map_match_unchanged{L1, L2}:
      \forall struct vig_map *m, char *k, integer h, integer s;
        vig_map_unchanged{L1, L2}(m) && vig_map_key_same{L1, L2}(k, \at(m->key_size, L1)) &&
        0 <= s < \at(m->table_size, L1) ==>
        (vig_map_match{L1}(m, s, k, h) <==> vig_map_match{L2}(m, s, k, h));
    lemma vig_map_has_unchanged{L1, L2}:
      \forall struct vig_map *m, char *k, integer h;
        vig_map_unchanged{L1, L2}(m) && vig_map_key_same{L1, L2}(k, \at(m->key_size, L1)) ==>
        (vig_map_has{L1}(m, k, h) <==> vig_map_has{L2}(m, k, h));
  }

  // Two slots that match one key and hash are one slot: the steps of vig_map_functional, which
  // the provers do not find in one goal. In an axiomatic block without symbols, so that goals
  // that do not need them do not carry them (a lemma goal assumes every lemma before it).
  axiomatic vig_map_match_facts {
    lemma vig_map_match_keys{L}:
      \forall struct vig_map *m, char *k, integer h, s1, s2;
        vig_map_match(m, s1, k, h) && vig_map_match(m, s2, k, h) ==> vig_map_same_keys(m, s1, s2);
    lemma vig_map_match_one{L}:
      \forall struct vig_map *m, char *k, integer h, s1, s2;
        vig_map_unique(m) && 0 <= s1 < m->table_size && 0 <= s2 < m->table_size &&
        vig_map_match(m, s1, k, h) && vig_map_match(m, s2, k, h) ==> s1 == s2;
  }

  // The map is a partial function.
  lemma vig_map_functional{L}:
    \forall struct vig_map *m, char *k, integer h, v1, v2;
      vig_map_inv(m) && vig_map_maps(m, k, h, v1) && vig_map_maps(m, k, h, v2) ==> v1 == v2;
*/

/* A map of at most `capacity` entries with keys of `key_size` bytes; NULL when key_size or
 * capacity is 0, key_size > VIG_MAP_KEY_MAX, capacity > VIG_MAP_MAX_CAPACITY, or memory is short.
 */
/*@ assigns \result \from key_size, capacity;
    ensures \result == \null ||
      (vig_map_inv(\result) && \result->key_size == key_size && \result->capacity == capacity &&
       \result->size == 0 && (\forall char *k, integer h; !vig_map_has(\result, k, h)));
*/
struct vig_map *vig_map_alloc(uint32_t key_size, uint32_t capacity);

/* If the map holds key (with hash), stores its value in *value_out and returns true. */
/*@ requires vig_map_inv(m);
    requires \valid_read((char *)key + (0 .. m->key_size - 1));
    requires \valid(value_out) && \separated(value_out, m, m->slots + (0 .. m->table_size - 1));
    assigns *value_out;
    ensures \result <==> vig_map_has(m, (char *)key, hash);
    ensures \result ==> vig_map_maps(m, (char *)key, hash, *value_out);
*/
bool vig_map_get(const struct vig_map *m, const void *key, uint32_t hash, uint32_t *value_out);

/* Binds key (with hash) to value. Requires: key absent, size < capacity. */
/*@ requires vig_map_inv(m);
    requires vig_map_key_ok(m, (char *)key);
    requires !vig_map_has(m, (char *)key, hash);
    requires m->size < m->capacity;
    assigns m->size, m->slots[0 .. m->table_size - 1], m->order[0 .. m->table_size - 1];
    ensures vig_map_inv(m);
    ensures m->size == \old(m->size) + 1;
    ensures vig_map_maps(m, (char *)key, hash, value);
    ensures \forall char *k, integer h, v;
      vig_map_key_ok(m, k) && !(h == hash && vig_map_bytes_eq{Here, Here}(k, (char *)key,
   m->key_size)) ==> (vig_map_maps(m, k, h, v) <==> \old(vig_map_maps(m, k, h, v)));
    // The same, slot by slot: one free slot now holds the entry, no other slot changed.
    ensures \exists integer s; 0 <= s < m->table_size && !\old(vig_map_busy(m, s)) &&
      vig_map_match(m, s, (char *)key, hash) && m->slots[s].value == value &&
      vig_map_same_except{Old, Here}(m, s);
*/
void vig_map_put(struct vig_map *m, const void *key, uint32_t hash, uint32_t value);

/* Removes key (with hash). Requires: key present. */
/*@ requires vig_map_inv(m);
    requires vig_map_key_ok(m, (char *)key);
    requires vig_map_has(m, (char *)key, hash);
    assigns m->size, m->slots[0 .. m->table_size - 1], m->order[0 .. m->table_size - 1];
    ensures vig_map_inv(m);
    ensures m->size == \old(m->size) - 1;
    ensures !vig_map_has(m, (char *)key, hash);
    ensures \forall char *k, integer h, v;
      vig_map_key_ok(m, k) && !(h == hash && vig_map_bytes_eq{Here, Here}(k, (char *)key,
   m->key_size)) ==> (vig_map_maps(m, k, h, v) <==> \old(vig_map_maps(m, k, h, v)));
    // The same, slot by slot: the entry's slot is now free, no other slot changed.
    ensures \exists integer s; 0 <= s < m->table_size &&
      \old(vig_map_match(m, s, (char *)key, hash)) && !vig_map_busy(m, s) &&
      vig_map_same_except{Old, Here}(m, s);
*/
void vig_map_erase(struct vig_map *m, const void *key, uint32_t hash);

/* A hint that a lookup of hash will soon read its home bucket's slot (one cache line, key bytes
 * included; nf_prefetch calls it before a burst is processed). Reads only the map's fixed fields
 * and writes nothing. */
/*@ requires vig_map_valid(m);
    assigns \nothing;
*/
void vig_map_prefetch(const struct vig_map *m, uint32_t hash);

/* Number of entries. */
/*@ requires vig_map_inv(m);
    assigns \nothing;
    ensures \result == m->size;
*/
uint32_t vig_map_size(const struct vig_map *m);

#endif
