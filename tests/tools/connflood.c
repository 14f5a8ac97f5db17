/* connflood — a load-test helper for flagd's bats tests: holds N connections to a port on
 * 127.0.0.1, idle or trickling a request head one byte a second (slowloris), and reports
 * how many the server closed. Loopback only, bounded in count and time. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#define LOOPBACK "127.0.0.1" /* the only address this tool ever connects to */
#define MAX_CONNS 20000
#define MAX_SECONDS 120
#define DEFAULT_SECONDS 10
#define CONNECT_TIMEOUT_MS 20000 /* all N connected by then, or exit 1 */
#define TICK_MS 1000             /* slow mode: one byte per connection per tick */
#define EVENTS_MAX 1024          /* per epoll_wait */
#define READ_BUF_BYTES 4096
#define FD_MARGIN 64 /* descriptors besides the connections */

/* The head a slow connection trickles: never finished, the X-Slow value just grows (at one
 * byte a second it stays far below flagd's 8 KiB limit for MAX_SECONDS). */
static const char slow_head[] = "GET /flags/br/br.gif HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
#define SLOW_FILL 'a'

enum exit_code { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct conn {
    int fd;      /* -1 once closed */
    size_t sent; /* slow mode: bytes of the head sent so far */
    bool connected;
    bool answered; /* the server sent bytes (an error reply) */
};

struct flood {
    struct conn *conns;
    int n;
    int epfd;
    int connected;
    int closed; /* by the server: EOF, reset or a failed send */
    int answered;
    int first_errno; /* of the first failed connect */
};

/* Set by SIGINT/SIGTERM: end the hold early and report. The tool's only global. */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: connflood --port P [--conns N] [--seconds S] [--slow]\n"
            "Opens N (default 1, at most %d) connections to %s:P, prints 'connflood: N\n"
            "connected', holds them S seconds (default %d, at most %d) or until SIGTERM, idle\n"
            "or (--slow) sending a request head one byte a second each, then prints\n"
            "'connflood: H held, C closed by the server, A answered' and resets them all.\n"
            "Exit 0, 1 when not all could connect, 2 on bad usage.\n",
            MAX_CONNS, LOOPBACK, DEFAULT_SECONDS, MAX_SECONDS);
}

static bool parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* Close c with a reset (SO_LINGER 0): no TIME_WAIT left behind for each of thousands. */
static void conn_reset(struct conn *c)
{
    if (c->fd < 0)
        return;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c->fd);
    c->fd = -1;
}

static void conn_lost(struct flood *f, struct conn *c)
{
    f->closed++;
    conn_reset(c);
}

/* Start every connect; wait until all are connected or CONNECT_TIMEOUT_MS passed. */
static int flood_connect(struct flood *f, unsigned port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, LOOPBACK, &sa.sin_addr);
    int pending = 0;
    for (int i = 0; i < f->n; i++) {
        struct conn *c = &f->conns[i];
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
            fprintf(stderr, "connflood: socket %d: %s\n", i + 1, strerror(errno));
            return -1;
        }
        struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
        int rc = connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
        if (rc != 0 && errno != EINPROGRESS) {
            if (!f->first_errno)
                f->first_errno = errno;
            conn_reset(c);
            continue;
        }
        if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            fprintf(stderr, "connflood: epoll_ctl: %s\n", strerror(errno));
            return -1;
        }
        pending++;
    }
    struct epoll_event evs[EVENTS_MAX];
    long long deadline = now_ms() + CONNECT_TIMEOUT_MS;
    while (pending > 0 && !stop_requested) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        int k = epoll_wait(f->epfd, evs, EVENTS_MAX, (int)left);
        for (int j = 0; j < k; j++) {
            struct conn *c = &f->conns[evs[j].data.u32];
            if (c->connected || c->fd < 0)
                continue;
            pending--;
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
            if (err) {
                if (!f->first_errno)
                    f->first_errno = err;
                conn_reset(c);
                continue;
            }
            c->connected = true;
            f->connected++;
            /* From now on: notice the server closing or answering. */
            struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = evs[j].data.u32};
            epoll_ctl(f->epfd, EPOLL_CTL_MOD, c->fd, &ev);
        }
    }
    return 0;
}

/* Read what the server sent on c: an answer is noted, EOF or an error is a close. */
static void conn_readable(struct flood *f, struct conn *c)
{
    char buf[READ_BUF_BYTES];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0) {
            if (!c->answered) {
                c->answered = true;
                f->answered++;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        conn_lost(f, c);
        return;
    }
}

/* Slow mode: the next byte of the head on every open connection. */
static void flood_trickle(struct flood *f)
{
    for (int i = 0; i < f->n; i++) {
        struct conn *c = &f->conns[i];
        if (c->fd < 0)
            continue;
        char b = c->sent < sizeof slow_head - 1 ? slow_head[c->sent] : SLOW_FILL;
        ssize_t n = send(c->fd, &b, 1, MSG_NOSIGNAL);
        if (n == 1)
            c->sent++;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            conn_lost(f, c);
    }
}

/* Hold the connections until seconds pass or a signal asks to stop. */
static void flood_hold(struct flood *f, int seconds, bool slow)
{
    struct epoll_event evs[EVENTS_MAX];
    long long end = now_ms() + (long long)seconds * 1000;
    long long next_tick = now_ms();
    while (!stop_requested) {
        long long t = now_ms();
        if (t >= end)
            break;
        if (slow && t >= next_tick) {
            flood_trickle(f);
            next_tick = t + TICK_MS;
        }
        long long wait = (slow ? next_tick : end) - t;
        if (wait > end - t)
            wait = end - t;
        int k = epoll_wait(f->epfd, evs, EVENTS_MAX, (int)(wait > 0 ? wait : 0));
        for (int j = 0; j < k; j++) {
            struct conn *c = &f->conns[evs[j].data.u32];
            if (c->fd >= 0)
                conn_readable(f, c);
        }
    }
}

/* Every connection is a descriptor here: take the hard limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},    {"conns", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 's'}, {"slow", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int port = 0, n = 1, seconds = DEFAULT_SECONDS, c;
    bool slow = false;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'p': ok = parse_int(optarg, 1, 65535, &port); break;
        case 'n': ok = parse_int(optarg, 1, MAX_CONNS, &n); break;
        case 's': ok = parse_int(optarg, 1, MAX_SECONDS, &seconds); break;
        case 'S': slow = true; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: ok = false; break;
        }
        if (!ok) {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!port || optind < argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    raise_fd_limit();
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + FD_MARGIN) {
        fprintf(stderr, "connflood: %d connections need %d descriptors; the limit is %llu\n", n,
                n + FD_MARGIN, (unsigned long long)rl.rlim_cur);
        return EXIT_FAIL;
    }
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct flood f = {.n = n, .epfd = epoll_create1(EPOLL_CLOEXEC)};
    f.conns = calloc((size_t)n, sizeof *f.conns);
    if (f.epfd < 0 || !f.conns) {
        fprintf(stderr, "connflood: out of resources\n");
        return EXIT_FAIL;
    }
    for (int i = 0; i < n; i++)
        f.conns[i].fd = -1;
    int rc = EXIT_OK;
    if (flood_connect(&f, (unsigned)port) != 0) {
        rc = EXIT_FAIL;
    } else if (f.connected < n) {
        fprintf(stderr, "connflood: %d of %d connected: %s\n", f.connected, n,
                f.first_errno ? strerror(f.first_errno) : "timed out");
        rc = EXIT_FAIL;
    } else {
        printf("connflood: %d connected\n", f.connected);
        fflush(stdout);
        flood_hold(&f, seconds, slow);
        printf("connflood: %d held, %d closed by the server, %d answered\n", f.connected - f.closed,
               f.closed, f.answered);
    }
    for (int i = 0; i < n; i++)
        conn_reset(&f.conns[i]);
    free(f.conns);
    close(f.epfd);
    return rc;
}
