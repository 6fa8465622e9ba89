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
      loop invariant \forall integer j; 0 <= j < k ==>
        order[j] == capacity - 1 - j && cells[capacity - 1 - j].pos == j &&
        cells[capacity - 1 - j].allocated == 0;
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
  /*@ assert \forall integer i; 0 <= i < capacity ==> !vig_allocator_allocated(a, i); */
  /*@ assert vig_allocator_perm(a); */
  /*@ assert vig_allocator_list(a, -1); */
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

/* Takes allocated index i out of the list (its cell still says allocated). */
/*@ requires vig_allocator_valid(a) && vig_allocator_list(a, -1) && vig_allocator_allocated(a, i);
    assigns a->oldest, a->newest, a->cells[0 .. a->capacity - 1].prev,
      a->cells[0 .. a->capacity - 1].next;
    ensures vig_allocator_list(a, i);
*/
static void list_unlink(struct vig_allocator *a, uint32_t i) {
  int32_t p = a->cells[i].prev;
  int32_t n = a->cells[i].next;
  /*@ assert p == -1 <==> i == a->oldest; */
  /*@ assert n == -1 <==> i == a->newest; */
  /*@ assert p != -1 ==> vig_allocator_allocated(a, p) && a->cells[p].next == i; */
  /*@ assert n != -1 ==> vig_allocator_allocated(a, n) && a->cells[n].prev == i; */
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
}

/* Appends allocated index i (not in the list; its stamp and time the largest) as the newest. */
/*@ requires vig_allocator_valid(a) && vig_allocator_list(a, i) && vig_allocator_allocated(a, i);
    requires a->cells[i].stamp < a->clock;
    requires \forall integer j; vig_allocator_member(a, i, j) ==>
      a->cells[j].stamp < a->cells[i].stamp && a->cells[j].time <= a->cells[i].time;
    assigns a->oldest, a->newest, a->cells[0 .. a->capacity - 1].prev,
      a->cells[0 .. a->capacity - 1].next;
    ensures vig_allocator_list(a, -1);
*/
static void list_append(struct vig_allocator *a, uint32_t i) {
  int64_t last = a->newest;
  a->cells[i].prev = (int32_t)last;
  a->cells[i].next = -1;
  if (last == -1) {
    a->oldest = i;
  } else {
    a->cells[last].next = (int32_t)i;
  }
  a->newest = i;
}

/* Records that allocated index i was refreshed at `now`, as the newest. */
/*@ requires vig_allocator_valid(a) && vig_allocator_list(a, i) && vig_allocator_allocated(a, i);
    requires \forall integer j; vig_allocator_member(a, i, j) ==> a->cells[j].time <= now;
    requires a->clock < 0x7FFFFFFFFFFFFFFF;
    assigns a->clock, a->cells[i].time, a->cells[i].stamp;
    ensures vig_allocator_list(a, i) && a->clock == \old(a->clock) + 1;
    ensures a->cells[i].time == now && a->cells[i].stamp == \old(a->clock) && a->cells[i].stamp <
   a->clock; ensures \forall integer j; vig_allocator_member(a, i, j) ==> a->cells[j].stamp <
   a->cells[i].stamp && a->cells[j].time <= a->cells[i].time;
*/
static void stamp_now(struct vig_allocator *a, uint32_t i, uint64_t now) {
  a->cells[i].time = now;
  a->cells[i].stamp = (uint64_t)a->clock;
  a->clock = a->clock + 1;
}

bool vig_allocator_allocate(struct vig_allocator *a, uint64_t now, uint32_t *index_out) {
  if (a->count == a->capacity) {
    return false;
  }
  uint32_t i = a->order[a->capacity - a->count - 1];
  /*@ assert 0 <= i < a->capacity && !vig_allocator_allocated(a, i); */
  a->count = a->count + 1;
  a->cells[i].allocated = 1;
  /*@ assert vig_allocator_perm(a); */
  /*@ assert vig_allocator_list(a, i); */
  stamp_now(a, i, now);
  list_append(a, i);
  PROOF_LABEL(Before);
  *index_out = i;
  /*@ assert a->count == \at(a->count, Before) && a->capacity == \at(a->capacity, Before); */
  /*@ assert vig_allocator_perm(a); */
  return true;
}

void vig_allocator_refresh(struct vig_allocator *a, uint32_t index, uint64_t now) {
  list_unlink(a, index);
  stamp_now(a, index, now);
  list_append(a, index);
}

bool vig_allocator_is_allocated(const struct vig_allocator *a, uint32_t index) {
  return index < a->capacity && a->cells[index].allocated != 0;
}

/* Moves allocated index i (out of the list) to the top of the free stack. */
/*@ requires vig_allocator_valid(a) && vig_allocator_perm(a) && vig_allocator_allocated(a, i);
    assigns a->count, a->order[0 .. a->capacity - 1], a->cells[0 .. a->capacity - 1].pos,
      a->cells[i].allocated;
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
  list_unlink(a, index);
  release(a, index);
  /*@ assert vig_allocator_list(a, -1); */
}

bool vig_allocator_expire_one(struct vig_allocator *a, uint64_t now, uint64_t expiration,
                              uint32_t *index_out) {
  if (a->count == 0) {
    return false;
  }
  int64_t i = a->oldest;
  /*@ assert 0 <= i < a->capacity && vig_allocator_allocated(a, i); */
  /*@ assert \forall integer j; vig_allocator_allocated(a, j) ==>
        a->cells[i].stamp <= a->cells[j].stamp && a->cells[i].time <= a->cells[j].time; */
  if (now - a->cells[i].time <= expiration) {
    return false;
  }
  vig_allocator_free(a, (uint32_t)i);
  PROOF_LABEL(Before);
  *index_out = (uint32_t)i;
  /*@ assert a->count == \at(a->count, Before) && a->capacity == \at(a->capacity, Before); */
  /*@ assert a->order[a->capacity - a->count - 1] ==
        \at(a->order[a->capacity - a->count - 1], Before); */
  /*@ assert vig_allocator_perm(a); */
  return true;
}

uint32_t vig_allocator_count(const struct vig_allocator *a) { return (uint32_t)a->count; }
