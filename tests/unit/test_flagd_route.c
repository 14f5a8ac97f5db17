/* Unit tests of flagd's route: what each request-target means, and that nothing but a
 * validated two-letter code ever comes out of it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

static enum route_kind kind_of(const char *uri)
{
    struct route r;
    return route_parse(uri, strlen(uri), &r);
}

static void flag_and_metadata_paths_give_the_code(void **state)
{
    (void)state;
    struct route r;
    assert_int_equal(route_parse("/flags/br/br.gif", 16, &r), ROUTE_GIF);
    assert_string_equal(r.cc, "br");
    assert_int_equal(route_parse("/flags/cn/metadata.json", 23, &r), ROUTE_META);
    assert_string_equal(r.cc, "cn");
    /* a query is ignored on flags */
    const char *q = "/flags/id/id.gif?v=2";
    assert_int_equal(route_parse(q, strlen(q), &r), ROUTE_GIF);
    assert_string_equal(r.cc, "id");
    assert_int_equal(route_status(ROUTE_GIF), 200);
    assert_int_equal(route_status(ROUTE_META), 200);
}

static void stats_and_its_reset_parameter(void **state)
{
    (void)state;
    struct route r;
    const char *cases[][2] = {
        {"/stats", "0"},           {"/stats?reset=1", "1"}, {"/stats?x=y&reset=1", "1"},
        {"/stats?reset=1&x", "1"}, {"/stats?reset=0", "0"}, {"/stats?reset=10", "0"},
        {"/stats?xreset=1", "0"},  {"/stats?", "0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(route_parse(cases[i][0], strlen(cases[i][0]), &r), ROUTE_STATS);
        assert_int_equal(r.reset, cases[i][1][0] == '1');
        assert_string_equal(r.cc, "");
    }
    assert_int_equal(kind_of("/stats/"), ROUTE_NOT_FOUND);
    assert_int_equal(kind_of("/Stats"), ROUTE_NOT_FOUND);
}

static void well_formed_but_unknown_paths_are_404(void **state)
{
    (void)state;
    const char *cases[] = {
        "/",
        "/flags",
        "/flags/",
        "/flags/br",
        "/flags/br/",
        "/flags/brr/brr.gif",
        "/flags/BR/BR.gif",
        "/flags/Br/br.gif",
        "/flags/br/cn.gif",
        "/flags/br/br.GIF",
        "/flags/br/br.gifx",
        "/flags/br/br.gif/",
        "/flags/b1/b1.gif",
        "/flags/br/br",
        "/flags/br/metadata.jsonx",
        "/flags/br/br.json",
        "/flags/br/...",
        "/flags/br/.gif",
        "/flags/br.gif",
        "/br/br.gif",
        "/flags/br/br.gif.",
        "/flags/b/b.gif",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct route r;
        assert_int_equal(route_parse(cases[i], strlen(cases[i]), &r), ROUTE_NOT_FOUND);
        assert_string_equal(r.cc, "");
    }
    assert_int_equal(route_status(ROUTE_NOT_FOUND), 404);
}

static void traversal_and_encoding_tricks_are_400(void **state)
{
    (void)state;
    const char *cases[] = {
        "/flags/../../etc/passwd",
        "/flags/%2e%2e/%2e%2e/etc/passwd",
        "/flags/br%2fbr.gif",
        "//etc/passwd",
        "/flags/br/../../../etc/passwd",
        "/flags/br/br.gif%00",
        "/flags/./br/br.gif",
        "/flags/br/.",
        "/flags/br/..",
        "/..",
        "/.",
        "/flags//br/br.gif",
        "/flags/br/br.gif//",
        "/flags/%62r/br.gif",
        "/flags/br\\br.gif",
        "/flags/%2F",
        "http://127.0.0.1/flags/br/br.gif",
        "*",
        "",
        "flags/br/br.gif",
        "../etc/passwd",
        "/flags/br/br gif",
        "/flags/br/br.gif\t",
        "/flags/br/\x7f",
        "/flags/\xc3\xa9/x.gif",
        "/flags/br/br.gif?\x01",
        "?reset=1",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct route r;
        if (route_parse(cases[i], strlen(cases[i]), &r) != ROUTE_BAD)
            fail_msg("'%s' is not ROUTE_BAD", cases[i]);
        assert_string_equal(r.cc, "");
    }
    /* a NUL byte inside the target, as a raw parser could hand it over */
    struct route r;
    assert_int_equal(route_parse("/flags/br/br.gif\0.x", 19, &r), ROUTE_BAD);
    assert_int_equal(route_parse("/flags/br\0/br.gif", 17, &r), ROUTE_BAD);
    assert_int_equal(route_status(ROUTE_BAD), 400);
}

static void overlong_targets_are_414(void **state)
{
    (void)state;
    char uri[ROUTE_URI_MAX + 2];
    memset(uri, 'a', sizeof uri);
    uri[0] = '/';
    struct route r;
    assert_int_equal(route_parse(uri, ROUTE_URI_MAX, &r), ROUTE_NOT_FOUND);
    assert_int_equal(route_parse(uri, ROUTE_URI_MAX + 1, &r), ROUTE_TOO_LONG);
    assert_int_equal(route_status(ROUTE_TOO_LONG), 414);
    /* the length check comes first: an overlong traversal is 414, not a file */
    char trav[ROUTE_URI_MAX * 2];
    trav[0] = '\0';
    while (strlen(trav) < ROUTE_URI_MAX)
        strcat(trav, "/..");
    assert_int_equal(kind_of(trav), ROUTE_TOO_LONG);
}

/* Every pair of bytes in the code position: a gif only for [a-z]{2}, with that code. */
static void only_two_lowercase_letters_make_a_code(void **state)
{
    (void)state;
    int gifs = 0;
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            char uri[] = "/flags/XY/XY.gif";
            uri[7] = uri[10] = (char)a;
            uri[8] = uri[11] = (char)b;
            struct route r;
            enum route_kind k = route_parse(uri, sizeof uri - 1, &r);
            int lower = a >= 'a' && a <= 'z' && b >= 'a' && b <= 'z';
            assert_int_equal(k == ROUTE_GIF, lower);
            if (lower) {
                gifs++;
                assert_int_equal(r.cc[0], a);
                assert_int_equal(r.cc[1], b);
                assert_int_equal(r.cc[2], '\0');
            } else {
                assert_string_equal(r.cc, "");
            }
        }
    }
    assert_int_equal(gifs, 26 * 26);
}

/* Random targets over an alphabet of the dangerous bytes: whatever is accepted as a flag
 * is exactly the canonical path of its code (plus, at most, a query). */
static void random_targets_accept_only_canonical_paths(void **state)
{
    (void)state;
    static const char alphabet[] = "/./../%2e%2fflags/br/br.gif/metadata.json?reset=1\\\0 abz";
    uint64_t x = 88172645463325252u; /* xorshift64: a fixed, reproducible sequence */
    size_t accepted = 0;
    for (int n = 0; n < 200000; n++) {
        char uri[64];
        size_t len = 0;
        /* half the cases start from a valid path and mutate it, so acceptance is common */
        if (n % 2) {
            len = (size_t)snprintf(uri, sizeof uri, "/flags/br/br.gif");
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t extra = x % 12;
        for (size_t i = 0; i < extra && len < sizeof uri; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t pos = len ? x % (len + 1) : 0;
            if (pos < len && (x >> 32) % 3 == 0) {
                uri[pos] = alphabet[(x >> 8) % (sizeof alphabet - 1)];
            } else {
                memmove(uri + pos + 1, uri + pos, len - pos);
                uri[pos] = alphabet[(x >> 8) % (sizeof alphabet - 1)];
                len++;
            }
        }
        struct route r;
        enum route_kind k = route_parse(uri, len, &r);
        if (k != ROUTE_GIF && k != ROUTE_META)
            continue;
        accepted++;
        char canon[64];
        int cl = k == ROUTE_GIF ? snprintf(canon, sizeof canon, "/flags/%s/%s.gif", r.cc, r.cc)
                                : snprintf(canon, sizeof canon, "/flags/%s/metadata.json", r.cc);
        assert_true(len >= (size_t)cl);
        assert_memory_equal(uri, canon, (size_t)cl);
        assert_true(len == (size_t)cl || uri[cl] == '?');
        assert_null(memchr(uri, '\0', len));
    }
    assert_true(accepted > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flag_and_metadata_paths_give_the_code),
        cmocka_unit_test(stats_and_its_reset_parameter),
        cmocka_unit_test(well_formed_but_unknown_paths_are_404),
        cmocka_unit_test(traversal_and_encoding_tricks_are_400),
        cmocka_unit_test(overlong_targets_are_414),
        cmocka_unit_test(only_two_lowercase_letters_make_a_code),
        cmocka_unit_test(random_targets_accept_only_canonical_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
