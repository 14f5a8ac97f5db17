/* env — the machine and build a run happened on: the CSV's environment columns. */
#ifndef CONCBENCH_ENV_H
#define CONCBENCH_ENV_H

#include <stddef.h>

struct env_info {
    char date[32];  /* 2024-11-22T19:25:03Z */
    char stamp[32]; /* 20241122T192503Z: file names */
    char host[64];
    char cpu_model[128];
    unsigned cores;    /* online CPUs */
    char kernel[160];  /* uname -sr */
    char compiler[64]; /* the compiler that built concbench */
    char libcurl[32];
    char openssl[64];
    char git_commit[48]; /* short hash, "-dirty" when the tree has changes; "unknown" */
};

/* Fill e. src_dir is the source tree asked for its git commit (NULL: skip). Never fails:
 * what cannot be found is "unknown". */
void env_collect(struct env_info *e, const char *src_dir);

#endif
