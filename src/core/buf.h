/* buf.h: ab_buf, a growable byte buffer with a hard cap (after git's strbuf and Redis's sds). */
#ifndef AB_BUF_H
#define AB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"

/* Invariant: data is NULL or points to alloc bytes, len < alloc, data[len] == '\0' (so the
 * contents can always be used as a C string). len never exceeds cap. The buf owns data. */
typedef struct ab_buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* hard limit on len; appends past it fail with AB_ERR_LIMIT */
} ab_buf;

#define AB_BUF_DEFAULT_CAP ((size_t)64 << 20)

void ab_buf_init(ab_buf *b, size_t cap); /* cap 0: AB_BUF_DEFAULT_CAP */
void ab_buf_release(ab_buf *b);          /* frees data, leaves an empty buf with the same cap */
void ab_buf_reset(ab_buf *b);            /* len = 0, keeps memory */
ab_status ab_buf_reserve(ab_buf *b, size_t extra);
/* The allocation ab_buf_reserve(b, extra) leaves (b->alloc when nothing grows); 0 past the cap. */
size_t ab_buf_grown(const ab_buf *b, size_t extra);
ab_status ab_buf_add(ab_buf *b, const void *p, size_t n);
ab_status ab_buf_addc(ab_buf *b, char c);
ab_status ab_buf_adds(ab_buf *b, const char *s);
ab_status ab_buf_printf(ab_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ab_status ab_buf_vprintf(ab_buf *b, const char *fmt, va_list ap);
/* Hand over the data (NUL-terminated, caller frees) and leave b empty. Never NULL. */
char *ab_buf_detach(ab_buf *b, size_t *len);

#endif
