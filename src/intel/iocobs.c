/* iocobs.c: the string indexes of the observable IOC types (domain, wildcard domain, url,
 * email), built by ab_iocs_compile and read-only afterwards, so forked workers share them.
 *
 * Each index is an open-addressing table of 64-bit slots, (hash << 32) | (item index + 1), at
 * most half full; the key is the item's value (after "*." for wildcards) in the arena, so a
 * million domains cost 16 MiB of slots and no copies. Of equal values the first loaded wins.
 * Look-ups hash the key once and compare at most a few probes' values: O(key length). */
#include <stdlib.h>
#include <string.h>

#include "intel/ioc_internal.h"

static uint64_t hash_key(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a, then a final mix for the low bits */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

static int key_eq(const char *v, const char *key, size_t len)
{
    return strncmp(v, key, len) == 0 && v[len] == '\0';
}

/* Which items of v a table holds: wildcards ("*.x") or the others. */
static int wanted(const ab_ioc *ioc, int wild)
{
    int w = ioc->value[0] == '*' && ioc->value[1] == '.';
    return w == wild;
}

static ab_status tab_build(ioc_strtab *t, const ioc_vec *v, int wild)
{
    size_t n = 0;
    for (size_t i = 0; i < v->len; i++)
        n += wanted(&v->items[i], wild);
    t->skip = wild ? 2 : 0;
    if (!n)
        return AB_OK;
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    t->slot = calloc(cap, sizeof(*t->slot)); /* owned by the store: ioc_obs_free */
    if (!t->slot)
        return AB_ERR_NOMEM;
    t->mask = cap - 1;
    for (size_t i = 0; i < v->len; i++) {
        const ab_ioc *ioc = &v->items[i];
        if (!wanted(ioc, wild))
            continue;
        const char *key = ioc->value + t->skip;
        size_t len = strlen(key);
        uint64_t h = hash_key(key, len);
        uint32_t tag = (uint32_t)(h >> 32);
        for (size_t p = h & t->mask;; p = (p + 1) & t->mask) {
            uint64_t s = t->slot[p];
            if (!s) {
                t->slot[p] = ((uint64_t)tag << 32) | (uint64_t)(i + 1);
                break;
            }
            if ((uint32_t)(s >> 32) == tag &&
                key_eq(v->items[(uint32_t)s - 1].value + t->skip, key, len))
                break; /* a duplicate: the first loaded stays */
        }
    }
    return AB_OK;
}

static const ab_ioc *tab_find(const ioc_strtab *t, const ioc_vec *v, const char *key, size_t len)
{
    if (!t->slot || !key || !len || memchr(key, '\0', len))
        return NULL;
    uint64_t h = hash_key(key, len);
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t p = h & t->mask;; p = (p + 1) & t->mask) {
        uint64_t s = t->slot[p];
        if (!s)
            return NULL;
        const ab_ioc *ioc = &v->items[(uint32_t)s - 1];
        if ((uint32_t)(s >> 32) == tag && key_eq(ioc->value + t->skip, key, len))
            return ioc;
    }
}

void ioc_obs_free(ab_iocs *s)
{
    ioc_strtab *t[] = {&s->dom, &s->dom_wild, &s->url, &s->email};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        free(t[i]->slot);
        memset(t[i], 0, sizeof(*t[i]));
    }
}

ab_status ioc_obs_index(ab_iocs *s)
{
    ioc_obs_free(s); /* from a compile that failed later on */
    ab_status st = tab_build(&s->dom, &s->by_type[AB_IOC_DOMAIN], 0);
    if (st == AB_OK)
        st = tab_build(&s->dom_wild, &s->by_type[AB_IOC_DOMAIN], 1);
    if (st == AB_OK)
        st = tab_build(&s->url, &s->by_type[AB_IOC_URL], 0);
    if (st == AB_OK)
        st = tab_build(&s->email, &s->by_type[AB_IOC_EMAIL], 0);
    if (st != AB_OK)
        ioc_obs_free(s);
    return st;
}

const ab_ioc *ab_iocs_find_value(const ab_iocs *s, ab_ioc_type t, const char *key, size_t len)
{
    if (!s || !s->compiled)
        return NULL;
    switch (t) {
    case AB_IOC_DOMAIN:
        return tab_find(&s->dom, &s->by_type[t], key, len);
    case AB_IOC_URL:
        return tab_find(&s->url, &s->by_type[t], key, len);
    case AB_IOC_EMAIL:
        return tab_find(&s->email, &s->by_type[t], key, len);
    default:
        return NULL;
    }
}

const ab_ioc *ab_iocs_find_wildcard(const ab_iocs *s, const char *name, size_t len)
{
    if (!s || !s->compiled)
        return NULL;
    return tab_find(&s->dom_wild, &s->by_type[AB_IOC_DOMAIN], name, len);
}
