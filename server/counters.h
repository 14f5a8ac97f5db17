/* counters — flagd's /stats: answers by status, requests in flight and their peak. */
#ifndef FLAGD_COUNTERS_H
#define FLAGD_COUNTERS_H

#include <stdint.h>

#include "fate.h"

#define COUNTERS_STATUS_MIN 100
#define COUNTERS_STATUS_MAX 599

/* Plain value, caller-allocated, zero-initialised; one thread (flagd's loop) only. */
struct counters {
    uint64_t by_status[COUNTERS_STATUS_MAX + 1]; /* answers sent, by HTTP status */
    uint64_t total;                              /* sum of by_status */
    uint64_t in_flight;                          /* received, not yet answered */
    uint64_t max_in_flight;                      /* peak of in_flight since the last reset */
    uint64_t faults[FATE_FAULTS];                /* injected: resets, truncations, stalls */
};

/* A request was received. */
void counters_begin(struct counters *c);

/* A request begun was answered with status (counted), or abandoned (status 0: the client
 * went away first; only in_flight changes). */
void counters_end(struct counters *c, int status);

/* A fault was injected (besides counters_end: a truncated or stalled answer still sent
 * its 200; a reset sent nothing, so it ends with status 0). */
void counters_fault(struct counters *c, enum fate_fault f);

/* Zero the answer and fault counts; the peak restarts from what is in flight now (0 when idle),
 * because requests still in flight will end later and must not drive in_flight below 0. */
void counters_reset(struct counters *c);

/* {"requests": {"200": N, "404": N}, "total": N, "in_flight": N, "max_in_flight": N,
 *  "faults": {"reset": N, "truncate": N, "stall": N}}: statuses ascending, only those
 * seen; total is the sum of requests; every fault always listed. Returns a malloc'd string (free() it), or NULL. */
char *counters_json(const struct counters *c);

#endif
