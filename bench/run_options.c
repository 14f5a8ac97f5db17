/* run_options — `concbench run`: its options, their checks and its usage text. */
#include "run.h"
#include "run_internal.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>

#include "num.h"
#include "site.h"
#include "table.h"
#include "text.h"

static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "concbench: run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'concbench run --help'.\n");
}

void run_usage(FILE *f)
{
    fprintf(
        f,
        "usage: concbench run [--workload flags,sha,crawl] [--drivers sequential,threadpool,...]\n"
        "                     [--profile LOCAL,DELAY,ERROR] [--sweep m=1,10,100] [--sweep w=1,2]\n"
        "                     [--runs N] [--warmup N] [--quick] [--delay MS] [--seed N]\n"
        "                     [--site-pages N]\n"
        "                     [--server URL] [--out DIR] [--markdown] [--timer auto|hyperfine|builtin]\n"
        "                     [--driver-path NAME=PATH] [--flagd PATH] [--timeout S]\n"
        "                     [--downloads ram|disk] [--cpu-idle shallow|deep]\n"
        "                     [--color auto|always|never]\n"
        "                     [-- DRIVER OPTIONS...]\n"
        "\n"
        "Times every driver on every workload and profile with hyperfine -N (its JSON kept),\n"
        "checks each against the sequential driver's counts and digests, prints one table per\n"
        "workload and profile, and writes OUT/<UTC time>-<host>.csv (docs/results-schema.md),\n"
        ".md, .bench.json (github-action-benchmark) and OUT/latest.csv.\n"
        "\n"
        "  --workload LIST      flags, sha, crawl (default all)\n"
        "  --drivers LIST       default: sequential,threadpool,processpool,coroutine (the\n"
        "                       ones not built are skipped); sequential is always run as\n"
        "                       the reference\n"
        "  --profile LIST       LOCAL, DELAY, ERROR (default all three; flags and crawl)\n"
        "  --sweep m=V,V...     flags and crawl: run each parallel driver with -m V\n"
        "  --sweep w=V,V...     sha: run each parallel driver with -w V\n"
        "  --runs N             timed runs per configuration (default %d; --quick %d)\n"
        "  --warmup N           untimed warm-up runs first (default %d; --quick %d)\n"
        "  --quick              a smaller matrix: 20 codes on DELAY/ERROR (delay %d ms),\n"
        "                       4 MiB sha jobs, a %d-page site to crawl\n"
        "  --delay MS           flagd's DELAY/ERROR delay (default %d)\n"
        "  --seed N             flagd's --seed and sha's --seed (default %d)\n"
        "  --site-pages N       the pages of flagd's site, which crawl fetches whole: flagd's\n"
        "                       --site-pages, 1..%d (default %d; --quick %d); not with\n"
        "                       --server, whose site is the size its server was started with\n"
        "  --server URL         use this flag server instead of starting flagd (profile SERVER)\n"
        "  --out DIR            where results go (default %s)\n"
        "  --markdown           print the tables as Markdown\n"
        "  --color WHEN         colour the verdicts: auto (default: on a terminal, unless\n"
        "                       NO_COLOR is set), always, never\n"
        "  --timer WHICH        hyperfine (default when installed) or builtin\n"
        "  --driver-path N=P    run driver N from path P (test doubles, other builds)\n"
        "  --flagd PATH         the flag server binary (default: flagd beside concbench)\n"
        "  --timeout S          stop a configuration whose runs take longer (default %d):\n"
        "                       FAILED, and the run goes on\n"
        "  --downloads WHERE    ram (default): flags save to a private directory on a\n"
        "                       RAM-backed file system (/dev/shm), so that a row measures\n"
        "                       the strategy and not the disk; disk: under OUT, to measure\n"
        "                       saving too. Either way the directory is emptied before\n"
        "                       every run, and the table and CSV say which file system\n"
        "  --cpu-idle WHICH     shallow (default): hold /dev/cpu_dma_latency at 0 µs for the\n"
        "                       run, as cyclictest does, so that a CPU woken for the next\n"
        "                       request answers at once and a row measures the strategy,\n"
        "                       not the platform's exit from deep idle states (needs root;\n"
        "                       otherwise deep, with a note); deep: leave them alone\n"
        "\n"
        "Validation is by content: the harness hashes every file a flags driver left and\n"
        "compares the set with sequential's, and compares each --json content_digest (and,\n"
        "for sha, every digest). Noise is reported: a row whose runs vary by more than\n"
        "10%% (CV), that has an outlier by hyperfine's rule, or during which other processes\n"
        "used more than 10%% of the machine is marked noisy; so is the whole run when one\n"
        "core's OpenSSL rate, measured at its start and its end, drifted by more than 10%%.\n"
        "\n"
        "Exit: 0 every row validated, 1 a MISMATCH or FAILED row (or could not run),\n"
        "2 bad usage, 130/143 interrupted (flagd and the drivers are stopped first).\n",
        RUN_DEFAULT_RUNS, RUN_QUICK_RUNS, RUN_DEFAULT_WARMUP, RUN_QUICK_WARMUP, RUN_QUICK_DELAY_MS,
        RUN_QUICK_SITE_PAGES, RUN_DEFAULT_DELAY_MS, RUN_DEFAULT_SEED, SITE_MAX_PAGES,
        RUN_DEFAULT_SITE_PAGES, RUN_QUICK_SITE_PAGES, RUN_DEFAULT_OUT, RUN_DEFAULT_TIMEOUT_S);
}

/* A whole number in [0, max] (lib/num.h's sign rule). */
static bool parse_ulong(const char *s, unsigned long long max, unsigned long long *out)
{
    return num_parse_u64(s, 0, max, out) == 0;
}

/* A driver name doubles as a file name part: keep it plain. */
static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < sizeof((struct driver_spec *)0)->name &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int parse_list(const char *arg, const char *what, bool *set, const char *const *names,
                      size_t n, bool upper)
{
    char buf[256];
    text_fmt(buf, sizeof buf, "%s", arg);
    char *save = NULL;
    bool any = false;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < n; i++)
            if (upper ? strcasecmp(tok, names[i]) == 0 : strcmp(tok, names[i]) == 0)
                break;
        if (i == n) {
            char msg[128];
            text_fmt(msg, sizeof msg, "unknown %s '%%s'", what);
            usage_error(msg, tok);
            return -1;
        }
        set[i] = true;
        any = true;
    }
    if (!any) {
        usage_error("empty %s list", what);
        return -1;
    }
    return 0;
}

static int parse_sweep(struct run_options *o, const char *arg)
{
    struct sweep *s;
    if (strncmp(arg, "m=", 2) == 0)
        s = &o->sweep_m;
    else if (strncmp(arg, "w=", 2) == 0)
        s = &o->sweep_w;
    else {
        usage_error("--sweep takes m=V,V... (flags -m) or w=V,V... (sha -w), not '%s'", arg);
        return -1;
    }
    s->key = arg[0];
    s->n = 0;
    char buf[512];
    text_fmt(buf, sizeof buf, "%s", arg + 2);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        unsigned long long v;
        if (!parse_ulong(tok, RUN_MAX_SWEEP_VALUE, &v) || v == 0) {
            usage_error("bad sweep value '%s' (1..100000)", tok);
            return -1;
        }
        if (s->n == RUN_MAX_SWEEP) {
            usage_error("too many sweep values in '%s'", arg);
            return -1;
        }
        s->values[s->n++] = (long)v;
    }
    if (s->n == 0) {
        usage_error("empty sweep '%s'", arg);
        return -1;
    }
    return 0;
}

static int parse_drivers(struct run_options *o, const char *arg)
{
    char buf[512];
    text_fmt(buf, sizeof buf, "%s", arg);
    o->n_drivers = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!valid_name(tok)) {
            usage_error("bad driver name '%s'", tok);
            return -1;
        }
        for (size_t i = 0; i < o->n_drivers; i++) {
            if (strcmp(o->drivers[i].name, tok) == 0) {
                usage_error("driver '%s' listed twice", tok);
                return -1;
            }
        }
        if (o->n_drivers == RUN_MAX_DRIVERS) {
            usage_error("too many drivers in '%s'", arg);
            return -1;
        }
        text_fmt(o->drivers[o->n_drivers++].name, sizeof o->drivers[0].name, "%s", tok);
    }
    if (o->n_drivers == 0) {
        usage_error("empty driver list%s", "");
        return -1;
    }
    o->drivers_given = true;
    return 0;
}

static int parse_override(struct run_options *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char name[64];
    if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= sizeof name) {
        usage_error("--driver-path takes NAME=PATH, not '%s'", arg);
        return -1;
    }
    text_fmt(name, sizeof name, "%.*s", (int)(eq - arg), arg);
    if (!valid_name(name)) {
        usage_error("bad driver name '%s'", name);
        return -1;
    }
    if (o->n_overrides == RUN_MAX_DRIVERS) {
        usage_error("too many --driver-path options%s", "");
        return -1;
    }
    struct driver_spec *d = &o->overrides[o->n_overrides++];
    text_fmt(d->name, sizeof d->name, "%s", name);
    text_fmt(d->path, sizeof d->path, "%s", eq + 1);
    return 0;
}

enum {
    OPT_WORKLOAD = 256,
    OPT_DRIVERS,
    OPT_PROFILE,
    OPT_SWEEP,
    OPT_RUNS,
    OPT_WARMUP,
    OPT_SERVER,
    OPT_OUT,
    OPT_QUICK,
    OPT_MARKDOWN,
    OPT_DELAY,
    OPT_SEED,
    OPT_TIMER,
    OPT_DRIVER_PATH,
    OPT_FLAGD,
    OPT_TIMEOUT,
    OPT_DOWNLOADS,
    OPT_COLOR,
    OPT_CPU_IDLE,
    OPT_SITE_PAGES,
};

/* 0 run, 1 help printed, -1 bad usage (message printed). */
int run_parse_options(int argc, char **argv, struct run_options *o)
{
    static const struct option longopts[] = {
        {"workload", required_argument, NULL, OPT_WORKLOAD},
        {"drivers", required_argument, NULL, OPT_DRIVERS},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"sweep", required_argument, NULL, OPT_SWEEP},
        {"runs", required_argument, NULL, OPT_RUNS},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"server", required_argument, NULL, OPT_SERVER},
        {"out", required_argument, NULL, OPT_OUT},
        {"quick", no_argument, NULL, OPT_QUICK},
        {"markdown", no_argument, NULL, OPT_MARKDOWN},
        {"delay", required_argument, NULL, OPT_DELAY},
        {"seed", required_argument, NULL, OPT_SEED},
        {"timer", required_argument, NULL, OPT_TIMER},
        {"driver-path", required_argument, NULL, OPT_DRIVER_PATH},
        {"flagd", required_argument, NULL, OPT_FLAGD},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"downloads", required_argument, NULL, OPT_DOWNLOADS},
        {"color", required_argument, NULL, OPT_COLOR},
        {"cpu-idle", required_argument, NULL, OPT_CPU_IDLE},
        {"site-pages", required_argument, NULL, OPT_SITE_PAGES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->out_dir = RUN_DEFAULT_OUT;
    o->timer = "auto";
    o->delay_ms = RUN_DEFAULT_DELAY_MS;
    o->seed = RUN_DEFAULT_SEED;
    o->timeout_s = RUN_DEFAULT_TIMEOUT_S;
    o->downloads = "ram";
    o->cpu_idle = "shallow";
    bool workload_given = false, color_given = false;
    unsigned long long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_WORKLOAD: {
            const char *names[RUN_MAX_WORKLOADS];
            size_t n = workload_count() < RUN_MAX_WORKLOADS ? workload_count() : RUN_MAX_WORKLOADS;
            for (size_t i = 0; i < n; i++)
                names[i] = workload_at(i)->name;
            memset(o->workload, 0, sizeof o->workload);
            if (parse_list(optarg, "workload", o->workload, names, n, false))
                return -1;
            workload_given = true;
            break;
        }
        case OPT_DRIVERS:
            if (parse_drivers(o, optarg))
                return -1;
            break;
        case OPT_PROFILE: {
            static const char *const names[] = {"LOCAL", "DELAY", "ERROR"};
            memset(o->profile, 0, sizeof o->profile);
            if (parse_list(optarg, "profile", o->profile, names, SERVER_PROFILES, true))
                return -1;
            o->profiles_given = true;
            break;
        }
        case OPT_SWEEP:
            if (parse_sweep(o, optarg))
                return -1;
            break;
        case OPT_RUNS:
            if (!parse_ulong(optarg, RUN_MAX_RUNS, &v) || v == 0) {
                usage_error("--runs takes 1..1000, not '%s'", optarg);
                return -1;
            }
            o->runs = (unsigned)v;
            o->runs_given = true;
            break;
        case OPT_WARMUP:
            if (!parse_ulong(optarg, RUN_MAX_RUNS, &v)) {
                usage_error("--warmup takes 0..1000, not '%s'", optarg);
                return -1;
            }
            o->warmup = (unsigned)v;
            o->warmup_given = true;
            break;
        case OPT_SERVER:
            if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0) {
                usage_error("--server takes an http(s):// base URL, not '%s'", optarg);
                return -1;
            }
            o->server_url = optarg;
            break;
        case OPT_OUT:
            if (!*optarg) {
                usage_error("--out takes a directory%s", "");
                return -1;
            }
            o->out_dir = optarg;
            break;
        case OPT_QUICK: o->quick = true; break;
        case OPT_MARKDOWN: o->markdown = true; break;
        case OPT_DELAY:
            if (!parse_ulong(optarg, 60000, &v) || v == 0) {
                usage_error("--delay takes milliseconds 1..60000, not '%s'", optarg);
                return -1;
            }
            o->delay_ms = (double)v;
            o->delay_given = true;
            break;
        case OPT_SEED:
            if (!parse_ulong(optarg, ULLONG_MAX, &v)) {
                usage_error("--seed takes a non-negative integer, not '%s'", optarg);
                return -1;
            }
            o->seed = v;
            break;
        case OPT_SITE_PAGES:
            if (num_parse_u64(optarg, 1, SITE_MAX_PAGES, &v) != 0) {
                char msg[96];
                text_fmt(msg, sizeof msg, "--site-pages takes 1..%d, not '%%s'", SITE_MAX_PAGES);
                usage_error(msg, optarg);
                return -1;
            }
            o->site_pages = (unsigned)v;
            break;
        case OPT_TIMER:
            if (strcmp(optarg, "auto") && strcmp(optarg, "hyperfine") &&
                strcmp(optarg, "builtin")) {
                usage_error("--timer takes auto, hyperfine or builtin, not '%s'", optarg);
                return -1;
            }
            o->timer = optarg;
            break;
        case OPT_DRIVER_PATH:
            if (parse_override(o, optarg))
                return -1;
            break;
        case OPT_FLAGD: o->flagd_path = optarg; break;
        case OPT_TIMEOUT:
            if (!parse_ulong(optarg, 86400, &v) || v == 0) {
                usage_error("--timeout takes seconds 1..86400, not '%s'", optarg);
                return -1;
            }
            o->timeout_s = (double)v;
            break;
        case OPT_COLOR:
            if (table_color_choose(optarg, stdout) != 0) {
                usage_error("--color takes auto, always or never, not '%s'", optarg);
                return -1;
            }
            color_given = true;
            break;
        case OPT_CPU_IDLE:
            if (strcmp(optarg, "shallow") && strcmp(optarg, "deep")) {
                usage_error("--cpu-idle takes shallow or deep, not '%s'", optarg);
                return -1;
            }
            o->cpu_idle = optarg;
            break;
        case OPT_DOWNLOADS:
            if (strcmp(optarg, "ram") && strcmp(optarg, "disk")) {
                usage_error("--downloads takes ram or disk, not '%s'", optarg);
                return -1;
            }
            o->downloads = optarg;
            break;
        case 'h': run_usage(stdout); return 1;
        default: usage_error("unknown or incomplete option '%s'", argv[optind - 1]); return -1;
        }
    }
    if (optind < argc) {
        if (strcmp(argv[optind - 1], "--") != 0) {
            usage_error("unexpected argument '%s' (driver options go after --)", argv[optind]);
            return -1;
        }
        o->extra = &argv[optind];
        o->n_extra = argc - optind;
    }
    if (!workload_given)
        for (size_t i = 0; i < workload_count() && i < RUN_MAX_WORKLOADS; i++)
            o->workload[i] = true;
    if (!color_given)
        (void)table_color_choose("auto", stdout);
    if (!o->profiles_given)
        for (int i = 0; i < SERVER_PROFILES; i++)
            o->profile[i] = true;
    if (!o->runs_given)
        o->runs = o->quick ? RUN_QUICK_RUNS : RUN_DEFAULT_RUNS;
    if (!o->warmup_given)
        o->warmup = o->quick ? RUN_QUICK_WARMUP : RUN_DEFAULT_WARMUP;
    if (!o->delay_given && o->quick)
        o->delay_ms = RUN_QUICK_DELAY_MS;
    if (o->server_url && o->site_pages) {
        usage_error("--site-pages sizes the flagd that run starts; the site of --server %s is "
                    "the size its server was started with",
                    o->server_url);
        return -1;
    }
    if (o->server_url && o->profiles_given)
        fprintf(stderr, "concbench: run: --server given: --profile is ignored (profile SERVER)\n");
    return 0;
}
