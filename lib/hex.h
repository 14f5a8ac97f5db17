/* hex — lower-case hex of binary digests; shared by the workloads and the report so that
 * neither needs the other. */
#ifndef CONCBENCH_HEX_H
#define CONCBENCH_HEX_H

#include <stddef.h>

/* Write the 2 * n lower-case hex digits of bytes[0..n) and a NUL into out, which must
 * hold 2 * n + 1 bytes. Any thread. */
void hex_encode(const unsigned char *bytes, size_t n, char *out);

#endif
