/* export — the speedup series of a results file for github-action-benchmark. */
#include "export.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "text.h"

void export_usage(FILE *f)
{
    fprintf(f,
            "usage: concbench export RESULTS.csv [-o FILE]\n"
            "\n"
            "Writes each validated driver's speedup over sequential as github-action-benchmark's\n"
            "customBiggerIsBetter JSON: [{\"name\": \"flags LOCAL coroutine\", \"unit\": \"x\",\n"
            "\"value\": 3.2, \"extra\": ...}], the same names as the run's .bench.json (times,\n"
            "customSmallerIsBetter). FILE defaults to RESULTS with .csv replaced by .speedup.json\n"
            "(results/latest.csv → results/latest.speedup.json).\n"
            "\n"
            "Exit: 0 written, 1 RESULTS unreadable or FILE unwritable, 2 bad usage.\n");
}

/* Same scheme as run.c's write_bench_json, so that both series line up by name. */
void export_series_name(const struct results_row *r, char *buf, size_t len)
{
    const char *prof = results_get(r, RC_PROFILE), *sw = results_get(r, RC_SWEEP_PARAM);
    snprintf(buf, len, "%s%s%s %s%s%s%s%s", results_get(r, RC_WORKLOAD), *prof ? " " : "", prof,
             results_get(r, RC_DRIVER), *sw ? " " : "", sw, *sw ? "=" : "",
             *sw ? results_get(r, RC_SWEEP_VALUE) : "");
}

long export_speedups(const struct results_file *f, const char *path, char *err, size_t errlen)
{
    json_t *arr = json_array();
    if (!arr) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    long n = 0;
    for (size_t i = 0; i < f->n_rows; i++) {
        const struct results_row *r = &f->rows[i];
        double speedup, median, cv;
        /* sequential is 1× by definition; an unvalidated row has no speedup worth a point */
        if (strcmp(results_get(r, RC_VERDICT), "ok") != 0 || !results_num(r, RC_SPEEDUP, &speedup))
            continue;
        char name[256], extra[256];
        export_series_name(r, name, sizeof name);
        snprintf(extra, sizeof extra, "median %s s; CV %s%%; %s items; %s runs; commit %s",
                 results_num(r, RC_MEDIAN_S, &median) ? results_get(r, RC_MEDIAN_S) : "?",
                 results_num(r, RC_CV_PCT, &cv) ? results_get(r, RC_CV_PCT) : "?",
                 results_get(r, RC_ITEMS), results_get(r, RC_RUNS), results_get(r, RC_GIT_COMMIT));
        if (json_array_append_new(arr, json_pack("{s:s, s:s, s:f, s:s}", "name", name, "unit", "x",
                                                 "value", speedup, "extra", extra)) != 0) {
            json_decref(arr);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        n++;
    }
    /* Atomically (lib/files): CI never picks up half a file. */
    char *json = json_dumps(arr, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(arr);
    if (!json) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (text_fmt(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1,
                 slash ? (slash == path ? "/" : path) : ".") != 0) {
        free(json);
        snprintf(err, errlen, "path too long");
        return -1;
    }
    int rc = files_write_atomic(dir, slash ? slash + 1 : path, json, strlen(json), err, errlen);
    free(json);
    if (rc != 0)
        return -1;
    return n;
}

int export_main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            export_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (!in && argv[i][0] != '-') {
            in = argv[i];
        } else {
            fprintf(stderr, "concbench: export: unexpected argument '%s'\n", argv[i]);
            export_usage(stderr);
            return 2;
        }
    }
    if (!in) {
        fprintf(stderr, "concbench: export: needs RESULTS.csv\n");
        export_usage(stderr);
        return 2;
    }
    char def[4096];
    if (!out) {
        size_t n = strlen(in);
        if (n > 4 && strcmp(in + n - 4, ".csv") == 0)
            n -= 4;
        if (text_fmt(def, sizeof def, "%.*s.speedup.json", (int)n, in) != 0) {
            fprintf(stderr, "concbench: export: %s: path too long\n", in);
            return 1;
        }
        out = def;
    }
    struct results_file f;
    char err[512];
    if (results_read(in, &f, err, sizeof err) != 0) {
        fprintf(stderr, "concbench: export: %s: %s\n", in, err);
        return 1;
    }
    long n = export_speedups(&f, out, err, sizeof err);
    results_file_free(&f);
    if (n < 0) {
        fprintf(stderr, "concbench: export: %s\n", err);
        return 1;
    }
    fprintf(stderr, "concbench: export: wrote %s (%ld speedup%s)\n", out, n, n == 1 ? "" : "s");
    return 0;
}
