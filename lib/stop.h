/* stop — SIGINT/SIGTERM turned into a flag every strategy polls; the run then ends early
 * with a partial summary and exit 128+signal. */
#ifndef CONCBENCH_STOP_H
#define CONCBENCH_STOP_H

/* Install the handlers (without SA_RESTART, so blocking calls return EINTR). */
void stop_install(void);

/* The signal that asked us to stop, or 0. Async-signal-safe, and safe from any thread. */
int stop_requested(void) __attribute__((warn_unused_result));

/* Pretend a signal arrived (tests; and a strategy that must stop its siblings). */
void stop_request(int sig);

#endif
