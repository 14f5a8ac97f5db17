/* buf — a growable byte buffer's append, shared by the bodies of flags and crawl. */
#ifndef CONCBENCH_BUF_H
#define CONCBENCH_BUF_H

#include <stddef.h>

/* Append n bytes of src to *data (*len used of *cap), growing it by doubling from first_cap
 * (when the buffer is still empty) as needed. The caller bounds the total. 0, or -ENOMEM
 * with the buffer unchanged. Any thread, on a buffer it owns. */
__attribute__((warn_unused_result)) int buf_append(char **data, size_t *len, size_t *cap,
                                                   const char *src, size_t n, size_t first_cap);

#endif
