/* coroutine — the coroutine strategy: one thread, one event loop, one task per job, results
 * collected as they complete; saves on executor threads (--executor N, or --save-on-loop to
 * keep them on the loop), sha inline or on --executor N threads (coro_run.h). */
#include "coro_run.h"
#include "driver.h"

static const struct strategy coroutine = {
    .name = "coroutine",
    .default_concurrency = 100, /* the book's 5 spared a public site; ours is local */
    .max_concurrency = 10000,
    .default_workers = 1,
    .max_workers = 1, /* one loop thread; sha --executor N hashes on N threads */
    .fixed_workers = 1,
    .has_executor = true,
    .run = coro_run_jobs,
    .job_source = true, /* crawl: -m workers on one coroutine queue */
};

int main(int argc, char **argv)
{
    return driver_main(argc, argv, &coroutine);
}
