/* csvio — RFC 4180 CSV through libcsv: read a whole file into rows of strings, with the
 * line and column of the first error; write one field, quoted only where it must be.
 * (Not "csv.h": that name belongs to libcsv's own header.) */
#ifndef CONCBENCH_CSVIO_H
#define CONCBENCH_CSVIO_H

#include <stddef.h>
#include <stdio.h>

/* One record: its fields (NUL-terminated, owned) and the physical line it starts on. */
struct csvio_row {
    char **fields;
    size_t n_fields;
    size_t line; /* 1-based */
};

/* A parsed file; rows[0] is the header when the file has one. */
struct csvio_table {
    struct csvio_row *rows;
    size_t n_rows;
};

/* Parse len bytes of RFC 4180 CSV (LF or CRLF, "" inside quoted fields, quoted line
 * breaks; spaces are data, never trimmed; blank lines are skipped). Returns 0, or -1
 * with "line L, column C: what" in err, C being the 1-based field of that record (the
 * table is then empty). The caller frees t with csvio_free either way. */
int csvio_parse(const char *data, size_t len, struct csvio_table *t, char *err, size_t errlen);

/* csvio_parse on a whole file; a file that cannot be read is "cannot read: strerror". */
int csvio_read_file(const char *path, struct csvio_table *t, char *err, size_t errlen);

void csvio_free(struct csvio_table *t);

/* Write one field: as is when it holds no comma, quote, CR, LF or edge space, otherwise
 * quoted with inner quotes doubled (libcsv's writer). NULL is written as empty.
 * Returns 0 or -1 on a write error. */
int csvio_write_field(FILE *f, const char *s);

/* Write n fields and a line feed; a record of one empty field is written "" so that it
 * is not read back as a blank line. 0 or -1. */
int csvio_write_row(FILE *f, const char *const *fields, size_t n);

#endif
