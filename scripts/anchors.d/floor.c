/* floor — anchor 6's libcurl floor: the least a client of libcurl's multi interface costs,
 * for scripts/anchors to measure the drivers against. Not a strategy and not a driver: no
 * tasks, no results, no files, no hashing; easy handles on one multi handle, each reused for
 * the next job, with the libcurl options the drivers set (lib/flags.c: timeout, body limit,
 * receive buffer, user agent, no signals; lib/loop.c: the connection cache holds every
 * transfer in flight). Two ways to drive them, the same easy handles and options:
 *
 *   poll (default)  curl_multi_perform and curl_multi_poll, as curl's
 *                   docs/examples/10-at-a-time.c: libcurl's least cost, full stop.
 *   --socket        curl_multi_socket_action on a libevent event_base, as curl's
 *                   docs/examples/hiperfifo.c: CURLMOPT_SOCKETFUNCTION adds and removes one
 *                   struct event per socket (its curl_multi_assign pointer),
 *                   CURLMOPT_TIMERFUNCTION sets one timer event. libcurl's least cost for an
 *                   event-loop client like bin/coroutine (lib/loop.c): the socket API makes
 *                   libcurl keep a socket hash entry per socket, which poll mode never
 *                   allocates, and libevent an event.
 *
 *   floor [--socket] [-m N] [-t SECONDS] [--repeat K] BASE_URL CC ...
 *
 * Downloads BASE_URL/cc/cc.gif for every code (K rounds, as the drivers' --repeat), N at
 * once, bodies discarded; prints one JSON line: mode, items, ok, not_found, errors, bytes,
 * concurrency, elapsed_s and max_rss_kb. Exit 0 done, 1 could not run, 2 bad usage. Built
 * by `make anchors` only. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "flags.h" /* FLAGS_DEFAULT_TIMEOUT_S, FLAGS_DEFAULT_MAX_BODY, FLAGS_URL_MAX */

/* lib/flags.c's receive buffer per handle: a budget shared by all transfers in flight,
 * within curl's 1 KiB minimum and its 16 KiB default */
#define FLOOR_RECV_BUDGET_BYTES (8L * 1024 * 1024)
#define FLOOR_RECV_BUFFER_MIN 1024L
#define FLOOR_RECV_BUFFER_MAX (16L * 1024)
#define FLOOR_MAX_CONCURRENCY 100000
#define FLOOR_MAX_REPEAT 1000
#define FLOOR_POLL_MS 1000 /* curl_multi_poll's longest sleep; curl's own timers wake it sooner */

struct floor_run {
    const char *base_url;
    char *const *codes;
    size_t n_codes, n_jobs, next, active;
    long buffer_bytes, timeout_ms;
    size_t ok, not_found, errors;
    unsigned long long bytes;
    CURLM *multi;
    struct event_base *base; /* --socket only: the event loop, curl's timer, a failure */
    struct event *timer;
    bool failed;
};

/* Bodies are counted and dropped: what libcurl hands over is the floor's only work. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    unsigned long long *bytes = arg;
    *bytes += size * nmemb;
    return size * nmemb;
}

static CURL *easy_new(struct floor_run *r)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "concbench/1");
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, r->buffer_bytes);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FLAGS_DEFAULT_MAX_BODY);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &r->bytes);
    return e;
}

/* Point e at the next job's URL (lower case, as lib/flags.c's flags_url) and add it. */
static int start_next(struct floor_run *r, CURL *e)
{
    const char *cc = r->codes[r->next++ % r->n_codes];
    char lc[3] = {(char)tolower((unsigned char)cc[0]), (char)tolower((unsigned char)cc[1]), 0};
    char url[FLAGS_URL_MAX + 16];
    snprintf(url, sizeof url, "%s/%s/%s.gif", r->base_url, lc, lc);
    curl_easy_setopt(e, CURLOPT_URL, url); /* curl copies it */
    if (curl_multi_add_handle(r->multi, e) != CURLM_OK)
        return -1;
    r->active++;
    return 0;
}

static void tally(struct floor_run *r, CURL *e, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 200)
        r->ok++;
    else if (rc == CURLE_OK && status == 404)
        r->not_found++;
    else
        r->errors++;
}

/* After curl has run: count each finished transfer and reuse its handle for the next job
 * (keep-alive, as the drivers reuse theirs). Both modes. 0, or -1 when curl failed. */
static int drain_done(struct floor_run *r)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(r->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        tally(r, e, msg->data.result); /* msg dies with remove_handle: read it first */
        curl_multi_remove_handle(r->multi, e);
        r->active--;
        if (r->next < r->n_jobs && start_next(r, e) != 0)
            return -1;
    }
    return 0;
}

/* Poll mode: curl_multi_perform, then sleep in curl_multi_poll until a socket or a timer. */
static int run_poll(struct floor_run *r)
{
    while (r->active > 0) {
        int running;
        if (curl_multi_perform(r->multi, &running) != CURLM_OK || drain_done(r) != 0)
            return -1;
        if (r->active > 0 && curl_multi_poll(r->multi, NULL, 0, FLOOR_POLL_MS, NULL) != CURLM_OK)
            return -1;
    }
    return 0;
}

/* Socket mode, after each curl_multi_socket_action: stop the loop when all is done or
 * curl failed. */
static void socket_acted(struct floor_run *r, CURLMcode mc)
{
    if (mc != CURLM_OK || drain_done(r) != 0)
        r->failed = true;
    if (r->failed || r->active == 0)
        event_base_loopbreak(r->base);
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct floor_run *r = arg;
    int bits = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    socket_acted(r, curl_multi_socket_action(r->multi, fd, bits, &running));
}

static void on_timer_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct floor_run *r = arg;
    int running;
    socket_acted(r, curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running));
}

/* CURLMOPT_SOCKETFUNCTION: one struct event per socket, curl_multi_assign's pointer;
 * created at the socket's first call, changed in place, freed on CURL_POLL_REMOVE. */
static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    struct floor_run *r = userp;
    struct event *ev = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ev)
            event_free(ev);
        return 0;
    }
    short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) |
                         (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
    if (!ev) {
        if (!(ev = event_new(r->base, s, kind, on_socket_event, r)))
            goto fail;
        curl_multi_assign(r->multi, s, ev);
    } else {
        event_del(ev);
        event_assign(ev, r->base, s, kind, on_socket_event, r);
    }
    if (event_add(ev, NULL) == 0)
        return 0;
fail:
    r->failed = true;
    event_base_loopbreak(r->base);
    return -1;
}

/* CURLMOPT_TIMERFUNCTION: curl's one timeout, replaced on each call; -1 removes it. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct floor_run *r = userp;
    if (timeout_ms < 0)
        return evtimer_del(r->timer) == 0 ? 0 : -1;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    return evtimer_add(r->timer, &tv) == 0 ? 0 : -1;
}

/* Socket mode: libevent waits, curl_multi_socket_action acts on what it reports. */
static int run_socket(struct floor_run *r)
{
    if (event_base_dispatch(r->base) < 0)
        return -1;
    return r->failed || r->active > 0 ? -1 : 0;
}

/* Run every job, `concurrency` at once, driven as `socket_mode` says. 0, or -1 when curl or
 * libevent failed. */
static int run(struct floor_run *r, unsigned concurrency, bool socket_mode)
{
    CURL **easy = calloc(concurrency, sizeof *easy);
    int rc = -1;
    if (!easy || !(r->multi = curl_multi_init()))
        goto out;
    /* every transfer goes to one host: all may connect at once, all stay cached */
    curl_multi_setopt(r->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)concurrency);
    curl_multi_setopt(r->multi, CURLMOPT_MAXCONNECTS, (long)concurrency);
    if (socket_mode) {
        if (!(r->base = event_base_new()) || !(r->timer = evtimer_new(r->base, on_timer_event, r)))
            goto out;
        curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
        curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
        curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
    }
    for (unsigned i = 0; i < concurrency; i++)
        if (!(easy[i] = easy_new(r)) || start_next(r, easy[i]) != 0)
            goto out;
    rc = socket_mode ? run_socket(r) : run_poll(r);
out:
    for (unsigned i = 0; easy && i < concurrency && easy[i]; i++) {
        curl_multi_remove_handle(r->multi, easy[i]);
        curl_easy_cleanup(easy[i]);
    }
    free(easy);
    if (r->multi)
        curl_multi_cleanup(r->multi); /* closes the cached connections: their events go */
    if (r->timer)
        event_free(r->timer);
    if (r->base)
        event_base_free(r->base);
    return rc;
}

static int usage(const char *why)
{
    fprintf(stderr,
            "floor: %s\nusage: floor [--socket] [-m N] [-t SECONDS] [--repeat K] BASE_URL CC ...\n",
            why);
    return 2;
}

/* A whole number in [lo, hi]: 0, or -1. */
static int parse_count(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!isdigit((unsigned char)*s) || errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"max-req", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 't'},
        {"repeat", required_argument, NULL, 'r'},
        {"socket", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    unsigned long concurrency = 1, repeat = 1;
    double timeout_s = FLAGS_DEFAULT_TIMEOUT_S;
    bool socket_mode = false;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'm':
            if (parse_count(optarg, 1, FLOOR_MAX_CONCURRENCY, &concurrency) != 0)
                return usage("bad value for -m");
            break;
        case 'r':
            if (parse_count(optarg, 1, FLOOR_MAX_REPEAT, &repeat) != 0)
                return usage("bad value for --repeat");
            break;
        case 's': socket_mode = true; break;
        case 't':
            timeout_s = strtod(optarg, &end);
            if (*end || !isfinite(timeout_s) || timeout_s <= 0)
                return usage("bad value for -t");
            break;
        default: return usage("unknown option");
        }
    }
    if (argc - optind < 2)
        return usage("want a base URL and at least one code");
    struct floor_run r = {.base_url = argv[optind],
                          .codes = argv + optind + 1,
                          .n_codes = (size_t)(argc - optind - 1)};
    r.n_jobs = r.n_codes * repeat;
    if (concurrency > r.n_jobs)
        concurrency = r.n_jobs; /* as the drivers: never more in flight than jobs */
    r.buffer_bytes = FLOOR_RECV_BUDGET_BYTES / (long)concurrency;
    if (r.buffer_bytes < FLOOR_RECV_BUFFER_MIN)
        r.buffer_bytes = FLOOR_RECV_BUFFER_MIN;
    if (r.buffer_bytes > FLOOR_RECV_BUFFER_MAX)
        r.buffer_bytes = FLOOR_RECV_BUFFER_MAX;
    double ms = ceil(timeout_s * 1000.0 - 1e-6); /* lib/flags.c's flags_timeout_ms */
    r.timeout_ms = ms < 1 ? 1 : (long)ms;

    /* one socket per transfer: take the hard limit, as lib/driver.c does */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "floor: cannot initialise libcurl\n");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = run(&r, (unsigned)concurrency, socket_mode);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    curl_global_cleanup();
    if (rc != 0) {
        fprintf(stderr, socket_mode ? "floor: curl's multi interface or libevent failed\n"
                                    : "floor: curl's multi interface failed\n");
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double elapsed_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf(
        "{\"mode\": \"%s\", \"items\": %zu, \"ok\": %zu, \"not_found\": %zu, \"errors\": %zu, \"bytes\": %llu, "
        "\"concurrency\": %lu, \"elapsed_s\": %.6f, \"max_rss_kb\": %ld}\n",
        socket_mode ? "socket" : "poll", r.n_jobs, r.ok, r.not_found, r.errors, r.bytes,
        concurrency, elapsed_s, ru.ru_maxrss);
    return 0;
}
