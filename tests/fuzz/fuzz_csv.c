/* fuzz_csv — libFuzzer target: any bytes through the results CSV reader (csvio on libcsv,
 * then the schema checks of results), and what they parse to back through the writer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "results.h"

#define ERR_LEN 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A one-line error message, always: "line L, column C: what" or a fixed phrase. */
static void check_error(const char *err)
{
    size_t n = strnlen(err, ERR_LEN);
    if (n == 0 || n == ERR_LEN || strchr(err, '\n'))
        abort();
}

/* Write t with csvio and parse it again: the same records, field for field. */
static void csv_round_trip(const struct csvio_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    for (size_t i = 0; i < t->n_rows; i++)
        if (csvio_write_row(f, (const char *const *)t->rows[i].fields, t->rows[i].n_fields))
            abort();
    if (fclose(f) != 0)
        abort();
    struct csvio_table back;
    char err[ERR_LEN] = "";
    if (csvio_parse(buf, len, &back, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_csv: rewritten CSV does not parse: %s\n", err);
        abort();
    }
    if (back.n_rows != t->n_rows)
        abort();
    for (size_t i = 0; i < t->n_rows; i++) {
        if (back.rows[i].n_fields != t->rows[i].n_fields)
            abort();
        for (size_t j = 0; j < t->rows[i].n_fields; j++)
            if (strcmp(back.rows[i].fields[j], t->rows[i].fields[j]) != 0)
                abort();
    }
    csvio_free(&back);
    free(buf);
}

/* Write a results file read back and read it again: the same values, row for row. */
static void results_round_trip(const struct results_file *in)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    if (results_write_header(f) != 0)
        abort();
    for (size_t i = 0; i < in->n_rows; i++)
        if (results_write_row(f, &in->rows[i]) != 0)
            abort();
    if (fclose(f) != 0)
        abort();
    struct results_file back;
    char err[ERR_LEN] = "";
    if (results_parse(buf, len, &back, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_csv: rewritten results do not parse: %s\n", err);
        abort();
    }
    if (back.n_rows != in->n_rows)
        abort();
    for (size_t i = 0; i < in->n_rows; i++)
        for (int c = 0; c < RC_COUNT; c++)
            if (strcmp(results_get(&back.rows[i], c), results_get(&in->rows[i], c)) != 0)
                abort();
    results_file_free(&back);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan sees any read past the end. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    char err[ERR_LEN] = "";

    struct csvio_table t;
    if (csvio_parse(text, size, &t, err, sizeof err) == 0) {
        for (size_t i = 0; i < t.n_rows; i++)
            if (t.rows[i].n_fields == 0 || t.rows[i].line == 0)
                abort();
        csv_round_trip(&t);
    } else {
        check_error(err);
        if (t.n_rows != 0)
            abort();
    }
    csvio_free(&t);

    struct results_file rf;
    err[0] = '\0';
    if (results_parse(text, size, &rf, err, sizeof err) == 0) {
        double x;
        for (size_t i = 0; i < rf.n_rows; i++)
            for (int c = 0; c < RC_COUNT; c++)
                if (results_schema()[c].type != RT_TEXT)
                    (void)results_num(&rf.rows[i], c, &x);
        results_round_trip(&rf);
    } else {
        check_error(err);
        if (rf.n_rows != 0)
            abort();
    }
    results_file_free(&rf);
    free(text);
    return 0;
}
