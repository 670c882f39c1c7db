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

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/tls.h"

/* ---- a collecting ab_net_out ---- */

#define MAXO 64
typedef struct got {
    int n_obs;
    char obs[MAXO][400]; /* "type|where|value" */
    int n_rec;
    char rec[4][16384];
    char rec_app[4][16];
    int n_err;
    char err[4][200];
} got;

static void on_obs(void *ctx, const ab_flow_ref *f, int dir, const char *type, const char *where,
                   const char *v, size_t n)
{
    got *g = ctx;
    (void)f;
    (void)dir;
    if (g->n_obs < MAXO)
        snprintf(g->obs[g->n_obs], sizeof(g->obs[0]), "%s|%s|%.*s", type, where, (int)n, v);
    g->n_obs++;
}

static void on_rec(void *ctx, const ab_flow_ref *f, const char *json, size_t len)
{
    got *g = ctx;
    if (g->n_rec < 4) {
        snprintf(g->rec[g->n_rec], sizeof(g->rec[0]), "%.*s", (int)len, json);
        snprintf(g->rec_app[g->n_rec], sizeof(g->rec_app[0]), "%s", f->app ? f->app : "");
    }
    g->n_rec++;
}

static void on_err(void *ctx, const ab_flow_ref *f, const char *msg)
{
    got *g = ctx;
    (void)f;
    if (g->n_err < 4)
        snprintf(g->err[g->n_err], sizeof(g->err[0]), "%s", msg);
    g->n_err++;
}

static int has_obs(const got *g, const char *type, const char *where, const char *value)
{
    char want[400];
    snprintf(want, sizeof(want), "%s|%s|%s", type, where, value);
    for (int i = 0; i < g->n_obs && i < MAXO; i++)
        if (strcmp(g->obs[i], want) == 0)
            return 1;
    return 0;
}

static void assert_in(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) {
        print_error("missing %s\nin %s\n", needle, hay);
        fail();
    }
}

/* ---- captured conversations ---- */

#define MAXSEG 64
typedef struct conv {
    int n;
    int dir[MAXSEG];
    uint8_t *data[MAXSEG];
    size_t len[MAXSEG];
} conv;

static void conv_add(conv *c, int dir, const uint8_t *p, size_t n)
{
    assert_true(c->n < MAXSEG);
    c->dir[c->n] = dir;
    c->data[c->n] = malloc(n);
    memcpy(c->data[c->n], p, n);
    c->len[c->n] = n;
    c->n++;
}

static void conv_free(conv *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->data[i]);
    memset(c, 0, sizeof(*c));
}

/* Feeds the conversation in order, each segment in pieces of `piece` bytes (0: whole), then
 * closes. Returns the parser's last data() result. */
static int feed(const conv *c, size_t piece, got *g, const ab_net_limits *lim)
{
    ab_net_out out = {g, on_obs, NULL, on_rec, on_err};
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

/* ---- OpenSSL: keys, certificates, an in-memory handshake ---- */

typedef struct pki {
    EVP_PKEY *key;
    X509 *cert;
    char sha1[41], sha256[65];
} pki;

static void hexs(const unsigned char *p, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void make_pki(pki *k, const char *cn, const char *san, long serial)
{
    k->key = EVP_EC_gen("P-256");
    assert_non_null(k->key);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_TIME_set_string(t, "20240101000000Z");
    X509_set1_notBefore(x, t);
    ASN1_TIME_set_string(t, "20340101123456Z");
    X509_set1_notAfter(x, t);
    ASN1_TIME_free(t);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Antibody Test", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, k->key);
    if (san) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        assert_non_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, k->key, EVP_sha256()) > 0);
    k->cert = x;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n;
    X509_digest(x, EVP_sha1(), md, &n);
    hexs(md, n, k->sha1);
    X509_digest(x, EVP_sha256(), md, &n);
    hexs(md, n, k->sha256);
}

static void free_pki(pki *k)
{
    EVP_PKEY_free(k->key);
    X509_free(k->cert);
}

/* What the server's OpenSSL read in the ClientHello: JA3 and JA4 computed from it here. */
typedef struct seen_hello {
    char ja3[4096];
    char ja4_a[16];
    uint16_t ciphers[128], exts[64], sigalgs[64];
    size_t n_ciphers, n_exts, n_sigalgs;
} seen_hello;

static int hello_cb(SSL *s, int *al, void *arg)
{
    seen_hello *h = arg;
    const unsigned char *p;
    size_t n;
    char *o = h->ja3;
    (void)al;
    o += sprintf(o, "%u,", SSL_client_hello_get0_legacy_version(s));
    n = SSL_client_hello_get0_ciphers(s, &p);
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned v = (unsigned)(p[i] << 8 | p[i + 1]);
        h->ciphers[h->n_ciphers++] = (uint16_t)v;
        o += sprintf(o, i ? "-%u" : "%u", v);
    }
    *o++ = ',';
    int *ext;
    size_t ne;
    assert_int_equal(SSL_client_hello_get1_extensions_present(s, &ext, &ne), 1);
    for (size_t i = 0; i < ne; i++) {
        h->exts[h->n_exts++] = (uint16_t)ext[i];
        o += sprintf(o, i ? "-%d" : "%d", ext[i]);
    }
    OPENSSL_free(ext);
    *o++ = ',';
    if (SSL_client_hello_get0_ext(s, 10, &p, &n) && n >= 2)
        for (size_t i = 2; i + 1 < n; i += 2)
            o += sprintf(o, i > 2 ? "-%u" : "%u", (unsigned)(p[i] << 8 | p[i + 1]));
    *o++ = ',';
    if (SSL_client_hello_get0_ext(s, 11, &p, &n) && n >= 1)
        for (size_t i = 1; i < n; i++)
            o += sprintf(o, i > 1 ? "-%u" : "%u", p[i]);
    *o = '\0';
    if (SSL_client_hello_get0_ext(s, 13, &p, &n) && n >= 2)
        for (size_t i = 2; i + 1 < n; i += 2)
            h->sigalgs[h->n_sigalgs++] = (uint16_t)(p[i] << 8 | p[i + 1]);
    return SSL_CLIENT_HELLO_SUCCESS;
}

static int cmp16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* JA4 b and c from what OpenSSL read (no GREASE: OpenSSL sends none). */
static void expect_ja4_bc(const seen_hello *h, char out[32])
{
    char s[4096], *o = s;
    uint16_t v[128];
    unsigned char md[32];
    char hx[65];
    memcpy(v, h->ciphers, h->n_ciphers * 2);
    qsort(v, h->n_ciphers, 2, cmp16);
    for (size_t i = 0; i < h->n_ciphers; i++)
        o += sprintf(o, i ? ",%04x" : "%04x", v[i]);
    SHA256((unsigned char *)s, strlen(s), md);
    hexs(md, 32, hx);
    memcpy(out, hx, 12);
    out[12] = '_';
    size_t k = 0;
    for (size_t i = 0; i < h->n_exts; i++)
        if (h->exts[i] != 0 && h->exts[i] != 16)
            v[k++] = h->exts[i];
    qsort(v, k, 2, cmp16);
    o = s;
    for (size_t i = 0; i < k; i++)
        o += sprintf(o, i ? ",%04x" : "%04x", v[i]);
    if (h->n_sigalgs)
        *o++ = '_';
    for (size_t i = 0; i < h->n_sigalgs; i++)
        o += sprintf(o, i ? ",%04x" : "%04x", h->sigalgs[i]);
    *o = '\0';
    SHA256((unsigned char *)s, strlen(s), md);
    hexs(md, 32, hx);
    memcpy(out + 13, hx, 12);
    out[25] = '\0';
}

static int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

static const unsigned char alpn_wire[] = "\x02h2\x08http/1.1";

static int alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)s;
    (void)arg;
    if (SSL_select_next_proto((unsigned char **)out, outlen, alpn_wire, sizeof(alpn_wire) - 1, in,
                              inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    return SSL_TLSEXT_ERR_OK;
}

typedef struct hs_opts {
    int version; /* TLS1_2_VERSION or TLS1_3_VERSION */
    int client_cert;
    const char *sni;
    int alpn;
} hs_opts;

typedef struct hs_result {
    conv c;
    seen_hello hello;
    unsigned cipher;
} hs_result;

static void drain(BIO *from, BIO *to, conv *c, int dir)
{
    uint8_t buf[65536];
    int n;
    while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
        conv_add(c, dir, buf, (size_t)n);
        BIO_write(to, buf, n);
    }
}

static void handshake(const hs_opts *o, pki *server, pki *client, hs_result *r)
{
    memset(r, 0, sizeof(*r));
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method()), *cctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(sctx);
    assert_non_null(cctx);
    SSL_CTX_set_min_proto_version(sctx, o->version);
    SSL_CTX_set_max_proto_version(sctx, o->version);
    SSL_CTX_set_max_proto_version(cctx, TLS1_3_VERSION);
    SSL_CTX_set_security_level(sctx, 0); /* whatever the system policy: our test curves */
    SSL_CTX_set_security_level(cctx, 0);
    assert_int_equal(SSL_CTX_use_certificate(sctx, server->cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(sctx, server->key), 1);
    SSL_CTX_set_client_hello_cb(sctx, hello_cb, &r->hello);
    SSL_CTX_set_alpn_select_cb(sctx, alpn_select, NULL);
    if (o->client_cert) {
        SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER, accept_any);
        assert_int_equal(SSL_CTX_use_certificate(cctx, client->cert), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey(cctx, client->key), 1);
    }
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
    BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(s_in, -1);
    BIO_set_mem_eof_return(c_in, -1);
    SSL_set_bio(s, s_in, s_out);
    SSL_set_bio(c, c_in, c_out);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    if (o->sni)
        SSL_set_tlsext_host_name(c, o->sni);
    if (o->alpn)
        SSL_set_alpn_protos(c, alpn_wire, sizeof(alpn_wire) - 1);
    for (int i = 0; i < 20 && !(SSL_is_init_finished(c) && SSL_is_init_finished(s)); i++) {
        SSL_do_handshake(c);
        drain(c_out, s_in, &r->c, AB_DIR_TO_SERVER);
        SSL_do_handshake(s);
        drain(s_out, c_in, &r->c, AB_DIR_TO_CLIENT);
    }
    assert_true(SSL_is_init_finished(c) && SSL_is_init_finished(s));
    char buf[64];
    SSL_write(c, "EHLO encrypted\r\n", 16);
    drain(c_out, s_in, &r->c, AB_DIR_TO_SERVER);
    assert_int_equal(SSL_read(s, buf, sizeof(buf)), 16);
    SSL_write(s, "250 ok\r\n", 8);
    drain(s_out, c_in, &r->c, AB_DIR_TO_CLIENT);
    assert_int_equal(SSL_read(c, buf, sizeof(buf)), 8);
    r->cipher = SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(s));
    SSL_free(s);
    SSL_free(c);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
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
    hs_opts o = {TLS1_2_VERSION, 1, "mail.wellmess.test", 1};
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
    conv_free(&r->c);
    free(r);
    free(g);
}

static void tls13_sni_alpn(void **state)
{
    (void)state;
    hs_opts o = {TLS1_3_VERSION, 1, "www.example.org", 1};
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
    conv_free(&r->c);
    free(r);
    free(g);
}

static void tls12_no_sni_no_alpn(void **state)
{
    (void)state;
    hs_opts o = {TLS1_2_VERSION, 0, NULL, 0};
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
    ab_net_out out = {g, on_obs, NULL, on_rec, on_err};
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
