/* route — URI validation and classification for flagd (no I/O, no allocation). */
#include "route.h"

#include <string.h>

#define FLAGS_PREFIX "/flags/"
#define GIF_SUFFIX ".gif"
#define META_NAME "metadata.json"
#define STATS_PATH "/stats"
#define SITE_PREFIX "/site/"
#define RESET_PARAM "reset=1"

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

/* Does path[0..len) equal the NUL-terminated s? */
static bool equals(const char *path, size_t len, const char *s)
{
    return strlen(s) == len && memcmp(path, s, len) == 0;
}

/* Is one of the '&'-separated parameters of q[0..len) exactly RESET_PARAM? */
static bool has_reset(const char *q, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || q[i] == '&') {
            if (equals(q + start, i - start, RESET_PARAM))
                return true;
            start = i + 1;
        }
    }
    return false;
}

/* Refuse what could ever name something outside /flags/{cc}/: see route.h. */
static bool path_is_safe(const char *p, size_t len)
{
    if (len == 0 || p[0] != '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '%' || p[i] == '\\')
            return false;
        if (p[i] == '/' && i + 1 < len && p[i + 1] == '/')
            return false;
    }
    /* Dot segments: "/." or "/.." followed by '/' or the end. */
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '/')
            continue;
        size_t dots = 0;
        while (i + 1 + dots < len && p[i + 1 + dots] == '.')
            dots++;
        size_t after = i + 1 + dots;
        if ((dots == 1 || dots == 2) && (after == len || p[after] == '/'))
            return false;
    }
    return true;
}

/* Match /flags/{cc}/{cc}.gif and /flags/{cc}/metadata.json; fill r. */
static enum route_kind match_flags(const char *p, size_t len, struct route *r)
{
    const size_t pre = sizeof FLAGS_PREFIX - 1;
    if (len < pre + 3 || memcmp(p, FLAGS_PREFIX, pre) != 0)
        return ROUTE_NOT_FOUND;
    const char *cc = p + pre;
    if (!is_lower(cc[0]) || !is_lower(cc[1]) || cc[2] != '/')
        return ROUTE_NOT_FOUND;
    const char *file = cc + 3;
    size_t flen = len - pre - 3;
    enum route_kind kind = ROUTE_NOT_FOUND;
    if (flen == 2 + sizeof GIF_SUFFIX - 1 && file[0] == cc[0] && file[1] == cc[1] &&
        memcmp(file + 2, GIF_SUFFIX, sizeof GIF_SUFFIX - 1) == 0)
        kind = ROUTE_GIF;
    else if (equals(file, flen, META_NAME))
        kind = ROUTE_META;
    if (kind != ROUTE_NOT_FOUND) {
        r->cc[0] = cc[0];
        r->cc[1] = cc[1];
        r->cc[2] = '\0';
    }
    return kind;
}

enum route_kind route_parse(const char *uri, size_t len, struct route *r)
{
    memset(r, 0, sizeof *r);
    r->kind = ROUTE_BAD;
    if (len > ROUTE_URI_MAX)
        return r->kind = ROUTE_TOO_LONG;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)uri[i] <= ' ' || (unsigned char)uri[i] >= 0x7f)
            return r->kind;
    const char *q = memchr(uri, '?', len);
    size_t plen = q ? (size_t)(q - uri) : len;
    if (!path_is_safe(uri, plen))
        return r->kind;
    if (equals(uri, plen, STATS_PATH)) {
        r->reset = q && has_reset(q + 1, len - plen - 1);
        return r->kind = ROUTE_STATS;
    }
    if (plen >= sizeof SITE_PREFIX - 1 && memcmp(uri, SITE_PREFIX, sizeof SITE_PREFIX - 1) == 0)
        return r->kind = ROUTE_SITE;
    return r->kind = match_flags(uri, plen, r);
}

int route_status(enum route_kind kind)
{
    switch (kind) {
    case ROUTE_NOT_FOUND: return 404;
    case ROUTE_BAD: return 400;
    case ROUTE_TOO_LONG: return 414;
    default: return 200;
    }
}
