/* test_observables.c: the observable matcher (src/match/observables.c) over a store loaded from
 * a buffer: parent domains, wildcards, refused public suffixes, normalised URL equality, a URL's
 * host as a domain and an IP, e-mail addresses and their domains, IDN hosts, each indicator at
 * most once per call, and a million domains, and a million ip and cidr indicators, loaded and
 * matched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "intel/ioc.h"
#include "match/observables.h"

typedef struct diags {
    size_t n;
    char last[256];
} diags;

static void on_diag(void *ctx, ab_diag_level st, const char *where, const char *msg)
{
    diags *d = ctx;
    (void)st;
    d->n++;
    snprintf(d->last, sizeof(d->last), "%s: %s", where ? where : "-", msg);
}

static const char IOCS[] = "domain\tevil.example\tthe C2\n"
                           "domain\t*.wild.example\n"
                           "domain\tB\xc3\xbc"
                           "cher.example\n"        /* IDN, stored as A-labels */
                           "domain\tcom\n"         /* refused: public suffix */
                           "domain\tco.uk\n"       /* refused */
                           "domain\tlocalhost\n"   /* refused: one label */
                           "domain\t*.com\n"       /* refused */
                           "domain\tduckdns.org\n" /* private suffix: accepted */
                           "url\tHTTP://Phish.Example:80/a/./b/../Login%2ephp?x=%7e\n"
                           "url\thttps://cdn.example/\n"
                           "email\tBoss@Spoof.Example\n"
                           "email\tceo@b\xc3\xbc"
                           "cher.example\n"
                           "ip\t192.0.2.7\n"
                           "ip\t2001:db8::7\n"
                           "cidr\t198.51.100.0/24\n"
                           "domain\tevil.example\tduplicate\n";

static ab_iocs *store(const char *text, diags *d, size_t *bad)
{
    ab_iocs *s = NULL;
    assert_int_equal(ab_iocs_new(&s), AB_OK);
    assert_int_equal(ab_iocs_load_buffer(s, text, strlen(text), AB_IOC_FMT_NATIVE, "t.ioc", 0, 0,
                                         on_diag, d, bad),
                     AB_OK);
    assert_int_equal(ab_iocs_compile(s, on_diag, d), AB_OK);
    return s;
}

typedef struct hits {
    size_t n;
    char v[16][300]; /* "ioc-value <- matched (type)" */
    const ab_ioc *ioc[16];
    int stop_at;
} hits;

static int on_hit(void *ctx, const ab_ioc *ioc, const char *matched, const char *type)
{
    hits *h = ctx;
    if (h->n < 16) {
        h->ioc[h->n] = ioc;
        snprintf(h->v[h->n++], sizeof(h->v[0]), "%s <- %s (%s)", ioc->value, matched, type);
    }
    return h->stop_at && (int)h->n >= h->stop_at;
}

static hits *match(const ab_iocs *s, const char *type, const char *value)
{
    static hits h;
    memset(&h, 0, sizeof(h));
    ab_observable_match(s, type, value, strlen(value), on_hit, &h);
    return &h;
}

#define ONE(s, type, value, want)                                                                  \
    do {                                                                                           \
        hits *h_ = match(s, type, value);                                                          \
        if (h_->n != 1 || strcmp(h_->v[0], want))                                                  \
            fail_msg("%s %s: want 1 hit '%s', got %zu ('%s')", type, value, want, h_->n,           \
                     h_->n ? h_->v[0] : "");                                                       \
    } while (0)

#define NONE(s, type, value)                                                                       \
    do {                                                                                           \
        hits *h_ = match(s, type, value);                                                          \
        if (h_->n)                                                                                 \
            fail_msg("%s %s: want no hit, got '%s'", type, value, h_->v[0]);                       \
    } while (0)

static void test_load(void **state)
{
    (void)state;
    diags d = {0};
    size_t bad = 0;
    ab_iocs *s = store(IOCS, &d, &bad);
    assert_int_equal(bad, 4); /* com, co.uk, localhost, *.com */
    assert_non_null(strstr(d.last, "public suffix"));
    assert_non_null(ab_iocs_find_value(s, AB_IOC_DOMAIN, "xn--bcher-kva.example", 21));
    assert_non_null(ab_iocs_find_value(s, AB_IOC_URL, "http://phish.example/a/Login.php?x=~", 36));
    const ab_ioc *e = ab_iocs_find_value(s, AB_IOC_DOMAIN, "evil.example", 12);
    assert_non_null(e);
    assert_string_equal(e->description, "the C2"); /* the first loaded of equal values */
    assert_null(ab_iocs_find_value(s, AB_IOC_DOMAIN, "evil.exampl", 11));
    assert_null(ab_iocs_find_value(s, AB_IOC_DOMAIN, "wild.example", 12));
    assert_non_null(ab_iocs_find_wildcard(s, "wild.example", 12));
    assert_int_equal(ab_observable_any(s), 1);
    ab_iocs_free(s);
}

static void test_domains(void **state)
{
    (void)state;
    diags d = {0};
    ab_iocs *s = store(IOCS, &d, NULL);
    ONE(s, "domain", "evil.example", "evil.example <- evil.example (domain)");
    ONE(s, "domain", "EVIL.Example.", "evil.example <- evil.example (domain)");
    ONE(s, "domain", "a.b.evil.example", "evil.example <- a.b.evil.example (domain)");
    NONE(s, "domain", "notevil.example");
    NONE(s, "domain", "evil.example.net");
    NONE(s, "domain", "example");
    /* A wildcard matches below its name only. */
    NONE(s, "domain", "wild.example");
    ONE(s, "domain", "x.wild.example", "*.wild.example <- x.wild.example (domain)");
    /* Refused public suffixes match nothing; a private suffix matches its sub-domains. */
    NONE(s, "domain", "anything.com");
    NONE(s, "domain", "bbc.co.uk");
    ONE(s, "domain", "rat.duckdns.org", "duckdns.org <- rat.duckdns.org (domain)");
    /* IDN: UTF-8 and A-label spellings of one name. */
    ONE(s, "domain",
        "www.b\xc3\xbc"
        "cher.example",
        "xn--bcher-kva.example <- www.xn--bcher-kva.example (domain)");
    ONE(s, "domain", "WWW.XN--BCHER-KVA.example",
        "xn--bcher-kva.example <- www.xn--bcher-kva.example (domain)");
    ONE(s, "domain",
        "B\xc3\x9c"
        "CHER.example",
        "xn--bcher-kva.example <- xn--bcher-kva.example (domain)");
    /* A domain value that is an IP literal is matched as one. */
    ONE(s, "domain", "192.0.2.7", "192.0.2.7 <- 192.0.2.7 (ip)");
    /* Deep names: 127 levels are walked, no more. */
    char deep[600] = "";
    for (int i = 0; i < 120; i++)
        strcat(deep, "a.");
    strcat(deep, "evil.example");
    hits *h = match(s, "domain", deep);
    assert_int_equal(h->n, 1);
    NONE(s, "domain", "");
    NONE(s, "domain", "evil\0.example");
    ab_iocs_free(s);
}

static void test_urls(void **state)
{
    (void)state;
    diags d = {0};
    ab_iocs *s = store(IOCS, &d, NULL);
    /* Normalised equality both ways. */
    ONE(s, "url", "http://phish.example/a/Login.php?x=~",
        "http://phish.example/a/Login.php?x=~ <- http://phish.example/a/Login.php?x=~ (url)");
    ONE(s, "url", "  HTTP://user:pw@PHISH.example:0080/a/%4cogin.php?x=%7E#top ",
        "http://phish.example/a/Login.php?x=~ <- http://phish.example/a/Login.php?x=~ (url)");
    NONE(s, "url", "http://phish.example/a/login.php?x=~"); /* the path keeps its case */
    NONE(s, "url", "http://phish.example/a/Login.php");
    NONE(s, "url", "https://cdn.example/other"); /* exact only: a path-less IOC is "/" */
    ONE(s, "url", "https://CDN.example", "https://cdn.example/ <- https://cdn.example/ (url)");
    /* The host as a domain, then as an IP. */
    ONE(s, "url", "https://x.evil.example/a?b", "evil.example <- x.evil.example (domain)");
    ONE(s, "url", "http://u@evil.example:8080/", "evil.example <- evil.example (domain)");
    ONE(s, "url", "//cdn2.evil.example/x.js", "evil.example <- cdn2.evil.example (domain)");
    ONE(s, "url",
        "http://b\xc3\xbc"
        "cher.example/",
        "xn--bcher-kva.example <- xn--bcher-kva.example (domain)");
    ONE(s, "url", "http://192.0.2.7/x", "192.0.2.7 <- 192.0.2.7 (ip)");
    ONE(s, "url", "http://3221225991/x", "192.0.2.7 <- 192.0.2.7 (ip)"); /* 192.0.2.7 in decimal */
    ONE(s, "url", "http://[2001:DB8::7]:81/", "2001:db8::7 <- 2001:db8::7 (ip)");
    ONE(s, "url", "ftp://198.51.100.99/", "198.51.100.0/24 <- 198.51.100.99 (ip)");
    NONE(s, "url", "http://good.example/evil.example");
    NONE(s, "url", "http://evil.example.good.example/");
    NONE(s, "url", "not a url");
    /* Over AB_URL_MAX: not normalised, but its host is still looked at. */
    size_t big = 20000;
    char *u = malloc(big + 1);
    assert_non_null(u);
    for (size_t i = 0; i < big; i++) /* a loop, not memset: gcc's -Warray-bounds misreads it */
        u[i] = 'a';
    memcpy(u, "http://c2.evil.example/", 23);
    u[big] = '\0';
    ONE(s, "url", u, "evil.example <- c2.evil.example (domain)");
    free(u);
    ab_iocs_free(s);
}

static void test_email_ip(void **state)
{
    (void)state;
    diags d = {0};
    ab_iocs *s = store(IOCS, &d, NULL);
    ONE(s, "email", "BOSS@spoof.example", "boss@spoof.example <- boss@spoof.example (email)");
    ONE(s, "email", "<boss@Spoof.Example>", "boss@spoof.example <- boss@spoof.example (email)");
    ONE(s, "email", "mailto:boss@spoof.example?subject=x",
        "boss@spoof.example <- boss@spoof.example (email)");
    NONE(s, "email", "other@spoof.example");
    /* The address's domain as a domain. */
    ONE(s, "email", "x@mail.evil.example", "evil.example <- mail.evil.example (domain)");
    hits *h = match(s, "email",
                    "ceo@B\xc3\xbc"
                    "cher.example"); /* the address and its domain */
    assert_int_equal(h->n, 2);
    assert_string_equal(h->v[0], "ceo@xn--bcher-kva.example <- ceo@xn--bcher-kva.example (email)");
    assert_string_equal(h->v[1], "xn--bcher-kva.example <- xn--bcher-kva.example (domain)");
    NONE(s, "email", "no-at-sign");
    NONE(s, "email", "@evil.example");
    ONE(s, "ip", "192.0.2.7", "192.0.2.7 <- 192.0.2.7 (ip)");
    ONE(s, "ip", " ::ffff:192.0.2.7 ", "192.0.2.7 <- 192.0.2.7 (ip)");
    ONE(s, "ip", "[2001:db8:0::7]", "2001:db8::7 <- 2001:db8::7 (ip)");
    ONE(s, "ip", "198.51.100.1", "198.51.100.0/24 <- 198.51.100.1 (ip)");
    NONE(s, "ip", "192.0.2.8");
    NONE(s, "ip", "198.51.100.0/24"); /* a value is an address, not a prefix */
    NONE(s, "ip", "evil.example");
    NONE(s, "ja3", "evil.example"); /* other types never match */
    ab_iocs_free(s);
}

static void test_once_and_stop(void **state)
{
    (void)state;
    diags d = {0};
    ab_iocs *s = store("domain\tevil.example\n"
                       "domain\tc2.evil.example\n"
                       "domain\t*.evil.example\n"
                       "url\thttp://c2.evil.example/\n",
                       &d, NULL);
    /* The URL, its host, its parent (plain and wildcard): four indicators, each once. */
    hits *h = match(s, "url", "http://c2.evil.example");
    assert_int_equal(h->n, 4);
    for (size_t i = 0; i < h->n; i++)
        for (size_t k = 0; k < i; k++)
            assert_ptr_not_equal(h->ioc[i], h->ioc[k]);
    static hits h2;
    memset(&h2, 0, sizeof(h2));
    h2.stop_at = 1;
    assert_int_equal(ab_observable_match(s, "url", "http://c2.evil.example", 22, on_hit, &h2), 1);
    assert_int_equal(h2.n, 1);
    ab_iocs_free(s);
    /* A store without observable types: nothing to do, nothing called. */
    s = store("md5\t0123456789abcdef0123456789abcdef\n", &d, NULL);
    assert_int_equal(ab_observable_any(s), 0);
    NONE(s, "domain", "evil.example");
    ab_iocs_free(s);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_million(void **state)
{
    (void)state;
    size_t n = 1000000, cap = n * 32;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(text + o, cap - o, "domain\td%zu.c2-%zu.example\n", i, i % 977);
    double t0 = now();
    diags d = {0};
    size_t bad = 0;
    ab_iocs *s = store(text, &d, &bad);
    double t1 = now();
    assert_int_equal(bad, 0);
    assert_int_equal(ab_iocs_count(s, AB_IOC_DOMAIN), n);
    char name[64];
    snprintf(name, sizeof(name), "x.y.d%zu.c2-%zu.example", n - 1, (n - 1) % 977);
    hits *h = match(s, "domain", name);
    assert_int_equal(h->n, 1);
    for (int i = 0; i < 100000; i++) {
        static hits hh;
        hh.n = 0;
        ab_observable_match(s, "url", "https://a.b.c.not-there.example/p", 33, on_hit, &hh);
        assert_int_equal(hh.n, 0);
    }
    double t2 = now();
    printf("1e6 domains loaded and compiled in %.2f s; 1e5 URL look-ups in %.2f s\n", t1 - t0,
           t2 - t1); /* a figure, not a bound: no timing assertion */
    free(text);
    ab_iocs_free(s);
}

/* A million ip and cidr indicators (the size): 900,000 IPv4 addresses, 50,000 IPv6
 * addresses, 50,000 prefixes of 23 lengths both families. Every tenth indicator is looked up as
 * it was loaded (an address in a prefix: its most specific covering IOC), and misses miss. */
static void test_million_ips(void **state)
{
    (void)state;
    size_t n4 = 900000, n6 = 50000, np = 50000, cap = (n4 + n6 + np) * 48;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t o = 0;
    for (size_t i = 0; i < n4; i++) /* 10.0.0.0 .. 10.13.187.159 */
        o += (size_t)snprintf(text + o, cap - o, "ip\t10.%zu.%zu.%zu\n", i >> 16, (i >> 8) & 255,
                              i & 255);
    for (size_t i = 0; i < n6; i++)
        o += (size_t)snprintf(text + o, cap - o, "ip\t2001:db8:%zx::%zx\n", i >> 12, i & 0xfff);
    for (size_t i = 0; i < np; i++) { /* v4 /8../30 under 100.64.0.0/10..; v6 /32../54 */
        unsigned len = 8 + (unsigned)(i % 23);
        if (i % 2)
            o += (size_t)snprintf(text + o, cap - o, "cidr\t%zu.%zu.%zu.0/%u\n", 11 + i % 80,
                                  (i >> 8) & 255, i & 255, len);
        else
            o += (size_t)snprintf(text + o, cap - o, "cidr\t2001:%zx:%zx::/%u\n", 0xe00 + i % 64,
                                  i & 0xffff, 24 + len);
    }
    double t0 = now();
    diags d = {0};
    size_t bad = 0;
    ab_iocs *s = store(text, &d, &bad);
    double t1 = now();
    assert_int_equal(bad, 0);
    assert_int_equal(ab_iocs_count(s, AB_IOC_IP), n4 + n6);
    assert_true(ab_iocs_count(s, AB_IOC_CIDR) > 0); /* prefixes that repeat once masked: once */
    char v[64], want[160];
    for (size_t i = 0; i < n4; i += 10) {
        snprintf(v, sizeof(v), "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255);
        snprintf(want, sizeof(want), "%s <- %s (ip)", v, v);
        ONE(s, "ip", v, want);
    }
    for (size_t i = 0; i < n6; i += 10) { /* said in RFC 5952 form: 2001:db8:0::0 is 2001:db8:: */
        snprintf(v, sizeof(v), "2001:db8:%zx::%zx", i >> 12, i & 0xfff);
        hits *h6 = match(s, "ip", v);
        if (h6->n != 1 || h6->ioc[0]->type != AB_IOC_IP)
            fail_msg("ip %s: want 1 ip hit, got %zu", v, h6->n);
    }
    NONE(s, "ip", "10.200.0.1"); /* past the last address loaded */
    NONE(s, "ip", "2001:db9::1");
    NONE(s, "ip", "9.255.255.255");
    /* addresses in several loaded prefixes: the most specific one is matched (found here by
     * trying every IPv4 prefix loaded) */
    static const uint32_t probe[] = {0x0c00014d, 0x0e030405, 0x3c640001, 0x5a010203};
    for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++) {
        unsigned best = 0;
        uint32_t net = 0;
        for (size_t i = 1; i < np; i += 2) {
            unsigned len = 8 + (unsigned)(i % 23);
            uint32_t a = (uint32_t)(11 + i % 80) << 24 | (uint32_t)((i >> 8) & 255) << 16 |
                         (uint32_t)(i & 255) << 8;
            uint32_t mask = ~0u << (32 - len);
            if ((probe[k] & mask) == (a & mask) && len > best)
                best = len, net = a & mask;
        }
        assert_true(best > 0);
        snprintf(v, sizeof(v), "%u.%u.%u.%u", probe[k] >> 24, (probe[k] >> 16) & 255,
                 (probe[k] >> 8) & 255, probe[k] & 255);
        snprintf(want, sizeof(want), "%u.%u.%u.%u/%u <- %s (ip)", net >> 24, (net >> 16) & 255,
                 (net >> 8) & 255, net & 255, best, v);
        ONE(s, "ip", v, want);
    }
    double t2 = now();
    printf("1e6 ip/cidr IOCs loaded and compiled in %.2f s; 1e5 look-ups in %.2f s\n", t1 - t0,
           t2 - t1);
    free(text);
    ab_iocs_free(s);
}

/* TLS fingerprints and certificate hashes: exact, without case; a malformed JA4 is refused. */
static void test_fingerprints(void **state)
{
    (void)state;
    diags d = {0};
    size_t bad = 0;
    ab_iocs *s = store("ja3\t6734F37431670B3AB4292B8F60F29984\tWellMail client\n"
                       "ja3s\tf4febc55ea12b31ae17cfb7e614afda8\n"
                       "ja4\tT13D1516H2_8daaf6152771_b186095e22b6\n"
                       "ja4\tt13d1516h2_8daaf6152771\n"              /* refused: two parts */
                       "ja4\tx13d1516h2_8daaf6152771_b186095e22b6\n" /* refused: protocol */
                       "cert-sha1\t3B:4F:00:6D:1D:95:5B:2E:7A:0C:38:86:C2:6E:61:AE:44:52:1B:8D\n"
                       "cert-sha256\t"
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
                       &d, &bad);
    assert_int_equal(bad, 2);
    assert_int_equal(ab_iocs_count(s, AB_IOC_JA4), 1);
    ONE(s, "ja3", "6734f37431670b3ab4292b8f60f29984",
        "6734f37431670b3ab4292b8f60f29984 <- 6734f37431670b3ab4292b8f60f29984 (ja3)");
    ONE(s, "ja3s", "F4FEBC55EA12B31AE17CFB7E614AFDA8",
        "f4febc55ea12b31ae17cfb7e614afda8 <- f4febc55ea12b31ae17cfb7e614afda8 (ja3s)");
    ONE(s, "ja4", "t13d1516h2_8daaf6152771_b186095e22b6",
        "t13d1516h2_8daaf6152771_b186095e22b6 <- t13d1516h2_8daaf6152771_b186095e22b6 (ja4)");
    ONE(s, "cert-sha1", "3b4f006d1d955b2e7a0c3886c26e61ae44521b8d",
        "3b4f006d1d955b2e7a0c3886c26e61ae44521b8d <- 3b4f006d1d955b2e7a0c3886c26e61ae44521b8d "
        "(cert-sha1)");
    NONE(s, "ja3", "6734f37431670b3ab4292b8f60f29985");
    NONE(s, "ja3s", "6734f37431670b3ab4292b8f60f29984"); /* a ja3 value is no ja3s */
    NONE(s, "ja4", "t13d1516h2_8daaf6152771_b186095e22b7");
    NONE(s, "cert-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85");
    ab_iocs_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),          cmocka_unit_test(test_domains),
        cmocka_unit_test(test_urls),          cmocka_unit_test(test_email_ip),
        cmocka_unit_test(test_once_and_stop), cmocka_unit_test(test_million),
        cmocka_unit_test(test_million_ips),   cmocka_unit_test(test_fingerprints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
