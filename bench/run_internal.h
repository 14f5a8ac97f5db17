/* run_internal — what the parts of `concbench run` share: the options, the plan (groups of
 * configurations), each configuration's outcome, and the functions each part offers.
 *   run_options.c  options and usage          run_plan.c    drivers, groups, commands
 *   run_exec.c     timing and validation      run_output.c  rows, tables and files
 *   run.c          the run itself: flagd, the loop over configurations, interruption
 * Everything here runs on the one thread of concbench. */
#ifndef CONCBENCH_RUN_INTERNAL_H
#define CONCBENCH_RUN_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dirhash.h"
#include "env.h"
#include "noise.h"
#include "record.h"
#include "results.h"
#include "server.h"
#include "timing.h"
#include "workload.h"

#define RUN_MAX_DRIVERS 16

#define RUN_MAX_SWEEP 32

#define RUN_MAX_SWEEP_VALUE 100000

#define RUN_MAX_RUNS 1000

#define RUN_SHA_RATE_MIN_S 0.3 /* how long the OpenSSL throughput probe hashes */

#define RUN_QUICK_SHA_RATE_MIN_S 0.1

#define RUN_OUTPUT_MAX (1 << 20) /* a --json record with 10,000 digests fits */

#define RUN_ERR_MAX 512
#define RUN_DMA_LATENCY_PATH "/dev/cpu_dma_latency"
#define RUN_SH_PATH "/bin/sh" /* runs the prepare step before every run */

#define REFERENCE_DRIVER "sequential"

#define RUN_MAX_WORKLOADS 8 /* lib/workload.c's table, at most */

struct driver_spec {
    char name[32];
    char path[PATH_MAX];
};

struct sweep {
    char key; /* 'm' (flags -m) or 'w' (sha -w); 0 = none */
    long values[RUN_MAX_SWEEP];
    size_t n;
};

struct run_options {
    bool workload[RUN_MAX_WORKLOADS]; /* by index in lib/workload.c's table */
    bool profile[SERVER_PROFILES];
    bool drivers_given, profiles_given;
    struct driver_spec drivers[RUN_MAX_DRIVERS];
    size_t n_drivers;
    struct driver_spec overrides[RUN_MAX_DRIVERS]; /* --driver-path NAME=PATH */
    size_t n_overrides;
    struct sweep sweep_m, sweep_w;
    unsigned runs, warmup;
    bool runs_given, warmup_given, delay_given;
    const char *server_url; /* --server: no flagd of our own */
    const char *out_dir;
    const char *flagd_path; /* --flagd PATH */
    const char *timer;      /* auto | hyperfine | builtin */
    bool quick, markdown;
    double delay_ms;
    double timeout_s;      /* per configuration, all its runs */
    const char *downloads; /* ram (default) | disk */
    const char *cpu_idle;  /* shallow (default) | deep */
    unsigned long long seed;
    unsigned site_pages; /* --site-pages: flagd's site for the crawl; 0 = the default */
    char **extra;        /* after "--": appended to every driver command */
    int n_extra;
};

/* A growable argv (strings owned). */
struct args {
    char **v;
    size_t n, cap;
};

/* One table: a workload on one profile (sha has none). */
struct group {
    const char *workload;           /* def->name */
    const struct workload_def *def; /* lib/'s side of the workload */
    const struct run_workload *rw;  /* the harness's side (run_workloads.c) */
    char profile[16];               /* LOCAL, DELAY, ERROR, SERVER; "" for sha */
    char url[SERVER_URL_MAX];
    double delay_ms;   /* NAN: no delay known */
    struct record ref; /* the sequential record every row is checked against */
    bool have_ref;
    double seq_median_s;      /* NAN until the sequential row is timed */
    double calib_bps;         /* one core's OpenSSL SHA-256 rate, when rw needs it */
    struct dirhash ref_files; /* flags: what the reference saved, by content */
};

/* One configuration: a driver (maybe at one sweep value) in a group. */
struct config {
    struct group *g;
    const struct driver_spec *d;
    char sweep_key;
    long sweep_value;
    char name[128]; /* flags-DELAY-threadpool-m10: files, hyperfine name */
    struct args argv;
    /* outcome */
    bool measured;
    struct timing_result tm;
    struct record rec;
    bool have_rec;
    const char *verdict; /* reference | ok | MISMATCH | FAILED */
    char reason[300];
    char raw[PATH_MAX];     /* the raw timing JSON, relative to the out dir */
    char out_dir[PATH_MAX]; /* flags: where its files go, emptied before every run */
    double foreign_pct;     /* others' CPU while it was timed, % of the machine */
    bool noisy;
    char noise_why[160];
};

/* Everything one `run` owns, so that every exit path can release it. */
struct run {
    struct run_options o;
    struct env_info env;
    char bin_dir[PATH_MAX];
    char hyperfine[PATH_MAX]; /* "" = builtin timer */
    char work_dir[PATH_MAX];  /* scratch: downloads, last outputs, logs */
    char raw_dir[PATH_MAX];   /* <out>/<run_id>/ */
    char run_id[128];
    struct server server;
    struct driver_spec reference; /* the sequential driver when --drivers left it out */
    struct group groups[RUN_MAX_WORKLOADS * SERVER_PROFILES + 1];
    size_t n_groups;
    struct config *configs;
    size_t n_configs;
    bool verdict_failed;
    bool progress_tty;  /* stderr is a terminal: a moving "run k/N" line */
    int dma_latency_fd; /* /dev/cpu_dma_latency held at 0 while open; -1 */
    /* where flags rows save: a RAM-backed directory unless --downloads disk */
    char downloads_root[PATH_MAX]; /* "" when no flags row saves */
    char downloads_fs[32];         /* its file system: tmpfs, ext4, ... */
    bool downloads_ram;
    /* how much to trust the run as a whole */
    struct noise_run noise;
    struct noise_sample start_sample;
    bool run_noisy;
    char run_noise_why[200];
};

/* run_workloads.c: the harness's side of a workload. */
struct run_workload {
    const char *name; /* as in lib/workload.c */
    /* Push the workload's own options for c's command (after its name, before --json). */
    int (*args)(const struct run *r, const struct group *g, struct config *c, struct args *a);
    /* The bound c's median cannot beat, in seconds; NaN when none is known. */
    double (*limit)(const struct run *r, const struct config *c);
    bool needs_calibration;                /* limit uses g->calib_bps, measured once per group */
    size_t calib_bytes, quick_calib_bytes; /* the buffer that measurement hashes */
    /* It fetches flagd's /site/: its rows carry the site's size (site_pages). */
    bool crawls_site;
};

/* The entry named name, or NULL. */
const struct run_workload *run_workload_find(const char *name);

/* flagd's --site-pages for this run: --site-pages, else 1,000 pages (100 with --quick).
 * Only the flagd concbench starts has this size: with --server it is not known. */
unsigned run_site_pages(const struct run *r);

/* run_options.c: 0 run, 1 help printed, -1 bad usage (message printed). */
int run_parse_options(int argc, char **argv, struct run_options *o);

/* run_plan.c */
bool run_executable(const char *path);
/* The path of driver name: a --driver-path override, else beside concbench. */
void run_driver_path(const struct run *r, const char *name, char *buf, size_t len);
/* Resolve the driver list, the reference first. 0, or -1 (message printed). */
int run_resolve_drivers(struct run *r);
/* Groups, then (once flagd's URLs are known) their configurations, in run order. */
void run_plan_groups(struct run *r);
int run_plan_configs(struct run *r);
void run_args_free(struct args *a);
/* Append a copy of s. 0, or -1 when out of memory. */
int run_args_push(struct args *a, const char *s);

/* run.c: remove path and everything under it (best effort). */
void run_remove_tree(const char *path);

/* run_exec.c: time (or just run) c and validate it. 0, or -1 when concbench was
 * interrupted; a failure of the driver is a verdict, not an error. */
int run_execute(struct run *r, struct config *c);

/* run_output.c: c's CSV row (0 or -1 out of memory), and every file of the run. */
int run_fill_row(const struct run *r, const struct config *c, struct results_row *row);
int run_write_results(struct run *r, const struct results_row *rows, size_t n);
/* The closing line on the run's noise: load, calibration and others' CPU, start to end. */
void run_print_noise(FILE *f, const struct run *r, bool markdown);

#endif
