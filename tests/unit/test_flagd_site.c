/* Unit tests of flagd's crawlable site (site.h) and of the pages' fates (fate_of_page). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fate.h"
#include "site.h"

static struct site_config site(uint32_t pages, uint32_t fanout, uint64_t seed)
{
    return (struct site_config){.pages = pages, .fanout = fanout, .seed = seed};
}

static enum site_kind lookup(const struct site_config *c, const char *path, uint32_t *page)
{
    return site_lookup(c, path, strlen(path), page);
}

/* Every page's path leads back to it, in its one form; the root is /site/. */
static void every_path_finds_its_page(void **state)
{
    (void)state;
    struct site_config c = site(1000, 8, 0);
    char path[SITE_PATH_MAX];
    uint32_t page;
    for (uint32_t i = 0; i < c.pages; i++) {
        site_path(&c, i, path, sizeof path);
        assert_int_equal(lookup(&c, path, &page), SITE_PAGE);
        assert_int_equal(page, i);
    }
    site_path(&c, 0, path, sizeof path);
    assert_string_equal(path, "/site/");
    site_path(&c, 9, path, sizeof path);
    assert_string_equal(path, "/site/p1/p9/");
}

static void other_paths_are_missing_or_named(void **state)
{
    (void)state;
    struct site_config c = site(100, 8, 0);
    uint32_t page;
    assert_int_equal(lookup(&c, "/site/manifest.json", &page), SITE_MANIFEST);
    assert_int_equal(lookup(&c, "/site/p9/", &page), SITE_MISSING);     /* not under p1 */
    assert_int_equal(lookup(&c, "/site/p1/p9", &page), SITE_MISSING);   /* no slash */
    assert_int_equal(lookup(&c, "/site/p1/p09/", &page), SITE_MISSING); /* not canonical */
    assert_int_equal(lookup(&c, "/site/p100/", &page), SITE_MISSING);   /* past the end */
    assert_int_equal(lookup(&c, "/site/p0/", &page), SITE_MISSING);
    assert_int_equal(lookup(&c, "/site/p3/gone-3/", &page), SITE_MISSING);
    assert_int_equal(lookup(&c, "/site/odd/", &page), SITE_ODD);
    assert_int_equal(page, SITE_ODD_INDEX);
    assert_int_equal(lookup(&c, "/site/odd/r2", &page), SITE_ODD);
    assert_int_equal(page, SITE_ODD_R2);
    assert_int_equal(lookup(&c, "/site/odd/r3", &page), SITE_MISSING);
}

/* A complete F-ary tree: depth about log_F N. */
static void depth_is_about_log_f_of_n(void **state)
{
    (void)state;
    struct site_config c = site(1000, 8, 0);
    assert_int_equal(site_depth(&c, 0), 0);
    assert_int_equal(site_depth(&c, 1), 1);
    assert_int_equal(site_depth(&c, 9), 2);
    assert_int_equal(site_max_depth(&c), 4); /* 1 + 8 + 64 + 512 = 585 < 1000 */
    c = site(100000, 8, 0);
    assert_int_equal(site_max_depth(&c), 6);
    c = site(1, 8, 0);
    assert_int_equal(site_max_depth(&c), 0);
}

/* The same seed gives the same bytes; another seed other link forms. */
static void same_seed_same_site(void **state)
{
    (void)state;
    struct site_config a = site(500, 8, 3), b = site(500, 8, 3), other = site(500, 8, 4);
    char x[SITE_PAGE_MAX], y[SITE_PAGE_MAX];
    bool differs = false;
    for (uint32_t i = 0; i < a.pages; i++) {
        unsigned la, lb;
        size_t na = site_render(&a, i, x, sizeof x, &la);
        size_t nb = site_render(&b, i, y, sizeof y, &lb);
        assert_int_equal(na, nb);
        assert_memory_equal(x, y, na);
        assert_int_equal(la, lb);
        nb = site_render(&other, i, y, sizeof y, NULL);
        differs |= na != nb || memcmp(x, y, na) != 0;
    }
    assert_true(differs);
}

/* A page links its children, back up, a sibling, and counts its links right. */
static void a_page_has_the_links_it_counts(void **state)
{
    (void)state;
    struct site_config c = site(1000, 8, 0);
    char buf[SITE_PAGE_MAX];
    for (uint32_t i = 0; i < c.pages; i++) {
        unsigned links;
        size_t n = site_render(&c, i, buf, sizeof buf, &links);
        assert_true(n > 0 && n < sizeof buf - 1);
        unsigned seen = 0;
        for (const char *p = buf; (p = strstr(p, "<a href=")); p++)
            seen++;
        assert_int_equal(seen, links);
        assert_non_null(strstr(buf, "href=\"/site/\""));
        if (i > 0)
            assert_non_null(strstr(buf, "href=\"../\""));
    }
    /* page 1's children are 9..16, the first written twice */
    site_render(&c, 1, buf, sizeof buf, NULL);
    for (unsigned k = 9; k <= 16; k++) {
        char name[32];
        snprintf(name, sizeof name, ">Page %u<", k);
        assert_non_null(strstr(buf, name));
    }
    assert_non_null(strstr(buf, ">Page 9 again<"));
    assert_non_null(strstr(buf, "href=\"../p2/\"")); /* its next sibling */
}

static void some_pages_have_a_broken_link(void **state)
{
    (void)state;
    struct site_config c = site(1000, 8, 0);
    unsigned broken = 0;
    char path[SITE_PATH_MAX];
    uint32_t page;
    for (uint32_t i = 0; i < c.pages; i++)
        if (site_broken_link(&c, i, path, sizeof path)) {
            broken++;
            assert_int_equal(lookup(&c, path, &page), SITE_MISSING);
        }
    /* about one in SITE_BROKEN_EVERY, never none, never most */
    assert_in_range(broken, 1000 / SITE_BROKEN_EVERY / 2, 1000 / SITE_BROKEN_EVERY * 2);
}

static void odd_pages_are_what_they_say(void **state)
{
    (void)state;
    struct site_odd_answer a;
    site_odd(SITE_ODD_BINARY, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.type, "image/gif");
    site_odd(SITE_ODD_HUGE, &a);
    assert_true(a.len * a.repeat > SITE_ODD_HUGE_BYTES);
    site_odd(SITE_ODD_NUL, &a);
    assert_non_null(memchr(a.body, '\0', a.len));
    site_odd(SITE_ODD_LOOP, &a);
    assert_int_equal(a.status, 302);
    assert_string_equal(a.location, "loop");
    site_odd(SITE_ODD_R1, &a);
    assert_string_equal(a.location, "r2");
}

/* Pages have fates of their own: a quarter fail on ERROR, none elsewhere, and the codes'
 * fates did not move (test_flagd_fate.c pins them). */
static void pages_fail_about_a_quarter_on_error(void **state)
{
    (void)state;
    struct fate_config f = {
        .seed = 0, .error_rate = 0.25, .delay_min_ms = 100, .delay_max_ms = 100};
    unsigned failed = 0, delayed = 0;
    for (uint32_t i = 0; i < 4000; i++) {
        struct fate e = fate_of_page(&f, FATE_ERROR, i);
        failed += e.status != 200;
        delayed += e.delay_ms > 0;
        assert_int_equal(e.fault, FATE_FAULT_NONE);
        assert_int_equal(fate_of_page(&f, FATE_LOCAL, i).status, 200);
        assert_int_equal(fate_of_page(&f, FATE_LOCAL, i).delay_ms, 0);
        assert_int_equal(fate_of_page(&f, FATE_DELAY, i).delay_ms, 100);
        struct fate again = fate_of_page(&f, FATE_ERROR, i);
        assert_int_equal(again.status, e.status);
    }
    assert_in_range(failed, 850, 1150);
    assert_in_range(delayed, 1800, 2200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_path_finds_its_page),
        cmocka_unit_test(other_paths_are_missing_or_named),
        cmocka_unit_test(depth_is_about_log_f_of_n),
        cmocka_unit_test(same_seed_same_site),
        cmocka_unit_test(a_page_has_the_links_it_counts),
        cmocka_unit_test(some_pages_have_a_broken_link),
        cmocka_unit_test(odd_pages_are_what_they_say),
        cmocka_unit_test(pages_fail_about_a_quarter_on_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
