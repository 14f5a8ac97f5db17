/* concbench — the harness: `run` times and validates every driver, `compare` gates a run
 * against a baseline, `table` prints a results file again, `history` follows configurations
 * over many runs, `export` writes the speedup series for github-action-benchmark. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "export.h"
#include "history.h"
#include "results.h"
#include "run.h"
#include "table.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: concbench run [OPTIONS] [-- DRIVER OPTIONS]   time, validate, tabulate, write results\n"
        "       concbench compare BASE.csv NEW.csv [--threshold PCT]\n"
        "       concbench table RESULTS.csv [--markdown]     print a results file's tables\n"
        "       concbench history RESULTS.csv... [--base FILE] [--plot OUT] [--markdown]\n"
        "                                      each configuration over runs: median, speedup, noise\n"
        "       concbench export RESULTS.csv [-o FILE]  speedups as github-action-benchmark JSON\n"
        "       concbench COMMAND --help\n");
}

/* `concbench table FILE [--markdown]`. */
static int table_main(int argc, char **argv)
{
    const char *path = NULL;
    int markdown = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--markdown") == 0) {
            markdown = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: concbench table RESULTS.csv [--markdown]\n");
            return 0;
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            fprintf(stderr, "concbench: table: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "concbench: table: needs RESULTS.csv\n");
        return 2;
    }
    struct results_file f;
    char err[512];
    if (results_read(path, &f, err, sizeof err) != 0) {
        fprintf(stderr, "concbench: table: %s: %s\n", path, err);
        return 2;
    }
    table_print_results(stdout, f.rows, f.n_rows, markdown);
    results_file_free(&f);
    return 0;
}

/* The command's status, or 1 when what it wrote to stdout did not all get out (a full
 * disk, /dev/full): tables and results that were not written are not a success. */
static int finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "concbench: cannot write to stdout: %s\n", strerror(errno));
        return status ? status : 1;
    }
    return status;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return run_main(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0)
        return compare_main(argc - 1, argv + 1);
    if (strcmp(cmd, "table") == 0)
        return table_main(argc - 1, argv + 1);
    if (strcmp(cmd, "history") == 0)
        return history_main(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return export_main(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "concbench: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    return finish(dispatch(argc, argv));
}
