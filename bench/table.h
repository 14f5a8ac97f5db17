/* table — the comparison tables, one per workload and profile, from results rows: plain
 * aligned text for a terminal, or Markdown. */
#ifndef CONCBENCH_TABLE_H
#define CONCBENCH_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "results.h"

/* A grid of cells printed with aligned columns (plain) or as a Markdown table. Cells are
 * copied. Columns whose align is 'r' are right-aligned. */
struct table {
    size_t n_cols, n_rows, cap_rows;
    const char *const *headers;
    const char *align; /* one of 'l' / 'r' per column */
    char **cells;      /* n_rows × n_cols */
};

void table_init(struct table *t, const char *const *headers, const char *align, size_t n_cols);
/* Append a row of n_cols cells (NULL = empty). 0 or -1. */
int table_add(struct table *t, const char *const *cells);
void table_print(FILE *f, const struct table *t, bool markdown);

/* Colour verdict cells of plain tables (red: REGRESSION, MISMATCH, FAILED; yellow:
 * inconclusive, noisy; green: ok) — when is "always", "never" or "auto" (f is a terminal
 * and NO_COLOR is unset or empty). 0, or -1 for another word. Call before printing. */
int table_color_choose(const char *when, FILE *f);
void table_free(struct table *t);

/* Display width of UTF-8 text (code points; our symbols are all one column wide). */
size_t table_width(const char *s);

/* Seconds in a unit chosen for the table: "3.912 s", "142.3 ms". NaN → "—". */
void table_fmt_time(char *buf, size_t len, double s, bool ms);

/* Every (workload, profile) group of rows, in order of first appearance: a title line,
 * the table and the notes (why a row is not ok). */
void table_print_results(FILE *f, const struct results_row *rows, size_t n, bool markdown);

#endif
