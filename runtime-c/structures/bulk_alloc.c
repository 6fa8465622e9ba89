#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#include "bulk_alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE_SIZE ((size_t)2 << 20)

/* Tables this large are probed across many 4 KB pages; smaller ones stay on the heap (a huge page
 * per block would waste more memory than it saves in page walks). */
#define LARGE_BLOCK ((size_t)64 << 10)
static int is_large(size_t bytes) { return bytes >= LARGE_BLOCK; }

static size_t round_to_huge_pages(size_t bytes) {
  return (bytes + HUGE_PAGE_SIZE - 1) / HUGE_PAGE_SIZE * HUGE_PAGE_SIZE;
}

void *vig_bulk_calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) {
    return NULL;
  }
  size_t bytes = n * size;
  if (!is_large(bytes)) {
    return calloc(n, size);
  }
  /* Over-map by one huge page so the block can start on a 2 MB boundary (THP backs only aligned
   * 2 MB ranges), then give back the unaligned head and tail. Anonymous pages are zeroed. */
  size_t length = round_to_huge_pages(bytes);
  size_t mapped = length + HUGE_PAGE_SIZE;
  char *raw = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    return NULL;
  }
  uintptr_t start = ((uintptr_t)raw + HUGE_PAGE_SIZE - 1) / HUGE_PAGE_SIZE * HUGE_PAGE_SIZE;
  char *block = (char *)start;
  size_t head = (size_t)(block - raw);
  if (head > 0) {
    munmap(raw, head);
  }
  size_t tail = mapped - head - length;
  if (tail > 0) {
    munmap(block + length, tail);
  }
  /* Advice only: without THP (or with it disabled) the block still works on 4 KB pages. */
  (void)madvise(block, length, MADV_HUGEPAGE);
  return block;
}

void vig_bulk_free(void *p, size_t n, size_t size) {
  if (p == NULL) {
    return;
  }
  size_t bytes = n * size;
  if (!is_large(bytes)) {
    free(p);
    return;
  }
  munmap(p, round_to_huge_pages(bytes));
}
