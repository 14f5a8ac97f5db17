/* test_compare — the harness's arithmetic and judgement: statistics, limits, validation
 * of driver records, regressions between results files, and small parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "limit.h"
#include "record.h"
#include "results.h"
#include "server.h"
#include "stats.h"
#include "timing.h"

#define EPS 1e-9

static void stats_match_hyperfine_definitions(void **state)
{
    (void)state;
    const double odd[] = { 3, 1, 2 };
    struct stats s;
    assert_int_equal(stats_compute(odd, 3, &s), 0);
    assert_true(fabs(s.median - 2) < EPS && s.min == 1 && s.max == 3 && fabs(s.mean - 2) < EPS);
    assert_true(fabs(s.stddev - 1) < EPS); /* sample deviation: sqrt(2 / (3 - 1)) */
    assert_true(fabs(stats_cv_pct(&s) - 50) < EPS);
    assert_true(odd[0] == 3); /* input untouched */

    const double even[] = { 4, 1, 3, 2 };
    assert_int_equal(stats_compute(even, 4, &s), 0);
    assert_true(fabs(s.median - 2.5) < EPS);

    const double one[] = { 0.5 };
    assert_int_equal(stats_compute(one, 1, &s), 0);
    assert_true(s.median == 0.5 && s.stddev == 0);

    assert_int_equal(stats_compute(NULL, 0, &s), 0);
    assert_true(isnan(s.median) && isnan(stats_cv_pct(&s)));
}

static void delay_limit_is_l_times_rounds(void **state)
{
    (void)state;
    /* The book's 194 codes, 100 ms each. */
    assert_true(fabs(limit_delay_s(0.1, 194, 1) - 19.4) < EPS);
    assert_true(fabs(limit_delay_s(0.1, 194, 30) - 0.7) < EPS);   /* ⌈194/30⌉ = 7 */
    assert_true(fabs(limit_delay_s(0.1, 194, 194) - 0.1) < EPS);
    assert_true(fabs(limit_delay_s(0.1, 194, 1000) - 0.1) < EPS);
    assert_true(fabs(limit_delay_s(0.02, 20, 20) - 0.02) < EPS);
    assert_true(isnan(limit_delay_s(0, 194, 30)));
    assert_true(isnan(limit_delay_s(0.1, 194, 0)));
}

static void sha_limit_divides_by_usable_cores(void **state)
{
    (void)state;
    /* 1 GB at 500 MB/s: 2 s on one core, 1 s on two, still 1 s with 8 workers on 2 cores. */
    assert_true(fabs(limit_sha_s(1e9, 5e8, 1, 2) - 2) < EPS);
    assert_true(fabs(limit_sha_s(1e9, 5e8, 2, 2) - 1) < EPS);
    assert_true(fabs(limit_sha_s(1e9, 5e8, 8, 2) - 1) < EPS);
    assert_true(isnan(limit_sha_s(1e9, 0, 1, 2)));
    assert_true(fabs(limit_pct(0.5, 1.0) - 50) < EPS);
    assert_true(isnan(limit_pct(NAN, 1.0)));
}

static void sha_throughput_probe_measures_something(void **state)
{
    (void)state;
    double bps = 0;
    assert_int_equal(limit_sha_throughput(64 * 1024, 0.01, &bps), 0);
    assert_true(bps > 1e6); /* any machine hashes more than 1 MB/s */
}

static const char *const rec_ok =
    "{\"driver\":\"threadpool\",\"workload\":\"sha\",\"items\":2,\"ok\":2,\"not_found\":0,"
    "\"errors\":0,\"workers\":2,\"concurrency\":2,\"elapsed_s\":0.5,\"bytes\":2048,"
    "\"user_s\":0.1,\"sys_s\":0.01,\"max_rss_kb\":9000,\"ctx_voluntary\":3,"
    "\"ctx_involuntary\":1,\"done\":2,\"interrupted\":0,\"error_reasons\":{},"
    "\"digests\":[\"aa\",\"bb\"],\"size_bytes\":1024,\"seed\":0,\"hash_s\":0.4}";

static void records_parse_and_match_on_counts_and_digests(void **state)
{
    (void)state;
    struct record ref, r;
    char err[128], why[256];
    /* Noise before the record (a wrapper's line) is skipped. */
    char text[1024];
    snprintf(text, sizeof text, "warming up\n%s\n", rec_ok);
    assert_int_equal(record_parse(text, &ref, err, sizeof err), 0);
    assert_string_equal(ref.driver, "threadpool");
    assert_int_equal(ref.items, 2);
    assert_int_equal(ref.n_digests, 2);
    assert_string_equal(ref.digests[1], "bb");
    assert_int_equal(ref.size_bytes, 1024);

    assert_int_equal(record_parse(rec_ok, &r, err, sizeof err), 0);
    assert_true(record_matches(&ref, &r, why, sizeof why));
    r.ok = 1;
    r.errors = 1;
    assert_false(record_matches(&ref, &r, why, sizeof why));
    assert_string_equal(why, "ok 1, sequential 2");
    r.ok = 2;
    r.errors = 0;
    strcpy(r.digests[1], "cc");
    assert_false(record_matches(&ref, &r, why, sizeof why));
    assert_non_null(strstr(why, "digest of job 1 differs"));
    record_free(&r);
    record_free(&ref);

    assert_int_equal(record_parse("no json here\n", &r, err, sizeof err), -1);
    assert_int_equal(record_parse("{\"ok\": 1}\n", &r, err, sizeof err), -1);
    assert_int_equal(record_parse("{broken\n", &r, err, sizeof err), -1);
}

/* A results file with one run: sequential and threadpool on flags DELAY. */
static void make_file(struct results_file *f, double seq_median, double tp_median,
                      const char *tp_verdict)
{
    f->n_rows = 2;
    f->rows = calloc(2, sizeof *f->rows);
    const char *drivers[] = { "sequential", "threadpool" };
    const double medians[] = { seq_median, tp_median };
    for (int i = 0; i < 2; i++) {
        struct results_row *r = &f->rows[i];
        results_set(r, RC_RUN_ID, "run1");
        results_set(r, RC_WORKLOAD, "flags");
        results_set(r, RC_PROFILE, "DELAY");
        results_set(r, RC_DRIVER, drivers[i]);
        results_set(r, RC_ITEMS, "194");
        results_set(r, RC_DELAY_MS, "20");
        results_set_num(r, RC_MEDIAN_S, medians[i], 6);
        results_set(r, RC_VERDICT, i ? tp_verdict : "reference");
    }
}

static int compare_quietly(const struct results_file *a, const struct results_file *b,
                           double threshold, struct compare_summary *s)
{
    FILE *devnull = fopen("/dev/null", "w");
    int rc = compare_results(a, b, threshold, false, devnull, s);
    fclose(devnull);
    return rc;
}

static void compare_judges_speedups_not_absolute_times(void **state)
{
    (void)state;
    struct results_file base, same, slower_machine, regressed, faster, wrong;
    struct compare_summary s;
    make_file(&base, 4.0, 0.2, "ok");            /* speedup 20 */
    make_file(&same, 4.0, 0.2, "ok");
    make_file(&slower_machine, 8.0, 0.4, "ok");  /* everything 2× slower: still 20 */
    make_file(&regressed, 4.0, 0.4, "ok");       /* 2× regression: speedup 10 */
    make_file(&faster, 4.0, 0.1, "ok");
    make_file(&wrong, 4.0, 0.1, "MISMATCH");

    assert_int_equal(compare_quietly(&base, &same, 25, &s), 0);
    assert_int_equal(s.matched, 2);
    assert_int_equal(s.regressions, 0);
    assert_int_equal(compare_quietly(&base, &slower_machine, 25, &s), 0);
    assert_int_equal(compare_quietly(&base, &regressed, 25, &s), 1);
    assert_int_equal(s.regressions, 1);
    assert_int_equal(compare_quietly(&base, &regressed, 60, &s), 0); /* -50% within 60% */
    assert_int_equal(compare_quietly(&base, &faster, 25, &s), 0);
    assert_int_equal(s.improvements, 1);
    assert_int_equal(compare_quietly(&base, &wrong, 25, &s), 1);
    assert_int_equal(s.invalid, 1);

    /* A median 2× slower whose fastest run still matches the base: noise, not a failure;
     * a fastest run that is slow too: a regression. */
    results_set_num(&regressed.rows[1], RC_MIN_S, 0.2, 6);
    assert_int_equal(compare_quietly(&base, &regressed, 25, &s), 0);
    assert_int_equal(s.noisy, 1);
    assert_int_equal(s.regressions, 0);
    results_set_num(&regressed.rows[1], RC_MIN_S, 0.35, 6);
    assert_int_equal(compare_quietly(&base, &regressed, 25, &s), 1);
    assert_int_equal(s.regressions, 1);

    /* Rows only on one side are reported, not failed. */
    struct results_file one = { .rows = base.rows, .n_rows = 1 };
    assert_int_equal(compare_quietly(&base, &one, 25, &s), 0);
    assert_int_equal(s.only_base, 1);
    assert_int_equal(compare_quietly(&one, &base, 25, &s), 0);
    assert_int_equal(s.only_new, 1);

    results_file_free(&base);
    results_file_free(&same);
    results_file_free(&slower_machine);
    results_file_free(&regressed);
    results_file_free(&faster);
    results_file_free(&wrong);
}

static void flagd_ready_lines_parse_into_urls(void **state)
{
    (void)state;
    struct server s;
    memset(&s, 0, sizeof s);
    assert_int_equal(server_parse_ready(&s, "flagd: DELAY http://127.0.0.1:41234/flags (delay 20 ms)"),
                     SERVER_DELAY);
    assert_string_equal(s.url[SERVER_DELAY], "http://127.0.0.1:41234/flags");
    assert_int_equal(server_parse_ready(&s, "flagd: LOCAL http://127.0.0.1:41233/flags (no delay)"),
                     SERVER_LOCAL);
    assert_int_equal(server_parse_ready(&s, "flagd: listening"), -1);
    assert_int_equal(server_parse_ready(&s, "flagd: STATS http://x"), -1);
    assert_int_equal(server_profile_parse("error"), SERVER_ERROR);
}

static void command_lines_quote_only_what_a_shell_would_split(void **state)
{
    (void)state;
    char *argv[] = { "/bin/seq", "flags", "-s", "http://h:1/flags", "two words", "it's", "", NULL };
    char *line = timing_command_line(argv);
    assert_string_equal(line, "/bin/seq flags -s http://h:1/flags 'two words' 'it'\\''s' ''");
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stats_match_hyperfine_definitions),
        cmocka_unit_test(delay_limit_is_l_times_rounds),
        cmocka_unit_test(sha_limit_divides_by_usable_cores),
        cmocka_unit_test(sha_throughput_probe_measures_something),
        cmocka_unit_test(records_parse_and_match_on_counts_and_digests),
        cmocka_unit_test(compare_judges_speedups_not_absolute_times),
        cmocka_unit_test(flagd_ready_lines_parse_into_urls),
        cmocka_unit_test(command_lines_quote_only_what_a_shell_would_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
