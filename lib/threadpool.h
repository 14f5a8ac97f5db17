/* threadpool — a fixed set of pthreads, a bounded job queue and a completion queue that
 * one consumer thread drains (Python's as_completed), blocking or through an eventfd. */
#ifndef CONCBENCH_THREADPOOL_H
#define CONCBENCH_THREADPOOL_H

#include <signal.h>
#include <stddef.h>

#include "job.h"

#define TPOOL_STACK_BYTES \
    (256 * 1024) /* small on purpose: 1000 workers fit in 256 MiB of
                                        * address space; curl, OpenSSL and stdio need far less */
#define TPOOL_MAX_THREADS 4096
#define TPOOL_ERR_MAX 256

struct tpool; /* opaque */
struct tpool_work;

/* The work itself: runs on a worker thread with that thread's state (see thread_init).
 * It must not touch the consumer's data except through its own item. */
typedef void tpool_work_fn(struct tpool_work *item, void *thread_state);

/* One work item, allocated and owned by the caller (libuv's uv_work_t). It must stay valid
 * from tpool_submit until tpool_pop/tpool_wait hands it back. The pool never allocates
 * per item, so the completion queue is unbounded at no cost. */
struct tpool_work {
    /* public: set by the caller before tpool_submit */
    tpool_work_fn *fn;
    void *arg; /* the caller's; the pool never looks at it */
    /* public: set by the pool */
    int cancelled; /* 1: tpool_cancel took it off the queue; fn never ran */
    /* private */
    struct tpool_work *next_;
};

/* How to build a pool. Zeroed fields take the defaults. */
struct tpool_config {
    unsigned threads;      /* workers, 1..TPOOL_MAX_THREADS */
    size_t queue_capacity; /* items queued but not yet started; 0 = threads */
    size_t stack_bytes;    /* 0 = TPOOL_STACK_BYTES */
    /* Optional, run on each worker thread: once before its first item (state it returns
     * is passed to every fn it runs) and once after its last. A failing thread_init
     * fails tpool_create. Called concurrently from all workers. */
    int (*thread_init)(void *arg, void **thread_state, char *err, size_t errlen);
    void (*thread_fini)(void *arg, void *thread_state);
    void *arg; /* for thread_init/thread_fini */
};

/* Start cfg->threads workers and wait until each has run thread_init. Workers block every
 * signal, so SIGINT/SIGTERM reach the consumer thread and interrupt tpool_wait.
 * Returns 0 and *out, or a negative errno with a one-line message in err (nothing is left
 * running). Call from the consumer thread. */
int tpool_create(struct tpool **out, const struct tpool_config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Queue an item. Never blocks: returns 0, or -EAGAIN when queue_capacity items are
 * already waiting (drain a completion and retry), or -EPIPE after tpool_destroy began.
 * Thread-safe, but the pool is designed for one producer/consumer thread. */
int tpool_submit(struct tpool *p, struct tpool_work *item) __attribute__((warn_unused_result));

/* Hand back one finished (or cancelled) item without blocking: 0 and *item, or -EAGAIN
 * when none is queued. Every submitted item comes back exactly once, in completion order.
 * One consumer thread only. */
int tpool_pop(struct tpool *p, struct tpool_work **item) __attribute__((warn_unused_result));

/* Like tpool_pop, but waits (in poll on the notification fd, no busy waiting) until an
 * item is back. Returns 0, -EINTR when a signal arrived first (check stop_requested()),
 * or -EAGAIN at once when nothing is submitted, queued or running (it would wait forever). */
int tpool_wait(struct tpool *p, struct tpool_work **item) __attribute__((warn_unused_result));

/* tpool_wait with the signal mask set to *sigmask while it sleeps (ppoll, as pselect):
 * block SIGINT/SIGTERM, look at stop_requested(), then call this with the old mask, and a
 * signal arriving between the look and the sleep is not missed. NULL = tpool_wait. */
int tpool_wait_sigmask(struct tpool *p, struct tpool_work **item, const sigset_t *sigmask)
    __attribute__((warn_unused_result));

/* An eventfd that is readable exactly while completions are queued (level-triggered:
 * register it with EV_READ|EV_PERSIST in libevent, then tpool_pop until -EAGAIN). Owned by
 * the pool: do not read, write or close it. */
int tpool_notify_fd(const struct tpool *p) __attribute__((warn_unused_result));

/* Items submitted and not yet handed back (queued + running + completed). */
size_t tpool_pending(const struct tpool *p);

/* Take every queued, not yet started item off the queue; they come back through
 * tpool_pop/tpool_wait with cancelled = 1. Running items finish normally. Returns how many
 * were cancelled. */
size_t tpool_cancel(struct tpool *p);

/* Cancel what is queued, let running items finish, join every worker (each runs
 * thread_fini) and free the pool. Items still in the completion queue are dropped (they
 * are the caller's memory). NULL is a no-op. Consumer thread only. */
void tpool_destroy(struct tpool *p);

/* Give every pool thread of cfg one state of workload w: thread_init calls w->worker_init,
 * thread_fini w->worker_fini (cfg->arg = w, which must outlive the pool). */
void tpool_config_workload(struct tpool_config *cfg, const struct workload *w);

/* The thread-pool strategy over a whole run: req->workers threads (one worker_init each),
 * at most req->workers jobs queued beyond those running, every result handed to
 * req->collect on the calling thread in completion order. With req->source (job.h), the jobs
 * collect adds are queued as they appear, and the run ends when nothing is queued or
 * running and every known job was handed out. On stop_requested(): queued
 * jobs are cancelled, running ones finish and are collected, and 0 is returned.
 * Returns 0, or a negative errno with a one-line message in err when it could not run. */
int tpool_run_jobs(const struct run_request *req, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
