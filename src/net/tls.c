/* tls.c: the TLS handshake parser (tls.h): record layer, handshake reassembly, hellos, JA3/JA3S/
 * JA4, certificates through OpenSSL, one record per flow. */
#include "net/tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "report/json.h"

#define TLS_MAX_VERSIONS 8                 /* supported_versions offered, kept for the record */
#define TLS_MAX_DN       4096              /* bytes of a subject/issuer kept */
#define TLS_MAX_REC_JSON ((size_t)1 << 20) /* the record's JSON */

enum { REC_CCS = 20, REC_ALERT = 21, REC_HANDSHAKE = 22, REC_APPDATA = 23, REC_HEARTBEAT = 24 };
enum { REC_SSLV2 = 0x80 }; /* our mark for the SSLv2-compatible ClientHello record */
enum {
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_CERTIFICATE = 11,
    HS_CERT_REQUEST = 13,
    HS_SERVER_DONE = 14,
};
enum { MAL_CH = 1, MAL_SH = 2, MAL_CERT = 4 };

/* One certificate as the record reports it. Strings are owned (malloc), NULL when absent. */
typedef struct tls_cert {
    char *subject, *issuer, *serial, *cn;
    char not_before[24], not_after[24];
    char sha1[41], sha256[65];
    char *names[TLS_MAX_NAMES];
    uint8_t name_ip[TLS_MAX_NAMES]; /* 1: names[i] is an IP address SAN, 0 a DNS name */
    size_t n_names;
    int self_signed, error;
} tls_cert;

/* One direction's record and handshake reassembly. buf is owned (grown once to its bound). */
typedef struct tls_dir {
    int stop;      /* encrypted, gap or given up: the rest is ignored */
    int sealed;    /* ... encrypted: what follows is ciphertext (ab_app_proto.sealed) */
    int after_ccs; /* TLS 1.3 compatibility CCS seen: only a hello may still come in clear */
    int started;   /* a record header was read */
    uint8_t rh[5]; /* record header being collected */
    size_t rh_len;
    size_t rec_left; /* body bytes of the current record still to come */
    uint8_t rec_type;
    uint8_t mh[4]; /* handshake message header being collected */
    size_t mh_len;
    uint8_t msg_type;
    size_t msg_len, msg_left, msg_keep; /* declared, still to come, bytes kept (<= bound) */
    uint8_t *buf;                       /* kept bytes of a split message */
    size_t buf_len, buf_alloc;
    uint8_t alert[2];
    size_t alert_len;
    tls_cert *certs; /* owned: TLS_MAX_CERTS of them, allocated at the first certificate */
    size_t n_certs;
} tls_dir;

/* What the ClientHello said, as the record needs it. Strings owned. */
typedef struct tls_client {
    int seen;
    uint16_t legacy;
    uint16_t versions[TLS_MAX_VERSIONS];
    size_t n_versions;
    int offers13;
    char *sni;
    size_t sni_len;
    char *alpn[TLS_MAX_ALPN];
    size_t n_alpn;
    char ja3[33];
    char *ja3_str;
    char ja4[40];
} tls_client;

typedef struct tls_server {
    int seen;
    uint16_t legacy, version, cipher;
    int psk, hrr, done; /* pre_shared_key accepted, HelloRetryRequest seen, ServerHelloDone */
    char *alpn;
    char ja3s[33];
    char *ja3s_str;
} tls_server;

typedef struct tls_state {
    ab_net_limits lim;
    tls_dir d[2];
    tls_client ch;
    tls_server sh;
    int cert_requested, resumed, hello_retry, sslv2, lists_cut, certs_cut, incomplete, malformed;
    int alert; /* first plaintext alert's description, -1 when none */
    int reported, dead;
    ab_buf json; /* the record, reused */
} tls_state;

/* The call being served: where observables and records go. */
typedef struct tls_call {
    tls_state *st;
    const ab_flow_ref *f;
    const ab_net_out *out;
} tls_call;

/* ---- small helpers ---- */

static int is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static char *dup_bytes(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void hex_lower(const uint8_t *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Lower-case hex digest of p into out (2 * digest size + 1 bytes); "" on failure. */
static void digest_hex(const EVP_MD *md, const void *p, size_t n, char *out)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    out[0] = '\0';
    if (EVP_Digest(p, n, d, &dl, md, NULL) == 1)
        hex_lower(d, dl, out);
}

static void observe(tls_call *c, int dir, const char *type, const char *where, const char *v,
                    size_t n)
{
    ab_net_observe(c->out, c->f, dir, type, where, v, n);
}

static void say_error(tls_call *c, const char *msg)
{
    ab_net_say(c->out, c->f, msg);
}

/* A host name worth matching as a domain: labels of [A-Za-z0-9_-], at least two, not an IPv4
 * dotted quad. A leading "*." (wildcard certificate) is left out of what
 * start and out_n give. */
static int hostname_part(const char *s, size_t n, const char **start, size_t *out_n)
{
    if (n >= 2 && s[0] == '*' && s[1] == '.') {
        s += 2;
        n -= 2;
    }
    if (!ab_net_is_hostname(s, n))
        return 0;
    *start = s;
    *out_n = n && s[n - 1] == '.' ? n - 1 : n;
    return 1;
}

static void observe_name(tls_call *c, int dir, const char *where, const char *s, size_t n)
{
    const char *h;
    size_t hn;
    if (hostname_part(s, n, &h, &hn))
        observe(c, dir, "domain", where, h, hn);
}

/* ---- a bounds-checked reader over one message ---- */

typedef struct rd {
    const uint8_t *p;
    size_t n;
    int bad; /* sticky: a read went past the end */
} rd;

static const uint8_t *rd_take(rd *r, size_t k)
{
    if (r->bad || k > r->n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += k;
    r->n -= k;
    return p;
}

static unsigned rd_u8(rd *r)
{
    const uint8_t *p = rd_take(r, 1);
    return p ? p[0] : 0;
}

static unsigned rd_u16(rd *r)
{
    const uint8_t *p = rd_take(r, 2);
    return p ? (unsigned)(p[0] << 8 | p[1]) : 0;
}

static unsigned rd_u24(rd *r)
{
    const uint8_t *p = rd_take(r, 3);
    return p ? (unsigned)(p[0] << 16 | p[1] << 8 | p[2]) : 0;
}

/* The next k bytes as a reader of their own (bad when they are not there). */
static rd rd_sub(rd *r, size_t k)
{
    rd s = {NULL, 0, 0};
    const uint8_t *p = rd_take(r, k);
    if (!p) {
        s.bad = 1;
        return s;
    }
    s.p = p;
    s.n = k;
    return s;
}

/* ---- versions and names ---- */

static const char *version_name(uint16_t v, char tmp[8])
{
    switch (v) {
    case 0x0304:
        return "TLS 1.3";
    case 0x0303:
        return "TLS 1.2";
    case 0x0302:
        return "TLS 1.1";
    case 0x0301:
        return "TLS 1.0";
    case 0x0300:
        return "SSL 3.0";
    case 0x0002:
        return "SSL 2.0";
    default:
        snprintf(tmp, 8, "0x%04x", v);
        return tmp;
    }
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    case 0x0002:
        return "s2";
    case 0xfeff:
        return "d1";
    case 0xfefd:
        return "d2";
    case 0xfefc:
        return "d3";
    default:
        return "00";
    }
}

/* IANA names of the suites seen most (TLS_CIPHER_NAMES); others are reported by number only. */
static const struct {
    uint16_t id;
    const char *name;
} cipher_names[] = {
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
    {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
    {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
    {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0x1301, "TLS_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
    {0x1304, "TLS_AES_128_CCM_SHA256"},
    {0x1305, "TLS_AES_128_CCM_8_SHA256"},
    {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
};

static const char *cipher_name(uint16_t id)
{
    for (size_t i = 0; i < sizeof(cipher_names) / sizeof(cipher_names[0]); i++)
        if (cipher_names[i].id == id)
            return cipher_names[i].name;
    return NULL;
}

/* ---- fingerprints ---- */

/* A list of 16-bit values read from a hello, GREASE left out. */
typedef struct u16list {
    uint16_t v[TLS_MAX_LIST];
    size_t n;     /* kept */
    size_t total; /* seen, GREASE left out (JA4 counts) */
} u16list;

static void list_add(u16list *l, uint16_t v, int *cut)
{
    if (is_grease(v))
        return;
    l->total++;
    if (l->n < TLS_MAX_LIST)
        l->v[l->n++] = v;
    else
        *cut = 1;
}

static void put_dec_list(ab_buf *b, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ab_buf_printf(b, i ? "-%u" : "%u", (unsigned)v[i]);
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

static void put_hex_list(ab_buf *b, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ab_buf_printf(b, i ? ",%04x" : "%04x", (unsigned)v[i]);
}

/* First 12 hex digits of SHA-256 of b, or twelve zeros when the list was empty. */
static void ja4_hash12(const ab_buf *b, int empty, char out[13])
{
    char full[65];
    if (empty || !b->len) {
        memcpy(out, "000000000000", 13);
        return;
    }
    digest_hex(EVP_sha256(), b->data, b->len, full);
    memcpy(out, full, 12);
    out[12] = '\0';
}

static int alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static void ja4_alpn(const uint8_t *a, size_t n, char out[3])
{
    static const char hx[] = "0123456789abcdef";
    if (!a || n == 0) {
        memcpy(out, "00", 3);
        return;
    }
    if (alnum(a[0]) && alnum(a[n - 1])) {
        out[0] = (char)a[0];
        out[1] = (char)a[n - 1];
    } else {
        out[0] = hx[a[0] >> 4];
        out[1] = hx[a[n - 1] & 15];
    }
    out[2] = '\0';
}

/* What a ClientHello's lists hold, for the fingerprints (on the stack of the parse). */
typedef struct hello_lists {
    u16list ciphers, exts, groups, sigalgs;
    uint8_t formats[TLS_MAX_LIST];
    size_t n_formats;
    uint16_t top_version; /* highest non-GREASE supported_versions, 0 when none */
    int has_sni;
    const uint8_t *alpn0; /* first ALPN value, in the message */
    size_t alpn0_len;
    int cut;
} hello_lists;

static void make_ja3(tls_client *ch, const hello_lists *h)
{
    ab_buf b;
    ab_buf_init(&b, (size_t)1 << 20);
    ab_buf_printf(&b, "%u,", (unsigned)ch->legacy);
    put_dec_list(&b, h->ciphers.v, h->ciphers.n);
    ab_buf_addc(&b, ',');
    put_dec_list(&b, h->exts.v, h->exts.n);
    ab_buf_addc(&b, ',');
    put_dec_list(&b, h->groups.v, h->groups.n);
    ab_buf_addc(&b, ',');
    for (size_t i = 0; i < h->n_formats; i++)
        ab_buf_printf(&b, i ? "-%u" : "%u", (unsigned)h->formats[i]);
    if (b.data) {
        digest_hex(EVP_md5(), b.data, b.len, ch->ja3);
        ch->ja3_str = ab_buf_detach(&b, NULL);
    }
    ab_buf_release(&b);
}

static void make_ja4(tls_client *ch, const hello_lists *h)
{
    uint16_t sorted[TLS_MAX_LIST];
    ab_buf b;
    char hb[13], hc[13], alpn[3];
    ab_buf_init(&b, (size_t)1 << 20);

    memcpy(sorted, h->ciphers.v, h->ciphers.n * sizeof(uint16_t));
    qsort(sorted, h->ciphers.n, sizeof(uint16_t), cmp_u16);
    put_hex_list(&b, sorted, h->ciphers.n);
    ja4_hash12(&b, h->ciphers.n == 0, hb);

    ab_buf_reset(&b);
    size_t ne = 0;
    for (size_t i = 0; i < h->exts.n; i++)
        if (h->exts.v[i] != 0x0000 && h->exts.v[i] != 0x0010)
            sorted[ne++] = h->exts.v[i];
    qsort(sorted, ne, sizeof(uint16_t), cmp_u16);
    put_hex_list(&b, sorted, ne);
    if (h->sigalgs.n) {
        ab_buf_addc(&b, '_');
        put_hex_list(&b, h->sigalgs.v, h->sigalgs.n);
    }
    ja4_hash12(&b, ne == 0, hc);
    ab_buf_release(&b);

    ja4_alpn(h->alpn0, h->alpn0_len, alpn);
    size_t nc = h->ciphers.total > 99 ? 99 : h->ciphers.total;
    size_t nx = h->exts.total > 99 ? 99 : h->exts.total;
    snprintf(ch->ja4, sizeof(ch->ja4), "t%s%c%02zu%02zu%s_%s_%s",
             ja4_version(h->top_version ? h->top_version : ch->legacy), h->has_sni ? 'd' : 'i', nc,
             nx, alpn, hb, hc);
}

/* ---- ClientHello ---- */

static void ch_ext_sni(tls_client *ch, rd e)
{
    rd list = rd_sub(&e, rd_u16(&e));
    while (!list.bad && list.n) {
        unsigned type = rd_u8(&list);
        rd name = rd_sub(&list, rd_u16(&list));
        if (name.bad)
            return;
        if (type == 0 && !ch->sni) {
            size_t n = name.n;
            const void *nul = memchr(name.p, 0, n);
            if (nul) /* a NUL ends the name as any C reader of it would */
                n = (size_t)((const uint8_t *)nul - name.p);
            if (n > TLS_MAX_SNI)
                n = TLS_MAX_SNI;
            ch->sni = dup_bytes(name.p, n);
            ch->sni_len = ch->sni ? n : 0;
            return;
        }
    }
}

static void ch_ext_alpn(tls_client *ch, hello_lists *h, rd e)
{
    rd list = rd_sub(&e, rd_u16(&e));
    while (!list.bad && list.n) {
        size_t n = rd_u8(&list);
        const uint8_t *p = rd_take(&list, n);
        if (!p)
            return;
        if (!h->alpn0) {
            h->alpn0 = p;
            h->alpn0_len = n;
        }
        if (ch->n_alpn < TLS_MAX_ALPN) {
            char *s = dup_bytes(p, n);
            if (s)
                ch->alpn[ch->n_alpn++] = s;
        }
    }
}

static void ch_u16_list(rd e, size_t len_bytes, u16list *l, int *cut)
{
    rd list = rd_sub(&e, len_bytes == 1 ? rd_u8(&e) : rd_u16(&e));
    while (!list.bad && list.n >= 2)
        list_add(l, (uint16_t)rd_u16(&list), cut);
}

static void ch_ext_versions(tls_client *ch, hello_lists *h, rd e)
{
    rd list = rd_sub(&e, rd_u8(&e));
    while (!list.bad && list.n >= 2) {
        uint16_t v = (uint16_t)rd_u16(&list);
        if (is_grease(v))
            continue;
        if (v > h->top_version)
            h->top_version = v;
        if (v == 0x0304)
            ch->offers13 = 1;
        if (ch->n_versions < TLS_MAX_VERSIONS)
            ch->versions[ch->n_versions++] = v;
    }
}

static void ch_extension(tls_client *ch, hello_lists *h, unsigned type, rd e)
{
    switch (type) {
    case 0x0000:
        h->has_sni = 1;
        ch_ext_sni(ch, e);
        break;
    case 0x000a:
        ch_u16_list(e, 2, &h->groups, &h->cut);
        break;
    case 0x000b: {
        rd list = rd_sub(&e, rd_u8(&e));
        while (!list.bad && list.n) {
            unsigned v = rd_u8(&list);
            if (h->n_formats < TLS_MAX_LIST)
                h->formats[h->n_formats++] = (uint8_t)v;
            else
                h->cut = 1;
        }
        break;
    }
    case 0x000d:
        ch_u16_list(e, 2, &h->sigalgs, &h->cut);
        break;
    case 0x0010:
        ch_ext_alpn(ch, h, e);
        break;
    case 0x002b:
        ch_ext_versions(ch, h, e);
        break;
    default:
        break;
    }
}

static void observe_client(tls_call *c)
{
    tls_client *ch = &c->st->ch;
    if (ch->sni)
        observe_name(c, AB_DIR_TO_SERVER, "tls.sni", ch->sni, ch->sni_len);
    observe(c, AB_DIR_TO_SERVER, "ja3", "tls.client", ch->ja3, strlen(ch->ja3));
    observe(c, AB_DIR_TO_SERVER, "ja4", "tls.client", ch->ja4, strlen(ch->ja4));
}

/* Returns 0, or -1 when the message is not a ClientHello (malformed). */
static int client_hello(tls_call *c, const uint8_t *p, size_t n)
{
    tls_client *ch = &c->st->ch;
    hello_lists *h = calloc(1, sizeof(*h)); /* ~4 KiB: once per flow, off the stack */
    int ret = -1;
    if (!h)
        goto out;
    rd r = {p, n, 0};
    ch->legacy = (uint16_t)rd_u16(&r);
    rd_take(&r, 32); /* random */
    rd_take(&r, rd_u8(&r));
    rd cs = rd_sub(&r, rd_u16(&r));
    if (r.bad || (cs.n & 1))
        goto out;
    while (cs.n)
        list_add(&h->ciphers, (uint16_t)rd_u16(&cs), &h->cut);
    rd_take(&r, rd_u8(&r)); /* compression methods */
    if (r.bad)
        goto out;
    if (r.n) { /* extensions are optional (RFC 5246 7.4.1.2) */
        rd exts = rd_sub(&r, rd_u16(&r));
        while (!exts.bad && exts.n >= 4) {
            unsigned type = rd_u16(&exts);
            rd e = rd_sub(&exts, rd_u16(&exts));
            if (e.bad)
                break;
            list_add(&h->exts, (uint16_t)type, &h->cut);
            if (!is_grease((uint16_t)type))
                ch_extension(ch, h, type, e);
        }
        if (exts.bad || exts.n)
            c->st->malformed |= MAL_CH; /* fingerprints stand for what was read */
    }
    ch->seen = 1;
    c->st->lists_cut |= h->cut;
    make_ja3(ch, h);
    make_ja4(ch, h);
    observe_client(c);
    ret = 0;
out:
    free(h);
    return ret;
}

/* ---- ServerHello ---- */

static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

static void sh_reset(tls_server *sh)
{
    free(sh->alpn);
    free(sh->ja3s_str);
    memset(sh, 0, sizeof(*sh));
}

static void sh_extension(tls_server *sh, unsigned type, rd e)
{
    if (type == 0x002b && e.n >= 2) {
        sh->version = (uint16_t)rd_u16(&e);
    } else if (type == 0x0010 && !sh->alpn) {
        rd list = rd_sub(&e, rd_u16(&e));
        size_t k = rd_u8(&list);
        const uint8_t *p = rd_take(&list, k);
        if (p)
            sh->alpn = dup_bytes(p, k);
    } else if (type == 0x0029) {
        sh->psk = 1;
    }
}

/* Returns 0, or -1 when malformed. */
static int server_hello(tls_call *c, const uint8_t *p, size_t n)
{
    tls_state *st = c->st;
    tls_server *sh = &st->sh;
    int ret = -1;
    uint16_t exts[TLS_MAX_LIST];
    size_t n_exts = 0;
    ab_buf b;
    ab_buf_init(&b, (size_t)1 << 16);
    rd r = {p, n, 0};
    sh_reset(sh); /* a ServerHello after a HelloRetryRequest replaces it */
    sh->legacy = (uint16_t)rd_u16(&r);
    const uint8_t *random = rd_take(&r, 32);
    rd_take(&r, rd_u8(&r)); /* session id */
    sh->cipher = (uint16_t)rd_u16(&r);
    rd_u8(&r); /* compression */
    if (r.bad)
        goto out;
    sh->hrr = memcmp(random, hrr_random, 32) == 0;
    if (r.n) {
        rd ex = rd_sub(&r, rd_u16(&r));
        while (!ex.bad && ex.n >= 4) {
            unsigned type = rd_u16(&ex);
            rd e = rd_sub(&ex, rd_u16(&ex));
            if (e.bad)
                break;
            if (is_grease((uint16_t)type))
                continue;
            if (n_exts < TLS_MAX_LIST)
                exts[n_exts++] = (uint16_t)type;
            else
                st->lists_cut = 1;
            sh_extension(sh, type, e);
        }
        if (ex.bad || ex.n)
            st->malformed |= MAL_SH;
    }
    if (!sh->version)
        sh->version = sh->legacy;
    sh->seen = 1;
    st->hello_retry |= sh->hrr;
    ab_buf_printf(&b, "%u,%u,", (unsigned)sh->legacy, (unsigned)sh->cipher);
    put_dec_list(&b, exts, n_exts);
    if (b.data) {
        digest_hex(EVP_md5(), b.data, b.len, sh->ja3s);
        sh->ja3s_str = ab_buf_detach(&b, NULL);
        observe(c, AB_DIR_TO_CLIENT, "ja3s", "tls.server", sh->ja3s, strlen(sh->ja3s));
    }
    ret = 0;
out:
    ab_buf_release(&b);
    return ret;
}

/* ---- certificates ---- */

static void cert_free(tls_cert *ce)
{
    free(ce->subject);
    free(ce->issuer);
    free(ce->serial);
    free(ce->cn);
    for (size_t i = 0; i < ce->n_names; i++)
        free(ce->names[i]);
    memset(ce, 0, sizeof(*ce));
}

static char *name_text(const X509_NAME *name)
{
    char *s = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return NULL;
    /* RFC 2253 without escaping bytes >= 0x80: UTF-8 stays readable */
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        if (len >= 0)
            s = dup_bytes(data, (size_t)len > TLS_MAX_DN ? TLS_MAX_DN : (size_t)len);
    }
    BIO_free(bio);
    return s;
}

static char *serial_text(const X509 *x)
{
    char *s = NULL;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (!bn)
        return NULL;
    char *hex = BN_bn2hex(bn);
    if (hex) {
        for (char *q = hex; *q; q++)
            if (*q >= 'A' && *q <= 'F')
                *q = (char)(*q - 'A' + 'a');
        s = dup_bytes(hex, strlen(hex));
        OPENSSL_free(hex);
    }
    BN_free(bn);
    return s;
}

static void time_text(const ASN1_TIME *t, char out[24])
{
    struct tm tm;
    char tmp[80]; /* what %d could write; ASN1_TIME_to_tm keeps the fields in range */
    out[0] = '\0';
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return;
    int k = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (k > 0 && k < 24)
        memcpy(out, tmp, (size_t)k + 1);
}

static char *cn_text(const X509_NAME *name)
{
    int idx = -1, last = -1;
    while ((idx = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0)
        last = idx; /* the most specific CN is the last */
    if (last < 0)
        return NULL;
    const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, v);
    if (n < 0)
        return NULL;
    char *s = dup_bytes(u, (size_t)n > TLS_MAX_SNI ? TLS_MAX_SNI : (size_t)n);
    OPENSSL_free(u);
    return s;
}

static void cert_names(tls_cert *ce, X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!gens)
        return;
    int n = sk_GENERAL_NAME_num(gens);
    for (int i = 0; i < n && ce->n_names < TLS_MAX_NAMES; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char ipt[INET6_ADDRSTRLEN];
        char *v = NULL;
        if (g->type == GEN_DNS) {
            const ASN1_STRING *s = g->d.dNSName;
            size_t len = (size_t)ASN1_STRING_length(s);
            if (len > TLS_MAX_SNI)
                len = TLS_MAX_SNI;
            v = dup_bytes(ASN1_STRING_get0_data(s), len);
        } else if (g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *s = g->d.iPAddress;
            int len = ASN1_STRING_length(s);
            int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
            if (!af || !inet_ntop(af, ASN1_STRING_get0_data(s), ipt, sizeof(ipt)))
                continue;
            v = dup_bytes(ipt, strlen(ipt));
        } else {
            continue;
        }
        if (!v)
            break;
        ce->name_ip[ce->n_names] = g->type == GEN_IPADD;
        ce->names[ce->n_names++] = v;
    }
    GENERAL_NAMES_free(gens);
}

static int in_names(const tls_cert *ce, const char *s)
{
    for (size_t i = 0; i < ce->n_names; i++)
        if (strcmp(ce->names[i], s) == 0)
            return 1;
    return 0;
}

/* What OpenSSL reads of a certificate (d2i_X509 decodes its public key too, most of the cost);
 * 0, or -1 when it is not a certificate OpenSSL reads. */
static int cert_read(tls_cert *ce, const uint8_t *der, size_t n)
{
    const unsigned char *q = der;
    X509 *x = n <= (size_t)0x7fffffff ? d2i_X509(NULL, &q, (long)n) : NULL;
    if (!x)
        return -1;
    const X509_NAME *subj = X509_get_subject_name(x), *iss = X509_get_issuer_name(x);
    ce->subject = name_text(subj);
    ce->issuer = name_text(iss);
    ce->serial = serial_text(x);
    time_text(X509_get0_notBefore(x), ce->not_before);
    time_text(X509_get0_notAfter(x), ce->not_after);
    ce->cn = cn_text(subj);
    ce->self_signed = X509_NAME_cmp(subj, iss) == 0;
    cert_names(ce, x);
    X509_free(x);
    return 0;
}

static char *dup_str(const char *s)
{
    return s ? dup_bytes(s, strlen(s)) : NULL;
}

/* A deep copy (a string that cannot be copied is left out, as when OpenSSL could not give it). */
static void cert_copy(tls_cert *to, const tls_cert *from)
{
    *to = *from;
    to->subject = dup_str(from->subject);
    to->issuer = dup_str(from->issuer);
    to->serial = dup_str(from->serial);
    to->cn = dup_str(from->cn);
    to->n_names = 0;
    for (size_t i = 0; i < from->n_names; i++) {
        char *v = dup_str(from->names[i]);
        if (!v)
            break;
        to->name_ip[to->n_names] = from->name_ip[i];
        to->names[to->n_names++] = v;
    }
}

/* Certificates repeat: every session to a server sends the same chain, and reading one with
 * OpenSSL 3 costs tens of microseconds. What was read of the last CERT_MEMO certificates is
 * kept by SHA-256 (as Zeek's X.509 cache does), per thread so parsers on several threads share
 * nothing; entries are replaced in turn. Memory: CERT_MEMO certificates' fields, each bounded
 * as a record's (TLS_MAX_DN, TLS_MAX_NAMES of TLS_MAX_SNI bytes). */
#define CERT_MEMO 64
static _Thread_local struct {
    tls_cert e[CERT_MEMO]; /* owned; e[i].sha256[0] == '\0': empty */
    unsigned next;
} cert_memo;

static const tls_cert *memo_find(const char *sha256)
{
    for (unsigned i = 0; i < CERT_MEMO; i++)
        if (cert_memo.e[i].sha256[0] && !memcmp(cert_memo.e[i].sha256, sha256, 65))
            return &cert_memo.e[i];
    return NULL;
}

static void memo_put(const tls_cert *ce)
{
    tls_cert *slot = &cert_memo.e[cert_memo.next];
    cert_memo.next = (cert_memo.next + 1) % CERT_MEMO;
    cert_free(slot);
    cert_copy(slot, ce);
}

static void one_cert(tls_call *c, int dir, const uint8_t *der, size_t n)
{
    tls_dir *d = &c->st->d[dir];
    const char *where = dir == AB_DIR_TO_CLIENT ? "tls.cert" : "tls.client_cert";
    char sha1[41], sha256[65];
    digest_hex(EVP_sha1(), der, n, sha1);
    digest_hex(EVP_sha256(), der, n, sha256);
    /* every certificate's hashes are matched, even past what the record keeps */
    observe(c, dir, "cert-sha1", where, sha1, strlen(sha1));
    observe(c, dir, "cert-sha256", where, sha256, strlen(sha256));
    if (d->n_certs >= TLS_MAX_CERTS ||
        (!d->certs && !(d->certs = calloc(TLS_MAX_CERTS, sizeof(tls_cert))))) {
        c->st->certs_cut = 1;
        return;
    }
    tls_cert *ce = &d->certs[d->n_certs++];
    const tls_cert *known = memo_find(sha256);
    if (known) {
        cert_copy(ce, known);
    } else {
        memcpy(ce->sha1, sha1, sizeof(sha1));
        memcpy(ce->sha256, sha256, sizeof(sha256));
        ce->error = cert_read(ce, der, n) != 0;
        memo_put(ce);
    }
    if (ce->error)
        return;
    for (size_t i = 0; i < ce->n_names; i++) {
        const char *v = ce->names[i];
        if (ce->name_ip[i])
            observe(c, dir, "ip", "tls.cert.name", v, strlen(v));
        else
            observe_name(c, dir, "tls.cert.name", v, strlen(v));
    }
    if (ce->cn && !in_names(ce, ce->cn))
        observe_name(c, dir, "tls.cert.name", ce->cn, strlen(ce->cn));
}

/* A TLS <= 1.2 Certificate message (cut: only the first bytes were kept). */
static void certificate(tls_call *c, int dir, const uint8_t *p, size_t n, int cut)
{
    rd r = {p, n, 0};
    if (n == 0 && cut) {
        c->st->certs_cut = 1; /* not kept at all (max_cert_size) */
        return;
    }
    size_t total = rd_u24(&r);
    if (r.bad) {
        c->st->malformed |= MAL_CERT;
        return;
    }
    if (!cut && total != r.n)
        c->st->malformed |= MAL_CERT;
    if (total < r.n)
        r.n = total;
    while (r.n >= 3) {
        size_t len = rd_u24(&r);
        const uint8_t *der = rd_take(&r, len);
        if (!der) {
            if (cut)
                c->st->certs_cut = 1;
            else
                c->st->malformed |= MAL_CERT;
            return;
        }
        if (len > c->st->lim.max_cert_size) {
            c->st->certs_cut = 1;
            continue;
        }
        one_cert(c, dir, der, len);
    }
}

/* ---- the record ---- */

static void put_str(ab_json *j, const char *key, const char *s)
{
    if (s && *s)
        ab_json_kv_bytes(j, key, s);
}

static void put_certs(ab_json *j, const char *key, const tls_dir *d)
{
    if (!d->n_certs)
        return;
    ab_json_key(j, key);
    ab_json_arr_begin(j);
    for (size_t i = 0; i < d->n_certs; i++) {
        const tls_cert *ce = &d->certs[i];
        ab_json_obj_begin(j);
        put_str(j, "subject", ce->subject);
        put_str(j, "issuer", ce->issuer);
        put_str(j, "serial", ce->serial);
        put_str(j, "not_before", ce->not_before);
        put_str(j, "not_after", ce->not_after);
        put_str(j, "sha1", ce->sha1);
        put_str(j, "sha256", ce->sha256);
        put_str(j, "cn", ce->cn);
        if (ce->n_names)
            ab_json_kv_bytes_array(j, "names", (const char *const *)ce->names, ce->n_names);
        if (ce->self_signed) {
            ab_json_key(j, "self_signed");
            ab_json_bool(j, 1);
        }
        if (ce->error)
            put_str(j, "error", "not a certificate OpenSSL can read");
        ab_json_obj_end(j);
    }
    ab_json_arr_end(j);
}

static void put_true(ab_json *j, const char *key, int v)
{
    if (!v)
        return;
    ab_json_key(j, key);
    ab_json_bool(j, 1);
}

static void put_malformed(ab_json *j, int m)
{
    static const char *const names[] = {"client_hello", "server_hello", "certificate"};
    if (!m)
        return;
    ab_json_key(j, "malformed");
    ab_json_arr_begin(j);
    for (int i = 0; i < 3; i++)
        if (m & (1 << i))
            ab_json_cstr(j, names[i]);
    ab_json_arr_end(j);
}

static void write_record(ab_json *j, const tls_state *st)
{
    const tls_client *ch = &st->ch;
    const tls_server *sh = &st->sh;
    char t1[8], t2[8];
    ab_json_obj_begin(j);
    ab_json_key(j, "type");
    ab_json_cstr(j, "tls");
    if (sh->seen && !sh->hrr)
        put_str(j, "version", version_name(sh->version, t1));
    if (ch->seen)
        put_str(j, "client_version", version_name(ch->legacy, t2));
    if (ch->n_versions) {
        ab_json_key(j, "client_versions");
        ab_json_arr_begin(j);
        for (size_t i = 0; i < ch->n_versions; i++)
            ab_json_cstr(j, version_name(ch->versions[i], t1));
        ab_json_arr_end(j);
    }
    put_str(j, "sni", ch->sni);
    if (ch->n_alpn)
        ab_json_kv_bytes_array(j, "alpn", (const char *const *)ch->alpn, ch->n_alpn);
    put_str(j, "alpn_selected", sh->alpn);
    if (sh->seen) {
        ab_json_key(j, "cipher");
        ab_json_uint(j, sh->cipher);
        put_str(j, "cipher_name", cipher_name(sh->cipher));
    }
    put_str(j, "ja3", ch->ja3);
    put_str(j, "ja3_string", ch->ja3_str);
    put_str(j, "ja3s", sh->ja3s);
    put_str(j, "ja3s_string", sh->ja3s_str);
    put_str(j, "ja4", ch->ja4);
    ab_json_key(j, "client_cert_requested");
    ab_json_bool(j, st->cert_requested);
    put_certs(j, "server_certs", &st->d[AB_DIR_TO_CLIENT]);
    put_certs(j, "client_certs", &st->d[AB_DIR_TO_SERVER]);
    put_true(j, "certs_cut", st->certs_cut);
    put_true(j, "resumed", st->resumed || (sh->psk && sh->version == 0x0304));
    put_true(j, "hello_retry", st->hello_retry);
    put_true(j, "sslv2_hello", st->sslv2);
    put_true(j, "lists_cut", st->lists_cut);
    if (st->alert >= 0) {
        ab_json_key(j, "alert");
        ab_json_int(j, st->alert);
    }
    put_true(j, "incomplete", st->incomplete);
    put_malformed(j, st->malformed);
    ab_json_obj_end(j);
}

static void report(tls_call *c)
{
    tls_state *st = c->st;
    if (st->reported || !(st->ch.seen || st->sh.seen || st->sslv2 || st->malformed))
        return;
    st->reported = 1;
    if (!c->out->record)
        return;
    ab_json j;
    ab_buf_reset(&st->json);
    ab_json_init(&j, &st->json);
    write_record(&j, st);
    if (j.st == AB_OK)
        c->out->record(c->out->ctx, c->f, st->json.data, st->json.len);
    else
        say_error(c, "tls: record too large");
}

static void maybe_report(tls_call *c)
{
    if (c->st->d[0].stop && c->st->d[1].stop)
        report(c);
}

/* ---- handshake messages ---- */

static int tls13(const tls_state *st)
{
    if (st->sh.seen)
        return st->sh.version == 0x0304;
    return st->ch.offers13;
}

/* A whole handshake message (or its kept first bytes: cut) of direction dir. */
static void message(tls_call *c, int dir, uint8_t type, const uint8_t *p, size_t n, int cut)
{
    tls_state *st = c->st;
    tls_dir *d = &st->d[dir];
    int hello = dir == AB_DIR_TO_SERVER ? HS_CLIENT_HELLO : HS_SERVER_HELLO;
    if (d->after_ccs && type != hello) {
        d->stop = d->sealed = 1; /* encrypted handshake after the compatibility CCS */
        return;
    }
    if (dir == AB_DIR_TO_SERVER) {
        if (type == HS_CLIENT_HELLO && !st->ch.seen) {
            if (cut || client_hello(c, p, n) != 0) {
                st->malformed |= MAL_CH;
                d->stop = 1;
            }
        } else if (type == HS_CERTIFICATE) {
            certificate(c, dir, p, n, cut);
        }
        return;
    }
    switch (type) {
    case HS_SERVER_HELLO:
        if (cut || server_hello(c, p, n) != 0) {
            st->malformed |= MAL_SH;
            d->stop = 1;
        } else if (!st->sh.hrr && st->sh.version == 0x0304) {
            d->stop = d->sealed = 1; /* TLS 1.3: all that follows is encrypted */
        }
        break;
    case HS_CERTIFICATE:
        certificate(c, dir, p, n, cut);
        break;
    case HS_CERT_REQUEST:
        st->cert_requested = 1;
        break;
    case HS_SERVER_DONE:
        st->sh.done = 1;
        break;
    default:
        break;
    }
}

/* Bytes of a handshake message type kept (the rest skipped): 0 for the ones not read. */
static size_t keep_bound(const tls_state *st, int dir, uint8_t type)
{
    if (type == HS_CERTIFICATE)
        return st->lim.max_cert_size;
    if ((dir == AB_DIR_TO_SERVER && type == HS_CLIENT_HELLO) ||
        (dir == AB_DIR_TO_CLIENT && type == HS_SERVER_HELLO))
        return TLS_MAX_HELLO;
    return 0;
}

/* 0, -1 out of memory, 1 when the capture's memcap (lim.mem) refuses the growth (counted). */
static int buf_append(tls_state *st, tls_dir *d, const uint8_t *p, size_t n, size_t bound)
{
    if (d->buf_len + n > d->buf_alloc) {
        size_t want = d->buf_alloc ? d->buf_alloc : 4096;
        while (want < d->buf_len + n)
            want *= 2;
        if (want > bound)
            want = bound;
        int r = ab_net_mem_grow(st->lim.mem, &d->buf, &d->buf_alloc, want);
        if (r != 0)
            return r;
    }
    memcpy(d->buf + d->buf_len, p, n);
    d->buf_len += n;
    return 0;
}

static void message_start(tls_call *c, int dir)
{
    tls_dir *d = &c->st->d[dir];
    d->msg_type = d->mh[0];
    d->msg_len = (size_t)d->mh[1] << 16 | (size_t)d->mh[2] << 8 | d->mh[3];
    d->msg_left = d->msg_len;
    d->msg_keep = keep_bound(c->st, dir, d->msg_type);
    if (d->msg_keep > d->msg_len)
        d->msg_keep = d->msg_len;
    d->buf_len = 0;
    if (d->msg_len == 0) {
        d->mh_len = 0;
        message(c, dir, d->msg_type, NULL, 0, 0);
    }
}

/* Handshake-record bytes of direction dir: reassembled into messages. */
static void handshake_bytes(tls_call *c, int dir, const uint8_t *p, size_t n)
{
    tls_dir *d = &c->st->d[dir];
    while (n && !d->stop) {
        if (d->mh_len < 4) {
            size_t k = 4 - d->mh_len < n ? 4 - d->mh_len : n;
            memcpy(d->mh + d->mh_len, p, k);
            d->mh_len += k;
            p += k;
            n -= k;
            if (d->mh_len == 4)
                message_start(c, dir);
            continue;
        }
        size_t take = d->msg_left < n ? d->msg_left : n;
        int cut = d->msg_len > d->msg_keep, last = take == d->msg_left;
        if (d->msg_keep && d->buf_len == 0 && take == d->msg_len && !cut) {
            message(c, dir, d->msg_type, p, take, 0); /* whole in one record: in place */
        } else {
            size_t room = d->msg_keep - d->buf_len;
            int r = room ? buf_append(c->st, d, p, take < room ? take : room, d->msg_keep) : 0;
            if (r < 0) {
                say_error(c, "tls: out of memory");
                d->stop = 1;
                return;
            }
            if (r > 0) { /* the memcap: the message is what was kept (cut) */
                d->msg_keep = d->buf_len;
                cut = 1;
            }
            if (last) /* a message not kept comes with no bytes: its type is what counts */
                message(c, dir, d->msg_type, d->buf_len ? d->buf : NULL, d->buf_len, cut);
        }
        d->msg_left -= take;
        p += take;
        n -= take;
        if (d->msg_left == 0) {
            d->mh_len = 0;
            d->buf_len = 0;
        }
    }
}

static void alert_bytes(tls_state *st, tls_dir *d, const uint8_t *p, size_t n)
{
    while (n && d->alert_len < 2) {
        d->alert[d->alert_len++] = *p++;
        n--;
    }
    if (d->alert_len == 2 && st->alert < 0)
        st->alert = d->alert[1];
}

/* A whole record header of direction dir: returns 0, or -1 when it is not TLS. */
static int record_start(tls_call *c, int dir)
{
    tls_state *st = c->st;
    tls_dir *d = &st->d[dir];
    const uint8_t *h = d->rh;
    d->rh_len = 0;
    if (!d->started && dir == AB_DIR_TO_SERVER && (h[0] & 0x80) && h[2] == 1) {
        size_t len = (size_t)(h[0] & 0x7f) << 8 | h[1];
        d->started = 1;
        if (len < 3)
            return -1;
        st->sslv2 = 1;
        d->rec_type = REC_SSLV2;
        d->rec_left = len - 3; /* the 2-byte header and 3 bytes of the hello were read */
        return 0;
    }
    size_t len = (size_t)h[3] << 8 | h[4];
    if (h[0] < REC_CCS || h[0] > REC_HEARTBEAT || h[1] != 3 || h[2] > 4 || len > TLS_MAX_RECORD)
        return -1;
    d->started = 1;
    d->rec_type = h[0];
    d->rec_left = len;
    d->alert_len = 0;
    if (d->rec_type == REC_APPDATA) {
        d->stop = d->sealed = 1;
    } else if (d->rec_type == REC_CCS) {
        if (tls13(st) && !(dir == AB_DIR_TO_CLIENT && st->sh.seen && !st->sh.hrr))
            d->after_ccs++; /* middlebox compatibility: a hello may still follow */
        else {
            if (dir == AB_DIR_TO_CLIENT && st->sh.seen && !st->sh.done)
                st->resumed = 1;     /* abbreviated handshake: no ServerHelloDone */
            d->stop = d->sealed = 1; /* ChangeCipherSpec: encrypted from the next record */
        }
    }
    return 0;
}

/* ---- ab_app_proto ---- */

static int tls_detect(const uint8_t *p, size_t n, int dir)
{
    if (n == 0)
        return -1;
    if (p[0] == REC_HANDSHAKE) {
        if (n >= 2 && p[1] != 3)
            return 0;
        if (n >= 3 && p[2] > 4)
            return 0;
        if (n >= 5) {
            size_t len = (size_t)p[3] << 8 | p[4];
            if (len < 4 || len > TLS_MAX_RECORD)
                return 0;
        }
        if (n >= 6)
            return p[5] == HS_CLIENT_HELLO || p[5] == HS_SERVER_HELLO;
        return -1;
    }
    if ((p[0] & 0x80) && dir == AB_DIR_TO_SERVER) { /* SSLv2-compatible ClientHello */
        if (n < 5)
            return -1;
        size_t len = (size_t)(p[0] & 0x7f) << 8 | p[1];
        return len >= 9 && p[2] == 1 && ((p[3] == 0 && p[4] == 2) || (p[3] == 3 && p[4] <= 4));
    }
    return 0;
}

static void *tls_new(const ab_net_limits *lim)
{
    tls_state *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    ab_net_limits_set(&st->lim, lim);
    st->alert = -1;
    ab_buf_init(&st->json, TLS_MAX_REC_JSON);
    return st;
}

static void tls_free(void *vst)
{
    tls_state *st = vst;
    if (!st)
        return;
    for (int i = 0; i < 2; i++) {
        ab_net_mem_count(st->lim.mem, st->d[i].buf_alloc, 0);
        free(st->d[i].buf);
        for (size_t k = 0; k < st->d[i].n_certs; k++)
            cert_free(&st->d[i].certs[k]);
        free(st->d[i].certs);
    }
    free(st->ch.sni);
    for (size_t i = 0; i < st->ch.n_alpn; i++)
        free(st->ch.alpn[i]);
    free(st->ch.ja3_str);
    sh_reset(&st->sh);
    ab_buf_release(&st->json);
    free(st);
}

static int give_up(tls_call *c, const char *msg)
{
    say_error(c, msg);
    c->st->dead = 1;
    c->st->incomplete = 1;
    report(c);
    return -1;
}

static int tls_data(void *vst, const ab_flow_ref *f, int dir, const uint8_t *p, size_t n,
                    const ab_net_out *out)
{
    tls_state *st = vst;
    tls_call c = {st, f, out};
    if (st->dead)
        return -1;
    if (dir != AB_DIR_TO_SERVER && dir != AB_DIR_TO_CLIENT)
        return 0;
    tls_dir *d = &st->d[dir];
    while (n && !d->stop) {
        if (d->rec_left == 0) {
            size_t k = 5 - d->rh_len < n ? 5 - d->rh_len : n;
            memcpy(d->rh + d->rh_len, p, k);
            d->rh_len += k;
            p += k;
            n -= k;
            if (d->rh_len == 5 && record_start(&c, dir) != 0)
                return give_up(&c, "tls: not a TLS record");
            continue;
        }
        size_t take = d->rec_left < n ? d->rec_left : n;
        if (d->rec_type == REC_HANDSHAKE)
            handshake_bytes(&c, dir, p, take);
        else if (d->rec_type == REC_ALERT)
            alert_bytes(st, d, p, take);
        d->rec_left -= take;
        p += take;
        n -= take;
    }
    maybe_report(&c);
    return 0;
}

static int tls_gap(void *vst, const ab_flow_ref *f, int dir, uint64_t n, const ab_net_out *out)
{
    tls_state *st = vst;
    tls_call c = {st, f, out};
    (void)n;
    if (st->dead)
        return -1;
    if (dir != AB_DIR_TO_SERVER && dir != AB_DIR_TO_CLIENT)
        return 0;
    if (!st->d[dir].stop) {
        st->d[dir].stop = 1; /* records cannot be found again reliably */
        st->incomplete = 1;
    }
    maybe_report(&c);
    return 0;
}

static void tls_close(void *vst, const ab_flow_ref *f, const ab_net_out *out)
{
    tls_state *st = vst;
    tls_call c = {st, f, out};
    if (st->reported || st->dead)
        return;
    if (!st->d[0].stop || !st->d[1].stop)
        st->incomplete = 1;
    report(&c);
}

static int tls_sealed(void *vst, int dir)
{
    const tls_state *st = vst;
    return st && dir >= 0 && dir <= 1 && st->d[dir].sealed;
}

const ab_app_proto ab_app_tls = {
    .name = "tls",
    .detect = tls_detect,
    .new_state = tls_new,
    .data = tls_data,
    .gap = tls_gap,
    .close = tls_close,
    .free_state = tls_free,
    .sealed = tls_sealed,
};
