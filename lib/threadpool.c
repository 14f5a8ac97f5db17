/* threadpool — pthread workers, a bounded job queue and an eventfd-signalled completion
 * queue; and tpool_run_jobs, the thread-pool strategy built on them. */
#include "threadpool.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "stop.h"

struct tpool {
    pthread_mutex_t lock;
    pthread_cond_t work_cv;  /* workers: an item was queued, or shutdown */
    pthread_cond_t ready_cv; /* tpool_create: a worker finished thread_init */
    struct tpool_work *queue_head, *queue_tail;
    size_t queued, capacity;
    struct tpool_work *done_head, *done_tail;
    size_t pending; /* submitted, not yet handed back (consumer's count) */
    int shutdown;   /* workers leave once the queue is empty */
    int efd;        /* eventfd: nonzero exactly while done list is non-empty */
    struct tpool_config cfg;
    pthread_t *threads;
    unsigned started; /* threads created (to join) */
    unsigned ready;   /* threads past thread_init */
    int init_failed;
    char init_err[TPOOL_ERR_MAX];
};

/* Append to the completion list; called with the lock held. Raising the eventfd under the
 * lock keeps its counter and the list in step, so a level-triggered watcher never sees a
 * readable fd with nothing to pop, nor misses an item. */
static void done_push_locked(struct tpool *p, struct tpool_work *item)
{
    item->next_ = NULL;
    if (p->done_tail) {
        p->done_tail->next_ = item;
    } else {
        p->done_head = item;
        uint64_t one = 1;
        ssize_t n = write(p->efd, &one, sizeof one);
        (void)n; /* cannot fail: the counter is 0 here, far from overflow */
    }
    p->done_tail = item;
}

static void *worker_main(void *arg)
{
    struct tpool *p = arg;
    void *state = NULL;
    char err[TPOOL_ERR_MAX] = "";
    int rc = p->cfg.thread_init ? p->cfg.thread_init(p->cfg.arg, &state, err, sizeof err) : 0;

    pthread_mutex_lock(&p->lock);
    if (rc != 0 && !p->init_failed) {
        p->init_failed = 1;
        snprintf(p->init_err, sizeof p->init_err, "%s", err[0] ? err : "worker setup failed");
    }
    p->ready++;
    pthread_cond_signal(&p->ready_cv);
    if (rc != 0) {
        pthread_mutex_unlock(&p->lock);
        return NULL;
    }
    for (;;) {
        while (!p->queue_head && !p->shutdown)
            pthread_cond_wait(&p->work_cv, &p->lock);
        struct tpool_work *item = p->queue_head;
        if (!item)
            break; /* shutdown and nothing queued */
        p->queue_head = item->next_;
        if (!p->queue_head)
            p->queue_tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);

        item->fn(item, state);

        pthread_mutex_lock(&p->lock);
        done_push_locked(p, item);
    }
    pthread_mutex_unlock(&p->lock);
    if (p->cfg.thread_fini)
        p->cfg.thread_fini(p->cfg.arg, state);
    return NULL;
}

/* Stop and join every started worker; the pool's memory stays for the caller to free. */
static void join_all(struct tpool *p)
{
    pthread_mutex_lock(&p->lock);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    p->started = 0;
}

static void free_pool(struct tpool *p)
{
    pthread_cond_destroy(&p->ready_cv);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->lock);
    if (p->efd >= 0)
        close(p->efd);
    free(p->threads);
    free(p);
}

int tpool_create(struct tpool **out, const struct tpool_config *cfg, char *err, size_t errlen)
{
    *out = NULL;
    if (cfg->threads < 1 || cfg->threads > TPOOL_MAX_THREADS) {
        snprintf(err, errlen, "bad number of threads: %u (want 1 to %u)", cfg->threads,
                 TPOOL_MAX_THREADS);
        return -EINVAL;
    }
    struct tpool *p = calloc(1, sizeof *p);
    if (!p || !(p->threads = calloc(cfg->threads, sizeof *p->threads))) {
        free(p);
        snprintf(err, errlen, "out of memory for %u threads", cfg->threads);
        return -ENOMEM;
    }
    p->cfg = *cfg;
    p->capacity = cfg->queue_capacity ? cfg->queue_capacity : cfg->threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->ready_cv, NULL);
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot create an eventfd: %s", strerror(e));
        free_pool(p);
        return -e;
    }

    size_t stack = cfg->stack_bytes ? cfg->stack_bytes : TPOOL_STACK_BYTES;
    if (stack < (size_t)PTHREAD_STACK_MIN)
        stack = (size_t)PTHREAD_STACK_MIN;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack);
    /* Workers inherit a full signal mask: SIGINT/SIGTERM then land on the consumer thread,
     * whose poll() in tpool_wait returns EINTR. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    for (unsigned i = 0; i < cfg->threads; i++) {
        rc = pthread_create(&p->threads[i], &attr, worker_main, p);
        if (rc != 0)
            break;
        p->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        unsigned failed = p->started + 1; /* before join_all, which zeroes the count */
        join_all(p);
        snprintf(err, errlen, "cannot start thread %u of %u: %s", failed, cfg->threads,
                 strerror(rc));
        free_pool(p);
        return -rc;
    }

    pthread_mutex_lock(&p->lock);
    while (p->ready < p->started)
        pthread_cond_wait(&p->ready_cv, &p->lock);
    int failed = p->init_failed;
    pthread_mutex_unlock(&p->lock);
    if (failed) {
        join_all(p);
        snprintf(err, errlen, "%s", p->init_err);
        free_pool(p);
        return -EIO;
    }
    *out = p;
    return 0;
}

int tpool_submit(struct tpool *p, struct tpool_work *item)
{
    pthread_mutex_lock(&p->lock);
    if (p->shutdown) {
        pthread_mutex_unlock(&p->lock);
        return -EPIPE;
    }
    if (p->queued >= p->capacity) {
        pthread_mutex_unlock(&p->lock);
        return -EAGAIN;
    }
    item->cancelled = 0;
    item->next_ = NULL;
    if (p->queue_tail)
        p->queue_tail->next_ = item;
    else
        p->queue_head = item;
    p->queue_tail = item;
    p->queued++;
    p->pending++;
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

int tpool_pop(struct tpool *p, struct tpool_work **item)
{
    pthread_mutex_lock(&p->lock);
    struct tpool_work *it = p->done_head;
    if (!it) {
        pthread_mutex_unlock(&p->lock);
        return -EAGAIN;
    }
    p->done_head = it->next_;
    if (!p->done_head) {
        p->done_tail = NULL;
        uint64_t n;
        ssize_t r = read(p->efd, &n, sizeof n); /* list empty: reset the counter to 0 */
        (void)r;
    }
    p->pending--;
    pthread_mutex_unlock(&p->lock);
    it->next_ = NULL;
    *item = it;
    return 0;
}

int tpool_wait_sigmask(struct tpool *p, struct tpool_work **item, const sigset_t *sigmask)
{
    for (;;) {
        if (tpool_pop(p, item) == 0)
            return 0;
        if (p->pending == 0)
            return -EAGAIN;
        struct pollfd pfd = {.fd = p->efd, .events = POLLIN};
        if (ppoll(&pfd, 1, NULL, sigmask) < 0 && errno == EINTR)
            return -EINTR;
    }
}

int tpool_wait(struct tpool *p, struct tpool_work **item)
{
    return tpool_wait_sigmask(p, item, NULL);
}

int tpool_notify_fd(const struct tpool *p)
{
    return p->efd;
}

size_t tpool_pending(const struct tpool *p)
{
    return p->pending;
}

size_t tpool_cancel(struct tpool *p)
{
    size_t n = 0;
    pthread_mutex_lock(&p->lock);
    struct tpool_work *it = p->queue_head;
    p->queue_head = p->queue_tail = NULL;
    p->queued = 0;
    while (it) {
        struct tpool_work *next = it->next_;
        it->cancelled = 1;
        done_push_locked(p, it);
        it = next;
        n++;
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

void tpool_destroy(struct tpool *p)
{
    if (!p)
        return;
    tpool_cancel(p);
    join_all(p);
    free_pool(p);
}

/* --- the strategy: a whole run_request over a pool ------------------------------------ */

/* One job in flight: the item, the job it runs and where its result goes. Reused. */
struct run_slot {
    struct tpool_work work;
    const struct workload *w;
    size_t index;
    struct job_result result;
    struct run_slot *next_free;
};

static int run_thread_init(void *arg, void **state, char *err, size_t errlen)
{
    const struct workload *w = arg;
    return w->worker_init(w, state, err, errlen);
}

static void run_thread_fini(void *arg, void *state)
{
    const struct workload *w = arg;
    w->worker_fini(w, state);
}

void tpool_config_workload(struct tpool_config *cfg, const struct workload *w)
{
    cfg->thread_init = run_thread_init;
    cfg->thread_fini = run_thread_fini;
    cfg->arg = (void *)w;
}

static void run_one(struct tpool_work *item, void *state)
{
    struct run_slot *s = item->arg;
    s->w->job_run(s->w, state, s->index, &s->result);
}

int tpool_run_jobs(const struct run_request *req, char *err, size_t errlen)
{
    const struct workload *w = req->workload;
    unsigned threads = req->workers ? req->workers : 1;
    /* as many slots as jobs can be running plus queued: the queue never runs dry while
     * results wait to be collected, and memory stays O(workers), not O(jobs) */
    size_t capacity = threads;
    size_t n_slots = threads + capacity;
    if (n_slots > w->n_jobs) /* with a source, n_jobs is their most */
        n_slots = w->n_jobs ? w->n_jobs : 1;
    struct run_slot *slots = calloc(n_slots, sizeof *slots);
    if (!slots) {
        snprintf(err, errlen, "out of memory for %zu jobs in flight", n_slots);
        return -ENOMEM;
    }
    struct run_slot *free_list = NULL;
    for (size_t i = n_slots; i-- > 0;) {
        slots[i].work.fn = run_one;
        slots[i].work.arg = &slots[i];
        slots[i].w = w;
        slots[i].next_free = free_list;
        free_list = &slots[i];
    }

    struct tpool *p;
    struct tpool_config cfg = {.threads = threads, .queue_capacity = capacity};
    tpool_config_workload(&cfg, w);
    int rc = tpool_create(&p, &cfg, err, errlen);
    if (rc != 0) {
        free(slots);
        return rc;
    }

    /* SIGINT/SIGTERM/SIGHUP only inside ppoll, so a stop is never noticed one job late */
    sigset_t stop_sigs, old_mask;
    stop_sigset(&stop_sigs);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, &old_mask);
    size_t next = 0;
    int cancelled = 0;
    for (;;) {
        if (stop_requested() && !cancelled) {
            tpool_cancel(p); /* hand out nothing more; running jobs end on their own */
            cancelled = 1;
        }
        /* With a source, collect below may have added jobs: they go out here, and the run
         * ends when the frontier is empty and nothing is pending (no worker is busy). */
        while (!cancelled && next < job_source_known(req) && free_list) {
            struct run_slot *s = free_list;
            s->index = next;
            if (tpool_submit(p, &s->work) != 0)
                break; /* queue full: collect first */
            free_list = s->next_free;
            next++;
        }
        struct tpool_work *item;
        rc = tpool_wait_sigmask(p, &item, &old_mask);
        if (rc == -EINTR)
            continue;
        if (rc != 0)
            break; /* nothing pending: every job came back */
        struct run_slot *s = item->arg;
        if (!item->cancelled)
            req->collect(req->collect_arg, &s->result);
        s->next_free = free_list;
        free_list = s;
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    tpool_destroy(p);
    free(slots);
    return 0;
}
