/* limit — the theoretical bounds behind the "% of limit" column. */
#include "limit.h"

#include <math.h>
#include <stdlib.h>

#include "clock.h"
#include "sha.h"

#define NS_PER_S 1e9

double limit_delay_s(double delay_s, size_t n, unsigned concurrency)
{
    if (!(delay_s > 0) || n == 0 || concurrency == 0)
        return NAN;
    size_t rounds = (n + concurrency - 1) / concurrency;
    return delay_s * (double)rounds;
}

double limit_sha_s(double total_bytes, double bytes_per_s, unsigned workers, unsigned cores)
{
    if (!(total_bytes > 0) || !(bytes_per_s > 0) || workers == 0 || cores == 0)
        return NAN;
    unsigned parallel = workers < cores ? workers : cores;
    return total_bytes / (bytes_per_s * parallel);
}

int limit_sha_throughput(size_t size_bytes, double min_s, double *bytes_per_s)
{
    unsigned char *buf = malloc(size_bytes ? size_bytes : 1);
    if (!buf)
        return -1;
    sha_fill(buf, size_bytes, 0, 0);
    unsigned char digest[JOB_DIGEST_LEN];
    double best = 0;
    uint64_t start = clock_now_ns();
    /* At least three passes, so one descheduled pass does not decide. */
    for (int pass = 0; pass < 3 || (double)(clock_now_ns() - start) / NS_PER_S < min_s; pass++) {
        uint64_t t0 = clock_now_ns();
        if (sha_digest(buf, size_bytes, digest) != 0) {
            free(buf);
            return -1;
        }
        double s = (double)(clock_now_ns() - t0) / NS_PER_S;
        if (s > 0 && (double)size_bytes / s > best)
            best = (double)size_bytes / s;
    }
    free(buf);
    *bytes_per_s = best;
    return best > 0 ? 0 : -1;
}

double limit_pct(double limit_s, double measured_s)
{
    if (!(limit_s > 0) || !(measured_s > 0))
        return NAN;
    return 100.0 * limit_s / measured_s;
}
