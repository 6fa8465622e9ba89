#ifndef VIG_ALLOCATOR_H
#define VIG_ALLOCATOR_H

#include <stdbool.h>
#include <stdint.h>

struct vig_allocator_cell {
  uint32_t allocated; /* 1 when the index is allocated */
  uint32_t prev;      /* allocated list: older neighbour, or capacity at the oldest end */
  uint32_t next;      /* allocated list: newer neighbour, or capacity at the newest end */
  uint32_t stack;     /* free stack: cells[k].stack is the k-th free index from the bottom */
  uint64_t time;      /* last refresh, when allocated */
};

struct vig_allocator {
  uint32_t capacity;
  uint32_t count;  /* allocated indexes; the free stack holds capacity - count */
  uint32_t oldest; /* head of the allocated list (capacity when empty) */
  uint32_t newest; /* tail of the allocated list (capacity when empty) */
  struct vig_allocator_cell *cells;
};

struct vig_allocator *vig_allocator_alloc(uint32_t capacity);
bool vig_allocator_allocate(struct vig_allocator *a, uint64_t now, uint32_t *index_out);
void vig_allocator_refresh(struct vig_allocator *a, uint32_t index, uint64_t now);
bool vig_allocator_is_allocated(const struct vig_allocator *a, uint32_t index);
void vig_allocator_free(struct vig_allocator *a, uint32_t index);
bool vig_allocator_expire_one(struct vig_allocator *a, uint64_t now, uint64_t expiration,
                              uint32_t *index_out);
uint32_t vig_allocator_count(const struct vig_allocator *a);

#endif
