/* run_exec — `concbench run`: time one configuration, read its record, validate it. */
#include "run_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "dirhash.h"
#include "noise.h"
#include "spawn.h"
#include "stop.h"
#include "text.h"

/* The last line of a driver's stderr that is its own message: not the usage line nor the
 * "Try --help" hint that may follow it. */
static void own_message(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || strncmp(line, "usage:", 6) == 0 || strncmp(line, "Try ", 4) == 0)
            continue;
        text_fmt(buf, len, "%s", line);
    }
    fclose(f);
}

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
    own_message(log, line, sizeof line);
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
        if (c->out_dir[0]) {
            char err[RUN_ERR_MAX];
            if (dirhash_scan(c->out_dir, &g->ref_files, err, sizeof err) != 0) {
                g->have_ref = false;
                c->verdict = "FAILED";
                text_fmt(c->reason, sizeof c->reason, "%s", err);
            }
        }
        return;
    }
    if (!g->have_ref) {
        c->verdict = "FAILED";
        text_fmt(c->reason, sizeof c->reason, "no sequential reference to check against");
        return;
    }
    char why[256];
    if (!record_matches(&g->ref, rec, why, sizeof why)) {
        c->verdict = "MISMATCH";
        text_fmt(c->reason, sizeof c->reason, "%s", why);
        return;
    }
    c->verdict = "ok";
    if (c->out_dir[0]) {
        /* The files themselves, hashed by us: a driver's word is not evidence. */
        struct dirhash files;
        char err[RUN_ERR_MAX];
        if (dirhash_scan(c->out_dir, &files, err, sizeof err) != 0) {
            c->verdict = "FAILED";
            text_fmt(c->reason, sizeof c->reason, "%s", err);
            return;
        }
        if (dirhash_diff(&g->ref_files, &files, why, sizeof why) != 0) {
            c->verdict = "MISMATCH";
            text_fmt(c->reason, sizeof c->reason, "files: %s (against sequential's %zu)", why,
                     g->ref_files.n);
        }
        dirhash_free(&files);
    }
}

/* Time (or, for a reference-only config, just run) c. Returns 0, or -1 when concbench was
 * interrupted; any failure of the driver is a verdict, not an error. */
/* "  run 3/6 (warm-up)": which run of a configuration hyperfine is at, from the counter
 * its prepare command appends to — on a terminal only. */
struct progress_tick {
    const char *counter;
    unsigned total, warmup, last;
    bool shown;
};

static void on_tick(void *arg)
{
    struct progress_tick *t = arg;
    struct stat st;
    if (stat(t->counter, &st) != 0 || (unsigned)st.st_size == t->last)
        return;
    t->last = (unsigned)st.st_size;
    fprintf(stderr, "\r    run %u/%u%s\033[K", t->last, t->total,
            t->last <= t->warmup ? " (warm-up)" : "");
    t->shown = true;
}

int run_execute(struct run *r, struct config *c)
{
    char out_path[PATH_MAX + 64], log_path[PATH_MAX + 64], json_path[PATH_MAX + 64];
    char err[RUN_ERR_MAX];
    text_fmt(out_path, sizeof out_path, "%s/%s.out", r->work_dir, c->name);
    text_fmt(log_path, sizeof log_path, "%s/%s.timer.log", r->work_dir, c->name);
    text_fmt(json_path, sizeof json_path, "%s/%s.json", r->raw_dir, c->name);

    /* Before every run, warm-ups included, untimed: empty the download directory, so that
     * every run does the same work (no file to rename over), and count the run for the
     * progress line. */
    char counter[PATH_MAX + 64];
    text_fmt(counter, sizeof counter, "%s/%s.runs", r->work_dir, c->name);
    if (c->out_dir[0])
        run_remove_tree(c->out_dir);
    char *prepare[] = {RUN_SH_PATH, "-c", "rm -rf -- \"$2\"; printf . >>\"$1\"", "sh", counter,
                       c->out_dir,  NULL};
    if (!c->out_dir[0])
        prepare[2] = "printf . >>\"$1\"";
    struct progress_tick tick = {
        .counter = counter, .total = r->o.warmup + r->o.runs, .warmup = r->o.warmup};
    struct timing_request q = {
        .argv = c->argv.v,
        .name = c->name,
        .warmup = r->o.warmup,
        .runs = r->o.runs,
        .json_path = json_path,
        .output_path = out_path,
        .log_path = log_path,
        .hyperfine = r->hyperfine[0] ? r->hyperfine : NULL,
        .timeout_s = r->o.timeout_s,
        .prepare_argv = prepare,
        .tick = r->progress_tty ? on_tick : NULL,
        .tick_arg = &tick,
    };
    struct noise_sample before, after;
    noise_sample_take(&before, r->server.pid);
    int rc = timing_run(&q, &c->tm, err, sizeof err);
    noise_sample_take(&after, r->server.pid);
    if (tick.shown)
        fputs("\r\033[K", stderr); /* the progress line goes; the next one takes its place */
    c->foreign_pct = noise_foreign_pct(&before, &after, r->env.cores);
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
    c->noisy =
        noise_row(c->tm.times, c->tm.n_times, c->foreign_pct, c->noise_why, sizeof c->noise_why);
    /* The raw file's name relative to the CSV, for the raw column. */
    text_fmt(c->raw, sizeof c->raw, "%s/%s.json", r->run_id, c->name);
    char *text = read_text(out_path);
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
    if (c->out_dir[0])
        run_remove_tree(c->out_dir); /* checked: the RAM is worth more than the files */
    return 0;
}
