#include "vector.h"

#include <stdlib.h>

struct vig_vector *vig_vector_alloc(uint32_t elem_size, uint32_t capacity) {
  if (elem_size == 0 || capacity == 0) {
    return NULL;
  }
  struct vig_vector *v = malloc(sizeof(struct vig_vector));
  if (v == NULL) {
    return NULL;
  }
  uint8_t *data = calloc(capacity, elem_size);
  if (data == NULL) {
    free(v);
    return NULL;
  }
  v->elem_size = elem_size;
  v->capacity = capacity;
  v->data = data;
  return v;
}

void *vig_vector_at(struct vig_vector *v, uint32_t index) {
  return v->data + (size_t)index * v->elem_size;
}

const void *vig_vector_at_const(const struct vig_vector *v, uint32_t index) {
  return v->data + (size_t)index * v->elem_size;
}
