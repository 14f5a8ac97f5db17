/* driver — the main every driver shares: parse, build the jobs, run the strategy, report.
 * Only this file prints results and picks the exit status. */
#include "driver.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "countries.h"
#include "files.h"
#include "flags.h"
#include "report.h"
#include "sha.h"
#include "stop.h"

#define DRIVER_ERR_MAX 512

unsigned driver_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static void label_code(const void *ctx, size_t index, char *buf, size_t len)
{
    const struct flags_config *cfg = ctx;
    snprintf(buf, len, "%s", cfg->codes[index % cfg->n_codes]);
}

static void label_job(const void *ctx, size_t index, char *buf, size_t len)
{
    (void)ctx;
    sha_job_name(buf, len, index);
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

/* Bad usage: one line naming the bad value, then the short usage line; exit status 2. */
static int usage_error(const struct strategy *s, const char *what, const char *err)
{
    fprintf(stderr, "%s: %s%s\n", s->name, what, err);
    fprintf(stderr, "usage: %s flags [options] [CC ...] | %s sha [options]  (try --help)\n",
            s->name, s->name);
    return CLI_EXIT_USAGE;
}

static unsigned min_u(unsigned a, size_t b)
{
    return (size_t)a < b ? a : (unsigned)(b ? b : 1);
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
    const char *wl = o.workload == CLI_FLAGS ? "flags" : "sha";
    if (o.concurrency_asked)
        fprintf(stderr, "%s: flags: -m %u is above this driver's maximum; using %u\n", s->name,
                o.concurrency_asked, o.concurrency);
    if (o.workers_asked)
        fprintf(stderr, "%s: sha: -w %u is above this driver's maximum; using %u\n", s->name,
                o.workers_asked, o.workers);
    stop_install();
    raise_nofile();
    /* Past RLIMIT_FSIZE (ulimit -f), SIGXFSZ would kill us mid-write and leave a temporary
     * file behind; ignored, write(2) fails with EFBIG and the save is an error like ENOSPC.
     * Forked workers inherit the disposition. */
    signal(SIGXFSZ, SIG_IGN);

    struct workload w;
    struct flags_config fcfg;
    struct sha_config scfg;
    struct run_request req = {.workload = &w, .verbose = o.verbose, .executor = o.executor};
    struct report_meta meta = {.driver = s->name, .workload = wl};
    report_label_fn *label;
    const void *label_ctx;
    unsigned out_dir_created = 0; /* components of -o this run made, to undo on failure */

    if (o.workload == CLI_FLAGS) {
        memset(&fcfg, 0, sizeof fcfg);
        struct countries_query q = {.all = o.all, .every = o.every, .args = o.codes,
                                    .n_args = o.n_codes, .limit = o.limit};
        long n = countries_select(&q, &fcfg.codes, err, sizeof err);
        if (n < 0)
            return usage_error(s, "flags: ", err);
        fcfg.n_codes = (size_t)n;
        fcfg.n_jobs = fcfg.n_codes * o.repeat;
        snprintf(fcfg.base_url, sizeof fcfg.base_url, "%s", o.base_url);
        fcfg.timeout_s = o.timeout_s;
        fcfg.meta = o.meta;
        fcfg.max_body_bytes = o.max_body;
        if (!o.no_save) {
            if (files_prepare_dir(o.out_dir, &out_dir_created, err, sizeof err) != 0) {
                fprintf(stderr, "%s: flags: %s\n", s->name, err);
                free(fcfg.codes);
                return CLI_EXIT_FAIL;
            }
            fcfg.out_dir = o.out_dir;
        }
        flags_workload(&w, &fcfg);
        req.concurrency = s->fixed_concurrency ? s->fixed_concurrency : min_u(o.concurrency, fcfg.n_jobs);
        req.workers = s->fixed_workers ? s->fixed_workers : req.concurrency;
        meta.server = fcfg.base_url;
        label = label_code;
        label_ctx = &fcfg;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "%s: flags: cannot initialise libcurl\n", s->name);
            free(fcfg.codes);
            return CLI_EXIT_FAIL;
        }
    } else {
        scfg = (struct sha_config){.jobs = o.jobs, .size_bytes = o.size_bytes, .seed = o.seed,
                                   .dump_dir = o.dump_dir};
        unsigned dump_created;
        if (o.dump_dir && files_prepare_dir(o.dump_dir, &dump_created, err, sizeof err) != 0) {
            fprintf(stderr, "%s: sha: %s\n", s->name, err);
            return CLI_EXIT_FAIL;
        }
        sha_workload(&w, &scfg);
        unsigned workers = o.workers ? o.workers : driver_cpus();
        if (s->fixed_workers)
            workers = o.executor ? o.executor : s->fixed_workers;
        req.workers = min_u(workers, scfg.jobs);
        req.concurrency = req.workers;
        meta.size_bytes = scfg.size_bytes;
        meta.seed = scfg.seed;
        label = label_job;
        label_ctx = NULL;
    }
    meta.workers = req.workers;
    meta.concurrency = req.concurrency;

    struct report r;
    if (report_init(&r, w.n_jobs, o.verbose, isatty(STDERR_FILENO), label, label_ctx) != 0) {
        fprintf(stderr, "%s: %s: out of memory\n", s->name, wl);
        return CLI_EXIT_FAIL;
    }
    req.collect = report_collect;
    req.collect_arg = &r;

    uint64_t t0 = clock_now_ns();
    if (o.workload == CLI_FLAGS && s->run_flags)
        rc = s->run_flags(&req, &fcfg, err, sizeof err);
    else
        rc = s->run(&req, err, sizeof err);
    meta.elapsed_s = (double)(clock_now_ns() - t0) / 1e9;
    report_end_progress(&r);
    meta.interrupted = stop_requested();

    int status = CLI_EXIT_OK;
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", s->name, wl, err);
        status = CLI_EXIT_FAIL;
    } else if (o.workload == CLI_FLAGS && r.done > 0 && r.unreachable == r.done) {
        /* nobody answered: a run that could not run, not a run with errors */
        const struct job_result *first = NULL;
        for (size_t i = 0; i < r.total && !first; i++)
            if (r.seen[i])
                first = &r.results[i];
        fprintf(stderr, "%s: flags: cannot reach %s: %s\n", s->name, fcfg.base_url, first->reason);
        /* leave nothing behind, parents included (-o a/b/c); a directory that holds
         * something is kept */
        files_remove_created(o.out_dir, out_dir_created);
        status = CLI_EXIT_FAIL;
    } else {
        if (o.json)
            report_json(stdout, &r, &meta);
        else
            report_summary(stdout, &r, &meta);
        for (size_t i = 0; i < r.total; i++)
            if (r.seen[i] && r.results[i].local_failure) {
                fprintf(stderr, "%s: %s: %s\n", s->name, wl, r.results[i].reason);
                status = CLI_EXIT_FAIL;
                break;
            }
        if (meta.interrupted)
            status = 128 + meta.interrupted;
    }
    fflush(stdout);
    report_free(&r);
    if (o.workload == CLI_FLAGS) {
        free(fcfg.codes);
        curl_global_cleanup();
    }
    return status;
}
