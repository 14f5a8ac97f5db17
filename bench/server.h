/* server — the harness's own flagd: started on free ports, its ready lines parsed, and
 * always stopped (normal end, SIGINT/SIGTERM to concbench, a failed driver). */
#ifndef CONCBENCH_SERVER_H
#define CONCBENCH_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#define SERVER_READY_TIMEOUT_S 10.0 /* flagd prints its listeners well before this */
#define SERVER_URL_MAX 256

enum server_profile { SERVER_LOCAL, SERVER_DELAY, SERVER_ERROR, SERVER_PROFILES };

struct server {
    pid_t pid;                                 /* 0 when not running */
    int out_fd;                                /* flagd's stdout, kept open until stop */
    char url[SERVER_PROFILES][SERVER_URL_MAX]; /* base URLs, "" when not announced */
};

/* The profile named by label (LOCAL, DELAY, ERROR; case-insensitive), or -1. */
int server_profile_parse(const char *label);
const char *server_profile_name(enum server_profile p);

/* Parse one ready line "flagd: DELAY http://127.0.0.1:41234/flags (delay 20 ms)" into
 * s->url. Returns the profile, or -1 when the line is something else. */
int server_parse_ready(struct server *s, const char *line);

/* Start argv (argv[0] = flagd's path, with --port 0 and the caller's options) and wait
 * until it announced all three listeners. stderr goes to log_path. 0, or -1 with a
 * one-line message in err (flagd is not left running then). */
int server_start(struct server *s, char *const argv[], const char *log_path, char *err,
                 size_t errlen);

/* SIGTERM, then SIGKILL after a grace period; reaps it. Idempotent. Returns flagd's wait
 * status, or -1 when it was not running. */
int server_stop(struct server *s);

#define SERVER_PROBE_TIMEOUT_S 5

/* Whether a flag server someone else runs (--server URL) accepts connections: one TCP (and
 * TLS) connection through libcurl, at most SERVER_PROBE_TIMEOUT_S. 0, or -1 with libcurl's
 * reason in err ("Failed to connect to 127.0.0.1 port 9: Connection refused"). */
__attribute__((warn_unused_result)) int server_probe(const char *url, char *err, size_t errlen);

#endif
