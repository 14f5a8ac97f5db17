/* Unit tests of the sha workload: FIPS 180-2 vectors and the buffer generator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sha.h"

static void expect_digest(const void *buf, size_t n, const char *hex_expected)
{
    unsigned char d[JOB_DIGEST_LEN];
    char hex[2 * JOB_DIGEST_LEN + 1];
    assert_int_equal(sha_digest(buf, n, d), 0);
    sha_hex(d, hex);
    assert_string_equal(hex, hex_expected);
}

static void fips_180_2_vectors(void **state)
{
    (void)state;
    expect_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect_digest(two, strlen(two),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    expect_digest(million, 1000000,
                  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
    expect_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void generator_is_a_function_of_seed_and_job(void **state)
{
    (void)state;
    enum { N = 4099 }; /* not a multiple of 8: the tail is covered */
    unsigned char *a = malloc(N), *b = malloc(N), *c = malloc(N);
    sha_fill(a, N, 42, 3);
    sha_fill(b, N, 42, 3);
    assert_memory_equal(a, b, N);
    sha_fill(c, N, 42, 4);
    assert_memory_not_equal(a, c, N);
    sha_fill(c, N, 43, 3);
    assert_memory_not_equal(a, c, N);
    /* a shorter buffer is a prefix of a longer one: -n changes length, not content */
    sha_fill(c, 13, 42, 3);
    assert_memory_equal(a, c, 13);
    /* and the bytes look random: every byte value appears in 4 KiB */
    int seen[256] = {0}, distinct = 0;
    for (int i = 0; i < N; i++)
        distinct += !seen[a[i]]++;
    assert_true(distinct > 240);
    free(a), free(b), free(c);
}

static void jobs_hash_their_own_buffer(void **state)
{
    (void)state;
    struct sha_config cfg = {.jobs = 3, .size_bytes = 1000, .seed = 9};
    struct workload w;
    sha_workload(&w, &cfg);
    void *st;
    char err[64];
    assert_int_equal(w.worker_init(&w, &st, err, sizeof err), 0);
    struct job_result r;
    w.job_run(&w, st, 2, &r);
    assert_int_equal(r.outcome, JOB_OK);
    assert_int_equal(r.index, 2);
    assert_int_equal(r.bytes, 1000);
    unsigned char buf[1000], d[JOB_DIGEST_LEN];
    sha_fill(buf, sizeof buf, 9, 2);
    assert_int_equal(sha_digest(buf, sizeof buf, d), 0);
    assert_memory_equal(r.digest, d, JOB_DIGEST_LEN);
    w.worker_fini(&w, st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fips_180_2_vectors),
        cmocka_unit_test(generator_is_a_function_of_seed_and_job),
        cmocka_unit_test(jobs_hash_their_own_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
