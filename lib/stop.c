/* stop — SIGINT/SIGTERM/SIGHUP become a flag that every strategy polls between jobs and that
 * curl's progress callback checks during a transfer. */
#include "stop.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* The module's one mutable global: written by the handler on whichever thread took the
 * signal, read by every thread (curl's progress callback runs on the pool's workers). A
 * lock-free atomic, not volatile sig_atomic_t: that is only safe between a handler and the
 * thread it interrupted; read from another thread it is a data race (ThreadSanitizer). */
static atomic_int stop_signal;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler may only use lock-free atomics");

static void on_signal(int sig)
{
    int none = 0;
    /* the first signal wins, even when two arrive at once on two threads */
    atomic_compare_exchange_strong(&stop_signal, &none, sig);
}

void stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() and friends return EINTR, so loops notice */
    /* a hangup (terminal closed, ssh dropped) ends the run like SIGTERM: partial summary,
     * whole files only; killed by default, it left temporary files behind */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A closed pipe on stdout or stderr (`| head`) is a write error, EPIPE, seen by the
     * driver, which stops the run with stop_request(SIGPIPE); by default SIGPIPE
     * killed us mid-save. Forked workers inherit the disposition. */
    signal(SIGPIPE, SIG_IGN);
}

void stop_sigset(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

int stop_requested(void)
{
    return atomic_load(&stop_signal);
}

void stop_request(int sig)
{
    on_signal(sig);
}
