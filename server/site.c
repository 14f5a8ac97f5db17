/* site — flagd's crawlable site: paths, pages and links as pure functions of the config. */
#include "site.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SITE_PREFIX "/site/"
#define SITE_MANIFEST_PATH "/site/manifest.json"
#define SITE_ODD_PREFIX "/site/odd/"
#define SITE_HUGE_LINE "<p>filler to be over a crawler's body limit, nothing to parse.</p>\n"

enum site_tag { SITE_TAG_FORM = 1, SITE_TAG_BROKEN = 2 };

/* splitmix64's finaliser, as fate.c: neighbouring pages get unrelated choices */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static uint64_t site_hash(const struct site_config *c, uint32_t page, uint32_t k, enum site_tag tag)
{
    return mix(mix(c->seed) ^ ((uint64_t)page << 24 | (uint64_t)(k & 0xffff) << 8 | tag));
}

static uint32_t parent_of(const struct site_config *c, uint32_t page)
{
    return (page - 1) / c->fanout;
}

unsigned site_depth(const struct site_config *c, uint32_t page)
{
    unsigned d = 0;
    for (; page > 0; page = parent_of(c, page))
        d++;
    return d;
}

unsigned site_max_depth(const struct site_config *c)
{
    return site_depth(c, c->pages - 1); /* heap order: the last page is a deepest one */
}

void site_path(const struct site_config *c, uint32_t page, char *buf, size_t len)
{
    uint32_t chain[64];
    unsigned n = 0;
    for (uint32_t p = page; p > 0 && n < 64; p = parent_of(c, p))
        chain[n++] = p;
    size_t k = (size_t)snprintf(buf, len, "%s", SITE_PREFIX);
    while (n-- > 0 && k < len)
        k += (size_t)snprintf(buf + k, len - k, "p%u/", chain[n]);
}

bool site_broken_link(const struct site_config *c, uint32_t page, char *buf, size_t len)
{
    if (site_hash(c, page, 0, SITE_TAG_BROKEN) % SITE_BROKEN_EVERY != 0)
        return false;
    if (buf) {
        site_path(c, page, buf, len);
        size_t k = strlen(buf);
        snprintf(buf + k, len > k ? len - k : 0, "gone-%u/", page);
    }
    return true;
}

/* "p{n}" as a whole segment at p[0..len): its number, or -1. */
static long segment_number(const char *p, size_t len)
{
    if (len < 2 || len > 7 || p[0] != 'p' || p[1] < '0' || p[1] > '9' || (p[1] == '0' && len > 2))
        return -1;
    long v = 0;
    for (size_t i = 1; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

enum site_kind site_lookup(const struct site_config *c, const char *path, size_t len,
                           uint32_t *page)
{
    const size_t pre = sizeof SITE_PREFIX - 1;
    *page = 0;
    if (len == sizeof SITE_MANIFEST_PATH - 1 && memcmp(path, SITE_MANIFEST_PATH, len) == 0)
        return SITE_MANIFEST;
    if (len < pre || memcmp(path, SITE_PREFIX, pre) != 0)
        return SITE_MISSING;
    static const char *const odd_names[SITE_ODDS] = {
        "", "binary.gif", "huge.html", "nul.html", "broken.html", "deep.html", "loop", "r1", "r2",
    };
    const size_t odd_pre = sizeof SITE_ODD_PREFIX - 1;
    if (len >= odd_pre && memcmp(path, SITE_ODD_PREFIX, odd_pre) == 0) {
        for (uint32_t i = 0; i < SITE_ODDS; i++)
            if (strlen(odd_names[i]) == len - odd_pre &&
                memcmp(path + odd_pre, odd_names[i], len - odd_pre) == 0) {
                *page = i;
                return SITE_ODD;
            }
        return SITE_MISSING;
    }
    /* /site/p1/p9/...: each segment a child of the one before, ending in '/' */
    uint32_t cur = 0;
    size_t i = pre;
    while (i < len) {
        const char *slash = memchr(path + i, '/', len - i);
        if (!slash)
            return SITE_MISSING;
        long n = segment_number(path + i, (size_t)(slash - (path + i)));
        if (n <= 0 || n >= (long)c->pages || parent_of(c, (uint32_t)n) != cur)
            return SITE_MISSING;
        cur = (uint32_t)n;
        i = (size_t)(slash - path) + 1;
    }
    *page = cur;
    return SITE_PAGE;
}

/* Append to buf at *k, never past len. */
__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t len, size_t *k,
                                                      const char *fmt, ...)
{
    if (*k >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *k, len - *k, fmt, ap);
    va_end(ap);
    if (n > 0)
        *k = *k + (size_t)n < len ? *k + (size_t)n : len - 1;
}

size_t site_render(const struct site_config *c, uint32_t page, char *buf, size_t len,
                   unsigned *links)
{
    size_t k = 0;
    unsigned n = 0;
    put(buf, len, &k,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Page %u</title></head>\n"
        "<body><h1 id=\"top\">Page %u</h1>\n<p>Depth %u. <a href=\"/site/\">Top</a>",
        page, page, site_depth(c, page));
    n++;
    if (page > 0) {
        put(buf, len, &k, ", <a href=\"../\">up</a>");
        n++;
    }
    put(buf, len, &k, ", <a href=\"#top\">this page</a>.</p>\n<ul>\n");
    n++;
    uint64_t first = (uint64_t)page * c->fanout + 1;
    for (uint64_t child = first; child < first + c->fanout && child < c->pages; child++) {
        char href[SITE_PATH_MAX];
        unsigned form =
            (unsigned)(site_hash(c, page, (uint32_t)(child - first), SITE_TAG_FORM) % 4);
        if (form == 3 && page == 0)
            form = 0; /* /site/ has no "../p0/" */
        switch (form) {
        case 0: snprintf(href, sizeof href, "p%u/", (unsigned)child); break;
        case 1: site_path(c, (uint32_t)child, href, sizeof href); break;
        case 2: snprintf(href, sizeof href, "./p%u/", (unsigned)child); break;
        default: snprintf(href, sizeof href, "../p%u/p%u/", page, (unsigned)child); break;
        }
        put(buf, len, &k, "<li><a href=\"%s\">Page %u</a></li>\n", href, (unsigned)child);
        n++;
    }
    if (first < c->pages) { /* a duplicate: the first child again, as written first */
        put(buf, len, &k, "<li><a href=\"p%u/\">Page %u again</a></li>\n", (unsigned)first,
            (unsigned)first);
        n++;
    }
    put(buf, len, &k, "</ul>\n");
    uint32_t next = page + 1;
    if (page > 0 && next < c->pages && parent_of(c, next) == parent_of(c, page)) {
        put(buf, len, &k, "<p>Next: <a href=\"../p%u/\">Page %u</a></p>\n", next, next);
        n++;
    }
    char gone[SITE_PATH_MAX];
    if (site_broken_link(c, page, gone, sizeof gone)) {
        put(buf, len, &k, "<p>Moved away: <a href=\"gone-%u/\">an old page</a></p>\n", page);
        n++;
    }
    put(buf, len, &k, "</body></html>\n");
    if (links)
        *links = n;
    return k;
}

static const char odd_index[] =
    "<!DOCTYPE html>\n<html><head><title>Odd pages</title></head><body>\n"
    "<h1>What a crawler must survive</h1>\n<ul>\n"
    "<li><a href=\"binary.gif\">not HTML</a></li>\n"
    "<li><a href=\"huge.html\">over --max-body</a></li>\n"
    "<li><a href=\"nul.html\">a NUL byte</a></li>\n"
    "<li><a href=\"broken.html\">broken markup</a></li>\n"
    "<li><a href=\"loop\">a redirect to itself</a></li>\n"
    "<li><a href=\"r1\">two redirects in a cycle</a></li>\n"
    "<li><a href=\"missing.html\">a page that does not exist</a></li>\n"
    "<li><a href=\"mailto:someone@example.com\">mail</a></li>\n"
    "<li><a href=\"javascript:void(0)\">script</a></li>\n"
    "<li><a href=\"file:///etc/passwd\">a file</a></li>\n"
    "<li><a href=\"http://elsewhere.invalid/\">another host</a></li>\n"
    "<li><a href=\"../odd/\">this page again</a></li>\n"
    "</ul></body></html>\n";

static const char odd_nul[] =
    "<html><body><a href=\"broken.html\">a</a>\0<p>after the NUL</p></body></html>\n";

static const char odd_broken[] =
    "<html><body><p>unclosed <b>bold <a href=deep.html>deep<div><table><tr><td>"
    "<a href='../odd/'>up</a><a>no href</a><a href=\"\">empty</a>&amp; &bogus; <p <p>";

static const char odd_deep[] =
    "<!DOCTYPE html><html><body><a href=\"broken.html\">back</a></body></html>\n";

/* a GIF header and a few bytes: what an image looks like to a crawler */
static const char odd_gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04";

void site_odd(enum site_odd which, struct site_odd_answer *a)
{
    *a = (struct site_odd_answer){.status = 200, .type = "text/html; charset=utf-8", .repeat = 1};
    switch (which) {
    case SITE_ODD_INDEX:
        a->body = odd_index;
        a->len = sizeof odd_index - 1;
        break;
    case SITE_ODD_BINARY:
        a->type = "image/gif";
        a->body = odd_gif;
        a->len = sizeof odd_gif - 1;
        break;
    case SITE_ODD_HUGE:
        a->body = SITE_HUGE_LINE;
        a->len = sizeof SITE_HUGE_LINE - 1;
        a->repeat = SITE_ODD_HUGE_BYTES / a->len + 1;
        break;
    case SITE_ODD_NUL:
        a->body = odd_nul;
        a->len = sizeof odd_nul - 1;
        break;
    case SITE_ODD_BROKEN:
        a->body = odd_broken;
        a->len = sizeof odd_broken - 1;
        break;
    case SITE_ODD_DEEP:
        a->body = odd_deep;
        a->len = sizeof odd_deep - 1;
        break;
    case SITE_ODD_LOOP:
        a->status = 302;
        a->location = "loop";
        break;
    case SITE_ODD_R1:
        a->status = 302;
        a->location = "r2";
        break;
    case SITE_ODD_R2:
        a->status = 302;
        a->location = "r1";
        break;
    default:
        a->status = 404;
        a->type = "text/plain";
        break;
    }
    if (a->status == 302) {
        a->type = "text/plain";
        a->body = "302 Found\n";
        a->len = strlen(a->body);
    }
}
