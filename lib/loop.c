/* loop — libevent + curl_multi_socket_action glue, and the executor's completion eventfd,
 * resuming coroutines only between events, never inside curl. */
#include "loop.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stop.h"

/* One transfer in flight: lives on the awaiting task's stack. */
struct loop_xfer {
    CURL *easy;
    struct loop_shard *shard;
    struct coro_future done;       /* resolved with the CURLcode */
    struct loop_xfer *prev, *next; /* the loop's in-flight list (for loop_stop) */
};

/* One curl multi handle and its timer. curl 7.88 walks a multi handle's whole connection
 * cache on every new transfer (looking for an idle connection) and again on every
 * curl_multi_remove_handle (looking for CONNECT_ONLY ones): O(n) each, O(n^2) for n
 * transfers at once. So above LOOP_SHARD_CONNECTIONS transfers the loop spreads them over
 * several multi handles ("shards"), each with its own cache, and each walk stays short. */
struct loop_shard {
    struct loop *loop;
    CURLM *multi;
    struct event *timer; /* curl's single timeout (CURLMOPT_TIMERFUNCTION) */
    size_t in_flight;
};

struct loop {
    struct coro_sched *sched;
    struct event_base *base;
    struct loop_shard *shards;
    size_t n_shards;
    struct event *stop_timer; /* polls stop_requested() while the loop sleeps */
    struct event *work_event; /* the executor's eventfd */
    struct tpool *executor;
    struct coro_sem work_slots; /* bounds submissions so tpool_submit never is full */
    struct loop_xfer *xfers;    /* in flight */
    size_t in_flight, max_in_flight, sockets, work_pending;
    uint64_t transfers, connects;
    bool stopping;
    int failed; /* a curl or libevent call failed inside a callback */
    char failure[160];
};

static void fail(struct loop *l, const char *what, const char *why)
{
    if (!l->failed) {
        l->failed = 1;
        snprintf(l->failure, sizeof l->failure, "%s: %s", what, why);
    }
    event_base_loopbreak(l->base);
}

/* Take x out of its multi handle and of the in-flight list: it has ended, been aborted by
 * loop_stop, or its task was cancelled. Outside curl's callbacks only. */
static void xfer_detach(struct loop *l, struct loop_xfer *x)
{
    curl_multi_remove_handle(x->shard->multi, x->easy);
    x->shard->in_flight--;
    if (x->prev)
        x->prev->next = x->next;
    else
        l->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    l->in_flight--;
    l->transfers++;
}

/* After every curl_multi_socket_action: hand each finished transfer back to its task.
 * The task only becomes ready here; it runs once the event callback has returned. */
static void drain_done(struct loop_shard *sh)
{
    struct loop *l = sh->loop;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(sh->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result; /* msg dies with remove_handle: read it first */
        struct loop_xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        long connects = 0;
        if (curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
            l->connects += (uint64_t)connects;
        if (!x) {
            curl_multi_remove_handle(sh->multi, easy);
            continue; /* not ours: cannot happen */
        }
        xfer_detach(l, x);
        coro_future_resolve(&x->done, (long)rc);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct loop_shard *sh = arg;
    int bits = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    CURLMcode mc = curl_multi_socket_action(sh->multi, fd, bits, &running);
    if (mc != CURLM_OK)
        fail(sh->loop, "curl_multi_socket_action", curl_multi_strerror(mc));
    drain_done(sh);
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct loop_shard *sh = arg;
    int running;
    CURLMcode mc = curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (mc != CURLM_OK)
        fail(sh->loop, "curl_multi_socket_action", curl_multi_strerror(mc));
    drain_done(sh);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what curl wants. The socket's struct event is its
 * curl_multi_assign pointer. Inside curl: only libevent calls here, never curl_multi_*
 * (curl_multi_assign excepted: curl documents it as callable from this callback). */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct loop_shard *sh = userp;
    struct loop *l = sh->loop;
    struct event *ev = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ev) {
            event_free(ev);
            l->sockets--;
        }
        return 0;
    }
    short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) |
                         (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
    if (!ev) {
        ev = event_new(l->base, s, kind, on_socket_event, sh);
        if (!ev) {
            fail(l, "event_new", "out of memory");
            return -1;
        }
        l->sockets++;
        curl_multi_assign(sh->multi, s, ev);
    } else {
        event_del(ev);
        event_assign(ev, l->base, s, kind, on_socket_event, sh);
    }
    if (event_add(ev, NULL) != 0) {
        fail(l, "event_add", "cannot watch a socket");
        return -1;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants one timeout, replaced on each call; -1 removes it. */
static int on_curl_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct loop_shard *sh = userp;
    if (timeout_ms < 0) {
        evtimer_del(sh->timer);
        return 0;
    }
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    return evtimer_add(sh->timer, &tv) == 0 ? 0 : -1;
}

static void on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg; /* waking the loop is all it takes: loop_run looks */
}

/* The executor's eventfd is readable while completions are queued: resolve their futures. */
static void on_work_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct loop *l = arg;
    struct tpool_work *item;
    while (tpool_pop(l->executor, &item) == 0) {
        struct loop_work *w = (struct loop_work *)item; /* work is its first member */
        l->work_pending--;
        coro_future_resolve(&w->done_, item->cancelled ? -ECANCELED : 0);
    }
}

static int shard_init(struct loop_shard *sh, struct loop *l, long conns)
{
    sh->loop = l;
    if (!(sh->multi = curl_multi_init()) || !(sh->timer = evtimer_new(l->base, on_curl_timer, sh)))
        return -1;
    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
    curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout);
    curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
    /* Every transfer goes to one host: let all of them connect at once (the caller's
     * semaphore is the real bound), and keep as many alive for reuse: a smaller cache
     * would also cost a walk of the whole cache on every transfer's end. */
    curl_multi_setopt(sh->multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
    curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, conns);
    return 0;
}

int loop_create(struct loop **out, struct coro_sched *s, const struct loop_config *cfg, char *err,
                size_t errlen)
{
    struct loop_config def = {0};
    if (!cfg)
        cfg = &def;
    *out = NULL;
    struct loop *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    l->sched = s;
    l->executor = cfg->executor;
    size_t conns = cfg->max_connections ? cfg->max_connections : LOOP_DEFAULT_CONNECTIONS;
    l->n_shards = (conns + LOOP_SHARD_CONNECTIONS - 1) / LOOP_SHARD_CONNECTIONS;
    long per_shard = (long)((conns + l->n_shards - 1) / l->n_shards);
    /* Batch epoll_ctl calls per loop iteration: curl turns a socket's interest around
     * (connect: write, then read) faster than the loop sleeps. Safe here: curl never
     * dup()s a socket, and libevent copes with a number reused after close. */
    struct event_config *ec = event_config_new();
    if (ec) {
        event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        l->base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    if (!l->base || !(l->shards = calloc(l->n_shards, sizeof *l->shards)) ||
        !(l->stop_timer = event_new(l->base, -1, EV_PERSIST, on_stop_timer, l))) {
        snprintf(err, errlen, "cannot create the event loop (libevent)");
        loop_destroy(l);
        return -ENOMEM;
    }
    for (size_t i = 0; i < l->n_shards; i++)
        if (shard_init(&l->shards[i], l, per_shard) != 0) {
            snprintf(err, errlen, "cannot create a curl multi handle");
            loop_destroy(l);
            return -ENOMEM;
        }
    if (l->executor) {
        l->work_event =
            event_new(l->base, tpool_notify_fd(l->executor), EV_READ | EV_PERSIST, on_work_done, l);
        if (!l->work_event || event_add(l->work_event, NULL) != 0) {
            snprintf(err, errlen, "cannot watch the executor's eventfd");
            loop_destroy(l);
            return -ENOMEM;
        }
        coro_sem_init(&l->work_slots, cfg->executor_slots ? (long)cfg->executor_slots : 1);
    }
    *out = l;
    return 0;
}

void loop_destroy(struct loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; l->shards && i < l->n_shards; i++) {
        struct loop_shard *sh = &l->shards[i];
        if (sh->multi)
            curl_multi_cleanup(sh->multi); /* closes cached connections: the socket
                                            * callback frees their events */
        if (sh->timer)
            event_free(sh->timer);
    }
    free(l->shards);
    if (l->work_event)
        event_free(l->work_event);
    if (l->stop_timer)
        event_free(l->stop_timer);
    if (l->base)
        event_base_free(l->base);
    free(l);
}

CURLcode loop_perform(struct loop *l, CURL *easy)
{
    if (l->stopping)
        return CURLE_ABORTED_BY_CALLBACK;
    /* the least busy shard: its idle connections are the likeliest to be reused */
    struct loop_shard *sh = &l->shards[0];
    for (size_t i = 1; i < l->n_shards; i++)
        if (l->shards[i].in_flight < sh->in_flight)
            sh = &l->shards[i];
    struct loop_xfer x = {.easy = easy, .shard = sh};
    coro_future_init(&x.done);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)&x);
    CURLMcode mc = curl_multi_add_handle(sh->multi, easy);
    if (mc != CURLM_OK)
        return mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
    sh->in_flight++;
    x.next = l->xfers;
    if (x.next)
        x.next->prev = &x;
    l->xfers = &x;
    if (++l->in_flight > l->max_in_flight)
        l->max_in_flight = l->in_flight;
    long rc;
    if (coro_await_cancellable(&x.done, &rc) == 0)
        return (CURLcode)rc;
    /* The task was cancelled. Unless the transfer ended (or loop_stop took it) while the
     * task was on its way back, it is still in the multi handle, and x, on this stack, in
     * the in-flight list: take both out before the caller reuses or frees easy. */
    if (!x.done.done)
        xfer_detach(l, &x);
    return CURLE_ABORTED_BY_CALLBACK;
}

int loop_await_work(struct loop *l, struct loop_work *w)
{
    if (!l->executor)
        return -ENOSYS;
    if (l->stopping)
        return -ECANCELED;
    int rc = coro_sem_acquire(&l->work_slots);
    if (rc != 0)
        return rc; /* cancelled before it was handed over */
    coro_future_init(&w->done_);
    rc = tpool_submit(l->executor, &w->work);
    if (rc == 0) {
        l->work_pending++;
        /* not a cancellation point: the pool holds w until it comes back */
        rc = (int)coro_await(&w->done_);
    }
    coro_sem_release(&l->work_slots);
    return rc;
}

void loop_stop(struct loop *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    while (l->xfers) {
        struct loop_xfer *x = l->xfers;
        xfer_detach(l, x);
        coro_future_resolve(&x->done, CURLE_ABORTED_BY_CALLBACK);
    }
    if (l->executor)
        tpool_cancel(l->executor); /* running items finish; queued ones come back cancelled */
}

bool loop_stopping(const struct loop *l)
{
    return l->stopping;
}

int loop_run(struct loop *l, char *err, size_t errlen)
{
    struct timeval poll = {.tv_sec = 0, .tv_usec = LOOP_STOP_POLL_MS * 1000};
    if (event_add(l->stop_timer, &poll) != 0) {
        snprintf(err, errlen, "cannot arm a timer");
        return -EIO;
    }
    int rc = 0;
    for (;;) {
        coro_sched_run(l->sched);
        struct coro_stats st;
        coro_stats(l->sched, &st);
        if (st.live == 0)
            break;
        if (stop_requested() && !l->stopping) {
            loop_stop(l);
            continue; /* the aborted tasks are ready now */
        }
        if (l->failed) {
            /* curl's state is unknown now: abort everything, let the tasks end, report */
            loop_stop(l);
            continue;
        }
        if (l->in_flight == 0 && l->work_pending == 0) {
            snprintf(err, errlen, "deadlock: %zu tasks wait and nothing can wake them", st.live);
            rc = -EDEADLK;
            break;
        }
        if (event_base_loop(l->base, EVLOOP_ONCE) < 0) {
            fail(l, "event_base_loop", "failed");
            loop_stop(l);
        }
    }
    event_del(l->stop_timer);
    if (rc == 0 && l->failed) {
        snprintf(err, errlen, "%s", l->failure);
        rc = -EIO;
    }
    return rc;
}

void loop_stats(const struct loop *l, struct loop_stats *out)
{
    out->in_flight = l->in_flight;
    out->max_in_flight = l->max_in_flight;
    out->sockets = l->sockets;
    out->transfers = l->transfers;
    out->connects = l->connects;
    out->work_pending = l->work_pending;
    out->multis = l->n_shards;
}
