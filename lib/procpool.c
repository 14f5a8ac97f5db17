/* procpool — pre-forked workers over SOCK_SEQPACKET socketpairs, a poll(2) loop in the
 * parent, crash detection and respawn. See procpool.h for the protocol and the choices. */
#include "procpool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stop.h"

_Static_assert(sizeof(struct job_result) < 4096, "a result must be one small SEQPACKET message");

/* A job's output (job.h: a crawl's links) follows its result in messages of at most this
 * size: an AF_UNIX SEQPACKET message must fit the socket's send buffer whole (about 208 KiB
 * by default, less when wmem is tuned down), so a page's links go in bounded chunks. */
#define PROCPOOL_CHUNK_BYTES (16 * 1024)
#define PROCPOOL_OUTPUT_MAX (64u * 1024 * 1024) /* more from a worker is garbage */
#define PROCPOOL_OUTPUT_WAIT_MS \
    5000 /* a worker sends its output right after its result:
                                      * one stopped halfway (SIGSTOP) must not hang us */

struct worker {
    pid_t pid;  /* 0: slot empty (never started, or dead and reaped) */
    int fd;     /* parent's end of the socketpair */
    bool busy;  /* holds job `job` */
    bool shut;  /* parent already shut its sending side */
    bool stuck; /* missed its job's deadline: killed, its job an error */
    size_t job;
    int64_t deadline_ms; /* when a busy worker's job must have ended; 0 = never */
};

struct pool {
    const struct run_request *req;
    const struct procpool_options *opt;
    struct worker *w;
    unsigned n; /* worker slots */
    unsigned alive;
    size_t next;          /* next job to hand out */
    size_t respawns_left; /* a crash loop cannot fork forever */
    bool stopping;        /* SIGTERM sent, no more jobs */
    bool init_failed;
    char init_err[JOB_REASON_MAX];
    sigset_t run_mask; /* the caller's signal mask: ppoll's, and the workers' */
};

/* --- the worker side ----------------------------------------------------------------- */

static void send_all(int fd, const void *buf, size_t len)
{
    /* SEQPACKET: one message, whole or not at all; retry only on EINTR */
    while (send(fd, buf, len, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/* Send a job's output after its result, in chunks; 0, or -1 when the parent is gone. */
static int send_output(int fd, const struct job_result *r)
{
    const char *p = r->output;
    size_t left = r->output_len;
    while (left > 0) {
        size_t n = left < PROCPOOL_CHUNK_BYTES ? left : PROCPOOL_CHUNK_BYTES;
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k != (ssize_t)n)
            return -1;
        p += n;
        left -= n;
    }
    return 0;
}

__attribute__((noreturn)) static void worker_main(const struct workload *wl, int fd, pid_t parent,
                                                  bool outputs)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(0); /* the parent died before prctl */

    void *state = NULL;
    struct job_result r;
    char err[JOB_REASON_MAX] = "";
    if (wl->worker_init(wl, &state, err, sizeof err) != 0) {
        memset(&r, 0, sizeof r);
        r.index = PROCPOOL_INIT_FAILED;
        r.outcome = JOB_ERROR;
        snprintf(r.reason, sizeof r.reason, "%s", err[0] ? err : "worker setup failed");
        send_all(fd, &r, sizeof r);
        _exit(1);
    }
    while (!stop_requested()) {
        uint32_t index;
        ssize_t n = recv(fd, &index, sizeof index, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof index)
            break; /* EOF: no more jobs (or the parent is gone) */
        wl->job_run(wl, state, index, &r);
        r.index = index;
        if (!outputs) {
            r.output = NULL; /* no source: nobody reads one */
            r.output_len = 0;
        }
        void *output = r.output;
        bool sent = !(send(fd, &r, sizeof r, MSG_NOSIGNAL) < 0 && errno != EINTR) &&
                    send_output(fd, &r) == 0;
        free(output);
        if (!sent)
            break;
    }
    wl->worker_fini(wl, state);
    /* _exit: the parent's stdio buffers and atexit handlers are not ours to run */
    _exit(0);
}

/* --- the parent side ----------------------------------------------------------------- */

/* Start a worker in slot i. 0, or a negative errno with a message in err. */
static int spawn(struct pool *p, unsigned i, char *err, size_t errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot create a socketpair: %s", strerror(e));
        return -e;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Ctrl-C goes to the whole process group: let the parent decide. Ignored before the
         * mask opens, so a SIGINT pending since the fork is discarded, not taken by the
         * inherited stop handler. SIGTERM keeps that handler: a job in progress ends
         * cleanly instead of leaving a temporary file behind. */
        signal(SIGINT, SIG_IGN);
        sigprocmask(SIG_SETMASK, &p->run_mask, NULL); /* the mask from before procpool_run */
    }
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        snprintf(err, errlen, "cannot fork worker %u: %s", i + 1, strerror(e));
        return -e;
    }
    if (pid == 0) {
        /* keep only our own end: a sibling holding a copy of another worker's socket
         * would hide that worker's death from the parent */
        close(sv[0]);
        for (unsigned k = 0; k < p->n; k++)
            if (p->w[k].pid > 0)
                close(p->w[k].fd);
        worker_main(p->req->workload, sv[1], parent, p->req->source != NULL);
    }
    close(sv[1]);
    p->w[i] = (struct worker){.pid = pid, .fd = sv[0]};
    p->alive++;
    if (p->opt && p->opt->on_start)
        p->opt->on_start(p->opt->on_start_arg, pid);
    return 0;
}

static void describe_status(char *buf, size_t len, pid_t pid, int status)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "worker %ld killed by signal %d", (long)pid, WTERMSIG(status));
    else if (WIFEXITED(status))
        snprintf(buf, len, "worker %ld exited with status %d", (long)pid, WEXITSTATUS(status));
    else
        snprintf(buf, len, "worker %ld ended (wait status %#x)", (long)pid, (unsigned)status);
}

static void collect_error(struct pool *p, size_t job, const char *reason)
{
    struct job_result r;
    memset(&r, 0, sizeof r);
    r.index = (uint32_t)job;
    r.outcome = JOB_ERROR;
    snprintf(r.reason, sizeof r.reason, "%s", reason);
    p->req->collect(p->req->collect_arg, &r);
}

static bool any_busy(const struct pool *p);

/* Worker i's socket reached EOF (or failed): reap it, turn its job into an error and
 * replace it while there is work left. */
static void bury(struct pool *p, unsigned i)
{
    struct worker *w = &p->w[i];
    close(w->fd);
    int status = 0;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ; /* the socket is closed on exit, so the process is (nearly) a zombie already */
    pid_t pid = w->pid;
    bool busy = w->busy, stuck = w->stuck;
    size_t job = w->job;
    *w = (struct worker){.fd = -1};
    p->alive--;
    /* Stopping, a worker may end cleanly before reading the job it was sent: that job never
     * ran, like the sequential driver's next one. Anything else is a lost job. */
    bool never_ran = p->stopping && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (busy && !never_ran) {
        char reason[JOB_REASON_MAX];
        if (stuck)
            snprintf(reason, sizeof reason, "worker stopped responding");
        else
            describe_status(reason, sizeof reason, pid, status);
        collect_error(p, job, reason);
    }
    /* with a source, a busy worker may still add jobs: keep the pool's size */
    if (p->stopping || p->init_failed ||
        (p->next >= job_source_known(p->req) && (!p->req->source || !any_busy(p))))
        return;
    char err[JOB_REASON_MAX - 32]; /* room for the "no worker left: " prefix */
    if (p->respawns_left > 0) {
        p->respawns_left--;
        if (spawn(p, i, err, sizeof err) == 0)
            return;
    } else {
        snprintf(err, sizeof err, "too many workers died");
    }
    if (p->alive == 0) {
        /* nobody left to run the rest: each remaining job is an error, with the cause */
        char reason[JOB_REASON_MAX];
        snprintf(reason, sizeof reason, "no worker left: %s", err);
        for (; p->next < job_source_known(p->req); p->next++)
            collect_error(p, p->next, reason);
    }
}

/* The chunks of r's output, which follow its result on fd: into r->output (malloc'ed, for
 * collect to free). The worker sends them at once, so this waits only for bytes already on
 * their way, at most PROCPOOL_OUTPUT_WAIT_MS for each chunk. 0, or -1 (a worker that died
 * or stopped halfway, or sent what no job writes). */
static int recv_output(int fd, struct job_result *r)
{
    if (r->output_len > PROCPOOL_OUTPUT_MAX)
        return -1;
    char *buf = malloc(r->output_len);
    if (!buf)
        return -1;
    size_t got = 0;
    while (got < r->output_len) {
        size_t want = r->output_len - got;
        if (want > PROCPOOL_CHUNK_BYTES)
            want = PROCPOOL_CHUNK_BYTES;
        /* MSG_TRUNC: a message longer than want is cut, never written past buf, and its
         * real length returned, so that it is seen as the garbage it is */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, PROCPOOL_OUTPUT_WAIT_MS);
        if (ready < 0 && errno == EINTR)
            continue;
        ssize_t k = ready > 0 ? recv(fd, buf + got, want, MSG_TRUNC | MSG_DONTWAIT) : -1;
        if (k < 0 && (errno == EINTR || errno == EAGAIN) && ready > 0)
            continue;
        if (k <= 0 || (size_t)k > want) {
            free(buf);
            return -1;
        }
        got += (size_t)k;
    }
    r->output = buf;
    return 0;
}

/* A message (or EOF) from worker i. */
static void on_readable(struct pool *p, unsigned i)
{
    struct worker *w = &p->w[i];
    struct job_result r;
    ssize_t n = recv(w->fd, &r, sizeof r, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n == (ssize_t)sizeof r && r.index == PROCPOOL_INIT_FAILED) {
        if (!p->init_failed)
            snprintf(p->init_err, sizeof p->init_err, "%s", r.reason);
        p->init_failed = true;
        return; /* the worker exits; its EOF comes next */
    }
    if (n == (ssize_t)sizeof r && w->busy && r.index == w->job && !w->stuck) {
        r.output = NULL;
        if (p->req->source && r.output_len > 0 && recv_output(w->fd, &r) != 0) {
            kill(w->pid, SIGKILL); /* cut short or garbage: the job is lost with it */
            bury(p, i);
            return;
        }
        if (!p->req->source)
            r.output_len = 0;
        w->busy = false;
        p->req->collect(p->req->collect_arg, &r);
        return;
    }
    if (n > 0)
        kill(w->pid, SIGKILL); /* garbage on the wire: this worker cannot be trusted */
    bury(p, i);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Give every idle worker its next job. */
static void hand_out(struct pool *p)
{
    size_t n_jobs = job_source_known(p->req);
    for (unsigned i = 0; i < p->n && p->next < n_jobs; i++) {
        struct worker *w = &p->w[i];
        if (w->pid <= 0 || w->busy || w->shut)
            continue;
        uint32_t index = (uint32_t)p->next;
        if (send(w->fd, &index, sizeof index, MSG_NOSIGNAL) != (ssize_t)sizeof index)
            continue; /* dying: its EOF will be seen by poll; the job stays unassigned */
        w->busy = true;
        w->job = p->next++;
        unsigned bound = p->req->workload->job_timeout_ms;
        w->deadline_ms = bound ? now_ms() + 2 * (int64_t)bound + PROCPOOL_STUCK_MARGIN_MS : 0;
    }
}

/* Kill every busy worker past its job's deadline (stopped by SIGSTOP, or hung): SIGKILL
 * ends even a stopped process; its EOF then makes the job an error in bury. Returns the
 * earliest deadline still ahead, or 0 when none. */
static int64_t kill_stuck(struct pool *p)
{
    int64_t now = now_ms(), next = 0;
    for (unsigned i = 0; i < p->n; i++) {
        struct worker *w = &p->w[i];
        if (w->pid <= 0 || !w->busy || !w->deadline_ms || w->stuck)
            continue;
        if (now >= w->deadline_ms) {
            kill(w->pid, SIGKILL);
            w->stuck = true;
        } else if (!next || w->deadline_ms < next) {
            next = w->deadline_ms;
        }
    }
    return next;
}

/* Whether any worker still holds a job. */
static bool any_busy(const struct pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid > 0 && p->w[i].busy)
            return true;
    return false;
}

/* No more jobs for anyone: shut the sending side so idle workers read EOF and exit. */
static void shut_all(struct pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid > 0 && !p->w[i].shut) {
            shutdown(p->w[i].fd, SHUT_WR);
            p->w[i].shut = true;
        }
}

static void signal_all(struct pool *p, int sig)
{
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid > 0)
            kill(p->w[i].pid, sig);
}

/* Begin the end: no new jobs, SIGTERM to everyone, SIGKILL after the grace period. */
static void begin_stop(struct pool *p, int64_t *deadline_ms)
{
    p->stopping = true;
    signal_all(p, SIGTERM);
    shut_all(p);
    *deadline_ms = now_ms() + PROCPOOL_GRACE_MS;
}

int procpool_run(const struct run_request *req, const struct procpool_options *opt, char *err,
                 size_t errlen)
{
    const struct workload *wl = req->workload;
    struct pool p = {
        .req = req, .opt = opt, .n = req->workers ? req->workers : 1, .respawns_left = wl->n_jobs};
    if (p.n > wl->n_jobs)
        p.n = wl->n_jobs ? (unsigned)wl->n_jobs : 1;
    p.w = calloc(p.n, sizeof *p.w);
    struct pollfd *pfd = calloc(p.n, sizeof *pfd);
    unsigned *slot_of = calloc(p.n, sizeof *slot_of);
    if (!p.w || !pfd || !slot_of) {
        free(p.w);
        free(pfd);
        free(slot_of);
        snprintf(err, errlen, "out of memory for %u workers", p.n);
        return -ENOMEM;
    }
    /* SIGINT/SIGTERM are let in only inside ppoll: one arriving between the look at
     * stop_requested() and the wait would otherwise go unnoticed while every worker waits
     * for us (pselect's raison d'être) */
    sigset_t stop_sigs;
    stop_sigset(&stop_sigs);
    sigprocmask(SIG_BLOCK, &stop_sigs, &p.run_mask);
    int rc = 0;
    for (unsigned i = 0; i < p.n; i++)
        p.w[i].fd = -1;
    for (unsigned i = 0; i < p.n && rc == 0; i++) {
        rc = spawn(&p, i, err, errlen);
        /* a job at once: the first workers run while the last are still being forked
         * (a fork costs about a millisecond here; 256 of them are noticeable) */
        if (rc == 0)
            hand_out(&p);
    }

    int64_t deadline_ms = 0, end_ms = 0;
    bool killed = false;
    if (rc != 0)
        begin_stop(&p, &deadline_ms); /* could not start them all: end those that did */
    while (p.alive > 0) {
        if (!p.stopping && (stop_requested() || p.init_failed))
            begin_stop(&p, &deadline_ms);
        if (!p.stopping) {
            hand_out(&p);
            /* the last jobs are out: idle workers may go; with a source, only once no
             * busy worker can bring more (the frontier, owned here, is then empty) */
            if (p.next >= job_source_known(req) && (!req->source || !any_busy(&p)))
                shut_all(&p);
        }
        unsigned n = 0;
        for (unsigned i = 0; i < p.n; i++)
            if (p.w[i].pid > 0) {
                pfd[n] = (struct pollfd){.fd = p.w[i].fd, .events = POLLIN};
                slot_of[n++] = i;
            }
        /* Every result in, yet a worker is left: it missed its EOF (stopped while idle).
         * It gets the same grace as a stop, then SIGKILL; it held no job. */
        if (!p.stopping && !end_ms && p.next >= job_source_known(req) && !any_busy(&p))
            end_ms = now_ms() + PROCPOOL_GRACE_MS;
        int64_t wake_ms = killed ? 0 : kill_stuck(&p);
        if (p.stopping && !killed && (!wake_ms || deadline_ms < wake_ms))
            wake_ms = deadline_ms;
        if (!p.stopping && end_ms && !killed && (!wake_ms || end_ms < wake_ms))
            wake_ms = end_ms;
        struct timespec ts, *timeout = NULL;
        if (wake_ms) {
            int64_t left = wake_ms - now_ms();
            if (left < 0)
                left = 0;
            ts = (struct timespec){.tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000};
            timeout = &ts;
        }
        int ready = ppoll(pfd, n, timeout, &p.run_mask);
        if (ready < 0) {
            if (errno == EINTR)
                continue; /* a signal: the top of the loop looks at stop_requested() */
            int e = errno;
            snprintf(err, errlen, "poll failed: %s", strerror(e));
            rc = -e;
            signal_all(&p, SIGKILL);
            killed = true;
            for (unsigned i = 0; i < p.n; i++)
                if (p.w[i].pid > 0)
                    bury(&p, i);
            break;
        }
        if (ready == 0) {
            int64_t now = now_ms();
            if ((p.stopping && now >= deadline_ms) || (!p.stopping && end_ms && now >= end_ms)) {
                signal_all(&p, SIGKILL); /* grace period over; their EOFs follow */
                killed = true;
            }
            continue; /* else a job's deadline: kill_stuck at the top */
        }
        for (unsigned k = 0; k < n; k++)
            if (pfd[k].revents)
                on_readable(&p, slot_of[k]);
    }
    if (rc == 0 && p.init_failed) {
        snprintf(err, errlen, "worker setup failed: %s", p.init_err);
        rc = -EIO;
    }
    sigprocmask(SIG_SETMASK, &p.run_mask, NULL);
    free(slot_of);
    free(pfd);
    free(p.w);
    return rc;
}
