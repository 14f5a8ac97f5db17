/* Unit tests of the loop: tasks awaiting curl transfers and executor work, against a tiny
 * evhttp server on its own thread: completion, keep-alive, timeouts, bounds, stop,
 * deadlock detection, and how deep a real download path goes on a task's stack. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coro.h"
#include "flags.h"
#include "loop.h"
#include "sha.h"
#include "stop.h"
#include "threadpool.h"

/* ================================================================================== */
/* The server: GET /ok/N → 200 "hello N"; /delay/MS → 200 after MS ms; /hold → 200 once
 * srv.hold_gate requests are in flight at once (HOLD_GUARD_MS bounds only a failure);
 * /flags/xx/xx.gif → a small body; /flags/xx/metadata.json → {"country":"Test Land"};
 * anything else → 404. */

struct server {
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct event *poll;
    int port;
    atomic_int in_flight, max_in_flight, requests;
    atomic_int hold_gate; /* /hold answers wait until this many are in flight */
    atomic_bool quit;
};

#define HOLD_GUARD_MS 10000 /* a /hold never released in time fails its test, not hangs */
#define NEVER_MS 60000      /* an answer later than any test lasts */

static struct server srv;

struct delayed {
    struct evhttp_request *req;
    struct event *ev;
    bool held;                   /* a /hold, released at the gate */
    struct delayed *prev, *next; /* still unanswered: freed by server_down */
};

static struct delayed *delayed_list;

static void reply(struct evhttp_request *req, int code, const char *body)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Not Found", b);
    evbuffer_free(b);
    atomic_fetch_sub(&srv.in_flight, 1);
}

static void on_delay_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct delayed *d = arg;
    reply(d->req, 200, "late");
    if (d->prev)
        d->prev->next = d->next;
    else
        delayed_list = d->next;
    if (d->next)
        d->next->prev = d->prev;
    event_free(d->ev);
    free(d);
}

/* Answer every /hold now (the gate is reached). */
static void release_held(void)
{
    struct delayed *next;
    for (struct delayed *d = delayed_list; d; d = next) {
        next = d->next;
        if (d->held)
            on_delay_done(-1, 0, d);
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    int now = atomic_fetch_add(&srv.in_flight, 1) + 1;
    int max = atomic_load(&srv.max_in_flight);
    while (now > max && !atomic_compare_exchange_weak(&srv.max_in_flight, &max, now))
        ;
    atomic_fetch_add(&srv.requests, 1);
    const char *uri = evhttp_request_get_uri(req);
    char body[64];
    int n, ms;
    if (sscanf(uri, "/ok/%d", &n) == 1) {
        snprintf(body, sizeof body, "hello %d", n);
        reply(req, 200, body);
    } else if (sscanf(uri, "/delay/%d", &ms) == 1 || strcmp(uri, "/hold") == 0) {
        bool held = strcmp(uri, "/hold") == 0;
        if (held)
            ms = HOLD_GUARD_MS;
        struct delayed *d = calloc(1, sizeof *d);
        d->held = held;
        d->req = req;
        d->next = delayed_list;
        if (d->next)
            d->next->prev = d;
        delayed_list = d;
        d->ev = evtimer_new(srv.base, on_delay_done, d);
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        evtimer_add(d->ev, &tv);
        if (held && atomic_load(&srv.in_flight) >= atomic_load(&srv.hold_gate))
            release_held();
    } else if (strstr(uri, "/metadata.json")) {
        reply(req, 200, "{\"country\": \"Test Land\", \"tld\": \".tl\"}");
    } else if (strncmp(uri, "/flags/", 7) == 0 && strstr(uri, ".gif")) {
        reply(req, 200, "GIF89a-not-really-a-flag");
    } else {
        reply(req, 404, "no");
    }
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    if (atomic_load(&srv.quit))
        event_base_loopbreak(srv.base);
}

static void *server_main(void *arg)
{
    (void)arg;
    event_base_dispatch(srv.base);
    return NULL;
}

static int server_up(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof srv);
    srv.base = event_base_new();
    srv.http = evhttp_new(srv.base);
    evhttp_set_gencb(srv.http, on_request, NULL);
    struct evhttp_bound_socket *h = evhttp_bind_socket_with_handle(srv.http, "127.0.0.1", 0);
    if (!h)
        return -1;
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&sa, &len);
    srv.port = ntohs(sa.sin_port);
    srv.poll = event_new(srv.base, -1, EV_PERSIST, on_poll, NULL);
    struct timeval tv = {0, 10000};
    event_add(srv.poll, &tv);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return pthread_create(&srv.thread, NULL, server_main, NULL);
}

static int server_down(void **state)
{
    (void)state;
    atomic_store(&srv.quit, true);
    pthread_join(srv.thread, NULL);
    while (delayed_list) {
        struct delayed *d = delayed_list;
        delayed_list = d->next;
        event_free(d->ev);
        free(d); /* its request goes with evhttp_free */
    }
    event_free(srv.poll);
    evhttp_free(srv.http);
    event_base_free(srv.base);
    curl_global_cleanup();
    return 0;
}

static void server_reset(void)
{
    atomic_store(&srv.max_in_flight, 0);
    atomic_store(&srv.requests, 0);
    atomic_store(&srv.hold_gate, 1);
}

/* ================================================================================== */
/* Client side */

struct env {
    struct coro_sched *s;
    struct loop *l;
    struct coro_sem sem;
};

static void env_up(struct env *e, const struct coro_config *cc, const struct loop_config *lc)
{
    char err[256];
    assert_int_equal(coro_sched_create(&e->s, cc, err, sizeof err), 0);
    assert_int_equal(loop_create(&e->l, e->s, lc, err, sizeof err), 0);
}

static void env_run(struct env *e)
{
    char err[256] = "";
    int rc = loop_run(e->l, err, sizeof err);
    if (rc != 0)
        print_error("loop_run: %s\n", err);
    assert_int_equal(rc, 0);
}

static void env_down(struct env *e)
{
    loop_destroy(e->l);
    coro_sched_destroy(e->s);
}

static size_t to_buffer(char *data, size_t size, size_t nmemb, void *arg)
{
    char *buf = arg;
    size_t have = strlen(buf), n = size * nmemb;
    if (have + n < 128) {
        memcpy(buf + have, data, n);
        buf[have + n] = '\0';
    }
    return n;
}

/* One client task: GET path (repeat times on the same handle), keep what came back. */
struct client {
    struct env *e;
    char path[64];
    int repeat;
    long timeout_ms;
    bool use_sem;
    CURLcode rc;
    long status;
    char body[128];
    int done;
};

static void fetches(void *arg)
{
    struct client *c = arg;
    CURL *easy = flags_easy_new();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv.port, c->path);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, to_buffer);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, c->body);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 1L);
    if (c->timeout_ms)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    for (int i = 0; i < (c->repeat ? c->repeat : 1); i++) {
        if (c->use_sem)
            assert_int_equal(coro_sem_acquire(&c->e->sem), 0);
        c->body[0] = '\0';
        c->rc = loop_perform(c->e->l, easy);
        if (c->use_sem)
            coro_sem_release(&c->e->sem);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &c->status);
        c->done++;
    }
    curl_easy_cleanup(easy);
}

static void spawn_clients(struct env *e, struct client *c, int n)
{
    for (int i = 0; i < n; i++) {
        c[i].e = e;
        assert_int_equal(coro_spawn(e->s, fetches, &c[i], NULL), 0);
    }
}

static void transfers_complete_and_each_task_gets_its_own_result(void **state)
{
    (void)state;
    enum { N = 50 };
    struct env e;
    env_up(&e, NULL, NULL);
    struct client c[N];
    memset(c, 0, sizeof c);
    for (int i = 0; i < N; i++)
        snprintf(c[i].path, sizeof c[i].path, i % 10 == 9 ? "/missing/%d" : "/ok/%d", i);
    spawn_clients(&e, c, N);
    env_run(&e);
    for (int i = 0; i < N; i++) {
        char want[32];
        assert_int_equal(c[i].rc, CURLE_OK);
        if (i % 10 == 9) {
            assert_int_equal(c[i].status, 404);
        } else {
            assert_int_equal(c[i].status, 200);
            snprintf(want, sizeof want, "hello %d", i);
            assert_string_equal(c[i].body, want);
        }
    }
    struct loop_stats st;
    loop_stats(e.l, &st);
    assert_int_equal(st.transfers, N);
    assert_int_equal(st.in_flight, 0);
    assert_true(st.max_in_flight > 1); /* they really overlapped */
    env_down(&e);
}

static void a_reused_handle_reuses_its_connection(void **state)
{
    (void)state;
    enum { TASKS = 10, EACH = 20 };
    struct env e;
    env_up(&e, NULL, NULL);
    struct client c[TASKS];
    memset(c, 0, sizeof c);
    for (int i = 0; i < TASKS; i++) {
        snprintf(c[i].path, sizeof c[i].path, "/ok/%d", i);
        c[i].repeat = EACH;
    }
    spawn_clients(&e, c, TASKS);
    env_run(&e);
    struct loop_stats st;
    loop_stats(e.l, &st);
    assert_int_equal(st.transfers, TASKS * EACH);
    assert_true(st.connects <= TASKS); /* 200 requests over at most 10 connections */
    env_down(&e);
}

static void a_semaphore_bounds_what_the_server_sees_in_flight(void **state)
{
    (void)state;
    enum { N = 40, BOUND = 8 }; /* N a multiple of BOUND: every wave reaches the gate */
    server_reset();
    /* answers wait until BOUND requests are in flight: the server sees BOUND at once however
     * slowly they come, and a client that never reaches BOUND is answered only at the guard */
    atomic_store(&srv.hold_gate, BOUND);
    struct env e;
    env_up(&e, NULL, &(struct loop_config){.max_connections = BOUND});
    coro_sem_init(&e.sem, BOUND);
    struct client c[N];
    memset(c, 0, sizeof c);
    for (int i = 0; i < N; i++) {
        snprintf(c[i].path, sizeof c[i].path, "/hold");
        c[i].use_sem = true;
    }
    spawn_clients(&e, c, N);
    env_run(&e);
    for (int i = 0; i < N; i++)
        assert_int_equal(c[i].rc, CURLE_OK);
    struct loop_stats st;
    loop_stats(e.l, &st);
    assert_int_equal(st.max_in_flight, BOUND);
    assert_int_equal(atomic_load(&srv.max_in_flight), BOUND);
    env_down(&e);
}

static void a_slow_answer_times_out_as_curl_says(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, NULL, NULL);
    struct client c = {.timeout_ms = 100};
    snprintf(c.path, sizeof c.path, "/delay/%d", NEVER_MS); /* only the timeout can end it */
    spawn_clients(&e, &c, 1);
    env_run(&e);
    assert_int_equal(c.rc, CURLE_OPERATION_TIMEDOUT);
    env_down(&e);
}

static void stops_the_loop(void *arg)
{
    struct env *e = arg;
    loop_stop(e->l);
}

static void loop_stop_aborts_transfers_in_flight_and_refuses_new_ones(void **state)
{
    (void)state;
    enum { N = 5 };
    struct env e;
    env_up(&e, NULL, NULL);
    struct client c[N + 1];
    memset(c, 0, sizeof c);
    for (int i = 0; i < N + 1; i++)
        snprintf(c[i].path, sizeof c[i].path, "/delay/5000");
    spawn_clients(&e, c, N); /* these start their transfers first, */
    assert_int_equal(coro_spawn(e.s, stops_the_loop, &e, NULL), 0); /* then the stop, */
    spawn_clients(&e, c + N, 1);                                    /* then one that is refused */
    env_run(&e);
    for (int i = 0; i < N + 1; i++)
        assert_int_equal(c[i].rc, CURLE_ABORTED_BY_CALLBACK);
    struct loop_stats st;
    loop_stats(e.l, &st);
    assert_int_equal(st.transfers, N);
    assert_int_equal(st.in_flight, 0);
    assert_true(loop_stopping(e.l));
    env_down(&e);
}

/* --- executor ----------------------------------------------------------------------- */

struct job {
    struct loop_work lw; /* first */
    struct loop *l;
    pthread_t ran_on;
    int ran;
    unsigned sleep_us;
    sem_t *gate; /* when set: wait for it before running */
    int rc;
};

static void job_fn(struct tpool_work *item, void *thread_state)
{
    (void)thread_state;
    struct job *j = item->arg;
    if (j->gate)
        sem_wait(j->gate);
    if (j->sleep_us)
        usleep(j->sleep_us);
    j->ran_on = pthread_self();
    j->ran++;
}

static void awaits_job(void *arg)
{
    struct job *j = arg;
    j->lw.work.fn = job_fn;
    j->lw.work.arg = j;
    j->rc = loop_await_work(j->l, &j->lw);
}

static struct tpool *pool_new(unsigned threads, size_t capacity)
{
    struct tpool *p;
    char err[256];
    struct tpool_config pc = {.threads = threads, .queue_capacity = capacity};
    assert_int_equal(tpool_create(&p, &pc, err, sizeof err), 0);
    return p;
}

static void executor_work_runs_on_a_pool_thread_and_resumes_its_task(void **state)
{
    (void)state;
    enum { N = 20, THREADS = 2 };
    struct tpool *p = pool_new(THREADS, 4);
    struct env e;
    env_up(&e, NULL, &(struct loop_config){.executor = p, .executor_slots = 4});
    struct job j[N];
    memset(j, 0, sizeof j);
    for (int i = 0; i < N; i++) {
        j[i].l = e.l;
        j[i].sleep_us = 1000;
        assert_int_equal(coro_spawn(e.s, awaits_job, &j[i], NULL), 0);
    }
    env_run(&e); /* 20 items through 4 slots: the slots semaphore queued the rest */
    for (int i = 0; i < N; i++) {
        assert_int_equal(j[i].rc, 0);
        assert_int_equal(j[i].ran, 1);
        assert_false(pthread_equal(j[i].ran_on, pthread_self()));
    }
    env_down(&e);
    tpool_destroy(p);
}

struct stop_then_open {
    struct env *e;
    sem_t *gate;
    int n;
};

/* Stop the loop, then let the work that was already running end. */
static void stops_the_loop_then_opens_the_gate(void *arg)
{
    struct stop_then_open *so = arg;
    loop_stop(so->e->l);
    for (int i = 0; i < so->n; i++) /* one per job: a wrong run would not hang, but count */
        sem_post(so->gate);
}

static void loop_stop_cancels_queued_work_which_then_never_runs(void **state)
{
    (void)state;
    enum { N = 6 };
    struct tpool *p = pool_new(1, N);
    struct env e;
    env_up(&e, NULL, &(struct loop_config){.executor = p, .executor_slots = N});
    /* Every job waits at a gate that opens only after loop_stop: the one thread holds at
     * most the first job when the stop comes, however the threads are scheduled. */
    sem_t gate;
    assert_int_equal(sem_init(&gate, 0, 0), 0);
    struct job j[N];
    memset(j, 0, sizeof j);
    for (int i = 0; i < N; i++) {
        j[i].l = e.l;
        j[i].gate = &gate;
        assert_int_equal(coro_spawn(e.s, awaits_job, &j[i], NULL), 0);
    }
    struct stop_then_open so = {.e = &e, .gate = &gate, .n = N};
    assert_int_equal(coro_spawn(e.s, stops_the_loop_then_opens_the_gate, &so, NULL), 0);
    env_run(&e);
    sem_destroy(&gate);
    int cancelled = 0;
    for (int i = 0; i < N; i++) {
        assert_true(j[i].rc == 0 || j[i].rc == -ECANCELED);
        assert_int_equal(j[i].ran, j[i].rc == 0); /* exactly once, or never */
        cancelled += j[i].rc == -ECANCELED;
    }
    assert_true(cancelled >= N - 1); /* one thread: at most the first had started */
    env_down(&e);
    tpool_destroy(p);
}

static void without_an_executor_await_work_says_enosys(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, NULL, NULL);
    struct job j = {.l = e.l};
    assert_int_equal(coro_spawn(e.s, awaits_job, &j, NULL), 0);
    env_run(&e);
    assert_int_equal(j.rc, -ENOSYS);
    assert_int_equal(j.ran, 0);
    env_down(&e);
}

/* --- deadlock ----------------------------------------------------------------------- */

static void waits_forever(void *arg)
{
    coro_await((struct coro_future *)arg);
}

static void a_task_nothing_can_wake_is_reported_as_a_deadlock(void **state)
{
    (void)state;
    struct env e;
    env_up(&e, NULL, NULL);
    struct coro_future f;
    coro_future_init(&f);
    assert_int_equal(coro_spawn(e.s, waits_forever, &f, NULL), 0);
    char err[256] = "";
    assert_int_equal(loop_run(e.l, err, sizeof err), -EDEADLK);
    assert_non_null(strstr(err, "deadlock"));
    coro_future_resolve(&f, 0); /* let it end, so the scheduler can go */
    coro_sched_run(e.s);
    env_down(&e);
}

/* --- stack depth of the real task paths ----------------------------------------------- */

struct download {
    struct loop *l;
    struct flags_config *cfg;
    size_t index;
    struct job_result res;
};

/* The coroutine driver's task body, inline save: the deepest flags path. */
static void downloads(void *arg)
{
    struct download *d = arg;
    struct flags_transfer t = {.easy = flags_easy_new()};
    flags_prepare(&t, d->cfg, d->index);
    enum flags_next next;
    do
        next = flags_finish(&t, loop_perform(d->l, t.easy), &d->res);
    while (next == FLAGS_AGAIN);
    if (next == FLAGS_SAVE)
        flags_save(&t, &d->res);
    flags_transfer_release(&t);
    curl_easy_cleanup(t.easy);
}

/* The bound is for the real build: ASan's redzones around every local about double a
 * frame, so under it the same calls may use half the stack. */
#if defined(__SANITIZE_ADDRESS__)
#define STACK_SHARE_MAX 2
#else
#define STACK_SHARE_MAX 4
#endif

static void a_download_with_meta_and_save_needs_a_quarter_of_the_stack_at_most(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_loop.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char codes[2][3] = {"TL", "ZZ"};
    struct flags_config cfg = {.out_dir = dir,
                               .timeout_s = 5,
                               .meta = true,
                               .max_body_bytes = FLAGS_DEFAULT_MAX_BODY,
                               .codes = codes,
                               .n_codes = 2,
                               .n_jobs = 2};
    snprintf(cfg.base_url, sizeof cfg.base_url, "http://127.0.0.1:%d/flags", srv.port);
    struct env e;
    env_up(&e, &(struct coro_config){.paint_stacks = true}, NULL);
    struct download d[2] = {{.l = e.l, .cfg = &cfg, .index = 0},
                            {.l = e.l, .cfg = &cfg, .index = 1}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(coro_spawn(e.s, downloads, &d[i], NULL), 0);
    env_run(&e);
    assert_int_equal(d[0].res.outcome, JOB_OK);
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/Test_Land.gif", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, strlen("GIF89a-not-really-a-flag"));
    unlink(path);
    rmdir(dir);
    struct coro_stats cs;
    coro_stats(e.s, &cs);
    print_message("download path: %zu bytes of stack at most\n", cs.stack_high_water_bytes);
    assert_true(cs.stack_high_water_bytes > 0);
    assert_true(cs.stack_high_water_bytes <= CORO_DEFAULT_STACK_BYTES / STACK_SHARE_MAX);
    env_down(&e);
}

struct hash {
    struct workload *w;
    void *st;
    struct job_result res;
};

static void hashes(void *arg)
{
    struct hash *h = arg;
    h->w->job_run(h->w, h->st, 0, &h->res);
}

static void a_sha_job_on_the_loop_thread_needs_a_quarter_of_the_stack_at_most(void **state)
{
    (void)state;
    struct sha_config sc = {.jobs = 1, .size_bytes = 64 * 1024, .seed = 1};
    struct workload w;
    sha_workload(&w, &sc);
    void *st;
    char err[128];
    assert_int_equal(w.worker_init(&w, &st, err, sizeof err), 0);
    struct env e;
    env_up(&e, &(struct coro_config){.paint_stacks = true}, NULL);
    struct hash h = {.w = &w, .st = st};
    assert_int_equal(coro_spawn(e.s, hashes, &h, NULL), 0);
    env_run(&e);
    assert_int_equal(h.res.outcome, JOB_OK);
    struct coro_stats cs;
    coro_stats(e.s, &cs);
    print_message("sha job: %zu bytes of stack at most\n", cs.stack_high_water_bytes);
    assert_true(cs.stack_high_water_bytes <= CORO_DEFAULT_STACK_BYTES / STACK_SHARE_MAX);
    env_down(&e);
    w.worker_fini(&w, st);
}

/* --- SIGINT (last: the stop flag cannot be cleared) ------------------------------------- */

static void interrupts(void *arg)
{
    (void)arg;
    kill(getpid(), SIGINT);
}

static void a_sigint_aborts_transfers_and_the_loop_ends(void **state)
{
    (void)state;
    enum { N = 5 };
    stop_install();
    struct env e;
    env_up(&e, NULL, NULL);
    struct client c[N];
    memset(c, 0, sizeof c);
    for (int i = 0; i < N; i++)
        snprintf(c[i].path, sizeof c[i].path, "/delay/10000");
    spawn_clients(&e, c, N);
    assert_int_equal(coro_spawn(e.s, interrupts, NULL, NULL), 0);
    env_run(&e); /* returns within a stop poll, not after 10 s */
    assert_int_equal(stop_requested(), SIGINT);
    for (int i = 0; i < N; i++)
        assert_int_equal(c[i].rc, CURLE_ABORTED_BY_CALLBACK);
    env_down(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transfers_complete_and_each_task_gets_its_own_result),
        cmocka_unit_test(a_reused_handle_reuses_its_connection),
        cmocka_unit_test(a_semaphore_bounds_what_the_server_sees_in_flight),
        cmocka_unit_test(a_slow_answer_times_out_as_curl_says),
        cmocka_unit_test(loop_stop_aborts_transfers_in_flight_and_refuses_new_ones),
        cmocka_unit_test(executor_work_runs_on_a_pool_thread_and_resumes_its_task),
        cmocka_unit_test(loop_stop_cancels_queued_work_which_then_never_runs),
        cmocka_unit_test(without_an_executor_await_work_says_enosys),
        cmocka_unit_test(a_task_nothing_can_wake_is_reported_as_a_deadlock),
        cmocka_unit_test(a_download_with_meta_and_save_needs_a_quarter_of_the_stack_at_most),
        cmocka_unit_test(a_sha_job_on_the_loop_thread_needs_a_quarter_of_the_stack_at_most),
        cmocka_unit_test(a_sigint_aborts_transfers_and_the_loop_ends),
    };
    return cmocka_run_group_tests(tests, server_up, server_down);
}
