/* run — `concbench run`: flagd, the matrix in order, interruption, then rows and files. */
#include "run.h"
#include "run_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "files.h"
#include "limit.h"
#include "clock.h"
#include "stop.h"
#include "table.h"
#include "text.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void run_remove_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A file system's name from statfs(2)'s f_type, for the table and the CSV. */
static void fs_name(long type, char *buf, size_t len)
{
    static const struct {
        long type;
        const char *name;
    } known[] = {
        {0x01021994, "tmpfs"}, {(long)0x858458f6, "ramfs"}, {0xEF53, "ext4"},
        {0x58465342, "xfs"},   {(long)0x9123683E, "btrfs"}, {0x794c7630, "overlay"},
        {0x6969, "nfs"},       {0x2fc12fc1, "zfs"},         {0x65735546, "fuse"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].type == type) {
            text_fmt(buf, len, "%s", known[i].name);
            return;
        }
    text_fmt(buf, len, "fs 0x%lx", type);
}

static bool ram_backed(long type)
{
    return type == 0x01021994 || type == (long)0x858458f6;
}

/* Where flags rows save. ram: a private directory on the first RAM-backed file system of
 * /dev/shm, $XDG_RUNTIME_DIR and the scratch directory; with none, the scratch directory,
 * and a note. disk: a private directory under OUT. 0, or -1 (message printed). */
static int make_downloads_root(struct run *r)
{
    const char *candidates[4];
    size_t n = 0;
    bool disk = strcmp(r->o.downloads, "disk") == 0;
    if (disk) {
        candidates[n++] = r->o.out_dir;
    } else {
        candidates[n++] = "/dev/shm";
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg && *xdg)
            candidates[n++] = xdg;
        candidates[n++] = r->work_dir;
    }
    for (size_t i = 0; i < n; i++) {
        struct statfs fs;
        if (statfs(candidates[i], &fs) != 0)
            continue;
        bool last = i + 1 == n;
        if (!disk && !ram_backed((long)fs.f_type) && !last)
            continue;
        text_fmt(r->downloads_root, sizeof r->downloads_root, "%s/concbench-downloads.XXXXXX",
                 candidates[i]);
        if (!mkdtemp(r->downloads_root)) {
            r->downloads_root[0] = '\0';
            continue;
        }
        fs_name((long)fs.f_type, r->downloads_fs, sizeof r->downloads_fs);
        r->downloads_ram = ram_backed((long)fs.f_type);
        if (!disk && !r->downloads_ram)
            fprintf(stderr,
                    "concbench: run: no RAM-backed file system (/dev/shm, "
                    "$XDG_RUNTIME_DIR): flags save to %s on %s, and their rows measure it too\n",
                    r->downloads_root, r->downloads_fs);
        else if (disk && r->downloads_ram)
            fprintf(stderr, "concbench: run: --downloads disk: %s is on %s, which is RAM\n",
                    candidates[i], r->downloads_fs);
        return 0;
    }
    fprintf(stderr, "concbench: run: cannot create a directory for the downloads in %s: %s\n",
            candidates[n - 1], strerror(errno));
    return -1;
}

/* cpu_idle shallow: hold the PM QoS CPU latency request at 0 µs while the run lasts
 * (Documentation/power/pm_qos_interface.rst; cyclictest and rtla do the same), so that the
 * idle governor keeps CPUs in a polling state. The request ends when the descriptor is
 * closed, by us or by the kernel when we exit however we exit. */
static void hold_cpu_latency(struct run *r)
{
    r->dma_latency_fd = -1;
    if (strcmp(r->o.cpu_idle, "shallow") != 0)
        return;
    int fd = open(RUN_DMA_LATENCY_PATH, O_WRONLY | O_CLOEXEC);
    int32_t zero = 0;
    if (fd < 0 || write(fd, &zero, sizeof zero) != (ssize_t)sizeof zero) {
        fprintf(stderr,
                "concbench: run: cannot hold %s at 0 (%s): CPUs may sleep deeply "
                "between requests, which adds the platform's wake-up time to the rows "
                "(--cpu-idle deep says so without this note)\n",
                RUN_DMA_LATENCY_PATH, strerror(errno));
        if (fd >= 0)
            close(fd);
        r->o.cpu_idle = "deep";
        return;
    }
    r->dma_latency_fd = fd;
}

static void fmt_clock(char *buf, size_t len, double s)
{
    if (!isfinite(s) || s < 0)
        text_fmt(buf, len, "?");
    else
        text_fmt(buf, len, "%d:%02d", (int)(s / 60), (int)fmod(s, 60));
}

static int start_flagd(struct run *r)
{
    char flagd[PATH_MAX], delay[32], seed[32], pages[32], log[PATH_MAX + 16], err[RUN_ERR_MAX];
    if (r->o.flagd_path)
        text_fmt(flagd, sizeof flagd, "%s", r->o.flagd_path);
    else
        text_fmt(flagd, sizeof flagd, "%s/flagd", r->bin_dir);
    if (!run_executable(flagd)) {
        fprintf(stderr,
                "concbench: run: flagd is missing at %s (not built? run make), or "
                "use --server URL\n",
                flagd);
        return -1;
    }
    text_fmt(delay, sizeof delay, "%.0f", r->o.delay_ms);
    text_fmt(seed, sizeof seed, "%llu", r->o.seed);
    text_fmt(pages, sizeof pages, "%u", run_site_pages(r));
    text_fmt(log, sizeof log, "%s/flagd.log", r->work_dir);
    char *argv[] = {flagd, "--port",       "0",   "--delay", delay, "--seed",
                    seed,  "--site-pages", pages, NULL};
    if (server_start(&r->server, argv, log, err, sizeof err) != 0) {
        fprintf(stderr, "concbench: run: %s\n", err);
        return -1;
    }
    for (size_t i = 0; i < r->n_groups; i++) {
        struct group *g = &r->groups[i];
        int p = server_profile_parse(g->profile);
        if (g->def->needs_server && p >= 0)
            text_fmt(g->url, sizeof g->url, "%s", r->server.url[p]);
    }
    fprintf(stderr,
            "concbench: flagd %ld: LOCAL %s, DELAY %s, ERROR %s (delay %.0f ms, a site of %u "
            "pages)\n",
            (long)r->server.pid, r->server.url[SERVER_LOCAL], r->server.url[SERVER_DELAY],
            r->server.url[SERVER_ERROR], r->o.delay_ms, run_site_pages(r));
    return 0;
}

/* Whether a workload asked for reaches a flag server. */
static bool needs_server(const struct run *r)
{
    for (size_t i = 0; i < workload_count() && i < RUN_MAX_WORKLOADS; i++)
        if (r->o.workload[i] && workload_at(i)->needs_server)
            return true;
    return false;
}

static bool needs_flagd(const struct run *r)
{
    return needs_server(r) && !r->o.server_url;
}

static void free_run(struct run *r)
{
    server_stop(&r->server);
    if (r->dma_latency_fd >= 0)
        close(r->dma_latency_fd);
    for (size_t i = 0; i < r->n_configs; i++) {
        run_args_free(&r->configs[i].argv);
        record_free(&r->configs[i].rec);
        timing_result_free(&r->configs[i].tm);
    }
    free(r->configs);
    for (size_t i = 0; i < r->n_groups; i++) {
        record_free(&r->groups[i].ref);
        dirhash_free(&r->groups[i].ref_files);
    }
    if (r->downloads_root[0])
        run_remove_tree(r->downloads_root);
    if (r->work_dir[0])
        run_remove_tree(r->work_dir);
}

static void progress(const struct run *r, size_t k, size_t n, const struct config *c,
                     uint64_t start_ns, size_t timed_done)
{
    double elapsed = (double)(clock_now_ns() - start_ns) / 1e9;
    char e[16], eta[16] = "?";
    fmt_clock(e, sizeof e, elapsed);
    /* Average so far times what is left: crude, but honest about being an estimate. */
    if (timed_done > 0)
        fmt_clock(eta, sizeof eta, elapsed / (double)timed_done * (double)(n - k + 1));
    (void)r;
    fprintf(stderr, "concbench: [%zu/%zu] %s  (elapsed %s, ETA %s)\n", k, n, c->name, e, eta);
}

/* Exit status for an interruption: 128 + the signal, flagd stopped first. */
static int interrupted(struct run *r)
{
    int sig = stop_requested();
    server_stop(&r->server);
    /* No CSV will point at the raw records of a half run. */
    if (r->raw_dir[0])
        run_remove_tree(r->raw_dir);
    fprintf(stderr,
            "concbench: run: interrupted by SIG%s; flagd and the drivers stopped, "
            "no results written\n",
            sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
    return 128 + sig;
}

int run_main(int argc, char **argv)
{
    static struct run run; /* large; zeroed; one per process */
    struct run *r = &run;
    memset(r, 0, sizeof *r);
    r->dma_latency_fd = -1;
    int prc = run_parse_options(argc, argv, &r->o);
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
    if (run_resolve_drivers(r) != 0)
        return 1;
    char probe_err[RUN_ERR_MAX];
    if (needs_server(r) && r->o.server_url &&
        server_probe(r->o.server_url, probe_err, sizeof probe_err) != 0) {
        fprintf(stderr, "concbench: run: cannot reach --server %s: %s\n", r->o.server_url,
                probe_err);
        return 1;
    }

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
    unsigned created;
    char err[RUN_ERR_MAX];
    if (files_prepare_dir(r->raw_dir, &created, err, sizeof err) != 0) {
        fprintf(stderr, "concbench: run: %s\n", err);
        return 1;
    }
    const char *tmpdir = getenv("TMPDIR");
    text_fmt(r->work_dir, sizeof r->work_dir, "%s/concbench.XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(r->work_dir)) {
        fprintf(stderr, "concbench: run: cannot create a scratch directory %s: %s\n", r->work_dir,
                strerror(errno));
        r->work_dir[0] = '\0';
        return 1;
    }

    run_plan_groups(r);
    if (needs_server(r) && make_downloads_root(r) != 0)
        goto done;
    if (needs_flagd(r) && start_flagd(r) != 0) {
        status = stop_requested() ? interrupted(r) : 1;
        goto done;
    }
    if (run_plan_configs(r) != 0)
        goto done;

    hold_cpu_latency(r);
    /* The machine before: what the end is compared with to call the run noisy. */
    r->noise.load_start = noise_loadavg();
    r->noise.calib_start_mbps = noise_calibrate_mbps();
    noise_sample_take(&r->start_sample, r->server.pid);
    if (r->downloads_root[0])
        fprintf(stderr, "concbench: flags save to %s (%s%s), emptied before every run\n",
                r->downloads_root, r->downloads_fs, r->downloads_ram ? ", RAM" : "");
    r->progress_tty = isatty(STDERR_FILENO);
    uint64_t start = clock_now_ns();
    size_t timed_done = 0, n_finished = r->n_configs;
    for (size_t i = 0; i < r->n_configs; i++) {
        struct config *c = &r->configs[i];
        struct group *g = c->g;
        if (g->rw->needs_calibration && !isfinite(g->calib_bps)) {
            double bps;
            size_t size = r->o.quick ? g->rw->quick_calib_bytes : g->rw->calib_bytes;
            if (limit_sha_throughput(
                    size, r->o.quick ? RUN_QUICK_SHA_RATE_MIN_S : RUN_SHA_RATE_MIN_S, &bps) == 0) {
                g->calib_bps = bps;
                fprintf(stderr, "concbench: OpenSSL SHA-256 on one core: %.0f MB/s\n", bps / 1e6);
            }
        }
        progress(r, i + 1, r->n_configs, c, start, timed_done);
        if (run_execute(r, c) != 0) {
            if (i == 0) {
                status = interrupted(r);
                goto done;
            }
            /* Keep what finished: the rows before this one are whole results. */
            char half[PATH_MAX + 200];
            text_fmt(half, sizeof half, "%s/%s.json", r->raw_dir, c->name);
            remove(half);
            n_finished = i;
            break;
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
    fprintf(stderr, "concbench: %zu configurations in %.1f s\n", n_finished,
            (double)(clock_now_ns() - start) / 1e9);
    /* ... and after, flagd waited for, so that its CPU counts as ours. */
    struct noise_sample end_sample;
    noise_sample_take(&end_sample, 0);
    r->noise.foreign_pct = noise_foreign_pct(&r->start_sample, &end_sample, r->env.cores);
    r->noise.load_end = noise_loadavg();
    r->noise.calib_end_mbps = noise_calibrate_mbps();
    r->run_noisy =
        noise_run_verdict(&r->noise, r->env.cores, r->run_noise_why, sizeof r->run_noise_why);

    /* A row for every configuration, in run order. */
    struct results_row *rows = calloc(r->n_configs ? r->n_configs : 1, sizeof *rows);
    size_t n_rows = 0;
    if (!rows) {
        fprintf(stderr, "concbench: run: out of memory\n");
        goto done;
    }
    int wrc = 0;
    for (size_t i = 0; i < n_finished; i++)
        wrc |= run_fill_row(r, &r->configs[i], &rows[n_rows++]);
    if (wrc == 0) {
        table_print_results(stdout, rows, n_rows, r->o.markdown);
        run_print_noise(stdout, r, r->o.markdown);
        fflush(stdout);
        wrc = run_write_results(r, rows, n_rows);
    } else {
        fprintf(stderr, "concbench: run: out of memory\n");
    }
    for (size_t i = 0; i < n_rows; i++)
        results_row_free(&rows[i]);
    free(rows);
    status = wrc != 0 || r->verdict_failed ? 1 : 0;
    if (n_finished < r->n_configs) {
        int sig = stop_requested();
        fprintf(stderr,
                "concbench: run: interrupted by SIG%s after %zu of %zu configurations; "
                "flagd and the drivers stopped; %s the finished ones\n",
                sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", n_finished, r->n_configs,
                wrc == 0 ? "wrote" : "could not write");
        status = 128 + sig;
    }
done:
    free_run(r);
    return status;
}
