/* flags — the flags workload: one download as a blocking call or as prepare/finish steps
 * around an event loop, so URL building, classification and saving exist once. */
#include "flags.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "countries.h"
#include "buf.h"
#include "files.h"
#include "options.h"
#include "sha.h"
#include "stop.h"
#include "workload.h"

#define FLAGS_BODY_INITIAL \
    1024 /* no Content-Length: most flags are under 1 KiB, metadata far less */
/* An event loop's receive buffer per handle (CURLOPT_BUFFERSIZE): 8 MiB shared by all
 * transfers at once, within curl's default 16 KiB and its minimum 1 KiB. A flag is at most
 * 385 bytes; at 10,000 at once, 1 KiB instead of 16 saves ~30 MB of RSS. */
#define FLAGS_RECV_BUDGET_BYTES (8L * 1024 * 1024)
#define FLAGS_RECV_BUFFER_MIN 1024L
#define FLAGS_RECV_BUFFER_MAX (16L * 1024)
/* The book's metadata.json is one object of strings: depth 1. jansson's parser recurses
 * once per level (up to its built-in 2048), and about 1,000 levels overflow a 64 KiB
 * coroutine stack, so anything deeper than this is refused before jansson sees it. */
#define FLAGS_META_MAX_DEPTH 32
/* A metadata.json above this is parsed in flags_save, which a coroutine strategy runs on
 * its executor: the book's is ~100 bytes, parsed in less time than a hand-off takes. */
#define FLAGS_META_INLINE_MAX_BYTES 4096

/* Set a result's reason; long messages are cut to fit (through vsnprintf on purpose:
 * a cut reason is fine, and -Wformat-truncation cannot see through it). */
__attribute__((format(printf, 2, 3))) static void set_reason(struct job_result *out,
                                                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

void flags_url(char *buf, size_t len, const char *base, const char *cc, enum flags_step step)
{
    /* the book lower-cases the whole path: /flags/br/br.gif */
    char lc[3] = {(char)tolower((unsigned char)cc[0]), (char)tolower((unsigned char)cc[1]), 0};
    if (step == FLAGS_STEP_META)
        snprintf(buf, len, "%s/%s/metadata.json", base, lc);
    else
        snprintf(buf, len, "%s/%s/%s.gif", base, lc, lc);
}

/* curl's write callback: grow the body buffer, refusing to pass max_body_bytes. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct flags_transfer *t = arg;
    size_t n = size * nmemb;
    if (t->body_len + n > t->cfg->max_body_bytes) {
        t->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    /* The first buffer is the announced length: at 10,000 transfers at once, a fixed
     * 16 KiB (one touched page each) cost 40 MB of RSS for 400-byte flags. */
    size_t first = FLAGS_BODY_INITIAL;
    curl_off_t announced = -1;
    if (!t->body_cap &&
        curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK &&
        announced > 0 && (size_t)announced <= t->cfg->max_body_bytes)
        first = (size_t)announced;
    return buf_append(&t->body, &t->body_len, &t->body_cap, data, n, first) == 0 ? n : 0;
}

/* curl's header callback, for the status line, each header and each trailer: count them,
 * so that a server sending lines without end cannot grow what curl holds (max_body_bytes
 * bounds only the body). A limit of 0 (a caller that set none) means the default. */
static size_t on_head(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    struct flags_transfer *t = arg;
    size_t n = size * nmemb;
    if (!t || !t->cfg)
        return n; /* a handle of flags_easy_new used without flags_prepare */
    size_t max = t->cfg->max_head_bytes ? t->cfg->max_head_bytes : FLAGS_DEFAULT_MAX_HEAD;
    t->head_len += n;
    if (t->head_len > max) {
        t->head_too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return n;
}

/* curl's socket opener, as its default (socket(2)) but keeping the errno: out of file
 * descriptors, curl says only "Couldn't connect" and CURLINFO_OS_ERRNO stays 0, which read
 * as "connection refused" with the server up. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)purpose;
    struct flags_transfer *t = arg;
    int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd < 0) {
        if (t) /* NULL: a handle used without flags_prepare */
            t->socket_errno = errno;
        return CURL_SOCKET_BAD;
    }
    return fd;
}

/* curl's progress callback: a SIGINT/SIGTERM aborts every transfer promptly. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return stop_requested() != 0;
}

CURL *flags_easy_new(void)
{
    CURL *easy = curl_easy_init();
    if (!easy)
        return NULL;
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_head);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "concbench/1");
    return easy;
}

/* Point t->easy at the current step's URL, with an empty body. */
static void start_request(struct flags_transfer *t)
{
    char url[FLAGS_URL_MAX]; /* curl keeps its own copy: no buffer per transfer */
    flags_url(url, sizeof url, t->cfg->base_url, t->cc, t->step);
    t->body_len = 0;
    t->too_big = false;
    t->head_len = 0;
    t->head_too_big = false;
    t->socket_errno = 0;
    curl_easy_setopt(t->easy, CURLOPT_URL, url);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETDATA, t);
}

long flags_timeout_ms(double timeout_s)
{
    /* less a nanosecond of slack: a product a rounding error above a whole number
     * (0.3 s as 300.00000000000006 ms) stays that number */
    double ms = ceil(timeout_s * 1000.0 - 1e-6);
    return ms < 1 ? 1 : (long)ms;
}

void flags_prepare(struct flags_transfer *t, const struct flags_config *cfg, size_t index)
{
    t->cfg = cfg;
    t->index = index;
    memcpy(t->cc, cfg->codes[index % cfg->n_codes], 3);
    t->step = FLAGS_STEP_FLAG;
    t->image_len = 0;
    t->save_name[0] = '\0';
    /* rounded up, never down to 0: libcurl's 0 means "no timeout" */
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, flags_timeout_ms(cfg->timeout_s));
    /* refuse at once when the server announces a body that is too large */
    curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_body_bytes);
    start_request(t);
}

enum job_outcome flags_classify(enum flags_step step, CURLcode rc, long status, long os_errno,
                                size_t max_body_bytes, bool too_big, struct job_result *out)
{
    const char *what = step == FLAGS_STEP_META ? "metadata: " : "";
    out->outcome = JOB_ERROR;
    out->unreachable = 0;
    out->http_status = (int32_t)status;
    out->reason[0] = '\0';
    switch (rc) {
    case CURLE_OK:
        if (status == 200) {
            out->outcome = JOB_OK;
        } else if (status == 404 && step == FLAGS_STEP_FLAG) {
            out->outcome = JOB_NOT_FOUND;
            set_reason(out, "not found");
        } else {
            set_reason(out, "%sHTTP %ld", what, status);
        }
        break;
    case CURLE_OPERATION_TIMEDOUT: set_reason(out, "%stimeout", what); break;
    case CURLE_COULDNT_CONNECT:
        out->unreachable = 1;
        if (os_errno == ECONNREFUSED || os_errno == 0)
            set_reason(out, "%sconnection refused", what);
        else
            set_reason(out, "%scannot connect: %s", what, strerror((int)os_errno));
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        out->unreachable = 1;
        set_reason(out, "%scannot resolve host", what);
        break;
    case CURLE_PARTIAL_FILE: set_reason(out, "%sshort body", what); break;
    case CURLE_RECV_ERROR:
        set_reason(out, "%s%s", what,
                   os_errno == ECONNRESET ? "connection reset" : "receive error");
        break;
    case CURLE_GOT_NOTHING: set_reason(out, "%sempty reply", what); break;
    case CURLE_FILESIZE_EXCEEDED:
        set_reason(out, "%sbody over %zu bytes", what, max_body_bytes);
        break;
    case CURLE_WRITE_ERROR:
        if (too_big)
            set_reason(out, "%sbody over %zu bytes", what, max_body_bytes);
        else
            set_reason(out, "%sout of memory", what);
        break;
    case CURLE_ABORTED_BY_CALLBACK: set_reason(out, "%sinterrupted", what); break;
    default: set_reason(out, "%s%s", what, curl_easy_strerror(rc));
    }
    /* a connection the server accepted and then reset before any byte came back is still
     * a reachable server: only connect-level failures count as unreachable */
    return (enum job_outcome)out->outcome;
}

/* Whether a JSON text nests arrays and objects deeper than max_depth. A byte scan, no
 * recursion: it runs on a coroutine's small stack. Strings (and their escapes) are skipped;
 * a malformed text is left for the parser to refuse. */
static bool json_too_deep(const char *text, size_t len, unsigned max_depth)
{
    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped byte cannot end the string */
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return false;
}

/* The country name in a metadata.json body, as a file name; 0 or -1 when unusable.
 * Runs on a coroutine stack in the coroutine driver: only bounded recursion here. */
static int meta_save_name(struct flags_transfer *t)
{
    json_error_t jerr;
    if (json_too_deep(t->body, t->body_len, FLAGS_META_MAX_DEPTH))
        return -1;
    json_t *root = json_loadb(t->body, t->body_len, 0, &jerr);
    const char *country = json_string_value(json_object_get(root, "country"));
    int rc = -1;
    if (country) {
        flags_safe_name(t->save_name, sizeof t->save_name, country);
        rc = t->save_name[0] == '.' ? -1 : 0; /* ".gif": the name had nothing usable */
    }
    json_decref(root);
    return rc;
}

enum flags_next flags_finish(struct flags_transfer *t, CURLcode rc, struct job_result *out)
{
    memset(out, 0, sizeof *out);
    out->index = (uint32_t)t->index;
    long status = 0, os_errno = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno);
    out->bytes = t->image_len + t->body_len;
    if (flags_classify(t->step, rc, status, os_errno, t->cfg->max_body_bytes, t->too_big, out) !=
        JOB_OK) {
        if (rc == CURLE_WRITE_ERROR && t->head_too_big)
            set_reason(out, "%sresponse head too large",
                       t->step == FLAGS_STEP_META ? "metadata: " : "");
        if (rc == CURLE_COULDNT_CONNECT && t->socket_errno) {
            /* our side ran out (EMFILE, ENFILE, ENOBUFS): not an unreachable server */
            out->unreachable = 0;
            out->local_failure = 1;
            set_reason(out, "%scannot open a socket: %s",
                       t->step == FLAGS_STEP_META ? "metadata: " : "", strerror(t->socket_errno));
        }
        return FLAGS_DONE;
    }

    if (t->step == FLAGS_STEP_FLAG && t->cfg->meta) {
        /* keep the image while the same handle fetches metadata.json (keep-alive) */
        char *p = t->image;
        size_t cap = t->image_cap;
        t->image = t->body, t->image_cap = t->body_cap, t->image_len = t->body_len;
        t->body = p, t->body_cap = cap;
        t->step = FLAGS_STEP_META;
        start_request(t);
        return FLAGS_AGAIN;
    }
    t->meta_pending = false;
    if (t->step == FLAGS_STEP_META) {
        t->meta_pending = t->body_len > FLAGS_META_INLINE_MAX_BYTES;
        if (!t->meta_pending && meta_save_name(t) != 0) {
            out->outcome = JOB_ERROR;
            set_reason(out, "metadata: no usable country name");
            return FLAGS_DONE;
        }
    } else {
        snprintf(t->save_name, sizeof t->save_name, "%s.gif", t->cc);
    }
    /* The body's SHA-256 travels with the result, so that a run's content can be checked
     * (report's content_digest) even when nothing is saved. */
    const char *data = t->step == FLAGS_STEP_META ? t->image : t->body;
    size_t len = t->step == FLAGS_STEP_META ? t->image_len : t->body_len;
    if (sha_digest(data ? data : "", len, out->digest) != 0) {
        out->outcome = JOB_ERROR;
        out->local_failure = 1;
        set_reason(out, "cannot hash the body (OpenSSL)");
        return FLAGS_DONE;
    }
    /* with --repeat, only the first round saves: one file per code */
    t->save_pending = t->cfg->out_dir && t->index < t->cfg->n_codes;
    return t->save_pending || t->meta_pending ? FLAGS_SAVE : FLAGS_DONE;
}

void flags_save(struct flags_transfer *t, struct job_result *out)
{
    const char *data = t->step == FLAGS_STEP_META ? t->image : t->body;
    size_t len = t->step == FLAGS_STEP_META ? t->image_len : t->body_len;
    int rc;
    if (t->meta_pending) {
        t->meta_pending = false;
        if (meta_save_name(t) != 0) {
            out->outcome = JOB_ERROR;
            memset(out->digest, 0, sizeof out->digest); /* as flags_finish's own refusal */
            set_reason(out, "metadata: no usable country name");
            return;
        }
    }
    if (!t->save_pending)
        return;
    t->save_pending = false;
    if (t->step == FLAGS_STEP_META) {
        /* Two codes may share a country name: the second keeps its own file, as
         * "Name (CC).gif", instead of silently replacing the first's. */
        rc = files_write_new(t->cfg->out_dir, t->save_name, data, len, out->reason,
                             sizeof out->reason);
        if (rc == 1) {
            static const char ext[] = " (XX).gif";
            size_t stem = strlen(t->save_name) - strlen(".gif");
            size_t room = sizeof t->save_name - sizeof ext;
            if (stem > room) {
                stem = room;
                while (stem > 0 && ((unsigned char)t->save_name[stem] & 0xC0) == 0x80)
                    stem--; /* not inside a UTF-8 character */
            }
            memcpy(t->save_name + stem, ext, sizeof ext);
            memcpy(t->save_name + stem + 2, t->cc, 2);
            out->renamed = 1;
            rc = files_write_atomic(t->cfg->out_dir, t->save_name, data, len, out->reason,
                                    sizeof out->reason);
        }
    } else {
        rc = files_write_atomic(t->cfg->out_dir, t->save_name, data, len, out->reason,
                                sizeof out->reason);
    }
    if (rc != 0) {
        out->outcome = JOB_ERROR;
        out->local_failure = 1;
    }
}

void flags_download(struct flags_transfer *t, const struct flags_config *cfg, size_t index,
                    struct job_result *out)
{
    flags_prepare(t, cfg, index);
    for (;;) {
        CURLcode rc = curl_easy_perform(t->easy);
        enum flags_next next = flags_finish(t, rc, out);
        if (next == FLAGS_AGAIN)
            continue;
        if (next == FLAGS_SAVE)
            flags_save(t, out);
        return;
    }
}

void flags_transfer_release(struct flags_transfer *t)
{
    free(t->body);
    free(t->image);
    t->body = t->image = NULL;
    t->body_cap = t->body_len = t->image_cap = t->image_len = 0;
}

void flags_safe_name(char *buf, size_t len, const char *country)
{
    static const char ext[] = ".gif";
    size_t room = len - sizeof ext, k = 0;
    const unsigned char *p;
    for (p = (const unsigned char *)country; *p && k < room; p++) {
        unsigned char c = *p;
        if (c < 0x20 || c == 0x7f)
            continue; /* control bytes never reach the file system */
        if (c == ' ' || c == '/' || c == '\\')
            c = '_';
        if (k == 0 && c == '.')
            c = '_'; /* no hidden files, no "." or ".." */
        buf[k++] = (char)c;
    }
    if ((*p & 0xC0) == 0x80) {
        /* cut inside a UTF-8 character: drop its first bytes too, lead byte included */
        while (k > 0 && ((unsigned char)buf[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0 && (unsigned char)buf[k - 1] >= 0xC0)
            k--;
    }
    memcpy(buf + k, ext, sizeof ext);
}

/* One transfer (and its easy handle) per worker, reused for every job: keep-alive. */
static int flags_worker_init(const struct workload *w, void **state, char *err, size_t errlen)
{
    (void)w;
    struct flags_transfer *t = calloc(1, sizeof *t);
    if (!t || !(t->easy = flags_easy_new())) {
        free(t);
        snprintf(err, errlen, "cannot create a curl handle");
        return -ENOMEM;
    }
    *state = t;
    return 0;
}

static void flags_job_run(const struct workload *w, void *state, size_t index,
                          struct job_result *out)
{
    flags_download(state, w->ctx, index, out);
}

static void flags_worker_fini(const struct workload *w, void *state)
{
    (void)w;
    struct flags_transfer *t = state;
    flags_transfer_release(t);
    curl_easy_cleanup(t->easy);
    free(t);
}

/* --- the download as steps for an event loop (struct workload_steps) ------------------ */

/* One transfer per job in flight, its receive buffer sized to share a budget. */
static void *flags_step_new(const struct workload *w, unsigned in_flight)
{
    (void)w;
    struct flags_transfer *t = calloc(1, sizeof *t);
    if (!t || !(t->easy = flags_easy_new())) {
        free(t);
        return NULL;
    }
    long buffer = FLAGS_RECV_BUDGET_BYTES / (long)(in_flight ? in_flight : 1);
    if (buffer < FLAGS_RECV_BUFFER_MIN)
        buffer = FLAGS_RECV_BUFFER_MIN;
    if (buffer > FLAGS_RECV_BUFFER_MAX)
        buffer = FLAGS_RECV_BUFFER_MAX;
    curl_easy_setopt(t->easy, CURLOPT_BUFFERSIZE, buffer);
    return t;
}

static void *flags_step_start(const struct workload *w, void *st, size_t index)
{
    struct flags_transfer *t = st;
    flags_prepare(t, w->ctx, index);
    return t->easy;
}

static enum job_next flags_step_finish(const struct workload *w, void *st, int rc,
                                       struct job_result *out)
{
    (void)w;
    switch (flags_finish(st, (CURLcode)rc, out)) {
    case FLAGS_AGAIN: return JOB_NEXT_AGAIN; /* --meta: metadata.json, same handle */
    case FLAGS_SAVE: return JOB_NEXT_BLOCKING;
    default: return JOB_NEXT_DONE;
    }
}

static void flags_step_blocking(const struct workload *w, void *st, struct job_result *out)
{
    (void)w;
    flags_save(st, out);
}

static const struct workload_steps flags_steps = {
    .state_new = flags_step_new,
    .state_free = flags_worker_fini,
    .start = flags_step_start,
    .finish = flags_step_finish,
    .blocking = flags_step_blocking,
};

void flags_workload(struct workload *w, const struct flags_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->name = "flags";
    w->n_jobs = cfg->n_jobs;
    /* each request is bounded by -t; with --meta a job makes two */
    w->job_timeout_ms = (unsigned)flags_timeout_ms(cfg->timeout_s) * (cfg->meta ? 2 : 1);
    w->ctx = (void *)cfg;
    w->worker_init = flags_worker_init;
    w->job_run = flags_job_run;
    w->worker_fini = flags_worker_fini;
    w->steps = &flags_steps;
    w->may_block = cfg->out_dir || cfg->meta; /* files to save, metadata that may be large */
}

/* --- the workload's registration (workload.h) ---------------------------------------- */

static const struct option flags_longopts[] = {
    {"all", no_argument, NULL, 'a'},
    {"every", no_argument, NULL, 'e'},
    {"limit", required_argument, NULL, 'l'},
    {"max-req", required_argument, NULL, 'm'},
    {"server", required_argument, NULL, 's'},
    {"output", required_argument, NULL, 'o'},
    {"timeout", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"json", no_argument, NULL, OPT_JSON},
    {"meta", no_argument, NULL, OPT_META},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"no-save", no_argument, NULL, OPT_NO_SAVE},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-head", required_argument, NULL, OPT_MAX_HEAD},
    {"executor", required_argument, NULL, OPT_EXECUTOR},
    {"save-on-loop", no_argument, NULL, OPT_SAVE_ON_LOOP},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One run: the configuration the jobs read, and what setup made to undo. */
struct flags_run {
    struct flags_config cfg;  /* first: the label's ctx is the run */
    const char *out_dir;      /* -o as given; NULL with --no-save */
    unsigned out_dir_created; /* components of -o this run made, to undo on failure */
};

static int flags_setup(struct workload_plan *plan, const struct cli_options *o, char *err,
                       size_t errlen)
{
    struct flags_run *fr = calloc(1, sizeof *fr);
    if (!fr) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct flags_config *cfg = &fr->cfg;
    struct countries_query q = {.all = o->all,
                                .every = o->every,
                                .args = o->codes,
                                .n_args = o->n_codes,
                                .limit = o->limit};
    long n = countries_select(&q, &cfg->codes, err, errlen);
    if (n < 0) {
        free(fr);
        return -EINVAL;
    }
    cfg->n_codes = (size_t)n;
    cfg->n_jobs = cfg->n_codes * o->repeat;
    snprintf(cfg->base_url, sizeof cfg->base_url, "%s", o->base_url);
    cfg->timeout_s = o->timeout_s;
    cfg->meta = o->meta;
    cfg->max_body_bytes = o->max_body;
    cfg->max_head_bytes = o->max_head;
    if (!o->no_save) {
        int rc = files_prepare_dir(o->out_dir, &fr->out_dir_created, err, errlen);
        if (rc != 0) {
            free(cfg->codes);
            free(fr);
            return rc == -EINVAL ? -EIO : rc; /* -EINVAL means bad usage to the caller */
        }
        cfg->out_dir = fr->out_dir = o->out_dir;
    }
    flags_workload(&plan->jobs, cfg);
    plan->ctx = fr;
    plan->target = cfg->base_url;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot initialise libcurl");
        free(cfg->codes);
        free(fr);
        return -EIO;
    }
    return 0;
}

static void flags_teardown(struct workload_plan *plan, bool undo)
{
    struct flags_run *fr = plan->ctx;
    /* leave nothing behind, parents included (-o a/b/c); a directory that holds something
     * is kept */
    if (undo && fr->out_dir)
        files_remove_created(fr->out_dir, fr->out_dir_created);
    free(fr->cfg.codes);
    free(fr);
    plan->ctx = NULL;
    curl_global_cleanup();
}

static void flags_label(const void *ctx, size_t index, char *buf, size_t len)
{
    const struct flags_config *cfg = ctx;
    snprintf(buf, len, "%s", cfg->codes[index % cfg->n_codes]);
}

static void flags_summary(FILE *f, const struct workload_tally *t, const void *ctx)
{
    (void)ctx;
    fprintf(f, "%zu downloaded. %zu not found. %zu error%s.\n", t->ok, t->not_found, t->errors,
            t->errors == 1 ? "" : "s");
}

static int flags_json(json_t *record, const struct workload_tally *t, const void *ctx)
{
    (void)t;
    const struct flags_config *cfg = ctx;
    return json_object_set_new(record, "server", json_string(cfg->base_url)) == 0 ? 0 : -ENOMEM;
}

/* -v: the opening lines of the book's flags2 scripts (flags2_common.initial_report). */
static void flags_opening(FILE *f, const void *ctx, const struct cli_options *o,
                          unsigned concurrency)
{
    static const char *const labels[] = {"LOCAL", "DELAY", "ERROR"};
    const struct flags_config *cfg = ctx;
    const char *label = "SERVER"; /* a URL: the harness's profile name for --server */
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcasecmp(o->server, labels[i]) == 0)
            label = labels[i];
    fprintf(f, "%s site: %s\n", label, cfg->base_url);
    fprintf(f, "Searching for %zu flag%s: ", cfg->n_codes, cfg->n_codes == 1 ? "" : "s");
    if (cfg->n_codes <= 10) /* the book lists up to ten codes, else the first and last */
        for (size_t i = 0; i < cfg->n_codes; i++)
            fprintf(f, "%s%s", i ? ", " : "", cfg->codes[i]);
    else
        fprintf(f, "from %s to %s", cfg->codes[0], cfg->codes[cfg->n_codes - 1]);
    fprintf(f, "\n%u concurrent connection%s will be used.\n", concurrency,
            concurrency == 1 ? "" : "s");
}

const struct workload_def flags_workload_def = {
    .name = "flags",
    .longopts = flags_longopts,
    .optstring = ":ael:m:s:o:t:vh", /* options may follow the codes, as argparse allows */
    .positional = true,
    .synopsis = "[options] [CC ...]",
    .sizing = WORKLOAD_BY_CONCURRENCY,
    .setup = flags_setup,
    .teardown = flags_teardown,
    .label = flags_label,
    .summary = flags_summary,
    .json = flags_json,
    .opening = flags_opening,
    .sweep_option = 'm',
    .needs_server = true,
    .items_word = "codes",
    .delay_limit = "L·⌈N/C⌉",
};
