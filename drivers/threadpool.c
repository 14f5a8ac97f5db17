/* threadpool — the thread-pool strategy: -m (flags) or -w (sha) pthreads, each with its own
 * workload state (a curl handle, a buffer), results collected on the main thread. */
#include "driver.h"
#include "threadpool.h"

static const struct strategy threadpool = {
    .name = "threadpool",
    .default_concurrency = 30, /* the book's flags2 default */
    .max_concurrency = 1000,   /* thread stacks are TPOOL_STACK_BYTES, so 1000 fit */
    .default_workers = 0,      /* online CPUs */
    .max_workers = 1000,
    .run = tpool_run_jobs,
    .job_source = true, /* crawl: jobs discovered while running */
};

int main(int argc, char **argv)
{
    return driver_main(argc, argv, &threadpool);
}
