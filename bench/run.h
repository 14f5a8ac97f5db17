/* run — `concbench run`: the matrix of workloads × profiles × drivers (× sweep values),
 * timed with hyperfine against the harness's own flagd, validated against the sequential
 * reference, printed as tables and written as results files. */
#ifndef CONCBENCH_RUN_H
#define CONCBENCH_RUN_H

#include <stdio.h>

#define RUN_DEFAULT_RUNS 5
#define RUN_DEFAULT_WARMUP 1
#define RUN_QUICK_RUNS 3
#define RUN_QUICK_WARMUP 1
/* flagd's delay: 20 ms keeps the sequential DELAY run of the book's 194 codes near 4 s,
 * so the whole default matrix fits in a few minutes on two cores. */
#define RUN_DEFAULT_DELAY_MS 20
/* --quick runs only 20 codes on DELAY/ERROR, so it can afford a longer delay: the wait,
 * not process start-up, dominates the parallel drivers' times, and their speedups hold
 * steady enough for the bench-ci gate. */
#define RUN_QUICK_DELAY_MS 50
#define RUN_DEFAULT_SEED 1
#define RUN_DEFAULT_OUT "results"
/* A driver that hangs must not hang the benchmark (or CI): per configuration, all runs. */
#define RUN_DEFAULT_TIMEOUT_S 600
/* flagd's --site-pages, the site the crawl workload fetches whole: 1,000 pages for make
 * bench, 100 with --quick; --site-pages N sets it (1 to flagd's SITE_MAX_PAGES). */
#define RUN_DEFAULT_SITE_PAGES 1000
#define RUN_QUICK_SITE_PAGES 100

/* `concbench run ARGS...` (argv[0] is "run"). Returns the exit status: 0 every row
 * validated, 1 a row is MISMATCH or FAILED or the run could not start, 2 bad usage,
 * 128+signal when interrupted. */
int run_main(int argc, char **argv);

void run_usage(FILE *f);

#endif
