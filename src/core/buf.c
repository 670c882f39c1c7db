/* buf.c: growable byte buffer with a hard cap. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ab_buf_init(ab_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap ? cap : AB_BUF_DEFAULT_CAP;
}

void ab_buf_release(ab_buf *b)
{
    free(b->data);
    ab_buf_init(b, b->cap);
}

void ab_buf_reset(ab_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

size_t ab_buf_grown(const ab_buf *b, size_t extra)
{
    if (extra > b->cap || b->len > b->cap - extra)
        return 0;
    size_t need = b->len + extra + 1; /* + NUL; cannot overflow: len + extra <= cap < SIZE_MAX */
    if (need <= b->alloc)
        return b->alloc;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    return n;
}

ab_status ab_buf_reserve(ab_buf *b, size_t extra)
{
    size_t n = ab_buf_grown(b, extra);
    if (!n)
        return AB_ERR_LIMIT;
    if (n == b->alloc)
        return AB_OK;
    char *p = realloc(b->data, n);
    if (!p)
        return AB_ERR_NOMEM;
    b->data = p;
    b->alloc = n;
    return AB_OK;
}

ab_status ab_buf_add(ab_buf *b, const void *p, size_t n)
{
    ab_status st = ab_buf_reserve(b, n);
    if (st != AB_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return AB_OK;
}

ab_status ab_buf_addc(ab_buf *b, char c)
{
    return ab_buf_add(b, &c, 1);
}

ab_status ab_buf_adds(ab_buf *b, const char *s)
{
    return ab_buf_add(b, s, strlen(s));
}

ab_status ab_buf_vprintf(ab_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return AB_ERR_INTERNAL;
    ab_status st = ab_buf_reserve(b, (size_t)n);
    if (st != AB_OK)
        return st;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return AB_OK;
}

ab_status ab_buf_printf(ab_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ab_status st = ab_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

char *ab_buf_detach(ab_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    if (!p)
        p = calloc(1, 1);
    ab_buf_init(b, b->cap);
    return p;
}
