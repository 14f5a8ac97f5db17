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
    const double odd[] = {3, 1, 2};
    struct stats s;
    assert_int_equal(stats_compute(odd, 3, &s), 0);
    assert_true(fabs(s.median - 2) < EPS && s.min == 1 && s.max == 3 && fabs(s.mean - 2) < EPS);
    assert_true(fabs(s.stddev - 1) < EPS); /* sample deviation: sqrt(2 / (3 - 1)) */
    assert_true(fabs(stats_cv_pct(&s) - 50) < EPS);
    assert_true(odd[0] == 3); /* input untouched */

    const double even[] = {4, 1, 3, 2};
    assert_int_equal(stats_compute(even, 4, &s), 0);
    assert_true(fabs(s.median - 2.5) < EPS);

    const double one[] = {0.5};
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
    assert_true(fabs(limit_delay_s(0.1, 194, 30) - 0.7) < EPS); /* ⌈194/30⌉ = 7 */
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

/* A results file with one run: sequential and threadpool on flags DELAY, each with five
 * runs spread ±spread around its median. */
static void make_file(struct results_file *f, double seq_median, double tp_median,
                      const char *tp_verdict, double spread)
{
    f->n_rows = 2;
    f->rows = calloc(2, sizeof *f->rows);
    const char *drivers[] = {"sequential", "threadpool"};
    const double medians[] = {seq_median, tp_median};
    static const double shape[5] = {-1, -0.5, 0, 0.5, 1};
    for (int i = 0; i < 2; i++) {
        struct results_row *r = &f->rows[i];
        results_set(r, RC_RUN_ID, "run1");
        results_set(r, RC_WORKLOAD, "flags");
        results_set(r, RC_PROFILE, "DELAY");
        results_set(r, RC_DRIVER, drivers[i]);
        results_set(r, RC_ITEMS, "194");
        results_set(r, RC_DELAY_MS, "20");
        results_set(r, RC_CORES, "2");
        results_set(r, RC_WORKERS, i ? "30" : "1");
        results_set(r, RC_CONCURRENCY, i ? "30" : "1");
        results_set_num(r, RC_MEDIAN_S, medians[i], 6);
        char times[200] = "";
        for (int k = 0; k < 5; k++)
            snprintf(times + strlen(times), sizeof times - strlen(times), "%s%.6f", k ? " " : "",
                     medians[i] * (1 + spread * shape[(k * 2 + i) % 5]));
        results_set(r, RC_TIMES_S, times);
        results_set(r, RC_VERDICT, i ? tp_verdict : "reference");
    }
}

static int compare_quietly(const struct results_file *a, const struct results_file *b,
                           const struct compare_options *o, struct compare_summary *s)
{
    FILE *devnull = fopen("/dev/null", "w");
    int rc = compare_results(a, NULL, b, NULL, o, devnull, s);
    fclose(devnull);
    free(s->flagged);
    s->flagged = NULL;
    return rc;
}

static void mann_whitney_and_bootstrap_match_their_definitions(void **state)
{
    (void)state;
    const double a[5] = {1, 2, 3, 4, 5}, b[5] = {6, 7, 8, 9, 10};
    /* Completely separated 5 and 5: 2 of the C(10,5) = 252 orderings are as extreme. */
    assert_true(fabs(stats_mann_whitney_p(a, 5, b, 5) - 2.0 / 252) < 1e-9);
    assert_true(fabs(stats_mann_whitney_p(b, 5, a, 5) - 2.0 / 252) < 1e-9);
    const double c[5] = {1, 3, 5, 7, 9}, d[5] = {2, 4, 6, 8, 10};
    assert_true(stats_mann_whitney_p(c, 5, d, 5) > 0.5);
    assert_true(stats_mann_whitney_p(a, 5, a, 5) == 1.0); /* all tied */
    assert_true(isnan(stats_mann_whitney_p(a, 0, b, 5)));
    /* 3 and 3 can never be significant at 5%: the smallest p is 2/20. */
    assert_true(fabs(stats_mann_whitney_p(a, 3, b, 3) - 0.1) < 1e-9);

    struct stats_sample top = {b, 5}, bottom = {a, 5};
    double lo, hi;
    assert_int_equal(stats_bootstrap_ratio_ci(&top, 1, &bottom, 1, 0.95, &lo, &hi), 0);
    assert_true(lo <= 8.0 / 3 && 8.0 / 3 <= hi && lo > 1); /* the medians' ratio inside */
    double lo2, hi2;
    assert_int_equal(stats_bootstrap_ratio_ci(&top, 1, &bottom, 1, 0.95, &lo2, &hi2), 0);
    assert_true(lo == lo2 && hi == hi2); /* seeded: reproducible */

    const double quiet[6] = {1.00, 1.01, 0.99, 1.00, 1.02, 0.98};
    const double spike[6] = {1.00, 1.01, 0.99, 1.00, 1.02, 3.00};
    assert_int_equal(stats_outliers(quiet, 6), 0);
    assert_int_equal(stats_outliers(spike, 6), 1);
    const double hyperfine_case[4] = {-0.2, 0, 0.2, 4.0}; /* hyperfine's own unit test */
    assert_int_equal(stats_outliers(hyperfine_case, 4), 1);
}

static void compare_judges_speedup_and_time_by_significance(void **state)
{
    (void)state;
    struct results_file base, same, slower_machine, regressed, faster, wrong, overlap;
    struct compare_summary s;
    struct compare_options both = {
        .threshold_pct = 25, .alpha = 0.05, .check_speedup = true, .check_time = true};
    struct compare_options speedup_only = both, time_only = both;
    speedup_only.check_time = false;
    time_only.check_speedup = false;
    make_file(&base, 4.0, 0.2, "ok", 0.01); /* speedup 20 */
    make_file(&same, 4.0, 0.2, "ok", 0.01);
    make_file(&slower_machine, 8.0, 0.4, "ok", 0.01); /* everything 2× slower: still 20 */
    make_file(&regressed, 4.0, 0.4, "ok", 0.01);      /* 2× regression: speedup 10 */
    make_file(&faster, 4.0, 0.1, "ok", 0.01);
    make_file(&wrong, 4.0, 0.1, "MISMATCH", 0.01);
    make_file(&overlap, 4.0, 0.3, "ok", 0.9); /* +50%, but runs from 0.03 to 0.57 */

    assert_int_equal(compare_quietly(&base, &same, &both, &s), COMPARE_PASS);
    assert_int_equal(s.matched, 2);
    assert_int_equal(s.regressions, 0);
    /* A uniform slowdown: the speedup check cannot see it, the time check can. */
    assert_int_equal(compare_quietly(&base, &slower_machine, &speedup_only, &s), COMPARE_PASS);
    assert_int_equal(compare_quietly(&base, &slower_machine, &time_only, &s), COMPARE_FAIL);
    assert_int_equal(s.regressions, 2);
    assert_int_equal(compare_quietly(&base, &regressed, &both, &s), COMPARE_FAIL);
    assert_int_equal(s.regressions, 1);
    /* +25% time, −20% speedup: beyond 10%, within 30%. */
    struct results_file mild;
    make_file(&mild, 4.0, 0.25, "ok", 0.01);
    struct compare_options loose = both, strict = both;
    loose.threshold_pct = 30;
    strict.threshold_pct = 10;
    assert_int_equal(compare_quietly(&base, &mild, &loose, &s), COMPARE_PASS);
    assert_int_equal(compare_quietly(&base, &mild, &strict, &s), COMPARE_FAIL);
    assert_int_equal(s.regressions, 1);
    results_file_free(&mild);
    assert_int_equal(compare_quietly(&base, &faster, &both, &s), COMPARE_PASS);
    assert_int_equal(s.improvements, 1);
    assert_int_equal(compare_quietly(&base, &wrong, &both, &s), COMPARE_FAIL);
    assert_int_equal(s.invalid, 1);
    /* Beyond the threshold but not significant: inconclusive, never a regression. */
    assert_int_equal(compare_quietly(&base, &overlap, &both, &s), COMPARE_INCONCLUSIVE);
    assert_int_equal(s.regressions, 0);
    assert_int_equal(s.inconclusive, 1);
    /* A real regression measured while others used the machine: inconclusive too. */
    results_set(&regressed.rows[1], RC_NOISE, "noisy");
    results_set(&regressed.rows[1], RC_NOISE_REASON, "foreign CPU 48%");
    results_set(&regressed.rows[1], RC_FOREIGN_CPU_PCT, "48.0");
    assert_int_equal(compare_quietly(&base, &regressed, &both, &s), COMPARE_INCONCLUSIVE);
    assert_int_equal(s.regressions, 0);

    /* A NEW without BASE's rows, without a sequential row, or with no row at all fails,
     * unless missing rows are allowed. */
    struct results_file one = {.rows = base.rows, .n_rows = 1};
    struct results_file no_ref = {.rows = base.rows + 1, .n_rows = 1};
    struct results_file empty = {.rows = NULL, .n_rows = 0};
    struct compare_options allow = both;
    allow.allow_missing = true;
    assert_int_equal(compare_quietly(&base, &one, &both, &s), COMPARE_FAIL);
    assert_int_equal(s.only_base, 1);
    assert_int_equal(compare_quietly(&base, &one, &allow, &s), COMPARE_PASS);
    assert_int_equal(compare_quietly(&base, &no_ref, &both, &s), COMPARE_FAIL);
    assert_int_equal(s.missing_reference, 1);
    assert_int_equal(compare_quietly(&base, &empty, &both, &s), COMPARE_FAIL);
    assert_int_equal(compare_quietly(&base, &empty, &allow, &s), COMPARE_PASS);
    assert_int_equal(compare_quietly(&one, &base, &both, &s), COMPARE_PASS);
    assert_int_equal(s.only_new, 1);
    /* The key holds the core count: a 1-core NEW does not match a 2-core BASE. */
    results_set(&same.rows[0], RC_CORES, "1");
    results_set(&same.rows[1], RC_CORES, "1");
    assert_int_equal(compare_quietly(&base, &same, &both, &s), COMPARE_FAIL);
    assert_int_equal(s.only_base, 2);

    /* A noisy row: a change its spread could explain is inconclusive; a 3x one is not. */
    struct results_file noisy_base, three;
    make_file(&noisy_base, 4.0, 0.2, "ok", 0.01);
    make_file(&three, 4.0, 0.6, "ok", 0.01);
    results_set(&noisy_base.rows[1], RC_CV_PCT, "22.0");
    assert_int_equal(compare_quietly(&noisy_base, &regressed, &both, &s), COMPARE_INCONCLUSIVE);
    assert_int_equal(compare_quietly(&noisy_base, &three, &both, &s), COMPARE_FAIL);
    assert_int_equal(s.regressions, 1);
    /* Different conditions (CPU idle states, where files went) are not one experiment. */
    results_set(&three.rows[0], RC_CPU_IDLE, "deep");
    results_set(&three.rows[1], RC_CPU_IDLE, "deep");
    results_set(&base.rows[0], RC_CPU_IDLE, "shallow");
    results_set(&base.rows[1], RC_CPU_IDLE, "shallow");
    assert_int_equal(compare_quietly(&base, &three, &both, &s), COMPARE_INCONCLUSIVE);
    assert_int_equal(s.matched, 2);
    /* A BASE row that failed leaves nothing to judge; a BASE with no row fails. */
    results_set(&noisy_base.rows[1], RC_VERDICT, "FAILED");
    assert_int_equal(compare_quietly(&noisy_base, &three, &both, &s), COMPARE_INCONCLUSIVE);
    assert_int_equal(compare_quietly(&empty, &base, &both, &s), COMPARE_FAIL);
    /* times_s is read for what it is: values apart from single spaces, no more than fit */
    results_set(&three.rows[1], RC_TIMES_S, "0.6+0.6+0.6+0.6+0.6+0.6+0.6+0.6\t0.6\n0.6");
    (void)compare_quietly(&base, &three, &both, &s); /* must not write past its array (ASan) */
    results_file_free(&noisy_base);
    results_file_free(&three);

    results_file_free(&base);
    results_file_free(&same);
    results_file_free(&slower_machine);
    results_file_free(&regressed);
    results_file_free(&faster);
    results_file_free(&wrong);
    results_file_free(&overlap);
}

static void flagd_ready_lines_parse_into_urls(void **state)
{
    (void)state;
    struct server s;
    memset(&s, 0, sizeof s);
    assert_int_equal(
        server_parse_ready(&s, "flagd: DELAY http://127.0.0.1:41234/flags (delay 20 ms)"),
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
    char *argv[] = {"/bin/seq", "flags", "-s", "http://h:1/flags", "two words", "it's", "", NULL};
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
        cmocka_unit_test(mann_whitney_and_bootstrap_match_their_definitions),
        cmocka_unit_test(compare_judges_speedup_and_time_by_significance),
        cmocka_unit_test(flagd_ready_lines_parse_into_urls),
        cmocka_unit_test(command_lines_quote_only_what_a_shell_would_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
