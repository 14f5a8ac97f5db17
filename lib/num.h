/* num — the one whole-number parser of every command line (drivers, flagd, concbench). */
#ifndef CONCBENCH_NUM_H
#define CONCBENCH_NUM_H

/* Parse s as an unsigned decimal in [lo, hi]. The sign rule, for every option of every
 * binary: the whole string is one or more digits 0-9 — no sign ("+1", "-1"), no
 * surrounding or leading space (" -1" would slip past strtoull's sign check), no
 * suffix. 0 with *out set, -EINVAL when s is not such a number, -ERANGE when it is one
 * outside [lo, hi]. Thread-safe. */
__attribute__((warn_unused_result)) int num_parse_u64(const char *s, unsigned long long lo,
                                                      unsigned long long hi,
                                                      unsigned long long *out);

#endif
