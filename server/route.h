/* route — a request's URI to what flagd serves: a pure function, safe to fuzz. */
#ifndef FLAGD_ROUTE_H
#define FLAGD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_URI_MAX \
    256 /* the longest flag path is 23 bytes, a site page's under 150
                           * (site.h); longer is abuse: 414 */

enum route_kind {
    ROUTE_GIF,       /* /flags/{cc}/{cc}.gif */
    ROUTE_META,      /* /flags/{cc}/metadata.json */
    ROUTE_STATS,     /* /stats, optionally ?reset=1 */
    ROUTE_SITE,      /* /site/...: the crawlable site (site.h says which paths exist) */
    ROUTE_NOT_FOUND, /* well-formed, but nothing flagd serves: 404 */
    ROUTE_BAD,       /* malformed or a traversal attempt: 400 */
    ROUTE_TOO_LONG,  /* over ROUTE_URI_MAX: 414 */
};

struct route {
    enum route_kind kind;
    char cc[3]; /* the code, two lowercase letters, for GIF and META; else "" */
    bool reset; /* STATS with reset=1 among its query parameters */
};

/* Classify the request-target uri (len bytes, not necessarily NUL-terminated; a NUL byte
 * inside is malformed). Only the validated two-letter code leaves this function: callers
 * resolve files from r->cc, never from the URI. Rules, in order:
 *   - longer than ROUTE_URI_MAX → TOO_LONG;
 *   - a byte outside printable ASCII (NUL, space, controls, 8-bit) → BAD;
 *   - a path (the part before '?') that does not start with '/' (absolute-form, '*'),
 *     or holds '%' (no encoding is ever needed, so %2e %2f %00 are refused outright),
 *     '\', "//", or a "." or ".." segment → BAD;
 *   - a path under /site/ → SITE (site_lookup then finds the page, or a 404);
 *   - /flags/{cc}/{cc}.gif and /flags/{cc}/metadata.json with cc exactly [a-z]{2} (the
 *     book lower-cases its URLs; both codes equal) → GIF, META; /stats → STATS;
 *   - anything else → NOT_FOUND.
 * A query string is ignored except on /stats. Returns r->kind. */
enum route_kind route_parse(const char *uri, size_t len, struct route *r);

/* The HTTP status for a kind that is not served: 404, 400, 414; 200 for the others. */
int route_status(enum route_kind kind);

#endif
