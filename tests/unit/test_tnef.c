/* test_tnef.c: the TNEF source alone (ab_unpack_run_source) over the fixtures of
 * tests/fixtures/gen_tnef.py (run here into a temporary directory; TNEF_GEN names the script)
 * and over TNEF bytes built here: claims, attachment names (title, non-ASCII long file names in
 * PT_STRING8 and PT_UNICODE), bytes and mtime, the bodies (plain, HTML, compressed and
 * uncompressed RTF), the embedded message, the observables, and hostile streams (truncated,
 * lengths past the end, a bad checksum, too many attributes, malformed MAPI blocks, an RTF bomb)
 * that must give errors or limits and never crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unpack/unpack.h"

static char fixdir[256];

typedef struct file {
    uint8_t *data;
    size_t size;
} file;

static file slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fixdir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    file r = {NULL, 0};
    fseek(f, 0, SEEK_END);
    r.size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    r.data = malloc(r.size ? r.size : 1);
    assert_int_equal(fread(r.data, 1, r.size, f), r.size);
    fclose(f);
    return r;
}

#define MAXM 16
typedef struct got {
    int n;
    char name[MAXM][300];
    uint8_t *data[MAXM];
    size_t size[MAXM];
    double mtime[MAXM];
} got;

static int collect(void *ctx, const ab_member *m)
{
    got *g = ctx;
    if (g->n < MAXM) {
        snprintf(g->name[g->n], sizeof(g->name[0]), "%s", m->name);
        g->data[g->n] = malloc(m->size ? m->size : 1);
        if (m->size)
            memcpy(g->data[g->n], m->data, m->size);
        g->size[g->n] = m->size;
        g->mtime[g->n] = m->mtime;
    }
    g->n++;
    return 0;
}

static void got_free(got *g)
{
    for (int i = 0; i < g->n && i < MAXM; i++)
        free(g->data[i]);
    memset(g, 0, sizeof(*g));
}

static ab_unpack_counts run_lim(const uint8_t *d, size_t n, got *g, const ab_unpack_limits *l)
{
    ab_unpack_counts c;
    memset(&c, 0, sizeof(c));
    memset(g, 0, sizeof(*g));
    assert_int_equal(ab_unpack_run_source(&ab_source_tnef, d, n, l, NULL, 0, collect, g, &c),
                     AB_OK);
    return c;
}

static int find(const got *g, const char *name)
{
    for (int i = 0; i < g->n && i < MAXM; i++)
        if (strcmp(g->name[i], name) == 0)
            return i;
    return -1;
}

static void assert_member(const got *g, const char *name, const void *bytes, size_t n)
{
    int i = find(g, name);
    if (i < 0)
        fail_msg("no member %s", name);
    assert_int_equal(g->size[i], n);
    assert_memory_equal(g->data[i], bytes, n);
}

/* ---- TNEF bytes built here ---- */

typedef struct buf {
    uint8_t b[1 << 16];
    size_t n;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof(b->b));
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void put32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put16(buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void head(buf *b)
{
    b->n = 0;
    put32(b, 0x223E9F78);
    put16(b, 0);
}

static void attr(buf *b, uint8_t level, uint32_t id, const void *data, size_t n)
{
    put(b, &level, 1);
    put32(b, id);
    put32(b, (uint32_t)n);
    put(b, data, n);
    uint16_t sum = 0;
    for (size_t k = 0; k < n; k++)
        sum = (uint16_t)(sum + ((const uint8_t *)data)[k]);
    put16(b, sum);
}

/* ---- tests ---- */

static void test_claims(void **state)
{
    (void)state;
    file f = slurp("winmail.dat");
    assert_true(ab_source_tnef.claims(f.data, f.size));
    assert_false(ab_source_tnef.claims(f.data, 14));
    f.data[6] = 3; /* a level that is neither message nor attachment */
    assert_false(ab_source_tnef.claims(f.data, f.size));
    f.data[6] = 1;
    f.data[0] ^= 1;
    assert_false(ab_source_tnef.claims(f.data, f.size));
    assert_false(ab_source_tnef.claims((const uint8_t *)"x", 1));
    free(f.data);
    assert_string_equal(ab_source_tnef.name, "tnef");
    assert_string_equal(ab_source_tnef.parent, "TNEF");
}

static const char BODY[] = "Please find the report attached.\r\n";
static const char HTML[] =
    "<html><body><p>Please find the <b>report</b> attached.</p></body></html>";
static const char RTF[] = "{\\rtf1\\ansi\\ansicpg1252 Please find the report attached.\\par }";
static const char LONG_NAME[] = "r\xc3\xa9sum\xc3\xa9_M\xc3\xbcller_2024.txt";
static const char TEXT[] = "Gr\xc3\xbc\xc3\x9f"
                           "e aus M\xc3\xbcnchen\n";

static void test_winmail(void **state)
{
    (void)state;
    file f = slurp("winmail.dat");
    got g;
    ab_unpack_counts c = run_lim(f.data, f.size, &g, NULL);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.observables, 3); /* attFrom, PR_SENDER_EMAIL_ADDRESS, the recipient */
    assert_int_equal(g.n, 6);
    assert_string_equal(g.name[0], "body.txt");
    assert_member(&g, "body.txt", BODY, strlen(BODY));
    assert_member(&g, "body.html", HTML, strlen(HTML));
    assert_member(&g, "body.rtf", RTF, strlen(RTF)); /* LZFu with a back-reference */
    int a = find(&g, "SoreFang_update.exe");
    assert_true(a >= 0);
    assert_int_equal(g.size[a], 1536);
    assert_memory_equal(g.data[a], "MZ", 2);
    assert_true(g.mtime[a] == 1709296245.0); /* 2024-03-01 12:30:45 UTC */
    assert_member(&g, LONG_NAME, TEXT, strlen(TEXT));
    /* The embedded message: a TNEF stream of its own, without the interface id. */
    int e = find(&g, "Forwarded");
    assert_true(e >= 0);
    assert_true(ab_source_tnef.claims(g.data[e], g.size[e]));
    got inner;
    c = run_lim(g.data[e], g.size[e], &inner, NULL);
    assert_int_equal(c.errors, 0);
    assert_int_equal(inner.n, 2);
    assert_member(&inner, "body.txt", "inner body\r\n", 12);
    const char *in = "the inner attachment of the embedded message\n";
    assert_member(&inner, "inner_note.txt", in, strlen(in));
    got_free(&inner);
    got_free(&g);
    free(f.data);
}

static void test_unicode_and_mela(void **state)
{
    (void)state;
    file f = slurp("unicode.dat");
    got g;
    ab_unpack_counts c = run_lim(f.data, f.size, &g, NULL);
    assert_int_equal(c.errors, 0);
    assert_member(&g, LONG_NAME, TEXT, strlen(TEXT));
    assert_member(&g, "body.rtf", RTF, strlen(RTF));
    got_free(&g);
    free(f.data);
}

/* Each hostile fixture: errors said, AB_OK, what was complete before still yielded. */
static void test_hostile_fixtures(void **state)
{
    (void)state;
    static const struct {
        const char *file, *error;
        int artefact; /* the artefact is still yielded */
    } cases[] = {
        {"hostile/truncated.dat", "runs past the end", 0},
        {"hostile/past_end.dat", "runs past the end", 0},
        {"hostile/huge_len.dat", "length 4294967280 runs past the end", 0},
        {"hostile/bad_checksum.dat", "checksum mismatch", 1},
        {"hostile/many_attrs.dat", "more than 10000 attributes", 0},
        {"hostile/bad_mapi.dat", "attachment properties: property value count past the end", 0},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        file f = slurp(cases[k].file);
        got g;
        ab_unpack_counts c = run_lim(f.data, f.size, &g, NULL);
        if (c.errors != 1 || !strstr(c.last_error, cases[k].error))
            fail_msg("%s: %llu errors, last %s", cases[k].file, (unsigned long long)c.errors,
                     c.last_error);
        assert_int_equal(find(&g, "SoreFang_update.exe") >= 0, cases[k].artefact);
        if (strcmp(cases[k].file, "hostile/many_attrs.dat") != 0)
            assert_member(&g, "body.txt", BODY, strlen(BODY));
        if (strcmp(cases[k].file, "hostile/bad_mapi.dat") == 0)
            assert_member(&g, "x.bin", "xyz", 3); /* its data is an attribute of its own */
        got_free(&g);
        /* every prefix: no crash, never more members than the whole */
        for (size_t n = 0; n < f.size && n < 4096; n++) {
            memset(&g, 0, sizeof(g));
            ab_status st =
                ab_unpack_run_source(&ab_source_tnef, f.data, n, NULL, NULL, 0, collect, &g, &c);
            assert_int_equal(st, n < 6 ? AB_ERR_PARSE : AB_OK); /* shorter: no signature */
            got_free(&g);
        }
        free(f.data);
    }
}

/* A compressed RTF whose references expand 17 bytes per 2: a bomb against max-member-size, and
 * a raw size of 4 GiB that is never allocated. */
static void test_rtf_bomb(void **state)
{
    (void)state;
    static buf b, mp;
    buf rtf;
    rtf.n = 0;
    put32(&rtf, 0); /* COMPSIZE: not trusted */
    put32(&rtf, 0xFFFFFFFFu);
    put(&rtf, "LZFu", 4);
    put32(&rtf, 0);
    for (int k = 0; k < 200; k++) {
        uint8_t ctl = 0xFF, ref[2] = {0x00, 0x0F}; /* offset 0, 17 bytes */
        put(&rtf, &ctl, 1);
        for (int j = 0; j < 8; j++)
            put(&rtf, ref, 2);
    }
    mp.n = 0;
    put32(&mp, 1);
    put32(&mp, 0x10090102u); /* PR_RTF_COMPRESSED, PT_BINARY */
    put32(&mp, 1);
    put32(&mp, (uint32_t)rtf.n);
    put(&mp, rtf.b, rtf.n);
    while (mp.n % 4)
        put(&mp, "", 1);
    head(&b);
    attr(&b, 1, 0x00069003u, mp.b, mp.n);
    got g;
    ab_unpack_counts c = run_lim(b.b, b.n, &g, NULL);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.size[0], 200 * 8 * 17);
    assert_memory_equal(g.data[0], "{\\rtf1\\ansi\\mac\\d", 17);
    got_free(&g);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 1000;
    c = run_lim(b.b, b.n, &g, &l);
    assert_int_equal(g.n, 0);
    assert_int_equal(c.limits, 1);
    assert_string_equal(c.last_limit, "max-member-size");
    got_free(&g);
}

/* MAPI blocks that end inside a property, named properties, a multi-valued count past the end,
 * an unknown type: one error each, the attachment's data still yielded, no name from them. */
static void test_mapi_hostile(void **state)
{
    (void)state;
    static const uint32_t blocks[][8] = {
        {1, 0x37070102u, 1},              /* value size missing */
        {1, 0x3707001Eu, 1, 0xFFFFFFFFu}, /* value past the end */
        {1, 0x80001003u, 0, 0, 0, 0, 7},  /* named, ends in its kind */
        {1, 0x37071102u, 0x40000000u},    /* MV count past the end */
        {1, 0x37070099u, 0},              /* unknown type */
        {0x7FFFFFFFu, 0x37050003u, 1},    /* too many properties */
    };
    static const size_t words[] = {3, 4, 7, 3, 3, 3};
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
        static buf b;
        head(&b);
        attr(&b, 2, 0x00069002u, "\1\0\0\0\0\0\0\0\0\0\0\0\0\0", 14);
        attr(&b, 2, 0x0006800Fu, "data", 4);
        uint8_t raw[32];
        for (size_t w = 0; w < words[k]; w++)
            for (int j = 0; j < 4; j++)
                raw[w * 4 + j] = (uint8_t)(blocks[k][w] >> (8 * j));
        attr(&b, 2, 0x00069005u, raw, words[k] * 4);
        got g;
        ab_unpack_counts c = run_lim(b.b, b.n, &g, NULL);
        if (c.errors != 1)
            fail_msg("block %zu: %llu errors", k, (unsigned long long)c.errors);
        assert_member(&g, "attachment-1", "data", 4);
        got_free(&g);
    }
}

/* Attachment attributes without attAttachRendData, a by-reference attachment (no data), the
 * object and attAttachData both there and different: both scanned. */
static void test_attachment_shapes(void **state)
{
    (void)state;
    static buf b, mp;
    head(&b);
    attr(&b, 2, 0x00018010u, "early.bin", 10);
    attr(&b, 2, 0x0006800Fu, "early", 5);
    attr(&b, 2, 0x00069002u, "\1\0\0\0\0\0\0\0\0\0\0\0\0\0", 14); /* by reference: nothing */
    attr(&b, 2, 0x00069002u, "\1\0\0\0\0\0\0\0\0\0\0\0\0\0", 14);
    attr(&b, 2, 0x0006800Fu, "visible", 7);
    mp.n = 0;
    put32(&mp, 1);
    put32(&mp, 0x37010102u); /* PR_ATTACH_DATA_OBJ, PT_BINARY */
    put32(&mp, 1);
    put32(&mp, 6);
    put(&mp, "hidden\0\0", 8);
    attr(&b, 2, 0x00069005u, mp.b, mp.n);
    got g;
    ab_unpack_counts c = run_lim(b.b, b.n, &g, NULL);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g.n, 3);
    assert_member(&g, "early.bin", "early", 5);
    assert_member(&g, "attachment-3", "visible", 7);
    assert_member(&g, "attachment-3 (object)", "hidden", 6);
    got_free(&g);
}

static int setup(void **state)
{
    (void)state;
    const char *gen = getenv("TNEF_GEN");
    snprintf(fixdir, sizeof(fixdir), "/tmp/antibody-tnef.XXXXXX");
    if (!gen || !mkdtemp(fixdir))
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", gen, fixdir);
    if (system(cmd) != 0)
        return -1;
    return ab_init() == AB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixdir);
    if (system(cmd) != 0)
        return -1;
    ab_finish();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_winmail),
        cmocka_unit_test(test_unicode_and_mela),
        cmocka_unit_test(test_hostile_fixtures),
        cmocka_unit_test(test_rtf_bomb),
        cmocka_unit_test(test_mapi_hostile),
        cmocka_unit_test(test_attachment_shapes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
