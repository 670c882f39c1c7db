/* test_pst.c: the PST source (src/unpack/pst.c) on tests/fixtures/gen_pst.py's files (run from
 * here into a temporary directory; PST_GEN names the script): the claim, member names, sources
 * and mtimes, the MIME text of each message (headers synthesized or taken from the transport
 * headers, bodies, the attachment's base64 decoding to the artefact, the embedded message as
 * message/rfc822 with its own attachment), limits, and truncated or mangled files (errors,
 * never a crash, in bounded time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "antibody/antibody.h"
#include "unpack/unpack.h"

static char fixdir[256];

/* libpff 20180714 leaks column definitions (24 bytes each) on some error paths of mangled
 * tables (test_hostile); the ASan build (make check) must still see leaks of our own code. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libpff_column_definition_initialize\n";
}

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
    char name[MAXM][600];
    const char *source[MAXM], *parent[MAXM];
    char *data[MAXM];
    size_t size[MAXM];
    double mtime[MAXM];
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
    g->mtime[g->n] = m->mtime;
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
    return ab_unpack_run_source(&ab_source_pst, d, n, l, NULL, 0, collect, g, c);
}

/* Decode the base64 body of the part after `marker` (up to the next delimiter line). */
static size_t part_b64(const char *msg, const char *marker, uint8_t *out, size_t cap)
{
    const char *p = strstr(msg, marker);
    assert_non_null(p);
    p = strstr(p, "\r\n\r\n");
    assert_non_null(p);
    p += 4;
    const char *end = strstr(p, "\r\n--");
    assert_non_null(end);
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (; p < end; p++) {
        if (*p == '\r' || *p == '\n' || *p == '=')
            continue;
        const char *k = strchr(alphabet, *p);
        assert_non_null(k);
        acc = acc << 6 | (uint32_t)(k - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            assert_true(n < cap);
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static size_t count(const char *s, const char *needle)
{
    size_t c = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++)
        c++;
    return c;
}

static void test_claims(void **state)
{
    (void)state;
    file f = slurp("sample.pst");
    assert_true(ab_source_pst.claims(f.data, f.size));
    assert_false(ab_source_pst.claims(f.data, 100)); /* shorter than a header */
    uint8_t h[564];
    memcpy(h, f.data, sizeof(h));
    h[9] = 'O'; /* OST */
    assert_true(ab_source_pst.claims(h, sizeof(h)));
    h[10] = 14; /* ANSI */
    assert_true(ab_source_pst.claims(h, sizeof(h)));
    h[10] = 99;
    assert_false(ab_source_pst.claims(h, sizeof(h)));
    h[10] = 23;
    h[8] = 'X';
    assert_false(ab_source_pst.claims(h, sizeof(h)));
    h[8] = 'S';
    h[0] = '?';
    assert_false(ab_source_pst.claims(h, sizeof(h)));
    assert_string_equal(ab_source_pst.name, "pst");
    assert_string_equal(ab_source_pst.parent, "PST");
    free(f.data);
}

static void test_sample(void **state)
{
    (void)state;
    file f = slurp("sample.pst");
    file art = slurp("artefact.bin");
    got g;
    ab_unpack_counts c;
    assert_int_equal(run(f.data, f.size, NULL, &g, &c), AB_OK);
    assert_int_equal(c.errors, 0);
    assert_int_equal(g.n, 3);
    for (int i = 0; i < g.n; i++) {
        assert_string_equal(g.source[i], "pst");
        assert_string_equal(g.parent[i], "PST");
        /* the mail source claims by content: a header line first, one MIME-Version */
        assert_non_null(strchr(g.data[i], ':'));
        assert_true(strchr(g.data[i], ':') < strchr(g.data[i], '\n'));
        assert_true(count(g.data[i], "\r\nMIME-Version: 1.0\r\n") >= 1);
        if (getenv("PST_DUMP"))
            printf("==== %s (%zu bytes)\n%s\n", g.name[i], g.size[i], g.data[i]);
    }

    /* 1: transport headers (their MIME lines dropped), an RTF body, non-ASCII subject */
    int i = find(&g, "Inbox/Caf\xc3\xa9 meeting \xe2\x80\x93 Z\xc3\xbcrich (2020-05-13)");
    assert_true(i >= 0);
    const char *m = g.data[i];
    assert_true(starts(m, "Received: from mx.example.org"));
    assert_non_null(strstr(m, "\r\nSubject: =?UTF-8?Q?Caf=C3=A9_meeting"));
    assert_null(strstr(m, "charset=utf-8\r\nContent-Transfer-Encoding: 8bit"));
    assert_int_equal(count(m, "\r\nFrom: "), 1); /* from the headers, none synthesized */
    assert_non_null(strstr(m, "Content-Type: multipart/mixed; boundary=\"=_antibody_pst_"));
    assert_non_null(strstr(m, "Content-Type: text/plain; charset=utf-8\r\n"
                              "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                              "Plain message body.\r\nSee you at the caf=C3=A9.\r\n"));
    assert_non_null(strstr(m, "Content-Type: text/rtf\r\n"));
    assert_non_null(strstr(m, "{\\rtf1\\ansi Plain message body.\\par}"));
    assert_true(g.mtime[i] == 1589385731.0);

    /* 2: synthesized headers, HTML, the artefact as base64 */
    i = find(&g, "Inbox/Re: vaccine trial data (2020-05-14)");
    assert_true(i >= 0);
    m = g.data[i];
    assert_true(starts(m, "From: \"Research Lead\" <lead@trials.example.com>\r\n"));
    assert_non_null(strstr(m, "\r\nTo: \"Alice Analyst\" <alice@example.net>\r\n"));
    assert_non_null(strstr(m, "\r\nCc: \"Bob\" <bob@example.net>\r\n"));
    assert_non_null(strstr(m, "\r\nSubject: Re: vaccine trial data\r\n"));
    assert_non_null(strstr(m, "\r\nDate: Thu, 14 May 2020 09:29:00 +0000\r\n"));
    assert_non_null(strstr(m, "\r\nMessage-ID: <trial-2@trials.example.com>\r\n"));
    assert_non_null(strstr(m, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(m, "https://trials.example.com/d"));
    uint8_t dec[8192];
    size_t n = part_b64(m, "filename=\"trial_data_update.exe\"", dec, sizeof(dec));
    assert_int_equal(n, art.size);
    assert_memory_equal(dec, art.data, art.size);
    assert_true(g.mtime[i] == 1589448600.0);

    /* 3: an embedded message with its own attachment (RFC 2231 name) and boundary */
    i = find(&g, "Inbox/Research/Forwarded results (2020-06-02)");
    assert_true(i >= 0);
    m = g.data[i];
    assert_true(starts(m, "From: \"Dave\" <dave@example.net>\r\n"));
    const char *inner = strstr(m, "Content-Type: message/rfc822\r\n");
    assert_non_null(inner);
    assert_non_null(strstr(inner, "\r\n\r\nFrom: \"Carol\" <carol@lab.example.org>\r\n"));
    assert_non_null(strstr(inner, "\r\nSubject: Fwd: results\r\n"));
    assert_non_null(strstr(inner, "\r\nMessage-ID: <inner-4@lab.example.org>\r\n"));
    assert_int_equal(count(m, "\nMIME-Version: 1.0\r\n"), 2); /* the message's, the inner's */
    assert_int_equal(count(inner, "\nMIME-Version: 1.0\r\n"), 1);
    n = part_b64(inner, "filename*=UTF-8''results%20%C3%BCbersicht.txt", dec, sizeof(dec));
    assert_int_equal(n, 32);
    assert_memory_equal(dec, "inner attachment: results table\n", 32);
    assert_int_equal(count(m, "boundary=\"=_antibody_pst_0_"), 1);
    assert_int_equal(count(m, "boundary=\"=_antibody_pst_1_"), 1);
    got_free(&g);
    free(art.data);
    free(f.data);
}

static void test_small(void **state)
{
    (void)state;
    file f = slurp("small.pst");
    got g;
    ab_unpack_counts c;
    assert_int_equal(run(f.data, f.size, NULL, &g, &c), AB_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.name[0], "Inbox/seed (2020-05-14)");
    assert_non_null(strstr(g.data[0], "filename=\"a.txt\""));
    got_free(&g);
    free(f.data);
}

/* A message whose folder is gone: libpff's orphan item, after the tree; its subject and sender
 * hold CR LF and a header line. */
static void test_orphan(void **state)
{
    (void)state;
    file f = slurp("orphan.pst");
    got g;
    ab_unpack_counts c;
    assert_int_equal(run(f.data, f.size, NULL, &g, &c), AB_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.name[0], "Inbox/seed (2020-05-14)");
    assert_string_equal(g.name[1], "(orphan)/left behind  X-Injected: yes (2020-05-13)");
    /* control characters of values become spaces: no header line of their own */
    assert_non_null(strstr(g.data[1], "\r\nSubject: left behind  X-Injected: yes\r\n"));
    assert_true(starts(g.data[1], "From: \"S  X-Injected: yes\" <s@example.org>\r\n"));
    assert_null(strstr(g.data[1], "\nX-Injected"));
    got_free(&g);
    free(f.data);
}

static void test_limits(void **state)
{
    (void)state;
    file f = slurp("sample.pst");
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 2500; /* messages 1 and 3 fit; 2 with its 2 KiB artefact does not */
    got g;
    ab_unpack_counts c;
    assert_int_equal(run(f.data, f.size, &l, &g, &c), AB_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(find(&g, "Inbox/Re: vaccine trial data (2020-05-14)"), -1);
    assert_true(c.limits >= 1);
    assert_string_equal(c.last_limit, "max-member-size");
    for (int i = 0; i < g.n; i++)
        assert_true(g.size[i] <= 2500);
    got_free(&g);
    l.max_member_size = 100; /* nothing fits */
    assert_int_equal(run(f.data, f.size, &l, &g, &c), AB_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(c.limits, 3);
    got_free(&g);
    ab_unpack_limits_default(&l);
    l.max_members = 1;
    run(f.data, f.size, &l, &g, &c);
    assert_int_equal(g.n, 1);
    got_free(&g);
    ab_unpack_limits_default(&l);
    l.max_unpacked = 3000; /* the budget: the first message fits, then it is spent */
    run(f.data, f.size, &l, &g, &c);
    assert_true(g.n <= 1);
    assert_true(c.limits >= 1);
    got_free(&g);
    free(f.data);
}

/* Truncated and mangled files: errors and partial members, never a crash (ASan in the fuzz
 * build), each in bounded time. */
static void test_hostile(void **state)
{
    (void)state;
    file f = slurp("sample.pst");
    got g;
    ab_unpack_counts c;
    time_t t0 = time(NULL);
    for (size_t cut = 0; cut < f.size; cut += cut < 1024 ? 61 : 509) {
        ab_status st = run(f.data, cut, NULL, &g, &c);
        if (cut < 0x4400) { /* no B-tree, no AMap: nothing opens */
            assert_int_equal(st, AB_ERR_PARSE);
            assert_int_equal(g.n, 0);
            assert_true(c.errors >= 1);
        }
        got_free(&g);
    }
    uint32_t seed = 4242;
    uint8_t *m = malloc(f.size);
    int errs = 0;
    for (int round = 0; round < 600; round++) {
        memcpy(m, f.data, f.size);
        for (int j = 0; j < 1 + round % 8; j++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % (f.size - 0x4400) + 0x4400; /* past the header */
            m[at] ^= (uint8_t)(1u << ((seed >> 4) & 7));
        }
        run(m, f.size, NULL, &g, &c);
        errs += c.errors > 0;
        got_free(&g);
    }
    assert_true(errs > 0);
    assert_true(time(NULL) - t0 < 60);
    free(m);
    free(f.data);
}

static int setup(void **state)
{
    (void)state;
    const char *gen = getenv("PST_GEN");
    snprintf(fixdir, sizeof(fixdir), "/tmp/antibody-pst.XXXXXX");
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
        cmocka_unit_test(test_claims), cmocka_unit_test(test_sample),
        cmocka_unit_test(test_small),  cmocka_unit_test(test_orphan),
        cmocka_unit_test(test_limits), cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
