/* tls_mem.h: what test_tls and test_smtp share: an ab_net_out that collects what a parser
 * gives (observables as "type|where|value", records with the flow app they came with, objects,
 * errors), captured conversations (segments of either direction in order), and OpenSSL made to
 * talk to itself in memory: EC keys, self-signed certificates (subject, serial, validity, SAN),
 * a client and a server over memory BIOs whose written bytes are the conversation, and what the
 * server's OpenSSL read in the ClientHello (JA3 and JA4 computed from it). Static functions:
 * (inline: each test uses some of them) included by one test file each, after cmocka.h. */
#ifndef AB_TEST_TLS_MEM_H
#define AB_TEST_TLS_MEM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/net.h"

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
    int n_objs;
    char obj_name[4][64];
    char obj_type[4][32];
    uint8_t *obj[4]; /* owned: got_free */
    size_t obj_len[4];
    int obj_trunc[4];
} got;

static inline void on_obj(void *ctx, const ab_flow_ref *f, int dir, const char *const *names,
                          size_t n_names, const uint8_t *data, size_t len, const char *media_type,
                          int truncated)
{
    got *g = ctx;
    (void)f;
    (void)dir;
    if (g->n_objs < 4) {
        int i = g->n_objs;
        snprintf(g->obj_name[i], sizeof(g->obj_name[0]), "%s", n_names ? names[0] : "");
        snprintf(g->obj_type[i], sizeof(g->obj_type[0]), "%s", media_type ? media_type : "");
        g->obj[i] = malloc(len + 1);
        if (len)
            memcpy(g->obj[i], data, len);
        g->obj_len[i] = len;
        g->obj_trunc[i] = truncated;
    }
    g->n_objs++;
}

static inline void got_free(got *g)
{
    for (int i = 0; i < g->n_objs && i < 4; i++)
        free(g->obj[i]);
    memset(g, 0, sizeof(*g));
}

static inline void on_obs(void *ctx, const ab_flow_ref *f, int dir, const char *type,
                          const char *where, const char *v, size_t n)
{
    got *g = ctx;
    (void)f;
    (void)dir;
    if (g->n_obs < MAXO)
        snprintf(g->obs[g->n_obs], sizeof(g->obs[0]), "%s|%s|%.*s", type, where, (int)n, v);
    g->n_obs++;
}

static inline void on_rec(void *ctx, const ab_flow_ref *f, const char *json, size_t len)
{
    got *g = ctx;
    if (g->n_rec < 4) {
        snprintf(g->rec[g->n_rec], sizeof(g->rec[0]), "%.*s", (int)len, json);
        snprintf(g->rec_app[g->n_rec], sizeof(g->rec_app[0]), "%s", f->app ? f->app : "");
    }
    g->n_rec++;
}

static inline void on_err(void *ctx, const ab_flow_ref *f, const char *msg)
{
    got *g = ctx;
    (void)f;
    if (g->n_err < 4)
        snprintf(g->err[g->n_err], sizeof(g->err[0]), "%s", msg);
    g->n_err++;
}

static inline int has_obs(const got *g, const char *type, const char *where, const char *value)
{
    char want[400];
    snprintf(want, sizeof(want), "%s|%s|%s", type, where, value);
    for (int i = 0; i < g->n_obs && i < MAXO; i++)
        if (strcmp(g->obs[i], want) == 0)
            return 1;
    return 0;
}

static inline void assert_in(const char *hay, const char *needle)
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

static inline void conv_add(conv *c, int dir, const uint8_t *p, size_t n)
{
    assert_true(c->n < MAXSEG);
    c->dir[c->n] = dir;
    c->data[c->n] = malloc(n);
    memcpy(c->data[c->n], p, n);
    c->len[c->n] = n;
    c->n++;
}

/* With TLS_SEED_DIR set, the conversation is written there as a fuzz seed named name
 * (tests/fuzz/app_fuzz.h: a 2-byte header per segment, bit 15 the direction). */
static inline void conv_write_seed(const conv *c, const char *name)
{
    const char *dir = getenv("TLS_SEED_DIR");
    char path[512];
    if (!dir)
        return;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < c->n; i++) {
        for (size_t off = 0; off < c->len[i];) {
            size_t k = c->len[i] - off > 0x3fff ? 0x3fff : c->len[i] - off;
            uint8_t h[2] = {(uint8_t)((c->dir[i] ? 0x80 : 0) | (k >> 8)), (uint8_t)(k & 0xff)};
            fwrite(h, 1, 2, f);
            fwrite(c->data[i] + off, 1, k, f);
            off += k;
        }
    }
    fclose(f);
}

static inline void conv_free(conv *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->data[i]);
    memset(c, 0, sizeof(*c));
}

/* Feeds the conversation in order, each segment in pieces of `piece` bytes (0: whole), then
 * closes. Returns the parser's last data() result. */
/* ---- OpenSSL: keys, certificates, an in-memory handshake ---- */

typedef struct pki {
    EVP_PKEY *key;
    X509 *cert;
    char sha1[41], sha256[65];
} pki;

static inline void hexs(const unsigned char *p, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static inline void make_pki(pki *k, const char *cn, const char *san, long serial)
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

static inline void free_pki(pki *k)
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

static inline int hello_cb(SSL *s, int *al, void *arg)
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

static inline int cmp16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* JA4 b and c from what OpenSSL read (no GREASE: OpenSSL sends none). */
static inline void expect_ja4_bc(const seen_hello *h, char out[32])
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

static inline int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1;
}

static const unsigned char alpn_wire[] = "\x02h2\x08http/1.1";

static inline int alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen,
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
    int resume; /* 1: a first handshake, then the one captured resumes its session */
} hs_opts;

typedef struct hs_result {
    conv c;
    seen_hello hello;
    unsigned cipher;
    int resumed; /* OpenSSL says the session was resumed */
} hs_result;

static inline void drain(BIO *from, BIO *to, conv *c, int dir)
{
    uint8_t buf[65536];
    int n;
    while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
        conv_add(c, dir, buf, (size_t)n);
        BIO_write(to, buf, n);
    }
}

/* One connection between the two contexts, its bytes in r->c (sess: resumed). */
static inline void hs_run(SSL_CTX *sctx, SSL_CTX *cctx, const hs_opts *o, SSL_SESSION *sess,
                          SSL_SESSION **sess_out, hs_result *r)
{
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    if (sess)
        SSL_set_session(c, sess);
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
    if (sess)
        r->resumed = SSL_session_reused(c);
    if (sess_out)
        *sess_out = SSL_get1_session(c);
    /* closed as if both said close_notify: SSL_free would otherwise spoil the session */
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(s);
    SSL_free(c);
}

static inline void handshake(const hs_opts *o, pki *server, pki *client, hs_result *r)
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
    SSL_SESSION *sess = NULL;
    if (o->resume) {
        hs_run(sctx, cctx, o, NULL, &sess, r);
        assert_non_null(sess);
        conv_free(&r->c);
        memset(r, 0, sizeof(*r));
    }
    hs_run(sctx, cctx, o, sess, NULL, r);
    SSL_SESSION_free(sess);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
}

#endif
