/* test_pdf.c: the PDF source (src/unpack/pdf.c) alone through ab_unpack_run_source, on PDFs
 * built here (classic xref tables with right offsets, or wrong on purpose), and inside the engine
 * through ab_scan_buffer (locations, observables). Hostile inputs: truncations at every offset,
 * a Flate bomb, an object-stream bomb, a huge /Size, deep nesting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include <cmocka.h>

#include "antibody/antibody.h"
#include "unpack/unpack.h"

/* ---- a tiny PDF writer ---- */

typedef struct pbuf {
    char *p;
    size_t n, cap;
} pbuf;

static void put(pbuf *b, const void *d, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void putf(pbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(pbuf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(tmp));
    put(b, tmp, (size_t)n);
}

/* One object body: text, or a stream (dict text + data). */
typedef struct pobj {
    const char *text;
    const char *sdict; /* non-NULL: a stream with this dictionary text */
    const void *sdata;
    size_t slen;
} pobj;

/* objs[0] is object 1. offset_skew moves every xref offset (0: right). */
static pbuf build(const pobj *objs, size_t n, long offset_skew)
{
    pbuf b = {0};
    size_t off[64];
    assert_true(n < 64);
    put(&b, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 15);
    for (size_t i = 0; i < n; i++) {
        off[i] = b.n;
        putf(&b, "%zu 0 obj\n", i + 1);
        if (objs[i].sdict) {
            putf(&b, "<< %s /Length %zu >>\nstream\n", objs[i].sdict, objs[i].slen);
            put(&b, objs[i].sdata, objs[i].slen);
            putf(&b, "\nendstream");
        } else {
            putf(&b, "%s", objs[i].text);
        }
        putf(&b, "\nendobj\n");
    }
    size_t xref = b.n;
    putf(&b, "xref\n0 %zu\n0000000000 65535 f \n", n + 1);
    for (size_t i = 0; i < n; i++)
        putf(&b, "%010ld 00000 n \n", (long)off[i] + offset_skew);
    putf(&b, "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", n + 1, xref);
    return b;
}

static size_t deflate_into(const void *src, size_t n, uint8_t **out)
{
    uLongf cap = compressBound((uLong)n);
    *out = malloc(cap);
    assert_non_null(*out);
    assert_int_equal(compress2(*out, &cap, src, (uLong)n, 9), Z_OK);
    return cap;
}

/* ---- members collected ---- */

#define MAXM 64
typedef struct got {
    size_t n;
    char name[MAXM][64];
    char *data[MAXM]; /* NUL-terminated copies */
    size_t size[MAXM];
} got;

static int collect(void *ctx, const ab_member *m)
{
    got *g = ctx;
    if (g->n < MAXM) {
        snprintf(g->name[g->n], sizeof(g->name[0]), "%s", m->name);
        g->data[g->n] = malloc(m->size + 1);
        memcpy(g->data[g->n], m->data, m->size);
        g->data[g->n][m->size] = '\0';
        g->size[g->n] = m->size;
        g->n++;
    }
    return 0;
}

static void got_free(got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->data[i]);
    memset(g, 0, sizeof(*g));
}

static const char *member(got *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->name[i], name))
            return g->data[i];
    return NULL;
}

static ab_status run(const pbuf *b, got *g, ab_unpack_counts *c)
{
    return ab_unpack_run_source(&ab_source_pdf, (const uint8_t *)b->p, b->n, NULL, NULL, 0, collect,
                                g, c);
}

/* ---- the documents ---- */

static const char JS_OPEN[] = "app.alert('PDF_JS_OPEN_MARKER');";
static const char JS_TREE[] = "var s = 'PDF_JS_TREE_MARKER'; app.alert(s);";
static const char CONTENT[] = "BT /F1 12 Tf 72 720 Td (PDF_FLATE_MARKER) Tj ET\n";
static const char EMBEDDED[] = "MZ this is the embedded artefact EMBEDDED_MARKER";

typedef struct doc {
    uint8_t *content, *emb, *js;
    size_t ncontent, nemb, njs;
    pobj o[11];
} doc;

static void doc_make(doc *d)
{
    memset(d, 0, sizeof(*d));
    d->ncontent = deflate_into(CONTENT, sizeof(CONTENT) - 1, &d->content);
    d->nemb = deflate_into(EMBEDDED, sizeof(EMBEDDED) - 1, &d->emb);
    d->njs = deflate_into(JS_TREE, sizeof(JS_TREE) - 1, &d->js);
    static char catalog[256];
    snprintf(catalog, sizeof(catalog),
             "<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (%s) >> "
             "/Names << /JavaScript 8 0 R /EmbeddedFiles 6 0 R >> >>",
             "app.alert\\('PDF_JS_OPEN_MARKER'\\);");
    pobj o[11] = {
        {catalog, NULL, NULL, 0},
        {"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", NULL, NULL, 0},
        {"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Annots [5 0 R] "
         ">>",
         NULL, NULL, 0},
        {NULL, "/Filter /FlateDecode", d->content, d->ncontent},
        {"<< /Type /Annot /Subtype /Link /A << /S /URI /URI (http://example.org/payload) >> >>",
         NULL, NULL, 0},
        {"<< /Names [(artefact.exe) 7 0 R] >>", NULL, NULL, 0},
        {"<< /Type /Filespec /F (old.exe) /UF (artefact.exe) /EF << /F 10 0 R >> >>", NULL, NULL,
         0},
        {"<< /Names [(tree) 9 0 R] >>", NULL, NULL, 0},
        {"<< /S /JavaScript /JS 11 0 R >>", NULL, NULL, 0},
        {NULL, "/Type /EmbeddedFile /Filter /FlateDecode", d->emb, d->nemb},
        {NULL, "/Filter /FlateDecode", d->js, d->njs},
    };
    memcpy(d->o, o, sizeof(o));
}

static void doc_free(doc *d)
{
    free(d->content);
    free(d->emb);
    free(d->js);
}

/* ---- tests ---- */

static void test_claims(void **state)
{
    (void)state;
    assert_true(ab_source_pdf.claims((const uint8_t *)"%PDF-1.4\n", 9));
    uint8_t buf[2048];
    memset(buf, ' ', sizeof(buf));
    memcpy(buf + 1000, "%PDF-", 5);
    assert_true(ab_source_pdf.claims(buf, sizeof(buf)));
    memset(buf, ' ', sizeof(buf));
    memcpy(buf + 1020, "%PDF-", 5); /* ends past the first 1024 bytes */
    assert_false(ab_source_pdf.claims(buf, sizeof(buf)));
    assert_false(ab_source_pdf.claims((const uint8_t *)"%PDF", 4));
    assert_false(ab_source_pdf.claims(NULL, 0));
}

static void test_document(void **state)
{
    (void)state;
    doc d;
    doc_make(&d);
    pbuf b = build(d.o, 11, 0);
    got g = {0};
    ab_unpack_counts c;
    assert_int_equal(run(&b, &g, &c), AB_OK);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.limits, 0);
    /* The OpenAction's string, then the tree's stream named as JavaScript, not "11 0". */
    const char *js1 = member(&g, "javascript 1");
    assert_non_null(js1);
    assert_string_equal(js1, JS_OPEN);
    const char *js2 = member(&g, "javascript 2");
    assert_non_null(js2);
    assert_string_equal(js2, JS_TREE);
    assert_null(member(&g, "11 0"));
    /* The page content, decoded; the embedded file under its /UF name. */
    assert_non_null(member(&g, "4 0"));
    assert_string_equal(member(&g, "4 0"), CONTENT);
    assert_non_null(member(&g, "artefact.exe"));
    assert_string_equal(member(&g, "artefact.exe"), EMBEDDED);
    assert_null(member(&g, "10 0"));
    assert_int_equal(c.members, 4);
    assert_int_equal(g.n, 4);
    got_free(&g);
    free(b.p);

    /* Wrong xref offsets: qpdf rebuilds the table and the same members come out. */
    b = build(d.o, 11, 7);
    assert_int_equal(run(&b, &g, &c), AB_OK);
    assert_int_equal(g.n, 4);
    assert_non_null(member(&g, "artefact.exe"));
    assert_non_null(member(&g, "4 0"));
    got_free(&g);
    free(b.p);
    doc_free(&d);
}

static void test_filters(void **state)
{
    (void)state;
    static const char hex[] = "5044465f4148585f4d41524b4552 >"; /* PDF_AHX_MARKER */
    static const char a85[] = "5uU-B8N8RMDe:,$ASc:/~>";         /* "ASCII85 of below" */
    static const uint8_t rl[] = {5, 'P', 'D', 'F', '_', 'R', 'L', 257 - 3, 'x', 128};
    uint8_t *fl;
    const char inner[] = "PDF_A85FL_MARKER";
    size_t nfl = deflate_into(inner, sizeof(inner) - 1, &fl);
    /* ASCII85 of the Flate bytes, by hand (4 bytes -> 5 chars). */
    pbuf a = {0};
    for (size_t i = 0; i < nfl; i += 4) {
        uint32_t v = 0;
        size_t k = nfl - i < 4 ? nfl - i : 4;
        for (size_t j = 0; j < 4; j++)
            v = v << 8 | (j < k ? fl[i + j] : 0);
        char c[5];
        for (int j = 4; j >= 0; j--) {
            c[j] = (char)('!' + v % 85);
            v /= 85;
        }
        put(&a, c, k + 1);
    }
    put(&a, "~>", 2);
    pobj o[6] = {
        {"<< /Type /Catalog /Pages 2 0 R >>", NULL, NULL, 0},
        {"<< /Type /Pages /Kids [] /Count 0 >>", NULL, NULL, 0},
        {NULL, "/Filter /ASCIIHexDecode", hex, sizeof(hex) - 1},
        {NULL, "/Filter /ASCII85Decode", a85, sizeof(a85) - 1},
        {NULL, "/Filter /RunLengthDecode", rl, sizeof(rl)},
        {NULL, "/Filter [/ASCII85Decode /FlateDecode]", a.p, a.n},
    };
    pbuf b = build(o, 6, 0);
    got g = {0};
    ab_unpack_counts c;
    assert_int_equal(run(&b, &g, &c), AB_OK);
    assert_non_null(member(&g, "3 0"));
    assert_string_equal(member(&g, "3 0"), "PDF_AHX_MARKER");
    assert_non_null(member(&g, "4 0"));
    assert_string_equal(member(&g, "4 0"), "ASCII85 of below");
    assert_non_null(member(&g, "5 0"));
    assert_string_equal(member(&g, "5 0"), "PDF_RLxxx");
    assert_non_null(member(&g, "6 0"));
    assert_string_equal(member(&g, "6 0"), inner);
    got_free(&g);
    free(b.p);
    free(a.p);
    free(fl);
}

/* A stream qpdf cannot decode (DCT) and a broken Flate stream are scanned raw. */
static void test_raw_fallback(void **state)
{
    (void)state;
    static const char dct[] = "\xff\xd8\xff\xe0 not really a jpeg RAW_DCT_MARKER";
    static const char bad[] = "x\x9c this is not deflate BROKEN_FLATE_MARKER";
    pobj o[4] = {
        {"<< /Type /Catalog /Pages 2 0 R >>", NULL, NULL, 0},
        {"<< /Type /Pages /Kids [] /Count 0 >>", NULL, NULL, 0},
        {NULL, "/Filter /DCTDecode", dct, sizeof(dct) - 1},
        {NULL, "/Filter /FlateDecode", bad, sizeof(bad) - 1},
    };
    pbuf b = build(o, 4, 0);
    got g = {0};
    ab_unpack_counts c;
    assert_int_equal(run(&b, &g, &c), AB_OK);
    assert_non_null(member(&g, "3 0"));
    assert_non_null(strstr(member(&g, "3 0"), "RAW_DCT_MARKER"));
    assert_non_null(member(&g, "4 0"));
    assert_non_null(strstr(member(&g, "4 0"), "BROKEN_FLATE_MARKER"));
    got_free(&g);
    free(b.p);
}

/* LZW (no dry run here) that could expand past the member limit: scanned raw, said. */
static void test_lzw_big(void **state)
{
    (void)state;
    size_t n = 64 << 10;
    char *raw = malloc(n);
    memset(raw, 'A', n);
    memcpy(raw + 100, "LZW_RAW_MARKER", 14);
    pobj o[3] = {
        {"<< /Type /Catalog /Pages 2 0 R >>", NULL, NULL, 0},
        {"<< /Type /Pages /Kids [] /Count 0 >>", NULL, NULL, 0},
        {NULL, "/Filter /LZWDecode", raw, n},
    };
    pbuf b = build(o, 3, 0);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = (uint64_t)64 << 20; /* 64 KiB x 4096 > 64 MiB */
    got g = {0};
    ab_unpack_counts c;
    assert_int_equal(ab_unpack_run_source(&ab_source_pdf, (const uint8_t *)b.p, b.n, &l, NULL, 0,
                                          collect, &g, &c),
                     AB_OK);
    assert_int_equal(c.errors, 1);
    assert_non_null(strstr(c.last_error, "could expand"));
    assert_non_null(member(&g, "3 0"));
    assert_non_null(strstr(member(&g, "3 0") + 100, "LZW_RAW_MARKER"));
    got_free(&g);
    free(b.p);
    free(raw);
}

/* A predictor row of 2 GB (qpdf would allocate two): not decoded, scanned raw, said. */
static void test_predictor_rows(void **state)
{
    (void)state;
    uint8_t *z;
    size_t nz = deflate_into("\002PREDICTOR_MARKER", 18, &z);
    pobj o[3] = {
        {"<< /Type /Catalog /Pages 2 0 R >>", NULL, NULL, 0},
        {"<< /Type /Pages /Kids [] /Count 0 >>", NULL, NULL, 0},
        {NULL, "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 2000000000 >>", z, nz},
    };
    pbuf b = build(o, 3, 0);
    got g = {0};
    ab_unpack_counts c;
    assert_int_equal(run(&b, &g, &c), AB_OK);
    assert_int_equal(c.errors, 1);
    assert_non_null(strstr(c.last_error, "predictor rows"));
    assert_non_null(member(&g, "3 0"));
    assert_int_equal(g.size[0], nz); /* the raw bytes */
    got_free(&g);
    free(b.p);
    free(z);
}

static void test_flate_bomb(void **state)
{
    (void)state;
    size_t n = (size_t)32 << 20;
    uint8_t *zeros = calloc(1, n), *z;
    size_t nz = deflate_into(zeros, n, &z);
    free(zeros);
    pobj o[4] = {
        {"<< /Type /Catalog /Pages 2 0 R >>", NULL, NULL, 0},
        {"<< /Type /Pages /Kids [] /Count 0 >>", NULL, NULL, 0},
        {NULL, "/Filter /FlateDecode", z, nz},
        {NULL, "/Filter /FlateDecode", z, 64}, /* a cut bomb: small, fits */
    };
    pbuf b = build(o, 4, 0);
    got g = {0};
    ab_unpack_counts c;
    assert_int_equal(run(&b, &g, &c), AB_OK);
    assert_int_equal(c.limits, 1);
    assert_string_equal(c.last_limit, "max-ratio");
    assert_null(member(&g, "3 0"));
    got_free(&g);
    free(b.p);

    /* The same bomb as an object stream: found by the pre-scan before qpdf expands it. */
    pbuf x = {0};
    put(&x, "%PDF-1.5\n", 9);
    putf(&x,
         "1 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %zu >>\n"
         "stream\n",
         nz);
    put(&x, z, nz);
    putf(&x, "\nendstream\nendobj\nstartxref\n9\n%%%%EOF\n");
    assert_int_equal(ab_unpack_run_source(&ab_source_pdf, (const uint8_t *)x.p, x.n, NULL, NULL, 0,
                                          collect, &g, &c),
                     AB_ERR_PARSE);
    assert_int_equal(c.limits, 1);
    assert_string_equal(c.last_limit, "max-ratio");
    assert_true(c.errors >= 1);
    got_free(&g);
    free(x.p);
    free(z);
}

/* Small limits: a stream over --max-member-size is skipped, not decoded past it. */
static void test_member_limit(void **state)
{
    (void)state;
    size_t n = (size_t)3 << 20;
    char *text = malloc(n);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)('a' + (i * 7 + i / 13) % 26);
    uint8_t *z;
    size_t nz = deflate_into(text, n, &z);
    free(text);
    pobj o[3] = {
        {"<< /Type /Catalog /Pages 2 0 R >>", NULL, NULL, 0},
        {"<< /Type /Pages /Kids [] /Count 0 >>", NULL, NULL, 0},
        {NULL, "/Filter /FlateDecode", z, nz},
    };
    pbuf b = build(o, 3, 0);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = (uint64_t)1 << 20;
    got g = {0};
    ab_unpack_counts c;
    assert_int_equal(ab_unpack_run_source(&ab_source_pdf, (const uint8_t *)b.p, b.n, &l, NULL, 0,
                                          collect, &g, &c),
                     AB_OK);
    assert_int_equal(c.limits, 1);
    assert_string_equal(c.last_limit, "max-member-size");
    assert_int_equal(g.n, 0);
    got_free(&g);
    free(b.p);
    free(z);
}

static void test_corrupt(void **state)
{
    (void)state;
    static const char bad[] = "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pag";
    got g = {0};
    ab_unpack_counts c;
    assert_int_equal(ab_unpack_run_source(&ab_source_pdf, (const uint8_t *)bad, sizeof(bad) - 1,
                                          NULL, NULL, 0, collect, &g, &c),
                     AB_ERR_PARSE);
    assert_int_equal(c.errors, 1);
    assert_non_null(strstr(c.last_error, "pdf: cannot read"));
    assert_null(strchr(c.last_error, '\n'));
    assert_int_equal(g.n, 0);
}

/* Every prefix of a valid document (every 5th byte): no crash, no hang, what is readable. */
static void test_truncations(void **state)
{
    (void)state;
    doc d;
    doc_make(&d);
    pbuf b = build(d.o, 11, 0);
    for (size_t len = 0; len < b.n; len += 5) {
        got g = {0};
        ab_unpack_counts c;
        ab_unpack_run_source(&ab_source_pdf, (const uint8_t *)b.p, len, NULL, NULL, 0, collect, &g,
                             &c);
        got_free(&g);
    }
    free(b.p);
    doc_free(&d);
}

/* A trailer claiming two billion objects and a deeply nested array: bounded, quick. */
static void test_hostile_counts(void **state)
{
    (void)state;
    pbuf b = {0};
    put(&b, "%PDF-1.7\n", 9);
    size_t o1 = b.n;
    putf(&b, "1 0 obj\n<< /Type /Catalog /OpenAction ");
    for (int i = 0; i < 600; i++)
        put(&b, "[", 1);
    for (int i = 0; i < 600; i++)
        put(&b, "]", 1);
    putf(&b, " >>\nendobj\n");
    size_t xref = b.n;
    putf(&b,
         "xref\n0 2\n0000000000 65535 f \n%010zu 00000 n \ntrailer\n<< /Size 2000000000 /Root "
         "1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
         o1, xref);
    got g = {0};
    ab_unpack_counts c;
    clock_t t0 = clock();
    ab_unpack_run_source(&ab_source_pdf, (const uint8_t *)b.p, b.n, NULL, NULL, 0, collect, &g, &c);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(secs < 10);
    assert_true(c.errors >= 1);
    assert_non_null(strstr(c.last_error, "objects"));
    got_free(&g);
    free(b.p);
}

/* ---- inside the engine ---- */

typedef struct seen {
    int flate, embedded, js, url_on_file;
    char loc1[64], src1[16];
} seen;

static int sink(void *ctx, const ab_event *ev)
{
    seen *s = ctx;
    if (ev->kind != AB_EVENT_FINDING)
        return 0;
    const ab_finding *f = &ev->u.finding;
    if (!strcmp(f->rule, "pdf_flate") && f->obj.location_len == 2) {
        s->flate++;
        snprintf(s->loc1, sizeof(s->loc1), "%s", f->obj.location[1]);
        snprintf(s->src1, sizeof(s->src1), "%s",
                 f->obj.location_source && f->obj.location_source[1] ? f->obj.location_source[1]
                                                                     : "");
    }
    if (!strcmp(f->rule, "pdf_embedded") && f->obj.location_len == 2 &&
        !strcmp(f->obj.location[1], "artefact.exe"))
        s->embedded++;
    if (!strcmp(f->rule, "pdf_js") && f->obj.location_len == 2 &&
        !strncmp(f->obj.location[1], "javascript ", 11))
        s->js++;
    if (f->obj.location_len == 1)
        for (size_t i = 0; i < f->obj.observables_len; i++)
            if (!strcmp(f->obj.observable_type[i], "url") &&
                !strcmp(f->obj.observable_value[i], "http://example.org/payload"))
                s->url_on_file++;
    return 0;
}

static void nodiag(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    (void)ctx;
    if (level == AB_DIAG_ERROR)
        fprintf(stderr, "%s: %s\n", where, msg);
}

static void test_engine(void **state)
{
    (void)state;
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_rules_string(
                         sc,
                         "rule pdf_flate { strings: $a = \"PDF_FLATE_MARKER\" condition: $a }\n"
                         "rule pdf_embedded { strings: $a = \"EMBEDDED_MARKER\" condition: $a }\n"
                         "rule pdf_js { strings: $a = \"PDF_JS_TREE_MARKER\" condition: $a }\n"
                         "rule pdf_file { strings: $a = \"%PDF-\" condition: $a at 0 }\n",
                         "pdf.yar", "t", nodiag, NULL),
                     AB_OK);
    assert_int_equal(ab_scanner_compile(sc, nodiag, NULL), AB_OK);
    doc d;
    doc_make(&d);
    pbuf b = build(d.o, 11, 0);
    seen s = {0};
    ab_sink k = {sink, &s};
    assert_int_equal(ab_scan_buffer(sc, b.p, b.n, "doc.pdf", &k), AB_OK);
    assert_int_equal(s.flate, 1);
    assert_string_equal(s.loc1, "4 0");
    assert_string_equal(s.src1, "pdf");
    assert_int_equal(s.embedded, 1);
    assert_int_equal(s.js, 1);
    /* The URI action is an observable of the PDF itself, and the PDF's own finding carries it:
     * its verdict is delivered after its sources ran. */
    assert_int_equal(s.url_on_file, 1);
    free(b.p);
    doc_free(&d);
    ab_scanner_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),         cmocka_unit_test(test_document),
        cmocka_unit_test(test_filters),        cmocka_unit_test(test_raw_fallback),
        cmocka_unit_test(test_predictor_rows), cmocka_unit_test(test_lzw_big),
        cmocka_unit_test(test_flate_bomb),     cmocka_unit_test(test_member_limit),
        cmocka_unit_test(test_corrupt),        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_hostile_counts), cmocka_unit_test(test_engine),
    };
    assert_int_equal(ab_init(), AB_OK);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ab_finish();
    return rc;
}
