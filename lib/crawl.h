/* crawl — the crawl workload: fetch a page, parse its HTML, resolve its links, and hand the
 * new ones back as jobs discovered while the run goes (job.h's job_source). Knows no
 * strategy: each strategy's frontier is its own way of handing out the jobs this adds. */
#ifndef CONCBENCH_CRAWL_H
#define CONCBENCH_CRAWL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"

#define CRAWL_DEFAULT_START "/site/"   /* flagd's site (server/site.h) */
#define CRAWL_DEFAULT_MAX_PAGES 200000 /* flagd's largest site, its 404s and some room */
#define CRAWL_MAX_MAX_PAGES 1000000
#define CRAWL_NO_MAX_DEPTH UINT32_MAX /* --max-depth not given */
#define CRAWL_URL_MAX 1024            /* a longer link is counted as bad, not followed */
#define CRAWL_HOST_MAX 256

/* Which links a crawl follows: those on the start URL's host (any port), or with
 * --same-host on its host and port only. */
struct crawl_scope {
    char host[CRAWL_HOST_MAX]; /* lower case, as curl_url gives it */
    char port[8];              /* the start's port, default port filled in */
    bool same_port;            /* --same-host */
};

/* What resolving one href gave. */
enum crawl_link {
    CRAWL_LINK_FOLLOW = 0,   /* http(s), in scope: out holds the absolute URL */
    CRAWL_LINK_OTHER_SCHEME, /* mailto:, javascript:, file:, ...: skipped and counted */
    CRAWL_LINK_OFFSITE,      /* another host (or port with --same-host) */
    CRAWL_LINK_BAD,          /* curl_url refused it, or it is over CRAWL_URL_MAX */
};

/* What one page held, at the head of a job's output (job_result.output): the counts, then
 * n_urls NUL-terminated absolute URLs to follow, in document order (duplicates kept: the
 * main thread's visited set drops them). */
struct crawl_found {
    uint32_t links; /* <a href> seen */
    uint32_t other_schemes;
    uint32_t offsite;
    uint32_t bad;
    uint32_t n_urls;
};

/* The scope of a crawl starting at start_url (absolute http or https). 0, or -EINVAL. */
int crawl_scope_init(struct crawl_scope *s, const char *start_url, bool same_host)
    __attribute__((warn_unused_result));

/* Resolve href (as written in a page, surrounding spaces allowed) against the page's URL
 * base with libcurl's URL API, drop its fragment, and say whether to follow it; the
 * normalised absolute URL goes into out (len bytes) for CRAWL_LINK_FOLLOW. Pure. */
enum crawl_link crawl_resolve(const char *base, const char *href, const struct crawl_scope *s,
                              char *out, size_t len);

/* Parse the HTML page html (len bytes, fetched from base) with libxml2's HTML parser and
 * collect its <a href> links as an output blob (struct crawl_found, then the URLs) into
 * *blob (malloc'ed, the caller frees) and *blob_len. Returns 0; -EBADMSG for a page that
 * is not HTML it can read (a NUL byte, no document), with the reason in err; -ENOMEM.
 * Any thread (libxml2 is loaded at the first call, once; crawl_init_parser does it first
 * on the main thread so that a missing library is a set-up error). */
int crawl_extract(const char *html, size_t len, const char *base, const struct crawl_scope *s,
                  void **blob, uint32_t *blob_len, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Read a blob of crawl_extract: its counts into *f, and a pointer to its first URL (each
 * NUL-terminated, n_urls of them). 0, or -EINVAL when the blob is cut short or malformed. */
int crawl_found_read(const void *blob, size_t len, struct crawl_found *f, const char **urls)
    __attribute__((warn_unused_result));

/* Load libxml2 (dlopen: only a crawl pays for it) and run its one-time set-up, once per
 * process; later calls return the first one's result. 0, or -ENOENT with the reason in err
 * ("cannot load libxml2.so.2: ..."). Any thread. */
int crawl_init_parser(char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
