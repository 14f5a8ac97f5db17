/* Unit tests of the thread pool: every job comes back exactly once, per-thread state,
 * the eventfd contract, cancellation, setup failures and interruption. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sha.h"
#include "stop.h"
#include "threadpool.h"

/* --- a synthetic workload: job i → SHA-256 of i; counts worker_init/fini ------------- */

struct synth {
    atomic_int inits, finis;
    atomic_int live_states; /* states created and not yet finished */
    atomic_int wrong_state; /* jobs or finis given another worker's state (no cmocka
                              * asserts off the main thread: they longjmp) */
    size_t fail_init;       /* nonzero: the n-th worker_init fails */
    size_t kill_on;         /* 1 + job that sends SIGINT to the process (0 = none) */
};

static void digest_of(size_t i, unsigned char d[JOB_DIGEST_LEN])
{
    uint64_t v = i;
    assert_int_equal(sha_digest(&v, sizeof v, d), 0);
}

static int synth_init(const struct workload *w, void **state, char *err, size_t errlen)
{
    struct synth *s = w->ctx;
    int n = atomic_fetch_add(&s->inits, 1) + 1;
    if (s->fail_init && (size_t)n == s->fail_init) {
        snprintf(err, errlen, "synthetic setup failure");
        return -1;
    }
    atomic_fetch_add(&s->live_states, 1);
    *state = s;
    return 0;
}

static void synth_run(const struct workload *w, void *state, size_t index, struct job_result *out)
{
    struct synth *s = w->ctx;
    if (state != s)
        atomic_fetch_add(&s->wrong_state, 1);
    memset(out, 0, sizeof *out);
    out->index = (uint32_t)index;
    out->outcome = JOB_OK;
    uint64_t v = index;
    if (sha_digest(&v, sizeof v, out->digest) != 0)
        out->outcome = JOB_ERROR;
    if (s->kill_on && index + 1 == s->kill_on)
        kill(getpid(), SIGINT); /* process-directed: only the consumer thread can take it */
}

static void synth_fini(const struct workload *w, void *state)
{
    struct synth *s = w->ctx;
    if (state != s)
        atomic_fetch_add(&s->wrong_state, 1);
    atomic_fetch_add(&s->finis, 1);
    atomic_fetch_sub(&s->live_states, 1);
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
    unsigned *count; /* per index */
    size_t total;
    int bad; /* results with a wrong digest or an index out of range */
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
    unsigned char d[JOB_DIGEST_LEN];
    digest_of(r->index, d);
    if (r->outcome != JOB_OK || memcmp(d, r->digest, sizeof d) != 0)
        t->bad++;
}

static void every_job_comes_back_exactly_once(void **state)
{
    (void)state;
    static const unsigned workers[] = {1, 2, 7, 64};
    static const size_t jobs[] = {0, 1, 1000};
    for (size_t a = 0; a < sizeof workers / sizeof *workers; a++)
        for (size_t b = 0; b < sizeof jobs / sizeof *jobs; b++) {
            struct synth s = {0};
            struct workload w;
            synth_workload(&w, &s, jobs[b]);
            struct tally t = {.n = jobs[b], .count = calloc(jobs[b] + 1, sizeof(unsigned))};
            struct run_request req = {.workload = &w,
                                      .workers = workers[a],
                                      .concurrency = workers[a],
                                      .collect = tally_collect,
                                      .collect_arg = &t};
            char err[TPOOL_ERR_MAX] = "";
            assert_int_equal(tpool_run_jobs(&req, err, sizeof err), 0);
            assert_int_equal(t.total, jobs[b]);
            assert_int_equal(t.bad, 0);
            for (size_t i = 0; i < jobs[b]; i++)
                assert_int_equal(t.count[i], 1);
            /* one state per worker thread, each finished */
            assert_int_equal(atomic_load(&s.inits), workers[a]);
            assert_int_equal(atomic_load(&s.finis), workers[a]);
            assert_int_equal(atomic_load(&s.live_states), 0);
            assert_int_equal(atomic_load(&s.wrong_state), 0);
            free(t.count);
        }
}

/* A run whose jobs grow (job.h's job_source): each collect adds up to two jobs. */
struct grow {
    struct tally t;
    struct job_source source;
    size_t n;
};

static void grow_collect(void *arg, const struct job_result *r)
{
    struct grow *g = arg;
    tally_collect(&g->t, r);
    g->source.known = g->source.known + 2 < g->n ? g->source.known + 2 : g->n;
}

static void jobs_discovered_while_running_come_back_exactly_once(void **state)
{
    (void)state;
    static const unsigned workers[] = {1, 2, 7, 64};
    for (size_t a = 0; a < sizeof workers / sizeof *workers; a++) {
        struct synth s = {0};
        struct workload w;
        const size_t n = 1001;
        synth_workload(&w, &s, n);
        struct grow g = {.t = {.n = n, .count = calloc(n + 1, sizeof(unsigned))},
                         .source = {.known = 1},
                         .n = n};
        struct run_request req = {.workload = &w,
                                  .workers = workers[a],
                                  .concurrency = workers[a],
                                  .collect = grow_collect,
                                  .collect_arg = &g,
                                  .source = &g.source};
        char err[TPOOL_ERR_MAX] = "";
        assert_int_equal(tpool_run_jobs(&req, err, sizeof err), 0);
        assert_int_equal(g.t.total, n);
        assert_int_equal(g.t.bad, 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(g.t.count[i], 1);
        free(g.t.count);
    }
}

static void a_thousand_small_stacked_threads_start(void **state)
{
    (void)state;
    struct synth s = {0};
    struct workload w;
    synth_workload(&w, &s, 3000);
    struct tally t = {.n = 3000, .count = calloc(3000, sizeof(unsigned))};
    struct run_request req = {
        .workload = &w, .workers = 1000, .collect = tally_collect, .collect_arg = &t};
    char err[TPOOL_ERR_MAX] = "";
    assert_int_equal(tpool_run_jobs(&req, err, sizeof err), 0);
    assert_int_equal(t.total, 3000);
    assert_int_equal(t.bad, 0);
    assert_int_equal(atomic_load(&s.inits), 1000);
    free(t.count);
}

static void a_failing_worker_init_fails_the_run_and_finishes_the_others(void **state)
{
    (void)state;
    struct synth s = {.fail_init = 3};
    struct workload w;
    synth_workload(&w, &s, 100);
    struct tally t = {.n = 100, .count = calloc(100, sizeof(unsigned))};
    struct run_request req = {
        .workload = &w, .workers = 5, .collect = tally_collect, .collect_arg = &t};
    char err[TPOOL_ERR_MAX] = "";
    assert_true(tpool_run_jobs(&req, err, sizeof err) < 0);
    assert_string_equal(err, "synthetic setup failure");
    assert_int_equal(t.total, 0);
    assert_int_equal(atomic_load(&s.inits), 5);
    assert_int_equal(atomic_load(&s.finis), 4); /* the four that started were finished */
    assert_int_equal(atomic_load(&s.live_states), 0);
    free(t.count);
}

/* --- the raw API: eventfd, pop, wait, cancel ----------------------------------------- */

/* A gate that work items wait at until the test opens it. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int open;
    int started; /* items that reached the gate */
    atomic_int ran;
};

static void gated_fn(struct tpool_work *item, void *thread_state)
{
    (void)thread_state;
    struct gate *g = item->arg;
    pthread_mutex_lock(&g->lock);
    g->started++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->lock);
    pthread_mutex_unlock(&g->lock);
    atomic_fetch_add(&g->ran, 1);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->lock);
}

static void gate_wait_started(struct gate *g, int n)
{
    pthread_mutex_lock(&g->lock);
    while (g->started < n)
        pthread_cond_wait(&g->cv, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static int fd_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static int fd_wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, -1) == 1;
}

static void notify_fd_is_readable_exactly_while_completions_wait(void **state)
{
    (void)state;
    struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct tpool *p;
    char err[TPOOL_ERR_MAX];
    assert_int_equal(tpool_create(&p, &(struct tpool_config){.threads = 2, .queue_capacity = 3},
                                  err, sizeof err),
                     0);
    int fd = tpool_notify_fd(p);
    struct tpool_work *back, items[3];
    assert_int_equal(tpool_pop(p, &back), -EAGAIN);
    assert_int_equal(tpool_wait(p, &back), -EAGAIN); /* nothing pending: would never return */
    for (int i = 0; i < 3; i++) {
        items[i] = (struct tpool_work){.fn = gated_fn, .arg = &g};
        assert_int_equal(tpool_submit(p, &items[i]), 0);
    }
    assert_int_equal(tpool_pending(p), 3);
    assert_false(fd_readable(fd)); /* all held at the gate */
    gate_open(&g);
    int seen[3] = {0};
    for (int k = 0; k < 3; k++) {
        assert_true(fd_wait_readable(fd));
        assert_int_equal(tpool_pop(p, &back), 0);
        assert_false(back->cancelled);
        seen[back - items]++;
    }
    assert_int_equal(seen[0] + seen[1] + seen[2], 3);
    assert_true(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    assert_false(fd_readable(fd)); /* drained: not readable any more */
    assert_int_equal(tpool_pop(p, &back), -EAGAIN);
    assert_int_equal(tpool_pending(p), 0);
    tpool_destroy(p);
}

static void the_queue_is_bounded_and_cancel_returns_queued_items(void **state)
{
    (void)state;
    struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct tpool *p;
    char err[TPOOL_ERR_MAX];
    struct tpool_config cfg = {.threads = 1, .queue_capacity = 2};
    assert_int_equal(tpool_create(&p, &cfg, err, sizeof err), 0);
    struct tpool_work first = {.fn = gated_fn, .arg = &g}, q[3], *back;
    assert_int_equal(tpool_submit(p, &first), 0);
    gate_wait_started(&g, 1); /* the one worker holds `first`: the queue is empty */
    for (int i = 0; i < 3; i++)
        q[i] = (struct tpool_work){.fn = gated_fn, .arg = &g};
    assert_int_equal(tpool_submit(p, &q[0]), 0);
    assert_int_equal(tpool_submit(p, &q[1]), 0);
    assert_int_equal(tpool_submit(p, &q[2]), -EAGAIN); /* capacity 2 */
    assert_int_equal(tpool_pending(p), 3);
    assert_int_equal(tpool_cancel(p), 2);
    gate_open(&g);
    size_t n_cancelled = 0, n_ran = 0;
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(tpool_wait(p, &back), 0);
        if (back->cancelled)
            n_cancelled++;
        else
            n_ran++;
    }
    assert_int_equal(n_cancelled, 2);
    assert_int_equal(n_ran, 1);
    assert_int_equal(atomic_load(&g.ran), 1);
    assert_true(q[0].cancelled && q[1].cancelled && !first.cancelled);
    assert_int_equal(tpool_wait(p, &back), -EAGAIN);
    tpool_destroy(p);
}

static void destroy_cancels_queued_work_and_joins(void **state)
{
    (void)state;
    struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .open = 1};
    struct tpool *p;
    char err[TPOOL_ERR_MAX];
    assert_int_equal(tpool_create(&p, &(struct tpool_config){.threads = 3, .queue_capacity = 50},
                                  err, sizeof err),
                     0);
    struct tpool_work items[50];
    for (int i = 0; i < 50; i++) {
        items[i] = (struct tpool_work){.fn = gated_fn, .arg = &g};
        assert_int_equal(tpool_submit(p, &items[i]), 0);
    }
    tpool_destroy(p); /* must not hang, must not run cancelled items */
    int cancelled = 0;
    for (int i = 0; i < 50; i++)
        cancelled += items[i].cancelled;
    assert_int_equal(atomic_load(&g.ran) + cancelled, 50);
}

static void bad_thread_counts_are_refused(void **state)
{
    (void)state;
    struct tpool *p;
    char err[TPOOL_ERR_MAX];
    assert_int_equal(tpool_create(&p, &(struct tpool_config){.threads = 0}, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "bad number of threads"));
    assert_null(p);
}

/* --- interruption: the stop flag cannot be reset, so this runs in a child ------------- */

static int interrupted_run_child(void)
{
    stop_install();
    struct synth s = {.kill_on = 1 + 10};
    struct workload w;
    synth_workload(&w, &s, 1000);
    struct tally t = {.n = 1000, .count = calloc(1000, sizeof(unsigned))};
    struct run_request req = {
        .workload = &w, .workers = 2, .collect = tally_collect, .collect_arg = &t};
    char err[TPOOL_ERR_MAX] = "";
    if (tpool_run_jobs(&req, err, sizeof err) != 0)
        return 10;
    if (stop_requested() != SIGINT)
        return 11;
    if (t.total >= 1000 || t.total < 11) /* job 10 itself was collected; the rest not all */
        return 12;
    if (t.bad)
        return 13;
    for (size_t i = 0; i < 1000; i++)
        if (t.count[i] > 1)
            return 14;
    if (atomic_load(&s.finis) != 2 || atomic_load(&s.live_states) != 0)
        return 15;
    free(t.count);
    return 0;
}

static void sigint_stops_handing_out_and_joins_cleanly(void **state)
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_job_comes_back_exactly_once),
        cmocka_unit_test(jobs_discovered_while_running_come_back_exactly_once),
        cmocka_unit_test(a_thousand_small_stacked_threads_start),
        cmocka_unit_test(a_failing_worker_init_fails_the_run_and_finishes_the_others),
        cmocka_unit_test(notify_fd_is_readable_exactly_while_completions_wait),
        cmocka_unit_test(the_queue_is_bounded_and_cancel_returns_queued_items),
        cmocka_unit_test(destroy_cancels_queued_work_and_joins),
        cmocka_unit_test(bad_thread_counts_are_refused),
        cmocka_unit_test(sigint_stops_handing_out_and_joins_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
