/* dirhash — what a driver left in a directory, by content: every regular file's name and
 * SHA-256, sorted by name, and the first difference between two such listings. The
 * harness validates flags rows with it, on the files themselves and not on the driver's
 * word. */
#ifndef CONCBENCH_DIRHASH_H
#define CONCBENCH_DIRHASH_H

#include <stddef.h>

struct dirhash_entry {
    char name[256];
    char hex[65]; /* SHA-256 of the content; "" for what is not a regular file */
};

struct dirhash {
    struct dirhash_entry *v; /* sorted by name (owned) */
    size_t n;
};

/* List dir (not recursive; every entry but "." and ".."). A missing dir is an empty
 * listing. 0, or -1 with "cannot read DIR/NAME: reason" in err. */
__attribute__((warn_unused_result)) int dirhash_scan(const char *dir, struct dirhash *out,
                                                     char *err, size_t errlen);

/* 0 when a and b list the same names with the same contents; otherwise 1 with the first
 * difference in name order in why ("br.gif differs", "missing cn.gif", "extra
 * .br.gif.x1Y2z3"), seen from b against the reference a. */
int dirhash_diff(const struct dirhash *a, const struct dirhash *b, char *why, size_t len);

void dirhash_free(struct dirhash *h);

#endif
