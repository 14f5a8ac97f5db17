/* test_csv — RFC 4180 reading and writing (csvio on libcsv) and the results schema. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvio.h"
#include "results.h"

#define ERR_LEN 256

static void parse_ok(const char *text, struct csvio_table *t)
{
    char err[ERR_LEN] = "";
    int rc = csvio_parse(text, strlen(text), t, err, sizeof err);
    if (rc != 0)
        fail_msg("parse failed: %s", err);
}

static void parses_quoted_commas_doubled_quotes_and_line_breaks(void **state)
{
    (void)state;
    struct csvio_table t;
    parse_ok("a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n", &t);
    assert_int_equal(t.n_rows, 2);
    assert_int_equal(t.rows[1].n_fields, 3);
    assert_string_equal(t.rows[1].fields[0], "x,y");
    assert_string_equal(t.rows[1].fields[1], "say \"hi\"");
    assert_string_equal(t.rows[1].fields[2], "two\nlines");
    assert_int_equal(t.rows[0].line, 1);
    assert_int_equal(t.rows[1].line, 2);
    csvio_free(&t);
}

static void keeps_spaces_and_empty_fields_and_accepts_crlf(void **state)
{
    (void)state;
    struct csvio_table t;
    parse_ok("h1,h2,h3,h4\r\n a ,,\"\",b \r\n", &t);
    assert_int_equal(t.n_rows, 2);
    assert_int_equal(t.rows[1].n_fields, 4);
    assert_string_equal(t.rows[1].fields[0], " a ");
    assert_string_equal(t.rows[1].fields[1], "");
    assert_string_equal(t.rows[1].fields[2], "");
    assert_string_equal(t.rows[1].fields[3], "b ");
    csvio_free(&t);
}

static void skips_blank_lines_and_counts_physical_lines(void **state)
{
    (void)state;
    struct csvio_table t;
    parse_ok("a\n\n\"1\n2\"\n\nlast", &t);
    assert_int_equal(t.n_rows, 3);
    assert_int_equal(t.rows[1].line, 3);
    assert_int_equal(t.rows[2].line, 6);
    assert_string_equal(t.rows[2].fields[0], "last");
    csvio_free(&t);
}

static void expect_error_n(const char *text, size_t len, const char *want)
{
    struct csvio_table t;
    char err[ERR_LEN] = "";
    assert_int_equal(csvio_parse(text, len, &t, err, sizeof err), -1);
    if (strstr(err, want) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    assert_int_equal(t.n_rows, 0);
    csvio_free(&t);
}

static void expect_error(const char *text, const char *want)
{
    expect_error_n(text, strlen(text), want);
}

static void reports_the_line_and_column_of_malformed_input(void **state)
{
    (void)state;
    expect_error("a,b,c\n1,2\"x,3\n", "line 2, column 2: quote inside an unquoted field");
    expect_error("a,b\n\"x\"y,2\n", "line 2, column 1: unexpected character after a closing quote");
    expect_error("a,b\n1,\"open\nstill open\n", "line 2, column 2: quoted field not closed");
    expect_error_n("a,b\nx,\0y\n", 9, "line 2, column 2: NUL byte");
}

static void round_trips_what_it_writes(void **state)
{
    (void)state;
    const char *fields[] = {"plain", "with,comma", "with \"quote\"", " edge",
                            "",      "new\nline",  "µ × –"};
    enum { N = sizeof fields / sizeof fields[0] };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(csvio_write_row(f, fields, N), 0);
    assert_int_equal(csvio_write_row(f, fields, N), 0);
    fclose(f);
    /* Only what must be quoted is. */
    assert_memory_equal(buf, "plain,\"with,comma\",\"with \"\"quote\"\"\",\" edge\",,", 45);
    struct csvio_table t;
    parse_ok(buf, &t);
    assert_int_equal(t.n_rows, 2);
    for (size_t r = 0; r < 2; r++) {
        assert_int_equal(t.rows[r].n_fields, N);
        for (size_t i = 0; i < N; i++)
            assert_string_equal(t.rows[r].fields[i], fields[i]);
    }
    csvio_free(&t);
    free(buf);
}

/* fuzz_csv's first finding (tests/fuzz/corpus/csv/regress-lone-empty-field): a record of
 * one empty field was written as an empty line, which the reader skips as blank. */
static void a_lone_empty_field_survives_a_round_trip(void **state)
{
    (void)state;
    const char *empty[] = {""};
    const char *null[] = {NULL};
    const char *word[] = {"x"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(csvio_write_row(f, word, 1), 0);
    assert_int_equal(csvio_write_row(f, empty, 1), 0);
    assert_int_equal(csvio_write_row(f, null, 1), 0);
    assert_int_equal(csvio_write_row(f, word, 1), 0);
    fclose(f);
    struct csvio_table t;
    parse_ok(buf, &t);
    assert_int_equal(t.n_rows, 4);
    const char *want[] = {"x", "", "", "x"};
    for (size_t r = 0; r < 4; r++) {
        assert_int_equal(t.rows[r].n_fields, 1);
        assert_string_equal(t.rows[r].fields[0], want[r]);
    }
    csvio_free(&t);
    free(buf);
}

static void schema_names_are_unique_and_typed(void **state)
{
    (void)state;
    const struct results_column *s = results_schema();
    for (int i = 0; i < RC_COUNT; i++) {
        assert_non_null(s[i].name);
        assert_int_equal(results_find_column(s[i].name), i);
    }
    assert_int_equal(results_find_column("median_s"), RC_MEDIAN_S);
    assert_int_equal(s[RC_MEDIAN_S].type, RT_NUM);
    assert_int_equal(s[RC_OK].type, RT_INT);
    assert_int_equal(results_find_column("nope"), -1);
}

/* A header and one row written by results_write_*, as text. */
static char *one_row_file(void)
{
    struct results_row r = {0};
    results_set(&r, RC_SCHEMA, RESULTS_SCHEMA_VERSION);
    results_set(&r, RC_CPU_MODEL, "Vendor CPU, rev \"B\"");
    results_set(&r, RC_WORKLOAD, "flags");
    results_set(&r, RC_PROFILE, "DELAY");
    results_set(&r, RC_DRIVER, "threadpool");
    results_set_num(&r, RC_MEDIAN_S, 0.1234567, 6);
    results_set_num(&r, RC_LIMIT_S, NAN, 6); /* NaN: written empty */
    results_setf(&r, RC_OK, "%d", 193);
    results_set(&r, RC_VERDICT, "ok");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    results_write_header(f);
    results_write_row(f, &r);
    fclose(f);
    results_row_free(&r);
    return buf;
}

static void results_round_trip_through_the_checked_reader(void **state)
{
    (void)state;
    char *text = one_row_file();
    struct results_file rf;
    char err[ERR_LEN] = "";
    if (results_parse(text, strlen(text), &rf, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(rf.n_rows, 1);
    const struct results_row *r = &rf.rows[0];
    assert_string_equal(results_get(r, RC_CPU_MODEL), "Vendor CPU, rev \"B\"");
    assert_string_equal(results_get(r, RC_MEDIAN_S), "0.123457");
    assert_string_equal(results_get(r, RC_LIMIT_S), "");
    double x;
    assert_true(results_num(r, RC_OK, &x));
    assert_true(x == 193);
    assert_false(results_num(r, RC_LIMIT_S, &x));
    assert_int_equal(r->line, 2);
    results_file_free(&rf);
    free(text);
}

static void results_reader_names_line_column_and_field_of_bad_values(void **state)
{
    (void)state;
    char *text = one_row_file();
    char err[ERR_LEN] = "";
    struct results_file rf;

    /* A value that is not a number, in the median_s column. */
    char *bad = strdup(text);
    char *p = strstr(bad, "0.123457");
    memcpy(p, "fast!!!!", 8);
    assert_int_equal(results_parse(bad, strlen(bad), &rf, err, sizeof err), -1);
    char want[64];
    snprintf(want, sizeof want, "line 2, column %d (median_s): not a number", RC_MEDIAN_S + 1);
    if (!strstr(err, want))
        fail_msg("\"%s\" lacks \"%s\"", err, want);
    free(bad);

    /* A header without the schema's columns. */
    assert_int_equal(results_parse("a,b\n1,2\n", 8, &rf, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1"));
    assert_non_null(strstr(err, "header lacks the column 'schema'"));

    /* A record narrower than the header. */
    size_t hl = strcspn(text, "\n") + 1;
    char *narrow = malloc(hl + 8);
    memcpy(narrow, text, hl);
    memcpy(narrow + hl, "1,2,3\n", 7);
    assert_int_equal(results_parse(narrow, strlen(narrow), &rf, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2, column 4: 3 fields where the header has"));
    free(narrow);

    /* Empty input. */
    assert_int_equal(results_parse("", 0, &rf, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1, column 1"));
    free(text);
}

static void reading_a_missing_file_is_an_error_not_a_crash(void **state)
{
    (void)state;
    struct results_file rf;
    char err[ERR_LEN];
    assert_int_equal(results_read("/nonexistent/results.csv", &rf, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read"));
    assert_int_equal(rf.n_rows, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_quoted_commas_doubled_quotes_and_line_breaks),
        cmocka_unit_test(keeps_spaces_and_empty_fields_and_accepts_crlf),
        cmocka_unit_test(skips_blank_lines_and_counts_physical_lines),
        cmocka_unit_test(reports_the_line_and_column_of_malformed_input),
        cmocka_unit_test(round_trips_what_it_writes),
        cmocka_unit_test(a_lone_empty_field_survives_a_round_trip),
        cmocka_unit_test(schema_names_are_unique_and_typed),
        cmocka_unit_test(results_round_trip_through_the_checked_reader),
        cmocka_unit_test(results_reader_names_line_column_and_field_of_bad_values),
        cmocka_unit_test(reading_a_missing_file_is_an_error_not_a_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
