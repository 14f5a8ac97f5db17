/* buf — growable byte buffers. */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int buf_append(char **data, size_t *len, size_t *cap, const char *src, size_t n, size_t first_cap)
{
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : (first_cap ? first_cap : 1);
        while (c < *len + n)
            c *= 2;
        char *p = realloc(*data, c);
        if (!p)
            return -ENOMEM;
        *data = p;
        *cap = c;
    }
    memcpy(*data + *len, src, n);
    *len += n;
    return 0;
}
