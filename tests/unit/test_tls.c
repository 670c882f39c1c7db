/* test_tls.c: the TLS parser (src/net/tls.c) over handshakes OpenSSL makes here, in memory: a
 * self-signed server certificate and a client certificate made with the EVP/X509 API, an SSL
 * client and server over memory BIOs, the bytes each side wrote captured and fed to the parser
 * in pieces of every size (one byte at a time gives what all at once gives). Checked against
 * what OpenSSL says: the certificates' X509_digest, the cipher chosen, and a JA3/JA4 computed
 * here from OpenSSL's own reading of the ClientHello (SSL_client_hello_get*); and over
 * ClientHellos built by hand with GREASE values, the FoxIO JA4 worked example and its ALPN
 * rules, and hostile records (bad headers, lengths, a Certificate past its limit, a gap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/tls.h"
#include "tls_mem.h"

static int feed(const conv *c, size_t piece, got *g, const ab_net_limits *lim)
{
    ab_net_out out = {g, on_obs, on_obj, on_rec, on_err};
    ab_flow_ref f;
    memset(&f, 0, sizeof(f));
    f.id = 1;
    f.app = "tls";
    memset(g, 0, sizeof(*g));
    void *st = ab_app_tls.new_state(lim);
    assert_non_null(st);
    int r = 0;
    for (int i = 0; i < c->n && r == 0; i++) {
        size_t off = 0;
        while (off < c->len[i] && r == 0) {
            size_t k = piece && c->len[i] - off > piece ? piece : c->len[i] - off;
            r = ab_app_tls.data(st, &f, c->dir[i], c->data[i] + off, k, &out);
            off += k;
        }
    }
    ab_app_tls.close(st, &f, &out);
    ab_app_tls.free_state(st);
    return r;
}

/* The same result for pieces of 1, 2, 3, 7, 100 bytes and whole segments. */
static void check_pieces(const conv *c, const got *whole, const ab_net_limits *lim)
{
    static const size_t pieces[] = {1, 2, 3, 7, 100};
    got *g = malloc(sizeof(*g));
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        assert_int_equal(feed(c, pieces[i], g, lim), 0);
        assert_int_equal(g->n_rec, whole->n_rec);
        assert_string_equal(g->rec[0], whole->rec[0]);
        assert_int_equal(g->n_obs, whole->n_obs);
        for (int k = 0; k < g->n_obs && k < MAXO; k++)
            assert_string_equal(g->obs[k], whole->obs[k]);
    }
    free(g);
}

static pki srv, cli;

static int setup(void **state)
{
    (void)state;
    make_pki(&srv, "mail.wellmess.test",
             "DNS:mail.wellmess.test,DNS:*.c2.wellmess.test,IP:192.0.2.7", 0x1234abcd);
    make_pki(&cli, "client.wellmess.test", NULL, 0x42);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free_pki(&srv);
    free_pki(&cli);
    return 0;
}

/* ---- tests ---- */

static void tls12_mutual(void **state)
{
    (void)state;
    hs_opts o = {TLS1_2_VERSION, 1, "mail.wellmess.test", 1, 0};
    hs_result *r = malloc(sizeof(*r));
    handshake(&o, &srv, &cli, r);
    got *g = malloc(sizeof(*g));
    assert_int_equal(feed(&r->c, 0, g, NULL), 0);
    assert_int_equal(g->n_err, 0);
    assert_int_equal(g->n_rec, 1);
    const char *j = g->rec[0];
    char want[4200];
    assert_in(j, "{\"type\":\"tls\",\"version\":\"TLS 1.2\",\"client_version\":\"TLS 1.2\"");
    assert_in(j, "\"sni\":\"mail.wellmess.test\"");
    assert_in(j, "\"alpn\":[\"h2\",\"http/1.1\"],\"alpn_selected\":\"h2\"");
    snprintf(want, sizeof(want), "\"cipher\":%u,", r->cipher);
    assert_in(j, want);
    snprintf(want, sizeof(want), "\"ja3_string\":\"%s\"", r->hello.ja3);
    assert_in(j, want);
    assert_in(j, "\"client_cert_requested\":true");
    assert_in(j, "\"server_certs\":[{\"subject\":\"CN=mail.wellmess.test,O=Antibody Test\","
                 "\"issuer\":\"CN=mail.wellmess.test,O=Antibody Test\",\"serial\":\"1234abcd\","
                 "\"not_before\":\"2024-01-01T00:00:00Z\",\"not_after\":\"2034-01-01T12:34:56Z\"");
    snprintf(want, sizeof(want), "\"sha1\":\"%s\",\"sha256\":\"%s\",\"cn\":\"mail.wellmess.test\"",
             srv.sha1, srv.sha256);
    assert_in(j, want);
    assert_in(j, "\"names\":[\"mail.wellmess.test\",\"*.c2.wellmess.test\",\"192.0.2.7\"],"
                 "\"self_signed\":true}]");
    snprintf(want, sizeof(want),
             "\"client_certs\":[{\"subject\":\"CN=client.wellmess.test,O="
             "Antibody Test\"");
    assert_in(j, want);
    snprintf(want, sizeof(want), "\"sha256\":\"%s\"", cli.sha256);
    assert_in(strstr(j, "client_certs"), want);
    assert_null(strstr(j, "incomplete"));
    assert_null(strstr(j, "resumed"));
    /* the JA3 string is OpenSSL's reading; its MD5 is the ja3 observable */
    unsigned char md[16];
    char md5[33];
    EVP_Digest(r->hello.ja3, strlen(r->hello.ja3), md, NULL, EVP_md5(), NULL);
    hexs(md, 16, md5);
    assert_true(has_obs(g, "ja3", "tls.client", md5));
    snprintf(want, sizeof(want), "\"ja3\":\"%s\"", md5);
    assert_in(j, want);
    char bc[32], ja4[64];
    expect_ja4_bc(&r->hello, bc);
    snprintf(ja4, sizeof(ja4), "t13d%02zu%02zuh2_%s", r->hello.n_ciphers, r->hello.n_exts, bc);
    assert_true(has_obs(g, "ja4", "tls.client", ja4));
    assert_true(has_obs(g, "domain", "tls.sni", "mail.wellmess.test"));
    assert_true(has_obs(g, "cert-sha1", "tls.cert", srv.sha1));
    assert_true(has_obs(g, "cert-sha256", "tls.cert", srv.sha256));
    assert_true(has_obs(g, "cert-sha1", "tls.client_cert", cli.sha1));
    assert_true(has_obs(g, "cert-sha256", "tls.client_cert", cli.sha256));
    assert_true(has_obs(g, "domain", "tls.cert.name", "mail.wellmess.test"));
    assert_true(has_obs(g, "domain", "tls.cert.name", "c2.wellmess.test"));
    assert_true(has_obs(g, "ip", "tls.cert.name", "192.0.2.7"));
    assert_true(has_obs(g, "domain", "tls.cert.name", "client.wellmess.test"));
    /* the JA3S: legacy version, the cipher, then extensions */
    snprintf(want, sizeof(want), "\"ja3s_string\":\"771,%u,", r->cipher);
    assert_in(j, want);
    check_pieces(&r->c, g, NULL);
    conv_write_seed(&r->c, "tls12_mutual");
    conv_free(&r->c);
    free(r);
    free(g);
}

static void tls13_sni_alpn(void **state)
{
    (void)state;
    hs_opts o = {TLS1_3_VERSION, 1, "www.example.org", 1, 0};
    hs_result *r = malloc(sizeof(*r));
    handshake(&o, &srv, &cli, r);
    got *g = malloc(sizeof(*g));
    assert_int_equal(feed(&r->c, 0, g, NULL), 0);
    assert_int_equal(g->n_err, 0);
    assert_int_equal(g->n_rec, 1);
    const char *j = g->rec[0];
    char want[4200];
    assert_in(j, "\"version\":\"TLS 1.3\",\"client_version\":\"TLS 1.2\",\"client_versions\":"
                 "[\"TLS 1.3\",\"TLS 1.2\"");
    assert_in(j, "\"sni\":\"www.example.org\"");
    /* the server's ALPN answer is in EncryptedExtensions */
    assert_in(j, "\"alpn\":[\"h2\",\"http/1.1\"],\"cipher\":");
    snprintf(want, sizeof(want), "\"cipher\":%u,", r->cipher);
    assert_in(j, want);
    assert_in(j, "\"cipher_name\":\"TLS_AES_256_GCM_SHA384\"");
    snprintf(want, sizeof(want), "\"ja3_string\":\"%s\"", r->hello.ja3);
    assert_in(j, want);
    /* certificates and the request are encrypted in TLS 1.3 */
    assert_in(j, "\"client_cert_requested\":false");
    assert_null(strstr(j, "server_certs"));
    assert_null(strstr(j, "incomplete"));
    assert_false(has_obs(g, "cert-sha256", "tls.cert", srv.sha256));
    char bc[32], ja4[64];
    expect_ja4_bc(&r->hello, bc);
    snprintf(ja4, sizeof(ja4), "t13d%02zu%02zuh2_%s", r->hello.n_ciphers, r->hello.n_exts, bc);
    snprintf(want, sizeof(want), "\"ja4\":\"%s\"", ja4);
    assert_in(j, want);
    assert_in(j, "\"ja3s_string\":\"771,4866,43-51\"");
    check_pieces(&r->c, g, NULL);
    conv_write_seed(&r->c, "tls13");
    conv_free(&r->c);
    free(r);
    free(g);
}

static void tls12_no_sni_no_alpn(void **state)
{
    (void)state;
    hs_opts o = {TLS1_2_VERSION, 0, NULL, 0, 0};
    hs_result *r = malloc(sizeof(*r));
    handshake(&o, &srv, &cli, r);
    got *g = malloc(sizeof(*g));
    assert_int_equal(feed(&r->c, 0, g, NULL), 0);
    const char *j = g->rec[0];
    assert_null(strstr(j, "\"sni\""));
    assert_null(strstr(j, "\"alpn\""));
    assert_in(j, "\"client_cert_requested\":false");
    assert_null(strstr(j, "client_certs"));
    char bc[32], ja4[64], want[100];
    expect_ja4_bc(&r->hello, bc);
    snprintf(ja4, sizeof(ja4), "t13i%02zu%02zu00_%s", r->hello.n_ciphers, r->hello.n_exts, bc);
    snprintf(want, sizeof(want), "\"ja4\":\"%s\"", ja4);
    assert_in(j, want);
    /* Certificate past max_cert_size: not read, said */
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    lim.max_cert_size = 100;
    assert_int_equal(feed(&r->c, 0, g, &lim), 0);
    assert_null(strstr(g->rec[0], "server_certs"));
    assert_in(g->rec[0], "\"certs_cut\":true");
    assert_in(g->rec[0], "\"version\":\"TLS 1.2\"");
    check_pieces(&r->c, g, &lim);
    conv_write_seed(&r->c, "tls12_plain");
    conv_free(&r->c);
    free(r);
    free(g);
}

/* A resumed session: TLS 1.2 (session ticket, abbreviated handshake: no certificate) and TLS
 * 1.3 (a pre_shared_key the server accepts). */
static void resumption(void **state)
{
    (void)state;
    static const int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
    got *g = malloc(sizeof(*g));
    hs_result *r = malloc(sizeof(*r));
    for (int i = 0; i < 2; i++) {
        hs_opts o = {versions[i], 0, "mail.wellmess.test", 0, 1};
        handshake(&o, &srv, &cli, r);
        assert_true(r->resumed);
        assert_int_equal(feed(&r->c, 0, g, NULL), 0);
        assert_int_equal(g->n_rec, 1);
        assert_in(g->rec[0], "\"resumed\":true");
        assert_null(strstr(g->rec[0], "server_certs"));
        assert_null(strstr(g->rec[0], "incomplete"));
        check_pieces(&r->c, g, NULL);
        conv_free(&r->c);
    }
    /* a full handshake is not a resumption */
    hs_opts o = {TLS1_2_VERSION, 0, NULL, 0, 0};
    handshake(&o, &srv, &cli, r);
    assert_int_equal(feed(&r->c, 0, g, NULL), 0);
    assert_null(strstr(g->rec[0], "resumed"));
    conv_free(&r->c);
    free(r);
    free(g);
}

/* ---- hand-built ClientHellos ---- */

typedef struct bb {
    uint8_t b[8192];
    size_t n;
} bb;

static void put8(bb *b, unsigned v)
{
    b->b[b->n++] = (uint8_t)v;
}

static void put16(bb *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v & 0xff);
}

static void putn(bb *b, const void *p, size_t n)
{
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

/* Starts a length field of `width` bytes; end_len fills it. */
static size_t begin_len(bb *b, int width)
{
    size_t at = b->n;
    for (int i = 0; i < width; i++)
        put8(b, 0);
    return at;
}

static void end_len(bb *b, size_t at, int width)
{
    size_t len = b->n - at - (size_t)width;
    for (int i = width - 1; i >= 0; i--) {
        b->b[at + (size_t)i] = (uint8_t)(len & 0xff);
        len >>= 8;
    }
}

static void ext_begin(bb *b, unsigned type, size_t *at)
{
    put16(b, type);
    *at = begin_len(b, 2);
}

/* The FoxIO JA4 example's ClientHello with GREASE values added everywhere: ciphers, extension
 * types, groups, versions. alpn: the first ALPN value (NULL: no ALPN extension); sigalgs: 0 for
 * an empty signature_algorithms list. Returns the record. */
static void foxio_hello(bb *rec, const uint8_t *alpn, size_t alpn_len, int sigalgs)
{
    static const uint16_t ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                       0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                                       0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
    static const uint16_t sigs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
    bb *b = rec;
    size_t a, e, l;
    memset(b, 0, sizeof(*b));
    put8(b, 22);
    put16(b, 0x0301);
    size_t rl = begin_len(b, 2);
    put8(b, 1);
    size_t hl = begin_len(b, 3);
    put16(b, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(b, (unsigned)i);
    put8(b, 32);
    for (int i = 0; i < 32; i++)
        put8(b, 0xee);
    a = begin_len(b, 2);
    put16(b, 0x0a0a);
    for (size_t i = 0; i < 15; i++)
        put16(b, ciphers[i]);
    end_len(b, a, 2);
    put8(b, 1);
    put8(b, 0);
    size_t xl = begin_len(b, 2);
    ext_begin(b, 0x1a1a, &e); /* GREASE */
    end_len(b, e, 2);
    ext_begin(b, 0x001b, &e);
    putn(b, "\x02\x00\x02", 3);
    end_len(b, e, 2);
    ext_begin(b, 0x0000, &e);
    l = begin_len(b, 2);
    put8(b, 0);
    put16(b, 11);
    putn(b, "example.com", 11);
    end_len(b, l, 2);
    end_len(b, e, 2);
    ext_begin(b, 0x0033, &e);
    l = begin_len(b, 2);
    put16(b, 0x2a2a);
    put16(b, 1);
    put8(b, 0);
    put16(b, 0x001d);
    put16(b, 32);
    for (int i = 0; i < 32; i++)
        put8(b, 0x55);
    end_len(b, l, 2);
    end_len(b, e, 2);
    if (alpn) {
        ext_begin(b, 0x0010, &e);
        l = begin_len(b, 2);
        put8(b, (unsigned)alpn_len);
        putn(b, alpn, alpn_len);
        put8(b, 8);
        putn(b, "http/1.1", 8);
        end_len(b, l, 2);
        end_len(b, e, 2);
    } else {
        ext_begin(b, 0x0039, &e); /* something else in its place */
        end_len(b, e, 2);
    }
    ext_begin(b, 0x4469, &e);
    putn(b, "\x00\x03\x02h2", 6);
    end_len(b, e, 2);
    ext_begin(b, 0x0017, &e);
    end_len(b, e, 2);
    ext_begin(b, 0x002d, &e);
    putn(b, "\x01\x01", 2);
    end_len(b, e, 2);
    ext_begin(b, 0x000d, &e);
    l = begin_len(b, 2);
    for (int i = 0; i < (sigalgs ? 8 : 0); i++)
        put16(b, sigs[i]);
    end_len(b, l, 2);
    end_len(b, e, 2);
    ext_begin(b, 0x0005, &e);
    putn(b, "\x01\x00\x00\x00\x00", 5);
    end_len(b, e, 2);
    ext_begin(b, 0x0023, &e);
    end_len(b, e, 2);
    ext_begin(b, 0x0012, &e);
    end_len(b, e, 2);
    ext_begin(b, 0x002b, &e);
    l = begin_len(b, 1);
    put16(b, 0x6a6a);
    put16(b, 0x0304);
    put16(b, 0x0303);
    end_len(b, l, 1);
    end_len(b, e, 2);
    ext_begin(b, 0xff01, &e);
    put8(b, 0);
    end_len(b, e, 2);
    ext_begin(b, 0x000b, &e);
    putn(b, "\x01\x00", 2);
    end_len(b, e, 2);
    ext_begin(b, 0x000a, &e);
    l = begin_len(b, 2);
    put16(b, 0x3a3a);
    put16(b, 0x001d);
    put16(b, 0x0017);
    put16(b, 0x0018);
    end_len(b, l, 2);
    end_len(b, e, 2);
    ext_begin(b, 0x0015, &e);
    for (int i = 0; i < 20; i++)
        put8(b, 0);
    end_len(b, e, 2);
    ext_begin(b, 0xfafa, &e); /* GREASE, last as Chrome sends it */
    put8(b, 0);
    end_len(b, e, 2);
    end_len(b, xl, 2);
    end_len(b, hl, 3);
    end_len(b, rl, 2);
}

static void feed_client(const bb *rec, got *g, size_t piece)
{
    conv c;
    memset(&c, 0, sizeof(c));
    conv_add(&c, AB_DIR_TO_SERVER, rec->b, rec->n);
    feed(&c, piece, g, NULL);
    conv_free(&c);
}

static void ja4_foxio_example(void **state)
{
    (void)state;
    bb *rec = malloc(sizeof(*rec));
    got *g = malloc(sizeof(*g));
    foxio_hello(rec, (const uint8_t *)"h2", 2, 1);
    assert_int_equal(ab_app_tls.detect(rec->b, rec->n, AB_DIR_TO_SERVER), 1);
    conv seed;
    memset(&seed, 0, sizeof(seed));
    conv_add(&seed, AB_DIR_TO_SERVER, rec->b, rec->n);
    conv_write_seed(&seed, "grease_hello");
    conv_free(&seed);
    feed_client(rec, g, 0);
    assert_int_equal(g->n_err, 0);
    assert_true(has_obs(g, "ja4", "tls.client", "t13d1516h2_8daaf6152771_e5627efa2ab1"));
    /* JA3: GREASE left out of ciphers, extensions and groups; legacy version 771 */
    assert_in(g->rec[0], "\"ja3_string\":\"771,4865-4866-4867-49195-49199-49196-49200-52393-"
                         "52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-"
                         "65281-11-10-21,29-23-24,0\"");
    assert_true(has_obs(g, "ja3", "tls.client", "c000e2caf3a25423f9de6c8a4b12a975"));
    assert_true(has_obs(g, "domain", "tls.sni", "example.com"));
    assert_in(g->rec[0], "\"client_versions\":[\"TLS 1.3\",\"TLS 1.2\"]");
    /* closed after the ClientHello alone: said */
    assert_in(g->rec[0], "\"incomplete\":true");
    /* no signature algorithms: no '_' (the spec's 6d807ffa2a79) */
    foxio_hello(rec, (const uint8_t *)"h2", 2, 0);
    feed_client(rec, g, 1);
    assert_true(has_obs(g, "ja4", "tls.client", "t13d1516h2_8daaf6152771_6d807ffa2a79"));
    free(rec);
    free(g);
}

static void ja4_alpn_rules(void **state)
{
    (void)state;
    static const struct {
        const char *alpn;
        size_t len;
        const char *want;
    } cases[] = {
        {"h2", 2, "h2"},
        {"http/1.1", 8, "h1"},
        {"\xab", 1, "ab"},
        {"\xab\xcd", 2, "ad"},
        {"\x30\xab", 2, "3b"},
        {"\x30\x31\xab\xcd", 4, "3d"},
        {"\x30\xab\xcd\x31", 4, "01"},
        {"x", 1, "xx"},
        {"", 0, "00"},
    };
    bb *rec = malloc(sizeof(*rec));
    got *g = malloc(sizeof(*g));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        foxio_hello(rec, (const uint8_t *)cases[i].alpn, cases[i].len, 1);
        feed_client(rec, g, 0);
        char want[64];
        snprintf(want, sizeof(want), "t13d1516%s_8daaf6152771_e5627efa2ab1", cases[i].want);
        if (!has_obs(g, "ja4", "tls.client", want)) {
            print_error("case %zu: want %s, got %s\n", i, want, g->n_obs > 2 ? g->obs[2] : "");
            fail();
        }
    }
    /* no ALPN extension at all (another extension in its place: the count stays 16) */
    foxio_hello(rec, NULL, 0, 1);
    feed_client(rec, g, 0);
    int found = 0;
    for (int i = 0; i < g->n_obs; i++)
        found |= strncmp(g->obs[i], "ja4|tls.client|t13d151600_8daaf6152771_", 39) == 0;
    assert_true(found);
    free(rec);
    free(g);
}

static void detect_rules(void **state)
{
    (void)state;
    static const uint8_t ch[] = {22, 3, 1, 0, 200, 1, 0, 0, 196};
    static const uint8_t sh[] = {22, 3, 3, 0, 90, 2};
    static const uint8_t v2[] = {0x80, 0x2e, 1, 3, 1, 0, 21};
    assert_int_equal(ab_app_tls.detect(ch, 1, AB_DIR_TO_SERVER), -1);
    assert_int_equal(ab_app_tls.detect(ch, 5, AB_DIR_TO_SERVER), -1);
    assert_int_equal(ab_app_tls.detect(ch, sizeof(ch), AB_DIR_TO_SERVER), 1);
    assert_int_equal(ab_app_tls.detect(sh, sizeof(sh), AB_DIR_TO_CLIENT), 1);
    assert_int_equal(ab_app_tls.detect(v2, sizeof(v2), AB_DIR_TO_SERVER), 1);
    assert_int_equal(ab_app_tls.detect(v2, sizeof(v2), AB_DIR_TO_CLIENT), 0);
    assert_int_equal(ab_app_tls.detect((const uint8_t *)"220 mx ESMTP", 12, AB_DIR_TO_CLIENT), 0);
    assert_int_equal(ab_app_tls.detect((const uint8_t *)"GET / HTTP/1.1", 14, 0), 0);
    static const uint8_t bad_ver[] = {22, 3, 5, 0, 10, 1};
    static const uint8_t too_long[] = {22, 3, 1, 0x48, 0x01, 1};
    static const uint8_t appdata[] = {23, 3, 3, 0, 10, 1};
    static const uint8_t other_hs[] = {22, 3, 3, 0, 10, 11};
    assert_int_equal(ab_app_tls.detect(bad_ver, sizeof(bad_ver), 0), 0);
    assert_int_equal(ab_app_tls.detect(too_long, sizeof(too_long), 0), 0);
    assert_int_equal(ab_app_tls.detect(appdata, sizeof(appdata), 0), 0);
    assert_int_equal(ab_app_tls.detect(other_hs, sizeof(other_hs), 0), 0);
}

static void hostile(void **state)
{
    (void)state;
    got *g = malloc(sizeof(*g));
    bb *rec = malloc(sizeof(*rec));
    conv c;
    /* a record that is not TLS after a good one: given up, said */
    memset(&c, 0, sizeof(c));
    foxio_hello(rec, (const uint8_t *)"h2", 2, 1);
    conv_add(&c, AB_DIR_TO_SERVER, rec->b, rec->n);
    conv_add(&c, AB_DIR_TO_CLIENT, (const uint8_t *)"HTTP/1.1 400 Bad\r\n", 18);
    assert_int_equal(feed(&c, 0, g, NULL), -1);
    assert_int_equal(g->n_err, 1);
    assert_int_equal(g->n_rec, 1);
    assert_in(g->rec[0], "\"incomplete\":true");
    conv_free(&c);
    /* a record length past 2^14 + 2048 */
    static const uint8_t big[] = {22, 3, 3, 0x48, 0x01, 1, 0, 0, 1};
    memset(&c, 0, sizeof(c));
    conv_add(&c, AB_DIR_TO_SERVER, big, sizeof(big));
    assert_int_equal(feed(&c, 0, g, NULL), -1);
    assert_int_equal(g->n_rec, 0);
    conv_free(&c);
    /* a ClientHello whose cipher list runs past its end: malformed, no fingerprint */
    foxio_hello(rec, (const uint8_t *)"h2", 2, 1);
    rec->b[5 + 4 + 2 + 32 + 1 + 32] = 0xff;
    rec->b[5 + 4 + 2 + 32 + 1 + 33] = 0xff;
    memset(&c, 0, sizeof(c));
    conv_add(&c, AB_DIR_TO_SERVER, rec->b, rec->n);
    assert_int_equal(feed(&c, 0, g, NULL), 0);
    assert_int_equal(g->n_obs, 0);
    assert_int_equal(g->n_rec, 1);
    assert_in(g->rec[0], "\"malformed\":[\"client_hello\"]");
    assert_null(strstr(g->rec[0], "ja3"));
    conv_free(&c);
    /* a handshake message split over many records, one byte each: reassembled */
    foxio_hello(rec, (const uint8_t *)"h2", 2, 1);
    memset(&c, 0, sizeof(c));
    for (size_t i = 5; i < rec->n; i++) {
        uint8_t r1[6] = {22, 3, 1, 0, 1, rec->b[i]};
        conv_add(&c, AB_DIR_TO_SERVER, r1, 6);
        if (c.n == MAXSEG) { /* merge to stay within MAXSEG segments */
            uint8_t *all = NULL;
            size_t n = 0;
            for (int k = 0; k < c.n; k++) {
                all = realloc(all, n + c.len[k]);
                memcpy(all + n, c.data[k], c.len[k]);
                n += c.len[k];
            }
            conv_free(&c);
            conv_add(&c, AB_DIR_TO_SERVER, all, n);
            free(all);
        }
    }
    assert_int_equal(feed(&c, 0, g, NULL), 0);
    assert_true(has_obs(g, "ja4", "tls.client", "t13d1516h2_8daaf6152771_e5627efa2ab1"));
    conv_free(&c);
    /* a gap stops the direction; the record is still given */
    memset(&c, 0, sizeof(c));
    ab_net_out out = {g, on_obs, on_obj, on_rec, on_err};
    ab_flow_ref f;
    memset(&f, 0, sizeof(f));
    memset(g, 0, sizeof(*g));
    void *st = ab_app_tls.new_state(NULL);
    assert_int_equal(ab_app_tls.data(st, &f, 0, rec->b, rec->n, &out), 0);
    assert_int_equal(ab_app_tls.gap(st, &f, 1, 100, &out), 0);
    assert_int_equal(ab_app_tls.gap(st, &f, 0, 100, &out), 0);
    assert_int_equal(g->n_rec, 1);
    assert_in(g->rec[0], "\"incomplete\":true");
    assert_int_equal(ab_app_tls.data(st, &f, 0, (const uint8_t *)"junk", 4, &out), 0);
    ab_app_tls.close(st, &f, &out);
    assert_int_equal(g->n_rec, 1);
    ab_app_tls.free_state(st);
    free(rec);
    free(g);
}

/* Certificates read once are remembered by SHA-256 (tls.c, CERT_MEMO): a flow whose certificate
 * was read before, and one after the memo turned over (70 others read since), give what the
 * first reading gave; an unreadable certificate stays an error when met again. */
static void cert_memo(void **state)
{
    (void)state;
    hs_opts o = {TLS1_2_VERSION, 1, "mail.wellmess.test", 1, 0};
    hs_result *r = malloc(sizeof(*r));
    handshake(&o, &srv, &cli, r);
    got *first = malloc(sizeof(*first)), *g = malloc(sizeof(*g));
    assert_int_equal(feed(&r->c, 0, first, NULL), 0);
    assert_true(has_obs(first, "ip", "tls.cert.name", "192.0.2.7"));
    bb *rec = malloc(sizeof(*rec)), *hello = malloc(sizeof(*hello));
    foxio_hello(hello, (const uint8_t *)"h2", 2, 1);
    for (int round = 0; round < 2; round++) {
        for (unsigned k = 0; k < 70; k++) {
            /* a Certificate message holding one certificate OpenSSL cannot read */
            rec->n = 0;
            put8(rec, 22);
            put16(rec, 0x0303);
            size_t rl = begin_len(rec, 2);
            put8(rec, 11);
            size_t ml = begin_len(rec, 3), tl = begin_len(rec, 3), cl = begin_len(rec, 3);
            putn(rec, "\x30\x82\x00\x04junk", 8);
            put16(rec, k);
            end_len(rec, cl, 3);
            end_len(rec, tl, 3);
            end_len(rec, ml, 3);
            end_len(rec, rl, 2);
            conv c;
            memset(&c, 0, sizeof(c));
            conv_add(&c, AB_DIR_TO_SERVER, hello->b, hello->n);
            conv_add(&c, AB_DIR_TO_CLIENT, rec->b, rec->n);
            feed(&c, 0, g, NULL);
            assert_int_equal(g->n_rec, 1);
            assert_in(g->rec[0], "\"error\":\"not a certificate OpenSSL can read\"");
            conv_free(&c);
        }
        assert_int_equal(feed(&r->c, round ? 1 : 0, g, NULL), 0);
        assert_int_equal(g->n_rec, 1);
        assert_string_equal(g->rec[0], first->rec[0]);
        assert_int_equal(g->n_obs, first->n_obs);
        for (int k = 0; k < g->n_obs && k < MAXO; k++)
            assert_string_equal(g->obs[k], first->obs[k]);
    }
    conv_free(&r->c);
    free(rec);
    free(hello);
    free(r);
    free(first);
    free(g);
}

/* corpus/tls/loopback_mtls_s_client: `openssl s_server -tls1_2 -verify 1 -alpn h2` and
 * `openssl s_client -servername cap.wellmess.test -alpn h2,http/1.1 -cert` (OpenSSL 3.0.19) on
 * loopback, captured with tcpdump, each direction's TCP payload taken out with tshark's
 * "follow,tcp,raw". The JA3 and JA3S are what tshark 4.0.17 said for that capture
 * (tls.handshake.ja3, tls.handshake.ja3s); the hashes what `openssl x509 -outform der | sha256sum`
 * and `openssl x509 -fingerprint -sha1` said of the certificate. */
/* A seed of the fuzz corpus (TLS_SEEDS): segments of 2-byte headers (bit 15 the direction,
 * 14 bits the length) and their bytes. */
static void read_seed(const char *name, conv *c)
{
    const char *dir = getenv("TLS_SEEDS");
    if (!dir)
        skip();
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static uint8_t b[65536];
    size_t n = fread(b, 1, sizeof(b), fp);
    fclose(fp);
    memset(c, 0, sizeof(*c));
    for (size_t o = 0; o + 2 <= n;) {
        unsigned h = (unsigned)b[o] << 8 | b[o + 1];
        size_t len = h & 0x3fff;
        o += 2;
        assert_true(len <= n - o);
        conv_add(c, h >> 15, b + o, len);
        o += len;
    }
}

static void tshark_capture(void **state)
{
    (void)state;
    conv c;
    read_seed("loopback_mtls_s_client", &c);
    got *g = malloc(sizeof(*g));
    assert_int_equal(feed(&c, 0, g, NULL), 0);
    assert_int_equal(g->n_rec, 1);
    assert_true(has_obs(g, "ja3", "tls.client", "5a1edc7f170af1014fc65c994878e63c"));
    assert_true(has_obs(g, "ja3s", "tls.server", "e195432758194ce2d482396b82e0d48e"));
    assert_in(g->rec[0], "\"ja3s_string\":\"771,49196,65281-11-35-16-23\"");
    assert_true(has_obs(g, "domain", "tls.sni", "cap.wellmess.test"));
    assert_true(has_obs(g, "cert-sha256", "tls.cert",
                        "c9ae41efee4c04f8e095750081eaec0cfa94b01a416109da16bf41c28a79f07a"));
    assert_true(
        has_obs(g, "cert-sha1", "tls.client_cert", "fb4ba70d57424c495d5182659ae97a8f8bb0268b"));
    assert_in(g->rec[0], "\"alpn\":[\"h2\",\"http/1.1\"],\"alpn_selected\":\"h2\"");
    assert_in(g->rec[0], "\"client_cert_requested\":true");
    assert_in(g->rec[0], "\"serial\":\"020bb500bc8aef2cc4ce298f16ebd37a085d69e1\","
                         "\"not_before\":\"2026-12-02T13:13:03Z\",\"not_after\":"
                         "\"2027-01-01T13:13:03Z\"");
    check_pieces(&c, g, NULL);
    conv_free(&c);
    free(g);
}

/* Handshake messages split over records are kept in a buffer counted with every flow's
 * (lim.mem): given back when the state is freed; past the cap, a certificate is cut (the record
 * says certs_cut) and the cut counted. */
static void mem_counted(void **state)
{
    (void)state;
    hs_opts o = {TLS1_2_VERSION, 1, "mail.wellmess.test", 1, 0};
    hs_result *r = malloc(sizeof(*r));
    handshake(&o, &srv, &cli, r);
    got *g = malloc(sizeof(*g));
    ab_net_mem mem = {0, 0, 0};
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    lim.mem = &mem;
    assert_int_equal(feed(&r->c, 7, g, &lim), 0);
    assert_null(strstr(g->rec[0], "certs_cut"));
    assert_int_equal(mem.used, 0);
    assert_int_equal(mem.cuts, 0);
    mem.cap = 100; /* less than the certificate message */
    assert_int_equal(feed(&r->c, 7, g, &lim), 0);
    assert_in(g->rec[0], "\"certs_cut\":true");
    assert_true(mem.cuts >= 1);
    assert_int_equal(mem.used, 0);
    conv_free(&r->c);
    free(r);
    free(g);
}

/* JA4 as an implementation of its own computes it: read-tls-client-hello 2.0.0 (npm,
 * getTlsFingerprintAsJa4) over what the client sent in these seeds, on 2026-12-02 (tshark 4.0
 * has no JA4). Its other JA4s, of the loopback captures gen_captures.py makes (TLS 1.2, 1.3,
 * port 25, curl over HTTPS), agreed with antibody pcap --flows too. */
static void ja4_independent(void **state)
{
    (void)state;
    static const char *const seeds[][2] = {
        {"loopback_mtls_s_client", "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4"},
        {"tls12_plain", "t13i310900_e8f1e7e78f70_5ac7197df9d2"},
        {"tls12_mutual", "t13d3111h2_e8f1e7e78f70_5ac7197df9d2"},
        {"grease_hello", "t13d1516h2_8daaf6152771_e5627efa2ab1"},
    };
    got *g = malloc(sizeof(*g));
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        conv c;
        read_seed(seeds[i][0], &c);
        feed(&c, 0, g, NULL);
        if (!has_obs(g, "ja4", "tls.client", seeds[i][1]))
            fail_msg("%s: no ja4 %s", seeds[i][0], seeds[i][1]);
        conv_free(&c);
    }
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls12_mutual),
        cmocka_unit_test(tls13_sni_alpn),
        cmocka_unit_test(tls12_no_sni_no_alpn),
        cmocka_unit_test(ja4_foxio_example),
        cmocka_unit_test(ja4_alpn_rules),
        cmocka_unit_test(detect_rules),
        cmocka_unit_test(hostile),
        cmocka_unit_test(tshark_capture),
        cmocka_unit_test(ja4_independent),
        cmocka_unit_test(resumption),
        cmocka_unit_test(cert_memo),
        cmocka_unit_test(mem_counted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
