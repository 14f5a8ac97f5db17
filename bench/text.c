/* text — bounded formatting and reading a log's last line. */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TEXT_LINE_MAX 512

int text_fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

void text_last_line(const char *path, char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return;
    char line[TEXT_LINE_MAX];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0])
            text_fmt(buf, len, "%s", line);
    }
    fclose(f);
}
