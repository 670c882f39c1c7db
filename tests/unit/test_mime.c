/* test_mime.c: the mail sources (src/unpack/mime.c, mailsig.c): what claims a message or an
 * mbox, the parts a message yields (names, decoded bytes, part paths, charsets), mbox splitting,
 * each header and attachment signal with its clean counterpart, the password finder, mail info
 * and locations inside the engine, and hostile messages (too many parts, deep nesting, garbage). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unpack/mailsig.h"
#include "unpack/unpack.h"

#define MAX_GOT 16
typedef struct got {
    size_t n;
    char name[MAX_GOT][300];
    char part[MAX_GOT][48];
    char type[MAX_GOT][64];
    uint8_t data[MAX_GOT][2048];
    size_t size[MAX_GOT];
} got;

static int collect(void *ctx, const ab_member *m)
{
    got *g = ctx;
    if (g->n < MAX_GOT) {
        snprintf(g->name[g->n], sizeof(g->name[0]), "%s", m->name);
        snprintf(g->part[g->n], sizeof(g->part[0]), "%s", m->mail_part ? m->mail_part : "");
        snprintf(g->type[g->n], sizeof(g->type[0]), "%s", m->media_type ? m->media_type : "");
        size_t k = m->size < sizeof(g->data[0]) - 1 ? m->size : sizeof(g->data[0]) - 1;
        if (k)
            memcpy(g->data[g->n], m->data, k);
        g->data[g->n][k] = 0;
        g->size[g->n] = m->size;
    }
    g->n++;
    return 0;
}

static ab_unpack_counts run_src(const ab_source *s, const char *text, size_t len, got *g)
{
    ab_unpack_counts c;
    memset(g, 0, sizeof(*g));
    ab_unpack_run_source(s, (const uint8_t *)text, len, NULL, NULL, 0, collect, g, &c);
    return c;
}

static ab_unpack_counts run(const char *text, got *g)
{
    return run_src(&ab_source_mime, text, strlen(text), g);
}

#define HDR                                                                                        \
    "From: Alice <alice@partner.example>\r\n"                                                      \
    "To: bob@our-university.ac.uk\r\n"                                                             \
    "Subject: data\r\n"                                                                            \
    "Date: Thu, 14 May 2020 10:00:00 +0000\r\n"                                                    \
    "Message-ID: <m1@partner.example>\r\n"

static void test_claims(void **state)
{
    (void)state;
    const char *eml = HDR "\r\nbody\r\n";
    assert_true(ab_source_mime.claims((const uint8_t *)eml, strlen(eml)));
    /* HTTP, a Debian control file, a note with one header-like line: not mail */
    const char *http = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>";
    const char *deb = "Package: x\nVersion: 1\nMaintainer: a <a@b.example>\n\nDescription";
    const char *note = "Subject: notes\nfrom the meeting\n";
    const char *hdr_only = "Content-Type: text/plain\r\nDate: x\r\nTo: y\r\n\r\nz";
    assert_false(ab_source_mime.claims((const uint8_t *)http, strlen(http)));
    assert_false(ab_source_mime.claims((const uint8_t *)deb, strlen(deb)));
    assert_false(ab_source_mime.claims((const uint8_t *)note, strlen(note)));
    assert_false(ab_source_mime.claims((const uint8_t *)hdr_only, strlen(hdr_only)));
    /* mbox: "From " line then a message; the mime source does not claim it */
    const char *mbox = "From alice@partner.example Thu May 14 10:00:00 2020\n" HDR "\nbody\n";
    assert_true(ab_source_mbox.claims((const uint8_t *)mbox, strlen(mbox)));
    assert_false(ab_source_mime.claims((const uint8_t *)mbox, strlen(mbox)));
    assert_false(ab_source_mbox.claims((const uint8_t *)eml, strlen(eml)));
}

static void test_parts(void **state)
{
    (void)state;
    const char *m = HDR "MIME-Version: 1.0\r\n"
                        "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
                        "--XX\r\n"
                        "Content-Type: multipart/alternative; boundary=\"YY\"\r\n\r\n"
                        "--YY\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                        "caf=E9 au lait\r\n"
                        "--YY\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n"
                        "--YY--\r\n"
                        "--XX\r\nContent-Type: application/octet-stream\r\n"
                        "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n"
                        "QVJURUZBQ1Q=\r\n"
                        "--XX\r\nContent-Type: application/octet-stream\r\n"
                        "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt\r\n"
                        "Content-Transfer-Encoding: x-uuencode\r\n\r\n"
                        "begin 644 x\r\n%6%E3\"\\`\r\n`\r\nend\r\n"
                        "--XX\r\nContent-Type: message/rfc822\r\n\r\n" HDR "\r\ninner body\r\n"
                        "--XX--\r\n";
    got g;
    ab_unpack_counts c = run(m, &g);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g.n, 5);
    /* text bodies first (a password in them must be known before the attachments) */
    assert_string_equal(g.name[0], "part-1.1.txt");
    assert_string_equal(g.part[0], "1.1");
    assert_string_equal((char *)g.data[0], "caf\xc3\xa9 au lait"); /* converted to UTF-8 */
    assert_string_equal(g.name[1], "part-1.2.html");
    assert_string_equal(g.type[1],
                        "text/html"); /* the HTML source reads it whatever it starts with */
    assert_string_equal(g.type[0], "text/plain");
    assert_string_equal(g.name[2], "a.bin");
    assert_string_equal(g.part[2], "2");
    assert_int_equal(g.size[2], 8);
    assert_memory_equal(g.data[2], "ARTEFACT", 8);
    assert_string_equal(g.name[3], "r\xc3\xa9sum\xc3\xa9.txt"); /* RFC 2231 */
    assert_string_equal(g.part[4], "4");
    assert_string_equal(g.name[4], "part-4.eml");
    assert_non_null(strstr((char *)g.data[4], "inner body"));
    /* the inner message is a message again */
    assert_true(ab_source_mime.claims(g.data[4], g.size[4]));
}

static void test_single_part(void **state)
{
    (void)state;
    got g;
    ab_unpack_counts c = run(HDR "\r\nplain body http://x.example/a.\r\n", &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.name[0], "part-1.txt");
    assert_string_equal(g.part[0], "1");
    assert_true(c.observables >= 3); /* From, To, the URL */
}

static void test_mbox(void **state)
{
    (void)state;
    const char *mb = "From a@b Thu May 14 10:00:00 2020\n" HDR "\nfirst\n>From the escaped line\n"
                     "From a careless body line (no blank line before)\n\n"
                     "From a@b Thu May 14 10:00:01 2020\n"
                     "From: c@d.example\nTo: e@f.example\nSubject: two\nDate: x\n\nsecond\n\n"
                     "From a@b Thu May 14 10:00:02 2020\n" HDR "\nthird\n";
    got g;
    ab_unpack_counts c = run_src(&ab_source_mbox, mb, strlen(mb), &g);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.name[0], "#1 <m1@partner.example>");
    assert_string_equal(g.name[1], "#2");
    assert_string_equal(g.name[2], "#3 <m1@partner.example>");
    assert_non_null(strstr((char *)g.data[0], "careless body line"));
    assert_true(ab_source_mime.claims(g.data[1], g.size[1]));
}

/* Signals a message fires, as a comma-separated list. */
static const char *signals_of(const char *msg)
{
    static ab_unpack_counts c;
    got g;
    c = run(msg, &g);
    return c.signal_list;
}

static void test_header_signals(void **state)
{
    (void)state;
    assert_non_null(
        strstr(signals_of(HDR "Reply-To: x@collector.example\r\n\r\nb\r\n"), "reply-to-mismatch,"));
    /* a list setting Reply-To to itself, and a Reply-To at the sender's own domain */
    assert_string_equal(signals_of(HDR "Reply-To: list@lists.example.org\r\n"
                                       "List-Id: Research <research.lists.example.org>\r\n"
                                       "List-Post: <mailto:list@lists.example.org>\r\n\r\nb\r\n"),
                        "");
    assert_string_equal(signals_of(HDR "Reply-To: a2@mail.partner.example\r\n\r\nb\r\n"), "");
    /* Return-Path elsewhere, no vouching; then an aligned DKIM signature, then list mail */
    assert_non_null(strstr(signals_of(HDR "Return-Path: <b@bounce.example>\r\n\r\nb\r\n"),
                           "return-path-mismatch,"));
    assert_string_equal(signals_of(HDR "Return-Path: <b@esp.example>\r\nDKIM-Signature: v=1; "
                                       "a=rsa-sha256; d=partner.example; s=s1; b=x\r\n\r\nb\r\n"),
                        "");
    assert_string_equal(signals_of(HDR "Return-Path: <b@esp.example>\r\n"
                                       "List-Unsubscribe: <https://esp.example/u>\r\n\r\nb\r\n"),
                        "");
    /* display name with another domain's address; a Google Groups "via" relay is not */
    assert_non_null(
        strstr(signals_of("From: \"support@our-university.ac.uk\" <e@evil.example>\r\n"
                          "To: x@y.example\r\nSubject: s\r\nMessage-ID: <1@e>\r\n\r\nb"),
               "display-name-address,"));
    assert_string_equal(signals_of("From: \"'bob@partner.example' via Research\" "
                                   "<research@googlegroups.com>\r\nTo: x@y.example\r\n"
                                   "Subject: s\r\nMessage-ID: <1@e>\r\n\r\nb"),
                        "");
    /* the topmost Authentication-Results counts; a lower (older, forgeable) one does not */
    const char *ar = signals_of(HDR "Authentication-Results: mx.our; spf=fail; dkim=fail "
                                    "header.d=x; dmarc=fail\r\n\r\nb\r\n");
    assert_non_null(strstr(ar, "auth-spf-fail,"));
    assert_non_null(strstr(ar, "auth-dkim-fail,"));
    assert_non_null(strstr(ar, "auth-dmarc-fail,"));
    assert_string_equal(signals_of(HDR "Authentication-Results: mx.our; spf=pass; dkim=pass; "
                                       "dmarc=pass\r\nAuthentication-Results: old; spf=fail\r\n"
                                       "\r\nb\r\n"),
                        "");
}

static const char *attach_signals(const char *filename, const char *type, const char *b64)
{
    static char msg[4096];
    snprintf(msg, sizeof(msg),
             HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"Q\"\r\n\r\n"
                 "--Q\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                 "--Q\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
                 "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--Q--\r\n",
             type, filename, b64);
    return signals_of(msg);
}

static void test_attachment_signals(void **state)
{
    (void)state;
    const char *s = attach_signals("invoice.pdf.exe", "application/octet-stream", "eHh4");
    assert_non_null(strstr(s, "attachment-double-extension,"));
    assert_non_null(strstr(s, "attachment-executable,"));
    s = attach_signals("invoice.pdf          .scr", "application/octet-stream", "eHh4");
    assert_non_null(strstr(s, "attachment-double-extension,"));
    s = attach_signals("report\xe2\x80\xae"
                       "fdp.exe",
                       "application/octet-stream", "eHh4");
    assert_non_null(strstr(s, "attachment-rtl-override,"));
    s = attach_signals("update.iso", "application/octet-stream", "eHh4");
    assert_string_equal(s, "attachment-executable,");
    /* an executable by its bytes, whatever the name */
    s = attach_signals("photo.jpg", "image/jpeg",
                       "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                       "AAAAAAgAAAAA==");
    assert_non_null(strstr(s, "attachment-executable,"));
    /* clean: a PDF, a photo, a file with dots in its name */
    assert_string_equal(attach_signals("report.pdf", "application/pdf", "JVBERi0="), "");
    assert_string_equal(attach_signals("v1.2.final.docx", "application/octet-stream", "eHh4"), "");
    assert_string_equal(attach_signals("IMG_0001.jpg", "image/jpeg", "/9j/4AAQ"), "");
}

static void test_password_finder(void **state)
{
    (void)state;
    static const struct {
        const char *text, *pw;
    } t[] = {
        {"The password is: Vaccine2020", "Vaccine2020"},
        {"password: \"s3cret pass\" thanks", "s3cret pass"},
        {"the archive password is infected.", "infected"},
        {"Passwort: Geheim123", "Geheim123"},
        {"mot de passe : azerty99", "azerty99"},
        {"pwd=abc123;", "abc123"},
        {"\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c: Vaccine7", "Vaccine7"}, /* пароль */
        {"Forgot your password? Reset it at the portal", NULL},
        {"password", NULL},
        {"password: ab", NULL}, /* too short to be one */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char out[AB_MAIL_MAX_PASSWORD + 1];
        size_t used = 0;
        size_t n = ab_mail_find_password(t[i].text, strlen(t[i].text), out, sizeof(out), &used);
        if (t[i].pw) {
            assert_int_equal(n, strlen(t[i].pw));
            assert_string_equal(out, t[i].pw);
        } else {
            assert_int_equal(n, 0);
        }
        assert_true(used <= strlen(t[i].text));
    }
}

/* Review fixes: an unnamed executable part is an attachment; a Received header of a million '['
 * costs linear time; a message with a raw yEnc line is the mime source's, not the yEnc source's. */
static void test_review_fixes(void **state)
{
    (void)state;
    const char *unnamed =
        HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"Q\"\r\n\r\n"
            "--Q\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            "--Q\r\nContent-Type: application/x-msdownload\r\nContent-Transfer-Encoding: "
            "base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            "AAAAAAAAAAgAAAAA==\r\n--Q--\r\n";
    assert_non_null(strstr(signals_of(unnamed), "attachment-executable,"));
    size_t n = 1000000;
    char *m = malloc(n + 512);
    assert_non_null(m);
    size_t k = (size_t)snprintf(m, 512, "%sReceived: ", HDR);
    memset(m + k, '[', n);
    k += n;
    k += (size_t)snprintf(m + k, 512, "]\r\n\r\nbody\r\n");
    clock_t t0 = clock();
    got g;
    run_src(&ab_source_mime, m, k, &g);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5);
    free(m);
    const char *raw = HDR "\r\n=ybegin line=128 size=1 name=x\r\nk\r\n=yend\r\n";
    assert_false(ab_source_yenc.claims((const uint8_t *)raw, strlen(raw)));
}

/* yEnc: GMime's filter decodes the block (here "ARTEFACT" yEnc-encoded: each byte + 42). */
static void test_yenc(void **state)
{
    (void)state;
    char enc[64];
    const char *plain = "ARTEFACT";
    size_t n = 0;
    for (const char *p = plain; *p; p++)
        enc[n++] = (char)((unsigned char)*p + 42);
    enc[n] = 0;
    char doc[256];
    snprintf(doc, sizeof(doc),
             "yEnc below\r\n=ybegin line=128 size=8 name=a.bin\r\n%s\r\n=yend size=8\r\n", enc);
    assert_true(ab_source_yenc.claims((const uint8_t *)doc, strlen(doc)));
    assert_false(ab_source_yenc.claims((const uint8_t *)"x=ybegin ", 9));
    got g;
    ab_unpack_counts c = run_src(&ab_source_yenc, doc, strlen(doc), &g);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.name[0], "a.bin");
    assert_int_equal(g.size[0], 8);
    assert_memory_equal(g.data[0], "ARTEFACT", 8);
}

/* ---- hostile messages ---- */

static void test_many_parts(void **state)
{
    (void)state;
    const char *h =
        HDR "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n";
    size_t parts = 30000, cap = strlen(h) + parts * 40 + 16, n = 0;
    char *m = malloc(cap);
    assert_non_null(m);
    n += (size_t)snprintf(m + n, cap - n, "%s", h);
    for (size_t i = 0; i < parts; i++)
        n += (size_t)snprintf(m + n, cap - n, "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n");
    n += (size_t)snprintf(m + n, cap - n, "--B--\r\n");
    got g;
    ab_unpack_counts c = run_src(&ab_source_mime, m, n, &g);
    assert_true(g.n <= 20000);
    assert_true(c.errors >= 1); /* said, not silently dropped */
    free(m);
}

static void test_garbage(void **state)
{
    (void)state;
    got g;
    /* truncated in a header, a boundary never closed, bad base64, NULs */
    run(HDR "Content-Type: multipart/mixed; boundary=\"Z\"\r\n\r\n--Z\r\nContent-Type: text/pl",
        &g);
    run(HDR "Content-Type: multipart/mixed; boundary=\"Z\"\r\n\r\n--Z\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n!!!!****\r\n",
        &g);
    assert_true(g.n <= 1);
    char nul[200];
    memcpy(nul, HDR, strlen(HDR));
    memset(nul + strlen(HDR), 0, sizeof(nul) - strlen(HDR));
    run_src(&ab_source_mime, nul, sizeof(nul), &g);
    const char *mb = "From x\n";
    run_src(&ab_source_mbox, mb, strlen(mb), &g);
}

/* ---- inside the engine ---- */

typedef struct seen {
    int artefact, signal;
    char msgid[64], subject[64], part[16], loc1[64], src1[16];
} seen;

static int sink(void *ctx, const ab_event *ev)
{
    seen *s = ctx;
    if (ev->kind != AB_EVENT_FINDING)
        return 0;
    const ab_finding *f = &ev->u.finding;
    if (!strcmp(f->rule, "artefact") && f->obj.location_len == 2 && f->obj.mail) {
        s->artefact++;
        snprintf(s->msgid, sizeof(s->msgid), "%s", f->obj.mail->message_id);
        snprintf(s->subject, sizeof(s->subject), "%s", f->obj.mail->subject);
        snprintf(s->part, sizeof(s->part), "%s", f->obj.mail->part ? f->obj.mail->part : "");
        snprintf(s->loc1, sizeof(s->loc1), "%s", f->obj.location[1]);
        snprintf(s->src1, sizeof(s->src1), "%s", f->obj.location_source[1]);
    }
    if (f->matcher == AB_MATCHER_MAIL_SIGNAL && f->obj.location_len == 1 && f->obj.mail &&
        !f->obj.mail->part && f->value && !strcmp(f->value, "x@collector.example"))
        s->signal++;
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
                         sc, "rule artefact { strings: $a = \"ARTEFACT\" condition: $a }\n",
                         "m.yar", "t", nodiag, NULL),
                     AB_OK);
    assert_int_equal(ab_scanner_compile(sc, nodiag, NULL), AB_OK);
    const char *m = HDR "Reply-To: x@collector.example\r\nMIME-Version: 1.0\r\n"
                        "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
                        "--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
                        "--XX\r\nContent-Type: application/octet-stream\r\n"
                        "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\nQVJURUZBQ1Q=\r\n--XX--\r\n";
    seen s;
    memset(&s, 0, sizeof(s));
    ab_sink k = {sink, &s};
    assert_int_equal(ab_scan_buffer(sc, m, strlen(m), "m.eml", &k), AB_OK);
    assert_int_equal(s.artefact, 1);
    assert_string_equal(s.msgid, "m1@partner.example");
    assert_string_equal(s.subject, "data");
    assert_string_equal(s.part, "2");
    assert_string_equal(s.loc1, "a.bin");
    assert_string_equal(s.src1, "mime");
    assert_int_equal(s.signal, 1);
    ab_scanner_free(sc);
}

/* A 100 KB subject is cut in the mail info every finding carries; 300 copies of one 3 KB URL
 * are one observable. */
typedef struct caps_seen {
    int n;
    size_t subject_len, observables;
    char tail[8];
} caps_seen;

static int caps_sink(void *ctx, const ab_event *ev)
{
    caps_seen *s = ctx;
    if (ev->kind != AB_EVENT_FINDING || !ev->u.finding.obj.mail)
        return 0;
    const ab_finding *f = &ev->u.finding;
    if (f->obj.location_len != 1 || !f->obj.mail->subject)
        return 0;
    s->n++;
    s->subject_len = strlen(f->obj.mail->subject);
    snprintf(s->tail, sizeof(s->tail), "%s", f->obj.mail->subject + s->subject_len - 3);
    s->observables = f->obj.observables_len;
    return 0;
}

static void test_engine_caps(void **state)
{
    (void)state;
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_rules_string(
                         sc, "rule msg { strings: $a = \"Message-ID:\" condition: $a }\n", "c.yar",
                         "t", nodiag, NULL),
                     AB_OK);
    assert_int_equal(ab_scanner_compile(sc, nodiag, NULL), AB_OK);
    size_t cap = 2000000, k = 0;
    char *m = malloc(cap);
    assert_non_null(m);
    k += (size_t)snprintf(m + k, cap - k,
                          "From: a@b.example\r\nTo: c@d.example\r\n"
                          "Message-ID: <c1@b.example>\r\nSubject: ");
    memset(m + k, 'S', 100000);
    k += 100000;
    k += (size_t)snprintf(m + k, cap - k, "\r\n\r\n");
    for (int i = 0; i < 300; i++) {
        k += (size_t)snprintf(m + k, cap - k, "http://long.example/");
        memset(m + k, 'p', 3000);
        k += 3000;
        k += (size_t)snprintf(m + k, cap - k, "\r\n");
    }
    caps_seen s;
    memset(&s, 0, sizeof(s));
    ab_sink snk = {caps_sink, &s};
    assert_int_equal(ab_scan_buffer(sc, m, k, "c.eml", &snk), AB_OK);
    assert_int_equal(s.n, 1);
    assert_true(s.subject_len <= 8192 + 3);
    assert_string_equal(s.tail, "...");
    assert_true(s.observables <= 4); /* from, to, the one URL (cut): not 300 copies */
    free(m);
    ab_scanner_free(sc);
}

/* ab_mbox_split: parts of whole messages that cover the file in order, numbered as the mbox
 * source numbers them; a "From " body line (no blank line before it) is not a cut. */
static void test_mbox_split(void **state)
{
    (void)state;
    char *mb = malloc(64 << 10);
    assert_non_null(mb);
    size_t n = 0, starts[200];
    for (int i = 0; i < 200; i++) {
        starts[i] = n;
        n += (size_t)sprintf(mb + n,
                             "From x@y Sat Aug  1 00:00:00 2020\nSubject: %d\n\nbody %d\n"
                             "From here on a body line\n\n",
                             i + 1, i + 1);
    }
    ab_mbox_range r[8];
    size_t k = ab_mbox_split((const uint8_t *)mb, n, 2000, r, 8);
    assert_int_equal(k, 8); /* capped at max: the last part takes the rest */
    uint64_t at = 0;
    for (size_t i = 0; i < k; i++) {
        assert_int_equal(r[i].off, at);
        assert_int_equal(r[i].off, starts[r[i].first - 1]); /* message first starts the part */
        assert_true(r[i].len >= 2000 || i == k - 1);
        at += r[i].len;
    }
    assert_int_equal(at, n);
    /* too small to be worth it: one part, the whole file */
    k = ab_mbox_split((const uint8_t *)mb, n, n, r, 8);
    assert_int_equal(k, 1);
    assert_int_equal(r[0].len, n);
    assert_int_equal(r[0].first, 1);
    free(mb);
}

int main(void)
{
    assert_int_equal(ab_init(), AB_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_mbox_split),
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_single_part),
        cmocka_unit_test(test_mbox),
        cmocka_unit_test(test_header_signals),
        cmocka_unit_test(test_attachment_signals),
        cmocka_unit_test(test_password_finder),
        cmocka_unit_test(test_many_parts),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_engine),
        cmocka_unit_test(test_yenc),
        cmocka_unit_test(test_review_fixes),
        cmocka_unit_test(test_engine_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
