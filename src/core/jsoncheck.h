/* jsoncheck.h: a strict check that bytes are one JSON object (RFC 8259), for text a worker
 * produced and the parent splices into its output (flow records): a worker is not trusted, so
 * what reaches a report must be JSON whatever it sent. */
#ifndef AB_JSONCHECK_H
#define AB_JSONCHECK_H

#include <stddef.h>

#define AB_JSONCHECK_MAX_DEPTH 16

/* 1 when s[0..n) is exactly one JSON object (whitespace around allowed), nested at most
 * AB_JSONCHECK_MAX_DEPTH deep, with strings of valid UTF-8 and no control characters; else 0.
 * O(n), no allocation. */
int ab_json_check_object(const char *s, size_t n);

#endif
