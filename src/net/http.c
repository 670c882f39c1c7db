/* http.c: HTTP/1.x over the in-order bytes of one TCP flow (http.h says what it yields).
 *
 * One state machine per direction, fed whole buffers: lines are found with memchr and parsed in
 * place when they lie inside one feed (copied into the direction's line buffer only when a feed
 * cuts them), bodies go through as slices. Only the header fields the record or the framing
 * needs are kept (a few per message, in the transaction's text arena); nothing is allocated per
 * header. Transactions live in a ring of HTTP_MAX_PIPELINE slots: a request takes the next slot,
 * a response the oldest slot without one, and records leave in slot order once both sides of
 * the oldest are done. */
#include "net/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <pthread.h>
#include <zlib.h>

#include "core/buf.h"
#include "report/json.h"

#define NO_FIELD      UINT32_MAX
#define MAX_METHOD    16
#define INFLATE_CHUNK 16384
#define KEEP_RETAIN   ((size_t)256 << 10) /* a body buffer larger than this is freed after use */
#define TEXT_RETAIN   ((size_t)8 << 10)   /* a transaction arena larger than this, likewise */
#define MAX_HOST      255
#define MAX_MEDIA     127

/* Header values a transaction keeps (for the record, the observables and the object). */
enum {
    F_METHOD,
    F_URI,
    F_URL,
    F_VERSION,
    F_HOST,
    F_UA,
    F_REFERER,
    F_REQ_CT,
    F_REQ_CE,
    F_REQ_TE,
    F_RESP_VERSION,
    F_REASON,
    F_SERVER,
    F_CT,
    F_CE,
    F_TE,
    F_LOCATION,
    F_N
};
#define FOLD_NONE (-1) /* the last header line kept nothing: a fold of it is dropped */
#define FOLD_DENY (-2) /* the last header line was Content-Length or Transfer-Encoding */

enum {
    A_OBS_FOLD = 1u << 0,
    A_CL_AND_TE = 1u << 1,
    A_DUP_CL = 1u << 2,
    A_DUP_HOST = 1u << 3,
    A_MISSING_HOST = 1u << 4,
    A_SPACE_IN_URI = 1u << 5,
    A_UNSUPPORTED_CE = 1u << 6,
};
static const char *const anomaly_names[] = {
    "obs_fold",     "cl_and_te",    "duplicate_content_length",    "duplicate_host",
    "missing_host", "space_in_uri", "unsupported_content_encoding"};

/* What one body came to, for the record. */
typedef struct body_res {
    uint64_t len; /* decoded bytes */
    char sha[65]; /* lower-case hex, "" when len is 0 or hashing failed */
    uint8_t present, truncated, incomplete;
    const char *decode_err; /* static text or NULL */
} body_res;

typedef struct http_tx {
    ab_buf text;       /* owns the kept values, each NUL-terminated */
    uint32_t off[F_N]; /* offset of each value in text, or NO_FIELD */
    int status;        /* final status, -1 before one */
    uint32_t anomalies;
    uint8_t has_req, req_done, resp_done, tunnel, is_head, is_connect, n_interim;
    body_res req, resp;
} http_tx;

enum { CODING_NONE, CODING_GZIP, CODING_DEFLATE };
enum { Z_OFF, Z_SNIFF, Z_RUN, Z_END, Z_FAIL };

/* The body being read in one direction. */
typedef struct body {
    uint8_t active; /* between body_begin and body_end */
    uint8_t zstate; /* Z_*: Z_OFF when the body is not content-decoded */
    uint8_t z_ready;
    uint8_t npre; /* deflate: the first bytes, held until zlib or raw can be told apart */
    uint8_t pre[2];
    const char *err;
    z_stream z;      /* initialised when z_ready; ended after each body (40 KiB of zlib state) */
    EVP_MD_CTX *sha; /* owned, kept across bodies; NULL when the allocation failed */
    uint8_t sha_ok;  /* the digest of this body is running */
    uint64_t size;   /* decoded bytes */
    ab_buf keep;     /* owns the first max_body decoded bytes; its capacity counted in lim.mem */
    uint8_t mem_cut; /* this body was cut at the capture's memcap (counted once) */
} body;

enum {
    S_START,        /* before a start line (empty lines are skipped) */
    S_HEADERS,      /* header fields */
    S_BODY,         /* remain bytes of Content-Length body or of one chunk */
    S_CHUNK_SIZE,   /* a chunk-size line */
    S_CHUNK_END,    /* the CRLF after a chunk's data */
    S_TRAILERS,     /* trailer fields after the last chunk */
    S_CLOSE_BODY,   /* a response body that lasts until the server closes */
    S_CONNECT_WAIT, /* client: a CONNECT waits for its response */
    S_DEAD
};
enum { FR_LENGTH, FR_CHUNKED };

typedef struct http_dir {
    int state;
    uint8_t dead;
    ab_buf line;     /* owns a line a feed cut, capped at max_line + 2 */
    size_t nfields;  /* header and trailer fields of the current message */
    int last_field;  /* F_* the previous header line stored, or FOLD_* */
    http_tx *tx;     /* the transaction of the message being read, or NULL */
    uint8_t framing; /* FR_* of S_BODY */
    uint8_t cl_seen, cl_bad, te_seen, te_chunked;
    uint8_t tunnel_bytes; /* bytes came while S_CONNECT_WAIT */
    uint64_t cl, remain;
    body b;
} http_dir;

typedef struct http_state {
    ab_net_limits lim;
    http_dir d[2];
    http_tx *q[HTTP_MAX_PIPELINE]; /* owned: slot i % HTTP_MAX_PIPELINE, made on first use */
    uint64_t q_head;               /* oldest transaction not reported */
    uint64_t q_req;                /* transactions made (the next request's slot) */
    uint64_t q_resp;               /* the next response's transaction */
    size_t n_tx;                   /* records reported */
    uint8_t stopped, tunnel;
    ab_buf rec;     /* owns the record being written */
    ab_buf scratch; /* owns a URL being built */
    char name[MAX_METHOD + 1 + HTTP_NAME_TARGET + 1];
} http_state;

/* The arguments every step needs. */
typedef struct call {
    http_state *st;
    const ab_flow_ref *f;
    const ab_net_out *out;
} call;

/* ---- small text helpers ---- */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_ows(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_ows((*s)[*n - 1]))
        (*n)--;
}

static int ieq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* scheme "://" at the start: an absolute URL. */
static int is_absolute(const char *s, size_t n)
{
    size_t i = 0;
    if (!n || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
        return 0;
    while (i < n && i < 32 &&
           (((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
            s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    return n - i >= 3 && memcmp(s + i, "://", 3) == 0;
}

/* The authority of an absolute URL, without user info. */
static void url_authority(const char *s, size_t n, const char **a, size_t *an)
{
    const char *p = memchr(s, ':', n);
    p += 3;
    const char *end = s + n, *q = p;
    while (q < end && *q != '/' && *q != '?' && *q != '#')
        q++;
    const char *at = p;
    for (const char *r = p; r < q; r++)
        if (*r == '@')
            at = r + 1;
    *a = at;
    *an = (size_t)(q - at);
}

/* ---- transactions ---- */

static const char *txf(const http_tx *tx, int id)
{
    return tx->off[id] == NO_FIELD ? NULL : tx->text.data + tx->off[id];
}

static size_t txf_len(const http_tx *tx, int id)
{
    const char *s = txf(tx, id);
    return s ? strlen(s) : 0;
}

static void tx_clear(http_tx *tx)
{
    if (tx->text.alloc > TEXT_RETAIN)
        ab_buf_release(&tx->text);
    else
        ab_buf_reset(&tx->text);
    for (int i = 0; i < F_N; i++)
        tx->off[i] = NO_FIELD;
    tx->status = -1;
    tx->anomalies = 0;
    tx->has_req = tx->req_done = tx->resp_done = tx->tunnel = 0;
    tx->is_head = tx->is_connect = tx->n_interim = 0;
    memset(&tx->req, 0, sizeof(tx->req));
    memset(&tx->resp, 0, sizeof(tx->resp));
}

/* Keep value id (the first one wins). 1 when it was kept. */
static int tx_store(http_tx *tx, int id, const char *v, size_t n, size_t cap)
{
    if (tx->off[id] != NO_FIELD)
        return 0;
    if (n > cap)
        n = cap;
    const char *nul = memchr(v, '\0', n);
    if (nul)
        n = (size_t)(nul - v);
    size_t at = tx->text.len;
    /* v may be a value of this arena (the URL of an absolute-form target): reserve moves it */
    int inside = tx->text.data && v >= tx->text.data && v < tx->text.data + tx->text.len;
    size_t v_off = inside ? (size_t)(v - tx->text.data) : 0;
    if (at > UINT32_MAX - 1 || ab_buf_reserve(&tx->text, n + 1) != AB_OK)
        return 0;
    if (inside)
        v = tx->text.data + v_off;
    ab_buf_add(&tx->text, v, n);
    ab_buf_addc(&tx->text, '\0');
    tx->off[id] = (uint32_t)at;
    return 1;
}

/* An obs-fold line continues value id, which is the last one in the arena. */
static void tx_fold(http_tx *tx, int id, const char *v, size_t n)
{
    size_t have = tx->text.len - 1 - tx->off[id];
    if (have >= HTTP_MAX_FIELD)
        return;
    if (n > HTTP_MAX_FIELD - have - 1)
        n = HTTP_MAX_FIELD - have - 1;
    const char *nul = memchr(v, '\0', n);
    if (nul)
        n = (size_t)(nul - v);
    if (ab_buf_reserve(&tx->text, n + 1) != AB_OK)
        return;
    tx->text.len--; /* the NUL */
    ab_buf_addc(&tx->text, ' ');
    ab_buf_add(&tx->text, v, n);
    ab_buf_addc(&tx->text, '\0');
}

static http_tx *tx_slot(http_state *st, uint64_t i)
{
    return st->q[i % HTTP_MAX_PIPELINE];
}

/* A new transaction at q_req, or NULL when the ring is full or memory ran out. */
static http_tx *tx_new(http_state *st)
{
    if (st->q_req - st->q_head >= HTTP_MAX_PIPELINE)
        return NULL;
    size_t slot = (size_t)(st->q_req % HTTP_MAX_PIPELINE);
    if (!st->q[slot]) {
        st->q[slot] = calloc(1, sizeof(http_tx));
        if (!st->q[slot])
            return NULL;
        ab_buf_init(&st->q[slot]->text,
                    st->lim.max_line + (size_t)F_N * (HTTP_MAX_FIELD + 2) + HTTP_MAX_FIELD);
    }
    http_tx *tx = st->q[slot];
    tx_clear(tx);
    st->q_req++;
    return tx;
}

/* ---- records ---- */

static void kv_field(ab_json *j, const char *key, const http_tx *tx, int id)
{
    const char *s = txf(tx, id);
    if (s)
        ab_json_kv_bytes(j, key, s);
}

/* The body keys of one side (index 0: request, 1: response). */
static void kv_body(ab_json *j, int side, const body_res *r)
{
    static const char *const keys[2][5] = {
        {"request_body_len", "request_body_sha256", "request_body_truncated",
         "request_body_incomplete", "request_decode_error"},
        {"response_body_len", "response_body_sha256", "response_body_truncated",
         "response_body_incomplete", "response_decode_error"}};
    ab_json_key(j, keys[side][0]);
    ab_json_uint(j, r->len);
    if (r->sha[0]) {
        ab_json_key(j, keys[side][1]);
        ab_json_cstr(j, r->sha);
    }
    if (r->truncated) {
        ab_json_key(j, keys[side][2]);
        ab_json_bool(j, 1);
    }
    if (r->incomplete) {
        ab_json_key(j, keys[side][3]);
        ab_json_bool(j, 1);
    }
    if (r->decode_err) {
        ab_json_key(j, keys[side][4]);
        ab_json_cstr(j, r->decode_err);
    }
}

static void emit_record(call *c, const http_tx *tx)
{
    ab_buf *b = &c->st->rec;
    ab_json j;
    ab_buf_reset(b);
    ab_json_init(&j, b);
    ab_json_obj_begin(&j);
    ab_json_key(&j, "type");
    ab_json_cstr(&j, "http");
    if (tx->has_req) {
        kv_field(&j, "method", tx, F_METHOD);
        kv_field(&j, "host", tx, F_HOST);
        kv_field(&j, "uri", tx, F_URI);
        kv_field(&j, "url", tx, F_URL);
        kv_field(&j, "version", tx, F_VERSION);
        kv_field(&j, "user_agent", tx, F_UA);
        kv_field(&j, "referer", tx, F_REFERER);
        kv_field(&j, "request_content_type", tx, F_REQ_CT);
        kv_field(&j, "request_content_encoding", tx, F_REQ_CE);
        kv_field(&j, "request_transfer_encoding", tx, F_REQ_TE);
        kv_body(&j, 0, &tx->req);
    }
    if (tx->status >= 0) {
        ab_json_key(&j, "status");
        ab_json_int(&j, tx->status);
        kv_field(&j, "reason", tx, F_REASON);
        kv_field(&j, "response_version", tx, F_RESP_VERSION);
        kv_field(&j, "server", tx, F_SERVER);
        kv_field(&j, "content_type", tx, F_CT);
        kv_field(&j, "content_encoding", tx, F_CE);
        kv_field(&j, "transfer_encoding", tx, F_TE);
        kv_field(&j, "location", tx, F_LOCATION);
        kv_body(&j, 1, &tx->resp);
    }
    if (tx->tunnel) {
        ab_json_key(&j, "tunnel");
        ab_json_bool(&j, 1);
    }
    if (tx->anomalies) {
        ab_json_key(&j, "anomalies");
        ab_json_arr_begin(&j);
        for (size_t i = 0; i < sizeof(anomaly_names) / sizeof(anomaly_names[0]); i++)
            if (tx->anomalies & (1u << i))
                ab_json_cstr(&j, anomaly_names[i]);
        ab_json_arr_end(&j);
    }
    ab_json_obj_end(&j);
    if (j.st == AB_OK && c->out->record)
        c->out->record(c->out->ctx, c->f, b->data, b->len);
}

static void say(call *c, const char *msg)
{
    ab_net_say(c->out, c->f, msg);
}

/* Report the oldest transactions that are done (all: every one, at the end of the flow). */
static void pump(call *c, int all)
{
    http_state *st = c->st;
    while (!st->stopped && st->q_head < st->q_req) {
        http_tx *tx = tx_slot(st, st->q_head);
        int req_ok = tx->req_done || st->d[0].dead;
        int resp_ok = tx->resp_done || st->d[1].dead || tx->tunnel;
        if (!all && !(req_ok && resp_ok))
            break;
        if (st->d[0].tx == tx)
            st->d[0].tx = NULL;
        if (st->d[1].tx == tx)
            st->d[1].tx = NULL;
        emit_record(c, tx);
        st->q_head++;
        if (st->q_resp < st->q_head)
            st->q_resp = st->q_head;
        if (++st->n_tx >= st->lim.max_tx) {
            st->stopped = 1;
            say(c, "http: transaction limit (max_tx) reached");
        }
    }
}

/* ---- observables ---- */

static void observe(call *c, int dir, const char *type, const char *where, const char *v, size_t n)
{
    ab_net_observe(c->out, c->f, dir, type, where, v, n);
}

static int host_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
           ch == '_' || ch >= 0x80;
}

/* A Host value (or an authority): port stripped, lower case, as "ip" or "domain". */
static void observe_host(call *c, const char *v, size_t n)
{
    char h[MAX_HOST + 1];
    if (n && v[0] == '[') {
        const char *close = memchr(v, ']', n);
        if (!close)
            return;
        v++;
        n = (size_t)(close - v);
    } else {
        const char *colon = memchr(v, ':', n);
        if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - v) - 1))
            n = (size_t)(colon - v);
    }
    while (n && v[n - 1] == '.')
        n--;
    if (!n || n > MAX_HOST)
        return;
    int domain_ok = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        h[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch);
        if (!host_char((unsigned char)h[i]) && h[i] != ':')
            domain_ok = 0;
    }
    h[n] = '\0';
    ab_ipaddr a;
    unsigned bits;
    if (!memchr(h, '/', n) && ab_ipaddr_parse(h, n, &a, &bits) == 0 && bits == 128)
        observe(c, AB_DIR_TO_SERVER, "ip", "http.host", h, n);
    else if (domain_ok && !memchr(h, ':', n))
        observe(c, AB_DIR_TO_SERVER, "domain", "http.host", h, n);
}

/* "http://" + host (lower case) + path into scratch; 0 when it does not fit. */
static int build_url(http_state *st, const char *host, size_t hn, const char *path, size_t pn)
{
    ab_buf *u = &st->scratch;
    ab_buf_reset(u);
    if (ab_buf_reserve(u, 7 + hn + pn) != AB_OK)
        return 0;
    ab_buf_add(u, "http://", 7);
    for (size_t i = 0; i < hn; i++) {
        char ch = host[i];
        ab_buf_addc(u, ch >= 'A' && ch <= 'Z' ? (char)(ch | 0x20) : ch);
    }
    ab_buf_add(u, path, pn);
    return 1;
}

/* A Host that can stand in a URL: no spaces or control bytes. */
static int url_host_ok(const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)h[i] <= 0x20 || h[i] == 0x7f || h[i] == '/')
            return 0;
    return 1;
}

static void request_observables(call *c, http_tx *tx)
{
    const char *uri = txf(tx, F_URI), *host = txf(tx, F_HOST);
    size_t un = txf_len(tx, F_URI), hn = txf_len(tx, F_HOST);
    int abs = uri && is_absolute(uri, un);
    if (host && hn) {
        observe_host(c, host, hn);
    } else if (abs) {
        const char *a;
        size_t an;
        url_authority(uri, un, &a, &an);
        observe_host(c, a, an);
    } else if (uri && tx->is_connect) {
        observe_host(c, uri, un);
    }
    if (abs) {
        tx_store(tx, F_URL, uri, un, SIZE_MAX);
    } else if (uri && uri[0] == '/' && host && hn && url_host_ok(host, hn)) {
        if (build_url(c->st, host, hn, uri, un))
            tx_store(tx, F_URL, c->st->scratch.data, c->st->scratch.len, SIZE_MAX);
    }
    const char *url = txf(tx, F_URL);
    if (url)
        observe(c, AB_DIR_TO_SERVER, "url", "http.url", url, strlen(url));
    const char *ref = txf(tx, F_REFERER);
    if (ref)
        observe(c, AB_DIR_TO_SERVER, "url", "http.referer", ref, strlen(ref));
}

static void location_observable(call *c, const http_tx *tx)
{
    const char *loc = txf(tx, F_LOCATION), *host = txf(tx, F_HOST);
    size_t ln = txf_len(tx, F_LOCATION), hn = txf_len(tx, F_HOST);
    if (!loc || !ln)
        return;
    if (is_absolute(loc, ln)) {
        observe(c, AB_DIR_TO_CLIENT, "url", "http.location", loc, ln);
    } else if (ln >= 2 && loc[0] == '/' && loc[1] == '/') {
        if (build_url(c->st, "", 0, loc + 2, ln - 2))
            observe(c, AB_DIR_TO_CLIENT, "url", "http.location", c->st->scratch.data,
                    c->st->scratch.len);
    } else if (loc[0] == '/' && host && hn && url_host_ok(host, hn)) {
        if (build_url(c->st, host, hn, loc, ln))
            observe(c, AB_DIR_TO_CLIENT, "url", "http.location", c->st->scratch.data,
                    c->st->scratch.len);
    }
}

/* ---- bodies ---- */

/* Room for n more bytes in the body's buffer, its growth counted with every flow's (lim.mem):
 * 0, or -1 when the capture's memcap or memory refuses (the object is shorter: truncated).
 * hint: only an allocation ahead of the bytes, nothing is cut when it is refused. */
static int keep_reserve(http_state *st, body *b, size_t n, int hint)
{
    size_t from = b->keep.alloc, to = ab_buf_grown(&b->keep, n);
    if (!to)
        return -1;
    if (to == from)
        return 0;
    if (!ab_net_mem_room(st->lim.mem, from, to)) {
        if (hint)
            return -1;
        if (!b->mem_cut)
            st->lim.mem->cuts++;
        b->mem_cut = 1;
        return -1;
    }
    if (ab_buf_reserve(&b->keep, n) != AB_OK)
        return -1;
    ab_net_mem_count(st->lim.mem, from, b->keep.alloc);
    return 0;
}

static void keep_release(http_state *st, body *b)
{
    ab_net_mem_count(st->lim.mem, b->keep.alloc, 0);
    ab_buf_release(&b->keep);
}

static void body_out(http_state *st, body *b, const uint8_t *p, size_t n)
{
    if (b->sha_ok && EVP_DigestUpdate(b->sha, p, n) != 1)
        b->sha_ok = 0;
    b->size += n;
    if (b->keep.len < st->lim.max_body) {
        size_t k = st->lim.max_body - b->keep.len;
        if (k > n)
            k = n;
        /* refused: what the buffer already has room for still goes in (one byte is its NUL) */
        size_t room = b->keep.alloc > b->keep.len ? b->keep.alloc - b->keep.len - 1 : 0;
        if (keep_reserve(st, b, k, 0) != 0 && k > room)
            k = room;
        if (k)
            ab_buf_add(&b->keep, p, k);
    }
}

static void z_start(body *b, int wbits)
{
    int r = b->z_ready ? inflateReset2(&b->z, wbits) : inflateInit2(&b->z, wbits);
    if (r != Z_OK) {
        b->zstate = Z_FAIL;
        b->err = "decoder initialisation failed";
        return;
    }
    b->z_ready = 1;
    b->zstate = Z_RUN;
}

static void inflate_feed(http_state *st, body *b, const uint8_t *p, size_t n)
{
    uint8_t outbuf[INFLATE_CHUNK];
    while (n && b->zstate == Z_RUN) {
        uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;
        b->z.next_in = (Bytef *)(uintptr_t)p;
        b->z.avail_in = piece;
        do {
            b->z.next_out = outbuf;
            b->z.avail_out = sizeof(outbuf);
            int r = inflate(&b->z, Z_NO_FLUSH);
            size_t got = sizeof(outbuf) - b->z.avail_out;
            if (got)
                body_out(st, b, outbuf, got);
            if (r == Z_STREAM_END) {
                b->zstate = Z_END; /* bytes after the end of the stream are ignored */
            } else if (r == Z_BUF_ERROR && !got) {
                break;
            } else if (r != Z_OK && r != Z_BUF_ERROR) {
                b->zstate = Z_FAIL;
                b->err = r == Z_MEM_ERROR ? "decoder out of memory" : "corrupt compressed data";
            } else if (b->size > st->lim.max_body &&
                       b->size / HTTP_DECODE_RATIO > (uint64_t)b->z.total_in) {
                b->zstate = Z_FAIL;
                b->err = "decompression ratio limit";
            }
        } while (b->zstate == Z_RUN && (b->z.avail_in > 0 || b->z.avail_out == 0));
        p += piece;
        n -= piece;
    }
}

/* deflate is a zlib stream for most servers, raw deflate for some (old IIS): the first two
 * bytes tell (RFC 1950 CMF/FLG: method 8, window <= 32 KiB, check bits). */
static void deflate_sniff(http_state *st, body *b, const uint8_t *p, size_t n)
{
    while (n && b->npre < 2) {
        b->pre[b->npre++] = *p++;
        n--;
    }
    if (b->npre < 2)
        return;
    unsigned cmf = b->pre[0], flg = b->pre[1];
    int zlib = (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
    z_start(b, zlib ? 15 : -15);
    inflate_feed(st, b, b->pre, 2);
    inflate_feed(st, b, p, n);
}

static void body_feed(http_state *st, body *b, const uint8_t *p, size_t n)
{
    if (!b->active || !n)
        return;
    switch (b->zstate) {
    case Z_OFF:
        body_out(st, b, p, n);
        break;
    case Z_SNIFF:
        deflate_sniff(st, b, p, n);
        break;
    case Z_RUN:
        inflate_feed(st, b, p, n);
        break;
    default:
        break; /* after the end of the stream, or a failure */
    }
}

static int coding_of(const char *ce, size_t n, uint32_t *anomalies)
{
    if (!ce)
        return CODING_NONE;
    trim(&ce, &n);
    if (ieq(ce, n, "gzip") || ieq(ce, n, "x-gzip"))
        return CODING_GZIP;
    if (ieq(ce, n, "deflate"))
        return CODING_DEFLATE;
    if (n && !ieq(ce, n, "identity"))
        *anomalies |= A_UNSUPPORTED_CE;
    return CODING_NONE;
}

/* SHA-256 fetched once per process: an implicit fetch by EVP_DigestInit_ex(EVP_sha256()) takes
 * OpenSSL's provider locks on every body. Never freed (like OpenSSL's own method cache). */
static EVP_MD *sha256_fetched;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256_md(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_fetched ? sha256_fetched : EVP_sha256();
}

/* hint: the body's length when the framing says it (Content-Length), else 0. sha: its SHA-256
 * is wanted (only records say it: without them it is never read, and the engine hashes the
 * body's object itself). */
static void body_begin(http_state *st, http_dir *d, int sha, int coding, uint64_t hint)
{
    body *b = &d->b;
    b->active = 1;
    b->size = 0;
    b->err = NULL;
    b->npre = 0;
    b->mem_cut = 0;
    ab_buf_reset(&b->keep);
    if (sha && !b->sha)
        b->sha = EVP_MD_CTX_new();
    b->sha_ok = sha && b->sha && EVP_DigestInit_ex(b->sha, sha256_md(), NULL) == 1;
    if (hint > st->lim.max_body)
        hint = st->lim.max_body;
    if (hint > b->keep.alloc)
        keep_reserve(st, b, (size_t)hint, 1); /* one allocation for a body of known length */
    b->zstate = Z_OFF;
    if (coding == CODING_GZIP)
        z_start(b, 16 + 15);
    else if (coding == CODING_DEFLATE)
        b->zstate = Z_SNIFF;
}

/* The object's first name: "<METHOD> <target>", the target cut at a UTF-8 boundary. */
static const char *object_name(http_state *st, const http_tx *tx)
{
    const char *m = txf(tx, F_METHOD), *u = txf(tx, F_URI);
    if (!tx->has_req || !m)
        return "(no request)";
    size_t un = u ? strlen(u) : 0;
    if (un > HTTP_NAME_TARGET) {
        un = HTTP_NAME_TARGET;
        for (int k = 0; k < 3 && un && ((unsigned char)u[un] & 0xc0) == 0x80; k++)
            un--;
    }
    size_t mn = strlen(m); /* at most MAX_METHOD */
    memcpy(st->name, m, mn);
    st->name[mn] = ' ';
    if (un)
        memcpy(st->name + mn + 1, u, un);
    st->name[mn + 1 + un] = '\0';
    return st->name;
}

static const char *media_type(const http_tx *tx, int id, char *buf, size_t bufsz)
{
    const char *ct = txf(tx, id);
    if (!ct)
        return NULL;
    size_t n = strcspn(ct, ";");
    trim(&ct, &n);
    if (!n)
        return NULL;
    if (n > bufsz - 1)
        n = bufsz - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] | 0x20 : ct[i]);
    buf[n] = '\0';
    return buf;
}

/* The body of direction dir ends (incomplete: cut by a gap or the end of the flow). */
static void body_end(call *c, int dir, int incomplete)
{
    http_state *st = c->st;
    http_dir *d = &st->d[dir];
    body *b = &d->b;
    if (!b->active)
        return;
    b->active = 0;
    if (b->zstate == Z_SNIFF || b->zstate == Z_RUN)
        b->err = incomplete ? "compressed data cut" : "compressed data ends early";
    http_tx *tx = d->tx;
    body_res *r = dir == AB_DIR_TO_SERVER ? &tx->req : &tx->resp;
    r->present = 1;
    r->len = b->size;
    r->incomplete = (uint8_t)incomplete;
    r->decode_err = b->err;
    r->truncated = b->size > b->keep.len;
    unsigned char md[32];
    unsigned mdlen = 0;
    if (b->sha_ok && EVP_DigestFinal_ex(b->sha, md, &mdlen) == 1 && mdlen == 32 && b->size) {
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) {
            r->sha[2 * i] = hex[md[i] >> 4];
            r->sha[2 * i + 1] = hex[md[i] & 15];
        }
        r->sha[64] = '\0';
    }
    b->sha_ok = 0;
    if (b->size && c->out->object) {
        const char *names[2] = {object_name(st, tx),
                                dir == AB_DIR_TO_SERVER ? "request-body" : "response-body"};
        char mt[MAX_MEDIA + 1];
        const char *m = media_type(tx, dir == AB_DIR_TO_SERVER ? F_REQ_CT : F_CT, mt, sizeof(mt));
        c->out->object(c->out->ctx, c->f, dir, names, 2, (const uint8_t *)b->keep.data, b->keep.len,
                       m, r->truncated);
    }
    if (b->keep.alloc > KEEP_RETAIN)
        keep_release(st, b);
    else
        ab_buf_reset(&b->keep);
    if (b->z_ready) {
        inflateEnd(&b->z);
        b->z_ready = 0;
    }
}

/* ---- messages ---- */

static void msg_reset(http_dir *d)
{
    d->nfields = 0;
    d->last_field = FOLD_NONE;
    d->cl_seen = d->cl_bad = d->te_seen = d->te_chunked = 0;
    d->cl = d->remain = 0;
}

/* The message of direction dir is complete. */
static void msg_end(call *c, int dir)
{
    http_dir *d = &c->st->d[dir];
    body_end(c, dir, 0);
    http_tx *tx = d->tx;
    d->tx = NULL;
    d->state = S_START;
    if (tx && dir == AB_DIR_TO_SERVER) {
        tx->req_done = 1;
        if (tx->is_connect && !tx->resp_done)
            d->state = S_CONNECT_WAIT;
    } else if (tx) {
        tx->resp_done = 1;
    }
    msg_reset(d);
    if (d->line.alloc > TEXT_RETAIN)
        ab_buf_release(&d->line);
    pump(c, 0);
}

/* Direction dir gives up for good (msg says why; NULL: silently, at close). */
static void die(call *c, int dir, const char *msg)
{
    http_dir *d = &c->st->d[dir];
    if (d->dead)
        return;
    if (msg) {
        char line[160];
        snprintf(line, sizeof(line), "http: %s (%s)", msg,
                 dir == AB_DIR_TO_SERVER ? "client" : "server");
        say(c, line);
    }
    body_end(c, dir, 1);
    if (d->tx && dir == AB_DIR_TO_SERVER)
        d->tx->req_done = 1;
    else if (d->tx)
        d->tx->resp_done = 1;
    d->tx = NULL;
    d->dead = 1;
    d->state = S_DEAD;
    pump(c, 0);
}

/* "HTTP/" DIGIT "." DIGIT */
static int http_version(const char *s, size_t n)
{
    return n == 8 && memcmp(s, "HTTP/", 5) == 0 && s[5] >= '0' && s[5] <= '9' && s[6] == '.' &&
           s[7] >= '0' && s[7] <= '9';
}

static int method_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_';
}

static void request_line(call *c, const char *s, size_t n)
{
    http_state *st = c->st;
    http_dir *d = &st->d[0];
    size_t m = 0;
    while (m < n && m <= MAX_METHOD && method_char(s[m]))
        m++;
    const char *sp = memrchr(s, ' ', n);
    if (m == 0 || m > MAX_METHOD || m >= n || s[m] != ' ' || !sp || sp <= s + m + 1) {
        die(c, 0, "malformed request line");
        return;
    }
    const char *target = s + m + 1, *ver = sp + 1;
    size_t tn = (size_t)(sp - target), vn = n - (size_t)(ver - s);
    trim(&target, &tn);
    if (!http_version(ver, vn) || !tn) {
        die(c, 0, "malformed request line");
        return;
    }
    if (ver[5] != '1') {
        die(c, 0, ver[5] == '2' ? "HTTP/2, not HTTP/1" : "unsupported HTTP version");
        return;
    }
    http_tx *tx = tx_new(st);
    if (!tx) {
        die(c, 0,
            st->q_req - st->q_head >= HTTP_MAX_PIPELINE ? "too many pipelined requests"
                                                        : "out of memory");
        return;
    }
    tx->has_req = 1;
    tx_store(tx, F_METHOD, s, m, MAX_METHOD);
    tx_store(tx, F_URI, target, tn, st->lim.max_line);
    tx_store(tx, F_VERSION, ver, vn, vn);
    if (memchr(target, ' ', tn))
        tx->anomalies |= A_SPACE_IN_URI;
    tx->is_head = m == 4 && memcmp(s, "HEAD", 4) == 0;
    tx->is_connect = m == 7 && memcmp(s, "CONNECT", 7) == 0;
    d->tx = tx;
    d->state = S_HEADERS;
    msg_reset(d);
}

static void status_line(call *c, const char *s, size_t n)
{
    http_state *st = c->st;
    http_dir *d = &st->d[1];
    size_t i = 8;
    if (n < 12 || !http_version(s, 8) || s[5] != '1' || s[8] != ' ') {
        die(c, 1, "malformed status line");
        return;
    }
    while (i < n && s[i] == ' ')
        i++;
    if (n - i < 3 || s[i] < '1' || s[i] > '9' || s[i + 1] < '0' || s[i + 1] > '9' ||
        s[i + 2] < '0' || s[i + 2] > '9' || (n - i > 3 && !is_ows(s[i + 3]))) {
        die(c, 1, "malformed status line");
        return;
    }
    if (!d->tx) {
        if (st->q_resp >= st->q_req) {
            http_tx *lone = tx_new(st);
            if (!lone) {
                die(c, 1, "too many transactions waiting");
                return;
            }
            lone->req_done = 1; /* a response whose request was not seen */
        }
        d->tx = tx_slot(st, st->q_resp++);
    }
    http_tx *tx = d->tx;
    tx->status = (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
    const char *reason = s + i + 3;
    size_t rn = n - i - 3;
    trim(&reason, &rn);
    tx_store(tx, F_RESP_VERSION, s, 8, 8);
    if (rn)
        tx_store(tx, F_REASON, reason, rn, HTTP_MAX_FIELD);
    d->state = S_HEADERS;
    msg_reset(d);
}

/* Content-Length: digits, or a list of the same digits ("5, 5"). -1 when malformed. */
static int parse_cl(const char *v, size_t n, uint64_t *out)
{
    int have = 0;
    uint64_t first = 0;
    while (n) {
        const char *comma = memchr(v, ',', n);
        size_t k = comma ? (size_t)(comma - v) : n;
        const char *e = v;
        size_t en = k;
        trim(&e, &en);
        if (!en || en > 18)
            return -1;
        uint64_t x = 0;
        for (size_t i = 0; i < en; i++) {
            if (e[i] < '0' || e[i] > '9')
                return -1;
            x = x * 10 + (uint64_t)(e[i] - '0');
        }
        if (have && x != first)
            return -1;
        first = x;
        have = 1;
        if (!comma)
            break;
        v += k + 1;
        n -= k + 1;
    }
    if (!have)
        return -1;
    *out = first;
    return 0;
}

/* Transfer-Encoding: whether its last coding is chunked. */
static int te_is_chunked(const char *v, size_t n)
{
    const char *last = v;
    for (size_t i = 0; i < n; i++)
        if (v[i] == ',')
            last = v + i + 1;
    size_t ln = n - (size_t)(last - v);
    trim(&last, &ln);
    return ieq(last, ln, "chunked");
}

/* Which kept value a header is, by direction; -1 for none. */
static int field_id(int dir, const char *name, size_t n)
{
    if (dir == AB_DIR_TO_SERVER) {
        if (ieq(name, n, "host"))
            return F_HOST;
        if (ieq(name, n, "user-agent"))
            return F_UA;
        if (ieq(name, n, "referer"))
            return F_REFERER;
        if (ieq(name, n, "content-type"))
            return F_REQ_CT;
        if (ieq(name, n, "content-encoding"))
            return F_REQ_CE;
        if (ieq(name, n, "transfer-encoding"))
            return F_REQ_TE;
    } else {
        if (ieq(name, n, "server"))
            return F_SERVER;
        if (ieq(name, n, "content-type"))
            return F_CT;
        if (ieq(name, n, "content-encoding"))
            return F_CE;
        if (ieq(name, n, "transfer-encoding"))
            return F_TE;
        if (ieq(name, n, "location"))
            return F_LOCATION;
    }
    return -1;
}

static void header_line(call *c, int dir, const char *s, size_t n)
{
    http_dir *d = &c->st->d[dir];
    http_tx *tx = d->tx;
    if (is_ows(s[0])) {
        tx->anomalies |= A_OBS_FOLD;
        if (d->last_field == FOLD_DENY) {
            die(c, dir, "folded Content-Length or Transfer-Encoding");
            return;
        }
        trim(&s, &n);
        if (d->last_field >= 0)
            tx_fold(tx, d->last_field, s, n);
        return;
    }
    if (++d->nfields > c->st->lim.max_headers) {
        die(c, dir, "too many header fields");
        return;
    }
    d->last_field = FOLD_NONE;
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return; /* not a field: skipped, as browsers do */
    const char *name = s, *v = colon + 1;
    size_t nn = (size_t)(colon - s), vn = n - nn - 1;
    trim(&name, &nn);
    trim(&v, &vn);
    if (ieq(name, nn, "content-length")) {
        uint64_t x = 0;
        if (parse_cl(v, vn, &x) != 0 || (d->cl_seen && x != d->cl))
            d->cl_bad = 1;
        else if (d->cl_seen)
            tx->anomalies |= A_DUP_CL;
        d->cl_seen = 1;
        d->cl = x;
        d->last_field = FOLD_DENY;
        return;
    }
    int id = field_id(dir, name, nn);
    if (id == F_REQ_TE || id == F_TE) {
        d->te_seen = 1;
        d->te_chunked = (uint8_t)te_is_chunked(v, vn);
        tx_store(tx, id, v, vn, HTTP_MAX_FIELD);
        d->last_field = FOLD_DENY;
        return;
    }
    if (id == F_HOST && tx->off[F_HOST] != NO_FIELD)
        tx->anomalies |= A_DUP_HOST;
    if (id >= 0 && tx_store(tx, id, v, vn, HTTP_MAX_FIELD))
        d->last_field = id;
}

/* The headers of a request end: framing, observables. */
static void request_headers_end(call *c)
{
    http_state *st = c->st;
    http_dir *d = &st->d[0];
    http_tx *tx = d->tx;
    if (d->te_seen && d->cl_seen)
        tx->anomalies |= A_CL_AND_TE;
    const char *ver = txf(tx, F_VERSION);
    if (tx->off[F_HOST] == NO_FIELD && ver && strcmp(ver, "HTTP/1.1") == 0)
        tx->anomalies |= A_MISSING_HOST;
    request_observables(c, tx);
    if (d->te_seen && !d->te_chunked) {
        die(c, 0, "request Transfer-Encoding does not end in chunked");
        return;
    }
    if (!d->te_seen && d->cl_bad) {
        die(c, 0, "bad Content-Length");
        return;
    }
    int coding = coding_of(txf(tx, F_REQ_CE), txf_len(tx, F_REQ_CE), &tx->anomalies);
    if (d->te_seen) {
        body_begin(st, d, c->out->record != NULL, coding, 0);
        d->state = S_CHUNK_SIZE;
    } else if (d->cl_seen && d->cl > 0) {
        body_begin(st, d, c->out->record != NULL, coding, coding == CODING_NONE ? d->cl : 0);
        d->framing = FR_LENGTH;
        d->remain = d->cl;
        d->state = S_BODY;
    } else {
        msg_end(c, 0);
    }
}

static void start_tunnel(call *c, http_tx *tx)
{
    http_state *st = c->st;
    tx->tunnel = 1;
    tx->resp_done = 1;
    body_end(c, 0, 1);
    st->tunnel = 1;
    pump(c, 1);
}

static void response_headers_end(call *c)
{
    http_state *st = c->st;
    http_dir *d = &st->d[1];
    http_tx *tx = d->tx;
    int s = tx->status;
    if (s < 200 && s != 101) {
        /* interim (100-continue, 102, 103): the final response follows for the same request */
        if (++tx->n_interim > HTTP_MAX_INTERIM) {
            die(c, 1, "too many interim responses");
            return;
        }
        static const int resp_fields[] = {F_RESP_VERSION, F_REASON, F_SERVER,  F_CT,
                                          F_CE,           F_TE,     F_LOCATION};
        for (size_t i = 0; i < sizeof(resp_fields) / sizeof(resp_fields[0]); i++)
            tx->off[resp_fields[i]] = NO_FIELD;
        tx->status = -1;
        d->state = S_START;
        msg_reset(d);
        return;
    }
    if (d->te_seen && d->cl_seen)
        tx->anomalies |= A_CL_AND_TE;
    if (s >= 300 && s < 400)
        location_observable(c, tx);
    if (s == 101 || (tx->is_connect && s < 300)) {
        start_tunnel(c, tx);
        return;
    }
    if (tx->is_connect && st->d[0].state == S_CONNECT_WAIT) {
        if (st->d[0].tunnel_bytes)
            die(c, 0, "bytes after a refused CONNECT");
        else
            st->d[0].state = S_START;
    }
    if (tx->is_head || s == 204 || s == 304) {
        msg_end(c, 1);
        return;
    }
    int coding = coding_of(txf(tx, F_CE), txf_len(tx, F_CE), &tx->anomalies);
    if (d->te_seen && d->te_chunked) {
        body_begin(st, d, c->out->record != NULL, coding, 0);
        d->state = S_CHUNK_SIZE;
    } else if (d->te_seen || !d->cl_seen) {
        body_begin(st, d, c->out->record != NULL, coding, 0);
        d->state = S_CLOSE_BODY;
    } else if (d->cl_bad) {
        die(c, 1, "bad Content-Length");
    } else if (d->cl > 0) {
        body_begin(st, d, c->out->record != NULL, coding, coding == CODING_NONE ? d->cl : 0);
        d->framing = FR_LENGTH;
        d->remain = d->cl;
        d->state = S_BODY;
    } else {
        msg_end(c, 1);
    }
}

/* chunk-size [ext] : 1..16 hex digits (below 2^60), then spaces, ';' extensions. */
static void chunk_size_line(call *c, int dir, const char *s, size_t n)
{
    http_dir *d = &c->st->d[dir];
    trim(&s, &n);
    uint64_t x = 0;
    size_t i = 0;
    for (; i < n && i < 16; i++) {
        char ch = s[i];
        int v = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (v < 0)
            break;
        x = x << 4 | (uint64_t)v;
    }
    size_t j = i;
    while (j < n && is_ows(s[j]))
        j++;
    if (i == 0 || (i == 16 && x >> 60) || (j < n && s[j] != ';')) {
        die(c, dir, "malformed chunk size");
        return;
    }
    if (x == 0) {
        d->state = S_TRAILERS;
        return;
    }
    d->framing = FR_CHUNKED;
    d->remain = x;
    d->state = S_BODY;
}

static void handle_line(call *c, int dir, const char *s, size_t n)
{
    http_dir *d = &c->st->d[dir];
    switch (d->state) {
    case S_START:
        if (n == 0)
            return; /* empty lines before a start line are allowed (RFC 9112 2.2) */
        if (dir == AB_DIR_TO_SERVER)
            request_line(c, s, n);
        else
            status_line(c, s, n);
        break;
    case S_HEADERS:
        if (n)
            header_line(c, dir, s, n);
        else if (dir == AB_DIR_TO_SERVER)
            request_headers_end(c);
        else
            response_headers_end(c);
        break;
    case S_CHUNK_SIZE:
        chunk_size_line(c, dir, s, n);
        break;
    case S_CHUNK_END:
        if (n)
            die(c, dir, "chunk data longer than its size");
        else
            d->state = S_CHUNK_SIZE;
        break;
    case S_TRAILERS:
        if (n == 0)
            msg_end(c, dir);
        else if (++d->nfields > c->st->lim.max_headers)
            die(c, dir, "too many header fields");
        break;
    default:
        break;
    }
}

/* One line ending at '\n' (CR dropped): 1 with it, 0 when the feed ended first (kept), -1 when
 * it is longer than max_line. */
static int take_line(http_state *st, http_dir *d, const uint8_t **pp, const uint8_t *end,
                     const char **line, size_t *len)
{
    const uint8_t *p = *pp;
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    size_t have = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (have > st->lim.max_line + 1 || d->line.len > st->lim.max_line + 1 - have)
        return -1;
    if (!nl || d->line.len) {
        if (ab_buf_add(&d->line, p, have) != AB_OK)
            return -1;
    }
    if (!nl) {
        *pp = end;
        return 0;
    }
    if (d->line.len) {
        *line = d->line.data;
        *len = d->line.len;
    } else {
        *line = (const char *)p;
        *len = have;
    }
    *pp = nl + 1;
    if (*len && (*line)[*len - 1] == '\r')
        (*len)--;
    return 1;
}

static void run(call *c, int dir, const uint8_t *p, const uint8_t *end)
{
    http_state *st = c->st;
    http_dir *d = &st->d[dir];
    while (p < end && !d->dead && !st->stopped && !st->tunnel) {
        switch (d->state) {
        case S_BODY: {
            uint64_t avail = (uint64_t)(end - p);
            size_t k = (size_t)(d->remain < avail ? d->remain : avail);
            body_feed(st, &d->b, p, k);
            d->remain -= k;
            p += k;
            if (d->remain == 0) {
                if (d->framing == FR_LENGTH)
                    msg_end(c, dir);
                else
                    d->state = S_CHUNK_END;
            }
            break;
        }
        case S_CLOSE_BODY:
            body_feed(st, &d->b, p, (size_t)(end - p));
            p = end;
            break;
        case S_CONNECT_WAIT:
            d->tunnel_bytes = 1;
            p = end;
            break;
        default: {
            const char *line;
            size_t len;
            int r = take_line(st, d, &p, end, &line, &len);
            if (r < 0) {
                die(c, dir, "line longer than max_line");
            } else if (r > 0) {
                handle_line(c, dir, line, len);
                ab_buf_reset(&d->line);
            }
            break;
        }
        }
    }
}

static int verdict(const http_state *st)
{
    return st->stopped || st->tunnel || (st->d[0].dead && st->d[1].dead) ? -1 : 0;
}

/* ---- the ab_app_proto ---- */

static int http_detect(const uint8_t *data, size_t n, int dir)
{
    if (dir == AB_DIR_TO_CLIENT) {
        static const char pre[] = "HTTP/1.";
        size_t k = n < 7 ? n : 7;
        if (memcmp(data, pre, k) != 0)
            return 0;
        return n >= 7 ? 1 : -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (data[i] == ' ')
            return i >= 3 ? 1 : 0;
        if (data[i] < 'A' || data[i] > 'Z' || i >= MAX_METHOD)
            return 0;
    }
    return -1;
}

static void *http_new(const ab_net_limits *lim)
{
    http_state *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    ab_net_limits_set(&st->lim, lim);
    if (st->lim.max_tx == 0)
        st->lim.max_tx = 1;
    for (int i = 0; i < 2; i++) {
        ab_buf_init(&st->d[i].line, st->lim.max_line + 2);
        ab_buf_init(&st->d[i].b.keep, st->lim.max_body + 1);
        st->d[i].state = S_START;
        msg_reset(&st->d[i]);
    }
    ab_buf_init(&st->rec, 0);
    ab_buf_init(&st->scratch, 0);
    return st;
}

static int http_data(void *vst, const ab_flow_ref *f, int dir, const uint8_t *data, size_t n,
                     const ab_net_out *out)
{
    http_state *st = vst;
    call c = {st, f, out};
    if (dir != AB_DIR_TO_SERVER && dir != AB_DIR_TO_CLIENT)
        return -1;
    if (n)
        run(&c, dir, data, data + n);
    return verdict(st);
}

static int http_gap(void *vst, const ab_flow_ref *f, int dir, uint64_t n, const ab_net_out *out)
{
    http_state *st = vst;
    call c = {st, f, out};
    if (dir != AB_DIR_TO_SERVER && dir != AB_DIR_TO_CLIENT)
        return -1;
    http_dir *d = &st->d[dir];
    if (st->stopped || st->tunnel || d->dead || n == 0)
        return verdict(st);
    switch (d->state) {
    case S_BODY:
        body_end(&c, dir, 1);
        if (n > d->remain) {
            die(&c, dir, "gap past the end of a body");
            break;
        }
        d->remain -= n;
        if (d->remain == 0) {
            if (d->framing == FR_LENGTH)
                msg_end(&c, dir);
            else
                d->state = S_CHUNK_END;
        }
        break;
    case S_CLOSE_BODY:
        body_end(&c, dir, 1); /* the rest of the direction is that body: read past */
        break;
    case S_CONNECT_WAIT:
        d->tunnel_bytes = 1;
        break;
    default:
        die(&c, dir, "gap outside a body");
        break;
    }
    return verdict(st);
}

static void http_close(void *vst, const ab_flow_ref *f, const ab_net_out *out)
{
    http_state *st = vst;
    call c = {st, f, out};
    if (st->stopped || st->tunnel)
        return;
    for (int dir = 0; dir < 2; dir++) {
        http_dir *d = &st->d[dir];
        if (d->dead)
            continue;
        if (d->state == S_CLOSE_BODY && d->b.active) {
            body_end(&c, dir, 0);
            msg_end(&c, dir);
        }
        if (st->stopped)
            return;
        die(&c, dir, NULL);
    }
    pump(&c, 1);
}

static void http_free(void *vst)
{
    http_state *st = vst;
    if (!st)
        return;
    for (int i = 0; i < 2; i++) {
        body *b = &st->d[i].b;
        ab_buf_release(&st->d[i].line);
        keep_release(st, b);
        EVP_MD_CTX_free(b->sha);
        if (b->z_ready)
            inflateEnd(&b->z);
    }
    for (size_t i = 0; i < HTTP_MAX_PIPELINE; i++) {
        if (st->q[i])
            ab_buf_release(&st->q[i]->text);
        free(st->q[i]);
    }
    ab_buf_release(&st->rec);
    ab_buf_release(&st->scratch);
    free(st);
}

const ab_app_proto ab_app_http = {
    .name = "http",
    .detect = http_detect,
    .new_state = http_new,
    .data = http_data,
    .gap = http_gap,
    .close = http_close,
    .free_state = http_free,
};
