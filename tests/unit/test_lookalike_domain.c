/* test_lookalike_domain.c: the guard of protected domains (src/match/lookalike_domain.c) over a
 * table of (protected, host, expected kind or none), ab_domain_normalize, and the engine: a PDF
 * whose URI action links to a lookalike gives a "lookalike-domain" mail signal, the real domain
 * none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "antibody/antibody.h"
#include "match/lookalike_domain.h"

typedef struct tcase {
    const char *protected_list; /* comma-separated */
    const char *host;
    const char *kind; /* NULL: no finding */
    int score;        /* 0: not checked */
} tcase;

#define OU "our-university.ac.uk"

static const tcase cases[] = {
    /* homoglyphs: Cyrillic о (U+043E), і (U+0456), у (U+0443), Greek ο (U+03BF) */
    {OU, "\xd0\xbeur-university.ac.uk", "idn-homoglyph", 80},
    {OU, "xn--ur-university-h7k.ac.uk", "idn-homoglyph", 80},
    {OU, "XN--UR-UNIVERSITY-H7K.AC.UK", "idn-homoglyph", 80},
    {OU, "our-un\xd1\x96versity.ac.uk", "idn-homoglyph", 80},
    {OU, "xn--our-unversity-8hl.ac.uk", "idn-homoglyph", 80},
    {OU, "\xce\xbfur-university.ac.uk", "idn-homoglyph", 80},
    {OU, "xn--ur-university-orj.ac.uk", "idn-homoglyph", 80},
    {OU, "mail.xn--ur-university-h7k.ac.uk", "idn-homoglyph", 80},
    {OU, "xn--ur-university-h7k.ac.uk.", "idn-homoglyph", 80},
    /* mixed script in the label, under another suffix */
    {OU, "our-universit\xd1\x83.com", "idn-homoglyph", 80},
    {OU, "xn--our-universit-u9k.com", "idn-homoglyph", 80},
    /* the suffix is the homoglyph (Cyrillic ас): only the whole host's skeleton matches */
    {OU, "our-university.\xd0\xb0\xd1\x81.uk", "idn-homoglyph", 80},
    /* edit distance: 1, and 2 for a label of 10 or more */
    {OU, "our-universlty.ac.uk", "edit-distance", 70},
    {OU, "our-univeristy.ac.uk", "edit-distance", 70},
    {OU, "our-univrsity.com", "edit-distance", 70},
    {OU, "0ur-university.ac.uk", "edit-distance", 70},
    {OU, "ouruniversity.ac.uk", "edit-distance", 70},
    {OU, "our-unlversty.ac.uk", "edit-distance", 70},
    {OU, "our-universi.org", "edit-distance", 70},
    {OU, "www.our-universityy.ac.uk", "edit-distance", 70},
    {OU, "our-unvrsty.ac.uk", NULL, 0}, /* 3 edits */
    /* added words */
    {OU, "our-university-login.com", "added-words", 60},
    {OU, "secure-our-university.ac.uk", "added-words", 60},
    {OU, "ouruniversitylogin.com", "added-words", 60},
    {OU, "o-u-r-un-iversity.net", "added-words", 60},
    {OU, "login-\xd0\xbeur-university.com", "added-words", 60}, /* and a homoglyph */
    {OU, "xn--our-university.ac.uk", "added-words", 60},        /* invalid punycode */
    /* the protected domain in the labels of another domain */
    {OU, "our-university.ac.uk.secure-login.com", "added-words", 75},
    {OU, "our-university.ac.uk-verify.com", "added-words", 75},
    {OU, "our-university.ac.uk.com", "added-words", 75}, /* uk.com is a public suffix */
    {OU, "login.xn--ur-university-h7k.ac.uk.evil.example", "added-words", 75},
    /* the same name under another suffix */
    {OU, "our-university.com", "tld-swap", 50},
    {OU, "our-university.co.uk", "tld-swap", 50},
    {OU, "www.our-university.edu", "tld-swap", 50},
    /* never: the protected domain, its subdomains, spellings a resolver maps to it */
    {OU, "our-university.ac.uk", NULL, 0},
    {OU, "OUR-UNIVERSITY.AC.UK", NULL, 0},
    {OU, "our-university.ac.uk.", NULL, 0},
    {OU, "mail.our-university.ac.uk", NULL, 0},
    {OU, "Mail.Our-University.Ac.Uk.", NULL, 0},
    {OU, "a.b.c.our-university.ac.uk", NULL, 0},
    {OU, "\xef\xbd\x8fur-university.ac.uk", NULL, 0}, /* full-width o: NFKC maps it */
    {OU, "our-university.ac.uk.our-university.ac.uk", NULL, 0},
    /* never: unrelated, or a shared common word */
    {OU, "google.com", NULL, 0},
    {OU, "mail.google.com", NULL, 0},
    {OU, "ac.uk", NULL, 0},
    {OU, "uk", NULL, 0},
    {OU, "university.ac.uk", NULL, 0},
    {OU, "university.edu", NULL, 0},
    {OU, "universities.ac.uk", NULL, 0},
    {OU, "our.ac.uk", NULL, 0},
    {OU, "bbc.co.uk", NULL, 0},
    {OU, "their-university.ac.uk", NULL, 0},
    {OU, "our-university-ac-uk.mail.protection.outlook.com", NULL, 0},
    {OU, "our-university.instructure.com", NULL, 0}, /* a tenant of a service: no */
    {OU, "192.0.2.1", NULL, 0},
    {OU, "[2001:db8::1]", NULL, 0},
    {OU, "", NULL, 0},
    {OU, ".", NULL, 0},
    {OU, "our-university..ac.uk", NULL, 0},
    {OU, "our university.ac.uk", NULL, 0},
    {OU, "our-university.ac.uk/x", NULL, 0},
    {OU, "xn--.ac.uk", NULL, 0},
    {OU, "\xff\xfe.ac.uk", NULL, 0}, /* invalid UTF-8 */
    /* short protected labels: homoglyphs and embedding only */
    {"ox.ac.uk", "\xce\xbfx.ac.uk", "idn-homoglyph", 80},
    {"ox.ac.uk", "ox.ac.uk.evil.com", "added-words", 75},
    {"ox.ac.uk", "ox.com", NULL, 0},
    {"ox.ac.uk", "box.com", NULL, 0},
    {"ox.ac.uk", "oy.ac.uk", NULL, 0},
    {"ox.ac.uk", "box.ac.uk.evil.com", NULL, 0},
    {"ox.ac.uk", "oxford.ac.uk", NULL, 0},
    /* a label under 10: one edit; under 12: added words between hyphens, digits or ends */
    {"oxford.ac.uk", "oxfrd.ac.uk", "edit-distance", 70},
    {"oxford.ac.uk", "oxfodr.com", "edit-distance", 70},
    {"oxford.ac.uk", "oxfo.ac.uk", NULL, 0},
    {"oxford.ac.uk", "oxford-login.com", "added-words", 60},
    {"oxford.ac.uk", "login2oxford.com", "added-words", 60},
    {"oxford.ac.uk", "oxfordshire.gov.uk", NULL, 0},
    {"cambridge.ac.uk", "cambridgeshire.gov.uk", NULL, 0},
    {"cambridge.ac.uk", "cambridge.org", "tld-swap", 50},
    /* an IDN protected domain, given in UTF-8 */
    {"m\xc3\xbcnchen.de", "xn--mnchen-3ya.de", NULL, 0},
    {"m\xc3\xbcnchen.de", "www.m\xc3\xbcnchen.de", NULL, 0},
    {"m\xc3\xbcnchen.de", "munchen.de", "edit-distance", 70},
    {"m\xc3\xbcnchen.de", "m\xc3\xbcnchen.com", "tld-swap", 50},
    /* an IDN suffix (пример.рф): libpsl on the decoded form */
    {"xn--e1afmkfd.xn--p1ai", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",
     NULL, 0},
    {"xn--e1afmkfd.xn--p1ai", "www.xn--e1afmkfd.xn--p1ai", NULL, 0},
    {"xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.com", "tld-swap", 50},
    /* several protected domains: each is protected from the others */
    {OU ",our-university.com", "our-university.com", NULL, 0},
    {OU ",our-university.com", "mail.our-university.com", NULL, 0},
    {OU ",our-university.com", "our-university.org", "tld-swap", 50},
    {"example.org," OU, "xn--ur-university-h7k.ac.uk", "idn-homoglyph", 80},
    /* a protected subdomain protects its registered domain */
    {"cs.our-university.ac.uk", "www.our-university.ac.uk", NULL, 0},
    {"cs.our-university.ac.uk", "our-universlty.ac.uk", "edit-distance", 70},
};

static ab_domain_guard *guard_of(const char *list)
{
    char buf[512];
    const char *v[8];
    size_t n = 0;
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < 8;
         t = strtok_r(NULL, ",", &save))
        v[n++] = t;
    char norm[8][256];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ab_domain_normalize(v[i], norm[i], sizeof(norm[i])), AB_OK);
        v[i] = norm[i];
    }
    ab_domain_guard *g = NULL;
    assert_int_equal(ab_domain_guard_new(v, n, &g), AB_OK);
    return g;
}

static void test_table(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const tcase *c = &cases[i];
        ab_domain_guard *g = guard_of(c->protected_list);
        ab_domain_hit hit;
        memset(&hit, 0, sizeof(hit));
        int got = ab_domain_guard_check(g, c->host, strlen(c->host), &hit);
        const char *kind = got ? hit.kind : NULL;
        int ok = (kind == NULL) == (c->kind == NULL) && (!kind || !strcmp(kind, c->kind)) &&
                 (!c->score || hit.score == c->score) && (!got || hit.reason[0]);
        if (!ok) {
            fprintf(stderr, "case %zu: [%s] %s: want %s/%d, got %s/%d (%s)\n", i, c->protected_list,
                    c->host, c->kind ? c->kind : "none", c->score, kind ? kind : "none",
                    got ? hit.score : 0, got ? hit.reason : "");
            bad++;
        }
        ab_domain_guard_free(g);
    }
    assert_int_equal(bad, 0);
}

static void test_reasons(void **state)
{
    (void)state;
    ab_domain_guard *g = guard_of(OU);
    ab_domain_hit hit;
    const char *h = "xn--ur-university-h7k.ac.uk";
    assert_true(ab_domain_guard_check(g, h, strlen(h), &hit));
    assert_string_equal(hit.reason, "xn--ur-university-h7k.ac.uk (\xd0\xbeur-university.ac.uk) is "
                                    "a homoglyph of our-university.ac.uk");
    assert_string_equal(hit.protected_domain, OU);
    h = "our-university.ac.uk.secure-login.com";
    assert_true(ab_domain_guard_check(g, h, strlen(h), &hit));
    assert_string_equal(hit.reason, "our-university.ac.uk.secure-login.com has "
                                    "our-university.ac.uk in its name but belongs to "
                                    "secure-login.com");
    h = "our-unlversty.ac.uk";
    assert_true(ab_domain_guard_check(g, h, strlen(h), &hit));
    assert_string_equal(hit.reason, "our-unlversty.ac.uk is 2 edits from our-university.ac.uk");
    h = "xn--our-university.ac.uk";
    assert_true(ab_domain_guard_check(g, h, strlen(h), &hit));
    assert_non_null(strstr(hit.reason, "invalid punycode"));
    /* a host given with a length: bytes after it are not read */
    assert_false(ab_domain_guard_check(g, "our-university.ac.ukX", 20, &hit));
    assert_true(ab_domain_guard_check(g, "our-universlty.ac.uk/path", 20, &hit));
    ab_domain_guard_free(g);
}

static void test_bounds(void **state)
{
    (void)state;
    ab_domain_guard *g = guard_of(OU);
    ab_domain_hit hit;
    char big[600];
    memset(big, 'a', sizeof(big));
    for (size_t i = 60; i < sizeof(big); i += 61)
        big[i] = '.';
    memcpy(big + 254 - 21, ".our-universlty.ac.uk", 21); /* 254 bytes: over the limit */
    assert_false(ab_domain_guard_check(g, big, 254, &hit));
    assert_true(ab_domain_guard_check(g, big + 1, 253, &hit));
    assert_false(ab_domain_guard_check(g, big, sizeof(big), &hit));
    assert_false(ab_domain_guard_check(NULL, "x.com", 5, &hit));
    ab_domain_guard_free(g);
    /* an empty guard checks nothing */
    assert_int_equal(ab_domain_guard_new(NULL, 0, &g), AB_OK);
    assert_false(ab_domain_guard_check(g, "our-universlty.ac.uk", 20, &hit));
    ab_domain_guard_free(g);
    /* at most 1024 protected domains */
    const char **v = calloc(1025, sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < 1025; i++)
        v[i] = OU;
    assert_int_equal(ab_domain_guard_new(v, 1025, &g), AB_ERR_ARG);
    assert_int_equal(ab_domain_guard_new(v, 1024, &g), AB_OK);
    assert_true(ab_domain_guard_check(g, "our-universlty.ac.uk", 20, &hit));
    ab_domain_guard_free(g);
    free(v);
}

/* The worst case: 1024 protected domains with long labels, hosts of 253 bytes that come close
 * to them. Bounded: O(protected domains x host length) per host. */
static void test_cost(void **state)
{
    (void)state;
    enum { N = 1024 };
    char(*names)[64] = calloc(N, sizeof(*names));
    const char **v = calloc(N, sizeof(*v));
    assert_true(names && v);
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "protected-university-%04zu.ac.uk", i);
        v[i] = names[i];
    }
    ab_domain_guard *g = NULL;
    assert_int_equal(ab_domain_guard_new(v, N, &g), AB_OK);
    char host[254];
    size_t n = 0;
    while (n + 31 < 253 - 40)
        n += (size_t)snprintf(host + n, sizeof(host) - n, "protected-university-%04zu-x.", n);
    n += (size_t)snprintf(host + n, sizeof(host) - n, "protected-universitx-0001.ac.uk");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ab_domain_hit hit;
    int hits = 0;
    for (int r = 0; r < 20; r++)
        hits += ab_domain_guard_check(g, host, n, &hit);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms =
        ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) / 20;
    fprintf(stderr, "worst case: %.3f ms per host (%zu bytes, %d protected domains)\n", ms, n, N);
    assert_int_equal(hits, 20); /* the time is printed, not asserted: a loaded machine is no bug */
    ab_domain_guard_free(g);
    free(names);
    free(v);
}

static void test_normalize(void **state)
{
    (void)state;
    char out[256];
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"our-university.ac.uk", "our-university.ac.uk"},
        {"Our-University.AC.UK.", "our-university.ac.uk"},
        {"mail.our-university.ac.uk", "mail.our-university.ac.uk"},
        {"m\xc3\xbcnchen.de", "xn--mnchen-3ya.de"},
        {"M\xc3\x9cNCHEN.DE", "xn--mnchen-3ya.de"},
        {"xn--mnchen-3ya.de", "xn--mnchen-3ya.de"},
        {"XN--MNCHEN-3YA.DE", "xn--mnchen-3ya.de"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(ab_domain_normalize(ok[i].in, out, sizeof(out)), AB_OK);
        assert_string_equal(out, ok[i].out);
    }
    static const char *const bad[] = {
        "",
        ".",
        "ac.uk",
        "uk",
        "localhost",
        "a..b",
        ".x.com",
        "-x.com",
        "x-.com",
        "x_y.com",
        "x y.com",
        "x/y.com",
        "user@x.com",
        "192.0.2.1",
        "::1",
        "xn--.com",
        "xn--ab-cd.com",
        "xn--our-university.ac.uk",
        "\xff.com",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ab_domain_normalize(bad[i], out, sizeof(out)), AB_ERR_ARG);
    assert_int_equal(ab_domain_normalize(NULL, out, sizeof(out)), AB_ERR_ARG);
    assert_int_equal(ab_domain_normalize("our-university.ac.uk", out, 5), AB_ERR_ARG);
    /* the guard refuses what does not normalise */
    const char *v[] = {"ac.uk"};
    ab_domain_guard *g = NULL;
    assert_int_equal(ab_domain_guard_new(v, 1, &g), AB_ERR_ARG);
    assert_null(g);
}

/* ---- the engine: a PDF with a URI action ---- */

static char *pdf_with_uri(const char *uri, size_t *len)
{
    const char *objs[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [4 0 R] >>",
        NULL,
    };
    char annot[512];
    snprintf(annot, sizeof(annot), "<< /Type /Annot /Subtype /Link /A << /S /URI /URI (%s) >> >>",
             uri);
    objs[3] = annot;
    size_t cap = 4096, n = 0, off[4];
    char *p = malloc(cap);
    assert_non_null(p);
    n += (size_t)snprintf(p + n, cap - n, "%%PDF-1.7\n");
    for (size_t i = 0; i < 4; i++) {
        off[i] = n;
        n += (size_t)snprintf(p + n, cap - n, "%zu 0 obj\n%s\nendobj\n", i + 1, objs[i]);
    }
    size_t xref = n;
    n += (size_t)snprintf(p + n, cap - n, "xref\n0 5\n0000000000 65535 f \n");
    for (size_t i = 0; i < 4; i++)
        n += (size_t)snprintf(p + n, cap - n, "%010zu 00000 n \n", off[i]);
    n += (size_t)snprintf(p + n, cap - n,
                          "trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", xref);
    assert_true(n < cap);
    *len = n;
    return p;
}

typedef struct seen {
    int signals;
    char rule[64], value[256], where[32], type[16], reason[512];
    int score;
} seen;

static int sink(void *ctx, const ab_event *ev)
{
    seen *s = ctx;
    if (ev->kind != AB_EVENT_FINDING)
        return 0;
    const ab_finding *f = &ev->u.finding;
    if (f->matcher == AB_MATCHER_MAIL_SIGNAL) {
        s->signals++;
        snprintf(s->rule, sizeof(s->rule), "%s", f->rule);
        snprintf(s->value, sizeof(s->value), "%s", f->value ? f->value : "");
        snprintf(s->where, sizeof(s->where), "%s", f->where ? f->where : "");
        snprintf(s->type, sizeof(s->type), "%s", f->value_type ? f->value_type : "");
        snprintf(s->reason, sizeof(s->reason), "%s", f->reason ? f->reason : "");
        s->score = f->score;
    }
    return 0;
}

static void nodiag(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    (void)ctx;
    if (level == AB_DIAG_ERROR)
        fprintf(stderr, "%s: %s\n", where, msg);
}

static seen scan_pdf(const char *protect, const char *uri)
{
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_protected_domain(sc, protect), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, nodiag, NULL), AB_OK);
    size_t n;
    char *pdf = pdf_with_uri(uri, &n);
    seen s;
    memset(&s, 0, sizeof(s));
    ab_sink k = {sink, &s};
    assert_int_equal(ab_scan_buffer(sc, pdf, n, "doc.pdf", &k), AB_OK);
    free(pdf);
    ab_scanner_free(sc);
    return s;
}

static void test_engine(void **state)
{
    (void)state;
    seen s = scan_pdf("Our-University.ac.uk", "https://login.our-universlty.ac.uk/sso?x=1");
    assert_int_equal(s.signals, 1);
    assert_string_equal(s.rule, "lookalike-domain");
    assert_string_equal(s.value, "https://login.our-universlty.ac.uk/sso?x=1");
    assert_string_equal(s.type, "url");
    assert_string_equal(s.where, "pdf.uri");
    assert_int_equal(s.score, 70);
    assert_string_equal(s.reason, "link domain login.our-universlty.ac.uk is 1 edit from "
                                  "our-university.ac.uk");
    s = scan_pdf("our-university.ac.uk", "http://user:pw@XN--UR-UNIVERSITY-H7K.AC.UK:8443/");
    assert_int_equal(s.signals, 1);
    assert_int_equal(s.score, 80);
    /* the real domain, and a mailto: of it, give none */
    s = scan_pdf("our-university.ac.uk", "https://www.our-university.ac.uk/login");
    assert_int_equal(s.signals, 0);
    s = scan_pdf("our-university.ac.uk", "mailto:it@our-university.ac.uk");
    assert_int_equal(s.signals, 0);
    s = scan_pdf("our-university.ac.uk", "mailto:it@our-universlty.ac.uk");
    assert_int_equal(s.signals, 1);
    s = scan_pdf("our-university.ac.uk", "https://example.org/our-university.ac.uk.html");
    assert_int_equal(s.signals, 0);
    s = scan_pdf("our-university.ac.uk", "javascript:location='//our-universlty.ac.uk/'");
    assert_int_equal(s.signals, 0);
    /* no scheme, a scheme-relative link, backslashes as browsers read them */
    s = scan_pdf("our-university.ac.uk", "our-university.ac.uk.secure-login.com/sso");
    assert_int_equal(s.signals, 1);
    assert_int_equal(s.score, 75);
    s = scan_pdf("our-university.ac.uk", "//our-university-login.com");
    assert_int_equal(s.signals, 1);
    assert_int_equal(s.score, 60);
    s = scan_pdf("our-university.ac.uk", "https:\\\\\\\\our-university.com\\\\x" /* PDF escapes */);
    assert_int_equal(s.signals, 1);
    assert_int_equal(s.score, 50);
    s = scan_pdf("our-university.ac.uk", "https://[2001:db8::1]:443/our-universlty.ac.uk");
    assert_int_equal(s.signals, 0);
}

static void test_scanner_protect(void **state)
{
    (void)state;
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_protected_domain(sc, "m\xc3\xbcnchen.de"), AB_OK);
    assert_int_equal(ab_scanner_add_protected_domain(sc, "OUR-UNIVERSITY.AC.UK."), AB_OK);
    assert_int_equal(ab_scanner_add_protected_domain(sc, "ac.uk"), AB_ERR_ARG);
    assert_int_equal(ab_scanner_add_protected_domain(sc, "not a domain"), AB_ERR_ARG);
    assert_int_equal(ab_scanner_add_protected_domain(sc, "xn--ab-cd.com"), AB_ERR_ARG);
    assert_int_equal(ab_scanner_add_protected_domain(sc, NULL), AB_ERR_ARG);
    ab_scanner_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),           cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_bounds),          cmocka_unit_test(test_cost),
        cmocka_unit_test(test_normalize),       cmocka_unit_test(test_engine),
        cmocka_unit_test(test_scanner_protect),
    };
    assert_int_equal(ab_init(), AB_OK);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ab_finish();
    return rc;
}
