/* sequential — the reference strategy: one job after another on the main thread. */
#include "driver.h"
#include "stop.h"

static int run(const struct run_request *req, char *err, size_t errlen)
{
    const struct workload *w = req->workload;
    void *state;
    if (w->worker_init(w, &state, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < w->n_jobs && !stop_requested(); i++) {
        struct job_result r;
        w->job_run(w, state, i, &r);
        req->collect(req->collect_arg, &r);
    }
    w->worker_fini(w, state);
    return 0;
}

static const struct strategy sequential = {
    .name = "sequential",
    .default_concurrency = 1,
    .max_concurrency = 10000,  /* -m is accepted like every driver's, and ignored */
    .default_workers = 1,
    .max_workers = 1024,
    .fixed_workers = 1,
    .fixed_concurrency = 1,
    .run = run,
};

int main(int argc, char **argv)
{
    return driver_main(argc, argv, &sequential);
}
