/* store — every flag of a root (and its metadata.json) read once at start and kept in memory. */
#ifndef FLAGD_STORE_H
#define FLAGD_STORE_H

#include <stddef.h>

#define STORE_DEFAULT_ROOT "/usr/share/flags/countries/16x11"         /* famfamfam-flag-gif */
#define STORE_DEFAULT_ISO "/usr/share/iso-codes/json/iso_3166-1.json" /* iso-codes */
#define STORE_CODES (26 * 26)                                         /* aa .. zz */
#define STORE_FILE_MAX (1024 * 1024) /* a flag is under 1 KiB; a huge file is a mistake */

struct store; /* opaque: immutable once opened */

struct store_blob {
    const unsigned char *data; /* owned by the store; NULL when absent */
    size_t len;
};

struct store_flag {
    struct store_blob gif;  /* the image */
    struct store_blob meta; /* {"country": NAME, "iso_cc": "CC"}, or the root's own file */
};

/* Called once per file that is skipped (outside the root, not a regular file, too big,
 * unreadable, metadata that is not JSON) with a one-line message; the code is then
 * served as if the file were absent. */
typedef void store_warn_fn(void *arg, const char *msg);

struct store_options {
    const char *root;     /* the book's layout ROOT/cc/cc.gif or flat ROOT/cc.gif */
    const char *iso_path; /* iso-codes' iso_3166-1.json; NULL: no metadata at all */
    store_warn_fn *warn;  /* may be NULL */
    void *warn_arg;
};

/* Read every flag of o->root. For each code aa..zz: ROOT/cc/cc.gif (the book's layout,
 * with ROOT/cc/metadata.json when present), else ROOT/cc.gif (flat). A file whose real
 * path (symlinks resolved) is not inside the root's real path is refused. Without a
 * metadata.json, the metadata is built from the iso-codes name ("name"), or the upper-case
 * code itself when iso-codes has no entry. Returns 0 and *out (free with store_close),
 * or -1 with a one-line message in err: root unreadable, no flag in it, iso file bad. */
int store_open(struct store **out, const struct store_options *o, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The flag of code cc (two lowercase letters), or NULL when the root has no such gif. */
const struct store_flag *store_get(const struct store *s, const char *cc);

/* How many codes have a gif. */
size_t store_count(const struct store *s);

/* Free everything, including the blobs: no response may still reference them. NULL is ok. */
void store_close(struct store *s);

/* The index 0..STORE_CODES-1 of cc (two lowercase letters), or -1. */
int store_index(const char *cc);

#endif
