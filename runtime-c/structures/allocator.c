#include "allocator.h"

#include <stdlib.h>

struct vig_allocator *vig_allocator_alloc(uint32_t capacity) {
  if (capacity == 0 || capacity == UINT32_MAX) {
    return NULL;
  }
  struct vig_allocator *a = malloc(sizeof(struct vig_allocator));
  if (a == NULL) {
    return NULL;
  }
  struct vig_allocator_cell *cells = calloc(capacity, sizeof(struct vig_allocator_cell));
  if (cells == NULL) {
    free(a);
    return NULL;
  }
  for (uint32_t k = 0; k < capacity; k++) {
    cells[k].stack = capacity - 1 - k;
    cells[k].prev = capacity;
    cells[k].next = capacity;
  }
  a->capacity = capacity;
  a->count = 0;
  a->oldest = capacity;
  a->newest = capacity;
  a->cells = cells;
  return a;
}

/* Appends allocated index i (not in the list) at the newest end. */
static void list_append(struct vig_allocator *a, uint32_t i) {
  uint32_t last = a->newest;
  a->cells[i].prev = last;
  a->cells[i].next = a->capacity;
  if (last == a->capacity) {
    a->oldest = i;
  } else {
    a->cells[last].next = i;
  }
  a->newest = i;
}

/* Removes index i from the list. */
static void list_unlink(struct vig_allocator *a, uint32_t i) {
  uint32_t p = a->cells[i].prev;
  uint32_t n = a->cells[i].next;
  if (p == a->capacity) {
    a->oldest = n;
  } else {
    a->cells[p].next = n;
  }
  if (n == a->capacity) {
    a->newest = p;
  } else {
    a->cells[n].prev = p;
  }
}

bool vig_allocator_allocate(struct vig_allocator *a, uint64_t now, uint32_t *index_out) {
  if (a->count == a->capacity) {
    return false;
  }
  uint32_t i = a->cells[a->capacity - a->count - 1].stack;
  a->count++;
  a->cells[i].allocated = 1;
  a->cells[i].time = now;
  list_append(a, i);
  *index_out = i;
  return true;
}

void vig_allocator_refresh(struct vig_allocator *a, uint32_t index, uint64_t now) {
  a->cells[index].time = now;
  if (a->newest != index) {
    list_unlink(a, index);
    list_append(a, index);
  }
}

bool vig_allocator_is_allocated(const struct vig_allocator *a, uint32_t index) {
  return index < a->capacity && a->cells[index].allocated != 0;
}

void vig_allocator_free(struct vig_allocator *a, uint32_t index) {
  list_unlink(a, index);
  a->cells[index].allocated = 0;
  a->cells[a->capacity - a->count].stack = index;
  a->count--;
}

bool vig_allocator_expire_one(struct vig_allocator *a, uint64_t now, uint64_t expiration,
                              uint32_t *index_out) {
  if (a->count == 0) {
    return false;
  }
  uint32_t i = a->oldest;
  if (now - a->cells[i].time <= expiration) {
    return false;
  }
  vig_allocator_free(a, i);
  *index_out = i;
  return true;
}

uint32_t vig_allocator_count(const struct vig_allocator *a) { return a->count; }
