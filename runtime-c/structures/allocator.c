#include "allocator.h"
#include "bulk_alloc.h"

#include <stdlib.h>

/* A C label for ACSL's \at(e, L), seen only by Frama-C (compilers would warn: unused label). */
#ifdef __FRAMAC__
#define PROOF_LABEL(l)                                                                             \
  l:;
#else
#define PROOF_LABEL(l)
#endif

/*@ requires \valid(a) && 1 <= capacity <= VIG_ALLOCATOR_MAX_CAPACITY;
    requires \valid(cells + (0 .. capacity - 1)) && \valid(order + (0 .. capacity - 1));
    requires \separated(a, cells + (0 .. capacity - 1), order + (0 .. capacity - 1));
    assigns *a, cells[0 .. capacity - 1], order[0 .. capacity - 1];
    ensures vig_allocator_inv(a) && a->capacity == capacity && a->count == 0;
    ensures \forall integer k; 0 <= k < capacity ==> a->order[k] == capacity - 1 - k;
*/
static void allocator_init(struct vig_allocator *a, uint32_t capacity,
                           struct vig_allocator_cell *cells, uint32_t *order) {
  a->capacity = capacity;
  a->count = 0;
  a->oldest = -1;
  a->newest = -1;
  a->clock = 0;
  a->cells = cells;
  a->order = order;
  /*@ loop invariant 0 <= k <= capacity;
      loop invariant \forall integer j; 0 <= j < k ==> order[j] == capacity - 1 - j;
      loop invariant \forall integer i; capacity - k <= i < capacity ==>
        cells[i].pos == capacity - 1 - i && cells[i].allocated == 0;
      loop assigns k, cells[0 .. capacity - 1], order[0 .. capacity - 1];
      loop variant capacity - k;
  */
  for (uint32_t k = 0; k < capacity; k++) {
    uint32_t i = capacity - 1 - k;
    order[k] = i;
    cells[i].pos = k;
    cells[i].allocated = 0;
    cells[i].prev = -1;
    cells[i].next = -1;
    cells[i].time = 0;
    cells[i].stamp = 0;
  }
  /*@ assert a->capacity == capacity && a->count == 0 && a->oldest == -1 && a->newest == -1; */
  /*@ assert a->cells == cells && a->order == order && a->clock == 0; */
  /*@ assert vig_allocator_valid(a); */
  /*@ assert \forall integer i; !vig_allocator_allocated(a, i); */
  /*@ assert \forall integer k; 0 <= k < capacity ==>
        0 <= a->order[k] < a->capacity && a->cells[a->order[k]].pos == k; */
  /*@ assert \forall integer i; 0 <= i < capacity ==>
        a->cells[i].pos < a->capacity && a->order[a->cells[i].pos] == i; */
  /*@ assert vig_allocator_perm(a); */
  /*@ assert vig_allocator_list_ends(a, -1) && vig_allocator_list_next(a, -1); */
  /*@ assert vig_allocator_list_prev(a, -1) && vig_allocator_list_stamps(a, -1); */
  /*@ assert vig_allocator_list_clock(a, -1); */
}

struct vig_allocator *vig_allocator_alloc(uint32_t capacity) {
  if (capacity == 0 || capacity > VIG_ALLOCATOR_MAX_CAPACITY) {
    return NULL;
  }
  struct vig_allocator *a = malloc(sizeof(struct vig_allocator));
  struct vig_allocator_cell *cells = vig_bulk_calloc(capacity, sizeof(struct vig_allocator_cell));
  uint32_t *order = vig_bulk_calloc(capacity, sizeof(uint32_t));
  if (a == NULL || cells == NULL || order == NULL) {
    free(a);
    vig_bulk_free(cells, capacity, sizeof(struct vig_allocator_cell));
    vig_bulk_free(order, capacity, sizeof(uint32_t));
    return NULL;
  }
  allocator_init(a, capacity, cells, order);
  return a;
}

/* Facts of the list used by list_unlink, proven once from the list's parts: links go both ways.
 * In an axiomatic block so that WP gives them only to the goals that use vig_allocator_linked. */
/*@ axiomatic vig_allocator_links {
      predicate vig_allocator_linked{L}(struct vig_allocator *a, integer x) =
        vig_allocator_list_ends(a, x) && vig_allocator_list_next(a, x) &&
        vig_allocator_list_prev(a, x) && vig_allocator_list_stamps(a, x);

      lemma vig_allocator_prev_next{L}:
        \forall struct vig_allocator *a, integer x, i;
          vig_allocator_linked(a, x) && vig_allocator_member(a, x, i) && a->cells[i].prev != -1 ==>
          a->cells[a->cells[i].prev].next == i;
      lemma vig_allocator_next_prev{L}:
        \forall struct vig_allocator *a, integer x, i;
          vig_allocator_linked(a, x) && vig_allocator_member(a, x, i) && a->cells[i].next != -1 ==>
          a->cells[a->cells[i].next].prev == i;
    }
*/

/* The list carries over between two states where the members (allocated indexes other than x1
 * at L1, other than x2 at L2) are the same and kept their cells, with the ends unchanged and the
 * counter not smaller: one lemma, proven once, instead of re-proving the list in each function
 * that changes flags, times or the counter. */
/*@ axiomatic vig_allocator_list_framing {
      predicate vig_allocator_list_moved{L1, L2}(struct vig_allocator *a, integer x1, integer x2) =
        \at(a->capacity, L1) == \at(a->capacity, L2) && \at(a->cells, L1) == \at(a->cells, L2) &&
        \at(a->oldest, L1) == \at(a->oldest, L2) && \at(a->newest, L1) == \at(a->newest, L2) &&
        \at(a->clock, L1) <= \at(a->clock, L2) &&
        (\forall integer j; vig_allocator_member{L1}(a, x1, j) <==>
          vig_allocator_member{L2}(a, x2, j)) &&
        (\forall integer j; vig_allocator_member{L1}(a, x1, j) ==>
          \at(a->cells[j].time, L1) == \at(a->cells[j].time, L2) &&
          \at(a->cells[j].stamp, L1) == \at(a->cells[j].stamp, L2) &&
          \at(a->cells[j].prev, L1) == \at(a->cells[j].prev, L2) &&
          \at(a->cells[j].next, L1) == \at(a->cells[j].next, L2));

      lemma vig_allocator_list_moves{L1, L2}:
        \forall struct vig_allocator *a, integer x1, x2;
          vig_allocator_list{L1}(a, x1) && vig_allocator_list_moved{L1, L2}(a, x1, x2) ==>
          vig_allocator_list{L2}(a, x2);
    }
*/

/* Takes allocated index i out of the list (its cell still says allocated).
 * Like the other helpers below, its assigns clause names the cell fields it may write one by one
 * (i's own where a neighbour is -1), not ranges of fields: the public functions' clauses name whole
 * cells (allocator.h), and WP's provers show a field of one cell inside them, but did not show a
 * range of fields inside them (its encoding needs an existential witness the provers never tried).
 */
/*@ requires vig_allocator_valid(a) && vig_allocator_list(a, -1) && vig_allocator_allocated(a, i);
    assigns a->oldest, a->newest,
      a->cells[a->cells[i].prev == -1 ? i : a->cells[i].prev].next,
      a->cells[a->cells[i].next == -1 ? i : a->cells[i].next].prev;
    ensures vig_allocator_list(a, i);
*/
static void list_unlink(struct vig_allocator *a, uint32_t i) {
  int32_t p = a->cells[i].prev;
  int32_t n = a->cells[i].next;
  /*@ assert vig_allocator_linked(a, -1); */
  /*@ assert vig_allocator_next_ok(a, -1, i) && vig_allocator_prev_ok(a, -1, i); */
  /*@ assert p == -1 <==> i == a->oldest; */
  /*@ assert n == -1 <==> i == a->newest; */
  /*@ assert p != -1 ==> vig_allocator_member(a, -1, p) && p != i && a->cells[p].next == i; */
  /*@ assert n != -1 ==> vig_allocator_member(a, -1, n) && n != i && a->cells[n].prev == i; */
  /*@ assert p != -1 ==> vig_allocator_next_ok(a, -1, p) && p != a->newest; */
  /*@ assert n != -1 ==> vig_allocator_prev_ok(a, -1, n) && n != a->oldest; */
  /*@ assert p != -1 ==> a->cells[p].stamp < a->cells[i].stamp; */
  /*@ assert n != -1 ==> a->cells[i].stamp < a->cells[n].stamp; */
  /*@ assert p != -1 && n != -1 ==> p != n; */
  /* The members whose link points at i are p and n. */
  /*@ assert \forall integer k; vig_allocator_member(a, -1, k) && a->cells[k].next == i ==>
        k == p; */
  /*@ assert \forall integer k; vig_allocator_member(a, -1, k) && a->cells[k].prev == i ==>
        k == n; */
  /* No member's stamp lies strictly between p's and i's, or i's and n's. */
  /*@ assert p != -1 ==> \forall integer j; vig_allocator_member(a, i, j) &&
        a->cells[j].stamp > a->cells[p].stamp ==> a->cells[j].stamp > a->cells[i].stamp; */
  /*@ assert n != -1 ==> \forall integer j; vig_allocator_member(a, i, j) &&
        a->cells[j].stamp < a->cells[n].stamp ==> a->cells[j].stamp < a->cells[i].stamp; */
  /*@ assert vig_allocator_list_stamps(a, i) && vig_allocator_list_clock(a, i); */
  /* The links the list without i needs, stated without reading the links (which change). */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) && k != p && a->cells[k].next != -1 ==>
        vig_allocator_next_link(a, i, k, a->cells[k].next); */
  /*@ assert p != -1 && n != -1 ==> vig_allocator_next_link(a, i, p, n); */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) && k != n && a->cells[k].prev != -1 ==>
        vig_allocator_prev_link(a, i, k, a->cells[k].prev); */
  /*@ assert p != -1 && n != -1 ==> vig_allocator_prev_link(a, i, n, p); */
  if (p == -1) {
    a->oldest = n;
  } else {
    a->cells[p].next = n;
  }
  if (n == -1) {
    a->newest = p;
  } else {
    a->cells[n].prev = p;
  }
  /* Only links changed (int32_t): members, stamps, times and the counter are the same. */
  /*@ assert \forall integer k; 0 <= k < a->capacity && k != p ==>
        a->cells[k].next == \at(a->cells[k].next, Pre); */
  /*@ assert \forall integer k; 0 <= k < a->capacity && k != n ==>
        a->cells[k].prev == \at(a->cells[k].prev, Pre); */
  /*@ assert p != -1 ==> a->cells[p].next == n; */
  /*@ assert n != -1 ==> a->cells[n].prev == p; */
  /*@ assert a->oldest == (p == -1 ? n : \at(a->oldest, Pre)); */
  /*@ assert a->newest == (n == -1 ? p : \at(a->newest, Pre)); */
  /*@ assert vig_allocator_list_ends(a, i); */
  /* Forward links: p's now goes to n, the others are unchanged and never went to i. */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) && k != p ==>
        a->cells[k].next == \at(a->cells[k].next, Pre) && a->cells[k].next != i; */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) && k != p ==>
        (a->cells[k].next == -1 <==> k == a->newest); */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) && k != p ==>
        vig_allocator_next_ok(a, i, k); */
  /*@ assert p != -1 ==> vig_allocator_next_ok(a, i, p); */
  /*@ assert vig_allocator_list_next(a, i); */
  /* Backward links: n's now goes to p, the others are unchanged and never went to i. */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) && k != n ==>
        a->cells[k].prev == \at(a->cells[k].prev, Pre) && a->cells[k].prev != i; */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) && k != n ==>
        (a->cells[k].prev == -1 <==> k == a->oldest); */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) && k != n ==>
        vig_allocator_prev_ok(a, i, k); */
  /*@ assert n != -1 ==> vig_allocator_prev_ok(a, i, n); */
  /*@ assert vig_allocator_list_prev(a, i); */
  /*@ assert vig_allocator_list_stamps(a, i) && vig_allocator_list_clock(a, i); */
}

/* Appends allocated index i (not in the list; its stamp and time the largest) as the newest, after
 * the current newest: the list without i is not empty (list_start is the other case). The two
 * cases are two functions so that each assigns clause names its cells without a conditional: a
 * caller's provers showed the clause's cell a->cells[a->newest == -1 ? i : a->newest] inside the
 * caller's whole-cell clause in allocate but not in refresh (3,000,000 steps). */
/*@ requires vig_allocator_valid(a) && vig_allocator_list(a, i) && vig_allocator_allocated(a, i);
    requires a->newest != -1;
    requires a->cells[i].stamp < a->clock;
    requires \forall integer j; vig_allocator_member(a, i, j) ==>
      a->cells[j].stamp < a->cells[i].stamp && a->cells[j].time <= a->cells[i].time;
    assigns a->newest, a->cells[i].prev, a->cells[i].next, a->cells[a->newest].next;
    ensures vig_allocator_list(a, -1);
*/
static void list_append(struct vig_allocator *a, uint32_t i) {
  int32_t last = a->newest;
  /* Stamps and times do not change here (only links do): i's are the largest. */
  /*@ assert vig_allocator_list_stamps(a, -1) && vig_allocator_list_clock(a, -1); */
  /*@ assert vig_allocator_member(a, i, last) && last != i && a->cells[last].next == -1; */
  /*@ assert \forall integer j; vig_allocator_member(a, i, j) ==>
        a->cells[j].stamp <= a->cells[a->newest].stamp; */
  a->cells[i].prev = last;
  a->cells[i].next = -1;
  a->cells[last].next = (int32_t)i;
  a->newest = (int32_t)i;
  /*@ assert \forall integer k; 0 <= k < a->capacity && k != i && k != last ==>
        a->cells[k].next == \at(a->cells[k].next, Pre); */
  /*@ assert \forall integer k; 0 <= k < a->capacity && k != i ==>
        a->cells[k].prev == \at(a->cells[k].prev, Pre); */
  /*@ assert a->cells[i].prev == last && a->cells[i].next == -1; */
  /*@ assert a->cells[last].next == i; */
  /*@ assert a->oldest == \at(a->oldest, Pre) && a->newest == i; */
  /*@ assert vig_allocator_list_ends(a, -1); */
  /* Forward links: last's goes to i, i's is -1, the others are unchanged. */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) ==>
        vig_allocator_next_ok{Pre}(a, i, k); */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) && k != last ==>
        vig_allocator_next_ok(a, -1, k); */
  /*@ assert vig_allocator_next_ok(a, -1, last) && vig_allocator_next_ok(a, -1, i); */
  /*@ assert vig_allocator_list_next(a, -1); */
  /* Backward links: i's goes to last, the others are unchanged (i's stamp is above theirs). */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) ==>
        vig_allocator_prev_ok{Pre}(a, i, k); */
  /*@ assert \forall integer k; vig_allocator_member(a, i, k) ==>
        vig_allocator_prev_ok(a, -1, k); */
  /*@ assert vig_allocator_prev_ok(a, -1, i); */
  /*@ assert vig_allocator_list_prev(a, -1); */
  /*@ assert vig_allocator_list_stamps(a, -1); */
  /*@ assert vig_allocator_list_clock(a, -1); */
}

/* Makes allocated index i (not in the list, which is empty) the list's only member. */
/*@ requires vig_allocator_valid(a) && vig_allocator_list(a, i) && vig_allocator_allocated(a, i);
    requires a->newest == -1;
    requires a->cells[i].stamp < a->clock;
    assigns a->oldest, a->newest, a->cells[i].prev, a->cells[i].next;
    ensures vig_allocator_list(a, -1);
*/
static void list_start(struct vig_allocator *a, uint32_t i) {
  /*@ assert \forall integer j; vig_allocator_member(a, -1, j) ==> j == i; */
  a->cells[i].prev = -1;
  a->cells[i].next = -1;
  a->oldest = (int32_t)i;
  a->newest = (int32_t)i;
  /*@ assert \forall integer j; vig_allocator_member(a, -1, j) ==> j == i; */
  /*@ assert vig_allocator_list_ends(a, -1); */
  /*@ assert vig_allocator_list_next(a, -1) && vig_allocator_list_prev(a, -1); */
  /*@ assert vig_allocator_list_stamps(a, -1) && vig_allocator_list_clock(a, -1); */
}

/* Records that allocated index i was refreshed at `now`, as the newest. */
/*@ requires vig_allocator_valid(a) && vig_allocator_list(a, i) && vig_allocator_allocated(a, i);
    requires \forall integer j; vig_allocator_member(a, i, j) ==> a->cells[j].time <= now;
    requires vig_allocator_can_stamp(a);
    assigns a->clock, a->cells[i].time, a->cells[i].stamp;
    ensures vig_allocator_list(a, i) && a->clock == \old(a->clock) + 1;
    ensures a->cells[i].time == now && a->cells[i].stamp == \old(a->clock);
    ensures a->cells[i].stamp < a->clock;
    ensures \forall integer j; vig_allocator_member(a, i, j) ==>
      a->cells[j].stamp < a->cells[i].stamp && a->cells[j].time <= a->cells[i].time;
*/
static void stamp_now(struct vig_allocator *a, uint32_t i, uint64_t now) {
  a->cells[i].time = now;
  a->cells[i].stamp = a->clock;
  a->clock = a->clock + 1;
  /*@ assert \forall integer j; 0 <= j < a->capacity && j != i ==>
        a->cells[j].stamp == \at(a->cells[j].stamp, Pre) &&
        a->cells[j].time == \at(a->cells[j].time, Pre); */
  /*@ assert vig_allocator_list_moved{Pre, Here}(a, i, i); */
}

/* Marks the index on top of the free stack allocated (it is not in the list yet). */
/*@ requires vig_allocator_valid(a) && vig_allocator_perm(a) && vig_allocator_list(a, -1);
    requires a->count < a->capacity;
    assigns a->count, a->cells[a->order[a->capacity - a->count - 1]].allocated;
    ensures \result == \old(vig_allocator_next_free(a)) && 0 <= \result < a->capacity;
    ensures !\old(vig_allocator_allocated(a, \result)) && vig_allocator_allocated(a, \result);
    ensures a->count == \old(a->count) + 1;
    ensures vig_allocator_perm(a) && vig_allocator_list(a, \result);
    ensures \forall integer j; 0 <= j < a->capacity && j != \result ==>
      a->cells[j].allocated == \old(a->cells[j].allocated);
*/
static uint32_t take_free(struct vig_allocator *a) {
  uint32_t i = a->order[a->capacity - a->count - 1];
  /*@ assert 0 <= i < a->capacity && !vig_allocator_allocated(a, i); */
  a->count = a->count + 1;
  a->cells[i].allocated = 1;
  /*@ assert \forall integer j; 0 <= j < a->capacity && j != i ==>
        a->cells[j].allocated == \at(a->cells[j].allocated, Pre); */
  /*@ assert \forall integer j; vig_allocator_member(a, i, j) <==>
        \at(vig_allocator_member(a, -1, j), Pre); */
  /*@ assert vig_allocator_perm(a); */
  /*@ assert vig_allocator_list_moved{Pre, Here}(a, -1, i); */
  return i;
}

bool vig_allocator_allocate(struct vig_allocator *a, uint64_t now, uint32_t *index_out) {
  if (a->count == a->capacity) {
    return false;
  }
  uint32_t i = take_free(a);
  stamp_now(a, i, now);
  if (a->newest == -1) {
    list_start(a, i);
  } else {
    list_append(a, i);
  }
  /*@ assert vig_allocator_inv(a); */
  PROOF_LABEL(Before);
  /* index_out is a uint32_t like the positions: the state is the same location by location, so the
   * invariant carries over (vig_allocator_inv_unchanged). */
  *index_out = i;
  /*@ assert vig_allocator_unchanged{Before, Here}(a); */
  return true;
}

void vig_allocator_refresh(struct vig_allocator *a, uint32_t index, uint64_t now) {
  /* The links list_unlink rewrites are cells of the allocator (for its assigns clause). */
  /*@ assert vig_allocator_prev_ok(a, -1, index) && vig_allocator_next_ok(a, -1, index); */
  /*@ assert a->cells[index].prev == -1 || 0 <= a->cells[index].prev < a->capacity; */
  /*@ assert a->cells[index].next == -1 || 0 <= a->cells[index].next < a->capacity; */
  list_unlink(a, index);
  stamp_now(a, index, now);
  /*@ assert a->newest == -1 || 0 <= a->newest < a->capacity; */
  if (a->newest == -1) {
    list_start(a, index);
  } else {
    /* Without this the provers did not show list_append's cell inside the assigns clause (the
     * cells of index are; 3,000,000 steps), with it they take 80,000. */
    /*@ assert \subset(&a->cells[a->newest], a->cells + (0 .. a->capacity - 1)); */
    list_append(a, index);
  }
}

bool vig_allocator_is_allocated(const struct vig_allocator *a, uint32_t index) {
  return index < a->capacity && a->cells[index].allocated != 0;
}

/* Moves allocated index i (out of the list) to the top of the free stack. */
/*@ requires vig_allocator_valid(a) && vig_allocator_perm(a) && vig_allocator_allocated(a, i);
    assigns a->count, a->order[0 .. a->capacity - 1],
      a->cells[a->order[a->capacity - a->count]].pos, a->cells[i].pos, a->cells[i].allocated;
    ensures vig_allocator_perm(a) && !vig_allocator_allocated(a, i);
    ensures a->count == \old(a->count) - 1;
    ensures \forall integer j; 0 <= j < a->capacity && j != i ==>
      a->cells[j].allocated == \old(a->cells[j].allocated);
    ensures vig_allocator_stack_same{Old, Here}(a, \old(vig_allocator_free_count(a)));
    ensures a->order[\old(vig_allocator_free_count(a))] == i;
*/
static void release(struct vig_allocator *a, uint32_t i) {
  uint32_t p = a->cells[i].pos;
  int64_t f = a->capacity - a->count;
  /*@ assert f <= p < a->capacity && a->order[p] == i; */
  uint32_t first = a->order[f];
  /*@ assert first < a->capacity && a->cells[first].pos == f; */
  /*@ assert first == i <==> p == f; */
  a->order[p] = first;
  a->cells[first].pos = p;
  a->order[f] = i;
  a->cells[i].pos = (uint32_t)f;
  a->cells[i].allocated = 0;
  a->count = a->count - 1;
  /*@ assert a->order[f] == i && a->cells[i].pos == f; */
  /*@ assert p != f ==> a->order[p] == first && a->cells[first].pos == p; */
  /*@ assert \forall integer k; 0 <= k < a->capacity && k != p && k != f ==>
        a->order[k] == \at(a->order[k], Pre); */
  /*@ assert \forall integer j; 0 <= j < a->capacity && j != i && j != first ==>
        a->cells[j].pos == \at(a->cells[j].pos, Pre) &&
        a->cells[j].allocated == \at(a->cells[j].allocated, Pre); */
}

void vig_allocator_free(struct vig_allocator *a, uint32_t index) {
  /* The links list_unlink rewrites are cells of the allocator (for its assigns clause). */
  /*@ assert vig_allocator_prev_ok(a, -1, index) && vig_allocator_next_ok(a, -1, index); */
  /*@ assert a->cells[index].prev == -1 || 0 <= a->cells[index].prev < a->capacity; */
  /*@ assert a->cells[index].next == -1 || 0 <= a->cells[index].next < a->capacity; */
  list_unlink(a, index);
  /*@ assert vig_allocator_valid(a) && vig_allocator_perm(a) && vig_allocator_allocated(a, index);
   */
  PROOF_LABEL(Unlinked);
  release(a, index);
  /* release changed only the free stack and index's flag: the list's members are the same. */
  /*@ assert \forall integer j; vig_allocator_member(a, -1, j) <==>
        \at(vig_allocator_member(a, index, j), Unlinked); */
  /*@ assert a->oldest == \at(a->oldest, Unlinked) && a->newest == \at(a->newest, Unlinked) &&
        a->clock == \at(a->clock, Unlinked); */
  /*@ assert vig_allocator_list_moved{Unlinked, Here}(a, index, -1); */
  /*@ assert vig_allocator_same_except{Pre, Here}(a, index); */
}

bool vig_allocator_oldest_expired(const struct vig_allocator *a, uint64_t now, uint64_t expiration,
                                  uint32_t *index_out) {
  if (a->count == 0) {
    return false;
  }
  /* The list is not empty: order[capacity - 1] is allocated. */
  /*@ assert 0 <= a->order[a->capacity - 1] < a->capacity &&
        vig_allocator_allocated(a, a->order[a->capacity - 1]); */
  /*@ assert a->oldest != -1; */
  int64_t i = a->oldest;
  /*@ assert 0 <= i < a->capacity && vig_allocator_allocated(a, i); */
  /*@ assert \forall integer j; vig_allocator_allocated(a, j) ==>
        a->cells[i].stamp <= a->cells[j].stamp; */
  /*@ assert \forall integer j; vig_allocator_allocated(a, j) ==>
        a->cells[i].time <= a->cells[j].time; */
  if (now - a->cells[i].time <= expiration) {
    return false;
  }
  *index_out = (uint32_t)i;
  return true;
}

bool vig_allocator_expire_one(struct vig_allocator *a, uint64_t now, uint64_t expiration,
                              uint32_t *index_out) {
  if (!vig_allocator_oldest_expired(a, now, expiration, index_out)) {
    return false;
  }
  PROOF_LABEL(Found);
  vig_allocator_free(a, *index_out);
  /*@ assert *index_out == \at(*index_out, Found); */
  return true;
}

uint32_t vig_allocator_count(const struct vig_allocator *a) { return (uint32_t)a->count; }
