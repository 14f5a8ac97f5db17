/* spawn — child processes the harness owns: each in its own process group, killed with
 * it (PR_SET_PDEATHSIG), and stopped on SIGINT/SIGTERM to concbench (see stop.h). */
#ifndef CONCBENCH_SPAWN_H
#define CONCBENCH_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPAWN_GRACE_S 2.0 /* SIGTERM first; SIGKILL when still there after this */

/* Where a child's standard streams go: a file path (truncated), "-" to inherit, or NULL
 * for /dev/null. */
struct spawn_io {
    const char *stdout_path;
    const char *stderr_path;
    int stdout_pipe; /* nonzero: stdout into a pipe, its read end in *pipe_fd */
};

/* Start argv[0] (a path) in a new process group with io. 0 with *pid (and *pipe_fd when
 * asked), or -1 with a one-line message in err (the child's exec failure included: a
 * missing or non-executable program is reported here, not as an exit status). */
int spawn_start(char *const argv[], const struct spawn_io *io, pid_t *pid, int *pipe_fd, char *err,
                size_t errlen);

/* Wait for pid. When concbench is asked to stop meanwhile (stop_requested()), terminate
 * the child's whole group first. Returns the wait status, or -1 when interrupted (the
 * child is gone then too). */
int spawn_wait(pid_t pid);

#define SPAWN_TIMED_OUT (-2)

/* spawn_wait with a deadline on clock_now_ns()'s clock (0: none): past it the child's
 * group is terminated and SPAWN_TIMED_OUT returned. */
int spawn_wait_until(pid_t pid, uint64_t deadline_ns);

/* spawn_wait_until that also calls tick(arg) every slice (about 50 ms) while it waits:
 * for a progress line. tick may be NULL. */
typedef void spawn_tick_fn(void *arg);
int spawn_wait_ticking(pid_t pid, uint64_t deadline_ns, spawn_tick_fn *tick, void *arg);

/* SIGTERM the group of pid, wait up to SPAWN_GRACE_S, then SIGKILL; reaps pid. Returns
 * its wait status or -1. Safe on a pid that already exited but was not reaped. */
int spawn_kill(pid_t pid);

/* Run argv to the end with stdout captured (at most cap-1 bytes kept, NUL-terminated)
 * and stderr to stderr_path (NULL: /dev/null), for at most timeout_s (0: no limit).
 * Returns the wait status, or -1 with err (could not start, interrupted, timed out). */
int spawn_capture(char *const argv[], const char *stderr_path, char *out, size_t cap,
                  double timeout_s, char *err, size_t errlen);

/* Find name in $PATH: its path in buf, or false. */
bool spawn_which(const char *name, char *buf, size_t len);

/* "exit 3", "killed by SIGSEGV"... for a wait status. */
void spawn_describe(int status, char *buf, size_t len);

#endif
