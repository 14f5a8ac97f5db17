/* dirhash — a directory's files by name and SHA-256 (OpenSSL EVP), and their difference. */
#include "dirhash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha.h"
#include "text.h"

#define DIRHASH_CHUNK (64 * 1024)

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct dirhash_entry *)a)->name, ((const struct dirhash_entry *)b)->name);
}

/* SHA-256 of the regular file name in dirfd, as hex. 0, or -errno. */
static int hash_file(int dirfd, const char *name, char hex[65])
{
    /* O_NONBLOCK: a FIFO left behind must not hang the check (open would wait for a writer) */
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        hex[0] = '\0'; /* a directory, a FIFO: listed, never equal to a file */
        return 0;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[JOB_DIGEST_LEN], *buf = malloc(DIRHASH_CHUNK);
    int rc = ctx && buf && EVP_DigestInit_ex(ctx, sha_md(), NULL) == 1 ? 0 : -ENOMEM;
    ssize_t n;
    while (rc == 0 && (n = read(fd, buf, DIRHASH_CHUNK)) != 0) {
        if (n < 0) {
            if (errno != EINTR)
                rc = -errno;
            continue;
        }
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            rc = -EIO;
    }
    if (rc == 0 && EVP_DigestFinal_ex(ctx, md, NULL) != 1)
        rc = -EIO;
    if (rc == 0)
        sha_hex(md, hex);
    EVP_MD_CTX_free(ctx);
    free(buf);
    close(fd);
    return rc;
}

int dirhash_scan(const char *dir, struct dirhash *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        text_fmt(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (out->n == cap) {
            cap = cap ? 2 * cap : 256;
            struct dirhash_entry *v = realloc(out->v, cap * sizeof *v);
            if (!v) {
                text_fmt(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            out->v = v;
        }
        struct dirhash_entry *x = &out->v[out->n];
        text_fmt(x->name, sizeof x->name, "%s", e->d_name);
        int h = hash_file(dirfd(d), e->d_name, x->hex);
        if (h != 0) {
            text_fmt(err, errlen, "cannot read %s/%s: %s", dir, e->d_name, strerror(-h));
            rc = -1;
            break;
        }
        out->n++;
    }
    closedir(d);
    if (rc != 0) {
        dirhash_free(out);
        return -1;
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_entry);
    return 0;
}

int dirhash_diff(const struct dirhash *a, const struct dirhash *b, char *why, size_t len)
{
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].name, b->v[j].name);
        if (c < 0) {
            text_fmt(why, len, "missing %s", a->v[i].name);
            return 1;
        }
        if (c > 0) {
            text_fmt(why, len, "extra %s", b->v[j].name);
            return 1;
        }
        if (strcmp(a->v[i].hex, b->v[j].hex) != 0 || !a->v[i].hex[0]) {
            text_fmt(why, len, "%s differs", b->v[j].name);
            return 1;
        }
        i++, j++;
    }
    why[0] = '\0';
    return 0;
}

void dirhash_free(struct dirhash *h)
{
    free(h->v);
    h->v = NULL;
    h->n = 0;
}
