/* csvio — RFC 4180 reading and writing on top of libcsv. */
#include "csvio.h"

#include <csv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CSVIO_MAX_FILE_BYTES (64u * 1024 * 1024) /* results files are kilobytes; refuse junk */

/* Parser state shared with libcsv's callbacks. */
struct csvio_state {
    struct csvio_table *t;
    struct csvio_row cur; /* the record being built */
    size_t cap_fields;
    size_t cap_rows;
    size_t line;        /* physical line of the byte being fed */
    size_t record_line; /* where cur started */
    bool in_record;
    bool failed; /* out of memory inside a callback */
};

/* libcsv: a field ended. */
static void on_field(void *s, size_t len, void *data)
{
    struct csvio_state *st = data;
    if (st->failed)
        return;
    if (st->cur.n_fields == st->cap_fields) {
        size_t cap = st->cap_fields ? 2 * st->cap_fields : 16;
        char **f = realloc(st->cur.fields, cap * sizeof *f);
        if (!f) {
            st->failed = true;
            return;
        }
        st->cur.fields = f;
        st->cap_fields = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        st->failed = true;
        return;
    }
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    st->cur.fields[st->cur.n_fields++] = copy;
}

/* libcsv: a record ended (c is the terminator, or -1 at the end of the data). */
static void on_record(int c, void *data)
{
    (void)c;
    struct csvio_state *st = data;
    if (st->failed)
        return;
    struct csvio_table *t = st->t;
    if (t->n_rows == st->cap_rows) {
        size_t cap = st->cap_rows ? 2 * st->cap_rows : 32;
        struct csvio_row *r = realloc(t->rows, cap * sizeof *r);
        if (!r) {
            st->failed = true;
            return;
        }
        t->rows = r;
        st->cap_rows = cap;
    }
    st->cur.line = st->record_line;
    t->rows[t->n_rows++] = st->cur;
    memset(&st->cur, 0, sizeof st->cur);
    st->cap_fields = 0;
    st->in_record = false;
}

/* RFC 4180: spaces are part of a field, so nothing counts as trimmable space. */
static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void free_row(struct csvio_row *r)
{
    for (size_t i = 0; i < r->n_fields; i++)
        free(r->fields[i]);
    free(r->fields);
    memset(r, 0, sizeof *r);
}

void csvio_free(struct csvio_table *t)
{
    for (size_t i = 0; i < t->n_rows; i++)
        free_row(&t->rows[i]);
    free(t->rows);
    t->rows = NULL;
    t->n_rows = 0;
}

int csvio_parse(const char *data, size_t len, struct csvio_table *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    csv_set_space_func(&p, no_space);
    struct csvio_state st = {.t = t, .line = 1};
    int rc = 0;

    /* One byte at a time, so that the line and field of an error are exact; results
     * files are small, and libcsv keeps its state between calls. */
    for (size_t i = 0; i < len && !st.failed; i++) {
        unsigned char c = (unsigned char)data[i];
        if (!st.in_record && c != '\n' && c != '\r') {
            st.in_record = true;
            st.record_line = st.line;
        }
        if (c == '\0') {
            snprintf(err, errlen, "line %zu, column %zu: NUL byte (not a text file)", st.line,
                     st.cur.n_fields + 1);
            rc = -1;
            break;
        }
        if (csv_parse(&p, &data[i], 1, on_field, on_record, &st) != 1) {
            snprintf(err, errlen, "line %zu, column %zu: %s", st.line, st.cur.n_fields + 1,
                     c == '"' ? "quote inside an unquoted field"
                              : "unexpected character after a closing quote");
            rc = -1;
            break;
        }
        if (c == '\n')
            st.line++;
    }
    if (rc == 0 && !st.failed && csv_fini(&p, on_field, on_record, &st) != 0) {
        snprintf(err, errlen, "line %zu, column %zu: quoted field not closed before the end",
                 st.record_line, st.cur.n_fields + 1);
        rc = -1;
    }
    if (rc == 0 && st.failed) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    csv_free(&p);
    free_row(&st.cur);
    if (rc != 0)
        csvio_free(t);
    return rc;
}

int csvio_read_file(const char *path, struct csvio_table *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? 2 * cap : 65536;
            if (cap > CSVIO_MAX_FILE_BYTES) {
                snprintf(err, errlen, "larger than %u bytes: not a results file",
                         CSVIO_MAX_FILE_BYTES);
                rc = -1;
                break;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "cannot read: %s", strerror(errno));
                rc = -1;
            }
            break;
        }
    }
    fclose(f);
    if (rc == 0)
        rc = csvio_parse(buf ? buf : "", len, t, err, errlen);
    free(buf);
    return rc;
}

/* True when s must be quoted to survive a round trip. */
static bool needs_quotes(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return false;
    if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
        return true;
    return strpbrk(s, ",\"\r\n") != NULL;
}

int csvio_write_field(FILE *f, const char *s)
{
    if (!s)
        s = "";
    if (!needs_quotes(s))
        return fputs(s, f) == EOF ? -1 : 0;
    return csv_fwrite(f, s, strlen(s)) == 0 ? 0 : -1;
}

int csvio_write_row(FILE *f, const char *const *fields, size_t n)
{
    /* A lone empty field would be a blank line, which every reader skips: the record
     * would vanish (found by fuzz_csv's round trip). Quoted, it stays a record. */
    if (n == 1 && (!fields[0] || !*fields[0]))
        return fputs("\"\"\n", f) == EOF ? -1 : 0;
    for (size_t i = 0; i < n; i++) {
        if (i && fputc(',', f) == EOF)
            return -1;
        if (csvio_write_field(f, fields[i]) != 0)
            return -1;
    }
    return fputc('\n', f) == EOF ? -1 : 0;
}
