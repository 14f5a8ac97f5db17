/* coro — stackful coroutines on one thread, and the two things they wait on: futures and a
 * FIFO semaphore (asyncio's Task, Future and Semaphore in C).
 *
 * A task is a function with its own small mmap'd stack. It runs until it awaits something
 * that is not done; the scheduler then runs the next ready task. Nothing here ever
 * switches on its own: coro_future_resolve() and coro_sem_release() only mark a task
 * ready, and the owner of the loop resumes ready tasks with coro_sched_run() at a moment
 * of its choosing (for curl: after curl_multi_socket_action has returned, never inside one
 * of curl's callbacks). One scheduler per thread; nothing here is thread-safe. */
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

typedef void coro_fn(void *arg);

/* How to build a scheduler. Zeroed fields take the defaults. */
struct coro_config {
    size_t stack_bytes;   /* usable stack per task, rounded up to pages; 0 = default */
    bool paint_stacks;    /* fill each stack with a pattern when it is mapped, so that
                           * coro_stats() can report the deepest use (tests, tuning) */
};

struct coro_stats {
    size_t live;                 /* spawned and not finished */
    size_t ready;                /* waiting to be resumed by coro_sched_run */
    size_t stacks_mapped;        /* live + free: the most tasks ever alive at once */
    size_t stacks_free;          /* finished tasks' stacks, kept for the next spawns */
    uint64_t spawned;            /* tasks ever spawned */
    uint64_t stacks_created;     /* stacks carved: spawned - stacks_created were reuses */
    uint64_t slabs_mapped;       /* mmap calls (one per CORO_SLAB_STACKS stacks) */
    uint64_t switches;           /* context switches into tasks */
    size_t stack_high_water_bytes; /* deepest use of any stack (paint_stacks only, else 0) */
};

/* Create a scheduler for the calling thread. Returns 0 and *out, or a negative errno with
 * a one-line message in err. */
int coro_sched_create(struct coro_sched **out, const struct coro_config *cfg, char *err,
                      size_t errlen) __attribute__((warn_unused_result));

/* Unmap every stack and free the scheduler. Every task must have finished
 * (a live task's stack cannot be unwound from outside); NULL is a no-op. */
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

/* Give the other ready tasks a turn: requeue the running task at the tail and switch. */
#define coro_yield() coro_yield_at(CORO_HERE)
void coro_yield_at(const char *where);

/* ------------------------------------------------------------------------------------ */
/* Futures: the one thing tasks await. Caller-allocated (often on the awaiting task's own
 * stack, which stays put while the task is suspended). One waiter at most. */

struct coro_future {
    bool done;
    long value;          /* set by coro_future_resolve */
    struct coro *waiter; /* the task suspended in coro_await, or NULL */
};

void coro_future_init(struct coro_future *f);

/* Complete f with value and make its waiter ready. Never switches, so it is safe in any
 * callback of the loop's thread (not from another thread). Resolving twice is a bug. */
void coro_future_resolve(struct coro_future *f, long value);

/* From a task: suspend until f is done (at once if it already is); returns its value.
 * The call site is recorded for coro_where(). */
#define coro_await(f) coro_await_at((f), CORO_HERE)
long coro_await_at(struct coro_future *f, const char *where);

/* ------------------------------------------------------------------------------------ */
/* Semaphore with FIFO hand-off: a release gives the permit straight to the task that has
 * waited longest, so a task arriving later can never overtake a waiting one. */

struct coro_sem {
    long permits;                /* free permits (0 while anyone waits) */
    struct coro *head, *tail;    /* waiting tasks, oldest first */
    size_t waiting;
};

void coro_sem_init(struct coro_sem *sem, long permits);

/* From a task: take a permit, suspending (FIFO) while there is none. */
#define coro_sem_acquire(sem) coro_sem_acquire_at((sem), CORO_HERE)
void coro_sem_acquire_at(struct coro_sem *sem, const char *where);

/* Take a permit if one is free right now, without waiting. True when taken. */
bool coro_sem_try_acquire(struct coro_sem *sem);

/* Return a permit: to the oldest waiter (made ready, no switch), or to the pool. Callable
 * from tasks and from the scheduler's thread. */
void coro_sem_release(struct coro_sem *sem);

#define CORO_STR_(x) #x
#define CORO_STR(x) CORO_STR_(x)
#define CORO_HERE (__FILE__ ":" CORO_STR(__LINE__))

#endif
