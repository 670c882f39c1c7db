/* test_unpack.c: the source seam (recursion, budget, limits, locations, externals) and the
 * libarchive source, on zips built here byte by byte (stored members, so no compressor needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "antibody/antibody.h"
#include "core/buf.h"
#include "unpack/unpack.h"

/* ---- a stored-zip writer ---- */

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put16(ab_buf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    ab_buf_add(b, x, 2);
}

static void put32(ab_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ab_buf_add(b, x, 4);
}

/* A zip of n stored members into out (owned by the caller: ab_buf_release). */
static void make_zip(ab_buf *out, const char *const *names, const ab_buf *data, size_t n)
{
    ab_buf cd;
    ab_buf_init(out, (size_t)64 << 20);
    ab_buf_init(&cd, (size_t)64 << 20);
    for (size_t i = 0; i < n; i++) {
        uint32_t off = (uint32_t)out->len,
                 crc = crc32_of((const uint8_t *)data[i].data, data[i].len);
        size_t nl = strlen(names[i]);
        put32(out, 0x04034B50);
        put16(out, 20), put16(out, 0), put16(out, 0), put16(out, 0), put16(out, 0x21);
        put32(out, crc), put32(out, (uint32_t)data[i].len), put32(out, (uint32_t)data[i].len);
        put16(out, (unsigned)nl), put16(out, 0);
        ab_buf_add(out, names[i], nl);
        ab_buf_add(out, data[i].data, data[i].len);
        put32(&cd, 0x02014B50);
        put16(&cd, 20), put16(&cd, 20), put16(&cd, 0), put16(&cd, 0), put16(&cd, 0);
        put16(&cd, 0x21);
        put32(&cd, crc), put32(&cd, (uint32_t)data[i].len), put32(&cd, (uint32_t)data[i].len);
        put16(&cd, (unsigned)nl), put16(&cd, 0), put16(&cd, 0), put16(&cd, 0), put16(&cd, 0);
        put32(&cd, 0100644u << 16), put32(&cd, off);
        ab_buf_add(&cd, names[i], nl);
    }
    uint32_t cd_off = (uint32_t)out->len;
    ab_buf_add(out, cd.data, cd.len);
    put32(out, 0x06054B50);
    put16(out, 0), put16(out, 0), put16(out, (unsigned)n), put16(out, (unsigned)n);
    put32(out, (uint32_t)cd.len), put32(out, cd_off), put16(out, 0);
    ab_buf_release(&cd);
}

static void text(ab_buf *b, const char *s)
{
    ab_buf_init(b, (size_t)64 << 20);
    ab_buf_adds(b, s);
}

/* ---- ab_unpack_run_source ---- */

typedef struct seen {
    int n;
    char names[8][64];
    size_t sizes[8];
} seen;

static int collect(void *ctx, const ab_member *m)
{
    seen *s = ctx;
    if (s->n < 8) {
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", m->name);
        s->sizes[s->n] = m->size;
    }
    s->n++;
    return 0;
}

static void test_archive_members(void **state)
{
    (void)state;
    const char *names[3] = {"docs/a.txt", "../../etc/passwd", "b.bin"};
    ab_buf d[3], zip;
    text(&d[0], "hello");
    text(&d[1], "root:x:0:0");
    text(&d[2], "");
    make_zip(&zip, names, d, 3);
    assert_true(ab_source_archive.claims((const uint8_t *)zip.data, zip.len));
    seen s = {0};
    ab_unpack_counts c;
    assert_int_equal(ab_unpack_run_source(&ab_source_archive, (const uint8_t *)zip.data, zip.len,
                                          NULL, NULL, 0, collect, &s, &c),
                     AB_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.names[0], "docs/a.txt");
    assert_string_equal(s.names[1], "../../etc/passwd"); /* only a name */
    assert_int_equal(s.sizes[0], 5);
    assert_int_equal(s.sizes[2], 0);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.limits, 0);
    for (int i = 0; i < 3; i++)
        ab_buf_release(&d[i]);
    ab_buf_release(&zip);
}

static void test_archive_limits(void **state)
{
    (void)state;
    const char *names[4] = {"1", "2", "3", "4"};
    ab_buf d[4], zip;
    for (int i = 0; i < 4; i++)
        text(&d[i], "0123456789");
    make_zip(&zip, names, d, 4);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_members = 2;
    seen s = {0};
    ab_unpack_counts c;
    ab_unpack_run_source(&ab_source_archive, (const uint8_t *)zip.data, zip.len, &l, NULL, 0,
                         collect, &s, &c);
    assert_int_equal(s.n, 2); /* the third member is over: the rest is not read */
    assert_int_equal(c.limits, 1);
    assert_string_equal(c.last_limit, "max-members");
    ab_unpack_limits_default(&l);
    l.max_member_size = 5;
    memset(&s, 0, sizeof(s));
    ab_unpack_run_source(&ab_source_archive, (const uint8_t *)zip.data, zip.len, &l, NULL, 0,
                         collect, &s, &c);
    assert_int_equal(s.n, 0);
    assert_int_equal(c.limits, 4); /* every member, each skipped (the finding is said once) */
    assert_int_equal(c.last_skip, AB_SKIP_TOO_LARGE);
    assert_string_equal(c.last_limit, "max-member-size");
    ab_unpack_limits_default(&l);
    l.max_unpacked = 25; /* two members fit, the third breaks the budget */
    memset(&s, 0, sizeof(s));
    ab_unpack_run_source(&ab_source_archive, (const uint8_t *)zip.data, zip.len, &l, NULL, 0,
                         collect, &s, &c);
    assert_int_equal(s.n, 2);
    assert_string_equal(c.last_limit, "max-unpacked");
    for (int i = 0; i < 4; i++)
        ab_buf_release(&d[i]);
    ab_buf_release(&zip);
}

static void test_archive_claims(void **state)
{
    (void)state;
    uint8_t b[1024];
    memset(b, 'x', sizeof(b));
    assert_false(ab_source_archive.claims(b, sizeof(b)));
    assert_false(ab_source_archive.claims(b, 0));
    memcpy(b + 257, "ustar", 5);
    assert_true(ab_source_archive.claims(b, sizeof(b)));
    assert_false(ab_source_archive.claims(b, 260)); /* magic cut off */
    memset(b, 'x', sizeof(b));
    memcpy(b, "MZ", 2); /* a PE without a zip at its end */
    assert_false(ab_source_archive.claims(b, sizeof(b)));
    memcpy(b + 900, "PK\5\6", 4);
    assert_true(ab_source_archive.claims(b, sizeof(b))); /* self-extractor */
    memcpy(b, "\x1f\x8b\x08", 3);
    assert_true(ab_source_archive.claims(b, 3));
}

static void test_archive_corrupt(void **state)
{
    (void)state;
    uint8_t b[300];
    memset(b, 0xA5, sizeof(b));
    memcpy(b, "PK\3\4", 4); /* a zip magic and nothing else that holds */
    seen s = {0};
    ab_unpack_counts c;
    ab_unpack_run_source(&ab_source_archive, b, sizeof(b), NULL, NULL, 0, collect, &s, &c);
    assert_int_equal(s.n, 0);
    assert_true(c.errors >= 1);
    assert_non_null(strstr(c.last_error, "archive"));
}

/* ---- through the engine: ab_scan_buffer ---- */

typedef struct got {
    int findings, skips, errors;
    char loc[4][64], src[4][16];
    size_t loc_len;
    uint64_t members;
    char limit_rule[32];
} got;

static int sink(void *ctx, const ab_event *ev)
{
    got *g = ctx;
    if (ev->kind == AB_EVENT_FINDING) {
        const ab_finding *f = &ev->u.finding;
        g->findings++;
        if (f->matcher == AB_MATCHER_LIMIT) {
            snprintf(g->limit_rule, sizeof(g->limit_rule), "%s", f->rule);
            return 0;
        }
        g->loc_len = f->obj.location_len;
        for (size_t i = 0; i < f->obj.location_len && i < 4; i++) {
            snprintf(g->loc[i], sizeof(g->loc[i]), "%s", f->obj.location[i]);
            snprintf(g->src[i], sizeof(g->src[i]), "%s",
                     f->obj.location_source && f->obj.location_source[i] ? f->obj.location_source[i]
                                                                         : "-");
        }
    } else if (ev->kind == AB_EVENT_SKIP) {
        g->skips++;
    } else if (ev->kind == AB_EVENT_ERROR) {
        g->errors++;
    } else if (ev->kind == AB_EVENT_SUMMARY) {
        g->members = ev->u.summary.members;
    }
    return 0;
}

static void diag(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    (void)ctx, (void)level, (void)where, (void)msg;
}

static ab_scanner *make(const char *rules, const ab_unpack_limits *l)
{
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    if (l)
        assert_int_equal(ab_scanner_set_unpack_limits(sc, l), AB_OK);
    assert_int_equal(ab_scanner_add_rules_string(sc, rules, "t.yar", "t", diag, NULL), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, diag, NULL), AB_OK);
    return sc;
}

static void test_engine_nested(void **state)
{
    (void)state;
    /* NEEDLE in inner.txt in inner.zip in outer.zip; the rule also checks the externals */
    const char *in_names[1] = {"dir/inner.txt"}, *out_names[1] = {"inner.zip"};
    ab_buf leaf, inner, outer;
    text(&leaf, "...NEEDLE...");
    make_zip(&inner, in_names, &leaf, 1);
    make_zip(&outer, out_names, &inner, 1);
    ab_scanner *sc = make("rule r { strings: $a = \"NEEDLE\" condition: $a and unpack_parent == "
                          "\"ZIP\" and unpack_source == \"ZIP>ZIP\" and filename == \"inner.txt\" "
                          "and extension == \".txt\" }",
                          NULL);
    got g = {0};
    ab_sink s = {sink, &g};
    assert_int_equal(ab_scan_buffer(sc, outer.data, outer.len, "outer.zip", &s), AB_OK);
    assert_int_equal(g.findings, 1);
    assert_int_equal(g.loc_len, 3);
    assert_string_equal(g.loc[0], "outer.zip");
    assert_string_equal(g.loc[1], "inner.zip");
    assert_string_equal(g.loc[2], "dir/inner.txt");
    assert_string_equal(g.src[1], "zip");
    assert_string_equal(g.src[2], "zip");
    assert_int_equal(g.members, 2);
    ab_scanner_free(sc);

    /* --no-unpack: the same bytes, nothing inside is looked at */
    ab_scanner *off = NULL;
    assert_int_equal(ab_scanner_new(&off), AB_OK);
    assert_int_equal(ab_scanner_set_unpack(off, 0), AB_OK);
    assert_int_equal(ab_scanner_add_rules_string(off,
                                                 "rule r { strings: $a = \"NEEDLE\" "
                                                 "condition: $a }",
                                                 "t.yar", "t", diag, NULL),
                     AB_OK);
    assert_int_equal(ab_scanner_compile(off, diag, NULL), AB_OK);
    memset(&g, 0, sizeof(g));
    s.ctx = &g;
    ab_scan_buffer(off, outer.data, outer.len, "outer.zip", &s);
    assert_int_equal(g.members, 0);
    ab_scanner_free(off);

    /* depth 1: the inner zip is scanned but not opened; a limit finding and a skip say so */
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_depth = 1;
    sc = make("rule r { strings: $a = \"NEEDLE\" condition: $a }", &l);
    memset(&g, 0, sizeof(g));
    s.ctx = &g;
    ab_scan_buffer(sc, outer.data, outer.len, "outer.zip", &s);
    assert_string_equal(g.limit_rule, "max-unpack-depth");
    assert_int_equal(g.skips, 1);
    assert_int_equal(g.members, 1);
    ab_scanner_free(sc);
    ab_buf_release(&leaf);
    ab_buf_release(&inner);
    ab_buf_release(&outer);
}

static void test_limits_setter(void **state)
{
    (void)state;
    ab_scanner *sc = NULL;
    ab_unpack_limits l;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    ab_unpack_limits_default(&l);
    assert_int_equal(l.max_depth, 8);
    l.max_depth = 16; /* a location chain holds at most 16 elements: the file + 15 levels */
    assert_int_equal(ab_scanner_set_unpack_limits(sc, &l), AB_ERR_ARG);
    l.max_depth = 15;
    assert_int_equal(ab_scanner_set_unpack_limits(sc, &l), AB_OK);
    l.max_members = 0;
    assert_int_equal(ab_scanner_set_unpack_limits(sc, &l), AB_ERR_ARG);
    char big[1100];
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(ab_scanner_add_password(sc, big), AB_ERR_ARG);
    assert_int_equal(ab_scanner_add_password(sc, "infected"), AB_OK);
    ab_scanner_free(sc);
}

int main(void)
{
    ab_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_archive_members), cmocka_unit_test(test_archive_limits),
        cmocka_unit_test(test_archive_claims),  cmocka_unit_test(test_archive_corrupt),
        cmocka_unit_test(test_engine_nested),   cmocka_unit_test(test_limits_setter),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ab_finish();
    return rc;
}
