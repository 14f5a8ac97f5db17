/* limit — the best time a configuration could reach, to print "% of limit" beside it. */
#ifndef CONCBENCH_LIMIT_H
#define CONCBENCH_LIMIT_H

#include <stddef.h>

/* Latency-bound downloads: n requests that each wait delay_s, at most concurrency at
 * once, cannot end before delay_s · ⌈n / concurrency⌉. NaN when an input is 0. */
double limit_delay_s(double delay_s, size_t n, unsigned concurrency);

/* CPU-bound hashing: total_bytes at one core's OpenSSL SHA-256 rate (bytes_per_s), on
 * min(workers, cores) cores at once. NaN when an input is 0. */
double limit_sha_s(double total_bytes, double bytes_per_s, unsigned workers, unsigned cores);

/* One core's SHA-256 throughput through the same sha_digest() the drivers call: hash a
 * buffer of size_bytes again and again for at least min_s and keep the best pass, so a
 * noisy neighbour lowers it less. 0 with *bytes_per_s set, or -1 (OpenSSL or memory). */
int limit_sha_throughput(size_t size_bytes, double min_s, double *bytes_per_s);

/* 100 · limit / measured: how close a run came to its bound. NaN when unknown. */
double limit_pct(double limit_s, double measured_s);

#endif
