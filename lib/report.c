/* report — the main thread's bookkeeping: counts, progress bar, -v lines, summary, JSON. */
#include "report.h"

#include <jansson.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clock.h"
#include "hex.h"
#include "sha.h"

#define REPORT_DRAW_INTERVAL_NS 100000000ULL /* redraw the bar at most 10 times a second */
#define REPORT_BAR_WIDTH 30
#define REPORT_MAX_REASONS 8 /* distinct error reasons listed in a summary */

int report_init(struct report *r, size_t total, bool verbose, bool progress, report_label_fn *label,
                const void *label_ctx)
{
    memset(r, 0, sizeof *r);
    r->total = total;
    r->results = calloc(total ? total : 1, sizeof *r->results);
    r->seen = calloc(total ? total : 1, sizeof *r->seen);
    if (!r->results || !r->seen) {
        report_free(r);
        return -ENOMEM;
    }
    r->verbose = verbose;
    r->progress = progress && !verbose;
    r->label = label;
    r->label_ctx = label_ctx;
    r->start_ns = clock_now_ns();
    return 0;
}

static const char no_reason[] = "";
static const char reason_oom[] = "(its reason: out of memory)";

void report_free(struct report *r)
{
    for (size_t i = 0; r->results && i < r->total; i++)
        if (r->results[i].reason != no_reason && r->results[i].reason != reason_oom)
            free((char *)r->results[i].reason);
    free(r->results);
    free(r->seen);
    r->results = NULL;
    r->seen = NULL;
}

/* "  37/194 [###########.........]  19% 123.4/s ETA 0:01", like tqdm. */
/* The jobs of the run: all of them, or those known so far when they grow. */
static size_t known_jobs(const struct report *r)
{
    return r->source ? r->source->known : r->total;
}

static void draw_bar(struct report *r, uint64_t now)
{
    size_t total = known_jobs(r);
    double secs = (double)(now - r->start_ns) / 1e9;
    double rate = secs > 0 ? (double)r->done / secs : 0;
    size_t filled = total ? r->done * REPORT_BAR_WIDTH / total : REPORT_BAR_WIDTH;
    char bar[REPORT_BAR_WIDTH + 1];
    for (size_t i = 0; i < REPORT_BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[REPORT_BAR_WIDTH] = '\0';
    long eta = rate > 0 ? (long)((double)(total - r->done) / rate + 0.5) : 0;
    fprintf(stderr, "\r%6zu/%zu [%s] %3zu%% %7.1f/s ETA %ld:%02ld ", r->done, total, bar,
            total ? r->done * 100 / total : 100, rate, eta / 60, eta % 60);
    fflush(stderr);
    r->last_draw_ns = now;
}

void report_collect(void *arg, const struct job_result *res)
{
    struct report *r = arg;
    if (res->index >= r->total || r->seen[res->index])
        return; /* a strategy bug must not corrupt the counts: ignore, never double count */
    r->seen[res->index] = true;
    struct job_record *rec = &r->results[res->index];
    rec->outcome = res->outcome;
    rec->unreachable = res->unreachable;
    rec->local_failure = res->local_failure;
    rec->renamed = res->renamed;
    rec->http_status = res->http_status;
    memcpy(rec->digest, res->digest, sizeof rec->digest);
    rec->reason = no_reason;
    if (res->outcome != JOB_OK && res->outcome != JOB_NOT_FOUND) {
        char *copy = strndup(res->reason, sizeof res->reason);
        rec->reason = copy ? copy : reason_oom;
    }
    r->done++;
    r->bytes += res->bytes;
    r->work_ns += res->work_ns;
    switch (res->outcome) {
    case JOB_OK: r->ok++; break;
    case JOB_NOT_FOUND: r->not_found++; break;
    default:
        r->errors++;
        if (res->unreachable)
            r->unreachable++;
    }
    if (r->verbose) {
        char name[256]; /* a crawl's labels are URLs */
        r->label(r->label_ctx, res->index, name, sizeof name);
        if (res->outcome == JOB_OK)
            fprintf(stderr, "%s ok %llu bytes\n", name, (unsigned long long)res->bytes);
        else if (res->outcome == JOB_NOT_FOUND)
            fprintf(stderr, "%s not found\n", name);
        else
            fprintf(stderr, "*** Error for %s: %s\n", name, res->reason);
    } else if (r->progress) {
        uint64_t now = clock_now_ns();
        if (now - r->last_draw_ns >= REPORT_DRAW_INTERVAL_NS || r->done == known_jobs(r))
            draw_bar(r, now);
    }
}

void report_end_progress(struct report *r)
{
    if (r->progress && r->last_draw_ns) {
        draw_bar(r, clock_now_ns());
        fputc('\n', stderr);
    }
}

/* Error reasons with their counts, in order of first appearance by job index. */
static json_t *reason_counts(const struct report *r)
{
    json_t *o = json_object();
    for (size_t i = 0; i < r->total; i++) {
        if (!r->seen[i] || r->results[i].outcome != JOB_ERROR)
            continue;
        const char *k = r->results[i].reason;
        json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + 1));
    }
    return o;
}

static void print_reasons(FILE *f, const struct report *r)
{
    if (!r->errors)
        return;
    json_t *o = reason_counts(r);
    fprintf(f, "Errors:");
    size_t shown = 0;
    const char *k;
    json_t *v;
    json_object_foreach (o, k, v) {
        if (shown++ == REPORT_MAX_REASONS) {
            fprintf(f, " ...");
            break;
        }
        fprintf(f, "%s %lld %s", shown > 1 ? "," : "", json_integer_value(v), k);
    }
    fputc('\n', f);
    json_decref(o);
}

/* The counts and results as a workload's hooks see them. */
static void tally(const struct report *r, struct workload_tally *t)
{
    *t = (struct workload_tally){.total = r->total,
                                 .done = r->done,
                                 .ok = r->ok,
                                 .not_found = r->not_found,
                                 .errors = r->errors,
                                 .bytes = r->bytes,
                                 .work_ns = r->work_ns,
                                 .results = r->results,
                                 .seen = r->seen};
}

void report_summary(FILE *f, const struct report *r, const struct report_meta *m)
{
    if (m->interrupted)
        fprintf(f, "Interrupted by %s after %zu of %zu.\n",
                m->interrupted == SIGINT    ? "SIGINT"
                : m->interrupted == SIGTERM ? "SIGTERM"
                                            : "a signal",
                r->done, known_jobs(r));
    struct workload_tally t;
    tally(r, &t);
    m->workload->summary(f, &t, m->workload_ctx);
    print_reasons(f, r);
    fprintf(f, "Elapsed time: %.2fs\n", m->elapsed_s);
}

int report_content_digest(const struct report *r, char hex[2 * JOB_DIGEST_LEN + 1])
{
    /* One "label sha256hex\n" line per job that succeeded, sorted, so that the digest
     * depends on what was fetched or hashed and not on the order it finished in. */
    enum { LINE = 32 + 1 + 2 * JOB_DIGEST_LEN + 2 };
    char *buf = malloc((r->total ? r->total : 1) * LINE);
    char **lines = malloc((r->total ? r->total : 1) * sizeof *lines);
    int rc = -ENOMEM;
    if (!buf || !lines)
        goto out;
    size_t n = 0;
    for (size_t i = 0; i < r->total; i++) {
        if (!r->seen[i] || r->results[i].outcome != JOB_OK)
            continue;
        char name[32], h[2 * JOB_DIGEST_LEN + 1];
        r->label(r->label_ctx, i, name, sizeof name);
        hex_encode(r->results[i].digest, JOB_DIGEST_LEN, h);
        lines[n] = buf + n * LINE;
        snprintf(lines[n], LINE, "%s %s\n", name, h);
        n++;
    }
    unsigned char md[JOB_DIGEST_LEN];
    rc = sha_digest_sorted(lines, n, md);
    if (rc == 0)
        hex_encode(md, JOB_DIGEST_LEN, hex);
out:
    free(buf);
    free(lines);
    return rc;
}

int report_json(FILE *f, const struct report *r, const struct report_meta *m)
{
    struct report_usage u;
    report_usage_get(&u);
    json_t *o = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:f, s:f, s:I, s:I, s:I}", "driver",
        m->driver, "workload", m->workload->name, "items", (json_int_t)known_jobs(r), "ok",
        (json_int_t)r->ok, "not_found", (json_int_t)r->not_found, "errors", (json_int_t)r->errors,
        "workers", (json_int_t)m->workers, "concurrency", (json_int_t)m->concurrency, "elapsed_s",
        m->elapsed_s, "bytes", (json_int_t)r->bytes, "user_s", u.user_s, "sys_s", u.sys_s,
        "max_rss_kb", (json_int_t)u.max_rss_kb, "ctx_voluntary", (json_int_t)u.ctx_voluntary,
        "ctx_involuntary", (json_int_t)u.ctx_involuntary);
    if (!o)
        return -ENOMEM;
    json_object_set_new(o, "done", json_integer((json_int_t)r->done));
    json_object_set_new(o, "interrupted", json_integer(m->interrupted));
    json_object_set_new(o, "error_reasons", reason_counts(r));
    char content[2 * JOB_DIGEST_LEN + 1];
    if (report_content_digest(r, content) == 0)
        json_object_set_new(o, "content_digest", json_string(content));
    struct workload_tally t;
    tally(r, &t);
    if (m->workload->json && m->workload->json(o, &t, m->workload_ctx) != 0) {
        json_decref(o);
        return -ENOMEM;
    }
    int rc = json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    fputc('\n', f);
    json_decref(o);
    return rc == 0 ? 0 : -EIO;
}

void report_usage_get(struct report_usage *u)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    u->user_s = (double)(self.ru_utime.tv_sec + kids.ru_utime.tv_sec) +
                (double)(self.ru_utime.tv_usec + kids.ru_utime.tv_usec) / 1e6;
    u->sys_s = (double)(self.ru_stime.tv_sec + kids.ru_stime.tv_sec) +
               (double)(self.ru_stime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
    u->max_rss_kb = self.ru_maxrss > kids.ru_maxrss ? self.ru_maxrss : kids.ru_maxrss;
    u->ctx_voluntary = self.ru_nvcsw + kids.ru_nvcsw;
    u->ctx_involuntary = self.ru_nivcsw + kids.ru_nivcsw;
}
