/* sha — the hashing workload: deterministic buffers hashed with OpenSSL EVP SHA-256. */
#ifndef CONCBENCH_SHA_H
#define CONCBENCH_SHA_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"

#define SHA_DEFAULT_JOBS 12
#define SHA_DEFAULT_SIZE (1024 * 1024)

struct sha_config {
    size_t jobs;
    size_t size_bytes; /* per buffer */
    uint64_t seed;
    const char *dump_dir; /* --dump: also write DIR/job-NN.bin; NULL otherwise */
};

/* Fill buf with n bytes that depend only on (seed, job): splitmix64 per 8-byte word,
 * several GB/s so that hashing dominates a job. */
void sha_fill(unsigned char *buf, size_t n, uint64_t seed, uint64_t job);

/* SHA-256 of buf through OpenSSL's EVP interface. 0, or -EIO when OpenSSL fails. Any
 * thread. */
int sha_digest(const void *buf, size_t n, unsigned char out[JOB_DIGEST_LEN])
    __attribute__((warn_unused_result));

/* SHA-256 over lines[0..n), sorted first (in place, by strcmp) so that the digest does
 * not depend on their order: the content digests of report.c and crawl.c. 0 or -EIO. */
int sha_digest_sorted(char **lines, size_t n, unsigned char out[JOB_DIGEST_LEN])
    __attribute__((warn_unused_result));

/* OpenSSL's SHA-256, fetched once for the process (see sha.c); any thread. */
const EVP_MD *sha_md(void);

/* Lower-case hex of a digest into hex (65 bytes). */
void sha_hex(const unsigned char digest[JOB_DIGEST_LEN], char hex[2 * JOB_DIGEST_LEN + 1]);

/* The dump file name of a job: "job-07.bin" (at least two digits). */
void sha_job_name(char *buf, size_t len, size_t job);

/* The sha workload's jobs over cfg (each worker keeps one buffer of size_bytes).
 * Registered in the table as "sha". */
void sha_workload(struct workload *w, const struct sha_config *cfg);

#endif
