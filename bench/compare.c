/* compare — the gate: matched configurations judged by significance and size. */
#include "compare.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "noise.h"
#include "stats.h"
#include "table.h"
#include "text.h"
#include "timing.h"

#define REFERENCE_DRIVER "sequential"
#define COMPARE_MAX_ONLY 256

void compare_usage(FILE *f)
{
    fprintf(f,
            "usage: concbench compare BASE.csv NEW.csv [--threshold PCT] [--check speedup,time]\n"
            "                         [--alpha A] [--allow-missing] [--trust-noisy] [--only FILE]\n"
            "                         [--flagged FILE] [--markdown] [--color auto|always|never]\n"
            "\n"
            "A statistical gate, in the way of benchstat. Rows are matched by configuration\n"
            "(workload, profile, driver, sweep value, items, job size, delay, workers,\n"
            "concurrency, cores) and judged from the per-run times the harness keeps\n"
            "(the times_s column, or the raw hyperfine JSON it names):\n"
            "  time     the configuration's own time: a two-sided Mann–Whitney U test of BASE's\n"
            "           runs against NEW's (exact for small samples). Catches a slowdown that\n"
            "           every driver shares, the sequential one included.\n"
            "  speedup  the driver's speedup over the sequential driver of its own run: a %d-\n"
            "           resample bootstrap interval (1 − α) of speedup_new / speedup_base.\n"
            "           Survives a slower machine.\n"
            "A change counts only when it is significant (p < α; the interval excludes 1) and\n"
            "larger than PCT. A change larger than PCT that is not significant, one measured\n"
            "while other processes used the machine (the row's foreign CPU, or a run marked\n"
            "noisy), or one of a row whose runs vary by more than 10%% (CV) on either side, is\n"
            "inconclusive: reported, never called a regression.\n"
            "\n"
            "  --threshold PCT    the smallest change that counts (default %.0f)\n"
            "  --check LIST       speedup, time, or both (default both)\n"
            "  --alpha A          significance level (default %.2f)\n"
            "  --allow-missing    rows of BASE absent from NEW, a NEW without a sequential row,\n"
            "                     or an empty NEW are reported but do not fail\n"
            "  --trust-noisy      judge rows measured while other processes used the machine\n"
            "                     (a shared runner you accept as it is) instead of calling\n"
            "                     their changes inconclusive\n"
            "  --only FILE        judge only the configurations listed (one per line, as\n"
            "                     --flagged writes them); the others are ignored\n"
            "  --flagged FILE     write the regressed configurations there (tab-separated:\n"
            "                     workload, profile, driver, sweep param, sweep value) when\n"
            "                     regressions are the only failures, for a re-measurement\n"
            "                     (make bench-ci); otherwise remove FILE\n"
            "  --markdown         print the table as Markdown\n"
            "  --color WHEN       colour the verdicts: auto (default: on a terminal, unless\n"
            "                     NO_COLOR is set), always, never\n"
            "\n"
            "Exit: 0 no regression; 1 a regression, a NEW row MISMATCH/FAILED, or rows missing\n"
            "(see --allow-missing); 2 bad usage or a file that is not a results CSV (the error\n"
            "names its line and column); 3 inconclusive: no regression shown, but some change\n"
            "was too noisy to judge — measure again on a quieter machine.\n",
            STATS_BOOTSTRAP_ITERATIONS, COMPARE_DEFAULT_THRESHOLD_PCT, COMPARE_DEFAULT_ALPHA);
}

/* The columns that identify a configuration across runs. */
static const enum results_col key_cols[] = {
    RC_WORKLOAD,   RC_PROFILE,  RC_DRIVER,  RC_SWEEP_PARAM, RC_SWEEP_VALUE, RC_ITEMS,
    RC_SIZE_BYTES, RC_DELAY_MS, RC_WORKERS, RC_CONCURRENCY, RC_CORES,
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

static void key_of(const struct results_row *r, struct compare_key *k)
{
    memset(k, 0, sizeof *k); /* compared with memcmp: no stray bytes after the strings */
    text_fmt(k->workload, sizeof k->workload, "%s", results_get(r, RC_WORKLOAD));
    text_fmt(k->profile, sizeof k->profile, "%s", results_get(r, RC_PROFILE));
    text_fmt(k->driver, sizeof k->driver, "%s", results_get(r, RC_DRIVER));
    text_fmt(k->sweep_param, sizeof k->sweep_param, "%s", results_get(r, RC_SWEEP_PARAM));
    text_fmt(k->sweep_value, sizeof k->sweep_value, "%s", results_get(r, RC_SWEEP_VALUE));
}

static bool listed(const struct compare_options *o, const struct results_row *r)
{
    if (!o->only)
        return true;
    struct compare_key k;
    key_of(r, &k);
    for (size_t i = 0; i < o->n_only; i++)
        if (memcmp(&k, &o->only[i], sizeof k) == 0)
            return true;
    return false;
}

static bool validated(const struct results_row *r)
{
    const char *v = results_get(r, RC_VERDICT);
    return strcmp(v, "ok") == 0 || strcmp(v, "reference") == 0;
}

static bool is_reference(const struct results_row *r)
{
    return strcmp(results_get(r, RC_DRIVER), REFERENCE_DRIVER) == 0 &&
           !*results_get(r, RC_SWEEP_PARAM);
}

/* The sequential row of r's run and group in f, or NULL. */
static const struct results_row *reference_of(const struct results_file *f,
                                              const struct results_row *r)
{
    for (size_t i = 0; i < f->n_rows; i++) {
        const struct results_row *s = &f->rows[i];
        if (is_reference(s) && strcmp(results_get(s, RC_RUN_ID), results_get(r, RC_RUN_ID)) == 0 &&
            strcmp(results_get(s, RC_WORKLOAD), results_get(r, RC_WORKLOAD)) == 0 &&
            strcmp(results_get(s, RC_PROFILE), results_get(r, RC_PROFILE)) == 0)
            return s;
    }
    return NULL;
}

/* A row's per-run times: its times_s column, else the raw hyperfine JSON it names
 * (relative to dir). Empty when neither is there. The caller frees x. */
struct times {
    double *x;
    size_t n;
};

static struct times row_times(const struct results_row *r, const char *dir)
{
    struct times t = {NULL, 0};
    const char *s = results_get(r, RC_TIMES_S);
    if (*s) {
        size_t cap = 1;
        for (const char *p = s; *p; p++)
            cap += *p == ' ';
        t.x = malloc(cap * sizeof *t.x);
        /* cap counts the spaces: read at most that many values, and stop at anything but a
         * space between them (strtod would also take "+1", a tab or a newline as a start) */
        for (char *p = (char *)s, *end; t.x && *p && t.n < cap; p = end) {
            double v = strtod(p, &end);
            if (end == p || (*end && *end != ' '))
                break;
            if (isfinite(v) && v > 0)
                t.x[t.n++] = v;
        }
        return t;
    }
    const char *raw = results_get(r, RC_RAW);
    if (*raw && dir) {
        char path[PATH_MAX + 256], err[256];
        text_fmt(path, sizeof path, "%s/%s", dir, raw);
        struct timing_result tr;
        memset(&tr, 0, sizeof tr);
        if (timing_read_json(path, &tr, err, sizeof err) == 0) {
            t.x = tr.times;
            t.n = tr.n_times;
        }
    }
    return t;
}

/* Why a row's measurement cannot be trusted to judge a change ("" when it can). */
static void disturbed(const struct results_row *r, const char *which, char *why, size_t len)
{
    double f;
    if (strcmp(results_get(r, RC_RUN_NOISE), "noisy") == 0)
        text_fmt(why, len, "the %s run was noisy", which);
    else if (results_num(r, RC_FOREIGN_CPU_PCT, &f) &&
             strstr(results_get(r, RC_NOISE_REASON), "foreign CPU"))
        text_fmt(why, len, "other processes used %.0f%% of the machine during %s", f, which);
}

static void label(const struct results_row *r, char *buf, size_t len)
{
    const char *prof = results_get(r, RC_PROFILE), *sw = results_get(r, RC_SWEEP_PARAM);
    int n = snprintf(buf, len, "%s%s%s %s", results_get(r, RC_WORKLOAD), *prof ? " " : "", prof,
                     results_get(r, RC_DRIVER));
    if (*sw && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " %s=%s", sw, results_get(r, RC_SWEEP_VALUE));
}

static void fmt_pct(char *buf, size_t len, double ratio)
{
    if (isfinite(ratio))
        text_fmt(buf, len, "%+.1f%%", 100.0 * (ratio - 1));
    else
        text_fmt(buf, len, "—");
}

/* One check's outcome. */
enum change { SAME, SLOWER, FASTER, UNSURE };

/* A ratio r (new/base, >1 worse when worse_above) with its significance: beyond the
 * threshold and significant → SLOWER/FASTER; beyond it but not significant → UNSURE. */
static enum change judge(double r, bool significant, double thr, bool worse_above)
{
    if (!isfinite(r))
        return SAME;
    bool worse = worse_above ? r > 1 + thr : r < 1 - thr;
    bool better = worse_above ? r < 1 - thr : r > 1 + thr;
    if (!worse && !better)
        return SAME;
    if (!significant)
        return worse ? UNSURE : SAME; /* an unconfirmed gain is no reason to hold a gate */
    return worse ? SLOWER : FASTER;
}

struct row_judgement {
    char time_change[24], speedup_change[24], p[24];
    const char *verdict;
    char note[200];
};

/* Judge one matched, validated pair. */
static enum change judge_pair(const struct results_file *base, const char *base_dir,
                              const struct results_row *br, const struct results_file *cur,
                              const char *cur_dir, const struct results_row *nr,
                              const struct compare_options *o, struct row_judgement *j)
{
    double thr = o->threshold_pct / 100;
    double change_pct = 0; /* the largest change judged, in percent */
    enum change tc = SAME, sc = SAME;
    struct times tb = row_times(br, base_dir), tn = row_times(nr, cur_dir);
    bool have_times = tb.n > 0 && tn.n > 0;
    if (o->check_time && have_times) {
        struct stats sb, sn;
        double ratio = stats_compute(tb.x, tb.n, &sb) == 0 && stats_compute(tn.x, tn.n, &sn) == 0
                           ? sn.median / sb.median
                           : NAN; /* NaN: out of memory, judged SAME */
        double p = stats_mann_whitney_p(tb.x, tb.n, tn.x, tn.n);
        fmt_pct(j->time_change, sizeof j->time_change, ratio);
        text_fmt(j->p, sizeof j->p, "p=%.3f", p);
        tc = judge(ratio, p < o->alpha, thr, true);
        change_pct = 100.0 * fabs(ratio - 1);
    }
    const struct results_row *bs = reference_of(base, br), *ns = reference_of(cur, nr);
    if (o->check_speedup && have_times && !is_reference(nr) && bs && ns) {
        struct times tbs = row_times(bs, base_dir), tns = row_times(ns, cur_dir);
        if (tbs.n && tns.n) {
            /* speedup_new / speedup_base = (seq_new / drv_new) / (seq_base / drv_base) */
            struct stats_sample top[2] = {{tns.x, tns.n}, {tb.x, tb.n}};
            struct stats_sample bottom[2] = {{tn.x, tn.n}, {tbs.x, tbs.n}};
            struct stats a, b, c, d;
            bool ok = stats_compute(tns.x, tns.n, &a) == 0 && stats_compute(tb.x, tb.n, &b) == 0 &&
                      stats_compute(tn.x, tn.n, &c) == 0 && stats_compute(tbs.x, tbs.n, &d) == 0;
            double ratio = ok ? a.median * b.median / (c.median * d.median) : NAN, lo, hi;
            if (stats_bootstrap_ratio_ci(top, 2, bottom, 2, 1 - o->alpha, &lo, &hi) == 0) {
                fmt_pct(j->speedup_change, sizeof j->speedup_change, ratio);
                sc = judge(ratio, lo > 1 || hi < 1, thr, false);
                if (sc == SLOWER && 100.0 * fabs(ratio - 1) > change_pct)
                    change_pct = 100.0 * fabs(ratio - 1);
            }
        }
        free(tbs.x);
        free(tns.x);
    }
    free(tb.x);
    free(tn.x);

    if (!have_times && (o->check_time || o->check_speedup)) {
        j->verdict = "inconclusive";
        text_fmt(j->note, sizeof j->note, "no per-run times to test (times_s or raw JSON)");
        return UNSURE;
    }
    enum change worst = tc == SLOWER || sc == SLOWER   ? SLOWER
                        : tc == UNSURE || sc == UNSURE ? UNSURE
                        : tc == FASTER || sc == FASTER ? FASTER
                                                       : SAME;
    if ((worst == SLOWER || worst == UNSURE) && !o->trust_noisy) {
        char why[160] = "";
        disturbed(nr, "NEW", why, sizeof why);
        if (!why[0])
            disturbed(br, "BASE", why, sizeof why);
        if (!why[0] && ns)
            disturbed(ns, "NEW's sequential row", why, sizeof why);
        /* Runs that spread wider than the noise bound on either side, by enough to explain
         * the change (within COMPARE_NOISE_SPREADS coefficients of variation): a shift
         * between two sessions of such a row is not a change of the code. A change larger
         * than that is judged like any other. */
        const struct results_row *judged[4] = {nr, br, sc == SLOWER ? ns : NULL,
                                               sc == SLOWER ? bs : NULL};
        for (int k = 0; k < 4 && !why[0]; k++) {
            double cv;
            if (judged[k] && results_num(judged[k], RC_CV_PCT, &cv) && cv > NOISE_CV_MAX_PCT &&
                change_pct < COMPARE_NOISE_SPREADS * cv)
                text_fmt(why, sizeof why, "%s runs vary by %.0f%% (CV): too noisy to judge",
                         k == 0   ? "NEW's"
                         : k == 1 ? "BASE's"
                                  : "a sequential row's",
                         cv);
        }
        /* Measured under different conditions: not the same experiment. */
        static const enum results_col conditions[] = {RC_CPU_IDLE, RC_DOWNLOADS};
        for (size_t k = 0; k < 2 && !why[0]; k++) {
            const char *a = results_get(br, conditions[k]), *b = results_get(nr, conditions[k]);
            if (*a && *b && strcmp(a, b) != 0)
                text_fmt(why, sizeof why, "BASE %s %s, NEW %s",
                         results_schema()[conditions[k]].name, a, b);
        }
        if (why[0]) {
            j->verdict = "inconclusive";
            text_fmt(j->note, sizeof j->note, "%s", why);
            return UNSURE;
        }
    }
    switch (worst) {
    case SLOWER:
        j->verdict = "REGRESSION";
        text_fmt(j->note, sizeof j->note, "%s%s%s", tc == SLOWER ? "time" : "",
                 tc == SLOWER && sc == SLOWER ? " and " : "", sc == SLOWER ? "speedup" : "");
        break;
    case UNSURE:
        j->verdict = "inconclusive";
        text_fmt(j->note, sizeof j->note, "beyond %.0f%% but not significant: too noisy to judge",
                 o->threshold_pct);
        break;
    case FASTER: j->verdict = "faster"; break;
    default: j->verdict = "ok";
    }
    return worst;
}

static void add_flagged(struct compare_summary *s, const struct results_row *r)
{
    struct compare_key *v = realloc(s->flagged, (s->n_flagged + 1) * sizeof *v);
    if (!v)
        return;
    s->flagged = v;
    key_of(r, &s->flagged[s->n_flagged++]);
}

int compare_results(const struct results_file *base, const char *base_dir,
                    const struct results_file *cur, const char *cur_dir,
                    const struct compare_options *o, FILE *f, struct compare_summary *s)
{
    static const char *const headers[] = {
        "configuration", "base median", "new median", "time", "p", "speedup", "verdict", "note",
    };
    enum { N_COLS = sizeof headers / sizeof headers[0] };
    memset(s, 0, sizeof *s);
    struct table t;
    table_init(&t, headers, "lrrrrrll", N_COLS);
    bool *used = calloc(base->n_rows ? base->n_rows : 1, sizeof *used);
    if (!used)
        return COMPARE_FAIL;
    size_t n_new = 0;
    for (size_t i = 0; i < cur->n_rows; i++) {
        const struct results_row *nr = &cur->rows[i];
        if (!listed(o, nr))
            continue;
        n_new++;
        const struct results_row *br = NULL;
        for (size_t k = 0; k < base->n_rows; k++) {
            if (!used[k] && same_config(&base->rows[k], nr)) {
                br = &base->rows[k];
                used[k] = true;
                break;
            }
        }
        char name[160], bm[32] = "—", nm[32];
        struct row_judgement j = {"—", "—", "—", "new", ""};
        label(nr, name, sizeof name);
        double x;
        table_fmt_time(nm, sizeof nm, results_num(nr, RC_MEDIAN_S, &x) ? x : NAN, false);
        if (!validated(nr)) {
            j.verdict = results_get(nr, RC_VERDICT);
            text_fmt(j.note, sizeof j.note, "%s", results_get(nr, RC_REASON));
            s->invalid++;
            if (br)
                s->matched++;
            else
                s->only_new++;
        } else if (br) {
            s->matched++;
            table_fmt_time(bm, sizeof bm, results_num(br, RC_MEDIAN_S, &x) ? x : NAN, false);
            if (!validated(br)) {
                j.verdict = "inconclusive";
                text_fmt(j.note, sizeof j.note, "BASE row %s: nothing to judge against",
                         results_get(br, RC_VERDICT));
                s->inconclusive++;
            } else {
                switch (judge_pair(base, base_dir, br, cur, cur_dir, nr, o, &j)) {
                case SLOWER:
                    s->regressions++;
                    add_flagged(s, nr);
                    break;
                case UNSURE: s->inconclusive++; break;
                case FASTER: s->improvements++; break;
                default: break;
                }
            }
        } else {
            s->only_new++;
        }
        const char *cells[N_COLS] = {name,      bm,    nm, j.time_change, j.p, j.speedup_change,
                                     j.verdict, j.note};
        table_add(&t, cells);
    }
    char first_missing[160] = "";
    for (size_t k = 0; k < base->n_rows; k++) {
        if (used[k] || !listed(o, &base->rows[k]))
            continue;
        s->only_base++;
        char name[160], bm[32];
        label(&base->rows[k], name, sizeof name);
        if (!first_missing[0])
            text_fmt(first_missing, sizeof first_missing, "%s", name);
        double x;
        table_fmt_time(bm, sizeof bm, results_num(&base->rows[k], RC_MEDIAN_S, &x) ? x : NAN,
                       false);
        const char *cells[N_COLS] = {name, bm, "—", "—", "—", "—", "not in new", ""};
        table_add(&t, cells);
    }
    /* A group of NEW with rows but no sequential row cannot have speedups. */
    for (size_t i = 0; i < cur->n_rows; i++) {
        const struct results_row *nr = &cur->rows[i];
        if (listed(o, nr) && !reference_of(cur, nr)) {
            bool seen = false;
            for (size_t k = 0; k < i && !seen; k++)
                seen = listed(o, &cur->rows[k]) && !reference_of(cur, &cur->rows[k]) &&
                       strcmp(results_get(&cur->rows[k], RC_WORKLOAD),
                              results_get(nr, RC_WORKLOAD)) == 0 &&
                       strcmp(results_get(&cur->rows[k], RC_PROFILE),
                              results_get(nr, RC_PROFILE)) == 0;
            if (!seen)
                s->missing_reference++;
        }
    }
    free(used);
    table_print(f, &t, o->markdown);
    table_free(&t);
    fprintf(f,
            "%s%zu matched, %zu regressed beyond %.0f%%, %zu inconclusive, %zu faster, "
            "%zu not validated, %zu only in base, %zu only in new\n",
            o->markdown ? "\n" : "", s->matched, s->regressions, o->threshold_pct, s->inconclusive,
            s->improvements, s->invalid, s->only_base, s->only_new);

    bool any_cores_differ = false;
    if (base->n_rows && cur->n_rows)
        any_cores_differ = strcmp(results_get(&base->rows[0], RC_CORES),
                                  results_get(&cur->rows[0], RC_CORES)) != 0;
    if (n_new == 0 && !o->allow_missing) {
        text_fmt(s->reason, sizeof s->reason, "NEW has no rows%s (header only?)",
                 o->only ? " for the configurations asked for" : "");
        return COMPARE_FAIL;
    }
    if (s->matched == 0 && n_new > 0 && !o->allow_missing) {
        text_fmt(s->reason, sizeof s->reason,
                 "no row of NEW matches one of BASE (an empty or "
                 "foreign BASE?)%s",
                 any_cores_differ ? "; the two were measured on different "
                                    "core counts"
                                  : "");
        return COMPARE_FAIL;
    }
    if (s->regressions || s->invalid) {
        text_fmt(s->reason, sizeof s->reason, "%zu regression%s, %zu row%s not validated",
                 s->regressions, s->regressions == 1 ? "" : "s", s->invalid,
                 s->invalid == 1 ? "" : "s");
        return COMPARE_FAIL;
    }
    if (s->missing_reference && !o->allow_missing) {
        text_fmt(s->reason, sizeof s->reason,
                 "NEW has %zu group%s without a sequential row: "
                 "no speedup can be judged",
                 s->missing_reference, s->missing_reference == 1 ? "" : "s");
        return COMPARE_FAIL;
    }
    if (s->only_base && !o->allow_missing) {
        text_fmt(s->reason, sizeof s->reason, "NEW lacks %zu configuration%s of BASE (first: %s)%s",
                 s->only_base, s->only_base == 1 ? "" : "s", first_missing,
                 any_cores_differ ? "; the two were measured on different core counts" : "");
        return COMPARE_FAIL;
    }
    if (s->inconclusive) {
        text_fmt(s->reason, sizeof s->reason,
                 "%zu configuration%s too noisy to judge: measure "
                 "again on a quieter machine",
                 s->inconclusive, s->inconclusive == 1 ? "" : "s");
        return COMPARE_INCONCLUSIVE;
    }
    return COMPARE_PASS;
}

/* Read --only FILE: tab-separated keys, one per line. 0, or -1 with err. */
static int read_keys(const char *path, struct compare_key **out, size_t *n, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        text_fmt(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    *out = calloc(COMPARE_MAX_ONLY, sizeof **out);
    *n = 0;
    char line[256];
    int rc = *out ? 0 : -1;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        if (*n == COMPARE_MAX_ONLY) {
            text_fmt(err, errlen, "%s: more than %d configurations", path, COMPARE_MAX_ONLY);
            rc = -1;
            break;
        }
        struct compare_key *k = &(*out)[(*n)++];
        char *fields[5] = {NULL};
        char *p = line;
        for (int i = 0; i < 5; i++) {
            fields[i] = p;
            p = p ? strchr(p, '\t') : NULL;
            if (p)
                *p++ = '\0';
        }
        if (!fields[4] || p) {
            text_fmt(err, errlen, "%s: not 5 tab-separated fields: '%s'", path, line);
            rc = -1;
            break;
        }
        text_fmt(k->workload, sizeof k->workload, "%s", fields[0]);
        text_fmt(k->profile, sizeof k->profile, "%s", fields[1]);
        text_fmt(k->driver, sizeof k->driver, "%s", fields[2]);
        text_fmt(k->sweep_param, sizeof k->sweep_param, "%s", fields[3]);
        text_fmt(k->sweep_value, sizeof k->sweep_value, "%s", fields[4]);
    }
    fclose(f);
    return rc;
}

/* --flagged FILE, atomically; removed when there is nothing to re-measure. */
static int write_flagged(const char *path, const struct compare_summary *s, bool confirmable)
{
    if (!confirmable || s->n_flagged == 0) {
        if (remove(path) != 0 && errno != ENOENT)
            return -1;
        return 0;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return -1;
    for (size_t i = 0; i < s->n_flagged; i++) {
        const struct compare_key *k = &s->flagged[i];
        fprintf(m, "%s\t%s\t%s\t%s\t%s\n", k->workload, k->profile, k->driver, k->sweep_param,
                k->sweep_value);
    }
    fclose(m);
    char dir[PATH_MAX], name[PATH_MAX], err[256];
    text_fmt(dir, sizeof dir, "%s", path);
    text_fmt(name, sizeof name, "%s", path);
    int rc = files_write_atomic(dirname(dir), basename(name), buf, len, err, sizeof err);
    free(buf);
    if (rc != 0)
        fprintf(stderr, "concbench: compare: %s\n", err);
    return rc;
}

static int usage_fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "concbench: compare: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'concbench compare --help'.\n");
    return COMPARE_USAGE;
}

int compare_main(int argc, char **argv)
{
    enum {
        OPT_CHECK = 256,
        OPT_ALPHA,
        OPT_ALLOW_MISSING,
        OPT_ONLY,
        OPT_FLAGGED,
        OPT_TRUST,
        OPT_COLOR
    };
    static const struct option longopts[] = {
        {"threshold", required_argument, NULL, 't'},
        {"markdown", no_argument, NULL, 'M'},
        {"check", required_argument, NULL, OPT_CHECK},
        {"alpha", required_argument, NULL, OPT_ALPHA},
        {"allow-missing", no_argument, NULL, OPT_ALLOW_MISSING},
        {"trust-noisy", no_argument, NULL, OPT_TRUST},
        {"color", required_argument, NULL, OPT_COLOR},
        {"only", required_argument, NULL, OPT_ONLY},
        {"flagged", required_argument, NULL, OPT_FLAGGED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct compare_options o = {
        .threshold_pct = COMPARE_DEFAULT_THRESHOLD_PCT,
        .alpha = COMPARE_DEFAULT_ALPHA,
        .check_speedup = true,
        .check_time = true,
    };
    const char *only_path = NULL, *flagged_path = NULL, *color = "auto";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ht:", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 't':
            errno = 0;
            o.threshold_pct = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o.threshold_pct > 0) || o.threshold_pct >= 100)
                return usage_fail("--threshold takes a percentage between 0 and 100, not '%s'",
                                  optarg);
            break;
        case OPT_ALPHA:
            errno = 0;
            o.alpha = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o.alpha > 0) || o.alpha >= 0.5)
                return usage_fail("--alpha takes a level between 0 and 0.5, not '%s'", optarg);
            break;
        case OPT_CHECK: {
            o.check_speedup = o.check_time = false;
            char buf[64];
            text_fmt(buf, sizeof buf, "%s", optarg);
            char *save = NULL;
            for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (strcmp(tok, "speedup") == 0)
                    o.check_speedup = true;
                else if (strcmp(tok, "time") == 0)
                    o.check_time = true;
                else
                    return usage_fail("--check takes speedup, time or both, not '%s'", optarg);
            }
            if (!o.check_speedup && !o.check_time)
                return usage_fail("--check takes speedup, time or both, not '%s'", optarg);
            break;
        }
        case OPT_ALLOW_MISSING: o.allow_missing = true; break;
        case OPT_COLOR:
            if (table_color_choose(optarg, stdout) != 0)
                return usage_fail("--color takes auto, always or never, not '%s'", optarg);
            color = optarg;
            break;
        case OPT_TRUST: o.trust_noisy = true; break;
        case OPT_ONLY: only_path = optarg; break;
        case OPT_FLAGGED: flagged_path = optarg; break;
        case 'M': o.markdown = true; break;
        case 'h': compare_usage(stdout); return COMPARE_PASS;
        default: return usage_fail("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return usage_fail("needs BASE.csv and NEW.csv%s", "");
    (void)table_color_choose(color, stdout);
    const char *paths[2] = {argv[optind], argv[optind + 1]};
    struct compare_key *only = NULL;
    char err[512];
    if (only_path) {
        if (read_keys(only_path, &only, &o.n_only, err, sizeof err) != 0) {
            free(only);
            return usage_fail("%s", err);
        }
        o.only = only;
    }
    struct results_file files[2];
    char dirs[2][PATH_MAX];
    memset(files, 0, sizeof files);
    for (int i = 0; i < 2; i++) {
        if (results_read(paths[i], &files[i], err, sizeof err) != 0) {
            fprintf(stderr, "concbench: compare: %s: %s\nTry 'concbench compare --help'.\n",
                    paths[i], err);
            results_file_free(&files[0]);
            free(only);
            return COMPARE_USAGE;
        }
        text_fmt(dirs[i], sizeof dirs[i], "%s", paths[i]);
        char *d = dirname(dirs[i]);
        memmove(dirs[i], d, strlen(d) + 1);
    }
    struct compare_summary s;
    int rc = compare_results(&files[0], dirs[0], &files[1], dirs[1], &o, stdout, &s);
    if (rc != COMPARE_PASS)
        fprintf(stderr, "concbench: compare: %s: %s\n",
                rc == COMPARE_FAIL ? "FAIL" : "INCONCLUSIVE", s.reason);
    /* Only regressions can be re-measured away; a MISMATCH or a missing row cannot. */
    bool confirmable = rc == COMPARE_FAIL && s.regressions && !s.invalid &&
                       !(s.only_base && !o.allow_missing) &&
                       !(s.missing_reference && !o.allow_missing);
    if (flagged_path && write_flagged(flagged_path, &s, confirmable) != 0)
        rc = COMPARE_FAIL;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "concbench: compare: cannot write the table: %s\n", strerror(errno));
        rc = COMPARE_FAIL;
    }
    free(s.flagged);
    free(only);
    results_file_free(&files[0]);
    results_file_free(&files[1]);
    return rc;
}
