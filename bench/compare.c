/* compare — regressions between two results files, judged on speedups. */
#include "compare.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

#define REFERENCE_DRIVER "sequential"

void compare_usage(FILE *f)
{
    fprintf(f,
        "usage: concbench compare BASE.csv NEW.csv [--threshold PCT] [--markdown]\n"
        "\n"
        "Matches the rows of two results files by configuration (workload, profile, driver,\n"
        "sweep value, items, job size, delay) and compares each driver's speedup over the\n"
        "sequential driver of its own run. Exit 1 when a speedup fell by more than PCT\n"
        "percent (default %.0f) — by the median and by the fastest run alike, so that a\n"
        "noisy neighbour alone does not fail it — or a NEW row is MISMATCH/FAILED; 2 when\n"
        "a file is not a valid results CSV (the error names its line and column).\n",
        COMPARE_DEFAULT_THRESHOLD_PCT);
}

/* The columns that identify a configuration across runs. */
static const enum results_col key_cols[] = {
    RC_WORKLOAD, RC_PROFILE, RC_DRIVER, RC_SWEEP_PARAM, RC_SWEEP_VALUE, RC_ITEMS,
    RC_SIZE_BYTES, RC_DELAY_MS,
};
#define N_KEY_COLS (sizeof key_cols / sizeof key_cols[0])

static bool same_config(const struct results_row *a, const struct results_row *b)
{
    for (size_t i = 0; i < N_KEY_COLS; i++) {
        const char *x = results_get(a, key_cols[i]), *y = results_get(b, key_cols[i]);
        double dx, dy;
        /* "20" and "20.0" are the same delay. */
        if (results_num(a, key_cols[i], &dx) && results_num(b, key_cols[i], &dy)) {
            if (dx != dy)
                return false;
        } else if (strcmp(x, y) != 0) {
            return false;
        }
    }
    return true;
}

static bool validated(const struct results_row *r)
{
    const char *v = results_get(r, RC_VERDICT);
    return strcmp(v, "ok") == 0 || strcmp(v, "reference") == 0;
}

/* The speedup of r over the sequential row of the same run and group, recomputed from
 * the medians (the speedup column is derived from them); NaN when there is none. */
static double speedup_of(const struct results_file *f, const struct results_row *r)
{
    double m, ref;
    if (!results_num(r, RC_MEDIAN_S, &m) || !(m > 0))
        return NAN;
    for (size_t i = 0; i < f->n_rows; i++) {
        const struct results_row *s = &f->rows[i];
        if (strcmp(results_get(s, RC_DRIVER), REFERENCE_DRIVER) != 0 ||
            *results_get(s, RC_SWEEP_PARAM) ||
            strcmp(results_get(s, RC_RUN_ID), results_get(r, RC_RUN_ID)) != 0 ||
            strcmp(results_get(s, RC_WORKLOAD), results_get(r, RC_WORKLOAD)) != 0 ||
            strcmp(results_get(s, RC_PROFILE), results_get(r, RC_PROFILE)) != 0)
            continue;
        if (results_num(s, RC_MEDIAN_S, &ref) && ref > 0)
            return ref / m;
    }
    return NAN;
}

/* The speedup of r's fastest run over the same sequential median: what r reaches when
 * the machine's noise is on its side. NaN without a min_s. */
static double best_speedup_of(const struct results_file *f, const struct results_row *r)
{
    double m, lo, sp = speedup_of(f, r);
    if (!isfinite(sp) || !results_num(r, RC_MEDIAN_S, &m) || !results_num(r, RC_MIN_S, &lo) ||
        !(lo > 0))
        return NAN;
    return sp * m / lo;
}

static void label(const struct results_row *r, char *buf, size_t len)
{
    const char *prof = results_get(r, RC_PROFILE), *sw = results_get(r, RC_SWEEP_PARAM);
    int n = snprintf(buf, len, "%s%s%s %s", results_get(r, RC_WORKLOAD), *prof ? " " : "",
                     prof, results_get(r, RC_DRIVER));
    if (*sw && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " %s=%s", sw, results_get(r, RC_SWEEP_VALUE));
}

static void fmt_speedup(char *buf, size_t len, double x)
{
    if (isfinite(x))
        snprintf(buf, len, "%.2f×", x);
    else
        snprintf(buf, len, "—");
}

int compare_results(const struct results_file *base, const struct results_file *cur,
                    double threshold_pct, bool markdown, FILE *f, struct compare_summary *s)
{
    static const char *const headers[] = {
        "configuration", "base median", "new median", "base speedup", "new speedup",
        "change", "verdict",
    };
    enum { N_COLS = sizeof headers / sizeof headers[0] };
    memset(s, 0, sizeof *s);
    struct table t;
    table_init(&t, headers, "lrrrrrl", N_COLS);
    bool *used = calloc(base->n_rows ? base->n_rows : 1, sizeof *used);
    if (!used)
        return 1;
    for (size_t i = 0; i < cur->n_rows; i++) {
        const struct results_row *nr = &cur->rows[i];
        const struct results_row *br = NULL;
        for (size_t j = 0; j < base->n_rows; j++) {
            if (!used[j] && same_config(&base->rows[j], nr)) {
                br = &base->rows[j];
                used[j] = true;
                break;
            }
        }
        char name[160], bm[32] = "—", nm[32], bs[32] = "—", ns[32], change[32] = "—";
        const char *verdict;
        label(nr, name, sizeof name);
        double x, ms = 1;
        bool is_ref = strcmp(results_get(nr, RC_DRIVER), REFERENCE_DRIVER) == 0;
        table_fmt_time(nm, sizeof nm, results_num(nr, RC_MEDIAN_S, &x) ? x : NAN, false);
        (void)ms;
        double sn = speedup_of(cur, nr);
        fmt_speedup(ns, sizeof ns, is_ref ? NAN : sn);
        if (br) {
            s->matched++;
            table_fmt_time(bm, sizeof bm, results_num(br, RC_MEDIAN_S, &x) ? x : NAN, false);
            double sb = speedup_of(base, br);
            fmt_speedup(bs, sizeof bs, is_ref ? NAN : sb);
            double bmed, nmed;
            if (is_ref && results_num(br, RC_MEDIAN_S, &bmed) && results_num(nr, RC_MEDIAN_S, &nmed)
                && bmed > 0)
                /* The reference has no speedup; its own time is shown for information. */
                snprintf(change, sizeof change, "%+.1f%% time", 100.0 * (nmed / bmed - 1));
            else if (isfinite(sb) && isfinite(sn) && sb > 0)
                snprintf(change, sizeof change, "%+.1f%%", 100.0 * (sn / sb - 1));
            if (!validated(nr)) {
                verdict = results_get(nr, RC_VERDICT);
                s->invalid++;
            } else if (is_ref) {
                verdict = "reference";
            } else if (!validated(br)) {
                verdict = "base not validated";
            } else if (!isfinite(sb) || !isfinite(sn)) {
                verdict = "no speedup";
            } else if (sn < sb * (1 - threshold_pct / 100)) {
                /* Only a slowdown that even the fastest new run confirms: on a shared
                 * machine a median can lose a quarter to a neighbour. */
                double best = best_speedup_of(cur, nr);
                if (isfinite(best) && best >= sb * (1 - threshold_pct / 100)) {
                    verdict = "slower (within noise)";
                    s->noisy++;
                } else {
                    verdict = "REGRESSION";
                    s->regressions++;
                }
            } else if (sn > sb * (1 + threshold_pct / 100)) {
                verdict = "faster";
                s->improvements++;
            } else {
                verdict = "ok";
            }
        } else {
            s->only_new++;
            if (!validated(nr)) {
                verdict = results_get(nr, RC_VERDICT);
                s->invalid++;
            } else {
                verdict = "new";
            }
        }
        const char *cells[N_COLS] = { name, bm, nm, bs, ns, change, verdict };
        table_add(&t, cells);
    }
    for (size_t j = 0; j < base->n_rows; j++) {
        if (used[j])
            continue;
        s->only_base++;
        char name[160], bm[32];
        label(&base->rows[j], name, sizeof name);
        double x;
        table_fmt_time(bm, sizeof bm, results_num(&base->rows[j], RC_MEDIAN_S, &x) ? x : NAN,
                       false);
        const char *cells[N_COLS] = { name, bm, "—", "—", "—", "—", "not in new" };
        table_add(&t, cells);
    }
    free(used);
    table_print(f, &t, markdown);
    table_free(&t);
    fprintf(f, "%s%zu matched, %zu regressed beyond %.0f%%, %zu slower within noise, %zu faster, "
            "%zu not validated, %zu only in base, %zu only in new\n", markdown ? "\n" : "",
            s->matched, s->regressions, threshold_pct, s->noisy, s->improvements, s->invalid,
            s->only_base, s->only_new);
    return s->regressions || s->invalid ? 1 : 0;
}

int compare_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "threshold", required_argument, NULL, 't' },
        { "markdown", no_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    double threshold = COMPARE_DEFAULT_THRESHOLD_PCT;
    bool markdown = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ht:", longopts, NULL)) != -1) {
        switch (c) {
        case 't': {
            char *end;
            errno = 0;
            threshold = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(threshold > 0) || threshold >= 100) {
                fprintf(stderr, "concbench: compare: --threshold takes a percentage between 0 "
                        "and 100, not '%s'\n"
                        "Try 'concbench compare --help'.\n", optarg);
                return 2;
            }
            break;
        }
        case 'M':
            markdown = true;
            break;
        case 'h':
            compare_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "concbench: compare: unknown or incomplete option '%s'\n"
                    "Try 'concbench compare --help'.\n", argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "concbench: compare: needs BASE.csv and NEW.csv\n"
                "Try 'concbench compare --help'.\n");
        return 2;
    }
    const char *paths[2] = { argv[optind], argv[optind + 1] };
    struct results_file files[2];
    memset(files, 0, sizeof files);
    for (int i = 0; i < 2; i++) {
        char err[512];
        if (results_read(paths[i], &files[i], err, sizeof err) != 0) {
            fprintf(stderr, "concbench: compare: %s: %s\n"
                    "Try 'concbench compare --help'.\n", paths[i], err);
            results_file_free(&files[0]);
            return 2;
        }
    }
    struct compare_summary s;
    int rc = compare_results(&files[0], &files[1], threshold, markdown, stdout, &s);
    results_file_free(&files[0]);
    results_file_free(&files[1]);
    return rc;
}
