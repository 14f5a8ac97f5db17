/* floor — anchor 6's libcurl floor: the least a client of libcurl's multi interface costs,
 * for scripts/anchors to measure the drivers against. Not a strategy and not a driver: no
 * tasks, no results, no files, no hashing; easy handles on one multi handle and
 * curl_multi_poll, as curl's docs/examples/10-at-a-time.c, with the libcurl options the
 * drivers set (lib/flags.c: timeout, body limit, receive buffer, user agent, no signals;
 * lib/loop.c: the connection cache holds every transfer in flight).
 *
 *   floor [-m N] [-t SECONDS] [--repeat K] BASE_URL CC ...
 *
 * Downloads BASE_URL/cc/cc.gif for every code (K rounds, as the drivers' --repeat), N at
 * once, bodies discarded; prints one JSON line: items, ok, not_found, errors, bytes,
 * elapsed_s and max_rss_kb. Exit 0 done, 1 could not run, 2 bad usage. Built by
 * `make anchors` only. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "flags.h" /* FLAGS_DEFAULT_TIMEOUT_S, FLAGS_DEFAULT_MAX_BODY, FLAGS_URL_MAX */

/* lib/flags.c's receive buffer per handle: a budget shared by all transfers in flight,
 * within curl's 1 KiB minimum and its 16 KiB default */
#define FLOOR_RECV_BUDGET_BYTES (8L * 1024 * 1024)
#define FLOOR_RECV_BUFFER_MIN 1024L
#define FLOOR_RECV_BUFFER_MAX (16L * 1024)
#define FLOOR_MAX_CONCURRENCY 100000
#define FLOOR_MAX_REPEAT 1000
#define FLOOR_POLL_MS 1000 /* curl_multi_poll's longest sleep; curl's own timers wake it sooner */

struct floor_run {
    const char *base_url;
    char *const *codes;
    size_t n_codes, n_jobs, next;
    long buffer_bytes, timeout_ms;
    size_t ok, not_found, errors;
    unsigned long long bytes;
};

/* Bodies are counted and dropped: what libcurl hands over is the floor's only work. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    unsigned long long *bytes = arg;
    *bytes += size * nmemb;
    return size * nmemb;
}

static CURL *easy_new(struct floor_run *r)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "concbench/1");
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, r->buffer_bytes);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FLAGS_DEFAULT_MAX_BODY);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &r->bytes);
    return e;
}

/* Point e at the next job's URL (lower case, as lib/flags.c's flags_url) and add it. */
static int start_next(struct floor_run *r, CURLM *multi, CURL *e)
{
    const char *cc = r->codes[r->next++ % r->n_codes];
    char lc[3] = {(char)tolower((unsigned char)cc[0]), (char)tolower((unsigned char)cc[1]), 0};
    char url[FLAGS_URL_MAX + 16];
    snprintf(url, sizeof url, "%s/%s/%s.gif", r->base_url, lc, lc);
    curl_easy_setopt(e, CURLOPT_URL, url); /* curl copies it */
    return curl_multi_add_handle(multi, e) == CURLM_OK ? 0 : -1;
}

static void tally(struct floor_run *r, CURL *e, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 200)
        r->ok++;
    else if (rc == CURLE_OK && status == 404)
        r->not_found++;
    else
        r->errors++;
}

/* Run every job, `concurrency` at once, each handle reused for the next job (keep-alive,
 * as the drivers reuse theirs). 0, or -1 when curl failed. */
static int run(struct floor_run *r, unsigned concurrency)
{
    CURLM *multi = curl_multi_init();
    CURL **easy = calloc(concurrency, sizeof *easy);
    int rc = -1;
    size_t active = 0;
    if (!multi || !easy)
        goto out;
    /* every transfer goes to one host: all may connect at once, all stay cached */
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)concurrency);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)concurrency);
    for (unsigned i = 0; i < concurrency; i++) {
        if (!(easy[i] = easy_new(r)) || start_next(r, multi, easy[i]) != 0)
            goto out;
        active++;
    }
    while (active > 0) {
        int running;
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            goto out;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *e = msg->easy_handle;
            tally(r, e, msg->data.result); /* msg dies with remove_handle: read it first */
            curl_multi_remove_handle(multi, e);
            active--;
            if (r->next < r->n_jobs) {
                if (start_next(r, multi, e) != 0)
                    goto out;
                active++;
            }
        }
        if (active > 0 && curl_multi_poll(multi, NULL, 0, FLOOR_POLL_MS, NULL) != CURLM_OK)
            goto out;
    }
    rc = 0;
out:
    for (unsigned i = 0; easy && i < concurrency && easy[i]; i++) {
        curl_multi_remove_handle(multi, easy[i]);
        curl_easy_cleanup(easy[i]);
    }
    free(easy);
    if (multi)
        curl_multi_cleanup(multi);
    return rc;
}

static int usage(const char *why)
{
    fprintf(stderr, "floor: %s\nusage: floor [-m N] [-t SECONDS] [--repeat K] BASE_URL CC ...\n",
            why);
    return 2;
}

/* A whole number in [lo, hi]: 0, or -1. */
static int parse_count(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!isdigit((unsigned char)*s) || errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"max-req", required_argument, NULL, 'm'},
        {"timeout", required_argument, NULL, 't'},
        {"repeat", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    unsigned long concurrency = 1, repeat = 1;
    double timeout_s = FLAGS_DEFAULT_TIMEOUT_S;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'm':
            if (parse_count(optarg, 1, FLOOR_MAX_CONCURRENCY, &concurrency) != 0)
                return usage("bad value for -m");
            break;
        case 'r':
            if (parse_count(optarg, 1, FLOOR_MAX_REPEAT, &repeat) != 0)
                return usage("bad value for --repeat");
            break;
        case 't':
            timeout_s = strtod(optarg, &end);
            if (*end || !isfinite(timeout_s) || timeout_s <= 0)
                return usage("bad value for -t");
            break;
        default: return usage("unknown option");
        }
    }
    if (argc - optind < 2)
        return usage("want a base URL and at least one code");
    struct floor_run r = {.base_url = argv[optind],
                          .codes = argv + optind + 1,
                          .n_codes = (size_t)(argc - optind - 1)};
    r.n_jobs = r.n_codes * repeat;
    if (concurrency > r.n_jobs)
        concurrency = r.n_jobs; /* as the drivers: never more in flight than jobs */
    r.buffer_bytes = FLOOR_RECV_BUDGET_BYTES / (long)concurrency;
    if (r.buffer_bytes < FLOOR_RECV_BUFFER_MIN)
        r.buffer_bytes = FLOOR_RECV_BUFFER_MIN;
    if (r.buffer_bytes > FLOOR_RECV_BUFFER_MAX)
        r.buffer_bytes = FLOOR_RECV_BUFFER_MAX;
    double ms = ceil(timeout_s * 1000.0 - 1e-6); /* lib/flags.c's flags_timeout_ms */
    r.timeout_ms = ms < 1 ? 1 : (long)ms;

    /* one socket per transfer: take the hard limit, as lib/driver.c does */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "floor: cannot initialise libcurl\n");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = run(&r, (unsigned)concurrency);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    curl_global_cleanup();
    if (rc != 0) {
        fprintf(stderr, "floor: curl's multi interface failed\n");
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double elapsed_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"items\": %zu, \"ok\": %zu, \"not_found\": %zu, \"errors\": %zu, \"bytes\": %llu, "
           "\"concurrency\": %lu, \"elapsed_s\": %.6f, \"max_rss_kb\": %ld}\n",
           r.n_jobs, r.ok, r.not_found, r.errors, r.bytes, concurrency, elapsed_s, ru.ru_maxrss);
    return 0;
}
