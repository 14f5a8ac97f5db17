/* workload — the one table of workloads, and the interface each one registers: its
 * options, how it turns them into jobs, its job hooks (job.h), its summary lines, its
 * --json fields and the label its validation digest is built over. Nothing outside the
 * table and the workload's own module names a workload; drivers, the report and the
 * harness go through a struct workload_def. */
#ifndef CONCBENCH_WORKLOAD_H
#define CONCBENCH_WORKLOAD_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "job.h"

struct cli_options; /* options.h */
struct json_t;      /* jansson's json_t */

/* A finished (or interrupted) run as a workload's output hooks see it. */
struct workload_tally {
    size_t total; /* jobs expected */
    size_t done, ok, not_found, errors;
    uint64_t bytes;                   /* body bytes or bytes hashed */
    uint64_t work_ns;                 /* summed core work time (hashing) */
    const struct job_record *results; /* by job index; valid where seen[i] */
    const bool *seen;
};

/* Which of -m and -w sizes a run, so the driver can size any workload the same way. */
enum workload_sizing {
    WORKLOAD_BY_CONCURRENCY, /* -m: jobs in flight (I/O-bound); workers follow it */
    WORKLOAD_BY_WORKERS,     /* -w: workers (CPU-bound), default the online CPUs; with
                              * --executor on a fixed-worker strategy, the executor's size */
};

/* One run of a workload: made by setup, undone by teardown, on the main thread. */
struct workload_plan {
    struct workload jobs;      /* what the strategy runs (its ctx points into ctx below) */
    void *ctx;                 /* the workload's run state; owned by the workload */
    const char *target;        /* what the jobs reach, for "cannot reach TARGET": a base URL;
                              * NULL when the jobs reach nothing */
    struct job_source *source; /* optional (job.h): jobs discovered while running, raised by
                              * the workload's absorb hook; NULL = jobs.n_jobs known up front */
};

/* A workload as registered in the table. Hooks marked optional may be NULL. */
struct workload_def {
    const char *name; /* argv[1] of a driver, a column of the results CSV */

    /* options: the getopt_long table and short options it accepts (cli.c parses their
     * values into struct cli_options, with one number parser for every workload) */
    const struct option *longopts;
    const char *optstring; /* starts with ':' (cli.c prints its own messages) */
    bool positional;       /* takes positional arguments (flags: country codes) */
    const char *synopsis;  /* the short usage after its name: "[options] [CC ...]" */
    enum workload_sizing sizing;

    /* jobs: build plan->jobs from the options (files, libraries, the job list). Returns 0;
     * -EINVAL for bad usage (exit 2), any other negative errno when it could not run
     * (exit 1); the message in err either way, and nothing left to tear down. */
    int (*setup)(struct workload_plan *plan, const struct cli_options *o, char *err, size_t errlen);
    /* Free what setup made; undo: also remove what it created on disk (a run that could
     * not run leaves nothing behind). */
    void (*teardown)(struct workload_plan *plan, bool undo);

    /* output, on the main thread after the run */
    void (*label)(const void *ctx, size_t index, char *buf, size_t len);       /* "BR", "job-07":
                              * -v lines, and the content digest's lines (the harness's
                              * validation digest, report_content_digest) */
    void (*summary)(FILE *f, const struct workload_tally *t, const void *ctx); /* the
                              * book's lines between an interruption notice and the error
                              * reasons */
    int (*json)(struct json_t *record, const struct workload_tally *t, const void *ctx);
    /* optional: the workload's own --json fields, added after
                              * the common ones; 0, or a negative errno */
    void (*opening)(FILE *f, const void *ctx, const struct cli_options *o, unsigned concurrency);
    /* optional, with plan->source: on the main thread, for every result before it is
     * counted, take what the job discovered (r->output, r->output_len) and add the new jobs
     * (raise plan->source->known). Must not keep or free r->output: the caller frees it. */
    void (*absorb)(void *ctx, const struct job_result *r);
    /* optional: with -v, the lines a run opens with, before the
                              * per-job lines (flags: the book's initial_report) */

    /* for the harness (bench/) */
    char sweep_option;       /* the option a sweep varies: 'm' or 'w' (= sizing) */
    bool needs_server;       /* its jobs reach flagd: run once per server profile */
    const char *items_word;  /* what its jobs are in a table's title: "codes", "pages" */
    const char *delay_limit; /* its bound on DELAY as a formula, for the title; NULL: none */
};

/* The workload named name, or NULL. */
const struct workload_def *workload_find(const char *name);

/* The i-th registered workload (0 ≤ i < workload_count()), in the table's order. */
const struct workload_def *workload_at(size_t i);
size_t workload_count(void);

/* The names for a message: "flags or sha" (", " between all but the last two). */
void workload_names(char *buf, size_t len);

#endif
