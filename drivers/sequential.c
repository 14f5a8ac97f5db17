/* sequential — the reference strategy: one job after another on the main thread. */
#include "driver.h"
#include "sequential.h"

static const struct strategy sequential = {
    .name = "sequential",
    .default_concurrency = 1,
    .max_concurrency = 10000, /* -m is accepted like every driver's, and ignored */
    .default_workers = 1,
    .max_workers = 1024,
    .fixed_workers = 1,
    .fixed_concurrency = 1,
    .run = sequential_run_jobs,
    .job_source = true, /* crawl: jobs discovered while running */
};

int main(int argc, char **argv)
{
    return driver_main(argc, argv, &sequential);
}
