/* sequential — the reference strategy: one job after another on the calling thread. */
#ifndef CONCBENCH_SEQUENTIAL_H
#define CONCBENCH_SEQUENTIAL_H

#include <stddef.h>

#include "job.h"

/* Run every job of req->workload in index order on the calling thread with one
 * worker_init state, handing each result to req->collect as it finishes; with
 * req->source, also the jobs collect adds, until none is left (breadth first). Stops before the
 * next job once stop_requested(), and returns 0. Returns 0, or -EIO with worker_init's
 * message in err when the state could not be made (no job ran). */
int sequential_run_jobs(const struct run_request *req, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
