/* store — loading flags and metadata from a root, refusing anything outside it. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ISO_LIST_KEY "3166-1" /* iso_3166-1.json: {"3166-1": [{"alpha_2": .., "name": ..}]} */
#define MSG_MAX 512

struct store {
    struct store_flag flags[STORE_CODES];
    size_t count;             /* codes with a gif */
    char root[PATH_MAX];      /* the root's real path, no trailing '/' unless it is "/" */
    char *names[STORE_CODES]; /* iso-codes names, NULL when unknown */
    const struct store_options *o;
};

enum load_result { LOAD_ABSENT = 0, LOAD_OK = 1, LOAD_REFUSED = -1 };

int store_index(const char *cc)
{
    if (cc[0] < 'a' || cc[0] > 'z' || cc[1] < 'a' || cc[1] > 'z')
        return -1;
    return (cc[0] - 'a') * 26 + (cc[1] - 'a');
}

static void warn(const struct store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const struct store *s, const char *fmt, ...)
{
    if (!s->o->warn)
        return;
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->o->warn(s->o->warn_arg, msg);
}

static bool inside_root(const struct store *s, const char *real)
{
    size_t n = strlen(s->root);
    if (strcmp(s->root, "/") == 0)
        return true;
    return strncmp(real, s->root, n) == 0 && real[n] == '/';
}

/* Read path into *out when its real path lies inside the root and is a regular file of
 * at most STORE_FILE_MAX bytes. ABSENT when nothing is there (or a component is not a
 * directory), REFUSED (with a warning) for anything else that is wrong. */
static enum load_result load_file(const struct store *s, const char *path, struct store_blob *out)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        if (errno == ENOENT || errno == ENOTDIR)
            return LOAD_ABSENT;
        warn(s, "ignoring %s: %s", path, strerror(errno));
        return LOAD_REFUSED;
    }
    if (!inside_root(s, real)) {
        warn(s, "ignoring %s: it resolves to %s, outside the root", path, real);
        return LOAD_REFUSED;
    }
    /* O_NONBLOCK: a FIFO planted in the root must not hang the start. */
    int fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        warn(s, "ignoring %s: %s", path, strerror(errno));
        return LOAD_REFUSED;
    }
    struct stat st;
    unsigned char *buf = NULL;
    const char *why = NULL;
    if (fstat(fd, &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_size > STORE_FILE_MAX)
        why = "larger than 1 MiB";
    else if (!(buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)))
        why = "out of memory";
    size_t len = 0;
    while (!why && len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            why = n < 0 ? strerror(errno) : "file shrank while read";
        else
            len += (size_t)n;
    }
    close(fd);
    if (why) {
        free(buf);
        warn(s, "ignoring %s: %s", path, why);
        return LOAD_REFUSED;
    }
    out->data = buf;
    out->len = len;
    return LOAD_OK;
}

static void blob_free(struct store_blob *b)
{
    free((void *)b->data);
    b->data = NULL;
    b->len = 0;
}

/* Keep the root's metadata.json only when it parses as a JSON object. */
static void check_meta(const struct store *s, const char *path, struct store_blob *meta)
{
    json_error_t e;
    json_t *j = json_loadb((const char *)meta->data, meta->len, 0, &e);
    if (!json_is_object(j)) {
        warn(s, "ignoring %s: not a JSON object", path);
        blob_free(meta);
    }
    json_decref(j);
}

/* {"country": NAME, "iso_cc": "CC"} — the book's fields; jansson's default separators
 * give exactly that spacing. */
static int build_meta(const struct store *s, int i, struct store_blob *meta)
{
    char cc[3] = {(char)('A' + i / 26), (char)('A' + i % 26), '\0'};
    json_t *j = json_pack("{s:s, s:s}", "country", s->names[i] ? s->names[i] : cc, "iso_cc", cc);
    char *text = j ? json_dumps(j, JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!text)
        return -1;
    meta->data = (const unsigned char *)text;
    meta->len = strlen(text);
    return 0;
}

/* The gif of code i, book layout first, then flat; and its metadata. */
static int load_code(struct store *s, int i)
{
    char cc[3] = {(char)('a' + i / 26), (char)('a' + i % 26), '\0'};
    char path[PATH_MAX + 32];
    struct store_flag *f = &s->flags[i];
    snprintf(path, sizeof path, "%s/%s/%s.gif", s->o->root, cc, cc);
    enum load_result r = load_file(s, path, &f->gif);
    if (r == LOAD_OK) {
        snprintf(path, sizeof path, "%s/%s/metadata.json", s->o->root, cc);
        if (s->o->iso_path && load_file(s, path, &f->meta) == LOAD_OK)
            check_meta(s, path, &f->meta);
    } else if (r == LOAD_ABSENT) {
        /* A refused book-layout gif does not fall back: the root said "this one". */
        snprintf(path, sizeof path, "%s/%s.gif", s->o->root, cc);
        r = load_file(s, path, &f->gif);
    }
    if (r != LOAD_OK)
        return 0;
    s->count++;
    if (s->o->iso_path && !f->meta.data)
        return build_meta(s, i, &f->meta);
    return 0;
}

/* Country names by code from iso-codes' JSON. */
static int load_names(struct store *s, char *err, size_t errlen)
{
    json_error_t e;
    json_t *doc = json_load_file(s->o->iso_path, 0, &e);
    json_t *list = json_object_get(doc, ISO_LIST_KEY);
    if (!json_is_array(list)) {
        snprintf(err, errlen, "cannot read country names from %s: %s", s->o->iso_path,
                 doc ? "no \"" ISO_LIST_KEY "\" list" : e.text);
        json_decref(doc);
        return -1;
    }
    size_t k;
    json_t *entry;
    json_array_foreach (list, k, entry) {
        const char *a2 = json_string_value(json_object_get(entry, "alpha_2"));
        const char *name = json_string_value(json_object_get(entry, "name"));
        if (!a2 || !name || strlen(a2) != 2)
            continue;
        char cc[3] = {(char)(a2[0] | 0x20), (char)(a2[1] | 0x20), '\0'};
        int i = store_index(cc);
        if (i >= 0 && !s->names[i])
            s->names[i] = strdup(name);
    }
    json_decref(doc);
    return 0;
}

int store_open(struct store **out, const struct store_options *o, char *err, size_t errlen)
{
    *out = NULL;
    struct store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->o = o;
    struct stat st;
    if (!realpath(o->root, s->root) || stat(s->root, &st) != 0) {
        snprintf(err, errlen, "cannot open root %s: %s", o->root, strerror(errno));
        goto fail;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot open root %s: Not a directory", o->root);
        goto fail;
    }
    if (o->iso_path && load_names(s, err, errlen) != 0)
        goto fail;
    for (int i = 0; i < STORE_CODES; i++) {
        if (load_code(s, i) != 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (s->count == 0) {
        snprintf(err, errlen, "no flags in %s (looked for %s/cc/cc.gif and %s/cc.gif)", o->root,
                 o->root, o->root);
        goto fail;
    }
    s->o = NULL; /* the options need not outlive store_open */
    *out = s;
    return 0;
fail:
    store_close(s);
    return -1;
}

const struct store_flag *store_get(const struct store *s, const char *cc)
{
    int i = store_index(cc);
    if (i < 0 || !s->flags[i].gif.data)
        return NULL;
    return &s->flags[i];
}

size_t store_count(const struct store *s)
{
    return s->count;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < STORE_CODES; i++) {
        blob_free(&s->flags[i].gif);
        blob_free(&s->flags[i].meta);
        free(s->names[i]);
    }
    free(s);
}
