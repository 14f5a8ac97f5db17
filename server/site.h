/* site — flagd's crawlable site under /site/: a pure function of (pages, fanout, seed), so
 * that every client, every run and every process linking this file sees the same pages.
 *
 * Page 0 is /site/; page i > 0 is a child of page (i - 1) / F, at its parent's path plus
 * "p{i}/" (/site/p1/p9/ for F = 8): a complete F-ary tree, depth about log_F N, every page
 * reachable from /site/. Each page links to its children (relative "p9/", absolute
 * "/site/p1/p9/", "./p9/" and "../p1/p9/" forms, chosen by the seed), to its first child
 * twice, to its next sibling ("../p10/"), back up ("../" and "/site/"), to a fragment of
 * itself ("#top"), and one page in SITE_BROKEN_EVERY to "gone-{i}/", which does not exist
 * (404). /site/odd/ holds the bad input a crawler must survive (site_odd below); nothing
 * under /site/ links to it. */
#ifndef FLAGD_SITE_H
#define FLAGD_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SITE_DEFAULT_PAGES 1000
#define SITE_MAX_PAGES 100000
#define SITE_DEFAULT_FANOUT 8
#define SITE_MIN_FANOUT 2
#define SITE_MAX_FANOUT 32
#define SITE_BROKEN_EVERY 16 /* about one page in this many has a link that is 404 */
#define SITE_PATH_MAX 256    /* /site/ plus 17 levels of "p99999/" at fanout 2 */
#define SITE_PAGE_MAX 16384  /* a rendered page, SITE_MAX_FANOUT children included */
#define SITE_ODD_HUGE_BYTES (2 * 1024 * 1024) /* over a crawler's default --max-body (1M) */

struct site_config {
    uint32_t pages;  /* --site-pages, 1..SITE_MAX_PAGES */
    uint32_t fanout; /* --site-fanout */
    uint64_t seed;   /* flagd's --seed */
};

/* What a path under /site/ names. */
enum site_kind {
    SITE_PAGE,     /* a page: *page is its number */
    SITE_MANIFEST, /* /site/manifest.json */
    SITE_ODD,      /* /site/odd/...: *page is an enum site_odd */
    SITE_MISSING,  /* anything else: 404 */
};

/* The bad input of /site/odd/. */
enum site_odd {
    SITE_ODD_INDEX = 0, /* /site/odd/: links to all of these, and to other schemes */
    SITE_ODD_BINARY,    /* binary.gif: 200, image/gif: not HTML */
    SITE_ODD_HUGE,      /* huge.html: 200, text/html, SITE_ODD_HUGE_BYTES */
    SITE_ODD_NUL,       /* nul.html: HTML with a NUL byte inside */
    SITE_ODD_BROKEN,    /* broken.html: unclosed tags, unquoted attributes (parses) */
    SITE_ODD_DEEP,      /* deep.html: linked from broken.html, links back (a cycle) */
    SITE_ODD_LOOP,      /* loop: 302 to itself */
    SITE_ODD_R1,        /* r1: 302 to r2 */
    SITE_ODD_R2,        /* r2: 302 to r1 */
    SITE_ODDS
};

/* Classify path (len bytes, the part of a request-target before '?', starting "/site/").
 * A page's path is accepted only in its one canonical form. */
enum site_kind site_lookup(const struct site_config *c, const char *path, size_t len,
                           uint32_t *page);

/* The depth of page (0 for /site/). */
unsigned site_depth(const struct site_config *c, uint32_t page);

/* The deepest page's depth. */
unsigned site_max_depth(const struct site_config *c);

/* The path of page into buf ("/site/p1/p9/"). */
void site_path(const struct site_config *c, uint32_t page, char *buf, size_t len);

/* Whether page links to a page that does not exist, and that path into buf (may be NULL). */
bool site_broken_link(const struct site_config *c, uint32_t page, char *buf, size_t len);

/* Render page as HTML into buf (at least SITE_PAGE_MAX bytes). Returns the body's length;
 * *links = its <a href> count. */
size_t site_render(const struct site_config *c, uint32_t page, char *buf, size_t len,
                   unsigned *links);

/* An odd page: its status (200 or 302), Content-Type, and body (static, sent repeat times:
 * huge.html is one line many times over) or Location. */
struct site_odd_answer {
    int status;
    const char *type;
    const char *body;
    size_t len;
    size_t repeat;        /* the body is sent this many times (1 but for huge.html) */
    const char *location; /* 302: where to, relative to the page */
};
void site_odd(enum site_odd which, struct site_odd_answer *a);

#endif
