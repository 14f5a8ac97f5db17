/* text — small string helpers the harness modules share. */
#ifndef CONCBENCH_TEXT_H
#define CONCBENCH_TEXT_H

#include <stddef.h>

/* snprintf that says when it cut: 0, or -1 when the result did not fit (buf then holds
 * the truncated text, NUL-terminated). For paths, where a cut one must not be used. */
int text_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The last non-empty line of the file at path into buf (a child's one-line error);
 * "" when there is none or the file cannot be read. */
void text_last_line(const char *path, char *buf, size_t len);

#endif
