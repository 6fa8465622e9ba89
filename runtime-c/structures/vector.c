#include "vector.h"
#include "bulk_alloc.h"

#include <stdlib.h>

struct vig_vector *vig_vector_alloc(uint32_t elem_size, uint32_t capacity) {
  if (elem_size == 0 || capacity == 0) {
    return NULL;
  }
  struct vig_vector *v = malloc(sizeof(struct vig_vector));
  char *data = vig_bulk_calloc(capacity, elem_size);
  if (v == NULL || data == NULL) {
    free(v);
    vig_bulk_free(data, capacity, elem_size);
    return NULL;
  }
  v->elem_size = elem_size;
  v->capacity = capacity;
  v->data = data;
  return v;
}

/* Offset of record i (pure arithmetic: the non-linear facts are proven here, once). */
/*@ requires 0 < es && i < n;
    assigns \nothing;
    ensures \result == i * es;
    ensures 0 <= \result && \result + es <= n * es;
    ensures \forall integer x; 0 <= x < i ==> x * es + es <= i * es;
    ensures \forall integer x; i < x ==> i * es + es <= x * es;
*/
static size_t elem_offset(uint32_t i, uint32_t n, uint32_t es) {
  (void)n; /* only in the contract */
  return (size_t)i * es;
}

void *vig_vector_at(struct vig_vector *v, uint32_t index) {
  return v->data + elem_offset(index, (uint32_t)v->capacity, (uint32_t)v->elem_size);
}

const void *vig_vector_at_const(const struct vig_vector *v, uint32_t index) {
  return v->data + elem_offset(index, (uint32_t)v->capacity, (uint32_t)v->elem_size);
}
