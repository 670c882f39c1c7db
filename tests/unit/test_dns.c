/* test_dns.c: the DNS parser (src/net/dns.c) over messages built here: the record text, each
 * record type's data, observables, name compression, hostile names (pointer loops, forward
 * pointers, names too long, reserved label types, bytes that need escaping), truncated
 * messages, the record count bound, and DNS over TCP (framing split across feeds, gaps, detect,
 * limits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_check.h"
#include "net/dns.h"
#include "net_collect.h"

typedef struct mb {
    uint8_t b[8192];
    size_t n;
} mb;

static void put(mb *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof(m->b));
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put8(mb *m, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(m, &x, 1);
}

static void put16(mb *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v);
}

static void put32(mb *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}

/* Labels of a dotted name, without the final zero (so a pointer or a 0 can follow). */
static void labels(mb *m, const char *dotted)
{
    while (*dotted) {
        const char *dot = strchr(dotted, '.');
        size_t k = dot ? (size_t)(dot - dotted) : strlen(dotted);
        put8(m, (unsigned)k);
        put(m, dotted, k);
        dotted += k + (dot ? 1 : 0);
    }
}

static void name(mb *m, const char *dotted)
{
    labels(m, dotted);
    put8(m, 0);
}

static void ptr(mb *m, size_t off)
{
    put16(m, 0xc000 | (unsigned)off);
}

static void header(mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                   unsigned ar)
{
    m->n = 0;
    put16(m, id);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
}

/* type, class IN, ttl, and the rdlength to be patched: returns where the rdata starts. */
static size_t rr_head(mb *m, unsigned type, uint32_t ttl)
{
    put16(m, type);
    put16(m, 1);
    put32(m, ttl);
    put16(m, 0);
    return m->n;
}

static void rr_end(mb *m, size_t start)
{
    size_t len = m->n - start;
    m->b[start - 2] = (uint8_t)(len >> 8);
    m->b[start - 1] = (uint8_t)len;
}

static int parse(const mb *m, nc *c)
{
    ab_flow_ref f = nc_flow();
    ab_net_out o = nc_out(c);
    return ab_dns_message(&f, AB_DIR_TO_CLIENT, m->b, m->n, &o);
}

static jc_val rec0(const nc *c)
{
    jc_val v;
    assert_int_equal(c->n_rec, 1);
    if (!jc_parse(c->rec[0], strlen(c->rec[0]), &v))
        fail_msg("not JSON: %s", c->rec[0]);
    return v;
}

static const jc_val *arr(const jc_val *v, const char *key)
{
    const jc_val *a = jc_get(v, key);
    if (!a || a->type != JC_ARR)
        fail_msg("no array %s", key);
    return a;
}

static void test_query(void **state)
{
    (void)state;
    mb m;
    nc c;
    header(&m, 0x1234, 0x0100, 1, 0, 0, 0);
    name(&m, "www.Example.com");
    put16(&m, 1);
    put16(&m, 1);
    assert_int_equal(parse(&m, &c), 0);
    assert_int_equal(c.n_rec, 1);
    assert_string_equal(c.rec[0],
                        "{\"type\":\"dns\",\"id\":4660,\"qr\":false,\"opcode\":0,\"rcode\":"
                        "0,\"flags\":[\"rd\"],\"queries\":[{\"name\":\"www.Example.com\","
                        "\"qtype\":1,\"qtype_name\":\"A\"}]}");
    assert_int_equal(c.n_obs, 1);
    assert_int_equal(nc_find_obs(&c, "domain", "dns.query", "www.example.com"), 0);
    nc_free(&c);

    /* the root, class CH, an unknown type */
    header(&m, 1, 0x0000, 2, 0, 0, 0);
    put8(&m, 0);
    put16(&m, 2);
    put16(&m, 3);
    name(&m, "x");
    put16(&m, 4321);
    put16(&m, 1);
    assert_int_equal(parse(&m, &c), 0);
    jc_val v = rec0(&c);
    const jc_val *q = arr(&v, "queries");
    assert_int_equal(q->n, 2);
    assert_string_equal(jc_get_str(&q->kids[0], "name"), ".");
    assert_string_equal(jc_get_str(&q->kids[0], "qtype_name"), "NS");
    assert_string_equal(jc_get(&q->kids[0], "qclass")->str, "3");
    assert_string_equal(jc_get_str(&q->kids[1], "qtype_name"), "TYPE4321");
    assert_null(jc_get(&q->kids[1], "qclass"));
    jc_free(&v);
    assert_int_equal(c.n_obs, 1); /* the root is no domain */
    assert_string_equal(c.obs[0].value, "x");
    nc_free(&c);

    /* shorter than a header: nothing */
    m.n = 11;
    assert_int_equal(parse(&m, &c), -1);
    assert_int_equal(c.n_rec, 0);
    nc_free(&c);
}

/* A response with every record type the parser knows, compressed the way servers do. */
static void build_full_response(mb *m)
{
    header(m, 0xbeef, 0x8580, 1, 9, 1, 1); /* qr aa rd ra */
    name(m, "www.example.com");            /* at 12; example.com at 16, com at 24 */
    put16(m, 1);
    put16(m, 1);
    size_t s;
    /* www.example.com CNAME cdn.example.net */
    ptr(m, 12);
    s = rr_head(m, 5, 300);
    size_t cdn = m->n;
    name(m, "cdn.example.net");
    rr_end(m, s);
    /* cdn.example.net A 1.2.3.4 */
    ptr(m, cdn);
    s = rr_head(m, 1, 60);
    put(m, "\x01\x02\x03\x04", 4);
    rr_end(m, s);
    /* cdn.example.net AAAA 2001:db8::1 */
    ptr(m, cdn);
    s = rr_head(m, 28, 60);
    put(m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    rr_end(m, s);
    /* example.com MX 10 mail.example.com */
    ptr(m, 16);
    s = rr_head(m, 15, 3600);
    put16(m, 10);
    labels(m, "mail");
    ptr(m, 16);
    rr_end(m, s);
    /* example.com NS ns1.example.com */
    ptr(m, 16);
    s = rr_head(m, 2, 3600);
    labels(m, "ns1");
    ptr(m, 16);
    rr_end(m, s);
    /* 4.3.2.1.in-addr.arpa PTR host.example.com */
    name(m, "4.3.2.1.in-addr.arpa");
    s = rr_head(m, 12, 10);
    labels(m, "host");
    ptr(m, 16);
    rr_end(m, s);
    /* example.com TXT "v=spf1 -all" "say \"hi\"\1" */
    ptr(m, 16);
    s = rr_head(m, 16, 5);
    put8(m, 11);
    put(m, "v=spf1 -all", 11);
    put8(m, 9);
    put(m, "say \"hi\"\x01", 9);
    rr_end(m, s);
    /* _sip._tcp.example.com SRV 10 20 5060 sip.example.com */
    labels(m, "_sip._tcp");
    ptr(m, 16);
    s = rr_head(m, 33, 7);
    put16(m, 10);
    put16(m, 20);
    put16(m, 5060);
    labels(m, "sip");
    ptr(m, 16);
    rr_end(m, s);
    /* example.com TYPE12345 \# 3 abcdef */
    ptr(m, 16);
    s = rr_head(m, 12345, 1);
    put(m, "\xab\xcd\xef", 3);
    rr_end(m, s);
    /* authority: SOA */
    ptr(m, 16);
    s = rr_head(m, 6, 900);
    labels(m, "ns1");
    ptr(m, 16);
    labels(m, "hostmaster");
    ptr(m, 16);
    put32(m, 2024010101);
    put32(m, 7200);
    put32(m, 3600);
    put32(m, 1209600);
    put32(m, 300);
    rr_end(m, s);
    /* additional: OPT, udp 4096 */
    put8(m, 0);
    put16(m, 41);
    put16(m, 4096);
    put32(m, 0);
    put16(m, 0);
}

static void test_response_types(void **state)
{
    (void)state;
    mb m;
    nc c;
    build_full_response(&m);
    assert_int_equal(parse(&m, &c), 0);
    jc_val v = rec0(&c);
    assert_int_equal(jc_get(&v, "qr")->b, 1);
    const jc_val *fl = arr(&v, "flags");
    assert_int_equal(fl->n, 3);
    assert_string_equal(fl->kids[0].str, "aa");
    assert_string_equal(fl->kids[1].str, "rd");
    assert_string_equal(fl->kids[2].str, "ra");
    const jc_val *an = arr(&v, "answers");
    assert_int_equal(an->n, 9);
    static const char *const want_name[] = {
        "www.example.com", "cdn.example.net",       "cdn.example.net",
        "example.com",     "example.com",           "4.3.2.1.in-addr.arpa",
        "example.com",     "_sip._tcp.example.com", "example.com"};
    static const char *const want_type[] = {"CNAME", "A",   "AAAA", "MX",       "NS",
                                            "PTR",   "TXT", "SRV",  "TYPE12345"};
    static const char *const want_data[] = {"cdn.example.net",
                                            "1.2.3.4",
                                            "2001:db8::1",
                                            "10 mail.example.com",
                                            "ns1.example.com",
                                            "host.example.com",
                                            "\"v=spf1 -all\" \"say \\\"hi\\\"\\001\"",
                                            "10 20 5060 sip.example.com",
                                            "\\# 3 abcdef"};
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(jc_get_str(&an->kids[i], "name"), want_name[i]);
        assert_string_equal(jc_get_str(&an->kids[i], "rtype_name"), want_type[i]);
        assert_string_equal(jc_get_str(&an->kids[i], "data"), want_data[i]);
    }
    assert_string_equal(jc_get(&an->kids[0], "ttl")->str, "300");
    assert_string_equal(jc_get(&an->kids[8], "rtype")->str, "12345");
    const jc_val *au = arr(&v, "authorities");
    assert_int_equal(au->n, 1);
    assert_string_equal(jc_get_str(&au->kids[0], "data"),
                        "ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300");
    const jc_val *ad = arr(&v, "additionals");
    assert_string_equal(jc_get_str(&ad->kids[0], "name"), ".");
    assert_string_equal(jc_get_str(&ad->kids[0], "rtype_name"), "OPT");
    assert_string_equal(jc_get_str(&ad->kids[0], "data"), "udp=4096");
    assert_null(jc_get(&ad->kids[0], "class"));
    assert_null(jc_get(&v, "malformed"));
    jc_free(&v);

    /* observables, in order; repeats of the domain just said are left out */
    static const char *const obs[][3] = {
        {"domain", "dns.query", "www.example.com"},
        {"domain", "dns.answer", "cdn.example.net"},
        {"ip", "dns.answer", "1.2.3.4"},
        {"ip", "dns.answer", "2001:db8::1"},
        {"domain", "dns.answer", "example.com"},
        {"domain", "dns.answer", "mail.example.com"},
        {"domain", "dns.answer", "example.com"},
        {"domain", "dns.answer", "ns1.example.com"},
        {"domain", "dns.answer", "4.3.2.1.in-addr.arpa"},
        {"domain", "dns.answer", "host.example.com"},
        {"domain", "dns.answer", "example.com"},
        {"domain", "dns.answer", "_sip._tcp.example.com"},
        {"domain", "dns.answer", "sip.example.com"},
        {"domain", "dns.answer", "example.com"},
    };
    size_t nobs = sizeof(obs) / sizeof(obs[0]);
    if (c.n_obs != nobs)
        fail_msg("%zu observables:\n%s", c.n_obs, c.log);
    for (size_t i = 0; i < nobs; i++) {
        assert_string_equal(c.obs[i].type, obs[i][0]);
        assert_string_equal(c.obs[i].where, obs[i][1]);
        assert_string_equal(c.obs[i].value, obs[i][2]);
        assert_int_equal(c.obs[i].dir, AB_DIR_TO_CLIENT);
    }
    nc_free(&c);

    /* cut anywhere: malformed, never more than the whole, no crash */
    size_t full = m.n;
    for (size_t cut = 12; cut < full; cut++) {
        m.n = cut;
        assert_int_equal(parse(&m, &c), -1);
        v = rec0(&c);
        assert_true(jc_get(&v, "malformed")->b);
        jc_free(&v);
        nc_free(&c);
    }
    /* cut inside the A record: what came before is there */
    m.n = 76;
    parse(&m, &c);
    v = rec0(&c);
    assert_int_equal(arr(&v, "queries")->n, 1);
    assert_int_equal(arr(&v, "answers")->n, 1);
    jc_free(&v);
    assert_true(nc_find_obs(&c, "domain", "dns.answer", "cdn.example.net") >= 0);
    assert_int_equal(nc_find_obs(&c, "ip", "dns.answer", "1.2.3.4"), -1);
    nc_free(&c);
}

static void test_hostile_names(void **state)
{
    (void)state;
    mb m;
    nc c;
    jc_val v;
    /* a pointer to itself */
    header(&m, 1, 0, 1, 0, 0, 0);
    ptr(&m, 12);
    put16(&m, 1);
    put16(&m, 1);
    assert_int_equal(parse(&m, &c), -1);
    v = rec0(&c);
    assert_int_equal(arr(&v, "queries")->n, 0);
    assert_true(jc_get(&v, "malformed")->b);
    jc_free(&v);
    nc_free(&c);
    /* a label then a pointer back to that label: a loop */
    header(&m, 1, 0, 1, 0, 0, 0);
    labels(&m, "a");
    ptr(&m, 12);
    put16(&m, 1);
    put16(&m, 1);
    assert_int_equal(parse(&m, &c), -1);
    nc_free(&c);
    /* two names pointing at each other: the question fine, the answer's owner loops */
    header(&m, 1, 0x8000, 1, 1, 0, 0);
    name(&m, "ok.example");
    put16(&m, 1);
    put16(&m, 1);
    size_t a = m.n;
    labels(&m, "x");
    ptr(&m, a + 4); /* forwards, to the next pointer */
    ptr(&m, a);
    put16(&m, 1);
    put16(&m, 1);
    put32(&m, 1);
    put16(&m, 0);
    assert_int_equal(parse(&m, &c), -1);
    v = rec0(&c);
    assert_int_equal(arr(&v, "queries")->n, 1);
    assert_int_equal(arr(&v, "answers")->n, 0);
    jc_free(&v);
    assert_int_equal(c.n_obs, 1);
    nc_free(&c);
    /* the longest name (255 bytes on the wire) and one byte more */
    char l63[64], l61[62], l62[63], dotted[300];
    memset(l63, 'a', 63);
    l63[63] = '\0';
    memset(l61, 'b', 61);
    l61[61] = '\0';
    memset(l62, 'b', 62);
    l62[62] = '\0';
    for (int longer = 0; longer < 2; longer++) {
        snprintf(dotted, sizeof(dotted), "%s.%s.%s.%s", l63, l63, l63, longer ? l62 : l61);
        header(&m, 1, 0, 1, 0, 0, 0);
        name(&m, dotted);
        put16(&m, 1);
        put16(&m, 1);
        assert_int_equal(parse(&m, &c), longer ? -1 : 0);
        if (!longer)
            assert_string_equal(c.obs[0].value, dotted);
        else
            assert_int_equal(c.n_obs, 0);
        nc_free(&c);
    }
    /* a 64-byte label is the reserved 0x40 type */
    header(&m, 1, 0, 1, 0, 0, 0);
    put8(&m, 64);
    for (int i = 0; i < 64; i++)
        put8(&m, 'a');
    put8(&m, 0);
    put16(&m, 1);
    put16(&m, 1);
    assert_int_equal(parse(&m, &c), -1);
    nc_free(&c);
    /* bytes that need escaping, as dig writes them */
    header(&m, 1, 0, 1, 0, 0, 0);
    put(&m,
        "\x03"
        "a b"
        "\x01\x01"
        "\x03x.y"
        "\x02q\""
        "\x02\xc3\xa9"
        "\x00",
        17);
    put16(&m, 1);
    put16(&m, 1);
    assert_int_equal(parse(&m, &c), 0);
    v = rec0(&c);
    assert_string_equal(jc_get_str(&arr(&v, "queries")->kids[0], "name"),
                        "a\\032b.\\001.x\\.y.q\\\".\\195\\169");
    jc_free(&v);
    assert_string_equal(c.obs[0].value, "a\\032b.\\001.x\\.y.q\\\".\\195\\169");
    nc_free(&c);
    /* rdata names must end inside the rdata; A of the wrong length is generic */
    header(&m, 1, 0x8000, 0, 2, 0, 0);
    name(&m, "e");
    size_t s = rr_head(&m, 1, 1);
    put(&m, "\x01\x02\x03", 3);
    rr_end(&m, s);
    name(&m, "f");
    s = rr_head(&m, 5, 1);
    put8(&m, 5); /* a label that runs past the 2-byte rdata */
    put8(&m, 'z');
    rr_end(&m, s);
    put(&m, "zzzz\0", 5);
    assert_int_equal(parse(&m, &c), -1);
    v = rec0(&c);
    const jc_val *an = arr(&v, "answers");
    assert_int_equal(an->n, 2);
    assert_string_equal(jc_get_str(&an->kids[0], "data"), "\\# 3 010203");
    assert_string_equal(jc_get_str(&an->kids[1], "data"), "\\# 2 057a");
    jc_free(&v);
    assert_int_equal(nc_find_obs(&c, "ip", "dns.answer", "1.2.3.0"), -1);
    nc_free(&c);
}

static void test_record_bound(void **state)
{
    (void)state;
    mb m;
    nc c;
    header(&m, 7, 0x8000, 1, 400, 0, 0);
    name(&m, "many.example");
    put16(&m, 1);
    put16(&m, 1);
    for (int i = 0; i < 400; i++) {
        ptr(&m, 12);
        size_t s = rr_head(&m, 1, 1);
        put8(&m, 10);
        put8(&m, 0);
        put16(&m, (unsigned)i);
        rr_end(&m, s);
    }
    assert_int_equal(parse(&m, &c), 0);
    jc_val v = rec0(&c);
    assert_int_equal(arr(&v, "answers")->n, DNS_MAX_RECORDS - 1);
    assert_true(jc_get(&v, "records_cut")->b);
    jc_free(&v);
    nc_free(&c);

    /* a long TXT is cut with "..." */
    header(&m, 7, 0x8000, 0, 1, 0, 0);
    name(&m, "t");
    size_t s = rr_head(&m, 16, 1);
    for (int i = 0; i < 20; i++) {
        put8(&m, 255);
        for (int k = 0; k < 255; k++)
            put8(&m, 'x');
    }
    rr_end(&m, s);
    assert_int_equal(parse(&m, &c), 0);
    v = rec0(&c);
    const char *d = jc_get_str(&arr(&v, "answers")->kids[0], "data");
    assert_int_equal(strlen(d), DNS_MAX_DATA + 3);
    assert_string_equal(d + DNS_MAX_DATA, "...");
    jc_free(&v);
    nc_free(&c);
}

/* ---- DNS over TCP ---- */

static int tcp_run(const uint8_t *p, size_t n, size_t piece, const ab_net_limits *lim, nc *c,
                   size_t gap_at, uint64_t gap_len)
{
    ab_flow_ref f = nc_flow();
    ab_net_out o = nc_out(c);
    void *st = ab_app_dns.new_state(lim);
    assert_non_null(st);
    int r = 0;
    size_t step = piece ? piece : n;
    for (size_t i = 0; i < n && r == 0;) {
        size_t k = n - i < step ? n - i : step;
        if (gap_len && i < gap_at && i + k > gap_at)
            k = gap_at - i;
        r = ab_app_dns.data(st, &f, AB_DIR_TO_CLIENT, p + i, k, &o);
        i += k;
        if (gap_len && i == gap_at && r == 0) {
            r = ab_app_dns.gap(st, &f, AB_DIR_TO_CLIENT, gap_len, &o);
            i += (size_t)gap_len; /* those bytes never came */
        }
    }
    ab_app_dns.close(st, &f, &o);
    ab_app_dns.free_state(st);
    return r;
}

static void test_tcp(void **state)
{
    (void)state;
    static uint8_t stream[20000];
    size_t n = 0;
    mb m;
    build_full_response(&m);
    size_t first = m.n;
    for (int i = 0; i < 3; i++) {
        if (i == 1) {
            header(&m, 2, 0x8180, 1, 0, 0, 0);
            name(&m, "second.example");
            put16(&m, 1);
            put16(&m, 1);
        }
        stream[n++] = (uint8_t)(m.n >> 8);
        stream[n++] = (uint8_t)m.n;
        memcpy(stream + n, m.b, m.n);
        n += m.n;
    }
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    nc whole, c;
    assert_int_equal(tcp_run(stream, n, 0, &lim, &whole, 0, 0), 0);
    assert_int_equal(whole.n_rec, 3);
    assert_int_equal(whole.n_err, 0);
    assert_true(strstr(whole.rec[1], "\"name\":\"second.example\"") != NULL);
    assert_true(strstr(whole.rec[2], "\"name\":\"second.example\"") != NULL);
    static const size_t pieces[] = {1, 2, 3, 100, 333};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        tcp_run(stream, n, pieces[i], &lim, &c, 0, 0);
        assert_string_equal(c.log, whole.log);
        nc_free(&c);
    }
    nc_free(&whole);

    /* a gap inside the first message: it is lost, the others are read */
    assert_int_equal(tcp_run(stream, n, 7, &lim, &c, 40, 10), 0);
    assert_int_equal(c.n_rec, 2);
    assert_int_equal(c.n_err, 0);
    nc_free(&c);
    /* a gap in a length prefix: the direction stops */
    tcp_run(stream, n, 0, &lim, &c, first + 3, 1);
    assert_int_equal(c.n_rec, 1);
    assert_int_equal(c.n_err, 1);
    assert_string_equal(c.err[0], "dns: gap in a length prefix over TCP");
    nc_free(&c);
    /* max_tx */
    lim.max_tx = 2;
    assert_int_equal(tcp_run(stream, n, 0, &lim, &c, 0, 0), -1);
    assert_int_equal(c.n_rec, 2);
    assert_string_equal(c.err[0], "dns: message limit (max_tx) reached");
    nc_free(&c);
    /* a zero length */
    ab_net_limits_default(&lim);
    tcp_run((const uint8_t *)"\0\0\0\0", 4, 0, &lim, &c, 0, 0);
    assert_string_equal(c.err[0], "dns: zero-length message over TCP");
    nc_free(&c);
}

static void test_tcp_detect(void **state)
{
    (void)state;
    mb m;
    uint8_t b[600];
    header(&m, 9, 0x0100, 1, 0, 0, 0);
    name(&m, "www.example.com");
    put16(&m, 1);
    put16(&m, 1);
    b[0] = 0;
    b[1] = (uint8_t)m.n;
    memcpy(b + 2, m.b, m.n);
    const ab_app_proto *p = &ab_app_dns;
    assert_int_equal(p->detect(b, m.n + 2, AB_DIR_TO_SERVER), 1);
    assert_int_equal(p->detect(b, 10, AB_DIR_TO_SERVER), -1);
    assert_int_equal(p->detect(b, m.n + 2, AB_DIR_TO_CLIENT), 0); /* a query from the server */
    build_full_response(&m);
    b[0] = (uint8_t)(m.n >> 8);
    b[1] = (uint8_t)m.n;
    memcpy(b + 2, m.b, 64);
    assert_int_equal(p->detect(b, 64, AB_DIR_TO_CLIENT), 1);
    assert_int_equal(
        p->detect((const uint8_t *)"GET / HTTP/1.1\r\nHost: x\r\n", 25, AB_DIR_TO_SERVER), 0);
    assert_int_equal(p->detect((const uint8_t *)"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                                                "abcdefgh",
                               19, AB_DIR_TO_SERVER),
                     0);
    /* opcode 3, Z set, 17 questions, rcode in a query */
    static const unsigned flags[] = {0x1800, 0x0040, 0x0001};
    for (size_t i = 0; i < 3; i++) {
        header(&m, 9, flags[i], 1, 0, 0, 0);
        name(&m, "a");
        put16(&m, 1);
        put16(&m, 1);
        b[1] = (uint8_t)m.n;
        memcpy(b + 2, m.b, m.n);
        assert_int_equal(p->detect(b, m.n + 2, AB_DIR_TO_SERVER), 0);
    }
    header(&m, 9, 0, 17, 0, 0, 0);
    for (int i = 0; i < 17; i++) {
        name(&m, "a");
        put16(&m, 1);
        put16(&m, 1);
    }
    b[1] = (uint8_t)m.n;
    memcpy(b + 2, m.b, m.n);
    assert_int_equal(p->detect(b, m.n + 2, AB_DIR_TO_SERVER), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query),         cmocka_unit_test(test_response_types),
        cmocka_unit_test(test_hostile_names), cmocka_unit_test(test_record_bound),
        cmocka_unit_test(test_tcp),           cmocka_unit_test(test_tcp_detect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
