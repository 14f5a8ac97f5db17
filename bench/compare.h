/* compare — `concbench compare BASE.csv NEW.csv`: match configurations and compare their
 * speedups over the same run's sequential driver, so that a slower or faster machine
 * does not count as a change; fail on a regression beyond a threshold. */
#ifndef CONCBENCH_COMPARE_H
#define CONCBENCH_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "results.h"

#define COMPARE_DEFAULT_THRESHOLD_PCT 25.0

struct compare_summary {
    size_t matched, regressions, noisy, improvements, invalid, only_base, only_new;
};

/* Compare two read files, print the table of changes to f, fill s. A row regressed when
 * its speedup fell by more than threshold_pct both by its median and by its fastest run
 * (min_s); by the median alone it is "slower (within noise)". Returns 1 when a row
 * regressed or a NEW row is not validated (MISMATCH, FAILED), else 0. */
int compare_results(const struct results_file *base, const struct results_file *cur,
                    double threshold_pct, bool markdown, FILE *f, struct compare_summary *s);

/* `concbench compare ARGS...` (argv[0] is "compare"). Exit status: 0 no regression,
 * 1 regression, 2 bad usage or a file that is not a valid results CSV. */
int compare_main(int argc, char **argv);

void compare_usage(FILE *f);

#endif
