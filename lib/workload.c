/* workload — the one table of workloads. Adding a workload: its module defines a
 * const struct workload_def, and one line here registers it (docs/architecture.md). */
#include "workload.h"

#include <stdio.h>
#include <string.h>

/* Each defined in its own module (flags.c, sha.c); declared here rather than in their
 * headers so that the table depends on no workload's header. */
extern const struct workload_def flags_workload_def;
extern const struct workload_def sha_workload_def;
extern const struct workload_def crawl_workload_def;

static const struct workload_def *const workloads[] = {
    &flags_workload_def,
    &sha_workload_def,
    &crawl_workload_def,
};

#define N_WORKLOADS (sizeof workloads / sizeof workloads[0])

const struct workload_def *workload_find(const char *name)
{
    for (size_t i = 0; i < N_WORKLOADS; i++)
        if (strcmp(workloads[i]->name, name) == 0)
            return workloads[i];
    return NULL;
}

const struct workload_def *workload_at(size_t i)
{
    return i < N_WORKLOADS ? workloads[i] : NULL;
}

size_t workload_count(void)
{
    return N_WORKLOADS;
}

void workload_names(char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < N_WORKLOADS && used < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == N_WORKLOADS ? " or " : ", ";
        int n = snprintf(buf + used, len - used, "%s%s", sep, workloads[i]->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
