/* test_decode.c: the frame decoder (src/net/decode.c, ipfrag.c) and the capture reader
 * (src/net/pcapsrc.c) over the captures of tests/fixtures/gen_pcap.py (run here into a
 * temporary directory; PCAP_GEN names the script): every link layer to its addresses, ports and
 * payload bytes, VLAN ids, tunnels, IPv4/IPv6 reassembly (in order, reversed, first-wins
 * overlap), truncation, malformed frames counted and survived, what libpcap does with a cut file
 * and with mixed-linktype pcapng; then frames built here for the limits of the fragment table
 * and of the layer loops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/decode.h"
#include "net/pcapsrc.h"

static char fixdir[256];

#define PAYLOAD  "antibody decode test payload\n"
#define TS0      1700000000000000ull
#define MAXP     16
#define MAXF     32
#define MAXBYTES 2100

typedef struct pk {
    ab_pkt p;
    uint8_t pay[MAXBYTES]; /* a copy: p.payload is only valid until the next decode */
} pk;

typedef struct run {
    int npk, nframes;
    pk pk[MAXP];
    int ret[MAXF];
    char why[MAXF][80];
    int end_rc; /* ab_pcap_next's last return: 0 end, -1 error */
    char end_err[256];
    int linktype;
    ab_decode_stats st;
} run;

static run R; /* big: not on the stack */

static uint8_t *slurp(const char *name, size_t *n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fixdir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(*n ? *n : 1);
    assert_non_null(d);
    assert_int_equal(fread(d, 1, *n, f), *n);
    fclose(f);
    return d;
}

static run *run_lim(const char *name, const ab_decode_limits *lim)
{
    memset(&R, 0, sizeof(R));
    size_t n;
    uint8_t *data = slurp(name, &n);
    assert_int_equal(ab_pcap_claims(data, n), 1);
    ab_pcapsrc *src = NULL;
    char err[256];
    assert_int_equal(ab_pcap_open_mem(data, n, &src, err, sizeof(err)), AB_OK);
    ab_decoder *d = NULL;
    assert_int_equal(ab_decoder_new(lim, &d), AB_OK);
    R.linktype = ab_pcap_linktype(src);
    const uint8_t *frame;
    size_t caplen, wirelen;
    uint64_t ts;
    int lt, r;
    while ((r = ab_pcap_next(src, &frame, &caplen, &wirelen, &ts, &lt)) == 1) {
        ab_pkt p;
        int dr = ab_decode(d, lt, ts, frame, caplen, wirelen, &p);
        if (R.nframes < MAXF) {
            R.ret[R.nframes] = dr;
            snprintf(R.why[R.nframes], sizeof(R.why[0]), "%s", ab_decoder_error(d));
        }
        R.nframes++;
        if (dr == 1 && R.npk < MAXP) {
            pk *k = &R.pk[R.npk++];
            k->p = p;
            assert_true(p.payload_len <= MAXBYTES);
            if (p.payload_len)
                memcpy(k->pay, p.payload, p.payload_len);
            k->p.payload = k->pay;
        }
    }
    R.end_rc = r;
    snprintf(R.end_err, sizeof(R.end_err), "%s", r < 0 ? ab_pcap_error(src) : "");
    ab_decoder_stats(d, &R.st);
    ab_decoder_free(d);
    ab_pcap_close(src);
    free(data);
    return &R;
}

static run *run_cap(const char *name)
{
    return run_lim(name, NULL);
}

static void assert_addr(const ab_ipaddr *a, const char *text)
{
    char t[AB_IPADDR_TEXT];
    ab_ipaddr_format(a, t, sizeof(t));
    assert_string_equal(t, text);
}

static void assert_ends(const ab_pkt *p, int v)
{
    assert_int_equal(p->ipver, v);
    assert_addr(&p->src, v == 4 ? "10.0.0.1" : "2001:db8::1");
    assert_addr(&p->dst, v == 4 ? "10.0.0.2" : "2001:db8::2");
}

static void assert_payload(const pk *k, const void *want, size_t n)
{
    assert_int_equal(k->p.payload_len, n);
    assert_memory_equal(k->pay, want, n);
}

/* The generator's default TCP segment (40000 -> 80 PSH|ACK with PAYLOAD). */
static void assert_tcp(const pk *k, int v)
{
    assert_ends(&k->p, v);
    assert_int_equal(k->p.proto, 6);
    assert_int_equal(k->p.sport, 40000);
    assert_int_equal(k->p.dport, 80);
    assert_int_equal(k->p.seq, 1000);
    assert_int_equal(k->p.ack, 2000);
    assert_int_equal(k->p.tcp_flags, 0x18);
    assert_int_equal(k->p.win, 8192);
    assert_int_equal(k->p.payload_missing, 0);
    assert_payload(k, PAYLOAD, strlen(PAYLOAD));
}

static void assert_udp(const pk *k, int v)
{
    assert_ends(&k->p, v);
    assert_int_equal(k->p.proto, 17);
    assert_int_equal(k->p.sport, 40001);
    assert_int_equal(k->p.dport, 7777);
    assert_int_equal(k->p.tcp_flags, 0);
    assert_payload(k, PAYLOAD, strlen(PAYLOAD));
}

static uint8_t pat(size_t i)
{
    return (uint8_t)(i % 251);
}

static void assert_pattern(const pk *k, size_t n)
{
    assert_int_equal(k->p.payload_len, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(k->pay[i], pat(i));
}

static void test_claims(void **state)
{
    (void)state;
    static const uint8_t le[] = {0xd4, 0xc3, 0xb2, 0xa1}, be[] = {0xa1, 0xb2, 0xc3, 0xd4},
                         nle[] = {0x4d, 0x3c, 0xb2, 0xa1}, nbe[] = {0xa1, 0xb2, 0x3c, 0x4d},
                         ng[] = {0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a},
                         ngbe[] = {0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d},
                         ngbad[] = {0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1b},
                         junk[] = "GET / HTTP/1.1";
    assert_int_equal(ab_pcap_claims(le, sizeof(le)), 1);
    assert_int_equal(ab_pcap_claims(be, sizeof(be)), 1);
    assert_int_equal(ab_pcap_claims(nle, sizeof(nle)), 1);
    assert_int_equal(ab_pcap_claims(nbe, sizeof(nbe)), 1);
    assert_int_equal(ab_pcap_claims(ng, sizeof(ng)), 1);
    assert_int_equal(ab_pcap_claims(ngbe, sizeof(ngbe)), 1);
    assert_int_equal(ab_pcap_claims(ngbad, sizeof(ngbad)), 0);
    assert_int_equal(ab_pcap_claims(ng, 8), 0);
    assert_int_equal(ab_pcap_claims(le, 3), 0);
    assert_int_equal(ab_pcap_claims(junk, sizeof(junk)), 0);
    assert_int_equal(ab_pcap_claims(NULL, 0), 0);
    ab_pcapsrc *s = NULL;
    char err[128] = "";
    assert_int_equal(ab_pcap_open_mem(junk, sizeof(junk), &s, err, sizeof(err)), AB_ERR_PARSE);
    assert_true(err[0] != '\0');
    assert_int_equal(ab_pcap_open_mem(junk, 0, &s, err, sizeof(err)), AB_ERR_PARSE);
    assert_int_equal(ab_pcap_open_mem(le, sizeof(le), &s, NULL, 0), AB_ERR_PARSE);
}

static void test_ethernet(void **state)
{
    (void)state;
    run *r = run_cap("eth_ipv4.pcap");
    assert_int_equal(r->linktype, 1);
    assert_int_equal(r->end_rc, 0);
    assert_int_equal(r->npk, 4);
    assert_tcp(&r->pk[0], 4);
    assert_int_equal(r->pk[0].p.ts_us, TS0);
    assert_int_equal(r->pk[1].p.ts_us, TS0 + 1000);
    assert_int_equal(r->pk[0].p.vlan, 0);
    assert_int_equal(r->pk[0].p.tunnel, 0);
    assert_int_equal(r->pk[0].p.reassembled, 0);
    assert_udp(&r->pk[1], 4);
    assert_int_equal(r->pk[2].p.proto, 1);
    assert_int_equal(r->pk[2].p.sport, 0);
    assert_payload(&r->pk[2], PAYLOAD, strlen(PAYLOAD));
    /* The SYN: IP options skipped, Ethernet padding not taken as payload. */
    assert_int_equal(r->pk[3].p.tcp_flags, 0x02);
    assert_int_equal(r->pk[3].p.dport, 80);
    assert_int_equal(r->pk[3].p.payload_len, 0);
    assert_int_equal(r->ret[3], 0); /* ARP */
    assert_int_equal(r->st.frames, 5);
    assert_int_equal(r->st.packets, 4);
    assert_int_equal(r->st.not_ip, 1);
    assert_int_equal(r->st.malformed, 0);

    r = run_cap("eth_ipv6.pcap");
    assert_int_equal(r->npk, 3);
    assert_tcp(&r->pk[0], 6);
    assert_udp(&r->pk[1], 6);
    assert_int_equal(r->pk[2].p.proto, 58);
    assert_ends(&r->pk[2].p, 6);
    assert_payload(&r->pk[2], PAYLOAD, strlen(PAYLOAD));
}

static void test_vlan_mpls_pppoe(void **state)
{
    (void)state;
    run *r = run_cap("vlan.pcap");
    assert_int_equal(r->npk, 4);
    assert_tcp(&r->pk[0], 4);
    assert_int_equal(r->pk[0].p.vlan, 100);
    assert_udp(&r->pk[1], 4);
    assert_int_equal(r->pk[1].p.vlan, 200);
    assert_tcp(&r->pk[2], 4);
    assert_int_equal(r->pk[2].p.vlan, 400);
    assert_tcp(&r->pk[3], 6);
    assert_int_equal(r->pk[3].p.vlan, 600);

    r = run_cap("mpls.pcap");
    assert_int_equal(r->npk, 2);
    assert_tcp(&r->pk[0], 4);
    assert_udp(&r->pk[1], 6);

    r = run_cap("pppoe.pcap");
    assert_int_equal(r->npk, 2);
    assert_tcp(&r->pk[0], 4);
    assert_udp(&r->pk[1], 6);
}

/* Captures whose packets are TCP then UDP (the other IP version), then maybe a non-IP frame. */
static void test_other_links(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int linktype; /* as libpcap gives it */
        int n, v_first, not_ip;
    } t[] = {
        {"sll.pcap", 113, 2, 4, 1},  {"sll2.pcap", 276, 2, 4, 0}, {"raw.pcap", 12, 2, 4, 0},
        {"ipv4.pcap", 228, 1, 4, 0}, {"ipv6.pcap", 229, 1, 6, 0}, {"loop.pcap", 108, 2, 4, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        run *r = run_cap(t[i].name);
        assert_int_equal(r->linktype, t[i].linktype);
        assert_int_equal(r->npk, t[i].n);
        assert_tcp(&r->pk[0], t[i].v_first);
        if (t[i].n > 1)
            assert_udp(&r->pk[1], 6);
        assert_int_equal(r->st.not_ip, t[i].not_ip);
        assert_int_equal(r->st.malformed, 0);
    }
    /* DLT_NULL in either byte order; AF 7 is not IP. */
    run *r = run_cap("null.pcap");
    assert_int_equal(r->linktype, 0);
    assert_int_equal(r->npk, 3);
    assert_tcp(&r->pk[0], 4);
    assert_udp(&r->pk[1], 6);
    assert_tcp(&r->pk[2], 4);
    assert_int_equal(r->st.not_ip, 1);
}

static void test_frag4(void **state)
{
    (void)state;
    run *r = run_cap("frag4.pcap");
    assert_int_equal(r->npk, 3);
    for (int i = 0; i < 3; i++) {
        assert_ends(&r->pk[i].p, 4);
        assert_int_equal(r->pk[i].p.proto, 17);
        assert_int_equal(r->pk[i].p.reassembled, 1);
        assert_int_equal(r->pk[i].p.dport, 5000 + i);
    }
    assert_pattern(&r->pk[0], 2000);
    assert_pattern(&r->pk[1], 2000);
    /* First wins: the overlapping 8 bytes keep the first fragment's 'A's. */
    assert_payload(&r->pk[2], "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCC", 40);
    /* Fragments give 0; the datagram comes out with the fragment that completes it. */
    static const int rets[9] = {0, 0, 1, 0, 0, 1, 0, 0, 1};
    for (int i = 0; i < 9; i++)
        assert_int_equal(r->ret[i], rets[i]);
    assert_int_equal(r->st.fragments, 9);
    assert_int_equal(r->st.reassembled, 3);
    assert_int_equal(r->st.frag_overlaps, 1);
    assert_int_equal(r->st.frag_dropped, 0);
    assert_int_equal(r->st.packets, 3);
}

static void test_frag6(void **state)
{
    (void)state;
    run *r = run_cap("frag6.pcap");
    assert_int_equal(r->npk, 4);
    assert_tcp(&r->pk[0], 6); /* behind hop-by-hop, routing, destination options */
    assert_int_equal(r->pk[0].p.reassembled, 0);
    assert_ends(&r->pk[1].p, 6);
    assert_int_equal(r->pk[1].p.proto, 17);
    assert_int_equal(r->pk[1].p.dport, 5003);
    assert_int_equal(r->pk[1].p.reassembled, 1);
    assert_pattern(&r->pk[1], 1200);
    assert_int_equal(r->pk[2].p.dport, 5004); /* atomic fragment: not held */
    assert_int_equal(r->pk[2].p.reassembled, 0);
    assert_payload(&r->pk[2], PAYLOAD, strlen(PAYLOAD));
    assert_int_equal(r->pk[3].p.proto, 6);
    assert_int_equal(r->pk[3].p.sport, 40005);
    assert_int_equal(r->pk[3].p.reassembled, 1);
    assert_pattern(&r->pk[3], 600);
    assert_int_equal(r->st.fragments, 4);
    assert_int_equal(r->st.reassembled, 2);
    assert_int_equal(r->st.malformed, 0);
}

static void test_truncated(void **state)
{
    (void)state;
    run *r = run_cap("truncated.pcap");
    assert_int_equal(r->nframes, 4);
    assert_int_equal(r->npk, 2);
    assert_int_equal(r->pk[0].p.proto, 6);
    assert_int_equal(r->pk[0].p.seq, 1000);
    assert_pattern(&r->pk[0], 96 - 14 - 20 - 20);
    assert_int_equal(r->pk[0].p.payload_missing, 1000 - 42);
    assert_int_equal(r->pk[1].p.proto, 17);
    assert_pattern(&r->pk[1], 96 - 14 - 40 - 8);
    assert_int_equal(r->pk[1].p.payload_missing, 1000 - 34);
    assert_int_equal(r->ret[2], 0); /* cut in the IPv4 header */
    assert_int_equal(r->ret[3], 0); /* cut in the TCP header */
    assert_int_equal(r->st.truncated, 4);
    assert_int_equal(r->st.malformed, 0);
}

static void test_malformed(void **state)
{
    (void)state;
    run *r = run_cap("malformed.pcap");
    assert_int_equal(r->nframes, 8);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r->ret[i], -1);
        assert_true(r->why[i][0] != '\0');
    }
    assert_string_equal(r->why[0], "IPv4 header length below 20");
    assert_string_equal(r->why[1], "IPv4 total length beyond the frame");
    assert_string_equal(r->why[2], "TCP data offset below 5");
    assert_string_equal(r->why[3], "TCP data offset beyond the segment");
    assert_string_equal(r->why[4], "UDP length beyond the IP payload");
    assert_string_equal(r->why[5], "too many IPv6 extension headers");
    assert_string_equal(r->why[6], "IPv4 version is not 4");
    assert_int_equal(r->ret[7], 1);
    assert_string_equal(r->why[7], "");
    assert_int_equal(r->npk, 1);
    assert_tcp(&r->pk[0], 4);
    assert_int_equal(r->st.malformed, 7);
    assert_int_equal(r->st.packets, 1);
}

static void test_gre(void **state)
{
    (void)state;
    run *r = run_cap("gre.pcap");
    assert_int_equal(r->npk, 5);
    assert_tcp(&r->pk[0], 4);
    assert_int_equal(r->pk[0].p.tunnel, 1);
    assert_udp(&r->pk[1], 6); /* checksum, key and sequence present */
    assert_int_equal(r->pk[1].p.tunnel, 1);
    assert_tcp(&r->pk[2], 4); /* Ethernet over GRE, VLAN inside */
    assert_int_equal(r->pk[2].p.vlan, 800);
    assert_int_equal(r->pk[2].p.tunnel, 1);
    /* GRE in GRE: the inner GRE packet, not opened. */
    assert_int_equal(r->pk[3].p.proto, 47);
    assert_addr(&r->pk[3].p.src, "198.51.100.1");
    assert_addr(&r->pk[3].p.dst, "198.51.100.2");
    assert_int_equal(r->pk[3].p.tunnel, 1);
    /* PPTP's enhanced GRE (version 1): the outer packet. */
    assert_int_equal(r->pk[4].p.proto, 47);
    assert_addr(&r->pk[4].p.src, "192.0.2.1");
    assert_int_equal(r->pk[4].p.tunnel, 0);
    assert_int_equal(r->st.tunnels, 4);
}

static void test_vxlan(void **state)
{
    (void)state;
    run *r = run_cap("vxlan.pcap");
    assert_int_equal(r->npk, 4);
    assert_tcp(&r->pk[0], 4);
    assert_int_equal(r->pk[0].p.tunnel, 1);
    assert_udp(&r->pk[1], 6);
    assert_int_equal(r->pk[1].p.vlan, 10); /* the outer frame's tag, not the inner 900 */
    assert_int_equal(r->pk[1].p.tunnel, 1);
    assert_int_equal(r->pk[2].p.proto, 17); /* VXLAN in VXLAN: the inner UDP */
    assert_addr(&r->pk[2].p.src, "198.51.100.1");
    assert_int_equal(r->pk[2].p.dport, 4789);
    assert_int_equal(r->pk[2].p.tunnel, 1);
    assert_addr(&r->pk[3].p.src, "192.0.2.1"); /* no I flag: plain UDP */
    assert_int_equal(r->pk[3].p.dport, 4789);
    assert_int_equal(r->pk[3].p.tunnel, 0);
    assert_int_equal(r->pk[3].pay[0], 0);
    assert_int_equal(r->st.tunnels, 3);
}

static void test_frag_timeout_and_tunnel(void **state)
{
    (void)state;
    run *r = run_cap("frag_timeout.pcap");
    assert_int_equal(r->npk, 1);
    assert_tcp(&r->pk[0], 4);
    assert_int_equal(r->pk[0].p.ts_us, TS0 + 100000000ull);
    assert_int_equal(r->st.fragments, 2);
    assert_int_equal(r->st.reassembled, 0);
    assert_int_equal(r->st.frag_timeouts, 2);

    /* A longer timeout joins them. */
    ab_decode_limits l;
    ab_decode_limits_default(&l);
    l.frag_timeout_s = 60;
    r = run_lim("frag_timeout.pcap", &l);
    assert_int_equal(r->npk, 2);
    assert_int_equal(r->pk[0].p.reassembled, 1);
    assert_pattern(&r->pk[0], 100);

    r = run_cap("tunnel_frag.pcap");
    assert_int_equal(r->npk, 1);
    assert_ends(&r->pk[0].p, 4);
    assert_int_equal(r->pk[0].p.tunnel, 1);
    assert_int_equal(r->pk[0].p.reassembled, 1);
    assert_pattern(&r->pk[0], 100);
}

/* libpcap's behaviour that pcapsrc.h documents. */
static void test_capture_files(void **state)
{
    (void)state;
    run *r = run_cap("nano_be.pcap");
    assert_int_equal(r->npk, 1);
    assert_int_equal(r->pk[0].p.ts_us, TS0 + 123456);
    assert_tcp(&r->pk[0], 4);

    r = run_cap("truncated_file.pcap");
    assert_int_equal(r->nframes, 2);
    assert_int_equal(r->npk, 2);
    assert_int_equal(r->end_rc, -1);
    assert_non_null(strstr(r->end_err, "truncated"));

    r = run_cap("two_if.pcapng");
    assert_int_equal(r->end_rc, 0);
    assert_int_equal(r->npk, 2);
    assert_tcp(&r->pk[0], 4);
    assert_udp(&r->pk[1], 4);

    /* Interfaces with different snapshot lengths: libpcap 1.10 says no at the second one. */
    r = run_cap("snaplen_if.pcapng");
    assert_int_equal(r->nframes, 0);
    assert_int_equal(r->end_rc, -1);
    assert_non_null(strstr(r->end_err, "snapshot length"));

    r = run_cap("mixed_if.pcapng");
    assert_int_equal(r->linktype, 1);
    assert_int_equal(r->nframes, 1);
    assert_tcp(&r->pk[0], 4);
    assert_int_equal(r->end_rc, -1);
    assert_non_null(strstr(r->end_err, "different from the type of the first interface"));
}

/* ---- frames built here ------------------------------------------------------------------ */

/* A raw IPv4 packet (LINKTYPE_IPV4) of proto with n payload bytes, id and fragment field. */
static size_t ip4(uint8_t *b, uint8_t proto, uint16_t id, uint16_t frag, const uint8_t *pl,
                  size_t n, uint8_t last_octet)
{
    memset(b, 0, 20);
    b[0] = 0x45;
    b[2] = (uint8_t)((20 + n) >> 8);
    b[3] = (uint8_t)(20 + n);
    b[4] = (uint8_t)(id >> 8);
    b[5] = (uint8_t)id;
    b[6] = (uint8_t)(frag >> 8);
    b[7] = (uint8_t)frag;
    b[8] = 64;
    b[9] = proto;
    b[12] = 10;
    b[15] = 1;
    b[16] = 10;
    b[19] = last_octet;
    memcpy(b + 20, pl, n);
    return 20 + n;
}

static int dec4(ab_decoder *d, uint64_t ts, uint16_t id, uint16_t frag, const uint8_t *pl, size_t n,
                ab_pkt *p)
{
    uint8_t b[70000];
    size_t len = ip4(b, 253, id, frag, pl, n, 2); /* a protocol with no header */
    return ab_decode(d, AB_LINK_IPV4, ts, b, len, len, p);
}

#define MF 0x2000

static void test_frag_limits(void **state)
{
    (void)state;
    static uint8_t pl[65536];
    for (size_t i = 0; i < sizeof(pl); i++)
        pl[i] = pat(i);
    ab_decode_limits l;
    ab_decode_limits_default(&l);
    l.max_frag_datagrams = 2;
    ab_decoder *d = NULL;
    assert_int_equal(ab_decoder_new(&l, &d), AB_OK);
    ab_pkt p;
    ab_decode_stats st;
    /* Three datagrams started, room for two: the oldest (id 1) goes. */
    for (uint16_t id = 1; id <= 3; id++)
        assert_int_equal(dec4(d, 1, id, MF, pl, 16, &p), 0);
    ab_decoder_stats(d, &st);
    assert_int_equal(st.frag_dropped, 1);
    assert_int_equal(dec4(d, 2, 3, 2, pl + 16, 8, &p), 1);
    assert_int_equal(p.reassembled, 1);
    assert_int_equal(p.proto, 253);
    assert_int_equal(p.payload_len, 24);
    assert_memory_equal(p.payload, pl, 24);
    assert_int_equal(dec4(d, 2, 1, 2, pl + 16, 8, &p), 0); /* id 1's start was dropped */
    ab_decoder_free(d);
    assert_int_equal(ab_decoder_new(NULL, &d), AB_OK);
    /* A last fragment past 65535 bytes is malformed. */
    assert_int_equal(dec4(d, 3, 9, 8191, pl, 16, &p), -1);
    assert_string_equal(ab_decoder_error(d), "IP fragment past 65535 bytes");
    /* Two last fragments with different ends: dropped. */
    ab_decoder_stats(d, &st);
    uint64_t dropped = st.frag_dropped;
    assert_int_equal(dec4(d, 4, 10, 2, pl, 16, &p), 0);
    assert_int_equal(dec4(d, 4, 10, 3, pl, 16, &p), 0);
    ab_decoder_stats(d, &st);
    assert_int_equal(st.frag_dropped, dropped + 1);
    /* Bytes held past the end a later last fragment says: dropped. */
    assert_int_equal(dec4(d, 5, 11, MF | 4, pl, 16, &p), 0);
    assert_int_equal(dec4(d, 5, 11, 1, pl, 8, &p), 0);
    ab_decoder_stats(d, &st);
    assert_int_equal(st.frag_dropped, dropped + 2);
    /* The largest datagram there can be: 65528 + 7 bytes of payload. */
    for (uint32_t off = 0; off < 65528; off += 1480)
        assert_int_equal(dec4(d, 6, 12, (uint16_t)(MF | off / 8), pl + off,
                              off + 1480 <= 65528 ? 1480 : 65528 - off, &p),
                         0);
    assert_int_equal(dec4(d, 6, 12, 65528 / 8, pl + 65528, 7, &p), 1);
    assert_int_equal(p.payload_len, 65535);
    assert_memory_equal(p.payload, pl, 65535);

    /* More than AB_FRAG_MAX_RANGES disjoint pieces: dropped. */
    for (int i = 0; i <= AB_FRAG_MAX_RANGES; i++)
        assert_int_equal(dec4(d, 7, 20, (uint16_t)(MF | (i * 2)), pl, 8, &p), 0);
    ab_decoder_stats(d, &st);
    assert_int_equal(st.frag_dropped, dropped + 3);
    assert_int_equal(st.reassembled, 1);
    ab_decoder_free(d);

    /* The memcap: a fragment needing a 61 KiB buffer does not fit in 16 KiB. */
    ab_decode_limits_default(&l);
    l.frag_memcap = 16384;
    assert_int_equal(ab_decoder_new(&l, &d), AB_OK);
    assert_int_equal(dec4(d, 8, 30, MF | 7500, pl, 8, &p), 0);
    assert_int_equal(dec4(d, 8, 30, MF, pl, 64, &p), 0);
    ab_decoder_stats(d, &st);
    assert_int_equal(st.frag_dropped, 1);
    assert_int_equal(st.reassembled, 0);
    /* Small ones fit, and new ones push the oldest out. */
    for (uint16_t id = 40; id < 80; id++)
        assert_int_equal(dec4(d, 9, id, MF, pl, 1024, &p), 0);
    ab_decoder_stats(d, &st);
    assert_true(st.frag_dropped > 30);
    assert_int_equal(dec4(d, 9, 79, 1024 / 8, pl + 1024, 8, &p), 1);
    assert_int_equal(p.payload_len, 1032);
    ab_decoder_free(d);
}

static void test_hand_frames(void **state)
{
    (void)state;
    ab_decoder *d = NULL;
    assert_int_equal(ab_decoder_new(NULL, &d), AB_OK);
    ab_pkt p;
    uint8_t b[256];
    memset(b, 0, sizeof(b));
    /* Nothing at all, an unknown link type. */
    assert_int_equal(ab_decode(d, AB_LINK_ETHERNET, 0, NULL, 0, 0, &p), -1);
    assert_int_equal(ab_decode(d, 9999, 0, b, 60, 60, &p), 0);
    /* Five VLAN tags. */
    for (int i = 0; i < 6; i++) {
        b[12 + 4 * i] = 0x81;
        b[13 + 4 * i] = 0x00;
    }
    assert_int_equal(ab_decode(d, AB_LINK_ETHERNET, 0, b, 100, 100, &p), -1);
    assert_string_equal(ab_decoder_error(d), "too many VLAN tags");
    /* Nine MPLS labels, none the bottom. */
    memset(b, 0, sizeof(b));
    b[12] = 0x88;
    b[13] = 0x47;
    assert_int_equal(ab_decode(d, AB_LINK_ETHERNET, 0, b, 100, 100, &p), -1);
    assert_string_equal(ab_decoder_error(d), "too many MPLS labels");
    /* An IPv4 total length of 0 (a TSO capture): to the end of the frame. */
    uint8_t udp[8 + 5] = {0x9c, 0x41, 0x1e, 0x61, 0, 13, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    size_t n = ip4(b, 17, 1, 0, udp, sizeof(udp), 2);
    b[2] = b[3] = 0;
    assert_int_equal(ab_decode(d, AB_LINK_IPV4, 0, b, n, n, &p), 1);
    assert_int_equal(p.dport, 7777);
    assert_int_equal(p.payload_len, 5);
    assert_memory_equal(p.payload, "hello", 5);
    /* IPv4 in the IPv6 link type; an IPv6 header cut with no truncation: malformed. */
    assert_int_equal(ab_decode(d, AB_LINK_IPV6, 0, b, n, n, &p), -1);
    memset(b, 0, sizeof(b));
    b[0] = 0x60;
    assert_int_equal(ab_decode(d, AB_LINK_RAW, 0, b, 30, 30, &p), -1);
    assert_int_equal(ab_decode(d, AB_LINK_RAW, 0, b, 30, 1500, &p), 0); /* cut: truncated */
    /* IPv6, next header 59, no payload. */
    b[6] = 59;
    assert_int_equal(ab_decode(d, AB_LINK_RAW, 0, b, 40, 40, &p), 1);
    assert_int_equal(p.ipver, 6);
    assert_int_equal(p.proto, 59);
    /* A fragment header inside a reassembled IPv6 datagram. */
    uint8_t f[40 + 8 + 16];
    memset(f, 0, sizeof(f));
    f[0] = 0x60;
    f[5] = 24;
    f[6] = 44;
    f[40] = 44; /* the fragmentable part starts with another fragment header */
    f[43] = 1;  /* offset 0, M 1 */
    f[47] = 7;
    assert_int_equal(ab_decode(d, AB_LINK_RAW, 0, f, sizeof(f), sizeof(f), &p), 0);
    f[5] = 16; /* the last 8 bytes: offset 16, M 0 */
    f[43] = 16;
    assert_int_equal(ab_decode(d, AB_LINK_RAW, 0, f, sizeof(f) - 8, sizeof(f) - 8, &p), -1);
    assert_string_equal(ab_decoder_error(d), "IPv6 fragment header inside a reassembled datagram");
    ab_decode_stats st;
    ab_decoder_stats(d, &st);
    assert_int_equal(st.reassembled, 1);
    ab_decoder_free(d);
    ab_decoder_free(NULL);
}

static int setup(void **state)
{
    (void)state;
    const char *gen = getenv("PCAP_GEN");
    snprintf(fixdir, sizeof(fixdir), "/tmp/antibody-pcap.XXXXXX");
    if (!gen || !mkdtemp(fixdir))
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", gen, fixdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_ethernet),
        cmocka_unit_test(test_vlan_mpls_pppoe),
        cmocka_unit_test(test_other_links),
        cmocka_unit_test(test_frag4),
        cmocka_unit_test(test_frag6),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_gre),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_frag_timeout_and_tunnel),
        cmocka_unit_test(test_capture_files),
        cmocka_unit_test(test_frag_limits),
        cmocka_unit_test(test_hand_frames),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
