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
    struct coro_future done;          /* resolved with the CURLcode */
    struct loop_xfer *prev, *next;    /* the loop's in-flight list (for loop_stop) */
};

struct loop {
    struct coro_sched *sched;
    struct event_base *base;
    CURLM *multi;
    struct event *curl_timer;         /* curl's single timeout (CURLMOPT_TIMERFUNCTION) */
    struct event *stop_timer;         /* polls stop_requested() while the loop sleeps */
    struct event *work_event;         /* the executor's eventfd */
    struct tpool *executor;
    struct coro_sem work_slots;       /* bounds submissions so tpool_submit never is full */
    struct loop_xfer *xfers;          /* in flight */
    size_t in_flight, max_in_flight, sockets, work_pending;
    uint64_t transfers, connects;
    bool stopping;
    int failed;                       /* a curl or libevent call failed inside a callback */
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

/* After every curl_multi_socket_action: hand each finished transfer back to its task.
 * The task only becomes ready here; it runs once the event callback has returned. */
static void drain_done(struct loop *l)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(l->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result; /* msg dies with remove_handle: read it first */
        struct loop_xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        long connects = 0;
        if (curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
            l->connects += (uint64_t)connects;
        curl_multi_remove_handle(l->multi, easy);
        if (!x)
            continue; /* not ours: cannot happen */
        if (x->prev)
            x->prev->next = x->next;
        else
            l->xfers = x->next;
        if (x->next)
            x->next->prev = x->prev;
        l->in_flight--;
        l->transfers++;
        coro_future_resolve(&x->done, (long)rc);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct loop *l = arg;
    int bits = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    CURLMcode mc = curl_multi_socket_action(l->multi, fd, bits, &running);
    if (mc != CURLM_OK)
        fail(l, "curl_multi_socket_action", curl_multi_strerror(mc));
    drain_done(l);
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct loop *l = arg;
    int running;
    CURLMcode mc = curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (mc != CURLM_OK)
        fail(l, "curl_multi_socket_action", curl_multi_strerror(mc));
    drain_done(l);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what curl wants. The socket's struct event is its
 * curl_multi_assign pointer. Inside curl: only libevent calls here, never curl_multi_*
 * (curl_multi_assign excepted: curl documents it as callable from this callback). */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct loop *l = userp;
    struct event *ev = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ev) {
            event_free(ev);
            l->sockets--;
        }
        return 0;
    }
    short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0)
                         | EV_PERSIST);
    if (!ev) {
        ev = event_new(l->base, s, kind, on_socket_event, l);
        if (!ev) {
            fail(l, "event_new", "out of memory");
            return -1;
        }
        l->sockets++;
        curl_multi_assign(l->multi, s, ev);
    } else {
        event_del(ev);
        event_assign(ev, l->base, s, kind, on_socket_event, l);
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
    struct loop *l = userp;
    if (timeout_ms < 0) {
        evtimer_del(l->curl_timer);
        return 0;
    }
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    return evtimer_add(l->curl_timer, &tv) == 0 ? 0 : -1;
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

int loop_create(struct loop **out, struct coro_sched *s, const struct loop_config *cfg,
                char *err, size_t errlen)
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
    long conns = cfg->max_connections ? (long)cfg->max_connections : LOOP_DEFAULT_CONNECTIONS;
    if (!(l->base = event_base_new()) || !(l->multi = curl_multi_init())
        || !(l->curl_timer = evtimer_new(l->base, on_curl_timer, l))
        || !(l->stop_timer = event_new(l->base, -1, EV_PERSIST, on_stop_timer, l))) {
        snprintf(err, errlen, "cannot create the event loop (libevent/libcurl)");
        loop_destroy(l);
        return -ENOMEM;
    }
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
    /* Every transfer goes to one host: let all of them connect at once (the caller's
     * semaphore is the real bound), and keep that many alive for reuse. */
    curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, conns);
    if (l->executor) {
        l->work_event = event_new(l->base, tpool_notify_fd(l->executor), EV_READ | EV_PERSIST,
                                  on_work_done, l);
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
    if (l->multi)
        curl_multi_cleanup(l->multi); /* closes cached connections: socket callbacks free events */
    if (l->work_event)
        event_free(l->work_event);
    if (l->stop_timer)
        event_free(l->stop_timer);
    if (l->curl_timer)
        event_free(l->curl_timer);
    if (l->base)
        event_base_free(l->base);
    free(l);
}

CURLcode loop_perform(struct loop *l, CURL *easy)
{
    if (l->stopping)
        return CURLE_ABORTED_BY_CALLBACK;
    struct loop_xfer x = {.easy = easy};
    coro_future_init(&x.done);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)&x);
    CURLMcode mc = curl_multi_add_handle(l->multi, easy);
    if (mc != CURLM_OK)
        return mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
    x.next = l->xfers;
    if (x.next)
        x.next->prev = &x;
    l->xfers = &x;
    if (++l->in_flight > l->max_in_flight)
        l->max_in_flight = l->in_flight;
    return (CURLcode)coro_await(&x.done);
}

int loop_await_work(struct loop *l, struct loop_work *w)
{
    if (!l->executor)
        return -ENOSYS;
    if (l->stopping)
        return -ECANCELED;
    coro_sem_acquire(&l->work_slots);
    coro_future_init(&w->done_);
    int rc = tpool_submit(l->executor, &w->work);
    if (rc == 0) {
        l->work_pending++;
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
        l->xfers = x->next;
        curl_multi_remove_handle(l->multi, x->easy);
        l->in_flight--;
        l->transfers++;
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
}
