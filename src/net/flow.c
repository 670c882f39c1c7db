/* flow.c: the flow table (flow.h): flows by normalised 5-tuple in a chained hash table over a pool
 * of slots, four recency lists (open TCP, TCP after a FIN, UDP/other, closed TCP keeping its
 * slot) for O(1) eviction and lazy timeouts, TCP direction and state; each direction's bytes are
 * put in order by reassembly.c. */
#include "net/flow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "net/reassembly.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

#define CHUNK            1024 /* slots allocated at a time */
#define EXPIRE_PER_CHECK 2    /* flows a list's tail gives up per packet at most */
#define EXPIRE_PER_TICK  4096 /* the same per ab_flows_tick */

/* The 5-tuple with the smaller (address, port) end first; padding zeroed (compared by memcmp). */
typedef struct fkey {
    ab_ipaddr a[2];
    uint16_t port[2];
    uint8_t proto;
    uint8_t pad[3];
} fkey;

enum { L_TCP, L_FIN, L_UDP, L_DEAD, NLISTS };

/* A slot. pub first: the ab_flow * the callbacks get is the slot. */
typedef struct flow {
    ab_flow pub;
    struct flow *hnext;       /* hash chain; free list when unused */
    struct flow *prev, *next; /* recency list (most recent at head) */
    uint64_t tick;            /* the table's packet count at the last packet */
    uint64_t hash;
    uint64_t seen_us; /* the table's clock at the last packet (timeouts: never backwards) */
    uint64_t dead_us; /* when a closed flow closed */
    fkey key;
    uint8_t list;        /* L_*, NLISTS when free */
    uint8_t client_side; /* the client is key.a[client_side] */
    ab_half h[2];        /* TCP, by direction */
} flow;

typedef struct flist {
    flow *head, *tail;
} flist;

struct ab_flows {
    ab_flow_limits lim;
    ab_flow_cb cb;
    ab_reasm r;
    ab_flow_stats st;
    flow **buckets; /* nbuckets (a power of two) chain heads: owned */
    size_t mask;
    flow **chunks; /* owned, each of CHUNK slots (the last maybe fewer) */
    size_t nchunks;
    flow *free;              /* slots given back, through hnext */
    flow *fresh, *fresh_end; /* never used slots of the last chunk */
    size_t used;
    flist lists[NLISTS];
    uint64_t now, tick, next_id;
    uint64_t seed[6];
};

void ab_flow_limits_default(ab_flow_limits *l)
{
    l->max_flows = 65536;
    l->stream_depth = (uint64_t)1 << 20;
    l->stream_memcap = (size_t)64 << 20;
    l->flow_ooo_cap = (size_t)1 << 20;
    l->tcp_timeout_s = 300;
    l->tcp_closed_timeout_s = 10;
    l->udp_timeout_s = 60;
}

const char *ab_flow_reason_name(int reason)
{
    switch (reason) {
    case AB_FLOW_FIN:
        return "fin";
    case AB_FLOW_RST:
        return "rst";
    case AB_FLOW_TIMEOUT:
        return "timeout";
    case AB_FLOW_EVICTED:
        return "evicted";
    case AB_FLOW_END:
        return "end";
    case AB_FLOW_MEMCAP:
        return "memcap";
    }
    return "?";
}

/* ---- hashing ---- */

static uint64_t mum(uint64_t a, uint64_t b)
{
    __uint128_t m = (__uint128_t)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* Keyed so that traffic cannot be chosen to fill one chain. */
static uint64_t key_hash(const ab_flows *t, const fkey *k)
{
    uint64_t w[5];
    memcpy(w, k, sizeof(w));
    uint64_t a = mum(w[0] ^ t->seed[0], w[1] ^ t->seed[1]);
    uint64_t b = mum(w[2] ^ t->seed[2], w[3] ^ t->seed[3]);
    return mum(a ^ w[4] ^ t->seed[4], b ^ t->seed[5]);
}

static void seed_init(ab_flows *t)
{
    if (getrandom(t->seed, sizeof(t->seed), GRND_NONBLOCK) == (ssize_t)sizeof(t->seed))
        return;
    /* No entropy yet (early boot): still differs between runs and tables. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)t;
    for (int i = 0; i < 6; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        t->seed[i] = mum(x, 0x9E3779B97F4A7C15u) | 1;
    }
}

/* The key of p; returns which end of the key the sender is (0: a[0]). */
static int make_key(const ab_pkt *p, fkey *k)
{
    memset(k, 0, sizeof(*k));
    int c = memcmp(p->src.b, p->dst.b, sizeof(p->src.b));
    int src_first = c < 0 || (c == 0 && p->sport <= p->dport);
    k->a[!src_first] = p->src;
    k->a[src_first] = p->dst;
    k->port[!src_first] = p->sport;
    k->port[src_first] = p->dport;
    k->proto = p->proto;
    return !src_first;
}

static flow *lookup(const ab_flows *t, const fkey *k, uint64_t h)
{
    for (flow *f = t->buckets[h & t->mask]; f; f = f->hnext)
        if (f->hash == h && memcmp(&f->key, k, sizeof(*k)) == 0)
            return f;
    return NULL;
}

static void unhash(ab_flows *t, flow *f)
{
    flow **pp = &t->buckets[f->hash & t->mask];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
}

/* ---- recency lists ---- */

static void list_del(ab_flows *t, flow *f)
{
    flist *l = &t->lists[f->list];
    if (f->prev)
        f->prev->next = f->next;
    else
        l->head = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        l->tail = f->prev;
    f->prev = f->next = NULL;
}

static void list_push(ab_flows *t, flow *f, int which)
{
    flist *l = &t->lists[which];
    f->list = (uint8_t)which;
    f->prev = NULL;
    f->next = l->head;
    if (l->head)
        l->head->prev = f;
    else
        l->tail = f;
    l->head = f;
}

static void list_move(ab_flows *t, flow *f, int which)
{
    if (f->list == which && t->lists[which].head == f)
        return;
    list_del(t, f);
    list_push(t, f, which);
}

/* ---- slots ---- */

static flow *slot_get(ab_flows *t)
{
    flow *f = t->free;
    if (f) {
        t->free = f->hnext;
    } else {
        if (t->fresh == t->fresh_end) {
            size_t have = t->nchunks * CHUNK;
            if (have >= t->lim.max_flows)
                return NULL;
            size_t n = t->lim.max_flows - have < CHUNK ? t->lim.max_flows - have : CHUNK;
            /* Not touched here: pages are faulted in as slots are first used. */
            flow *c = malloc(n * sizeof(flow));
            if (!c)
                return NULL;
            t->chunks[t->nchunks++] = c;
            t->st.slots += n;
            t->fresh = c;
            t->fresh_end = c + n;
        }
        f = t->fresh++;
    }
    memset(f, 0, sizeof(*f));
    t->used++;
    return f;
}

/* Out of the table for good (its reassembly memory already freed by close_flow). */
static void slot_put(ab_flows *t, flow *f)
{
    unhash(t, f);
    list_del(t, f);
    f->list = NLISTS;
    f->hnext = t->free;
    t->free = f;
    t->used--;
}

/* ---- closing ---- */

/* Deliver what is held, say close(), then free the slot, or, with keep (an RST or both FINs),
 * keep it as closed for tcp_closed_timeout_s to absorb the flow's last packets. */
static void close_flow(ab_flows *t, flow *f, int reason, int keep)
{
    int tcp = f->pub.ref.proto == IPPROTO_TCP_;
    f->pub.ref.ts_us = t->now;
    if (tcp) {
        for (int d = 0; d < 2; d++)
            ab_reasm_flush(&t->r, &f->h[d], &f->pub, d);
    }
    if (t->cb.close)
        t->cb.close(t->cb.ctx, &f->pub, reason);
    f->pub.user = NULL;
    t->st.active--;
    if (reason == AB_FLOW_TIMEOUT)
        t->st.timeouts++;
    else if (reason == AB_FLOW_EVICTED)
        t->st.evicted++;
    if (keep && tcp && t->lim.tcp_closed_timeout_s) {
        f->dead_us = t->now;
        list_move(t, f, L_DEAD);
        return;
    }
    slot_put(t, f);
}

static uint64_t list_timeout_us(const ab_flows *t, int which)
{
    uint32_t s = which == L_TCP   ? t->lim.tcp_timeout_s
                 : which == L_UDP ? t->lim.udp_timeout_s
                                  : t->lim.tcp_closed_timeout_s;
    return (uint64_t)s * 1000000u;
}

static int expired(const ab_flows *t, const flow *f)
{
    uint64_t to = list_timeout_us(t, f->list);
    uint64_t since = f->list == L_DEAD ? f->dead_us : f->seen_us;
    return to && t->now >= since && t->now - since >= to;
}

/* An expired flow ended: a closed one's slot freed, an open one closed (and freed). */
static void expire(ab_flows *t, flow *f)
{
    if (f->list == L_DEAD)
        slot_put(t, f);
    else
        close_flow(t, f, f->list == L_FIN ? AB_FLOW_FIN : AB_FLOW_TIMEOUT, 0);
}

/* Bounded work per packet: the least recent flows of each list, while expired. */
static void expire_some(ab_flows *t)
{
    for (int l = 0; l < NLISTS; l++) {
        for (int i = 0; i < EXPIRE_PER_CHECK; i++) {
            flow *f = t->lists[l].tail;
            if (!f || !expired(t, f))
                break;
            expire(t, f);
        }
    }
}

/* The least recently active open flow: the oldest tail of the open lists. */
static flow *lru_open(ab_flows *t)
{
    flow *lru = NULL;
    for (int l = 0; l < L_DEAD; l++) {
        flow *f = t->lists[l].tail;
        if (f && (!lru || f->tick < lru->tick))
            lru = f;
    }
    return lru;
}

/* A free slot for a new flow when all are taken: a closed flow's, else the least recently active
 * open flow is evicted. */
static void make_room(ab_flows *t)
{
    expire_some(t);
    if (t->used < t->lim.max_flows)
        return;
    if (t->lists[L_DEAD].tail) {
        slot_put(t, t->lists[L_DEAD].tail);
        return;
    }
    flow *lru = lru_open(t);
    if (lru)
        close_flow(t, lru, AB_FLOW_EVICTED, 0);
}

int ab_flows_end_lru(ab_flows *t, int reason)
{
    flow *lru = t ? lru_open(t) : NULL;
    if (!lru)
        return 0;
    close_flow(t, lru, reason, 0);
    return 1;
}

/* ---- new flows ---- */

/* Which end of the key is the client, by the first packet (flow.h). */
static int pick_client(const ab_pkt *p, int side, ab_flow *pub)
{
    int src_is_client = 1;
    if (p->proto == IPPROTO_TCP_) {
        uint8_t syn_ack = p->tcp_flags & (TCP_SYN | TCP_ACK);
        if (syn_ack == (TCP_SYN | TCP_ACK)) {
            src_is_client = 0;
        } else if (syn_ack != TCP_SYN) {
            pub->midstream = 1;
            if (p->sport != p->dport)
                src_is_client = p->sport > p->dport;
            else
                src_is_client = memcmp(p->src.b, p->dst.b, sizeof(p->src.b)) <= 0;
        }
    }
    return src_is_client ? side : !side;
}

static flow *new_flow(ab_flows *t, const fkey *k, uint64_t h, int side, const ab_pkt *p)
{
    if (t->used >= t->lim.max_flows)
        make_room(t);
    flow *f = slot_get(t);
    if (!f)
        return NULL;
    f->key = *k;
    f->hash = h;
    f->hnext = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = f;
    ab_flow *pub = &f->pub;
    f->client_side = (uint8_t)pick_client(p, side, pub);
    pub->ref.id = ++t->next_id;
    pub->ref.ts_us = p->ts_us;
    pub->ref.ipver = p->ipver;
    pub->ref.proto = p->proto;
    pub->ref.client = k->a[f->client_side];
    pub->ref.server = k->a[!f->client_side];
    pub->ref.client_port = k->port[f->client_side];
    pub->ref.server_port = k->port[!f->client_side];
    pub->ref.vlan = p->vlan;
    pub->first_us = pub->last_us = p->ts_us;
    t->st.flows++;
    if (p->proto == IPPROTO_TCP_) {
        t->st.tcp++;
        t->st.midstream += pub->midstream;
    } else if (p->proto == IPPROTO_UDP_) {
        t->st.udp++;
    } else {
        t->st.other++;
    }
    if (++t->st.active > t->st.peak_active)
        t->st.peak_active = t->st.active;
    list_push(t, f, p->proto == IPPROTO_TCP_ ? L_TCP : L_UDP);
    if (t->cb.open)
        t->cb.open(t->cb.ctx, pub);
    return f;
}

/* ---- TCP ---- */

static int finished(const ab_half *h)
{
    return h->fin && (h->done || ab_seq_diff(h->next_seq, h->fin_seq) >= 0);
}

static void tcp_packet(ab_flows *t, flow *f, int dir, const ab_pkt *p)
{
    ab_half *h = &f->h[dir], *o = &f->h[!dir];
    uint8_t fl = p->tcp_flags;
    uint32_t seq = p->seq;
    size_t n = p->payload ? p->payload_len : 0;
    if (n > AB_REASM_WINDOW)
        n = AB_REASM_WINDOW; /* no TCP segment is this long; keeps the arithmetic in range */
    if (fl & TCP_RST) {
        close_flow(t, f, AB_FLOW_RST, 1);
        return;
    }
    if (fl & TCP_SYN) {
        /* A SYN (again, or a new ISN before any data) starts the direction. */
        if (!h->init || (f->pub.delivered[dir] == 0 && !h->head && !h->fin)) {
            h->init = 1;
            h->next_seq = seq + 1;
        }
        seq++;
    }
    if (!h->init && (n || p->payload_missing || (fl & TCP_FIN))) {
        h->init = 1;
        h->next_seq = seq;
    }
    size_t missing = p->payload_missing < AB_REASM_WINDOW ? p->payload_missing : AB_REASM_WINDOW;
    if (h->fin) {
        /* Nothing after the FIN is the stream's (the receiver drops it too). */
        int32_t room = ab_seq_diff(h->fin_seq, seq);
        size_t r = room <= 0 ? 0 : (size_t)room;
        if (n >= r) {
            n = r;
            missing = 0;
        } else if (missing > r - n) {
            missing = r - n;
        }
    }
    if (n)
        ab_reasm_segment(&t->r, h, &f->pub, dir, seq, p->payload, n);
    uint32_t end = seq + (uint32_t)n;
    if (missing && h->init && ab_seq_diff(h->next_seq, end) >= 0)
        ab_reasm_skip_to(&t->r, h, &f->pub, dir, end + (uint32_t)missing);
    if ((fl & TCP_FIN) && !h->fin) {
        h->fin = 1;
        h->fin_seq = end + (uint32_t)missing;
        if (f->list == L_TCP)
            list_move(t, f, L_FIN);
    }
    /* The other end received bytes we never saw: the hole they were in will not fill. */
    if ((fl & TCP_ACK) && o->init && !o->done && (o->head || (o->fin && !finished(o)))) {
        uint32_t upto = p->ack;
        if (o->fin && ab_seq_diff(upto, o->fin_seq) > 0)
            upto = o->fin_seq; /* the FIN takes a sequence number, not a byte */
        int32_t ahead = ab_seq_diff(upto, o->next_seq);
        if (ahead > 0 && (uint32_t)ahead < AB_REASM_WINDOW)
            ab_reasm_skip_to(&t->r, o, &f->pub, !dir, upto);
    }
    if (finished(h) && finished(o))
        close_flow(t, f, AB_FLOW_FIN, 1);
}

/* ---- the table ---- */

void ab_flows_packet(ab_flows *t, const ab_pkt *p)
{
    if (!t || !p)
        return;
    if (p->ts_us > t->now)
        t->now = p->ts_us;
    t->tick++;
    expire_some(t);

    fkey k;
    int side = make_key(p, &k);
    uint64_t h = key_hash(t, &k);
    flow *f = lookup(t, &k, h);
    int tcp = p->proto == IPPROTO_TCP_;
    int new_syn = tcp && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    if (f && expired(t, f)) {
        expire(t, f);
        f = NULL;
    }
    if (f && f->list == L_FIN && new_syn) {
        close_flow(t, f, AB_FLOW_FIN, 0); /* the ports taken by a new connection */
        f = NULL;
    }
    if (f && f->list == L_DEAD) {
        if (!new_syn)
            return; /* the last ACKs and retransmissions of a closed flow */
        slot_put(t, f);
        f = NULL;
    }
    if (!f) {
        f = new_flow(t, &k, h, side, p);
        if (!f)
            return;
    }

    int dir = side == f->client_side ? AB_DIR_TO_SERVER : AB_DIR_TO_CLIENT;
    f->tick = t->tick;
    f->seen_us = t->now;
    if (p->ts_us > f->pub.last_us)
        f->pub.last_us = p->ts_us;
    f->pub.ref.ts_us = p->ts_us;
    f->pub.pkts[dir]++;
    f->pub.bytes[dir] += p->payload_len + p->payload_missing;
    list_move(t, f, f->list);
    if (tcp)
        tcp_packet(t, f, dir, p);
    else if (t->cb.dgram)
        t->cb.dgram(t->cb.ctx, &f->pub, dir, p);
}

void ab_flows_tick(ab_flows *t, uint64_t now_us)
{
    if (!t)
        return;
    if (now_us > t->now)
        t->now = now_us;
    for (int l = 0; l < NLISTS; l++) {
        for (int i = 0; i < EXPIRE_PER_TICK; i++) {
            flow *f = t->lists[l].tail;
            if (!f || !expired(t, f))
                break;
            expire(t, f);
        }
    }
}

void ab_flows_flush(ab_flows *t)
{
    if (!t)
        return;
    for (int l = 0; l < L_DEAD; l++)
        while (t->lists[l].tail)
            close_flow(t, t->lists[l].tail, AB_FLOW_END, 0);
    while (t->lists[L_DEAD].tail)
        slot_put(t, t->lists[L_DEAD].tail);
}

ab_status ab_flows_new(const ab_flow_limits *lim, const ab_flow_cb *cb, ab_flows **out)
{
    ab_status st = AB_ERR_NOMEM;
    *out = NULL;
    ab_flows *t = calloc(1, sizeof(*t));
    if (!t)
        goto out;
    if (lim)
        t->lim = *lim;
    else
        ab_flow_limits_default(&t->lim);
    if (cb)
        t->cb = *cb;
    if (t->lim.max_flows == 0 || t->lim.max_flows > AB_FLOW_MAX_FLOWS) {
        st = AB_ERR_ARG;
        goto out;
    }
    size_t nb = 16;
    while (nb < t->lim.max_flows)
        nb <<= 1;
    t->mask = nb - 1;
    t->buckets = calloc(nb, sizeof(*t->buckets));
    t->chunks = calloc((t->lim.max_flows + CHUNK - 1) / CHUNK, sizeof(*t->chunks));
    if (!t->buckets || !t->chunks)
        goto out;
    t->r.depth = t->lim.stream_depth;
    t->r.memcap = t->lim.stream_memcap;
    t->r.ooo_cap = t->lim.flow_ooo_cap;
    t->r.st = &t->st;
    t->r.cb = &t->cb;
    seed_init(t);
    *out = t;
    t = NULL;
    st = AB_OK;
out:
    ab_flows_free(t);
    return st;
}

void ab_flows_free(ab_flows *t)
{
    if (!t)
        return;
    if (t->buckets && t->chunks)
        ab_flows_flush(t);
    ab_reasm_release(&t->r);
    for (size_t i = 0; t->chunks && i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    free(t->buckets);
    free(t);
}

void ab_flows_stats(const ab_flows *t, ab_flow_stats *s)
{
    if (!t) {
        memset(s, 0, sizeof(*s));
        return;
    }
    *s = t->st;
    s->held_bytes = t->r.held;
}
