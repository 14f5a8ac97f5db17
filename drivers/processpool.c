/* processpool — the process-pool strategy: -m (flags) or -w (sha) pre-forked workers, each
 * with its own libcurl handle or buffer, results collected by the parent over sockets. */
#include <stdio.h>

#include "driver.h"
#include "procpool.h"

/* With -v, announce each worker (also respawned ones) so that a test can kill one. */
static void announce(void *arg, pid_t pid)
{
    (void)arg;
    fprintf(stderr, "processpool: worker %ld started\n", (long)pid);
}

static int run(const struct run_request *req, char *err, size_t errlen)
{
    struct procpool_options opt = {.on_start = req->verbose ? announce : NULL};
    return procpool_run(req, &opt, err, errlen);
}

static const struct strategy processpool = {
    .name = "processpool",
    .default_concurrency = 20, /* one process per download in flight */
    .max_concurrency = PROCPOOL_MAX_WORKERS,
    .default_workers = 0, /* online CPUs */
    .max_workers = PROCPOOL_MAX_WORKERS,
    .run = run,
    .job_source = true, /* crawl: jobs discovered while running */
};

int main(int argc, char **argv)
{
    return driver_main(argc, argv, &processpool);
}
