/* test_html.c: the HTML source (src/unpack/html.c) alone through ab_unpack_run_source (members,
 * signals, counts, hostile shapes: deep nesting, huge attribute lists, unclosed everything,
 * quadratic formatting reconstruction), and inside the engine through ab_scan_buffer (the
 * observables' values and where, signals as findings, member locations). No mail info exists
 * on either path: the credential-form sender is then unknown (only protected domains count). */
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
#include "unpack/unpack.h"

/* ---- members through ab_unpack_run_source ---- */

typedef struct got {
    int n;
    char name[16][64];
    uint8_t *data[16];
    size_t size[16];
} got;

static int collect(void *ctx, const ab_member *m)
{
    got *g = ctx;
    if (g->n < 16) {
        snprintf(g->name[g->n], sizeof(g->name[0]), "%s", m->name);
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
    for (int i = 0; i < g->n && i < 16; i++)
        free(g->data[i]);
    memset(g, 0, sizeof(*g));
}

static ab_status run(const char *html, size_t n, got *g, ab_unpack_counts *c)
{
    memset(g, 0, sizeof(*g));
    return ab_unpack_run_source(&ab_source_html, (const uint8_t *)html, n, NULL, NULL, 0, collect,
                                g, c);
}

static ab_status runs(const char *html, got *g, ab_unpack_counts *c)
{
    return run(html, strlen(html), g, c);
}

static char *b64(const uint8_t *p, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(n / 3 * 4 + 8), *q = o;
    assert_non_null(o);
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *q++ = al[v >> 18];
        *q++ = al[(v >> 12) & 63];
        *q++ = al[(v >> 6) & 63];
        *q++ = al[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *q++ = al[v >> 18];
        *q++ = al[(v >> 12) & 63];
        *q++ = i + 1 < n ? al[(v >> 6) & 63] : '=';
        *q++ = '=';
    }
    *q = '\0';
    return o;
}

/* A fake zip-looking payload (a local file header then filler). */
static uint8_t *fake_zip(size_t n)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + 3);
    memcpy(p, "PK\x03\x04", 4);
    return p;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    assert_true(vasprintf(&s, f, ap) >= 0);
    va_end(ap);
    return s;
}

static void test_claims(void **state)
{
    (void)state;
    const char *yes[] = {"<!DOCTYPE html><html></html>",
                         "\xEF\xBB\xBF  \n<html>",
                         "<HTML><BODY>x",
                         "<div>hello</div>",
                         "<!-- c --><table>",
                         "<p>x",
                         "<a href=x>y</a>",
                         "<?xml version=\"1.0\"?><!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML\">",
                         "<meta charset=utf-8>",
                         "\r\n<head>"};
    const char *no[] = {"",
                        "hello <html>",
                        "<?xml version=\"1.0\"?><root/>",
                        "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
                        "<!DOCTYPE plist>",
                        "<htmlx>",
                        "<",
                        "MZ\x90",
                        "<note><to>x</to></note>"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(ab_source_html.claims((const uint8_t *)yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(ab_source_html.claims((const uint8_t *)no[i], strlen(no[i])));
    /* The first tag must be within 1 KiB. */
    char buf[2048];
    memset(buf, ' ', sizeof(buf));
    memcpy(buf + 1500, "<html>", 6);
    assert_false(ab_source_html.claims((const uint8_t *)buf, sizeof(buf)));
}

/* ---- through the engine: observables and signals ---- */

typedef struct seen {
    char obs[64][160]; /* "type where value" */
    int n_obs;
    char sig[8][32];
    char sig_value[8][160];
    char sig_reason[8][320];
    int n_sig;
    char member[8][128]; /* location[1..] joined by '!' of findings on members */
    int n_member;
} seen;

static int sink(void *ctx, const ab_event *ev)
{
    seen *s = ctx;
    if (ev->kind != AB_EVENT_FINDING)
        return 0;
    const ab_finding *f = &ev->u.finding;
    if (f->obj.location_len == 1 && !s->n_obs)
        for (size_t i = 0; i < f->obj.observables_len && s->n_obs < 64; i++)
            snprintf(s->obs[s->n_obs++], sizeof(s->obs[0]), "%s %s %s", f->obj.observable_type[i],
                     f->obj.observable_where ? f->obj.observable_where[i] : "-",
                     f->obj.observable_value[i]);
    if (f->matcher == AB_MATCHER_MAIL_SIGNAL && s->n_sig < 8) {
        snprintf(s->sig[s->n_sig], sizeof(s->sig[0]), "%s", f->rule);
        snprintf(s->sig_value[s->n_sig], sizeof(s->sig_value[0]), "%s", f->value ? f->value : "");
        snprintf(s->sig_reason[s->n_sig], sizeof(s->sig_reason[0]), "%s",
                 f->reason ? f->reason : "");
        s->n_sig++;
    }
    if (f->obj.location_len > 1 && s->n_member < 8) {
        char *o = s->member[s->n_member++];
        o[0] = '\0';
        for (size_t i = 1; i < f->obj.location_len; i++)
            snprintf(o + strlen(o), 128 - strlen(o), "%s%s", i > 1 ? "!" : "", f->obj.location[i]);
    }
    return 0;
}

static void nodiag(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    (void)ctx;
    if (level == AB_DIAG_ERROR)
        fprintf(stderr, "%s: %s\n", where, msg);
}

/* Scan html with a rule firing on every object (so the HTML's own finding lists its
 * observables), and protected domains (NULL-terminated, may be NULL). */
static void engine(const char *html, const char *const *protect, seen *s)
{
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_rules_string(sc, "rule all_objects { condition: true }\n",
                                                 "a.yar", "t", nodiag, NULL),
                     AB_OK);
    for (size_t i = 0; protect && protect[i]; i++)
        assert_int_equal(ab_scanner_add_protected_domain(sc, protect[i]), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, nodiag, NULL), AB_OK);
    memset(s, 0, sizeof(*s));
    ab_sink k = {sink, s};
    assert_int_equal(ab_scan_buffer(sc, html, strlen(html), "page.html", &k), AB_OK);
    ab_scanner_free(sc);
}

static int has_obs(const seen *s, const char *want)
{
    for (int i = 0; i < s->n_obs; i++)
        if (!strcmp(s->obs[i], want))
            return 1;
    return 0;
}

static int has_sig(const seen *s, const char *rule)
{
    for (int i = 0; i < s->n_sig; i++)
        if (!strcmp(s->sig[i], rule))
            return 1;
    return 0;
}

static void test_observables(void **state)
{
    (void)state;
    const char *html =
        "<html><head>"
        "<meta http-equiv=\"Refresh\" content=\"5; URL='https://refresh.example.net/go'\">"
        "<link rel=stylesheet href=\"https://cdn.example.org/s.css\">"
        "<script src=\"//scripts.example.com/a.js\"></script></head><body>"
        "<a href=\"  http://one.example.com/x?y=1  \">one</a>"
        "<a href=\"/relative/path\">rel</a><a href=\"page2.html\">rel2</a>"
        "<a href=\"#top\">top</a><a href=\"javascript:void(0)\">js</a>"
        "<a href=\"tel:+123\">tel</a>"
        "<a href=\"MAILTO:Boss@Example.COM?subject=hi\">mail</a>"
        "<area href=\"ftp://files.example.com/f\">"
        "<img src=\"https://img.example.com/i.png\" srcset=\"https://img.example.com/2x.png 2x, "
        "https://img.example.com/3x.png 3x\">"
        "<iframe src=\"https://frame.example.com/\"></iframe>"
        "<embed src=\"https://embed.example.com/e.swf\">"
        "<video src=\"https://v.example.com/v.mp4\"><source src=\"https://v.example.com/s.webm\">"
        "</video><audio src=\"https://a.example.com/a.mp3\"></audio>"
        "<form action=\"https://post.example.com/submit\"><input type=text name=q>"
        "<button formaction=\"https://btn.example.com/b\">b</button>"
        "<input type=submit formaction=\"http://in.example.com/i\">"
        "<input type=IMAGE src=\"https://inimg.example.com/i.gif\"></form>"
        "<input src=\"https://notimage.example.com/x\">"
        "</body></html>";
    seen s;
    engine(html, NULL, &s);
    const char *want[] = {
        "url html.refresh https://refresh.example.net/go",
        "url html.href https://cdn.example.org/s.css",
        "url html.src http://scripts.example.com/a.js",
        "url html.href http://one.example.com/x?y=1",
        "email html.href Boss@Example.COM",
        "url html.href ftp://files.example.com/f",
        "url html.src https://img.example.com/i.png",
        "url html.src https://img.example.com/2x.png",
        "url html.src https://frame.example.com/",
        "url html.src https://embed.example.com/e.swf",
        "url html.src https://v.example.com/v.mp4",
        "url html.src https://v.example.com/s.webm",
        "url html.src https://a.example.com/a.mp3",
        "url html.form https://post.example.com/submit",
        "url html.form https://btn.example.com/b",
        "url html.form http://in.example.com/i",
        "url html.src https://inimg.example.com/i.gif",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!has_obs(&s, want[i])) {
            for (int k = 0; k < s.n_obs; k++)
                fprintf(stderr, "  have: %s\n", s.obs[k]);
            fail_msg("missing observable: %s", want[i]);
        }
    }
    /* Exactly these: relative, fragment, javascript:, tel:, a non-image input's src, the 3x
     * candidate are not observables. */
    assert_int_equal(s.n_obs, (int)(sizeof(want) / sizeof(want[0])));
    assert_int_equal(s.n_sig, 0);
}

static void test_refresh_forms(void **state)
{
    (void)state;
    const char *forms[][2] = {
        {"0;url=http://r1.example.com/", "http://r1.example.com/"},
        {"0; URL = 'http://r2.example.com/a b'", "http://r2.example.com/a b"},
        {"3,http://r3.example.com/", "http://r3.example.com/"},
        {"  10  ;  https://r4.example.com/x  ", "https://r4.example.com/x"},
        {"1.5; url=//r5.example.com/", "http://r5.example.com/"},
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char *h =
            fmt("<html><head><meta http-equiv=refresh content=\"%s\"></head></html>", forms[i][0]);
        seen s;
        engine(h, NULL, &s);
        char *w = fmt("url html.refresh %s", forms[i][1]);
        if (!has_obs(&s, w))
            fail_msg("%s: got %d, first '%s'", forms[i][0], s.n_obs, s.n_obs ? s.obs[0] : "");
        free(w);
        free(h);
    }
    /* A refresh with no URL (reload) is nothing. */
    seen s;
    engine("<html><meta http-equiv=refresh content=\"30\"></html>", NULL, &s);
    assert_int_equal(s.n_obs, 0);
}

static void test_data_uri_members(void **state)
{
    (void)state;
    got g;
    ab_unpack_counts c;
    const char *pct = "<html><a href=\"data:text/plain,hello%20world%21\">x</a>"
                      "<img src=\"data:image/png;base64,iVBORw0KGgo=\">"
                      "<a href=\"data:application/octet-stream;base64,TVqQAAMAAAAEAAAA\">y</a>"
                      "<a href=\"data:;base64,aGk=\">z</a></html>";
    assert_int_equal(runs(pct, &g, &c), AB_OK);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.name[0], "data#1.txt");
    assert_int_equal(g.size[0], 12);
    assert_memory_equal(g.data[0], "hello world!", 12);
    assert_string_equal(g.name[1], "data#2.png");
    assert_int_equal(g.size[1], 8);
    assert_memory_equal(g.data[1], "\x89PNG\r\n\x1a\n", 8);
    assert_string_equal(g.name[2], "data#3.exe"); /* octet-stream: named by its magic */
    assert_memory_equal(g.data[2], "MZ\x90\x00", 4);
    assert_string_equal(g.name[3], "data#4");
    assert_memory_equal(g.data[3], "hi", 2);
    /* The MZ payload is smuggling, the PNG never. */
    assert_int_equal(c.signals, 1);
    assert_string_equal(c.last_signal, "html-smuggling");
    got_free(&g);

    /* A data: URI inside inline script text (the EnvyScout shape). */
    uint8_t *z = fake_zip(3000);
    char *e = b64(z, 3000);
    char *h = fmt("<html><body><script>var d = 'data:application/zip;base64,%s';"
                  "var b = new Blob([d]); URL.createObjectURL(b);</script></body></html>",
                  e);
    assert_int_equal(runs(h, &g, &c), AB_OK);
    assert_true(g.n >= 1);
    assert_string_equal(g.name[0], "data#1.zip");
    assert_int_equal(g.size[0], 3000);
    assert_memory_equal(g.data[0], z, 3000);
    assert_string_equal(c.last_signal, "html-smuggling");
    got_free(&g);
    free(h);
    free(e);
    free(z);
}

static void test_script_literals(void **state)
{
    (void)state;
    got g;
    ab_unpack_counts c;
    uint8_t *z = fake_zip(2048);
    char *e = b64(z, 2048);
    /* A hex literal too: 1100 bytes of an MZ-less payload. */
    char *hex = malloc(2201 + 1);
    for (int i = 0; i < 1100; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned)(i & 0xff));
    char *h = fmt("<html><script>\nvar a = \"%s\";\nvar s = 'short';\nvar x = `%s`;\n"
                  "var bin = atob(a); window.navigator.msSaveOrOpenBlob(new Blob([bin]));"
                  "</script></html>",
                  e, hex);
    assert_int_equal(runs(h, &g, &c), AB_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.name[0], "script#1");
    assert_int_equal(g.size[0], 2048);
    assert_memory_equal(g.data[0], z, 2048);
    assert_string_equal(g.name[1], "script#2");
    assert_int_equal(g.size[1], 1100);
    assert_int_equal(g.data[1][255], 255);
    assert_int_equal(c.signals, 1);
    assert_string_equal(c.last_signal, "html-smuggling");
    got_free(&g);
    free(h);

    /* A short literal (< 1024 decoded bytes) is no member; the same literal outside a script
     * (body text) neither. */
    char small[1200];
    memset(small, 'A', 1000);
    small[1000] = '\0';
    h = fmt("<html><script>var a = \"%s\";</script><p>\"%s\"</p></html>", small, e);
    assert_int_equal(runs(h, &g, &c), AB_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(c.signals, 0);
    got_free(&g);
    free(h);
    free(hex);
    free(e);
    free(z);
}

static void test_inline_images_clean(void **state)
{
    (void)state;
    /* Many inline PNG images (even one whose bytes start like a zip: declared image/) and a
     * newsletter's links: no signal. */
    uint8_t *z = fake_zip(2000);
    char *e = b64(z, 2000);
    char *h =
        fmt("<html><body><img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==\">"
            "<img src=\"data:image/png;base64,%s\">"
            "<a href=\"https://news.example.com/1\">Read more</a>"
            "<a href=\"https://news.example.com/2\"><img src=\"https://news.example.com/i.png\""
            "></a><a href=\"https://track.example.net/u?x=1\">Unsubscribe</a>"
            "<a href=\"https://track.example.net/c?1\">Click here</a>"
            "<a href=\"https://www.example.org/\">example.org</a>"
            "<a href=\"https://example.org/\">www.example.org</a>"
            "<a href=\"https://mail.example.org/x\">https://www.example.org/login</a>"
            "<a href=\"https://dl.example.org/r\">report.zip</a>"
            "<a href=\"https://example.org/v\">Version 1.2.3</a>"
            "<a href=\"mailto:x@evil.example\">paypal.com</a>"
            "<a href=\"/rel\">paypal.com</a>"
            "</body></html>",
            e);
    got g;
    ab_unpack_counts c;
    assert_int_equal(runs(h, &g, &c), AB_OK);
    assert_int_equal(g.n, 2);
    if (c.signals)
        fail_msg("signal %s", c.last_signal);
    got_free(&g);
    free(h);
    free(e);
    free(z);
}

static void test_link_text_mismatch(void **state)
{
    (void)state;
    const char *fire[] = {
        "<html><a href=\"http://login.evil-site.com/paypal\">www.paypal.com</a></html>",
        "<html><a href=\"https://1.2.3.4/x\">  Sign in at <b>PayPal.com</b></a></html>",
        "<html><a href=\"https://evil.example.net/\">https://secure.bank.co.uk/login</a></html>",
        "<html><a href=\"//evil.example.net/\">bank.co.uk/login.</a></html>",
    };
    for (size_t i = 0; i < sizeof(fire) / sizeof(fire[0]); i++) {
        seen s;
        engine(fire[i], NULL, &s);
        if (!has_sig(&s, "link-text-mismatch"))
            fail_msg("no signal: %s", fire[i]);
    }
    seen s;
    engine(fire[0], NULL, &s);
    assert_int_equal(s.n_sig, 1);
    assert_string_equal(s.sig_value[0], "http://login.evil-site.com/paypal");
    assert_non_null(strstr(s.sig_reason[0], "paypal.com"));
    assert_non_null(strstr(s.sig_reason[0], "evil-site.com"));
    const char *quiet[] = {
        "<html><a href=\"https://www.paypal.com/\">paypal.com</a></html>",
        "<html><a href=\"https://paypal.com/\">www.paypal.com</a></html>",
        "<html><a href=\"https://x.example.com/\">Visit example.com or paypal.com</a></html>",
        "<html><a href=\"https://x.example.com/\">Click here</a></html>",
        "<html><a href=\"page.html\">paypal.com</a></html>",
        "<html><a href=\"tel:1234\">paypal.com</a></html>",
        "<html><a href=\"https://x.example.com/\">e.g. this</a></html>",
        "<html><a href=\"https://x.example.com/\">mail support@paypal.com</a></html>",
    };
    for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
        engine(quiet[i], NULL, &s);
        if (has_sig(&s, "link-text-mismatch"))
            fail_msg("signal on: %s (%s)", quiet[i], s.sig_reason[0]);
    }
}

static void test_credential_form(void **state)
{
    (void)state;
    const char *fire[] = {
        /* absolute action elsewhere (no sender: only protected domains count) */
        "<html><form action=\"https://collect.evil.example/p.php\" method=post>"
        "<input name=u><input type=password name=p></form></html>",
        /* no action: posts nowhere visible */
        "<html><form><input type=\"PASSWORD\"></form></html>",
        /* relative action */
        "<html><form action=\"post.php\"><div><input type=password></div></form></html>",
        /* a password field outside the form */
        "<html><form action=\"https://c.evil.example/\"><input name=u></form>"
        "<input type=password></html>",
        /* no form at all */
        "<html><input type=password><script>fetch('x')</script></html>",
    };
    for (size_t i = 0; i < sizeof(fire) / sizeof(fire[0]); i++) {
        seen s;
        engine(fire[i], NULL, &s);
        if (!has_sig(&s, "credential-form"))
            fail_msg("no signal: %s", fire[i]);
    }
    seen s;
    const char *prot[] = {"bank.example.com", NULL};
    /* Posting to a protected registered domain (a subdomain of it) is quiet; the same form
     * posting elsewhere fires even with protected domains set. */
    engine("<html><form action=\"https://login.example.com/auth\"><input type=password></form>"
           "</html>",
           prot, &s);
    assert_false(has_sig(&s, "credential-form"));
    /* <base href> resolves a relative action. */
    engine("<html><head><base href=\"https://www.example.com/\"></head><form action=\"auth\">"
           "<input type=password></form></html>",
           prot, &s);
    assert_false(has_sig(&s, "credential-form"));
    engine("<html><form action=\"https://evil.example/\"><input type=password></form></html>", prot,
           &s);
    assert_true(has_sig(&s, "credential-form"));
    assert_string_equal(s.sig_value[0], "evil.example");
    /* No password field: a search form is nothing. */
    engine("<html><form action=\"https://evil.example/\"><input type=text></form></html>", NULL,
           &s);
    assert_int_equal(s.n_sig, 0);
}

static void test_smuggling_engine(void **state)
{
    (void)state;
    /* The member's location and the signal on the HTML itself. */
    uint8_t *z = fake_zip(1500);
    char *e = b64(z, 1500);
    char *h = fmt("<html><body><a download=\"invoice.zip\" "
                  "href=\"data:application/zip;base64,%s\">Download</a></body></html>",
                  e);
    seen s;
    engine(h, NULL, &s);
    assert_true(has_sig(&s, "html-smuggling"));
    assert_string_equal(s.sig_value[0], "data#1.zip");
    assert_non_null(strstr(s.sig_reason[0], "download primitive"));
    int found = 0;
    for (int i = 0; i < s.n_member; i++)
        found |= !strcmp(s.member[i], "data#1.zip");
    assert_true(found);
    free(h);
    free(e);
    free(z);
}

/* ---- hostile shapes ---- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *repeat(const char *pre, const char *unit, size_t times, const char *post, size_t *len)
{
    size_t pl = strlen(pre), ul = strlen(unit), ql = strlen(post);
    char *s = malloc(pl + ul * times + ql + 1);
    assert_non_null(s);
    memcpy(s, pre, pl);
    for (size_t i = 0; i < times; i++)
        memcpy(s + pl + i * ul, unit, ul);
    memcpy(s + pl + ul * times, post, ql + 1);
    *len = pl + ul * times + ql;
    return s;
}

static void hostile(const char *pre, const char *unit, size_t times, int refused)
{
    size_t n;
    char *s = repeat(pre, unit, times, "<a href=\"http://tail.example.com/\">t</a>", &n);
    got g;
    ab_unpack_counts c;
    /* No clock here (a loaded machine is no failure): a shape that made the parser quadratic
     * would take hours at these sizes, and the test's timeout ends it; the time is printed. */
    double t0 = now();
    ab_status st = run(s, n, &g, &c);
    print_message("%s x %zu: %.2f s\n", unit, times, now() - t0);
    if (refused) {
        assert_int_equal(st, AB_ERR_LIMIT);
        assert_true(c.errors >= 1);
        assert_non_null(strstr(c.last_error, "not parsed"));
    } else {
        if (st != AB_OK)
            fail_msg("%s x %zu: %s", unit, times, c.last_error);
        assert_int_equal(c.observables, 1);
    }
    got_free(&g);
    free(s);
}

static void test_hostile(void **state)
{
    (void)state;
    hostile("<html><body>", "<div>", 100000, 1);               /* deep: refused by the pre-scan */
    hostile("<html><body>", "<div></x>", 100000, 1);           /* unmatched end tags do not pop */
    hostile("<html><body>", "<div>", 2000, 0);                 /* deep enough for real pages */
    hostile("<html><body>", "<p>x<li>y<td>z<br>", 200000, 0);  /* auto-closing, void */
    hostile("<html><body>", "<b><i><u><s>x</p><p>", 50000, 0); /* unclosed formatting */
    hostile("<html><body>", "<div></div>", 300000, 0);
    hostile("<html><body>", "<b><i>x</b></i>", 100000, 0); /* misnested, closed */
    /* The adoption agency keeps b..strong open at each </a>: the stack grows. */
    hostile("", "<a><b><i><u><s><font><em><strong>x</a>", 20000, 1);
    /* Quadratic reconstruction of formatting elements with distinct attributes: the heap cap. */
    size_t n = 0, cap = 4000 * 32;
    char *s = malloc(cap);
    n = (size_t)snprintf(s, cap, "<html><body>");
    for (int i = 0; i < 4000; i++)
        n += (size_t)snprintf(s + n, cap - n, "<p><b id=%d>x</p>", i);
    got g;
    ab_unpack_counts c;
    double t0 = now();
    ab_status st = run(s, n, &g, &c);
    print_message("4000 formatting elements: %.2f s\n", now() - t0); /* no clock asserts */
    assert_int_equal(st, AB_ERR_LIMIT);
    assert_non_null(strstr(c.last_error, "parse tree"));
    got_free(&g);
    free(s);
    /* A huge attribute list on one element, and unclosed everything. */
    char *attrs = malloc(200000 * 12 + 64);
    n = (size_t)sprintf(attrs, "<div ");
    for (int i = 0; i < 200000; i++)
        n += (size_t)sprintf(attrs + n, "a%d=1 ", i);
    strcpy(attrs + n, ">");
    t0 = now();
    st = run(attrs, strlen(attrs), &g, &c);
    print_message("200000 attributes: %.2f s\n", now() - t0);
    assert_int_equal(st, AB_ERR_LIMIT);
    got_free(&g);
    /* 1000 attributes: parsed */
    n = (size_t)sprintf(attrs, "<a ");
    for (int i = 0; i < 1000; i++)
        n += (size_t)sprintf(attrs + n, "a%d=1 ", i);
    strcpy(attrs + n, "href=\"http://x.example.com/\">x</a>");
    assert_int_equal(run(attrs, strlen(attrs), &g, &c), AB_OK);
    assert_int_equal(c.observables, 1);
    got_free(&g);
    free(attrs);
    const char *unclosed[] = {"<html",
                              "<html><a href=\"http://x",
                              "<html><script>var a='",
                              "<html><!--",
                              "<html><form><input type=password",
                              ("<div><table><tr"
                               "><td><a href=data:application/zip;base64,UEsDBA")};
    for (size_t i = 0; i < sizeof(unclosed) / sizeof(unclosed[0]); i++)
        run(unclosed[i], strlen(unclosed[i]), &g, &c), got_free(&g);
    /* Every truncation of a small document with every feature. */
    const char *doc = "<!DOCTYPE html><html><head><base href=\"https://b.example.com/\">"
                      "<meta http-equiv=refresh content=\"0;url=http://r.example.com\"></head>"
                      "<body><a href=\"http://evil.example\">paypal.com</a>"
                      "<form action=\"x\"><input type=password></form>"
                      "<img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\">"
                      "<script>var u='data:text/plain,%41%42';</script></body></html>";
    for (size_t k = 1; k <= strlen(doc); k++)
        run(doc, k, &g, &c), got_free(&g);
}

static void test_member_limit(void **state)
{
    (void)state;
    uint8_t *z = fake_zip(4000);
    char *e = b64(z, 4000);
    char *h = fmt("<html><a href=\"data:application/zip;base64,%s\">x</a>"
                  "<a href=\"data:text/plain,ok\">y</a></html>",
                  e);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 1000;
    got g;
    ab_unpack_counts c;
    memset(&g, 0, sizeof(g));
    ab_unpack_run_source(&ab_source_html, (const uint8_t *)h, strlen(h), &l, NULL, 0, collect, &g,
                         &c);
    assert_int_equal(g.n, 1); /* the zip is over the member cap; the text is yielded */
    assert_string_equal(g.name[0], "data#2.txt");
    assert_true(c.limits >= 1);
    got_free(&g);
    free(h);
    free(e);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_observables),
        cmocka_unit_test(test_refresh_forms),
        cmocka_unit_test(test_data_uri_members),
        cmocka_unit_test(test_script_literals),
        cmocka_unit_test(test_inline_images_clean),
        cmocka_unit_test(test_link_text_mismatch),
        cmocka_unit_test(test_credential_form),
        cmocka_unit_test(test_smuggling_engine),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_member_limit),
    };
    assert_int_equal(ab_init(), AB_OK);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ab_finish();
    return rc;
}
