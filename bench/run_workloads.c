/* run_workloads — what the harness knows of each workload beyond lib/'s table (lib/workload.c):
 * the workload part of a driver's command, and the bound a row cannot beat. The one place in
 * bench/ that names a workload; adding one adds an entry here (docs/architecture.md). */
#include "run.h"
#include "run_internal.h"

#include <math.h>
#include <string.h>

#include "limit.h"
#include "text.h"

#define RUN_SHA_JOBS "12"   /* the drivers' default job count */
#define RUN_SHA_SIZE_MIB 16 /* 192 MiB in all: hashing, not start-up, dominates */
#define RUN_QUICK_SHA_SIZE_MIB 4

static int flags_args(const struct run *r, const struct group *g, struct config *c, struct args *a)
{
    int rc = 0;
    /* Full: the book's 194 codes everywhere. Quick: 20 codes where each costs a delay, so
     * the sequential reference stays short. */
    if (!r->o.quick || strcmp(g->profile, "LOCAL") == 0)
        rc |= run_args_push(a, "-a");
    rc |= run_args_push(a, "-s");
    rc |= run_args_push(a, g->url);
    text_fmt(c->out_dir, sizeof c->out_dir, "%s/%s", r->downloads_root, c->name);
    rc |= run_args_push(a, "-o");
    rc |= run_args_push(a, c->out_dir);
    return rc;
}

/* Latency-bound: L·⌈N/C⌉ on DELAY; no bound is known elsewhere. */
static double flags_limit(const struct run *r, const struct config *c)
{
    (void)r;
    const struct group *g = c->g;
    if (strcmp(g->profile, "DELAY") != 0 || !isfinite(g->delay_ms))
        return NAN;
    return limit_delay_s(g->delay_ms / 1e3, (size_t)c->rec.items, (unsigned)c->rec.concurrency);
}

static int sha_args(const struct run *r, const struct group *g, struct config *c, struct args *a)
{
    (void)g;
    (void)c;
    char seed[32], size[32];
    text_fmt(seed, sizeof seed, "%llu", r->o.seed);
    text_fmt(size, sizeof size, "%dM", r->o.quick ? RUN_QUICK_SHA_SIZE_MIB : RUN_SHA_SIZE_MIB);
    int rc = 0;
    rc |= run_args_push(a, "-j");
    rc |= run_args_push(a, RUN_SHA_JOBS);
    rc |= run_args_push(a, "-n");
    rc |= run_args_push(a, size);
    rc |= run_args_push(a, "--seed");
    rc |= run_args_push(a, seed);
    return rc;
}

/* CPU-bound: the bytes at one core's OpenSSL rate on min(workers, cores) cores. */
static double sha_limit(const struct run *r, const struct config *c)
{
    const struct record *rec = &c->rec;
    double total =
        rec->bytes > 0 ? (double)rec->bytes : (double)rec->items * (double)rec->size_bytes;
    return limit_sha_s(total, c->g->calib_bps, (unsigned)rec->workers, r->env.cores);
}

/* crawl: flagd's whole site from /site/ (its size is flagd's --site-pages, run_site_pages). */
static int crawl_args(const struct run *r, const struct group *g, struct config *c, struct args *a)
{
    (void)r;
    (void)c;
    int rc = 0;
    rc |= run_args_push(a, "-s");
    rc |= run_args_push(a, g->url);
    return rc;
}

/* The critical path on DELAY: a page can be fetched only after the page linking to it, so
 * at least depth + 1 delays one after another; and C at a time, at least ⌈pages/C⌉. */
static double crawl_limit(const struct run *r, const struct config *c)
{
    (void)r;
    const struct group *g = c->g;
    if (strcmp(g->profile, "DELAY") != 0 || !isfinite(g->delay_ms))
        return NAN;
    double by_width =
        limit_delay_s(g->delay_ms / 1e3, (size_t)c->rec.done, (unsigned)c->rec.concurrency);
    double by_depth = g->delay_ms / 1e3 * (double)(c->rec.depth + 1);
    return isfinite(by_width) && by_width > by_depth ? by_width : by_depth;
}

unsigned run_site_pages(const struct run *r)
{
    if (r->o.site_pages)
        return r->o.site_pages;
    return r->o.quick ? RUN_QUICK_SITE_PAGES : RUN_DEFAULT_SITE_PAGES;
}

static const struct run_workload table[] = {
    {.name = "flags", .args = flags_args, .limit = flags_limit},
    {.name = "sha",
     .args = sha_args,
     .limit = sha_limit,
     .needs_calibration = true,
     .calib_bytes = (size_t)RUN_SHA_SIZE_MIB << 20,
     .quick_calib_bytes = (size_t)RUN_QUICK_SHA_SIZE_MIB << 20},
    {.name = "crawl", .args = crawl_args, .limit = crawl_limit, .crawls_site = true},
};

const struct run_workload *run_workload_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}
