/* stats — median, min, max, mean and sample standard deviation. */
#include "stats.h"

#include <math.h>
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
