/* test_mspack.c: the libmspack sources (src/unpack/mspack.c): CHM members and their paths,
 * SZDD/KWAJ members and their names, corrupt input (one error, no crash), the member cap, the
 * allocation cap and the read cap. Inputs are built here; the LZX CHM compiled by chmcmd is read
 * from the fuzz seed corpus when MSPACK_SEEDS names it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "antibody/antibody.h"
#include "unpack/unpack.h"

#define MARKER "ANTIBODY-MSPACK-TEST-PAGE"
#define CHUNK  4096

/* ---- what a source yielded ---- */

#define MAX_GOT 8
typedef struct got {
    size_t n;
    char name[MAX_GOT][128];
    uint8_t *data[MAX_GOT]; /* owned */
    size_t size[MAX_GOT];
} got;

static int collect(void *ctx, const ab_member *m)
{
    got *g = ctx;
    if (g->n < MAX_GOT) {
        snprintf(g->name[g->n], sizeof(g->name[g->n]), "%s", m->name);
        g->data[g->n] = malloc(m->size + 1);
        assert_non_null(g->data[g->n]);
        if (m->size)
            memcpy(g->data[g->n], m->data, m->size);
        g->size[g->n] = m->size;
    }
    g->n++;
    return 0;
}

static void got_free(got *g)
{
    for (size_t i = 0; i < g->n && i < MAX_GOT; i++)
        free(g->data[i]);
    memset(g, 0, sizeof(*g));
}

static int has(const got *g, size_t i, const char *name, const void *data, size_t size)
{
    return i < g->n && !strcmp(g->name[i], name) && g->size[i] == size &&
           !memcmp(g->data[i], data, size);
}

/* ---- builders ---- */

typedef struct buf {
    uint8_t *p; /* owned */
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put8(buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put16(buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void put32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put64(buf *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static void encint(buf *b, uint64_t v)
{
    uint8_t t[10];
    int n = 0;
    t[n++] = v & 0x7f;
    while (v >>= 7)
        t[n++] = 0x80 | (v & 0x7f);
    while (n--)
        put8(b, t[n]);
}

typedef struct chm_entry {
    const char *name;
    uint64_t off, len; /* in section 0 */
} chm_entry;

static const uint8_t guid1[16] = {0x10, 0xfd, 0x01, 0x7c, 0xaa, 0x7b, 0xd0, 0x11,
                                  0x9e, 0x0c, 0x00, 0xa0, 0xc9, 0x22, 0xe6, 0xec};
static const uint8_t guid2[16] = {0x11, 0xfd, 0x01, 0x7c, 0xaa, 0x7b, 0xd0, 0x11,
                                  0x9e, 0x0c, 0x00, 0xa0, 0xc9, 0x22, 0xe6, 0xec};

/* An ITSF v3 file as tests/fixtures/gen_mspack.py writes it: nchunks PMGL chunks; chunk c lists
 * entries [per*c, per*(c+1)). content is section 0. */
static buf chm_build(const chm_entry *e, size_t n, size_t per, const void *content, size_t clen)
{
    size_t nchunks = (n + per - 1) / per;
    if (!nchunks)
        nchunks = 1;
    buf b = {0};
    uint64_t hs0 = 0x60, hs1 = hs0 + 0x18, dirlen = 0x54 + (uint64_t)CHUNK * nchunks;
    uint64_t cs0 = hs1 + dirlen, total = cs0 + clen;
    put(&b, "ITSF", 4);
    put32(&b, 3);
    put32(&b, 0x60);
    put32(&b, 1);
    put32(&b, 0x78563412);
    put32(&b, 0x409);
    put(&b, guid1, 16);
    put(&b, guid2, 16);
    put64(&b, hs0);
    put64(&b, 0x18);
    put64(&b, hs1);
    put64(&b, dirlen);
    put64(&b, cs0);
    put32(&b, 0x1fe); /* header section 0 */
    put32(&b, 0);
    put64(&b, total);
    put32(&b, 0);
    put32(&b, 0);
    put(&b, "ITSP", 4); /* header section 1 */
    put32(&b, 1);
    put32(&b, 0x54);
    put32(&b, 10);
    put32(&b, CHUNK);
    put32(&b, 2);
    put32(&b, 1);
    put32(&b, 0xffffffff);
    put32(&b, 0);
    put32(&b, (uint32_t)nchunks - 1);
    put32(&b, 0xffffffff);
    put32(&b, (uint32_t)nchunks);
    put32(&b, 0x409);
    static const uint8_t itsp[16] = {0x6a, 0x92, 0x02, 0x5d, 0x2e, 0x21, 0xd0, 0x11,
                                     0x9d, 0xf9, 0x00, 0xa0, 0xc9, 0x22, 0xe6, 0xec};
    put(&b, itsp, 16);
    put32(&b, 0x54);
    put32(&b, 0xffffffff);
    put32(&b, 0xffffffff);
    put32(&b, 0xffffffff);
    for (size_t c = 0; c < nchunks; c++) {
        buf body = {0};
        size_t k = 0;
        for (size_t i = c * per; i < n && i < (c + 1) * per; i++, k++) {
            size_t len = strlen(e[i].name);
            encint(&body, len);
            put(&body, e[i].name, len);
            encint(&body, 0);
            encint(&body, e[i].off);
            encint(&body, e[i].len);
        }
        assert_true(0x14 + body.n + 2 <= CHUNK);
        size_t start = b.n;
        put(&b, "PMGL", 4);
        put32(&b, (uint32_t)(CHUNK - 0x14 - body.n));
        put32(&b, 0);
        put32(&b, 0xffffffff);
        put32(&b, 0xffffffff);
        if (body.n)
            put(&b, body.p, body.n);
        while (b.n < start + CHUNK - 2)
            put8(&b, 0);
        put16(&b, (uint16_t)k);
        free(body.p);
    }
    if (clen)
        put(&b, content, clen);
    assert_int_equal(b.n, total);
    return b;
}

/* The SZDD/KWAJ LZSS stream of d with no matches: 0xFF before every 8 literals. */
static void lzss_literals(buf *b, const void *d, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        put8(b, 0xff);
        put(b, (const uint8_t *)d + i, n - i < 8 ? n - i : 8);
    }
}

static buf szdd_build(const void *d, size_t n, char missing)
{
    buf b = {0};
    put(&b, "SZDD\x88\xf0\x27\x33", 8);
    put8(&b, 'A');
    put8(&b, (uint8_t)missing);
    put32(&b, (uint32_t)n);
    lzss_literals(&b, d, n);
    return b;
}

static buf kwaj_build(int method, const void *d, size_t n, const char *name, const char *ext)
{
    buf opt = {0}, b = {0};
    uint16_t flags = 0x01;
    put32(&opt, (uint32_t)n);
    if (name) {
        flags |= 0x08;
        put(&opt, name, strlen(name) + 1);
    }
    if (ext) {
        flags |= 0x10;
        put(&opt, ext, strlen(ext) + 1);
    }
    put(&b, "KWAJ\x88\xf0\x27\xd1", 8);
    put16(&b, (uint16_t)method);
    put16(&b, (uint16_t)(14 + opt.n));
    put16(&b, flags);
    put(&b, opt.p, opt.n);
    free(opt.p);
    if (method == 2) {
        lzss_literals(&b, d, n);
    } else {
        for (size_t i = 0; i < n; i++)
            put8(&b, method == 1 ? ((const uint8_t *)d)[i] ^ 0xff : ((const uint8_t *)d)[i]);
    }
    return b;
}

static const char page[] = "<html><body>Verify your account " MARKER "</body></html>\n";
static const char index_html[] = "<html><body><h1>Help</h1></body></html>\n";

static buf help_chm(void)
{
    char content[256];
    size_t a = strlen(index_html), p = strlen(page);
    memcpy(content, index_html, a);
    memcpy(content + a, page, p);
    memcpy(content + a + p, "MZ", 2);
    chm_entry e[] = {{"/index.html", 0, a}, {"/page.html", a, p}, {"/tools/a.exe", a + p, 2}};
    return chm_build(e, 3, 100, content, a + p + 2);
}

/* ---- tests ---- */

static void test_claims(void **state)
{
    (void)state;
    buf c = help_chm();
    assert_true(ab_source_chm.claims(c.p, c.n));
    assert_false(ab_source_szdd.claims(c.p, c.n));
    c.p[4] = 9; /* unknown version */
    assert_false(ab_source_chm.claims(c.p, c.n));
    assert_false(ab_source_chm.claims(c.p, 0x20));
    free(c.p);
    buf s = szdd_build("x", 1, 'e');
    assert_true(ab_source_szdd.claims(s.p, s.n));
    assert_false(ab_source_kwaj.claims(s.p, s.n));
    free(s.p);
    buf k = kwaj_build(0, "x", 1, NULL, NULL);
    assert_true(ab_source_kwaj.claims(k.p, k.n));
    assert_false(ab_source_chm.claims(k.p, k.n));
    free(k.p);
    static const uint8_t cab[] = "MSCF\0\0\0\0\x40\0\0\0\0\0\0\0";
    assert_false(ab_source_chm.claims(cab, sizeof(cab)) ||
                 ab_source_szdd.claims(cab, sizeof(cab)) ||
                 ab_source_kwaj.claims(cab, sizeof(cab)));
    assert_string_equal(ab_source_chm.name, "chm");
    assert_string_equal(ab_source_chm.parent, "CHM");
    assert_string_equal(ab_source_szdd.name, "szdd");
    assert_string_equal(ab_source_kwaj.parent, "KWAJ");
}

static void test_chm_members(void **state)
{
    (void)state;
    buf c = help_chm();
    got g = {0};
    ab_unpack_counts n;
    assert_int_equal(ab_unpack_run_source(&ab_source_chm, c.p, c.n, NULL, NULL, 0, collect, &g, &n),
                     AB_OK);
    assert_int_equal(n.errors, 0);
    assert_int_equal(g.n, 3);
    assert_true(has(&g, 0, "/index.html", index_html, strlen(index_html)));
    assert_true(has(&g, 1, "/page.html", page, strlen(page)));
    assert_true(has(&g, 2, "/tools/a.exe", "MZ", 2));
    got_free(&g);
    free(c.p);
}

/* The chmcmd seed: LZX section 1, and a second header GUID libmspack alone would refuse. */
static void test_chm_lzx(void **state)
{
    (void)state;
    const char *dir = getenv("MSPACK_SEEDS");
    if (!dir)
        skip();
    char path[4096];
    snprintf(path, sizeof(path), "%s/help_lzx.chm", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t data[64 << 10];
    size_t n = fread(data, 1, sizeof(data), f);
    fclose(f);
    got g = {0};
    ab_unpack_counts cnt;
    assert_int_equal(
        ab_unpack_run_source(&ab_source_chm, data, n, NULL, NULL, 0, collect, &g, &cnt), AB_OK);
    assert_int_equal(cnt.errors, 0);
    int page_found = 0;
    for (size_t i = 0; i < g.n && i < MAX_GOT; i++)
        if (!strcmp(g.name[i], "/page.html") &&
            memmem(g.data[i], g.size[i], MARKER, strlen(MARKER)))
            page_found = 1;
    assert_true(page_found);
    got_free(&g);
}

static void test_szdd_kwaj(void **state)
{
    (void)state;
    got g = {0};
    ab_unpack_counts n;
    buf s = szdd_build(page, strlen(page), 'e');
    assert_int_equal(
        ab_unpack_run_source(&ab_source_szdd, s.p, s.n, NULL, NULL, 0, collect, &g, &n), AB_OK);
    assert_int_equal(g.n, 1);
    assert_true(has(&g, 0, "buffer", page, strlen(page))); /* no '_' to restore */
    got_free(&g);
    free(s.p);
    for (int method = 0; method <= 2; method++) {
        buf k = kwaj_build(method, page, strlen(page), method ? NULL : "readme", "txt");
        assert_int_equal(
            ab_unpack_run_source(&ab_source_kwaj, k.p, k.n, NULL, NULL, 0, collect, &g, &n), AB_OK);
        assert_int_equal(n.errors, 0);
        assert_int_equal(g.n, 1);
        assert_true(has(&g, 0, method ? ".txt" : "readme.txt", page, strlen(page)));
        got_free(&g);
        free(k.p);
    }
    buf k = kwaj_build(1, page, strlen(page), NULL, NULL);
    assert_int_equal(
        ab_unpack_run_source(&ab_source_kwaj, k.p, k.n, NULL, NULL, 0, collect, &g, &n), AB_OK);
    assert_true(has(&g, 0, "buffer", page, strlen(page))); /* no name in the header */
    got_free(&g);
    free(k.p);
}

/* ---- through the engine: location chains and the SZDD missing character ---- */

typedef struct hit {
    int findings, errors;
    char loc[4][128], src[4][16];
    size_t len;
} hit;

static int sink(void *ctx, const ab_event *ev)
{
    hit *h = ctx;
    if (ev->kind == AB_EVENT_ERROR)
        h->errors++;
    if (ev->kind != AB_EVENT_FINDING)
        return 0;
    const ab_finding *f = &ev->u.finding;
    if (f->obj.location_len < 2)
        return 0; /* the container itself */
    h->findings++;
    h->len = f->obj.location_len;
    for (size_t i = 0; i < h->len && i < 4; i++) {
        snprintf(h->loc[i], sizeof(h->loc[i]), "%s", f->obj.location[i]);
        snprintf(h->src[i], sizeof(h->src[i]), "%s",
                 f->obj.location_source ? f->obj.location_source[i] : "");
    }
    return 0;
}

static void diag(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    (void)ctx;
    (void)level;
    (void)where;
    (void)msg;
}

static ab_scanner *scanner(void)
{
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(
        ab_scanner_add_rules_string(sc, "rule page { strings: $a = \"" MARKER "\" condition: $a }",
                                    "t.yar", "t", diag, NULL),
        AB_OK);
    assert_int_equal(ab_scanner_compile(sc, diag, NULL), AB_OK);
    return sc;
}

static void test_engine_locations(void **state)
{
    (void)state;
    ab_scanner *sc = scanner();
    /* The CHM stores its page as is, so the container matches too: the sink counts members only. */
    buf c = help_chm();
    hit h = {0};
    ab_sink s = {sink, &h};
    assert_int_equal(ab_scan_buffer(sc, c.p, c.n, "dir/help.chm", &s), AB_OK);
    assert_int_equal(h.findings, 1);
    assert_int_equal(h.len, 2);
    assert_string_equal(h.loc[1], "/page.html");
    assert_string_equal(h.src[1], "chm");
    free(c.p);

    memset(&h, 0, sizeof(h));
    buf z = szdd_build(page, strlen(page), 'e');
    assert_int_equal(ab_scan_buffer(sc, z.p, z.n, "dir/setup.ex_", &s), AB_OK);
    assert_int_equal(h.findings, 1);
    assert_string_equal(h.loc[1], "setup.exe");
    assert_string_equal(h.src[1], "szdd");
    free(z.p);

    memset(&h, 0, sizeof(h));
    buf k = kwaj_build(1, page, strlen(page), "notes", "htm");
    assert_int_equal(ab_scan_buffer(sc, k.p, k.n, "dir/x.kwj", &s), AB_OK);
    assert_int_equal(h.findings, 1);
    assert_string_equal(h.loc[1], "notes.htm");
    assert_string_equal(h.src[1], "kwaj");
    free(k.p);
    ab_scanner_free(sc);
}

/* ---- hostile input ---- */

static void test_corrupt(void **state)
{
    (void)state;
    got g = {0};
    ab_unpack_counts n;
    buf c = help_chm();
    /* Truncated in the directory: one error for the container, nothing yielded. */
    assert_int_equal(
        ab_unpack_run_source(&ab_source_chm, c.p, 0x200, NULL, NULL, 0, collect, &g, &n),
        AB_ERR_PARSE);
    assert_int_equal(n.errors, 1);
    assert_int_equal(g.n, 0);
    assert_non_null(strstr(n.last_error, "chm:"));
    /* Truncated in the content: the pages before the cut are members, the last is an error. */
    assert_int_equal(
        ab_unpack_run_source(&ab_source_chm, c.p, c.n - 1, NULL, NULL, 0, collect, &g, &n), AB_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(n.errors, 1);
    assert_non_null(strstr(n.last_error, "cannot extract"));
    got_free(&g);
    /* Every byte flipped in turn: no crash, no leak (ASan), at most a few errors each. */
    for (size_t i = 0; i < c.n; i += 7) {
        c.p[i] ^= 0x5a;
        ab_unpack_run_source(&ab_source_chm, c.p, c.n, NULL, NULL, 0, collect, &g, &n);
        got_free(&g);
        c.p[i] ^= 0x5a;
    }
    free(c.p);
    buf k = kwaj_build(9, page, strlen(page), NULL, NULL); /* unknown method */
    ab_unpack_run_source(&ab_source_kwaj, k.p, k.n, NULL, NULL, 0, collect, &g, &n);
    assert_int_equal(g.n, 0);
    assert_int_equal(n.errors, 1);
    free(k.p);
    buf s = szdd_build(page, strlen(page), 'e');
    assert_int_equal(ab_unpack_run_source(&ab_source_szdd, s.p, 12, NULL, NULL, 0, collect, &g, &n),
                     AB_ERR_PARSE);
    assert_int_equal(n.errors, 1);
    assert_non_null(strstr(n.last_error, "szdd:"));
    free(s.p);
}

/* A member larger than --max-member-size is a limit and no member, never a bigger buffer. */
static void test_member_cap(void **state)
{
    (void)state;
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 16;
    got g = {0};
    ab_unpack_counts n;
    buf c = help_chm();
    ab_unpack_run_source(&ab_source_chm, c.p, c.n, &l, NULL, 0, collect, &g, &n);
    assert_int_equal(g.n, 1); /* only the 2-byte file fits */
    assert_string_equal(g.name[0], "/tools/a.exe");
    assert_int_equal(n.limits, 2);
    assert_string_equal(n.last_limit, "max-member-size");
    assert_int_equal(n.errors, 0);
    got_free(&g);
    free(c.p);
    buf s = szdd_build(page, strlen(page), 'e');
    ab_unpack_run_source(&ab_source_szdd, s.p, s.n, &l, NULL, 0, collect, &g, &n);
    assert_int_equal(g.n, 0);
    assert_int_equal(n.limits, 1);
    free(s.p);
}

/* A directory of millions of tiny entries: libmspack's allocations hit the cap, one error. */
static void test_alloc_cap(void **state)
{
    (void)state;
    size_t per = (CHUNK - 0x14 - 2) / 6, nchunks = 4096, n = per * nchunks;
    chm_entry *e = malloc(n * sizeof(*e));
    assert_non_null(e);
    for (size_t i = 0; i < n; i++)
        e[i] = (chm_entry){"/a", 0, 1};
    buf c = chm_build(e, n, per, "x", 1);
    free(e);
    got g = {0};
    ab_unpack_counts cnt;
    assert_int_equal(
        ab_unpack_run_source(&ab_source_chm, c.p, c.n, NULL, NULL, 0, collect, &g, &cnt),
        AB_ERR_PARSE);
    assert_int_equal(g.n, 0);
    assert_int_equal(cnt.errors, 1);
    assert_non_null(strstr(cnt.last_error, "more memory than allowed"));
    free(c.p);
}

/* Many files over the same big content: each is read up to the member cap and dropped; the reads
 * of the container are capped, so the run stops instead of copying the content thousands of times.
 */
static void test_read_cap(void **state)
{
    (void)state;
    size_t clen = (size_t)1 << 20, n = 3000;
    uint8_t *content = calloc(1, clen);
    chm_entry *e = malloc(n * sizeof(*e));
    assert_non_null(content);
    assert_non_null(e);
    char(*names)[16] = malloc(n * sizeof(*names));
    assert_non_null(names);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "/f%05zu", i);
        e[i] = (chm_entry){names[i], 0, clen};
    }
    buf c = chm_build(e, n, 200, content, clen);
    free(e);
    free(names);
    free(content);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = (size_t)512 << 10;
    got g = {0};
    ab_unpack_counts cnt;
    ab_unpack_run_source(&ab_source_chm, c.p, c.n, &l, NULL, 0, collect, &g, &cnt);
    assert_int_equal(g.n, 0);
    assert_true(cnt.limits > 0 && cnt.limits < 1000);
    assert_int_equal(cnt.errors, 1);
    assert_non_null(strstr(cnt.last_error, "over and over"));
    free(c.p);
}

static int setup(void **state)
{
    (void)state;
    return ab_init() == AB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ab_finish();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),           cmocka_unit_test(test_chm_members),
        cmocka_unit_test(test_chm_lzx),          cmocka_unit_test(test_szdd_kwaj),
        cmocka_unit_test(test_engine_locations), cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_member_cap),       cmocka_unit_test(test_alloc_cap),
        cmocka_unit_test(test_read_cap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
