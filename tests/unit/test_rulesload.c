/* test_rulesload.c: what rule and IOC loading says about what it did not load: rules folders
 * (recursion, compiled files by content, skipped files, empty folders), missing files, the
 * ab_diag2_fn contract (status, file, line, notes) and YARA compiler warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <yara.h>

#include "antibody/antibody.h"

#define MAX_SEEN 16

typedef struct seen {
    size_t n;
    ab_diag_level level[MAX_SEEN];
    ab_status status[MAX_SEEN];
    char file[MAX_SEEN][512];
    unsigned line[MAX_SEEN];
    char rule[MAX_SEEN][64];
    char message[MAX_SEEN][256];
} seen;

static void on_diag2(void *ctx, const ab_diag *d)
{
    seen *s = ctx;
    if (s->n >= MAX_SEEN)
        return;
    s->level[s->n] = d->level;
    s->status[s->n] = d->status;
    snprintf(s->file[s->n], sizeof(s->file[0]), "%s", d->file);
    s->line[s->n] = d->line;
    snprintf(s->rule[s->n], sizeof(s->rule[0]), "%s", d->rule ? d->rule : "");
    snprintf(s->message[s->n], sizeof(s->message[0]), "%s", d->message);
    s->n++;
}

static int n_old;
static char old_where[512];
static void old_diag(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    (void)ctx;
    (void)msg;
    assert_true(level == AB_DIAG_ERROR || level == AB_DIAG_WARNING); /* never a note */
    snprintf(old_where, sizeof(old_where), "%s", where);
    n_old++;
}

static char tmp[256];

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", tmp, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void mkd(const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", tmp, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

/* A compiled rules file, as yarac writes it, under a name that says nothing. */
static void put_compiled(const char *rel, const char *source)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", tmp, rel);
    YR_COMPILER *c = NULL;
    YR_RULES *r = NULL;
    assert_int_equal(yr_compiler_create(&c), ERROR_SUCCESS);
    assert_int_equal(yr_compiler_add_string(c, source, NULL), 0);
    assert_int_equal(yr_compiler_get_rules(c, &r), ERROR_SUCCESS);
    assert_int_equal(yr_rules_save(r, p), ERROR_SUCCESS);
    yr_rules_destroy(r);
    yr_compiler_destroy(c);
}

static void path_of(char *out, size_t len, const char *rel)
{
    snprintf(out, len, "%s/%s", tmp, rel);
}

static int finding_sink(void *ctx, const ab_event *ev)
{
    if (ev->kind == AB_EVENT_FINDING)
        (*(int *)ctx)++;
    return 0;
}

static int findings(ab_scanner *sc, const char *data)
{
    int n = 0;
    ab_sink s = {finding_sink, &n};
    assert_int_equal(ab_scan_buffer(sc, data, strlen(data), "x", &s), AB_OK);
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/ab-rulesload.XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    return ab_init() == AB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ab_finish();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Subfolders are searched (not with recurse off), compiled files are known by their content,
 * every other file is named in a warning, '_' names are ignored silently. */
static void test_folder_tree(void **state)
{
    (void)state;
    mkd("tree");
    mkd("tree/sub");
    mkd("tree/sub/deep");
    put("tree/a.yar", "rule top { strings: $a = \"TOPMARK\" condition: $a }\n");
    put("tree/sub/b.yara", "rule mid { strings: $a = \"MIDMARK\" condition: $a }\n");
    put_compiled("tree/sub/deep/rules.bin",
                 "rule deep { strings: $a = \"DEEPMARK\" condition: $a }\n");
    put("tree/notes.txt", "not rules\n");
    put("tree/_off.yar", "rule off { condition: true }\n");
    char dir[512];
    path_of(dir, sizeof(dir), "tree");

    seen s = {0};
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_set_diag(sc, on_diag2, &s), AB_OK);
    assert_int_equal(ab_scanner_add_rules(sc, dir, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_rule_count(sc), 3);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.level[0], AB_DIAG_WARNING);
    assert_int_equal(s.status[0], AB_ERR_UNSUPPORTED);
    assert_true(strstr(s.file[0], "tree/notes.txt") != NULL);
    assert_true(strstr(s.message[0], "skipped") != NULL);
    assert_int_equal(findings(sc, "DEEPMARK MIDMARK TOPMARK"), 3);
    ab_scanner_free(sc);

    /* recursion off: today's behaviour, the top folder only, subfolders not named */
    memset(&s, 0, sizeof(s));
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_set_diag(sc, on_diag2, &s), AB_OK);
    assert_int_equal(ab_scanner_set_rules_recurse(sc, 0), AB_OK);
    assert_int_equal(ab_scanner_add_rules(sc, dir, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_rule_count(sc), 1);
    assert_int_equal(s.n, 1); /* notes.txt */
    ab_scanner_free(sc);
}

/* A folder of compiled files only, and a compiled file next to sources: separate rule sets. */
static void test_compiled_folder(void **state)
{
    (void)state;
    mkd("cmp");
    put_compiled("cmp/one.yarc", "rule one { strings: $a = \"ONEMARK\" condition: $a }\n");
    put_compiled("cmp/two", "rule two { strings: $a = \"TWOMARK\" condition: $a }\n");
    put("cmp/three.yar", "rule three { strings: $a = \"THREEMARK\" condition: $a }\n");
    put("cmp/zz.broken", "YARA but not really compiled rules\n"); /* an error; the rest loads */
    char dir[512];
    path_of(dir, sizeof(dir), "cmp");
    ab_scanner *sc = NULL;
    n_old = 0;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_rules(sc, dir, old_diag, NULL), AB_OK);
    assert_int_equal(n_old, 1);
    assert_true(strstr(old_where, "zz.broken") != NULL);
    assert_int_equal(ab_scanner_compile(sc, old_diag, NULL), AB_OK);
    assert_int_equal(n_old, 1);
    assert_int_equal(ab_scanner_rule_count(sc), 3);
    assert_int_equal(findings(sc, "ONEMARK TWOMARK THREEMARK"), 3);
    ab_scanner_free(sc);
}

/* A folder with nothing to load is an error (not fatal: as for an IOC folder), with status
 * not-found; so is a folder of other files, each also named. */
static void test_empty_folders(void **state)
{
    (void)state;
    mkd("empty");
    mkd("other");
    put("other/readme.md", "# no rules\n");
    char dir[512];
    seen s = {0};
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_set_diag(sc, on_diag2, &s), AB_OK);
    path_of(dir, sizeof(dir), "empty");
    assert_int_equal(ab_scanner_add_rules(sc, dir, NULL, NULL), AB_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.level[0], AB_DIAG_ERROR);
    assert_int_equal(s.status[0], AB_ERR_NOTFOUND);
    assert_string_equal(s.file[0], dir);
    path_of(dir, sizeof(dir), "other");
    assert_int_equal(ab_scanner_add_rules(sc, dir, NULL, NULL), AB_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.level[1], AB_DIAG_WARNING);
    assert_true(strstr(s.file[1], "readme.md") != NULL);
    assert_int_equal(s.level[2], AB_DIAG_ERROR);
    assert_int_equal(s.status[2], AB_ERR_NOTFOUND);
    ab_scanner_free(sc);
}

/* A missing rules or IOC file: one diagnostic, status not-found, and the call fails with it. */
static void test_missing_files(void **state)
{
    (void)state;
    seen s = {0};
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_set_diag(sc, on_diag2, &s), AB_OK);
    assert_int_equal(ab_scanner_add_rules(sc, "/nonexistent/r.yar", NULL, NULL), AB_ERR_NOTFOUND);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.status[0], AB_ERR_NOTFOUND);
    assert_string_equal(s.file[0], "/nonexistent/r.yar");
    assert_int_equal(ab_scanner_add_iocs(sc, "/nonexistent/x.ioc", NULL, NULL), AB_ERR_NOTFOUND);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.level[1], AB_DIAG_ERROR);
    assert_int_equal(s.status[1], AB_ERR_NOTFOUND);
    assert_string_equal(s.file[1], "/nonexistent/x.ioc");
    ab_scanner_free(sc);
}

/* Statuses by origin: a rule compile error is "rules" with its line apart, a malformed IOC line
 * "parse"; the old callback still gets "file:line". */
static void test_statuses(void **state)
{
    (void)state;
    put("bad.yar", "rule ok { condition: true }\nrule bad { condition: $x }\n");
    put("bad.ioc", "md5\tnot-a-hash\n");
    char yar[512], ioc[512];
    path_of(yar, sizeof(yar), "bad.yar");
    path_of(ioc, sizeof(ioc), "bad.ioc");
    seen s = {0};
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_set_diag(sc, on_diag2, &s), AB_OK);
    assert_int_equal(ab_scanner_add_rules(sc, yar, NULL, NULL), AB_OK);
    assert_int_equal(
        ab_scanner_add_rules_string(sc, "rule z { condition: true }", "z", NULL, NULL, NULL),
        AB_OK);
    assert_int_equal(ab_scanner_add_iocs(sc, ioc, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, NULL, NULL), AB_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.status[0], AB_ERR_PARSE); /* the IOC line, at load time */
    assert_string_equal(s.file[0], ioc);
    assert_int_equal(s.line[0], 1);
    assert_int_equal(s.status[1], AB_ERR_RULES); /* the rule file, at compile time */
    assert_string_equal(s.file[1], yar);
    assert_int_equal(s.line[1], 2);
    ab_scanner_free(sc);

    n_old = 0;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_rules(sc, yar, old_diag, NULL), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, old_diag, NULL), AB_ERR_RULES);
    assert_int_equal(n_old, 1);
    char want[520];
    snprintf(want, sizeof(want), "%s:2", yar);
    assert_string_equal(old_where, want);
    ab_scanner_free(sc);
}

/* YARA compiler warnings: one note per rule (the first warning, and how many more), counted,
 * never delivered to an old-style callback; a bad file's warnings do not count. */
static void test_compiler_warnings(void **state)
{
    (void)state;
    static const char slow[] = "rule slow1 { strings: $a = /a.*b/ condition: $a }\n"
                               "rule fine { strings: $a = \"FINEMARK\" condition: $a }\n"
                               "rule slow2 { strings: $a = /c.*d/ condition: $a }\n";
    static const char bad[] = "rule slow3 { strings: $a = /e.*f/ condition: $a }\n"
                              "rule broken { condition: $x }\n";
    seen s = {0};
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_set_diag(sc, on_diag2, &s), AB_OK);
    assert_int_equal(ab_scanner_add_rules_string(sc, slow, "slow.yar", NULL, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_add_rules_string(sc, bad, "bad.yar", NULL, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, NULL, NULL), AB_OK);
    assert_int_equal(ab_scanner_rule_warning_count(sc), 2);
    size_t notes = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.level[i] != AB_DIAG_NOTE)
            continue;
        assert_int_equal(s.status[i], AB_OK);
        assert_string_equal(s.file[i], "slow.yar");
        assert_string_equal(s.rule[i], notes == 0 ? "slow1" : "slow2");
        assert_int_equal(s.line[i], notes == 0 ? 1 : 3);
        assert_true(strstr(s.message[i], "more warning") != NULL); /* YARA says it twice */
        notes++;
    }
    assert_int_equal(notes, 2);
    ab_scanner_free(sc);

    n_old = 0;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_rules_string(sc, slow, "slow.yar", NULL, old_diag, NULL),
                     AB_OK);
    assert_int_equal(ab_scanner_compile(sc, old_diag, NULL), AB_OK);
    assert_int_equal(n_old, 0);
    assert_int_equal(ab_scanner_rule_warning_count(sc), 2);
    ab_scanner_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folder_tree),   cmocka_unit_test(test_compiled_folder),
        cmocka_unit_test(test_empty_folders), cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_statuses),      cmocka_unit_test(test_compiler_warnings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
