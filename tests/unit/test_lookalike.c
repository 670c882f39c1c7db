/* test_lookalike.c: names imitating protected names (intel/lookalike.c) and the protected-name
 * IOC type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "antibody/antibody.h"
#include "intel/ioc.h"
#include "intel/lookalike.h"

static int dist(const char *a, const char *b)
{
    return ab_edit_distance1(a, strlen(a), b, strlen(b));
}

static void test_distance(void **state)
{
    (void)state;
    assert_int_equal(dist("svchost.exe", "svchost.exe"), 0);
    assert_int_equal(dist("svchost.exe", "svchst.exe"), 1);   /* deletion */
    assert_int_equal(dist("svchost.exe", "svchoost.exe"), 1); /* insertion */
    assert_int_equal(dist("svchost.exe", "svch0st.exe"), 1);  /* substitution */
    assert_int_equal(dist("svchost.exe", "scvhost.exe"), 1);  /* transposition */
    assert_int_equal(dist("svchost.exe", "svchost.ex"), 1);   /* at the end */
    assert_int_equal(dist("svchost.exe", "xsvchost.exe"), 1); /* at the start */
    assert_int_equal(dist("svchost.exe", "svchost.exx"), 1);
    assert_int_equal(dist("svchost.exe", "svhcost.exf"), 2);
    assert_int_equal(dist("svchost.exe", "svchost.exe12"), 2);
    assert_int_equal(dist("abc", "cab"), 2);
    assert_int_equal(dist("ab", "ba"), 1);
    assert_int_equal(dist("", "a"), 1);
    assert_int_equal(dist("", ""), 0);
    assert_int_equal(dist("a", "b"), 1);
    assert_int_equal(dist("abcd", "acbe"), 2); /* a transposition and a substitution */
}

static void test_fold(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(ab_homoglyph_fold("SVCH0ST.EXE", 11, out), 11);
    assert_string_equal(out, "svchost.exe");
    assert_int_equal(ab_homoglyph_fold("5rnss1i", 7, out), 6);
    assert_string_equal(out, "smssll");
    assert_int_equal(ab_homoglyph_fold("vvinlogon", 9, out), 8);
    assert_string_equal(out, "wlnlogon");
    assert_int_equal(ab_homoglyph_fold("r", 1, out), 1);
    assert_string_equal(out, "r");
}

typedef struct fixture {
    ab_iocs *s;
    ab_lookalike *l;
    int diags;
} fixture;

static void count_diag(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    (void)level;
    (void)where;
    (void)msg;
    (*(int *)ctx)++;
}

static void setup(fixture *f, const char *iocs)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(ab_iocs_new(&f->s), AB_OK);
    if (iocs)
        ab_iocs_load_buffer(f->s, iocs, strlen(iocs), AB_IOC_FMT_NATIVE, "t.ioc", 0, 0, count_diag,
                            &f->diags, NULL);
    assert_int_equal(ab_iocs_compile(f->s, NULL, NULL), AB_OK);
    assert_int_equal(ab_lookalike_new(f->s, &f->l), AB_OK);
}

static void teardown(fixture *f)
{
    ab_lookalike_free(f->l);
    ab_iocs_free(f->s);
}

/* The protected name a name imitates, or NULL. */
static const char *imitates(fixture *f, const char *name, int process, ab_lookalike_kind *kind)
{
    static ab_lookalike_hit hit;
    if (!ab_lookalike_check(f->l, name, strlen(name), process, &hit))
        return NULL;
    if (kind)
        *kind = hit.kind;
    return hit.name;
}

static void test_lookalikes(void **state)
{
    (void)state;
    fixture f;
    setup(&f, NULL);
    ab_lookalike_kind k = 0;
    assert_string_equal(imitates(&f, "svch0st.exe", 0, &k), "svchost.exe");
    assert_int_equal(k, AB_LOOKALIKE_HOMOGLYPH);
    assert_string_equal(imitates(&f, "lsas.exe", 0, &k), "lsass.exe");
    assert_int_equal(k, AB_LOOKALIKE_EDIT);
    assert_string_equal(imitates(&f, "scvhost.exe", 0, NULL), "svchost.exe");
    assert_string_equal(imitates(&f, "SCVHOST.EXE", 0, NULL), "svchost.exe");
    assert_string_equal(imitates(&f, "5vhcost.exe", 0, &k), "svchost.exe");
    assert_int_equal(k, AB_LOOKALIKE_EDIT_HOMOGLYPH);
    assert_string_equal(imitates(&f, "srnss.exe", 0, &k), "smss.exe"); /* rn for m */
    assert_int_equal(k, AB_LOOKALIKE_HOMOGLYPH);
    assert_string_equal(imitates(&f, "kworkerd", 1, NULL), "kworker");
    assert_string_equal(imitates(&f, "systemd-", 0, NULL), "systemd");
    assert_string_equal(imitates(&f, "expl0rer.exe", 0, NULL), "explorer.exe");
    assert_string_equal(imitates(&f, "winlogin.exe", 0, NULL), "winlogon.exe");
    /* Homoglyphs (not edits) for names of 4 and 5 characters */
    assert_string_equal(imitates(&f, "55hd", 1, NULL), "sshd");
    assert_string_equal(imitates(&f, "cr0nd", 0, NULL), "crond");
    teardown(&f);
}

static void test_real_names_not_flagged(void **state)
{
    (void)state;
    fixture f;
    setup(&f, NULL);
    static const char *const real[] = {
        "svchost.exe", "SvcHost.EXE", "lsass.exe", "taskhost.exe", "taskhostw.exe",
        "sshd",        "cron",        "crond",     "systemd",      "kworker",
        "kauditd",     "rsyslog",     "rsyslogd",  "chronyc",      "inetd",
        "getty",       "agetty",      "_systemd",  "svchost.ex_", /* compressed copy on installation
                                                                     media */
        "notepad.exe", "README",      "Makefile",
    };
    for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
        const char *got = imitates(&f, real[i], 0, NULL);
        if (got)
            fail_msg("%s reported as a lookalike of %s", real[i], got);
    }
    /* Kernel threads and cut process names (comm holds 15 bytes) */
    assert_null(imitates(&f, "kworker/0:1", 1, NULL));
    assert_null(imitates(&f, "systemd-journal", 1, NULL));
    assert_null(imitates(&f, "systemd-resolve", 1, NULL));
    assert_string_equal(imitates(&f, "systemd-journaI", 1, NULL), "systemd-journald");
    /* As a file name, "systemd-journal" is one edit from the full name */
    assert_string_equal(imitates(&f, "systemd-journal", 0, NULL), "systemd-journald");
    teardown(&f);
}

static void test_short_names_not_flagged(void **state)
{
    (void)state;
    fixture f;
    setup(&f, NULL);
    /* one edit from sshd, cron, init, bash (4 characters): not reported */
    static const char *const near_short[] = {"ssh",   "sshd-", "ssh2",  "cro",   "crom",
                                             "cronx", "inti",  "lnit-", "bash2", "dash",
                                             "bas",   "sh",    "s",     "",      "ash"};
    for (size_t i = 0; i < sizeof(near_short) / sizeof(near_short[0]); i++) {
        const char *got = imitates(&f, near_short[i], 0, NULL);
        if (got)
            fail_msg("'%s' reported as a lookalike of %s", near_short[i], got);
    }
    /* 5 characters: homoglyphs only */
    assert_null(imitates(&f, "crondx", 0, NULL));
    assert_null(imitates(&f, "cromd", 0, NULL));
    teardown(&f);
}

static void test_protected_name_iocs(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "protected-name\tAcmeAgent.exe\tour EDR agent\t\t90\n"
              "protected-name vendord\n"
              "protected-name\tabc\n"      /* too short: malformed */
              "protected-name\tbin/evil\n" /* not a base name: malformed */
              "protected-name\tsvchost.exe\tlisted again\t\t70\n");
    assert_int_equal(f.diags, 2);
    assert_int_equal(ab_iocs_count(f.s, AB_IOC_PROTECTED_NAME), 3);
    assert_string_equal(ab_iocs_get(f.s, AB_IOC_PROTECTED_NAME, 0)->value, "acmeagent.exe");
    assert_int_equal(ab_iocs_get(f.s, AB_IOC_PROTECTED_NAME, 1)->score, AB_LOOKALIKE_SCORE);
    ab_lookalike_hit hit;
    assert_true(ab_lookalike_check(f.l, "acmeagemt.exe", 13, 0, &hit));
    assert_string_equal(hit.name, "acmeagent.exe");
    assert_string_equal(hit.description, "our EDR agent");
    assert_string_equal(hit.source, "t.ioc:1");
    assert_int_equal(hit.score, 90);
    assert_false(ab_lookalike_check(f.l, "AcmeAgent.exe", 13, 0, &hit));
    assert_true(ab_lookalike_check(f.l, "vendor", 6, 1, &hit));
    assert_int_equal(hit.score, AB_LOOKALIKE_SCORE);
    /* the IOC's score and description win over the built-in entry */
    assert_true(ab_lookalike_check(f.l, "svch0st.exe", 11, 0, &hit));
    assert_int_equal(hit.score, 70);
    assert_string_equal(hit.source, "t.ioc:5");
    /* built-in count plus the three IOCs (svchost.exe counted twice: listed twice) */
    fixture g;
    setup(&g, NULL);
    assert_int_equal(ab_lookalike_count(f.l), ab_lookalike_count(g.l) + 3);
    assert_true(ab_lookalike_count(g.l) >= 60);
    teardown(&g);
    teardown(&f);
}

static void test_long_names_bounded(void **state)
{
    (void)state;
    fixture f;
    setup(&f, NULL);
    char big[600];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_null(imitates(&f, big, 0, NULL));
    assert_false(ab_lookalike_check(f.l, "svch\0st.exe", 11, 0, &(ab_lookalike_hit){0}));
    assert_false(ab_lookalike_check(NULL, "svch0st.exe", 11, 0, &(ab_lookalike_hit){0}));
    teardown(&f);
}

/* Through the public API: ab_scan_buffer names the object, the engine checks its base name. */
typedef struct seen {
    int findings;
    ab_matcher_kind matcher;
    char rule[64], reason[128];
    int score;
} seen;

static int sink_fn(void *ctx, const ab_event *ev)
{
    seen *s = ctx;
    if (ev->kind == AB_EVENT_FINDING) {
        s->findings++;
        s->matcher = ev->u.finding.matcher;
        s->score = ev->u.finding.score;
        snprintf(s->rule, sizeof(s->rule), "%s", ev->u.finding.rule);
        snprintf(s->reason, sizeof(s->reason), "%s", ev->u.finding.reason);
    }
    return 0;
}

static seen scan_named(int lookalike, const char *name)
{
    ab_scanner *sc = NULL;
    seen s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    if (!lookalike)
        assert_int_equal(ab_scanner_set_lookalike(sc, 0), AB_OK);
    assert_int_equal(
        ab_scanner_add_rules_string(sc, "rule r { condition: false }", "t", NULL, NULL, NULL),
        AB_OK);
    assert_int_equal(ab_scanner_compile(sc, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_set_lookalike(sc, 1), AB_ERR_ARG); /* frozen after compile */
    ab_sink sink = {sink_fn, &s};
    assert_int_equal(ab_scan_buffer(sc, "x", 1, name, &sink), AB_OK);
    ab_scanner_free(sc);
    return s;
}

static void test_scanner_api(void **state)
{
    (void)state;
    assert_int_equal(ab_init(), AB_OK);
    assert_string_equal(ab_matcher_name(AB_MATCHER_LOOKALIKE), "lookalike");
    seen s = scan_named(1, "/tmp/drop/svch0st.exe");
    assert_int_equal(s.findings, 1);
    assert_int_equal(s.matcher, AB_MATCHER_LOOKALIKE);
    assert_string_equal(s.rule, "svchost.exe");
    assert_int_equal(s.score, AB_LOOKALIKE_SCORE);
    assert_string_equal(s.reason, "name a homoglyph spelling of svchost.exe");
    assert_int_equal(scan_named(1, "/windows/system32/svchost.exe").findings, 0);
    assert_int_equal(scan_named(0, "/tmp/drop/svch0st.exe").findings, 0);
    /* the base name is compared, not the folder names */
    assert_int_equal(scan_named(1, "/tmp/svch0st.exe/readme").findings, 0);
    ab_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_lookalikes),
        cmocka_unit_test(test_real_names_not_flagged),
        cmocka_unit_test(test_short_names_not_flagged),
        cmocka_unit_test(test_protected_name_iocs),
        cmocka_unit_test(test_long_names_bounded),
        cmocka_unit_test(test_scanner_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
