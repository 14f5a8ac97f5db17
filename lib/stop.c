/* stop — SIGINT/SIGTERM become a flag that every strategy polls between jobs and that
 * curl's progress callback checks during a transfer. */
#include "stop.h"

#include <signal.h>
#include <string.h>

/* The module's one mutable global: written by the handler, read by everyone. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    if (!stop_signal)
        stop_signal = sig;
}

void stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() and friends return EINTR, so loops notice */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int stop_requested(void)
{
    return stop_signal;
}

void stop_request(int sig)
{
    on_signal(sig);
}
