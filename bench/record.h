/* record — a driver's --json record, read with jansson, and the validation of one record
 * against the sequential reference. */
#ifndef CONCBENCH_RECORD_H
#define CONCBENCH_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#define RECORD_HEX_LEN 64 /* a SHA-256 digest in hex */

struct record {
    char driver[32];
    char workload[16];
    long long items, ok, not_found, errors, done;
    long long workers, concurrency;
    double elapsed_s; /* the driver's work phase */
    long long bytes;
    double user_s, sys_s;
    long long max_rss_kb, ctx_voluntary, ctx_involuntary;
    long long interrupted; /* signal number, 0 when complete */
    long long size_bytes;  /* sha */
    long long depth;       /* crawl: the deepest page's distance from the start, else 0 */
    char (*digests)[RECORD_HEX_LEN + 1]; /* sha, in job order (owned) */
    size_t n_digests;
    char content_digest[RECORD_HEX_LEN + 1]; /* over sorted (code or job, SHA-256); "" if none */
};

/* Parse the last line of text that is a JSON object (a driver prints exactly one).
 * 0, or -1 with a one-line message in err. The caller frees r with record_free. */
int record_parse(const char *text, struct record *r, char *err, size_t errlen);

void record_free(struct record *r);

/* Whether r got the same answers as the reference ref: items, ok, not_found, errors,
 * the content digest (when the reference has one), bytes (when neither had an error: an
 * error may end a body part way), and for sha every digest. false with what differs in
 * why ("ok 194, sequential 193"). */
bool record_matches(const struct record *ref, const struct record *r, char *why, size_t len);

#endif
