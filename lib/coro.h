/* coro — stackful coroutines on one thread, what they wait on (futures, a FIFO semaphore, a
 * queue, another task's end) and how one task stops another (asyncio's Task, Future,
 * Semaphore and Queue, Task.cancel and await task, in C).
 *
 * A task is a function with its own small mmap'd stack. It runs until it awaits something
 * that is not done; the scheduler then runs the next ready task. Nothing here ever
 * switches on its own: coro_future_resolve(), coro_sem_release(), coro_queue_put() and
 * coro_cancel() only mark a task ready, and the owner of the loop resumes ready tasks with
 * coro_sched_run() at a moment of its choosing (for curl: after curl_multi_socket_action
 * has returned, never inside one of curl's callbacks). One scheduler per thread; nothing
 * here is thread-safe.
 *
 * Cancellation (asyncio's Task.cancel). coro_cancel(t) asks t to stop; t decides how. The
 * calls that can suspend a task are its *cancellation points*: coro_yield,
 * coro_await_cancellable, coro_sem_acquire, coro_queue_put/get/join and coro_join. If t is
 * suspended in one, it is woken and that call returns -ECANCELED, having taken nothing (no
 * permit, no item; an item it was putting is not queued). Otherwise (t is ready, running,
 * or in a call that is not a cancellation point) the request waits, and t's next
 * cancellation point returns -ECANCELED at once, without suspending, even if it could
 * have completed. Each request is delivered once: afterwards t's calls wait as usual, so
 * a cancelled task can still clean up, await a transfer's removal or join its own
 * children, and then return. coro_cancelled() stays true. Two requests before the first
 * is delivered are one. coro_await (no _cancellable) is not a cancellation point: the
 * request waits until after it (asyncio's shield), for awaits that must not be left early
 * (lib/loop.c's executor items, which a pool thread may still be writing).
 *
 * Lifetime. A task spawned with coro_spawn is *detached*: its record and stack are
 * recycled the moment it finishes, and its struct coro pointer dies with it. A task spawned
 * with coro_spawn_joinable returns a long and stays, finished, until one coro_join takes
 * its result and recycles it (or until coro_sched_destroy). */
#ifndef CONCBENCH_CORO_H
#define CONCBENCH_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 64 KiB: the deepest task path measured (a download: curl_multi_add_handle, jansson on
 * metadata, the atomic save with snprintf; or a SHA-256 job through OpenSSL's EVP) stays
 * under 16 KiB, see test_coro's high-water test. 4x headroom, and 10,000 tasks still
 * reserve only 640 MiB of address space, of which only the touched pages become RSS. */
#define CORO_DEFAULT_STACK_BYTES (64 * 1024)

struct coro;       /* a task; opaque */
struct coro_sched; /* the scheduler of one thread; opaque */

typedef void coro_fn(void *arg);        /* a detached task's body */
typedef long coro_result_fn(void *arg); /* a joinable task's body: returns its result */

/* How to build a scheduler. Zeroed fields take the defaults. */
struct coro_config {
    size_t stack_bytes; /* usable stack per task, rounded up to pages; 0 = default */
    bool paint_stacks;  /* fill each stack with a pattern when it is mapped, so that
                           * coro_stats() can report the deepest use (tests, tuning) */
};

struct coro_stats {
    size_t live;                   /* spawned and not finished */
    size_t ready;                  /* waiting to be resumed by coro_sched_run */
    size_t unjoined;               /* joinable tasks finished and not yet joined (their
                                  * stacks stay taken until then) */
    size_t stacks_mapped;          /* live + unjoined + free: the most tasks ever at once */
    size_t stacks_free;            /* finished tasks' stacks, kept for the next spawns */
    uint64_t spawned;              /* tasks ever spawned */
    uint64_t stacks_created;       /* stacks carved: spawned - stacks_created were reuses */
    uint64_t slabs_mapped;         /* mmap calls (one per CORO_SLAB_STACKS stacks) */
    uint64_t switches;             /* context switches into tasks */
    size_t stack_high_water_bytes; /* deepest use of any stack (paint_stacks only, else 0) */
};

/* Create a scheduler for the calling thread. Returns 0 and *out, or a negative errno with
 * a one-line message in err. */
int coro_sched_create(struct coro_sched **out, const struct coro_config *cfg, char *err,
                      size_t errlen) __attribute__((warn_unused_result));

/* Unmap every stack and free the scheduler. Every task must have finished
 * (a live task's stack cannot be unwound from outside); joinable tasks finished and never
 * joined are recycled here, their results dropped. NULL is a no-op. */
void coro_sched_destroy(struct coro_sched *s);

/* Create a task that will run fn(arg) on its own stack (a finished task's when there is
 * one: stacks are kept until coro_sched_destroy, so the most ever alive at once stay
 * mapped; each costs address space, and RSS only for the pages it touched). It is queued
 * as ready and first
 * runs at the next coro_sched_run (a task spawning a task does not switch). Returns 0 (and
 * *out when out is not NULL; the pointer is valid until the task finishes), or -ENOMEM
 * when no stack could be mapped. Callable from tasks and from the scheduler's thread. */
int coro_spawn(struct coro_sched *s, coro_fn *fn, void *arg, struct coro **out)
    __attribute__((warn_unused_result));

/* As coro_spawn, for a task whose result someone will await: fn's return value is kept,
 * and so are the task's record and stack after it finishes (a cancelled task's result is
 * whatever fn returned; by convention -ECANCELED), until coro_join(*out) takes them. Join
 * each such task once (or leave it to coro_sched_destroy). Returns 0 and *out (required;
 * valid until joined), or -ENOMEM. Callable from tasks and from the scheduler's thread. */
int coro_spawn_joinable(struct coro_sched *s, coro_result_fn *fn, void *arg, struct coro **out)
    __attribute__((warn_unused_result));

/* Resume ready tasks, in FIFO order, until none is ready (tasks made ready meanwhile run
 * too). Returns how many resumptions happened. Call from the scheduler's own stack only,
 * never from a task. */
size_t coro_sched_run(struct coro_sched *s);

void coro_stats(const struct coro_sched *s, struct coro_stats *out);

/* The running task, or NULL on the scheduler's own stack. The module's one piece of
 * mutable global state (thread-local). */
struct coro *coro_self(void);

/* Where a task last suspended ("coro.c:123"), for diagnostics; NULL when never. */
const char *coro_where(const struct coro *c);

/* Give the other ready tasks a turn: requeue the running task at the tail and switch.
 * From a task. A cancellation point: returns 0, or -ECANCELED (then it may not have
 * switched: see Cancellation above). */
#define coro_yield() coro_yield_at(CORO_HERE)
int coro_yield_at(const char *where) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------------------------ */
/* Cancellation and join (see Cancellation and Lifetime at the top). */

/* Ask t to stop: if t is suspended at a cancellation point it is made ready (no switch)
 * and that call will return -ECANCELED; otherwise its next cancellation point will. t may
 * be the running task itself. Returns true when the request was made, false when t had
 * already finished (a joinable task not yet joined: a no-op). t must be live or joinable
 * and not yet joined: a detached task's pointer dies when it finishes. Callable from
 * tasks and from the scheduler's thread (never from another thread). */
bool coro_cancel(struct coro *t);

/* True when the running task has been asked to stop (delivered or not yet); false on the
 * scheduler's stack. For calls that report a cancellation in their own terms (loop_perform
 * says CURLE_ABORTED_BY_CALLBACK, as for loop_stop: this tells the two apart). */
bool coro_cancelled(void);

/* From a task: suspend until t (spawned by coro_spawn_joinable) has finished, at once if it
 * has; store its result in *result (when result is not NULL) and recycle t's record and
 * stack: t is invalid afterwards. A cancellation point: on -ECANCELED t is left as it was,
 * to be joined later. From the scheduler's thread: only a finished t (-EAGAIN otherwise).
 * Returns 0, -ECANCELED, -EAGAIN, -EINVAL (t is detached), -EDEADLK (t is the caller) or
 * -EBUSY (another task is already joining t). */
#define coro_join(t, result) coro_join_at((t), (result), CORO_HERE)
int coro_join_at(struct coro *t, long *result, const char *where)
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------------------------------ */
/* Futures: a value that arrives later (a transfer's end, executor work). Caller-allocated
 * (often on the awaiting task's own stack, which stays put while the task is suspended).
 * One waiter at most. */

struct coro_future {
    bool done;
    long value;          /* set by coro_future_resolve */
    struct coro *waiter; /* the task suspended in coro_await, or NULL */
};

void coro_future_init(struct coro_future *f);

/* Complete f with value and make its waiter ready. Never switches, so it is safe in any
 * callback of the loop's thread (not from another thread). Resolving twice is a bug.
 * When its waiter was cancelled, f may still be resolved (it wakes nobody) for as long as
 * its memory lives: a future on the cancelled task's stack must be withdrawn from
 * whatever would resolve it before that task returns (loop_perform does). */
void coro_future_resolve(struct coro_future *f, long value);

/* From a task: suspend until f is done (at once if it already is); returns its value.
 * Not a cancellation point: a coro_cancel meanwhile waits for the next one. The call site
 * is recorded for coro_where(). */
#define coro_await(f) coro_await_at((f), CORO_HERE)
long coro_await_at(struct coro_future *f, const char *where);

/* From a task: as coro_await, but a cancellation point. Returns 0 with f's value in
 * *value, or -ECANCELED (f is then no longer awaited, and *value is untouched). */
#define coro_await_cancellable(f, value) coro_await_cancellable_at((f), (value), CORO_HERE)
int coro_await_cancellable_at(struct coro_future *f, long *value, const char *where)
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------------------------------ */
/* Tasks suspended on one object (a semaphore, a queue), oldest first. Private: the
 * objects below embed it, and coro_cancel takes a task out of it. */
struct coro_waitq {
    struct coro *head, *tail;
    size_t n; /* how many wait (read-only outside coro.c) */
};

/* ------------------------------------------------------------------------------------ */
/* Semaphore with FIFO hand-off: a release gives the permit straight to the task that has
 * waited longest, so a task arriving later can never overtake a waiting one. */

struct coro_sem {
    long permits;              /* free permits (0 while anyone waits); read-only */
    struct coro_waitq waiters; /* private; waiters.n: how many wait */
};

void coro_sem_init(struct coro_sem *sem, long permits);

/* From a task: take a permit, suspending (FIFO) while there is none. From the scheduler's
 * thread only while a permit is free (it cannot wait). A cancellation point: returns 0
 * holding a permit, or -ECANCELED holding none. */
#define coro_sem_acquire(sem) coro_sem_acquire_at((sem), CORO_HERE)
int coro_sem_acquire_at(struct coro_sem *sem, const char *where)
    __attribute__((warn_unused_result));

/* Take a permit if one is free right now, without waiting. True when taken. */
bool coro_sem_try_acquire(struct coro_sem *sem);

/* Return a permit: to the oldest waiter (made ready, no switch), or to the pool. Callable
 * from tasks and from the scheduler's thread. */
void coro_sem_release(struct coro_sem *sem);

/* ------------------------------------------------------------------------------------ */
/* Queue of void * items, FIFO, optionally bounded (asyncio.Queue): producers put, consumers
 * get, and a task can wait until every item put has been dealt with (task_done, join).
 * Caller-allocated; it owns a ring of pointers that grows as needed (up to its capacity),
 * never the items. Hand-off is FIFO both ways, as for coro_sem: a put gives its item
 * straight to the task that has waited longest to get, and a get that frees a slot moves
 * the longest-waiting putter's item in; a task arriving later never overtakes one that
 * waits. Every call is from a task or from the scheduler's thread, never another thread;
 * none switches unless it suspends. */

struct coro_queue {
    /* private: read through the functions below */
    void **ring;
    size_t slots, head, count; /* ring length; index of the oldest item; items in it */
    size_t capacity;           /* most items at once; 0 = unbounded */
    size_t unfinished;         /* put and not yet task_done */
    struct coro_waitq getters, putters, joiners;
};

/* Make q empty, holding at most capacity items (0: no bound). Returns 0, or -ENOMEM. */
int coro_queue_init(struct coro_queue *q, size_t capacity) __attribute__((warn_unused_result));

/* Free q's ring. No task may be waiting on q. Items still queued are the caller's, as they
 * always were: take them out with coro_queue_try_get first if they own memory. */
void coro_queue_destroy(struct coro_queue *q);

/* From a task: add item at the tail, suspending (FIFO) while q is full. From the scheduler's
 * thread only when it need not wait (an unbounded queue; else coro_queue_try_put). A
 * cancellation point. Returns 0 (item queued, or handed to a waiting getter), -ECANCELED
 * (item not queued), or -ENOMEM (the ring could not grow; item not queued). */
#define coro_queue_put(q, item) coro_queue_put_at((q), (item), CORO_HERE)
int coro_queue_put_at(struct coro_queue *q, void *item, const char *where)
    __attribute__((warn_unused_result));

/* Add item without waiting. Returns 0, -EAGAIN when q is full (or putters are already
 * waiting for room: no overtaking), or -ENOMEM. */
int coro_queue_try_put(struct coro_queue *q, void *item) __attribute__((warn_unused_result));

/* From a task: take the oldest item into *item, suspending (FIFO) while q is empty. A
 * cancellation point. Returns 0, or -ECANCELED (nothing taken, *item untouched). */
#define coro_queue_get(q, item) coro_queue_get_at((q), (item), CORO_HERE)
int coro_queue_get_at(struct coro_queue *q, void **item, const char *where)
    __attribute__((warn_unused_result));

/* Take the oldest item without waiting. Returns 0, or -EAGAIN when q is empty. */
int coro_queue_try_get(struct coro_queue *q, void **item) __attribute__((warn_unused_result));

/* Say that one item taken from q has been dealt with; when none is left unfinished, every
 * coro_queue_join returns. Calling it more often than items were put is a bug (abort). */
void coro_queue_task_done(struct coro_queue *q);

/* From a task: suspend until every item ever put has been task_done (at once if so). A
 * cancellation point. Returns 0, or -ECANCELED. */
#define coro_queue_join(q) coro_queue_join_at((q), CORO_HERE)
int coro_queue_join_at(struct coro_queue *q, const char *where) __attribute__((warn_unused_result));

/* Items in q now (not counting those of putters still waiting for room). */
size_t coro_queue_size(const struct coro_queue *q);

#define CORO_STR_(x) #x
#define CORO_STR(x) CORO_STR_(x)
#define CORO_HERE (__FILE__ ":" CORO_STR(__LINE__))

#endif
