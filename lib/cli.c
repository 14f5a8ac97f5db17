/* cli — the options every driver shares: one parser, one usage text, one set of limits. */
#include "cli.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "countries.h"
#include "crawl.h"
#include "flags.h"
#include "sha.h"
#include "workload.h"
#include "num.h"

#define CLI_MAX_TIMEOUT_S 3600.0
#define CLI_MAX_JOBS 100000
#define CLI_MAX_SIZE ((size_t)1 << 32)      /* 4 GiB per buffer */
#define CLI_MAX_SEED 9223372036854775807ULL /* 2^63 - 1 */
#define CLI_URL_SAMPLE_MAX 600              /* a base URL and a code's path */
#define CLI_LOCAL_PORT 8000                 /* the book's nginx; DELAY and ERROR follow it */

void cli_usage(FILE *f, const struct strategy *s)
{
    fprintf(
        f,
        "usage: %1$s flags [-a] [-e] [-l N] [-m N] [-s LOCAL|DELAY|ERROR|URL] [-o DIR] [-t SECONDS]\n"
        "       %1$*2$s       [--meta] [--repeat K] [--no-save] [--max-body SIZE] [--max-head SIZE] [-v] [--json] [CC ...]\n"
        "       %1$s [FLAGS OPTIONS] [CC ...]\n"
        "       %1$s sha [-j JOBS] [-n SIZE] [-w N] [--seed N] [--dump DIR] [-v] [--json]\n"
        "       %1$s crawl [-s LOCAL|DELAY|ERROR|URL] [-m N] [--max-pages N] [--max-depth D]\n"
        "       %1$*2$s       [--same-host] [-t S] [--max-body SIZE] [-v] [--json] [START_PATH]\n"
        "\n"
        "Download country flags, hash buffers with SHA-256, or crawl a site, with the %1$s\n"
        "strategy.\n"
        "Without a workload word flags is meant, as in the book's scripts:\n"
        "  %1$s -a -m 20     is  %1$s flags -a -m 20\n"
        "  %1$s BR CN        is  %1$s flags BR CN\n"
        "\n"
        "flags:\n"
        "  CC ...            two-letter codes; one letter expands to its 26 codes (default: POP20)\n"
        "  -a, --all         the book's 194 country codes\n"
        "  -e, --every       every code AA..ZZ (676)\n"
        "  -l, --limit N     keep the first N codes after sorting\n"
        "  -m, --max-req N   transfers in flight (default %3$u, at most %4$u)%5$s\n"
        "  -s, --server S    LOCAL, DELAY, ERROR (127.0.0.1:8000, :8001, :8002) or a base URL\n"
        "  -o, --output DIR  where flags are saved (default downloads/)\n"
        "  -t, --timeout S   seconds per request (default %6$.1f)\n"
        "      --meta        also fetch metadata.json; save as Country_Name.gif\n"
        "      --repeat K    request the code list K times (files saved once per code)\n"
        "      --no-save     do not write files\n"
        "      --max-body SIZE  refuse bodies larger than SIZE (default 1M)\n"
        "      --max-head SIZE  refuse a status line, headers and trailers over SIZE (default 64K)\n"
        "%7$s"
        "sha:\n"
        "  -j, --jobs N      buffers to hash (default %8$d)\n"
        "  -n, --size SIZE   bytes per buffer, K/M/G suffixes (default 1M)\n"
        "  -w, --workers N   workers (default: online CPUs, at most %9$u)%10$s\n"
        "      --seed N      seed of the buffer generator (default 0)\n"
        "      --dump DIR    also write each buffer to DIR/job-NN.bin\n"
        "\n"
        "crawl:\n"
        "  START_PATH        where to start on the server (default /site/), or a URL\n"
        "  -m, --max-req N   pages fetched at once, as for flags\n"
        "      --max-pages N URLs fetched at most (default 200000); the rest are counted\n"
        "      --max-depth D follow links at most D steps from the start\n"
        "      --same-host   follow links on the start's host and port only (default: its host)\n"
        "                    -s, -t, --max-body, --max-head (and --executor) as for flags;\n"
        "                    saves nothing\n"
        "\n"
        "  -v, --verbose     one line per job on stderr instead of a progress bar; flags first\n"
        "                    prints the book's opening lines (LOCAL site: URL, Searching for ...)\n"
        "      --json        one JSON record on stdout instead of the summary\n"
        "  -h, --help        this text\n"
        "\n"
        "Exit status: 0 done (server errors are results), 1 could not run, 2 bad usage,\n"
        "130/143 interrupted by SIGINT/SIGTERM (after a partial summary).\n",
        s->name, (int)strlen(s->name), s->default_concurrency, s->max_concurrency,
        s->fixed_concurrency ? " (accepted; this driver runs one at a time)" : "",
        FLAGS_DEFAULT_TIMEOUT_S,
        s->has_executor
            ? "      --executor N  save files on N threads (default: one per CPU, at most 4; asyncio's to_thread)\n"
              "      --save-on-loop  save files on the loop thread instead, one at a time\n\n"
            : "\n",
        SHA_DEFAULT_JOBS, s->max_workers,
        s->fixed_workers ? " (accepted; this driver uses one)" : "");
    if (s->has_executor)
        fprintf(f, "\nsha --executor N hashes on N threads instead of the loop thread.\n");
}

int cli_parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    /* a digit first: strtoull would skip spaces and take " -1" as 2^64 - 1 */
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -EINVAL;
    unsigned shift = 0;
    if (*end) {
        switch (*end) {
        case 'k':
        case 'K': shift = 10; break;
        case 'm':
        case 'M': shift = 20; break;
        case 'g':
        case 'G': shift = 30; break;
        default: return -EINVAL;
        }
        end++;
        /* "16MiB" and "16MB" read as 16M, as hyperfine and dd users type them */
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (*end)
            return -EINVAL;
    }
    if (v == 0 || v > (~0ULL >> shift))
        return -EINVAL;
    *out = (size_t)(v << shift);
    return 0;
}

/* A whole number in [lo, hi] (num.h's sign rule): 0, or -EINVAL. */
static int parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    return num_parse_u64(s, lo, hi, out) == 0 ? 0 : -EINVAL;
}

int cli_server_url(const char *label, char *buf, size_t len)
{
    static const char *const labels[] = {"LOCAL", "DELAY", "ERROR"};
    for (int i = 0; i < 3; i++)
        if (strcasecmp(label, labels[i]) == 0) {
            snprintf(buf, len, "http://127.0.0.1:%d/flags", CLI_LOCAL_PORT + i);
            return 0;
        }
    if (strncmp(label, "http://", 7) != 0 && strncmp(label, "https://", 8) != 0)
        return -EINVAL;
    size_t n = strlen(label);
    while (n > 0 && label[n - 1] == '/')
        n--;
    if (n >= len || n <= strlen("https://") - 1 || strchr(label, ' '))
        return -EINVAL;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return -EINVAL; /* a tab or a newline would make every request fail alike */
    memcpy(buf, label, n);
    buf[n] = '\0';
    /* Checked once here as libcurl will read it, with a code's path after it: a port of
     * 99999 or a bad host then fails at start-up (exit 2), not as 194 errors of one kind. */
    char sample[CLI_URL_SAMPLE_MAX];
    if (snprintf(sample, sizeof sample, "%s/aa/aa.gif", buf) >= (int)sizeof sample)
        return -EINVAL;
    CURLU *u = curl_url();
    int rc = u && curl_url_set(u, CURLUPART_URL, sample, 0) == CURLUE_OK ? 0 : -EINVAL;
    curl_url_cleanup(u);
    return rc;
}

/* s with control bytes written as \t, \n or \xHH, so that a message quoting it stays one
 * line; cut to fit buf. */
static const char *printable(const char *s, char *buf, size_t len)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 5 < len; p++) {
        if (*p == '\t')
            k += (size_t)snprintf(buf + k, len - k, "\\t");
        else if (*p == '\n')
            k += (size_t)snprintf(buf + k, len - k, "\\n");
        else if (*p < 0x20 || *p == 0x7f)
            k += (size_t)snprintf(buf + k, len - k, "\\x%02x", *p);
        else
            buf[k++] = (char)*p;
    }
    buf[k] = '\0';
    return buf;
}

#define BAD(...)                            \
    do {                                    \
        snprintf(err, errlen, __VA_ARGS__); \
        return -EINVAL;                     \
    } while (0)

int cli_parse(int argc, char **argv, const struct strategy *s, struct cli_options *o, char *err,
              size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->concurrency = s->default_concurrency;
    o->server = CLI_DEFAULT_SERVER;
    o->out_dir = CLI_DEFAULT_OUT_DIR;
    o->timeout_s = FLAGS_DEFAULT_TIMEOUT_S;
    o->repeat = 1;
    o->max_body = FLAGS_DEFAULT_MAX_BODY;
    o->max_head = FLAGS_DEFAULT_MAX_HEAD;
    o->jobs = SHA_DEFAULT_JOBS;
    o->size_bytes = SHA_DEFAULT_SIZE;
    o->workers = s->default_workers;
    o->max_pages = CRAWL_DEFAULT_MAX_PAGES;
    o->max_depth = CRAWL_NO_MAX_DEPTH;

    char names[128];
    workload_names(names, sizeof names);
    /* a bare driver prints its usage rather than reach for a server */
    if (argc < 2)
        BAD("missing workload: %s (or %s' options alone, as in the book: -a -m 20)", names,
            workload_at(0)->name);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_usage(stdout, s);
        return CLI_HELP;
    }
    /* The book's scripts take no workload word: without one the table's first workload
     * (flags) is meant, as in `threadpool -a -m 20` or `sequential BR CN`. A word longer
     * than a code is not a code, so it is still named as an unknown workload. */
    const struct workload_def *wl = workload_find(argv[1]);
    bool word = wl != NULL;
    if (!wl && argv[1][0] != '-' && strlen(argv[1]) > 2)
        BAD("unknown workload '%s' (want %s)", argv[1], names);
    if (!wl)
        wl = workload_at(0);
    o->workload = wl;
    const struct option *longopts = wl->longopts;
    const char *optstring = wl->optstring;

    if (word)
        argc--, argv++;
    optind = 1;
    opterr = 0; /* we print one line of our own */
    int c;
    unsigned long long v;
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case 'a': o->all = true; break;
        case 'e': o->every = true; break;
        case 'v': o->verbose = true; break;
        case OPT_JSON: o->json = true; break;
        case OPT_META: o->meta = true; break;
        case OPT_NO_SAVE: o->no_save = true; break;
        case 'l':
            if (parse_uint(a, 1, COUNTRIES_EVERY_COUNT, &v))
                BAD("bad value for -l: '%s' (want 1 to %d)", a, COUNTRIES_EVERY_COUNT);
            o->limit = v;
            break;
        case 'm':
            /* Above the driver's maximum is clamped, not refused, as the book's scripts
             * do (min(args.max_req, MAX_CONCUR_REQ)), so that a sweep never fails on it. */
            if (parse_uint(a, 1, CLI_MAX_ASKED, &v))
                BAD("bad value for -m: '%s' (want a whole number from 1)", a);
            o->concurrency_asked = v > s->max_concurrency ? (unsigned)v : 0;
            o->concurrency = v > s->max_concurrency ? s->max_concurrency : (unsigned)v;
            break;
        case 's':
            if (cli_server_url(a, o->base_url, sizeof o->base_url)) {
                char shown[CLI_URL_SAMPLE_MAX];
                BAD("bad value for -s: '%s' (want LOCAL, DELAY, ERROR or an http:// URL)",
                    printable(a, shown, sizeof shown));
            }
            o->server = a;
            break;
        case 'o':
            if (!*a)
                BAD("bad value for -o: '' (want a directory)");
            o->out_dir = a;
            break;
        case 't': {
            char *end;
            errno = 0;
            double t = strtod(a, &end);
            if (errno || *end || !isfinite(t) || t <= 0 || t > CLI_MAX_TIMEOUT_S)
                BAD("bad value for -t: '%s' (want seconds, more than 0 and at most %.0f)", a,
                    CLI_MAX_TIMEOUT_S);
            o->timeout_s = t;
            break;
        }
        case OPT_REPEAT:
            if (parse_uint(a, 1, CLI_MAX_REPEAT, &v))
                BAD("bad value for --repeat: '%s' (want 1 to %d)", a, CLI_MAX_REPEAT);
            o->repeat = (unsigned)v;
            break;
        case OPT_MAX_BODY:
            if (cli_parse_size(a, &o->max_body))
                BAD("bad value for --max-body: '%s' (want a size like 64K or 1M)", a);
            break;
        case OPT_MAX_HEAD:
            if (cli_parse_size(a, &o->max_head))
                BAD("bad value for --max-head: '%s' (want a size like 16K or 64K)", a);
            break;
        case OPT_SAVE_ON_LOOP:
            if (!s->has_executor)
                BAD("--save-on-loop is for the coroutine driver");
            o->save_on_loop = true;
            break;
        case OPT_EXECUTOR:
            if (!s->has_executor)
                BAD("--executor is for the coroutine driver");
            if (parse_uint(a, 1, CLI_MAX_EXECUTOR, &v))
                BAD("bad value for --executor: '%s' (want 1 to %d)", a, CLI_MAX_EXECUTOR);
            o->executor = (unsigned)v;
            break;
        case 'j':
            if (parse_uint(a, 1, CLI_MAX_JOBS, &v))
                BAD("bad value for -j: '%s' (want 1 to %d)", a, CLI_MAX_JOBS);
            o->jobs = v;
            break;
        case 'n':
            if (cli_parse_size(a, &o->size_bytes) || o->size_bytes > CLI_MAX_SIZE)
                BAD("bad value for -n: '%s' (want a size like 64K, 1M or 1G, at most 4G)", a);
            break;
        case 'w':
            if (parse_uint(a, 1, CLI_MAX_ASKED, &v))
                BAD("bad value for -w: '%s' (want a whole number from 1)", a);
            o->workers_asked = v > s->max_workers ? (unsigned)v : 0;
            o->workers = v > s->max_workers ? s->max_workers : (unsigned)v;
            break;
        case OPT_SEED:
            /* up to 2^63 - 1: JSON's integers (jansson's json_int_t) are signed */
            if (parse_uint(a, 0, CLI_MAX_SEED, &v))
                BAD("bad value for --seed: '%s' (want a whole number up to %llu)", a, CLI_MAX_SEED);
            o->seed = v;
            break;
        case OPT_MAX_PAGES:
            if (parse_uint(a, 1, CRAWL_MAX_MAX_PAGES, &v))
                BAD("bad value for --max-pages: '%s' (want 1 to %d)", a, CRAWL_MAX_MAX_PAGES);
            o->max_pages = (size_t)v;
            break;
        case OPT_MAX_DEPTH:
            if (parse_uint(a, 0, CRAWL_NO_MAX_DEPTH - 1, &v))
                BAD("bad value for --max-depth: '%s' (want a whole number from 0)", a);
            o->max_depth = (uint32_t)v;
            break;
        case OPT_SAME_HOST: o->same_host = true; break;
        case OPT_DUMP:
            if (!*a)
                BAD("bad value for --dump: '' (want a directory)");
            o->dump_dir = a;
            break;
        case 'h': cli_usage(stdout, s); return CLI_HELP;
        case ':': BAD("option %s needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256)
                BAD("unknown option -%c for %s", optopt, wl->name);
            BAD("unknown option %s for %s", argv[optind - 1], wl->name);
        }
    }
    if (o->save_on_loop && o->executor)
        BAD("--save-on-loop and --executor contradict each other: saves go on the loop, or on N threads");
    if (!o->base_url[0] && cli_server_url(o->server, o->base_url, sizeof o->base_url))
        BAD("bad server '%s'", o->server);
    o->codes = argv + optind;
    o->n_codes = (size_t)(argc - optind);
    if (!wl->positional && o->n_codes)
        BAD("unexpected argument '%s' for %s", o->codes[0], wl->name);
    return 0;
}
