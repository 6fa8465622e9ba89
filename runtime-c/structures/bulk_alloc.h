/* Zeroed memory for a structure's big arrays, backed by transparent huge pages when it is large.
 *
 * The state tables are probed at random: with 4 KB pages a 60,000-flow NAT touches thousands of
 * pages, and every probe into a different page can cost a page walk (slow under virtualisation).
 * On 2 MB pages a few TLB entries cover the whole table. Only the *_alloc functions call this;
 * the structures' proven code never sees it. */
#ifndef VIG_BULK_ALLOC_H
#define VIG_BULK_ALLOC_H

#include <stddef.h>

/* The contracts only say what the callers (the WP-skipped *_alloc wrappers) may rely on; without
 * them Frama-C would generate default ones and report them as unproven goals of every file. */

/* n * size zeroed bytes, or NULL (also when n * size overflows). Release with vig_bulk_free. */
/*@ assigns \result \from n, size; */
void *vig_bulk_calloc(size_t n, size_t size);
/* Releases a block of vig_bulk_calloc(n, size) (the same n and size); NULL is ignored. */
/*@ assigns \nothing; */
void vig_bulk_free(void *p, size_t n, size_t size);

#endif
