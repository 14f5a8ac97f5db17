/* cli — the options every driver shares (getopt_long), usage text and exit codes. */
#ifndef CONCBENCH_CLI_H
#define CONCBENCH_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "job.h"
#include "options.h"

enum cli_exit {
    CLI_EXIT_OK = 0,    /* the run completed (server errors are results) */
    CLI_EXIT_FAIL = 1,  /* could not run */
    CLI_EXIT_USAGE = 2, /* bad arguments */
};

/* Parse results: 0 = run, CLI_HELP = --help was printed, -EINVAL = bad usage (message in
 * err). */
#define CLI_HELP 1

#define CLI_DEFAULT_SERVER "LOCAL"
#define CLI_DEFAULT_OUT_DIR "downloads"
#define CLI_MAX_REPEAT 1000
#define CLI_MAX_EXECUTOR 256
#define CLI_MAX_ASKED 1000000000 /* -m/-w above a driver's maximum are clamped up to here */

/* Parse argv (argv[1] is the workload, looked up in the workload table) for strategy s.
 * Returns 0, CLI_HELP (usage was printed to stdout) or -EINVAL with a one-line message in
 * err. Defaults come from s. */
int cli_parse(int argc, char **argv, const struct strategy *s, struct cli_options *o, char *err,
              size_t errlen) __attribute__((warn_unused_result));

/* Print the usage of a driver to f. */
void cli_usage(FILE *f, const struct strategy *s);

/* Map a server label to its base URL: LOCAL/DELAY/ERROR → http://127.0.0.1:800{0,1,2}/flags;
 * anything else must be an http(s):// URL and is used as is (trailing '/' dropped).
 * Returns 0 or -EINVAL for something that is neither. */
int cli_server_url(const char *label, char *buf, size_t len) __attribute__((warn_unused_result));

/* Parse a size with an optional K/M/G suffix (powers of 1024): "16M" → 16777216.
 * Returns 0 or -EINVAL for anything else (including 0 and overflow). */
int cli_parse_size(const char *s, size_t *out) __attribute__((warn_unused_result));

#endif
