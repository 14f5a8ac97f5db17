/* stats — the summary of a set of timings: the same numbers hyperfine reports. */
#ifndef CONCBENCH_STATS_H
#define CONCBENCH_STATS_H

#include <stddef.h>

struct stats {
    size_t n;
    double median, min, max, mean;
    double stddev;     /* sample standard deviation (n − 1), 0 for one value */
};

/* Summarise n values (n may be 0: everything NaN). x is not modified. 0, or -1 when out
 * of memory. */
int stats_compute(const double *x, size_t n, struct stats *s);

/* Coefficient of variation in percent (stddev / mean · 100); NaN when undefined. */
double stats_cv_pct(const struct stats *s);

#endif
