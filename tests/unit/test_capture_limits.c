/* test_capture_limits.c: the bounds of the capture pipeline (src/net/capture.c) over captures
 * built here (pcap, LINKTYPE_RAW IPv4): values kept with their flow direction carry the time of
 * the packet they were read in, not the flow's end; stream bytes kept past stream_memcap end the
 * least recently active flows early (their streams given whole, the flows after them keep room);
 * max_flows evicts; the counters say so; with drop_behind the pages of a mapped capture behind
 * the reader are given back (RssFile of /proc/self/status stays small), and without it they are
 * not (so the check can fail); frame_at says the frame a flow ends in, and skip_frames resumes
 * after one; with values_now, values come at the end of the frame they were read in. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/capture.h"
#include "net/flow.h"

#define T0 1700000000ull /* seconds */

/* ---- a pcap in memory ---- */

typedef struct pc {
    uint8_t *p;
    size_t len, cap;
} pc;

static void put(pc *c, const void *d, size_t n)
{
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 65536;
        while (cap < c->len + n)
            cap *= 2;
        c->p = realloc(c->p, cap);
        assert_non_null(c->p);
        c->cap = cap;
    }
    if (n) /* d may be NULL for an empty piece */
        memcpy(c->p + c->len, d, n);
    c->len += n;
}

static void put32(pc *c, uint32_t v)
{
    put(c, &v, 4);
}

static void pc_begin(pc *c)
{
    memset(c, 0, sizeof(*c));
    put32(c, 0xa1b2c3d4u);
    uint16_t ver[2] = {2, 4};
    put(c, ver, 4);
    put32(c, 0);
    put32(c, 0);
    put32(c, 65535);
    put32(c, 101); /* LINKTYPE_RAW */
}

static void be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, (uint16_t)(v >> 16));
    be16(p + 2, (uint16_t)v);
}

/* One IPv4 packet 10.0.<host>.1:<sport> -> 10.0.0.2:<dport> (TCP with flags and seq, or UDP
 * when flags < 0) at usec microseconds after T0. Checksums are not checked by the decoder. */
static void pc_pkt(pc *c, uint64_t usec, uint8_t host, uint16_t sport, uint16_t dport, int flags,
                   uint32_t seq, const void *data, size_t n)
{
    uint8_t h[40];
    int tcp = flags >= 0;
    size_t l4 = tcp ? 20 : 8;
    size_t tot = 20 + l4 + n;
    memset(h, 0, sizeof(h));
    h[0] = 0x45;
    be16(h + 2, (uint16_t)tot);
    h[8] = 64;
    h[9] = tcp ? 6 : 17;
    h[12] = 10, h[13] = 0, h[14] = host, h[15] = 1;
    h[16] = 10, h[17] = 0, h[18] = 0, h[19] = 2;
    be16(h + 20, sport);
    be16(h + 22, dport);
    if (tcp) {
        be32(h + 24, seq);
        h[32] = 5 << 4;
        h[33] = (uint8_t)flags;
        be16(h + 34, 65535);
    } else {
        be16(h + 24, (uint16_t)(8 + n));
    }
    uint64_t t = T0 * 1000000u + usec;
    put32(c, (uint32_t)(t / 1000000u));
    put32(c, (uint32_t)(t % 1000000u));
    put32(c, (uint32_t)tot);
    put32(c, (uint32_t)tot);
    put(c, h, 20 + l4);
    put(c, data, n);
}

/* ---- what the pipeline gives ---- */

#define MAXS 64

typedef struct got {
    int n_streams;
    struct {
        uint64_t id;
        int dir;
        size_t n;
        int truncated;
        size_t n_obs;
        char obs[8][64];
        double obs_time[8];
    } s[MAXS];
    int reasons[8];
} got;

static void on_stream(void *ctx, const ab_flow *f, int dir, const uint8_t *data, size_t n,
                      int truncated, const ab_observation *obs, size_t n_obs)
{
    got *g = ctx;
    (void)data;
    if (g->n_streams >= MAXS)
        return;
    int i = g->n_streams++;
    g->s[i].id = f->ref.id;
    g->s[i].dir = dir;
    g->s[i].n = n;
    g->s[i].truncated = truncated;
    g->s[i].n_obs = n_obs;
    for (size_t k = 0; k < n_obs && k < 8; k++) {
        snprintf(g->s[i].obs[k], sizeof(g->s[i].obs[k]), "%s=%.*s", obs[k].where, (int)obs[k].len,
                 obs[k].value);
        g->s[i].obs_time[k] = obs[k].time;
    }
}

static void on_flow_end(void *ctx, const ab_flow *f, int reason)
{
    got *g = ctx;
    (void)f;
    if (reason >= 0 && reason < 8)
        g->reasons[reason]++;
}

static ab_status run(const pc *c, const ab_capture_opts *o, got *g, ab_capture_stats *st)
{
    memset(g, 0, sizeof(*g));
    ab_capture_out out = {.net = {.ctx = g}, .stream = on_stream, .flow_end = on_flow_end};
    char err[256];
    return ab_capture_run(c->p, c->len, o, &out, st, err, sizeof(err));
}

/* ---- tests ---- */

/* A keep-alive HTTP connection: a request with Host c2.example at T0+2 s, another with Host
 * later.example at T0+50 s, the FIN at T0+100 s. Each value says its own packet's time. */
static void test_observable_packet_time(void **state)
{
    (void)state;
    pc c;
    pc_begin(&c);
    static const char r1[] = "GET /a HTTP/1.1\r\nHost: c2.example\r\n\r\n";
    static const char r2[] = "GET /b HTTP/1.1\r\nHost: later.example\r\n\r\n";
    uint32_t seq = 1000;
    pc_pkt(&c, 1000000, 0, 40000, 80, 0x02, seq - 1, NULL, 0); /* SYN at T0+1 */
    pc_pkt(&c, 2000000, 0, 40000, 80, 0x18, seq, r1, sizeof(r1) - 1);
    seq += sizeof(r1) - 1;
    pc_pkt(&c, 50000000, 0, 40000, 80, 0x18, seq, r2, sizeof(r2) - 1);
    seq += sizeof(r2) - 1;
    pc_pkt(&c, 100000000, 0, 40000, 80, 0x11, seq, NULL, 0);
    ab_capture_opts o;
    ab_capture_opts_default(&o);
    got g;
    ab_capture_stats st;
    assert_int_equal(run(&c, &o, &g, &st), AB_OK);
    int seen = 0;
    for (int i = 0; i < g.n_streams; i++) {
        if (g.s[i].dir != AB_DIR_TO_SERVER)
            continue;
        for (size_t k = 0; k < g.s[i].n_obs; k++) {
            if (!strcmp(g.s[i].obs[k], "http.host=c2.example")) {
                assert_true(g.s[i].obs_time[k] == (double)T0 + 2);
                seen |= 1;
            } else if (!strcmp(g.s[i].obs[k], "http.host=later.example")) {
                assert_true(g.s[i].obs_time[k] == (double)T0 + 50);
                seen |= 2;
            }
        }
    }
    assert_int_equal(seen, 3);
    free(c.p);
}

/* ---- values_now: a live capture's values as they are read ---- */

typedef struct vals {
    uint64_t cell; /* ab_capture_out.frame_at: the frame being read */
    int n;
    struct {
        uint16_t port; /* the flow's client port */
        int dir, first;
        uint64_t frame;
        size_t n;
        char v[256]; /* the values, "where=value;..." */
        double time; /* the first value's */
    } e[16];
    int streams;       /* stream() calls */
    size_t stream_obs; /* observables they carried */
    int stream_after;  /* the n of values calls when the first stream came */
} vals;

static void vals_values(void *ctx, const ab_flow *f, int dir, const ab_observation *obs, size_t n,
                        int first)
{
    vals *v = ctx;
    assert_true(v->n < 16);
    int i = v->n++;
    v->e[i].port = f->ref.client_port;
    v->e[i].dir = dir;
    v->e[i].first = first;
    v->e[i].frame = v->cell;
    v->e[i].n = n;
    size_t at = 0;
    for (size_t k = 0; k < n && at < sizeof(v->e[i].v); k++)
        at += (size_t)snprintf(v->e[i].v + at, sizeof(v->e[i].v) - at, "%s=%.*s;", obs[k].where,
                               (int)obs[k].len, obs[k].value);
    if (n)
        v->e[i].time = obs[0].time;
}

static void vals_stream(void *ctx, const ab_flow *f, int dir, const uint8_t *data, size_t n,
                        int truncated, const ab_observation *obs, size_t n_obs)
{
    vals *v = ctx;
    (void)f, (void)dir, (void)data, (void)n, (void)truncated, (void)obs;
    if (!v->streams++)
        v->stream_after = v->n;
    v->stream_obs += n_obs;
}

/* Two HTTP flows, A (port 40000) and B (40001), interleaved; A asks for c2.example twice and then
 * later.example, and ends with a FIN; B is still open at the end of the capture. With values_now
 * each value comes at the end of the frame it was read in, once; a flow's first call (first=1,
 * for its endpoints) at the end of its first frame; the streams then carry no value. Without
 * values_now, values() is never called and the streams carry them all. */
static void test_values_now(void **state)
{
    (void)state;
    pc c;
    pc_begin(&c);
    static const char r1[] = "GET /a HTTP/1.1\r\nHost: c2.example\r\n\r\n";
    static const char r2[] = "GET /b HTTP/1.1\r\nHost: later.example\r\n\r\n";
    uint32_t a = 1000;
    pc_pkt(&c, 1000000, 0, 40000, 80, 0x02, a - 1, NULL, 0);        /* frame 1: A's SYN */
    pc_pkt(&c, 2000000, 0, 40000, 80, 0x18, a, r1, sizeof(r1) - 1); /* 2: c2.example */
    a += sizeof(r1) - 1;
    pc_pkt(&c, 3000000, 0, 40001, 80, 0x02, 4999, NULL, 0);         /* 3: B's SYN */
    pc_pkt(&c, 4000000, 0, 40000, 80, 0x18, a, r1, sizeof(r1) - 1); /* 4: c2.example again */
    a += sizeof(r1) - 1;
    pc_pkt(&c, 5000000, 0, 40000, 80, 0x18, a, r2, sizeof(r2) - 1); /* 5: later.example */
    a += sizeof(r2) - 1;
    pc_pkt(&c, 6000000, 0, 40000, 80, 0x11, a, NULL, 0); /* 6: A's FIN */
    for (int now = 1; now >= 0; now--) {
        vals v;
        memset(&v, 0, sizeof(v));
        ab_capture_opts o;
        ab_capture_opts_default(&o);
        o.values_now = now;
        ab_capture_out out = {
            .net = {.ctx = &v}, .stream = vals_stream, .values = vals_values, .frame_at = &v.cell};
        ab_capture_stats st;
        char err[256];
        assert_int_equal(ab_capture_run(c.p, c.len, &o, &out, &st, err, sizeof(err)), AB_OK);
        if (!now) {
            assert_int_equal(v.n, 0);
            assert_int_equal(v.stream_obs, 4); /* the two Hosts and URLs */
            continue;
        }
        assert_int_equal(v.n, 4);
        /* frame 1: A's first call, no value yet */
        assert_int_equal(v.e[0].port, 40000);
        assert_int_equal(v.e[0].frame, 1);
        assert_int_equal(v.e[0].first, 1);
        assert_int_equal(v.e[0].dir, AB_DIR_TO_SERVER);
        assert_int_equal(v.e[0].n, 0);
        /* frame 2: its Host, at that packet's time */
        assert_int_equal(v.e[1].port, 40000);
        assert_int_equal(v.e[1].frame, 2);
        assert_int_equal(v.e[1].first, 0);
        assert_int_equal(v.e[1].n, 2); /* its Host and its URL */
        assert_non_null(strstr(v.e[1].v, "http.host=c2.example;"));
        assert_true(v.e[1].time == (double)T0 + 2);
        /* frame 3: B's first call; frame 4 repeats a value: no call */
        assert_int_equal(v.e[2].port, 40001);
        assert_int_equal(v.e[2].frame, 3);
        assert_int_equal(v.e[2].first, 1);
        assert_int_equal(v.e[2].n, 0);
        assert_int_equal(v.e[3].port, 40000);
        assert_int_equal(v.e[3].frame, 5);
        assert_int_equal(v.e[3].n, 2);
        assert_non_null(strstr(v.e[3].v, "http.host=later.example;"));
        /* the streams come after, without the values already given */
        assert_true(v.streams >= 2); /* A's and B's client sides */
        assert_int_equal(v.stream_after, 4);
        assert_int_equal(v.stream_obs, 0);
    }
    free(c.p);
}

/* ---- the frame in flight (frame_at) and a resume (skip_frames) ---- */

typedef struct at {
    uint64_t cell;    /* ab_capture_out.frame_at */
    uint64_t when[8]; /* the cell as each flow's stream was given, by flow number */
    uint16_t port[8]; /* that flow's client port */
    int n;
    ab_capture_flow_at flow; /* ab_capture_out.flow_at */
    uint64_t flow_frame[8];  /* flow.frame as each stream was given */
    uint16_t flow_port[8];   /* flow.client_port then */
    uint64_t flow_id[8];     /* flow.id then */
} at;

static void at_stream(void *ctx, const ab_flow *f, int dir, const uint8_t *data, size_t n,
                      int truncated, const ab_observation *obs, size_t n_obs)
{
    at *a = ctx;
    (void)data, (void)n, (void)truncated, (void)obs, (void)n_obs;
    if (dir != AB_DIR_TO_SERVER || a->n >= 8)
        return;
    a->when[a->n] = __atomic_load_n(&a->cell, __ATOMIC_RELAXED);
    a->flow_frame[a->n] = __atomic_load_n(&a->flow.frame, __ATOMIC_RELAXED);
    a->flow_port[a->n] = a->flow.client_port;
    a->flow_id[a->n] = a->flow.id;
    a->port[a->n++] = f->ref.client_port;
}

/* Three flows in turn, each SYN, data, RST (frames 3i+1..3i+3; the RST ends the flow in its own
 * frame): each stream is given while the cell says the frame it ends in; after the run the cell
 * says the end. Resumed after frame 3, the first flow is not read and the others are given in the
 * same frames; every frame is still counted. While a flow is worked on (its close, here), flow_at
 * names it with the frame it is in. */
static void test_frame_at_and_skip(void **state)
{
    (void)state;
    pc c;
    pc_begin(&c);
    static const char d[] = "hello";
    for (int i = 0; i < 3; i++) {
        uint16_t sp = (uint16_t)(42000 + i);
        uint64_t t = (uint64_t)i * 10000;
        pc_pkt(&c, t + 1000, 0, sp, 7000, 0x02, 999, NULL, 0);
        pc_pkt(&c, t + 2000, 0, sp, 7000, 0x18, 1000, d, sizeof(d) - 1);
        pc_pkt(&c, t + 3000, 0, sp, 7000, 0x04, 1005, NULL, 0);
    }
    for (uint64_t skip = 0; skip <= 3; skip += 3) {
        at a;
        memset(&a, 0, sizeof(a));
        ab_capture_opts o;
        ab_capture_opts_default(&o);
        o.skip_frames = skip;
        ab_capture_out out = {
            .net = {.ctx = &a}, .stream = at_stream, .frame_at = &a.cell, .flow_at = &a.flow};
        ab_capture_stats st;
        char err[256];
        assert_int_equal(ab_capture_run(c.p, c.len, &o, &out, &st, err, sizeof(err)), AB_OK);
        assert_true(a.cell == AB_CAPTURE_FRAME_END);
        assert_int_equal(st.frames, 9);
        int first = skip ? 1 : 0;
        assert_int_equal(a.n, 3 - first);
        for (int k = 0; k < a.n; k++) {
            assert_int_equal(a.port[k], 42000 + first + k);
            assert_int_equal(a.when[k], 3 * (uint64_t)(first + k) + 3);
            assert_int_equal(a.flow_frame[k], a.when[k]);
            assert_int_equal(a.flow_port[k], a.port[k]);
            assert_int_equal(a.flow_id[k], (uint64_t)k + 1); /* ids of this capture, from 1 */
        }
        assert_int_equal(a.flow.server_port, 7000);
        assert_int_equal(a.flow.proto, 6);
    }
    free(c.p);
}

/* skip_flows: the packets of a flow given up (either way) are not read; the others are, and
 * every frame is still counted. */
static void test_skip_flows(void **state)
{
    (void)state;
    pc c;
    pc_begin(&c);
    static const char d[] = "hello";
    for (int i = 0; i < 3; i++) {
        uint16_t sp = (uint16_t)(42000 + i);
        uint64_t t = (uint64_t)i * 10000;
        pc_pkt(&c, t + 1000, 0, sp, 7000, 0x02, 999, NULL, 0);
        pc_pkt(&c, t + 2000, 0, sp, 7000, 0x18, 1000, d, sizeof(d) - 1);
        pc_pkt(&c, t + 3000, 0, sp, 7000, 0x04, 1005, NULL, 0);
    }
    for (int order = 0; order <= 1; order++) { /* the key's ends either way round */
        ab_capture_opts o;
        ab_capture_opts_default(&o);
        ab_flow_key *k = &o.skip_flows[0];
        memset(k, 0, sizeof(*k));
        ab_ipaddr cli = {{0}}, srv = {{0}};
        cli.b[10] = cli.b[11] = srv.b[10] = srv.b[11] = 0xff; /* ::ffff:10.0.0.1, 10.0.0.2 */
        cli.b[12] = srv.b[12] = 10;
        cli.b[15] = 1;
        srv.b[15] = 2;
        k->a = order ? srv : cli;
        k->b = order ? cli : srv;
        k->pa = order ? 7000 : 42001;
        k->pb = order ? 42001 : 7000;
        k->proto = 6;
        o.n_skip_flows = 1;
        got g;
        ab_capture_stats st;
        assert_int_equal(run(&c, &o, &g, &st), AB_OK);
        assert_int_equal(st.frames, 9);
        assert_int_equal(st.flow.flows, 2);     /* the flows of ports 42000 and 42002 */
        assert_int_equal(g.n_streams, 2);       /* their client sides (nothing came back) */
        o.n_skip_flows = AB_MAX_SKIP_FLOWS + 1; /* refused */
        ab_capture *cap;
        ab_capture_out out = {.stream = on_stream};
        assert_int_equal(ab_capture_new(&o, &out, &cap), AB_ERR_ARG);
    }
    free(c.p);
}

/* n flows, one after the other, each sending `each` bytes (not a known protocol) in 1 KiB
 * segments from port 41000 + i; none ends. */
static void serial_flows(pc *c, int n, size_t each)
{
    uint8_t buf[1024];
    memset(buf, 'x', sizeof(buf));
    uint64_t t = 0;
    pc_begin(c);
    for (int i = 0; i < n; i++) {
        uint32_t seq = 5000;
        for (size_t sent = 0; sent < each; sent += sizeof(buf)) {
            pc_pkt(c, t += 1000, 0, (uint16_t)(41000 + i), 9999, 0x18, seq, buf, sizeof(buf));
            seq += sizeof(buf);
        }
    }
}

/* 20 flows of 16 KiB with a 64 KiB stream memcap: the oldest end early (reason memcap), each
 * with its whole stream; the last flows still get theirs whole: the cap makes room (ending old
 * flows past 7/8 of it) rather than starving what comes after it. */
static void test_stream_memcap_ends_oldest(void **state)
{
    (void)state;
    pc c;
    serial_flows(&c, 20, 16384);
    ab_capture_opts o;
    ab_capture_opts_default(&o);
    o.stream_memcap = 65536;
    got g;
    ab_capture_stats st;
    assert_int_equal(run(&c, &o, &g, &st), AB_OK);
    assert_int_equal(st.flow.flows, 20);
    assert_true(st.stream_evictions >= 10);
    assert_int_equal(g.reasons[AB_FLOW_MEMCAP], (int)st.stream_evictions);
    assert_int_equal(g.reasons[AB_FLOW_END], 20 - (int)st.stream_evictions);
    assert_int_equal(st.memcap_cuts, 0);
    assert_int_equal(g.n_streams, 20);
    for (int i = 0; i < g.n_streams; i++) {
        assert_int_equal(g.s[i].id, i + 1); /* oldest first */
        assert_int_equal(g.s[i].n, 16384);
        assert_false(g.s[i].truncated);
    }
    free(c.p);
}

/* One packet that would take the kept bytes past the cap itself: what does not fit is not kept
 * (counted), then the flows end, least recent first, until at most 3/4 of the cap is kept. */
static void test_stream_memcap_cut(void **state)
{
    (void)state;
    static uint8_t big[16000];
    memset(big, 'b', sizeof(big));
    pc c;
    pc_begin(&c);
    pc_pkt(&c, 1000, 0, 41000, 9999, 0x18, 5000, big, 1024);        /* 4 KiB buffer */
    pc_pkt(&c, 2000, 0, 41001, 9999, 0x18, 5000, big, sizeof(big)); /* wants 16 KiB */
    ab_capture_opts o;
    ab_capture_opts_default(&o);
    o.stream_memcap = 16384;
    got g;
    ab_capture_stats st;
    assert_int_equal(run(&c, &o, &g, &st), AB_OK);
    assert_int_equal(st.memcap_cuts, 1);
    /* then both end: the older, and this one (alone still over 3/4 of the cap) */
    assert_int_equal(st.stream_evictions, 2);
    assert_int_equal(g.reasons[AB_FLOW_MEMCAP], 2);
    assert_int_equal(g.n_streams, 2);
    assert_int_equal(g.s[0].id, 1); /* the older flow, ended early, whole */
    assert_int_equal(g.s[0].n, 1024);
    assert_false(g.s[0].truncated);
    assert_int_equal(g.s[1].n, 16384 - 1024); /* what the cap left room for */
    assert_true(g.s[1].truncated);
    free(c.p);
}

/* Without a memcap in the way nothing ends early. */
static void test_stream_memcap_unreached(void **state)
{
    (void)state;
    pc c;
    serial_flows(&c, 20, 16384);
    ab_capture_opts o;
    ab_capture_opts_default(&o);
    got g;
    ab_capture_stats st;
    assert_int_equal(run(&c, &o, &g, &st), AB_OK);
    assert_int_equal(st.stream_evictions, 0);
    assert_int_equal(st.memcap_cuts, 0);
    assert_int_equal(g.reasons[AB_FLOW_END], 20);
    free(c.p);
}

/* ---- payloads count against the memcap too ---- */

typedef struct gotobj {
    int n;
    size_t len[32];
    int truncated[32];
} gotobj;

static void on_object(void *ctx, const ab_flow_ref *f, int dir, const char *const *names,
                      size_t n_names, const uint8_t *data, size_t len, const char *media_type,
                      int truncated)
{
    gotobj *g = ctx;
    (void)f, (void)dir, (void)names, (void)n_names, (void)data, (void)media_type;
    if (g->n < 32) {
        g->len[g->n] = len;
        g->truncated[g->n++] = truncated;
    }
}

/* The capture with streams not kept (only payloads take memory) and the given memcap. */
static ab_status run_payloads(const pc *c, size_t memcap, gotobj *g, ab_capture_stats *st)
{
    ab_capture_opts o;
    ab_capture_opts_default(&o);
    o.stream_memcap = memcap;
    o.keep_streams = 0;
    memset(g, 0, sizeof(*g));
    ab_capture_out out = {.net = {.ctx = g, .object = on_object}};
    char err[256];
    return ab_capture_run(c->p, c->len, &o, &out, st, err, sizeof(err));
}

/* 20 HTTP POSTs, each declaring a 1 MiB body and sending 16 KiB of it, none finished, streams not
 * kept: the bodies being assembled are what the memcap (64 KiB) counts, so the oldest flows end
 * early (their bodies given as far as they came), and no body is cut. Before payloads were
 * counted, all 20 bodies (1.3 MiB in all) were held at once and nothing ended early. */
static void test_payload_memcap(void **state)
{
    (void)state;
    static uint8_t body[1024];
    memset(body, 'p', sizeof(body));
    static const char head[] = "POST /up HTTP/1.1\r\nHost: h.example\r\n"
                               "Content-Length: 1048576\r\n\r\n";
    pc c;
    pc_begin(&c);
    uint64_t t = 0;
    for (int i = 0; i < 20; i++) {
        uint32_t seq = 5000;
        pc_pkt(&c, t += 1000, 0, (uint16_t)(42000 + i), 80, 0x18, seq, head, sizeof(head) - 1);
        seq += sizeof(head) - 1;
        for (int k = 0; k < 16; k++, seq += sizeof(body))
            pc_pkt(&c, t += 1000, 0, (uint16_t)(42000 + i), 80, 0x18, seq, body, sizeof(body));
    }
    gotobj g;
    ab_capture_stats st;
    assert_int_equal(run_payloads(&c, 65536, &g, &st), AB_OK);
    assert_int_equal(st.flow.flows, 20);
    assert_true(st.stream_evictions >= 10);
    assert_int_equal(st.memcap_cuts, 0);
    assert_int_equal(g.n, 20);
    for (int i = 0; i < g.n; i++) {
        assert_int_equal(g.len[i], 16384);   /* all that came, though less than declared */
        assert_int_equal(g.truncated[i], 0); /* ended early, not cut: all that came is kept */
    }
    free(c.p);
}

/* A body whose growth in one packet would pass the cap itself: the growth is refused, what the
 * buffer has room for is kept (the first KiB grew it to 2 KiB), the object is cut (truncated) and
 * counted in memcap_cuts. */
static void test_payload_memcap_cut(void **state)
{
    (void)state;
    static uint8_t body[1024];
    memset(body, 'q', sizeof(body));
    static const char head[] = "POST /up HTTP/1.1\r\nHost: h.example\r\n"
                               "Content-Length: 65536\r\n\r\n";
    pc c;
    pc_begin(&c);
    uint32_t seq = 5000;
    pc_pkt(&c, 1000, 0, 43000, 80, 0x18, seq, head, sizeof(head) - 1);
    seq += sizeof(head) - 1;
    static uint8_t big[40000];
    memset(big, 'q', sizeof(big));
    pc_pkt(&c, 2000, 0, 43000, 80, 0x18, seq, body, sizeof(body));
    seq += sizeof(body);
    pc_pkt(&c, 3000, 0, 43000, 80, 0x18, seq, big, sizeof(big));
    gotobj g;
    ab_capture_stats st;
    assert_int_equal(run_payloads(&c, 32768, &g, &st), AB_OK);
    assert_int_equal(st.memcap_cuts, 1);
    assert_int_equal(st.stream_evictions, 0); /* what it holds stayed small */
    assert_int_equal(g.n, 1);
    assert_int_equal(g.len[0], 2047); /* the 2 KiB buffer the first KiB took, filled */
    assert_int_equal(g.truncated[0], 1);
    free(c.p);
}

/* ---- ciphertext is not kept for stream rules ---- */

/* A ClientHello (TLS 1.2, one cipher, no extension), then two application_data records of
 * "ciphertext" in their own segments: the stream kept for rules is the hello and the segment
 * that ended the clear part (the parser learns it there), not what comes after it. Before
 * sealed directions, all 3 segments were kept. */
static void test_tls_ciphertext_not_kept(void **state)
{
    (void)state;
    uint8_t hello[5 + 4 + 2 + 32 + 1 + 4 + 2] = {22, 3, 1, 0, 45, 1, 0, 0, 41, 3, 3};
    uint8_t *q = hello + 5 + 4 + 2 + 32;
    *q++ = 0;                        /* session id */
    *q++ = 0, *q++ = 2, *q++ = 0xc0; /* one cipher: c02f */
    *q++ = 0x2f;
    *q++ = 1, *q++ = 0; /* compression: null */
    static const uint8_t app1[] = {23, 3, 3, 0, 7, 'S', 'E', 'A', 'L', 'E', 'D', '1'};
    static const uint8_t app2[] = {23, 3, 3, 0, 7, 'S', 'E', 'A', 'L', 'E', 'D', '2'};
    pc c;
    pc_begin(&c);
    uint32_t seq = 7000;
    pc_pkt(&c, 1000, 0, 44000, 443, 0x18, seq, hello, sizeof(hello));
    seq += sizeof(hello);
    pc_pkt(&c, 2000, 0, 44000, 443, 0x18, seq, app1, sizeof(app1));
    seq += sizeof(app1);
    pc_pkt(&c, 3000, 0, 44000, 443, 0x18, seq, app2, sizeof(app2));
    ab_capture_opts o;
    ab_capture_opts_default(&o);
    got g;
    ab_capture_stats st;
    assert_int_equal(run(&c, &o, &g, &st), AB_OK);
    assert_int_equal(st.app[1], 1); /* read as TLS (APP_TLS) */
    int found = 0;
    for (int i = 0; i < g.n_streams; i++) {
        if (g.s[i].dir != AB_DIR_TO_SERVER)
            continue;
        found = 1;
        assert_int_equal(g.s[i].n, sizeof(hello) + sizeof(app1));
        assert_false(g.s[i].truncated);
    }
    assert_true(found);
    free(c.p);
}

/* max_flows 4 and 10 flows: 6 evicted (the least recent), counted; depth cuts counted. */
static void test_max_flows_and_depth(void **state)
{
    (void)state;
    pc c;
    serial_flows(&c, 10, 4096);
    ab_capture_opts o;
    ab_capture_opts_default(&o);
    o.flow.max_flows = 4;
    o.flow.stream_depth = 2048;
    got g;
    ab_capture_stats st;
    assert_int_equal(run(&c, &o, &g, &st), AB_OK);
    assert_int_equal(st.flow.evicted, 6);
    assert_int_equal(g.reasons[AB_FLOW_EVICTED], 6);
    assert_int_equal(st.flow.depth_reached, 10);
    assert_true(st.flow.peak_active <= 4);
    for (int i = 0; i < g.n_streams; i++)
        assert_int_equal(g.s[i].n, 2048);
    free(c.p);
}

/* The process's resident file pages (kB), from /proc/self/status. */
static long rss_file_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "RssFile: %ld kB", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

/* A 16 MiB capture of UDP datagrams, mapped from a file: read with drop_behind, the process holds
 * at most a few MiB of it at the end; read without, all of it. */
static void test_drop_behind(void **state)
{
    (void)state;
    pc c;
    uint8_t buf[1400];
    memset(buf, 'u', sizeof(buf));
    pc_begin(&c);
    for (int i = 0; c.len < ((size_t)16 << 20); i++)
        pc_pkt(&c, (uint64_t)i * 10, (uint8_t)(i % 200), (uint16_t)(20000 + i % 50), 7777, -1, 0,
               buf, sizeof(buf));
    char path[] = "/tmp/test_capture_limits.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, c.p, c.len), (ssize_t)c.len);
    size_t size = c.len;
    free(c.p);
    long grew[2];
    for (int drop = 1; drop >= 0; drop--) {
        void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        assert_true(m != MAP_FAILED);
        long before = rss_file_kb();
        assert_true(before >= 0);
        ab_capture_opts o;
        ab_capture_opts_default(&o);
        o.drop_behind = drop;
        o.keep_streams = 0;
        ab_capture_out out = {.net = {.ctx = NULL}};
        ab_capture_stats st;
        char err[256];
        assert_int_equal(ab_capture_run(m, size, &o, &out, &st, err, sizeof(err)), AB_OK);
        assert_true(st.frames > 10000);
        grew[drop] = rss_file_kb() - before;
        munmap(m, size);
    }
    close(fd);
    /* 16384 kB read: dropped, what stays is the last MiB or two */
    assert_true(grew[1] < 4096);
    assert_true(grew[0] > 12288);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_observable_packet_time),
        cmocka_unit_test(test_values_now),
        cmocka_unit_test(test_frame_at_and_skip),
        cmocka_unit_test(test_skip_flows),
        cmocka_unit_test(test_stream_memcap_ends_oldest),
        cmocka_unit_test(test_stream_memcap_unreached),
        cmocka_unit_test(test_stream_memcap_cut),
        cmocka_unit_test(test_payload_memcap),
        cmocka_unit_test(test_payload_memcap_cut),
        cmocka_unit_test(test_tls_ciphertext_not_kept),
        cmocka_unit_test(test_max_flows_and_depth),
        cmocka_unit_test(test_drop_behind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
