/* coro_run — the coroutine strategy over a whole run_request: one thread, one event loop,
 * one task per job (the book's asyncio scripts), beside tpool_run_jobs and procpool_run. */
#ifndef CONCBENCH_CORO_RUN_H
#define CONCBENCH_CORO_RUN_H

#include <stddef.h>

#include "coro.h"
#include "job.h"

/* Run every job of req->workload on the calling thread with at most req->concurrency in
 * flight, handing each result to req->collect in completion order (on this thread).
 * A workload with steps (job.h) has its transfers awaited on the loop (curl_multi), one
 * job-in-flight state per task; its blocking tail (a save) runs on executor threads
 * (asyncio's to_thread): req->executor of them, or when 0 and the workload may_block, one
 * per CPU up to 4; inline on the loop thread with req->blocking_on_loop. A workload without steps runs job_run inline
 * on the loop thread (one at a time), or with req->executor on req->workers threads, each
 * with its own worker_init state. Call curl_global_init first when the workload uses curl.
 * On stop_requested(): transfers are aborted, executor work not yet started is cancelled,
 * and the jobs that finished are collected; 0 is returned.
 * Returns 0, or a negative errno with a one-line message in err when it could not run
 * (-EMFILE: the open-file limit cannot carry req->concurrency transfers). */
int coro_run_jobs(const struct run_request *req, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The scheduler's counters as the last coro_run_jobs on the calling thread left them, read
 * just before it destroyed its scheduler: what tests check that a run leaves behind (no task
 * live or unjoined, every stack free again, how many tasks it spawned). All zero when that
 * run made no scheduler. */
void coro_run_last_stats(struct coro_stats *out);

#endif
