/* test_rtf.c: the RTF source alone (ab_unpack_run_source): claims, the objdata hex decoder with
 * the junk Word skips, \bin runs, the OLE1 header, the Packager's native data with hostile
 * lengths, the group depth bound, truncated files and the member limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unpack/unpack.h"

/* ---- collecting members ---- */

#define MAX_GOT 8
typedef struct got {
    size_t n;
    char name[MAX_GOT][300];
    uint8_t data[MAX_GOT][4096];
    size_t size[MAX_GOT];
    int stop_after;
} got;

static int collect(void *ctx, const ab_member *m)
{
    got *g = ctx;
    if (g->n < MAX_GOT) {
        snprintf(g->name[g->n], sizeof(g->name[0]), "%s", m->name);
        size_t k = m->size < sizeof(g->data[0]) ? m->size : sizeof(g->data[0]);
        if (k)
            memcpy(g->data[g->n], m->data, k);
        g->size[g->n] = m->size;
    }
    g->n++;
    return g->stop_after && (int)g->n >= g->stop_after;
}

static ab_unpack_counts run_lim(const void *data, size_t size, got *g, const ab_unpack_limits *l)
{
    ab_unpack_counts c;
    memset(&c, 0, sizeof(c));
    memset(g->name, 0, sizeof(g->name));
    g->n = 0;
    assert_int_equal(ab_unpack_run_source(&ab_source_rtf, data, size, l, NULL, 0, collect, g, &c),
                     AB_OK);
    return c;
}

static ab_unpack_counts run(const char *text, got *g)
{
    return run_lim(text, strlen(text), g, NULL);
}

static void assert_member(const got *g, size_t i, const char *name, const void *bytes, size_t n)
{
    assert_true(g->n > i);
    assert_string_equal(g->name[i], name);
    assert_int_equal(g->size[i], n);
    if (n)
        assert_memory_equal(g->data[i], bytes, n);
}

/* ---- building objects ---- */

typedef struct buf {
    uint8_t b[8192];
    size_t n;
} buf;

static void put(buf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof(o->b));
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put32(buf *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(o, b, 4);
}

static void put_lp(buf *o, const char *s)
{
    put32(o, (uint32_t)strlen(s) + 1);
    put(o, s, strlen(s) + 1);
}

/* An OLE1 EmbeddedObject; native_size UINT32_MAX: the native data's real size. */
static void ole1(buf *o, uint32_t format, const char *cls, const void *native, size_t n,
                 uint32_t native_size)
{
    o->n = 0;
    put32(o, 0x0501);
    put32(o, format);
    put_lp(o, cls);
    put32(o, 0);
    put32(o, 0);
    put32(o, native_size == UINT32_MAX ? (uint32_t)n : native_size);
    put(o, native, n);
}

/* Packager native data; temp_len/data_len UINT32_MAX: the real lengths. */
static void package(buf *o, const char *label, const char *path, uint32_t type, uint32_t temp_len,
                    const void *data, size_t n, uint32_t data_len)
{
    static const char temp[] = "C:\\Temp\\x.bin";
    o->n = 0;
    put(o, "\2\0", 2);
    put(o, label, strlen(label) + 1);
    put(o, path, strlen(path) + 1);
    put32(o, type);
    put32(o, temp_len == UINT32_MAX ? (uint32_t)sizeof(temp) : temp_len);
    put(o, temp, sizeof(temp));
    put32(o, data_len == UINT32_MAX ? (uint32_t)n : data_len);
    put(o, data, n);
}

/* "{\rtf1{\object{\*\objdata HEX}}}" around bytes. */
static char *rtf_of(const buf *o, const char *before, const char *after)
{
    size_t cap = strlen(before) + strlen(after) + o->n * 2 + 64;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t k = (size_t)snprintf(s, cap, "{\\rtf1{\\object%s{\\*\\objdata ", before);
    for (size_t i = 0; i < o->n; i++)
        k += (size_t)snprintf(s + k, cap - k, "%02x", o->b[i]);
    snprintf(s + k, cap - k, "}%s}}", after);
    return s;
}

static const char payload[] = "MZ payload bytes";

/* ---- tests ---- */

static void test_claims(void **state)
{
    (void)state;
    assert_true(ab_source_rtf.claims((const uint8_t *)"{\\rtf1\\ansi", 10));
    assert_true(ab_source_rtf.claims((const uint8_t *)"{\\rtxyz", 7)); /* Word's junk header */
    assert_true(ab_source_rtf.claims((const uint8_t *)"{\\rt", 4));
    assert_false(ab_source_rtf.claims((const uint8_t *)"{\\r", 3));
    assert_false(ab_source_rtf.claims((const uint8_t *)" {\\rtf1", 7));
    assert_false(ab_source_rtf.claims((const uint8_t *)"{\\Rtf1", 6));
    assert_false(ab_source_rtf.claims((const uint8_t *)"", 0));
    assert_string_equal(ab_source_rtf.name, "rtf");
    assert_string_equal(ab_source_rtf.parent, "RTF");
}

static void test_hex_junk(void **state)
{
    (void)state;
    got g = {.n = 0};
    /* Whitespace, newlines, junk text, upper/lower case, dummy groups and control words between
     * (and inside) bytes; the odd last digit is dropped. */
    ab_unpack_counts c =
        run("{\\rt junk{\\*\\objdata 4\r\n1 4{}2{\\foo}zz4 3{{}}\\par 6\t1 6 A\\x12 6b 4}}", &g);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g.n, 1);
    assert_member(&g, 0, "objdata 1", "ABCajk", 6);
    /* "\'hh" drops a pending odd digit (Word's bug) and is not data itself. */
    run("{\\rtf1{\\*\\objdata 414\\'0042}}", &g);
    assert_member(&g, 0, "objdata 1", "AB", 2);
    /* A nested destination inside the object is not its data; plain nested groups are. */
    run("{\\rtf1{\\*\\objdata 41{\\*\\comment 42}{\\pict 44}{43}}}", &g);
    assert_member(&g, 0, "objdata 1", "AC", 2);
    /* Control symbols (one character each) and a control word's parameter are not data. */
    run("{\\rtf1{\\*\\objdata 41\\1\\~\\{\\}\\\\42\\bliptag1234 43}}", &g);
    assert_member(&g, 0, "objdata 1", "ABC", 3);
    /* A control word is at most 250 letters: what follows is text again (here, hex digits). */
    char *s = malloc(400);
    assert_non_null(s);
    int k = snprintf(s, 400, "{\\rtf1{\\*\\objdata \\");
    memset(s + k, 'a', 254);
    snprintf(s + k + 254, 400 - (size_t)k - 254, "}}");
    run(s, &g);
    assert_member(&g, 0, "objdata 1", "\xaa\xaa", 2);
    free(s);
    /* An empty or all-junk object yields nothing and is no error. */
    c = run("{\\rtf1{\\*\\objdata xyz 4}{\\*\\objdata}}", &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(c.errors, 0);
    /* Images are not extracted. */
    run("{\\rtf1{\\pict\\pngblip 4142434445}{\\*\\shppict{\\pict 4142}}}", &g);
    assert_int_equal(g.n, 0);
}

static void test_bin(void **state)
{
    (void)state;
    got g = {.n = 0};
    /* N raw bytes, braces and backslashes included, are object data. */
    static const char a[] = "{\\rtf1{\\*\\objdata 41\\bin5 {}\\\\\0"
                            "42}}";
    run_lim(a, sizeof(a) - 1, &g, NULL);
    assert_member(&g, 0, "objdata 1", "A{}\\\\\0B", 7);
    /* After an odd digit the raw bytes continue the hex stream, as their hex would. */
    run("{\\rtf1{\\*\\objdata 4\\bin1 A6}}", &g);
    assert_member(&g, 0, "objdata 1", "\x44\x16", 2);
    /* No parameter or a negative one: no bytes. */
    run("{\\rtf1{\\*\\objdata 41\\bin 42\\bin-5 43}}", &g);
    assert_member(&g, 0, "objdata 1", "ABC", 3);
    /* A length past the end: what there is. */
    run("{\\rtf1{\\*\\objdata 41\\bin99999999999999999999999 xy", &g);
    assert_member(&g, 0, "objdata 1", "Axy", 3);
    /* Outside an object a \bin run is skipped whole: its braces do not count. */
    run("{\\rtf1{\\pict\\bin3 }}{}{\\*\\objdata 41}}", &g);
    assert_member(&g, 0, "objdata 1", "A", 1);
}

static void test_ole1(void **state)
{
    (void)state;
    got g = {.n = 0};
    buf o;
    /* Embedded: the native data, named by the class. */
    ole1(&o, 2, "Equation.3", payload, sizeof(payload) - 1, UINT32_MAX);
    char *s = rtf_of(&o, "\\objemb{\\*\\objclass Other}", "");
    ab_unpack_counts c = run(s, &g);
    free(s);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g.n, 1);
    assert_member(&g, 0, "objdata 1 (Equation.3)", payload, sizeof(payload) - 1);
    /* A native size past the end: cut to what there is. */
    ole1(&o, 2, "Word.Document.8", payload, sizeof(payload) - 1, 0xfffffff0u);
    s = rtf_of(&o, "", "");
    run(s, &g);
    free(s);
    assert_member(&g, 0, "objdata 1 (Word.Document.8)", payload, sizeof(payload) - 1);
    /* A class length past the end: not an OLE1 header; the bytes as they are, named by
     * \objclass (whitespace around it trimmed). */
    ole1(&o, 2, "Equation.3", payload, sizeof(payload) - 1, UINT32_MAX);
    o.b[8] = 0xff, o.b[9] = 0xff, o.b[10] = 0xff, o.b[11] = 0xff;
    s = rtf_of(&o, "{\\*\\objclass  Equation.3\r\n}", "");
    run(s, &g);
    free(s);
    assert_member(&g, 0, "objdata 1 (Equation.3)", o.b, o.n);
    /* A linked object has no native data: its bytes as they are, named by its class. */
    ole1(&o, 1, "OLE2Link", payload, sizeof(payload) - 1, UINT32_MAX);
    s = rtf_of(&o, "", "");
    run(s, &g);
    free(s);
    assert_member(&g, 0, "objdata 1 (OLE2Link)", o.b, o.n);
    /* An unknown FormatID, and too short for a header: the bytes, no class. */
    ole1(&o, 7, "X", payload, sizeof(payload) - 1, UINT32_MAX);
    s = rtf_of(&o, "", "");
    run(s, &g);
    free(s);
    assert_member(&g, 0, "objdata 1", o.b, o.n);
    run("{\\rtf1{\\*\\objdata 01050000}}", &g);
    assert_member(&g, 0, "objdata 1", "\x01\x05\x00\x00", 4);
    /* Objects are numbered in document order; \object forgets the last \objclass. */
    c = run("{\\rtf1{\\object{\\*\\objclass A}{\\*\\objdata 41}}{\\object{\\*\\objdata 42}}"
            "{\\*\\objdata 43\\objdata 44}}",
            &g);
    assert_int_equal(g.n, 3);
    assert_member(&g, 0, "objdata 1 (A)", "A", 1);
    assert_member(&g, 1, "objdata 2", "B", 1);
    assert_member(&g, 2, "objdata 3", "CD", 2); /* \objdata again in its own group: the same */
    /* Another destination in the object's own group ends it. */
    run("{\\rtf1{\\*\\objdata 41\\objclass 42}}", &g);
    assert_member(&g, 0, "objdata 1", "A", 1);
    /* The callback asks to stop: no more members. */
    g.stop_after = 1;
    run("{\\rtf1{\\*\\objdata 41}{\\*\\objdata 42}}", &g);
    g.stop_after = 0;
    assert_int_equal(g.n, 1);
}

/* A Package object around pk, as an RTF; returns what the source yielded. */
static void run_package(const buf *pk, got *g)
{
    buf o;
    ole1(&o, 2, "Package", pk->b, pk->n, UINT32_MAX);
    char *s = rtf_of(&o, "\\objemb{\\*\\objclass Package}", "");
    ab_unpack_counts c = run(s, g);
    free(s);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g->n, 1);
}

static void test_package(void **state)
{
    (void)state;
    got g = {.n = 0};
    buf pk;
    /* The packaged file, named by its label. */
    package(&pk, "invoice.exe", "C:\\Users\\x\\invoice.exe", 0x00030000, UINT32_MAX, payload,
            sizeof(payload) - 1, UINT32_MAX);
    run_package(&pk, &g);
    assert_member(&g, 0, "invoice.exe", payload, sizeof(payload) - 1);
    /* No label: the original path's last element, then the temporary path's. */
    package(&pk, "", "C:\\Users\\x\\report.js", 0x00030000, UINT32_MAX, payload,
            sizeof(payload) - 1, UINT32_MAX);
    run_package(&pk, &g);
    assert_member(&g, 0, "report.js", payload, sizeof(payload) - 1);
    package(&pk, "", "", 0x00030000, UINT32_MAX, payload, sizeof(payload) - 1, UINT32_MAX);
    run_package(&pk, &g);
    assert_member(&g, 0, "x.bin", payload, sizeof(payload) - 1);
    /* A data size past the end: what there is. */
    package(&pk, "a.exe", "p", 0x00030000, UINT32_MAX, payload, sizeof(payload) - 1, 0xffffffffu);
    run_package(&pk, &g);
    assert_member(&g, 0, "a.exe", payload, sizeof(payload) - 1);
    /* Hostile lengths that hide where the data is: the native data as it is, named by class. */
    package(&pk, "a.exe", "p", 0x00030000, 0xfffffff0u, payload, sizeof(payload) - 1, UINT32_MAX);
    run_package(&pk, &g);
    assert_member(&g, 0, "objdata 1 (Package)", pk.b, pk.n);
    package(&pk, "a.exe", "p", 0x00030000, UINT32_MAX, payload, sizeof(payload) - 1, 0);
    run_package(&pk, &g);
    assert_member(&g, 0, "objdata 1 (Package)", pk.b, pk.n); /* no bytes in it */
    package(&pk, "a.exe", "p", 0x00010000, UINT32_MAX, payload, sizeof(payload) - 1, UINT32_MAX);
    run_package(&pk, &g);
    assert_member(&g, 0, "objdata 1 (Package)", pk.b, pk.n); /* a link */
    /* Strings without their NUL, and too short for anything. */
    pk.n = 0;
    put(&pk, "\2\0no-terminator", 15);
    run_package(&pk, &g);
    assert_member(&g, 0, "objdata 1 (Package)", pk.b, pk.n);
    pk.n = 0;
    put(&pk, "\2", 1);
    run_package(&pk, &g);
    assert_member(&g, 0, "objdata 1 (Package)", pk.b, pk.n);
    pk.n = 0;
    put(&pk, "\2\0a\0b\0\0\0\3", 9); /* cut inside the type */
    run_package(&pk, &g);
    assert_member(&g, 0, "objdata 1 (Package)", pk.b, pk.n);
    /* A long label is cut for the name. */
    char label[400];
    memset(label, 'L', sizeof(label) - 1);
    label[sizeof(label) - 1] = '\0';
    package(&pk, label, "p", 0x00030000, UINT32_MAX, payload, sizeof(payload) - 1, UINT32_MAX);
    run_package(&pk, &g);
    assert_int_equal(strlen(g.name[0]), 255);
}

static void test_depth(void **state)
{
    (void)state;
    got g = {.n = 0};
    enum { DEEP = 5000 };
    char *s = malloc(4 * DEEP + 256);
    assert_non_null(s);
    /* An object below 5000 groups is still found (its level is a number)... */
    size_t k = (size_t)sprintf(s, "{\\rtf1");
    for (int i = 0; i < DEEP; i++)
        s[k++] = '{';
    k += (size_t)sprintf(s + k, "{\\*\\objdata 4142}");
    for (int i = 0; i < DEEP; i++)
        s[k++] = '}';
    k += (size_t)sprintf(s + k, "{\\*\\objdata 43}}");
    s[k] = '\0';
    ab_unpack_counts c = run(s, &g);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g.n, 2);
    assert_member(&g, 0, "objdata 1", "AB", 2);
    assert_member(&g, 1, "objdata 2", "C", 1);
    /* ...and 5000 dummy groups inside an object are only dummy groups. */
    k = (size_t)sprintf(s, "{\\rtf1{\\*\\objdata 41");
    for (int i = 0; i < DEEP; i++)
        s[k++] = '{';
    k += (size_t)sprintf(s + k, "42");
    for (int i = 0; i < DEEP; i++)
        s[k++] = '}';
    k += (size_t)sprintf(s + k, "43}}");
    s[k] = '\0';
    run(s, &g);
    assert_int_equal(g.n, 1);
    assert_member(&g, 0, "objdata 1", "ABC", 3);
    /* Opening groups only, or closing only: nothing, no error. */
    memset(s, '{', 4 * DEEP);
    memcpy(s, "{\\rt", 4);
    c = run_lim(s, 4 * DEEP, &g, NULL);
    assert_int_equal(g.n + c.errors, 0);
    memset(s + 4, '}', 4 * DEEP - 4);
    c = run_lim(s, 4 * DEEP, &g, NULL);
    assert_int_equal(g.n + c.errors, 0);
    free(s);
}

static void test_truncated(void **state)
{
    (void)state;
    got g = {.n = 0};
    /* Cut inside the object: what was decoded, no error. */
    ab_unpack_counts c = run("{\\rtf1{\\object{\\*\\objdata 414243\n4", &g);
    assert_int_equal(c.errors, 0);
    assert_member(&g, 0, "objdata 1", "ABC", 3);
    /* Cut inside a Package's data: the file cut to what there is. */
    buf pk, o;
    package(&pk, "invoice.exe", "p", 0x00030000, UINT32_MAX, payload, sizeof(payload) - 1,
            UINT32_MAX);
    ole1(&o, 2, "Package", pk.b, pk.n, UINT32_MAX);
    char *s = rtf_of(&o, "", "");
    char *cut = strstr(s, "4d5a"); /* "MZ": the packaged file starts there */
    assert_non_null(cut);
    cut[8] = '\0';
    c = run(s, &g);
    free(s);
    assert_int_equal(c.errors, 0);
    assert_member(&g, 0, "invoice.exe", "MZ p", 4);
    /* Cut before the object's first byte: nothing to look at, one error. */
    c = run("{\\rtf1{\\object{\\*\\objdata 4", &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(c.errors, 1);
    assert_non_null(strstr(c.last_error, "objdata"));
    /* Cut anywhere else: nothing, no error. */
    c = run("{\\rtf1{\\fonttbl{\\f0 Times", &g);
    assert_int_equal(g.n + c.errors, 0);
    c = run("{\\rt", &g);
    assert_int_equal(g.n + c.errors, 0);
    c = run("{\\rtf1\\", &g);
    assert_int_equal(g.n + c.errors, 0);
    c = run("{\\rtf1{\\*\\objdata 4\\'4", &g);
    assert_int_equal(c.errors, 1); /* the odd digit dropped by \' : nothing decoded */
}

static void test_limits(void **state)
{
    (void)state;
    got g = {.n = 0};
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 4;
    /* A member over max-member-size is dropped (a limit and a skip), the next one is kept. */
    const char *s = "{\\rtf1{\\*\\objdata 4142434445}{\\*\\objdata 46}}";
    ab_unpack_counts c = run_lim(s, strlen(s), &g, &l);
    assert_int_equal(c.limits, 1);
    assert_string_equal(c.last_limit, "max-member-size");
    assert_int_equal(c.skips, 1);
    assert_int_equal(g.n, 1);
    assert_member(&g, 0, "objdata 2", "F", 1);
    /* Exactly at the limit is fine. */
    s = "{\\rtf1{\\*\\objdata 41424344}}";
    c = run_lim(s, strlen(s), &g, &l);
    assert_int_equal(c.limits, 0);
    assert_member(&g, 0, "objdata 1", "ABCD", 4);
    /* max-unpacked spent: the file stops there. */
    ab_unpack_limits_default(&l);
    l.max_unpacked = 3;
    s = "{\\rtf1{\\*\\objdata 4142}{\\*\\objdata 434445}{\\*\\objdata 46}}";
    c = run_lim(s, strlen(s), &g, &l);
    assert_int_equal(g.n, 1);
    assert_string_equal(c.last_limit, "max-unpacked");
    /* A big object is decoded in bounded steps past the first buffer; hex is no bomb (the
     * ratio is measured against the hex read so far, past the 1 MiB floor). */
    ab_unpack_limits_default(&l);
    size_t n = (size_t)1200 << 10;
    char *big = malloc(2 * n + 64);
    assert_non_null(big);
    size_t k = (size_t)sprintf(big, "{\\rtf1{\\*\\objdata ");
    for (size_t i = 0; i < n; i++, k += 2)
        memcpy(big + k, "4a", 2);
    k += (size_t)sprintf(big + k, "}}");
    c = run_lim(big, k, &g, &l);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.size[0], n);
    assert_int_equal(c.limits + c.errors, 0);
    /* The same bytes as one \bin run: 1:1, no bomb either. */
    k = (size_t)sprintf(big, "{\\rtf1{\\*\\objdata \\bin%zu ", n);
    memset(big + k, 'J', n);
    k += n;
    k += (size_t)sprintf(big + k, "}}");
    c = run_lim(big, k, &g, &l);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.size[0], n);
    assert_int_equal(c.limits + c.errors, 0);
    l.max_member_size = (uint64_t)100 << 10;
    c = run_lim(big, k, &g, &l);
    assert_int_equal(g.n, 0);
    assert_int_equal(c.limits, 1);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),    cmocka_unit_test(test_hex_junk),
        cmocka_unit_test(test_bin),       cmocka_unit_test(test_ole1),
        cmocka_unit_test(test_package),   cmocka_unit_test(test_depth),
        cmocka_unit_test(test_truncated), cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
