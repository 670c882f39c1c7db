/* test_flow.c: the flow table and TCP reassembly (src/net/flow.c, reassembly.c) over ab_pkt built
 * here: the handshake and data both ways, mid-stream pick-up and SYN/ACK-first direction,
 * out-of-order delivery, retransmissions, overlaps (first wins: the exact bytes delivered),
 * sequence wrap-around, gaps (lost bytes given up at a cap, on an ACK past them, a short capture,
 * at flush), the stream depth, FIN/RST/timeout/eviction and their counts, LRU eviction order,
 * 100k flows within max_flows, UDP flows, port reuse and flush. Every stream is asserted byte for
 * byte, a gap written into it as "<gapN>". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/flow.h"

#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

#define MAXF   16
#define STREAM 4096

typedef struct frec {
    uint64_t id;
    char s[2][STREAM]; /* what data() gave, "<gapN>" for a gap */
    size_t len[2];
    int ndata[2], ngap[2], ndgram[2];
    int reason; /* 0 while open */
    ab_flow_ref ref;
    int midstream;
    uint64_t pkts[2], bytes[2], delivered[2], first_us, last_us; /* at close */
} frec;

typedef struct col {
    frec f[MAXF];
    int n;
    int opens, closes, reasons[8];
    int bad;    /* a callback for a flow not open */
    int record; /* 0: count only (many flows) */
    uint64_t closed_ids[8];
    int nclosed_ids;
} col;

static void append(frec *r, int dir, const void *d, size_t n)
{
    assert_true(r->len[dir] + n < STREAM);
    memcpy(r->s[dir] + r->len[dir], d, n);
    r->len[dir] += n;
    r->s[dir][r->len[dir]] = 0;
}

static void cb_open(void *ctx, ab_flow *f)
{
    col *c = ctx;
    c->opens++;
    if (f->user)
        c->bad++;
    if (!c->record) {
        f->user = c; /* any non-NULL */
        return;
    }
    assert_true(c->n < MAXF);
    frec *r = &c->f[c->n++];
    memset(r, 0, sizeof(*r));
    r->id = f->ref.id;
    r->ref = f->ref;
    r->midstream = f->midstream;
    f->user = r;
}

static void cb_data(void *ctx, ab_flow *f, int dir, const uint8_t *d, size_t n)
{
    col *c = ctx;
    if (!f->user || n == 0)
        c->bad++;
    if (!c->record || !f->user)
        return;
    frec *r = f->user;
    r->ndata[dir]++;
    append(r, dir, d, n);
}

static void cb_gap(void *ctx, ab_flow *f, int dir, uint64_t n)
{
    col *c = ctx;
    if (!f->user)
        c->bad++;
    if (!c->record || !f->user)
        return;
    frec *r = f->user;
    char m[32];
    int k = snprintf(m, sizeof(m), "<gap%llu>", (unsigned long long)n);
    r->ngap[dir]++;
    append(r, dir, m, (size_t)k);
}

static void cb_dgram(void *ctx, ab_flow *f, int dir, const ab_pkt *p)
{
    col *c = ctx;
    if (!f->user)
        c->bad++;
    if (!c->record || !f->user)
        return;
    frec *r = f->user;
    r->ndgram[dir]++;
    append(r, dir, p->payload, p->payload_len);
    append(r, dir, "|", 1);
}

static void cb_close(void *ctx, ab_flow *f, int reason)
{
    col *c = ctx;
    c->closes++;
    if (!f->user)
        c->bad++;
    if (reason > 0 && reason < 8)
        c->reasons[reason]++;
    if (c->nclosed_ids < 8)
        c->closed_ids[c->nclosed_ids++] = f->ref.id;
    if (c->record && f->user) {
        frec *r = f->user;
        r->reason = reason;
        for (int d = 0; d < 2; d++) {
            r->pkts[d] = f->pkts[d];
            r->bytes[d] = f->bytes[d];
            r->delivered[d] = f->delivered[d];
        }
        r->first_us = f->first_us;
        r->last_us = f->last_us;
    }
    f->user = NULL;
}

static ab_flows *table(col *c, const ab_flow_limits *lim)
{
    memset(c, 0, sizeof(*c));
    c->record = 1;
    ab_flow_cb cb = {c, cb_open, cb_data, cb_gap, cb_dgram, cb_close};
    ab_flows *t = NULL;
    assert_int_equal(ab_flows_new(lim, &cb, &t), AB_OK);
    assert_non_null(t);
    return t;
}

static ab_flow_stats stats(const ab_flows *t)
{
    ab_flow_stats s;
    ab_flows_stats(t, &s);
    return s;
}

/* Endpoints: the client 10.0.0.1:40000 and server 10.0.0.2:80 unless a test moves them. */
static ab_ipaddr addr(uint8_t last)
{
    ab_ipaddr a;
    uint8_t v4[4] = {10, 0, 0, last};
    ab_ipaddr_from_v4(&a, v4);
    return a;
}

static uint64_t now_us = 1000000;

static ab_pkt pkt_ep(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint8_t flags,
                     uint32_t seq, uint32_t ack, const char *data)
{
    ab_pkt p;
    memset(&p, 0, sizeof(p));
    p.ts_us = now_us;
    p.ipver = 4;
    p.proto = 6;
    p.src = addr(src);
    p.dst = addr(dst);
    p.sport = sport;
    p.dport = dport;
    p.tcp_flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.win = 65535;
    p.payload = (const uint8_t *)data;
    p.payload_len = data ? strlen(data) : 0;
    return p;
}

/* to_server: from the client 10.0.0.1:40000; else from the server 10.0.0.2:80. */
static void tcp(ab_flows *t, int to_server, uint8_t flags, uint32_t seq, uint32_t ack,
                const char *data)
{
    ab_pkt p = to_server ? pkt_ep(1, 40000, 2, 80, flags, seq, ack, data)
                         : pkt_ep(2, 80, 1, 40000, flags, seq, ack, data);
    ab_flows_packet(t, &p);
}

#define C2S  1
#define S2C  0
#define CISN 1000u
#define SISN 5000u

static void handshake(ab_flows *t)
{
    tcp(t, C2S, SYN, CISN, 0, NULL);
    tcp(t, S2C, SYN | ACK, SISN, CISN + 1, NULL);
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, NULL);
}

static void test_handshake_both_ways(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    handshake(t);
    assert_int_equal(c.opens, 1);
    tcp(t, C2S, PSH | ACK, CISN + 1, SISN + 1, "GET / HTTP/1.1\r\n");
    tcp(t, C2S, PSH | ACK, CISN + 17, SISN + 1, "Host: x\r\n\r\n");
    tcp(t, S2C, ACK, SISN + 1, CISN + 28, "HTTP/1.1 200 OK\r\n");
    tcp(t, S2C, PSH | ACK, SISN + 18, CISN + 28, "\r\nhello");
    tcp(t, C2S, FIN | ACK, CISN + 28, SISN + 25, NULL);
    assert_int_equal(c.closes, 0);
    tcp(t, S2C, FIN | ACK, SISN + 25, CISN + 29, NULL);
    assert_int_equal(c.closes, 1);
    assert_int_equal(c.reasons[AB_FLOW_FIN], 1);
    /* The last ACK and a retransmitted FIN: absorbed by the closed flow, no new flow. */
    tcp(t, C2S, ACK, CISN + 29, SISN + 26, NULL);
    tcp(t, S2C, FIN | ACK, SISN + 25, CISN + 29, NULL);

    frec *r = &c.f[0];
    assert_string_equal(r->s[AB_DIR_TO_SERVER], "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_string_equal(r->s[AB_DIR_TO_CLIENT], "HTTP/1.1 200 OK\r\n\r\nhello");
    assert_int_equal(r->ndata[0], 2); /* one call per in-order segment: no copy, no merge */
    assert_int_equal(r->ngap[0] + r->ngap[1], 0);
    assert_int_equal(r->reason, AB_FLOW_FIN);
    assert_int_equal(r->id, 1);
    assert_int_equal(r->midstream, 0);
    assert_int_equal(r->ref.proto, 6);
    assert_int_equal(r->ref.client_port, 40000);
    assert_int_equal(r->ref.server_port, 80);
    ab_ipaddr a1 = addr(1), a2 = addr(2);
    assert_memory_equal(r->ref.client.b, a1.b, 16);
    assert_memory_equal(r->ref.server.b, a2.b, 16);
    ab_flow_stats s = stats(t);
    assert_int_equal(s.flows, 1);
    assert_int_equal(s.tcp, 1);
    assert_int_equal(s.active, 0);
    assert_int_equal(s.peak_active, 1);
    assert_int_equal(s.retransmissions + s.overlaps + s.gaps + s.ooo_segments, 0);
    assert_int_equal(s.midstream, 0);
    ab_flows_free(t);
    assert_int_equal(c.closes, 1);
    assert_int_equal(c.bad, 0);
}

static void test_counts_per_direction(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    handshake(t);
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, "abc");
    tcp(t, S2C, ACK, SISN + 1, CISN + 4, "defgh");
    ab_pkt p = pkt_ep(1, 40000, 2, 80, ACK, CISN + 4, SISN + 6, "ij");
    p.ts_us = now_us + 5;
    p.payload_missing = 3; /* counted in bytes, a gap in the stream */
    ab_flows_packet(t, &p);
    p = pkt_ep(1, 40000, 2, 80, ACK, CISN + 4, SISN + 6, "ij"); /* retransmitted, older clock */
    p.ts_us = now_us - 5;
    ab_flows_packet(t, &p);
    ab_flows_flush(t);
    frec *r = &c.f[0];
    assert_string_equal(r->s[0], "abcij<gap3>");
    assert_string_equal(r->s[1], "defgh");
    assert_int_equal(r->reason, AB_FLOW_END);
    assert_int_equal(r->pkts[AB_DIR_TO_SERVER], 5);
    assert_int_equal(r->pkts[AB_DIR_TO_CLIENT], 2);
    assert_int_equal(r->bytes[AB_DIR_TO_SERVER], 3 + 5 + 2);
    assert_int_equal(r->bytes[AB_DIR_TO_CLIENT], 5);
    assert_int_equal(r->delivered[AB_DIR_TO_SERVER], 5);
    assert_int_equal(r->delivered[AB_DIR_TO_CLIENT], 5);
    assert_int_equal(r->first_us, now_us);
    assert_int_equal(r->last_us, now_us + 5);
    ab_flows_free(t);
}

/* Picked up mid-stream: the higher port is the client; a SYN/ACK first makes its sender the
 * server. */
static void test_midstream(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    /* The server speaks first (its port is lower). */
    tcp(t, S2C, PSH | ACK, 777777, 123, "220 smtp ready\r\n");
    tcp(t, C2S, PSH | ACK, 123, 777793, "EHLO x\r\n");
    tcp(t, S2C, PSH | ACK, 777793, 131, "250 ok\r\n");
    frec *r = &c.f[0];
    assert_int_equal(r->midstream, 1);
    assert_int_equal(r->ref.client_port, 40000);
    assert_int_equal(r->ref.server_port, 80);
    assert_string_equal(r->s[AB_DIR_TO_CLIENT], "220 smtp ready\r\n250 ok\r\n");
    assert_string_equal(r->s[AB_DIR_TO_SERVER], "EHLO x\r\n");
    /* Pure ACKs do not start a direction; the first data packet does. */
    ab_pkt p = pkt_ep(3, 1234, 4, 5555, ACK, 50, 60, NULL);
    ab_flows_packet(t, &p);
    p = pkt_ep(3, 1234, 4, 5555, ACK, 70, 60, "late");
    ab_flows_packet(t, &p);
    frec *r2 = &c.f[1];
    assert_int_equal(r2->midstream, 1);
    assert_int_equal(r2->ref.client_port, 5555); /* the higher port */
    assert_string_equal(r2->s[AB_DIR_TO_CLIENT], "late");
    /* Equal ports: the lower address is the client. */
    p = pkt_ep(9, 443, 8, 443, ACK, 1, 1, "x");
    ab_flows_packet(t, &p);
    ab_ipaddr a8 = addr(8);
    assert_memory_equal(c.f[2].ref.client.b, a8.b, 16);
    assert_string_equal(c.f[2].s[AB_DIR_TO_CLIENT], "x");
    /* SYN/ACK first: its sender is the server, though its port is higher. */
    p = pkt_ep(5, 9000, 6, 80, SYN | ACK, 100, 200, NULL);
    ab_flows_packet(t, &p);
    p = pkt_ep(5, 9000, 6, 80, ACK, 101, 200, "resp");
    ab_flows_packet(t, &p);
    assert_int_equal(c.f[3].midstream, 0);
    assert_int_equal(c.f[3].ref.server_port, 9000);
    assert_string_equal(c.f[3].s[AB_DIR_TO_CLIENT], "resp");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.midstream, 3);
    assert_int_equal(s.flows, 4);
    ab_flows_free(t);
    assert_int_equal(c.closes, 4);
    assert_int_equal(c.bad, 0);
}

static void test_out_of_order(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    handshake(t);
    tcp(t, C2S, ACK, CISN + 7, SISN + 1, "ghi");
    tcp(t, C2S, ACK, CISN + 10, SISN + 1, "jkl");
    assert_int_equal(c.f[0].len[0], 0);
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, "abc");
    assert_string_equal(c.f[0].s[0], "abc");
    tcp(t, C2S, ACK, CISN + 4, SISN + 1, "def");
    assert_string_equal(c.f[0].s[0], "abcdefghijkl");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.ooo_segments, 2);
    assert_int_equal(s.held_bytes, 0);
    assert_true(s.peak_held_bytes >= 6);
    assert_int_equal(s.gaps, 0);
    /* Server side, reversed order of five. */
    const char *w[] = {"11", "22", "33", "44", "55"};
    for (int i = 4; i >= 0; i--)
        tcp(t, S2C, ACK, SISN + 1 + 2 * (uint32_t)i, CISN + 13, w[i]);
    assert_string_equal(c.f[0].s[1], "1122334455");
    assert_int_equal(c.f[0].ndata[1], 5);
    ab_flows_free(t);
    assert_int_equal(c.bad, 0);
}

static void test_retransmission(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    handshake(t);
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, "hello ");
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, "hello ");
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, "HELLO "); /* different bytes: delivered ones win */
    tcp(t, C2S, ACK, CISN + 7, SISN + 1, "world");
    tcp(t, C2S, ACK, CISN + 3, SISN + 1, "llo"); /* inside what was delivered */
    /* A held segment sent twice with the same bytes is a retransmission too. */
    tcp(t, C2S, ACK, CISN + 20, SISN + 1, "zz");
    tcp(t, C2S, ACK, CISN + 20, SISN + 1, "zz");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.retransmissions, 4);
    assert_int_equal(s.overlaps, 0);
    assert_string_equal(c.f[0].s[0], "hello world");
    ab_flows_flush(t);
    assert_string_equal(c.f[0].s[0], "hello world<gap8>zz");
    ab_flows_free(t);
}

/* First wins: bytes delivered or held win over every later copy. */
static void test_overlaps_first_wins(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    handshake(t);
    uint32_t b = CISN + 1;
    tcp(t, C2S, ACK, b + 4, SISN + 1, "EFGH"); /* held [4,8) */
    tcp(t, C2S, ACK, b, SISN + 1, "abcdefgh"); /* [0,8): the held EFGH wins */
    assert_string_equal(c.f[0].s[0], "abcdEFGH");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.overlaps, 1);
    assert_int_equal(s.overlap_conflicts, 1);
    tcp(t, C2S, ACK, b + 6, SISN + 1, "zzzzzz"); /* [6,12): only [8,12) is new */
    assert_string_equal(c.f[0].s[0], "abcdEFGHzzzz");
    s = stats(t);
    assert_int_equal(s.overlaps, 2);
    assert_int_equal(s.overlap_conflicts, 1); /* delivered bytes are not kept to compare */
    /* Held pieces with holes between; a later segment across them fills only the holes. */
    tcp(t, C2S, ACK, b + 14, SISN + 1, "NO");       /* [14,16) */
    tcp(t, C2S, ACK, b + 18, SISN + 1, "RS");       /* [18,20) */
    tcp(t, C2S, ACK, b + 13, SISN + 1, "mnopqrst"); /* [13,21): new m, pq, t */
    s = stats(t);
    assert_int_equal(s.overlaps, 3);
    assert_int_equal(s.overlap_conflicts, 2);
    assert_true(s.held_bytes > 8); /* still held: the hole at 12 */
    tcp(t, C2S, ACK, b + 12, SISN + 1, "L");
    assert_string_equal(c.f[0].s[0], "abcdEFGHzzzzLmNOpqRSt");
    /* An identical overlap is no conflict. */
    tcp(t, C2S, ACK, b + 25, SISN + 1, "xyz");
    tcp(t, C2S, ACK, b + 24, SISN + 1, "wxyz!");
    s = stats(t);
    assert_int_equal(s.overlaps, 4);
    assert_int_equal(s.overlap_conflicts, 2);
    tcp(t, C2S, ACK, b + 21, SISN + 1, "uv_");
    assert_string_equal(c.f[0].s[0], "abcdEFGHzzzzLmNOpqRStuv_wxyz!");
    assert_int_equal(stats(t).held_bytes, 0);
    ab_flows_free(t);
}

static void test_sequence_wrap(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    uint32_t isn = 0xFFFFFFF0u; /* the stream starts 15 bytes before 2^32 */
    tcp(t, C2S, SYN, isn, 0, NULL);
    tcp(t, S2C, SYN | ACK, 0xFFFFFFFFu, isn + 1, NULL); /* the server's data starts at 0 */
    tcp(t, C2S, ACK, isn + 1, 0, "0123456789");         /* [..F9] */
    tcp(t, C2S, ACK, isn + 21, 0, "klmno");             /* after the wrap: held */
    tcp(t, C2S, ACK, isn + 11, 0, "abcdefghij");        /* across 2^32 */
    assert_string_equal(c.f[0].s[0], "0123456789abcdefghijklmno");
    tcp(t, S2C, ACK, 0, isn + 26, "srv");
    tcp(t, S2C, ACK, 0xFFFFFFFEu, isn + 26, "old"); /* before the stream: retransmission */
    assert_string_equal(c.f[0].s[1], "srv");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.ooo_segments, 1);
    assert_int_equal(s.retransmissions, 1);
    assert_int_equal(s.gaps, 0);
    ab_flows_free(t);
}

/* Lost bytes: given up when the per-direction cap is hit, then the rest flows. */
static void test_gap_at_cap(void **state)
{
    (void)state;
    col c;
    ab_flow_limits l;
    ab_flow_limits_default(&l);
    l.flow_ooo_cap = 3 * 128; /* three small pieces (each takes 128 bytes) */
    ab_flows *t = table(&c, &l);
    handshake(t);
    uint32_t b = CISN + 1;
    tcp(t, C2S, ACK, b, SISN + 1, "AAAAAAAAAA");
    /* [10,20) is lost. */
    tcp(t, C2S, ACK, b + 20, SISN + 1, "CCCCCCCCCC");
    tcp(t, C2S, ACK, b + 30, SISN + 1, "DDDDDDDDDD");
    tcp(t, C2S, ACK, b + 40, SISN + 1, "EEEEEEEEEE");
    assert_string_equal(c.f[0].s[0], "AAAAAAAAAA");
    tcp(t, C2S, ACK, b + 50, SISN + 1, "FFFFFFFFFF"); /* over the cap */
    assert_string_equal(c.f[0].s[0], "AAAAAAAAAA<gap10>CCCCCCCCCCDDDDDDDDDDEEEEEEEEEEFFFFFFFFFF");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.memcap_drops, 1);
    assert_int_equal(s.gaps, 1);
    assert_int_equal(s.gap_bytes, 10);
    assert_int_equal(s.held_bytes, 0);
    /* The late copy of the lost bytes is now a retransmission. */
    tcp(t, C2S, ACK, b + 10, SISN + 1, "BBBBBBBBBB");
    assert_int_equal(stats(t).retransmissions, 1);
    ab_flows_free(t);
}

/* The global memcap: another flow holding memory makes this one skip ahead at once. */
static void test_gap_at_memcap(void **state)
{
    (void)state;
    col c;
    ab_flow_limits l;
    ab_flow_limits_default(&l);
    l.stream_memcap = 2 * 128; /* two small pieces */
    ab_flows *t = table(&c, &l);
    /* Flow 1 holds two pieces: the whole memcap. */
    tcp(t, C2S, ACK, 100, 1, "1111111111");
    tcp(t, C2S, ACK, 120, 1, "3333333333");
    tcp(t, C2S, ACK, 130, 1, "4444444444");
    assert_string_equal(c.f[0].s[0], "1111111111");
    assert_int_equal(stats(t).held_bytes, l.stream_memcap);
    /* Flow 2 cannot hold anything: its hole is given up, the segment goes out in order. */
    ab_pkt p = pkt_ep(3, 50000, 2, 25, ACK, 7, 1, "aaaa");
    ab_flows_packet(t, &p);
    p = pkt_ep(3, 50000, 2, 25, ACK, 15, 1, "cccc");
    ab_flows_packet(t, &p);
    assert_string_equal(c.f[1].s[0], "aaaa<gap4>cccc");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.memcap_drops, 1);
    assert_int_equal(s.held_bytes, l.stream_memcap);
    assert_true(s.peak_held_bytes <= l.stream_memcap);
    /* Flow 1's hole filled later. */
    tcp(t, C2S, ACK, 110, 1, "2222222222");
    assert_string_equal(c.f[0].s[0], "1111111111222222222233333333334444444444");
    ab_flows_free(t);
}

/* An ACK past a hole: the receiver had those bytes, they will not be sent again. */
static void test_gap_on_ack(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    handshake(t);
    tcp(t, S2C, ACK, SISN + 1, CISN + 1, "hdr:");
    tcp(t, S2C, ACK, SISN + 9, CISN + 1, "tail"); /* [4,8) lost in the capture */
    assert_string_equal(c.f[0].s[1], "hdr:");
    tcp(t, C2S, ACK, CISN + 1, SISN + 7, NULL); /* acks [..7): the hole is gone */
    assert_string_equal(c.f[0].s[1], "hdr:<gap2>");
    tcp(t, C2S, ACK, CISN + 1, SISN + 13, NULL);
    assert_string_equal(c.f[0].s[1], "hdr:<gap2><gap2>tail");
    /* A capture that cut a packet short: the cut bytes are a gap at once. */
    ab_pkt p = pkt_ep(2, 80, 1, 40000, ACK, SISN + 13, CISN + 1, "cut");
    p.payload_missing = 5;
    ab_flows_packet(t, &p);
    tcp(t, S2C, ACK, SISN + 21, CISN + 1, "next");
    assert_string_equal(c.f[0].s[1], "hdr:<gap2><gap2>tailcut<gap5>next");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.gaps, 3);
    assert_int_equal(s.gap_bytes, 9);
    ab_flows_free(t);
}

static void test_stream_depth(void **state)
{
    (void)state;
    col c;
    ab_flow_limits l;
    ab_flow_limits_default(&l);
    l.stream_depth = 10;
    ab_flows *t = table(&c, &l);
    handshake(t);
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, "0123456");
    tcp(t, C2S, ACK, CISN + 12, SISN + 1, "held-past-depth"); /* held, dropped at depth */
    tcp(t, C2S, ACK, CISN + 8, SISN + 1, "789ABC");
    tcp(t, C2S, ACK, CISN + 14, SISN + 1, "more");
    tcp(t, S2C, ACK, SISN + 1, CISN + 1, "0123456789"); /* exactly at depth: not cut */
    ab_flow_stats s = stats(t);
    assert_int_equal(s.depth_reached, 1);
    assert_int_equal(s.held_bytes, 0);
    tcp(t, S2C, ACK, SISN + 11, CISN + 1, "X");
    tcp(t, S2C, ACK, SISN + 20, CISN + 1, "Y"); /* ahead: nothing held, nothing said */
    ab_flows_flush(t);
    assert_string_equal(c.f[0].s[0], "0123456789");
    assert_string_equal(c.f[0].s[1], "0123456789");
    assert_int_equal(c.f[0].ngap[0] + c.f[0].ngap[1], 0);
    assert_int_equal(c.f[0].reason, AB_FLOW_END);
    s = stats(t);
    assert_int_equal(s.depth_reached, 2);
    assert_int_equal(s.gaps, 0);
    ab_flows_free(t);
}

static void test_fin_rst_timeout(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    now_us = 1000000;
    /* RST: closes at once, held bytes delivered first. */
    handshake(t);
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, "ab");
    tcp(t, C2S, ACK, CISN + 5, SISN + 1, "ef");
    tcp(t, S2C, RST | ACK, SISN + 1, CISN + 3, NULL);
    assert_int_equal(c.f[0].reason, AB_FLOW_RST);
    assert_string_equal(c.f[0].s[0], "ab<gap2>ef");
    /* Packets after the RST are absorbed; a new SYN is a new flow. */
    tcp(t, C2S, ACK, CISN + 7, SISN + 1, "zz");
    assert_int_equal(c.opens, 1);
    tcp(t, C2S, SYN, 9000, 0, NULL);
    assert_int_equal(c.opens, 2);
    tcp(t, C2S, ACK, 9001, 0, "new");
    assert_string_equal(c.f[1].s[0], "new");
    /* A FIN one way, data before it arriving after it, then quiet: closed after the closed
     * timeout with AB_FLOW_FIN. */
    tcp(t, C2S, FIN | ACK, 9007, 0, "!!!");
    tcp(t, C2S, ACK, 9004, 0, "new");
    assert_string_equal(c.f[1].s[0], "newnew!!!");
    assert_int_equal(c.f[1].reason, 0);
    now_us += 11 * 1000000u;
    ab_pkt p = pkt_ep(7, 1111, 8, 53, 0, 0, 0, "q");
    p.proto = 17;
    ab_flows_packet(t, &p);
    assert_int_equal(c.f[1].reason, AB_FLOW_FIN);
    /* Idle: the UDP flow times out after 60 s, by another packet's clock. */
    now_us += 61 * 1000000u;
    tcp(t, C2S, SYN, 20000, 0, NULL);
    assert_int_equal(c.f[2].reason, AB_FLOW_TIMEOUT);
    /* An idle TCP flow's own next packet, 301 s later, closes it and starts a new flow. */
    now_us += 301 * 1000000u;
    tcp(t, C2S, ACK, 20001, 0, "late");
    assert_int_equal(c.f[3].reason, AB_FLOW_TIMEOUT);
    assert_int_equal(c.f[4].midstream, 1);
    assert_string_equal(c.f[4].s[0], "late");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.timeouts, 2);
    assert_int_equal(s.active, 1);
    assert_int_equal(s.flows, 5);
    assert_int_equal(s.udp, 1);
    ab_flows_free(t);
    assert_int_equal(c.reasons[AB_FLOW_RST], 1);
    assert_int_equal(c.reasons[AB_FLOW_FIN], 1);
    assert_int_equal(c.reasons[AB_FLOW_TIMEOUT], 2);
    assert_int_equal(c.reasons[AB_FLOW_END], 1);
    assert_int_equal(c.opens, c.closes);
    assert_int_equal(c.bad, 0);
    now_us = 1000000;
}

/* Bytes past a FIN are not the stream's; an ACK past a hole before the FIN ends the flow; a
 * clock that goes back does not time flows out. */
static void test_fin_edges(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    handshake(t);
    tcp(t, C2S, FIN | ACK, CISN + 1, SISN + 1, "last");
    tcp(t, C2S, ACK, CISN + 3, SISN + 1, "stXYZ"); /* "st" again, then past the FIN */
    tcp(t, C2S, ACK, CISN + 6, SISN + 1, "after");
    assert_string_equal(c.f[0].s[0], "last");
    assert_int_equal(stats(t).ooo_segments, 0);
    /* The server's FIN comes ahead of data the capture lost; the client acks all of it. */
    tcp(t, S2C, ACK, SISN + 1, CISN + 6, "ab");
    tcp(t, S2C, FIN | ACK, SISN + 6, CISN + 6, NULL);
    assert_int_equal(c.f[0].reason, 0);
    tcp(t, C2S, ACK, CISN + 6, SISN + 7, NULL); /* the FIN acknowledged */
    assert_string_equal(c.f[0].s[1], "ab<gap3>");
    assert_int_equal(c.f[0].reason, AB_FLOW_FIN);
    /* The clock jumps back an hour: the next flow is not timed out by the old "now". */
    uint64_t saved = now_us;
    now_us += 3600ull * 1000000u;
    ab_pkt p = pkt_ep(3, 1000, 4, 53, 0, 0, 0, "a");
    p.proto = 17;
    ab_flows_packet(t, &p);
    now_us = saved;
    p = pkt_ep(5, 1000, 4, 53, 0, 0, 0, "b");
    p.proto = 17;
    ab_flows_packet(t, &p);
    p = pkt_ep(6, 1000, 4, 53, 0, 0, 0, "c");
    p.proto = 17;
    ab_flows_packet(t, &p);
    assert_int_equal(stats(t).timeouts, 0);
    assert_int_equal(stats(t).active, 3);
    ab_flows_free(t);
    assert_int_equal(c.opens, c.closes);
}

/* LRU: the least recently active flow goes when the table is full. */
static void test_evict_order(void **state)
{
    (void)state;
    col c;
    ab_flow_limits l;
    ab_flow_limits_default(&l);
    l.max_flows = 3;
    ab_flows *t = table(&c, &l);
    ab_pkt p;
    for (uint16_t i = 1; i <= 3; i++) {
        p = pkt_ep(1, (uint16_t)(1000 + i), 2, 80, ACK, 1, 1, "x");
        ab_flows_packet(t, &p);
    }
    p = pkt_ep(1, 1001, 2, 80, ACK, 2, 1, "y"); /* flow 1 is the most recent now */
    ab_flows_packet(t, &p);
    p = pkt_ep(1, 1004, 2, 80, ACK, 1, 1, "x");
    ab_flows_packet(t, &p);
    assert_int_equal(c.nclosed_ids, 1);
    assert_int_equal(c.closed_ids[0], 2);
    p = pkt_ep(1, 1005, 2, 80, ACK, 1, 1, "x");
    ab_flows_packet(t, &p);
    assert_int_equal(c.closed_ids[1], 3);
    p = pkt_ep(1, 1006, 2, 80, ACK, 1, 1, "x");
    ab_flows_packet(t, &p);
    assert_int_equal(c.closed_ids[2], 1);
    assert_string_equal(c.f[0].s[0], "xy");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.evicted, 3);
    assert_int_equal(s.active, 3);
    assert_int_equal(s.slots, 3);
    assert_int_equal(c.reasons[AB_FLOW_EVICTED], 3);
    /* A closed flow keeping its slot is reused before an open flow is evicted. */
    p = pkt_ep(1, 1006, 2, 80, RST, 2, 1, NULL);
    ab_flows_packet(t, &p);
    p = pkt_ep(1, 1007, 2, 80, ACK, 1, 1, "x");
    ab_flows_packet(t, &p);
    assert_int_equal(stats(t).evicted, 3);
    ab_flows_free(t);
    assert_int_equal(c.opens, c.closes);
}

/* 100k flows through a table of 1000: never more than 1000, each closed once. */
static void test_many_flows_bounded(void **state)
{
    (void)state;
    col *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    ab_flow_limits l;
    ab_flow_limits_default(&l);
    l.max_flows = 1000;
    ab_flow_cb cb = {c, cb_open, cb_data, cb_gap, cb_dgram, cb_close};
    ab_flows *t = NULL;
    assert_int_equal(ab_flows_new(&l, &cb, &t), AB_OK);
    for (uint32_t i = 0; i < 100000; i++) {
        ab_pkt p = pkt_ep((uint8_t)(i >> 16), (uint16_t)i, 200, 80, ACK, 1, 1, "data");
        p.src.b[14] = (uint8_t)(i >> 8);
        if (i % 2) {
            p.proto = 17;
            p.tcp_flags = 0;
        } else {
            /* Every TCP flow holds a little out-of-order data. */
            ab_flows_packet(t, &p);
            p.seq = 100;
        }
        ab_flows_packet(t, &p);
        if (i % 10007 == 0) {
            ab_flow_stats s = stats(t);
            assert_true(s.active <= 1000);
            assert_true(s.slots <= 1000);
        }
    }
    ab_flow_stats s = stats(t);
    assert_int_equal(s.flows, 100000);
    assert_int_equal(s.active, 1000);
    assert_int_equal(s.peak_active, 1000);
    assert_int_equal(s.slots, 1000);
    assert_int_equal(s.evicted, 99000);
    assert_true(s.peak_held_bytes <= 500 * 128);
    ab_flows_flush(t);
    s = stats(t);
    assert_int_equal(s.active, 0);
    assert_int_equal(s.held_bytes, 0);
    assert_int_equal(c->opens, 100000);
    assert_int_equal(c->closes, 100000);
    assert_int_equal(c->bad, 0);
    ab_flows_free(t);
    free(c);
}

static void test_udp(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    ab_pkt q = pkt_ep(1, 53000, 2, 53, 0, 0, 0, "query");
    q.proto = 17;
    ab_pkt a = pkt_ep(2, 53, 1, 53000, 0, 0, 0, "answer");
    a.proto = 17;
    ab_flows_packet(t, &q);
    ab_flows_packet(t, &a);
    ab_flows_packet(t, &q);
    /* ICMP: a flow by addresses. */
    ab_pkt e = pkt_ep(1, 0, 2, 0, 0, 0, 0, "ping");
    e.proto = 1;
    ab_flows_packet(t, &e);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.f[0].s[AB_DIR_TO_SERVER], "query|query|");
    assert_string_equal(c.f[0].s[AB_DIR_TO_CLIENT], "answer|");
    assert_int_equal(c.f[0].ref.client_port, 53000);
    assert_int_equal(c.f[0].ref.proto, 17);
    assert_int_equal(c.f[0].midstream, 0);
    assert_string_equal(c.f[1].s[0], "ping|");
    ab_flow_stats s = stats(t);
    assert_int_equal(s.udp, 1);
    assert_int_equal(s.other, 1);
    assert_int_equal(s.tcp, 0);
    ab_flows_flush(t);
    assert_int_equal(c.f[0].reason, AB_FLOW_END);
    assert_int_equal(c.f[1].reason, AB_FLOW_END);
    /* The table is usable after a flush. */
    ab_flows_packet(t, &q);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.f[2].id, 3);
    ab_flows_free(t);
    assert_int_equal(c.closes, 3);
}

/* The clock without packets (a live capture gone quiet): idle flows time out at a tick as a later
 * packet would end them; a tick before their timeout, or one going back, ends nothing. */
static void test_tick(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    now_us = 1000000;
    ab_pkt q = pkt_ep(1, 53000, 2, 53, 0, 0, 0, "query");
    q.proto = 17;
    ab_flows_packet(t, &q);
    handshake(t);
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, "held open");
    ab_flows_tick(t, now_us + 59 * 1000000u);
    assert_int_equal(c.closes, 0);
    ab_flows_tick(t, now_us + 60 * 1000000u); /* the UDP flow's timeout */
    assert_int_equal(c.closes, 1);
    assert_int_equal(c.f[0].reason, AB_FLOW_TIMEOUT);
    ab_flows_tick(t, now_us); /* back in time: nothing */
    ab_flows_tick(t, now_us + 299 * 1000000u);
    assert_int_equal(c.closes, 1);
    ab_flows_tick(t, now_us + 300 * 1000000u); /* the TCP flow's, its bytes delivered */
    assert_int_equal(c.closes, 2);
    assert_int_equal(c.f[1].reason, AB_FLOW_TIMEOUT);
    assert_string_equal(c.f[1].s[0], "held open");
    ab_flow_stats st = stats(t);
    assert_int_equal(st.timeouts, 2);
    assert_int_equal(st.active, 0);
    ab_flows_tick(NULL, 1); /* NULL is fine */
    ab_flows_free(t);
    assert_int_equal(c.opens, c.closes);
    assert_int_equal(c.bad, 0);
}

/* flush: held bytes delivered with the holes as gaps, every flow closed AB_FLOW_END. */
static void test_flush(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    handshake(t);
    tcp(t, C2S, ACK, CISN + 1, SISN + 1, "one");
    tcp(t, C2S, ACK, CISN + 7, SISN + 1, "three");
    tcp(t, C2S, ACK, CISN + 20, SISN + 1, "four");
    tcp(t, S2C, ACK, SISN + 3, CISN + 1, "srv"); /* before it, 2 bytes never seen */
    ab_flows_flush(t);
    assert_string_equal(c.f[0].s[0], "one<gap3>three<gap8>four");
    assert_string_equal(c.f[0].s[1], "<gap2>srv");
    assert_int_equal(c.f[0].reason, AB_FLOW_END);
    ab_flow_stats s = stats(t);
    assert_int_equal(s.active, 0);
    assert_int_equal(s.held_bytes, 0);
    assert_int_equal(s.gaps, 3);
    ab_flows_free(t);
    assert_int_equal(c.closes, 1);
}

/* One-sided capture, no handshake, nothing ever acknowledged: delivered in order. */
static void test_one_sided(void **state)
{
    (void)state;
    col c;
    ab_flows *t = table(&c, NULL);
    tcp(t, C2S, PSH, 42, 0, "no ");
    tcp(t, C2S, PSH, 45, 0, "acks ");
    tcp(t, C2S, PSH, 50, 0, "here");
    assert_string_equal(c.f[0].s[0], "no acks here");
    assert_int_equal(c.f[0].len[1], 0);
    ab_flows_free(t);
}

static void test_bad_args(void **state)
{
    (void)state;
    ab_flow_limits l;
    ab_flow_limits_default(&l);
    l.max_flows = 0;
    ab_flows *t = (ab_flows *)&l;
    assert_int_equal(ab_flows_new(&l, NULL, &t), AB_ERR_ARG);
    assert_null(t);
    l.max_flows = AB_FLOW_MAX_FLOWS + 1;
    assert_int_equal(ab_flows_new(&l, NULL, &t), AB_ERR_ARG);
    /* No callbacks at all is fine. */
    assert_int_equal(ab_flows_new(NULL, NULL, &t), AB_OK);
    tcp(t, C2S, ACK, 1, 1, "x");
    ab_flows_free(t);
    ab_flows_free(NULL);
    assert_string_equal(ab_flow_reason_name(AB_FLOW_EVICTED), "evicted");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_both_ways),
        cmocka_unit_test(test_counts_per_direction),
        cmocka_unit_test(test_midstream),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_retransmission),
        cmocka_unit_test(test_overlaps_first_wins),
        cmocka_unit_test(test_sequence_wrap),
        cmocka_unit_test(test_gap_at_cap),
        cmocka_unit_test(test_gap_at_memcap),
        cmocka_unit_test(test_gap_on_ack),
        cmocka_unit_test(test_stream_depth),
        cmocka_unit_test(test_fin_rst_timeout),
        cmocka_unit_test(test_fin_edges),
        cmocka_unit_test(test_evict_order),
        cmocka_unit_test(test_many_flows_bounded),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_tick),
        cmocka_unit_test(test_one_sided),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
