/* sha — the hashing workload: deterministic buffers, OpenSSL EVP SHA-256, optional dumps. */
#include "sha.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "files.h"
#include "hex.h"

#define SHA_GOLDEN 0x9e3779b97f4a7c15ULL /* splitmix64's increment */

/* splitmix64's output function (Steele, Lea, Flood 2014): cheap and well mixed. */
static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sha_fill(unsigned char *buf, size_t n, uint64_t seed, uint64_t job)
{
    /* word k of job j is mix64(base + k*golden): any word is computable on its own, and
     * the byte order is fixed (little endian) so digests agree across machines */
    uint64_t state = mix64(seed ^ mix64(job + SHA_GOLDEN));
    size_t words = n / 8;
    for (size_t k = 0; k < words; k++) {
        uint64_t w = mix64(state += SHA_GOLDEN);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        memcpy(buf + 8 * k, &w, 8);
    }
    if (n % 8) {
        uint64_t w = mix64(state += SHA_GOLDEN);
        for (size_t i = 0; i < n % 8; i++)
            buf[8 * words + i] = (unsigned char)(w >> (8 * i));
    }
}

int sha_digest(const void *buf, size_t n, unsigned char out[JOB_DIGEST_LEN])
{
    unsigned int len = 0;
    /* EVP_Digest picks OpenSSL's fastest SHA-256 (SHA-NI, AVX2) like `openssl speed -evp` */
    if (EVP_Digest(buf, n, out, &len, EVP_sha256(), NULL) != 1 || len != JOB_DIGEST_LEN)
        return -1;
    return 0;
}

void sha_hex(const unsigned char digest[JOB_DIGEST_LEN], char hex[2 * JOB_DIGEST_LEN + 1])
{
    hex_encode(digest, JOB_DIGEST_LEN, hex);
}

void sha_job_name(char *buf, size_t len, size_t job)
{
    snprintf(buf, len, "job-%02zu", job);
}

/* One buffer per worker, reused for every job it runs. */
static int sha_worker_init(const struct workload *w, void **state, char *err, size_t errlen)
{
    const struct sha_config *cfg = w->ctx;
    *state = malloc(cfg->size_bytes);
    if (!*state) {
        snprintf(err, errlen, "cannot allocate %zu bytes for a buffer", cfg->size_bytes);
        return -1;
    }
    return 0;
}

static void sha_job_run(const struct workload *w, void *state, size_t index, struct job_result *out)
{
    const struct sha_config *cfg = w->ctx;
    unsigned char *buf = state;
    memset(out, 0, sizeof *out);
    out->index = (uint32_t)index;
    sha_fill(buf, cfg->size_bytes, cfg->seed, index);
    uint64_t t0 = clock_now_ns();
    if (sha_digest(buf, cfg->size_bytes, out->digest) != 0) {
        out->outcome = JOB_ERROR;
        snprintf(out->reason, sizeof out->reason, "OpenSSL SHA-256 failed");
        return;
    }
    out->work_ns = clock_now_ns() - t0;
    out->bytes = cfg->size_bytes;
    out->outcome = JOB_OK;
    if (cfg->dump_dir) {
        char name[64];
        sha_job_name(name, sizeof name - 4, index);
        strcat(name, ".bin");
        if (files_write_atomic(cfg->dump_dir, name, buf, cfg->size_bytes, out->reason,
                               sizeof out->reason) != 0)
            out->outcome = JOB_ERROR;
    }
}

static void sha_worker_fini(const struct workload *w, void *state)
{
    (void)w;
    free(state);
}

void sha_workload(struct workload *w, const struct sha_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->name = "sha";
    w->n_jobs = cfg->jobs;
    w->ctx = (void *)cfg;
    w->worker_init = sha_worker_init;
    w->job_run = sha_job_run;
    w->worker_fini = sha_worker_fini;
}
