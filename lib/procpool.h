/* procpool — the process-pool strategy: pre-forked workers fed job indices over one
 * SOCK_SEQPACKET socketpair each, results back as struct job_result records, the parent
 * multiplexing with poll(2) and alone collecting. Crash-tolerant; leaves no process behind.
 *
 * Protocol (one worker holds at most one job, so the parent always knows which job a dead
 * worker took with it):
 *   parent → worker   uint32_t job index, one message per job; EOF = no more jobs
 *   worker → parent   struct job_result, one message per job (under 4 KiB, far below
 *                     the socket buffer; a SEQPACKET message is delivered whole); with a
 *                     job source (job.h), the job's output_len bytes of output follow
 *                     in messages of at most 16 KiB (a crawl's links); a
 *                     record whose index is PROCPOOL_INIT_FAILED says worker_init failed
 *                     (reason = why)
 *
 * Faults: a worker that dies is seen at once (EOF/POLLHUP on its socket), reaped with
 * waitpid, and the job it held becomes a JOB_ERROR result with the reason
 * "worker 4711 killed by signal 9" (or "exited with status N"). The dead worker is then
 * RESPAWNED while jobs remain, so the run keeps its concurrency (-m is what flagd sees);
 * respawns are capped at the number of jobs, and when no worker can be started any more
 * the jobs left become errors ("no worker left"). Python's ProcessPoolExecutor instead
 * declares the whole pool broken; multiprocessing.Pool respawns but loses the job.
 *
 * Signals: workers IGNORE SIGINT (Ctrl-C reaches the whole process group; the parent
 * decides), and keep the parent's SIGTERM handler (stop.h): on stop the parent sends SIGTERM
 * to every worker and shuts its sockets; a worker aborts its job (curl's progress callback
 * sees stop_requested()), reports it and exits through worker_fini. Workers still alive
 * PROCPOOL_GRACE_MS later get SIGKILL. Workers also get PR_SET_PDEATHSIG=SIGTERM, so a
 * parent killed outright leaves no orphan. While it runs, the parent blocks SIGINT/SIGTERM
 * except inside ppoll, so a stop is never missed between a check and the wait. Every worker is waited for before
 * procpool_run returns, so getrusage(RUSAGE_CHILDREN) covers them all. */
#ifndef CONCBENCH_PROCPOOL_H
#define CONCBENCH_PROCPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "job.h"

#define PROCPOOL_MAX_WORKERS 256 /* -m and -w upper bound: one process each */
#define PROCPOOL_GRACE_MS \
    3000 /* after SIGTERM, before SIGKILL (a curl wait wakes
                                         * at least once a second to check the stop flag) */
/* A busy worker has twice its workload's own bound (job_timeout_ms) plus this margin to
 * answer; past that it is taken as stopped (SIGSTOP) or hung and killed, its job becomes
 * the error "worker stopped responding", and the run goes on. No bound, no deadline. */
#define PROCPOOL_STUCK_MARGIN_MS 1000
#define PROCPOOL_INIT_FAILED UINT32_MAX /* result index: the worker could not start */

/* Called in the parent right after a worker was forked (first start or respawn). */
typedef void procpool_start_fn(void *arg, pid_t pid);

struct procpool_options {
    procpool_start_fn *on_start; /* optional, e.g. print the pid with -v */
    void *on_start_arg;
};

/* Run every job of req->workload on req->workers forked processes (each runs worker_init
 * once after the fork, then its jobs, then worker_fini) and hand each result to
 * req->collect in the parent, in completion order. opt may be NULL.
 * Returns 0 when every job has a result or the run was stopped (stop_requested()), or a
 * negative errno with a one-line message in err when it could not run (socketpair/fork
 * failed, worker_init failed); no worker is left running or unreaped in any case.
 * Call from a single-threaded process (fork). */
int procpool_run(const struct run_request *req, const struct procpool_options *opt, char *err,
                 size_t errlen) __attribute__((warn_unused_result));

#endif
