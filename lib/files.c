/* files — output directories and atomic writes. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILES_DIR_MODE 0777  /* narrowed by the umask, as mkdir(1) does */
#define FILES_FILE_MODE 0666 /* narrowed by the umask, as a shell's > and touch(1) do */
#define FILES_TMP_TRIES 100  /* random names tried before EEXIST is the answer */
#define FILES_TMP_SUFFIX 6   /* random characters, like mkstemp's XXXXXX */

/* The length of the valid UTF-8 sequence at s, or 0 when s does not start one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] < 0x80                    ? 1
               : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
               : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
               : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                              : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n; /* overlong and surrogate forms pass: the aim is text JSON can carry */
}

/* A message into err, each byte of a path that is not UTF-8 made '?': the message becomes
 * a result's reason, a key of --json's error_reasons, which must be UTF-8 (a non-UTF-8
 * -o gave `"error_reasons": {}` with errors 1). */
__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (unsigned char *p = (unsigned char *)err; *p;) {
        size_t n = utf8_len(p);
        if (n == 0)
            *p++ = '?';
        else
            p += n;
    }
}

/* Drop the last component of path (and the slashes before it); false when none is left. */
static bool drop_last(char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    while (n > 0 && path[n - 1] != '/')
        n--;
    while (n > 1 && path[n - 1] == '/')
        n--;
    path[n] = '\0';
    return n > 0 && strcmp(path, "/") != 0;
}

void files_remove_created(const char *dir, unsigned created)
{
    char path[4096];
    if (!created || snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return;
    /* deepest first; a directory that is not empty (or gone) ends the walk */
    for (unsigned i = 0; i < created; i++)
        if (rmdir(path) != 0 || !drop_last(path))
            return;
}

int files_prepare_dir(const char *dir, unsigned *created, char *err, size_t errlen)
{
    char path[4096];
    *created = 0;
    if (!*dir) { /* the walk below starts after the first byte */
        set_err(err, errlen, "cannot write '': %s", strerror(ENOENT));
        return -ENOENT;
    }
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        set_err(err, errlen, "cannot write %s: %s", dir, strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    /* mkdir -p: each prefix in turn; EEXIST is fine, the final check catches a file. Once
     * one prefix is new, every deeper one normally is, and the count names the trailing
     * components. A `..` breaks that (new/../keep: keep existed), and undoing by count
     * would remove keep: then nothing is counted, and a new directory may stay behind
     * rather than one of the user's be removed. */
    bool tail = true;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        if (p[-1] != '/') { /* not the empty component of a//b or b/ */
            *p = '\0';
            if (mkdir(path, FILES_DIR_MODE) == 0) {
                (*created)++;
            } else if (errno == EEXIST) {
                if (*created)
                    tail = false;
            } else {
                int e = errno;
                set_err(err, errlen, "cannot create %s: %s", path, strerror(e));
                files_remove_created(dir, tail ? *created : 0);
                *created = 0;
                return -e;
            }
            *p = saved;
        }
        if (saved == '\0')
            break;
    }
    if (!tail)
        *created = 0;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.concbench-probe-XXXXXX", dir);
    int fd = mkstemp(probe);
    if (fd < 0) {
        int e = errno;
        set_err(err, errlen, "cannot write %s: %s", dir, strerror(e));
        files_remove_created(dir, *created);
        *created = 0;
        return -e;
    }
    close(fd);
    unlink(probe);
    return 0;
}

/* Create tmp ("PREFIX" + FILES_TMP_SUFFIX random characters, written over its last
 * FILES_TMP_SUFFIX bytes) with O_EXCL and mode 0666, so that the kernel applies the umask.
 * mkstemp creates 0600, and widening that with fchmod needs the umask, whose only reader
 * umask(2) also writes it: with threads saving at once, one thread's umask(0) let another
 * create a world-writable file, and two of them could leave the process umask at 000. */
static int open_tmp(char *tmp)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char *x = tmp + strlen(tmp) - FILES_TMP_SUFFIX;
    for (int tries = 0; tries < FILES_TMP_TRIES; tries++) {
        unsigned char r[FILES_TMP_SUFFIX];
        if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
            for (size_t i = 0; i < sizeof r; i++) /* no entropy yet: names need not be secret */
                r[i] = (unsigned char)(rand() ^ getpid() ^ tries);
        for (int i = 0; i < FILES_TMP_SUFFIX; i++)
            x[i] = chars[r[i] % (sizeof chars - 1)];
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, FILES_FILE_MODE);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Write buf to a new temporary file beside dir/name; its path in tmp. 0 or -errno with
 * the message in err (and no temporary file left). */
static int write_tmp(const char *final, const char *dir, const char *name, const void *buf,
                     size_t len, char *tmp, size_t tmplen, char *err, size_t errlen)
{
    /* the temporary name starts with '.' so a listing of finished files skips it */
    snprintf(tmp, tmplen, "%s/.%s.XXXXXX", dir, name);
    int fd = open_tmp(tmp);
    if (fd < 0) {
        int e = errno;
        set_err(err, errlen, "cannot write %s: %s", final, strerror(e));
        return -e;
    }
    int e = 0;
    const char *p = buf;
    for (size_t left = len; !e && left > 0;) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
        } else {
            p += n;
            left -= (size_t)n;
        }
    }
    if (close(fd) != 0 && !e)
        e = errno;
    if (e) {
        unlink(tmp);
        set_err(err, errlen, "cannot write %s: %s", final, strerror(e));
        return -e;
    }
    return 0;
}

int files_write_atomic(const char *dir, const char *name, const void *buf, size_t len, char *err,
                       size_t errlen)
{
    char final[4200], tmp[4300];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    int rc = write_tmp(final, dir, name, buf, len, tmp, sizeof tmp, err, errlen);
    if (rc != 0)
        return rc;
    if (rename(tmp, final) != 0) {
        int e = errno;
        unlink(tmp);
        set_err(err, errlen, "cannot write %s: %s", final, strerror(e));
        return -e;
    }
    return 0;
}

/* Whether the file at path holds exactly len bytes equal to buf. */
static bool same_content(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    bool same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len;
    char chunk[1024]; /* small: this may run on a coroutine's 64 KiB stack */
    for (size_t off = 0; same && off < len;) {
        ssize_t n = read(fd, chunk, len - off < sizeof chunk ? len - off : sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || memcmp(chunk, (const char *)buf + off, (size_t)n) != 0)
            same = false;
        else
            off += (size_t)n;
    }
    close(fd);
    return same;
}

int files_write_new(const char *dir, const char *name, const void *buf, size_t len, char *err,
                    size_t errlen)
{
    char final[4200], tmp[4300];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    int rc = write_tmp(final, dir, name, buf, len, tmp, sizeof tmp, err, errlen);
    if (rc != 0)
        return rc;
    /* link(2), unlike rename(2), fails when the name exists: of two savers, one wins */
    int e = 0;
    if (link(tmp, final) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno == EEXIST && !same_content(final, buf, len)) {
        unlink(tmp);
        return 1;
    }
    /* the same bytes again, or a file system without hard links: replace as usual */
    if (rename(tmp, final) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        set_err(err, errlen, "cannot write %s: %s", final, strerror(e));
        return -e;
    }
    return 0;
}
