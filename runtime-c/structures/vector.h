/* vig_vector: index -> fixed-size record, `capacity` records of `elem_size` bytes,
 * zero-initialised. TypeScript model: dsl/structures/vector.ts (Vector, with the all-zero record as
 * `zero`).
 *
 * Abstract view: record i is the elem_size bytes at vig_vector_elem(v, i). vig_vector_at gives
 * that address; callers read and write the record through it (bytes are `char` in the contracts:
 * Frama-C WP's typed memory model treats `void *` as `char *`). Records never overlap.
 */
#ifndef VIG_VECTOR_H
#define VIG_VECTOR_H

#include <stddef.h>
#include <stdint.h>

/* Fields are private: use the functions below. */
struct vig_vector {
  size_t elem_size;
  size_t capacity;
  char *data; /* capacity * elem_size bytes: record i starts at i * elem_size */
};

/*@
  predicate vig_vector_valid{L}(struct vig_vector *v) =
    \valid(v) && 1 <= v->elem_size <= 0xFFFFFFFF && 1 <= v->capacity <= 0xFFFFFFFF &&
    \valid(v->data + (0 .. v->capacity * v->elem_size - 1)) &&
    \separated(v, v->data + (0 .. v->capacity * v->elem_size - 1));

  // Where record i starts.
  logic char *vig_vector_elem{L}(struct vig_vector *v, integer i) = v->data + i * v->elem_size;
*/

/* A vector of `capacity` zeroed records of `elem_size` bytes; NULL when either is 0 or memory is
 * short. */
/*@ assigns \result \from elem_size, capacity;
    ensures \result == \null ||
      (vig_vector_valid(\result) && \result->elem_size == elem_size &&
       \result->capacity == capacity &&
       (\forall integer b; 0 <= b < capacity * elem_size ==> \result->data[b] == 0));
*/
struct vig_vector *vig_vector_alloc(uint32_t elem_size, uint32_t capacity);

/* Record `index` (requires index < capacity). */
/*@ requires vig_vector_valid(v) && index < v->capacity;
    assigns \nothing;
    ensures \result == (void *)vig_vector_elem(v, index);
    ensures 0 <= index * v->elem_size &&
      index * v->elem_size + v->elem_size <= v->capacity * v->elem_size;
    ensures \valid((char *)\result + (0 .. v->elem_size - 1));
    ensures \forall integer x, j; 0 <= x < v->capacity && x != index && 0 <= j < v->elem_size ==>
      x * v->elem_size + j < index * v->elem_size ||
      x * v->elem_size + j >= index * v->elem_size + v->elem_size;
*/
void *vig_vector_at(struct vig_vector *v, uint32_t index);

/* Record `index`, read-only (requires index < capacity). */
/*@ requires vig_vector_valid(v) && index < v->capacity;
    assigns \nothing;
    ensures \result == (void *)vig_vector_elem(v, index);
    ensures 0 <= index * v->elem_size &&
      index * v->elem_size + v->elem_size <= v->capacity * v->elem_size;
    ensures \valid_read((char *)\result + (0 .. v->elem_size - 1));
*/
const void *vig_vector_at_const(const struct vig_vector *v, uint32_t index);

#endif
