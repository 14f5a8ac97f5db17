/* Unit tests of the coroutine layer: order of spawn/await/resume, futures, the FIFO
 * semaphore, stack reuse, 100,000 tasks without growth, and the guard page. */
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
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coro.h"

#define LOG_MAX 64

/* What the tasks of one test share: an event log, futures, a semaphore. */
struct world {
    struct coro_sched *s;
    int log[LOG_MAX];
    size_t n_log;
    struct coro_future futures[8];
    struct coro_sem sem;
    int in_section, max_in_section;
};

struct actor {
    struct world *w;
    int id;
};

static void note(struct world *w, int event)
{
    assert_true(w->n_log < LOG_MAX);
    w->log[w->n_log++] = event;
}

static void assert_log(const struct world *w, const int *want, size_t n)
{
    assert_int_equal(w->n_log, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(w->log[i], want[i]);
}

static struct coro_sched *sched_new(const struct coro_config *cfg)
{
    struct coro_sched *s;
    char err[128];
    assert_int_equal(coro_sched_create(&s, cfg, err, sizeof err), 0);
    return s;
}

static void spawn(struct world *w, coro_fn *fn, struct actor *a)
{
    assert_int_equal(coro_spawn(w->s, fn, a, NULL), 0);
}

/* --- spawn and run order ---------------------------------------------------------- */

static void logs_its_id(void *arg)
{
    struct actor *a = arg;
    note(a->w, a->id);
}

static void spawned_tasks_run_in_fifo_order_and_only_when_the_scheduler_runs(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a[3] = {{&w, 1}, {&w, 2}, {&w, 3}};
    for (int i = 0; i < 3; i++)
        spawn(&w, logs_its_id, &a[i]);
    assert_int_equal(w.n_log, 0); /* spawning never switches */
    assert_int_equal(coro_sched_run(w.s), 3);
    const int want[] = {1, 2, 3};
    assert_log(&w, want, 3);
    struct coro_stats st;
    coro_stats(w.s, &st);
    assert_int_equal(st.live, 0);
    coro_sched_destroy(w.s);
}

static void yields_twice(void *arg)
{
    struct actor *a = arg;
    for (int i = 0; i < 3; i++) {
        note(a->w, a->id * 10 + i);
        if (i < 2)
            assert_int_equal(coro_yield(), 0);
    }
}

static void yield_interleaves_ready_tasks_round_robin(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a[2] = {{&w, 1}, {&w, 2}};
    spawn(&w, yields_twice, &a[0]);
    spawn(&w, yields_twice, &a[1]);
    coro_sched_run(w.s);
    const int want[] = {10, 20, 11, 21, 12, 22};
    assert_log(&w, want, 6);
    coro_sched_destroy(w.s);
}

/* --- futures ------------------------------------------------------------------------ */

static void awaits_its_future(void *arg)
{
    struct actor *a = arg;
    note(a->w, a->id);
    long v = coro_await(&a->w->futures[a->id]);
    note(a->w, (int)v);
}

static void await_suspends_until_resolved_and_resumes_only_in_the_scheduler(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a[2] = {{&w, 0}, {&w, 1}};
    coro_future_init(&w.futures[0]);
    coro_future_init(&w.futures[1]);
    spawn(&w, awaits_its_future, &a[0]);
    spawn(&w, awaits_its_future, &a[1]);
    coro_sched_run(w.s);
    const int started[] = {0, 1};
    assert_log(&w, started, 2);

    /* resolve in the opposite order: they resume in resolution order, and not before */
    coro_future_resolve(&w.futures[1], 101);
    coro_future_resolve(&w.futures[0], 100);
    assert_int_equal(w.n_log, 2);
    struct coro_stats st;
    coro_stats(w.s, &st);
    assert_int_equal(st.ready, 2);
    coro_sched_run(w.s);
    const int want[] = {0, 1, 101, 100};
    assert_log(&w, want, 4);
    coro_sched_destroy(w.s);
}

static void awaiting_a_done_future_returns_its_value_without_suspending(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a = {&w, 2};
    coro_future_init(&w.futures[2]);
    coro_future_resolve(&w.futures[2], 7); /* no waiter: just done */
    spawn(&w, awaits_its_future, &a);
    assert_int_equal(coro_sched_run(w.s), 1); /* one resumption: it never suspended */
    const int want[] = {2, 7};
    assert_log(&w, want, 2);
    coro_sched_destroy(w.s);
}

static void records_where_it_waits(void *arg)
{
    struct actor *a = arg;
    coro_await(&a->w->futures[0]);
}

static void a_suspended_task_records_the_file_and_line_it_waits_at(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a = {&w, 0};
    struct coro *c;
    coro_future_init(&w.futures[0]);
    assert_int_equal(coro_spawn(w.s, records_where_it_waits, &a, &c), 0);
    assert_null(coro_where(c));
    coro_sched_run(w.s);
    assert_non_null(strstr(coro_where(c), "test_coro.c:"));
    assert_null(coro_self()); /* back on the scheduler's stack */
    coro_future_resolve(&w.futures[0], 0);
    coro_sched_run(w.s);
    coro_sched_destroy(w.s);
}

/* --- semaphore ------------------------------------------------------------------------ */

/* acquire, log, hold until its future is resolved, release */
static void holds_a_permit(void *arg)
{
    struct actor *a = arg;
    struct world *w = a->w;
    assert_int_equal(coro_sem_acquire(&w->sem), 0);
    note(w, a->id);
    if (++w->in_section > w->max_in_section)
        w->max_in_section = w->in_section;
    coro_await(&w->futures[a->id]);
    w->in_section--;
    coro_sem_release(&w->sem);
}

static void semaphore_hands_permits_to_waiters_in_fifo_order_without_barging(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    coro_sem_init(&w.sem, 1);
    struct actor a[6];
    for (int i = 0; i < 6; i++) {
        a[i] = (struct actor){&w, i};
        coro_future_init(&w.futures[i]);
        coro_future_resolve(&w.futures[i], 0); /* hold only for a moment: a release each */
    }
    coro_future_init(&w.futures[0]); /* the first holder keeps the permit until told */
    for (int i = 0; i < 5; i++)
        spawn(&w, holds_a_permit, &a[i]);
    coro_sched_run(w.s);
    assert_int_equal(w.n_log, 1);
    assert_int_equal(w.sem.waiters.n, 4);

    /* release and, before any waiter runs, a newcomer asks: it must queue behind them */
    coro_future_resolve(&w.futures[0], 0);
    spawn(&w, holds_a_permit, &a[5]);
    coro_sched_run(w.s);
    const int want[] = {0, 1, 2, 3, 4, 5};
    assert_log(&w, want, 6);
    assert_int_equal(w.max_in_section, 1);
    assert_int_equal(w.sem.permits, 1);
    assert_int_equal(w.sem.waiters.n, 0);
    coro_sched_destroy(w.s);
}

static void semaphore_bounds_how_many_hold_it_at_once(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    coro_sem_init(&w.sem, 3);
    struct actor a[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (struct actor){&w, i};
        coro_future_init(&w.futures[i]);
        spawn(&w, holds_a_permit, &a[i]);
    }
    coro_sched_run(w.s);
    assert_int_equal(w.in_section, 3);
    for (int i = 0; i < 8; i++) {
        coro_future_resolve(&w.futures[i], 0);
        coro_sched_run(w.s);
        assert_true(w.in_section <= 3);
    }
    assert_int_equal(w.max_in_section, 3);
    assert_int_equal(w.n_log, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(w.log[i], i);
    assert_true(coro_sem_try_acquire(&w.sem));
    coro_sem_release(&w.sem);
    coro_sched_destroy(w.s);
}

/* --- stacks ------------------------------------------------------------------------- */

static void does_nothing(void *arg)
{
    (void)arg;
}

static void a_finished_tasks_stack_is_reused_by_the_next(void **state)
{
    (void)state;
    struct coro_sched *s = sched_new(NULL);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(coro_spawn(s, does_nothing, NULL, NULL), 0);
        coro_sched_run(s);
    }
    struct coro_stats st;
    coro_stats(s, &st);
    assert_int_equal(st.spawned, 10);
    assert_int_equal(st.stacks_created, 1);
    assert_int_equal(st.stacks_mapped, 1);
    assert_int_equal(st.stacks_free, 1);
    coro_sched_destroy(s);
}

struct wave {
    struct coro_future f;
    int ran;
};

static void awaits_wave(void *arg)
{
    struct wave *v = arg;
    coro_await(&v->f);
    v->ran++;
}

/* VmRSS of this process in KiB */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void hundred_thousand_tasks_reuse_the_stacks_of_the_widest_wave(void **state)
{
    (void)state;
    enum { WIDTH = 100, TASKS = 100000 };
    struct coro_sched *s = sched_new(NULL);
    static struct wave waves[WIDTH];
    long rss_after_first = 0;
    for (int done = 0; done < TASKS; done += WIDTH) {
        for (int i = 0; i < WIDTH; i++) {
            coro_future_init(&waves[i].f);
            assert_int_equal(coro_spawn(s, awaits_wave, &waves[i], NULL), 0);
        }
        coro_sched_run(s); /* all WIDTH suspended at once */
        struct coro_stats st;
        coro_stats(s, &st);
        assert_int_equal(st.live, WIDTH);
        for (int i = 0; i < WIDTH; i++)
            coro_future_resolve(&waves[i].f, 0);
        coro_sched_run(s);
        if (done == 0)
            rss_after_first = rss_kb();
    }
    struct coro_stats st;
    coro_stats(s, &st);
    assert_int_equal(st.spawned, TASKS);
    assert_int_equal(st.live, 0);
    assert_int_equal(st.stacks_created, WIDTH);
    assert_int_equal(st.stacks_mapped, WIDTH);
    for (int i = 0; i < WIDTH; i++)
        assert_int_equal(waves[i].ran, TASKS / WIDTH);
    /* nothing else grows either (a generous bound: this is not a timing test) */
    assert_true(rss_kb() - rss_after_first < 1024);
    coro_sched_destroy(s);
}

static void stacks_are_mapped_in_slabs_not_one_mmap_per_task(void **state)
{
    (void)state;
    enum { N = 100 };
    struct coro_sched *s = sched_new(NULL);
    static struct wave waves[N];
    for (int i = 0; i < N; i++) {
        coro_future_init(&waves[i].f);
        assert_int_equal(coro_spawn(s, awaits_wave, &waves[i], NULL), 0);
    }
    coro_sched_run(s);
    struct coro_stats st;
    coro_stats(s, &st);
    assert_int_equal(st.stacks_created, N);
    assert_true(st.slabs_mapped >= 1 && st.slabs_mapped < N / 10);
    for (int i = 0; i < N; i++)
        coro_future_resolve(&waves[i].f, 0);
    coro_sched_run(s);
    coro_stats(s, &st);
    assert_int_equal(st.stacks_free, N);
    coro_sched_destroy(s);
}

static void uses_8k_of_stack(void *arg)
{
    (void)arg;
    volatile char buf[8192];
    for (size_t i = 0; i < sizeof buf; i += 64)
        buf[i] = 1;
}

static void painted_stacks_report_how_deep_tasks_went(void **state)
{
    (void)state;
    struct coro_config cfg = {.paint_stacks = true};
    struct coro_sched *s = sched_new(&cfg);
    assert_int_equal(coro_spawn(s, uses_8k_of_stack, NULL, NULL), 0);
    coro_sched_run(s);
    struct coro_stats st;
    coro_stats(s, &st);
    assert_true(st.stack_high_water_bytes >= 8192);
    assert_true(st.stack_high_water_bytes < 8192 + 16384);
    coro_sched_destroy(s);
}

/* --- the guard page --------------------------------------------------------------- */

static volatile char *overflow_start; /* a local of the task's first frame */
static int overflow_pipe[2];
static size_t overflow_stack_bytes;

/* In the child: where did the fault land? One byte to the parent, then die of SIGSEGV. */
static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    uintptr_t top = (uintptr_t)overflow_start, addr = (uintptr_t)si->si_addr;
    /* the guard page lies one stack size below the task's first frame */
    char verdict = addr < top && top - addr > overflow_stack_bytes - 8192
                   && top - addr < overflow_stack_bytes + 8192 ? 'G' : '?';
    ssize_t n = write(overflow_pipe[1], &verdict, 1);
    (void)n;
    signal(sig, SIG_DFL); /* return: the access faults again and the default action kills */
}

static volatile int overflow_limit = 1 << 30; /* deeper than any stack: never reached */

__attribute__((noinline)) static int recurse(volatile char *prev, int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[511] = prev ? prev[0] : 0;
    if (depth >= overflow_limit)
        return 0;
    return recurse(frame, depth + 1) + frame[511]; /* not a tail call */
}

static void overflows(void *arg)
{
    (void)arg;
    volatile char here = 0;
    overflow_start = &here;
    recurse(NULL, 0);
}

static void a_stack_overflow_hits_the_guard_page_and_dies_of_sigsegv(void **state)
{
    (void)state;
    assert_int_equal(pipe(overflow_pipe), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        /* the handler needs a stack of its own: the task's is the one that overflowed */
        static char alt[64 * 1024];
        stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
        sigaltstack(&ss, NULL);
        struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
        sigaction(SIGSEGV, &sa, NULL); /* replaces ASan's handler too, when built with it */
        overflow_stack_bytes = CORO_DEFAULT_STACK_BYTES;
        struct coro_sched *s;
        char err[128];
        if (coro_sched_create(&s, NULL, err, sizeof err) != 0
            || coro_spawn(s, overflows, NULL, NULL) != 0)
            _exit(3);
        coro_sched_run(s);
        _exit(0); /* survived: the guard page did not work */
    }
    close(overflow_pipe[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char verdict = 0;
    assert_int_equal(read(overflow_pipe[0], &verdict, 1), 1);
    close(overflow_pipe[0]);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
    assert_int_equal(verdict, 'G'); /* at the end of the task's stack, not somewhere else */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spawned_tasks_run_in_fifo_order_and_only_when_the_scheduler_runs),
        cmocka_unit_test(yield_interleaves_ready_tasks_round_robin),
        cmocka_unit_test(await_suspends_until_resolved_and_resumes_only_in_the_scheduler),
        cmocka_unit_test(awaiting_a_done_future_returns_its_value_without_suspending),
        cmocka_unit_test(a_suspended_task_records_the_file_and_line_it_waits_at),
        cmocka_unit_test(semaphore_hands_permits_to_waiters_in_fifo_order_without_barging),
        cmocka_unit_test(semaphore_bounds_how_many_hold_it_at_once),
        cmocka_unit_test(a_finished_tasks_stack_is_reused_by_the_next),
        cmocka_unit_test(hundred_thousand_tasks_reuse_the_stacks_of_the_widest_wave),
        cmocka_unit_test(stacks_are_mapped_in_slabs_not_one_mmap_per_task),
        cmocka_unit_test(painted_stacks_report_how_deep_tasks_went),
        cmocka_unit_test(a_stack_overflow_hits_the_guard_page_and_dies_of_sigsegv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
