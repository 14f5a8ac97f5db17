/* stop — SIGINT/SIGTERM/SIGHUP turned into a flag every strategy polls; the run then ends early
 * with a partial summary and exit 128+signal. */
#ifndef CONCBENCH_STOP_H
#define CONCBENCH_STOP_H

#include <signal.h>

/* Install the handlers of SIGINT, SIGTERM and SIGHUP (without SA_RESTART, so blocking calls
 * return EINTR) and ignore SIGPIPE (a closed output is then EPIPE: see stop_request). Main
 * thread, before any other starts. */
void stop_install(void);

/* Fill set with the signals stop_install handles, for a strategy that lets them in only
 * inside its wait (ppoll's mask). */
void stop_sigset(sigset_t *set);

/* The signal that asked us to stop, or 0. Async-signal-safe, and safe from any thread. */
int stop_requested(void) __attribute__((warn_unused_result));

/* Pretend a signal arrived (tests; a strategy that must stop its siblings; the driver
 * when stdout or stderr is a closed pipe: SIGPIPE, exit 141). */
void stop_request(int sig);

#endif
