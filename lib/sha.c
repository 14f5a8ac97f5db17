/* sha — the hashing workload: deterministic buffers, OpenSSL EVP SHA-256, optional dumps. */
#include "sha.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "files.h"
#include "hex.h"
#include "options.h"
#include "workload.h"

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

/* OpenSSL 3 looks EVP_sha256() up in its provider tables again on every use (an "implicit
 * fetch", about 2,000 instructions a call by callgrind, as much as hashing a small flag);
 * its manual (crypto(7), "Performance") says to fetch once and reuse. Fetched on first use,
 * for every thread, and kept until exit. The first fetch of any kind costs 3 million
 * instructions (about 1 ms: OpenSSL builds its provider's name tables), once a process. */
static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

const EVP_MD *sha_md(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_fetched ? sha256_fetched : EVP_sha256();
}

int sha_digest(const void *buf, size_t n, unsigned char out[JOB_DIGEST_LEN])
{
    unsigned int len = 0;
    /* EVP_Digest picks OpenSSL's fastest SHA-256 (SHA-NI, AVX2) like `openssl speed -evp` */
    if (EVP_Digest(buf, n, out, &len, sha_md(), NULL) != 1 || len != JOB_DIGEST_LEN)
        return -EIO;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sha_digest_sorted(char **lines, size_t n, unsigned char out[JOB_DIGEST_LEN])
{
    qsort(lines, n, sizeof *lines, cmp_str);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx && EVP_DigestInit_ex(ctx, sha_md(), NULL) == 1 ? 0 : -EIO;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (EVP_DigestUpdate(ctx, lines[i], strlen(lines[i])) != 1)
            rc = -EIO;
    if (rc == 0 && EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        rc = -EIO;
    EVP_MD_CTX_free(ctx);
    return rc;
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
        return -ENOMEM;
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
                               sizeof out->reason) != 0) {
            /* our side failed, as a flags save that fails: the driver says why, exits 1 */
            out->outcome = JOB_ERROR;
            out->local_failure = 1;
        }
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

/* --- the workload's registration (workload.h) ---------------------------------------- */

static const struct option sha_longopts[] = {
    {"jobs", required_argument, NULL, 'j'},
    {"size", required_argument, NULL, 'n'},
    {"workers", required_argument, NULL, 'w'},
    {"seed", required_argument, NULL, OPT_SEED},
    {"dump", required_argument, NULL, OPT_DUMP},
    {"verbose", no_argument, NULL, 'v'},
    {"json", no_argument, NULL, OPT_JSON},
    {"executor", required_argument, NULL, OPT_EXECUTOR},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int sha_setup(struct workload_plan *plan, const struct cli_options *o, char *err,
                     size_t errlen)
{
    struct sha_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    *cfg = (struct sha_config){
        .jobs = o->jobs, .size_bytes = o->size_bytes, .seed = o->seed, .dump_dir = o->dump_dir};
    unsigned dump_created;
    if (o->dump_dir) {
        int rc = files_prepare_dir(o->dump_dir, &dump_created, err, errlen);
        if (rc != 0) {
            free(cfg);
            return rc == -EINVAL ? -EIO : rc; /* -EINVAL means bad usage to the caller */
        }
    }
    sha_workload(&plan->jobs, cfg);
    plan->ctx = cfg;
    plan->target = NULL;
    return 0;
}

static void sha_teardown(struct workload_plan *plan, bool undo)
{
    (void)undo; /* --dump keeps what it wrote: the buffers are the point */
    free(plan->ctx);
    plan->ctx = NULL;
}

static void sha_label(const void *ctx, size_t index, char *buf, size_t len)
{
    (void)ctx;
    sha_job_name(buf, len, index);
}

/* One "DIGEST  job-NN" line per job (sha256sum's layout), then the count and the rate. */
static void sha_summary(FILE *f, const struct workload_tally *t, const void *ctx)
{
    (void)ctx;
    char hex[2 * JOB_DIGEST_LEN + 1], name[32];
    for (size_t i = 0; i < t->total; i++) {
        if (!t->seen[i] || t->results[i].outcome != JOB_OK)
            continue;
        sha_hex(t->results[i].digest, hex);
        sha_job_name(name, sizeof name, i);
        fprintf(f, "%s  %s\n", hex, name);
    }
    double hash_s = (double)t->work_ns / 1e9;
    fprintf(f, "%zu hashed. %zu errors. %.1f MiB, hashing %.2f GB/s per worker.\n", t->ok,
            t->errors, (double)t->bytes / (1024.0 * 1024.0),
            hash_s > 0 ? (double)t->bytes / hash_s / 1e9 : 0.0);
}

/* Every job's digest in job order (null where none), the buffer size, seed and hash time. */
static int sha_json(json_t *record, const struct workload_tally *t, const void *ctx)
{
    const struct sha_config *cfg = ctx;
    json_t *d = json_array();
    if (!d)
        return -ENOMEM;
    char hex[2 * JOB_DIGEST_LEN + 1];
    for (size_t i = 0; i < t->total; i++) {
        if (t->seen[i] && t->results[i].outcome == JOB_OK) {
            sha_hex(t->results[i].digest, hex);
            json_array_append_new(d, json_string(hex));
        } else {
            json_array_append_new(d, json_null());
        }
    }
    int rc = json_object_set_new(record, "digests", d);
    rc |= json_object_set_new(record, "size_bytes", json_integer((json_int_t)cfg->size_bytes));
    rc |= json_object_set_new(record, "seed", json_integer((json_int_t)cfg->seed));
    rc |= json_object_set_new(record, "hash_s", json_real((double)t->work_ns / 1e9));
    return rc == 0 ? 0 : -ENOMEM;
}

const struct workload_def sha_workload_def = {
    .name = "sha",
    .longopts = sha_longopts,
    .optstring = ":j:n:w:vh",
    .positional = false,
    .synopsis = "[options]",
    .sizing = WORKLOAD_BY_WORKERS,
    .setup = sha_setup,
    .teardown = sha_teardown,
    .label = sha_label,
    .summary = sha_summary,
    .json = sha_json,
    .sweep_option = 'w',
    .needs_server = false,
    .items_word = "jobs",
};
