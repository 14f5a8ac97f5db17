/* options — the parsed command line of a driver: one plain struct that cli.c fills and the
 * workloads' setup hooks read (workload.h). Data only, so that a workload can read options
 * without depending on the parser. */
#ifndef CONCBENCH_OPTIONS_H
#define CONCBENCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct workload_def;

/* getopt_long codes of the options that have no short form (the workloads' longopts). */
enum long_only {
    OPT_JSON = 256,
    OPT_META,
    OPT_REPEAT,
    OPT_NO_SAVE,
    OPT_MAX_BODY,
    OPT_MAX_HEAD,
    OPT_EXECUTOR,
    OPT_SEED,
    OPT_DUMP,
    OPT_MAX_PAGES,
    OPT_MAX_DEPTH,
    OPT_SAME_HOST,
    OPT_SAVE_ON_LOOP,
};

struct cli_options {
    const struct workload_def *workload; /* argv[1], from the workload table */
    /* shared (-m and -w are read by the driver: see workload_def.sizing) */
    bool verbose; /* -v */
    bool json;    /* --json */
    /* flags */
    bool all, every;            /* -a, -e */
    size_t limit;               /* -l N, 0 = none */
    unsigned concurrency;       /* -m N, clamped to the strategy's maximum */
    unsigned concurrency_asked; /* -m as given when it was clamped, else 0 */
    const char *server;         /* -s LOCAL|DELAY|ERROR|URL */
    char base_url[512];         /* -s resolved */
    const char *out_dir;        /* -o DIR */
    double timeout_s;           /* -t SECONDS */
    bool meta;                  /* --meta */
    bool no_save;               /* --no-save */
    unsigned repeat;            /* --repeat K */
    size_t max_body;            /* --max-body SIZE */
    size_t max_head;            /* --max-head SIZE */
    unsigned executor;          /* --executor N (strategies with has_executor) */
    bool save_on_loop;          /* --save-on-loop (strategies with has_executor) */
    char *const *codes;         /* positional arguments */
    size_t n_codes;
    /* sha */
    size_t jobs;            /* -j */
    size_t size_bytes;      /* -n */
    unsigned workers;       /* -w, clamped to the strategy's maximum */
    unsigned workers_asked; /* -w as given when it was clamped, else 0 */
    uint64_t seed;          /* --seed */
    const char *dump_dir;   /* --dump DIR */
    /* crawl (-m, -s, -t, --max-body, --max-head as flags; START_PATH in codes) */
    size_t max_pages;   /* --max-pages N: URLs fetched at most */
    uint32_t max_depth; /* --max-depth D: links this far from the start at most */
    bool same_host;     /* --same-host: the start's port too, not only its host */
};

#endif
