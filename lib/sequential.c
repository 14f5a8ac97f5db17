/* sequential — the reference strategy: one job after another on the calling thread. With a
 * job source (a crawl) the jobs are a FIFO frontier: collect appends what each job found,
 * and the loop takes the next in order, so the walk is breadth first. */
#include "sequential.h"

#include <errno.h>

#include "stop.h"

int sequential_run_jobs(const struct run_request *req, char *err, size_t errlen)
{
    const struct workload *w = req->workload;
    void *state;
    if (w->worker_init(w, &state, err, errlen) != 0)
        return -EIO;
    for (size_t i = 0; i < job_source_known(req) && !stop_requested(); i++) {
        struct job_result r;
        w->job_run(w, state, i, &r);
        req->collect(req->collect_arg, &r);
    }
    w->worker_fini(w, state);
    return 0;
}
