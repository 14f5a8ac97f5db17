/* noise — how much to trust a measurement: a row's own spread and outliers, the CPU that
 * other processes used while it ran, and whether the machine drifted during the run. */
#ifndef CONCBENCH_NOISE_H
#define CONCBENCH_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define NOISE_CV_MAX_PCT 10.0      /* a row whose runs vary more is noisy */
#define NOISE_FOREIGN_MAX_PCT 10.0 /* ... or while which others used more of the machine */
#define NOISE_DRIFT_MAX_PCT 10.0   /* a run whose calibration or load moved more is noisy */

/* CPU time at one instant: the machine's busy time, and ours (concbench, its waited-for
 * children — hyperfine and the drivers — and the flag server, which is not waited for
 * until the end). The difference of two samples is what others used meanwhile. */
struct noise_sample {
    double wall_s;
    double machine_busy_s; /* /proc/stat: user + nice + system + steal, all CPUs */
    double ours_s;         /* user + system of concbench, its children and server_pid */
};

/* Take a sample; server_pid 0 when there is no server of ours. Never fails: what cannot
 * be read counts as 0 (and the foreign share then reads NaN). */
void noise_sample_take(struct noise_sample *s, pid_t server_pid);

/* The share of the machine (cores × wall time between a and b) that other processes used,
 * in percent (clamped at 0); NaN when unknown or when no time passed. */
double noise_foreign_pct(const struct noise_sample *a, const struct noise_sample *b,
                         unsigned cores);

/* A row's noise verdict from its per-run times and the foreign share while it ran: true
 * (noisy) with the reasons in why ("CV 14.2% > 10%; 2 outliers; foreign CPU 31%"), or
 * false with why "". */
bool noise_row(const double *times, size_t n, double foreign_pct, char *why, size_t len);

/* The whole run: the 1-minute load average and one core's OpenSSL SHA-256 rate, at the
 * start and at the end. */
struct noise_run {
    double load_start, load_end;
    double calib_start_mbps, calib_end_mbps;
    double foreign_pct; /* over the whole run */
};

/* One core's SHA-256 rate now, in MB/s (a short probe); NaN when it cannot be measured. */
double noise_calibrate_mbps(void);

/* The 1-minute load average now; NaN when unknown. */
double noise_loadavg(void);

/* Whether the run drifted: calibration by more than NOISE_DRIFT_MAX_PCT, the load by more
 * than that share of the cores, or others used more than NOISE_FOREIGN_MAX_PCT of the
 * machine. true (noisy) with the reasons in why, or false with why "". */
bool noise_run_verdict(const struct noise_run *n, unsigned cores, char *why, size_t len);

#endif
