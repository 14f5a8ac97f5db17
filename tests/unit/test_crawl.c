/* Unit tests of the crawl workload: its pure parts, link resolution (curl_url) and HTML
 * parsing (libxml2) into the blob a job hands back; then whole crawls of a real flagd's
 * site (bin/flagd on free ports, started as the harness starts it) through the coroutine
 * strategy (coro_run_jobs: -m workers on one coroutine queue), checked against the
 * sequential strategy on the same site and against flagd's own manifest of it: the same
 * content digest and counts, at most -m transfers in flight, --max-pages, an ERROR site,
 * and nothing left behind (no task, stack or easy handle). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "coro.h"
#include "coro_run.h"
#include "crawl.h"
#include "report.h"
#include "sequential.h"
#include "server.h"
#include "workload.h"

#define BASE "http://127.0.0.1:8000/site/p1/p9/"

static struct crawl_scope scope(bool same_host)
{
    struct crawl_scope s;
    assert_int_equal(crawl_scope_init(&s, BASE, same_host), 0);
    return s;
}

static void expect(const char *href, enum crawl_link kind, const char *url)
{
    struct crawl_scope s = scope(false);
    char out[CRAWL_URL_MAX] = "";
    assert_int_equal(crawl_resolve(BASE, href, &s, out, sizeof out), kind);
    if (url)
        assert_string_equal(out, url);
}

static void relative_absolute_and_dot_links_resolve(void **state)
{
    (void)state;
    expect("p77/", CRAWL_LINK_FOLLOW, "http://127.0.0.1:8000/site/p1/p9/p77/");
    expect("./p77/", CRAWL_LINK_FOLLOW, "http://127.0.0.1:8000/site/p1/p9/p77/");
    expect("../p10/", CRAWL_LINK_FOLLOW, "http://127.0.0.1:8000/site/p1/p10/");
    expect("../../", CRAWL_LINK_FOLLOW, "http://127.0.0.1:8000/site/");
    expect("/site/", CRAWL_LINK_FOLLOW, "http://127.0.0.1:8000/site/");
    expect("  p77/ \n", CRAWL_LINK_FOLLOW, "http://127.0.0.1:8000/site/p1/p9/p77/");
    expect("#top", CRAWL_LINK_FOLLOW, BASE); /* a fragment is the page itself */
    expect("p77/#x", CRAWL_LINK_FOLLOW, "http://127.0.0.1:8000/site/p1/p9/p77/");
    expect("", CRAWL_LINK_FOLLOW, BASE);
    expect("HTTP://127.0.0.1:8000/a", CRAWL_LINK_FOLLOW, "http://127.0.0.1:8000/a");
    expect("http://127.0.0.1:9999/a", CRAWL_LINK_FOLLOW, "http://127.0.0.1:9999/a");
}

static void other_schemes_and_hosts_are_not_followed(void **state)
{
    (void)state;
    expect("mailto:someone@example.com", CRAWL_LINK_OTHER_SCHEME, NULL);
    expect("javascript:void(0)", CRAWL_LINK_OTHER_SCHEME, NULL);
    expect("file:///etc/passwd", CRAWL_LINK_OTHER_SCHEME, NULL);
    expect("ftp://127.0.0.1/x", CRAWL_LINK_OTHER_SCHEME, NULL);
    expect("http://example.com/", CRAWL_LINK_OFFSITE, NULL);
    expect("//example.com/x", CRAWL_LINK_OFFSITE, NULL);
    /* --same-host: the port too */
    struct crawl_scope s = scope(true);
    char out[CRAWL_URL_MAX];
    assert_int_equal(crawl_resolve(BASE, "http://127.0.0.1:9999/a", &s, out, sizeof out),
                     CRAWL_LINK_OFFSITE);
    assert_int_equal(crawl_resolve(BASE, "/a", &s, out, sizeof out), CRAWL_LINK_FOLLOW);
    /* too long to be a link we follow */
    char *huge = malloc(CRAWL_URL_MAX + 10);
    assert_non_null(huge);
    memset(huge, 'a', CRAWL_URL_MAX + 9);
    huge[CRAWL_URL_MAX + 9] = '\0';
    assert_int_equal(crawl_resolve(BASE, huge, &s, out, sizeof out), CRAWL_LINK_BAD);
    free(huge);
}

/* Parse html and return its blob's counts; *urls its first URL. */
static struct crawl_found parse(const char *html, size_t len, void **blob, const char **urls)
{
    struct crawl_scope s = scope(false);
    uint32_t blob_len;
    char err[128];
    assert_int_equal(crawl_extract(html, len, BASE, &s, blob, &blob_len, err, sizeof err), 0);
    struct crawl_found f;
    assert_int_equal(crawl_found_read(*blob, blob_len, &f, urls), 0);
    return f;
}

static void links_come_out_in_document_order_with_counts(void **state)
{
    (void)state;
    static const char html[] =
        "<!DOCTYPE html><html><body><a href=\"p77/\">a</a><p><A HREF='../p10/'>b</a>"
        "<a href=\"mailto:x@y\">m</a><a href=\"http://elsewhere.invalid/\">o</a>"
        "<a>no href</a><a href=\"p77/\">dup</a></p></body></html>";
    void *blob;
    const char *u;
    struct crawl_found f = parse(html, sizeof html - 1, &blob, &u);
    assert_int_equal(f.links, 5);
    assert_int_equal(f.other_schemes, 1);
    assert_int_equal(f.offsite, 1);
    assert_int_equal(f.n_urls, 3);
    assert_string_equal(u, "http://127.0.0.1:8000/site/p1/p9/p77/");
    u += strlen(u) + 1;
    assert_string_equal(u, "http://127.0.0.1:8000/site/p1/p10/");
    u += strlen(u) + 1;
    assert_string_equal(u, "http://127.0.0.1:8000/site/p1/p9/p77/"); /* duplicates kept */
    free(blob);
}

static void broken_markup_still_gives_its_links(void **state)
{
    (void)state;
    static const char html[] = "<html><body><p>unclosed <b>bold <a href=deep.html>deep<div>"
                               "<table><tr><td><a href='../odd/'>up</a> &bogus; <p <p>";
    void *blob;
    const char *u;
    struct crawl_found f = parse(html, sizeof html - 1, &blob, &u);
    assert_int_equal(f.n_urls, 2);
    assert_string_equal(u, "http://127.0.0.1:8000/site/p1/p9/deep.html");
    free(blob);
    /* deeply nested: no recursion to overflow */
    size_t n = 20000;
    char *deep = malloc(n * 5 + 64);
    assert_non_null(deep);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(deep + k, "<div>", 5);
        k += 5;
    }
    strcpy(deep + k, "<a href=\"x\">x</a>");
    f = parse(deep, strlen(deep), &blob, &u);
    assert_true(f.links <= 1);
    free(blob);
    free(deep);
}

static void a_nul_byte_is_malformed_not_a_crash(void **state)
{
    (void)state;
    static const char html[] = "<html><body><a href=\"a\">a</a>\0<p>after</p></body></html>";
    struct crawl_scope s = scope(false);
    void *blob;
    uint32_t len;
    char err[128];
    assert_int_equal(crawl_extract(html, sizeof html - 1, BASE, &s, &blob, &len, err, sizeof err),
                     -EBADMSG);
    assert_non_null(strstr(err, "malformed HTML"));
    assert_null(blob);
    /* nothing to parse at all */
    assert_int_equal(crawl_extract("", 0, BASE, &s, &blob, &len, err, sizeof err), -EBADMSG);
}

static void a_cut_blob_is_refused(void **state)
{
    (void)state;
    static const char html[] = "<a href=\"p1/\">x</a><a href=\"p2/\">y</a>";
    struct crawl_scope s = scope(false);
    void *blob;
    uint32_t len;
    char err[128];
    assert_int_equal(crawl_extract(html, sizeof html - 1, BASE, &s, &blob, &len, err, sizeof err),
                     0);
    struct crawl_found f;
    const char *u;
    assert_int_equal(crawl_found_read(blob, len, &f, &u), 0);
    assert_int_equal(crawl_found_read(blob, len - 1, &f, &u), -EINVAL);
    assert_int_equal(crawl_found_read(blob, 3, &f, &u), -EINVAL);
    free(blob);
}

/* ================================================================================== */
/* Whole crawls of a real flagd's site. */

#define SITE_SEED "7"
#define SITE_PAGES "300" /* depth 4 at fanout 4: a crawl of it takes well under a second */
#define SITE_FANOUT "4"
#define SITE_DELAY_MS "2" /* ERROR delays half its answers: keep the sequential crawl short */
#define FEW 1             /* -m 1: one worker, the frontier as sequential's FIFO */
#define MANY 8            /* -m 8: more workers than the first levels have pages */

/* The flagd of this file's crawls, and what its manifest says a whole crawl finds. */
static struct {
    bool up;
    struct server server;
    char log[64];
    json_t *manifest[SERVER_PROFILES]; /* GET /site/manifest.json of each listener */
} site;

/* The strategies as the drivers declare them (drivers/sequential.c, drivers/coroutine.c). */
static const struct strategy sequential_strategy = {
    .name = "sequential",
    .default_concurrency = 1,
    .max_concurrency = 10000,
    .default_workers = 1,
    .max_workers = 1024,
    .fixed_workers = 1,
    .fixed_concurrency = 1,
    .run = sequential_run_jobs,
    .job_source = true,
};

static const struct strategy coroutine_strategy = {
    .name = "coroutine",
    .default_concurrency = 100,
    .max_concurrency = 10000,
    .default_workers = 1,
    .max_workers = 1,
    .fixed_workers = 1,
    .has_executor = true,
    .run = coro_run_jobs,
    .job_source = true,
};

struct body {
    char *data;
    size_t len, cap;
};

static size_t on_manifest(char *data, size_t size, size_t nmemb, void *arg)
{
    struct body *b = arg;
    size_t n = size * nmemb;
    return buf_append(&b->data, &b->len, &b->cap, data, n, 4096) == 0 ? n : 0;
}

/* GET the manifest of the listener whose base URL is url (http://127.0.0.1:P/flags). */
static json_t *fetch_manifest(const char *url)
{
    char where[SERVER_URL_MAX + 32];
    snprintf(where, sizeof where, "%.*s/site/manifest.json", (int)(strrchr(url, '/') - url), url);
    struct body b = {0};
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, where);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_manifest);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    json_t *m = rc == CURLE_OK && b.data ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    free(b.data);
    return m;
}

/* bin/flagd (or $BIN/flagd: make sanitize's bin/asan) on free ports, as concbench starts it.
 * Not built: the crawls skip, as the bats files do without flagd. */
static int site_up(void **state)
{
    (void)state;
    const char *bin = getenv("BIN");
    char flagd[512];
    snprintf(flagd, sizeof flagd, "%s/flagd", bin && *bin ? bin : "bin");
    if (access(flagd, X_OK) != 0) {
        fprintf(stderr, "# %s is not built (make all): the crawls of a real site skip\n", flagd);
        return 0;
    }
    snprintf(site.log, sizeof site.log, "/tmp/test_crawl.flagd.XXXXXX");
    int fd = mkstemp(site.log);
    if (fd < 0)
        return -1;
    close(fd);
    char *argv[] = {flagd,       "--port",       "0",           "--seed",
                    SITE_SEED,   "--site-pages", SITE_PAGES,    "--site-fanout",
                    SITE_FANOUT, "--delay",      SITE_DELAY_MS, NULL};
    char err[512];
    if (server_start(&site.server, argv, site.log, err, sizeof err) != 0) {
        fprintf(stderr, "# %s\n", err);
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    for (int p = 0; p < SERVER_PROFILES; p++)
        if (!(site.manifest[p] = fetch_manifest(site.server.url[p])))
            return -1;
    site.up = true;
    return 0;
}

static int site_down(void **state)
{
    (void)state;
    for (int p = 0; p < SERVER_PROFILES; p++)
        json_decref(site.manifest[p]);
    if (site.up)
        curl_global_cleanup();
    (void)server_stop(&site.server);
    if (site.log[0])
        unlink(site.log);
    return 0;
}

/* What a whole crawl of listener p finds, by flagd's manifest: .crawl.FIELD. */
static long long manifest_crawl(int p, const char *field)
{
    json_t *v = json_object_get(json_object_get(site.manifest[p], "crawl"), field);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* The coroutine strategy's steps, counted on the way through: job-in-flight states (each
 * holds a curl easy handle) made and freed, and transfers in flight at once. */
static struct {
    const struct workload_steps *inner;
    unsigned made, freed, in_flight, max_in_flight;
} counted;

static void *counted_state_new(const struct workload *w, unsigned in_flight)
{
    void *st = counted.inner->state_new(w, in_flight);
    counted.made += st != NULL;
    return st;
}

static void counted_state_free(const struct workload *w, void *st)
{
    counted.freed++;
    counted.inner->state_free(w, st);
}

static void *counted_start(const struct workload *w, void *st, size_t index)
{
    if (++counted.in_flight > counted.max_in_flight)
        counted.max_in_flight = counted.in_flight;
    return counted.inner->start(w, st, index);
}

static enum job_next counted_finish(const struct workload *w, void *st, int rc,
                                    struct job_result *out)
{
    enum job_next next = counted.inner->finish(w, st, rc, out);
    if (next != JOB_NEXT_AGAIN)
        counted.in_flight--;
    return next;
}

static void counted_blocking(const struct workload *w, void *st, struct job_result *out)
{
    counted.inner->blocking(w, st, out);
}

static const struct workload_steps counted_steps = {
    .state_new = counted_state_new,
    .state_free = counted_state_free,
    .start = counted_start,
    .finish = counted_finish,
    .blocking = counted_blocking,
};

/* As lib/driver.c: the workload absorbs what each page found, the report counts the rest. */
struct collector {
    const struct workload_def *def;
    void *ctx;
    struct report *report;
};

static void collect(void *arg, const struct job_result *res)
{
    struct collector *c = arg;
    c->def->absorb(c->ctx, res);
    struct job_result kept = *res;
    free(kept.output);
    kept.output = NULL;
    kept.output_len = 0;
    report_collect(c->report, &kept);
}

/* One crawl. */
struct crawl_out {
    json_t *rec;                         /* its --json record, as the driver prints it */
    struct coro_stats end;               /* coroutine: its scheduler as the run left it */
    unsigned made, freed, max_in_flight; /* coroutine: counted_steps' counts */
};

/* Crawl listener p's site with strategy s and the driver options opts (NULL-terminated),
 * as lib/driver.c runs a driver: cli_parse, the workload's setup, the strategy, report_json. */
static struct crawl_out crawl(const struct strategy *s, int p, const char *const *opts)
{
    char *argv[16] = {(char *)s->name, "crawl", "-s", site.server.url[p], "--json"};
    int argc = 5;
    while (*opts && argc < 15)
        argv[argc++] = (char *)*opts++;
    struct cli_options o;
    char err[512] = "";
    assert_int_equal(cli_parse(argc, argv, s, &o, err, sizeof err), 0);
    const struct workload_def *def = o.workload;
    assert_string_equal(def->name, "crawl");
    struct workload_plan plan = {0};
    if (def->setup(&plan, &o, err, sizeof err) != 0)
        fail_msg("crawl setup: %s", err);
    assert_non_null(plan.source);
    struct workload jobs = plan.jobs;
    memset(&counted, 0, sizeof counted);
    if (jobs.steps) {
        counted.inner = jobs.steps;
        jobs.steps = &counted_steps;
    }
    struct report r;
    assert_int_equal(report_init(&r, jobs.n_jobs, false, false, def->label, plan.ctx), 0);
    r.source = plan.source;
    struct collector col = {.def = def, .ctx = plan.ctx, .report = &r};
    unsigned m = s->fixed_concurrency ? s->fixed_concurrency : o.concurrency;
    struct run_request req = {.workload = &jobs,
                              .workers = 1,
                              .concurrency = m,
                              .executor = o.executor,
                              .collect = collect,
                              .collect_arg = &col,
                              .source = plan.source};
    if (s->run(&req, err, sizeof err) != 0)
        fail_msg("%s crawl: %s", s->name, err);
    struct crawl_out out = {
        .made = counted.made, .freed = counted.freed, .max_in_flight = counted.max_in_flight};
    if (s->run == coro_run_jobs)
        coro_run_last_stats(&out.end);
    struct report_meta meta = {.driver = s->name,
                               .workload = def,
                               .workload_ctx = plan.ctx,
                               .workers = 1,
                               .concurrency = m};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(report_json(f, &r, &meta), 0);
    assert_int_equal(fclose(f), 0);
    out.rec = json_loads(text, 0, NULL);
    assert_non_null(out.rec);
    free(text);
    report_free(&r);
    def->teardown(&plan, false);
    return out;
}

static long long field(const struct crawl_out *c, const char *name)
{
    json_t *v = json_object_get(c->rec, name);
    if (!json_is_integer(v))
        fail_msg("the --json record has no whole number '%s'", name);
    return json_integer_value(v);
}

/* The fields every strategy must agree on for a whole crawl, the digest first. */
static void assert_same_crawl(const struct crawl_out *ref, const struct crawl_out *c)
{
    assert_string_equal(json_string_value(json_object_get(c->rec, "content_digest")),
                        json_string_value(json_object_get(ref->rec, "content_digest")));
    static const char *const fields[] = {"items",         "done",    "pages",    "ok",
                                         "not_found",     "errors",  "links",    "depth",
                                         "other_schemes", "offsite", "bad_links"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (field(c, fields[i]) != field(ref, fields[i]))
            fail_msg("%s: %lld, sequential %lld", fields[i], field(c, fields[i]),
                     field(ref, fields[i]));
}

/* What flagd's manifest of listener p says a whole crawl finds; the counts add up. */
static void assert_as_manifest(const struct crawl_out *c, int p)
{
    assert_int_equal(field(c, "pages"), manifest_crawl(p, "pages"));
    assert_int_equal(field(c, "not_found"), manifest_crawl(p, "not_found"));
    assert_int_equal(field(c, "errors"), manifest_crawl(p, "errors"));
    assert_int_equal(field(c, "links"), manifest_crawl(p, "links"));
    assert_int_equal(field(c, "pages"),
                     field(c, "ok") + field(c, "not_found") + field(c, "errors"));
    assert_int_equal(field(c, "past_max_pages"), 0);
}

/* A coroutine crawl at -m m left nothing behind: its -m workers and the main task were the
 * only tasks (not one per page), all finished and joined, every stack back on the free
 * list; as many easy handles freed as made, at most one per worker; and never more than
 * -m transfers at once, by its own count and by the crawl's. */
static void assert_clean_coroutine_crawl(const struct crawl_out *c, unsigned m)
{
    assert_int_equal(c->end.spawned, m + 1);
    assert_int_equal(c->end.live, 0);
    assert_int_equal(c->end.ready, 0);
    assert_int_equal(c->end.unjoined, 0);
    assert_int_equal(c->end.stacks_free, c->end.stacks_mapped);
    assert_true(c->end.stacks_mapped <= m + 1);
    assert_true(c->made >= 1 && c->made <= m);
    assert_int_equal(c->freed, c->made);
    assert_true(c->max_in_flight >= 1 && c->max_in_flight <= m);
    assert_true(field(c, "max_in_flight") <= (long long)m);
    assert_int_equal(field(c, "concurrency"), m);
}

static void crawl_out_free(struct crawl_out *c)
{
    json_decref(c->rec);
    c->rec = NULL;
}

#define NEED_SITE()   \
    do {              \
        if (!site.up) \
            skip();   \
    } while (0)

static void coroutine_crawl_finds_what_sequential_finds_at_m_1_and_8(void **state)
{
    (void)state;
    NEED_SITE();
    struct crawl_out ref = crawl(&sequential_strategy, SERVER_LOCAL, (const char *[]){NULL});
    assert_as_manifest(&ref, SERVER_LOCAL);
    assert_int_equal(field(&ref, "max_in_flight"), 1);
    static const struct {
        unsigned m;
        const char *opts[4];
    } runs[] = {
        {FEW, {"-m", "1", NULL}},
        {MANY, {"-m", "8", NULL}},
        {MANY, {"-m", "8", "--executor", "2"}}, /* parsing on two executor threads */
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const char *opts[5] = {runs[i].opts[0], runs[i].opts[1], runs[i].opts[2], runs[i].opts[3],
                               NULL};
        struct crawl_out c = crawl(&coroutine_strategy, SERVER_LOCAL, opts);
        assert_same_crawl(&ref, &c);
        assert_as_manifest(&c, SERVER_LOCAL);
        assert_clean_coroutine_crawl(&c, runs[i].m);
        crawl_out_free(&c);
    }
    crawl_out_free(&ref);
}

static void coroutine_crawl_of_an_error_site_finds_what_sequential_finds(void **state)
{
    (void)state;
    NEED_SITE();
    struct crawl_out ref = crawl(&sequential_strategy, SERVER_ERROR, (const char *[]){NULL});
    assert_as_manifest(&ref, SERVER_ERROR);
    /* a quarter of the pages answer 5xx: their links are never seen */
    assert_true(field(&ref, "errors") > 0);
    assert_true(field(&ref, "pages") < manifest_crawl(SERVER_LOCAL, "pages"));
    struct crawl_out c =
        crawl(&coroutine_strategy, SERVER_ERROR, (const char *[]){"-m", "8", NULL});
    assert_same_crawl(&ref, &c);
    assert_as_manifest(&c, SERVER_ERROR);
    assert_clean_coroutine_crawl(&c, MANY);
    crawl_out_free(&c);
    crawl_out_free(&ref);
}

/* --max-pages K: K URLs are fetched (the URL table holds K), the rest of the links are
 * counted past it; which K depends on the order of discovery, so the digest is not
 * compared, the counts are. */
static void coroutine_crawl_stops_at_max_pages_and_the_counts_add_up(void **state)
{
    (void)state;
    NEED_SITE();
    long long whole = manifest_crawl(SERVER_LOCAL, "pages");
    char k[32];
    snprintf(k, sizeof k, "%lld", whole / 3);
    const struct strategy *strategies[] = {&sequential_strategy, &coroutine_strategy};
    for (size_t i = 0; i < 2; i++) {
        struct crawl_out c =
            crawl(strategies[i], SERVER_LOCAL, (const char *[]){"-m", "8", "--max-pages", k, NULL});
        assert_int_equal(field(&c, "pages"), whole / 3);
        assert_int_equal(field(&c, "done"), whole / 3);
        assert_int_equal(field(&c, "items"), whole / 3);
        assert_int_equal(field(&c, "pages"),
                         field(&c, "ok") + field(&c, "not_found") + field(&c, "errors"));
        assert_true(field(&c, "past_max_pages") > 0);
        assert_true(field(&c, "links") < manifest_crawl(SERVER_LOCAL, "links"));
        if (strategies[i] == &coroutine_strategy)
            assert_clean_coroutine_crawl(&c, MANY);
        crawl_out_free(&c);
    }
}

int main(void)
{
    char load_err[256];
    assert_int_equal(crawl_init_parser(load_err, sizeof load_err), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relative_absolute_and_dot_links_resolve),
        cmocka_unit_test(other_schemes_and_hosts_are_not_followed),
        cmocka_unit_test(links_come_out_in_document_order_with_counts),
        cmocka_unit_test(broken_markup_still_gives_its_links),
        cmocka_unit_test(a_nul_byte_is_malformed_not_a_crash),
        cmocka_unit_test(a_cut_blob_is_refused),
        cmocka_unit_test(coroutine_crawl_finds_what_sequential_finds_at_m_1_and_8),
        cmocka_unit_test(coroutine_crawl_of_an_error_site_finds_what_sequential_finds),
        cmocka_unit_test(coroutine_crawl_stops_at_max_pages_and_the_counts_add_up),
    };
    return cmocka_run_group_tests(tests, site_up, site_down);
}
