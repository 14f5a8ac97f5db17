/* Unit tests of the shared core: code selection, options, URLs, classification, names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "countries.h"
#include "files.h"
#include "flags.h"
#include "num.h"

static long select_codes(struct countries_query *q, char (**codes)[3])
{
    char err[128];
    return countries_select(q, codes, err, sizeof err);
}

static void default_is_pop20_sorted(void **state)
{
    (void)state;
    struct countries_query q = {0};
    char(*codes)[3];
    assert_int_equal(select_codes(&q, &codes), 20);
    for (int i = 1; i < 20; i++)
        assert_true(strcmp(codes[i - 1], codes[i]) < 0);
    /* every POP20 code is in the list */
    for (int i = 0; i < 20; i++) {
        int found = 0;
        for (int j = 0; j < 20; j++)
            found |= strcmp(codes[j], countries_pop20[i]) == 0;
        assert_true(found);
    }
    free(codes);
}

static void all_is_the_books_194(void **state)
{
    (void)state;
    struct countries_query q = {.all = 1};
    char(*codes)[3];
    assert_int_equal(select_codes(&q, &codes), 194);
    assert_string_equal(codes[0], "AD");
    assert_string_equal(codes[193], "ZW");
    for (int i = 0; i < 194; i++)
        assert_string_equal(codes[i], countries_book[i]);
    free(codes);
}

static void every_is_aa_to_zz(void **state)
{
    (void)state;
    struct countries_query q = {.every = 1, .all = 1};
    char(*codes)[3];
    assert_int_equal(select_codes(&q, &codes), 676);
    assert_string_equal(codes[0], "AA");
    assert_string_equal(codes[27], "BB");
    assert_string_equal(codes[675], "ZZ");
    free(codes);
}

static void letter_expands_dedups_and_limit_cuts(void **state)
{
    (void)state;
    char *args[] = {"b", "br", "BR", "ca"};
    struct countries_query q = {.args = args, .n_args = 4};
    char(*codes)[3];
    assert_int_equal(select_codes(&q, &codes), 27); /* BA..BZ + CA */
    assert_string_equal(codes[0], "BA");
    assert_string_equal(codes[26], "CA");
    free(codes);
    q.limit = 3;
    assert_int_equal(select_codes(&q, &codes), 3);
    assert_string_equal(codes[2], "BC");
    free(codes);
}

static void bad_codes_are_refused(void **state)
{
    (void)state;
    char *bad[][1] = {{"b1"}, {"bra"}, {""}, {"1"}, {"é"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct countries_query q = {.args = bad[i], .n_args = 1};
        char(*codes)[3] = NULL;
        char err[128] = "";
        assert_int_equal(countries_select(&q, &codes, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "bad country code"));
    }
}

static void labels_map_to_the_books_ports(void **state)
{
    (void)state;
    char url[256];
    assert_int_equal(cli_server_url("LOCAL", url, sizeof url), 0);
    assert_string_equal(url, "http://127.0.0.1:8000/flags");
    assert_int_equal(cli_server_url("delay", url, sizeof url), 0);
    assert_string_equal(url, "http://127.0.0.1:8001/flags");
    assert_int_equal(cli_server_url("ERROR", url, sizeof url), 0);
    assert_string_equal(url, "http://127.0.0.1:8002/flags");
    assert_int_equal(cli_server_url("http://example.test/data/flags/", url, sizeof url), 0);
    assert_string_equal(url, "http://example.test/data/flags");
    assert_int_equal(cli_server_url("LOCALHOST", url, sizeof url), -EINVAL);
    assert_int_equal(cli_server_url("ftp://x/flags", url, sizeof url), -EINVAL);
    assert_int_equal(cli_server_url("http://", url, sizeof url), -EINVAL);
}

static void sizes_take_suffixes(void **state)
{
    (void)state;
    size_t n;
    assert_int_equal(cli_parse_size("1M", &n), 0);
    assert_int_equal(n, 1048576);
    assert_int_equal(cli_parse_size("16m", &n), 0);
    assert_int_equal(n, 16u << 20);
    assert_int_equal(cli_parse_size("64KiB", &n), 0);
    assert_int_equal(n, 65536);
    assert_int_equal(cli_parse_size("123", &n), 0);
    assert_int_equal(n, 123);
    assert_int_equal(cli_parse_size("2G", &n), 0);
    assert_int_equal(n, (size_t)2 << 30);
    const char *bad[] = {"5Q", "", "0", "-1", "M", "1MM", "99999999999999999999", "1.5M"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cli_parse_size(bad[i], &n), -EINVAL);
}

static const struct strategy fake = {
    .name = "fake",
    .default_concurrency = 30,
    .max_concurrency = 1000,
    .default_workers = 0,
    .max_workers = 64,
};

static int parse(struct cli_options *o, char *err, int argc, char **argv)
{
    return cli_parse(argc, argv, &fake, o, err, 256);
}

static void options_parse_with_defaults_and_bounds(void **state)
{
    (void)state;
    struct cli_options o;
    char err[256];
    char *ok[] = {"fake", "flags", "-a", "-m", "1000", "-s", "DELAY", "-t", "0.5", "--meta", "br"};
    assert_int_equal(parse(&o, err, 11, ok), 0);
    assert_true(o.all && o.meta);
    assert_int_equal(o.concurrency, 1000);
    assert_string_equal(o.base_url, "http://127.0.0.1:8001/flags");
    assert_int_equal(o.n_codes, 1);
    assert_string_equal(o.codes[0], "br");

    char *dflt[] = {"fake", "flags"};
    assert_int_equal(parse(&o, err, 2, dflt), 0);
    assert_int_equal(o.concurrency, 30);
    assert_string_equal(o.out_dir, "downloads");
    assert_string_equal(o.base_url, "http://127.0.0.1:8000/flags");

    char *m0[] = {"fake", "flags", "-m", "0"};
    assert_int_equal(parse(&o, err, 4, m0), -EINVAL);
    assert_non_null(strstr(err, "'0'"));
    char *m1001[] = {"fake", "flags", "-m", "1001"};
    /* above the driver's maximum: clamped, with the value asked for kept for the note */
    assert_int_equal(parse(&o, err, 4, m1001), 0);
    assert_int_equal(o.concurrency, 1000);
    assert_int_equal(o.concurrency_asked, 1001);
    char *shaw[] = {"fake", "sha", "-m", "3"};
    assert_int_equal(parse(&o, err, 4, shaw), -EINVAL);
    assert_non_null(strstr(err, "-m"));
    char *nosuch[] = {"fake", "frogs"};
    assert_int_equal(parse(&o, err, 2, nosuch), -EINVAL);
    char *t0[] = {"fake", "flags", "-t", "0"};
    assert_int_equal(parse(&o, err, 4, t0), -EINVAL);
    char *sha[] = {"fake", "sha", "-j", "24", "-n", "16M", "-w", "2", "--seed", "7"};
    assert_int_equal(parse(&o, err, 10, sha), 0);
    assert_int_equal(o.jobs, 24);
    assert_int_equal(o.size_bytes, 16u << 20);
    assert_int_equal(o.workers, 2);
    assert_int_equal(o.seed, 7);
}

static void urls_are_the_books_lowercase_layout(void **state)
{
    (void)state;
    char url[256];
    flags_url(url, sizeof url, "http://h:1/flags", "BR", FLAGS_STEP_FLAG);
    assert_string_equal(url, "http://h:1/flags/br/br.gif");
    flags_url(url, sizeof url, "http://h:1/flags", "CN", FLAGS_STEP_META);
    assert_string_equal(url, "http://h:1/flags/cn/metadata.json");
}

static void outcomes_are_classified(void **state)
{
    (void)state;
    struct job_result r;
    assert_int_equal(flags_classify(FLAGS_STEP_FLAG, CURLE_OK, 200, 0, 1024, false, &r), JOB_OK);
    assert_int_equal(flags_classify(FLAGS_STEP_FLAG, CURLE_OK, 404, 0, 1024, false, &r),
                     JOB_NOT_FOUND);
    assert_int_equal(flags_classify(FLAGS_STEP_FLAG, CURLE_OK, 503, 0, 1024, false, &r), JOB_ERROR);
    assert_string_equal(r.reason, "HTTP 503");
    assert_int_equal(r.http_status, 503);
    /* a missing metadata.json is an error of a found flag, not a "not found" */
    assert_int_equal(flags_classify(FLAGS_STEP_META, CURLE_OK, 404, 0, 1024, false, &r), JOB_ERROR);
    assert_string_equal(r.reason, "metadata: HTTP 404");
    assert_int_equal(
        flags_classify(FLAGS_STEP_FLAG, CURLE_OPERATION_TIMEDOUT, 0, 0, 1024, false, &r),
        JOB_ERROR);
    assert_string_equal(r.reason, "timeout");
    assert_int_equal(
        flags_classify(FLAGS_STEP_FLAG, CURLE_COULDNT_CONNECT, 0, ECONNREFUSED, 1024, false, &r),
        JOB_ERROR);
    assert_string_equal(r.reason, "connection refused");
    assert_int_equal(r.unreachable, 1);
    assert_int_equal(flags_classify(FLAGS_STEP_FLAG, CURLE_PARTIAL_FILE, 200, 0, 1024, false, &r),
                     JOB_ERROR);
    assert_string_equal(r.reason, "short body");
    assert_int_equal(r.unreachable, 0);
    assert_int_equal(
        flags_classify(FLAGS_STEP_FLAG, CURLE_RECV_ERROR, 200, ECONNRESET, 1024, false, &r),
        JOB_ERROR);
    assert_string_equal(r.reason, "connection reset");
    assert_int_equal(flags_classify(FLAGS_STEP_FLAG, CURLE_WRITE_ERROR, 200, 0, 1024, true, &r),
                     JOB_ERROR);
    assert_string_equal(r.reason, "body over 1024 bytes");
    assert_int_equal(
        flags_classify(FLAGS_STEP_FLAG, CURLE_FILESIZE_EXCEEDED, 200, 0, 1024, false, &r),
        JOB_ERROR);
    assert_string_equal(r.reason, "body over 1024 bytes");
}

static void country_names_become_safe_file_names(void **state)
{
    (void)state;
    char name[64];
    flags_safe_name(name, sizeof name, "United States");
    assert_string_equal(name, "United_States.gif");
    flags_safe_name(name, sizeof name, "../../etc/passwd");
    assert_string_equal(name, "_._.._etc_passwd.gif"); /* no "/", no leading "." */
    flags_safe_name(name, sizeof name, ".hidden");
    assert_string_equal(name, "_hidden.gif");
    flags_safe_name(name, sizeof name, "A\nB\x01");
    assert_string_equal(name, "AB.gif");
    flags_safe_name(name, sizeof name, "Côte d'Ivoire");
    assert_string_equal(name, "Côte_d'Ivoire.gif");
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    flags_safe_name(name, sizeof name, longname);
    assert_int_equal(strlen(name), sizeof name - 1);
    assert_string_equal(name + strlen(name) - 4, ".gif");
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void prepare_dir_counts_what_it_made_and_undoes_only_that(void **state)
{
    (void)state;
    char base[] = "/tmp/concbench-files-XXXXXX", path[128], err[256];
    assert_non_null(mkdtemp(base));
    unsigned created = 99;
    /* three new components, with a doubled and a trailing slash */
    snprintf(path, sizeof path, "%s/a//b/c/", base);
    assert_int_equal(files_prepare_dir(path, &created, err, sizeof err), 0);
    assert_int_equal(created, 3);
    files_remove_created(path, created);
    assert_false(is_dir(path));
    snprintf(path, sizeof path, "%s/a", base);
    assert_false(is_dir(path));
    assert_true(is_dir(base)); /* it existed before: never removed */

    /* an existing directory: nothing made, nothing to undo */
    assert_int_equal(files_prepare_dir(base, &created, err, sizeof err), 0);
    assert_int_equal(created, 0);

    /* a directory that holds a file is kept, and so are its parents */
    snprintf(path, sizeof path, "%s/x/y", base);
    assert_int_equal(files_prepare_dir(path, &created, err, sizeof err), 0);
    assert_int_equal(created, 2);
    assert_int_equal(files_write_atomic(path, "f", "1", 1, err, sizeof err), 0);
    files_remove_created(path, created);
    assert_true(is_dir(path));
    snprintf(path, sizeof path, "%s/x/y/f", base);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof path, "%s/x/y", base);
    assert_int_equal(rmdir(path), 0);
    snprintf(path, sizeof path, "%s/x", base);
    assert_int_equal(rmdir(path), 0);

    /* new/../keep where keep existed: undoing by count would remove keep; nothing is counted */
    snprintf(path, sizeof path, "%s/keep", base);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/new/../keep", base);
    assert_int_equal(files_prepare_dir(path, &created, err, sizeof err), 0);
    assert_int_equal(created, 0);
    files_remove_created(path, created);
    snprintf(path, sizeof path, "%s/keep", base);
    assert_true(is_dir(path));
    assert_int_equal(rmdir(path), 0);
    snprintf(path, sizeof path, "%s/new", base);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(rmdir(base), 0);
}

static void numbers_have_one_sign_rule(void **state)
{
    (void)state;
    unsigned long long v = 7;
    assert_int_equal(num_parse_u64("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(num_parse_u64("18446744073709551615", 0, ~0ULL, &v), 0);
    assert_true(v == ~0ULL);
    v = 7;
    /* no sign, no space (the " -1" that strtoull would read as 2^64 - 1), no suffix */
    const char *bad[] = {"", "-1", "+1", " 1", " -1", "1 ", "1k", "0x10", "1.0", "१"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(num_parse_u64(bad[i], 0, ~0ULL, &v), -EINVAL);
    assert_int_equal(num_parse_u64("18446744073709551616", 0, ~0ULL, &v), -ERANGE);
    assert_int_equal(num_parse_u64("11", 0, 10, &v), -ERANGE);
    assert_int_equal(num_parse_u64("0", 1, 10, &v), -ERANGE);
    assert_int_equal(v, 7); /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_have_one_sign_rule),
        cmocka_unit_test(default_is_pop20_sorted),
        cmocka_unit_test(all_is_the_books_194),
        cmocka_unit_test(every_is_aa_to_zz),
        cmocka_unit_test(letter_expands_dedups_and_limit_cuts),
        cmocka_unit_test(bad_codes_are_refused),
        cmocka_unit_test(labels_map_to_the_books_ports),
        cmocka_unit_test(sizes_take_suffixes),
        cmocka_unit_test(options_parse_with_defaults_and_bounds),
        cmocka_unit_test(urls_are_the_books_lowercase_layout),
        cmocka_unit_test(outcomes_are_classified),
        cmocka_unit_test(country_names_become_safe_file_names),
        cmocka_unit_test(prepare_dir_counts_what_it_made_and_undoes_only_that),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
