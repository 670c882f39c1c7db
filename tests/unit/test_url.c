/* test_url.c: URL normalisation, host normalisation and plain-text URL extraction
 * (src/match/url.c): tables of inputs and what they must give, defanged and tricky spellings,
 * and hostile inputs (long, NULs, many candidates) for bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/url.h"

typedef struct norm_case {
    const char *in, *want; /* want NULL: not a URL */
} norm_case;

static void test_normalize(void **state)
{
    (void)state;
    static const norm_case cases[] = {
        {"HTTP://Evil.EXAMPLE/Path", "http://evil.example/Path"},
        {"http://evil.example", "http://evil.example/"},
        {"http://evil.example:80/a", "http://evil.example/a"},
        {"https://evil.example:443/a", "https://evil.example/a"},
        {"ftp://evil.example:21/a", "ftp://evil.example/a"},
        {"http://evil.example:443/a", "http://evil.example:443/a"},
        {"http://evil.example:0080/a", "http://evil.example/a"},
        {"http://evil.example:/a", "http://evil.example/a"},
        {"http://evil.example:8080", "http://evil.example:8080/"},
        {"  http://evil.example/x \r\n", "http://evil.example/x"},
        {"http://evil.example/%7euser/%41%2f%2e", "http://evil.example/~user/A%2F."},
        {"http://evil.example/a%2fb%3F", "http://evil.example/a%2Fb%3F"},
        {"http://evil.example/a/./b/../c", "http://evil.example/a/c"},
        {"http://evil.example/../../x", "http://evil.example/x"},
        {"http://evil.example/a/b/..", "http://evil.example/a/"},
        {"http://evil.example/a/.", "http://evil.example/a/"},
        {"http://evil.example/%2e%2e/x", "http://evil.example/x"},
        {"http://evil.example/p?q=%7e%20x#frag", "http://evil.example/p?q=~%20x"},
        {"http://evil.example#frag", "http://evil.example/"},
        {"http://evil.example?x", "http://evil.example/?x"},
        {"http://user:pw@Evil.Example/x", "http://evil.example/x"},
        {"http://a@b@evil.example/", "http://evil.example/"},
        {"http://good.example\\@evil.example/", "http://good.example/@evil.example/"},
        {"http:\\\\evil.example\\a\\b", "http://evil.example/a/b"},
        {"ht\ntp://evil.exa\tmple/", "http://evil.example/"},
        {"http://evil.example/a b", "http://evil.example/a%20b"},
        {"http://evil.example/{x}|^", "http://evil.example/%7Bx%7D%7C%5E"},
        {"http://evil.example/%zz%", "http://evil.example/%25zz%25"},
        {"http://evil.example/%4%31", "http://evil.example/%2541"},
        {"http://ev\x01il.example/", "http://ev%01il.example/"},
        {"http://EVIL.example./", "http://evil.example/"},
        {"http://b\xc3\xbc"
         "cher.example/",
         "http://xn--bcher-kva.example/"},
        {"http://B%C3%9C"
         "cher.example/",
         "http://xn--bcher-kva.example/"},
        {"http://xn--BCHER-kva.example/", "http://xn--bcher-kva.example/"},
        {"http://[2001:DB8:0::1]:8080/x", "http://[2001:db8::1]:8080/x"},
        {"http://[2001:db8::1]/", "http://[2001:db8::1]/"},
        {"http://2130706433/", "http://127.0.0.1/"},
        {"http://0x7f.1/", "http://127.0.0.1/"},
        {"http://0177.0.0.1/", "http://127.0.0.1/"},
        {"http://192.168.1.300/", "http://192.168.1.300/"},
        {"http://1.2.3.4.5/", "http://1.2.3.4.5/"},
        {"http://evil%2eexample/", "http://evil.example/"},
        {"http://evil%2fexample/", "http://evil%2Fexample/"},
        {"HXXP://x/", "hxxp://x/"}, /* a scheme is a scheme; refanging is the extractor's */
        {"http://evil.example:8o/", NULL},
        {"http://evil.example:65536/", NULL},
        {"http://evil.example:0/", "http://evil.example:0/"},
        {"mailto:a@b.example", NULL},
        {"evil.example/x", NULL},
        {"http://", NULL},
        {"http:///x", NULL},
        {"http://user@/x", NULL},
        {"http://[::1/", NULL},
        {"", NULL},
        {"   ", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[AB_URL_NORM_CAP];
        size_t n = ab_url_normalize(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        if (!cases[i].want) {
            if (n)
                fail_msg("%s: want no URL, got %s", cases[i].in, out);
            assert_string_equal(out, "");
            continue;
        }
        if (!n || strcmp(out, cases[i].want))
            fail_msg("%s: want %s, got %s", cases[i].in, cases[i].want, out);
        assert_int_equal(n, strlen(out));
        /* Idempotent: a normalised URL normalises to itself. */
        char again[AB_URL_NORM_CAP];
        assert_int_equal(ab_url_normalize(out, n, again, sizeof(again)), n);
        assert_string_equal(again, out);
    }
}

static void test_normalize_bounds(void **state)
{
    (void)state;
    char *big = malloc(AB_URL_MAX + 2);
    assert_non_null(big);
    memcpy(big, "http://e.example/", 17);
    memset(big + 17, '\xff', AB_URL_MAX - 17); /* every byte triples */
    char *out = malloc(AB_URL_NORM_CAP);
    assert_non_null(out);
    size_t n = ab_url_normalize(big, AB_URL_MAX, out, AB_URL_NORM_CAP);
    assert_true(n > 3 * (AB_URL_MAX - 17));
    assert_int_equal(strlen(out), n);
    /* Too small an output: 0 and "", never a cut URL. */
    char small[32];
    assert_int_equal(ab_url_normalize(big, AB_URL_MAX, small, sizeof(small)), 0);
    assert_string_equal(small, "");
    assert_int_equal(ab_url_normalize("http://e.example/", 17, small, 17), 0);
    assert_int_equal(ab_url_normalize("http://e.example/", 17, small, 18), 17);
    /* Over AB_URL_MAX once trimmed: refused. */
    memset(big + 17, 'a', AB_URL_MAX + 1 - 17);
    assert_int_equal(ab_url_normalize(big, AB_URL_MAX + 1, out, AB_URL_NORM_CAP), 0);
    /* NUL bytes are bytes: escaped in the path. */
    static const char nul[] = "http://e.example/a\0b";
    assert_int_equal(ab_url_normalize(nul, sizeof(nul) - 1, out, AB_URL_NORM_CAP), 22);
    assert_string_equal(out, "http://e.example/a%00b");
    free(big);
    free(out);
}

static void test_host(void **state)
{
    (void)state;
    static const struct {
        const char *url, *host;
    } cases[] = {
        {"http://evil.example/x", "evil.example"},
        {"http://u:p@evil.example:8080/x", "evil.example"},
        {"https://[2001:db8::1]:443/", "2001:db8::1"},
        {"  ftp://Host.Example", "Host.Example"},
        {"http://evil.example?q", "evil.example"},
        {"http://evil.example#f", "evil.example"},
        {"http://evil.example\\x", "evil.example"},
        {"http:///x", NULL},
        {"evil.example", NULL},
        {"http://u@:80/", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *h = NULL;
        size_t hn = 0;
        int ok = ab_url_host(cases[i].url, strlen(cases[i].url), &h, &hn);
        if (!cases[i].host) {
            assert_int_equal(ok, 0);
            continue;
        }
        assert_int_equal(ok, 1);
        if (hn != strlen(cases[i].host) || memcmp(h, cases[i].host, hn))
            fail_msg("%s: want %s, got %.*s", cases[i].url, cases[i].host, (int)hn, h);
    }
    char out[64];
    assert_int_equal(ab_host_normalize("EXAMPLE.com.", 12, out, sizeof(out)), 11);
    assert_string_equal(out, "example.com");
    assert_true(ab_host_normalize("fa\xc3\x9f.de", 7, out, sizeof(out)) > 0);
    assert_string_equal(out, "xn--fa-hia.de");
    assert_true(ab_host_normalize("2001:DB8::0:1", 13, out, sizeof(out)) > 0);
    assert_string_equal(out, "2001:db8::1");
    assert_int_equal(ab_host_normalize("\xff\xfe.example", 10, out, sizeof(out)), 10);
    assert_string_equal(out, "\xff\xfe.example"); /* not UTF-8: kept as bytes */
    assert_int_equal(ab_host_normalize("", 0, out, sizeof(out)), 0);
    assert_int_equal(ab_host_normalize("a.example", 9, out, 9), 0); /* no room for the NUL */
}

/* ---- extraction ---- */

typedef struct found {
    char v[64][AB_URL_TEXT_MAX + 32];
    size_t n;
    size_t total;
    size_t longest;
    int stop_after;
} found;

static int on_found(void *ctx, const char *type, const char *value, size_t len, int defanged)
{
    found *f = ctx;
    assert_int_equal(strlen(value), len); /* NUL-terminated, no NUL inside... */
    assert_true(len <= AB_URL_TEXT_MAX);
    if (len > f->longest)
        f->longest = len;
    f->total++;
    if (f->n < 64)
        snprintf(f->v[f->n++], sizeof(f->v[0]), "%s%s %s", type, defanged ? "!" : "", value);
    return f->stop_after && (int)f->total >= f->stop_after;
}

typedef struct xcase {
    const char *text;
    const char *want[4]; /* "type[!] value", '!' when defanged; NULL-terminated */
} xcase;

static void test_extract(void **state)
{
    (void)state;
    static const xcase cases[] = {
        {"see http://evil.example/a.", {"url http://evil.example/a"}},
        {"(https://evil.example/x), and", {"url https://evil.example/x"}},
        {"https://en.wikipedia.org/wiki/Foo_(bar)",
         {"url https://en.wikipedia.org/wiki/Foo_(bar)"}},
        {"(see https://en.wikipedia.org/wiki/Foo_(bar)).",
         {"url https://en.wikipedia.org/wiki/Foo_(bar)"}},
        {"links: http://a.example/?q=1;http://b.example/!",
         {"url http://a.example/?q=1;http://b.example/"}},
        {"x http://a.example/ y ftp://b.example/f.zip?",
         {"url http://a.example/", "url ftp://b.example/f.zip"}},
        {"<http://evil.example/very/\r\n  long/path>", {"url http://evil.example/very/long/path"}},
        {"<URL:http://evil.example/a>", {"url http://evil.example/a"}},
        {"[http://evil.example/]", {"url http://evil.example/"}},
        {"'http://evil.example/it's'", {"url http://evil.example/it's"}},
        {"\"http://evil.example/q\"", {"url http://evil.example/q"}},
        {"go to www.evil.example/login, now", {"url http://www.evil.example/login"}},
        {"hxxp://evil[.]example/p", {"url! http://evil.example/p"}},
        {"hXXps://evil[.]example", {"url! https://evil.example"}},
        {"h**p://evil(.)example/", {"url! http://evil.example/"}},
        {"fxp://files{.}evil[dot]example/", {"url! ftp://files.evil.example/"}},
        {"hxxp[://]evil(dot)example/x", {"url! http://evil.example/x"}},
        {"http[:]//evil.example/x", {"url! http://evil.example/x"}},
        {"hxxp:// evil[.]example/x", {"url! http://evil.example/x"}},
        {"http:// evil[.]example/x", {"url! http://evil.example/x"}},
        {"www[.]evil[.]example", {"url! http://www.evil.example"}},
        {"C2 at evil[.]example and 10.0.0[.]1.", {"domain! evil.example", "ip! 10.0.0.1"}},
        {"payload at evil[.]example/stage2.bin", {"url! http://evil.example/stage2.bin"}},
        {"mail from bad@phish[.]example", {"domain! phish.example"}},
        {"b\xc3\xbc"
         "cher[.]example",
         {"domain! b\xc3\xbc"
          "cher.example"}},
        {"https://b\xc3\xbc"
         "cher.example/\xc3\xa9t\xc3\xa9 next",
         {"url https://b\xc3\xbc"
          "cher.example/\xc3\xa9t\xc3\xa9"}},
        {"http://[2001:db8::1]:8080/x]", {"url http://[2001:db8::1]:8080/x"}},
        {"http://user:pw@evil.example/", {"url http://user:pw@evil.example/"}},
        {"\xe2\x80\x9chttp://evil.example/q\xe2\x80\x9d", {"url http://evil.example/q"}},
        {"http://evil.example/a\xc2\xa0next", {"url http://evil.example/a"}},
        {"xhttp://evil.example/ nohttp://x.example", {NULL}},
        {"http:// alone, http://", {NULL}},
        {"e.g. i.e. a.b foo[.] [.]bar 1[.]2 x[.]y", {NULL}},
        {"version 1.2[.]3", {NULL}},
        {"a(.)b(.)1", {NULL}},
        {"www.", {NULL}},
        {"", {NULL}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static found f;
        memset(&f, 0, sizeof(f));
        assert_int_equal(ab_url_extract_text(cases[i].text, strlen(cases[i].text), on_found, &f),
                         0);
        size_t want = 0;
        while (want < 4 && cases[i].want[want])
            want++;
        if (f.n != want)
            fail_msg("'%s': want %zu values, got %zu (first: %s)", cases[i].text, want, f.n,
                     f.n ? f.v[0] : "-");
        for (size_t k = 0; k < want; k++)
            if (strcmp(f.v[k], cases[i].want[k]))
                fail_msg("'%s': want %s, got %s", cases[i].text, cases[i].want[k], f.v[k]);
    }
}

static void test_extract_bounds(void **state)
{
    (void)state;
    static found f;
    /* NULs end a URL and are otherwise ordinary bytes. */
    static const char nul[] = "http://a.example/x\0http://b.example/\0evil[.]example";
    memset(&f, 0, sizeof(f));
    ab_url_extract_text(nul, sizeof(nul) - 1, on_found, &f);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.v[0], "url http://a.example/x");
    assert_string_equal(f.v[1], "url http://b.example/");
    assert_string_equal(f.v[2], "domain! evil.example");
    /* A very long URL is cut to AB_URL_TEXT_MAX; what follows it is still found. */
    size_t big = 1 << 20;
    char *t = malloc(big + 64);
    assert_non_null(t);
    for (size_t i = 0; i < big; i++) /* a loop, not memset: gcc's -Warray-bounds misreads it */
        t[i] = 'a';
    memcpy(t, "http://a.example/", 17);
    strcpy(t + big, " http://b.example/");
    memset(&f, 0, sizeof(f));
    ab_url_extract_text(t, strlen(t), on_found, &f);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.longest, AB_URL_TEXT_MAX);
    assert_string_equal(f.v[1], "url http://b.example/");
    /* At most AB_URL_TEXT_URLS values; the callback can stop earlier. */
    size_t k = 0;
    for (; k + 16 < big; k += 16)
        memcpy(t + k, "http://a.exa/x ", 15), t[k + 15] = ' ';
    t[k] = '\0';
    memset(&f, 0, sizeof(f));
    assert_int_equal(ab_url_extract_text(t, k, on_found, &f), 0);
    assert_int_equal(f.total, AB_URL_TEXT_URLS);
    memset(&f, 0, sizeof(f));
    f.stop_after = 5;
    assert_int_equal(ab_url_extract_text(t, k, on_found, &f), 1);
    assert_int_equal(f.total, 5);
    /* Many unclosed '<' and defang tokens: linear (this must not take long). */
    for (k = 0; k + 16 < big; k += 16)
        memcpy(t + k, "<http://a.ex [.", 15), t[k + 15] = 'a';
    memset(&f, 0, sizeof(f));
    ab_url_extract_text(t, k, on_found, &f);
    assert_int_equal(f.total, AB_URL_TEXT_URLS);
    for (k = 0; k + 4 < big; k += 4)
        memcpy(t + k, "a[.]", 4);
    memset(&f, 0, sizeof(f));
    ab_url_extract_text(t, k, on_found, &f); /* one long run: not a domain (too long) */
    memset(t, 'a', big);
    memcpy(t + big - 8, "[.]com", 6);
    memset(&f, 0, sizeof(f));
    ab_url_extract_text(t, big - 2, on_found, &f);
    assert_int_equal(f.total, 0);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),      cmocka_unit_test(test_normalize_bounds),
        cmocka_unit_test(test_host),           cmocka_unit_test(test_extract),
        cmocka_unit_test(test_extract_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
