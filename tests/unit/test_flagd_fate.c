/* Unit tests of flagd's fate (determinism, rates, ranges, faults) and of its /stats counters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "fate.h"

#define CODES (26 * 26)

static void code_at(int i, char cc[3])
{
    cc[0] = (char)('a' + i / 26);
    cc[1] = (char)('a' + i % 26);
    cc[2] = '\0';
}

static struct fate_config config(uint64_t seed, double rate, unsigned lo, unsigned hi)
{
    return (struct fate_config){
        .seed = seed, .error_rate = rate, .delay_min_ms = lo, .delay_max_ms = hi};
}

/* The hash is part of the contract (plans written down by tests and baselines): any
 * change to it must be deliberate. */
static void hash_values_are_pinned(void **state)
{
    (void)state;
    assert_true(fate_hash(0, FATE_ERROR, "br", FATE_TAG_FAIL) == 0x6d5f4a1b16271119u);
    assert_true(fate_hash(7, FATE_DELAY, "cn", FATE_TAG_DELAY) == 0x9e9ec3682ef62e73u);
    assert_true(fate_hash(7, FATE_DELAY, "CN", FATE_TAG_DELAY) == 0x9e9ec3682ef62e73u);
    /* every input changes it */
    uint64_t h = fate_hash(1, FATE_ERROR, "br", FATE_TAG_FAIL);
    assert_true(h != fate_hash(0, FATE_ERROR, "br", FATE_TAG_FAIL));
    assert_true(h != fate_hash(1, FATE_DELAY, "br", FATE_TAG_FAIL));
    assert_true(h != fate_hash(1, FATE_ERROR, "bs", FATE_TAG_FAIL));
    assert_true(h != fate_hash(1, FATE_ERROR, "br", FATE_TAG_STATUS));
}

static void same_inputs_same_fate_and_case_does_not_matter(void **state)
{
    (void)state;
    struct fate_config c = config(42, 0.5, 10, 500);
    for (int l = 0; l < FATE_LISTENERS; l++) {
        for (int i = 0; i < CODES; i++) {
            char cc[3], up[3];
            code_at(i, cc);
            up[0] = (char)(cc[0] - 32), up[1] = (char)(cc[1] - 32), up[2] = '\0';
            struct fate a = fate_of(&c, (enum fate_listener)l, cc);
            struct fate b = fate_of(&c, (enum fate_listener)l, cc);
            struct fate u = fate_of(&c, (enum fate_listener)l, up);
            assert_int_equal(a.status, b.status);
            assert_int_equal(a.delay_ms, b.delay_ms);
            assert_int_equal(a.status, u.status);
            assert_int_equal(a.delay_ms, u.delay_ms);
        }
    }
}

static void local_is_always_200_at_once(void **state)
{
    (void)state;
    struct fate_config c = config(3, 1.0, 1000, 2000);
    for (int i = 0; i < CODES; i++) {
        char cc[3];
        code_at(i, cc);
        struct fate f = fate_of(&c, FATE_LOCAL, cc);
        assert_int_equal(f.status, 200);
        assert_int_equal(f.delay_ms, 0);
    }
}

static void delay_is_200_and_within_min_max(void **state)
{
    (void)state;
    struct fate_config fixed = config(0, 1.0, 300, 300), range = config(0, 1.0, 100, 300);
    char seen[201] = {0};
    int distinct = 0;
    for (int i = 0; i < CODES; i++) {
        char cc[3];
        code_at(i, cc);
        struct fate f = fate_of(&fixed, FATE_DELAY, cc);
        assert_int_equal(f.status, 200);
        assert_int_equal(f.delay_ms, 300);
        f = fate_of(&range, FATE_DELAY, cc);
        assert_int_equal(f.status, 200);
        assert_in_range(f.delay_ms, 100, 300);
        if (!seen[f.delay_ms - 100]++)
            distinct++;
    }
    assert_true(distinct > 150); /* 676 draws over 201 values: spread, not a constant */
    struct fate_config zero = config(0, 0, 0, 0);
    assert_int_equal(fate_of(&zero, FATE_DELAY, "br").delay_ms, 0);
}

/* Over ten seeds, the failing share is near the rate, the three statuses all occur,
 * and about half the codes are delayed. */
static void error_fails_about_the_rate_and_delays_about_half(void **state)
{
    (void)state;
    for (uint64_t seed = 0; seed < 10; seed++) {
        struct fate_config c = config(seed, 0.25, 100, 100);
        int failed = 0, delayed = 0, by[3] = {0};
        for (int i = 0; i < CODES; i++) {
            char cc[3];
            code_at(i, cc);
            struct fate f = fate_of(&c, FATE_ERROR, cc);
            if (f.status != 200) {
                failed++;
                assert_true(f.status == 500 || f.status == 502 || f.status == 503);
                by[f.status == 500 ? 0 : f.status == 502 ? 1 : 2]++;
            }
            assert_true(f.delay_ms == 0 || f.delay_ms == 100);
            delayed += f.delay_ms > 0;
        }
        assert_in_range(failed, CODES * 18 / 100, CODES * 32 / 100);
        assert_in_range(delayed, CODES * 43 / 100, CODES * 57 / 100);
        for (int k = 0; k < 3; k++)
            assert_true(by[k] > 20);
    }
}

static void rate_zero_never_fails_rate_one_always_fails(void **state)
{
    (void)state;
    struct fate_config none = config(5, 0.0, 10, 10), all = config(5, 1.0, 10, 10);
    for (int i = 0; i < CODES; i++) {
        char cc[3];
        code_at(i, cc);
        assert_int_equal(fate_of(&none, FATE_ERROR, cc).status, 200);
        assert_int_not_equal(fate_of(&all, FATE_ERROR, cc).status, 200);
    }
}

/* A higher rate only adds failures, keeps each failing code's status, and never moves a
 * delay: the draws are independent (separate tags). */
static void rates_nest_and_delays_do_not_depend_on_the_rate(void **state)
{
    (void)state;
    struct fate_config lo = config(9, 0.1, 50, 900), hi = config(9, 0.4, 50, 900);
    for (int i = 0; i < CODES; i++) {
        char cc[3];
        code_at(i, cc);
        struct fate a = fate_of(&lo, FATE_ERROR, cc), b = fate_of(&hi, FATE_ERROR, cc);
        if (a.status != 200)
            assert_int_equal(b.status, a.status);
        assert_int_equal(a.delay_ms, b.delay_ms);
    }
}

static void another_seed_is_another_server(void **state)
{
    (void)state;
    struct fate_config a = config(0, 0.25, 100, 300), b = config(1, 0.25, 100, 300);
    int status_diff = 0, delay_diff = 0;
    for (int i = 0; i < CODES; i++) {
        char cc[3];
        code_at(i, cc);
        struct fate fa = fate_of(&a, FATE_ERROR, cc), fb = fate_of(&b, FATE_ERROR, cc);
        status_diff += fa.status != fb.status;
        delay_diff += fate_of(&a, FATE_DELAY, cc).delay_ms != fate_of(&b, FATE_DELAY, cc).delay_ms;
    }
    assert_true(status_diff > 50);
    assert_true(delay_diff > 500);
    assert_string_equal(fate_listener_name(FATE_LOCAL), "LOCAL");
    assert_string_equal(fate_listener_name(FATE_DELAY), "DELAY");
    assert_string_equal(fate_listener_name(FATE_ERROR), "ERROR");
}

/* Faults hit only ERROR codes that answer 200, near their rates, and never move a status
 * or a delay; without fault rates there are none. */
static void faults_are_drawn_on_error_among_the_200s_only(void **state)
{
    (void)state;
    struct fate_config plain = config(4, 0.25, 10, 90);
    struct fate_config faulty = plain;
    faulty.reset_rate = faulty.truncate_rate = faulty.stall_rate = 0.2;
    int by[FATE_FAULTS] = {0}, ok = 0;
    for (int i = 0; i < CODES; i++) {
        char cc[3];
        code_at(i, cc);
        for (int l = 0; l < FATE_LISTENERS; l++) {
            struct fate a = fate_of(&plain, (enum fate_listener)l, cc);
            struct fate b = fate_of(&faulty, (enum fate_listener)l, cc);
            assert_int_equal(a.fault, FATE_FAULT_NONE);
            assert_int_equal(a.status, b.status);
            assert_int_equal(a.delay_ms, b.delay_ms);
            if (l != FATE_ERROR || b.status != 200) {
                assert_int_equal(b.fault, FATE_FAULT_NONE);
                continue;
            }
            ok++;
            by[b.fault]++;
        }
    }
    /* reset 0.2; truncate 0.2 of the remaining 0.8; stall 0.2 of the remaining 0.64 */
    assert_in_range(by[FATE_FAULT_RESET], ok * 14 / 100, ok * 26 / 100);
    assert_in_range(by[FATE_FAULT_TRUNCATE], ok * 10 / 100, ok * 22 / 100);
    assert_in_range(by[FATE_FAULT_STALL], ok * 7 / 100, ok * 19 / 100);
    assert_string_equal(fate_fault_name(FATE_FAULT_NONE), "none");
    assert_string_equal(fate_fault_name(FATE_FAULT_RESET), "reset");
    assert_string_equal(fate_fault_name(FATE_FAULT_TRUNCATE), "truncate");
    assert_string_equal(fate_fault_name(FATE_FAULT_STALL), "stall");
}

static void counters_count_answers_and_the_peak(void **state)
{
    (void)state;
    struct counters *c = calloc(1, sizeof *c);
    char *j = counters_json(c);
    assert_string_equal(j,
                        "{\"requests\": {}, \"total\": 0, \"in_flight\": 0, \"max_in_flight\": 0, "
                        "\"faults\": {\"reset\": 0, \"truncate\": 0, \"stall\": 0}}");
    free(j);
    for (int i = 0; i < 5; i++)
        counters_begin(c);
    counters_end(c, 200);
    counters_end(c, 404);
    counters_end(c, 200);
    counters_fault(c, FATE_FAULT_RESET); /* a reset: a fault, and no answer */
    counters_end(c, 0);
    counters_begin(c);
    counters_fault(c, FATE_FAULT_NONE); /* not a fault: ignored */
    j = counters_json(c);
    assert_string_equal(j, "{\"requests\": {\"200\": 2, \"404\": 1}, \"total\": 3, "
                           "\"in_flight\": 2, \"max_in_flight\": 5, "
                           "\"faults\": {\"reset\": 1, \"truncate\": 0, \"stall\": 0}}");
    free(j);
    /* reset while two are in flight: the peak restarts from them, and they end cleanly */
    counters_reset(c);
    counters_end(c, 503);
    counters_end(c, 200);
    counters_end(c, 200); /* one end too many must not wrap in_flight */
    counters_fault(c, FATE_FAULT_STALL);
    j = counters_json(c);
    assert_string_equal(j, "{\"requests\": {\"200\": 2, \"503\": 1}, \"total\": 3, "
                           "\"in_flight\": 0, \"max_in_flight\": 2, "
                           "\"faults\": {\"reset\": 0, \"truncate\": 0, \"stall\": 1}}");
    free(j);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_values_are_pinned),
        cmocka_unit_test(same_inputs_same_fate_and_case_does_not_matter),
        cmocka_unit_test(local_is_always_200_at_once),
        cmocka_unit_test(delay_is_200_and_within_min_max),
        cmocka_unit_test(error_fails_about_the_rate_and_delays_about_half),
        cmocka_unit_test(rate_zero_never_fails_rate_one_always_fails),
        cmocka_unit_test(rates_nest_and_delays_do_not_depend_on_the_rate),
        cmocka_unit_test(another_seed_is_another_server),
        cmocka_unit_test(faults_are_drawn_on_error_among_the_200s_only),
        cmocka_unit_test(counters_count_answers_and_the_peak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
