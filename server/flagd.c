/* flagd — the local flag server: LOCAL, DELAY and ERROR listeners on one libevent loop. */

/* What a client sees, beyond the usage text:
 * - Every answer is decided when the request arrives (route, then fate, then the store)
 *   and, when delayed, sent by a libevent timer: nothing ever sleeps, so 10,000 requests
 *   can wait at once (measured: 10,000 wrk connections on DELAY, 1 s each, all answered).
 * - metadata.json shares its gif's fate on every listener: on ERROR a failing code fails
 *   for both, with the same status and delay. Codes without a gif are 404 everywhere,
 *   delayed as their fate says; ERROR draws failures among the existing flags only, which
 *   is what --plan lists.
 * - Paths that name no code (400, 404 for other paths, 405, 414) are answered at once; 400,
 *   405 and 414 also close the connection.
 * - A request-target plus header lines over MAX_HEADERS_BYTES get "431 Request Header
 *   Fields Too Large" and a closed connection, before anything else is looked at. evhttp
 *   has no 431: it is given a larger cap, EVHTTP_HEADERS_CAP_BYTES, and flagd counts.
 * - evhttp 2.1 refuses some requests before flagd sees them, so /stats does not count them:
 *   headers over EVHTTP_HEADERS_CAP_BYTES, a NUL in the request line or any unparseable
 *   line get "400 Bad Request" and a closed connection; a method token it does not know
 *   (e.g. FOO) gets "501 Not Implemented". Known methods other than GET and HEAD reach
 *   flagd and get 405.
 * - While a request is waiting, evhttp does not read its connection, so a client that
 *   gives up is noticed only when the answer is written: until then it stays in_flight,
 *   and the answer is counted as sent.
 * - Faults (--reset-rate, --truncate-rate, --stall-rate) hit only ERROR's codes that would
 *   answer 200, after the code's delay: a reset is a TCP RST instead of any answer; a
 *   truncation and a stall send the status line, the full Content-Length and half the body,
 *   then close, or go silent until --timeout. HEAD gets no truncation or stall.
 * - GET /stats is never delayed, failed or counted; ?reset=1 answers the counts, then
 *   zeroes them (max_in_flight restarts from what is in flight, 0 when idle). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "counters.h"
#include "fate.h"
#include "route.h"
#include "site.h"
#include "store.h"
#include "num.h"

#define DEFAULT_BIND "127.0.0.1"
#define DEFAULT_PORT 8000    /* the book's flags server, python -m http.server */
#define DEFAULT_TIMEOUT_S 60 /* an idle connection is closed after this */
#define MAX_TIMEOUT_S 86400
#define LISTEN_BACKLOG 4096    /* 10,000 clients connecting at once; somaxconn caps it */
#define MAX_HEADERS_BYTES 8192 /* request-target + header lines; more is 431 */
#define EVHTTP_HEADERS_CAP_BYTES \
    65536                         /* evhttp buffers this much of a request's head per
                                        * connection, then refuses it with 400 itself */
#define HEADER_LINE_EXTRA_BYTES 4 /* ": " and CRLF around each header's name and value */
#define MAX_BODY_BYTES 1024       /* GET and HEAD carry no body */
#define ERR_MAX 512
#define ACCEPT_BACKOFF_MS \
    100                         /* out of descriptors: stop accepting this long (nginx
                                      * waits 500 ms), so that a full table is not a busy loop */
#define ACCEPT_LOG_INTERVAL_S 1 /* and say so at most once a second */

enum exit_code { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct options {
    const char *bind;        /* --bind ADDR */
    unsigned port;           /* --port P: LOCAL; DELAY is P+1, ERROR P+2; 0 = free ports */
    const char *root;        /* --root DIR */
    const char *iso_path;    /* --iso-codes FILE */
    unsigned timeout_s;      /* --timeout S */
    bool plan;               /* --plan: print the ERROR listener's plan and exit */
    bool site_plan;          /* --site-plan: the same for the site's pages */
    struct fate_config fate; /* --seed, --error-rate, --delay */
    struct site_config site; /* --site-pages, --site-fanout (and --seed) */
};

struct flagd;

struct listener {
    enum fate_listener id;
    struct flagd *d;
    struct evhttp *http;        /* owns its evconnlistener */
    struct evconnlistener *lev; /* evhttp's, borrowed: paused while out of descriptors */
    struct event *resume;       /* re-enables lev after ACCEPT_BACKOFF_MS */
    char url[160];              /* http://ADDR:PORT/flags, as announced */
};

/* Everything a response will be, decided when its request arrives. */
struct answer {
    int status;
    const char *type;       /* Content-Type */
    struct store_blob body; /* borrowed from the store; NULL data: a text body */
    bool close;             /* malformed request: drop the connection after it */
    unsigned delay_ms;
    enum fate_fault fault; /* ERROR's transport fault, if any */
    bool site;             /* a /site/ answer: its body is made when it is sent */
    enum site_kind site_kind;
    uint32_t site_page; /* the page, or the enum site_odd */
};

/* A response waiting for its timer. Linked into flagd's list so that shutdown, and a
 * connection closing first, can cancel it. */
struct pending {
    struct pending *prev, *next;
    struct flagd *d;
    struct evhttp_request *req; /* owned by evhttp */
    struct event *timer;
    struct answer a;
};

/* The server state: the only mutable state of the process, owned by main() and handed to
 * every callback. One thread, so no locking. */
struct flagd {
    struct event_base *base;
    struct store *store;
    struct fate_config fate;
    struct site_config site;
    struct listener listeners[FATE_LISTENERS];
    struct event *signals[2];      /* SIGINT, SIGTERM: leave the loop */
    struct pending *pending;       /* delayed responses, newest first */
    struct counters counters;      /* /stats, over all listeners */
    time_t accept_log_s;           /* when "cannot accept" was last logged */
    unsigned long accept_unlogged; /* accept errors since, not logged */
};

/* The one server of this process, for libevent's accept-error callback: evhttp takes the
 * listener's callback argument for itself, so the callback gets an evhttp and finds its
 * listener here. Set once by main() before the loop runs; read only on the loop thread. */
static struct flagd *flagd_self;

/* ---- options ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: flagd [--port P] [--bind ADDR] [--root DIR] [--delay MS|MIN-MAX]\n"
        "             [--error-rate P] [--seed N] [--timeout S] [--iso-codes FILE]\n"
        "             [--reset-rate P] [--truncate-rate P] [--stall-rate P]\n"
        "             [--site-pages N] [--site-fanout F]\n"
        "       flagd --site-plan [--site-pages N] [--site-fanout F] [--error-rate P] [--seed N]\n"
        "       flagd --plan [--root DIR] [--delay MS|MIN-MAX] [--error-rate P] [--seed N]\n"
        "             [--reset-rate P] [--truncate-rate P] [--stall-rate P]\n"
        "\n"
        "Serves flags in Fluent Python's layout, /flags/{cc}/{cc}.gif and\n"
        "/flags/{cc}/metadata.json, on three listeners:\n"
        "  LOCAL on --port      every answer at once\n"
        "  DELAY on --port + 1  every answer delayed\n"
        "  ERROR on --port + 2  a share of the codes answer 500, 502 or 503; half the codes\n"
        "                       are answered after a delay\n"
        "Which codes fail, with which status, and each delay depend only on --seed, the code\n"
        "and the listener. GET /stats on any listener counts answers; /stats?reset=1 zeroes.\n"
        "Under /site/ each listener serves a site to crawl: --site-pages small HTML pages in a\n"
        "tree of --site-fanout children each, with duplicate, upward and 404 links; its pages\n"
        "fail and wait as codes do. GET /site/manifest.json lists every page with its depth\n"
        "and status on that listener, and what a whole crawl from /site/ finds; /site/odd/\n"
        "holds bad input (not HTML, too large, a NUL byte, redirect loops, other schemes).\n"
        "\n"
        "  --port P          LOCAL's port; 0 = a free port for each listener (default %d)\n"
        "  --bind ADDR       numeric address to listen on (default %s)\n"
        "  --root DIR        DIR/cc/cc.gif [+ DIR/cc/metadata.json] or DIR/cc.gif\n"
        "                    (default %s)\n"
        "  --delay MS        delay in milliseconds, or MIN-MAX drawn per code (default %d)\n"
        "  --error-rate P    chance in 0..1 that a code fails on ERROR (default %.2f)\n"
        "  --seed N          the seed of every choice (default 0)\n"
        "  --timeout S       close connections idle this long (default %d)\n"
        "  --iso-codes FILE  country names for metadata.json (default %s)\n"
        "  --reset-rate P    on ERROR, chance that a code's connection is reset (default 0)\n"
        "  --truncate-rate P on ERROR, chance of half the body, then close (default 0)\n"
        "  --stall-rate P    on ERROR, chance of half the body, then silence until the\n"
        "                    idle timeout (default 0); faults hit only codes that answer 200\n"
        "  --site-pages N    pages of /site/, 1 to %d (default %d)\n"
        "  --site-fanout F   links from a page to its children, %d to %d (default %d)\n"
        "  --site-plan       print 'PATH DEPTH STATUS' for every page of /site/ and every 404\n"
        "                    link in it as the ERROR listener answers them, then exit\n"
        "  --plan            print 'CC STATUS DELAY_MS [FAULT]' for every code of the root as\n"
        "                    the ERROR listener answers it (STATUS 0 for a reset), then exit\n"
        "  --help            this text\n"
        "\n"
        "Prints one line per listener when ready; SIGINT or SIGTERM stops it (exit 0).\n"
        "Exit status: 0 ok, 1 cannot run (port in use, no flags), 2 bad usage.\n",
        DEFAULT_PORT, DEFAULT_BIND, STORE_DEFAULT_ROOT, FATE_DEFAULT_DELAY_MS,
        FATE_DEFAULT_ERROR_RATE, DEFAULT_TIMEOUT_S, STORE_DEFAULT_ISO, SITE_MAX_PAGES,
        SITE_DEFAULT_PAGES, SITE_MIN_FANOUT, SITE_MAX_FANOUT, SITE_DEFAULT_FANOUT);
}

/* A whole-string unsigned decimal in [0, max] (num.h's sign rule). */
static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    return num_parse_u64(s, 0, max, out) == 0;
}

/* "MS" or "MIN-MAX", each at most FATE_MAX_DELAY_MS, MIN <= MAX. */
static bool parse_delay(const char *s, struct fate_config *f)
{
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    char *dash = strchr(buf, '-');
    unsigned long long lo, hi;
    if (dash)
        *dash = '\0';
    if (!parse_uint(buf, FATE_MAX_DELAY_MS, &lo))
        return false;
    hi = lo;
    if (dash && (!parse_uint(dash + 1, FATE_MAX_DELAY_MS, &hi) || hi < lo))
        return false;
    f->delay_min_ms = (unsigned)lo;
    f->delay_max_ms = (unsigned)hi;
    return true;
}

static bool parse_rate(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1)
        return false;
    *out = v;
    return true;
}

/* In the order of longopts[]: bad-value messages name the option by c - OPT_PORT. */
enum opt_id {
    OPT_PORT = 256,
    OPT_BIND,
    OPT_ROOT,
    OPT_DELAY,
    OPT_ERROR_RATE,
    OPT_SEED,
    OPT_TIMEOUT,
    OPT_ISO,
    OPT_PLAN,
    OPT_HELP,
    OPT_RESET_RATE,
    OPT_TRUNCATE_RATE,
    OPT_STALL_RATE,
    OPT_SITE_PAGES,
    OPT_SITE_FANOUT,
    OPT_SITE_PLAN
};

static const struct option longopts[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"bind", required_argument, NULL, OPT_BIND},
    {"root", required_argument, NULL, OPT_ROOT},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"error-rate", required_argument, NULL, OPT_ERROR_RATE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"iso-codes", required_argument, NULL, OPT_ISO},
    {"plan", no_argument, NULL, OPT_PLAN},
    {"help", no_argument, NULL, OPT_HELP},
    {"reset-rate", required_argument, NULL, OPT_RESET_RATE},
    {"truncate-rate", required_argument, NULL, OPT_TRUNCATE_RATE},
    {"stall-rate", required_argument, NULL, OPT_STALL_RATE},
    {"site-pages", required_argument, NULL, OPT_SITE_PAGES},
    {"site-fanout", required_argument, NULL, OPT_SITE_FANOUT},
    {"site-plan", no_argument, NULL, OPT_SITE_PLAN},
    {NULL, 0, NULL, 0},
};

/* Fill o from argv. Returns -1 to run, or the exit status: EXIT_OK after --help,
 * EXIT_USAGE after printing one line and the usage to stderr. */
static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){
        .bind = DEFAULT_BIND,
        .port = DEFAULT_PORT,
        .root = STORE_DEFAULT_ROOT,
        .iso_path = STORE_DEFAULT_ISO,
        .timeout_s = DEFAULT_TIMEOUT_S,
        .fate = {.seed = 0,
                 .error_rate = FATE_DEFAULT_ERROR_RATE,
                 .delay_min_ms = FATE_DEFAULT_DELAY_MS,
                 .delay_max_ms = FATE_DEFAULT_DELAY_MS},
        .site = {.pages = SITE_DEFAULT_PAGES, .fanout = SITE_DEFAULT_FANOUT},
    };
    opterr = 0; /* our own one-line messages, not getopt's "bin/flagd: ..." */
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        unsigned long long v = 0;
        bool ok = true;
        switch (c) {
        case OPT_PORT:
            ok = parse_uint(optarg, 65535 - (FATE_LISTENERS - 1), &v);
            o->port = (unsigned)v;
            break;
        case OPT_BIND: o->bind = optarg; break;
        case OPT_ROOT:
            o->root = optarg;
            ok = *optarg != '\0';
            break;
        case OPT_DELAY: ok = parse_delay(optarg, &o->fate); break;
        case OPT_ERROR_RATE: ok = parse_rate(optarg, &o->fate.error_rate); break;
        case OPT_SEED:
            ok = parse_uint(optarg, UINT64_MAX, &v);
            o->fate.seed = v;
            break;
        case OPT_TIMEOUT:
            ok = parse_uint(optarg, MAX_TIMEOUT_S, &v) && v > 0;
            o->timeout_s = (unsigned)v;
            break;
        case OPT_RESET_RATE: ok = parse_rate(optarg, &o->fate.reset_rate); break;
        case OPT_TRUNCATE_RATE: ok = parse_rate(optarg, &o->fate.truncate_rate); break;
        case OPT_STALL_RATE: ok = parse_rate(optarg, &o->fate.stall_rate); break;
        case OPT_SITE_PAGES:
            ok = parse_uint(optarg, SITE_MAX_PAGES, &v) && v >= 1;
            o->site.pages = (uint32_t)v;
            break;
        case OPT_SITE_FANOUT:
            ok = parse_uint(optarg, SITE_MAX_FANOUT, &v) && v >= SITE_MIN_FANOUT;
            o->site.fanout = (uint32_t)v;
            break;
        case OPT_ISO: o->iso_path = optarg; break;
        case OPT_PLAN: o->plan = true; break;
        case OPT_SITE_PLAN: o->site_plan = true; break;
        case OPT_HELP: usage(stdout); return EXIT_OK;
        case ':':
            fprintf(stderr, "flagd: option '%s' needs a value\n", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "flagd: unknown option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
        if (!ok) {
            fprintf(stderr, "flagd: bad value for --%s: '%s'\n", longopts[c - OPT_PORT].name,
                    optarg);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    o->site.seed = o->fate.seed;
    if (optind < argc) {
        fprintf(stderr, "flagd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    return -1;
}

/* ---- answers ---------------------------------------------------------------------- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

/* Decide the whole answer to a flag or metadata request (or a malformed one) now, so the
 * timer only has to send it. */
static struct answer decide(const struct flagd *d, enum fate_listener l,
                            enum evhttp_cmd_type method, const struct route *r)
{
    struct answer a = {.status = route_status(r->kind), .type = "text/plain"};
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        a.status = 405;
        a.close = true;
        return a;
    }
    if (r->kind != ROUTE_GIF && r->kind != ROUTE_META) {
        a.close = a.status != 404;
        return a; /* no code, no fate: answered at once */
    }
    struct fate f = fate_of(&d->fate, l, r->cc);
    a.delay_ms = f.delay_ms;
    const struct store_flag *flag = store_get(d->store, r->cc);
    if (!flag) {
        /* Unknown codes are 404 on every listener (the book's ss), delayed as the code's
         * fate says: ERROR's failures are drawn only among the flags that exist. */
        a.status = 404;
    } else if (f.status != 200) {
        a.status = f.status; /* metadata.json shares its gif's fate */
    } else if (r->kind == ROUTE_GIF) {
        a.status = 200;
        a.type = "image/gif";
        a.body = flag->gif;
        a.fault = f.fault;
    } else {
        a.status = 200;
        a.type = "application/json";
        a.body = flag->meta;
        a.fault = f.fault;
    }
    if (method == EVHTTP_REQ_HEAD && a.fault != FATE_FAULT_RESET)
        a.fault = FATE_FAULT_NONE; /* no body to cut short */
    return a;
}

/* The body (and Location) of a /site/ answer, made now: a page is rendered (a few hundred
 * bytes), an odd page's static body is referenced, huge.html's line many times over. */
static void site_write(const struct flagd *d, const struct answer *a, struct evkeyvalq *h,
                       struct evbuffer *out)
{
    if (a->site_kind == SITE_PAGE) {
        char buf[SITE_PAGE_MAX];
        size_t n = site_render(&d->site, a->site_page, buf, sizeof buf, NULL);
        evbuffer_add(out, buf, n);
        return;
    }
    struct site_odd_answer odd;
    site_odd((enum site_odd)a->site_page, &odd);
    if (odd.location)
        evhttp_add_header(h, "Location", odd.location);
    for (size_t i = 0; i < odd.repeat; i++)
        evbuffer_add_reference(out, odd.body, odd.len, NULL, NULL);
}

/* Send a on req and count it. Bodies from the store go out by reference, without a copy:
 * the store outlives every connection. */
static void answer_send(struct flagd *d, struct evhttp_request *req, const struct answer *a)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evhttp_add_header(h, "Content-Type", a->type);
    evhttp_add_header(h, "Server", "flagd");
    if (a->status == 405)
        evhttp_add_header(h, "Allow", "GET, HEAD");
    if (a->close)
        evhttp_add_header(h, "Connection", "close");
    if (a->fault == FATE_FAULT_TRUNCATE || a->fault == FATE_FAULT_STALL) {
        /* Promise the whole body, send half. A truncation then closes; a stall keeps
         * the connection, and evhttp closes it after --timeout of silence. */
        char len[24];
        snprintf(len, sizeof len, "%zu", a->body.len);
        evhttp_add_header(h, "Content-Length", len);
        if (a->fault == FATE_FAULT_TRUNCATE)
            evhttp_add_header(h, "Connection", "close");
        evbuffer_add_reference(out, a->body.data, a->body.len / 2, NULL, NULL);
        counters_fault(&d->counters, a->fault);
    } else if (a->site && (a->status == 200 || a->status == 302)) {
        site_write(d, a, h, out);
    } else if (a->body.data) {
        evbuffer_add_reference(out, a->body.data, a->body.len, NULL, NULL);
    } else {
        evbuffer_add_printf(out, "%d %s\n", a->status, reason_phrase(a->status));
    }
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        /* evhttp 2.1 would send a HEAD's body and leave out its length: do it ourselves. */
        char len[24];
        snprintf(len, sizeof len, "%zu", evbuffer_get_length(out));
        evhttp_add_header(h, "Content-Length", len);
        evbuffer_drain(out, evbuffer_get_length(out));
    }
    counters_end(&d->counters, a->status);
    evhttp_send_reply(req, a->status, reason_phrase(a->status), NULL);
}

static void pending_unlink_free(struct pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        p->d->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    event_free(p->timer);
    free(p);
}

/* Drop req's connection with a TCP RST: connect(AF_UNSPEC) makes Linux abort the
 * connection now (tcp_disconnect), where a plain close would first send the FIN of
 * evhttp's shutdown(). The descriptor stays valid, for evhttp to close. Only ever from a
 * timer: evhttp must not be inside its own callbacks for this connection. */
static void reset_connection(struct flagd *d, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    if (fd >= 0)
        (void)connect(fd, &unspec, sizeof unspec);
    counters_fault(&d->counters, FATE_FAULT_RESET);
    counters_end(&d->counters, 0);
    evhttp_connection_free(evcon); /* frees req too */
}

/* The delay is over: answer. The connection's close callback goes first, so that evhttp
 * never calls it with a freed pending. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pending *p = arg;
    evhttp_connection_set_closecb(evhttp_request_get_connection(p->req), NULL, NULL);
    if (p->a.fault == FATE_FAULT_RESET)
        reset_connection(p->d, p->req);
    else
        answer_send(p->d, p->req, &p->a);
    pending_unlink_free(p);
}

/* evhttp is freeing the connection of a delayed request (the client left, or shutdown):
 * the request goes with it, so the timer must not fire. */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct pending *p = arg;
    counters_end(&p->d->counters, 0);
    pending_unlink_free(p);
}

/* Arm a timer for a; answer at once when that is impossible (out of memory). */
static void answer_later(struct flagd *d, struct evhttp_request *req, const struct answer *a)
{
    struct pending *p = calloc(1, sizeof *p);
    if (p)
        p->timer = evtimer_new(d->base, on_timer, p);
    if (!p || !p->timer) {
        free(p);
        answer_send(d, req, a);
        return;
    }
    p->d = d;
    p->req = req;
    p->a = *a;
    p->next = d->pending;
    if (d->pending)
        d->pending->prev = p;
    d->pending = p;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, p);
    struct timeval tv = {.tv_sec = a->delay_ms / 1000, .tv_usec = (a->delay_ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
}

/* GET or HEAD /stats[?reset=1]: not counted itself, never delayed, never failed. */
static void send_stats(struct flagd *d, struct evhttp_request *req, bool reset)
{
    char *text = counters_json(&d->counters);
    if (reset)
        counters_reset(&d->counters);
    if (!text) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add_printf(out, "%s\n", text);
    free(text);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        /* as answer_send: the length of the body a GET would get, and no body */
        char len[24];
        snprintf(len, sizeof len, "%zu", evbuffer_get_length(out));
        evhttp_add_header(h, "Content-Length", len);
        evbuffer_drain(out, evbuffer_get_length(out));
    }
    evhttp_send_reply(req, 200, "OK", NULL);
}

/* The fate keys of site answers that are not pages (fate_of_page): beyond any page. */
#define SITE_FATE_MISSING 0x1fffffffu
#define SITE_FATE_ODD 0x1fffff00u

/* GET /site/manifest.json: every page with its depth and status on listener l, its 404
 * links, and what a whole crawl from /site/ finds there (a page is reached when every page
 * above it answered 200; a failed page's links are never seen), so that tests compute no
 * counts of their own. Like /stats: at once, never failed, not counted. */
static void send_manifest(struct flagd *d, enum fate_listener l, struct evhttp_request *req)
{
    const struct site_config *c = &d->site;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    unsigned char *reached = calloc(c->pages, 1); /* 1 reached, 2 reached and 200 */
    if (!reached) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    size_t pages = 0, not_found = 0, errors = 0, links = 0;
    char path[SITE_PATH_MAX], buf[SITE_PAGE_MAX];
    evbuffer_add_printf(out,
                        "{\"pages\":%u,\"fanout\":%u,\"seed\":%llu,\"listener\":\"%s\","
                        "\"max_depth\":%u,\"site\":[",
                        c->pages, c->fanout, (unsigned long long)c->seed, fate_listener_name(l),
                        site_max_depth(c));
    for (uint32_t i = 0; i < c->pages; i++) {
        struct fate f = fate_of_page(&d->fate, l, i);
        int status = i == 0 ? 200 : f.status; /* /site/ itself never fails */
        unsigned n = 0;
        site_render(c, i, buf, sizeof buf, &n);
        bool in = i == 0 || reached[(i - 1) / c->fanout] == 2;
        if (in) {
            reached[i] = status == 200 ? 2 : 1;
            pages++;
            if (status != 200)
                errors++;
            else
                links += n;
        }
        site_path(c, i, path, sizeof path);
        evbuffer_add_printf(out, "%s{\"path\":\"%s\",\"depth\":%u,\"status\":%d,\"links\":%u}",
                            i ? "," : "", path, site_depth(c, i), status, n);
    }
    evbuffer_add_printf(out, "],\"missing\":[");
    bool first = true;
    for (uint32_t i = 0; i < c->pages; i++) {
        if (!site_broken_link(c, i, path, sizeof path))
            continue;
        if (reached[i] == 2) {
            pages++;
            not_found++;
        }
        evbuffer_add_printf(out, "%s{\"path\":\"%s\",\"depth\":%u,\"status\":404}",
                            first ? "" : ",", path, site_depth(c, i) + 1);
        first = false;
    }
    free(reached);
    evbuffer_add_printf(out,
                        "],\"crawl\":{\"pages\":%zu,\"not_found\":%zu,\"errors\":%zu,"
                        "\"links\":%zu}}\n",
                        pages, not_found, errors, links);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char len[24];
        snprintf(len, sizeof len, "%zu", evbuffer_get_length(out));
        evhttp_add_header(h, "Content-Length", len);
        evbuffer_drain(out, evbuffer_get_length(out));
    }
    evhttp_send_reply(req, 200, "OK", NULL);
}

/* A GET or HEAD under /site/: a page, an odd page or a 404, failed and delayed by its own
 * fate as a code is (fate_of_page); the manifest at once. */
static void on_site(struct flagd *d, enum fate_listener l, struct evhttp_request *req,
                    const char *uri)
{
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    uint32_t page;
    enum site_kind kind = site_lookup(&d->site, uri, plen, &page);
    if (kind == SITE_MANIFEST) {
        send_manifest(d, l, req);
        return;
    }
    struct answer a = {
        .status = 404, .type = "text/plain", .site = true, .site_kind = kind, .site_page = page};
    struct fate f;
    if (kind == SITE_PAGE) {
        f = fate_of_page(&d->fate, l, page);
        a.status = page == 0 ? 200 : f.status; /* /site/ never fails: a crawl starts there */
        if (a.status == 200)
            a.type = "text/html; charset=utf-8";
    } else if (kind == SITE_ODD) {
        f = fate_of_page(&d->fate, l, SITE_FATE_ODD + page);
        struct site_odd_answer odd;
        site_odd((enum site_odd)page, &odd);
        a.status = odd.status; /* bad input, not bad luck: never failed */
        a.type = odd.type;
    } else {
        f = fate_of_page(&d->fate, l, SITE_FATE_MISSING);
    }
    a.delay_ms = f.delay_ms;
    counters_begin(&d->counters);
    if (a.delay_ms == 0)
        answer_send(d, req, &a);
    else
        answer_later(d, req, &a);
}

/* The size of req's head as flagd limits it: the request-target and every header line
 * with its ": " and CRLF. evhttp has already trimmed the spaces around values, so a
 * client padding them gets a little more than MAX_HEADERS_BYTES on the wire, never more
 * than EVHTTP_HEADERS_CAP_BYTES. */
static size_t header_bytes(struct evhttp_request *req, const char *uri)
{
    size_t n = strlen(uri);
    const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    for (const struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next)
        n += strlen(kv->key) + strlen(kv->value) + HEADER_LINE_EXTRA_BYTES;
    return n;
}

/* Every request of every listener. The route sees the raw request-target; files are only
 * ever found by the validated code. */
static void on_request(struct evhttp_request *req, void *arg)
{
    struct listener *ls = arg;
    struct flagd *d = ls->d;
    const char *uri = evhttp_request_get_uri(req);
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (header_bytes(req, uri) > MAX_HEADERS_BYTES) {
        /* Checked before the route: an oversized head is refused whatever it asks for. */
        const struct answer a = {.status = 431, .type = "text/plain", .close = true};
        counters_begin(&d->counters);
        answer_send(d, req, &a);
        return;
    }
    struct route r;
    route_parse(uri, strlen(uri), &r);
    if (r.kind == ROUTE_STATS && (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD)) {
        send_stats(d, req, r.reset);
        return;
    }
    if (r.kind == ROUTE_SITE && (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD)) {
        on_site(d, ls->id, req, uri);
        return;
    }
    counters_begin(&d->counters);
    struct answer a = decide(d, ls->id, method, &r);
    if (a.delay_ms == 0 && a.fault != FATE_FAULT_RESET) /* a reset waits for a timer */
        answer_send(d, req, &a);
    else
        answer_later(d, req, &a);
}

/* ---- listeners -------------------------------------------------------------------- */

/* Resume accepting on a listener after the back-off. */
static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct listener *ls = arg;
    evconnlistener_enable(ls->lev);
}

/* accept(2) failed (libevent has already skipped EAGAIN and EINTR). Out of descriptors
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) the pending connection stays in the backlog and the
 * listening socket stays readable: without a pause this callback runs again at once, a
 * busy loop that wrote a line each time (1.6 M lines in 3.5 s under `ulimit -n 40`).
 * So: pause this listener for ACCEPT_BACKOFF_MS, and log at most once a second, with the
 * count of errors not logged. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    int e = EVUTIL_SOCKET_ERROR();
    struct flagd *d = flagd_self;
    struct listener *ls = NULL;
    for (int i = 0; d && i < FATE_LISTENERS; i++)
        if (d->listeners[i].lev == lev || (void *)d->listeners[i].http == arg)
            ls = &d->listeners[i];
    bool exhausted = e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
    if (ls && exhausted && ls->resume) {
        static const struct timeval backoff = {0, ACCEPT_BACKOFF_MS * 1000};
        evconnlistener_disable(lev);
        evtimer_add(ls->resume, &backoff);
    }
    time_t now = time(NULL);
    if (!d || now - d->accept_log_s >= ACCEPT_LOG_INTERVAL_S) {
        if (d && d->accept_unlogged)
            fprintf(stderr,
                    "flagd: cannot accept a connection: %s (and %lu more since the last line)%s\n",
                    evutil_socket_error_to_string(e), d->accept_unlogged,
                    exhausted ? "; pausing accepts" : "");
        else
            fprintf(stderr, "flagd: cannot accept a connection: %s%s\n",
                    evutil_socket_error_to_string(e), exhausted ? "; pausing accepts" : "");
        if (d) {
            d->accept_log_s = now;
            d->accept_unlogged = 0;
        }
    } else {
        d->accept_unlogged++;
    }
}

/* Listen on addr:port with a deep backlog and hand the socket to a new evhttp. */
static int listener_open(struct flagd *d, struct listener *ls, const struct options *o,
                         unsigned port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%u", port);
    int gai = getaddrinfo(o->bind, portstr, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "bad value for --bind: '%s': %s", o->bind, gai_strerror(gai));
        return -1;
    }
    struct evconnlistener *lev = evconnlistener_new_bind(
        d->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        LISTEN_BACKLOG, ai->ai_addr, (int)ai->ai_addrlen);
    int family = ai->ai_family;
    freeaddrinfo(ai);
    if (!lev) {
        snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s", family == AF_INET6 ? "[" : "",
                 o->bind, family == AF_INET6 ? "]" : "", port, strerror(errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN + 8], serv[8]; /* numeric: an address and a port */
    if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&ss, &sl) != 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(err, errlen, "cannot read the address of a listener: %s", strerror(errno));
        evconnlistener_free(lev);
        return -1;
    }
    ls->http = evhttp_new(d->base);
    if (!ls->http || !evhttp_bind_listener(ls->http, lev)) {
        snprintf(err, errlen, "cannot start an HTTP server: out of memory");
        evconnlistener_free(lev);
        return -1;
    }
    ls->lev = lev;
    ls->resume = evtimer_new(d->base, on_accept_resume, ls);
    if (!ls->resume) {
        snprintf(err, errlen, "cannot start an HTTP server: out of memory");
        return -1;
    }
    evconnlistener_set_error_cb(lev, on_accept_error);
    /* Every method is let through to on_request, which answers 405 itself: evhttp would
     * answer 501 to a method it was told to refuse. */
    evhttp_set_allowed_methods(ls->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                             EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                             EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                             EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(ls->http, EVHTTP_HEADERS_CAP_BYTES);
    evhttp_set_max_body_size(ls->http, MAX_BODY_BYTES);
    evhttp_set_timeout(ls->http, (int)o->timeout_s);
    evhttp_set_gencb(ls->http, on_request, ls);
    snprintf(ls->url, sizeof ls->url, "http://%s%s%s:%s/flags", family == AF_INET6 ? "[" : "", host,
             family == AF_INET6 ? "]" : "", serv);
    return 0;
}

/* The ready lines callers wait for (bench/server.c parses "flagd: LABEL URL ..."). */
static void announce(const struct flagd *d)
{
    const struct fate_config *f = &d->fate;
    char delay[48];
    if (f->delay_min_ms == f->delay_max_ms)
        snprintf(delay, sizeof delay, "%u ms", f->delay_min_ms);
    else
        snprintf(delay, sizeof delay, "%u-%u ms", f->delay_min_ms, f->delay_max_ms);
    printf("flagd: LOCAL %s (no delay)\n", d->listeners[FATE_LOCAL].url);
    printf("flagd: DELAY %s (delay %s)\n", d->listeners[FATE_DELAY].url, delay);
    char faults[96] = "";
    if (f->reset_rate > 0 || f->truncate_rate > 0 || f->stall_rate > 0)
        snprintf(faults, sizeof faults, ", reset %g, truncate %g, stall %g", f->reset_rate,
                 f->truncate_rate, f->stall_rate);
    printf("flagd: ERROR %s (error rate %g%s, half delayed, seed %llu)\n",
           d->listeners[FATE_ERROR].url, f->error_rate, faults, (unsigned long long)f->seed);
    fflush(stdout);
}

/* ---- run -------------------------------------------------------------------------- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct flagd *d = arg;
    event_base_loopexit(d->base, NULL);
}

static void on_store_warning(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "flagd: %s\n", msg);
}

/* Every delayed request is one open socket: 10,000 of them need more than the usual
 * soft limit of 1024 descriptors. Best effort: the hard limit is what we may have. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* --plan: the ERROR listener's fate for every code of the root, one "CC STATUS DELAY_MS"
 * line each in code order, so tests can predict a run's counts exactly. A fault adds a
 * fourth word (reset, truncate, stall); a reset's STATUS is 0, as none is ever sent. */
static int print_plan(const struct options *o)
{
    struct store_options so = {.root = o->root, .warn = on_store_warning};
    struct store *s;
    char err[ERR_MAX];
    if (store_open(&s, &so, err, sizeof err) != 0) {
        fprintf(stderr, "flagd: %s\n", err);
        return EXIT_FAIL;
    }
    for (int i = 0; i < STORE_CODES; i++) {
        char cc[3] = {(char)('a' + i / 26), (char)('a' + i % 26), '\0'};
        if (!store_get(s, cc))
            continue;
        struct fate f = fate_of(&o->fate, FATE_ERROR, cc);
        int status = f.fault == FATE_FAULT_RESET ? 0 : f.status; /* no status line */
        printf("%c%c %d %u%s%s\n", cc[0] - 'a' + 'A', cc[1] - 'a' + 'A', status, f.delay_ms,
               f.fault ? " " : "", f.fault ? fate_fault_name(f.fault) : "");
    }
    store_close(s);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* --site-plan: the site as the ERROR listener answers it, one "PATH DEPTH STATUS" line per
 * page in page order, then one per 404 link (as GET /site/manifest.json on ERROR). */
static int print_site_plan(const struct options *o)
{
    char path[SITE_PATH_MAX];
    for (uint32_t i = 0; i < o->site.pages; i++) {
        site_path(&o->site, i, path, sizeof path);
        int status = i == 0 ? 200 : fate_of_page(&o->fate, FATE_ERROR, i).status;
        printf("%s %u %d\n", path, site_depth(&o->site, i), status);
    }
    for (uint32_t i = 0; i < o->site.pages; i++)
        if (site_broken_link(&o->site, i, path, sizeof path))
            printf("%s %u 404\n", path, site_depth(&o->site, i) + 1);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* Load the flags, open the three listeners and the signal events. */
static int flagd_init(struct flagd *d, const struct options *o, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->fate = o->fate;
    d->site = o->site;
    struct store_options so = {.root = o->root, .iso_path = o->iso_path, .warn = on_store_warning};
    if (store_open(&d->store, &so, err, errlen) != 0)
        return -1;
    /* evhttp turns a connection's read and write events off and on around every request;
     * the changelist merges those into one epoll_ctl per fd per loop turn instead of ~4 per
     * request (flagd never dup()s a socket, the changelist's one caveat). */
    struct event_config *ec = event_config_new();
    if (ec) {
        event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        d->base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    if (!d->base) {
        snprintf(err, errlen, "cannot create an event loop");
        return -1;
    }
    for (int i = 0; i < FATE_LISTENERS; i++) {
        struct listener *ls = &d->listeners[i];
        ls->id = (enum fate_listener)i;
        ls->d = d;
        unsigned port = o->port ? o->port + (unsigned)i : 0;
        if (listener_open(d, ls, o, port, err, errlen) != 0)
            return -1;
    }
    const int sigs[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        d->signals[i] = evsignal_new(d->base, sigs[i], on_signal, d);
        if (!d->signals[i] || evsignal_add(d->signals[i], NULL) != 0) {
            snprintf(err, errlen, "cannot watch signal %d", sigs[i]);
            return -1;
        }
    }
    return 0;
}

/* Free everything flagd_init made, also after a partial init. Pending responses first:
 * their requests belong to connections evhttp_free is about to close. */
static void flagd_free(struct flagd *d)
{
    while (d->pending) {
        struct pending *p = d->pending;
        evhttp_connection_set_closecb(evhttp_request_get_connection(p->req), NULL, NULL);
        pending_unlink_free(p);
    }
    for (int i = 0; i < FATE_LISTENERS; i++) {
        if (d->listeners[i].resume)
            event_free(d->listeners[i].resume);
        if (d->listeners[i].http)
            evhttp_free(d->listeners[i].http);
    }
    for (int i = 0; i < 2; i++)
        if (d->signals[i])
            event_free(d->signals[i]);
    if (d->base)
        event_base_free(d->base);
    store_close(d->store);
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.plan)
        return print_plan(&o);
    if (o.site_plan)
        return print_site_plan(&o);

    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-answer is evhttp's error, not our death */

    struct flagd d;
    char err[ERR_MAX];
    flagd_self = &d;
    if (flagd_init(&d, &o, err, sizeof err) != 0) {
        fprintf(stderr, "flagd: %s\n", err);
        flagd_free(&d);
        libevent_global_shutdown();
        return EXIT_FAIL;
    }
    announce(&d);
    rc = event_base_dispatch(d.base) == 0 ? EXIT_OK : EXIT_FAIL;
    flagd_free(&d);
    flagd_self = NULL;
    libevent_global_shutdown(); /* so valgrind sees no libevent globals left */
    return rc;
}
