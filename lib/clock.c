/* clock — CLOCK_MONOTONIC in nanoseconds. */
#include "clock.h"

#include <time.h>

#define CLOCK_NS_PER_S 1000000000ULL

uint64_t clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}
