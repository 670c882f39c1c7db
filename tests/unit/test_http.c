/* test_http.c: the HTTP/1.x parser (src/net/http.c) fed bytes directly, both directions, with a
 * collecting ab_net_out: records (exact text and parsed back), observables, body objects and
 * their SHA-256 (computed here independently), pipelining, HEAD/204/304, 100-continue, chunked
 * with extensions and trailers, gzip/deflate (made here with zlib) and a bounded gzip bomb,
 * close-delimited bodies, CONNECT, gaps, limits, malformed input, and the same results whatever
 * the sizes of the pieces the bytes come in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "json_check.h"
#include "net/http.h"
#include "net_collect.h"

#define C2S AB_DIR_TO_SERVER
#define S2C AB_DIR_TO_CLIENT
#define GAP 2 /* a step's dir: a gap of len bytes in direction data[0] - '0' */

typedef struct step {
    int dir;
    const char *data;
    size_t len; /* 0: strlen(data) */
} step;

static const char HELLO_SHA[] = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";

/* Feed n bytes in pieces (0: all at once); -1 as soon as the parser says so. */
static int feed(void *st, const ab_flow_ref *f, int dir, const uint8_t *p, size_t n, size_t piece,
                const ab_net_out *o)
{
    size_t step = piece ? piece : n;
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        if (ab_app_http.data(st, f, dir, p + i, k, o) != 0)
            return -1;
    }
    return 0;
}

/* Run the steps (then close); returns the first -1 seen or 0. */
static int run_lim(const step *s, size_t ns, size_t piece, const ab_net_limits *lim, nc *c)
{
    ab_flow_ref f = nc_flow();
    ab_net_out o = nc_out(c);
    void *st = ab_app_http.new_state(lim);
    assert_non_null(st);
    int r = 0;
    for (size_t i = 0; i < ns && r == 0; i++) {
        size_t n = s[i].len ? s[i].len : strlen(s[i].data);
        if (s[i].dir == GAP)
            r = ab_app_http.gap(st, &f, s[i].data[0] - '0', n, &o);
        else
            r = feed(st, &f, s[i].dir, (const uint8_t *)s[i].data, n, piece, &o);
    }
    ab_app_http.close(st, &f, &o);
    ab_app_http.free_state(st);
    return r;
}

static int run(const step *s, size_t ns, size_t piece, nc *c)
{
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    return run_lim(s, ns, piece, &lim, c);
}

#define RUN(steps, c) run(steps, sizeof(steps) / sizeof(steps[0]), 0, c)

/* The same events whatever the piece size. */
static void assert_piece_invariant(const step *s, size_t ns, const ab_net_limits *lim)
{
    nc whole, other;
    run_lim(s, ns, 0, lim, &whole);
    static const size_t pieces[] = {1, 2, 3, 7, 64};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        run_lim(s, ns, pieces[i], lim, &other);
        if (strcmp(whole.log ? whole.log : "", other.log ? other.log : "") != 0)
            fprintf(stderr, "piece %zu differs:\n%s\n---\n%s", pieces[i], whole.log, other.log);
        if (strcmp(whole.log ? whole.log : "", other.log ? other.log : "") != 0)
            fail_msg("piece %zu differs:\n%s\n---\n%s", pieces[i], whole.log, other.log);
        nc_free(&other);
    }
    nc_free(&whole);
}

/* Record i parsed back. */
static jc_val rec(const nc *c, size_t i)
{
    jc_val v;
    assert_true(i < c->n_rec);
    if (!jc_parse(c->rec[i], strlen(c->rec[i]), &v))
        fail_msg("record is not JSON: %s", c->rec[i]);
    return v;
}

static int64_t num(const jc_val *o, const char *key)
{
    const jc_val *v = jc_get(o, key);
    if (!v || v->type != JC_NUM)
        fail_msg("no number %s", key);
    return strtoll(v->str, NULL, 10);
}

static int has_true(const jc_val *o, const char *key)
{
    const jc_val *v = jc_get(o, key);
    return v && v->type == JC_BOOL && v->b;
}

static void assert_str(const jc_val *o, const char *key, const char *want)
{
    const char *got = jc_get_str(o, key);
    if (!got)
        fail_msg("no string %s", key);
    assert_string_equal(got, want);
}

/* ---- zlib made here ---- */

/* wbits: 16+15 gzip, 15 zlib, -15 raw deflate. Caller frees. */
static uint8_t *compress_bytes(const void *in, size_t n, int wbits, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    uint8_t *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* "HTTP/1.1 200 OK" with Content-Encoding ce and the body; caller frees. */
static char *response_with(const char *ce, const uint8_t *body, size_t n, size_t *len)
{
    char head[256];
    int k = snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
                     ce, n);
    char *r = malloc((size_t)k + n);
    memcpy(r, head, (size_t)k);
    memcpy(r + k, body, n);
    *len = (size_t)k + n;
    return r;
}

/* ---- tests ---- */

static const char GET_REQ[] = "GET /index.html?q=1 HTTP/1.1\r\nHost: Example.COM:8080\r\n"
                              "User-Agent: test/1.0\r\nReferer: http://ref.example/\r\n"
                              "Accept: */*\r\n\r\n";
static const char GET_RESP[] = "HTTP/1.1 200 OK\r\nServer: nginx\r\n"
                               "Content-Type: Text/HTML; charset=utf-8\r\n"
                               "Content-Length: 11\r\n\r\nhello world";

static void test_get(void **state)
{
    (void)state;
    nc c;
    step s[] = {{C2S, GET_REQ, 0}, {S2C, GET_RESP, 0}};
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_err, 0);
    assert_int_equal(c.n_rec, 1);
    assert_string_equal(
        c.rec[0],
        "{\"type\":\"http\",\"method\":\"GET\",\"host\":\"Example.COM:8080\",\"uri\":\"/"
        "index.html?q=1\",\"url\":\"http://example.com:8080/index.html?q=1\",\"version\":\"HTTP/"
        "1.1\",\"user_agent\":\"test/1.0\",\"referer\":\"http://ref.example/"
        "\",\"request_body_len\":0,\"status\":200,\"reason\":\"OK\",\"response_version\":"
        "\"HTTP/1.1\",\"server\":\"nginx\",\"content_type\":\"Text/HTML; "
        "charset=utf-8\",\"response_body_len\":11,\"response_body_sha256\":"
        "\"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\"}");
    assert_int_equal(c.n_obs, 3);
    assert_int_equal(nc_find_obs(&c, "domain", "http.host", "example.com"), 0);
    assert_int_equal(nc_find_obs(&c, "url", "http.url", "http://example.com:8080/index.html?q=1"),
                     1);
    assert_int_equal(nc_find_obs(&c, "url", "http.referer", "http://ref.example/"), 2);
    assert_int_equal(c.obs[0].dir, C2S);
    assert_int_equal(c.n_obj, 1);
    assert_string_equal(c.obj[0].name0, "GET /index.html?q=1");
    assert_string_equal(c.obj[0].name1, "response-body");
    assert_int_equal(c.obj[0].dir, S2C);
    assert_string_equal(c.obj[0].media, "text/html");
    assert_int_equal(c.obj[0].len, 11);
    assert_memory_equal(c.obj[0].data, "hello world", 11);
    assert_int_equal(c.obj[0].truncated, 0);
    nc_free(&c);
}

static void test_detect(void **state)
{
    (void)state;
    const ab_app_proto *p = &ab_app_http;
    assert_int_equal(p->detect((const uint8_t *)"GET / HTTP/1.1\r\n", 16, C2S), 1);
    assert_int_equal(p->detect((const uint8_t *)"PROPFIND /", 10, C2S), 1);
    assert_int_equal(p->detect((const uint8_t *)"GE", 2, C2S), -1);
    assert_int_equal(p->detect((const uint8_t *)"GET", 3, C2S), -1);
    assert_int_equal(p->detect((const uint8_t *)"GO /", 4, C2S), 0);         /* 2 letters */
    assert_int_equal(p->detect((const uint8_t *)"get / ", 6, C2S), 0);       /* lower case */
    assert_int_equal(p->detect((const uint8_t *)"\x16\x03\x01", 3, C2S), 0); /* TLS */
    assert_int_equal(p->detect((const uint8_t *)"ABCDEFGHIJKLMNOPQ ", 18, C2S), 0);
    assert_int_equal(p->detect((const uint8_t *)"HTTP/1.1 200", 12, S2C), 1);
    assert_int_equal(p->detect((const uint8_t *)"HTTP/", 5, S2C), -1);
    assert_int_equal(p->detect((const uint8_t *)"HTTP/2", 6, S2C), 0);
    assert_int_equal(p->detect((const uint8_t *)"SSH-2.0", 7, S2C), 0);
}

static void test_pipelined_head_204_304(void **state)
{
    (void)state;
    nc c;
    step s[] = {
        {C2S,
         "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n"
         "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
         "DELETE /c HTTP/1.1\r\nHost: h\r\n\r\n"
         "GET /d HTTP/1.1\r\nHost: h\r\n\r\n",
         0},
        {S2C,
         "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" /* HEAD: no body */
         "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
         "HTTP/1.1 204 No Content\r\n\r\n"
         "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
         0},
    };
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_err, 0);
    assert_int_equal(c.n_rec, 4);
    static const char *const methods[] = {"HEAD", "GET", "DELETE", "GET"};
    static const char *const uris[] = {"/a", "/b", "/c", "/d"};
    static const int status[] = {200, 304, 204, 200};
    static const int blen[] = {0, 0, 0, 3};
    for (size_t i = 0; i < 4; i++) {
        jc_val v = rec(&c, i);
        assert_str(&v, "method", methods[i]);
        assert_str(&v, "uri", uris[i]);
        assert_int_equal(num(&v, "status"), status[i]);
        assert_int_equal(num(&v, "response_body_len"), blen[i]);
        jc_free(&v);
    }
    assert_int_equal(c.n_obj, 1);
    assert_string_equal(c.obj[0].name0, "GET /d");
    assert_null(c.obj[0].has_media ? "media" : NULL);
    nc_free(&c);
}

static void test_pipeline_interleaved_and_full(void **state)
{
    (void)state;
    /* responses come while later requests are still being sent */
    nc c;
    step s[] = {
        {C2S, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\n", 0},
        {S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA", 0},
        {C2S, "Content-Length: 4\r\n\r\nbody", 0},
        {S2C, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 0},
    };
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_rec, 2);
    jc_val v = rec(&c, 1);
    assert_str(&v, "method", "POST");
    assert_int_equal(num(&v, "request_body_len"), 4);
    assert_int_equal(num(&v, "status"), 201);
    jc_free(&v);
    assert_int_equal(c.n_obj, 2);
    assert_string_equal(c.obj[1].name0, "POST /2");
    assert_string_equal(c.obj[1].name1, "request-body");
    nc_free(&c);

    /* 65 requests without an answer: the 65th is one too many */
    char big[65 * 40];
    size_t n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i);
    step s2[] = {{C2S, big, n}};
    assert_int_equal(RUN(s2, &c), 0);
    assert_int_equal(c.n_err, 1);
    assert_string_equal(c.err[0], "http: too many pipelined requests (client)");
    assert_int_equal(c.n_rec, HTTP_MAX_PIPELINE); /* unanswered, reported at close */
    v = rec(&c, 63);
    assert_str(&v, "uri", "/63");
    assert_null(jc_get(&v, "status"));
    jc_free(&v);
    nc_free(&c);
}

static void test_chunked(void **state)
{
    (void)state;
    nc c;
    step s[] = {
        {C2S,
         "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5;name=val;x=\"q\"\r\nhello\r\n6 ; ext\r\n world\r\n0\r\nX-Sum: 1\r\n"
         "X-Other: 2\r\n\r\n",
         0},
        {S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 0},
    };
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_err, 0);
    assert_int_equal(c.n_rec, 1);
    jc_val v = rec(&c, 0);
    assert_int_equal(num(&v, "request_body_len"), 11);
    assert_str(&v, "request_body_sha256", HELLO_SHA);
    assert_str(&v, "request_transfer_encoding", "chunked");
    assert_str(&v, "transfer_encoding", "gzip, chunked");
    assert_int_equal(num(&v, "response_body_len"), 0);
    jc_free(&v);
    assert_int_equal(c.n_obj, 1);
    assert_memory_equal(c.obj[0].data, "hello world", 11);

    /* bad chunk sizes stop the direction */
    static const char *const bad[] = {"zz\r\n", "\r\n", "10000000000000000\r\n", "5x\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        nc_free(&c);
        char req[200];
        snprintf(req, sizeof(req),
                 "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n%s", bad[i]);
        step s2[] = {{C2S, req, 0}};
        RUN(s2, &c);
        assert_int_equal(c.n_err, 1);
        assert_string_equal(c.err[0], "http: malformed chunk size (client)");
        assert_int_equal(c.n_rec, 1);
    }
    nc_free(&c);
    /* a chunk longer than it said */
    step s3[] = {{C2S,
                  "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0"
                  "\r\n\r\n",
                  0}};
    RUN(s3, &c);
    assert_int_equal(c.n_err, 1);
    assert_string_equal(c.err[0], "http: chunk data longer than its size (client)");
    nc_free(&c);
}

static void check_coded(const char *ce, int wbits)
{
    char plain[5000];
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (char)('a' + (i * 7 + i / 13) % 26);
    size_t zn, rn;
    uint8_t *z = compress_bytes(plain, sizeof(plain), wbits, &zn);
    char *resp = response_with(ce, z, zn, &rn);
    char want[65];
    nc_sha256(plain, sizeof(plain), want);
    nc c;
    step s[] = {{C2S, "GET /z HTTP/1.1\r\nHost: h\r\n\r\n", 0}, {S2C, resp, rn}};
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_rec, 1);
    jc_val v = rec(&c, 0);
    assert_int_equal(num(&v, "response_body_len"), sizeof(plain));
    assert_str(&v, "response_body_sha256", want);
    assert_str(&v, "content_encoding", ce);
    assert_null(jc_get(&v, "response_decode_error"));
    jc_free(&v);
    assert_int_equal(c.n_obj, 1);
    assert_int_equal(c.obj[0].len, sizeof(plain));
    assert_memory_equal(c.obj[0].data, plain, sizeof(plain));
    assert_string_equal(c.obj[0].media, "application/octet-stream");
    nc_free(&c);

    ab_net_limits lim;
    ab_net_limits_default(&lim);
    assert_piece_invariant(s, 2, &lim);
    lim.max_body = 100; /* kept bytes cut, hash over all */
    run_lim(s, 2, 0, &lim, &c);
    v = rec(&c, 0);
    assert_int_equal(num(&v, "response_body_len"), sizeof(plain));
    assert_str(&v, "response_body_sha256", want);
    assert_true(has_true(&v, "response_body_truncated"));
    jc_free(&v);
    assert_int_equal(c.obj[0].len, 100);
    assert_int_equal(c.obj[0].truncated, 1);
    assert_memory_equal(c.obj[0].data, plain, 100);
    nc_free(&c);

    /* the stream cut in the middle: what decoded is kept, and said */
    char *cut = response_with(ce, z, zn / 2, &rn);
    step s2[] = {{C2S, "GET /z HTTP/1.1\r\nHost: h\r\n\r\n", 0}, {S2C, cut, rn}};
    assert_int_equal(RUN(s2, &c), 0);
    v = rec(&c, 0);
    assert_str(&v, "response_decode_error", "compressed data ends early");
    int64_t got = num(&v, "response_body_len");
    assert_true(got > 0 && got < (int64_t)sizeof(plain));
    jc_free(&v);
    assert_memory_equal(c.obj[0].data, plain, c.obj[0].len);
    nc_free(&c);
    free(cut);
    free(resp);
    free(z);
}

static void test_gzip(void **state)
{
    (void)state;
    check_coded("gzip", 16 + 15);
    check_coded("x-gzip", 16 + 15);
}

static void test_deflate_zlib_and_raw(void **state)
{
    (void)state;
    check_coded("deflate", 15);
    check_coded("deflate", -15);
}

static void test_corrupt_and_unsupported(void **state)
{
    (void)state;
    nc c;
    size_t rn;
    char *resp =
        response_with("gzip", (const uint8_t *)"\x1f\x8b\x08\0\0\0\0\0\0\x03\xff\xff\xff", 13, &rn);
    step s[] = {{C2S, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0}, {S2C, resp, rn}};
    assert_int_equal(RUN(s, &c), 0);
    jc_val v = rec(&c, 0);
    assert_str(&v, "response_decode_error", "corrupt compressed data");
    assert_int_equal(num(&v, "response_body_len"), 0);
    jc_free(&v);
    assert_int_equal(c.n_obj, 0);
    nc_free(&c);
    free(resp);

    resp = response_with("br", (const uint8_t *)"raw", 3, &rn);
    step s2[] = {{C2S, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0}, {S2C, resp, rn}};
    assert_int_equal(RUN(s2, &c), 0);
    v = rec(&c, 0);
    assert_int_equal(num(&v, "response_body_len"), 3);
    const jc_val *a = jc_get(&v, "anomalies");
    assert_non_null(a);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->kids[0].str, "unsupported_content_encoding");
    jc_free(&v);
    assert_memory_equal(c.obj[0].data, "raw", 3);
    nc_free(&c);
    free(resp);
}

static void test_gzip_bomb(void **state)
{
    (void)state;
    size_t big = (size_t)64 << 20; /* 64 MiB of zeros: ~64 KiB of gzip */
    uint8_t *zeros = calloc(1, big);
    size_t zn, rn;
    uint8_t *z = compress_bytes(zeros, big, 16 + 15, &zn);
    free(zeros);
    char *resp = response_with("gzip", z, zn, &rn);
    nc c;
    step s[] = {{C2S, "GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n", 0},
                {S2C, resp, rn},
                {C2S, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n", 0},
                {S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0}};
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    assert_int_equal(run_lim(s, 4, 0, &lim, &c), 0);
    assert_int_equal(c.n_rec, 2);
    jc_val v = rec(&c, 0);
    assert_str(&v, "response_decode_error", "decompression ratio limit");
    int64_t got = num(&v, "response_body_len");
    assert_true(got > (int64_t)lim.max_body && got < (int64_t)lim.max_body * 2);
    assert_true(has_true(&v, "response_body_truncated"));
    jc_free(&v);
    assert_int_equal(c.obj[0].len, lim.max_body);
    assert_int_equal(c.obj[0].truncated, 1);
    v = rec(&c, 1); /* the framing went on: the next transaction is whole */
    assert_str(&v, "uri", "/next");
    assert_int_equal(num(&v, "response_body_len"), 2);
    jc_free(&v);
    nc_free(&c);
    free(resp);
    free(z);
}

static void test_piece_invariance(void **state)
{
    (void)state;
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    char body[3000];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (char)(i * 31 + 7);
    char resp[3200];
    int k = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                     sizeof(body));
    memcpy(resp + k, body, sizeof(body));
    step s[] = {
        {C2S, GET_REQ, 0},
        {S2C, GET_RESP, 0},
        {C2S,
         "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
         "PUT /q HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3;a=b\r\nabc\r\n0\r\nT: 1\r\n\r\n",
         0},
        {S2C, resp, (size_t)k + sizeof(body)},
        {S2C,
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /x\r\n"
         "Transfer-Encoding: chunked\r\n\r\n4\r\nmove\r\n0\r\n\r\n",
         0},
        {C2S, "GET /close HTTP/1.0\r\nHost: h\r\n\r\n", 0},
        {S2C, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", 0},
    };
    assert_piece_invariant(s, sizeof(s) / sizeof(s[0]), &lim);
    nc c;
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_err, 0);
    assert_int_equal(c.n_rec, 4);
    jc_val v = rec(&c, 2);
    assert_str(&v, "method", "PUT");
    assert_int_equal(num(&v, "status"), 302);
    assert_str(&v, "location", "/x");
    jc_free(&v);
    v = rec(&c, 1);
    char want[65];
    nc_sha256(body, sizeof(body), want);
    assert_str(&v, "response_body_sha256", want);
    jc_free(&v);
    assert_true(nc_find_obs(&c, "url", "http.location", "http://h/x") >= 0);
    v = rec(&c, 3);
    assert_int_equal(num(&v, "response_body_len"), 13);
    assert_null(jc_get(&v, "response_body_incomplete"));
    jc_free(&v);
    nc_free(&c);
}

static void test_close_delimited(void **state)
{
    (void)state;
    nc c;
    step s[] = {{C2S, "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n", 0},
                {S2C, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello ", 0},
                {S2C, "world", 0}};
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_rec, 1);
    jc_val v = rec(&c, 0);
    assert_int_equal(num(&v, "response_body_len"), 11);
    assert_str(&v, "response_body_sha256", HELLO_SHA);
    assert_null(jc_get(&v, "response_body_incomplete"));
    jc_free(&v);
    assert_memory_equal(c.obj[0].data, "hello world", 11);
    nc_free(&c);

    /* a Content-Length body cut by the end of the flow is incomplete */
    step s2[] = {{C2S, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0},
                 {S2C, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello world", 0}};
    assert_int_equal(RUN(s2, &c), 0);
    v = rec(&c, 0);
    assert_int_equal(num(&v, "response_body_len"), 11);
    assert_true(has_true(&v, "response_body_incomplete"));
    jc_free(&v);
    nc_free(&c);
}

static void test_continue_and_connect(void **state)
{
    (void)state;
    nc c;
    step s[] = {{C2S,
                 "POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                 "Content-Length: 5\r\n\r\n",
                 0},
                {S2C, "HTTP/1.1 100 Continue\r\nServer: interim\r\n\r\n", 0},
                {C2S, "12345", 0},
                {S2C, "HTTP/1.1 200 OK\r\nServer: final\r\nContent-Length: 0\r\n\r\n", 0}};
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_rec, 1);
    jc_val v = rec(&c, 0);
    assert_int_equal(num(&v, "status"), 200);
    assert_str(&v, "server", "final");
    assert_int_equal(num(&v, "request_body_len"), 5);
    jc_free(&v);
    nc_free(&c);

    step s2[] = {{C2S, "CONNECT evil.example:443 HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 0},
                 {S2C, "HTTP/1.1 200 Connection established\r\n\r\n", 0},
                 {C2S, "\x16\x03\x01\x02\x00", 5}};
    assert_int_equal(RUN(s2, &c), -1);
    assert_int_equal(c.n_err, 0);
    assert_int_equal(c.n_rec, 1);
    v = rec(&c, 0);
    assert_str(&v, "method", "CONNECT");
    assert_str(&v, "uri", "evil.example:443");
    assert_true(has_true(&v, "tunnel"));
    jc_free(&v);
    assert_true(nc_find_obs(&c, "domain", "http.host", "evil.example") >= 0);
    nc_free(&c);

    /* refused: the client goes on with HTTP */
    step s3[] = {{C2S, "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 0},
                 {S2C, "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\n", 0},
                 {C2S, "GET /x HTTP/1.1\r\nHost: b\r\n\r\n", 0},
                 {S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0}};
    assert_int_equal(RUN(s3, &c), 0);
    assert_int_equal(c.n_rec, 2);
    assert_int_equal(c.n_err, 0);
    nc_free(&c);

    /* 101 Switching Protocols */
    step s4[] = {
        {C2S, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", 0},
        {S2C, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05", 0}};
    assert_int_equal(RUN(s4, &c), -1);
    v = rec(&c, 0);
    assert_int_equal(num(&v, "status"), 101);
    assert_true(has_true(&v, "tunnel"));
    jc_free(&v);
    nc_free(&c);
}

static void test_observables(void **state)
{
    (void)state;
    nc c;
    step s[] = {
        {C2S,
         "GET http://Proxy.Example/abs?x HTTP/1.1\r\nUser-Agent: a\r\n b\r\n\r\n"
         "GET /v6 HTTP/1.1\r\nHost: [2001:DB8::1]:8080\r\n\r\n"
         "GET /v4 HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n\r\n"
         "GET /bad HTTP/1.1\r\nHost: a b\r\n\r\n",
         0},
        {S2C,
         "HTTP/1.1 301 Moved\r\nLocation: https://new.example/p\r\nContent-Length: 0\r\n\r\n"
         "HTTP/1.1 302 Found\r\nLocation: //cdn.example/q\r\nContent-Length: 0\r\n\r\n"
         "HTTP/1.1 200 OK\r\nLocation: /ignored\r\nContent-Length: 0\r\n\r\n"
         "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
         0}};
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_rec, 4);
    assert_true(nc_find_obs(&c, "domain", "http.host", "proxy.example") >= 0);
    assert_true(nc_find_obs(&c, "url", "http.url", "http://Proxy.Example/abs?x") >= 0);
    assert_true(nc_find_obs(&c, "ip", "http.host", "2001:db8::1") >= 0);
    assert_true(nc_find_obs(&c, "ip", "http.host", "10.0.0.1") >= 0);
    assert_true(nc_find_obs(&c, "url", "http.url", "http://10.0.0.1:8080/v4") >= 0);
    assert_true(nc_find_obs(&c, "url", "http.location", "https://new.example/p") >= 0);
    assert_true(nc_find_obs(&c, "url", "http.location", "http://cdn.example/q") >= 0);
    for (size_t i = 0; i < c.n_obs; i++) {
        assert_true(strstr(c.obs[i].value, "ignored") == NULL);
        assert_true(strstr(c.obs[i].value, "a b") == NULL);
    }
    jc_val v = rec(&c, 0);
    assert_str(&v, "user_agent", "a b");
    assert_null(jc_get(&v, "host"));
    const jc_val *a = jc_get(&v, "anomalies");
    assert_non_null(a);
    assert_int_equal(a->n, 2);
    assert_string_equal(a->kids[0].str, "obs_fold");
    assert_string_equal(a->kids[1].str, "missing_host");
    jc_free(&v);
    nc_free(&c);
}

static void test_malformed_and_limits(void **state)
{
    (void)state;
    nc c;
    static const char *const bad[] = {"GET\r\n",
                                      "GET /\r\n",
                                      "GET / HTTP/x.1\r\n",
                                      "GET / FTP/1.0\r\n",
                                      "TOOLONGMETHODNAMEXX / HTTP/1.1\r\n",
                                      "G@T / HTTP/1.1\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        step s[] = {{C2S, bad[i], 0}, {S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0}};
        assert_int_equal(RUN(s, &c), 0);
        assert_int_equal(c.n_err, 1);
        assert_string_equal(c.err[0], "http: malformed request line (client)");
        assert_int_equal(c.n_rec, 1); /* the response, without a request */
        jc_val v = rec(&c, 0);
        assert_null(jc_get(&v, "method"));
        assert_int_equal(num(&v, "status"), 200);
        jc_free(&v);
        nc_free(&c);
    }
    step h2[] = {{C2S, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0}};
    RUN(h2, &c);
    assert_string_equal(c.err[0], "http: HTTP/2, not HTTP/1 (client)");
    nc_free(&c);
    step st[] = {{S2C, "HTTP/1.1 2000 OK\r\n\r\n", 0}};
    RUN(st, &c);
    assert_string_equal(c.err[0], "http: malformed status line (server)");
    nc_free(&c);
    /* both directions broken: -1 */
    step both[] = {{C2S, "GET\r\n", 0}, {S2C, "XTTP/1.1 200 OK\r\n", 0}};
    assert_int_equal(RUN(both, &c), -1);
    nc_free(&c);

    ab_net_limits lim;
    ab_net_limits_default(&lim);
    lim.max_headers = 3;
    step hdrs[] = {{C2S, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 0}};
    run_lim(hdrs, 1, 0, &lim, &c);
    assert_int_equal(c.n_err, 1);
    assert_string_equal(c.err[0], "http: too many header fields (client)");
    nc_free(&c);
    lim.max_headers = 4;
    run_lim(hdrs, 1, 0, &lim, &c);
    assert_int_equal(c.n_err, 0);
    nc_free(&c);

    lim.max_line = 40;
    step line[] = {
        {C2S, "GET / HTTP/1.1\r\nX: 0123456789012345678901234567890123456789\r\n\r\n", 0}};
    for (size_t piece = 0; piece < 3; piece++) {
        run_lim(line, 1, piece, &lim, &c);
        assert_int_equal(c.n_err, 1);
        assert_string_equal(c.err[0], "http: line longer than max_line (client)");
        nc_free(&c);
    }

    /* request framing the parser cannot trust */
    static const char *const frames[] = {
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\n 6\r\n\r\n"};
    static const char *const why[] = {
        "http: bad Content-Length (client)", "http: bad Content-Length (client)",
        "http: request Transfer-Encoding does not end in chunked (client)",
        "http: folded Content-Length or Transfer-Encoding (client)"};
    for (size_t i = 0; i < 4; i++) {
        step s[] = {{C2S, frames[i], 0}};
        RUN(s, &c);
        assert_int_equal(c.n_err, 1);
        assert_string_equal(c.err[0], why[i]);
        nc_free(&c);
    }
    /* same Content-Length twice, and CL with TE: TE wins */
    step dup[] = {{C2S,
                   "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"
                   "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                   0}};
    RUN(dup, &c);
    assert_int_equal(c.n_err, 0);
    assert_int_equal(c.n_rec, 2);
    jc_val v = rec(&c, 1);
    assert_int_equal(num(&v, "request_body_len"), 2);
    assert_string_equal(jc_get(&v, "anomalies")->kids[0].str, "cl_and_te");
    jc_free(&v);
    nc_free(&c);
}

static void test_max_tx(void **state)
{
    (void)state;
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    lim.max_tx = 2;
    nc c;
    step s[] = {{C2S, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 0},
                {S2C, "HTTP/1.1 204 A\r\n\r\nHTTP/1.1 204 B\r\n\r\nHTTP/1.1 204 C\r\n\r\n", 0}};
    assert_int_equal(run_lim(s, 2, 0, &lim, &c), -1);
    assert_int_equal(c.n_rec, 2);
    assert_int_equal(c.n_err, 1);
    assert_string_equal(c.err[0], "http: transaction limit (max_tx) reached");
    nc_free(&c);
}

static void test_gaps(void **state)
{
    (void)state;
    nc c;
    /* a gap inside a Content-Length body: that body ends, the next message is read */
    step s[] = {{C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 0},
                {S2C, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nhello", 0},
                {GAP, "1", 10},
                {S2C, "ZZZZZ", 0},
                {S2C, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", 0}};
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_err, 0);
    assert_int_equal(c.n_rec, 2);
    jc_val v = rec(&c, 0);
    assert_int_equal(num(&v, "response_body_len"), 5);
    assert_true(has_true(&v, "response_body_incomplete"));
    jc_free(&v);
    v = rec(&c, 1);
    assert_str(&v, "response_body_sha256", HELLO_SHA);
    assert_null(jc_get(&v, "response_body_incomplete"));
    jc_free(&v);
    assert_int_equal(c.n_obj, 2);
    assert_memory_equal(c.obj[0].data, "hello", 5);
    nc_free(&c);

    /* inside one chunk: the chunked framing goes on */
    step ch[] = {{C2S, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0},
                 {S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nabc", 0},
                 {GAP, "1", 3},
                 {S2C, "defg\r\n3\r\nxyz\r\n0\r\n\r\n", 0}};
    assert_int_equal(RUN(ch, &c), 0);
    assert_int_equal(c.n_err, 0);
    v = rec(&c, 0);
    assert_int_equal(num(&v, "response_body_len"), 3);
    assert_true(has_true(&v, "response_body_incomplete"));
    jc_free(&v);
    nc_free(&c);

    /* past the body, or in headers: the direction stops */
    step past[] = {{C2S, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0},
                   {S2C, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 0},
                   {GAP, "1", 100}};
    assert_int_equal(RUN(past, &c), 0);
    assert_int_equal(c.n_err, 1);
    assert_string_equal(c.err[0], "http: gap past the end of a body (server)");
    nc_free(&c);
    step hdr[] = {{C2S, "GET / HTTP/1.1\r\nHo", 0}, {GAP, "0", 10}};
    assert_int_equal(RUN(hdr, &c), 0);
    assert_string_equal(c.err[0], "http: gap outside a body (client)");
    assert_int_equal(c.n_rec, 1); /* the cut request, at close */
    nc_free(&c);

    /* a close-delimited body: ends at the gap, the rest is ignored */
    step cl[] = {{C2S, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0},
                 {S2C, "HTTP/1.1 200 OK\r\n\r\nabc", 0},
                 {GAP, "1", 1000},
                 {S2C, "more", 0}};
    assert_int_equal(RUN(cl, &c), 0);
    assert_int_equal(c.n_err, 0);
    v = rec(&c, 0);
    assert_int_equal(num(&v, "response_body_len"), 3);
    assert_true(has_true(&v, "response_body_incomplete"));
    jc_free(&v);
    nc_free(&c);
}

static void test_names_and_bytes(void **state)
{
    (void)state;
    nc c;
    char req[600];
    char target[400];
    memset(target, 'a', sizeof(target) - 1);
    target[0] = '/';
    target[sizeof(target) - 1] = '\0';
    snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx", target);
    step s[] = {{C2S, req, 0}, {S2C, "HTTP/1.1 200 \xff\xfe\r\nContent-Length: 1\r\n\r\ny", 0}};
    assert_int_equal(RUN(s, &c), 0);
    assert_int_equal(c.n_obj, 2);
    assert_int_equal(strlen(c.obj[0].name0), 5 + HTTP_NAME_TARGET);
    assert_memory_equal(c.obj[0].name0, "POST /aaa", 9);
    jc_val v = rec(&c, 0);
    assert_int_equal(strlen(jc_get_str(&v, "uri")), sizeof(target) - 1);
    assert_non_null(jc_get(&v, "reason_b64")); /* not UTF-8: the exact bytes too */
    jc_free(&v);
    nc_free(&c);

    /* a response with no request seen */
    step lone[] = {{S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 0}};
    assert_int_equal(RUN(lone, &c), 0);
    assert_int_equal(c.n_obj, 1);
    assert_string_equal(c.obj[0].name0, "(no request)");
    assert_string_equal(c.rec[0], "{\"type\":\"http\",\"status\":200,\"reason\":\"OK\","
                                  "\"response_version\":\"HTTP/1.1\",\"response_body_len\":2,"
                                  "\"response_body_sha256\":"
                                  "\"8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327a"
                                  "a4\"}");
    nc_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_pipelined_head_204_304),
        cmocka_unit_test(test_pipeline_interleaved_and_full),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_deflate_zlib_and_raw),
        cmocka_unit_test(test_corrupt_and_unsupported),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_piece_invariance),
        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_continue_and_connect),
        cmocka_unit_test(test_observables),
        cmocka_unit_test(test_malformed_and_limits),
        cmocka_unit_test(test_max_tx),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_names_and_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
