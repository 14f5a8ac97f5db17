/* coro — stackful coroutines (a context switch on mmap'd, guard-paged, reused stacks), futures, a
 * FIFO semaphore, a queue, cancellation and join. The context switch itself lives in the
 * ctx_* section and nowhere else. */
#include "coro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__SANITIZE_THREAD__)
#define CORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORO_TSAN 1
#endif
#endif
#ifdef CORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/memcheck.h> /* client requests: no-ops unless running under valgrind */
#include <valgrind/valgrind.h>
#define CORO_VALGRIND 1
#endif
#endif

#define CORO_PAINT 0xA5           /* fill byte for measuring stack depth */
#define CORO_QUEUE_FIRST_SLOTS 16 /* a queue's first ring; it doubles when full */

/* ==================================================================================== */
/* The context switch, plus what ASan and TSan must be told about it (without its fibers
 * TSan keeps one shadow call stack per thread, which the frames of tasks that never
 * return to it fill up: SIGSEGV within 100,000 tasks).
 *
 * On x86-64 the switch is the few instructions below, written by hand: glibc's
 * swapcontext saves and restores the signal mask with an rt_sigprocmask system call on
 * every switch (993 of them for the book's 194 flags, `strace -c -f bin/coroutine flags
 * -a --no-save`: a third of the driver's system-call time), and no C library in Debian
 * switches without it (Boost.Context's fcontext would bring libstdc++ into every driver's
 * start-up). It saves what the SysV ABI says a callee keeps: rbx, rbp, r12-r15, the
 * stack pointer, and the SSE and x87 control words. Tasks never change the signal mask,
 * so nothing else is lost. Elsewhere, or built with -DCORO_UCONTEXT (which `make test`
 * does for test_coro, so that both stay tested), glibc's ucontext does the same job; so it
 * must where CET shadow stacks are enforced, which this switch does not keep (Debian 12
 * neither builds with them nor enables them). */
#if defined(__x86_64__) && !defined(CORO_UCONTEXT)
#define CORO_ASM_X86_64 1
#endif

struct ctx {
#ifdef CORO_ASM_X86_64
    void *sp; /* the saved stack pointer: the registers are on the stack below it */
#else
    ucontext_t uc;
#endif
    const void *stack_bottom; /* for ASan: the stack this context runs on */
    size_t stack_bytes;
    void *tsan_fiber; /* for TSan: this context's fiber (a task's: from ctx_make) */
};

#ifdef CORO_ASM_X86_64
/* coro_ctx_swap(&from_sp, to_sp): push the callee-saved registers and the control words,
 * save rsp in *from_sp, load to_sp, pop the same from there and return into to.
 * coro_ctx_boot: where a new context's first switch returns to; it calls the entry that
 * ctx_make left in r12, on a 16-byte aligned stack with a zero frame pointer (so that
 * backtraces end there). The entry never returns (ud2 if it did). */
void coro_ctx_swap(void **from_sp, void *to_sp);
void coro_ctx_boot(void);
__asm__(".text\n"
        ".globl coro_ctx_swap\n"
        ".hidden coro_ctx_swap\n"
        ".type coro_ctx_swap, @function\n"
        "coro_ctx_swap:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size coro_ctx_swap, .-coro_ctx_swap\n"
        ".globl coro_ctx_boot\n"
        ".hidden coro_ctx_boot\n"
        ".type coro_ctx_boot, @function\n"
        "coro_ctx_boot:\n"
        "    callq *%r12\n"
        "    ud2\n"
        ".size coro_ctx_boot, .-coro_ctx_boot\n");
#endif

/* Prepare c to run entry() on [stack, stack + bytes) the first time it is switched to.
 * entry must never return: it ends by switching away with finished = true. */
static int ctx_make(struct ctx *c, void *stack, size_t bytes, void (*entry)(void))
{
#ifdef CORO_ASM_X86_64
    /* what coro_ctx_swap pops, lowest first: the control words, r15, r14, r13, r12 (the
     * entry, for coro_ctx_boot), rbx, rbp (0) and the return address; 16 bytes spare
     * above, so that coro_ctx_boot calls the entry on an aligned stack */
    uintptr_t top = ((uintptr_t)stack + bytes) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 16 - 8 * sizeof(uint64_t));
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    sp[0] = (uint64_t)mxcsr | (uint64_t)fpucw << 32;
    sp[1] = sp[2] = sp[3] = 0;          /* r15, r14, r13 */
    sp[4] = (uint64_t)(uintptr_t)entry; /* r12 */
    sp[5] = sp[6] = 0;                  /* rbx, rbp */
    sp[7] = (uint64_t)(uintptr_t)coro_ctx_boot;
    c->sp = sp;
#else
    if (getcontext(&c->uc) != 0)
        return -errno;
    c->uc.uc_stack.ss_sp = stack;
    c->uc.uc_stack.ss_size = bytes;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, entry, 0);
#endif
    c->stack_bottom = stack;
    c->stack_bytes = bytes;
#ifdef CORO_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
#endif
    return 0;
}

/* c, made by ctx_make, will not run again: drop what the sanitizers keep for it. Call it
 * from another context (TSan cannot destroy the fiber it runs on). */
static void ctx_unmake(struct ctx *c)
{
#ifdef CORO_TSAN
    __tsan_destroy_fiber(c->tsan_fiber);
    c->tsan_fiber = NULL;
#else
    (void)c;
#endif
}

/* Save the running context into from and continue in to. Returns when something switches
 * back to from. finished: from will never be resumed (ASan may drop its fake stack). */
static void ctx_switch(struct ctx *from, struct ctx *to, bool finished)
{
#ifdef CORO_ASAN
    void *fake_stack = NULL;
    __sanitizer_start_switch_fiber(finished ? NULL : &fake_stack, to->stack_bottom,
                                   to->stack_bytes);
#else
    (void)finished;
#endif
#ifdef CORO_TSAN
    /* from is running now, so this is its fiber (the scheduler's is the thread's own);
     * the switch is a happens-before edge, as it is on one thread */
    from->tsan_fiber = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#ifdef CORO_ASM_X86_64
    coro_ctx_swap(&from->sp, to->sp);
#else
    swapcontext(&from->uc, &to->uc);
#endif
#ifdef CORO_ASAN
    /* back in from: learn (again) the bounds of the stack we came from */
    __sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
#endif
}

/* First thing on a new task's stack: complete the switch that started it, and record the
 * bounds of the scheduler's stack (only known to ASan) so that switches back can name it. */
static void ctx_started(struct ctx *sched)
{
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(NULL, &sched->stack_bottom, &sched->stack_bytes);
#else
    (void)sched;
#endif
}

/* ==================================================================================== */
/* Tasks and their stacks. Each task's stack:
 *
 *     low  [ guard page, PROT_NONE ][ stack ... grows down ... | struct coro ]  high
 *
 * so an overflow hits the guard page (SIGSEGV) instead of another task's memory, and the
 * task's header shares the first touched page with the top of its stack. Stacks are carved
 * from slabs of CORO_SLAB_STACKS, reused LIFO (the warmest first) and unmapped only with
 * the scheduler: one mmap and one munmap per slab instead of per task, and munmap is the
 * expensive call (a TLB shootdown on every CPU the process ran on). */

#define CORO_SLAB_STACKS 64

/* What a suspended task waits on, so that coro_cancel can take it out. */
enum coro_wait {
    WAIT_NONE,   /* running, ready, or in a call that is no cancellation point */
    WAIT_YIELD,  /* in coro_yield: already in the ready queue */
    WAIT_FUTURE, /* wait_on: the struct coro_future whose waiter it is */
    WAIT_LIST,   /* wait_on: the struct coro_waitq it is linked into */
    WAIT_JOIN,   /* wait_on: the struct coro whose joiner it is */
};

struct coro {
    struct ctx ctx;
    struct coro_sched *sched;
    coro_fn *fn;               /* a detached task's body, or NULL */
    coro_result_fn *result_fn; /* a joinable task's body, or NULL */
    void *arg;
    struct coro *next, *prev; /* ready queue (next only), a wait list, the unjoined list,
                               * or the free stacks (next only) */
    const char *where;        /* last suspension point */
    bool finished;
    bool joinable;
    bool cancel_pending; /* asked to stop; its next cancellation point says so */
    bool cancelled;      /* asked to stop, ever (coro_cancelled) */
    enum coro_wait wait;
    void *wait_on;
    int wake_rc;          /* what the suspended call returns: 0, or -ECANCELED */
    void *handoff;        /* a queue item: the one a getter is given, or a putter gives */
    struct coro *joiner;  /* the task suspended in coro_join on this one */
    long result;          /* a joinable task's return value */
    char *stack;          /* lowest usable byte, just above the guard page */
    unsigned valgrind_id; /* valgrind's stack id */
};

struct coro_slab {
    void *map;
    size_t bytes;
    struct coro_slab *next;
};

struct coro_sched {
    struct ctx main; /* the scheduler's own (thread) stack */
    struct coro *ready_head, *ready_tail;
    size_t ready;
    struct coro *free; /* finished tasks' stacks, ready for reuse */
    size_t n_free;
    struct coro *unjoined; /* finished joinable tasks, until coro_join */
    size_t n_unjoined;
    struct coro_slab *slabs;
    char *carve; /* next unused stack of the newest slab */
    size_t carve_left;
    size_t live;
    size_t page_bytes, map_bytes; /* per task, guard page included */
    bool paint;
    size_t high_water;
    uint64_t spawned, stacks_created, switches, slabs_mapped;
};

/* The running task: the one documented mutable global (per thread). */
static _Thread_local struct coro *coro_running;

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

static size_t stack_usable(const struct coro *c)
{
    return (size_t)((char *)c - c->stack);
}

/* A new stack: the next one of the newest slab, mapping a slab when none is left. */
static struct coro *stack_map(struct coro_sched *s)
{
    if (!s->carve_left) {
        struct coro_slab *slab = malloc(sizeof *slab);
        if (!slab)
            return NULL;
        slab->bytes = CORO_SLAB_STACKS * s->map_bytes;
        slab->map = mmap(NULL, slab->bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
        if (slab->map == MAP_FAILED) {
            free(slab);
            return NULL;
        }
        slab->next = s->slabs;
        s->slabs = slab;
        s->carve = slab->map;
        s->carve_left = CORO_SLAB_STACKS;
        s->slabs_mapped++;
    }
    char *map = s->carve;
    if (mprotect(map, s->page_bytes, PROT_NONE) != 0)
        return NULL; /* the stack stays uncarved: the next call tries it again */
    s->carve += s->map_bytes;
    s->carve_left--;
    /* header at the top, 64-byte aligned (the stack below it must stay 16-byte aligned) */
    uintptr_t top = (uintptr_t)map + s->map_bytes;
    struct coro *c = (struct coro *)((top - sizeof(struct coro)) & ~(uintptr_t)63);
    memset(c, 0, sizeof *c);
    c->sched = s;
    c->stack = map + s->page_bytes;
    if (s->paint)
        memset(c->stack, CORO_PAINT, stack_usable(c));
#ifdef CORO_VALGRIND
    c->valgrind_id = VALGRIND_STACK_REGISTER(c->stack, (char *)c);
#endif
    s->stacks_created++;
    return c;
}

/* A finished task's stack (no longer needed: detached, or joined): measure it (when
 * painted) and keep it for the next task. */
static void stack_release(struct coro_sched *s, struct coro *c)
{
    size_t usable = stack_usable(c);
    ctx_unmake(&c->ctx);
#ifdef CORO_ASAN
    /* the task's last frames never returned: their redzones would trip the next user */
    ASAN_UNPOISON_MEMORY_REGION(c->stack, usable);
#endif
    if (s->paint) {
#ifdef CORO_VALGRIND
        VALGRIND_MAKE_MEM_DEFINED(c->stack, usable); /* below the dead task's last frame */
#endif
        size_t untouched = 0;
        while (untouched < usable && (unsigned char)c->stack[untouched] == CORO_PAINT)
            untouched++;
        if (usable - untouched > s->high_water)
            s->high_water = usable - untouched;
        memset(c->stack, CORO_PAINT, usable - untouched);
    }
    c->next = s->free;
    s->free = c;
    s->n_free++;
}

/* A joinable task has finished: keep it, off every queue, until coro_join. */
static void unjoined_add(struct coro_sched *s, struct coro *c)
{
    c->prev = NULL;
    c->next = s->unjoined;
    if (c->next)
        c->next->prev = c;
    s->unjoined = c;
    s->n_unjoined++;
}

static void unjoined_remove(struct coro_sched *s, struct coro *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->unjoined = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
    s->n_unjoined--;
}

static void ready_push(struct coro_sched *s, struct coro *c)
{
    c->next = NULL;
    if (s->ready_tail)
        s->ready_tail->next = c;
    else
        s->ready_head = c;
    s->ready_tail = c;
    s->ready++;
}

static struct coro *ready_pop(struct coro_sched *s)
{
    struct coro *c = s->ready_head;
    if (c) {
        s->ready_head = c->next;
        if (!s->ready_head)
            s->ready_tail = NULL;
        s->ready--;
        c->next = NULL;
    }
    return c;
}

/* Make a suspended task ready; the call it suspended in returns rc. */
static void wake(struct coro *c, int rc)
{
    c->wait = WAIT_NONE;
    c->wait_on = NULL;
    c->wake_rc = rc;
    ready_push(c->sched, c);
}

/* Every task starts here, on its own stack. */
static void task_entry(void)
{
    struct coro *c = coro_running;
    ctx_started(&c->sched->main);
    if (c->result_fn)
        c->result = c->result_fn(c->arg);
    else
        c->fn(c->arg);
    c->finished = true;
    if (c->joiner) {
        wake(c->joiner, 0); /* it recycles us, once the scheduler is off our stack */
        c->joiner = NULL;
    }
    ctx_switch(&c->ctx, &c->sched->main, true);
    abort(); /* a finished task is never resumed */
}

/* Park the running task until someone makes it ready again. */
static void suspend(const char *where)
{
    struct coro *c = coro_running;
    if (!c) {
        fprintf(stderr, "coro: %s: awaiting outside a task\n", where);
        abort(); /* a programming error: the scheduler's stack cannot be suspended */
    }
    c->where = where;
    ctx_switch(&c->ctx, &c->sched->main, false);
}

/* Suspend c (the running task) on what, for coro_cancel's sake, until wake(); returns what
 * the waker said: 0, or -ECANCELED. */
static int park(struct coro *c, enum coro_wait wait, void *on, const char *where)
{
    c->wait = wait;
    c->wait_on = on;
    c->wake_rc = 0;
    suspend(where);
    int rc = c->wake_rc;
    c->wake_rc = 0; /* delivered: coro_cancel may ask again */
    c->wait = WAIT_NONE;
    c->wait_on = NULL;
    return rc;
}

/* Entering a cancellation point: -ECANCELED when a request waits (now delivered), else 0.
 * c is NULL on the scheduler's stack, which cannot be cancelled. */
static int cancel_point(struct coro *c)
{
    if (c && c->cancel_pending) {
        c->cancel_pending = false;
        return -ECANCELED;
    }
    return 0;
}

static void waitq_push(struct coro_waitq *q, struct coro *c)
{
    c->next = NULL;
    c->prev = q->tail;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    q->n++;
}

static void waitq_remove(struct coro_waitq *q, struct coro *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        q->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        q->tail = c->prev;
    c->next = c->prev = NULL;
    q->n--;
}

/* The oldest waiter, taken out of q, or NULL. */
static struct coro *waitq_pop(struct coro_waitq *q)
{
    struct coro *c = q->head;
    if (c)
        waitq_remove(q, c);
    return c;
}

/* The running task waits its turn on q. */
static int waitq_park(struct coro_waitq *q, const char *where)
{
    struct coro *c = coro_running;
    if (!c) {
        fprintf(stderr, "coro: %s: waiting outside a task\n", where);
        abort(); /* a programming error: the scheduler's stack cannot be suspended */
    }
    waitq_push(q, c);
    return park(c, WAIT_LIST, q, where);
}

int coro_sched_create(struct coro_sched **out, const struct coro_config *cfg, char *err,
                      size_t errlen)
{
    struct coro_config def = {0};
    if (!cfg)
        cfg = &def;
    struct coro_sched *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    long page = sysconf(_SC_PAGESIZE);
    s->page_bytes = page > 0 ? (size_t)page : 4096;
    size_t stack = cfg->stack_bytes ? cfg->stack_bytes : CORO_DEFAULT_STACK_BYTES;
    if (stack < sizeof(struct coro) + 4 * s->page_bytes) {
        snprintf(err, errlen, "coroutine stack of %zu bytes is too small", stack);
        free(s);
        return -EINVAL;
    }
    s->map_bytes = s->page_bytes + round_up(stack, s->page_bytes);
    s->paint = cfg->paint_stacks;
    *out = s;
    return 0;
}

void coro_sched_destroy(struct coro_sched *s)
{
    if (!s)
        return;
    if (s->live) {
        fprintf(stderr, "coro: destroying a scheduler with %zu live tasks\n", s->live);
        abort(); /* their stacks hold frames we cannot unwind */
    }
    while (s->unjoined) {
        struct coro *c = s->unjoined;
        unjoined_remove(s, c);
        stack_release(s, c);
    }
    for (struct coro *c = s->free; c; c = c->next) {
#ifdef CORO_VALGRIND
        VALGRIND_STACK_DEREGISTER(c->valgrind_id);
#endif
    }
    while (s->slabs) {
        struct coro_slab *slab = s->slabs;
        s->slabs = slab->next;
#ifdef CORO_ASAN
        ASAN_UNPOISON_MEMORY_REGION(slab->map, slab->bytes);
#endif
        munmap(slab->map, slab->bytes);
        free(slab);
    }
    free(s);
}

/* coro_spawn and coro_spawn_joinable: one of fn, result_fn. */
static int spawn(struct coro_sched *s, coro_fn *fn, coro_result_fn *result_fn, void *arg,
                 struct coro **out)
{
    struct coro *c = s->free;
    if (c) {
        s->free = c->next;
        s->n_free--;
    } else if (!(c = stack_map(s))) {
        return -ENOMEM;
    }
    c->fn = fn;
    c->result_fn = result_fn;
    c->arg = arg;
    c->where = NULL;
    c->finished = false;
    c->joinable = result_fn != NULL;
    c->cancel_pending = c->cancelled = false;
    c->wait = WAIT_NONE;
    c->wait_on = NULL;
    c->wake_rc = 0;
    c->handoff = NULL;
    c->joiner = NULL;
    c->result = 0;
    if (ctx_make(&c->ctx, c->stack, stack_usable(c), task_entry) != 0) {
        c->next = s->free; /* back with the free stacks; it is still a valid mapping */
        s->free = c;
        s->n_free++;
        return -ENOMEM;
    }
    s->live++;
    s->spawned++;
    ready_push(s, c);
    if (out)
        *out = c;
    return 0;
}

int coro_spawn(struct coro_sched *s, coro_fn *fn, void *arg, struct coro **out)
{
    return spawn(s, fn, NULL, arg, out);
}

int coro_spawn_joinable(struct coro_sched *s, coro_result_fn *fn, void *arg, struct coro **out)
{
    return spawn(s, NULL, fn, arg, out);
}

size_t coro_sched_run(struct coro_sched *s)
{
    if (coro_running) {
        fprintf(stderr, "coro: coro_sched_run called from a task\n");
        abort();
    }
    size_t n = 0;
    struct coro *c;
    while ((c = ready_pop(s))) {
        coro_running = c;
        s->switches++;
        ctx_switch(&s->main, &c->ctx, false);
        coro_running = NULL;
        n++;
        if (c->finished) {
            s->live--;
            if (c->joinable)
                unjoined_add(s, c); /* until coro_join */
            else
                stack_release(s, c); /* safe now: we are off its stack */
        }
    }
    return n;
}

void coro_stats(const struct coro_sched *s, struct coro_stats *out)
{
    out->live = s->live;
    out->ready = s->ready;
    out->unjoined = s->n_unjoined;
    out->stacks_free = s->n_free;
    out->stacks_mapped = s->live + s->n_unjoined + s->n_free;
    out->slabs_mapped = s->slabs_mapped;
    out->spawned = s->spawned;
    out->stacks_created = s->stacks_created;
    out->switches = s->switches;
    out->stack_high_water_bytes = s->high_water;
}

struct coro *coro_self(void)
{
    return coro_running;
}

const char *coro_where(const struct coro *c)
{
    return c->where;
}

int coro_yield_at(const char *where)
{
    struct coro *c = coro_running;
    if (!c)
        suspend(where); /* aborts: the scheduler's stack cannot yield */
    int rc = cancel_point(c);
    if (rc != 0)
        return rc;
    ready_push(c->sched, c);
    return park(c, WAIT_YIELD, NULL, where);
}

/* ==================================================================================== */
/* Cancellation and join */

bool coro_cancel(struct coro *t)
{
    if (t->finished)
        return false;
    t->cancelled = true;
    if (t->wake_rc == -ECANCELED)
        return true; /* an earlier request is on its way: woken, not yet resumed */
    switch (t->wait) {
    case WAIT_NONE:
        t->cancel_pending = true; /* ready, running, or in coro_await: at its next point */
        return true;
    case WAIT_YIELD:
        t->wait = WAIT_NONE; /* already in the ready queue: keep its place */
        t->wake_rc = -ECANCELED;
        return true;
    case WAIT_FUTURE:
        ((struct coro_future *)t->wait_on)->waiter = NULL; /* resolving it wakes nobody */
        break;
    case WAIT_LIST: waitq_remove(t->wait_on, t); break;
    case WAIT_JOIN: ((struct coro *)t->wait_on)->joiner = NULL; break;
    }
    wake(t, -ECANCELED);
    return true;
}

bool coro_cancelled(void)
{
    return coro_running && coro_running->cancelled;
}

int coro_join_at(struct coro *t, long *result, const char *where)
{
    struct coro *c = coro_running;
    if (!t->joinable)
        return -EINVAL;
    if (t == c)
        return -EDEADLK;
    int rc = cancel_point(c);
    if (rc != 0)
        return rc;
    if (!t->finished) {
        if (!c)
            return -EAGAIN;
        if (t->joiner)
            return -EBUSY;
        t->joiner = c;
        if ((rc = park(c, WAIT_JOIN, t, where)) != 0)
            return rc; /* coro_cancel has cleared t->joiner */
    }
    if (result)
        *result = t->result;
    unjoined_remove(t->sched, t);
    stack_release(t->sched, t);
    return 0;
}

/* ==================================================================================== */
/* Futures */

void coro_future_init(struct coro_future *f)
{
    f->done = false;
    f->value = 0;
    f->waiter = NULL;
}

void coro_future_resolve(struct coro_future *f, long value)
{
    if (f->done) {
        fprintf(stderr, "coro: future resolved twice\n");
        abort();
    }
    f->done = true;
    f->value = value;
    struct coro *w = f->waiter;
    if (w) {
        f->waiter = NULL;
        wake(w, 0);
    }
}

/* Make the running task f's waiter and suspend; wait: WAIT_FUTURE when cancellable. */
static int future_wait(struct coro_future *f, enum coro_wait wait, const char *where)
{
    if (f->waiter) {
        fprintf(stderr, "coro: %s: future already awaited by another task\n", where);
        abort();
    }
    struct coro *c = coro_running;
    if (!c)
        suspend(where); /* aborts: the scheduler's stack cannot await */
    f->waiter = c;
    return park(c, wait, f, where);
}

long coro_await_at(struct coro_future *f, const char *where)
{
    if (!f->done)
        (void)future_wait(f, WAIT_NONE, where); /* only a resolve wakes it: 0 */
    return f->value;
}

int coro_await_cancellable_at(struct coro_future *f, long *value, const char *where)
{
    int rc = cancel_point(coro_running);
    if (rc == 0 && !f->done)
        rc = future_wait(f, WAIT_FUTURE, where);
    if (rc == 0)
        *value = f->value;
    return rc;
}

/* ==================================================================================== */
/* Semaphore */

void coro_sem_init(struct coro_sem *sem, long permits)
{
    sem->permits = permits;
    sem->waiters = (struct coro_waitq){0};
}

bool coro_sem_try_acquire(struct coro_sem *sem)
{
    /* a free permit with waiters queued cannot happen: release hands it to them */
    if (sem->permits > 0) {
        sem->permits--;
        return true;
    }
    return false;
}

int coro_sem_acquire_at(struct coro_sem *sem, const char *where)
{
    int rc = cancel_point(coro_running);
    if (rc != 0 || coro_sem_try_acquire(sem))
        return rc;
    return waitq_park(&sem->waiters, where); /* 0: coro_sem_release handed us its permit */
}

void coro_sem_release(struct coro_sem *sem)
{
    struct coro *w = waitq_pop(&sem->waiters);
    if (w)
        wake(w, 0);
    else
        sem->permits++;
}

/* ==================================================================================== */
/* Queue: a ring of q->slots pointers, the oldest at q->head. Waiting getters imply an
 * empty ring and waiting putters a full one, so at most one of the two lists is in use. */

int coro_queue_init(struct coro_queue *q, size_t capacity)
{
    memset(q, 0, sizeof *q);
    q->capacity = capacity;
    q->slots = capacity && capacity < CORO_QUEUE_FIRST_SLOTS ? capacity : CORO_QUEUE_FIRST_SLOTS;
    if (!(q->ring = malloc(q->slots * sizeof *q->ring)))
        return -ENOMEM;
    return 0;
}

void coro_queue_destroy(struct coro_queue *q)
{
    if (q->getters.n || q->putters.n || q->joiners.n) {
        fprintf(stderr, "coro: destroying a queue %zu tasks wait on\n",
                q->getters.n + q->putters.n + q->joiners.n);
        abort(); /* they would wake into freed memory */
    }
    free(q->ring);
    q->ring = NULL;
}

static bool queue_full(const struct coro_queue *q)
{
    return q->capacity && q->count == q->capacity;
}

/* Append item to the ring, doubling it when it is full (up to the capacity). */
static int ring_push(struct coro_queue *q, void *item)
{
    if (q->count == q->slots) {
        size_t slots = q->slots * 2;
        if (q->capacity && slots > q->capacity)
            slots = q->capacity;
        void **ring = malloc(slots * sizeof *ring);
        if (!ring)
            return -ENOMEM;
        for (size_t i = 0; i < q->count; i++) /* oldest first, from index 0 */
            ring[i] = q->ring[(q->head + i) % q->slots];
        free(q->ring);
        q->ring = ring;
        q->slots = slots;
        q->head = 0;
    }
    q->ring[(q->head + q->count) % q->slots] = item;
    q->count++;
    q->unfinished++;
    return 0;
}

static void *ring_pop(struct coro_queue *q)
{
    void *item = q->ring[q->head];
    q->head = (q->head + 1) % q->slots;
    q->count--;
    return item;
}

int coro_queue_try_put(struct coro_queue *q, void *item)
{
    struct coro *w = waitq_pop(&q->getters);
    if (w) {
        w->handoff = item; /* the ring is empty: straight to the oldest getter */
        q->unfinished++;
        wake(w, 0);
        return 0;
    }
    if (queue_full(q) || q->putters.n)
        return -EAGAIN;
    return ring_push(q, item);
}

int coro_queue_put_at(struct coro_queue *q, void *item, const char *where)
{
    int rc = cancel_point(coro_running);
    if (rc != 0)
        return rc;
    if ((rc = coro_queue_try_put(q, item)) != -EAGAIN)
        return rc;
    struct coro *c = coro_running;
    if (c)
        c->handoff = item; /* a get that frees a slot queues it and wakes us */
    return waitq_park(&q->putters, where);
}

int coro_queue_try_get(struct coro_queue *q, void **item)
{
    if (!q->count)
        return -EAGAIN;
    *item = ring_pop(q);
    struct coro *w = waitq_pop(&q->putters);
    if (w) {
        /* a slot is free: the oldest putter's item takes it. The ring cannot need to grow
         * (it held this item a moment ago), so this cannot fail. */
        int rc = ring_push(q, w->handoff);
        (void)rc;
        w->handoff = NULL;
        wake(w, 0);
    }
    return 0;
}

int coro_queue_get_at(struct coro_queue *q, void **item, const char *where)
{
    int rc = cancel_point(coro_running);
    if (rc != 0 || coro_queue_try_get(q, item) == 0)
        return rc;
    if ((rc = waitq_park(&q->getters, where)) != 0)
        return rc;
    struct coro *c = coro_running;
    *item = c->handoff; /* coro_queue_try_put gave it to us */
    c->handoff = NULL;
    return 0;
}

void coro_queue_task_done(struct coro_queue *q)
{
    if (!q->unfinished) {
        fprintf(stderr, "coro: coro_queue_task_done called more times than items were put\n");
        abort();
    }
    if (--q->unfinished == 0) {
        struct coro *w;
        while ((w = waitq_pop(&q->joiners)))
            wake(w, 0);
    }
}

int coro_queue_join_at(struct coro_queue *q, const char *where)
{
    int rc = cancel_point(coro_running);
    if (rc != 0 || q->unfinished == 0)
        return rc;
    return waitq_park(&q->joiners, where);
}

size_t coro_queue_size(const struct coro_queue *q)
{
    return q->count;
}
