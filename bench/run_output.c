/* run_output — `concbench run`: CSV rows, the tables, and the files of a run. */
#include "run_internal.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "limit.h"
#include "table.h"
#include "text.h"

static double config_limit(const struct run *r, const struct config *c)
{
    return c->have_rec ? c->g->rw->limit(r, c) : NAN;
}

/* "0.021034 0.020871 ...": every timed run, for compare's tests. malloc'd, or NULL. */
static char *join_times(const double *t, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.6f", i ? " " : "", t[i]);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void run_print_noise(FILE *f, const struct run *r, bool markdown)
{
    const struct noise_run *n = &r->noise;
    fprintf(f,
            "%sRun noise: %s%s%s — load %.2f → %.2f; one core's OpenSSL SHA-256 %.0f → %.0f "
            "MB/s; other processes %.0f%% of the machine; CPU idle states %s\n",
            markdown ? "\n" : "\n", r->run_noisy ? "NOISY" : "ok", r->run_noisy ? ": " : "",
            r->run_noise_why, n->load_start, n->load_end, n->calib_start_mbps, n->calib_end_mbps,
            n->foreign_pct,
            strcmp(r->o.cpu_idle, "shallow") == 0 ? "shallow (cpu_dma_latency 0)" : "deep");
}

int run_fill_row(const struct run *r, const struct config *c, struct results_row *row)
{
    const struct env_info *e = &r->env;
    const struct group *g = c->g;
    const struct record *rec = &c->rec;
    int rc = 0;
    rc |= results_set(row, RC_SCHEMA, RESULTS_SCHEMA_VERSION);
    rc |= results_set(row, RC_RUN_ID, r->run_id);
    rc |= results_set(row, RC_DATE, e->date);
    rc |= results_set(row, RC_HOST, e->host);
    rc |= results_set(row, RC_CPU_MODEL, e->cpu_model);
    rc |= results_setf(row, RC_CORES, "%u", e->cores);
    rc |= results_set(row, RC_KERNEL, e->kernel);
    rc |= results_set(row, RC_COMPILER, e->compiler);
    rc |= results_set(row, RC_LIBCURL, e->libcurl);
    rc |= results_set(row, RC_OPENSSL, e->openssl);
    rc |= results_set(row, RC_GIT_COMMIT, e->git_commit);
    rc |= results_set(row, RC_WORKLOAD, g->workload);
    rc |= results_set(row, RC_PROFILE, g->profile);
    rc |= results_set(row, RC_DRIVER, c->d->name);
    if (c->sweep_key) {
        rc |= results_setf(row, RC_SWEEP_PARAM, "%c", c->sweep_key);
        rc |= results_setf(row, RC_SWEEP_VALUE, "%ld", c->sweep_value);
    }
    /* The configuration's size comes from the reference when this row has no record,
     * so that a FAILED row still matches its counterpart in compare. */
    const struct record *size = c->have_rec ? rec : (g->have_ref ? &g->ref : NULL);
    if (size) {
        rc |= results_setf(row, RC_ITEMS, "%lld", size->items);
        if (size->size_bytes > 0) /* a workload of jobs of one size (sha) */
            rc |= results_setf(row, RC_SIZE_BYTES, "%lld", size->size_bytes);
    }
    rc |= results_set_num(row, RC_DELAY_MS, g->delay_ms, 0);
    if (c->have_rec) {
        rc |= results_setf(row, RC_WORKERS, "%lld", rec->workers);
        rc |= results_setf(row, RC_CONCURRENCY, "%lld", rec->concurrency);
    }
    if (c->measured) {
        const struct stats *st = &c->tm.st;
        rc |= results_setf(row, RC_RUNS, "%zu", st->n);
        rc |= results_setf(row, RC_WARMUP, "%u", r->o.warmup);
        rc |= results_set_num(row, RC_MEDIAN_S, st->median, 6);
        rc |= results_set_num(row, RC_MIN_S, st->min, 6);
        rc |= results_set_num(row, RC_MAX_S, st->max, 6);
        rc |= results_set_num(row, RC_MEAN_S, st->mean, 6);
        rc |= results_set_num(row, RC_STDDEV_S, st->stddev, 6);
        rc |= results_set_num(row, RC_CV_PCT, stats_cv_pct(st), 2);
        rc |= results_set_num(row, RC_SPEEDUP, g->seq_median_s / st->median, 3);
        double limit = config_limit(r, c);
        rc |= results_set_num(row, RC_LIMIT_S, limit, 6);
        rc |= results_set_num(row, RC_PCT_LIMIT, limit_pct(limit, st->median), 1);
    }
    if (c->have_rec) {
        rc |= results_set_num(row, RC_WORK_S, rec->elapsed_s, 6);
        rc |= results_set_num(row, RC_USER_S, rec->user_s, 3);
        rc |= results_set_num(row, RC_SYS_S, rec->sys_s, 3);
        rc |= results_setf(row, RC_MAX_RSS_KB, "%lld", rec->max_rss_kb);
        rc |= results_setf(row, RC_CTX_VOLUNTARY, "%lld", rec->ctx_voluntary);
        rc |= results_setf(row, RC_CTX_INVOLUNTARY, "%lld", rec->ctx_involuntary);
        rc |= results_setf(row, RC_OK, "%lld", rec->ok);
        rc |= results_setf(row, RC_NOT_FOUND, "%lld", rec->not_found);
        rc |= results_setf(row, RC_ERRORS, "%lld", rec->errors);
        rc |= results_setf(row, RC_BYTES, "%lld", rec->bytes);
    }
    if (c->measured) {
        rc |= results_set(row, RC_NOISE, c->noisy ? "noisy" : "ok");
        rc |= results_set(row, RC_NOISE_REASON, c->noise_why);
        rc |= results_set_num(row, RC_FOREIGN_CPU_PCT, c->foreign_pct, 1);
        char *times = join_times(c->tm.times, c->tm.n_times);
        rc |= times ? results_set(row, RC_TIMES_S, times) : -1;
        free(times);
    }
    if (c->out_dir[0])
        rc |= results_set(row, RC_DOWNLOADS, r->downloads_fs);
    rc |= results_set(row, RC_RUN_NOISE, r->run_noisy ? "noisy" : "ok");
    rc |= results_set_num(row, RC_LOAD_START, r->noise.load_start, 2);
    rc |= results_set_num(row, RC_LOAD_END, r->noise.load_end, 2);
    rc |= results_set_num(row, RC_CALIB_START_MBPS, r->noise.calib_start_mbps, 0);
    rc |= results_set_num(row, RC_CALIB_END_MBPS, r->noise.calib_end_mbps, 0);
    rc |= results_set(row, RC_CPU_IDLE, r->o.cpu_idle);
    /* the site's size is known for the flagd concbench started, not for --server's */
    if (g->rw->crawls_site && !r->o.server_url)
        rc |= results_setf(row, RC_SITE_PAGES, "%u", run_site_pages(r));
    rc |= results_set(row, RC_VERDICT, c->verdict);
    rc |= results_set(row, RC_REASON, c->reason);
    rc |= results_set(row, RC_TIMER, r->hyperfine[0] ? "hyperfine" : "builtin");
    rc |= results_set(row, RC_RAW, c->raw);
    char *cmd = timing_command_line(c->argv.v);
    rc |= results_set(row, RC_COMMAND, cmd);
    free(cmd);
    return rc ? -1 : 0;
}

/* github-action-benchmark's customSmallerIsBetter: [{name, unit, value, range, extra}]. */
static char *bench_json(const struct results_row *rows, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct results_row *row = &rows[i];
        double median, sd, speedup;
        if (!results_num(row, RC_MEDIAN_S, &median))
            continue;
        char name[256], range[64], extra[256];
        const char *prof = results_get(row, RC_PROFILE), *sw = results_get(row, RC_SWEEP_PARAM);
        int k = snprintf(name, sizeof name, "%s%s%s %s", results_get(row, RC_WORKLOAD),
                         *prof ? " " : "", prof, results_get(row, RC_DRIVER));
        if (*sw)
            text_fmt(name + k, sizeof name - (size_t)k, " %s=%s", sw,
                     results_get(row, RC_SWEEP_VALUE));
        text_fmt(range, sizeof range, "± %.6f", results_num(row, RC_STDDEV_S, &sd) ? sd : 0.0);
        text_fmt(extra, sizeof extra, "speedup %s; %s items; verdict %s; %s runs",
                 results_num(row, RC_SPEEDUP, &speedup) ? results_get(row, RC_SPEEDUP) : "?",
                 results_get(row, RC_ITEMS), results_get(row, RC_VERDICT),
                 results_get(row, RC_RUNS));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:f, s:s, s:s}", "name", name, "unit", "s",
                                             "value", median, "range", range, "extra", extra));
    }
    char *text = json_dumps(arr, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    json_decref(arr);
    return text;
}

/* OUT/latest.<ext> → <run_id>.<ext>: a relative symlink, swapped in atomically. */
static int point_latest(const char *out_dir, const char *run_id, const char *ext)
{
    char link[PATH_MAX + 32], tmp[PATH_MAX + 64], target[256];
    text_fmt(link, sizeof link, "%s/latest.%s", out_dir, ext);
    text_fmt(tmp, sizeof tmp, "%s.%ld.tmp", link, (long)getpid());
    text_fmt(target, sizeof target, "%s.%s", run_id, ext);
    remove(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, link) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

/* dir/name from a memory stream, atomically (lib/files: a temporary name, then rename).
 * Takes f (closes it). 0, or -1 with the reason printed. */
static int commit_stream(FILE *f, char **buf, size_t *len, const char *dir, const char *name)
{
    char err[512];
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad || !*buf) {
        fprintf(stderr, "concbench: run: cannot write %s/%s: out of memory\n", dir, name);
        free(*buf);
        return -1;
    }
    int rc = files_write_atomic(dir, name, *buf, *len, err, sizeof err);
    free(*buf);
    *buf = NULL;
    if (rc != 0)
        fprintf(stderr, "concbench: run: %s\n", err);
    return rc != 0 ? -1 : 0;
}

int run_write_results(struct run *r, const struct results_row *rows, size_t n)
{
    const char *out = r->o.out_dir;
    char name[sizeof r->run_id + 16];
    char *buf = NULL;
    size_t len = 0;

    text_fmt(name, sizeof name, "%s.csv", r->run_id);
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        goto oom;
    results_write_header(f);
    for (size_t i = 0; i < n; i++)
        results_write_row(f, &rows[i]);
    if (commit_stream(f, &buf, &len, out, name) != 0)
        return -1;
    fprintf(stderr, "concbench: wrote %s/%s\n", out, name);

    text_fmt(name, sizeof name, "%s.md", r->run_id);
    if (!(f = open_memstream(&buf, &len)))
        goto oom;
    const struct env_info *e = &r->env;
    fprintf(f,
            "# concbench %s\n\n%s · %s · %u cores · %s · %s · libcurl %s · OpenSSL %s · "
            "commit %s · timer %s · %u runs after %u warm-up\n\n",
            r->run_id, e->date, e->host, e->cores, e->cpu_model, e->kernel, e->libcurl, e->openssl,
            e->git_commit, r->hyperfine[0] ? "hyperfine -N" : "builtin", r->o.runs, r->o.warmup);
    table_print_results(f, rows, n, true);
    if (commit_stream(f, &buf, &len, out, name) != 0)
        return -1;

    text_fmt(name, sizeof name, "%s.bench.json", r->run_id);
    char *json = bench_json(rows, n);
    if (!json)
        goto oom;
    char err[512];
    int rc = files_write_atomic(out, name, json, strlen(json), err, sizeof err);
    free(json);
    if (rc != 0) {
        fprintf(stderr, "concbench: run: %s\n", err);
        return -1;
    }

    if (point_latest(out, r->run_id, "csv") != 0 || point_latest(out, r->run_id, "md") != 0 ||
        point_latest(out, r->run_id, "bench.json") != 0) {
        fprintf(stderr, "concbench: run: cannot point %s/latest.csv at %s.csv: %s\n", out,
                r->run_id, strerror(errno));
        return -1;
    }
    return 0;
oom:
    fprintf(stderr, "concbench: run: cannot write %s/%s: out of memory\n", out, name);
    return -1;
}
