/* driver — the main every driver shares: parse, build the jobs, run the strategy, report.
 * Only this file prints results and picks the exit status. */
#include "driver.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "report.h"
#include "stop.h"
#include "workload.h"

#define DRIVER_ERR_MAX 512
/* Descriptors a blocking transfer holds: its socket and the wakeup pair of the multi handle
 * curl_easy_perform makes (threadpool: 66 open for -m 20); a processpool worker needs fewer
 * in the parent, so the estimate errs on the safe side. */
#define DRIVER_FDS_PER_TRANSFER 3
#define DRIVER_FD_RESERVE 16 /* stdio, the pool's eventfd or sockets, a file being saved */

unsigned driver_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* report_collect, then a look at stderr: once it is a closed pipe (`2>&1 | head`), the run
 * stops as SIGPIPE would have stopped it, but with every save finished or removed, and the
 * exit status SIGPIPE's 141. */
static void collect(void *arg, const struct job_result *res)
{
    report_collect(arg, res);
    if (ferror(stderr) && errno == EPIPE)
        stop_request(SIGPIPE);
}

/* A run whose jobs grow (plan.source): the workload absorbs what each job discovered, then
 * the result is counted without it (the report keeps results, not their outputs). */
struct discovery {
    const struct workload_def *def;
    void *ctx;
    struct report *report;
};

static void collect_discovered(void *arg, const struct job_result *res)
{
    struct discovery *d = arg;
    d->def->absorb(d->ctx, res);
    struct job_result kept = *res;
    free(kept.output);
    kept.output = NULL;
    kept.output_len = 0;
    collect(d->report, &kept);
}

/* Many concurrent transfers need many descriptors: take the hard limit, as servers do. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The transfers at once that the open-file limit allows a blocking strategy (at least 1). */
static unsigned fit_nofile(unsigned concurrency)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return concurrency;
    rlim_t room = rl.rlim_cur > DRIVER_FD_RESERVE + DRIVER_FDS_PER_TRANSFER
                      ? (rl.rlim_cur - DRIVER_FD_RESERVE) / DRIVER_FDS_PER_TRANSFER
                      : 1;
    return (rlim_t)concurrency > room ? (unsigned)room : concurrency;
}

/* Bad usage: one line naming the bad value, then the short usage line; exit status 2. */
static int usage_error(const struct strategy *s, const char *what, const char *err)
{
    fprintf(stderr, "%s: %s%s\n", s->name, what, err);
    fprintf(stderr, "usage:");
    for (size_t i = 0; i < workload_count(); i++) {
        const struct workload_def *def = workload_at(i);
        fprintf(stderr, "%s %s %s %s", i ? " |" : "", s->name, def->name, def->synopsis);
    }
    fprintf(stderr, "  (try --help)\n");
    return CLI_EXIT_USAGE;
}

static unsigned min_u(unsigned a, size_t b)
{
    return (size_t)a < b ? a : (unsigned)(b ? b : 1);
}

/* How many workers and jobs in flight: -m sizes an I/O-bound workload (workers follow it),
 * -w a CPU-bound one; a strategy's fixed values win, and never more than there are jobs. */
static void size_run(struct run_request *req, const struct cli_options *o, const struct strategy *s,
                     enum workload_sizing sizing, size_t n_jobs)
{
    if (sizing == WORKLOAD_BY_CONCURRENCY) {
        req->concurrency =
            s->fixed_concurrency ? s->fixed_concurrency : min_u(o->concurrency, n_jobs);
        req->workers = s->fixed_workers ? s->fixed_workers : req->concurrency;
        return;
    }
    unsigned workers = o->workers ? o->workers : driver_cpus();
    if (s->fixed_workers)
        workers = o->executor ? o->executor : s->fixed_workers;
    req->workers = min_u(workers, n_jobs);
    req->concurrency = req->workers;
}

int driver_main(int argc, char **argv, const struct strategy *s)
{
    struct cli_options o;
    char err[DRIVER_ERR_MAX] = "";
    int rc = cli_parse(argc, argv, s, &o, err, sizeof err);
    if (rc == CLI_HELP)
        return CLI_EXIT_OK;
    if (rc < 0)
        return usage_error(s, "", err);
    const struct workload_def *def = o.workload;
    const char *wl = def->name;
    if (o.concurrency_asked)
        fprintf(stderr, "%s: %s: -m %u is above this driver's maximum; using %u\n", s->name, wl,
                o.concurrency_asked, o.concurrency);
    if (o.workers_asked)
        fprintf(stderr, "%s: %s: -w %u is above this driver's maximum; using %u\n", s->name, wl,
                o.workers_asked, o.workers);
    stop_install();
    raise_nofile();
    /* Past RLIMIT_FSIZE (ulimit -f), SIGXFSZ would kill us mid-write and leave a temporary
     * file behind; ignored, write(2) fails with EFBIG and the save is an error like ENOSPC.
     * Forked workers inherit the disposition. */
    signal(SIGXFSZ, SIG_IGN);

    struct workload_plan plan = {0};
    rc = def->setup(&plan, &o, err, sizeof err);
    if (rc == -EINVAL) {
        char what[64];
        snprintf(what, sizeof what, "%s: ", wl);
        return usage_error(s, what, err);
    }
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", s->name, wl, err);
        return CLI_EXIT_FAIL;
    }
    if (plan.source && !s->job_source) {
        fprintf(
            stderr,
            "%s: %s: not yet supported by this strategy (its jobs are discovered while it runs)\n",
            s->name, wl);
        def->teardown(&plan, true);
        return CLI_EXIT_FAIL;
    }
    struct run_request req = {.workload = &plan.jobs,
                              .verbose = o.verbose,
                              .executor = o.executor,
                              .blocking_on_loop = o.save_on_loop};
    size_run(&req, &o, s, def->sizing, plan.jobs.n_jobs);
    /* Past the open-file limit (ulimit -n), the transfers over it failed with EMFILE: blocking
     * workers are lowered to fit, with a note. The coroutine strategy (one thread, its own
     * descriptor budget) checks its limit itself. */
    if (def->sizing == WORKLOAD_BY_CONCURRENCY && !s->has_executor && !s->fixed_concurrency) {
        unsigned fit = fit_nofile(req.concurrency);
        if (fit < req.concurrency) {
            fprintf(
                stderr,
                "%s: %s: -m %u needs more open files than the limit (ulimit -n) allows; using %u\n",
                s->name, wl, req.concurrency, fit);
            req.concurrency = fit;
            req.workers = s->fixed_workers ? s->fixed_workers : fit;
        }
    }
    if (o.verbose && def->opening)
        def->opening(stderr, plan.ctx, &o, req.concurrency);
    struct report_meta meta = {.driver = s->name,
                               .workload = def,
                               .workload_ctx = plan.ctx,
                               .workers = req.workers,
                               .concurrency = req.concurrency};

    struct report r;
    if (report_init(&r, plan.jobs.n_jobs, o.verbose, isatty(STDERR_FILENO), def->label, plan.ctx) !=
        0) {
        fprintf(stderr, "%s: %s: out of memory\n", s->name, wl);
        def->teardown(&plan, false);
        return CLI_EXIT_FAIL;
    }
    req.collect = collect;
    req.collect_arg = &r;
    struct discovery disc = {.def = def, .ctx = plan.ctx, .report = &r};
    if (plan.source && def->absorb) {
        req.source = plan.source;
        req.collect = collect_discovered;
        req.collect_arg = &disc;
        r.source = plan.source;
    }

    uint64_t t0 = clock_now_ns();
    rc = s->run(&req, err, sizeof err);
    meta.elapsed_s = (double)(clock_now_ns() - t0) / 1e9;
    report_end_progress(&r);
    meta.interrupted = stop_requested();

    int status = CLI_EXIT_OK;
    bool undo = false;
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", s->name, wl, err);
        status = CLI_EXIT_FAIL;
    } else if (plan.target && r.done > 0 && r.unreachable == r.done) {
        /* nobody answered: a run that could not run, not a run with errors */
        const struct job_record *first = NULL;
        for (size_t i = 0; i < r.total && !first; i++)
            if (r.seen[i])
                first = &r.results[i];
        fprintf(stderr, "%s: %s: cannot reach %s: %s\n", s->name, wl, plan.target, first->reason);
        undo = true; /* leave nothing behind */
        status = CLI_EXIT_FAIL;
    } else {
        if (o.json) {
            if (report_json(stdout, &r, &meta) != 0) {
                fprintf(stderr, "%s: %s: cannot write the --json record\n", s->name, wl);
                status = CLI_EXIT_FAIL;
            }
        } else {
            report_summary(stdout, &r, &meta);
        }
        size_t renamed = 0;
        for (size_t i = 0; i < r.total; i++)
            renamed += r.seen[i] && r.results[i].renamed;
        if (renamed)
            fprintf(
                stderr,
                "%s: %s: %zu file%s saved under a second name: the first held another job's file\n",
                s->name, wl, renamed, renamed == 1 ? "" : "s");
        for (size_t i = 0; i < r.total; i++)
            if (r.seen[i] && r.results[i].local_failure) {
                fprintf(stderr, "%s: %s: %s\n", s->name, wl, r.results[i].reason);
                status = CLI_EXIT_FAIL;
                break;
            }
        if (meta.interrupted)
            status = 128 + meta.interrupted;
    }
    /* the results are the point of the run: not writing them all is a failure (a closed
     * pipe, as SIGPIPE would have it, 141) */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno;
        if (e == EPIPE) {
            status = 128 + SIGPIPE;
        } else {
            fprintf(stderr, "%s: %s: cannot write the results to stdout: %s\n", s->name, wl,
                    strerror(e));
            if (status == CLI_EXIT_OK)
                status = CLI_EXIT_FAIL;
        }
    }
    report_free(&r);
    def->teardown(&plan, undo);
    return status;
}
