#ifndef VIG_VECTOR_H
#define VIG_VECTOR_H

#include <stddef.h>
#include <stdint.h>

/* A vector: `capacity` records of `elem_size` bytes, zero-initialised. */
struct vig_vector {
  uint32_t elem_size;
  uint32_t capacity;
  uint8_t *data; /* capacity * elem_size bytes */
};

struct vig_vector *vig_vector_alloc(uint32_t elem_size, uint32_t capacity);
void *vig_vector_at(struct vig_vector *v, uint32_t index);
const void *vig_vector_at_const(const struct vig_vector *v, uint32_t index);

#endif
