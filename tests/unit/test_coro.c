/* Unit tests of the coroutine layer: order of spawn/await/resume, futures, the FIFO
 * semaphore, the queue, cancellation (at every kind of suspension, a real transfer
 * included), join, stack reuse, 100,000 tasks without growth, and the guard page. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coro.h"
#include "loop.h"
#include "threadpool.h"

#define LOG_MAX 64

/* What the tasks of one test share: an event log, futures, a semaphore. */
struct world {
    struct coro_sched *s;
    int log[LOG_MAX];
    size_t n_log;
    struct coro_future futures[8];
    struct coro_sem sem;
    struct coro_queue q;
    struct coro *t[8]; /* tasks spawned with spawn_as */
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

/* spawn a's task and keep it in w->t[a->id], for coro_cancel */
static void spawn_as(struct world *w, coro_fn *fn, struct actor *a)
{
    assert_int_equal(coro_spawn(w->s, fn, a, &w->t[a->id]), 0);
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

/* --- queue -------------------------------------------------------------------------- */

#define ITEM(n) ((void *)(intptr_t)(n))
#define ITEM_ID(p) ((int)(intptr_t)(p))

/* One-shot tasks of a world: each puts, gets or joins once through w->q and logs its id
 * (a getter: id * 100 + the item), or the error it got. */
static void puts_its_id(void *arg)
{
    struct actor *a = arg;
    int rc = coro_queue_put(&a->w->q, ITEM(a->id));
    note(a->w, rc == 0 ? a->id : rc);
}

static void gets_one(void *arg)
{
    struct actor *a = arg;
    void *item = ITEM(-1);
    int rc = coro_queue_get(&a->w->q, &item);
    note(a->w, rc == 0 ? a->id * 100 + ITEM_ID(item) : rc);
}

static void joins_the_queue(void *arg)
{
    struct actor *a = arg;
    int rc = coro_queue_join(&a->w->q);
    note(a->w, rc == 0 ? a->id : rc);
}

static void queue_put_suspends_while_full_and_waiting_putters_go_in_fifo_order(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    assert_int_equal(coro_queue_init(&w.q, 1), 0);
    struct actor a[3] = {{&w, 1}, {&w, 2}, {&w, 3}};
    for (int i = 0; i < 3; i++)
        spawn(&w, puts_its_id, &a[i]);
    coro_sched_run(w.s);
    const int first[] = {1}; /* 2 and 3 wait for room */
    assert_log(&w, first, 1);
    assert_int_equal(coro_queue_size(&w.q), 1);
    assert_int_equal(w.q.putters.n, 2);
    assert_int_equal(coro_queue_try_put(&w.q, ITEM(9)), -EAGAIN); /* full */

    /* each get frees the slot for the oldest putter, which then resumes */
    void *item;
    for (int want = 1; want <= 3; want++) {
        assert_int_equal(coro_queue_try_get(&w.q, &item), 0);
        assert_int_equal(ITEM_ID(item), want);
        coro_queue_task_done(&w.q);
        assert_true(coro_queue_size(&w.q) <= 1);
        coro_sched_run(w.s);
    }
    const int want[] = {1, 2, 3};
    assert_log(&w, want, 3);
    assert_int_equal(coro_queue_try_get(&w.q, &item), -EAGAIN);
    coro_queue_destroy(&w.q);
    coro_sched_destroy(w.s);
}

static void queue_get_suspends_while_empty_and_a_put_hands_over_to_the_oldest_getter(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    assert_int_equal(coro_queue_init(&w.q, 0), 0);
    struct actor a[4] = {{&w, 1}, {&w, 2}, {&w, 3}, {&w, 4}};
    for (int i = 0; i < 3; i++)
        spawn(&w, gets_one, &a[i]);
    coro_sched_run(w.s);
    assert_int_equal(w.n_log, 0);
    assert_int_equal(w.q.getters.n, 3);

    /* from the scheduler's thread (on an unbounded queue a put never waits); a latecomer
     * spawned before the getters run must not take what was handed to them */
    assert_int_equal(coro_queue_put(&w.q, ITEM(7)), 0);
    assert_int_equal(coro_queue_try_put(&w.q, ITEM(8)), 0);
    assert_int_equal(coro_queue_put(&w.q, ITEM(9)), 0);
    spawn_as(&w, gets_one, &a[3]);
    assert_int_equal(coro_queue_size(&w.q), 0); /* handed over, not queued */
    coro_sched_run(w.s);
    const int want[] = {107, 208, 309};
    assert_log(&w, want, 3);
    assert_int_equal(w.q.getters.n, 1); /* the latecomer waits */

    assert_true(coro_cancel(w.t[4]));
    coro_sched_run(w.s);
    const int then[] = {107, 208, 309, -ECANCELED};
    assert_log(&w, then, 4);
    assert_int_equal(w.q.getters.n, 0);
    coro_queue_destroy(&w.q);
    coro_sched_destroy(w.s);
}

static void an_unbounded_queue_grows_and_keeps_fifo_order_across_the_wrap(void **state)
{
    (void)state;
    enum { N = 1000 };
    struct coro_queue q;
    assert_int_equal(coro_queue_init(&q, 0), 0);
    void *item;
    assert_int_equal(coro_queue_try_get(&q, &item), -EAGAIN);
    /* move the head off slot 0 first, so that growing has to unwrap the ring */
    for (int i = 0; i < 10; i++)
        assert_int_equal(coro_queue_try_put(&q, ITEM(i)), 0);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(coro_queue_try_get(&q, &item), 0);
        assert_int_equal(ITEM_ID(item), i);
    }
    for (int i = 10; i < N; i++)
        assert_int_equal(coro_queue_try_put(&q, ITEM(i)), 0);
    assert_int_equal(coro_queue_size(&q), N - 7);
    for (int i = 7; i < N; i++) {
        assert_int_equal(coro_queue_try_get(&q, &item), 0);
        assert_int_equal(ITEM_ID(item), i);
    }
    assert_int_equal(coro_queue_size(&q), 0);
    assert_int_equal(q.unfinished, N);
    coro_queue_destroy(&q);
}

static void queue_join_returns_only_when_every_item_put_has_been_task_done(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    assert_int_equal(coro_queue_init(&w.q, 0), 0);
    struct actor a[2] = {{&w, 1}, {&w, 2}};
    spawn(&w, joins_the_queue, &a[0]); /* nothing was ever put: returns at once */
    coro_sched_run(w.s);
    const int at_once[] = {1};
    assert_log(&w, at_once, 1);

    for (int i = 0; i < 3; i++)
        assert_int_equal(coro_queue_put(&w.q, ITEM(i)), 0);
    spawn(&w, joins_the_queue, &a[1]);
    coro_sched_run(w.s);
    void *item;
    for (int i = 0; i < 3; i++) /* taken is not done */
        assert_int_equal(coro_queue_try_get(&w.q, &item), 0);
    coro_sched_run(w.s);
    assert_int_equal(w.n_log, 1);
    coro_queue_task_done(&w.q);
    coro_queue_task_done(&w.q);
    coro_sched_run(w.s);
    assert_int_equal(w.n_log, 1);
    coro_queue_task_done(&w.q);
    assert_int_equal(w.n_log, 1); /* made ready, not run: task_done never switches */
    coro_sched_run(w.s);
    const int want[] = {1, 2};
    assert_log(&w, want, 2);
    coro_queue_destroy(&w.q);
    coro_sched_destroy(w.s);
}

/* The crawler's shape (500 Lines' asyncio crawler): a main task puts work, -m workers get
 * and task_done it, the main task joins the queue, then cancels and joins the workers. */
enum { CRAWL_ITEMS = 40, CRAWL_WORKERS = 3, CRAWL_CAPACITY = 4 };

struct crawl {
    struct coro_sched *s;
    struct coro_queue q;
    int got_by[CRAWL_ITEMS];      /* which worker took each item, + 1 */
    int last_seen[CRAWL_WORKERS]; /* each worker's last item: increasing */
    int done;                     /* task_done calls */
    int done_at_join;             /* done when coro_queue_join returned */
    size_t max_size;
    long worker_results[CRAWL_WORKERS];
    int join_rcs[CRAWL_WORKERS];
};

struct crawl_worker {
    struct crawl *c;
    int id;
};

static long crawl_worker(void *arg)
{
    struct crawl_worker *cw = arg;
    struct crawl *c = cw->c;
    long handled = 0;
    for (;;) {
        void *item;
        int rc = coro_queue_get(&c->q, &item);
        if (rc != 0)
            return rc == -ECANCELED ? handled : rc;
        int i = ITEM_ID(item);
        assert_int_equal(c->got_by[i], 0); /* each item once */
        c->got_by[i] = cw->id + 1;
        assert_true(i > c->last_seen[cw->id]);
        c->last_seen[cw->id] = i;
        if (i % 3 == 0 && coro_yield() != 0) /* let the others interleave */
            return -1;
        handled++;
        c->done++;
        coro_queue_task_done(&c->q);
    }
}

static long crawl_main(void *arg)
{
    struct crawl *c = arg;
    struct crawl_worker cw[CRAWL_WORKERS];
    struct coro *workers[CRAWL_WORKERS];
    for (int i = 0; i < CRAWL_WORKERS; i++) {
        cw[i] = (struct crawl_worker){c, i};
        c->last_seen[i] = -1;
        assert_int_equal(coro_spawn_joinable(c->s, crawl_worker, &cw[i], &workers[i]), 0);
    }
    for (int i = 0; i < CRAWL_ITEMS; i++) {
        assert_int_equal(coro_queue_put(&c->q, ITEM(i)), 0);
        if (coro_queue_size(&c->q) > c->max_size)
            c->max_size = coro_queue_size(&c->q);
    }
    assert_int_equal(coro_queue_join(&c->q), 0);
    c->done_at_join = c->done;
    for (int i = 0; i < CRAWL_WORKERS; i++)
        assert_true(coro_cancel(workers[i]));
    for (int i = 0; i < CRAWL_WORKERS; i++)
        c->join_rcs[i] = coro_join(workers[i], &c->worker_results[i]);
    return 7;
}

static void workers_on_a_bounded_queue_handle_every_item_once_then_are_cancelled_and_joined(
    void **state)
{
    (void)state;
    struct crawl c = {.s = sched_new(NULL)};
    assert_int_equal(coro_queue_init(&c.q, CRAWL_CAPACITY), 0);
    struct coro *main_task;
    assert_int_equal(coro_spawn_joinable(c.s, crawl_main, &c, &main_task), 0);
    coro_sched_run(c.s);
    long result = 0;
    assert_int_equal(coro_join(main_task, &result), 0); /* finished: the scheduler may join */
    assert_int_equal(result, 7);
    assert_int_equal(c.done_at_join, CRAWL_ITEMS);
    assert_true(c.max_size <= CRAWL_CAPACITY);
    long handled = 0;
    for (int i = 0; i < CRAWL_WORKERS; i++) {
        assert_int_equal(c.join_rcs[i], 0);
        assert_true(c.worker_results[i] > 0); /* all of them took part */
        handled += c.worker_results[i];
    }
    assert_int_equal(handled, CRAWL_ITEMS);
    for (int i = 0; i < CRAWL_ITEMS; i++)
        assert_int_not_equal(c.got_by[i], 0);
    struct coro_stats st;
    coro_stats(c.s, &st);
    assert_int_equal(st.live, 0);
    assert_int_equal(st.unjoined, 0);
    assert_int_equal(st.stacks_free, st.stacks_mapped); /* every stack back */
    assert_int_equal(c.q.getters.n + c.q.putters.n + c.q.joiners.n, 0);
    coro_queue_destroy(&c.q);
    coro_sched_destroy(c.s);
}

/* --- cancellation ----------------------------------------------------------------------- */

static void cancelling_a_task_blocked_on_queue_get_wakes_it_and_the_next_item_skips_it(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    assert_int_equal(coro_queue_init(&w.q, 0), 0);
    struct actor a[2] = {{&w, 1}, {&w, 2}};
    spawn_as(&w, gets_one, &a[0]);
    spawn_as(&w, gets_one, &a[1]);
    coro_sched_run(w.s);
    assert_true(coro_cancel(w.t[1]));
    assert_int_equal(w.q.getters.n, 1); /* out of line at once */
    assert_int_equal(coro_queue_put(&w.q, ITEM(5)), 0);
    coro_sched_run(w.s);
    const int want[] = {-ECANCELED, 205};
    assert_log(&w, want, 2);
    assert_int_equal(coro_queue_size(&w.q), 0);
    coro_queue_destroy(&w.q);
    coro_sched_destroy(w.s);
}

static void cancelling_a_task_blocked_on_queue_put_leaves_its_item_out(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    assert_int_equal(coro_queue_init(&w.q, 1), 0);
    assert_int_equal(coro_queue_try_put(&w.q, ITEM(1)), 0);
    struct actor a[2] = {{&w, 2}, {&w, 3}};
    spawn_as(&w, puts_its_id, &a[0]);
    spawn_as(&w, puts_its_id, &a[1]);
    coro_sched_run(w.s);
    assert_int_equal(w.q.putters.n, 2);
    assert_true(coro_cancel(w.t[2]));
    coro_sched_run(w.s);
    const int cancelled[] = {-ECANCELED};
    assert_log(&w, cancelled, 1);
    assert_int_equal(w.q.putters.n, 1);

    void *item;
    assert_int_equal(coro_queue_try_get(&w.q, &item), 0);
    assert_int_equal(ITEM_ID(item), 1);
    coro_sched_run(w.s); /* 3's item moved in: it returns */
    assert_int_equal(coro_queue_try_get(&w.q, &item), 0);
    assert_int_equal(ITEM_ID(item), 3); /* 2's never went in */
    assert_int_equal(coro_queue_try_get(&w.q, &item), -EAGAIN);
    assert_int_equal(w.q.unfinished, 2);
    const int want[] = {-ECANCELED, 3};
    assert_log(&w, want, 2);
    coro_queue_destroy(&w.q);
    coro_sched_destroy(w.s);
}

static void cancelling_a_task_blocked_on_queue_join_wakes_only_that_one(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    assert_int_equal(coro_queue_init(&w.q, 0), 0);
    assert_int_equal(coro_queue_try_put(&w.q, ITEM(1)), 0);
    struct actor a[2] = {{&w, 1}, {&w, 2}};
    spawn_as(&w, joins_the_queue, &a[0]);
    spawn_as(&w, joins_the_queue, &a[1]);
    coro_sched_run(w.s);
    assert_true(coro_cancel(w.t[1]));
    coro_sched_run(w.s);
    const int cancelled[] = {-ECANCELED};
    assert_log(&w, cancelled, 1);
    void *item;
    assert_int_equal(coro_queue_try_get(&w.q, &item), 0);
    coro_queue_task_done(&w.q);
    coro_sched_run(w.s);
    const int want[] = {-ECANCELED, 2};
    assert_log(&w, want, 2);
    coro_queue_destroy(&w.q);
    coro_sched_destroy(w.s);
}

static void awaits_cancellably(void *arg)
{
    struct actor *a = arg;
    long v = -1;
    int rc = coro_await_cancellable(&a->w->futures[a->id], &v);
    note(a->w, rc == 0 ? (int)v : rc);
    note(a->w, coro_cancelled());
}

static void cancelling_a_task_blocked_on_a_future_wakes_it_and_a_later_resolve_wakes_nobody(
    void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a[2] = {{&w, 0}, {&w, 1}};
    coro_future_init(&w.futures[0]);
    coro_future_init(&w.futures[1]);
    spawn_as(&w, awaits_cancellably, &a[0]);
    spawn_as(&w, awaits_cancellably, &a[1]);
    coro_sched_run(w.s);
    assert_int_equal(w.n_log, 0);
    assert_true(coro_cancel(w.t[0]));
    assert_null(w.futures[0].waiter); /* withdrawn at once */
    coro_sched_run(w.s);
    const int cancelled[] = {-ECANCELED, 1};
    assert_log(&w, cancelled, 2);

    /* task 0 has finished and its stack went to the next spawn; the late resolve must
     * touch neither */
    struct actor reuse = {&w, 2};
    coro_future_init(&w.futures[2]);
    spawn(&w, awaits_cancellably, &reuse);
    coro_sched_run(w.s);
    coro_future_resolve(&w.futures[0], 5);
    struct coro_stats st;
    coro_stats(w.s, &st);
    assert_int_equal(st.ready, 0);
    coro_future_resolve(&w.futures[1], 11);
    coro_future_resolve(&w.futures[2], 12);
    coro_sched_run(w.s);
    const int want[] = {-ECANCELED, 1, 11, 0, 12, 0};
    assert_log(&w, want, 6);
    coro_sched_destroy(w.s);
}

/* coro_await (not _cancellable), then two yields: the first takes the cancel, the second
 * waits as usual (a cancelled task can still await while it cleans up). */
static void awaits_then_yields_twice(void *arg)
{
    struct actor *a = arg;
    note(a->w, (int)coro_await(&a->w->futures[a->id]));
    note(a->w, coro_yield());
    note(a->w, coro_yield());
    note(a->w, coro_cancelled());
}

static void plain_await_is_not_a_cancellation_point_the_next_one_is_and_only_once(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a = {&w, 0};
    coro_future_init(&w.futures[0]);
    spawn_as(&w, awaits_then_yields_twice, &a);
    coro_sched_run(w.s);
    assert_true(coro_cancel(w.t[0]));
    assert_true(coro_cancel(w.t[0])); /* twice before delivery: one cancellation */
    struct coro_stats st;
    coro_stats(w.s, &st);
    assert_int_equal(st.ready, 0); /* still awaiting */
    coro_future_resolve(&w.futures[0], 5);
    coro_sched_run(w.s);
    const int want[] = {5, -ECANCELED, 0, 1};
    assert_log(&w, want, 4);
    coro_sched_destroy(w.s);
}

/* acquire (logging the result), hold until its future is resolved, release */
static void acquires_and_logs(void *arg)
{
    struct actor *a = arg;
    struct world *w = a->w;
    int rc = coro_sem_acquire(&w->sem);
    note(w, rc == 0 ? a->id : rc);
    if (rc != 0)
        return;
    coro_await(&w->futures[a->id]);
    coro_sem_release(&w->sem);
}

static void cancelling_a_task_blocked_on_a_semaphore_takes_it_out_of_line_and_loses_no_permit(
    void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    coro_sem_init(&w.sem, 1);
    struct actor a[3];
    for (int i = 0; i < 3; i++) {
        a[i] = (struct actor){&w, i};
        coro_future_init(&w.futures[i]);
        spawn_as(&w, acquires_and_logs, &a[i]);
    }
    coro_sched_run(w.s); /* 0 holds; 1 and 2 wait */
    assert_int_equal(w.sem.waiters.n, 2);
    assert_true(coro_cancel(w.t[1]));
    assert_int_equal(w.sem.waiters.n, 1);
    coro_sched_run(w.s);
    const int cancelled[] = {0, -ECANCELED};
    assert_log(&w, cancelled, 2);
    coro_future_resolve(&w.futures[0], 0); /* 0 releases: to 2, the one still in line */
    coro_sched_run(w.s);
    coro_future_resolve(&w.futures[2], 0);
    coro_sched_run(w.s);
    const int want[] = {0, -ECANCELED, 2};
    assert_log(&w, want, 3);
    assert_int_equal(w.sem.permits, 1);
    assert_int_equal(w.sem.waiters.n, 0);
    coro_sched_destroy(w.s);
}

/* yields three times, logging what each yield returned */
static void yields_and_logs(void *arg)
{
    struct actor *a = arg;
    for (int i = 0; i < 3; i++)
        note(a->w, coro_yield());
}

static void cancels_task_0(void *arg)
{
    struct actor *a = arg;
    note(a->w, coro_cancel(a->w->t[0]) ? 100 : -100);
}

static void a_cancelled_yield_returns_ecanceled_in_its_turn(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a[2] = {{&w, 0}, {&w, 1}};
    spawn_as(&w, yields_and_logs, &a[0]);
    spawn_as(&w, cancels_task_0, &a[1]);
    coro_sched_run(w.s);
    /* 0 yields; 1 cancels it (from a task); 0's yield says so; its next ones wait as usual */
    const int want[] = {100, -ECANCELED, 0, 0};
    assert_log(&w, want, 4);
    coro_sched_destroy(w.s);
}

/* gets twice from w->q, logging each result */
static void gets_twice(void *arg)
{
    struct actor *a = arg;
    for (int i = 0; i < 2; i++) {
        void *item = ITEM(-1);
        int rc = coro_queue_get(&a->w->q, &item);
        note(a->w, rc == 0 ? ITEM_ID(item) : rc);
    }
}

static void a_cancel_before_the_task_waits_is_delivered_at_its_next_cancellation_point(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    assert_int_equal(coro_queue_init(&w.q, 0), 0);
    assert_int_equal(coro_queue_try_put(&w.q, ITEM(4)), 0);
    struct actor a = {&w, 0};
    spawn_as(&w, gets_twice, &a);
    assert_true(coro_cancel(w.t[0])); /* before it ever ran */
    coro_sched_run(w.s);
    /* the first get says -ECANCELED though an item was there; the second takes it */
    const int want[] = {-ECANCELED, 4};
    assert_log(&w, want, 2);
    coro_queue_destroy(&w.q);
    coro_sched_destroy(w.s);
}

/* --- join ----------------------------------------------------------------------------- */

/* a joinable task: awaits its future, returns the value + 1 */
static long returns_its_future_plus_one(void *arg)
{
    struct actor *a = arg;
    long v = 0;
    int rc = coro_await_cancellable(&a->w->futures[a->id], &v);
    note(a->w, rc == 0 ? a->id : rc);
    return rc == 0 ? v + 1 : rc;
}

struct joiner {
    struct world *w;
    struct coro *target;
    int rc;
    long result;
};

static void joins_its_target(void *arg)
{
    struct joiner *j = arg;
    j->rc = coro_join(j->target, &j->result);
    note(j->w, 50);
}

static void join_suspends_until_the_task_returns_and_gives_its_value(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a = {&w, 0};
    coro_future_init(&w.futures[0]);
    struct coro *t;
    assert_int_equal(coro_spawn_joinable(w.s, returns_its_future_plus_one, &a, &t), 0);
    struct joiner j = {.w = &w, .target = t, .rc = 1};
    assert_int_equal(coro_spawn(w.s, joins_its_target, &j, NULL), 0);
    coro_sched_run(w.s);
    assert_int_equal(w.n_log, 0);
    assert_int_equal(coro_join(t, NULL), -EAGAIN); /* the scheduler's thread cannot wait */
    coro_future_resolve(&w.futures[0], 41);
    coro_sched_run(w.s);
    const int want[] = {0, 50};
    assert_log(&w, want, 2);
    assert_int_equal(j.rc, 0);
    assert_int_equal(j.result, 42);
    struct coro_stats st;
    coro_stats(w.s, &st);
    assert_int_equal(st.live, 0);
    assert_int_equal(st.unjoined, 0);
    assert_int_equal(st.stacks_free, 2); /* the joiner recycled it */
    coro_sched_destroy(w.s);
}

static void cancelling_a_finished_task_is_a_no_op_and_join_still_gives_its_value(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a = {&w, 0};
    coro_future_init(&w.futures[0]);
    coro_future_resolve(&w.futures[0], 9);
    struct coro *t;
    assert_int_equal(coro_spawn_joinable(w.s, returns_its_future_plus_one, &a, &t), 0);
    coro_sched_run(w.s);
    struct coro_stats st;
    coro_stats(w.s, &st);
    assert_int_equal(st.live, 0);
    assert_int_equal(st.unjoined, 1); /* kept for its joiner */
    assert_int_equal(st.stacks_mapped, 1);
    assert_false(coro_cancel(t));
    assert_int_equal(coro_sched_run(w.s), 0); /* nothing was woken */
    long result = 0;
    assert_int_equal(coro_join(t, &result), 0);
    assert_int_equal(result, 10);
    coro_stats(w.s, &st);
    assert_int_equal(st.unjoined, 0);
    assert_int_equal(st.stacks_free, 1);
    coro_sched_destroy(w.s);
}

static void cancelling_a_task_blocked_in_join_leaves_its_target_joinable(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a = {&w, 0};
    coro_future_init(&w.futures[0]);
    struct coro *t, *jt;
    assert_int_equal(coro_spawn_joinable(w.s, returns_its_future_plus_one, &a, &t), 0);
    struct joiner j = {.w = &w, .target = t, .rc = 1};
    assert_int_equal(coro_spawn(w.s, joins_its_target, &j, &jt), 0);
    coro_sched_run(w.s);
    assert_true(coro_cancel(jt));
    coro_sched_run(w.s);
    assert_int_equal(j.rc, -ECANCELED);
    coro_future_resolve(&w.futures[0], 1); /* t ends, and wakes no (gone) joiner */
    coro_sched_run(w.s);
    const int want[] = {50, 0};
    assert_log(&w, want, 2);
    long result = 0;
    assert_int_equal(coro_join(t, &result), 0);
    assert_int_equal(result, 2);
    coro_sched_destroy(w.s);
}

static void does_nothing_yet(void *arg)
{
    (void)arg;
}

static long joins_itself(void *arg)
{
    struct joiner *j = arg;
    j->rc = coro_join(j->target, NULL);
    return 0;
}

static void join_refuses_a_detached_task_itself_and_a_second_joiner(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a = {&w, 0};
    coro_future_init(&w.futures[0]);
    struct coro *t, *d;
    assert_int_equal(coro_spawn_joinable(w.s, returns_its_future_plus_one, &a, &t), 0);
    assert_int_equal(coro_spawn(w.s, does_nothing_yet, NULL, &d), 0);
    assert_int_equal(coro_join(d, NULL), -EINVAL); /* detached (and still alive) */
    struct joiner j[2] = {{.w = &w, .target = t, .rc = 1}, {.w = &w, .target = t, .rc = 1}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(coro_spawn(w.s, joins_its_target, &j[i], NULL), 0);
    struct joiner self = {.w = &w, .rc = 1};
    assert_int_equal(coro_spawn_joinable(w.s, joins_itself, &self, &self.target), 0);
    coro_sched_run(w.s);
    assert_int_equal(j[1].rc, -EBUSY);
    assert_int_equal(self.rc, -EDEADLK);
    coro_future_resolve(&w.futures[0], 0);
    coro_sched_run(w.s);
    assert_int_equal(j[0].rc, 0);
    assert_int_equal(j[0].result, 1);
    assert_int_equal(coro_join(self.target, NULL), 0);
    coro_sched_destroy(w.s);
}

static void a_finished_task_never_joined_is_recycled_with_the_scheduler(void **state)
{
    (void)state;
    struct world w = {.s = sched_new(NULL)};
    struct actor a = {&w, 0};
    coro_future_init(&w.futures[0]);
    coro_future_resolve(&w.futures[0], 0);
    struct coro *t;
    assert_int_equal(coro_spawn_joinable(w.s, returns_its_future_plus_one, &a, &t), 0);
    coro_sched_run(w.s);
    struct coro_stats st;
    coro_stats(w.s, &st);
    assert_int_equal(st.unjoined, 1);
    coro_sched_destroy(w.s); /* valgrind and ASan see that nothing leaked */
}

/* --- cancelling a real transfer ----------------------------------------------------------- */

#define SILENT_GUARD_MS 10000 /* the helper thread gives up waiting for curl after this */
#define SHORT_TIMEOUT_MS 100  /* the second transfer: only a timeout ends it */

/* A server that accepts and reads a request but never answers, on a pool thread; a task
 * that fetches from it; a task that cancels the fetcher once the request is in. */
struct silent {
    struct coro_sched *s;
    struct loop *l;
    int listen_fd, conn_fd, port;
    bool request_seen;
    struct coro *fetcher;
    CURLcode rc, rc_again;
    bool cancelled_seen, cancel_made;
    size_t in_flight_after;
    int await_rc;
};

static int silent_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    *port = ntohs(sa.sin_port);
    return fd;
}

/* On the pool thread: accept curl's connection and read its request to the blank line. */
static void accepts_the_request(struct tpool_work *item, void *thread_state)
{
    (void)thread_state;
    struct silent *x = item->arg;
    struct pollfd p = {.fd = x->listen_fd, .events = POLLIN};
    if (poll(&p, 1, SILENT_GUARD_MS) != 1)
        return;
    x->conn_fd = accept(x->listen_fd, NULL, NULL);
    char buf[2048];
    size_t have = 0;
    p.fd = x->conn_fd;
    while (x->conn_fd >= 0 && have < sizeof buf - 1 && poll(&p, 1, SILENT_GUARD_MS) == 1) {
        ssize_t n = read(x->conn_fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n")) {
            x->request_seen = strncmp(buf, "GET /never ", 11) == 0;
            break;
        }
    }
}

static long fetches_from_the_silent_server(void *arg)
{
    struct silent *x = arg;
    CURL *easy = curl_easy_init();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/never", x->port);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 1L);
    x->rc = loop_perform(x->l, easy);
    /* before anything else: the handle is already out of the multi handle */
    x->cancelled_seen = coro_cancelled();
    struct loop_stats st;
    loop_stats(x->l, &st);
    x->in_flight_after = st.in_flight;
    /* and can go again at once (an easy handle still in a multi is refused): a cancelled
     * task can still await while it cleans up */
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)SHORT_TIMEOUT_MS);
    x->rc_again = loop_perform(x->l, easy);
    curl_easy_cleanup(easy);
    return 0;
}

static void cancels_the_fetcher_once_the_request_is_in(void *arg)
{
    struct silent *x = arg;
    struct loop_work w = {.work = {.fn = accepts_the_request, .arg = x}};
    x->await_rc = loop_await_work(x->l, &w);
    x->cancel_made = coro_cancel(x->fetcher);
}

static void cancelling_a_task_in_a_transfer_takes_the_handle_out_before_the_task_goes_on(
    void **state)
{
    (void)state;
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    struct silent x = {.conn_fd = -1};
    x.listen_fd = silent_listen(&x.port);
    assert_true(x.listen_fd >= 0);
    struct tpool *pool;
    char err[256] = "";
    struct tpool_config pc = {.threads = 1, .queue_capacity = 1};
    assert_int_equal(tpool_create(&pool, &pc, err, sizeof err), 0);
    x.s = sched_new(NULL);
    struct loop_config lc = {.executor = pool, .executor_slots = 1};
    assert_int_equal(loop_create(&x.l, x.s, &lc, err, sizeof err), 0);
    assert_int_equal(coro_spawn_joinable(x.s, fetches_from_the_silent_server, &x, &x.fetcher), 0);
    assert_int_equal(coro_spawn(x.s, cancels_the_fetcher_once_the_request_is_in, &x, NULL), 0);
    int rc = loop_run(x.l, err, sizeof err);
    if (rc != 0)
        print_error("loop_run: %s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(x.await_rc, 0);
    assert_true(x.request_seen); /* the transfer was really waiting for its answer */
    assert_true(x.cancel_made);
    assert_int_equal(x.rc, CURLE_ABORTED_BY_CALLBACK);
    assert_true(x.cancelled_seen);
    assert_int_equal(x.in_flight_after, 0);
    assert_int_equal(x.rc_again, CURLE_OPERATION_TIMEDOUT);
    long result = 1;
    assert_int_equal(coro_join(x.fetcher, &result), 0);
    assert_int_equal(result, 0);
    struct loop_stats st;
    loop_stats(x.l, &st);
    assert_int_equal(st.transfers, 2);
    assert_int_equal(st.in_flight, 0);
    loop_destroy(x.l);
    coro_sched_destroy(x.s);
    tpool_destroy(pool);
    if (x.conn_fd >= 0)
        close(x.conn_fd);
    close(x.listen_fd);
    curl_global_cleanup();
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
    char verdict = addr < top && top - addr > overflow_stack_bytes - 8192 &&
                           top - addr < overflow_stack_bytes + 8192
                       ? 'G'
                       : '?';
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
        if (coro_sched_create(&s, NULL, err, sizeof err) != 0 ||
            coro_spawn(s, overflows, NULL, NULL) != 0)
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
        cmocka_unit_test(queue_put_suspends_while_full_and_waiting_putters_go_in_fifo_order),
        cmocka_unit_test(queue_get_suspends_while_empty_and_a_put_hands_over_to_the_oldest_getter),
        cmocka_unit_test(an_unbounded_queue_grows_and_keeps_fifo_order_across_the_wrap),
        cmocka_unit_test(queue_join_returns_only_when_every_item_put_has_been_task_done),
        cmocka_unit_test(
            workers_on_a_bounded_queue_handle_every_item_once_then_are_cancelled_and_joined),
        cmocka_unit_test(
            cancelling_a_task_blocked_on_queue_get_wakes_it_and_the_next_item_skips_it),
        cmocka_unit_test(cancelling_a_task_blocked_on_queue_put_leaves_its_item_out),
        cmocka_unit_test(cancelling_a_task_blocked_on_queue_join_wakes_only_that_one),
        cmocka_unit_test(
            cancelling_a_task_blocked_on_a_future_wakes_it_and_a_later_resolve_wakes_nobody),
        cmocka_unit_test(plain_await_is_not_a_cancellation_point_the_next_one_is_and_only_once),
        cmocka_unit_test(
            cancelling_a_task_blocked_on_a_semaphore_takes_it_out_of_line_and_loses_no_permit),
        cmocka_unit_test(a_cancelled_yield_returns_ecanceled_in_its_turn),
        cmocka_unit_test(
            a_cancel_before_the_task_waits_is_delivered_at_its_next_cancellation_point),
        cmocka_unit_test(join_suspends_until_the_task_returns_and_gives_its_value),
        cmocka_unit_test(cancelling_a_finished_task_is_a_no_op_and_join_still_gives_its_value),
        cmocka_unit_test(cancelling_a_task_blocked_in_join_leaves_its_target_joinable),
        cmocka_unit_test(join_refuses_a_detached_task_itself_and_a_second_joiner),
        cmocka_unit_test(a_finished_task_never_joined_is_recycled_with_the_scheduler),
        cmocka_unit_test(a_finished_tasks_stack_is_reused_by_the_next),
        cmocka_unit_test(hundred_thousand_tasks_reuse_the_stacks_of_the_widest_wave),
        cmocka_unit_test(stacks_are_mapped_in_slabs_not_one_mmap_per_task),
        cmocka_unit_test(painted_stacks_report_how_deep_tasks_went),
        cmocka_unit_test(a_stack_overflow_hits_the_guard_page_and_dies_of_sigsegv),
        /* last: its executor thread would otherwise show in the forked child of the guard-page
         * test (which dies before exit) as glibc's cached thread stack, "possibly lost" */
        cmocka_unit_test(
            cancelling_a_task_in_a_transfer_takes_the_handle_out_before_the_task_goes_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
