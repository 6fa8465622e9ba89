/* vig_allocator: indexes 0..capacity-1, each free or allocated with a last-refresh time (ns);
 * Vigor's "double chain". TypeScript model: dsl/structures/allocator.ts (IndexAllocator).
 *
 * Abstract view (the contracts below): the set of allocated indexes, each with its time
 * (vig_allocator_allocated, vig_allocator_time), plus the two orders that make the behaviour
 * deterministic:
 * - free indexes form a LIFO stack (initially 0 on top, then 1, 2, ...): allocate takes the top
 *   (vig_allocator_next_free), free pushes the freed index;
 * - allocated indexes are ordered by last refresh: allocate and refresh make an index the newest;
 *   vig_allocator_oldest is the least recently refreshed one (whose time is also the smallest,
 *   since times never go backwards: every `now` is >= every stored time, a precondition).
 *
 * Implementation: the cells of allocated indexes form a doubly linked list, oldest to newest; a
 * permutation `order` of all indexes holds the free stack in order[0 .. capacity-count-1] (top
 * last) and the allocated indexes after it, with each index's position in `pos`. Every operation
 * is O(1); only vig_allocator_alloc allocates memory. Each cell also carries a `stamp`, the value
 * of a counter at its last refresh: it is how the contracts state the list order (the list is
 * sorted by stamp) without reasoning about reachability.
 *
 * Field types are chosen so that different kinds of data never share a C type (times and stamps
 * uint64_t, also the counter of stamps; links, also the list's ends, int32_t; positions uint32_t;
 * flags uint16_t; capacity and count int64_t): Frama-C WP's typed memory model then sees without
 * reasoning that writing one kind leaves the others unchanged (e.g. relinking the list visibly
 * keeps the stamps, flags and counts, and stamping keeps the links). The flags are not uint8_t
 * because packet bytes are: a caller that writes a packet would otherwise have to show it leaves
 * the flags unchanged (nf_state_kept in generated code). Capacity is at most
 * VIG_ALLOCATOR_MAX_CAPACITY (2^31 - 1).
 *
 * The assigns clauses of the functions that change cells name whole cells (a->cells[0 ..
 * capacity - 1]), not the fields they write: WP states the frame of a range of whole structs as one
 * separation, which a caller's provers use cheaply, while a range of fields becomes a quantified
 * premise per field (in session 5, up to a million prover steps per location read after the
 * call). What they keep of each cell is in their postconditions (vig_allocator_same_except).
 */
#ifndef VIG_ALLOCATOR_H
#define VIG_ALLOCATOR_H

#include <stdbool.h>
#include <stdint.h>

#define VIG_ALLOCATOR_MAX_CAPACITY 0x7FFFFFFFu

struct vig_allocator_cell {
  uint64_t time;      /* last refresh, when allocated */
  uint64_t stamp;     /* refresh order among allocated indexes (counter value at last refresh) */
  int32_t prev;       /* allocated list: older neighbour, or -1 */
  int32_t next;       /* allocated list: newer neighbour, or -1 */
  uint32_t pos;       /* position of this index in order */
  uint16_t allocated; /* 1 when allocated, else 0 */
};

/* Fields are private: use the functions below. */
struct vig_allocator {
  int64_t capacity;
  int64_t count;  /* allocated indexes */
  int32_t oldest; /* head of the allocated list, -1 when empty (a link, like prev and next) */
  int32_t newest; /* tail of the allocated list, -1 when empty */
  uint64_t clock; /* the next stamp (uint64_t like the stamps) */
  struct vig_allocator_cell *cells;
  uint32_t *order; /* free stack order[0 .. capacity-count-1] (top last), then allocated indexes */
};

/*@
  predicate vig_allocator_allocated{L}(struct vig_allocator *a, integer i) =
    0 <= i < a->capacity && a->cells[i].allocated != 0;
  logic integer vig_allocator_time{L}(struct vig_allocator *a, integer i) = a->cells[i].time;
  // The refresh order: among allocated indexes, a larger stamp was refreshed later.
  logic integer vig_allocator_stamp{L}(struct vig_allocator *a, integer i) = a->cells[i].stamp;
  // Number of free indexes, and the one allocate hands out next (when there is one).
  logic integer vig_allocator_free_count{L}(struct vig_allocator *a) = a->capacity - a->count;
  logic integer vig_allocator_next_free{L}(struct vig_allocator *a) =
    a->order[a->capacity - a->count - 1];
  logic integer vig_allocator_oldest{L}(struct vig_allocator *a) = a->oldest;

  predicate vig_allocator_valid{L}(struct vig_allocator *a) =
    \valid(a) && 1 <= a->capacity <= VIG_ALLOCATOR_MAX_CAPACITY &&
    \valid(a->cells + (0 .. a->capacity - 1)) && \valid(a->order + (0 .. a->capacity - 1)) &&
    \separated(a, a->cells + (0 .. a->capacity - 1), a->order + (0 .. a->capacity - 1));

  // order is a permutation of the indexes (pos its inverse): free ones first, allocated after.
  predicate vig_allocator_perm{L}(struct vig_allocator *a) =
    0 <= a->count <= a->capacity &&
    (\forall integer k; 0 <= k < a->capacity ==>
      0 <= a->order[k] < a->capacity && a->cells[a->order[k]].pos == k) &&
    (\forall integer i; 0 <= i < a->capacity ==>
      a->cells[i].pos < a->capacity && a->order[a->cells[i].pos] == i &&
      (vig_allocator_allocated(a, i) <==> a->cells[i].pos >= a->capacity - a->count));

  // Members of the list: allocated indexes other than x (x = -1: all of them).
  predicate vig_allocator_member{L}(struct vig_allocator *a, integer x, integer i) =
    vig_allocator_allocated(a, i) && i != x;

  // The list of members, oldest to newest, sorted by stamp (strictly) and by time. It is the
  // conjunction of five parts, named so that a proof can establish (and a prover look at) one at
  // a time.
  // Its ends: oldest and newest are the members with the smallest and the largest stamp.
  predicate vig_allocator_list_ends{L}(struct vig_allocator *a, integer x) =
    (a->oldest == -1 <==> a->newest == -1) &&
    (a->oldest == -1 ==> (\forall integer j; !vig_allocator_member(a, x, j))) &&
    (a->oldest != -1 ==>
      vig_allocator_member(a, x, a->oldest) && vig_allocator_member(a, x, a->newest) &&
      (\forall integer j; vig_allocator_member(a, x, j) ==>
        a->cells[a->oldest].stamp <= a->cells[j].stamp <= a->cells[a->newest].stamp));
  // Forward links: each member's next is the member with the next larger stamp (-1 at newest).
  // Stated member by member (vig_allocator_next_ok), so that a proof can take a member at a time;
  // vig_allocator_next_link (member nx has the next larger stamp after member i's) does not read
  // the links, so it carries over unchanged when a proof relinks the list.
  predicate vig_allocator_next_link{L}(struct vig_allocator *a, integer x, integer i, integer nx) =
    vig_allocator_member(a, x, nx) && a->cells[i].stamp < a->cells[nx].stamp &&
    (\forall integer j; vig_allocator_member(a, x, j) && a->cells[j].stamp > a->cells[i].stamp ==>
      a->cells[j].stamp >= a->cells[nx].stamp);
  predicate vig_allocator_next_ok{L}(struct vig_allocator *a, integer x, integer i) =
    (a->cells[i].next == -1 <==> i == a->newest) &&
    (a->cells[i].next != -1 ==> vig_allocator_next_link(a, x, i, a->cells[i].next));
  predicate vig_allocator_list_next{L}(struct vig_allocator *a, integer x) =
    \forall integer i; vig_allocator_member(a, x, i) ==> vig_allocator_next_ok(a, x, i);
  // Backward links: each member's prev is the member with the next smaller stamp (-1 at oldest).
  predicate vig_allocator_prev_link{L}(struct vig_allocator *a, integer x, integer i, integer pv) =
    vig_allocator_member(a, x, pv) && a->cells[pv].stamp < a->cells[i].stamp &&
    (\forall integer j; vig_allocator_member(a, x, j) && a->cells[j].stamp < a->cells[i].stamp ==>
      a->cells[j].stamp <= a->cells[pv].stamp);
  predicate vig_allocator_prev_ok{L}(struct vig_allocator *a, integer x, integer i) =
    (a->cells[i].prev == -1 <==> i == a->oldest) &&
    (a->cells[i].prev != -1 ==> vig_allocator_prev_link(a, x, i, a->cells[i].prev));
  predicate vig_allocator_list_prev{L}(struct vig_allocator *a, integer x) =
    \forall integer i; vig_allocator_member(a, x, i) ==> vig_allocator_prev_ok(a, x, i);
  // Stamps are distinct, and a later stamp has a time that is not earlier.
  predicate vig_allocator_list_stamps{L}(struct vig_allocator *a, integer x) =
    \forall integer i, j; vig_allocator_member(a, x, i) && vig_allocator_member(a, x, j) ==>
      (i != j ==> a->cells[i].stamp != a->cells[j].stamp) &&
      (a->cells[i].stamp < a->cells[j].stamp ==> a->cells[i].time <= a->cells[j].time);
  // The counter is above every stamp.
  predicate vig_allocator_list_clock{L}(struct vig_allocator *a, integer x) =
    0 <= a->clock &&
    (\forall integer i; vig_allocator_member(a, x, i) ==> a->cells[i].stamp < a->clock);
  predicate vig_allocator_list{L}(struct vig_allocator *a, integer x) =
    vig_allocator_list_ends(a, x) && vig_allocator_list_next(a, x) &&
    vig_allocator_list_prev(a, x) && vig_allocator_list_stamps(a, x) &&
    vig_allocator_list_clock(a, x);

  // The counter has room for one more stamp. allocate and refresh each take a stamp, so this
  // precondition is the API's explicit assumption that an allocator serves fewer than 2^63 - 1
  // allocate + refresh calls in its life (292 years at 10^9 calls per second).
  predicate vig_allocator_can_stamp{L}(struct vig_allocator *a) = a->clock < 0x7FFFFFFFFFFFFFFF;

  // The representation invariant.
  predicate vig_allocator_inv{L}(struct vig_allocator *a) =
    vig_allocator_valid(a) && vig_allocator_perm(a) && vig_allocator_list(a, -1);

  // For callers that change other memory: every location of the allocator's state is the same
  // at L1 and L2, so its invariant carries over (the lemma is proven once). In an axiomatic block
  // so that WP gives the lemma only to the goals that use vig_allocator_unchanged.
  axiomatic vig_allocator_framing {
    predicate vig_allocator_unchanged{L1, L2}(struct vig_allocator *a) =
      \at(a->capacity, L1) == \at(a->capacity, L2) && \at(a->count, L1) == \at(a->count, L2) &&
      \at(a->oldest, L1) == \at(a->oldest, L2) && \at(a->newest, L1) == \at(a->newest, L2) &&
      \at(a->clock, L1) == \at(a->clock, L2) &&
      \at(a->cells, L1) == \at(a->cells, L2) && \at(a->order, L1) == \at(a->order, L2) &&
      (\forall integer i; 0 <= i < \at(a->capacity, L1) ==>
        \at(a->cells[i].time, L1) == \at(a->cells[i].time, L2) &&
        \at(a->cells[i].stamp, L1) == \at(a->cells[i].stamp, L2) &&
        \at(a->cells[i].prev, L1) == \at(a->cells[i].prev, L2) &&
        \at(a->cells[i].next, L1) == \at(a->cells[i].next, L2) &&
        \at(a->cells[i].pos, L1) == \at(a->cells[i].pos, L2) &&
        \at(a->cells[i].allocated, L1) == \at(a->cells[i].allocated, L2) &&
        \at(a->order[i], L1) == \at(a->order[i], L2));

    lemma vig_allocator_inv_unchanged{L1, L2}:
      \forall struct vig_allocator *a;
        vig_allocator_inv{L1}(a) && vig_allocator_unchanged{L1, L2}(a) &&
        vig_allocator_valid{L2}(a) ==>
        vig_allocator_inv{L2}(a);
  }

  // No stored time is later than now (callers never go back in time).
  predicate vig_allocator_times_le{L}(struct vig_allocator *a, integer now) =
    \forall integer j; vig_allocator_allocated(a, j) ==> vig_allocator_time(a, j) <= now;

  // Between L1 and L2, indexes other than i kept their state, time and stamp.
  predicate vig_allocator_same_except{L1, L2}(struct vig_allocator *a, integer i) =
    \at(a->capacity, L1) == \at(a->capacity, L2) &&
    \forall integer j; 0 <= j < \at(a->capacity, L1) && j != i ==>
      (vig_allocator_allocated{L1}(a, j) <==> vig_allocator_allocated{L2}(a, j)) &&
      (vig_allocator_allocated{L1}(a, j) ==>
        \at(a->cells[j].time, L1) == \at(a->cells[j].time, L2) &&
        \at(a->cells[j].stamp, L1) == \at(a->cells[j].stamp, L2));

  // The free stack's first n entries are the same at L1 and L2.
  predicate vig_allocator_stack_same{L1, L2}(struct vig_allocator *a, integer n) =
    \forall integer k; 0 <= k < n ==> \at(a->order[k], L1) == \at(a->order[k], L2);
*/

/* An allocator of `capacity` indexes, all free; NULL when capacity is 0 or above
 * VIG_ALLOCATOR_MAX_CAPACITY, or memory is short. */
/*@ assigns \result \from capacity;
    ensures \result == \null ||
      (vig_allocator_inv(\result) && \result->capacity == capacity && \result->count == 0 &&
       (\forall integer k; 0 <= k < capacity ==> \result->order[k] == capacity - 1 - k));
*/
struct vig_allocator *vig_allocator_alloc(uint32_t capacity);

/* Allocates the index on top of the free stack with time `now`; false iff every index is taken. */
/*@ requires vig_allocator_inv(a) && vig_allocator_times_le(a, now);
    requires vig_allocator_can_stamp(a);
    requires \valid(index_out);
    requires \separated(index_out, a, a->cells + (0 .. a->capacity - 1),
                        a->order + (0 .. a->capacity - 1));
    assigns a->count, a->clock, a->oldest, a->newest, *index_out, a->cells[0 .. a->capacity - 1];
    ensures vig_allocator_inv(a);
    behavior full:
      assumes a->count == a->capacity;
      ensures !\result && a->count == \old(a->count);
      ensures vig_allocator_same_except{Old, Here}(a, -1);
    behavior not_full:
      assumes a->count < a->capacity;
      ensures \result && *index_out == \old(vig_allocator_next_free(a));
      ensures !\old(vig_allocator_allocated(a, vig_allocator_next_free(a)));
      ensures vig_allocator_allocated(a, *index_out) && vig_allocator_time(a, *index_out) == now;
      ensures \forall integer j; vig_allocator_allocated(a, j) && j != *index_out ==>
        vig_allocator_stamp(a, j) < vig_allocator_stamp(a, *index_out);
      ensures vig_allocator_same_except{Old, Here}(a, *index_out);
      ensures a->count == \old(a->count) + 1;
      ensures vig_allocator_stack_same{Old, Here}(a, vig_allocator_free_count(a));
    complete behaviors;
    disjoint behaviors;
*/
bool vig_allocator_allocate(struct vig_allocator *a, uint64_t now, uint32_t *index_out);

/* Sets the time of allocated `index` to `now` and makes it the newest. */
/*@ requires vig_allocator_inv(a) && vig_allocator_times_le(a, now);
    requires vig_allocator_can_stamp(a);
    requires vig_allocator_allocated(a, index);
    assigns a->clock, a->oldest, a->newest, a->cells[0 .. a->capacity - 1];
    ensures vig_allocator_inv(a);
    ensures vig_allocator_allocated(a, index) && vig_allocator_time(a, index) == now;
    ensures \forall integer j; vig_allocator_allocated(a, j) && j != index ==>
      vig_allocator_stamp(a, j) < vig_allocator_stamp(a, index);
    ensures vig_allocator_same_except{Old, Here}(a, index);
    ensures a->count == \old(a->count);
*/
void vig_allocator_refresh(struct vig_allocator *a, uint32_t index, uint64_t now);

/* Whether `index` is allocated (false when index >= capacity). */
/*@ requires vig_allocator_inv(a);
    assigns \nothing;
    ensures \result <==> vig_allocator_allocated(a, index);
*/
bool vig_allocator_is_allocated(const struct vig_allocator *a, uint32_t index);

/* Frees allocated `index`: it goes on top of the free stack. */
/*@ requires vig_allocator_inv(a);
    requires vig_allocator_allocated(a, index);
    assigns a->count, a->oldest, a->newest, a->order[0 .. a->capacity - 1],
      a->cells[0 .. a->capacity - 1];
    ensures vig_allocator_inv(a);
    ensures !vig_allocator_allocated(a, index);
    ensures vig_allocator_same_except{Old, Here}(a, index);
    ensures a->count == \old(a->count) - 1;
    ensures vig_allocator_next_free(a) == index;
    ensures vig_allocator_stack_same{Old, Here}(a, \old(vig_allocator_free_count(a)));
*/
void vig_allocator_free(struct vig_allocator *a, uint32_t index);

/* Whether the least recently refreshed allocated index has now - its time > expiration; if so,
 * stores it in *index_out. Changes nothing else. */
/*@ requires vig_allocator_inv(a) && vig_allocator_times_le(a, now);
    requires \valid(index_out);
    requires \separated(index_out, a, a->cells + (0 .. a->capacity - 1),
                        a->order + (0 .. a->capacity - 1));
    assigns *index_out;
    behavior expired:
      assumes a->count > 0 && now - vig_allocator_time(a, a->oldest) > expiration;
      ensures \result && *index_out == a->oldest && vig_allocator_allocated(a, *index_out);
      ensures now - vig_allocator_time(a, *index_out) > expiration;
      ensures \forall integer j; vig_allocator_allocated(a, j) ==>
        vig_allocator_stamp(a, *index_out) <= vig_allocator_stamp(a, j) &&
        vig_allocator_time(a, *index_out) <= vig_allocator_time(a, j);
    behavior fresh:
      assumes a->count == 0 || now - vig_allocator_time(a, a->oldest) <= expiration;
      ensures !\result;
      ensures \forall integer j; vig_allocator_allocated(a, j) ==>
        now - vig_allocator_time(a, j) <= expiration;
    complete behaviors;
    disjoint behaviors;
*/
bool vig_allocator_oldest_expired(const struct vig_allocator *a, uint64_t now, uint64_t expiration,
                                  uint32_t *index_out);

/* Frees the least recently refreshed allocated index if now - its time > expiration and returns
 * true with it in *index_out; otherwise changes nothing and returns false. */
/*@ requires vig_allocator_inv(a) && vig_allocator_times_le(a, now);
    requires \valid(index_out);
    requires \separated(index_out, a, a->cells + (0 .. a->capacity - 1),
                        a->order + (0 .. a->capacity - 1));
    assigns a->count, a->oldest, a->newest, a->order[0 .. a->capacity - 1], *index_out,
      a->cells[0 .. a->capacity - 1];
    ensures vig_allocator_inv(a);
    behavior expire:
      assumes a->count > 0 && now - vig_allocator_time(a, a->oldest) > expiration;
      ensures \result && *index_out == \old(a->oldest);
      ensures \forall integer j; \old(vig_allocator_allocated(a, j)) ==>
        \old(vig_allocator_stamp(a, a->oldest)) <= \old(vig_allocator_stamp(a, j)) &&
        \old(vig_allocator_time(a, a->oldest)) <= \old(vig_allocator_time(a, j));
      ensures !vig_allocator_allocated(a, *index_out);
      ensures vig_allocator_same_except{Old, Here}(a, *index_out);
      ensures a->count == \old(a->count) - 1;
      ensures vig_allocator_next_free(a) == *index_out;
      ensures vig_allocator_stack_same{Old, Here}(a, \old(vig_allocator_free_count(a)));
    behavior keep:
      assumes a->count == 0 || now - vig_allocator_time(a, a->oldest) <= expiration;
      ensures !\result && a->count == \old(a->count);
      ensures vig_allocator_same_except{Old, Here}(a, -1);
      ensures vig_allocator_stack_same{Old, Here}(a, vig_allocator_free_count(a));
      ensures \forall integer j; vig_allocator_allocated(a, j) ==>
        now - vig_allocator_time(a, j) <= expiration;
    complete behaviors;
    disjoint behaviors;
*/
bool vig_allocator_expire_one(struct vig_allocator *a, uint64_t now, uint64_t expiration,
                              uint32_t *index_out);

/* Number of allocated indexes. */
/*@ requires vig_allocator_inv(a);
    assigns \nothing;
    ensures \result == a->count;
*/
uint32_t vig_allocator_count(const struct vig_allocator *a);

#endif
