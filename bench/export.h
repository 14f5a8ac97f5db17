/* export — a results file as a series for github-action-benchmark: the speedups, which the
 * gate judges, beside the times that `concbench run` writes as <run>.bench.json. */
#ifndef CONCBENCH_EXPORT_H
#define CONCBENCH_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "results.h"

/* The series name of a row, as in <run>.bench.json: "flags LOCAL threadpool",
 * "sha threadpool w=2". */
void export_series_name(const struct results_row *r, char *buf, size_t len);

/* Write every validated, non-reference row with a speedup to path as
 * customBiggerIsBetter JSON: [{name, unit: "x", value, extra}]. Returns the number of
 * entries, or -1 with a message in err (path cannot be written). */
long export_speedups(const struct results_file *f, const char *path, char *err, size_t errlen);

/* `concbench export RESULTS.csv [-o FILE]` (argv[0] is "export"). Exit status: 0 written,
 * 1 unreadable input or unwritable output, 2 bad usage. */
int export_main(int argc, char **argv);
void export_usage(FILE *f);

#endif
