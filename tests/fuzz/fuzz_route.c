/* fuzz_route — libFuzzer target: any request-target through flagd's route and the store
 * lookup it feeds, checking that only a canonical flag path ever names a file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "route.h"
#include "store.h"

/* Codes present in the fuzzer's own root; every other code must find nothing. */
static const char *const root_codes[] = {"br", "cn"};
#define ROOT_CODES (sizeof root_codes / sizeof root_codes[0])
#define GIF_BYTES "GIF89a"

static struct store *store; /* built once, read-only afterwards */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A flat root of tiny gifs in a temporary directory, removed again once the store has
 * read it (the store keeps every file in memory). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/fuzz_route.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char path[sizeof dir + 16];
    for (size_t i = 0; i < ROOT_CODES; i++) {
        snprintf(path, sizeof path, "%s/%s.gif", dir, root_codes[i]);
        FILE *f = fopen(path, "w");
        if (!f || fputs(GIF_BYTES, f) == EOF || fclose(f) != 0)
            abort();
    }
    struct store_options o = {.root = dir};
    char err[256];
    if (store_open(&store, &o, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_route: %s\n", err);
        abort();
    }
    for (size_t i = 0; i < ROOT_CODES; i++) {
        snprintf(path, sizeof path, "%s/%s.gif", dir, root_codes[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

static int in_root(const char *cc)
{
    for (size_t i = 0; i < ROOT_CODES; i++)
        if (strcmp(cc, root_codes[i]) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan sees any read past the end. */
    char *uri = malloc(size ? size : 1);
    if (!uri)
        return 0;
    memcpy(uri, data, size);
    struct route r;
    enum route_kind k = route_parse(uri, size, &r);
    if (k != r.kind)
        abort();
    int status = route_status(k);
    if (status != 200 && status != 400 && status != 404 && status != 414)
        abort();
    if (k == ROUTE_GIF || k == ROUTE_META) {
        /* Accepted: the path is exactly the canonical one of a [a-z]{2} code, plus at
         * most a query string. */
        if (r.cc[0] < 'a' || r.cc[0] > 'z' || r.cc[1] < 'a' || r.cc[1] > 'z' || r.cc[2])
            abort();
        char canon[64];
        int n = k == ROUTE_GIF ? snprintf(canon, sizeof canon, "/flags/%s/%s.gif", r.cc, r.cc)
                               : snprintf(canon, sizeof canon, "/flags/%s/metadata.json", r.cc);
        if (size < (size_t)n || memcmp(uri, canon, (size_t)n) != 0 ||
            (size > (size_t)n && uri[n] != '?') || memchr(uri, '\0', size))
            abort();
        const struct store_flag *f = store_get(store, r.cc);
        if ((f != NULL) != in_root(r.cc))
            abort();
        if (f &&
            (f->gif.len != sizeof GIF_BYTES - 1 || memcmp(f->gif.data, GIF_BYTES, f->gif.len) != 0))
            abort();
    } else if (r.cc[0] != '\0' || (k != ROUTE_STATS && r.reset)) {
        abort(); /* no code leaves a refused or unknown path */
    }
    /* store_get also takes whatever two bytes a caller hands it. */
    if (size >= 2) {
        char cc[3] = {uri[0], uri[1], '\0'};
        const struct store_flag *f = store_get(store, cc);
        if ((f != NULL) != in_root(cc))
            abort();
    }
    free(uri);
    return 0;
}
