/* history — results files over time: `concbench history FILES...` prints one table per
 * configuration with a row per run (date, commit, median, speedup, noise, change), and
 * draws the trend with gnuplot. */
#ifndef CONCBENCH_HISTORY_H
#define CONCBENCH_HISTORY_H

#include <stdio.h>

/* `concbench history ARGS...` (argv[0] is "history"). Exit status: 0 printed (and
 * plotted), 1 a file is not a readable results CSV or gnuplot failed, 2 bad usage. */
int history_main(int argc, char **argv);
void history_usage(FILE *f);

#endif
