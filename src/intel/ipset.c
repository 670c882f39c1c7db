/* ipset.c: IP addresses and CIDR prefixes in one hash table keyed by (prefix length, masked
 * address); see ipset.h for the model (IPv4 as IPv4-mapped IPv6). */
#include "intel/ipset.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BITS    128
#define MAX_ENTRIES ((size_t)1 << 31)
#define MIN_CAP     64

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void ab_ipaddr_from_v4(ab_ipaddr *a, const uint8_t v4[4])
{
    memcpy(a->b, v4_prefix, 12);
    memcpy(a->b + 12, v4, 4);
}

int ab_ipaddr_is_v4(const ab_ipaddr *a)
{
    return memcmp(a->b, v4_prefix, 12) == 0;
}

int ab_ipaddr_is_unspecified(const ab_ipaddr *a)
{
    static const uint8_t zero[16];
    if (ab_ipaddr_is_v4(a))
        return memcmp(a->b + 12, zero, 4) == 0;
    return memcmp(a->b, zero, 16) == 0;
}

void ab_ipaddr_format(const ab_ipaddr *a, char *out, size_t outsz)
{
    const char *r = ab_ipaddr_is_v4(a) ? inet_ntop(AF_INET, a->b + 12, out, (socklen_t)outsz)
                                       : inet_ntop(AF_INET6, a->b, out, (socklen_t)outsz);
    if (!r && outsz)
        out[0] = '\0'; /* only when outsz is below AB_IPADDR_TEXT */
}

/* Clear the bits of a past the first bits. */
static void mask(ab_ipaddr *a, unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        int keep = (int)bits - (int)i * 8;
        if (keep <= 0)
            a->b[i] = 0;
        else if (keep < 8)
            a->b[i] &= (uint8_t)(0xff << (8 - keep));
    }
}

int ab_ipaddr_parse(const char *s, size_t n, ab_ipaddr *addr, unsigned *bits)
{
    char tmp[AB_IPADDR_TEXT];
    if (!s)
        return -1;
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (alen == 0 || alen >= sizeof(tmp) || memchr(s, '\0', alen))
        return -1;
    memcpy(tmp, s, alen);
    tmp[alen] = '\0';
    unsigned max;
    uint8_t v4[4];
    if (inet_pton(AF_INET, tmp, v4) == 1) {
        ab_ipaddr_from_v4(addr, v4);
        max = 32;
    } else if (inet_pton(AF_INET6, tmp, addr->b) == 1) {
        max = MAX_BITS;
    } else {
        return -1;
    }
    unsigned prefix = max;
    if (slash) {
        const char *p = slash + 1;
        size_t plen = n - alen - 1;
        if (plen == 0 || plen > 3)
            return -1;
        prefix = 0;
        for (size_t i = 0; i < plen; i++) {
            if (p[i] < '0' || p[i] > '9')
                return -1;
            prefix = prefix * 10 + (unsigned)(p[i] - '0');
        }
        if (prefix > max)
            return -1;
    }
    *bits = max == 32 ? 96 + prefix : prefix;
    mask(addr, *bits);
    return 0;
}

/* ---- The table ------------------------------------------------------------------------------- */

typedef struct entry {
    uint8_t addr[16];
    uint8_t bits;
    uint8_t used;
    uint32_t value;
} entry;

struct ab_ipset {
    entry *slots; /* owned; cap is a power of two, at most half full */
    size_t cap, len;
    uint8_t have[MAX_BITS + 1]; /* have[b]: some entry has prefix length b */
    uint8_t lens[MAX_BITS + 1]; /* the lengths present, longest first */
    unsigned n_lens;
};

ab_status ab_ipset_new(ab_ipset **out)
{
    if (!out)
        return AB_ERR_ARG;
    *out = calloc(1, sizeof(**out));
    return *out ? AB_OK : AB_ERR_NOMEM;
}

void ab_ipset_free(ab_ipset *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s);
}

size_t ab_ipset_count(const ab_ipset *s)
{
    return s ? s->len : 0;
}

/* A keyed mix is not needed: entries come from the caller's IOC files, and a look-up probes a
 * table it cannot add to, so hostile traffic cannot lengthen the probe chains. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t hash_key(const uint8_t addr[16], unsigned bits)
{
    uint64_t hi, lo;
    memcpy(&hi, addr, 8);
    memcpy(&lo, addr + 8, 8);
    return mix(hi ^ mix(lo ^ ((uint64_t)bits << 56)));
}

/* The slot holding (addr, bits), or the empty slot where it would go. */
static entry *find_slot(entry *slots, size_t cap, const uint8_t addr[16], unsigned bits)
{
    size_t i = (size_t)hash_key(addr, bits) & (cap - 1);
    for (;;) {
        entry *e = &slots[i];
        if (!e->used || (e->bits == bits && memcmp(e->addr, addr, 16) == 0))
            return e;
        i = (i + 1) & (cap - 1);
    }
}

static ab_status grow(ab_ipset *s)
{
    size_t cap = s->cap ? s->cap * 2 : MIN_CAP;
    if (cap > SIZE_MAX / sizeof(entry))
        return AB_ERR_NOMEM;
    entry *slots = calloc(cap, sizeof(entry));
    if (!slots)
        return AB_ERR_NOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        const entry *e = &s->slots[i];
        if (e->used)
            *find_slot(slots, cap, e->addr, e->bits) = *e;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return AB_OK;
}

static void note_length(ab_ipset *s, unsigned bits)
{
    if (s->have[bits])
        return;
    s->have[bits] = 1;
    s->n_lens = 0;
    for (int b = MAX_BITS; b >= 0; b--)
        if (s->have[b])
            s->lens[s->n_lens++] = (uint8_t)b;
}

ab_status ab_ipset_add(ab_ipset *s, const ab_ipaddr *addr, unsigned bits, uint32_t value,
                       int *added)
{
    if (added)
        *added = 0;
    if (!s || !addr || bits > MAX_BITS)
        return AB_ERR_ARG;
    if (s->len >= MAX_ENTRIES)
        return AB_ERR_LIMIT;
    ab_status st;
    if ((s->len + 1) * 2 > s->cap && (st = grow(s)) != AB_OK)
        return st;
    ab_ipaddr key = *addr;
    mask(&key, bits);
    entry *e = find_slot(s->slots, s->cap, key.b, bits);
    if (e->used)
        return AB_OK; /* the first one loaded stays */
    memcpy(e->addr, key.b, 16);
    e->bits = (uint8_t)bits;
    e->used = 1;
    e->value = value;
    s->len++;
    note_length(s, bits);
    if (added)
        *added = 1;
    return AB_OK;
}

ab_status ab_ipset_add_text(ab_ipset *s, const char *text, size_t n, uint32_t value, int *added)
{
    ab_ipaddr a;
    unsigned bits;
    if (added)
        *added = 0;
    if (ab_ipaddr_parse(text, n, &a, &bits) != 0)
        return AB_ERR_PARSE;
    return ab_ipset_add(s, &a, bits, value, added);
}

int ab_ipset_lookup(const ab_ipset *s, const ab_ipaddr *a, uint32_t *value, unsigned *bits)
{
    if (!s || !a || !s->len)
        return 0;
    for (unsigned i = 0; i < s->n_lens; i++) {
        ab_ipaddr key = *a;
        mask(&key, s->lens[i]);
        const entry *e = find_slot((entry *)s->slots, s->cap, key.b, s->lens[i]);
        if (e->used) {
            if (value)
                *value = e->value;
            if (bits)
                *bits = e->bits;
            return 1;
        }
    }
    return 0;
}
