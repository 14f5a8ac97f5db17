/* history — one table per configuration over the runs of many results files, and the
 * trend as a gnuplot figure. */
#include "history.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export.h"
#include "noise.h"
#include "results.h"
#include "spawn.h"
#include "table.h"
#include "text.h"
#include "workload.h"

#define DASH "—"
#define HISTORY_GNUPLOT_TIMEOUT_S 60.0
#define HISTORY_PANEL_HEIGHT_PX 420
#define HISTORY_WIDTH_PX 1100
#define HISTORY_LOG_SPAN 8.0 /* max/min above this: a logarithmic y axis */

void history_usage(FILE *f)
{
    fprintf(
        f,
        "usage: concbench history RESULTS.csv... [--base FILE] [--plot OUT] [--markdown]\n"
        "                         [--color auto|always|never]\n"
        "\n"
        "For each configuration (compare's key: workload, profile, driver, sweep value, items,\n"
        "job size, delay, workers, concurrency, cores, downloads), a table over the runs found\n"
        "in the files, oldest first: date, commit, median, speedup over that run's sequential,\n"
        "CV%%, the median's change from the previous run, and a note: baseline, noisy (the\n"
        "harness's verdict; CV above %.0f%% for files without one), run noisy, MISMATCH...\n"
        "A run is known by its run_id: the same run read twice (results/latest.csv beside\n"
        "the file it points at) counts once.\n"
        "\n"
        "  --base FILE    mark this file's run as the baseline (its rows are read too)\n"
        "  --plot OUT     also draw OUT.png and OUT.svg with gnuplot: median per run, one\n"
        "                 panel per workload, one line per configuration (sweep rows only\n"
        "                 when a workload has no others), the baseline run marked\n"
        "  --markdown     Markdown tables\n"
        "  --color WHEN   colour the notes (noisy, MISMATCH...): auto (a terminal and no\n"
        "                 NO_COLOR), always or never\n"
        "\n"
        "Exit: 0 done, 1 a file is not a readable results CSV or gnuplot failed, 2 bad usage.\n",
        NOISE_CV_MAX_PCT);
}

/* One run: the rows of one run_id, whichever file they came from. */
struct hist_run {
    const char *run_id, *date, *commit; /* borrowed from the first row seen */
    bool base;
};

/* One row of one run. */
struct hist_row {
    const struct results_row *row;
    size_t run; /* index into runs */
};

/* Everything read, and the configurations in order of first appearance. */
struct history {
    struct results_file *files;
    size_t n_files;
    struct hist_run *runs;
    size_t n_runs;
    struct hist_row *rows;
    size_t n_rows;
    size_t *configs; /* index into rows of each configuration's first row */
    size_t n_configs;
};

/* The columns that make a configuration the same one from run to run: compare's key, so
 * that a table here lines up with what the gate matched. */
static const enum results_col key_cols[] = {
    RC_WORKLOAD,   RC_PROFILE,  RC_DRIVER,  RC_SWEEP_PARAM, RC_SWEEP_VALUE, RC_ITEMS,
    RC_SIZE_BYTES, RC_DELAY_MS, RC_WORKERS, RC_CONCURRENCY, RC_CORES,       RC_DOWNLOADS,
};
#define N_KEY_COLS (sizeof key_cols / sizeof key_cols[0])

static bool same_config(const struct results_row *a, const struct results_row *b)
{
    for (size_t i = 0; i < N_KEY_COLS; i++) {
        double x, y;
        /* "20" and "20.0" are the same delay */
        if (results_num(a, key_cols[i], &x) && results_num(b, key_cols[i], &y)) {
            if (x != y)
                return false;
        } else if (strcmp(results_get(a, key_cols[i]), results_get(b, key_cols[i])) != 0) {
            return false;
        }
    }
    return true;
}

static void history_free(struct history *h)
{
    for (size_t i = 0; i < h->n_files; i++)
        results_file_free(&h->files[i]);
    free(h->files);
    free(h->runs);
    free(h->rows);
    free(h->configs);
    memset(h, 0, sizeof *h);
}

static size_t find_run(const struct history *h, const char *run_id)
{
    for (size_t i = 0; i < h->n_runs; i++)
        if (strcmp(h->runs[i].run_id, run_id) == 0)
            return i;
    return (size_t)-1;
}

/* Add the rows of f (already read into h->files); base marks its runs. A row of a run
 * and configuration already held (the same file twice) is skipped. 0 or -1 (memory). */
static int add_file(struct history *h, const struct results_file *f, bool base)
{
    struct hist_run *runs = realloc(h->runs, (h->n_runs + f->n_rows + 1) * sizeof *runs);
    if (!runs)
        return -1;
    h->runs = runs;
    struct hist_row *rows = realloc(h->rows, (h->n_rows + f->n_rows + 1) * sizeof *rows);
    if (!rows)
        return -1;
    h->rows = rows;
    for (size_t i = 0; i < f->n_rows; i++) {
        const struct results_row *r = &f->rows[i];
        size_t run = find_run(h, results_get(r, RC_RUN_ID));
        if (run == (size_t)-1) {
            run = h->n_runs++;
            h->runs[run] = (struct hist_run){.run_id = results_get(r, RC_RUN_ID),
                                             .date = results_get(r, RC_DATE),
                                             .commit = results_get(r, RC_GIT_COMMIT)};
        }
        h->runs[run].base |= base;
        bool dup = false;
        for (size_t j = 0; j < h->n_rows && !dup; j++)
            dup = h->rows[j].run == run && same_config(h->rows[j].row, r);
        if (!dup)
            h->rows[h->n_rows++] = (struct hist_row){.row = r, .run = run};
    }
    return 0;
}

/* Runs oldest first (ISO 8601 dates sort as text; the run_id breaks a tie). */
static int by_date(const void *a, const void *b)
{
    const struct hist_run *x = a, *y = b;
    int c = strcmp(x->date, y->date);
    return c ? c : strcmp(x->run_id, y->run_id);
}

/* Sort the runs, renumber the rows, list the configurations: in the order the oldest run
 * that has each one lists it, which keeps a run's own order (workload, profile, driver). */
static int organise(struct history *h)
{
    size_t *old_index = malloc((h->n_runs + 1) * sizeof *old_index);
    struct hist_run *sorted = malloc((h->n_runs + 1) * sizeof *sorted);
    h->configs = malloc((h->n_rows + 1) * sizeof *h->configs);
    if (!old_index || !sorted || !h->configs) {
        free(old_index);
        free(sorted);
        return -1;
    }
    memcpy(sorted, h->runs, h->n_runs * sizeof *sorted);
    qsort(sorted, h->n_runs, sizeof *sorted, by_date);
    for (size_t i = 0; i < h->n_runs; i++)
        old_index[find_run(h, sorted[i].run_id)] = i;
    for (size_t i = 0; i < h->n_rows; i++)
        h->rows[i].run = old_index[h->rows[i].run];
    memcpy(h->runs, sorted, h->n_runs * sizeof *sorted);
    free(sorted);
    free(old_index);
    for (size_t run = 0; run < h->n_runs; run++)
        for (size_t i = 0; i < h->n_rows; i++) {
            if (h->rows[i].run != run)
                continue;
            bool known = false;
            for (size_t c = 0; c < h->n_configs && !known; c++)
                known = same_config(h->rows[h->configs[c]].row, h->rows[i].row);
            if (!known)
                h->configs[h->n_configs++] = i;
        }
    return 0;
}

/* The row of configuration c in run, or NULL. */
static const struct results_row *row_of(const struct history *h, size_t c, size_t run)
{
    const struct results_row *key = h->rows[h->configs[c]].row;
    for (size_t i = 0; i < h->n_rows; i++)
        if (h->rows[i].run == run && same_config(h->rows[i].row, key))
            return h->rows[i].row;
    return NULL;
}

/* "flags · LOCAL · threadpool (m=10) · workers 10 · concurrency 10 · 2 cores · 20 codes
 * · downloads tmpfs" */
/* What a workload's jobs are called ("codes", "jobs", "pages"); "codes" for one unknown. */
static const char *items_word(const char *workload)
{
    const struct workload_def *def = workload_find(workload);
    return def && def->items_word ? def->items_word : "codes";
}

static void config_title(const struct results_row *r, char *buf, size_t len)
{
    const char *prof = results_get(r, RC_PROFILE), *sw = results_get(r, RC_SWEEP_PARAM);
    const char *dl = results_get(r, RC_DOWNLOADS);
    snprintf(buf, len,
             "%s%s%s · %s%s%s%s%s%s · workers %s · concurrency %s · %s cores · %s %s"
             "%s%s",
             results_get(r, RC_WORKLOAD), *prof ? " · " : "", prof, results_get(r, RC_DRIVER),
             *sw ? " (" : "", sw, *sw ? "=" : "", *sw ? results_get(r, RC_SWEEP_VALUE) : "",
             *sw ? ")" : "", results_get(r, RC_WORKERS), results_get(r, RC_CONCURRENCY),
             results_get(r, RC_CORES), results_get(r, RC_ITEMS),
             items_word(results_get(r, RC_WORKLOAD)), *dl ? " · downloads " : "", dl);
}

/* The row's noise: the harness's own verdict where the file has it (spread, outliers,
 * foreign CPU, a drifting run), else the CV rule alone for files that predate it. */
static const char *noise_of(const struct results_row *r)
{
    double cv;
    if (strcmp(results_get(r, RC_RUN_NOISE), "noisy") == 0)
        return strcmp(results_get(r, RC_NOISE), "noisy") == 0 ? "noisy, run noisy" : "run noisy";
    if (*results_get(r, RC_NOISE))
        return strcmp(results_get(r, RC_NOISE), "noisy") == 0 ? "noisy" : "";
    return results_num(r, RC_CV_PCT, &cv) && cv > NOISE_CV_MAX_PCT ? "noisy" : "";
}

/* "2026-11-27T13:18:30Z" → "2026-11-27 13:18" */
static void short_date(const char *iso, char *buf, size_t len)
{
    snprintf(buf, len, "%.10s%s%.5s", iso, strlen(iso) > 11 ? " " : "",
             strlen(iso) > 11 ? iso + 11 : "");
}

static void print_config(FILE *f, const struct history *h, size_t c, bool markdown)
{
    static const char *const headers[] = {
        "date", "commit", "median", "speedup", "CV%", "change", "note",
    };
    enum { N_COLS = sizeof headers / sizeof headers[0] };
    struct table t;
    table_init(&t, headers, "llrrrrl", N_COLS);
    char title[512];
    config_title(h->rows[h->configs[c]].row, title, sizeof title);
    if (markdown)
        fprintf(f, "### %s\n\n", title);
    else
        fprintf(f, "%s\n", title);

    /* One unit per table, from its slowest median, as the run's own tables do. */
    double slowest = 0, x;
    for (size_t run = 0; run < h->n_runs; run++) {
        const struct results_row *r = row_of(h, c, run);
        if (r && results_num(r, RC_MEDIAN_S, &x) && x > slowest)
            slowest = x;
    }
    bool ms = slowest < 1.0;
    double prev = NAN;
    for (size_t run = 0; run < h->n_runs; run++) {
        const struct results_row *r = row_of(h, c, run);
        if (!r)
            continue;
        char date[32], median[32], speedup[16], cv[16], change[16], note[64] = "";
        double m = NAN, cvx = NAN;
        short_date(h->runs[run].date, date, sizeof date);
        results_num(r, RC_MEDIAN_S, &m);
        table_fmt_time(median, sizeof median, m, ms);
        if (results_num(r, RC_SPEEDUP, &x))
            snprintf(speedup, sizeof speedup, "%.2f×", x);
        else
            snprintf(speedup, sizeof speedup, DASH);
        const char *noise = noise_of(r);
        bool noisy = *noise;
        if (results_num(r, RC_CV_PCT, &cvx))
            snprintf(cv, sizeof cv, "%.1f", cvx);
        else
            snprintf(cv, sizeof cv, DASH);
        if (isfinite(prev) && isfinite(m) && prev > 0)
            snprintf(change, sizeof change, "%+.1f%%", (m / prev - 1) * 100);
        else
            snprintf(change, sizeof change, DASH);
        if (isfinite(m))
            prev = m;
        const char *v = results_get(r, RC_VERDICT);
        bool bad = *v && strcmp(v, "ok") != 0 && strcmp(v, "reference") != 0;
        snprintf(note, sizeof note, "%s%s%s%s%s", h->runs[run].base ? "baseline" : "",
                 h->runs[run].base && (noisy || bad) ? ", " : "", noise, noisy && bad ? ", " : "",
                 bad ? v : "");
        const char *cells[N_COLS] = {date, h->runs[run].commit, median, speedup, cv, change, note};
        table_add(&t, cells);
    }
    table_print(f, &t, markdown);
    table_free(&t);
}

/* ---- the trend plot ----------------------------------------------------------------- */

/* The line colour of a driver: scripts/plot's palette. */
static const char *driver_colour(const char *d)
{
    static const char *const known[][2] = {
        {"sequential", "#7f7f7f"},
        {"threadpool", "#1f77b4"},
        {"processpool", "#ff7f0e"},
        {"coroutine", "#2ca02c"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(d, known[i][0]) == 0)
            return known[i][1];
    return "#9467bd";
}

/* gnuplot's dash type per profile: LOCAL solid, DELAY dashed, ERROR dotted. */
static int profile_dash(const char *p)
{
    return strcmp(p, "DELAY") == 0 ? 2 : strcmp(p, "ERROR") == 0 ? 3 : 1;
}

/* Whether configuration c goes into the plot of its workload: not a sweep row, unless
 * the workload has nothing else. */
static bool plotted(const struct history *h, size_t c)
{
    const struct results_row *r = h->rows[h->configs[c]].row;
    if (!*results_get(r, RC_SWEEP_PARAM))
        return true;
    for (size_t k = 0; k < h->n_configs; k++) {
        const struct results_row *o = h->rows[h->configs[k]].row;
        if (strcmp(results_get(o, RC_WORKLOAD), results_get(r, RC_WORKLOAD)) == 0 &&
            !*results_get(o, RC_SWEEP_PARAM))
            return false;
    }
    return true;
}

/* A configuration's legend entry: "DELAY threadpool", "sha threadpool w=2" without the
 * workload (the panel says it). */
static void plot_label(const struct results_row *key, char *buf, size_t len)
{
    const char *prof = results_get(key, RC_PROFILE), *sw = results_get(key, RC_SWEEP_PARAM);
    snprintf(buf, len, "%s%s%s%s%s%s%s", prof, *prof ? " " : "", results_get(key, RC_DRIVER),
             *sw ? " " : "", sw, *sw ? "=" : "", *sw ? results_get(key, RC_SWEEP_VALUE) : "");
}

/* gnuplot string literal contents: our values hold no quotes or backslashes, but a
 * host or commit could. */
static void gp_escape(const char *s, char *buf, size_t len)
{
    size_t k = 0;
    for (; *s && k + 2 < len; s++) {
        if (*s == '"' || *s == '\\')
            buf[k++] = '\\';
        buf[k++] = *s;
    }
    buf[k] = '\0';
}

/* Write the data (one block per plotted configuration: run index, median) and the
 * script (everything but the terminal and output) into dir. 0 or -1 with err. */
static int write_plot(const struct history *h, const char *dir, char *err, size_t errlen)
{
    char data[4096], script[4096];
    if (text_fmt(data, sizeof data, "%s/trend.dat", dir) != 0 ||
        text_fmt(script, sizeof script, "%s/trend.gp", dir) != 0) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    FILE *d = fopen(data, "w"), *g = fopen(script, "w");
    if (!d || !g) {
        snprintf(err, errlen, "cannot write %s: %s", dir, strerror(errno));
        if (d)
            fclose(d);
        if (g)
            fclose(g);
        return -1;
    }
    /* the workloads, in order of first appearance */
    const char *wls[8];
    size_t n_wl = 0;
    for (size_t c = 0; c < h->n_configs; c++) {
        const char *wl = results_get(h->rows[h->configs[c]].row, RC_WORKLOAD);
        bool seen = false;
        for (size_t k = 0; k < n_wl && !seen; k++)
            seen = strcmp(wls[k], wl) == 0;
        if (!seen && n_wl < sizeof wls / sizeof wls[0])
            wls[n_wl++] = wl;
    }
    char esc[512], label[128];
    fprintf(g, "set datafile separator \"\\t\"\n");
    fprintf(g, "set grid xtics ytics mytics lc rgb \"#dddddd\"\n"
               "set format y \"%%g\"\n"
               "set ylabel \"median wall time (s)\"\n"
               "set key outside right top\n"
               /* the same plot area in every panel, whatever its legend's width */
               "set lmargin at screen 0.07\nset rmargin at screen 0.76\nset bmargin 3.5\n");
    /* x: the run's position; its label the date and commit */
    fprintf(g, "set xrange [0.5:%zu.5]\nset xtics (", h->n_runs);
    for (size_t run = 0; run < h->n_runs; run++) {
        char date[32];
        short_date(h->runs[run].date, date, sizeof date);
        gp_escape(h->runs[run].commit, esc, sizeof esc);
        fprintf(g, "%s\"%s\\n%s\" %zu", run ? ", " : "", date + 5, esc, run + 1);
    }
    fprintf(g, ") font \",8\"\n");
    for (size_t run = 0; run < h->n_runs; run++)
        if (h->runs[run].base)
            fprintf(g,
                    "set arrow from %zu, graph 0 to %zu, graph 1 nohead dt 2 lw 2 "
                    "lc rgb \"#d62728\" front\n"
                    "set label \"baseline\" at %zu, graph 1 offset 0.5, -1 left "
                    "tc rgb \"#d62728\" front\n",
                    run + 1, run + 1, run + 1);
    fprintf(g,
            "set multiplot layout %zu,1 title \"concbench history — median per run "
            "(LOCAL solid, DELAY dashed, ERROR dotted)\"\n",
            n_wl);
    size_t block = 0;
    for (size_t w = 0; w < n_wl; w++) {
        /* The y axis fits the panel's data: logarithmic when it spans more than
         * HISTORY_LOG_SPAN, else linear from 0 so that a change reads at its true size. */
        double lo = INFINITY, hi = 0, med;
        for (size_t c = 0; c < h->n_configs; c++)
            for (size_t run = 0; run < h->n_runs; run++) {
                const struct results_row *r = row_of(h, c, run);
                if (r && strcmp(results_get(r, RC_WORKLOAD), wls[w]) == 0 && plotted(h, c) &&
                    results_num(r, RC_MEDIAN_S, &med) && med > 0) {
                    lo = med < lo ? med : lo;
                    hi = med > hi ? med : hi;
                }
            }
        if (hi > 0 && hi / lo > HISTORY_LOG_SPAN) /* tics at 1, 2, 5 × 10^k */
            fprintf(g,
                    "set logscale y\nset yrange [%g:%g]\nset ytics (0.001, 0.002, 0.005, "
                    "0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)\n",
                    lo / 1.25, hi * 1.25);
        else
            fprintf(g, "unset logscale y\nset yrange [0:%g]\nset ytics autofreq\n",
                    hi > 0 ? hi * 1.15 : 1.0);
        fprintf(g, "set title \"%s\"\nplot", wls[w]);
        bool first = true;
        for (size_t c = 0; c < h->n_configs; c++) {
            const struct results_row *key = h->rows[h->configs[c]].row;
            if (strcmp(results_get(key, RC_WORKLOAD), wls[w]) != 0 || !plotted(h, c))
                continue;
            size_t points = 0;
            for (size_t run = 0; run < h->n_runs; run++) {
                const struct results_row *r = row_of(h, c, run);
                double m;
                if (r && results_num(r, RC_MEDIAN_S, &m)) {
                    fprintf(d, "%zu\t%.9g\n", run + 1, m);
                    points++;
                }
            }
            if (!points)
                continue;
            fprintf(d, "\n\n");
            const char *prof = results_get(key, RC_PROFILE);
            plot_label(key, label, sizeof label);
            gp_escape(label, esc, sizeof esc);
            /* Configurations the legend cannot tell apart (a baseline from before the
             * downloads column, another core count) share a colour and a dash: one entry. */
            bool named = false;
            for (size_t k = 0; k < c && !named; k++) {
                char other[128];
                const struct results_row *o = h->rows[h->configs[k]].row;
                plot_label(o, other, sizeof other);
                named = strcmp(results_get(o, RC_WORKLOAD), wls[w]) == 0 && plotted(h, k) &&
                        strcmp(other, label) == 0;
            }
            fprintf(g,
                    "%s \"%s\" index %zu using 1:2 with linespoints lw 2 pt 7 ps 0.8 "
                    "dt %d lc rgb \"%s\" %s \"%s\"",
                    first ? "" : ",", data, block, profile_dash(prof),
                    driver_colour(results_get(key, RC_DRIVER)), named ? "notitle" : "title",
                    named ? "" : esc);
            first = false;
            block++;
        }
        if (first) /* nothing timed in this workload: an empty panel says so */
            fprintf(g, " NaN notitle");
        fprintf(g, "\n");
    }
    fprintf(g, "unset multiplot\n");
    int rc = (ferror(d) || ferror(g)) ? -1 : 0;
    if (fclose(d) != 0)
        rc = -1;
    if (fclose(g) != 0)
        rc = -1;
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Run gnuplot on dir/trend.gp once per format, with the terminal lines in front. */
static int draw_plot(const struct history *h, const char *dir, const char *out, char *err,
                     size_t errlen)
{
    char gnuplot[4096];
    if (!spawn_which("gnuplot", gnuplot, sizeof gnuplot)) {
        snprintf(err, errlen, "gnuplot is not installed (apt-get install gnuplot-nox)");
        return -1;
    }
    size_t n_wl = 0;
    for (size_t c = 0; c < h->n_configs; c++) {
        bool seen = false;
        for (size_t k = 0; k < c && !seen; k++)
            seen = strcmp(results_get(h->rows[h->configs[k]].row, RC_WORKLOAD),
                          results_get(h->rows[h->configs[c]].row, RC_WORKLOAD)) == 0;
        n_wl += !seen;
    }
    int height = (int)(n_wl ? n_wl : 1) * HISTORY_PANEL_HEIGHT_PX + 60;
    static const char *const ext[] = {"png", "svg"};
    static const char *const term[] = {
        "set terminal pngcairo size %d,%d font \"DejaVu Sans,10\" noenhanced",
        "set terminal svg size %d,%d font \"DejaVu Sans,10\" noenhanced background rgb \"white\"",
    };
    for (int i = 0; i < 2; i++) {
        char head[4096], terminal[256], esc[2048];
        gp_escape(out, esc, sizeof esc);
        snprintf(terminal, sizeof terminal, term[i], HISTORY_WIDTH_PX, height);
        if (text_fmt(head, sizeof head, "%s/head-%s.gp", dir, ext[i]) != 0)
            return -1;
        FILE *f = fopen(head, "w");
        if (!f) {
            snprintf(err, errlen, "cannot write %s: %s", head, strerror(errno));
            return -1;
        }
        fprintf(f, "%s\nset output \"%s.%s\"\nload \"%s/trend.gp\"\n", terminal, esc, ext[i], dir);
        fclose(f);
        char *argv[] = {gnuplot, head, NULL};
        char captured[256];
        char log[4096];
        text_fmt(log, sizeof log, "%s/gnuplot.err", dir);
        int st = spawn_capture(argv, log, captured, sizeof captured, HISTORY_GNUPLOT_TIMEOUT_S, err,
                               errlen);
        if (st < 0)
            return -1;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            char last[256];
            text_last_line(log, last, sizeof last);
            snprintf(err, errlen, "gnuplot failed on %s.%s: %s", out, ext[i], last);
            return -1;
        }
    }
    return 0;
}

/* --plot OUT: OUT.png and OUT.svg ("OUT.png" given is taken as OUT). */
static int plot_history(const struct history *h, const char *out_arg)
{
    char out[4096], dir[4096], err[9000] = "";
    size_t n = strlen(out_arg);
    if (n > 4 && (strcmp(out_arg + n - 4, ".png") == 0 || strcmp(out_arg + n - 4, ".svg") == 0))
        n -= 4;
    const char *tmpdir = getenv("TMPDIR");
    if (text_fmt(out, sizeof out, "%.*s", (int)n, out_arg) != 0 ||
        text_fmt(dir, sizeof dir, "%s/concbench-history.XXXXXX",
                 tmpdir && *tmpdir ? tmpdir : "/tmp") != 0 ||
        !mkdtemp(dir)) {
        fprintf(stderr, "concbench: history: cannot make a scratch directory: %s\n",
                strerror(errno));
        return 1;
    }
    int rc =
        write_plot(h, dir, err, sizeof err) == 0 && draw_plot(h, dir, out, err, sizeof err) == 0
            ? 0
            : 1;
    if (rc)
        fprintf(stderr, "concbench: history: %s\n", err);
    else
        fprintf(stderr, "concbench: history: wrote %s.png %s.svg\n", out, out);
    /* the scratch files: trend.dat, trend.gp, head-*.gp, gnuplot.err */
    static const char *const scratch[] = {"trend.dat", "trend.gp", "head-png.gp", "head-svg.gp",
                                          "gnuplot.err"};
    for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; i++) {
        char p[4200];
        if (text_fmt(p, sizeof p, "%s/%s", dir, scratch[i]) == 0)
            remove(p);
    }
    rmdir(dir);
    return rc;
}

int history_main(int argc, char **argv)
{
    const char *base = NULL, *plot = NULL, *color = "auto";
    bool markdown = false;
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    size_t n_paths = 0;
    if (!paths)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            history_usage(stdout);
            free(paths);
            return 0;
        } else if (strcmp(a, "--markdown") == 0) {
            markdown = true;
        } else if ((strcmp(a, "--base") == 0 || strcmp(a, "--plot") == 0 ||
                    strcmp(a, "--color") == 0) &&
                   i + 1 < argc) {
            *(a[2] == 'b' ? &base : a[2] == 'p' ? &plot : &color) = argv[++i];
        } else if (a[0] != '-') {
            paths[n_paths++] = a;
        } else {
            fprintf(stderr, "concbench: history: unexpected argument '%s'\n", a);
            history_usage(stderr);
            free(paths);
            return 2;
        }
    }
    if (table_color_choose(color, stdout) != 0) {
        fprintf(stderr,
                "concbench: history: bad value for --color: '%s' (want auto, always "
                "or never)\n",
                color);
        free(paths);
        return 2;
    }
    if (!n_paths && !base) {
        fprintf(stderr, "concbench: history: needs one or more RESULTS.csv\n");
        history_usage(stderr);
        free(paths);
        return 2;
    }
    struct history h = {0};
    int status = 0;
    size_t n_files = n_paths + (base ? 1 : 0);
    h.files = calloc(n_files, sizeof *h.files);
    if (!h.files) {
        free(paths);
        return 1;
    }
    /* The baseline first, so that its rows are the ones kept should it be listed again. */
    for (size_t i = 0; i < n_files && status == 0; i++) {
        const char *p = base ? (i == 0 ? base : paths[i - 1]) : paths[i];
        char err[512];
        if (results_read(p, &h.files[h.n_files], err, sizeof err) != 0) {
            fprintf(stderr, "concbench: history: %s: %s\n", p, err);
            status = 1;
            break;
        }
        h.n_files++;
        if (add_file(&h, &h.files[h.n_files - 1], base && i == 0) != 0)
            status = 1;
    }
    if (status == 0 && organise(&h) != 0)
        status = 1;
    if (status == 0) {
        if (h.n_configs == 0)
            fprintf(stderr, "concbench: history: the files hold no rows\n");
        for (size_t c = 0; c < h.n_configs; c++) {
            if (c)
                fputc('\n', stdout);
            print_config(stdout, &h, c, markdown);
        }
        fflush(stdout);
        if (plot && h.n_configs)
            status = plot_history(&h, plot);
    }
    history_free(&h);
    free(paths);
    return status;
}
