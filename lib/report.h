/* report — counting results on the main thread: progress bar, -v lines, the book's
 * summary, the --json record and the process tree's resource usage. */
#ifndef CONCBENCH_REPORT_H
#define CONCBENCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "job.h"
#include "workload.h"

/* Names job `index` for -v lines ("BR", "job-07"). */
typedef void report_label_fn(const void *ctx, size_t index, char *buf, size_t len);

struct report {
    /* public: read after the run */
    size_t total; /* jobs expected */
    size_t done, ok, not_found, errors;
    size_t unreachable;         /* errors where the server could not be reached at all */
    uint64_t bytes;             /* body bytes or bytes hashed */
    uint64_t work_ns;           /* summed core work time (hashing) */
    struct job_record *results; /* by job index; valid when seen[i] */
    bool *seen;
    const struct job_source *source; /* optional, set after report_init: a run whose jobs
                                  * grow (job.h); total is then their most, and the bar,
                                  * the summary and "items" say how many are known */
    /* private */
    report_label_fn *label;
    const void *label_ctx;
    bool verbose;  /* one line per job on stderr */
    bool progress; /* a bar on stderr (a terminal, not -v) */
    uint64_t start_ns, last_draw_ns;
};

/* Process-tree resource usage (self + waited-for children). */
struct report_usage {
    double user_s, sys_s;
    long max_rss_kb; /* the largest of self and any child */
    long ctx_voluntary, ctx_involuntary;
};

/* Everything the --json record and the summary say besides the counts. */
struct report_meta {
    const char *driver;
    const struct workload_def *workload; /* its summary lines and --json fields */
    const void *workload_ctx;            /* the workload's run state for those hooks (plan.ctx) */
    unsigned workers, concurrency;
    double elapsed_s; /* work phase, CLOCK_MONOTONIC */
    int interrupted;  /* signal number, 0 when the run completed */
};

/* 0, or -ENOMEM. */
int report_init(struct report *r, size_t total, bool verbose, bool progress, report_label_fn *label,
                const void *label_ctx) __attribute__((warn_unused_result));
void report_free(struct report *r);

/* A job_collect_fn: count one result, draw progress or a -v line. Main thread only. */
void report_collect(void *arg, const struct job_result *res);

/* Clear the progress bar line (if drawn). */
void report_end_progress(struct report *r);

/* The book's summary: an interruption notice, the workload's lines ("194 downloaded. 0 not
 * found. 0 errors." for flags), the error reasons, "Elapsed time: 0.08s". */
void report_summary(FILE *f, const struct report *r, const struct report_meta *m);

/* The run's content in one SHA-256 (hex into hex): over the sorted lines
 * "label body-or-buffer-sha256" of every job that succeeded, so equal content gives an
 * equal digest whatever the order of completion or the strategy. Main thread, after the
 * run. 0, or -ENOMEM, or -EIO when OpenSSL failed. */
__attribute__((warn_unused_result)) int report_content_digest(const struct report *r,
                                                              char hex[2 * JOB_DIGEST_LEN + 1]);

/* One JSON object on one line (jansson): the common fields, content_digest, then the
 * workload's own. 0, or -ENOMEM, or -EIO when it could not be written. */
__attribute__((warn_unused_result)) int report_json(FILE *f, const struct report *r,
                                                    const struct report_meta *m);

void report_usage_get(struct report_usage *u);

#endif
