/* Unit tests of the crawl workload's pure parts: link resolution (curl_url) and HTML
 * parsing (libxml2) into the blob a job hands back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crawl.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
