/* env — date, host, CPU, kernel, compiler, library versions and git commit. */
#include "env.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

#define UNKNOWN "unknown"
#define GIT_TIMEOUT_S 10.0 /* a huge or networked tree must not stall a run */

static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, UNKNOWN);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        /* x86: "model name"; arm64 has no model name, only "CPU part" and friends. */
        if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0) {
            char *v = strchr(line, ':');
            if (!v)
                continue;
            v++;
            v += strspn(v, " \t");
            v[strcspn(v, "\r\n")] = '\0';
            snprintf(buf, len, "%s", v);
            break;
        }
    }
    fclose(f);
}

/* Ask git (without a shell) for HEAD's short hash and whether the tree is modified. */
static void git_commit(const char *dir, char *buf, size_t len)
{
    snprintf(buf, len, UNKNOWN);
    if (!dir)
        return;
    char git[4096], out[128], err[256];
    if (!spawn_which("git", git, sizeof git))
        return;
    char *rev[] = {git, "-C", (char *)dir, "rev-parse", "--short=12", "HEAD", NULL};
    int st = spawn_capture(rev, NULL, out, sizeof out, GIT_TIMEOUT_S, err, sizeof err);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !out[0])
        return;
    out[strcspn(out, "\r\n")] = '\0';
    char status[64];
    char *dirty[] = {git, "-C", (char *)dir, "status", "--porcelain", "--untracked-files=no", NULL};
    st = spawn_capture(dirty, NULL, status, sizeof status, GIT_TIMEOUT_S, err, sizeof err);
    snprintf(buf, len, "%.40s%s", out, (st == 0 && status[0]) ? "-dirty" : "");
}

void env_collect(struct env_info *e, const char *src_dir)
{
    memset(e, 0, sizeof *e);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(e->date, sizeof e->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(e->stamp, sizeof e->stamp, "%Y%m%dT%H%M%SZ", &tm);
    if (gethostname(e->host, sizeof e->host) != 0 || !e->host[0])
        snprintf(e->host, sizeof e->host, UNKNOWN);
    e->host[sizeof e->host - 1] = '\0';
    cpu_model(e->cpu_model, sizeof e->cpu_model);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    e->cores = n > 0 ? (unsigned)n : 1;
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(e->kernel, sizeof e->kernel, "%s %s", u.sysname, u.release);
    else
        snprintf(e->kernel, sizeof e->kernel, UNKNOWN);
#if defined(__clang__)
    snprintf(e->compiler, sizeof e->compiler, "clang %d.%d.%d", __clang_major__, __clang_minor__,
             __clang_patchlevel__);
#elif defined(__GNUC__)
    snprintf(e->compiler, sizeof e->compiler, "gcc %d.%d.%d", __GNUC__, __GNUC_MINOR__,
             __GNUC_PATCHLEVEL__);
#else
    snprintf(e->compiler, sizeof e->compiler, UNKNOWN);
#endif
    snprintf(e->libcurl, sizeof e->libcurl, "%s", curl_version_info(CURLVERSION_NOW)->version);
    /* "OpenSSL 3.0.15 3 Sep 2024" → "3.0.15" */
    snprintf(e->openssl, sizeof e->openssl, "%s", OpenSSL_version(OPENSSL_VERSION_STRING));
    git_commit(src_dir, e->git_commit, sizeof e->git_commit);
}
