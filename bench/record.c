/* record — drivers' --json records and their validation. */
#include "record.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_REAL_INT_MAX 9007199254740992.0 /* 2^53: every whole double up to it is exact */

/* A whole number field; a real is taken only when whole and within ±2^53 (casting 1e300 or
 * NaN to an integer is undefined behaviour). Anything else sets *missing. */
static long long get_int(json_t *o, const char *key, bool *missing)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v)) {
        double x = json_real_value(v);
        if (x >= -RECORD_REAL_INT_MAX && x <= RECORD_REAL_INT_MAX && x == (double)(long long)x)
            return (long long)x;
    }
    *missing = true;
    return 0;
}

static double get_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static void get_str(json_t *o, const char *key, char *buf, size_t len)
{
    json_t *v = json_object_get(o, key);
    snprintf(buf, len, "%s", json_is_string(v) ? json_string_value(v) : "");
}

void record_free(struct record *r)
{
    free(r->digests);
    r->digests = NULL;
    r->n_digests = 0;
}

int record_parse(const char *text, struct record *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    /* The last line that opens an object: drivers print one, but a wrapper may not. */
    const char *start = NULL;
    for (const char *p = text; *p; p++)
        if (*p == '{' && (p == text || p[-1] == '\n'))
            start = p;
    if (!start) {
        snprintf(err, errlen, "no --json record on its stdout");
        return -1;
    }
    json_error_t je;
    json_t *o = json_loadb(start, strcspn(start, "\n"), 0, &je);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "bad --json record: %s", o ? "not an object" : je.text);
        json_decref(o);
        return -1;
    }
    bool missing = false;
    get_str(o, "driver", r->driver, sizeof r->driver);
    get_str(o, "workload", r->workload, sizeof r->workload);
    r->items = get_int(o, "items", &missing);
    r->ok = get_int(o, "ok", &missing);
    r->not_found = get_int(o, "not_found", &missing);
    r->errors = get_int(o, "errors", &missing);
    bool optional = false;
    r->done = get_int(o, "done", &optional);
    if (optional)
        r->done = r->ok + r->not_found + r->errors;
    r->workers = get_int(o, "workers", &optional);
    r->concurrency = get_int(o, "concurrency", &optional);
    r->elapsed_s = get_num(o, "elapsed_s");
    r->bytes = get_int(o, "bytes", &optional);
    r->user_s = get_num(o, "user_s");
    r->sys_s = get_num(o, "sys_s");
    r->max_rss_kb = get_int(o, "max_rss_kb", &optional);
    r->ctx_voluntary = get_int(o, "ctx_voluntary", &optional);
    r->ctx_involuntary = get_int(o, "ctx_involuntary", &optional);
    r->interrupted = get_int(o, "interrupted", &optional);
    r->size_bytes = get_int(o, "size_bytes", &optional);
    r->depth = get_int(o, "depth", &optional);
    get_str(o, "content_digest", r->content_digest, sizeof r->content_digest);
    if (missing) {
        snprintf(err, errlen, "--json record lacks items/ok/not_found/errors as whole numbers");
        json_decref(o);
        return -1;
    }
    json_t *d = json_object_get(o, "digests");
    if (json_is_array(d) && json_array_size(d) > 0) {
        r->n_digests = json_array_size(d);
        r->digests = calloc(r->n_digests, sizeof *r->digests);
        if (!r->digests) {
            snprintf(err, errlen, "out of memory");
            json_decref(o);
            return -1;
        }
        for (size_t i = 0; i < r->n_digests; i++) {
            json_t *h = json_array_get(d, i);
            snprintf(r->digests[i], sizeof r->digests[i], "%s",
                     json_is_string(h) ? json_string_value(h) : "");
        }
    }
    json_decref(o);
    return 0;
}

bool record_matches(const struct record *ref, const struct record *r, char *why, size_t len)
{
    const struct {
        const char *name;
        long long want, got;
    } counts[] = {
        {"items", ref->items, r->items},
        {"ok", ref->ok, r->ok},
        {"not_found", ref->not_found, r->not_found},
        {"errors", ref->errors, r->errors},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        if (counts[i].want != counts[i].got) {
            snprintf(why, len, "%s %lld, sequential %lld", counts[i].name, counts[i].got,
                     counts[i].want);
            return false;
        }
    }
    if (r->interrupted) {
        snprintf(why, len, "interrupted by signal %lld", r->interrupted);
        return false;
    }
    if (ref->content_digest[0] && strcmp(ref->content_digest, r->content_digest) != 0) {
        if (!r->content_digest[0])
            snprintf(why, len, "no content_digest in its --json record");
        else
            snprintf(why, len, "content_digest %.12s…, sequential %.12s…", r->content_digest,
                     ref->content_digest);
        return false;
    }
    if (ref->errors == 0 && r->errors == 0 && ref->bytes != r->bytes) {
        snprintf(why, len, "bytes %lld, sequential %lld", r->bytes, ref->bytes);
        return false;
    }
    if (ref->n_digests != r->n_digests) {
        snprintf(why, len, "%zu digests, sequential %zu", r->n_digests, ref->n_digests);
        return false;
    }
    for (size_t i = 0; i < r->n_digests; i++) {
        if (strcmp(ref->digests[i], r->digests[i]) != 0) {
            snprintf(why, len, "digest of job %zu differs (%.12s…, sequential %.12s…)", i,
                     r->digests[i], ref->digests[i]);
            return false;
        }
    }
    return true;
}
