/* job — the contract between workloads and strategies: one job, one fixed-size result. */
#ifndef CONCBENCH_JOB_H
#define CONCBENCH_JOB_H

#include <stddef.h>
#include <stdint.h>

enum job_outcome {
    JOB_OK = 0,        /* flags: 200 and a complete body; sha: hashed */
    JOB_NOT_FOUND = 1, /* flags: 404 */
    JOB_ERROR = 2,     /* anything else; reason says what */
};

#define JOB_REASON_MAX 120
#define JOB_DIGEST_LEN 32 /* SHA-256 */

/* One job's result. Plain old data of fixed size, so the process pool can send it
 * through a pipe in one atomic write (sizeof < PIPE_BUF). */
struct job_result {
    uint32_t index;                         /* position in the job list */
    uint8_t outcome;                        /* enum job_outcome */
    uint8_t unreachable;                    /* 1 when the server could not be reached at all */
    uint8_t local_failure;                  /* 1 when our side failed (could not save a file) */
    uint8_t reserved_;
    int32_t http_status;                    /* last HTTP status, 0 when none */
    uint64_t bytes;                         /* body bytes received, or bytes hashed */
    uint64_t work_ns;                       /* time in the core work (hashing) */
    unsigned char digest[JOB_DIGEST_LEN];   /* SHA-256 of the body or of the buffer (ok only) */
    char reason[JOB_REASON_MAX];            /* "" when ok, else "HTTP 503", "timeout", ... */
};

/* A workload: N independent jobs. A strategy calls worker_init once in every worker
 * (thread, forked process or the main thread), then job_run for each job it was given,
 * then worker_fini. job_run never fails: failure is a result (JOB_ERROR + reason). */
struct workload {
    const char *name;   /* "flags" or "sha" */
    size_t n_jobs;
    void *ctx;          /* the workload's own configuration, read-only while running */
    int (*worker_init)(const struct workload *w, void **state, char *err, size_t errlen);
    void (*job_run)(const struct workload *w, void *state, size_t index, struct job_result *out);
    void (*worker_fini)(const struct workload *w, void *state);
};

struct flags_config;

/* Called on the main thread for every finished job, in completion order. */
typedef void job_collect_fn(void *arg, const struct job_result *r);

/* What a strategy is given to run: the workload, how many workers and how many jobs
 * in flight at most, and where to hand each result. */
struct run_request {
    const struct workload *workload;
    unsigned workers;       /* threads or processes (1 for sequential and coroutine) */
    unsigned concurrency;   /* jobs in flight at most */
    unsigned executor;      /* coroutine only: threads for blocking work (0 = none) */
    int verbose;            /* strategies may announce workers (e.g. pids) on stderr */
    job_collect_fn *collect;
    void *collect_arg;
};

/* A strategy decides where and when jobs run. run() returns 0 when every job produced a
 * result (or the run was interrupted, see stop.h), or a negative code with a one-line
 * message in err when it could not run at all. */
struct strategy {
    const char *name;             /* "sequential", "threadpool", ... */
    unsigned default_concurrency; /* flags -m default */
    unsigned max_concurrency;     /* flags -m upper bound */
    unsigned default_workers;     /* sha -w default; 0 = online CPUs */
    unsigned max_workers;         /* sha -w upper bound */
    unsigned fixed_workers;       /* nonzero: always this many workers (sequential, coroutine) */
    unsigned fixed_concurrency;   /* nonzero: -m accepted but this is used (sequential: 1) */
    int (*run)(const struct run_request *req, char *err, size_t errlen);
    /* Optional: a strategy with its own flags path (the coroutine driver's curl_multi loop)
     * runs downloads itself; NULL means the generic run() with flags_job_run. */
    int (*run_flags)(const struct run_request *req, const struct flags_config *cfg,
                     char *err, size_t errlen);
};

#endif
