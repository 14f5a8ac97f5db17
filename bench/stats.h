/* stats — the summary of a set of timings: the same numbers hyperfine reports. */
#ifndef CONCBENCH_STATS_H
#define CONCBENCH_STATS_H

#include <stddef.h>

struct stats {
    size_t n;
    double median, min, max, mean;
    double stddev; /* sample standard deviation (n − 1), 0 for one value */
};

/* Summarise n values (n may be 0: everything NaN). x is not modified. 0, or -1 when out
 * of memory. */
int stats_compute(const double *x, size_t n, struct stats *s) __attribute__((warn_unused_result));

/* Coefficient of variation in percent (stddev / mean · 100); NaN when undefined. */
double stats_cv_pct(const struct stats *s);

/* How many of n values are outliers by hyperfine's rule: (x − median) / MAD beyond 14.826. */
size_t stats_outliers(const double *x, size_t n);

/* The two-sided p-value of the Mann–Whitney U test (Wilcoxon rank-sum) that a and b come
 * from one distribution: exact for up to 12 values each without ties, otherwise the
 * normal approximation with tie and continuity corrections. NaN when either is empty. */
double stats_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb);

struct stats_sample {
    const double *x;
    size_t n;
};

#define STATS_BOOTSTRAP_ITERATIONS 4000
#define STATS_BOOTSTRAP_SEED 0x636f6e6362656e63ULL /* fixed: the same data, the same interval */

/* A percentile bootstrap interval (confidence, e.g. 0.95) of the ratio
 * Π median(top[i]) / Π median(bottom[j]), each sample resampled independently: for a
 * time change, new/base; for a speedup change, (seq_new · drv_base) / (drv_new · seq_base).
 * 0 with *lo, *hi set, or -1 (an empty sample, out of memory). */
int stats_bootstrap_ratio_ci(const struct stats_sample *top, size_t n_top,
                             const struct stats_sample *bottom, size_t n_bottom, double confidence,
                             double *lo, double *hi) __attribute__((warn_unused_result));

#endif
