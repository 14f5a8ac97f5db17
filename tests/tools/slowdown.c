/* slowdown — a test double that makes a driver exactly FACTOR times slower: it runs the
 * real driver, then sleeps (FACTOR − 1) × the time that took, and exits as the driver did.
 * For concbench run --driver-path NAME=slowdown: the real driver is $SLOWDOWN_BIN/<the name
 * this was called by> (a link named after the driver), the factor $SLOWDOWN_FACTOR (e.g.
 * 1.15). Used to check that the gate catches an injected regression of a known size. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *bin = getenv("SLOWDOWN_BIN"), *f = getenv("SLOWDOWN_FACTOR");
    char *end;
    double factor = f ? strtod(f, &end) : 0;
    if (!bin || !f || *end || !(factor >= 1)) {
        fprintf(stderr, "slowdown: set SLOWDOWN_BIN (the real drivers' directory) and "
                        "SLOWDOWN_FACTOR (>= 1)\n");
        return 2;
    }
    char self[PATH_MAX], real[PATH_MAX];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(real, sizeof real, "%s/%s", bin, basename(self));
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        perror("slowdown: fork");
        return 1;
    }
    if (pid == 0) {
        argv[0] = real;
        execv(real, argv);
        fprintf(stderr, "slowdown: cannot run %s: %s\n", real, strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 1;
    double extra = (now_s() - t0) * (factor - 1);
    struct timespec ts = {(time_t)extra, (long)((extra - (double)(time_t)extra) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
