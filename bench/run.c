/* run — `concbench run`: flagd, the matrix, timing, validation, tables and files. */
#include "run.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env.h"
#include "limit.h"
#include "record.h"
#include "report.h"
#include "results.h"
#include "server.h"
#include "spawn.h"
#include "text.h"
#include "stop.h"
#include "table.h"
#include "timing.h"

#define RUN_MAX_DRIVERS 16
#define RUN_MAX_SWEEP 32
#define RUN_MAX_SWEEP_VALUE 100000
#define RUN_MAX_RUNS 1000
#define RUN_SHA_JOBS "12"            /* the drivers' default job count */
#define RUN_SHA_SIZE_MIB 16         /* 192 MiB in all: hashing, not start-up, dominates */
#define RUN_QUICK_SHA_SIZE_MIB 4
#define RUN_SHA_RATE_MIN_S 0.3       /* how long the OpenSSL throughput probe hashes */
#define RUN_QUICK_SHA_RATE_MIN_S 0.1
#define RUN_OUTPUT_MAX (1 << 20)     /* a --json record with 10,000 digests fits */
#define RUN_ERR_MAX 512

static const char *const default_drivers[] = { "sequential", "threadpool", "processpool",
                                               "coroutine" };
#define N_DEFAULT_DRIVERS (sizeof default_drivers / sizeof default_drivers[0])
#define REFERENCE_DRIVER "sequential"

static const char *const workloads[] = { "flags", "sha" };
#define N_WORKLOADS 2

struct driver_spec {
    char name[32];
    char path[PATH_MAX];
};

struct sweep {
    char key;                       /* 'm' (flags -m) or 'w' (sha -w); 0 = none */
    long values[RUN_MAX_SWEEP];
    size_t n;
};

struct run_options {
    bool workload[N_WORKLOADS];
    bool profile[SERVER_PROFILES];
    bool drivers_given, profiles_given;
    struct driver_spec drivers[RUN_MAX_DRIVERS];
    size_t n_drivers;
    struct driver_spec overrides[RUN_MAX_DRIVERS]; /* --driver-path NAME=PATH */
    size_t n_overrides;
    struct sweep sweep_m, sweep_w;
    unsigned runs, warmup;
    bool runs_given, warmup_given, delay_given;
    const char *server_url;         /* --server: no flagd of our own */
    const char *out_dir;
    const char *flagd_path;         /* --flagd PATH */
    const char *timer;              /* auto | hyperfine | builtin */
    bool quick, markdown;
    double delay_ms;
    double timeout_s;               /* per configuration, all its runs */
    unsigned long long seed;
    char **extra;                   /* after "--": appended to every driver command */
    int n_extra;
};

/* A growable argv (strings owned). */
struct args {
    char **v;
    size_t n, cap;
};

/* One table: a workload on one profile (sha has none). */
struct group {
    const char *workload;
    char profile[16];               /* LOCAL, DELAY, ERROR, SERVER; "" for sha */
    char url[SERVER_URL_MAX];
    double delay_ms;                /* NAN: no delay known */
    struct record ref;              /* the sequential record every row is checked against */
    bool have_ref;
    double seq_median_s;            /* NAN until the sequential row is timed */
    double sha_bps;                 /* sha: one core's OpenSSL SHA-256 rate */
};

/* One configuration: a driver (maybe at one sweep value) in a group. */
struct config {
    struct group *g;
    const struct driver_spec *d;
    char sweep_key;
    long sweep_value;
    bool timed;                     /* false: an untimed reference run only, no row */
    char name[128];                 /* flags-DELAY-threadpool-m10: files, hyperfine name */
    struct args argv;
    /* outcome */
    bool measured;
    struct timing_result tm;
    struct record rec;
    bool have_rec;
    const char *verdict;            /* reference | ok | MISMATCH | FAILED */
    char reason[300];
    char raw[PATH_MAX];             /* the raw timing JSON, relative to the out dir */
};

/* Everything one `run` owns, so that every exit path can release it. */
struct run {
    struct run_options o;
    struct env_info env;
    char bin_dir[PATH_MAX];
    char hyperfine[PATH_MAX];       /* "" = builtin timer */
    char work_dir[PATH_MAX];        /* scratch: downloads, last outputs, logs */
    char raw_dir[PATH_MAX];         /* <out>/<run_id>/ */
    char run_id[128];
    struct server server;
    struct driver_spec reference;   /* the sequential driver when --drivers left it out */
    struct group groups[N_WORKLOADS * SERVER_PROFILES + 1];
    size_t n_groups;
    struct config *configs;
    size_t n_configs;
    bool verdict_failed;
};

static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "concbench: run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'concbench run --help'.\n");
}

void run_usage(FILE *f)
{
    fprintf(f,
        "usage: concbench run [--workload flags,sha] [--drivers sequential,threadpool,...]\n"
        "                     [--profile LOCAL,DELAY,ERROR] [--sweep m=1,10,100] [--sweep w=1,2]\n"
        "                     [--runs N] [--warmup N] [--quick] [--delay MS] [--seed N]\n"
        "                     [--server URL] [--out DIR] [--markdown] [--timer auto|hyperfine|builtin]\n"
        "                     [--driver-path NAME=PATH] [--flagd PATH] [--timeout S]\n"
        "                     [-- DRIVER OPTIONS...]\n"
        "\n"
        "Times every driver on every workload and profile with hyperfine -N (its JSON kept),\n"
        "checks each against the sequential driver's counts and digests, prints one table per\n"
        "workload and profile, and writes OUT/<UTC time>-<host>.csv (docs/results-schema.md),\n"
        ".md, .bench.json (github-action-benchmark) and OUT/latest.csv.\n"
        "\n"
        "  --workload LIST      flags, sha (default both)\n"
        "  --drivers LIST       default: sequential,threadpool,processpool,coroutine (the\n"
        "                       ones not built are skipped); sequential is always run as\n"
        "                       the reference\n"
        "  --profile LIST       LOCAL, DELAY, ERROR (default all three; flags only)\n"
        "  --sweep m=V,V...     flags: run each parallel driver with -m V\n"
        "  --sweep w=V,V...     sha: run each parallel driver with -w V\n"
        "  --runs N             timed runs per configuration (default %d; --quick %d)\n"
        "  --warmup N           untimed warm-up runs first (default %d; --quick %d)\n"
        "  --quick              a smaller matrix: 20 codes on DELAY/ERROR (delay %d ms),\n"
        "                       4 MiB sha jobs\n"
        "  --delay MS           flagd's DELAY/ERROR delay (default %d)\n"
        "  --seed N             flagd's --seed and sha's --seed (default %d)\n"
        "  --server URL         use this flag server instead of starting flagd (profile SERVER)\n"
        "  --out DIR            where results go (default %s)\n"
        "  --markdown           print the tables as Markdown\n"
        "  --timer WHICH        hyperfine (default when installed) or builtin\n"
        "  --driver-path N=P    run driver N from path P (test doubles, other builds)\n"
        "  --flagd PATH         the flag server binary (default: flagd beside concbench)\n"
        "  --timeout S          stop a configuration whose runs take longer (default %d):\n"
        "                       FAILED, and the run goes on\n"
        "\n"
        "Exit: 0 every row validated, 1 a MISMATCH or FAILED row (or could not run),\n"
        "2 bad usage, 130/143 interrupted (flagd and the drivers are stopped first).\n",
        RUN_DEFAULT_RUNS, RUN_QUICK_RUNS, RUN_DEFAULT_WARMUP, RUN_QUICK_WARMUP,
        RUN_QUICK_DELAY_MS, RUN_DEFAULT_DELAY_MS, RUN_DEFAULT_SEED, RUN_DEFAULT_OUT, RUN_DEFAULT_TIMEOUT_S);
}

/* ---- small helpers ---------------------------------------------------------------- */

static int args_push(struct args *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 32;
        char **v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n] = strdup(s);
    if (!a->v[a->n])
        return -1;
    a->v[++a->n] = NULL;
    return 0;
}

static void args_free(struct args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

static bool parse_ulong(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* A driver name doubles as a file name part: keep it plain. */
static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < sizeof ((struct driver_spec *)0)->name &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    text_fmt(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void fmt_clock(char *buf, size_t len, double s)
{
    if (!isfinite(s) || s < 0)
        text_fmt(buf, len, "?");
    else
        text_fmt(buf, len, "%d:%02d", (int)(s / 60), (int)fmod(s, 60));
}

/* ---- options ---------------------------------------------------------------------- */

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
    OPT_WORKLOAD = 256, OPT_DRIVERS, OPT_PROFILE, OPT_SWEEP, OPT_RUNS, OPT_WARMUP,
    OPT_SERVER, OPT_OUT, OPT_QUICK, OPT_MARKDOWN, OPT_DELAY, OPT_SEED, OPT_TIMER,
    OPT_DRIVER_PATH, OPT_FLAGD, OPT_TIMEOUT,
};

/* 0 run, 1 help printed, -1 bad usage (message printed). */
static int parse_options(int argc, char **argv, struct run_options *o)
{
    static const struct option longopts[] = {
        { "workload", required_argument, NULL, OPT_WORKLOAD },
        { "drivers", required_argument, NULL, OPT_DRIVERS },
        { "profile", required_argument, NULL, OPT_PROFILE },
        { "sweep", required_argument, NULL, OPT_SWEEP },
        { "runs", required_argument, NULL, OPT_RUNS },
        { "warmup", required_argument, NULL, OPT_WARMUP },
        { "server", required_argument, NULL, OPT_SERVER },
        { "out", required_argument, NULL, OPT_OUT },
        { "quick", no_argument, NULL, OPT_QUICK },
        { "markdown", no_argument, NULL, OPT_MARKDOWN },
        { "delay", required_argument, NULL, OPT_DELAY },
        { "seed", required_argument, NULL, OPT_SEED },
        { "timer", required_argument, NULL, OPT_TIMER },
        { "driver-path", required_argument, NULL, OPT_DRIVER_PATH },
        { "flagd", required_argument, NULL, OPT_FLAGD },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    o->out_dir = RUN_DEFAULT_OUT;
    o->timer = "auto";
    o->delay_ms = RUN_DEFAULT_DELAY_MS;
    o->seed = RUN_DEFAULT_SEED;
    o->timeout_s = RUN_DEFAULT_TIMEOUT_S;
    bool workload_given = false;
    unsigned long long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_WORKLOAD:
            memset(o->workload, 0, sizeof o->workload);
            if (parse_list(optarg, "workload", o->workload, workloads, N_WORKLOADS, false))
                return -1;
            workload_given = true;
            break;
        case OPT_DRIVERS:
            if (parse_drivers(o, optarg))
                return -1;
            break;
        case OPT_PROFILE: {
            static const char *const names[] = { "LOCAL", "DELAY", "ERROR" };
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
        case OPT_QUICK:
            o->quick = true;
            break;
        case OPT_MARKDOWN:
            o->markdown = true;
            break;
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
        case OPT_TIMER:
            if (strcmp(optarg, "auto") && strcmp(optarg, "hyperfine") && strcmp(optarg, "builtin")) {
                usage_error("--timer takes auto, hyperfine or builtin, not '%s'", optarg);
                return -1;
            }
            o->timer = optarg;
            break;
        case OPT_DRIVER_PATH:
            if (parse_override(o, optarg))
                return -1;
            break;
        case OPT_FLAGD:
            o->flagd_path = optarg;
            break;
        case OPT_TIMEOUT:
            if (!parse_ulong(optarg, 86400, &v) || v == 0) {
                usage_error("--timeout takes seconds 1..86400, not '%s'", optarg);
                return -1;
            }
            o->timeout_s = (double)v;
            break;
        case 'h':
            run_usage(stdout);
            return 1;
        default:
            usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
            return -1;
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
        o->workload[0] = o->workload[1] = true;
    if (!o->profiles_given)
        for (int i = 0; i < SERVER_PROFILES; i++)
            o->profile[i] = true;
    if (!o->runs_given)
        o->runs = o->quick ? RUN_QUICK_RUNS : RUN_DEFAULT_RUNS;
    if (!o->warmup_given)
        o->warmup = o->quick ? RUN_QUICK_WARMUP : RUN_DEFAULT_WARMUP;
    if (!o->delay_given && o->quick)
        o->delay_ms = RUN_QUICK_DELAY_MS;
    if (o->server_url && o->profiles_given)
        fprintf(stderr, "concbench: run: --server given: --profile is ignored (profile SERVER)\n");
    return 0;
}

/* ---- drivers ---------------------------------------------------------------------- */

static bool executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static void driver_path(const struct run *r, const char *name, char *buf, size_t len)
{
    for (size_t i = 0; i < r->o.n_overrides; i++) {
        if (strcmp(r->o.overrides[i].name, name) == 0) {
            text_fmt(buf, len, "%s", r->o.overrides[i].path);
            return;
        }
    }
    text_fmt(buf, len, "%s/%s", r->bin_dir, name);
}

/* Resolve the driver list: explicit drivers must exist; of the default four, the ones
 * not built yet are skipped with a note. The reference is always first. 0 or -1. */
static int resolve_drivers(struct run *r)
{
    struct run_options *o = &r->o;
    if (!o->drivers_given) {
        o->n_drivers = 0;
        char missing[256] = "";
        for (size_t i = 0; i < N_DEFAULT_DRIVERS; i++) {
            struct driver_spec *d = &o->drivers[o->n_drivers];
            text_fmt(d->name, sizeof d->name, "%s", default_drivers[i]);
            driver_path(r, d->name, d->path, sizeof d->path);
            if (executable(d->path) || strcmp(d->name, REFERENCE_DRIVER) == 0) {
                o->n_drivers++;
            } else {
                size_t n = strlen(missing);
                text_fmt(missing + n, sizeof missing - n, "%s%s", n ? ", " : "", d->name);
            }
        }
        if (missing[0])
            fprintf(stderr, "concbench: run: not built yet, skipped: %s (looked in %s)\n",
                    missing, r->bin_dir);
    }
    for (size_t i = 0; i < o->n_drivers; i++) {
        struct driver_spec *d = &o->drivers[i];
        driver_path(r, d->name, d->path, sizeof d->path);
        if (!executable(d->path)) {
            fprintf(stderr, "concbench: run: driver %s: %s is missing or not executable "
                    "(not built? run make)\n", d->name, d->path);
            return -1;
        }
    }
    /* The reference first, so that its record exists before anything is checked. */
    for (size_t i = 1; i < o->n_drivers; i++) {
        if (strcmp(o->drivers[i].name, REFERENCE_DRIVER) == 0) {
            struct driver_spec t = o->drivers[i];
            memmove(&o->drivers[1], &o->drivers[0], i * sizeof t);
            o->drivers[0] = t;
        }
    }
    return 0;
}

/* ---- the matrix ------------------------------------------------------------------- */

/* The workload part of a driver command: the same within a group for every driver. */
static int workload_args(const struct run *r, const struct group *g, const struct config *c,
                         struct args *a)
{
    int rc = 0;
    if (strcmp(g->workload, "flags") == 0) {
        rc |= args_push(a, "flags");
        /* Full: the book's 194 codes everywhere. Quick: 20 codes where each costs a
         * delay, so the sequential reference stays short. */
        if (!r->o.quick || strcmp(g->profile, "LOCAL") == 0)
            rc |= args_push(a, "-a");
        rc |= args_push(a, "-s");
        rc |= args_push(a, g->url);
        char dir[PATH_MAX];
        text_fmt(dir, sizeof dir, "%s/downloads/%s", r->work_dir, c->name);
        rc |= args_push(a, "-o");
        rc |= args_push(a, dir);
    } else {
        char seed[32];
        text_fmt(seed, sizeof seed, "%llu", r->o.seed);
        rc |= args_push(a, "sha");
        rc |= args_push(a, "-j");
        rc |= args_push(a, RUN_SHA_JOBS);
        char size[32];
        text_fmt(size, sizeof size, "%dM", r->o.quick ? RUN_QUICK_SHA_SIZE_MIB : RUN_SHA_SIZE_MIB);
        rc |= args_push(a, "-n");
        rc |= args_push(a, size);
        rc |= args_push(a, "--seed");
        rc |= args_push(a, seed);
    }
    rc |= args_push(a, "--json");
    if (c->sweep_key) {
        char opt[4] = { '-', c->sweep_key, '\0' }, val[32];
        text_fmt(val, sizeof val, "%ld", c->sweep_value);
        rc |= args_push(a, opt);
        rc |= args_push(a, val);
    }
    for (int i = 0; i < r->o.n_extra; i++)
        rc |= args_push(a, r->o.extra[i]);
    return rc ? -1 : 0;
}

static int add_config(struct run *r, struct group *g, const struct driver_spec *d, char key,
                      long value, bool timed)
{
    struct config *cs = realloc(r->configs, (r->n_configs + 1) * sizeof *cs);
    if (!cs)
        return -1;
    r->configs = cs;
    struct config *c = &cs[r->n_configs++];
    memset(c, 0, sizeof *c);
    c->g = g;
    c->d = d;
    c->sweep_key = key;
    c->sweep_value = value;
    c->timed = timed;
    c->verdict = "FAILED";
    int n = snprintf(c->name, sizeof c->name, "%s%s%s-%s", g->workload, *g->profile ? "-" : "",
                     g->profile, d->name);
    if (key)
        text_fmt(c->name + n, sizeof c->name - (size_t)n, "-%c%ld", key, value);
    if (!timed)
        text_fmt(c->name + strlen(c->name), sizeof c->name - strlen(c->name), "-reference");
    if (args_push(&c->argv, d->path) != 0)
        return -1;
    return workload_args(r, g, c, &c->argv);
}

static struct group *add_group(struct run *r, const char *workload, const char *profile,
                               const char *url, double delay_ms)
{
    struct group *g = &r->groups[r->n_groups++];
    memset(g, 0, sizeof *g);
    g->workload = workload;
    text_fmt(g->profile, sizeof g->profile, "%s", profile);
    text_fmt(g->url, sizeof g->url, "%s", url);
    g->delay_ms = delay_ms;
    g->seq_median_s = NAN;
    g->sha_bps = NAN;
    return g;
}

/* Groups and configurations, in the order they run. URLs are filled in once flagd is up,
 * so the groups are built before the configurations' commands. */
static void plan_groups(struct run *r)
{
    const struct run_options *o = &r->o;
    if (o->workload[0]) {
        if (o->server_url) {
            add_group(r, "flags", "SERVER", o->server_url, NAN);
        } else {
            for (int p = 0; p < SERVER_PROFILES; p++) {
                if (!o->profile[p])
                    continue;
                add_group(r, "flags", server_profile_name(p), "",
                          p == SERVER_LOCAL ? NAN : o->delay_ms);
            }
        }
    }
    if (o->workload[1])
        add_group(r, "sha", "", "", NAN);
}

static int plan_configs(struct run *r)
{
    const struct run_options *o = &r->o;
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        struct group *g = &r->groups[gi];
        const struct sweep *sw = strcmp(g->workload, "flags") == 0 ? &o->sweep_m : &o->sweep_w;
        if (strcmp(o->drivers[0].name, REFERENCE_DRIVER) != 0) {
            /* Not asked for, but the reference is what makes any row a result. */
            struct driver_spec *ref = &r->reference;
            text_fmt(ref->name, sizeof ref->name, REFERENCE_DRIVER);
            driver_path(r, REFERENCE_DRIVER, ref->path, sizeof ref->path);
            if (!executable(ref->path)) {
                fprintf(stderr, "concbench: run: the reference driver %s is missing (%s)\n",
                        REFERENCE_DRIVER, ref->path);
                return -1;
            }
            if (add_config(r, g, ref, 0, 0, false) != 0)
                return -1;
        }
        for (size_t di = 0; di < o->n_drivers; di++) {
            const struct driver_spec *d = &o->drivers[di];
            bool reference = strcmp(d->name, REFERENCE_DRIVER) == 0;
            if (sw->n == 0 || reference) {
                if (add_config(r, g, d, 0, 0, true) != 0)
                    return -1;
                continue;
            }
            for (size_t k = 0; k < sw->n; k++)
                if (add_config(r, g, d, sw->key, sw->values[k], true) != 0)
                    return -1;
        }
    }
    return 0;
}

/* ---- running one configuration ---------------------------------------------------- */

/* The driver's own one-line message, from one more untimed run with stderr kept. */
static void driver_message(struct run *r, struct config *c)
{
    char log[PATH_MAX + 64], err[RUN_ERR_MAX];
    text_fmt(log, sizeof log, "%s/%s.stderr", r->work_dir, c->name);
    char *out = malloc(RUN_OUTPUT_MAX);
    if (!out)
        return;
    int st = spawn_capture(c->argv.v, log, out, RUN_OUTPUT_MAX, r->o.timeout_s, err, sizeof err);
    free(out);
    char line[256];
    text_last_line(log, line, sizeof line);
    if (st >= 0 && line[0]) {
        char how[64];
        spawn_describe(st, how, sizeof how);
        text_fmt(c->reason, sizeof c->reason, "%s: %s", how, line);
    }
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(RUN_OUTPUT_MAX);
    size_t n = buf ? fread(buf, 1, RUN_OUTPUT_MAX - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Check c's record against its group's reference and set the verdict. */
static void validate(struct config *c)
{
    struct group *g = c->g;
    const struct record *rec = &c->rec;
    if (rec->interrupted || rec->done != rec->items) {
        c->verdict = "FAILED";
        text_fmt(c->reason, sizeof c->reason, "incomplete run: %lld of %lld done", rec->done,
                 rec->items);
        return;
    }
    if (strcmp(c->d->name, REFERENCE_DRIVER) == 0 && !g->have_ref) {
        g->ref = *rec;
        /* The group keeps its own copy of the digests. */
        if (rec->n_digests) {
            g->ref.digests = malloc(rec->n_digests * sizeof *rec->digests);
            if (g->ref.digests)
                memcpy(g->ref.digests, rec->digests, rec->n_digests * sizeof *rec->digests);
            else
                g->ref.n_digests = 0;
        }
        g->have_ref = true;
        c->verdict = "reference";
        return;
    }
    if (!g->have_ref) {
        c->verdict = "FAILED";
        text_fmt(c->reason, sizeof c->reason, "no sequential reference to check against");
        return;
    }
    char why[256];
    if (record_matches(&g->ref, rec, why, sizeof why)) {
        c->verdict = "ok";
    } else {
        c->verdict = "MISMATCH";
        text_fmt(c->reason, sizeof c->reason, "%s", why);
    }
}

/* Time (or, for a reference-only config, just run) c. Returns 0, or -1 when concbench was
 * interrupted; any failure of the driver is a verdict, not an error. */
static int run_config(struct run *r, struct config *c)
{
    char out_path[PATH_MAX + 64], log_path[PATH_MAX + 64], json_path[PATH_MAX + 64];
    char err[RUN_ERR_MAX];
    text_fmt(out_path, sizeof out_path, "%s/%s.out", r->work_dir, c->name);
    text_fmt(log_path, sizeof log_path, "%s/%s.timer.log", r->work_dir, c->name);
    text_fmt(json_path, sizeof json_path, "%s/%s.json", r->raw_dir, c->name);

    char *text = NULL;
    if (!c->timed) {
        text = malloc(RUN_OUTPUT_MAX);
        if (!text)
            return 0;
        int st = spawn_capture(c->argv.v, NULL, text, RUN_OUTPUT_MAX, r->o.timeout_s, err,
                               sizeof err);
        if (stop_requested()) {
            free(text);
            return -1;
        }
        if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (st < 0)
                text_fmt(c->reason, sizeof c->reason, "%s", err);
            else
                driver_message(r, c);
            free(text);
            return 0;
        }
    } else {
        struct timing_request q = {
            .argv = c->argv.v, .name = c->name, .warmup = r->o.warmup, .runs = r->o.runs,
            .json_path = json_path, .output_path = out_path, .log_path = log_path,
            .hyperfine = r->hyperfine[0] ? r->hyperfine : NULL, .timeout_s = r->o.timeout_s,
        };
        int rc = timing_run(&q, &c->tm, err, sizeof err);
        if (stop_requested())
            return -1;
        if (rc < 0) {
            text_fmt(c->reason, sizeof c->reason, "cannot time it: %s", err);
            return 0;
        }
        if (rc > 0) {
            text_fmt(c->reason, sizeof c->reason, "%s", c->tm.why);
            /* A failed driver is run once more for its own message; a hung one is not. */
            if (rc == TIMING_FAILED)
                driver_message(r, c);
            if (stop_requested())
                return -1;
            return 0;
        }
        c->measured = true;
        /* The raw file's name relative to the CSV, for the raw column. */
        text_fmt(c->raw, sizeof c->raw, "%s/%s.json", r->run_id, c->name);
        text = read_text(out_path);
    }
    if (!text) {
        text_fmt(c->reason, sizeof c->reason, "no output from the last run");
        return 0;
    }
    if (record_parse(text, &c->rec, err, sizeof err) != 0) {
        text_fmt(c->reason, sizeof c->reason, "%s", err);
        free(text);
        return 0;
    }
    free(text);
    c->have_rec = true;
    validate(c);
    return 0;
}

/* ---- results ---------------------------------------------------------------------- */

static double config_limit(const struct run *r, const struct config *c)
{
    const struct group *g = c->g;
    const struct record *rec = &c->rec;
    if (!c->have_rec)
        return NAN;
    if (strcmp(g->workload, "sha") == 0) {
        double total = rec->bytes > 0 ? (double)rec->bytes
                                      : (double)rec->items * (double)rec->size_bytes;
        return limit_sha_s(total, g->sha_bps, (unsigned)rec->workers, r->env.cores);
    }
    if (strcmp(g->profile, "DELAY") == 0 && isfinite(g->delay_ms))
        return limit_delay_s(g->delay_ms / 1e3, (size_t)rec->items, (unsigned)rec->concurrency);
    return NAN;
}

static int fill_row(const struct run *r, const struct config *c, struct results_row *row)
{
    const struct env_info *e = &r->env;
    const struct group *g = c->g;
    const struct record *rec = &c->rec;
    int rc = 0;
    rc |= results_set(row, RC_SCHEMA, RESULTS_SCHEMA_VERSION);
    rc |= results_set(row, RC_RUN_ID, r->run_id);
    rc |= results_set(row, RC_DATE, e->date);
    rc |= results_set(row, RC_HOST, e->host);
    rc |= results_set(row, RC_CPU_MODEL, e->cpu_model);
    rc |= results_setf(row, RC_CORES, "%u", e->cores);
    rc |= results_set(row, RC_KERNEL, e->kernel);
    rc |= results_set(row, RC_COMPILER, e->compiler);
    rc |= results_set(row, RC_LIBCURL, e->libcurl);
    rc |= results_set(row, RC_OPENSSL, e->openssl);
    rc |= results_set(row, RC_GIT_COMMIT, e->git_commit);
    rc |= results_set(row, RC_WORKLOAD, g->workload);
    rc |= results_set(row, RC_PROFILE, g->profile);
    rc |= results_set(row, RC_DRIVER, c->d->name);
    if (c->sweep_key) {
        rc |= results_setf(row, RC_SWEEP_PARAM, "%c", c->sweep_key);
        rc |= results_setf(row, RC_SWEEP_VALUE, "%ld", c->sweep_value);
    }
    /* The configuration's size comes from the reference when this row has no record,
     * so that a FAILED row still matches its counterpart in compare. */
    const struct record *size = c->have_rec ? rec : (g->have_ref ? &g->ref : NULL);
    if (size) {
        rc |= results_setf(row, RC_ITEMS, "%lld", size->items);
        if (strcmp(g->workload, "sha") == 0)
            rc |= results_setf(row, RC_SIZE_BYTES, "%lld", size->size_bytes);
    }
    rc |= results_set_num(row, RC_DELAY_MS, g->delay_ms, 0);
    if (c->have_rec) {
        rc |= results_setf(row, RC_WORKERS, "%lld", rec->workers);
        rc |= results_setf(row, RC_CONCURRENCY, "%lld", rec->concurrency);
    }
    if (c->measured) {
        const struct stats *st = &c->tm.st;
        rc |= results_setf(row, RC_RUNS, "%zu", st->n);
        rc |= results_setf(row, RC_WARMUP, "%u", r->o.warmup);
        rc |= results_set_num(row, RC_MEDIAN_S, st->median, 6);
        rc |= results_set_num(row, RC_MIN_S, st->min, 6);
        rc |= results_set_num(row, RC_MAX_S, st->max, 6);
        rc |= results_set_num(row, RC_MEAN_S, st->mean, 6);
        rc |= results_set_num(row, RC_STDDEV_S, st->stddev, 6);
        rc |= results_set_num(row, RC_CV_PCT, stats_cv_pct(st), 2);
        rc |= results_set_num(row, RC_SPEEDUP, g->seq_median_s / st->median, 3);
        double limit = config_limit(r, c);
        rc |= results_set_num(row, RC_LIMIT_S, limit, 6);
        rc |= results_set_num(row, RC_PCT_LIMIT, limit_pct(limit, st->median), 1);
    }
    if (c->have_rec) {
        rc |= results_set_num(row, RC_WORK_S, rec->elapsed_s, 6);
        rc |= results_set_num(row, RC_USER_S, rec->user_s, 3);
        rc |= results_set_num(row, RC_SYS_S, rec->sys_s, 3);
        rc |= results_setf(row, RC_MAX_RSS_KB, "%lld", rec->max_rss_kb);
        rc |= results_setf(row, RC_CTX_VOLUNTARY, "%lld", rec->ctx_voluntary);
        rc |= results_setf(row, RC_CTX_INVOLUNTARY, "%lld", rec->ctx_involuntary);
        rc |= results_setf(row, RC_OK, "%lld", rec->ok);
        rc |= results_setf(row, RC_NOT_FOUND, "%lld", rec->not_found);
        rc |= results_setf(row, RC_ERRORS, "%lld", rec->errors);
        rc |= results_setf(row, RC_BYTES, "%lld", rec->bytes);
    }
    rc |= results_set(row, RC_VERDICT, c->verdict);
    rc |= results_set(row, RC_REASON, c->reason);
    rc |= results_set(row, RC_TIMER, r->hyperfine[0] ? "hyperfine" : "builtin");
    rc |= results_set(row, RC_RAW, c->raw);
    char *cmd = timing_command_line(c->argv.v);
    rc |= results_set(row, RC_COMMAND, cmd);
    free(cmd);
    return rc ? -1 : 0;
}

/* Write path through a temporary name, so a reader never sees half a file. */
static FILE *open_tmp(const char *path, char *tmp, size_t len)
{
    text_fmt(tmp, len, "%s.tmp", path);
    return fopen(tmp, "w");
}

static int close_tmp(FILE *f, const char *tmp, const char *path)
{
    int rc = ferror(f) ? -1 : 0;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0)
        remove(tmp);
    return rc;
}

/* github-action-benchmark's customSmallerIsBetter: [{name, unit, value, range, extra}]. */
static int write_bench_json(const char *path, const struct results_row *rows, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct results_row *row = &rows[i];
        double median, sd, speedup;
        if (!results_num(row, RC_MEDIAN_S, &median))
            continue;
        char name[256], range[64], extra[256];
        const char *prof = results_get(row, RC_PROFILE), *sw = results_get(row, RC_SWEEP_PARAM);
        int k = snprintf(name, sizeof name, "%s%s%s %s", results_get(row, RC_WORKLOAD),
                         *prof ? " " : "", prof, results_get(row, RC_DRIVER));
        if (*sw)
            text_fmt(name + k, sizeof name - (size_t)k, " %s=%s", sw,
                     results_get(row, RC_SWEEP_VALUE));
        text_fmt(range, sizeof range, "± %.6f", results_num(row, RC_STDDEV_S, &sd) ? sd : 0.0);
        text_fmt(extra, sizeof extra, "speedup %s; %s items; verdict %s; %s runs",
                 results_num(row, RC_SPEEDUP, &speedup) ? results_get(row, RC_SPEEDUP) : "?",
                 results_get(row, RC_ITEMS), results_get(row, RC_VERDICT),
                 results_get(row, RC_RUNS));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:f, s:s, s:s}", "name", name,
                                             "unit", "s", "value", median, "range", range,
                                             "extra", extra));
    }
    int rc = json_dump_file(arr, path, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    json_decref(arr);
    return rc;
}

/* OUT/latest.<ext> → <run_id>.<ext>: a relative symlink, swapped in atomically. */
static int point_latest(const char *out_dir, const char *run_id, const char *ext)
{
    char link[PATH_MAX + 32], tmp[PATH_MAX + 64], target[256];
    text_fmt(link, sizeof link, "%s/latest.%s", out_dir, ext);
    text_fmt(tmp, sizeof tmp, "%s.%ld.tmp", link, (long)getpid());
    text_fmt(target, sizeof target, "%s.%s", run_id, ext);
    remove(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, link) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

static int write_results(struct run *r, const struct results_row *rows, size_t n)
{
    const char *out = r->o.out_dir;
    char path[PATH_MAX + 64], tmp[PATH_MAX + 80];

    text_fmt(path, sizeof path, "%s/%s.csv", out, r->run_id);
    FILE *f = open_tmp(path, tmp, sizeof tmp);
    if (!f)
        goto fail;
    results_write_header(f);
    for (size_t i = 0; i < n; i++)
        results_write_row(f, &rows[i]);
    if (close_tmp(f, tmp, path) != 0)
        goto fail;
    fprintf(stderr, "concbench: wrote %s\n", path);

    text_fmt(path, sizeof path, "%s/%s.md", out, r->run_id);
    f = open_tmp(path, tmp, sizeof tmp);
    if (!f)
        goto fail;
    const struct env_info *e = &r->env;
    fprintf(f, "# concbench %s\n\n%s · %s · %u cores · %s · %s · libcurl %s · OpenSSL %s · "
            "commit %s · timer %s · %u runs after %u warm-up\n\n", r->run_id, e->date, e->host,
            e->cores, e->cpu_model, e->kernel, e->libcurl, e->openssl, e->git_commit,
            r->hyperfine[0] ? "hyperfine -N" : "builtin", r->o.runs, r->o.warmup);
    table_print_results(f, rows, n, true);
    if (close_tmp(f, tmp, path) != 0)
        goto fail;

    text_fmt(path, sizeof path, "%s/%s.bench.json", out, r->run_id);
    if (write_bench_json(path, rows, n) != 0)
        goto fail;

    if (point_latest(out, r->run_id, "csv") != 0 || point_latest(out, r->run_id, "md") != 0) {
        fprintf(stderr, "concbench: run: cannot point %s/latest.csv at %s.csv: %s\n", out,
                r->run_id, strerror(errno));
        return -1;
    }
    return 0;
fail:
    fprintf(stderr, "concbench: run: cannot write %s: %s\n", path, strerror(errno));
    return -1;
}

/* ---- the run ---------------------------------------------------------------------- */

static int start_flagd(struct run *r)
{
    char flagd[PATH_MAX], delay[32], seed[32], log[PATH_MAX + 16], err[RUN_ERR_MAX];
    if (r->o.flagd_path)
        text_fmt(flagd, sizeof flagd, "%s", r->o.flagd_path);
    else
        text_fmt(flagd, sizeof flagd, "%s/flagd", r->bin_dir);
    if (!executable(flagd)) {
        fprintf(stderr, "concbench: run: flagd is missing at %s (not built? run make), or "
                "use --server URL\n", flagd);
        return -1;
    }
    text_fmt(delay, sizeof delay, "%.0f", r->o.delay_ms);
    text_fmt(seed, sizeof seed, "%llu", r->o.seed);
    text_fmt(log, sizeof log, "%s/flagd.log", r->work_dir);
    char *argv[] = { flagd, "--port", "0", "--delay", delay, "--seed", seed, NULL };
    if (server_start(&r->server, argv, log, err, sizeof err) != 0) {
        fprintf(stderr, "concbench: run: %s\n", err);
        return -1;
    }
    for (size_t i = 0; i < r->n_groups; i++) {
        struct group *g = &r->groups[i];
        int p = server_profile_parse(g->profile);
        if (strcmp(g->workload, "flags") == 0 && p >= 0)
            text_fmt(g->url, sizeof g->url, "%s", r->server.url[p]);
    }
    fprintf(stderr, "concbench: flagd %ld: LOCAL %s, DELAY %s, ERROR %s (delay %.0f ms)\n",
            (long)r->server.pid, r->server.url[SERVER_LOCAL], r->server.url[SERVER_DELAY],
            r->server.url[SERVER_ERROR], r->o.delay_ms);
    return 0;
}

static bool needs_flagd(const struct run *r)
{
    return r->o.workload[0] && !r->o.server_url;
}

static void free_run(struct run *r)
{
    server_stop(&r->server);
    for (size_t i = 0; i < r->n_configs; i++) {
        args_free(&r->configs[i].argv);
        record_free(&r->configs[i].rec);
    }
    free(r->configs);
    for (size_t i = 0; i < r->n_groups; i++)
        record_free(&r->groups[i].ref);
    if (r->work_dir[0])
        nftw(r->work_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void progress(const struct run *r, size_t k, size_t n, const struct config *c,
                     uint64_t start_ns, size_t timed_done)
{
    double elapsed = (double)(report_now_ns() - start_ns) / 1e9;
    char e[16], eta[16] = "?";
    fmt_clock(e, sizeof e, elapsed);
    /* Average so far times what is left: crude, but honest about being an estimate. */
    if (timed_done > 0)
        fmt_clock(eta, sizeof eta, elapsed / (double)timed_done * (double)(n - k + 1));
    (void)r;
    fprintf(stderr, "concbench: [%zu/%zu] %s%s  (elapsed %s, ETA %s)\n", k, n, c->name,
            c->timed ? "" : " (untimed)", e, eta);
}

/* Exit status for an interruption: 128 + the signal, flagd stopped first. */
static int interrupted(struct run *r)
{
    int sig = stop_requested();
    server_stop(&r->server);
    /* No CSV will point at the raw records of a half run. */
    if (r->raw_dir[0])
        nftw(r->raw_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    fprintf(stderr, "concbench: run: interrupted by SIG%s; flagd and the drivers stopped, "
            "no results written\n", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
    return 128 + sig;
}

int run_main(int argc, char **argv)
{
    static struct run run; /* large; zeroed; one per process */
    struct run *r = &run;
    memset(r, 0, sizeof *r);
    int prc = parse_options(argc, argv, &r->o);
    if (prc != 0)
        return prc > 0 ? 0 : 2;

    stop_install();
    signal(SIGPIPE, SIG_IGN); /* `concbench run | head` must still stop flagd */
    int status = 1;

    /* Drivers and flagd live beside concbench unless told otherwise. */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "concbench: run: cannot find my own binary: %s\n", strerror(errno));
        return 1;
    }
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    text_fmt(r->bin_dir, sizeof r->bin_dir, "%s", self);
    if (resolve_drivers(r) != 0)
        return 1;

    if (strcmp(r->o.timer, "builtin") != 0) {
        if (!timing_find_hyperfine(r->hyperfine, sizeof r->hyperfine)) {
            r->hyperfine[0] = '\0';
            if (strcmp(r->o.timer, "hyperfine") == 0) {
                fprintf(stderr, "concbench: run: hyperfine is not installed (apt-get install "
                        "hyperfine)\n");
                return 1;
            }
            fprintf(stderr, "concbench: run: hyperfine not found; timing the runs myself "
                    "(fork/exec, CLOCK_MONOTONIC, same statistics)\n");
        }
    }

    char src[PATH_MAX + 8];
    text_fmt(src, sizeof src, "%s/..", r->bin_dir);
    env_collect(&r->env, src);
    text_fmt(r->run_id, sizeof r->run_id, "%s-%s", r->env.stamp, r->env.host);
    text_fmt(r->raw_dir, sizeof r->raw_dir, "%s/%s", r->o.out_dir, r->run_id);
    if (mkdir_p(r->raw_dir) != 0) {
        fprintf(stderr, "concbench: run: cannot create %s: %s\n", r->raw_dir, strerror(errno));
        return 1;
    }
    const char *tmpdir = getenv("TMPDIR");
    text_fmt(r->work_dir, sizeof r->work_dir, "%s/concbench.XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(r->work_dir)) {
        fprintf(stderr, "concbench: run: cannot create a scratch directory %s: %s\n",
                r->work_dir, strerror(errno));
        r->work_dir[0] = '\0';
        return 1;
    }

    plan_groups(r);
    if (needs_flagd(r) && start_flagd(r) != 0) {
        status = stop_requested() ? interrupted(r) : 1;
        goto done;
    }
    if (plan_configs(r) != 0)
        goto done;

    uint64_t start = report_now_ns();
    size_t timed_done = 0;
    for (size_t i = 0; i < r->n_configs; i++) {
        struct config *c = &r->configs[i];
        struct group *g = c->g;
        if (strcmp(g->workload, "sha") == 0 && !isfinite(g->sha_bps)) {
            double bps;
            size_t size = (size_t)(r->o.quick ? RUN_QUICK_SHA_SIZE_MIB : RUN_SHA_SIZE_MIB) << 20;
            if (limit_sha_throughput(size, r->o.quick ? RUN_QUICK_SHA_RATE_MIN_S
                                                      : RUN_SHA_RATE_MIN_S, &bps) == 0) {
                g->sha_bps = bps;
                fprintf(stderr, "concbench: OpenSSL SHA-256 on one core: %.0f MB/s\n",
                        bps / 1e6);
            }
        }
        progress(r, i + 1, r->n_configs, c, start, timed_done);
        if (run_config(r, c) != 0) {
            status = interrupted(r);
            goto done;
        }
        timed_done++;
        if (c->measured && strcmp(c->d->name, REFERENCE_DRIVER) == 0 && !c->sweep_key &&
            !isfinite(g->seq_median_s))
            g->seq_median_s = c->tm.st.median;
        if (strcmp(c->verdict, "ok") != 0 && strcmp(c->verdict, "reference") != 0) {
            r->verdict_failed = true;
            fprintf(stderr, "concbench: %s: %s%s%s\n", c->name, c->verdict,
                    c->reason[0] ? ": " : "", c->reason);
        }
    }
    server_stop(&r->server);
    fprintf(stderr, "concbench: %zu configurations in %.1f s\n", r->n_configs,
            (double)(report_now_ns() - start) / 1e9);

    /* Rows for the timed configurations, in run order. */
    struct results_row *rows = calloc(r->n_configs ? r->n_configs : 1, sizeof *rows);
    size_t n_rows = 0;
    if (!rows) {
        fprintf(stderr, "concbench: run: out of memory\n");
        goto done;
    }
    int wrc = 0;
    for (size_t i = 0; i < r->n_configs; i++)
        if (r->configs[i].timed)
            wrc |= fill_row(r, &r->configs[i], &rows[n_rows++]);
    if (wrc == 0) {
        table_print_results(stdout, rows, n_rows, r->o.markdown);
        fflush(stdout);
        wrc = write_results(r, rows, n_rows);
    } else {
        fprintf(stderr, "concbench: run: out of memory\n");
    }
    for (size_t i = 0; i < n_rows; i++)
        results_row_free(&rows[i]);
    free(rows);
    status = wrc != 0 || r->verdict_failed ? 1 : 0;
done:
    free_run(r);
    return status;
}
