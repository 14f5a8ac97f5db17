/* crawl — the crawl workload: one job fetches one URL, parses it and sends back the links it
 * found; the main thread keeps the URL table and the visited set, and adds each new URL as a
 * job (job.h's job_source), so each URL is fetched at most once.
 *
 * Why libxml2's HTML parser (htmlReadMemory) and not gumbo: both are in Debian, but
 * libxml2 is maintained (GNOME; gumbo's upstream was archived by Google in 2023), already
 * installed on nearly every system, recovers from broken markup the way browsers of its
 * era did (HTML_PARSE_RECOVER), decodes entities and charsets, never touches the network
 * with HTML_PARSE_NONET, and bounds the tree's depth itself. A crawl needs only <a href>,
 * so HTML5's exact tree-building rules, gumbo's strength, buy nothing here.
 *
 * Memory shared with the process pool's workers: the URL table (offsets and their bytes)
 * and the in-flight counters live in MAP_SHARED mappings made before any fork. Only the
 * main thread appends, and only past source.known; a worker reads URL i after it was handed
 * job i (a mutex or a socket message in between), so it always sees the whole URL. */
#include "crawl.h"

#include <ctype.h>
#include <dlfcn.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "buf.h"
#include "hex.h"
#include "sha.h"
#include "options.h"
#include "stop.h"
#include "workload.h"

#define CRAWL_BODY_INITIAL 4096
#define CRAWL_URL_BYTES_AVG 256 /* the URL table's byte arena: this much per page */
#define CRAWL_SET_INITIAL 1024  /* visited set slots, a power of two, grown at half full */
#define CRAWL_LABEL_MAX 512

/* Counters every worker (thread or process) updates: in a shared mapping. */
struct crawl_shared {
    atomic_uint in_flight;
    atomic_uint max_in_flight;
};

/* One run: configuration (read-only while running), the URL table (appended by the main
 * thread only) and the main thread's bookkeeping. */
struct crawl_run {
    /* configuration */
    char start_url[CRAWL_URL_MAX];
    char origin[CRAWL_URL_MAX]; /* scheme://host:port, cut from labels */
    size_t origin_len;
    struct crawl_scope scope;
    double timeout_s;
    size_t max_body_bytes, max_head_bytes;
    size_t max_pages;
    uint32_t max_depth;
    /* the URL table, shared with forked workers */
    uint64_t *offsets; /* max_pages: where URL i starts in arena */
    char *arena;
    size_t arena_cap, arena_used;
    struct crawl_shared *shared;
    /* the main thread's */
    struct job_source source;
    uint32_t *depth; /* max_pages: the depth each job was found at */
    uint32_t *set;   /* visited set: job index + 1, 0 = empty; open addressing */
    size_t set_cap;
    size_t collected;
    size_t max_frontier;
    uint64_t links, other_schemes, offsite, bad, past_depth, past_max;
};

/* One worker's transfer, reused from job to job (keep-alive). */
struct crawl_worker {
    const struct crawl_run *run;
    CURL *easy;
    char *body;
    size_t body_len, body_cap;
    bool too_big;
    size_t head_len;
    bool head_too_big;
    char curl_err[CURL_ERROR_SIZE];
    size_t index;    /* the job in progress */
    const char *url; /* its URL, in the run's table */
};

__attribute__((format(printf, 2, 3))) static void set_reason(struct job_result *out,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

/* --- links: resolution and HTML ------------------------------------------------------- */

/* libxml2, loaded only by a crawl (dlopen, RTLD_LOCAL). Linked into every driver, it and
 * the ICU libraries it needs joined the global symbol scope of every run, and every symbol
 * lookup at start-up searched them too: 2.4 ms more per `sha -j 1 -n 1K` start (perf stat,
 * 10.3 against 7.9 ms task-clock; 30% of it in ld.so's do_lookup_x), paid by every flags
 * and sha row. The header still gives the types; these pointers are the only calls. */
#define CRAWL_LIBXML2 "libxml2.so.2"

static struct {
    void (*init_parser)(void);
    void (*cleanup_parser)(void);
    htmlDocPtr (*read_memory)(const char *, int, const char *, const char *, int);
    xmlNodePtr (*root_element)(const xmlDoc *);
    void (*free_doc)(xmlDocPtr);
    xmlChar *(*get_prop)(const xmlNode *, const xmlChar *);
    int (*strcasecmp)(const xmlChar *, const xmlChar *);
    xmlFreeFunc *free; /* libxml2's xmlFree is a variable holding a function */
    char error[200];   /* why loading failed; "" when it worked */
} xml;
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_load(void)
{
    void *h = dlopen(CRAWL_LIBXML2, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(xml.error, sizeof xml.error, "cannot load %s: %s", CRAWL_LIBXML2, dlerror());
        return;
    }
    /* POSIX allows a data pointer to hold a function's address (dlsym's own contract). */
#define XML_SYM(field, name) *(void **)(&xml.field) = dlsym(h, name)
    XML_SYM(init_parser, "xmlInitParser");
    XML_SYM(cleanup_parser, "xmlCleanupParser");
    XML_SYM(read_memory, "htmlReadMemory");
    XML_SYM(root_element, "xmlDocGetRootElement");
    XML_SYM(free_doc, "xmlFreeDoc");
    XML_SYM(get_prop, "xmlGetProp");
    XML_SYM(strcasecmp, "xmlStrcasecmp");
    XML_SYM(free, "xmlFree");
#undef XML_SYM
    if (!xml.init_parser || !xml.cleanup_parser || !xml.read_memory || !xml.root_element ||
        !xml.free_doc || !xml.get_prop || !xml.strcasecmp || !xml.free || !*xml.free) {
        snprintf(xml.error, sizeof xml.error, "%s lacks a function the crawl needs", CRAWL_LIBXML2);
        return;
    }
    xml.init_parser();
}

int crawl_init_parser(char *err, size_t errlen)
{
    pthread_once(&xml_once, xml_load);
    if (xml.error[0]) {
        snprintf(err, errlen, "%s", xml.error);
        return -ENOENT;
    }
    return 0;
}

int crawl_scope_init(struct crawl_scope *s, const char *start_url, bool same_host)
{
    memset(s, 0, sizeof *s);
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *scheme = NULL;
    int rc = -EINVAL;
    if (u && curl_url_set(u, CURLUPART_URL, start_url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        strlen(host) < sizeof s->host && strlen(port) < sizeof s->port) {
        for (size_t i = 0; host[i]; i++)
            s->host[i] = (char)tolower((unsigned char)host[i]);
        snprintf(s->port, sizeof s->port, "%s", port);
        s->same_port = same_host;
        rc = 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* The scheme of href when it has one (RFC 3986: ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")
 * then ':'), its length, else 0. A relative path with a ':' later ("a/b:c") has none. */
static size_t scheme_len(const char *href)
{
    if (!isalpha((unsigned char)href[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)href[i]) || href[i] == '+' || href[i] == '-' || href[i] == '.')
        i++;
    return href[i] == ':' ? i : 0;
}

/* href resolved against base_u (a page's URL, parsed once for all its links and left as it
 * is; NULL when it would not parse: every link is then bad), classified by s; a followed
 * URL into out. (Not const: curl 7.88's curl_url_dup takes a CURLU *.) */
static enum crawl_link resolve_from(CURLU *base_u, const char *href, const struct crawl_scope *s,
                                    char *out, size_t len)
{
    /* HTML strips leading and trailing ASCII whitespace from URLs in attributes */
    while (*href == ' ' || *href == '\t' || *href == '\n' || *href == '\r' || *href == '\f')
        href++;
    size_t n = strlen(href);
    while (n > 0 && strchr(" \t\n\r\f", href[n - 1]))
        n--;
    if (n >= CRAWL_URL_MAX)
        return CRAWL_LINK_BAD;
    char trimmed[CRAWL_URL_MAX];
    memcpy(trimmed, href, n);
    trimmed[n] = '\0';
    size_t sl = scheme_len(trimmed);
    if (sl && !((sl == 4 && strncasecmp(trimmed, "http", 4) == 0) ||
                (sl == 5 && strncasecmp(trimmed, "https", 5) == 0)))
        return CRAWL_LINK_OTHER_SCHEME;

    enum crawl_link kind = CRAWL_LINK_BAD;
    /* a copy of the parsed base, then href over it: curl_url resolves a relative reference
     * against the URL it holds (RFC 3986 section 5), dot segments included. Copying the
     * parsed base instead of parsing its text again for every link cut the instructions spent
     * resolving by a sixth (callgrind, a 1,000-page crawl: 148.6 to 123.7 million) */
    CURLU *u = base_u ? curl_url_dup(base_u) : NULL;
    char *host = NULL, *port = NULL, *url = NULL;
    if (!u || (n > 0 && curl_url_set(u, CURLUPART_URL, trimmed, 0) != CURLUE_OK) || /* "": itself */
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
        goto out;
    if (strcasecmp(host, s->host) != 0 || (s->same_port && strcmp(port, s->port) != 0)) {
        kind = CRAWL_LINK_OFFSITE;
        goto out;
    }
    if (strlen(url) >= len || strlen(url) >= CRAWL_URL_MAX)
        goto out;
    strcpy(out, url);
    kind = CRAWL_LINK_FOLLOW;
out:
    curl_free(host);
    curl_free(port);
    curl_free(url);
    curl_url_cleanup(u);
    return kind;
}

/* base parsed into a new handle, or NULL (out of memory, or not a URL). */
static CURLU *parse_base(const char *base)
{
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        u = NULL;
    }
    return u;
}

enum crawl_link crawl_resolve(const char *base, const char *href, const struct crawl_scope *s,
                              char *out, size_t len)
{
    CURLU *base_u = parse_base(base);
    enum crawl_link kind = resolve_from(base_u, href, s, out, len);
    curl_url_cleanup(base_u);
    return kind;
}

/* A growing output blob: struct crawl_found, then NUL-terminated URLs. */
struct blob {
    char *data;
    size_t len, cap;
    struct crawl_found found;
};

static int blob_add(struct blob *b, const char *s)
{
    size_t n = strlen(s) + 1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return -ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

/* Classify one href, found on the page at base_u, into b. */
static int add_link(struct blob *b, CURLU *base_u, const char *href, const struct crawl_scope *s)
{
    char url[CRAWL_URL_MAX];
    b->found.links++;
    switch (resolve_from(base_u, href, s, url, sizeof url)) {
    case CRAWL_LINK_FOLLOW: b->found.n_urls++; return blob_add(b, url);
    case CRAWL_LINK_OTHER_SCHEME: b->found.other_schemes++; break;
    case CRAWL_LINK_OFFSITE: b->found.offsite++; break;
    default: b->found.bad++; break;
    }
    return 0;
}

/* The blob as a job's output: the counts first, then the URLs. Frees b's buffer either way. */
static int blob_finish(struct blob *b, void **out, uint32_t *out_len)
{
    size_t head = sizeof b->found;
    char *p = b->len <= UINT32_MAX - head ? malloc(head + b->len) : NULL;
    if (p) {
        memcpy(p, &b->found, head);
        if (b->len)
            memcpy(p + head, b->data, b->len);
        *out = p;
        *out_len = (uint32_t)(head + b->len);
    }
    free(b->data);
    b->data = NULL;
    return p ? 0 : -ENOMEM;
}

int crawl_extract(const char *html, size_t len, const char *base, const struct crawl_scope *s,
                  void **blob, uint32_t *blob_len, char *err, size_t errlen)
{
    *blob = NULL;
    *blob_len = 0;
    const char *nul = memchr(html, '\0', len);
    if (nul) {
        /* HTML text never holds a NUL; libxml2 would stop there and read half a page */
        snprintf(err, errlen, "malformed HTML: a NUL byte at offset %zu", (size_t)(nul - html));
        return -EBADMSG;
    }
    if (len > INT32_MAX) {
        snprintf(err, errlen, "malformed HTML: too large to parse");
        return -EBADMSG;
    }
    int lrc = crawl_init_parser(err, errlen);
    if (lrc != 0)
        return lrc;
    htmlDocPtr doc = xml.read_memory(html, (int)len, base, NULL,
                                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                         HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    xmlNodePtr root = doc ? xml.root_element(doc) : NULL;
    if (!root) {
        if (doc)
            xml.free_doc(doc);
        snprintf(err, errlen, "malformed HTML: no document");
        return -EBADMSG;
    }
    struct blob b = {0};
    int rc = 0;
    CURLU *base_u = parse_base(base);
    /* iterative walk (no recursion: a thread pool worker's stack is small) */
    for (xmlNodePtr n = root; n && rc == 0;) {
        if (n->type == XML_ELEMENT_NODE && n->name && xml.strcasecmp(n->name, BAD_CAST "a") == 0) {
            xmlChar *href = xml.get_prop(n, BAD_CAST "href");
            if (href) {
                rc = add_link(&b, base_u, (const char *)href, s);
                (*xml.free)(href);
            }
        }
        if (n->children && n->type == XML_ELEMENT_NODE) {
            n = n->children;
            continue;
        }
        while (n && n != root && !n->next)
            n = n->parent;
        if (!n || n == root)
            break;
        n = n->next;
    }
    xml.free_doc(doc);
    curl_url_cleanup(base_u);
    if (rc != 0) {
        free(b.data);
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    rc = blob_finish(&b, blob, blob_len);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

int crawl_found_read(const void *blob, size_t len, struct crawl_found *f, const char **urls)
{
    if (!blob || len < sizeof *f)
        return -EINVAL;
    memcpy(f, blob, sizeof *f);
    const char *p = (const char *)blob + sizeof *f, *end = (const char *)blob + len;
    /* every URL NUL-terminated inside the blob, and no more of them than it says */
    uint32_t n = 0;
    for (const char *q = p; q < end; q++)
        n += *q == '\0';
    if (n != f->n_urls || (len > sizeof *f && end[-1] != '\0'))
        return -EINVAL;
    *urls = p;
    return 0;
}

/* --- the URL table -------------------------------------------------------------------- */

static const char *url_of(const struct crawl_run *c, size_t index)
{
    return c->arena + c->offsets[index];
}

/* FNV-1a, 64 bits: fast and good enough for a table we size ourselves. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* The slot of url in the visited set: holding its job, or the empty slot where it goes. */
static size_t set_slot(const struct crawl_run *c, const char *url)
{
    size_t mask = c->set_cap - 1, i = (size_t)hash_str(url) & mask;
    while (c->set[i] && strcmp(url_of(c, c->set[i] - 1), url) != 0)
        i = (i + 1) & mask;
    return i;
}

static int set_grow(struct crawl_run *c)
{
    size_t cap = c->set_cap ? c->set_cap * 2 : CRAWL_SET_INITIAL;
    uint32_t *old = c->set;
    size_t old_cap = c->set_cap;
    c->set = calloc(cap, sizeof *c->set);
    if (!c->set) {
        c->set = old;
        return -ENOMEM;
    }
    c->set_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            c->set[set_slot(c, url_of(c, old[i] - 1))] = old[i];
    free(old);
    return 0;
}

enum add_result { ADDED, SEEN, FULL };

/* Add url as a new job at depth, unless it is known. Main thread. */
static enum add_result url_add(struct crawl_run *c, const char *url, uint32_t depth)
{
    if ((c->source.known + 1) * 2 > c->set_cap && set_grow(c) != 0)
        return FULL;
    size_t slot = set_slot(c, url);
    if (c->set[slot])
        return SEEN;
    size_t n = strlen(url) + 1;
    if (c->source.known >= c->max_pages || c->arena_used + n > c->arena_cap)
        return FULL;
    size_t index = c->source.known;
    memcpy(c->arena + c->arena_used, url, n);
    c->offsets[index] = c->arena_used;
    c->arena_used += n;
    c->depth[index] = depth;
    c->set[slot] = (uint32_t)index + 1;
    c->source.known++; /* last: the job exists once its URL is whole */
    return ADDED;
}

/* --- one job: fetch, classify, parse --------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct crawl_worker *t = arg;
    size_t n = size * nmemb;
    if (t->body_len + n > t->run->max_body_bytes) {
        t->too_big = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    return buf_append(&t->body, &t->body_len, &t->body_cap, data, n, CRAWL_BODY_INITIAL) == 0 ? n
                                                                                              : 0;
}

static size_t on_head(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    struct crawl_worker *t = arg;
    size_t n = size * nmemb;
    t->head_len += n;
    if (t->head_len > t->run->max_head_bytes) {
        t->head_too_big = true;
        return 0;
    }
    return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return stop_requested() != 0;
}

static int crawl_worker_init(const struct workload *w, void **state, char *err, size_t errlen)
{
    struct crawl_worker *t = calloc(1, sizeof *t);
    if (!t || !(t->easy = curl_easy_init())) {
        free(t);
        snprintf(err, errlen, "cannot create a curl handle");
        return -ENOMEM;
    }
    const struct crawl_run *c = w->ctx;
    t->run = c;
    double ms = ceil(c->timeout_s * 1000.0 - 1e-6);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, ms < 1 ? 1L : (long)ms);
    curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body_bytes);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_head);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(t->easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->curl_err);
    curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "concbench/1");
    /* redirects are not followed by curl: a Location is a link like any other, so the
     * visited set sees it, and a redirect loop ends there (as the 500 Lines crawler) */
    curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
    *state = t;
    return 0;
}

static void crawl_worker_fini(const struct workload *w, void *state)
{
    (void)w;
    struct crawl_worker *t = state;
    free(t->body);
    curl_easy_cleanup(t->easy);
    free(t);
}

/* A transfer that failed, as flags words it. */
static void transfer_error(struct crawl_worker *t, CURLcode rc, struct job_result *out)
{
    out->outcome = JOB_ERROR;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: set_reason(out, "timeout"); break;
    case CURLE_COULDNT_CONNECT:
        out->unreachable = 1;
        set_reason(out, "connection refused");
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        out->unreachable = 1;
        set_reason(out, "cannot resolve host");
        break;
    case CURLE_FILESIZE_EXCEEDED:
        set_reason(out, "body over %zu bytes", t->run->max_body_bytes);
        break;
    case CURLE_WRITE_ERROR:
        if (t->too_big)
            set_reason(out, "body over %zu bytes", t->run->max_body_bytes);
        else if (t->head_too_big)
            set_reason(out, "response head too large");
        else
            set_reason(out, "out of memory");
        break;
    case CURLE_PARTIAL_FILE: set_reason(out, "short body"); break;
    case CURLE_GOT_NOTHING: set_reason(out, "empty reply"); break;
    case CURLE_ABORTED_BY_CALLBACK: set_reason(out, "interrupted"); break;
    default: set_reason(out, "%s", curl_easy_strerror(rc));
    }
}

/* A 200: HTML is parsed for links, anything else is an error with its reason. */
static void page_found(struct crawl_worker *t, const char *url, struct job_result *out)
{
    const struct crawl_run *c = t->run;
    char *type = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &type);
    if (!type || strncasecmp(type, "text/html", 9) != 0) {
        out->outcome = JOB_ERROR;
        set_reason(out, "not HTML: %s", type ? type : "no Content-Type");
        return;
    }
    if (sha_digest(t->body ? t->body : "", t->body_len, out->digest) != 0) {
        out->outcome = JOB_ERROR;
        out->local_failure = 1;
        set_reason(out, "cannot hash the body (OpenSSL)");
        return;
    }
    char err[JOB_REASON_MAX];
    void *blob;
    uint32_t blob_len;
    int rc = crawl_extract(t->body ? t->body : "", t->body_len, url, &c->scope, &blob, &blob_len,
                           err, sizeof err);
    if (rc != 0) {
        out->outcome = JOB_ERROR;
        set_reason(out, "%s", err);
        return;
    }
    out->outcome = JOB_OK;
    out->output = blob;
    out->output_len = blob_len;
}

/* A redirect: its target is the one link of the page. */
static void page_moved(struct crawl_worker *t, const char *url, struct job_result *out)
{
    char *location = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &location);
    struct blob b = {0};
    if (!location) {
        out->outcome = JOB_ERROR;
        set_reason(out, "HTTP %d without a Location", out->http_status);
        return;
    }
    CURLU *base_u = parse_base(url);
    int rc = add_link(&b, base_u, location, &t->run->scope);
    curl_url_cleanup(base_u);
    if (rc != 0 || blob_finish(&b, &out->output, &out->output_len) != 0) {
        free(b.data);
        out->outcome = JOB_ERROR;
        out->local_failure = 1;
        set_reason(out, "out of memory");
        return;
    }
    out->outcome = JOB_OK;
}

/* Begin job index on t's handle: its URL, empty buffers, the in-flight count. */
static void crawl_start(const struct crawl_run *c, struct crawl_worker *t, size_t index)
{
    t->index = index;
    t->url = url_of(c, index);
    unsigned now = atomic_fetch_add(&c->shared->in_flight, 1) + 1;
    unsigned max = atomic_load(&c->shared->max_in_flight);
    while (now > max && !atomic_compare_exchange_weak(&c->shared->max_in_flight, &max, now))
        ;
    t->body_len = 0;
    t->too_big = t->head_too_big = false;
    t->head_len = 0;
    t->curl_err[0] = '\0';
    curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
}

/* The transfer ended with rc: classify into out. JOB_NEXT_BLOCKING for a page to parse
 * (crawl_parse), else the result is final. */
static enum job_next crawl_finish(const struct crawl_run *c, struct crawl_worker *t, CURLcode rc,
                                  struct job_result *out)
{
    atomic_fetch_sub(&c->shared->in_flight, 1);
    memset(out, 0, sizeof *out);
    out->index = (uint32_t)t->index;
    out->bytes = t->body_len;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    out->http_status = (int32_t)status;
    if (rc != CURLE_OK) {
        transfer_error(t, rc, out);
        return JOB_NEXT_DONE;
    }
    if (status == 200)
        return JOB_NEXT_BLOCKING; /* parsing is CPU work: an event loop may hand it off */
    if (status == 404 || status == 410) {
        out->outcome = JOB_NOT_FOUND;
        set_reason(out, "not found");
    } else if (status >= 300 && status < 400) {
        page_moved(t, t->url, out);
    } else {
        out->outcome = JOB_ERROR;
        set_reason(out, "HTTP %ld", status);
    }
    return JOB_NEXT_DONE;
}

static void crawl_job_run(const struct workload *w, void *state, size_t index,
                          struct job_result *out)
{
    const struct crawl_run *c = w->ctx;
    struct crawl_worker *t = state;
    crawl_start(c, t, index);
    CURLcode rc = curl_easy_perform(t->easy);
    if (crawl_finish(c, t, rc, out) == JOB_NEXT_BLOCKING)
        page_found(t, t->url, out);
}

/* --- the same job as steps around an event loop (struct workload_steps) --------------- */

static void *crawl_step_new(const struct workload *w, unsigned in_flight)
{
    (void)in_flight;
    void *st;
    char err[JOB_REASON_MAX];
    return crawl_worker_init(w, &st, err, sizeof err) == 0 ? st : NULL;
}

static void *crawl_step_start(const struct workload *w, void *st, size_t index)
{
    struct crawl_worker *t = st;
    crawl_start(w->ctx, t, index);
    return t->easy;
}

static enum job_next crawl_step_finish(const struct workload *w, void *st, int rc,
                                       struct job_result *out)
{
    return crawl_finish(w->ctx, st, (CURLcode)rc, out);
}

static void crawl_step_blocking(const struct workload *w, void *st, struct job_result *out)
{
    (void)w;
    struct crawl_worker *t = st;
    page_found(t, t->url, out);
}

static const struct workload_steps crawl_steps = {
    .state_new = crawl_step_new,
    .state_free = crawl_worker_fini,
    .start = crawl_step_start,
    .finish = crawl_step_finish,
    .blocking = crawl_step_blocking,
};

/* --- the main thread: absorb what each page found -------------------------------------- */

static void crawl_absorb(void *ctx, const struct job_result *r)
{
    struct crawl_run *c = ctx;
    c->collected++;
    struct crawl_found f;
    const char *u;
    if (r->output && r->index < c->source.known &&
        crawl_found_read(r->output, r->output_len, &f, &u) == 0) {
        c->links += f.links;
        c->other_schemes += f.other_schemes;
        c->offsite += f.offsite;
        c->bad += f.bad;
        uint32_t depth = c->depth[r->index] + 1;
        for (uint32_t i = 0; i < f.n_urls; i++, u += strlen(u) + 1) {
            if (depth > c->max_depth) {
                c->past_depth++;
                continue;
            }
            if (url_add(c, u, depth) == FULL)
                c->past_max++;
        }
    }
    size_t frontier = c->source.known - c->collected;
    if (frontier > c->max_frontier)
        c->max_frontier = frontier;
}

/* --- the workload's registration (workload.h) ---------------------------------------- */

static const struct option crawl_longopts[] = {
    {"max-req", required_argument, NULL, 'm'},
    {"server", required_argument, NULL, 's'},
    {"timeout", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"json", no_argument, NULL, OPT_JSON},
    {"max-pages", required_argument, NULL, OPT_MAX_PAGES},
    {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
    {"same-host", no_argument, NULL, OPT_SAME_HOST},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-head", required_argument, NULL, OPT_MAX_HEAD},
    {"executor", required_argument, NULL, OPT_EXECUTOR},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void *map_shared(size_t bytes)
{
    /* MAP_NORESERVE: sized for --max-pages, touched only as the crawl grows */
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void crawl_free(struct crawl_run *c)
{
    if (c->offsets)
        munmap(c->offsets, c->max_pages * sizeof *c->offsets);
    if (c->arena)
        munmap(c->arena, c->arena_cap);
    if (c->shared)
        munmap(c->shared, sizeof *c->shared);
    free(c->depth);
    free(c->set);
    free(c);
}

static int crawl_setup(struct workload_plan *plan, const struct cli_options *o, char *err,
                       size_t errlen)
{
    if (o->n_codes > 1) {
        snprintf(err, errlen, "one start path at most, not '%s' too", o->codes[1]);
        return -EINVAL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return -EIO;
    }
    struct crawl_run *c = calloc(1, sizeof *c);
    if (!c) {
        curl_global_cleanup();
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    /* the start: START_PATH (or a URL) over the server's base URL, by curl_url */
    const char *start = o->n_codes ? o->codes[0] : CRAWL_DEFAULT_START;
    CURLU *u = curl_url();
    char *url = NULL, *scheme = NULL, *host = NULL;
    int rc = -EINVAL;
    if (u && curl_url_set(u, CURLUPART_URL, o->base_url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, start, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK && strlen(url) < CRAWL_URL_MAX &&
        crawl_scope_init(&c->scope, url, o->same_host) == 0 &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        snprintf(c->start_url, sizeof c->start_url, "%s", url);
        /* the origin as curl writes it at the head of every URL it gives back */
        char *slash = strchr(c->start_url + strlen(scheme) + 3, '/');
        c->origin_len = slash ? (size_t)(slash - c->start_url) : strlen(c->start_url);
        memcpy(c->origin, c->start_url, c->origin_len);
        c->origin[c->origin_len] = '\0';
        rc = 0;
    }
    curl_free(url);
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    if (rc != 0) {
        snprintf(err, errlen, "bad start '%s' (want a path like /site/ or an http:// URL)", start);
        goto fail;
    }
    c->timeout_s = o->timeout_s;
    c->max_body_bytes = o->max_body;
    c->max_head_bytes = o->max_head;
    c->max_pages = o->max_pages;
    c->max_depth = o->max_depth;
    c->arena_cap = c->max_pages * CRAWL_URL_BYTES_AVG + CRAWL_URL_MAX;
    c->offsets = map_shared(c->max_pages * sizeof *c->offsets);
    c->arena = map_shared(c->arena_cap);
    c->shared = map_shared(sizeof *c->shared);
    c->depth = malloc(c->max_pages * sizeof *c->depth);
    if (!c->offsets || !c->arena || !c->shared || !c->depth || set_grow(c) != 0) {
        snprintf(err, errlen, "out of memory for %zu pages", c->max_pages);
        rc = -ENOMEM;
        goto fail;
    }
    atomic_init(&c->shared->in_flight, 0);
    atomic_init(&c->shared->max_in_flight, 0);
    if (url_add(c, c->start_url, 0) != ADDED) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    rc = crawl_init_parser(err, errlen);
    if (rc != 0)
        goto fail;

    struct workload *w = &plan->jobs;
    memset(w, 0, sizeof *w);
    w->name = "crawl";
    w->n_jobs = c->max_pages;
    w->job_timeout_ms = (unsigned)ceil(c->timeout_s * 1000.0);
    w->ctx = c;
    w->worker_init = crawl_worker_init;
    w->job_run = crawl_job_run;
    w->worker_fini = crawl_worker_fini;
    w->steps = &crawl_steps;
    plan->ctx = c;
    plan->target = c->start_url;
    plan->source = &c->source;
    return 0;
fail:
    crawl_free(c);
    curl_global_cleanup();
    return rc;
}

static void crawl_teardown(struct workload_plan *plan, bool undo)
{
    (void)undo; /* a crawl saves nothing */
    crawl_free(plan->ctx);
    plan->ctx = NULL;
    if (!xml.error[0] && xml.cleanup_parser)
        xml.cleanup_parser();
    curl_global_cleanup();
}

/* A URL as the digest and -v name it: its path on the start's origin, else all of it. */
static void crawl_label(const void *ctx, size_t index, char *buf, size_t len)
{
    const struct crawl_run *c = ctx;
    const char *url = url_of(c, index);
    if (strncmp(url, c->origin, c->origin_len) == 0 && url[c->origin_len] == '/')
        url += c->origin_len;
    snprintf(buf, len, "%s", url);
}

static void crawl_summary(FILE *f, const struct workload_tally *t, const void *ctx)
{
    const struct crawl_run *c = ctx;
    fprintf(f, "%zu pages. %zu not found. %zu error%s. %llu links seen.\n", t->done, t->not_found,
            t->errors, t->errors == 1 ? "" : "s", (unsigned long long)c->links);
    if (c->other_schemes || c->offsite || c->bad || c->past_depth || c->past_max)
        fprintf(
            f,
            "Not followed: %llu other schemes, %llu off site, %llu bad, %llu past --max-depth, %llu past --max-pages.\n",
            (unsigned long long)c->other_schemes, (unsigned long long)c->offsite,
            (unsigned long long)c->bad, (unsigned long long)c->past_depth,
            (unsigned long long)c->past_max);
}

/* report_content_digest's style over every fetched URL: the sorted lines "label status",
 * so that strategies agree whatever the order they fetched in. */
static int crawl_digest(const struct workload_tally *t, const struct crawl_run *c,
                        char hex[2 * JOB_DIGEST_LEN + 1])
{
    size_t n = 0;
    char **lines = malloc((t->total ? t->total : 1) * sizeof *lines);
    int rc = lines ? 0 : -ENOMEM;
    for (size_t i = 0; i < t->total && i < c->source.known && rc == 0; i++) {
        if (!t->seen[i])
            continue;
        char label[CRAWL_LABEL_MAX];
        crawl_label(c, i, label, sizeof label);
        size_t len = strlen(label) + 16;
        if (!(lines[n] = malloc(len))) {
            rc = -ENOMEM;
            break;
        }
        snprintf(lines[n], len, "%s %d\n", label, (int)t->results[i].http_status);
        n++;
    }
    unsigned char md[JOB_DIGEST_LEN];
    if (rc == 0)
        rc = sha_digest_sorted(lines, n, md);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    if (rc == 0)
        hex_encode(md, JOB_DIGEST_LEN, hex);
    return rc;
}

static int crawl_json(json_t *record, const struct workload_tally *t, const void *ctx)
{
    const struct crawl_run *c = ctx;
    uint32_t depth = 0;
    for (size_t i = 0; i < c->source.known && i < t->total; i++)
        if (t->seen[i] && c->depth[i] > depth)
            depth = c->depth[i];
    char hex[2 * JOB_DIGEST_LEN + 1];
    int rc = crawl_digest(t, c, hex);
    if (rc != 0)
        return rc;
    rc |= json_object_set_new(record, "content_digest", json_string(hex));
    rc |= json_object_set_new(record, "start", json_string(c->start_url));
    rc |= json_object_set_new(record, "pages", json_integer((json_int_t)t->done));
    rc |= json_object_set_new(record, "links", json_integer((json_int_t)c->links));
    rc |= json_object_set_new(record, "other_schemes", json_integer((json_int_t)c->other_schemes));
    rc |= json_object_set_new(record, "offsite", json_integer((json_int_t)c->offsite));
    rc |= json_object_set_new(record, "bad_links", json_integer((json_int_t)c->bad));
    rc |= json_object_set_new(record, "past_max_depth", json_integer((json_int_t)c->past_depth));
    rc |= json_object_set_new(record, "past_max_pages", json_integer((json_int_t)c->past_max));
    rc |= json_object_set_new(record, "max_frontier", json_integer((json_int_t)c->max_frontier));
    rc |= json_object_set_new(record, "max_in_flight",
                              json_integer((json_int_t)atomic_load(&c->shared->max_in_flight)));
    rc |= json_object_set_new(record, "depth", json_integer((json_int_t)depth));
    return rc == 0 ? 0 : -ENOMEM;
}

static void crawl_opening(FILE *f, const void *ctx, const struct cli_options *o,
                          unsigned concurrency)
{
    const struct crawl_run *c = ctx;
    (void)o;
    fprintf(f, "Crawling %s with %u worker%s.\n", c->start_url, concurrency,
            concurrency == 1 ? "" : "s");
}

const struct workload_def crawl_workload_def = {
    .name = "crawl",
    .longopts = crawl_longopts,
    .optstring = ":m:s:t:vh",
    .positional = true,
    .synopsis = "[options] [START_PATH]",
    .sizing = WORKLOAD_BY_CONCURRENCY,
    .setup = crawl_setup,
    .teardown = crawl_teardown,
    .label = crawl_label,
    .summary = crawl_summary,
    .json = crawl_json,
    .opening = crawl_opening,
    .absorb = crawl_absorb,
    .sweep_option = 'm',
    .needs_server = true,
    .items_word = "pages",
    .delay_limit = "L·max(depth + 1, ⌈pages/C⌉)",
};
