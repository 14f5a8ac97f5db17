/* flags — the flags workload: URLs, one download (blocking, or split for an event loop),
 * classification of the outcome, and saving files atomically. Knows no strategy. */
#ifndef CONCBENCH_FLAGS_H
#define CONCBENCH_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

#include "job.h"

#define FLAGS_DEFAULT_TIMEOUT_S 3.1          /* seconds per request, the book's flags2 value */
#define FLAGS_DEFAULT_MAX_BODY (1024 * 1024) /* refuse bodies larger than this */
#define FLAGS_DEFAULT_MAX_HEAD (64 * 1024)   /* refuse status line + headers + trailers larger */
#define FLAGS_URL_MAX 512

/* The flags workload's configuration: read-only once a run starts. */
struct flags_config {
    char base_url[FLAGS_URL_MAX]; /* e.g. http://127.0.0.1:8000/flags, no trailing slash */
    const char *out_dir;          /* where files go; NULL with --no-save */
    double timeout_s;             /* per request */
    bool meta;                    /* --meta: flag, then metadata.json, save as Country_Name.gif */
    size_t max_body_bytes;        /* bodies beyond this are an error */
    size_t max_head_bytes;        /* a head (headers and trailers) beyond this is an error */
    char (*codes)[3];             /* distinct country codes, upper case */
    size_t n_codes;
    size_t n_jobs; /* n_codes * repeat; job i downloads codes[i % n_codes] */
};

enum flags_step {
    FLAGS_STEP_FLAG = 0, /* GET {base}/{cc}/{cc}.gif */
    FLAGS_STEP_META = 1, /* GET {base}/{cc}/metadata.json */
};

/* What flags_finish asks the caller to do next. */
enum flags_next {
    FLAGS_DONE = 0,  /* result final: report it */
    FLAGS_AGAIN = 1, /* another request is prepared on the same easy handle: perform it */
    FLAGS_SAVE = 2,  /* found: call flags_save (blocking: file I/O, a large metadata.json's
                       * parse; any thread), then report */
};

/* One job's download state: caller-allocated, reusable across jobs (buffers are kept). */
struct flags_transfer {
    /* public */
    CURL *easy; /* the caller's handle; reused for keep-alive */
    /* private */
    const struct flags_config *cfg;
    size_t index; /* job index */
    char cc[3];
    enum flags_step step;
    char *body; /* response body of the current request */
    size_t body_len, body_cap;
    char *image; /* with --meta: the flag, kept while metadata is fetched */
    size_t image_len, image_cap;
    char save_name[128]; /* file name under out_dir */
    bool meta_pending;   /* a large metadata.json: flags_save parses it */
    bool save_pending;   /* flags_save writes the file */
    bool too_big;        /* body passed max_body_bytes */
    size_t head_len;     /* header and trailer bytes of the current request */
    bool head_too_big;   /* they passed max_head_bytes */
    int socket_errno;    /* socket(2)'s errno when it failed (EMFILE), else 0 */
};

/* The URL of a code's flag or metadata: "{base}/{cc}/{cc}.gif", lower case like the book. */
void flags_url(char *buf, size_t len, const char *base, const char *cc, enum flags_step step);

/* A timeout in seconds as libcurl's milliseconds, rounded up and at least 1: libcurl reads
 * 0 as "never time out", which a -t of 0.0004 must not become. */
long flags_timeout_ms(double timeout_s);

/* Prepare job `index` of cfg on t->easy (which the caller created): URL, timeout, body
 * limit, an empty body. Cannot fail: of these options only the URL's copy can (out of
 * memory), which leaves no URL set, so the transfer fails and flags_finish reports it. */
void flags_prepare(struct flags_transfer *t, const struct flags_config *cfg, size_t index);

/* Classify the finished request (rc from curl) into out. Returns FLAGS_DONE, FLAGS_AGAIN
 * (with --meta, the metadata request is now prepared) or FLAGS_SAVE. */
enum flags_next flags_finish(struct flags_transfer *t, CURLcode rc, struct job_result *out);

/* Classify a finished request into out (outcome, reason, http_status, unreachable) from
 * curl's result code, the HTTP status and the socket errno. Pure: no I/O. */
enum job_outcome flags_classify(enum flags_step step, CURLcode rc, long status, long os_errno,
                                size_t max_body_bytes, bool too_big, struct job_result *out);

/* The blocking tail after FLAGS_SAVE: parse a metadata.json too large to parse where the
 * transfer ended (an event loop's thread), then write the found image to
 * out_dir/save_name through a temporary name and rename(2): a partial file never exists
 * under its final name. On failure, out becomes an error. With
 * --meta, a name already holding another flag (two codes, one country name) is not
 * replaced: this one is saved as "Name (CC).gif" and out->renamed is set. */
void flags_save(struct flags_transfer *t, struct job_result *out);

/* The blocking path: prepare, perform (again for --meta), finish, save. */
void flags_download(struct flags_transfer *t, const struct flags_config *cfg, size_t index,
                    struct job_result *out);

/* Configure an easy handle the way every strategy uses it (timeouts, no signals,
 * keep-alive). Returns NULL when out of memory. */
CURL *flags_easy_new(void);

/* Free the transfer's buffers (not the easy handle). */
void flags_transfer_release(struct flags_transfer *t);

/* Turn a metadata country name into a safe file name: spaces to '_', no '/', no leading
 * '.', no control bytes; "Country_Name.gif". A name too long for buf is cut before a
 * UTF-8 character, never inside one. */
void flags_safe_name(char *buf, size_t len, const char *country);

/* The flags workload's jobs over cfg (worker_init makes one easy handle per worker; its
 * steps split a download for an event loop). Registered in the table as "flags". */
void flags_workload(struct workload *w, const struct flags_config *cfg);

#endif
