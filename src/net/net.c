/* net.c: what the network stages share (net.h). */
#include "net/net.h"

#include <stdlib.h>

void ab_net_limits_default(ab_net_limits *l)
{
    l->max_body = (size_t)1 << 20;
    l->max_line = (size_t)16 << 10;
    l->max_headers = 256;
    l->max_tx = 10000;
    l->max_cert_size = (size_t)64 << 10;
    l->mem = NULL;
}

void ab_net_limits_set(ab_net_limits *to, const ab_net_limits *lim)
{
    if (lim)
        *to = *lim;
    else
        ab_net_limits_default(to);
}

int ab_net_mem_room(const ab_net_mem *m, size_t from, size_t to)
{
    if (!m || !m->cap || to <= from)
        return 1;
    return m->used <= m->cap && to - from <= m->cap - m->used;
}

int ab_net_mem_grow(ab_net_mem *m, uint8_t **p, size_t *alloc, size_t want)
{
    if (!ab_net_mem_room(m, *alloc, want)) {
        m->cuts++;
        return 1;
    }
    uint8_t *np = realloc(*p, want);
    if (!np)
        return -1;
    ab_net_mem_count(m, *alloc, want);
    *p = np;
    *alloc = want;
    return 0;
}

void ab_net_mem_count(ab_net_mem *m, size_t from, size_t to)
{
    if (!m)
        return;
    if (to >= from)
        m->used += to - from;
    else
        m->used -= from - to < m->used ? from - to : m->used;
}

void ab_net_observe(const ab_net_out *out, const ab_flow_ref *f, int dir, const char *type,
                    const char *where, const char *v, size_t n)
{
    if (n && out->observable)
        out->observable(out->ctx, f, dir, type, where, v, n);
}

void ab_net_say(const ab_net_out *out, const ab_flow_ref *f, const char *msg)
{
    if (out->error)
        out->error(out->ctx, f, msg);
}

int ab_net_is_hostname(const char *s, size_t n)
{
    if (n && s[n - 1] == '.')
        n--;
    if (n == 0 || n > 253)
        return 0;
    size_t label = 0, dots = 0;
    int alpha = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.') {
            if (!label)
                return 0;
            label = 0;
            dots++;
            continue;
        }
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return 0;
        if (!(ch >= '0' && ch <= '9'))
            alpha = 1;
        if (++label > 63)
            return 0;
    }
    return label && dots && alpha;
}
