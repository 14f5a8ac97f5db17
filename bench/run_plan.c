/* run_plan — `concbench run`: which drivers, which groups, and each configuration's command. */
#include "run_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"

static const char *const default_drivers[] = {"sequential", "threadpool", "processpool",
                                              "coroutine"};
#define N_DEFAULT_DRIVERS (sizeof default_drivers / sizeof default_drivers[0])

int run_args_push(struct args *a, const char *s)
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

void run_args_free(struct args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

bool run_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

void run_driver_path(const struct run *r, const char *name, char *buf, size_t len)
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
int run_resolve_drivers(struct run *r)
{
    struct run_options *o = &r->o;
    if (!o->drivers_given) {
        o->n_drivers = 0;
        char missing[256] = "";
        for (size_t i = 0; i < N_DEFAULT_DRIVERS; i++) {
            struct driver_spec *d = &o->drivers[o->n_drivers];
            text_fmt(d->name, sizeof d->name, "%s", default_drivers[i]);
            run_driver_path(r, d->name, d->path, sizeof d->path);
            if (run_executable(d->path) || strcmp(d->name, REFERENCE_DRIVER) == 0) {
                o->n_drivers++;
            } else {
                size_t n = strlen(missing);
                text_fmt(missing + n, sizeof missing - n, "%s%s", n ? ", " : "", d->name);
            }
        }
        if (missing[0])
            fprintf(stderr, "concbench: run: not built yet, skipped: %s (looked in %s)\n", missing,
                    r->bin_dir);
    }
    for (size_t i = 0; i < o->n_drivers; i++) {
        struct driver_spec *d = &o->drivers[i];
        run_driver_path(r, d->name, d->path, sizeof d->path);
        if (!run_executable(d->path)) {
            fprintf(stderr,
                    "concbench: run: driver %s: %s is missing or not executable "
                    "(not built? run make)\n",
                    d->name, d->path);
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

/* The workload part of a driver command: the same within a group for every driver. */
static int workload_args(const struct run *r, const struct group *g, struct config *c,
                         struct args *a)
{
    int rc = run_args_push(a, g->workload);
    rc |= g->rw->args(r, g, c, a);
    rc |= run_args_push(a, "--json");
    if (c->sweep_key) {
        char opt[4] = {'-', c->sweep_key, '\0'}, val[32];
        text_fmt(val, sizeof val, "%ld", c->sweep_value);
        rc |= run_args_push(a, opt);
        rc |= run_args_push(a, val);
    }
    for (int i = 0; i < r->o.n_extra; i++)
        rc |= run_args_push(a, r->o.extra[i]);
    return rc ? -1 : 0;
}

static int add_config(struct run *r, struct group *g, const struct driver_spec *d, char key,
                      long value)
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
    c->verdict = "FAILED";
    int n = snprintf(c->name, sizeof c->name, "%s%s%s-%s", g->workload, *g->profile ? "-" : "",
                     g->profile, d->name);
    if (key)
        text_fmt(c->name + n, sizeof c->name - (size_t)n, "-%c%ld", key, value);
    if (run_args_push(&c->argv, d->path) != 0)
        return -1;
    return workload_args(r, g, c, &c->argv);
}

static struct group *add_group(struct run *r, const struct workload_def *def, const char *profile,
                               const char *url, double delay_ms)
{
    struct group *g = &r->groups[r->n_groups++];
    memset(g, 0, sizeof *g);
    g->def = def;
    g->workload = def->name;
    g->rw = run_workload_find(def->name);
    text_fmt(g->profile, sizeof g->profile, "%s", profile);
    text_fmt(g->url, sizeof g->url, "%s", url);
    g->delay_ms = delay_ms;
    g->seq_median_s = NAN;
    g->calib_bps = NAN;
    return g;
}

/* Groups and configurations, in the order they run. URLs are filled in once flagd is up,
 * so the groups are built before the configurations' commands. */
void run_plan_groups(struct run *r)
{
    const struct run_options *o = &r->o;
    for (size_t w = 0; w < workload_count() && w < RUN_MAX_WORKLOADS; w++) {
        const struct workload_def *def = workload_at(w);
        if (!o->workload[w])
            continue;
        if (!def->needs_server) {
            add_group(r, def, "", "", NAN);
        } else if (o->server_url) {
            add_group(r, def, "SERVER", o->server_url, NAN);
        } else {
            for (int p = 0; p < SERVER_PROFILES; p++)
                if (o->profile[p])
                    add_group(r, def, server_profile_name(p), "",
                              p == SERVER_LOCAL ? NAN : o->delay_ms);
        }
    }
}

int run_plan_configs(struct run *r)
{
    const struct run_options *o = &r->o;
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        struct group *g = &r->groups[gi];
        const struct sweep *sw = g->def->sweep_option == 'm' ? &o->sweep_m : &o->sweep_w;
        if (strcmp(o->drivers[0].name, REFERENCE_DRIVER) != 0) {
            /* Not asked for, but the reference is what makes any row a result. */
            struct driver_spec *ref = &r->reference;
            text_fmt(ref->name, sizeof ref->name, REFERENCE_DRIVER);
            run_driver_path(r, REFERENCE_DRIVER, ref->path, sizeof ref->path);
            if (!run_executable(ref->path)) {
                fprintf(stderr, "concbench: run: the reference driver %s is missing (%s)\n",
                        REFERENCE_DRIVER, ref->path);
                return -1;
            }
            if (gi == 0)
                fprintf(stderr,
                        "concbench: run: --drivers leaves out %s: it is timed anyway, "
                        "as the reference for validation and speedups\n",
                        REFERENCE_DRIVER);
            if (add_config(r, g, ref, 0, 0) != 0)
                return -1;
        }
        for (size_t di = 0; di < o->n_drivers; di++) {
            const struct driver_spec *d = &o->drivers[di];
            bool reference = strcmp(d->name, REFERENCE_DRIVER) == 0;
            if (sw->n == 0 || reference) {
                if (add_config(r, g, d, 0, 0) != 0)
                    return -1;
                continue;
            }
            for (size_t k = 0; k < sw->n; k++)
                if (add_config(r, g, d, sw->key, sw->values[k]) != 0)
                    return -1;
        }
    }
    return 0;
}
