/* test_namere.c: filename-regex IOCs: the vectorscan databases and path matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/ioc.h"
#include "intel/ioc_internal.h" /* re_work: what the compiles were handed */

typedef struct diags {
    int n;
    int warnings; /* how many of the n were AB_DIAG_WARNING */
    char where[64][128];
    char msg[64][512];
} diags;

static void collect(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    diags *d = ctx;
    if (level == AB_DIAG_WARNING)
        d->warnings++;
    if (d->n < 64) {
        snprintf(d->where[d->n], sizeof(d->where[0]), "%s", where);
        snprintf(d->msg[d->n], sizeof(d->msg[0]), "%s", msg);
    }
    d->n++;
}

/* What one match_path call reported. */
typedef struct hits {
    int n;
    const ab_ioc *ioc[16];
    int stop_after; /* 0: never stop */
} hits;

static int on_hit(void *ctx, const ab_ioc *ioc)
{
    hits *h = ctx;
    if (h->n < 16)
        h->ioc[h->n] = ioc;
    h->n++;
    return h->stop_after && h->n >= h->stop_after;
}

/* A compiled store from text in the given format, with its scratch. */
typedef struct fixture {
    ab_iocs *s;
    ab_name_scratch *sc;
    diags d;
} fixture;

static void setup(fixture *f, const char *text, ab_ioc_format fmt)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(ab_iocs_new(&f->s), AB_OK);
    assert_int_equal(
        ab_iocs_load_buffer(f->s, text, strlen(text), fmt, "t.ioc", 0, 0, collect, &f->d, NULL),
        AB_OK);
    assert_int_equal(ab_iocs_compile(f->s, collect, &f->d), AB_OK);
    assert_int_equal(ab_name_scratch_new(f->s, &f->sc), AB_OK);
}

static void teardown(fixture *f)
{
    ab_name_scratch_free(f->sc);
    ab_iocs_free(f->s);
}

static int match(fixture *f, const char *path, hits *h)
{
    memset(h, 0, sizeof(*h));
    assert_int_equal(ab_iocs_match_path(f->s, f->sc, path, strlen(path), on_hit, h), AB_OK);
    return h->n;
}

static int matches(fixture *f, const char *path)
{
    hits h;
    return match(f, path, &h);
}

static void test_full_path_search(void **state)
{
    (void)state;
    fixture f;
    setup(&f,
          "filename-regex\t/tmp/[a-z]{5}\\.sh$\n"
          "filename-regex\t^/opt/evil/\n"
          "filename-regex\tmimikatz\n",
          AB_IOC_FMT_NATIVE);
    assert_int_equal(f.d.n, 0);
    hits h;
    assert_int_equal(match(&f, "/tmp/abcde.sh", &h), 1);
    assert_string_equal(h.ioc[0]->value, "/tmp/[a-z]{5}\\.sh$");
    assert_int_equal(matches(&f, "/var/tmp/abcde.sh"), 1); /* searched, not anchored */
    assert_int_equal(matches(&f, "/tmp/abcde.sh.txt"), 0);
    assert_int_equal(matches(&f, "/tmp/ABCDE.sh"), 0); /* case-sensitive by default */
    assert_int_equal(matches(&f, "/opt/evil/x"), 1);
    assert_int_equal(matches(&f, "/x/opt/evil/x"), 0);
    assert_int_equal(matches(&f, "/home/u/mimikatz.zip"), 1);
    assert_int_equal(matches(&f, "/home/u/Mimikatz.zip"), 0);
    assert_int_equal(matches(&f, ""), 0);
    teardown(&f);
}

static void test_caseless(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "filename-regex\t(?i)/temp/x\\.exe$\nfilename-regex\t/Case/\n", AB_IOC_FMT_NATIVE);
    assert_int_equal(matches(&f, "/TEMP/X.EXE"), 1);
    assert_int_equal(matches(&f, "/temp/x.exe"), 1);
    assert_int_equal(matches(&f, "/case/"), 0);
    assert_int_equal(matches(&f, "/Case/"), 1);
    /* The stored value keeps the (?i) the user wrote. */
    assert_string_equal(ab_iocs_get(f.s, AB_IOC_FILENAME_RE, 0)->value, "(?i)/temp/x\\.exe$");
    teardown(&f);
}

static void test_windows_translation(void **state)
{
    (void)state;
    fixture f;
    setup(&f,
          "\\\\Windows\\\\Temp\\\\evil\\.exe;80\n"
          "C:\\\\x;50\n"
          "^C:\\\\Users\\\\[^\\\\]+\\\\run\\.bat$;60\n"
          "(?i)[C-Zc-z]:\\\\perflogs\\\\[^\\\\]{,8}\\.exe;60\n"
          "[Cc]:\\\\[a-z0-9]{1,3}\\.(exe|vbs)$;65\n",
          AB_IOC_FMT_LOKI_FILENAME);
    assert_int_equal(f.d.n, 0);
    hits h;
    assert_int_equal(match(&f, "/Windows/Temp/evil.exe", &h), 1);
    assert_int_equal(h.ioc[0]->score, 80);
    assert_int_equal(matches(&f, "/mnt/win/Windows/Temp/evil.exe"), 1); /* a mounted volume */
    assert_int_equal(matches(&f, "/Windows/Temp/evil_exe"), 0);
    /* A pattern for a drive's root is anchored to "/", not matched in every folder. */
    assert_string_equal(ab_iocs_get(f.s, AB_IOC_FILENAME_RE, 1)->value, "^/x");
    assert_int_equal(match(&f, "/x", &h), 1);
    assert_int_equal(h.ioc[0]->score, 50);
    assert_int_equal(matches(&f, "/home/user/x"), 0);
    assert_int_equal(match(&f, "/ab.exe", &h), 1);
    assert_int_equal(h.ioc[0]->score, 65);
    assert_int_equal(matches(&f, "/home/user/ab.exe"), 0);
    assert_int_equal(matches(&f, "/mnt/win/PerfLogs/abc.exe"), 1); /* deeper: unanchored */
    assert_int_equal(matches(&f, "/Users/bob/run.bat"), 1);
    assert_int_equal(matches(&f, "/Users/bob/sub/run.bat"), 0);
    assert_int_equal(matches(&f, "/home/Users/bob/run.bat"), 0); /* "^" kept */
    assert_int_equal(matches(&f, "/PerfLogs/abc.EXE"), 1);
    assert_int_equal(matches(&f, "/PerfLogs/abcdefghi.exe"), 0); /* {,8} is {0,8} */
    teardown(&f);
}

static void test_false_positive_regex(void **state)
{
    (void)state;
    fixture f;
    setup(&f,
          "\\\\procdump(64)?\\.exe;50;(?i)\\\\SysInternals\\\\\n"
          "\\\\procdump;40\n",
          AB_IOC_FMT_LOKI_FILENAME);
    hits h;
    assert_int_equal(match(&f, "/tmp/procdump.exe", &h), 2);
    assert_int_equal(h.ioc[0]->score, 50);
    assert_int_equal(h.ioc[1]->score, 40);
    /* Only the regex with the exception is suppressed. */
    assert_int_equal(match(&f, "/opt/sysinternals/procdump64.exe", &h), 1);
    assert_int_equal(h.ioc[0]->score, 40);
    teardown(&f);
}

static void test_bad_regex_dropped(void **state)
{
    (void)state;
    fixture f;
    setup(&f,
          "filename-regex\t/good/one\n"
          "filename-regex\t(a)\\1\n"
          "filename-regex\t/good/[two]{3}$\n"
          "filename-regex\t[unterminated\n"
          "filename-regex\t.*\n"
          "filename-regex\t^\n"
          "filename-regex\t(?i)\n"
          "filename-regex\t/good/three$\n",
          AB_IOC_FMT_NATIVE);
    assert_int_equal(f.d.n, 5);
    assert_int_equal(f.d.warnings, 5); /* dropped regexes are warnings, not errors */
    assert_string_equal(f.d.where[0], "t.ioc:2");
    assert_non_null(strstr(f.d.msg[0], "filename regex dropped"));
    assert_non_null(strstr(f.d.msg[0], "Back-references"));
    assert_string_equal(f.d.where[1], "t.ioc:4");
    assert_string_equal(f.d.where[2], "t.ioc:5");
    assert_non_null(strstr(f.d.msg[2], "empty string"));
    assert_string_equal(f.d.where[3], "t.ioc:6");
    assert_string_equal(f.d.where[4], "t.ioc:7");
    assert_int_equal(ab_iocs_count(f.s, AB_IOC_FILENAME_RE), 3);
    assert_int_equal(ab_iocs_total(f.s), 3);
    hits h;
    assert_int_equal(match(&f, "/good/one", &h), 1);
    assert_string_equal(h.ioc[0]->value, "/good/one");
    assert_int_equal(match(&f, "/good/two", &h), 1);
    assert_string_equal(h.ioc[0]->value, "/good/[two]{3}$");
    assert_int_equal(match(&f, "/good/three", &h), 1);
    assert_string_equal(h.ioc[0]->source, "t.ioc:8");
    assert_int_equal(matches(&f, "/nothing"), 0);
    teardown(&f);
}

/* Valid syntax that only a database build refuses ("Pattern is too large": 600 NFA states that
 * the ".*" keeps from being split at a literal). */
static void too_large(char *buf, size_t cap, const char *prefix)
{
    size_t off = (size_t)snprintf(buf, cap, "%s.*", prefix);
    for (int i = 0; i < 300 && off + 3 < cap; i++, off += 2)
        memcpy(buf + off, "a.", 3);
}

/* Several expressions that only the database build refuses, among good ones and others refused
 * up front: each is found by compiling it alone once, not by building the whole set again for
 * each (every expression is handed to vectorscan at most twice). */
#define BAD_TOO_LARGE 3
static void test_many_bad_regexes(void **state)
{
    (void)state;
    static char text[16384];
    size_t off = 0, chars = 0;
    text[0] = '\0';
    for (int i = 0; i < 30; i++) {
        char pat[700], pre[16];
        if (i < BAD_TOO_LARGE) {
            snprintf(pre, sizeof(pre), "/bad%d/", i);
            too_large(pat, sizeof(pat), pre);
            chars += strlen(pat);
        } else {
            snprintf(pat, sizeof(pat), "/bad%d/(?<=x)", i);
        }
        off += (size_t)snprintf(text + off, sizeof(text) - off,
                                "filename-regex\t/ok%d/\nfilename-regex\t%s\n", i, pat);
        chars += 5;
    }
    fixture f;
    setup(&f, text, AB_IOC_FMT_NATIVE);
    assert_int_equal(f.d.n, 30);
    /* The ones refused up front are reported first, then those refused when compiled. */
    assert_string_equal(f.d.where[0], "t.ioc:8");
    assert_string_equal(f.d.where[27], "t.ioc:2");
    assert_non_null(strstr(f.d.msg[27], "too large"));
    assert_string_equal(f.d.where[29], "t.ioc:6");
    assert_int_equal(ab_iocs_count(f.s, AB_IOC_FILENAME_RE), 30);
    /* No counted repeats here: an expression costs at most its length. */
    assert_true(f.s->re_work.cost <= 2 * chars);
    assert_true(f.s->re_work.calls <= BAD_TOO_LARGE + 1);
    hits h;
    assert_int_equal(match(&f, "/ok17/", &h), 1);
    assert_string_equal(h.ioc[0]->value, "/ok17/");
    assert_int_equal(matches(&f, "/bad17/x"), 0);
    assert_int_equal(matches(&f, "/ok2/"), 1);
    teardown(&f);
}

/* One expression refused only by the database build: dropped, naming its line, the others kept. */
static void test_retry_after_compile_error(void **state)
{
    (void)state;
    char text[1024], pat[700];
    too_large(pat, sizeof(pat), "/x/");
    snprintf(text, sizeof(text),
             "filename-regex\t/one/\nfilename-regex\t%s\nfilename-regex\t/two/\n", pat);
    fixture f;
    setup(&f, text, AB_IOC_FMT_NATIVE);
    assert_int_equal(f.d.n, 1);
    assert_string_equal(f.d.where[0], "t.ioc:2");
    assert_non_null(strstr(f.d.msg[0], "too large"));
    assert_int_equal(ab_iocs_count(f.s, AB_IOC_FILENAME_RE), 2);
    assert_int_equal(matches(&f, "/one/"), 1);
    assert_int_equal(matches(&f, "/two/"), 1);
    teardown(&f);
}

/* Patterns that unroll large make the compile slow and are useless on paths: refused up front. */
static void test_repeat_limits(void **state)
{
    (void)state;
    fixture f;
    setup(&f,
          "filename-regex\t/x[a-z]{1,2000}y\n"
          "filename-regex\ta{1000}b{1000}c{1000}d{1000}e{1000}\n"
          "filename-regex\t/ok[a-z]{1,1024}\\.exe\n"
          "filename-regex\t/lit[{]99999}\\{99999\\}\n"
          "filename-regex\t((x[a-z]{1,100}){8}){8}\n"
          "filename-regex\t/nest((((((((((x))))))))))y\n",
          AB_IOC_FMT_NATIVE);
    assert_int_equal(f.d.n, 3);
    assert_non_null(strstr(f.d.msg[0], "larger than 1024"));
    assert_string_equal(f.d.where[1], "t.ioc:2");
    assert_non_null(strstr(f.d.msg[1], "once its repeats are unrolled"));
    assert_string_equal(f.d.where[2], "t.ioc:5"); /* nesting multiplies */
    assert_non_null(strstr(f.d.msg[2], "once its repeats are unrolled"));
    assert_int_equal(matches(&f, "/nestxy"), 1);
    assert_int_equal(matches(&f, "/okabc.exe"), 1);
    assert_int_equal(matches(&f, "/lit{99999}{99999}"), 1);
    teardown(&f);
}

/* Repeats that are fine one by one are budgeted over the whole list: the last ones are dropped
 * with a warning, in load order, and the others still match. */
static void test_repeat_budget(void **state)
{
    (void)state;
    fixture f;
    char *text = malloc(80 * 64);
    assert_non_null(text);
    size_t off = 0;
    for (int i = 0; i < 70; i++) /* each adds 1023 atoms: 64 fit in 65536 */
        off += (size_t)snprintf(text + off, 80 * 64 - off, "filename-regex\t/r%02d[a-z]{1,1024}x\n",
                                i);
    setup(&f, text, AB_IOC_FMT_NATIVE);
    assert_int_equal(f.d.n, 6);
    assert_int_equal(f.d.warnings, 6);
    assert_string_equal(f.d.where[0], "t.ioc:65");
    assert_non_null(strstr(f.d.msg[0], "budget"));
    assert_int_equal(matches(&f, "/r00abcx"), 1);
    assert_int_equal(matches(&f, "/r63abcx"), 1);
    assert_int_equal(matches(&f, "/r64abcx"), 0);
    teardown(&f);
    free(text);
}

/* Issue 9: 50 lines of 45 characters whose nested counted repeats unroll to 4,000 characters each
 * took 36 s to load (16 of them compiled, the rest over the budget). Repeated groups are
 * refused beyond 256 added characters per pattern, before anything is compiled; the bound is
 * checked on the work handed to vectorscan, not on a clock. */
static void test_nested_repeat_list(void **state)
{
    (void)state;
    static char text[50 * 64];
    size_t off = 0;
    for (int i = 0; i < 50; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off,
                                ".((((%c[a-z]%d[a-z]{',80){6}){5{1,8}){8}){8}%02d\n",
                                "abcdefghij"[i % 10], i / 10, i);
    fixture f;
    setup(&f, text, AB_IOC_FMT_LOKI_FILENAME);
    /* Near-linear: at most twice (preflight, build) the text plus the repeat budget. */
    assert_true(f.s->re_work.cost <= 2 * (off + 65536));
    assert_int_equal(f.d.n, 50);
    assert_int_equal(f.d.warnings, 50);
    assert_string_equal(f.d.where[0], "t.ioc:1");
    assert_string_equal(f.d.where[49], "t.ioc:50");
    assert_non_null(strstr(f.d.msg[0], "repeated groups"));
    assert_int_equal(ab_iocs_count(f.s, AB_IOC_FILENAME_RE), 0);
    teardown(&f);
}

/* A character added by repeating a group weighs 16 in the budget shared by the list: each line
 * below adds 198 (3,168 units), so 20 fit in 65,536; the rest are dropped in load order. */
static void test_group_repeat_budget(void **state)
{
    (void)state;
    static char text[25 * 64];
    size_t off = 0;
    for (int i = 0; i < 25; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off, "filename-regex\t/r%02d(ab){100}\n",
                                i);
    fixture f;
    setup(&f, text, AB_IOC_FMT_NATIVE);
    assert_int_equal(f.d.n, 5);
    assert_int_equal(f.d.warnings, 5);
    assert_string_equal(f.d.where[0], "t.ioc:21");
    assert_non_null(strstr(f.d.msg[0], "budget"));
    char path[256];
    int n = snprintf(path, sizeof(path), "/r19");
    for (int i = 0; i < 100; i++)
        n += snprintf(path + n, sizeof(path) - (size_t)n, "ab");
    assert_int_equal(matches(&f, path), 1);
    memcpy(path, "/r20", 4);
    assert_int_equal(matches(&f, path), 0);
    assert_true(f.s->re_work.cost <= 2 * (off + 65536));
    teardown(&f);
}

static void test_bad_fp_regex_keeps_indicator(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "\\\\tool\\.exe;50;(a)\\1\n\\\\other\\.exe;50;[\n", AB_IOC_FMT_LOKI_FILENAME);
    assert_int_equal(f.d.n, 2);
    assert_non_null(strstr(f.d.msg[0], "false-positive regex dropped"));
    assert_null(ab_iocs_get(f.s, AB_IOC_FILENAME_RE, 0)->fp_regex);
    assert_int_equal(matches(&f, "/x/tool.exe"), 1);
    assert_int_equal(matches(&f, "/x/other.exe"), 1);
    teardown(&f);
}

static void test_match_once_and_order(void **state)
{
    (void)state;
    fixture f;
    setup(&f,
          "filename-regex\tevil\n"
          "filename-regex\t\\.exe$\n"
          "filename-regex\t/\n",
          AB_IOC_FMT_NATIVE);
    hits h;
    /* "evil" and "/" occur many times in the path: each IOC is reported once, in file order. */
    assert_int_equal(match(&f, "/evil/evil/evil.exe", &h), 3);
    assert_string_equal(h.ioc[0]->value, "evil");
    assert_string_equal(h.ioc[1]->value, "\\.exe$");
    assert_string_equal(h.ioc[2]->value, "/");
    /* And again with the same scratch: state is reset between calls. */
    assert_int_equal(match(&f, "/evil/evil/evil.exe", &h), 3);
    /* The callback can stop early. */
    memset(&h, 0, sizeof(h));
    h.stop_after = 1;
    assert_int_equal(ab_iocs_match_path(f.s, f.sc, "/evil.exe", 9, on_hit, &h), AB_OK);
    assert_int_equal(h.n, 1);
    /* The length bounds the scan: no NUL needed, bytes past len are not read. */
    assert_int_equal(
        ab_iocs_match_path(f.s, f.sc, "/evil.exe", 5, on_hit, memset(&h, 0, sizeof(h))), AB_OK);
    assert_int_equal(h.n, 2);
    teardown(&f);
}

static void test_no_regexes_and_args(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "ip\t192.0.2.1\n", AB_IOC_FMT_NATIVE);
    hits h;
    assert_int_equal(match(&f, "/anything", &h), 0);
    assert_int_equal(ab_iocs_match_path(f.s, f.sc, "/x", 2, NULL, &h), AB_ERR_ARG);
    assert_int_equal(ab_iocs_match_path(f.s, NULL, "/x", 2, on_hit, &h), AB_ERR_ARG);
    teardown(&f);

    /* Not compiled: no scratch. */
    ab_iocs *s = NULL;
    ab_name_scratch *sc = NULL;
    assert_int_equal(ab_iocs_new(&s), AB_OK);
    assert_int_equal(ab_name_scratch_new(s, &sc), AB_ERR_ARG);
    assert_null(sc);
    ab_iocs_free(s);
    ab_name_scratch_free(NULL);
}

/* A scratch made for one store is refused by another. */
static void test_scratch_mismatch(void **state)
{
    (void)state;
    fixture a, b;
    setup(&a, "filename-regex\t/a/\n", AB_IOC_FMT_NATIVE);
    setup(&b, "filename-regex\t/a/\nfilename-regex\t/b/\n", AB_IOC_FMT_NATIVE);
    hits h = {0};
    assert_int_equal(ab_iocs_match_path(b.s, a.sc, "/a/", 3, on_hit, &h), AB_ERR_ARG);
    fixture c; /* same size, still another store */
    setup(&c, "filename-regex\t/c/\n", AB_IOC_FMT_NATIVE);
    assert_int_equal(ab_iocs_match_path(c.s, a.sc, "/a/", 3, on_hit, &h), AB_ERR_ARG);
    assert_int_equal(h.n, 0);
    teardown(&a);
    teardown(&b);
    teardown(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_path_search),
        cmocka_unit_test(test_caseless),
        cmocka_unit_test(test_windows_translation),
        cmocka_unit_test(test_false_positive_regex),
        cmocka_unit_test(test_bad_regex_dropped),
        cmocka_unit_test(test_many_bad_regexes),
        cmocka_unit_test(test_retry_after_compile_error),
        cmocka_unit_test(test_repeat_limits),
        cmocka_unit_test(test_repeat_budget),
        cmocka_unit_test(test_nested_repeat_list),
        cmocka_unit_test(test_group_repeat_budget),
        cmocka_unit_test(test_bad_fp_regex_keeps_indicator),
        cmocka_unit_test(test_match_once_and_order),
        cmocka_unit_test(test_no_regexes_and_args),
        cmocka_unit_test(test_scratch_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
