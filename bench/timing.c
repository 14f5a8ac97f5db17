/* timing — hyperfine -N, or the builtin equivalent. */
#include "timing.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "spawn.h"
#include "text.h"
#include "stop.h"

#define TIMING_MAX_RUNS 10000

char *timing_command_line(char *const *argv)
{
    size_t cap = 1;
    for (size_t i = 0; argv[i]; i++)
        cap += 4 * strlen(argv[i]) + 3;
    char *out = malloc(cap), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; argv[i]; i++) {
        const char *a = argv[i];
        if (i)
            *p++ = ' ';
        bool plain = *a != '\0' && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789_-./:=,+@%") == strlen(a);
        if (plain) {
            p = stpcpy(p, a);
            continue;
        }
        *p++ = '\'';
        for (; *a; a++) {
            if (*a == '\'')
                p = stpcpy(p, "'\\''");
            else
                *p++ = *a;
        }
        *p++ = '\'';
    }
    *p = '\0';
    return out;
}

bool timing_find_hyperfine(char *buf, size_t len)
{
    return spawn_which("hyperfine", buf, len);
}

int timing_read_json(const char *path, struct timing_result *res, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
        return -1;
    }
    json_t *r0 = json_array_get(json_object_get(root, "results"), 0);
    json_t *times = json_object_get(r0, "times");
    if (!json_is_array(times) || json_array_size(times) == 0) {
        snprintf(err, errlen, "%s: no results[0].times", path);
        json_decref(root);
        return -1;
    }
    size_t n = json_array_size(times);
    double *t = malloc(n * sizeof *t);
    if (!t) {
        json_decref(root);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        t[i] = json_number_value(json_array_get(times, i));
    int rc = stats_compute(t, n, &res->st);
    free(res->times);
    res->times = rc == 0 ? t : NULL;
    res->n_times = rc == 0 ? n : 0;
    if (rc != 0)
        free(t);
    json_t *u = json_object_get(r0, "user"), *s = json_object_get(r0, "system");
    res->user_s = json_is_number(u) ? json_number_value(u) : NAN;
    res->sys_s = json_is_number(s) ? json_number_value(s) : NAN;
    json_decref(root);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* The deadline for q, started now (0: none). */
static uint64_t deadline_of(const struct timing_request *q)
{
    return q->timeout_s > 0 ? clock_now_ns() + (uint64_t)(q->timeout_s * 1e9) : 0;
}

static int timed_out(const struct timing_request *q, struct timing_result *res)
{
    snprintf(res->why, sizeof res->why, "timed out after %.0f s (--timeout)", q->timeout_s);
    return TIMING_TIMED_OUT;
}

static int run_hyperfine(const struct timing_request *q, struct timing_result *res, char *err,
                         size_t errlen)
{
    char *cmd = timing_command_line(q->argv);
    if (!cmd) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *prepare = q->prepare_argv ? timing_command_line(q->prepare_argv) : NULL;
    if (q->prepare_argv && !prepare) {
        free(cmd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char warmup[16], runs[16], output[4096];
    snprintf(warmup, sizeof warmup, "%u", q->warmup);
    snprintf(runs, sizeof runs, "%u", q->runs);
    snprintf(output, sizeof output, "--output=%s", q->output_path);
    char *argv[] = {
        (char *)q->hyperfine,
        "-N",
        "--style",
        "none",
        "--warmup",
        warmup,
        "--runs",
        runs,
        "--command-name",
        (char *)q->name,
        "--export-json",
        (char *)q->json_path,
        output,
        prepare ? "--prepare" : "--",
        prepare ? prepare : cmd,
        prepare ? "--" : NULL,
        prepare ? cmd : NULL,
        NULL,
    };
    struct spawn_io io = {.stdout_path = NULL, .stderr_path = q->log_path};
    pid_t pid;
    int rc = spawn_start(argv, &io, &pid, NULL, err, errlen);
    free(cmd);
    free(prepare);
    if (rc != 0)
        return -1;
    int status = spawn_wait_ticking(pid, deadline_of(q), q->tick, q->tick_arg);
    if (status == SPAWN_TIMED_OUT)
        return timed_out(q, res);
    if (status < 0) {
        snprintf(err, errlen, "interrupted");
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char tail[200];
        text_last_line(q->log_path, tail, sizeof tail);
        if (tail[0])
            snprintf(res->why, sizeof res->why, "%s", tail);
        else
            spawn_describe(status, res->why, sizeof res->why);
        return 1;
    }
    return timing_read_json(q->json_path, res, err, errlen);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* hyperfine's export shape, so that everything downstream reads one format. */
static int write_json(const struct timing_request *q, const double *t, size_t n, double user,
                      double sys, const int *codes)
{
    struct stats st;
    if (stats_compute(t, n, &st) != 0)
        return -1;
    json_t *times = json_array(), *exit_codes = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(times, json_real(t[i]));
        json_array_append_new(exit_codes, json_integer(codes[i]));
    }
    char *cmd = timing_command_line(q->argv);
    json_t *r0 = json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:o}", "command",
                           q->name ? q->name : (cmd ? cmd : ""), "mean", st.mean, "stddev",
                           st.stddev, "median", st.median, "user", user, "system", sys, "min",
                           st.min, "max", st.max, "times", times, "exit_codes", exit_codes);
    free(cmd);
    json_t *root = json_pack("{s:[o], s:s}", "results", r0, "timer", "concbench builtin");
    int rc =
        root ? json_dump_file(root, q->json_path, JSON_INDENT(2) | JSON_REAL_PRECISION(9)) : -1;
    json_decref(root);
    return rc;
}

static int run_builtin(const struct timing_request *q, struct timing_result *res, char *err,
                       size_t errlen)
{
    size_t total = (size_t)q->warmup + q->runs;
    double *t = calloc(q->runs ? q->runs : 1, sizeof *t);
    int *codes = calloc(q->runs ? q->runs : 1, sizeof *codes);
    if (!t || !codes) {
        free(t);
        free(codes);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    double user = 0, sys = 0;
    int rc = 0;
    uint64_t deadline = deadline_of(q);
    for (size_t i = 0; i < total && rc == 0; i++) {
        if (q->prepare_argv) {
            struct spawn_io pio = {.stdout_path = "/dev/null", .stderr_path = "/dev/null"};
            pid_t ppid;
            if (spawn_start(q->prepare_argv, &pio, &ppid, NULL, err, errlen) != 0) {
                rc = -1;
                break;
            }
            int pst = spawn_wait_until(ppid, deadline);
            if (pst == SPAWN_TIMED_OUT) {
                rc = timed_out(q, res);
                break;
            }
            if (pst < 0 || !WIFEXITED(pst) || WEXITSTATUS(pst) != 0) {
                snprintf(err, errlen, pst < 0 ? "interrupted" : "the prepare command failed");
                rc = -1;
                break;
            }
        }
        struct rusage before, after;
        getrusage(RUSAGE_CHILDREN, &before);
        /* Every run's stdout goes to the file, truncated: the last one stays (as
         * hyperfine's --output FILE does). */
        struct spawn_io io = {.stdout_path = q->output_path, .stderr_path = NULL};
        pid_t pid;
        uint64_t t0 = clock_now_ns();
        if (spawn_start(q->argv, &io, &pid, NULL, err, errlen) != 0) {
            rc = -1;
            break;
        }
        int status = spawn_wait_ticking(pid, deadline, q->tick, q->tick_arg);
        uint64_t t1 = clock_now_ns();
        if (status == SPAWN_TIMED_OUT) {
            rc = timed_out(q, res);
            break;
        }
        if (status < 0) {
            snprintf(err, errlen, "interrupted");
            rc = -1;
            break;
        }
        getrusage(RUSAGE_CHILDREN, &after);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char how[64];
            spawn_describe(status, how, sizeof how);
            snprintf(res->why, sizeof res->why, "command failed (%s)", how);
            rc = 1;
            break;
        }
        if (i < q->warmup)
            continue;
        size_t k = i - q->warmup;
        t[k] = (double)(t1 - t0) / 1e9;
        codes[k] = 0;
        user += tv_s(after.ru_utime) - tv_s(before.ru_utime);
        sys += tv_s(after.ru_stime) - tv_s(before.ru_stime);
    }
    if (rc == 0) {
        user /= q->runs;
        sys /= q->runs;
        if (stats_compute(t, q->runs, &res->st) != 0 ||
            write_json(q, t, q->runs, user, sys, codes) != 0) {
            snprintf(err, errlen, "cannot write %s", q->json_path);
            rc = -1;
        }
        res->user_s = user;
        res->sys_s = sys;
        res->times = t;
        res->n_times = q->runs;
        t = NULL;
    }
    free(t);
    free(codes);
    return rc;
}

void timing_result_free(struct timing_result *res)
{
    free(res->times);
    res->times = NULL;
    res->n_times = 0;
}

int timing_run(const struct timing_request *q, struct timing_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (q->runs == 0 || q->runs > TIMING_MAX_RUNS) {
        snprintf(err, errlen, "runs must be 1..%d", TIMING_MAX_RUNS);
        return -1;
    }
    return q->hyperfine ? run_hyperfine(q, res, err, errlen) : run_builtin(q, res, err, errlen);
}
