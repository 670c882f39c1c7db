/* ipfrag.c: the fragment table of the decoder (ipfrag.h; the policy is in decode.h). Unfinished
 * datagrams live in a chained hash table (seeded hash: a flood of colliding keys costs the
 * attacker a guess) and on an age list, oldest first, which both the timeout and the limits
 * drop from. Each datagram holds its fragmentable part in one buffer (grown with the fragments,
 * at most AB_FRAG_MAX_PAYLOAD bytes) and the sorted, disjoint byte ranges it holds. */
#include "net/ipfrag.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define BUF_ROUND 2048u /* buffer capacities are multiples of this (fewer reallocs) */

typedef struct frag_range {
    uint32_t s, e; /* [s, e) held */
} frag_range;

typedef struct dgram {
    struct dgram *hnext, **hprev; /* hash chain */
    struct dgram *older, *newer;  /* age list */
    ab_frag_key key;
    uint64_t ts_first; /* packet time of the first fragment */
    uint8_t *buf;      /* owned: cap bytes */
    uint32_t cap;
    uint32_t end; /* length of the datagram, once have_end */
    uint8_t have_end;
    uint8_t nh; /* IPv6: next header of the offset-0 fragment */
    uint16_t vlan;
    uint16_t nr;
    frag_range r[AB_FRAG_MAX_RANGES];
} dgram;

struct ab_ipfrag {
    ab_decode_limits lim;
    ab_decode_stats *st; /* the decoder's, not owned */
    dgram **tab;         /* owned: mask + 1 chains */
    size_t mask;
    dgram *oldest, *newest;
    size_t count; /* unfinished datagrams */
    size_t mem;   /* their bytes: struct + buffer capacity */
    uint64_t seed;
    uint8_t *done[AB_IPFRAG_MAX_DONE]; /* owned: handed out until ab_ipfrag_release */
    int ndone;
};

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static size_t key_hash(const ab_ipfrag *f, const ab_frag_key *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = f->seed;
    for (size_t i = 0; i + 8 <= sizeof(*k); i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = mix(h ^ w);
    }
    return (size_t)h & f->mask;
}

ab_status ab_ipfrag_new(const ab_decode_limits *lim, ab_decode_stats *st, ab_ipfrag **out)
{
    _Static_assert(sizeof(ab_frag_key) % 8 == 0, "the key is hashed by 8-byte words");
    ab_ipfrag *f = calloc(1, sizeof(*f));
    if (!f)
        return AB_ERR_NOMEM;
    f->lim = *lim;
    f->st = st;
    size_t n = 64;
    while (n < lim->max_frag_datagrams && n < ((size_t)1 << 16))
        n <<= 1;
    f->tab = calloc(n, sizeof(*f->tab));
    if (!f->tab) {
        free(f);
        return AB_ERR_NOMEM;
    }
    f->mask = n - 1;
    /* A seed the sender cannot predict; a fixed one if the kernel says no (still correct). */
    if (getrandom(&f->seed, sizeof(f->seed), GRND_NONBLOCK) != (ssize_t)sizeof(f->seed))
        f->seed = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)f;
    *out = f;
    return AB_OK;
}

static void unlink_dgram(ab_ipfrag *f, dgram *d)
{
    *d->hprev = d->hnext;
    if (d->hnext)
        d->hnext->hprev = d->hprev;
    if (d->older)
        d->older->newer = d->newer;
    else
        f->oldest = d->newer;
    if (d->newer)
        d->newer->older = d->older;
    else
        f->newest = d->older;
    f->count--;
    f->mem -= sizeof(*d) + d->cap;
}

static void drop_dgram(ab_ipfrag *f, dgram *d)
{
    unlink_dgram(f, d);
    free(d->buf);
    free(d);
}

void ab_ipfrag_free(ab_ipfrag *f)
{
    if (!f)
        return;
    while (f->oldest)
        drop_dgram(f, f->oldest);
    for (int i = 0; i < f->ndone; i++)
        free(f->done[i]);
    free(f->tab);
    free(f);
}

void ab_ipfrag_release(ab_ipfrag *f, uint64_t ts_us)
{
    for (int i = 0; i < f->ndone; i++)
        free(f->done[i]);
    f->ndone = 0;
    uint64_t tmo = (uint64_t)f->lim.frag_timeout_s * 1000000u;
    while (f->oldest && ts_us >= f->oldest->ts_first && ts_us - f->oldest->ts_first > tmo) {
        drop_dgram(f, f->oldest);
        f->st->frag_timeouts++;
    }
}

static dgram *find(ab_ipfrag *f, const ab_frag_key *k, size_t h)
{
    for (dgram *d = f->tab[h]; d; d = d->hnext)
        if (memcmp(&d->key, k, sizeof(*k)) == 0)
            return d;
    return NULL;
}

/* Drops the oldest datagrams other than keep until need more bytes fit in the memcap. Returns
 * 0 when they fit, -1 when they cannot even with keep alone. */
static int make_room(ab_ipfrag *f, size_t need, const dgram *keep)
{
    while (f->mem + need > f->lim.frag_memcap) {
        dgram *o = f->oldest;
        if (o == keep)
            o = o->newer;
        if (!o)
            return -1;
        drop_dgram(f, o);
        f->st->frag_dropped++;
    }
    return 0;
}

static dgram *create(ab_ipfrag *f, const ab_frag_key *k, size_t h, uint64_t ts, uint16_t vlan)
{
    while (f->count >= f->lim.max_frag_datagrams && f->oldest) {
        drop_dgram(f, f->oldest);
        f->st->frag_dropped++;
    }
    if (make_room(f, sizeof(dgram), NULL) != 0)
        return NULL;
    dgram *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->key = *k;
    d->ts_first = ts;
    d->vlan = vlan;
    d->hnext = f->tab[h];
    if (d->hnext)
        d->hnext->hprev = &d->hnext;
    d->hprev = &f->tab[h];
    f->tab[h] = d;
    d->older = f->newest;
    if (f->newest)
        f->newest->newer = d;
    else
        f->oldest = d;
    f->newest = d;
    f->count++;
    f->mem += sizeof(*d);
    return d;
}

/* Room for end bytes in d's buffer, within the memcap. 0, or -1 (d must be dropped). */
static int reserve(ab_ipfrag *f, dgram *d, uint32_t end)
{
    if (end <= d->cap)
        return 0;
    uint32_t cap = d->cap * 2 > end ? d->cap * 2 : end;
    cap = (cap + BUF_ROUND - 1) / BUF_ROUND * BUF_ROUND;
    if (cap > AB_FRAG_MAX_PAYLOAD)
        cap = AB_FRAG_MAX_PAYLOAD;
    if (make_room(f, cap - d->cap, d) != 0)
        return -1;
    uint8_t *nb = realloc(d->buf, cap);
    if (!nb)
        return -1;
    f->mem += cap - d->cap;
    d->buf = nb;
    d->cap = cap;
    return 0;
}

/* Copies the bytes of [s, e) that d does not hold yet (first wins) and merges the range in.
 * *overlap: 1 when some byte was held already. Returns 0, or -1 past AB_FRAG_MAX_RANGES. */
static int insert(dgram *d, uint32_t s, uint32_t e, const uint8_t *data, int *overlap)
{
    uint32_t pos = s;
    *overlap = 0;
    for (uint16_t i = 0; i < d->nr && d->r[i].s < e; i++) {
        if (d->r[i].e <= pos)
            continue;
        *overlap = 1;
        if (d->r[i].s > pos)
            memcpy(d->buf + pos, data + (pos - s), d->r[i].s - pos);
        pos = d->r[i].e;
    }
    if (pos < e)
        memcpy(d->buf + pos, data + (pos - s), e - pos);
    /* Merge: ranges touching or overlapping [s, e) become one. */
    uint16_t a = 0;
    while (a < d->nr && d->r[a].e < s)
        a++;
    uint16_t b = a;
    uint32_t ms = s, me = e;
    while (b < d->nr && d->r[b].s <= e) {
        if (d->r[b].s < ms)
            ms = d->r[b].s;
        if (d->r[b].e > me)
            me = d->r[b].e;
        b++;
    }
    /* Ranges a..b-1 are replaced by one. */
    size_t nr = (size_t)d->nr - (b - a) + 1;
    if (nr > AB_FRAG_MAX_RANGES)
        return -1;
    memmove(&d->r[a + 1], &d->r[b], (d->nr - b) * sizeof(d->r[0]));
    d->r[a].s = ms;
    d->r[a].e = me;
    d->nr = (uint16_t)nr;
    return 0;
}

static int complete(const dgram *d)
{
    return d->have_end && d->nr == 1 && d->r[0].s == 0 && d->r[0].e == d->end;
}

/* Learns the datagram's end from a last fragment. 0, or -1 when it contradicts what is held. */
static int set_end(dgram *d, uint32_t end)
{
    if (d->have_end)
        return end == d->end ? 0 : -1;
    if (d->nr && d->r[d->nr - 1].e > end)
        return -1;
    d->end = end;
    d->have_end = 1;
    return 0;
}

int ab_ipfrag_add(ab_ipfrag *f, const ab_frag_key *k, uint64_t ts_us, const ab_frag *fr,
                  ab_frag_done *done, const char **why)
{
    if (fr->off > AB_FRAG_MAX_PAYLOAD || fr->len > AB_FRAG_MAX_PAYLOAD - fr->off) {
        *why = "IP fragment past 65535 bytes";
        return -1;
    }
    f->st->fragments++;
    uint32_t s = fr->off, e = (uint32_t)(fr->off + fr->len);
    size_t h = key_hash(f, k);
    dgram *d = find(f, k, h);
    if (!d && !(d = create(f, k, h, ts_us, fr->vlan))) {
        f->st->frag_dropped++;
        return 0;
    }
    if (!fr->more && set_end(d, e) != 0)
        goto drop;
    if (d->have_end && e > d->end) {
        /* Bytes past an end a last fragment fixed first: first wins, they are ignored. */
        f->st->frag_overlaps++;
        e = s < d->end ? d->end : s;
    }
    if (s == 0 && (d->nr == 0 || d->r[0].s > 0))
        d->nh = fr->nh;
    if (e > s) {
        int overlap;
        if (reserve(f, d, e) != 0 || insert(d, s, e, fr->data, &overlap) != 0)
            goto drop;
        f->st->frag_overlaps += (uint64_t)overlap;
    }
    if (!complete(d))
        return 0;
    if (f->ndone >= AB_IPFRAG_MAX_DONE)
        goto drop;
    unlink_dgram(f, d);
    f->done[f->ndone++] = d->buf;
    done->data = d->buf;
    done->len = d->end;
    done->nh = d->nh;
    done->vlan = d->vlan;
    free(d);
    f->st->reassembled++;
    return 1;
drop:
    drop_dgram(f, d);
    f->st->frag_dropped++;
    return 0;
}
