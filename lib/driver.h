/* driver — the main every driver shares: parse, build the job list, run it with the
 * driver's strategy, report. A driver file is its strategy plus one call to driver_main. */
#ifndef CONCBENCH_DRIVER_H
#define CONCBENCH_DRIVER_H

#include "job.h"

/* Runs the driver described by s; returns the process exit status
 * (0 done, 1 could not run, 2 bad usage, 128+signal when interrupted). */
int driver_main(int argc, char **argv, const struct strategy *s)
    __attribute__((warn_unused_result));

/* Online CPUs (at least 1). */
unsigned driver_cpus(void);

#endif
