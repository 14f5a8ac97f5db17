/* timing — whole-process timing of one configuration: hyperfine -N when installed,
 * otherwise concbench's own fork/exec loop on CLOCK_MONOTONIC with the same statistics
 * and the same JSON export. */
#ifndef CONCBENCH_TIMING_H
#define CONCBENCH_TIMING_H

#include <stdbool.h>
#include <stddef.h>

#include "stats.h"

struct timing_request {
    char *const *argv; /* the command, argv[0] a path */
    const char *name;  /* hyperfine's --command-name */
    unsigned warmup, runs;
    const char *json_path;     /* the raw record: hyperfine's --export-json, or its shape */
    const char *output_path;   /* the last run's stdout (hyperfine --output FILE) */
    const char *log_path;      /* hyperfine's stderr */
    const char *hyperfine;     /* hyperfine's path, NULL: time it ourselves */
    double timeout_s;          /* for all runs together; 0: none */
    char *const *prepare_argv; /* run before every run, untimed (hyperfine --prepare); NULL */
    void (*tick)(void *arg);   /* called about every 50 ms while hyperfine runs; NULL */
    void *tick_arg;
};

struct timing_result {
    struct stats st;      /* over the timed runs, in seconds */
    double user_s, sys_s; /* mean CPU per run */
    char why[256];        /* when the command failed: how */
    double *times;        /* every timed run, seconds, in order (owned) */
    size_t n_times;
};

/* Release what a timing_result owns (safe on a zeroed one). */
void timing_result_free(struct timing_result *res);

#define TIMING_FAILED 1
#define TIMING_TIMED_OUT 2

/* Time q. Returns 0 (res filled), TIMING_FAILED when the command failed in some run,
 * TIMING_TIMED_OUT when the runs took longer than q->timeout_s together (everything was
 * stopped; res->why says either), or
 * -1 with err when it could not be timed at all (or concbench was interrupted). */
int timing_run(const struct timing_request *q, struct timing_result *res, char *err, size_t errlen);

/* Read a hyperfine --export-json file (its first result) into res: statistics are
 * recomputed from "times". 0, or -1 with err. */
int timing_read_json(const char *path, struct timing_result *res, char *err, size_t errlen);

/* argv as one command line, each word quoted for a POSIX shell only when it needs it
 * (what hyperfine -N splits back). Returns malloc'd text or NULL. */
char *timing_command_line(char *const *argv);

/* hyperfine's path from $PATH into buf; false when it is not installed. */
bool timing_find_hyperfine(char *buf, size_t len);

#endif
