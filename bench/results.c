/* results — the results CSV schema, writer and checked reader. */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"

/* Keep in step with enum results_col and docs/results-schema.md (a test compares them). */
static const struct results_column schema[RC_COUNT] = {
    [RC_SCHEMA] = {"schema", RT_TEXT},
    [RC_RUN_ID] = {"run_id", RT_TEXT},
    [RC_DATE] = {"date", RT_TEXT},
    [RC_HOST] = {"host", RT_TEXT},
    [RC_CPU_MODEL] = {"cpu_model", RT_TEXT},
    [RC_CORES] = {"cores", RT_INT},
    [RC_KERNEL] = {"kernel", RT_TEXT},
    [RC_COMPILER] = {"compiler", RT_TEXT},
    [RC_LIBCURL] = {"libcurl", RT_TEXT},
    [RC_OPENSSL] = {"openssl", RT_TEXT},
    [RC_GIT_COMMIT] = {"git_commit", RT_TEXT},
    [RC_WORKLOAD] = {"workload", RT_TEXT},
    [RC_PROFILE] = {"profile", RT_TEXT},
    [RC_DRIVER] = {"driver", RT_TEXT},
    [RC_SWEEP_PARAM] = {"sweep_param", RT_TEXT},
    [RC_SWEEP_VALUE] = {"sweep_value", RT_INT},
    [RC_ITEMS] = {"items", RT_INT},
    [RC_SIZE_BYTES] = {"size_bytes", RT_INT},
    [RC_DELAY_MS] = {"delay_ms", RT_NUM},
    [RC_WORKERS] = {"workers", RT_INT},
    [RC_CONCURRENCY] = {"concurrency", RT_INT},
    [RC_RUNS] = {"runs", RT_INT},
    [RC_WARMUP] = {"warmup", RT_INT},
    [RC_MEDIAN_S] = {"median_s", RT_NUM},
    [RC_MIN_S] = {"min_s", RT_NUM},
    [RC_MAX_S] = {"max_s", RT_NUM},
    [RC_MEAN_S] = {"mean_s", RT_NUM},
    [RC_STDDEV_S] = {"stddev_s", RT_NUM},
    [RC_CV_PCT] = {"cv_pct", RT_NUM},
    [RC_SPEEDUP] = {"speedup", RT_NUM},
    [RC_LIMIT_S] = {"limit_s", RT_NUM},
    [RC_PCT_LIMIT] = {"pct_limit", RT_NUM},
    [RC_WORK_S] = {"work_s", RT_NUM},
    [RC_USER_S] = {"user_s", RT_NUM},
    [RC_SYS_S] = {"sys_s", RT_NUM},
    [RC_MAX_RSS_KB] = {"max_rss_kb", RT_INT},
    [RC_CTX_VOLUNTARY] = {"ctx_voluntary", RT_INT},
    [RC_CTX_INVOLUNTARY] = {"ctx_involuntary", RT_INT},
    [RC_OK] = {"ok", RT_INT},
    [RC_NOT_FOUND] = {"not_found", RT_INT},
    [RC_ERRORS] = {"errors", RT_INT},
    [RC_BYTES] = {"bytes", RT_INT},
    [RC_VERDICT] = {"verdict", RT_TEXT},
    [RC_REASON] = {"reason", RT_TEXT},
    [RC_TIMER] = {"timer", RT_TEXT},
    [RC_RAW] = {"raw", RT_TEXT},
    [RC_COMMAND] = {"command", RT_TEXT},
    [RC_NOISE] = {"noise", RT_TEXT},
    [RC_NOISE_REASON] = {"noise_reason", RT_TEXT},
    [RC_FOREIGN_CPU_PCT] = {"foreign_cpu_pct", RT_NUM},
    [RC_TIMES_S] = {"times_s", RT_TEXT},
    [RC_DOWNLOADS] = {"downloads", RT_TEXT},
    [RC_RUN_NOISE] = {"run_noise", RT_TEXT},
    [RC_LOAD_START] = {"load_start", RT_NUM},
    [RC_LOAD_END] = {"load_end", RT_NUM},
    [RC_CALIB_START_MBPS] = {"calib_start_mbps", RT_NUM},
    [RC_CALIB_END_MBPS] = {"calib_end_mbps", RT_NUM},
    [RC_CPU_IDLE] = {"cpu_idle", RT_TEXT},
    [RC_SITE_PAGES] = {"site_pages", RT_INT},
};

const struct results_column *results_schema(void)
{
    return schema;
}

int results_find_column(const char *name)
{
    for (int i = 0; i < RC_COUNT; i++)
        if (strcmp(schema[i].name, name) == 0)
            return i;
    return -1;
}

int results_set(struct results_row *r, enum results_col c, const char *s)
{
    free(r->v[c]);
    r->v[c] = NULL;
    if (!s || !*s)
        return 0;
    r->v[c] = strdup(s);
    return r->v[c] ? 0 : -1;
}

int results_setf(struct results_row *r, enum results_col c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return results_set(r, c, buf);
}

int results_set_num(struct results_row *r, enum results_col c, double x, int digits)
{
    if (!isfinite(x))
        return results_set(r, c, NULL);
    return results_setf(r, c, "%.*f", digits, x);
}

const char *results_get(const struct results_row *r, enum results_col c)
{
    return r->v[c] ? r->v[c] : "";
}

bool results_num(const struct results_row *r, enum results_col c, double *out)
{
    const char *s = r->v[c];
    if (!s || !*s)
        return false;
    char *end;
    double x = strtod(s, &end);
    if (*end)
        return false;
    *out = x;
    return true;
}

void results_row_free(struct results_row *r)
{
    for (int i = 0; i < RC_COUNT; i++) {
        free(r->v[i]);
        r->v[i] = NULL;
    }
}

int results_write_header(FILE *f)
{
    const char *names[RC_COUNT];
    for (int i = 0; i < RC_COUNT; i++)
        names[i] = schema[i].name;
    return csvio_write_row(f, names, RC_COUNT);
}

int results_write_row(FILE *f, const struct results_row *r)
{
    return csvio_write_row(f, (const char *const *)r->v, RC_COUNT);
}

void results_file_free(struct results_file *f)
{
    for (size_t i = 0; i < f->n_rows; i++)
        results_row_free(&f->rows[i]);
    free(f->rows);
    f->rows = NULL;
    f->n_rows = 0;
}

/* Whether s is a well-formed value of type t (empty is always allowed: "not measured"). */
static bool well_formed(const char *s, enum results_type t)
{
    if (!*s || t == RT_TEXT)
        return true;
    char *end;
    errno = 0;
    if (t == RT_INT) {
        (void)strtoll(s, &end, 10);
    } else {
        double x = strtod(s, &end);
        if (!isfinite(x))
            return false;
    }
    return errno == 0 && end != s && *end == '\0';
}

/* Turn a parsed table into rows, checking the header and every value. */
static int from_table(const struct csvio_table *t, struct results_file *out, char *err,
                      size_t errlen)
{
    if (t->n_rows == 0) {
        snprintf(err, errlen, "line 1, column 1: empty file, expected the results header");
        return -1;
    }
    const struct csvio_row *h = &t->rows[0];
    int where[RC_COUNT]; /* file column of each schema column */
    for (int c = 0; c < RC_COUNT; c++)
        where[c] = -1;
    for (size_t i = 0; i < h->n_fields; i++) {
        int c = results_find_column(h->fields[i]);
        if (c >= 0 && where[c] < 0)
            where[c] = (int)i;
    }
    for (int c = 0; c < RESULTS_FIRST_OPTIONAL; c++) {
        if (where[c] < 0) {
            snprintf(err, errlen,
                     "line %zu, column %zu: header lacks the column '%s' "
                     "(not a concbench results file?)",
                     h->line, h->n_fields + 1, schema[c].name);
            return -1;
        }
    }
    out->rows = calloc(t->n_rows, sizeof *out->rows);
    if (!out->rows) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 1; i < t->n_rows; i++) {
        const struct csvio_row *src = &t->rows[i];
        if (src->n_fields != h->n_fields) {
            snprintf(err, errlen, "line %zu, column %zu: %zu fields where the header has %zu",
                     src->line, (src->n_fields < h->n_fields ? src->n_fields : h->n_fields) + 1,
                     src->n_fields, h->n_fields);
            return -1;
        }
        struct results_row *dst = &out->rows[out->n_rows++];
        dst->line = src->line;
        for (int c = 0; c < RC_COUNT; c++) {
            if (where[c] < 0)
                continue; /* an optional column this file predates */
            const char *s = src->fields[where[c]];
            if (!well_formed(s, schema[c].type)) {
                snprintf(err, errlen, "line %zu, column %d (%s): not %s: \"%.40s\"", src->line,
                         where[c] + 1, schema[c].name,
                         schema[c].type == RT_INT ? "an integer" : "a number", s);
                return -1;
            }
            if (results_set(dst, c, s) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    return 0;
}

int results_parse(const char *data, size_t len, struct results_file *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct csvio_table t;
    if (csvio_parse(data, len, &t, err, errlen) != 0)
        return -1;
    int rc = from_table(&t, out, err, errlen);
    csvio_free(&t);
    if (rc != 0)
        results_file_free(out);
    return rc;
}

int results_read(const char *path, struct results_file *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct csvio_table t;
    if (csvio_read_file(path, &t, err, errlen) != 0)
        return -1;
    int rc = from_table(&t, out, err, errlen);
    csvio_free(&t);
    if (rc != 0)
        results_file_free(out);
    return rc;
}
