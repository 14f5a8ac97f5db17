/* clock — the one clock of the suite: CLOCK_MONOTONIC in nanoseconds, for work-phase times,
 * deadlines and progress rates. Knows nothing else, so anything may depend on it. */
#ifndef CONCBENCH_CLOCK_H
#define CONCBENCH_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds: never goes back, unaffected by date changes; only
 * differences mean anything. Async-signal-safe, any thread. */
uint64_t clock_now_ns(void);

#endif
