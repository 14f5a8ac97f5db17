/* server — flagd as a child process of the harness. */
#include "server.h"

#include <curl/curl.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "spawn.h"
#include "text.h"
#include "stop.h"

static const char *const profile_names[SERVER_PROFILES] = {"LOCAL", "DELAY", "ERROR"};

int server_profile_parse(const char *label)
{
    for (int i = 0; i < SERVER_PROFILES; i++)
        if (strcasecmp(label, profile_names[i]) == 0)
            return i;
    return -1;
}

const char *server_profile_name(enum server_profile p)
{
    return profile_names[p];
}

int server_parse_ready(struct server *s, const char *line)
{
    char label[16], url[SERVER_URL_MAX];
    if (sscanf(line, "flagd: %15s %255s", label, url) != 2)
        return -1;
    int p = server_profile_parse(label);
    if (p < 0 || strncmp(url, "http://", 7) != 0)
        return -1;
    snprintf(s->url[p], sizeof s->url[p], "%s", url);
    return p;
}

int server_start(struct server *s, char *const argv[], const char *log_path, char *err,
                 size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->out_fd = -1;
    struct spawn_io io = {.stderr_path = log_path, .stdout_pipe = 1};
    if (spawn_start(argv, &io, &s->pid, &s->out_fd, err, errlen) != 0) {
        s->pid = 0;
        return -1;
    }
    char buf[4096];
    size_t len = 0;
    unsigned seen = 0;
    uint64_t start = clock_now_ns();
    const char *why = NULL;
    while (seen != (1u << SERVER_PROFILES) - 1) {
        if (stop_requested()) {
            why = "interrupted";
            break;
        }
        double left = SERVER_READY_TIMEOUT_S - (double)(clock_now_ns() - start) / 1e9;
        if (left <= 0) {
            why = "timeout";
            break;
        }
        struct pollfd p = {.fd = s->out_fd, .events = POLLIN};
        int k = poll(&p, 1, left > 0.2 ? 200 : (int)(left * 1000) + 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            continue;
        ssize_t n = read(s->out_fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            why = "exited";
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            int p2 = server_parse_ready(s, buf);
            if (p2 >= 0)
                seen |= 1u << p2;
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len + 1);
        }
        if (len == sizeof buf - 1)
            len = 0; /* an endless line: not a ready line, drop it */
    }
    if (!why)
        return 0;
    char tail[300];
    text_last_line(log_path, tail, sizeof tail);
    if (strcmp(why, "timeout") == 0)
        snprintf(err, errlen, "flagd did not announce its listeners within %.0f s%s%s",
                 SERVER_READY_TIMEOUT_S, tail[0] ? ": " : "", tail);
    else if (strcmp(why, "exited") == 0)
        snprintf(err, errlen, "flagd exited before it was ready%s%s", tail[0] ? ": " : "", tail);
    else
        snprintf(err, errlen, "interrupted while flagd was starting");
    server_stop(s);
    return -1;
}

int server_stop(struct server *s)
{
    if (s->pid <= 0)
        return -1;
    int status = spawn_kill(s->pid);
    s->pid = 0;
    if (s->out_fd >= 0)
        close(s->out_fd);
    s->out_fd = -1;
    return status;
}

int server_probe(const char *url, char *err, size_t errlen)
{
    char msg[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)SERVER_PROBE_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)SERVER_PROBE_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, msg);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    if (rc == CURLE_OK)
        return 0;
    snprintf(err, errlen, "%s", msg[0] ? msg : curl_easy_strerror(rc));
    return -1;
}
