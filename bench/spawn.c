/* spawn — fork/exec with process groups, parent-death signals and clean termination. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "stop.h"

#define POLL_SLICE_MS 20 /* how often a wait looks at the stop flag and the clock */

/* Point fd at path ("-" keeps it, NULL is /dev/null). In the child only: returns -1 on
 * failure, errno set. */
static int redirect(int fd, const char *path)
{
    if (path && strcmp(path, "-") == 0)
        return 0;
    int f = open(path ? path : "/dev/null", path ? O_WRONLY | O_CREAT | O_TRUNC : O_WRONLY, 0644);
    if (f < 0)
        return -1;
    if (f != fd) {
        if (dup2(f, fd) < 0)
            return -1;
        close(f);
    }
    return 0;
}

int spawn_start(char *const argv[], const struct spawn_io *io, pid_t *pid, int *pipe_fd, char *err,
                size_t errlen)
{
    /* A close-on-exec pipe tells the parent whether exec worked: EOF means it did, an
     * errno value means it did not. */
    int status_pipe[2], out_pipe[2] = {-1, -1};
    if (pipe2(status_pipe, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    if (io->stdout_pipe && pipe2(out_pipe, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        close(status_pipe[0]);
        close(status_pipe[1]);
        return -1;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(status_pipe[0]);
        close(status_pipe[1]);
        if (out_pipe[0] >= 0) {
            close(out_pipe[0]);
            close(out_pipe[1]);
        }
        return -1;
    }
    if (child == 0) {
        /* Own group: a terminal's ^C reaches concbench only, which then stops the whole
         * group in order. Parent death (even SIGKILL) still takes the child along. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        /* Nothing of ours leaks into the child: a test runner that waits for its fd 3
         * (bats) or a pipe of another child must not stay open in flagd. Marked
         * close-on-exec rather than closed, so status_pipe works until exec. */
        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        int e = 0;
        if (io->stdout_pipe) {
            if (dup2(out_pipe[1], STDOUT_FILENO) < 0)
                e = errno;
        } else if (redirect(STDOUT_FILENO, io->stdout_path) != 0) {
            e = errno;
        }
        if (!e && redirect(STDERR_FILENO, io->stderr_path) != 0)
            e = errno;
        if (!e) {
            execv(argv[0], argv);
            e = errno;
        }
        ssize_t w = write(status_pipe[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    setpgid(child, child); /* also here: no window where the group does not exist yet */
    close(status_pipe[1]);
    if (out_pipe[1] >= 0)
        close(out_pipe[1]);
    int e = 0;
    ssize_t n;
    do
        n = read(status_pipe[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(status_pipe[0]);
    if (n == (ssize_t)sizeof e) {
        snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
        if (out_pipe[0] >= 0)
            close(out_pipe[0]);
        return -1;
    }
    *pid = child;
    if (pipe_fd)
        *pipe_fd = out_pipe[0];
    else if (out_pipe[0] >= 0)
        close(out_pipe[0]);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* EINTR just ends the nap early */
}

int spawn_kill(pid_t pid)
{
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
        kill(-pid, SIGKILL); /* the leader is gone; make sure its group is, too */
        return status;
    }
    kill(-pid, SIGTERM);
    uint64_t start = clock_now_ns();
    for (;;) {
        r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            break;
        if ((double)(clock_now_ns() - start) / 1e9 > SPAWN_GRACE_S) {
            kill(-pid, SIGKILL);
            while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
                ;
            break;
        }
        sleep_ms(POLL_SLICE_MS / 4);
    }
    /* Members of the group that outlived their leader (a driver under hyperfine). */
    kill(-pid, SIGKILL);
    return r == pid ? status : -1;
}

int spawn_wait(pid_t pid)
{
    return spawn_wait_until(pid, 0);
}

int spawn_wait_until(pid_t pid, uint64_t deadline_ns)
{
    return spawn_wait_ticking(pid, deadline_ns, NULL, NULL);
}

int spawn_wait_ticking(pid_t pid, uint64_t deadline_ns, spawn_tick_fn *tick, void *arg)
{
    /* Poll a pidfd: it wakes the moment the child ends (the builtin timer relies on
     * that) and in slices, so a SIGINT landing just before the wait is still seen.
     * Without pidfds (old kernels), nap in slices instead. */
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int status = -1;
    for (;;) {
        if (stop_requested()) {
            spawn_kill(pid);
            status = -1;
            break;
        }
        if (deadline_ns && clock_now_ns() > deadline_ns) {
            spawn_kill(pid);
            status = SPAWN_TIMED_OUT;
            break;
        }
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (tick)
            tick(arg);
        if (pfd >= 0) {
            struct pollfd p = {.fd = pfd, .events = POLLIN};
            poll(&p, 1, POLL_SLICE_MS * 5);
        } else {
            sleep_ms(POLL_SLICE_MS);
        }
    }
    if (pfd >= 0)
        close(pfd);
    return status;
}

int spawn_capture(char *const argv[], const char *stderr_path, char *out, size_t cap,
                  double timeout_s, char *err, size_t errlen)
{
    uint64_t deadline = timeout_s > 0 ? clock_now_ns() + (uint64_t)(timeout_s * 1e9) : 0;
    struct spawn_io io = {.stderr_path = stderr_path, .stdout_pipe = 1};
    pid_t pid;
    int fd;
    if (spawn_start(argv, &io, &pid, &fd, err, errlen) != 0)
        return -1;
    size_t len = 0;
    char sink[4096];
    for (;;) {
        if (stop_requested() || (deadline && clock_now_ns() > deadline))
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int k = poll(&p, 1, POLL_SLICE_MS * 10);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            continue;
        /* Keep reading past cap, into a sink: a child blocked on a full pipe never ends. */
        char *dst = len + 1 < cap ? out + len : sink;
        size_t room = len + 1 < cap ? cap - 1 - len : sizeof sink;
        ssize_t n = read(fd, dst, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (dst != sink)
            len += (size_t)n;
    }
    close(fd);
    if (cap)
        out[len] = '\0';
    int status = spawn_wait_until(pid, deadline);
    if (status == SPAWN_TIMED_OUT) {
        snprintf(err, errlen, "timed out after %.0f s", timeout_s);
        return -1;
    }
    if (status < 0) {
        snprintf(err, errlen, "interrupted");
        return -1;
    }
    return status;
}

void spawn_describe(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by SIG%s",
                 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
    else
        snprintf(buf, len, "status %d", status);
}

bool spawn_which(const char *name, char *buf, size_t len)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, len, "%.*s/%s", (int)n, path, name);
        if (n && access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}
