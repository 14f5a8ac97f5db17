/* results — the results CSV: its documented schema (docs/results-schema.md), writing one
 * row per configuration, and reading a file back with its types checked. */
#ifndef CONCBENCH_RESULTS_H
#define CONCBENCH_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define RESULTS_SCHEMA_VERSION "1"
#define RESULTS_FIRST_OPTIONAL RC_NOISE /* columns from here on may be absent when read */

/* The columns, in file order. Adding a column at the end is compatible; renaming,
 * removing or reordering one bumps RESULTS_SCHEMA_VERSION. */
enum results_col {
    RC_SCHEMA, /* schema version */
    RC_RUN_ID, /* <UTC stamp>-<host>: the same on every row of a run */
    RC_DATE,   /* UTC, ISO 8601 */
    RC_HOST,
    RC_CPU_MODEL,
    RC_CORES,
    RC_KERNEL,
    RC_COMPILER,
    RC_LIBCURL,
    RC_OPENSSL,
    RC_GIT_COMMIT,
    RC_WORKLOAD, /* flags | sha | crawl */
    RC_PROFILE,  /* LOCAL | DELAY | ERROR | SERVER; empty for sha */
    RC_DRIVER,
    RC_SWEEP_PARAM, /* m | w; empty when not a sweep row */
    RC_SWEEP_VALUE,
    RC_ITEMS,      /* codes, jobs, or URLs a crawl fetched */
    RC_SIZE_BYTES, /* sha: bytes per job */
    RC_DELAY_MS,   /* flags DELAY/ERROR: flagd's delay */
    RC_WORKERS,
    RC_CONCURRENCY,
    RC_RUNS,
    RC_WARMUP,
    RC_MEDIAN_S,
    RC_MIN_S,
    RC_MAX_S,
    RC_MEAN_S,
    RC_STDDEV_S,
    RC_CV_PCT,
    RC_SPEEDUP, /* sequential median / this median, same run */
    RC_LIMIT_S,
    RC_PCT_LIMIT, /* 100 · limit / median */
    RC_WORK_S,    /* the driver's own work-phase clock */
    RC_USER_S,
    RC_SYS_S,
    RC_MAX_RSS_KB,
    RC_CTX_VOLUNTARY,
    RC_CTX_INVOLUNTARY,
    RC_OK,
    RC_NOT_FOUND,
    RC_ERRORS,
    RC_BYTES,
    RC_VERDICT, /* reference | ok | MISMATCH | FAILED */
    RC_REASON,  /* why, when not ok */
    RC_TIMER,   /* hyperfine | builtin */
    RC_RAW,     /* the raw timing record, relative to the CSV's directory */
    RC_COMMAND, /* the timed command line */
    /* Added later, at the end: a file without them still reads (the cells are empty). */
    RC_NOISE,            /* ok | noisy: this row's own spread, outliers or foreign CPU */
    RC_NOISE_REASON,     /* why noisy: "CV 14.2% > 10%; 2 outliers; foreign CPU 31%" */
    RC_FOREIGN_CPU_PCT,  /* CPU used by other processes while this row ran, % of the machine */
    RC_TIMES_S,          /* every timed run, seconds, space-separated (compare's raw data) */
    RC_DOWNLOADS,        /* where flags saved: its file system (tmpfs, ext4, ...); empty: none */
    RC_RUN_NOISE,        /* ok | noisy: the run as a whole (calibration or load drifted) */
    RC_LOAD_START,       /* 1-minute load average when the run started */
    RC_LOAD_END,         /* ... and when it ended */
    RC_CALIB_START_MBPS, /* one core's OpenSSL SHA-256 rate (MB/s) when the run started */
    RC_CALIB_END_MBPS,   /* ... and when it ended */
    RC_CPU_IDLE,         /* shallow: /dev/cpu_dma_latency held at 0 for the run; deep: left alone */
    RC_SITE_PAGES,       /* crawl: the pages of flagd's site (its --site-pages); empty: not known */
    RC_COUNT
};

enum results_type { RT_TEXT, RT_INT, RT_NUM };

struct results_column {
    const char *name;
    enum results_type type;
};

/* The schema, RC_COUNT entries. */
const struct results_column *results_schema(void);

/* The column index of name, or -1. */
int results_find_column(const char *name);

/* One row: a string per column (owned, NULL = empty). */
struct results_row {
    char *v[RC_COUNT];
    size_t line; /* when read: the line of the file it came from */
};

/* Set column c to a copy of s (NULL or "" = empty). 0 or -1 when out of memory. */
int results_set(struct results_row *r, enum results_col c, const char *s);
/* printf-style. */
int results_setf(struct results_row *r, enum results_col c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A number with digits after the point; NaN is written as empty. */
int results_set_num(struct results_row *r, enum results_col c, double x, int digits);

const char *results_get(const struct results_row *r, enum results_col c); /* never NULL */
/* A numeric column as a double; false when empty. */
bool results_num(const struct results_row *r, enum results_col c, double *out);

void results_row_free(struct results_row *r);

int results_write_header(FILE *f);
int results_write_row(FILE *f, const struct results_row *r);

/* A file read back. */
struct results_file {
    struct results_row *rows;
    size_t n_rows;
};

/* Read path: RFC 4180, a header naming every schema column (in any order; extra columns
 * are ignored), every record as wide as the header, integers and numbers well formed.
 * Returns 0, or -1 with "line L, column C (name): what" in err. */
int results_read(const char *path, struct results_file *out, char *err, size_t errlen);
/* The same on bytes in memory. */
int results_parse(const char *data, size_t len, struct results_file *out, char *err, size_t errlen);

void results_file_free(struct results_file *f);

#endif
