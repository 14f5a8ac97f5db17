/* table — aligned text and Markdown tables of results. */
#include "table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

#define DASH "—" /* not measured / not applicable */

void table_init(struct table *t, const char *const *headers, const char *align, size_t n_cols)
{
    memset(t, 0, sizeof *t);
    t->headers = headers;
    t->align = align;
    t->n_cols = n_cols;
}

int table_add(struct table *t, const char *const *cells)
{
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 16;
        char **c = realloc(t->cells, cap * t->n_cols * sizeof *c);
        if (!c)
            return -1;
        t->cells = c;
        t->cap_rows = cap;
    }
    char **row = &t->cells[t->n_rows * t->n_cols];
    for (size_t i = 0; i < t->n_cols; i++) {
        row[i] = strdup(cells[i] ? cells[i] : "");
        if (!row[i]) {
            while (i--)
                free(row[i]);
            return -1;
        }
    }
    t->n_rows++;
    return 0;
}

void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

size_t table_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* The one setting of this module: whether plain tables colour their verdict cells. Set once
 * by the command before it prints (table_color_choose). */
static bool use_color;

int table_color_choose(const char *when, FILE *f)
{
    if (strcmp(when, "always") == 0)
        use_color = true;
    else if (strcmp(when, "never") == 0)
        use_color = false;
    else if (strcmp(when, "auto") == 0)
        /* https://no-color.org: any non-empty NO_COLOR turns colour off by default */
        use_color = isatty(fileno(f)) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    else
        return -1;
    return 0;
}

/* The ANSI colour of a verdict cell, or NULL: red for what fails, yellow for noise. */
static const char *verdict_color(const char *s)
{
    static const char *const red[] = {"REGRESSION", "MISMATCH", "FAILED", "NOISY"};
    for (size_t i = 0; i < sizeof red / sizeof red[0]; i++)
        if (strncmp(s, red[i], strlen(red[i])) == 0)
            return "\033[1;31m";
    if (strncmp(s, "inconclusive", 12) == 0 || strstr(s, "noisy"))
        return "\033[33m";
    if (strcmp(s, "ok") == 0 || strcmp(s, "faster") == 0 || strcmp(s, "reference") == 0)
        return "\033[32m";
    return NULL;
}

static void pad(FILE *f, size_t n)
{
    while (n--)
        fputc(' ', f);
}

void table_print(FILE *f, const struct table *t, bool markdown)
{
    size_t *w = calloc(t->n_cols, sizeof *w);
    if (!w)
        return;
    for (size_t c = 0; c < t->n_cols; c++) {
        w[c] = table_width(t->headers[c]);
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t x = table_width(t->cells[r * t->n_cols + c]);
            if (x > w[c])
                w[c] = x;
        }
    }
    /* The header, then (Markdown) the alignment row or (plain) a rule. */
    for (size_t r = 0; r <= t->n_rows + 1; r++) {
        if (markdown)
            fputs("|", f);
        for (size_t c = 0; c < t->n_cols; c++) {
            bool right = t->align[c] == 'r';
            if (r == 1) {
                if (markdown) {
                    fputs(right ? " " : " :", f);
                    for (size_t i = 0; i < w[c] - 1; i++)
                        fputc('-', f);
                    fputs(right ? ": |" : " |", f);
                } else {
                    for (size_t i = 0; i < w[c]; i++)
                        fputs("─", f);
                    if (c + 1 < t->n_cols)
                        fputs("  ", f);
                }
                continue;
            }
            const char *s = r == 0 ? t->headers[c] : t->cells[(r - 2) * t->n_cols + c];
            size_t gap = w[c] - table_width(s);
            if (markdown)
                fputc(' ', f);
            if (right)
                pad(f, gap);
            const char *color = use_color && !markdown && r >= 2 ? verdict_color(s) : NULL;
            fprintf(f, "%s%s%s", color ? color : "", s, color ? "\033[0m" : "");
            /* No trailing blanks after the last plain column. */
            if (!right && (markdown || c + 1 < t->n_cols))
                pad(f, gap);
            if (markdown)
                fputs(" |", f);
            else if (c + 1 < t->n_cols)
                fputs("  ", f);
        }
        fputc('\n', f);
    }
    free(w);
}

void table_fmt_time(char *buf, size_t len, double s, bool ms)
{
    if (!isfinite(s))
        snprintf(buf, len, DASH);
    else if (ms)
        snprintf(buf, len, "%.1f ms", s * 1e3);
    else
        snprintf(buf, len, "%.3f s", s);
}

/* Same group: same workload and profile. */
static bool same_group(const struct results_row *a, const struct results_row *b)
{
    return strcmp(results_get(a, RC_WORKLOAD), results_get(b, RC_WORKLOAD)) == 0 &&
           strcmp(results_get(a, RC_PROFILE), results_get(b, RC_PROFILE)) == 0;
}

static void title(FILE *f, const struct results_row *r, bool markdown)
{
    const char *wl = results_get(r, RC_WORKLOAD), *prof = results_get(r, RC_PROFILE);
    double items = NAN, delay = NAN, size = NAN, site = NAN;
    results_num(r, RC_ITEMS, &items);
    results_num(r, RC_DELAY_MS, &delay);
    results_num(r, RC_SIZE_BYTES, &size);
    results_num(r, RC_SITE_PAGES, &site);
    char what[400], count[160];
    const struct workload_def *def = workload_find(wl); /* NULL: a file from elsewhere */
    const char *items_word = def && def->items_word ? def->items_word : "codes";
    const char *delay_limit = def ? def->delay_limit : "L·⌈N/C⌉";
    /* A row with a site size is a crawl of flagd's site: the site's pages first, then the
     * URLs fetched (its 404 links too, fewer where a 5xx page hid its children). */
    if (isfinite(site))
        snprintf(count, sizeof count, "%.0f pages (%.0f URLs fetched, 404 links included)", site,
                 items);
    else
        snprintf(count, sizeof count, "%.0f %s", items, items_word);
    /* A row with a buffer size is a hashing row (only a CPU-bound workload writes
     * size_bytes), so no workload is named here. */
    if (isfinite(size)) {
        snprintf(what, sizeof what,
                 "%.0f jobs × %.0f MiB · limit: bytes ÷ (one core's "
                 "OpenSSL SHA-256 rate × min(workers, cores))",
                 items, size / (1 << 20));
    } else if (strcmp(prof, "DELAY") == 0) {
        snprintf(what, sizeof what, "%s, every response delayed %.0f ms%s%s", count, delay,
                 delay_limit ? " · limit: " : "", delay_limit ? delay_limit : "");
    } else if (strcmp(prof, "ERROR") == 0) {
        snprintf(what, sizeof what, "%s, a quarter answer 5xx, half delayed %.0f ms", count, delay);
    } else if (strcmp(prof, "LOCAL") == 0) {
        snprintf(what, sizeof what, "%s, no delay", count);
    } else {
        snprintf(what, sizeof what, "%s", count);
    }
    const char *fs = results_get(r, RC_DOWNLOADS);
    if (*fs) {
        size_t k = strlen(what);
        bool ram = strcmp(fs, "tmpfs") == 0 || strcmp(fs, "ramfs") == 0;
        snprintf(what + k, sizeof what - k, " · files saved to %s%s, emptied before every run", fs,
                 ram ? " (RAM)" : " (disk)");
    }
    if (markdown)
        fprintf(f, "### %s%s%s\n\n%s\n\n", wl, *prof ? " · " : "", prof, what);
    else
        fprintf(f, "%s%s%s — %s\n", wl, *prof ? " · " : "", prof, what);
}

static void print_group(FILE *f, const struct results_row *rows, size_t n, bool markdown)
{
    static const char *const headers[] = {
        "driver",  "m/w",     "runs", "median", "min–max",    "CV%",
        "speedup", "% limit", "CPU",  "RSS",    "ok/404/err", "verdict",
    };
    enum { N_COLS = sizeof headers / sizeof headers[0] };
    struct table t;
    table_init(&t, headers, "lrrrrrrrrrrl", N_COLS);

    /* One unit per table, from its slowest median: seconds from 1 s up. */
    double slowest = 0;
    for (size_t i = 0; i < n; i++) {
        double m;
        if (results_num(&rows[i], RC_MEDIAN_S, &m) && m > slowest)
            slowest = m;
    }
    bool ms = slowest < 1.0;
    bool sha = strcmp(results_get(&rows[0], RC_WORKLOAD), "sha") == 0;
    for (size_t i = 0; i < n; i++) {
        const struct results_row *r = &rows[i];
        char mw[32], median[32], range[80], lo[32], hi[32], cv[16], speedup[16], pct[16], cpu[32],
            rss[32], counts[64], driver[96];
        double x, y;
        const char *sw = results_get(r, RC_SWEEP_PARAM);
        if (*sw)
            snprintf(driver, sizeof driver, "%s (%s=%s)", results_get(r, RC_DRIVER), sw,
                     results_get(r, RC_SWEEP_VALUE));
        else
            snprintf(driver, sizeof driver, "%s", results_get(r, RC_DRIVER));
        snprintf(mw, sizeof mw, "%s",
                 results_get(r, sha ? RC_WORKERS : RC_CONCURRENCY)[0]
                     ? results_get(r, sha ? RC_WORKERS : RC_CONCURRENCY)
                     : DASH);
        table_fmt_time(median, sizeof median, results_num(r, RC_MEDIAN_S, &x) ? x : NAN, ms);
        if (results_num(r, RC_MIN_S, &x) && results_num(r, RC_MAX_S, &y)) {
            snprintf(lo, sizeof lo, ms ? "%.1f" : "%.3f", ms ? x * 1e3 : x);
            snprintf(hi, sizeof hi, ms ? "%.1f" : "%.3f", ms ? y * 1e3 : y);
            snprintf(range, sizeof range, "%s–%s", lo, hi);
        } else {
            snprintf(range, sizeof range, DASH);
        }
        if (results_num(r, RC_CV_PCT, &x))
            snprintf(cv, sizeof cv, "%.1f", x);
        else
            snprintf(cv, sizeof cv, DASH);
        if (results_num(r, RC_SPEEDUP, &x))
            snprintf(speedup, sizeof speedup, "%.2f×", x);
        else
            snprintf(speedup, sizeof speedup, DASH);
        if (results_num(r, RC_PCT_LIMIT, &x))
            snprintf(pct, sizeof pct, "%.0f%%", x);
        else
            snprintf(pct, sizeof pct, DASH);
        if (results_num(r, RC_USER_S, &x) && results_num(r, RC_SYS_S, &y))
            snprintf(cpu, sizeof cpu, "%.2f s", x + y);
        else
            snprintf(cpu, sizeof cpu, DASH);
        if (results_num(r, RC_MAX_RSS_KB, &x))
            snprintf(rss, sizeof rss, "%.1f MiB", x / 1024);
        else
            snprintf(rss, sizeof rss, DASH);
        if (*results_get(r, RC_OK))
            snprintf(counts, sizeof counts, "%s/%s/%s", results_get(r, RC_OK),
                     results_get(r, RC_NOT_FOUND), results_get(r, RC_ERRORS));
        else
            snprintf(counts, sizeof counts, DASH);
        const char *runs = results_get(r, RC_RUNS);
        char verdict[64];
        snprintf(verdict, sizeof verdict, "%s%s", results_get(r, RC_VERDICT),
                 strcmp(results_get(r, RC_NOISE), "noisy") == 0 ? " · noisy" : "");
        const char *cells[N_COLS] = {
            driver, mw,      *runs ? runs : DASH, median, range, cv, speedup, pct, cpu, rss,
            counts, verdict,
        };
        table_add(&t, cells);
    }
    table_print(f, &t, markdown);
    table_free(&t);
    /* Notes: why a row is not ok, then why it is noisy. */
    bool notes = false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const char *why = results_get(&rows[i], pass ? RC_NOISE_REASON : RC_REASON);
            if (!*why)
                continue;
            if (!notes && markdown)
                fputc('\n', f);
            notes = true;
            fprintf(f, "%s%s: %s — %s\n", markdown ? "- " : "  ", results_get(&rows[i], RC_DRIVER),
                    pass ? "noisy" : results_get(&rows[i], RC_VERDICT), why);
        }
    }
}

void table_print_results(FILE *f, const struct results_row *rows, size_t n, bool markdown)
{
    bool *done = calloc(n ? n : 1, sizeof *done);
    struct results_row *copy = calloc(n ? n : 1, sizeof *copy);
    if (!done || !copy) {
        free(done);
        free(copy);
        return;
    }
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        size_t k = 0;
        for (size_t j = i; j < n; j++) {
            if (!done[j] && same_group(&rows[i], &rows[j])) {
                done[j] = true;
                copy[k++] = rows[j]; /* shallow: the strings stay the caller's */
            }
        }
        if (!first)
            fputc('\n', f);
        first = false;
        title(f, &rows[i], markdown);
        print_group(f, copy, k, markdown);
    }
    free(done);
    free(copy);
}
