/* loop — the event loop of the coroutine strategy: libevent watches the sockets and timers
 * that libcurl's multi interface asks for (curl_multi_socket_action, as curl's
 * docs/examples/multi-event.c), and a thread pool's completion eventfd; tasks (coro.h)
 * await transfers and blocking work as futures. One thread; nothing here is thread-safe
 * except that the executor's workers run their items. */
#ifndef CONCBENCH_LOOP_H
#define CONCBENCH_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "coro.h"
#include "threadpool.h"

#define LOOP_DEFAULT_CONNECTIONS 100 /* connections to one host, and kept alive, at most */
#define LOOP_SHARD_CONNECTIONS \
    256                      /* transfers per curl multi handle, at most: curl 7.88
                                      * walks a multi's whole connection cache at each
                                      * transfer's start and end (see loop.c) */
#define LOOP_STOP_POLL_MS 50 /* how soon a SIGINT/SIGTERM is noticed while idle */

struct loop; /* opaque */

/* How to build a loop. Zeroed fields take the defaults. */
struct loop_config {
    unsigned max_connections; /* open at once to one host, and kept in the connection
                                * cache for reuse: the most transfers in flight; 0 = default */
    struct tpool *executor;   /* optional: where loop_await_work runs items (caller-owned,
                                * outlives the loop) */
    unsigned executor_slots;  /* items submitted and not yet back, at most: no more than the
                                * pool's queue capacity (all may be queued before a worker
                                * takes one), so tpool_submit never says -EAGAIN */
};

/* Create a loop driving the tasks of s. Returns 0 and *out, or a negative errno with a
 * one-line message in err. Call curl_global_init first. */
int loop_create(struct loop **out, struct coro_sched *s, const struct loop_config *cfg, char *err,
                size_t errlen) __attribute__((warn_unused_result));

/* Free the loop (and its multi handle; the easy handles stay the caller's). No transfer
 * may be in flight and no work submitted: destroy after loop_run returned. NULL: no-op. */
void loop_destroy(struct loop *l);

/* From a task: add easy (prepared by the caller) to the multi handle and suspend until
 * curl reports it done. Returns curl's result for the transfer, CURLE_ABORTED_BY_CALLBACK
 * when loop_stop cut it short (or came first: then it never started) or when the task was
 * cancelled (coro_cancel: a cancellation point; coro_cancelled() tells which), or
 * CURLE_OUT_OF_MEMORY when curl refused the handle. The loop owns CURLOPT_PRIVATE while
 * the transfer runs; the handle is out of the multi again when this returns, cancelled or
 * not, so the task may reuse or free it at once (keep-alive: the connection stays in the
 * loop's cache, unless the transfer was cut short). */
CURLcode loop_perform(struct loop *l, CURL *easy);

/* Blocking work for the executor (asyncio's run_in_executor), caller-allocated: often on
 * the awaiting task's stack, which stays put while it waits. */
struct loop_work {
    /* public: set work.fn and work.arg; fn runs on a pool thread with that thread's state
     * and must touch nothing but what its item points to */
    struct tpool_work work;
    /* private */
    struct coro_future done_;
};

/* From a task: hand w to the executor and suspend until a worker has run it. The
 * completion travels back through the pool's eventfd to the loop, which resumes the task:
 * a worker never touches a task. Returns 0; -ECANCELED when loop_stop took it off the
 * queue before it ran (fn never ran), or when the task was cancelled (coro_cancel) before
 * w was handed over; -ENOSYS without an executor; -EPIPE when the pool refused it. Once
 * handed over, w is awaited to its end whatever happens (the pool holds it): a cancel then
 * waits for the task's next cancellation point. */
int loop_await_work(struct loop *l, struct loop_work *w) __attribute__((warn_unused_result));

/* Run until every task of the scheduler has finished: resume ready tasks, then wait for
 * socket, timer and executor events, and again. Ready tasks are only resumed here, after
 * curl_multi_socket_action has returned, so a task may call curl (loop_perform) and
 * curl is never re-entered from its own callbacks. After SIGINT/SIGTERM (stop.h) the loop
 * calls loop_stop itself and goes on until the tasks have finished.
 * Returns 0, or a negative errno with a one-line message in err: -EDEADLK when tasks wait
 * for something nothing can deliver, -EIO when libevent or libcurl failed. */
int loop_run(struct loop *l, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Abort every transfer in flight (their loop_perform returns CURLE_ABORTED_BY_CALLBACK),
 * cancel executor work not yet started, and refuse new transfers. Idempotent. From the
 * loop's thread, outside curl's callbacks (tasks and loop_run are). */
void loop_stop(struct loop *l);

bool loop_stopping(const struct loop *l);

struct loop_stats {
    size_t in_flight;     /* transfers in the multi handle now */
    size_t max_in_flight; /* the most at once so far */
    size_t sockets;       /* sockets curl asked us to watch now */
    uint64_t transfers;   /* transfers completed (or aborted) */
    uint64_t connects;    /* new connections made (the rest reused one) */
    size_t work_pending;  /* executor items submitted and not yet back */
    size_t multis;        /* curl multi handles (shards) */
};

void loop_stats(const struct loop *l, struct loop_stats *out);

#endif
