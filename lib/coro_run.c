/* coro_run — the coroutine strategy: one thread, one event loop (curl_multi on libevent,
 * loop.h), one task per job written as straight-line code, and a main task that collects
 * results as they complete (the book's asyncio scripts in C). A workload with steps
 * (job.h) has its transfers awaited on the loop; one without runs job_run inline on the
 * loop thread. Blocking work runs inline, or on --executor N threads. */
#include "coro_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "coro.h"
#include "loop.h"
#include "stop.h"
#include "threadpool.h"

#define FD_RESERVE \
    64 /* descriptors besides one socket per transfer: stdio, epoll, the
                           * eventfd, files being saved, curl's own */
#define EXECUTOR_DEPTH \
    2 /* jobs without steps: jobs in flight per executor thread, so
                           * that no worker idles while the loop hands it the next one */
#define TO_THREAD_MAX \
    4 /* steps: default executor threads for blocking tails, at most (one
                           * per CPU; saves into one directory share its lock) */

/* coro_run_last_stats: the last run's scheduler, read just before it was destroyed. */
static _Thread_local struct coro_stats last_stats;

void coro_run_last_stats(struct coro_stats *out)
{
    *out = last_stats;
}

/* One job, from its spawn until the main task has collected its result. */
struct job_task {
    struct run *run;
    size_t index;
    bool dropped; /* its work was cancelled by a stop: never finished, not reported */
    struct job_result result;
    struct job_task *next; /* the done queue, then the free list */
};

/* A job-in-flight state of the workload's steps (a transfer and its easy handle), reused
 * from task to task (keep-alive, no churn). */
struct xfer {
    void *st;
    struct xfer *next;
};

struct run {
    const struct run_request *req;
    coro_fn *body; /* the task of one job */
    coro_fn *main; /* the main task: main_task, or frontier_main */
    struct coro_sched *sched;
    struct loop *loop;
    struct tpool *pool;      /* --executor, or NULL */
    void *state;             /* no steps, no executor: the loop thread's state */
    struct coro_sem permits; /* jobs in flight (-m) */
    struct job_task *done_head, *done_tail, *free_tasks;
    struct coro_future wakeup; /* the main task sleeps here while nothing is done */
    bool main_waiting;
    struct xfer *free_xfers;
    unsigned in_flight; /* steps: the most states alive at once */
    size_t spawned, finished;
    char err[256]; /* set when the run could not go on */
    /* jobs discovered while running (req->source): the frontier and its workers */
    struct coro_queue frontier; /* job index + 1 (a queue item is never NULL) */
    size_t next;                /* jobs below this are in the frontier or done */
    struct coro **workers;
    unsigned n_workers;
};

/* --- the main task: hand out permits, spawn, collect (as_completed) ------------------- */

/* Called by a task at its end: give back its permit, queue its result for the main task. */
static void task_done(struct job_task *t)
{
    struct run *r = t->run;
    coro_sem_release(&r->permits);
    t->next = NULL;
    if (r->done_tail)
        r->done_tail->next = t;
    else
        r->done_head = t;
    r->done_tail = t;
    if (r->main_waiting) {
        r->main_waiting = false;
        coro_future_resolve(&r->wakeup, 0);
    }
}

/* Hand every queued result to the report, on the main task only. */
static void collect(struct run *r)
{
    while (r->done_head) {
        struct job_task *t = r->done_head;
        r->done_head = t->next;
        if (!r->done_head)
            r->done_tail = NULL;
        if (!t->dropped)
            r->req->collect(r->req->collect_arg, &t->result);
        r->finished++;
        t->next = r->free_tasks;
        r->free_tasks = t;
    }
}

static struct job_task *task_new(struct run *r, size_t index)
{
    struct job_task *t = r->free_tasks;
    if (t)
        r->free_tasks = t->next;
    else if (!(t = malloc(sizeof *t)))
        return NULL;
    memset(t, 0, sizeof *t);
    t->run = r;
    t->index = index;
    return t;
}

/* The permit for job i is taken here, before its task exists, and handed to it: so at most
 * -m tasks (and stacks) are alive, for 676,000 jobs as for 20, and jobs start in order. */
static void main_task(void *arg)
{
    struct run *r = arg;
    size_t n = r->req->workload->n_jobs;
    for (size_t i = 0; i < n; i++) {
        if (coro_sem_acquire(&r->permits) != 0)
            break; /* cancelled: nothing cancels the main task, and no permit was taken */
        collect(r);
        if (stop_requested() || loop_stopping(r->loop)) {
            coro_sem_release(&r->permits);
            break;
        }
        struct job_task *t = task_new(r, i);
        if (!t || coro_spawn(r->sched, r->body, t, NULL) != 0) {
            if (t) {
                t->next = r->free_tasks;
                r->free_tasks = t;
            }
            snprintf(r->err, sizeof r->err, "out of memory for task %zu (a coroutine stack)", i);
            coro_sem_release(&r->permits);
            loop_stop(r->loop); /* end the others quickly: the run has failed */
            break;
        }
        r->spawned++;
    }
    for (;;) {
        collect(r);
        if (r->finished == r->spawned)
            break;
        coro_future_init(&r->wakeup);
        r->main_waiting = true;
        coro_await(&r->wakeup);
    }
}

/* --- a workload with steps: a transfer as straight-line code ------------------------- */

static struct xfer *xfer_get(struct run *r)
{
    struct xfer *x = r->free_xfers;
    if (x) {
        r->free_xfers = x->next;
        return x;
    }
    const struct workload *w = r->req->workload;
    if (!(x = calloc(1, sizeof *x)))
        return NULL;
    if (!(x->st = w->steps->state_new(w, r->in_flight))) {
        free(x);
        return NULL;
    }
    return x;
}

static void xfer_put(struct run *r, struct xfer *x)
{
    x->next = r->free_xfers;
    r->free_xfers = x;
}

static void xfers_free(struct run *r)
{
    while (r->free_xfers) {
        struct xfer *x = r->free_xfers;
        r->free_xfers = x->next;
        r->req->workload->steps->state_free(r->req->workload, x->st);
        free(x);
    }
}

struct blocking_work {
    struct loop_work lw; /* first: the loop hands back &lw.work */
    const struct workload *w;
    void *st;
    struct job_result *out;
};

static void blocking_on_worker(struct tpool_work *item, void *thread_state)
{
    (void)thread_state;
    struct blocking_work *bw = item->arg;
    bw->w->steps->blocking(bw->w, bw->st, bw->out);
}

/* Job index as straight-line code on x: start, await the transfer(s), the blocking tail
 * inline or on the executor. Returns true when the result was dropped (a stop took the
 * executor work before it ran). */
static bool steps_run(struct run *r, struct xfer *x, size_t index, struct job_result *res)
{
    const struct workload *w = r->req->workload;
    CURL *easy = w->steps->start(w, x->st, index);
    enum job_next next;
    do {
        CURLcode rc = loop_perform(r->loop, easy);
        next = w->steps->finish(w, x->st, (int)rc, res);
    } while (next == JOB_NEXT_AGAIN); /* e.g. flags --meta: metadata.json, same handle */
    if (next == JOB_NEXT_BLOCKING) {
        if (r->pool) {
            struct blocking_work bw = {
                .lw.work = {.fn = blocking_on_worker, .arg = &bw}, .w = w, .st = x->st, .out = res};
            return loop_await_work(r->loop, &bw.lw) != 0;
        }
        w->steps->blocking(w, x->st, res);
    }
    return false;
}

static void steps_task(void *arg)
{
    struct job_task *jt = arg;
    struct run *r = jt->run;
    struct job_result *res = &jt->result;
    struct xfer *x = xfer_get(r);
    if (!x) {
        res->index = (uint32_t)jt->index;
        res->outcome = JOB_ERROR;
        res->local_failure = 1;
        snprintf(res->reason, sizeof res->reason, "out of memory for a curl handle");
        task_done(jt);
        return;
    }
    jt->dropped = steps_run(r, x, jt->index, res);
    xfer_put(r, x);
    task_done(jt);
}

/* --- jobs discovered while running: -m workers on one queue (the 500 Lines crawler) ---- */

/* Queue the jobs collect has added since the last look. Unbounded: never waits. */
static void frontier_extend(struct run *r)
{
    while (r->next < job_source_known(r->req)) {
        if (coro_queue_try_put(&r->frontier, (void *)(uintptr_t)(r->next + 1)) != 0) {
            snprintf(r->err, sizeof r->err, "out of memory for the frontier");
            loop_stop(r->loop);
            return;
        }
        r->next++;
    }
}

/* One of -m workers: take a job, run it, collect it (this is the loop's thread, the run's
 * main thread), queue what it found, task_done; until cancelled at the end. */
static long frontier_worker(void *arg)
{
    struct run *r = arg;
    struct xfer *x = xfer_get(r);
    for (;;) {
        void *item;
        if (coro_queue_get(&r->frontier, &item) != 0)
            break; /* cancelled: the frontier is empty and every worker idle */
        size_t index = (size_t)(uintptr_t)item - 1;
        struct job_result res;
        bool stopping = stop_requested() || loop_stopping(r->loop);
        if (!x && !stopping) {
            memset(&res, 0, sizeof res);
            res.index = (uint32_t)index;
            res.outcome = JOB_ERROR;
            res.local_failure = 1;
            snprintf(res.reason, sizeof res.reason, "out of memory for a curl handle");
            r->req->collect(r->req->collect_arg, &res);
        } else if (!stopping) {
            /* a job that a stop cut short is dropped, as a job never started is */
            bool dropped = steps_run(r, x, index, &res);
            if (dropped || stop_requested() || loop_stopping(r->loop))
                free(res.output);
            else
                r->req->collect(r->req->collect_arg, &res);
            frontier_extend(r);
        }
        coro_queue_task_done(&r->frontier);
    }
    if (x)
        xfer_put(r, x);
    return 0;
}

/* queue.join(), then cancel the workers and await them, as the crawler text ends. */
static void frontier_main(void *arg)
{
    struct run *r = arg;
    unsigned n = r->req->concurrency ? r->req->concurrency : 1;
    if (!(r->workers = calloc(n, sizeof *r->workers))) {
        snprintf(r->err, sizeof r->err, "out of memory for %u workers", n);
        return;
    }
    frontier_extend(r);
    for (; r->n_workers < n; r->n_workers++)
        if (coro_spawn_joinable(r->sched, frontier_worker, r, &r->workers[r->n_workers]) != 0) {
            snprintf(r->err, sizeof r->err, "out of memory for worker %u (a coroutine stack)",
                     r->n_workers + 1);
            loop_stop(r->loop);
            break;
        }
    if (r->n_workers > 0 && coro_queue_join(&r->frontier) != 0)
        snprintf(r->err, sizeof r->err, "the crawl's main task was cancelled");
    for (unsigned i = 0; i < r->n_workers; i++)
        coro_cancel(r->workers[i]);
    for (unsigned i = 0; i < r->n_workers; i++)
        if (coro_join(r->workers[i], NULL) != 0)
            snprintf(r->err, sizeof r->err, "cannot join worker %u", i + 1);
    void *item;
    while (coro_queue_try_get(&r->frontier, &item) == 0)
        ; /* left by a stop: plain numbers, nothing to free */
    free(r->workers);
    r->workers = NULL;
}

/* --- a workload without steps: job_run inline on the loop thread, or on the executor --- */

struct job_work {
    struct loop_work lw;
    struct job_task *jt;
};

static void job_on_worker(struct tpool_work *item, void *thread_state)
{
    struct job_work *jw = item->arg;
    const struct workload *w = jw->jt->run->req->workload;
    w->job_run(w, thread_state, jw->jt->index, &jw->jt->result);
}

static void generic_task(void *arg)
{
    struct job_task *jt = arg;
    struct run *r = jt->run;
    const struct workload *w = r->req->workload;
    if (r->pool) {
        struct job_work jw = {.lw.work = {.fn = job_on_worker, .arg = &jw}, .jt = jt};
        jt->dropped = loop_await_work(r->loop, &jw.lw) != 0;
    } else {
        /* on the loop thread: while it hashes, nothing else runs (the book's lesson) */
        w->job_run(w, r->state, jt->index, &jt->result);
    }
    task_done(jt);
}

/* --- the run: scheduler, loop, optional pool ------------------------------------------ */

/* Run every job of r with at most concurrency in flight; threads > 0 starts the executor
 * (with the workload's per-thread state when with_state). */
static int run_tasks(struct run *r, unsigned concurrency, unsigned threads, bool with_state,
                     char *err, size_t errlen)
{
    const struct workload *w = r->req->workload;
    int rc;
    memset(&last_stats, 0, sizeof last_stats);
    if (threads) {
        struct tpool_config pc = {.threads = threads, .queue_capacity = concurrency};
        if (with_state)
            tpool_config_workload(&pc, w);
        if ((rc = tpool_create(&r->pool, &pc, err, errlen)) != 0)
            return rc;
    }
    if ((rc = coro_sched_create(&r->sched, NULL, err, errlen)) != 0)
        goto fail_sched;
    struct loop_config lc = {
        .max_connections = concurrency, .executor = r->pool, .executor_slots = concurrency};
    if ((rc = loop_create(&r->loop, r->sched, &lc, err, errlen)) != 0)
        goto fail_loop;
    coro_sem_init(&r->permits, concurrency);
    if ((rc = coro_spawn(r->sched, r->main ? r->main : main_task, r, NULL)) != 0) {
        snprintf(err, errlen, "out of memory for the main task");
        goto fail_spawn;
    }
    rc = loop_run(r->loop, err, errlen);
    if (rc == -EDEADLK) {
        /* a bug: tasks are stuck on their stacks and cannot be unwound; leave them be */
        return rc;
    }
    if (rc == 0 && r->err[0]) {
        snprintf(err, errlen, "%s", r->err);
        rc = -ENOMEM;
    }
fail_spawn:
    loop_destroy(r->loop);
fail_loop:
    coro_stats(r->sched, &last_stats);
    coro_sched_destroy(r->sched);
fail_sched:
    tpool_destroy(r->pool);
    while (r->free_tasks) {
        struct job_task *t = r->free_tasks;
        r->free_tasks = t->next;
        free(t);
    }
    return rc;
}

static int run_generic(const struct run_request *req, char *err, size_t errlen)
{
    const struct workload *w = req->workload;
    struct run r = {.req = req, .body = generic_task};
    unsigned threads = req->executor ? (req->workers ? req->workers : 1) : 0;
    if (threads)
        return run_tasks(&r, EXECUTOR_DEPTH * threads, threads, true, err, errlen);
    if (w->worker_init(w, &r.state, err, errlen) != 0)
        return -EIO;
    int rc = run_tasks(&r, 1, 0, false, err, errlen);
    w->worker_fini(w, r.state);
    return rc;
}

/* Every transfer holds a socket: refuse -m the open-file limit cannot carry (the driver
 * has already raised the soft limit to the hard one). */
static int check_nofile(unsigned concurrency, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    rlim_t need = (rlim_t)concurrency + FD_RESERVE;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        snprintf(err, errlen,
                 "the open-file limit is %llu (hard limit %llu), too low for %u transfers at "
                 "once: they need about %llu; raise it (ulimit -n) or lower -m",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, concurrency,
                 (unsigned long long)need);
        return -EMFILE;
    }
    return 0;
}

static int run_steps(const struct run_request *req, char *err, size_t errlen)
{
    unsigned concurrency = req->concurrency ? req->concurrency : 1;
    int rc = check_nofile(concurrency, err, errlen);
    if (rc != 0)
        return rc;
    struct run r = {.req = req, .body = steps_task, .in_flight = concurrency};
    /* Blocking tails (saves) go to executor threads unless --save-on-loop: asyncio's
     * to_thread, so that the disk and the network overlap. */
    unsigned threads = req->executor;
    if (!threads && !req->blocking_on_loop && req->workload->may_block) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : cpus > TO_THREAD_MAX ? TO_THREAD_MAX : (unsigned)cpus;
        if (threads > concurrency)
            threads = concurrency;
    }
    rc = run_tasks(&r, concurrency, threads, false, err, errlen);
    xfers_free(&r);
    return rc;
}

/* A job source (a crawl): -m worker tasks on one coroutine queue. The workload must have
 * steps: a blocking job_run would hold the one thread. */
static int run_frontier(const struct run_request *req, char *err, size_t errlen)
{
    unsigned concurrency = req->concurrency ? req->concurrency : 1;
    if (!req->workload->steps) {
        snprintf(err, errlen, "jobs discovered while running need a workload with steps");
        return -EINVAL;
    }
    int rc = check_nofile(concurrency, err, errlen);
    if (rc != 0)
        return rc;
    struct run r = {
        .req = req, .body = steps_task, .main = frontier_main, .in_flight = concurrency};
    if ((rc = coro_queue_init(&r.frontier, 0)) != 0) {
        snprintf(err, errlen, "out of memory for the frontier");
        return rc;
    }
    rc = run_tasks(&r, concurrency, req->executor, false, err, errlen);
    if (rc != -EDEADLK)
        coro_queue_destroy(&r.frontier);
    xfers_free(&r);
    return rc;
}

int coro_run_jobs(const struct run_request *req, char *err, size_t errlen)
{
    if (req->source)
        return run_frontier(req, err, errlen);
    return req->workload->steps ? run_steps(req, err, errlen) : run_generic(req, err, errlen);
}
