/* compare — `concbench compare BASE.csv NEW.csv`: a statistical gate in the way of
 * benchstat. Configurations are matched by what defines them (workload, profile, driver,
 * sweep, size, delay, workers, concurrency, cores); each is judged on its
 * absolute time (a Mann–Whitney U test of the per-run times) and on its speedup over the
 * same run's sequential driver (a bootstrap interval of the ratio of speedups). A change
 * counts only when it is both significant and beyond the threshold; one that is beyond the
 * threshold but cannot be confirmed, or was measured while other processes used the
 * machine, is inconclusive — never a regression. */
#ifndef CONCBENCH_COMPARE_H
#define CONCBENCH_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include "results.h"

#define COMPARE_DEFAULT_THRESHOLD_PCT 25.0
#define COMPARE_DEFAULT_ALPHA 0.05 /* two-sided; the bootstrap interval is 1 − α */
#define COMPARE_NOISE_SPREADS 3.0  /* a noisy row's change within 3 CVs is inconclusive */

/* Exit statuses of the gate. */
enum compare_status {
    COMPARE_PASS = 0,
    COMPARE_FAIL = 1,         /* a regression, an invalid NEW row, or rows missing */
    COMPARE_USAGE = 2,        /* bad usage or a file that is not a results CSV */
    COMPARE_INCONCLUSIVE = 3, /* no regression shown, but some change was too noisy to judge */
};

/* One configuration as `--only` and `--flagged` name it: a tab-separated line
 * "workload profile driver sweep_param sweep_value" (empty fields stay empty). */
struct compare_key {
    char workload[16], profile[16], driver[32], sweep_param[4], sweep_value[24];
};

struct compare_options {
    double threshold_pct; /* a change must be beyond this, in percent */
    double alpha;         /* and significant at this level */
    bool check_speedup;   /* judge each driver's speedup over the same run's sequential */
    bool check_time;      /* judge each configuration's own time */
    bool allow_missing;   /* rows of BASE absent from NEW, or no reference: not a failure */
    bool trust_noisy;     /* judge rows measured while others used the machine too */
    bool markdown;
    const struct compare_key *only; /* judge only these configurations (NULL: all) */
    size_t n_only;
};

struct compare_summary {
    size_t matched, regressions, inconclusive, improvements, invalid, only_base, only_new;
    size_t missing_reference;    /* NEW groups with rows but no sequential row */
    struct compare_key *flagged; /* the regressed configurations (owned; free()) */
    size_t n_flagged;
    char reason[256]; /* one line: why the gate failed or was inconclusive */
};

/* Compare base with cur (read from base_dir and cur_dir, against which a row's `raw`
 * column is resolved when it has no `times_s`). Prints the table of changes and a summary
 * line to f, fills s. Returns COMPARE_PASS, COMPARE_FAIL or COMPARE_INCONCLUSIVE. */
int compare_results(const struct results_file *base, const char *base_dir,
                    const struct results_file *cur, const char *cur_dir,
                    const struct compare_options *o, FILE *f, struct compare_summary *s);

/* `concbench compare ARGS...` (argv[0] is "compare"): an enum compare_status. */
int compare_main(int argc, char **argv);

void compare_usage(FILE *f);

#endif
