/* capture.c: the pipeline over one capture (capture.h). The flow table calls back here with each
 * flow's in-order bytes; this file decides, from a flow's first bytes, which parser reads it, and
 * keeps each direction's first bytes for stream matching. Owner of every per-flow state: the
 * flow's user pointer, created at open, freed at close (the flow table closes every flow, at the
 * latest in ab_flows_flush). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/capture.h"
#include "net/dns.h"
#include "net/http.h"
#include "net/pcapsrc.h"
#include "net/smtp.h"
#include "net/tls.h"

#define HEAD_MAX         64   /* bytes a direction may send before its protocol must be known */
#define PROGRESS_FRAMES  4096 /* frames between progress calls */
#define STREAM_FIRST_CAP 256  /* first allocation of a stream buffer: most flows are short */
#define DROP_FRAMES      64   /* frames between ab_pcap_drop_behind calls (drop_behind) */

enum { APP_HTTP, APP_TLS, APP_SMTP, APP_DNS_TCP, APP_DNS_UDP };

/* By content: TLS first (its record header is the most specific), SMTP before HTTP (a banner
 * "220 " is no method), DNS over TCP last (a length prefix is the weakest sign). */
static const ab_app_proto *const tcp_apps[] = {&ab_app_tls, &ab_app_smtp, &ab_app_http,
                                               &ab_app_dns};
static const int tcp_app_ids[] = {APP_TLS, APP_SMTP, APP_HTTP, APP_DNS_TCP};
#define N_TCP_APPS (sizeof(tcp_apps) / sizeof(tcp_apps[0]))

typedef struct dirbuf {
    uint8_t *p; /* owned */
    size_t len, cap;
    int truncated;  /* bytes were not kept: past the depth, the memcap, or a gap */
    int memcap_cut; /* ... of them, bytes not kept for stream_memcap (counted once) */
    int sealed;     /* its parser said the rest is ciphertext: no more bytes kept (not a cut) */
} dirbuf;

typedef struct fstate {
    const ab_app_proto *app; /* NULL while undecided or when none */
    void *st;                /* the parser's state (owned, app->free_state) */
    int decided;             /* 1: app is final (NULL: no parser reads this flow) */
    int dead;                /* the parser gave up */
    int udp_dns;             /* UDP: 1 DNS, -1 not DNS, 0 undecided */
    uint8_t head[2][HEAD_MAX];
    size_t head_len[2];
    int head_no[2]; /* the direction's first bytes matched no parser */
    dirbuf stream[2];
    ab_observation obs[2][AB_CAPTURE_MAX_OBS]; /* values owned (malloc'd), types/wheres static */
    size_t n_obs[2];
    size_t n_told[2]; /* values_now: obs[d][0..n_told[d]-1] went to out->values already */
    int told;         /* values_now: the first out->values call was made */
} fstate;

typedef struct cap {
    const ab_capture_opts *o;
    const ab_capture_out *out;
    ab_capture_stats *stats;
    ab_net_mem mem;     /* held over all open flows (net.h): stream buffers and the parsers'
                         * payloads, against stream_memcap; the parsers get it in o->app.mem */
    size_t obs_bytes;   /* observable values kept over all open flows */
    ab_net_out net;     /* what the parsers are given: observables through obs_keep */
    ab_flow *cur;       /* the flow the table called back about, during the call */
    ab_flow *untold;    /* values_now: the flow with values not given yet (one per frame) */
    uint64_t published; /* the id of the flow last written to out->flow_at (0: none) */
#ifdef AB_TEST_HOOKS
    int fault;           /* ANTIBODY_TEST_FAULT crash-parse:PORT (1), hang-parse:PORT (2) */
    uint16_t fault_port; /* ... the flow's client port */
#endif
} cap;

void ab_capture_opts_default(ab_capture_opts *o)
{
    memset(o, 0, sizeof(*o));
    ab_decode_limits_default(&o->decode);
    ab_flow_limits_default(&o->flow);
    ab_net_limits_default(&o->app);
    o->stream_memcap = (size_t)256 << 20;
    o->obs_memcap = (size_t)32 << 20;
    o->keep_streams = 1;
}

/* ---- stream bytes ---- */

/* Kept bytes are counted by the memory they take (buffer capacities) against stream_memcap. */
static void stream_keep(cap *c, fstate *s, int dir, const uint8_t *d, size_t n)
{
    dirbuf *b = &s->stream[dir];
    uint64_t depth = c->o->flow.stream_depth;
    if (!c->o->keep_streams || !n || b->sealed)
        return;
    size_t take = n;
    if (depth && b->len + take > depth)
        take = b->len < depth ? (size_t)(depth - b->len) : 0;
    if (b->len + take > b->cap) {
        size_t left = c->mem.used < c->o->stream_memcap ? c->o->stream_memcap - c->mem.used : 0;
        size_t cap2 = b->cap ? b->cap : STREAM_FIRST_CAP;
        while (cap2 < b->len + take)
            cap2 *= 2;
        if (depth && cap2 > depth)
            cap2 = (size_t)depth;
        if (cap2 - b->cap > left) { /* the memcap, not the depth, cuts it */
            cap2 = b->cap + left;
            take = cap2 > b->len ? cap2 - b->len : 0;
            if (!b->memcap_cut)
                c->stats->memcap_cuts++;
            b->memcap_cut = 1;
        }
        if (cap2 > b->cap) {
            uint8_t *p = realloc(b->p, cap2);
            if (!p) {
                b->truncated = 1;
                return;
            }
            b->p = p;
            c->mem.used += cap2 - b->cap;
            b->cap = cap2;
        }
    }
    if (take < n)
        b->truncated = 1;
    if (!take)
        return;
    memcpy(b->p + b->len, d, take);
    b->len += take;
}

/* ---- observables: kept with their direction, given with its stream ---- */

/* The flow a parser speaks of: the one being fed (cap.cur, set around every call into the flow
 * table), never its ref pointer: a parser inside another (TLS after SMTP's STARTTLS) passes a
 * ref of its own. What the caller gets is the flow's ref, with the app the parser says
 * ("smtp+tls"). */
static const ab_flow_ref *flow_ref(cap *c, const ab_flow_ref *r)
{
    if (!c->cur)
        return r;
    if (r && r != &c->cur->ref && r->app)
        c->cur->ref.app = r->app;
    return &c->cur->ref;
}

static void tell_values(cap *c, ab_flow *f);

/* values_now: f has values to give at the end of the frame. A frame feeds one flow, but the ones
 * it makes time out end in it too: another flow's values are given first, never held back. */
static void mark_untold(cap *c, ab_flow *f)
{
    if (c->untold && c->untold != f)
        tell_values(c, c->untold);
    c->untold = f;
}

static void obs_keep(void *ctx, const ab_flow_ref *r, int dir, const char *type, const char *where,
                     const char *value, size_t len)
{
    cap *c = ctx;
    fstate *s = c->cur ? c->cur->user : NULL;
    r = flow_ref(c, r);
    if (s && dir >= 0 && dir <= 1) {
        for (size_t i = 0; i < s->n_obs[dir]; i++) { /* the same name asked ten times: once */
            const ab_observation *o = &s->obs[dir][i];
            if (o->len == len && o->where == where && !strcmp(o->type, type) &&
                !memcmp(o->value, value, len))
                return;
        }
        char *v = s->n_obs[dir] < AB_CAPTURE_MAX_OBS && c->obs_bytes + len <= c->o->obs_memcap
                      ? malloc(len ? len : 1)
                      : NULL;
        if (v) {
            memcpy(v, value, len);
            /* the packet it was read in (ts_us: the one being fed, or the close) */
            double t = c->cur ? (double)c->cur->ref.ts_us / 1e6 : 0;
            s->obs[dir][s->n_obs[dir]++] = (ab_observation){type, where, v, len, t};
            c->obs_bytes += len;
            if (c->o->values_now)
                mark_untold(c, c->cur);
            return;
        }
    }
    if (c->out->net.observable) /* over the bounds: said at once, never dropped */
        c->out->net.observable(c->out->net.ctx, r, dir, type, where, value, len);
}

/* The rest of what parsers say goes straight to the caller. */
static void fwd_object(void *ctx, const ab_flow_ref *r, int dir, const char *const *names,
                       size_t n_names, const uint8_t *data, size_t len, const char *media_type,
                       int truncated)
{
    const ab_net_out *o = &((cap *)ctx)->out->net;
    if (o->object)
        o->object(o->ctx, flow_ref(ctx, r), dir, names, n_names, data, len, media_type, truncated);
}

static void fwd_record(void *ctx, const ab_flow_ref *r, const char *json, size_t len)
{
    const ab_net_out *o = &((cap *)ctx)->out->net;
    if (o->record)
        o->record(o->ctx, flow_ref(ctx, r), json, len);
}

static void fwd_error(void *ctx, const ab_flow_ref *r, const char *msg)
{
    const ab_net_out *o = &((cap *)ctx)->out->net;
    if (o->error)
        o->error(o->ctx, flow_ref(ctx, r), msg);
}

static void obs_free(cap *c, fstate *s)
{
    for (int d = 0; d < 2; d++) {
        for (size_t i = 0; i < s->n_obs[d]; i++) {
            c->obs_bytes -= s->obs[d][i].len;
            free((char *)s->obs[d][i].value);
        }
        s->n_obs[d] = 0;
    }
}

/* ---- application parsers ---- */

static void app_error(cap *c, fstate *s)
{
    s->dead = 1;
    c->stats->parser_errors++;
}

static void app_feed(cap *c, ab_flow *f, fstate *s, int dir, const uint8_t *d, size_t n)
{
    if (!s->app || s->dead || !n)
        return;
    if (s->app->data(s->st, &f->ref, dir, d, n, &c->net) != 0)
        app_error(c, s);
    /* The segment that ends the clear part was kept whole; the ciphertext after it is not. */
    else if (s->app->sealed && s->app->sealed(s->st, dir))
        s->stream[dir].sealed = 1;
}

/* The direction dir sent its first bytes (head[dir]): one parser claims them, or none can. */
static void app_decide(cap *c, ab_flow *f, fstate *s, int dir)
{
    int all_no = 1;
    for (size_t i = 0; i < N_TCP_APPS; i++) {
        int r = tcp_apps[i]->detect(s->head[dir], s->head_len[dir], dir);
        if (r == 1) {
            s->decided = 1;
            s->st = tcp_apps[i]->new_state(&c->o->app);
            if (!s->st) {
                app_error(c, s);
                return;
            }
            s->app = tcp_apps[i];
            f->ref.app = s->app->name;
            c->stats->app[tcp_app_ids[i]]++;
            /* what the other direction sent before came first */
            int other = !dir;
            app_feed(c, f, s, other, s->head[other], s->head_len[other]);
            app_feed(c, f, s, dir, s->head[dir], s->head_len[dir]);
            return;
        }
        if (r < 0 && s->head_len[dir] < HEAD_MAX)
            all_no = 0;
    }
    if (all_no) {
        s->head_no[dir] = 1;
        if (s->head_no[!dir]) /* both directions spoke and none is known: no parser */
            s->decided = 1;
    }
}

/* ---- flow callbacks ---- */

#ifdef AB_TEST_HOOKS
/* Test builds only: ANTIBODY_TEST_FAULT=crash-parse:PORT or hang-parse:PORT (among others,
 * joined by ',') makes the pipeline crash or spin when a flow whose client port is PORT gives
 * its first bytes: a crash or a stall between members, in the flow's parsing. */
static void fault_init(cap *c)
{
    const char *f = getenv("ANTIBODY_TEST_FAULT");
    static const char *const kinds[] = {"crash-parse:", "hang-parse:"};
    for (const char *t = f; t && *t; t = strchr(t, ',') ? strchr(t, ',') + 1 : NULL)
        for (int i = 0; i < 2; i++)
            if (!strncmp(t, kinds[i], strlen(kinds[i]))) {
                c->fault = i + 1;
                c->fault_port = (uint16_t)atoi(t + strlen(kinds[i]));
            }
}

static void fault_hit(const cap *c, const ab_flow *f)
{
    if (!c->fault || f->ref.client_port != c->fault_port)
        return;
    if (c->fault == 1)
        raise(SIGSEGV);
    for (volatile unsigned long i = 0;; i++)
        ;
}
#else
static void fault_init(cap *c)
{
    (void)c;
}

static void fault_hit(const cap *c, const ab_flow *f)
{
    (void)c;
    (void)f;
}
#endif

/* The table calls back about f: it is the flow parsers speak of (flow_ref), and the one a crash
 * or a stall from here on is in (out->flow_at): on the hot path, so one store unless the flow
 * changed. */
static void flow_enter(cap *c, ab_flow *f)
{
    c->cur = f;
    ab_capture_flow_at *fa = c->out->flow_at;
    if (fa && c->out->frame_at) {
        uint64_t frame = __atomic_load_n(c->out->frame_at, __ATOMIC_RELAXED);
        if (c->published != f->ref.id) {
            __atomic_store_n(&fa->frame, 0, __ATOMIC_RELAXED); /* not whole while it changes */
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            fa->id = f->ref.id;
            fa->client = f->ref.client;
            fa->server = f->ref.server;
            fa->client_port = f->ref.client_port;
            fa->server_port = f->ref.server_port;
            fa->proto = f->ref.proto;
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            c->published = f->ref.id;
        }
        __atomic_store_n(&fa->frame, frame, __ATOMIC_RELAXED);
    }
}

static void on_open(void *ctx, ab_flow *f)
{
    cap *c = ctx;
    f->user = calloc(1, sizeof(fstate)); /* NULL (ENOMEM): the flow is only counted */
    if (f->user && c->o->values_now)
        mark_untold(c, f); /* its endpoints, at the end of this frame */
}

/* values_now: what f's parsers read since the last call, per direction, to out->values. */
static void tell_values(cap *c, ab_flow *f)
{
    fstate *s = f->user;
    if (c->untold == f)
        c->untold = NULL;
    if (!s || !c->out->values)
        return;
    ab_flow *was = c->cur; /* another flow's parser may be in the middle of a call */
    flow_enter(c, f);      /* a crash in what is done with them is this flow's */
    for (int d = 0; d < 2; d++) {
        int first = d == AB_DIR_TO_SERVER && !s->told;
        if (!first && s->n_told[d] == s->n_obs[d])
            continue;
        c->out->values(c->out->net.ctx, f, d, s->obs[d] + s->n_told[d], s->n_obs[d] - s->n_told[d],
                       first);
        s->n_told[d] = s->n_obs[d];
        s->told = 1;
    }
    if (was && was != f)
        flow_enter(c, was);
}

static void on_data(void *ctx, ab_flow *f, int dir, const uint8_t *d, size_t n)
{
    cap *c = ctx;
    flow_enter(c, f);
    fault_hit(c, f);
    fstate *s = f->user;
    if (!s)
        return;
    stream_keep(c, s, dir, d, n);
    if (s->decided) {
        app_feed(c, f, s, dir, d, n);
        return;
    }
    while (n && !s->decided) {
        if (s->head_no[dir]) /* this side said nothing known: wait for the other */
            break;
        size_t take = HEAD_MAX - s->head_len[dir];
        take = take < n ? take : n;
        memcpy(s->head[dir] + s->head_len[dir], d, take);
        s->head_len[dir] += take;
        d += take;
        n -= take;
        app_decide(c, f, s, dir);
        if (s->head_len[dir] == HEAD_MAX && !s->decided)
            s->head_no[dir] = 1;
    }
    if (s->decided)
        app_feed(c, f, s, dir, d, n); /* the rest of this segment, after the head */
}

static void on_gap(void *ctx, ab_flow *f, int dir, uint64_t n)
{
    cap *c = ctx;
    flow_enter(c, f);
    fstate *s = f->user;
    if (!s)
        return;
    s->stream[dir].truncated = 1;
    if (!s->decided) { /* the first bytes are lost: no parser can start in the middle */
        s->decided = 1;
        return;
    }
    if (s->app && !s->dead && s->app->gap(s->st, &f->ref, dir, n, &c->net) != 0)
        app_error(c, s);
}

static void on_dgram(void *ctx, ab_flow *f, int dir, const ab_pkt *p)
{
    cap *c = ctx;
    flow_enter(c, f);
    fstate *s = f->user;
    if (!s || !p->payload_len)
        return;
    stream_keep(c, s, dir, p->payload, p->payload_len);
    if (f->ref.proto != 17 || s->udp_dns < 0)
        return;
    if (s->udp_dns == 0)
        f->ref.app = "dns"; /* what the first message's record says, if it is one */
    int r = ab_dns_message(&f->ref, dir, p->payload, p->payload_len, &c->net);
    if (s->udp_dns == 0) {
        s->udp_dns = r == 0 ? 1 : -1;
        if (r == 0)
            c->stats->app[APP_DNS_UDP]++;
        else
            f->ref.app = NULL;
    }
}

static void on_close(void *ctx, ab_flow *f, int reason)
{
    cap *c = ctx;
    flow_enter(c, f);
    fstate *s = f->user;
    if (s) {
        if (s->app && !s->dead)
            s->app->close(s->st, &f->ref, &c->net);
        if (c->o->values_now && c->out->values)
            tell_values(c, f); /* before the streams, which then carry none */
        if (s->app && s->st)
            s->app->free_state(s->st);
        for (int d = 0; d < 2; d++) {
            dirbuf *b = &s->stream[d];
            /* what the client sent is given even when empty: it carries the flow's endpoints
             * (a SYN to a C2 address and nothing more is still a contact) */
            size_t n_obs = s->n_obs[d] - s->n_told[d];
            if ((b->len || n_obs || d == AB_DIR_TO_SERVER) && c->out->stream)
                c->out->stream(c->out->net.ctx, f, d, b->p, b->len, b->truncated,
                               s->obs[d] + s->n_told[d], n_obs);
            c->mem.used -= b->cap;
            free(b->p);
        }
        obs_free(c, s);
        free(s);
        f->user = NULL;
    }
    if (c->out->flow_end)
        c->out->flow_end(c->out->net.ctx, f, reason);
}

/* ---- the capture ---- */

/* After a packet, kept bytes over 7/8 of stream_memcap: the least recently active flows end
 * early (their streams given as kept) until they are at most 3/4 of it, so that the flows to come
 * have room and the cap itself (stream_keep) cuts only what one packet adds past the last 1/8.
 * The flow just fed is the most recent: it ends last. */
static void end_over_memcap(cap *c, ab_flows *flows)
{
    size_t low = c->o->stream_memcap - c->o->stream_memcap / 4;
    while (c->mem.used > low && ab_flows_end_lru(flows, AB_FLOW_MEMCAP))
        c->stats->stream_evictions++;
}

struct ab_capture {
    ab_capture_opts o; /* a copy: the caller's may go */
    ab_capture_stats stats;
    cap c;
    ab_decoder *dec; /* owned */
    ab_flows *flows; /* owned */
    int finished;    /* ab_capture_finish ran */
};

ab_status ab_capture_new(const ab_capture_opts *opts, const ab_capture_out *out, ab_capture **res)
{
    *res = NULL;
    if (opts && opts->n_skip_flows > AB_MAX_SKIP_FLOWS)
        return AB_ERR_ARG;
    ab_capture *k = calloc(1, sizeof(*k));
    if (!k)
        return AB_ERR_NOMEM;
    if (opts)
        k->o = *opts;
    else
        ab_capture_opts_default(&k->o);
    /* observables come here first (obs_keep), the rest straight to out */
    k->c = (cap){
        .o = &k->o,
        .out = out,
        .stats = &k->stats,
        .mem = {0, k->o.stream_memcap, 0},
        .net = {&k->c, obs_keep, fwd_object, out->net.record ? fwd_record : NULL, fwd_error},
    };
    k->o.app.mem = &k->c.mem;
    fault_init(&k->c);
    ab_status st = ab_decoder_new(&k->o.decode, &k->dec);
    ab_flow_cb cb = {&k->c, on_open, on_data, on_gap, on_dgram, on_close};
    if (st == AB_OK)
        st = ab_flows_new(&k->o.flow, &cb, &k->flows);
    if (st != AB_OK) {
        ab_capture_free(k);
        return st;
    }
    *res = k;
    return AB_OK;
}

int ab_flow_key_has(const ab_flow_key *k, const ab_pkt *p)
{
    if (p->proto != k->proto)
        return 0;
    if (p->sport == k->pa && p->dport == k->pb && !memcmp(&p->src, &k->a, sizeof(p->src)) &&
        !memcmp(&p->dst, &k->b, sizeof(p->dst)))
        return 1;
    return p->sport == k->pb && p->dport == k->pa && !memcmp(&p->src, &k->b, sizeof(p->src)) &&
           !memcmp(&p->dst, &k->a, sizeof(p->dst));
}

static int skipped_flow(const ab_capture_opts *o, const ab_pkt *p)
{
    for (size_t i = 0; i < o->n_skip_flows; i++)
        if (ab_flow_key_has(&o->skip_flows[i], p))
            return 1;
    return 0;
}

/* One frame counted; decoded and given to the flows unless skip. */
static void frame_in(ab_capture *k, int linktype, uint64_t ts_us, const uint8_t *data,
                     size_t caplen, size_t wirelen, int skip)
{
    k->stats.frames++;
    k->stats.bytes += caplen;
    if (k->c.out->frame_at && !k->finished) /* before its callbacks: the frame in flight */
        __atomic_store_n(k->c.out->frame_at, k->stats.frames, __ATOMIC_RELAXED);
    if (skip || k->finished)
        return;
    ab_pkt p;
    if (ab_decode(k->dec, linktype, ts_us, data, caplen, wirelen, &p) == 1 &&
        !(k->o.n_skip_flows && skipped_flow(&k->o, &p)))
        ab_flows_packet(k->flows, &p);
    if (k->c.untold) /* values_now: on_close clears it for a flow that ended in this frame */
        tell_values(&k->c, k->c.untold);
    if (k->c.mem.used > k->o.stream_memcap - k->o.stream_memcap / 8)
        end_over_memcap(&k->c, k->flows);
}

void ab_capture_frame(ab_capture *k, int linktype, uint64_t ts_us, const uint8_t *data,
                      size_t caplen, size_t wirelen)
{
    frame_in(k, linktype, ts_us, data, caplen, wirelen, 0);
}

void ab_capture_tick(ab_capture *k, uint64_t now_us)
{
    if (!k->finished)
        ab_flows_tick(k->flows, now_us);
}

void ab_capture_finish(ab_capture *k)
{
    if (k->finished)
        return;
    if (k->c.out->frame_at) /* the flush: no frame of its own */
        __atomic_store_n(k->c.out->frame_at, AB_CAPTURE_FRAME_END, __ATOMIC_RELAXED);
    ab_flows_flush(k->flows);
    k->finished = 1;
}

void ab_capture_get_stats(const ab_capture *k, ab_capture_stats *stats)
{
    *stats = k->stats;
    stats->memcap_cuts += k->c.mem.cuts; /* payloads the parsers cut at the same cap */
    ab_decoder_stats(k->dec, &stats->decode);
    ab_flows_stats(k->flows, &stats->flow);
}

void ab_capture_free(ab_capture *k)
{
    if (!k)
        return;
    ab_flows_free(k->flows); /* flushes what is left: every flow's state is freed in on_close */
    ab_decoder_free(k->dec);
    free(k);
}

ab_status ab_capture_read(ab_capture *k, const uint8_t *data, size_t size, char *err, size_t errlen)
{
    const ab_capture_out *out = k->c.out;
    if (errlen)
        err[0] = '\0';
    ab_pcapsrc *src = NULL;
    ab_status st = ab_pcap_open_mem(data, size, &src, err, errlen);
    if (st != AB_OK)
        return st;
    for (;;) {
        const uint8_t *frame;
        size_t caplen, wirelen;
        uint64_t ts;
        int linktype;
        int r = ab_pcap_next(src, &frame, &caplen, &wirelen, &ts, &linktype);
        if (r < 0 && errlen) /* a capture cut short: what was read stands, err says where */
            snprintf(err, errlen, "%s", ab_pcap_error(src));
        if (r <= 0)
            break;
        uint64_t n = k->stats.frames + 1;
        if (n % PROGRESS_FRAMES == 0) {
            if (out->progress)
                out->progress(out->net.ctx, n);
            if (out->stopped && out->stopped(out->net.ctx)) {
                k->stats.frames = n; /* counted, as before the split into calls */
                k->stats.bytes += caplen;
                break;
            }
        }
        frame_in(k, linktype, ts, frame, caplen, wirelen, n <= k->o.skip_frames);
        if (k->o.drop_behind && k->stats.frames % DROP_FRAMES == 0)
            ab_pcap_drop_behind(src);
    }
    ab_capture_finish(k);
    if (out->progress)
        out->progress(out->net.ctx, k->stats.frames);
    ab_pcap_close(src);
    return AB_OK;
}

ab_status ab_capture_run(const uint8_t *data, size_t size, const ab_capture_opts *opts,
                         const ab_capture_out *out, ab_capture_stats *stats, char *err,
                         size_t errlen)
{
    ab_capture_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    if (errlen)
        err[0] = '\0';
    ab_capture *k = NULL;
    ab_status st = ab_capture_new(opts, out, &k);
    if (st == AB_OK)
        st = ab_capture_read(k, data, size, err, errlen);
    if (k && st == AB_OK)
        ab_capture_get_stats(k, stats);
    ab_capture_free(k);
    return st;
}
