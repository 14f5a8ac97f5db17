/* Unit tests of the process pool: every job comes back exactly once, crashed workers turn
 * their job into an error and are replaced, setup failures, SIGINT — and never a process
 * left behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procpool.h"
#include "sha.h"
#include "stop.h"

#define MAX_STARTS 512

/* --- a synthetic workload: job i → SHA-256 of i, with faults on demand ---------------- */

struct synth {
    size_t kill_on;      /* 1 + job whose worker raises SIGKILL (0 = none) */
    size_t exit_on;      /* 1 + job whose worker exits with status 3 */
    int kill_every_job;  /* every job crashes its worker */
    int fail_init;       /* every worker_init fails */
    size_t interrupt_on; /* 1 + job that sends SIGINT to the process group, after which
                           * jobs wait for the parent's SIGTERM */
    size_t output_bytes; /* each job's output (job.h): this many bytes of its index */
};

static int synth_init(const struct workload *w, void **state, char *err, size_t errlen)
{
    struct synth *s = w->ctx;
    if (s->fail_init) {
        snprintf(err, errlen, "synthetic setup failure");
        return -1;
    }
    *state = s;
    return 0;
}

/* Wait for SIGTERM (the stop.h handler sets the flag) without a lost-wakeup race. */
static void wait_for_stop(void)
{
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    while (!stop_requested())
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void synth_run(const struct workload *w, void *state, size_t index, struct job_result *out)
{
    struct synth *s = w->ctx;
    (void)state;
    if (s->kill_every_job || (s->kill_on && index + 1 == s->kill_on))
        raise(SIGKILL);
    if (s->exit_on && index + 1 == s->exit_on)
        _exit(3);
    if (s->interrupt_on && index + 1 == s->interrupt_on)
        kill(0, SIGINT); /* like Ctrl-C: parent and every worker get it */
    if (s->interrupt_on && index + 1 >= s->interrupt_on)
        wait_for_stop();
    memset(out, 0, sizeof *out);
    out->index = (uint32_t)index;
    out->outcome = JOB_OK;
    uint64_t v = index;
    if (sha_digest(&v, sizeof v, out->digest) != 0)
        out->outcome = JOB_ERROR;
    if (s->output_bytes && (out->output = malloc(s->output_bytes))) {
        memset(out->output, (int)(index & 0xff), s->output_bytes);
        out->output_len = (uint32_t)s->output_bytes;
    }
}

static void synth_fini(const struct workload *w, void *state)
{
    (void)w;
    (void)state;
}

static void synth_workload(struct workload *w, struct synth *s, size_t n_jobs)
{
    *w = (struct workload){.name = "synth",
                           .n_jobs = n_jobs,
                           .ctx = s,
                           .worker_init = synth_init,
                           .job_run = synth_run,
                           .worker_fini = synth_fini};
}

struct tally {
    size_t n;
    unsigned *count;               /* per index */
    struct job_result *last;       /* per index */
    size_t total, ok, errors, bad; /* bad: wrong digest or index */
    pid_t started[MAX_STARTS];
    size_t n_started;
};

static void tally_collect(void *arg, const struct job_result *r)
{
    struct tally *t = arg;
    t->total++;
    if (r->index >= t->n) {
        t->bad++;
        return;
    }
    t->count[r->index]++;
    t->last[r->index] = *r;
    if (r->outcome == JOB_ERROR) {
        t->errors++;
        return;
    }
    unsigned char d[JOB_DIGEST_LEN];
    uint64_t v = r->index;
    if (sha_digest(&v, sizeof v, d) != 0)
        t->bad++;
    if (r->outcome != JOB_OK || memcmp(d, r->digest, sizeof d) != 0)
        t->bad++;
    else
        t->ok++;
}

static void tally_start(void *arg, pid_t pid)
{
    struct tally *t = arg;
    if (t->n_started < MAX_STARTS)
        t->started[t->n_started] = pid;
    t->n_started++;
}

static void tally_init(struct tally *t, size_t n)
{
    memset(t, 0, sizeof *t);
    t->n = n;
    t->count = calloc(n + 1, sizeof *t->count);
    t->last = calloc(n + 1, sizeof *t->last);
}

static void tally_free(struct tally *t)
{
    free(t->count);
    free(t->last);
}

static int run_pool(struct tally *t, struct synth *s, size_t n_jobs, unsigned workers, char *err,
                    size_t errlen)
{
    struct workload w;
    synth_workload(&w, s, n_jobs);
    tally_init(t, n_jobs);
    struct run_request req = {.workload = &w,
                              .workers = workers,
                              .concurrency = workers,
                              .collect = tally_collect,
                              .collect_arg = t};
    struct procpool_options opt = {.on_start = tally_start, .on_start_arg = t};
    return procpool_run(&req, &opt, err, errlen);
}

/* Every worker was waited for: no child of ours exists, not even a zombie. */
static int no_child_left(const struct tally *t)
{
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
        return 0;
    for (size_t i = 0; i < t->n_started && i < MAX_STARTS; i++)
        if (kill(t->started[i], 0) == 0 || errno != ESRCH)
            return 0;
    return 1;
}

/* --- tests ------------------------------------------------------------------------------ */

/* A run whose jobs grow (job.h's job_source): each collect adds two jobs, up to n, and
 * checks the output that came with the result. */
struct grow {
    struct tally *t;
    struct job_source *source;
    size_t n, output_bytes, outputs_ok;
};

static void grow_collect(void *arg, const struct job_result *r)
{
    struct grow *g = arg;
    const unsigned char *p = r->output;
    bool ok = p && r->output_len == g->output_bytes;
    for (size_t i = 0; ok && i < g->output_bytes; i++)
        ok = p[i] == (r->index & 0xff);
    g->outputs_ok += ok;
    struct job_result kept = *r;
    free(kept.output);
    kept.output = NULL;
    tally_collect(g->t, &kept);
    g->source->known = g->source->known + 2 < g->n ? g->source->known + 2 : g->n;
}

static void jobs_discovered_while_running_come_back_once_with_their_output_in_chunks(void **state)
{
    (void)state;
    static const unsigned workers[] = {1, 3, 8};
    for (size_t a = 0; a < sizeof workers / sizeof *workers; a++) {
        /* 100 KiB each: seven chunks, more than one SEQPACKET message can carry whole on a
         * socket with a small send buffer */
        struct synth s = {.output_bytes = 100 * 1024};
        struct tally t;
        struct workload w;
        const size_t n = 101;
        synth_workload(&w, &s, n);
        tally_init(&t, n);
        struct job_source source = {.known = 1};
        struct grow g = {.t = &t, .source = &source, .n = n, .output_bytes = s.output_bytes};
        struct run_request req = {.workload = &w,
                                  .workers = workers[a],
                                  .concurrency = workers[a],
                                  .collect = grow_collect,
                                  .collect_arg = &g,
                                  .source = &source};
        struct procpool_options opt = {.on_start = tally_start, .on_start_arg = &t};
        char err[256] = "";
        assert_int_equal(procpool_run(&req, &opt, err, sizeof err), 0);
        assert_int_equal(t.total, n);
        assert_int_equal(t.ok, n);
        assert_int_equal(t.bad, 0);
        assert_int_equal(g.outputs_ok, n);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(t.count[i], 1);
        assert_true(no_child_left(&t));
        tally_free(&t);
    }
}

static void every_job_comes_back_exactly_once(void **state)
{
    (void)state;
    static const unsigned workers[] = {1, 2, 7, 64};
    static const size_t jobs[] = {0, 1, 1000};
    for (size_t a = 0; a < sizeof workers / sizeof *workers; a++)
        for (size_t b = 0; b < sizeof jobs / sizeof *jobs; b++) {
            struct synth s = {0};
            struct tally t;
            char err[256] = "";
            assert_int_equal(run_pool(&t, &s, jobs[b], workers[a], err, sizeof err), 0);
            assert_int_equal(t.total, jobs[b]);
            assert_int_equal(t.ok, jobs[b]);
            assert_int_equal(t.bad, 0);
            for (size_t i = 0; i < jobs[b]; i++)
                assert_int_equal(t.count[i], 1);
            /* never more workers than jobs (one is started even for no job) */
            size_t expect = jobs[b] < workers[a] ? (jobs[b] ? jobs[b] : 1) : workers[a];
            assert_int_equal(t.n_started, expect);
            assert_true(no_child_left(&t));
            tally_free(&t);
        }
}

static void a_killed_worker_is_an_error_result_and_the_rest_finish(void **state)
{
    (void)state;
    static const unsigned workers[] = {1, 2, 7};
    for (size_t a = 0; a < sizeof workers / sizeof *workers; a++) {
        struct synth s = {.kill_on = 1 + 42};
        struct tally t;
        char err[256] = "";
        assert_int_equal(run_pool(&t, &s, 100, workers[a], err, sizeof err), 0);
        assert_int_equal(t.total, 100);
        assert_int_equal(t.ok, 99);
        assert_int_equal(t.errors, 1);
        assert_int_equal(t.bad, 0);
        for (size_t i = 0; i < 100; i++)
            assert_int_equal(t.count[i], 1);
        const struct job_result *r = &t.last[42];
        assert_int_equal(r->outcome, JOB_ERROR);
        assert_non_null(strstr(r->reason, "killed by signal 9"));
        /* the reason names the dead worker, one of ours */
        long pid = 0;
        assert_int_equal(sscanf(r->reason, "worker %ld killed by signal 9", &pid), 1);
        int ours = 0;
        for (size_t i = 0; i < t.n_started; i++)
            ours |= t.started[i] == (pid_t)pid;
        assert_true(ours);
        /* the dead one was replaced while jobs were left: always with one worker; with
         * more, the others may have finished the rest before the kernel closed its socket */
        if (workers[a] == 1)
            assert_int_equal(t.n_started, 2);
        else
            assert_true(t.n_started == workers[a] || t.n_started == workers[a] + 1);
        assert_true(no_child_left(&t));
        tally_free(&t);
    }
}

static void a_worker_that_exits_names_its_status(void **state)
{
    (void)state;
    struct synth s = {.exit_on = 1 + 7};
    struct tally t;
    char err[256] = "";
    assert_int_equal(run_pool(&t, &s, 20, 3, err, sizeof err), 0);
    assert_int_equal(t.total, 20);
    assert_int_equal(t.errors, 1);
    assert_non_null(strstr(t.last[7].reason, "exited with status 3"));
    assert_true(no_child_left(&t));
    tally_free(&t);
}

static void when_every_job_crashes_every_job_is_an_error(void **state)
{
    (void)state;
    struct synth s = {.kill_every_job = 1};
    struct tally t;
    char err[256] = "";
    assert_int_equal(run_pool(&t, &s, 20, 4, err, sizeof err), 0);
    assert_int_equal(t.total, 20);
    assert_int_equal(t.errors, 20);
    for (size_t i = 0; i < 20; i++) {
        assert_int_equal(t.count[i], 1);
        assert_non_null(strstr(t.last[i].reason, "killed by signal 9"));
    }
    assert_true(no_child_left(&t));
    tally_free(&t);
}

static void a_failing_worker_init_fails_the_run_and_leaves_no_process(void **state)
{
    (void)state;
    struct synth s = {.fail_init = 1};
    struct tally t;
    char err[256] = "";
    assert_true(run_pool(&t, &s, 50, 5, err, sizeof err) < 0);
    assert_string_equal(err, "worker setup failed: synthetic setup failure");
    assert_true(t.total <= 50);
    assert_int_equal(t.ok, 0);
    assert_true(no_child_left(&t));
    tally_free(&t);
}

/* The stop flag cannot be reset, so the interrupted run happens in a child process that
 * leads its own process group (kill(0, SIGINT) reaches it and its workers only). */
static int interrupted_run_child(void)
{
    setpgid(0, 0);
    stop_install();
    struct synth s = {.interrupt_on = 1 + 5};
    struct tally t;
    char err[256] = "";
    if (run_pool(&t, &s, 100, 3, err, sizeof err) != 0)
        return 10;
    if (stop_requested() != SIGINT)
        return 11;
    /* job 5 was running and reports after the parent's SIGTERM; far from all ran (a job
     * handed to a worker that had not read it yet when stopped never runs: not counted) */
    if (t.total >= 100 || t.count[5] != 1 || t.last[5].outcome != JOB_OK)
        return 12;
    for (size_t i = 0; i < 100; i++)
        if (t.count[i] > 1)
            return 13;
    /* workers ignored SIGINT and ended cleanly on the parent's SIGTERM: no job was lost
     * to a signal */
    if (t.errors != 0 || t.bad != 0) {
        for (size_t i = 0; i < 100; i++)
            if (t.count[i] && t.last[i].outcome == JOB_ERROR)
                fprintf(stderr, "job %zu: %s\n", i, t.last[i].reason);
        return 14;
    }
    if (!no_child_left(&t))
        return 15;
    tally_free(&t);
    return 0;
}

static void sigint_ends_every_worker_and_keeps_what_finished(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(interrupted_run_child());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* That a result fits in one atomic pipe write is procpool.c's _Static_assert: the build
 * proves it. What only a test can say: the longest crash reason fits in a result. */
static void the_longest_crash_reason_fits_in_a_result(void **state)
{
    (void)state;
    /* the largest pid (pid_max 2^22) and signal number (SIGRTMAX 64) Linux has */
    assert_true(strlen("worker 4194304 killed by signal 64") < JOB_REASON_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_job_comes_back_exactly_once),
        cmocka_unit_test(jobs_discovered_while_running_come_back_once_with_their_output_in_chunks),
        cmocka_unit_test(a_killed_worker_is_an_error_result_and_the_rest_finish),
        cmocka_unit_test(a_worker_that_exits_names_its_status),
        cmocka_unit_test(when_every_job_crashes_every_job_is_an_error),
        cmocka_unit_test(a_failing_worker_init_fails_the_run_and_leaves_no_process),
        cmocka_unit_test(sigint_ends_every_worker_and_keeps_what_finished),
        cmocka_unit_test(the_longest_crash_reason_fits_in_a_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
