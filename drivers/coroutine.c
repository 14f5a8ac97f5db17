/* coroutine — the book's asyncio scripts in C: one thread, one event loop (curl_multi on
 * libevent), one task per job written as straight-line code, and a main task that collects
 * results as they complete. Blocking work runs inline, or on --executor N threads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "coro.h"
#include "driver.h"
#include "flags.h"
#include "loop.h"
#include "stop.h"
#include "threadpool.h"

#define FD_RESERVE 64     /* descriptors besides one socket per transfer: stdio, epoll, the
                           * eventfd, files being saved, curl's own */
#define EXECUTOR_DEPTH 2  /* sha: jobs in flight per executor thread, so that no worker
                           * idles while the loop hands it the next one */
/* curl's receive buffer per handle (CURLOPT_BUFFERSIZE): 8 MiB shared by all transfers at
 * once, within curl's default 16 KiB and its minimum 1 KiB. A flag is at most 385 bytes;
 * at 10,000 at once, 1 KiB instead of 16 saves ~30 MB of RSS. */
#define RECV_BUDGET_BYTES (8L * 1024 * 1024)
#define RECV_BUFFER_MIN 1024L
#define RECV_BUFFER_MAX (16L * 1024)

/* One job, from its spawn until the main task has collected its result. */
struct job_task {
    struct run *run;
    size_t index;
    bool dropped;             /* its work was cancelled by a stop: never finished, not reported */
    struct job_result result;
    struct job_task *next;    /* the done queue, then the free list */
};

/* A download's state and easy handle, reused from task to task (keep-alive, no churn). */
struct xfer {
    struct flags_transfer t;
    struct xfer *next;
};

struct run {
    const struct run_request *req;
    const struct flags_config *cfg;   /* flags; NULL for the generic workload */
    coro_fn *body;                    /* the task of one job */
    struct coro_sched *sched;
    struct loop *loop;
    struct tpool *pool;               /* --executor, or NULL */
    void *state;                      /* generic workload on the loop thread: its state */
    struct coro_sem permits;          /* jobs in flight (-m) */
    struct job_task *done_head, *done_tail, *free_tasks;
    struct coro_future wakeup;        /* the main task sleeps here while nothing is done */
    bool main_waiting;
    struct xfer *free_xfers;
    long recv_buffer_bytes;           /* CURLOPT_BUFFERSIZE of every handle */
    size_t spawned, finished;
    char err[256];                    /* set when the run could not go on */
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
        coro_sem_acquire(&r->permits);
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

/* --- flags: a download as straight-line code ----------------------------------------- */

static struct xfer *xfer_get(struct run *r)
{
    struct xfer *x = r->free_xfers;
    if (x) {
        r->free_xfers = x->next;
        return x;
    }
    if (!(x = calloc(1, sizeof *x)))
        return NULL;
    if (!(x->t.easy = flags_easy_new())) {
        free(x);
        return NULL;
    }
    curl_easy_setopt(x->t.easy, CURLOPT_BUFFERSIZE, r->recv_buffer_bytes);
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
        flags_transfer_release(&x->t);
        curl_easy_cleanup(x->t.easy);
        free(x);
    }
}

struct save_work {
    struct loop_work lw;      /* first: the loop hands back &lw.work */
    struct flags_transfer *t;
    struct job_result *out;
};

static void save_on_worker(struct tpool_work *item, void *thread_state)
{
    (void)thread_state;
    struct save_work *sw = item->arg;
    flags_save(sw->t, sw->out);
}

static void flags_task(void *arg)
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
    flags_prepare(&x->t, r->cfg, jt->index);
    enum flags_next next;
    do {
        CURLcode rc = loop_perform(r->loop, x->t.easy);
        next = flags_finish(&x->t, rc, res);
    } while (next == FLAGS_AGAIN); /* --meta: metadata.json, on the same handle */
    if (next == FLAGS_SAVE) {
        if (r->pool) {
            struct save_work sw = {.lw.work = {.fn = save_on_worker, .arg = &sw}, .t = &x->t,
                                   .out = res};
            jt->dropped = loop_await_work(r->loop, &sw.lw) != 0;
        } else {
            flags_save(&x->t, res);
        }
    }
    xfer_put(r, x);
    task_done(jt);
}

/* --- any workload: job_run inline on the loop thread, or on the executor --------------- */

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

static int pool_thread_init(void *arg, void **state, char *err, size_t errlen)
{
    const struct workload *w = arg;
    return w->worker_init(w, state, err, errlen);
}

static void pool_thread_fini(void *arg, void *state)
{
    const struct workload *w = arg;
    w->worker_fini(w, state);
}

/* --- the run: scheduler, loop, optional pool ------------------------------------------ */

/* Run every job of r with at most concurrency in flight; threads > 0 starts the executor
 * (with the workload's per-thread state when with_state). */
static int run_tasks(struct run *r, unsigned concurrency, unsigned threads, bool with_state,
                     char *err, size_t errlen)
{
    const struct workload *w = r->req->workload;
    int rc;
    if (threads) {
        struct tpool_config pc = {.threads = threads, .queue_capacity = concurrency};
        if (with_state) {
            pc.thread_init = pool_thread_init;
            pc.thread_fini = pool_thread_fini;
            pc.arg = (void *)w;
        }
        if ((rc = tpool_create(&r->pool, &pc, err, errlen)) != 0)
            return rc;
    }
    if ((rc = coro_sched_create(&r->sched, NULL, err, errlen)) != 0)
        goto fail_sched;
    struct loop_config lc = {.max_connections = concurrency, .executor = r->pool,
                             .executor_slots = concurrency};
    if ((rc = loop_create(&r->loop, r->sched, &lc, err, errlen)) != 0)
        goto fail_loop;
    coro_sem_init(&r->permits, concurrency);
    if ((rc = coro_spawn(r->sched, main_task, r, NULL)) != 0) {
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

/* Every transfer holds a socket: take the hard limit, and refuse -m it cannot carry. */
static int check_nofile(unsigned concurrency, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
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

static int run_flags(const struct run_request *req, const struct flags_config *cfg, char *err,
                     size_t errlen)
{
    unsigned concurrency = req->concurrency ? req->concurrency : 1;
    int rc = check_nofile(concurrency, err, errlen);
    if (rc != 0)
        return rc;
    long buffer = RECV_BUDGET_BYTES / (long)concurrency;
    struct run r = {.req = req, .cfg = cfg, .body = flags_task,
                    .recv_buffer_bytes = buffer < RECV_BUFFER_MIN ? RECV_BUFFER_MIN
                                         : buffer > RECV_BUFFER_MAX ? RECV_BUFFER_MAX : buffer};
    rc = run_tasks(&r, concurrency, req->executor, false, err, errlen);
    xfers_free(&r);
    return rc;
}

static const struct strategy coroutine = {
    .name = "coroutine",
    .default_concurrency = 100,   /* the book's 5 spared a public site; ours is local */
    .max_concurrency = 10000,
    .default_workers = 1,
    .max_workers = 1,             /* one loop thread; sha --executor N hashes on N threads */
    .fixed_workers = 1,
    .run = run_generic,
    .run_flags = run_flags,
};

int main(int argc, char **argv)
{
    return driver_main(argc, argv, &coroutine);
}
