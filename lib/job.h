/* job — the contract between workloads and strategies: one job, one fixed-size result. */
#ifndef CONCBENCH_JOB_H
#define CONCBENCH_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum job_outcome {
    JOB_OK = 0,        /* flags: 200 and a complete body; sha: hashed */
    JOB_NOT_FOUND = 1, /* flags: 404 */
    JOB_ERROR = 2,     /* anything else; reason says what */
};

#define JOB_REASON_MAX 120
#define JOB_DIGEST_LEN 32 /* SHA-256 */

/* One job's result. Plain old data of fixed size, so the process pool can send it as one
 * SOCK_SEQPACKET message, which is delivered whole. */
struct job_result {
    uint32_t index;        /* position in the job list */
    uint8_t outcome;       /* enum job_outcome */
    uint8_t unreachable;   /* 1 when the server could not be reached at all */
    uint8_t local_failure; /* 1 when our side failed (could not save a file) */
    uint8_t renamed;       /* 1 when saved as "Name (CC).gif": the name was another code's */
    int32_t http_status;   /* last HTTP status, 0 when none */
    uint64_t bytes;        /* body bytes received, or bytes hashed */
    uint64_t work_ns;      /* time in the core work (hashing) */
    unsigned char digest[JOB_DIGEST_LEN]; /* SHA-256 of the body or of the buffer (ok only) */
    char reason[JOB_REASON_MAX];          /* "" when ok, else "HTTP 503", "timeout", ... */
    /* Optional: what the job discovered (a crawl's links), for the workload's absorb hook
     * on the main thread. malloc'ed by job_run, owned by whoever holds the result: a
     * strategy hands it to collect, which frees it (the process pool sends its bytes after
     * the result and rebuilds it in the parent). NULL and 0 for most workloads. */
    void *output;
    uint32_t output_len;
};

/* What the report keeps of a collected result, for reading after the run: job_result's
 * fields without its index, byte and time counts (summed as they come) and its inline
 * reason buffer; an error's reason is copied, other reasons are not kept. 48 bytes instead
 * of 184: a run of 676,000 jobs keeps 32 MB of them instead of 124 MB. */
struct job_record {
    uint8_t outcome; /* enum job_outcome */
    uint8_t unreachable;
    uint8_t local_failure;
    uint8_t renamed;
    int32_t http_status;
    const char *reason; /* an error's reason, else "" (never NULL; owned by the report) */
    unsigned char digest[JOB_DIGEST_LEN];
};

/* What a job's finish step asks of the strategy next (struct workload_steps). */
enum job_next {
    JOB_NEXT_DONE = 0,     /* the result is final: collect it */
    JOB_NEXT_AGAIN = 1,    /* another transfer is prepared on the same handle: await it */
    JOB_NEXT_BLOCKING = 2, /* call blocking() (file I/O, parsing), then collect */
};

struct workload;

/* Optional: a job as steps around an event loop, for a strategy that awaits transfers
 * instead of blocking in them (the coroutine strategy). The blocking path, job_run, must
 * give the same result: a workload builds both from the same pieces. Every step runs on
 * the loop's thread except blocking(), which may run on an executor thread. */
struct workload_steps {
    /* A job-in-flight state (a transfer handle and its buffers), reused from job to job.
     * in_flight: the most states alive at once, so buffers can be sized to share a budget.
     * NULL when out of memory. */
    void *(*state_new)(const struct workload *w, unsigned in_flight);
    void (*state_free)(const struct workload *w, void *st);
    /* Begin job index on st; returns the transfer to await (a libcurl easy handle for
     * loop_perform). Never fails: a failure shows in finish(). */
    void *(*start)(const struct workload *w, void *st, size_t index);
    /* The awaited transfer ended with rc (a CURLcode): classify into out. */
    enum job_next (*finish)(const struct workload *w, void *st, int rc, struct job_result *out);
    /* The job's blocking tail, after JOB_NEXT_BLOCKING; may change out. Any one thread. */
    void (*blocking)(const struct workload *w, void *st, struct job_result *out);
};

/* A workload's jobs as a strategy sees them: N independent jobs. A strategy calls
 * worker_init once in every worker (thread, forked process or the main thread), then
 * job_run for each job it was given, then worker_fini. job_run never fails: failure is a
 * result (JOB_ERROR + reason). Built by the workload's setup (workload.h). */
struct workload {
    const char *name;        /* the workload's name in the table: "flags", "sha" */
    size_t n_jobs;           /* with a job source (run_request.source): at most this many */
    unsigned job_timeout_ms; /* a job's own bound (flags: -t per request), 0 = unbounded */
    void *ctx;               /* the workload's own configuration, read-only while running */
    int (*worker_init)(const struct workload *w, void **state, char *err, size_t errlen);
    void (*job_run)(const struct workload *w, void *state, size_t index, struct job_result *out);
    void (*worker_fini)(const struct workload *w, void *state);
    const struct workload_steps *steps; /* optional (NULL: job_run only) */
    bool may_block; /* steps: some jobs may end in blocking() (flags: files to save, a
                         * large metadata.json to parse), so a strategy with an executor
                         * starts one; false: none will */
};

/* Called on the main thread for every finished job, in completion order. */
typedef void job_collect_fn(void *arg, const struct job_result *r);

/* Optional: a job list that grows while the run goes (a crawl: each page fetched names
 * more). Jobs 0 .. known-1 exist; only collect raises known, on the main thread, so a
 * strategy reads it where it would read n_jobs (job_source_known) and may hand out the
 * new jobs after each collect. Nothing else can add a job: the run is over when every
 * known job has been handed out and collected. known never passes workload->n_jobs. */
struct job_source {
    size_t known;
};

/* What a strategy is given to run: the workload, how many workers and how many jobs
 * in flight at most, and where to hand each result. */
struct run_request {
    const struct workload *workload;
    unsigned workers;      /* threads or processes (1 for sequential and coroutine) */
    unsigned concurrency;  /* jobs in flight at most */
    unsigned executor;     /* strategies with has_executor: threads for blocking work
                             * (0 = the strategy's default) */
    bool blocking_on_loop; /* strategies with has_executor: blocking work inline on the
                             * loop thread, no executor (--save-on-loop) */
    int verbose;           /* strategies may announce workers (e.g. pids) on stderr */
    job_collect_fn *collect;
    void *collect_arg;
    struct job_source *source; /* optional: jobs discovered while running; NULL = the
                                * workload's n_jobs, all known up front */
};

/* The jobs a strategy may hand out now: source->known, or all n_jobs without a source. */
static inline size_t job_source_known(const struct run_request *req)
{
    return req->source ? req->source->known : req->workload->n_jobs;
}

/* A strategy decides where and when jobs run; it knows no workload by name. run() returns
 * 0 when every job produced a result (or the run was interrupted, see stop.h), or a
 * negative errno with a one-line message in err when it could not run at all. */
struct strategy {
    const char *name;             /* "sequential", "threadpool", ... */
    unsigned default_concurrency; /* -m default */
    unsigned max_concurrency;     /* -m upper bound */
    unsigned default_workers;     /* -w default; 0 = online CPUs */
    unsigned max_workers;         /* -w upper bound */
    unsigned fixed_workers;       /* nonzero: always this many workers (sequential, coroutine) */
    unsigned fixed_concurrency;   /* nonzero: -m accepted but this is used (sequential: 1) */
    bool has_executor;            /* accepts --executor N: threads for blocking work */
    bool job_source;              /* runs jobs discovered while running (run_request.source) */
    int (*run)(const struct run_request *req, char *err, size_t errlen);
};

#endif
