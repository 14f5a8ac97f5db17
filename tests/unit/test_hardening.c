/* test_hardening — regression tests for issue 13's bugs that a unit can prove: saved
 * files' modes under many threads, a deeply nested metadata.json, tiny timeouts, names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <dlfcn.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "files.h"
#include "flags.h"
#include "record.h"

#define SAVE_THREADS 8
#define SAVES_PER_THREAD 100

/* umask(2) interposed: a call that sets the process umask to anything but the test's own
 * value opens the window in which another thread creates a world-writable file. The race
 * itself shows up about one run in five; this shows its cause every time. */
static atomic_int umask_changes;
static atomic_int umask_watch;

mode_t umask(mode_t mask)
{
    static mode_t (*real)(mode_t);
    if (!real)
        real = (mode_t(*)(mode_t))dlsym(RTLD_NEXT, "umask");
    if (atomic_load(&umask_watch) && mask != 022)
        atomic_fetch_add(&umask_changes, 1);
    return real(mask);
}

struct saver {
    const char *dir;
    unsigned id;
    int failures;
};

static void *save_many(void *arg)
{
    struct saver *s = arg;
    char name[64], err[256];
    for (unsigned i = 0; i < SAVES_PER_THREAD; i++) {
        snprintf(name, sizeof name, "t%u-%u.bin", s->id, i);
        if (files_write_atomic(s->dir, name, "x", 1, err, sizeof err) != 0)
            s->failures++;
    }
    return NULL;
}

/* issue 13 bug 2: umask(0); umask(mask) on every saving thread raced, leaving 0666 files
 * and the process umask at 000 */
static void saves_on_many_threads_keep_the_umask_and_0644(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_hardening.XXXXXX";
    assert_non_null(mkdtemp(dir));
    mode_t old = umask(022);
    atomic_store(&umask_watch, 1);
    pthread_t th[SAVE_THREADS];
    struct saver sv[SAVE_THREADS];
    for (unsigned i = 0; i < SAVE_THREADS; i++) {
        sv[i] = (struct saver){.dir = dir, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, save_many, &sv[i]), 0);
    }
    for (unsigned i = 0; i < SAVE_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(sv[i].failures, 0);
    }
    atomic_store(&umask_watch, 0);
    mode_t now = umask(old);
    DIR *d = opendir(dir);
    assert_non_null(d);
    unsigned files = 0, wrong = 0;
    char path[512];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(stat(path, &st), 0);
        files++;
        if ((st.st_mode & 07777) != 0644)
            wrong++;
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
    assert_int_equal(files, SAVE_THREADS * SAVES_PER_THREAD);
    assert_int_equal(wrong, 0);
    assert_int_equal(now, 022);
    assert_int_equal(atomic_load(&umask_changes), 0);
}

/* issue 13 bug 3: -t below 0.0005 became libcurl's timeout 0, "never" */
static void tiny_timeouts_round_up_to_one_millisecond(void **state)
{
    (void)state;
    assert_int_equal(flags_timeout_ms(0.0004), 1);
    assert_int_equal(flags_timeout_ms(1e-9), 1);
    assert_int_equal(flags_timeout_ms(0.0011), 2);
    assert_int_equal(flags_timeout_ms(0.3), 300);
    assert_int_equal(flags_timeout_ms(3.1), 3100);
    assert_int_equal(flags_timeout_ms(3600), 3600000);
}

/* issue 13 bug 8b: such URLs made every code fail with "URL using bad/illegal format" */
static void server_urls_are_checked_as_libcurl_reads_them(void **state)
{
    (void)state;
    char url[512];
    assert_true(cli_server_url("http://127.0.0.1:99999/flags", url, sizeof url) < 0);
    assert_true(cli_server_url("http://127.0.0.1:8000/fl\tags", url, sizeof url) < 0);
    assert_true(cli_server_url("http://127.0.0.1:8000/fl\nags", url, sizeof url) < 0);
    assert_int_equal(cli_server_url("http://127.0.0.1:65535/flags", url, sizeof url), 0);
    assert_string_equal(url, "http://127.0.0.1:65535/flags");
    assert_int_equal(cli_server_url("http://[::1]:8000/flags/", url, sizeof url), 0);
    assert_string_equal(url, "http://[::1]:8000/flags");
}

/* issue 13 bug 10: cutting a long name split a UTF-8 character */
static void long_names_are_cut_between_utf8_characters(void **state)
{
    (void)state;
    char name[64], country[100] = "";
    for (int i = 0; i < 40; i++)
        strcat(country, "\xc3\xa9"); /* é, two bytes: the 59 bytes of room end inside one */
    flags_safe_name(name, sizeof name, country);
    assert_int_equal(strlen(name), 58 + 4);
    assert_string_equal(name + 58, ".gif");
    assert_int_equal((unsigned char)name[56], 0xc3);
    assert_int_equal((unsigned char)name[57], 0xa9);
    strcpy(country, "x");
    for (int i = 0; i < 20; i++)
        strcat(country, "\xe2\x82\xac"); /* €, three bytes: 1 + 19 * 3 = 58 fit, not 59 */
    flags_safe_name(name, sizeof name, country);
    assert_int_equal(strlen(name), 58 + 4);
}

/* issue 13 bug 10: "items": 1e300 was cast from double to long long (undefined) */
static void records_with_huge_or_fractional_counts_are_refused(void **state)
{
    (void)state;
    struct record r;
    char err[256];
    const char *ok = "{\"items\": 2.0, \"ok\": 2, \"not_found\": 0, \"errors\": 0}";
    assert_int_equal(record_parse(ok, &r, err, sizeof err), 0);
    assert_int_equal(r.items, 2);
    record_free(&r);
    const char *bad[] = {
        "{\"items\": 1e300, \"ok\": 1, \"not_found\": 0, \"errors\": 0}",
        "{\"items\": -1e300, \"ok\": 1, \"not_found\": 0, \"errors\": 0}",
        "{\"items\": 1.5, \"ok\": 1, \"not_found\": 0, \"errors\": 0}",
        "{\"items\": 1, \"ok\": 9.3e18, \"not_found\": 0, \"errors\": 0}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(record_parse(bad[i], &r, err, sizeof err), -1);
        assert_non_null(strstr(err, "whole numbers"));
        record_free(&r);
    }
}

/* issue 13 bug 10: a non-UTF-8 directory name in a reason emptied --json's error_reasons */
static void save_errors_are_utf8_whatever_the_path(void **state)
{
    (void)state;
    char err[256];
    assert_int_not_equal(
        files_write_atomic("/nonexistent-\xff\xfe", "x.bin", "x", 1, err, sizeof err), 0);
    assert_string_equal(err, "cannot write /nonexistent-?"
                             "?/x.bin: No such file or directory");
    assert_int_not_equal(
        files_write_atomic("/nonexistent-\xc3\xa9", "x.bin", "x", 1, err, sizeof err), 0);
    assert_string_equal(err, "cannot write /nonexistent-\xc3\xa9"
                             "/x.bin: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(saves_on_many_threads_keep_the_umask_and_0644),
        cmocka_unit_test(tiny_timeouts_round_up_to_one_millisecond),
        cmocka_unit_test(server_urls_are_checked_as_libcurl_reads_them),
        cmocka_unit_test(long_names_are_cut_between_utf8_characters),
        cmocka_unit_test(records_with_huge_or_fractional_counts_are_refused),
        cmocka_unit_test(save_errors_are_utf8_whatever_the_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
