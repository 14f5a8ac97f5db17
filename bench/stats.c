/* stats — median, min, max, mean and sample standard deviation; outliers as hyperfine
 * counts them; the Mann–Whitney U test and a bootstrap interval for compare. */
#include "stats.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int stats_compute(const double *x, size_t n, struct stats *s)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    if (n == 0) {
        s->median = s->min = s->max = s->mean = s->stddev = NAN;
        return 0;
    }
    double *v = malloc(n * sizeof *v);
    if (!v)
        return -1;
    memcpy(v, x, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    s->min = v[0];
    s->max = v[n - 1];
    s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    s->mean = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - s->mean) * (v[i] - s->mean);
    /* Sample deviation, as hyperfine reports it. */
    s->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
    free(v);
    return 0;
}

double stats_cv_pct(const struct stats *s)
{
    if (s->n == 0 || !(s->mean > 0))
        return NAN;
    return 100.0 * s->stddev / s->mean;
}

/* hyperfine's rule (src/outlier_detection.rs): a modified Z-score, (x − median) / MAD, beyond
 * 1.4826 × 10 — ten standard deviations, with 1.4826 turning the MAD into an estimate of one:
 * far out, so that a warning means something. */
#define STATS_OUTLIER_Z (1.4826 * 10.0)

size_t stats_outliers(const double *x, size_t n)
{
    if (n < 3)
        return 0;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return 0;
    memcpy(v, x, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    for (size_t i = 0; i < n; i++)
        v[i] = fabs(x[i] - med);
    qsort(v, n, sizeof *v, cmp_double);
    double mad = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    free(v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* With half the runs equal (MAD 0), any other value is infinitely far: as
         * hyperfine, count it only when it differs at all. */
        double z = mad > 0 ? (x[i] - med) / mad : (x[i] != med ? INFINITY : 0);
        if (fabs(z) > STATS_OUTLIER_Z)
            k++;
    }
    return k;
}

/* Exact null distribution of U for small samples without ties: the number of orderings
 * of na + nb values giving U = u is c(na, nb, u) = c(na - 1, nb, u - nb) + c(na, nb - 1, u)
 * (Mann and Whitney 1947), filled bottom-up. */
#define STATS_EXACT_MAX 12

static double exact_p(size_t na, size_t nb, double u)
{
    enum { U_MAX = STATS_EXACT_MAX * STATS_EXACT_MAX };
    static double c[STATS_EXACT_MAX + 1][STATS_EXACT_MAX + 1][U_MAX + 1];
    memset(c, 0, sizeof c);
    for (size_t i = 0; i <= na; i++)
        for (size_t j = 0; j <= nb; j++)
            for (size_t k = 0; k <= i * j; k++) {
                if (i == 0 || j == 0) {
                    c[i][j][k] = k == 0;
                    continue;
                }
                c[i][j][k] = (k >= j ? c[i - 1][j][k - j] : 0) + c[i][j - 1][k];
            }
    double total = 0, tail = 0;
    double lo = fmin(u, (double)(na * nb) - u);
    for (size_t k = 0; k <= na * nb; k++) {
        total += c[na][nb][k];
        if ((double)k <= lo + 1e-9)
            tail += c[na][nb][k];
    }
    return fmin(1.0, 2 * tail / total);
}

double stats_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return NAN;
    /* U counts the pairs (a_i, b_j) with a_i > b_j, ties counting one half. */
    double u = 0;
    bool ties = false;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            if (a[i] > b[j])
                u += 1;
            else if (a[i] == b[j]) {
                u += 0.5;
                ties = true;
            }
        }
    if (!ties && na <= STATS_EXACT_MAX && nb <= STATS_EXACT_MAX)
        return exact_p(na, nb, u);
    /* Normal approximation with the tie correction of the variance and a continuity
     * correction, as R's wilcox.test (exact = FALSE, correct = TRUE). */
    size_t n = na + nb;
    double *all = malloc(n * sizeof *all);
    if (!all)
        return NAN;
    memcpy(all, a, na * sizeof *all);
    memcpy(all + na, b, nb * sizeof *all);
    qsort(all, n, sizeof *all, cmp_double);
    double tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && all[j] == all[i])
            j++;
        double t = (double)(j - i);
        tie_term += t * t * t - t;
        i = j;
    }
    free(all);
    double mean = (double)na * (double)nb / 2;
    double var =
        (double)na * (double)nb / 12 * ((double)(n + 1) - tie_term / ((double)n * (double)(n - 1)));
    if (!(var > 0))
        return 1.0;
    double d = fabs(u - mean) - 0.5;
    double z = (d > 0 ? d : 0) / sqrt(var);
    return fmin(1.0, erfc(z / sqrt(2)));
}

/* splitmix64: a small, seeded generator, so that a bootstrap gives the same interval for
 * the same data on every machine. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double resampled_median(const struct stats_sample *s, double *buf, uint64_t *rng)
{
    for (size_t i = 0; i < s->n; i++)
        buf[i] = s->x[next_random(rng) % s->n];
    qsort(buf, s->n, sizeof *buf, cmp_double);
    return s->n % 2 ? buf[s->n / 2] : (buf[s->n / 2 - 1] + buf[s->n / 2]) / 2;
}

int stats_bootstrap_ratio_ci(const struct stats_sample *top, size_t n_top,
                             const struct stats_sample *bottom, size_t n_bottom, double confidence,
                             double *lo, double *hi)
{
    *lo = *hi = NAN;
    size_t most = 0;
    for (size_t i = 0; i < n_top + n_bottom; i++) {
        const struct stats_sample *s = i < n_top ? &top[i] : &bottom[i - n_top];
        if (s->n == 0)
            return -1;
        if (s->n > most)
            most = s->n;
    }
    double *buf = malloc(most * sizeof *buf);
    double *ratios = malloc(STATS_BOOTSTRAP_ITERATIONS * sizeof *ratios);
    if (!buf || !ratios) {
        free(buf);
        free(ratios);
        return -1;
    }
    uint64_t rng = STATS_BOOTSTRAP_SEED;
    for (size_t k = 0; k < STATS_BOOTSTRAP_ITERATIONS; k++) {
        double r = 1;
        for (size_t i = 0; i < n_top; i++)
            r *= resampled_median(&top[i], buf, &rng);
        for (size_t i = 0; i < n_bottom; i++)
            r /= resampled_median(&bottom[i], buf, &rng);
        ratios[k] = r;
    }
    qsort(ratios, STATS_BOOTSTRAP_ITERATIONS, sizeof *ratios, cmp_double);
    double tail = (1 - confidence) / 2;
    size_t a = (size_t)(tail * (STATS_BOOTSTRAP_ITERATIONS - 1));
    size_t b = (size_t)((1 - tail) * (STATS_BOOTSTRAP_ITERATIONS - 1) + 0.5);
    *lo = ratios[a];
    *hi = ratios[b];
    free(buf);
    free(ratios);
    return 0;
}
