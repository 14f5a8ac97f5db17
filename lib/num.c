/* num — whole numbers from the command line, with one sign rule. */
#include "num.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int num_parse_u64(const char *s, unsigned long long lo, unsigned long long hi,
                  unsigned long long *out)
{
    /* strtoull alone would take " 12", "+12" and "-12" (as a huge number): check first. */
    size_t n = strspn(s, "0123456789");
    if (n == 0 || s[n] != '\0')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno == ERANGE || v < lo || v > hi)
        return -ERANGE;
    *out = v;
    return 0;
}
