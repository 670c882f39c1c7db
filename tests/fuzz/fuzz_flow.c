/* fuzz_flow.c: the flow table and TCP reassembly (src/net/flow.c, reassembly.c) over packets made
 * from the input, 4 bytes a packet:
 *   b0  TCP flags (low 6 bits); the top 2 bits pick one of 4 endpoint pairs
 *   b1  bit 0: direction, bit 1: UDP instead of TCP (pair 3: ICMP), bit 2: payload bytes flipped
 *       (a conflicting copy), bit 3: ack lags, bits 5-7: seconds the clock moves on
 *   b2  sequence offset from the direction's cursor, signed, in units of 4 bytes
 *   b3  payload length (low 6 bits) and bytes the capture cut (top 2 bits, times 3)
 * The cursor moves on by what a packet at or after it covered (SYN and FIN count one).
 * Payload bytes are a function of the sequence number, so copies agree unless flipped. Run twice:
 * small limits (3 flows, depth 200, 600 bytes of memcap, 300 per direction, short timeouts) and
 * unlimited depth with the default caps. Checked: every callback is for an open flow (user set in
 * open, freed in close: ASan sees a second close or a missing one), data() never empty, delivered
 * bytes per direction never over the depth, held bytes never over the memcap, flows and slots never
 * over max_flows. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/flow.h"

typedef struct uflow {
    uint64_t got[2]; /* bytes data() gave */
    uint64_t id;
} uflow;

typedef struct ctx {
    uint64_t depth;
    const ab_flows *t;
    size_t memcap, max_flows;
} ctx;

static void check(const ctx *c)
{
    ab_flow_stats s;
    ab_flows_stats(c->t, &s);
    if (s.held_bytes > c->memcap || s.peak_held_bytes > c->memcap || s.active > c->max_flows ||
        s.slots > c->max_flows || s.active > s.flows)
        abort();
}

static void on_open(void *vc, ab_flow *f)
{
    (void)vc;
    if (f->user)
        abort();
    uflow *u = calloc(1, sizeof(*u));
    if (!u)
        abort();
    u->id = f->ref.id;
    f->user = u;
}

static void on_data(void *vc, ab_flow *f, int dir, const uint8_t *d, size_t n)
{
    ctx *c = vc;
    uflow *u = f->user;
    if (!u || n == 0 || (dir != 0 && dir != 1) || u->id != f->ref.id)
        abort();
    volatile uint8_t sink = 0;
    sink ^= d[0];
    sink ^= d[n - 1];
    (void)sink;
    u->got[dir] += n;
    if (u->got[dir] != f->delivered[dir] || (c->depth && u->got[dir] > c->depth))
        abort();
}

static void on_gap(void *vc, ab_flow *f, int dir, uint64_t n)
{
    (void)vc;
    if (!f->user || n == 0 || (dir != 0 && dir != 1))
        abort();
}

static void on_dgram(void *vc, ab_flow *f, int dir, const ab_pkt *p)
{
    (void)vc;
    if (!f->user || (dir != 0 && dir != 1) || p->proto == 6)
        abort();
}

static void on_close(void *vc, ab_flow *f, int reason)
{
    (void)vc;
    if (!f->user || reason < AB_FLOW_FIN || reason > AB_FLOW_END)
        abort();
    free(f->user);
    f->user = NULL;
}

static void run(const uint8_t *data, size_t size, const ab_flow_limits *lim)
{
    ctx c = {lim->stream_depth, NULL, lim->stream_memcap, lim->max_flows};
    ab_flow_cb cb = {&c, on_open, on_data, on_gap, on_dgram, on_close};
    ab_flows *t = NULL;
    if (ab_flows_new(lim, &cb, &t) != AB_OK)
        return;
    c.t = t;
    /* Per pair and direction: a base (one near the wrap) and a cursor. */
    static const uint32_t base0[4] = {1000u, 0xFFFFFF00u, 0x7FFFFFF0u, 0u};
    uint32_t pos[4][2] = {{0}};
    uint8_t pay[64 + 1];
    uint64_t ts = 1000000;
    for (size_t i = 0; i + 4 <= size; i += 4) {
        uint8_t b0 = data[i], b1 = data[i + 1], b3 = data[i + 3];
        int8_t b2 = (int8_t)data[i + 2];
        int pair = b0 >> 6, dir = b1 & 1;
        ab_pkt p;
        memset(&p, 0, sizeof(p));
        ts += (uint64_t)(b1 >> 5) * 1000000u;
        p.ts_us = ts;
        p.ipver = 4;
        p.proto = (b1 & 2) ? (pair == 3 ? 1 : 17) : 6;
        uint8_t a[4] = {10, 0, 0, (uint8_t)(1 + pair)}, b[4] = {10, 0, 1, 1};
        ab_ipaddr_from_v4(dir ? &p.dst : &p.src, a);
        ab_ipaddr_from_v4(dir ? &p.src : &p.dst, b);
        uint16_t cport = (uint16_t)(40000 + pair), sport = pair == 2 ? 40002 : 80;
        if (p.proto != 1) {
            p.sport = dir ? sport : cport;
            p.dport = dir ? cport : sport;
        }
        p.tcp_flags = b0 & 0x3f;
        uint32_t seq = base0[pair] + (uint32_t)dir * 0x10000000u + pos[pair][dir] +
                       (uint32_t)((int32_t)b2 * 4);
        p.seq = seq;
        p.ack =
            base0[pair] + (uint32_t)!dir * 0x10000000u + pos[pair][!dir] - ((b1 & 8) ? 40u : 0u);
        size_t len = b3 & 63;
        for (size_t k = 0; k < len; k++)
            pay[k] = (uint8_t)((seq + k) * 7u) ^ ((b1 & 4) ? 0x5a : 0);
        p.payload = pay;
        p.payload_len = len;
        p.payload_missing = (uint32_t)(b3 >> 6) * 3u;
        if (b2 >= 0) /* SYN and FIN take a sequence number */
            pos[pair][dir] += (uint32_t)b2 * 4u + (uint32_t)len + ((b0 & 3) ? 1u : 0u);
        ab_flows_packet(t, &p);
        check(&c);
    }
    ab_flows_flush(t);
    check(&c);
    ab_flow_stats s;
    ab_flows_stats(t, &s);
    if (s.active || s.held_bytes)
        abort();
    ab_flows_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ab_flow_limits l;
    ab_flow_limits_default(&l);
    l.max_flows = 3;
    l.stream_depth = 200;
    l.stream_memcap = 600;
    l.flow_ooo_cap = 300;
    l.tcp_timeout_s = 5;
    l.tcp_closed_timeout_s = 2;
    l.udp_timeout_s = 3;
    run(data, size, &l);
    ab_flow_limits_default(&l);
    l.stream_depth = 0;
    l.max_flows = 64; /* the default's hash buckets would cost more than the run */
    run(data, size, &l);
    return 0;
}
