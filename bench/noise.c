/* noise — row and run noise verdicts from /proc/stat, getrusage and the per-run times. */
#include "noise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "limit.h"
#include "stats.h"
#include "text.h"

#define NOISE_CALIB_BYTES (1 << 20) /* a 1 MiB buffer hashed again and again */
#define NOISE_OUTLIER_MIN_RUNS 5
#define NOISE_CALIB_MIN_S 0.1 /* for this long: short, but the best of many passes */

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* user + nice + system + steal of the "cpu" line. Interrupt and softirq time are left
 * out: loopback traffic is accounted there and belongs to nobody's process. Steal is in:
 * a neighbour on the hypervisor is noise too. */
static double machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return NAN;
    unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal = 0;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
                   &iowait, &irq, &softirq, &steal);
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (n < 7 || hz <= 0)
        return NAN;
    return (double)(user + nice + sys + steal) / (double)hz;
}

/* utime + stime of a process we have not waited for (the flag server). */
static double process_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    text_fmt(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which may hold spaces and parentheses. */
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    long hz = sysconf(_SC_CLK_TCK);
    if (!p || hz <= 0 ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)hz;
}

void noise_sample_take(struct noise_sample *s, pid_t server_pid)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s->wall_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    s->machine_busy_s = machine_busy_s();
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    s->ours_s = tv_s(self.ru_utime) + tv_s(self.ru_stime) + tv_s(kids.ru_utime) +
                tv_s(kids.ru_stime) + (server_pid > 0 ? process_cpu_s(server_pid) : 0);
}

double noise_foreign_pct(const struct noise_sample *a, const struct noise_sample *b, unsigned cores)
{
    double wall = b->wall_s - a->wall_s;
    if (!(wall > 0) || cores == 0 || !isfinite(a->machine_busy_s) || !isfinite(b->machine_busy_s))
        return NAN;
    double foreign = (b->machine_busy_s - a->machine_busy_s) - (b->ours_s - a->ours_s);
    return foreign > 0 ? 100.0 * foreign / (wall * cores) : 0.0;
}

static void append(char *why, size_t len, const char *fmt, double x)
{
    size_t n = strlen(why);
    if (n)
        text_fmt(why + n, len - n, "; ");
    n = strlen(why);
    text_fmt(why + n, len - n, fmt, x);
}

bool noise_row(const double *times, size_t n, double foreign_pct, char *why, size_t len)
{
    why[0] = '\0';
    struct stats st;
    if (n > 1 && stats_compute(times, n, &st) == 0) {
        double cv = stats_cv_pct(&st);
        if (cv > NOISE_CV_MAX_PCT)
            append(why, len, "CV %.1f%% > 10%%", cv);
        /* Below 5 runs the median absolute deviation is too coarse to call one "far". */
        size_t k = n >= NOISE_OUTLIER_MIN_RUNS ? stats_outliers(times, n) : 0;
        if (k)
            append(why, len,
                   k == 1 ? "%.0f outlier (as hyperfine warns)"
                          : "%.0f outliers (as hyperfine warns)",
                   (double)k);
    }
    if (foreign_pct > NOISE_FOREIGN_MAX_PCT)
        append(why, len, "foreign CPU %.0f%%", foreign_pct);
    return why[0] != '\0';
}

double noise_calibrate_mbps(void)
{
    double bps;
    if (limit_sha_throughput(NOISE_CALIB_BYTES, NOISE_CALIB_MIN_S, &bps) != 0)
        return NAN;
    return bps / 1e6;
}

double noise_loadavg(void)
{
    double l;
    return getloadavg(&l, 1) == 1 ? l : NAN;
}

bool noise_run_verdict(const struct noise_run *n, unsigned cores, char *why, size_t len)
{
    why[0] = '\0';
    if (isfinite(n->calib_start_mbps) && isfinite(n->calib_end_mbps) && n->calib_start_mbps > 0) {
        double drift = 100.0 * fabs(n->calib_end_mbps / n->calib_start_mbps - 1);
        if (drift > NOISE_DRIFT_MAX_PCT)
            append(why, len, "calibration drifted %.0f%%", drift);
    }
    /* The load average is a one-minute mean that our own runs raise too: only a change
     * beyond a tenth of the cores says something else came or went. */
    if (isfinite(n->load_start) && isfinite(n->load_end) && cores > 0) {
        double drift = 100.0 * fabs(n->load_end - n->load_start) / cores;
        if (drift > NOISE_DRIFT_MAX_PCT && n->foreign_pct > NOISE_FOREIGN_MAX_PCT / 2)
            append(why, len, "load average moved by %.0f%% of the cores", drift);
    }
    if (n->foreign_pct > NOISE_FOREIGN_MAX_PCT)
        append(why, len, "foreign CPU %.0f%% of the machine", n->foreign_pct);
    return why[0] != '\0';
}
