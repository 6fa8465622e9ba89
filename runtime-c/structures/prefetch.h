#ifndef VIG_PREFETCH_H
#define VIG_PREFETCH_H

/* A hint that the cache line holding p will be read soon, for the structures (map.c's lookups) and
 * the generated nf_prefetch. The compiler's builtin never faults and changes nothing, whatever p
 * is: Frama-C, which has no such builtin, proves callers against this contract. */
/*@ assigns \nothing; */
static inline void vig_prefetch(const void *p) {
#ifdef __FRAMAC__
  (void)p;
#else
  __builtin_prefetch(p);
#endif
}

#endif
