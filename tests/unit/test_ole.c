/* test_ole.c: the OLE2 source (src/unpack/ole.c) and its byte formats (olefmt.c): MS-OVBA
 * decompression against the spec's examples and hostile chunks, the compound-file preflight on
 * built headers and directories, and the source on tests/fixtures/gen_ole.py's files (run from
 * here into a temporary directory; OLE_GEN names the script): stream names, module text, limits,
 * and truncated or mangled files (errors, never a crash). The dir stream's decompression is
 * also checked against libgsf's own gsf_vba_inflate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile-msvba.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-utils.h>

#include "antibody/antibody.h"
#include "unpack/olefmt.h"
#include "unpack/unpack.h"

static char fixdir[256];

/* ---- helpers ---- */

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

#define MAXM 64
typedef struct got {
    int n;
    char name[MAXM][1100];
    const char *source[MAXM], *parent[MAXM];
    uint8_t *data[MAXM];
    size_t size[MAXM];
} got;

static int collect(void *ctx, const ab_member *m)
{
    got *g = ctx;
    if (g->n >= MAXM)
        return 1;
    snprintf(g->name[g->n], sizeof(g->name[0]), "%s", m->name);
    g->source[g->n] = m->source;
    g->parent[g->n] = m->parent;
    g->data[g->n] = malloc(m->size + 1);
    if (m->size)
        memcpy(g->data[g->n], m->data, m->size);
    g->data[g->n][m->size] = 0;
    g->size[g->n] = m->size;
    g->n++;
    return 0;
}

static void got_free(got *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->data[i]);
    memset(g, 0, sizeof(*g));
}

static int find(const got *g, const char *name)
{
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->name[i], name))
            return i;
    return -1;
}

static ab_status run(const uint8_t *d, size_t n, const ab_unpack_limits *l, got *g,
                     ab_unpack_counts *c)
{
    memset(g, 0, sizeof(*g));
    return ab_unpack_run_source(&ab_source_ole, d, n, l, NULL, 0, collect, g, c);
}

/* ---- MS-OVBA ---- */

static void decompress_eq(const char *hex_in, const char *want)
{
    uint8_t in[256];
    size_t n = 0;
    for (const char *p = hex_in; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        in[n++] = (uint8_t)v;
        p += 2;
    }
    ab_ovba_buf out = {NULL, 0, 0};
    size_t used = 0;
    assert_int_equal(ab_ovba_decompress(in, n, 1 << 20, &out, &used, NULL, NULL), AB_OVBA_OK);
    assert_int_equal(used, n);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
    free(out.data);
}

/* The examples of MS-OVBA 3.2: no compression, normal, maximum compression. */
static void test_ovba_spec_examples(void **state)
{
    (void)state;
    decompress_eq("01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 "
                  "75 76 2E",
                  "abcdefghijklmnopqrstuv.");
    decompress_eq("01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B "
                  "6C 00 30 6D 6E 6F 70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C",
                  "#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa");
    decompress_eq("01 03 B0 02 61 45 00",
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaaaaaa"); /* 73 */
}

static int stop_after_first(void *ctx, size_t produced, size_t consumed)
{
    (void)produced, (void)consumed;
    return ++*(int *)ctx >= 1;
}

static void test_ovba_hostile(void **state)
{
    (void)state;
    ab_ovba_buf out = {NULL, 0, 0};
    size_t used;
    /* no signature, a bad chunk signature, a copy token with nothing before it, a cut token */
    static const uint8_t nosig[] = {0x00, 0x03, 0xB0, 0x00, 0x61};
    static const uint8_t badsig[] = {0x01, 0x03, 0xC0, 0x00, 0x61};
    static const uint8_t copy0[] = {0x01, 0x03, 0xB0, 0x01, 0x00, 0x00};
    static const uint8_t cut[] = {0x01, 0x03, 0xB0, 0x02, 0x61, 0x45};
    static const uint8_t far[] = {0x01, 0x04, 0xB0, 0x02, 0x61, 0x00, 0x10}; /* offset 2 > 1 */
    assert_int_equal(ab_ovba_decompress(nosig, sizeof(nosig), 100, &out, &used, NULL, NULL),
                     AB_OVBA_CORRUPT);
    assert_int_equal(ab_ovba_decompress(badsig, sizeof(badsig), 100, &out, &used, NULL, NULL),
                     AB_OVBA_CORRUPT);
    assert_int_equal(ab_ovba_decompress(copy0, sizeof(copy0), 100, &out, &used, NULL, NULL),
                     AB_OVBA_CORRUPT);
    out.len = 0;
    assert_int_equal(ab_ovba_decompress(cut, sizeof(cut), 100, &out, &used, NULL, NULL),
                     AB_OVBA_CORRUPT);
    assert_int_equal(out.len, 1); /* the literal before the cut token is kept */
    out.len = 0;
    assert_int_equal(ab_ovba_decompress(far, sizeof(far), 100, &out, &used, NULL, NULL),
                     AB_OVBA_CORRUPT);
    /* A bound on the output: exactly max bytes, then FULL. */
    static const uint8_t max15[] = {0x01, 0x03, 0xB0, 0x02, 0x61, 0x45, 0x00};
    free(out.data);
    memset(&out, 0, sizeof(out));
    assert_int_equal(ab_ovba_decompress(max15, sizeof(max15), 10, &out, &used, NULL, NULL),
                     AB_OVBA_FULL);
    assert_int_equal(out.len, 10);
    assert_true(out.cap <= 10);
    /* The chunk callback stops it. */
    int calls = 0;
    out.len = 0;
    assert_int_equal(
        ab_ovba_decompress(max15, sizeof(max15), 100, &out, &used, stop_after_first, &calls),
        AB_OVBA_STOPPED);
    /* Many chunks of maximal copies: bounded by max, not by the input's claims. */
    uint8_t bomb[1 + 7 * 64];
    bomb[0] = 1;
    for (int i = 0; i < 64; i++)
        memcpy(bomb + 1 + 7 * i, max15 + 1, 6), bomb[1 + 7 * i + 6] = 0;
    free(out.data);
    memset(&out, 0, sizeof(out));
    ab_ovba_status st = ab_ovba_decompress(bomb, sizeof(bomb), 1 << 20, &out, &used, NULL, NULL);
    assert_true(st == AB_OVBA_OK || st == AB_OVBA_CORRUPT);
    assert_true(out.len <= 64 * 4096);
    free(out.data);
}

/* dir records: a module is given at its terminator, with the Unicode names preferred; cut
 * records stop the walk with -1 after the modules before. */
static int dir_cb(void *ctx, const ab_vba_module *m)
{
    got *g = ctx;
    snprintf(g->name[g->n], sizeof(g->name[0]), "%s|%s|%u", m->name, m->stream, m->offset);
    g->n++;
    return 0;
}

static size_t rec(uint8_t *p, uint16_t id, const void *d, uint32_t len)
{
    p[0] = (uint8_t)id, p[1] = (uint8_t)(id >> 8);
    p[2] = (uint8_t)len, p[3] = (uint8_t)(len >> 8), p[4] = (uint8_t)(len >> 16), p[5] = 0;
    if (len)
        memcpy(p + 6, d, len);
    return 6 + len;
}

static void test_dir_records(void **state)
{
    (void)state;
    uint8_t d[512];
    size_t n = 0;
    const uint8_t ver[10] = {4, 0, 0, 0, 1, 0, 0, 0, 2, 0}; /* PROJECTVERSION: Size 4, has 6 */
    d[n++] = 0x09, d[n++] = 0;
    memcpy(d + n, ver, 10), n += 10;
    n += rec(d + n, 0x19, "M\xE9", 2);     /* MODULENAME in cp1252 */
    n += rec(d + n, 0x47, "M\0\xE9\0", 4); /* ... and in UTF-16 */
    n += rec(d + n, 0x1A, "Strm", 4);      /* MODULESTREAMNAME */
    n += rec(d + n, 0x32, "S\0t\0r\0m\0", 8);
    n += rec(d + n, 0x31, "\x10\0\0\0", 4); /* MODULEOFFSET 16 */
    n += rec(d + n, 0x2B, NULL, 0);
    n += rec(d + n, 0x19, "NoOffset", 8); /* incomplete: not given */
    n += rec(d + n, 0x1A, "NoOffset", 8);
    n += rec(d + n, 0x2B, NULL, 0);
    n += rec(d + n, 0x19, "Two", 3);
    n += rec(d + n, 0x1A, "Two", 3);
    n += rec(d + n, 0x31, "\x01\x02\0\0", 4);
    size_t cut_at = n;
    n += rec(d + n, 0x2B, NULL, 0);
    n += rec(d + n, 0x10, NULL, 0);
    got g;
    memset(&g, 0, sizeof(g));
    assert_int_equal(ab_vba_dir_modules(d, n, dir_cb, &g), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.name[0], "M\xC3\xA9|Strm|16");
    assert_string_equal(g.name[1], "Two|Two|513");
    /* Cut inside a record: the complete module before it is still given. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(ab_vba_dir_modules(d, cut_at + 3, dir_cb, &g), -1);
    assert_int_equal(g.n, 2);
    memset(&g, 0, sizeof(g));
    d[cut_at - 10 + 2] = 0xFF; /* MODULEOFFSET's size past the end */
    assert_int_equal(ab_vba_dir_modules(d, n, dir_cb, &g), -1);
    assert_int_equal(g.n, 1);
}

/* ---- compound-file preflight ---- */

/* A v3 file whose directory is n_dir sectors (chained), FAT first; fill() writes the entries. */
static uint8_t *build_cfb(uint32_t n_dir, size_t *size, void (*fill)(uint8_t *dir, uint32_t n))
{
    uint32_t n_fat = 1;
    while (n_fat * 128 < n_fat + n_dir)
        n_fat++;
    assert_true(n_fat <= 109);
    *size = 512 + (size_t)(n_fat + n_dir) * 512;
    uint8_t *f = calloc(1, *size);
    memcpy(f, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
    uint16_t h16[][2] = {{0x18, 0x3E}, {0x1A, 3}, {0x1C, 0xFFFE}, {0x1E, 9}, {0x20, 6}};
    for (size_t i = 0; i < 5; i++)
        f[h16[i][0]] = (uint8_t)h16[i][1], f[h16[i][0] + 1] = (uint8_t)(h16[i][1] >> 8);
    uint32_t h32[][2] = {
        {0x2C, n_fat}, {0x30, n_fat}, {0x38, 4096}, {0x3C, 0xFFFFFFFE}, {0x44, 0xFFFFFFFE}};
    for (size_t i = 0; i < 5; i++)
        memcpy(f + h32[i][0], &h32[i][1], 4);
    for (uint32_t i = 0; i < 109; i++) {
        uint32_t v = i < n_fat ? i : 0xFFFFFFFF;
        memcpy(f + 0x4C + i * 4, &v, 4);
    }
    uint32_t *fat = (uint32_t *)(f + 512);
    for (uint32_t i = 0; i < n_fat * 128; i++)
        fat[i] = i < n_fat ? 0xFFFFFFFD : 0xFFFFFFFF;
    for (uint32_t i = 0; i < n_dir; i++)
        fat[n_fat + i] = i + 1 < n_dir ? n_fat + i + 1 : 0xFFFFFFFE;
    fill(f + 512 + (size_t)n_fat * 512, n_dir * 4);
    return f;
}

static void entry(uint8_t *e, const char *name, uint8_t type, uint32_t left, uint32_t right,
                  uint32_t child)
{
    size_t k = strlen(name);
    for (size_t i = 0; i < k; i++)
        e[2 * i] = (uint8_t)name[i];
    uint16_t nl = (uint16_t)(2 * k + 2);
    memcpy(e + 0x40, &nl, 2);
    e[0x42] = type;
    e[0x43] = 1;
    memcpy(e + 0x44, &left, 4);
    memcpy(e + 0x48, &right, 4);
    memcpy(e + 0x4C, &child, 4);
    uint32_t end = 0xFFFFFFFE;
    memcpy(e + 0x74, &end, 4);
}

/* A root whose child is a chain of n-1 streams linked by their left siblings. */
static void fill_chain(uint8_t *dir, uint32_t n)
{
    entry(dir, "Root Entry", 5, 0xFFFFFFFF, 0xFFFFFFFF, 1);
    for (uint32_t i = 1; i < n; i++) {
        char nm[16];
        snprintf(nm, sizeof(nm), "s%u", i);
        entry(dir + (size_t)i * 128, nm, 2, i + 1 < n ? i + 1 : 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF);
    }
}

/* The same entries as a balanced tree: wide but shallow. */
static uint32_t balanced(uint8_t *dir, uint32_t lo, uint32_t hi)
{
    if (lo >= hi)
        return 0xFFFFFFFF;
    uint32_t m = lo + (hi - lo) / 2;
    char nm[16];
    snprintf(nm, sizeof(nm), "s%u", m);
    entry(dir + (size_t)m * 128, nm, 2, balanced(dir, lo, m), balanced(dir, m + 1, hi), 0xFFFFFFFF);
    return m;
}

static void fill_balanced(uint8_t *dir, uint32_t n)
{
    uint32_t top = balanced(dir, 1, n);
    entry(dir, "Root Entry", 5, 0xFFFFFFFF, 0xFFFFFFFF, top);
}

static void test_preflight(void **state)
{
    (void)state;
    char why[160];
    size_t size;
    uint8_t *f = build_cfb(8, &size, fill_chain); /* 32 entries, 31 deep */
    assert_int_equal(ab_cfb_preflight(f, size, why, sizeof(why)), 0);
    got g;
    ab_unpack_counts c;
    assert_int_equal(run(f, size, NULL, &g, &c), AB_OK);
    assert_int_equal(g.n, 31); /* every (empty) stream, through libgsf */
    got_free(&g);
    /* header fields off the spec */
    f[0x1E] = 7;
    assert_int_equal(ab_cfb_preflight(f, size, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "sector size"));
    f[0x1E] = 9;
    uint32_t big = 0x00FFFFFF;
    memcpy(f + 0x2C, &big, 4);
    assert_int_equal(ab_cfb_preflight(f, size, why, sizeof(why)), -1);
    assert_int_equal(run(f, size, NULL, &g, &c), AB_ERR_PARSE);
    assert_int_equal(c.errors, 1);
    assert_int_equal(g.n, 0);
    free(f);
    /* links nested deeper than libgsf's recursion should go */
    f = build_cfb(600, &size, fill_chain); /* 2400 entries in one chain */
    assert_int_equal(ab_cfb_preflight(f, size, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "deeper"));
    free(f);
    f = build_cfb(600, &size, fill_balanced); /* the same entries, balanced */
    assert_int_equal(ab_cfb_preflight(f, size, why, sizeof(why)), 0);
    assert_int_equal(run(f, size, NULL, &g, &c), AB_OK);
    assert_int_equal(g.n, MAXM); /* (collect stops at MAXM) */
    got_free(&g);
    free(f);
    /* too many entries */
    f = build_cfb(AB_CFB_MAX_DIRENTS / 4 + 1, &size, fill_balanced);
    assert_int_equal(ab_cfb_preflight(f, size, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "directory entries"));
    free(f);
}

/* ---- the source on the generated files ---- */

static const char *const project_streams[] = {"VBA/dir",     "VBA/_VBA_PROJECT", "VBA/ThisDocument",
                                              "VBA/Module1", "PROJECT",          "PROJECTwm"};

static void check_modules(const got *g)
{
    int m1 = find(g, "Module1"), td = find(g, "ThisDocument");
    assert_true(m1 >= 0 && td >= 0);
    assert_string_equal(g->source[m1], "vba");
    assert_string_equal(g->parent[m1], "VBA");
    assert_string_equal(g->source[td], "vba");
    assert_memory_equal(g->data[m1], "Attribute VB_Name = \"Module1\"\r\n", 31);
    assert_non_null(strstr((char *)g->data[m1], "token = \"HgQdbx4qRNv\"\r\n"));
    assert_non_null(
        strstr((char *)g->data[m1], "C:/Server/Mail/App_Data/Temp/agent.sh/src/main.go"));
    assert_non_null(strstr((char *)g->data[m1], "End Sub\r\n"));
    assert_int_equal(strlen((char *)g->data[m1]), g->size[m1]);
    assert_non_null(strstr((char *)g->data[td], "Private Sub Document_Open()\r\n"));
    assert_true(m1 > td); /* dir order */
    /* the raw module stream is compressed: the text is not in it */
    int raw = find(g, "VBA/Module1") >= 0 ? find(g, "VBA/Module1") : find(g, "Macros/VBA/Module1");
    assert_true(raw >= 0);
    assert_null(g->source[raw]);
    assert_null(memmem(g->data[raw], g->size[raw], "HgQdbx4qRNv", 11));
}

static void test_vba_project(void **state)
{
    (void)state;
    const char *names[] = {"vbaProject.bin", "vba_project.ole", "literal.ole"};
    for (size_t k = 0; k < 3; k++) {
        file f = slurp(names[k]);
        got g;
        ab_unpack_counts c;
        assert_int_equal(run(f.data, f.size, NULL, &g, &c), AB_OK);
        assert_int_equal(c.errors, 0);
        assert_int_equal(g.n, 8);
        for (size_t i = 0; i < 6; i++)
            assert_true(find(&g, project_streams[i]) >= 0);
        check_modules(&g);
        assert_memory_equal(g.data[find(&g, "VBA/_VBA_PROJECT")], "\xCC\x61\xFF\xFF", 4);
        got_free(&g);
        free(f.data);
    }
}

static void test_doc(void **state)
{
    (void)state;
    file f = slurp("macro.doc");
    got g;
    ab_unpack_counts c;
    assert_int_equal(run(f.data, f.size, NULL, &g, &c), AB_OK);
    assert_int_equal(c.errors, 0);
    int wd = find(&g, "WordDocument");
    assert_true(wd >= 0);
    assert_int_equal(g.size[wd], 6000); /* regular sectors, chained backwards */
    assert_non_null(memmem(g.data[wd], g.size[wd], "ANTIBODY-OLE-PLAIN-STREAM-MARKER", 32));
    assert_null(memmem(f.data, f.size, "ANTIBODY-OLE-PLAIN-STREAM-MARKER", 32));
    assert_true(find(&g, "\x05SummaryInformation") >= 0);
    assert_true(find(&g, "1Table") >= 0);
    assert_true(find(&g, "Macros/VBA/Module1") >= 0);
    assert_true(find(&g, "Macros/VBA/dir") >= 0);
    assert_true(find(&g, "Macros/PROJECT") >= 0);
    check_modules(&g);
    assert_int_equal(g.n, 3 + 6 + 2);
    got_free(&g);
    free(f.data);
}

/* libgsf's own MS-OVBA reader agrees on the dir stream (a single chunk: its reader's case). */
static void test_dir_matches_libgsf(void **state)
{
    (void)state;
    file f = slurp("vbaProject.bin");
    GsfInput *in = gsf_input_memory_new(f.data, (gsf_off_t)f.size, FALSE);
    GsfInfile *ole = gsf_infile_msole_new(in, NULL);
    assert_non_null(ole);
    GsfInput *vba = gsf_infile_child_by_name(ole, "VBA");
    assert_non_null(vba);
    GsfInput *dir = gsf_infile_child_by_name(GSF_INFILE(vba), "dir");
    assert_non_null(dir);
    size_t raw_n = (size_t)gsf_input_size(dir);
    uint8_t *raw = malloc(raw_n);
    assert_non_null(gsf_input_read(dir, raw_n, raw));
    gsf_input_seek(dir, 0, G_SEEK_SET);
    int n = 0;
    guint8 *theirs = gsf_vba_inflate(dir, 0, &n, FALSE);
    assert_non_null(theirs);
    ab_ovba_buf ours = {NULL, 0, 0};
    assert_int_equal(ab_ovba_decompress(raw, raw_n, 1 << 20, &ours, NULL, NULL, NULL), AB_OVBA_OK);
    assert_int_equal(ours.len, (size_t)n);
    assert_memory_equal(ours.data, theirs, ours.len);
    g_free(theirs);
    free(ours.data);
    free(raw);
    g_object_unref(dir);
    g_object_unref(vba);
    g_object_unref(ole);
    g_object_unref(in);
    free(f.data);
}

static void test_limits(void **state)
{
    (void)state;
    file f = slurp("macro.doc");
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 700; /* Module1's text (~420) and the small streams fit; not WordDocument */
    got g;
    ab_unpack_counts c;
    assert_int_equal(run(f.data, f.size, &l, &g, &c), AB_OK);
    assert_int_equal(find(&g, "WordDocument"), -1);
    assert_true(find(&g, "Module1") >= 0);
    assert_true(c.limits >= 1);
    assert_string_equal(c.last_limit, "max-member-size");
    got_free(&g);
    l.max_member_size = 100; /* now the module text too, while it is decompressed */
    assert_int_equal(run(f.data, f.size, &l, &g, &c), AB_OK);
    assert_int_equal(find(&g, "Module1"), -1);
    assert_true(find(&g, "Macros/VBA/_VBA_PROJECT") >= 0); /* 7 bytes */
    got_free(&g);
    ab_unpack_limits_default(&l);
    l.max_members = 3;
    run(f.data, f.size, &l, &g, &c);
    assert_int_equal(g.n, 3);
    got_free(&g);
    free(f.data);
}

/* Truncated and mangled files: errors and partial members, never a crash (run under ASan in
 * the sanitizer build); a file cut inside its header is one error and no member. */
static void test_corrupt(void **state)
{
    (void)state;
    const char *names[] = {"macro.doc", "vbaProject.bin"};
    for (size_t k = 0; k < 2; k++) {
        file f = slurp(names[k]);
        got g;
        ab_unpack_counts c;
        for (size_t cut = 8; cut < f.size; cut += cut < 600 ? 37 : 211) {
            ab_status st = run(f.data, cut, NULL, &g, &c);
            if (cut < 512) {
                assert_int_equal(st, AB_ERR_PARSE);
                assert_int_equal(c.errors, 1);
                assert_int_equal(g.n, 0);
                assert_non_null(strstr(c.last_error, "ole: not a readable compound file"));
            }
            got_free(&g);
        }
        uint32_t seed = 12345;
        uint8_t *m = malloc(f.size);
        for (int round = 0; round < 400; round++) {
            memcpy(m, f.data, f.size);
            for (int j = 0; j < 1 + round % 8; j++) {
                seed = seed * 1103515245u + 12345u;
                m[(seed >> 8) % f.size] = (uint8_t)(seed >> 24);
            }
            run(m, f.size, NULL, &g, &c);
            got_free(&g);
        }
        free(m);
        free(f.data);
    }
}

static void test_claims(void **state)
{
    (void)state;
    assert_true(ab_source_ole.claims((const uint8_t *)"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8));
    assert_false(ab_source_ole.claims((const uint8_t *)"\xD0\xCF\x11\xE0\xA1\xB1\x1A", 7));
    assert_false(ab_source_ole.claims((const uint8_t *)"PK\3\4\0\0\0\0", 8));
    assert_string_equal(ab_source_ole.name, "ole");
    assert_string_equal(ab_source_ole.parent, "OLE");
}

static int setup(void **state)
{
    (void)state;
    const char *gen = getenv("OLE_GEN");
    snprintf(fixdir, sizeof(fixdir), "/tmp/antibody-ole.XXXXXX");
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
        cmocka_unit_test(test_claims),       cmocka_unit_test(test_ovba_spec_examples),
        cmocka_unit_test(test_ovba_hostile), cmocka_unit_test(test_dir_records),
        cmocka_unit_test(test_preflight),    cmocka_unit_test(test_vba_project),
        cmocka_unit_test(test_doc),          cmocka_unit_test(test_dir_matches_libgsf),
        cmocka_unit_test(test_limits),       cmocka_unit_test(test_corrupt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
