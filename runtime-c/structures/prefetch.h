#ifndef VIG_PREFETCH_H
#define VIG_PREFETCH_H

/* A hint that the cache line holding p will be read soon, for the structures (map.c's lookups) and
 * the generated nf_prefetch. The compiler's builtin never faults and changes nothing, whatever p
 * is: Frama-C, which has no such builtin, proves callers against this contract. */
/*@ assigns \nothing; */
static inline void vig_prefetch(const void *p) {
#ifdef __FRAMAC__
  (void)p;
#elif defined(__x86_64__) || defined(__i386__)
  /* Not __builtin_prefetch: gcc gives it no side effect, so to gcc a function that only reads and
   * prefetches (nf_prefetch) is pure, and it deletes every call to it that it does not inline (gcc
   * 12 -O3 -flto deleted all of the DPDK shell's, docs/performance.md). A volatile asm stays. */
  __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
#else
  __builtin_prefetch(p);
#endif
}

#endif
