/* test_scanner.c: the public API in-process (ab_scan_buffer), filetype table, severities, ab_buf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "antibody/antibody.h"
#include "core/buf.h"
#include "core/object.h"
#include "intel/filetype.h"

typedef struct got {
    int findings, errors, summaries;
    char rule[64], ns[64], severity[16], family[32], desc[64];
    int score, meta_len, tags_len, stop_after;
    uint64_t objects;
} got;

static int sink(void *ctx, const ab_event *ev)
{
    got *g = ctx;
    if (ev->kind == AB_EVENT_FINDING) {
        const ab_finding *f = &ev->u.finding;
        g->findings++;
        snprintf(g->rule, sizeof(g->rule), "%s", f->rule);
        snprintf(g->ns, sizeof(g->ns), "%s", f->rule_namespace);
        snprintf(g->severity, sizeof(g->severity), "%s", f->severity);
        snprintf(g->family, sizeof(g->family), "%s", f->family ? f->family : "");
        snprintf(g->desc, sizeof(g->desc), "%s", f->description ? f->description : "");
        g->score = f->score;
        g->meta_len = (int)f->meta_len;
        g->tags_len = (int)f->tags_len;
        return g->stop_after && g->findings >= g->stop_after;
    }
    if (ev->kind == AB_EVENT_ERROR)
        g->errors++;
    if (ev->kind == AB_EVENT_SUMMARY) {
        g->summaries++;
        g->objects = ev->u.summary.objects;
    }
    return 0;
}

static int n_diag;
static void diag(void *ctx, ab_diag_level level, const char *where, const char *msg)
{
    (void)ctx;
    (void)level;
    (void)where;
    (void)msg;
    n_diag++;
}

static ab_scanner *make(const char *rules)
{
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    if (rules)
        assert_int_equal(ab_scanner_add_rules_string(sc, rules, "test.yar", "t", diag, NULL),
                         AB_OK);
    assert_int_equal(ab_scanner_compile(sc, diag, NULL), AB_OK);
    return sc;
}

static void test_buffer_finding(void **state)
{
    (void)state;
    ab_scanner *sc = make("rule r1 : tagA tagB { meta: score = 92 family = \"Fam\" "
                          "description = \"d1\" strings: $a = \"NEEDLE\" condition: $a }");
    assert_int_equal(ab_scanner_rule_count(sc), 1);
    got g = {0};
    ab_sink s = {sink, &g};
    const char data[] = "hay NEEDLE hay";
    assert_int_equal(ab_scan_buffer(sc, data, sizeof(data) - 1, "x.bin", &s), AB_OK);
    assert_int_equal(g.findings, 1);
    assert_string_equal(g.rule, "r1");
    assert_string_equal(g.ns, "t");
    assert_int_equal(g.score, 92);
    assert_string_equal(g.severity, "critical");
    assert_string_equal(g.family, "Fam");
    assert_string_equal(g.desc, "d1");
    assert_int_equal(g.meta_len, 3);
    assert_int_equal(g.tags_len, 2);
    assert_int_equal(g.summaries, 1);
    assert_int_equal(g.objects, 1);
    /* no match */
    memset(&g, 0, sizeof(g));
    assert_int_equal(ab_scan_buffer(sc, "nothing", 7, "y", &s), AB_OK);
    assert_int_equal(g.findings, 0);
    assert_int_equal(g.summaries, 1);
    ab_scanner_free(sc);
}

static void test_default_score_and_externals(void **state)
{
    (void)state;
    ab_scanner *sc =
        make("rule e { condition: filename == \"Sample.EXE\" and extension == \".exe\" "
             "and filepath == \"some/dir\" and filetype == \"EXE\" }");
    got g = {0};
    ab_sink s = {sink, &g};
    assert_int_equal(ab_scan_buffer(sc, "MZ..", 4, "some/dir/Sample.EXE", &s), AB_OK);
    assert_int_equal(g.findings, 1);
    assert_int_equal(g.score, 75);
    assert_string_equal(g.severity, "high");
    memset(&g, 0, sizeof(g));
    assert_int_equal(ab_scan_buffer(sc, "ZM..", 4, "some/dir/Sample.EXE", &s), AB_OK);
    assert_int_equal(g.findings, 0);
    ab_scanner_free(sc);
}

/* A repeated meta key: the first value counts, for score as for description and family. */
static void test_repeated_meta(void **state)
{
    (void)state;
    ab_scanner *sc = make("rule rep { meta: score = 40 description = \"first\" score = 95 "
                          "description = \"second\" condition: true }");
    got g = {0};
    ab_sink s = {sink, &g};
    assert_int_equal(ab_scan_buffer(sc, "x", 1, "x", &s), AB_OK);
    assert_int_equal(g.findings, 1);
    assert_int_equal(g.score, 40);
    assert_string_equal(g.severity, "low");
    assert_string_equal(g.desc, "first");
    ab_scanner_free(sc);
}

static void test_sink_stop(void **state)
{
    (void)state;
    ab_scanner *sc = make("rule a { condition: true } rule b { condition: true } "
                          "rule c { condition: true }");
    got g = {.stop_after = 1};
    ab_sink s = {sink, &g};
    assert_int_equal(ab_scan_buffer(sc, "x", 1, "x", &s), AB_OK);
    assert_int_equal(g.findings, 1);
    assert_int_equal(g.summaries, 0); /* a stopped scan delivers nothing more */
    ab_scanner_free(sc);
}

static void test_bad_rules_and_state(void **state)
{
    (void)state;
    ab_scanner *sc = NULL;
    n_diag = 0;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(
        ab_scanner_add_rules_string(sc, "rule ok { condition: true }", "a", NULL, diag, NULL),
        AB_OK);
    assert_int_equal(
        ab_scanner_add_rules_string(sc, "rule broken { condition: $x }", "b", NULL, diag, NULL),
        AB_OK);
    assert_int_equal(
        ab_scanner_add_rules_string(sc, "rule ok2 { condition: ok }", "c", NULL, diag, NULL),
        AB_OK);
    assert_int_equal(ab_scanner_add_pack(sc, "no-such-pack", diag, NULL), AB_ERR_NOTFOUND);
    assert_int_equal(ab_scanner_compile(sc, diag, NULL), AB_OK);
    assert_int_equal(n_diag, 1);
    assert_int_equal(ab_scanner_rule_count(sc), 2); /* the broken file is left out */
    /* settings are frozen after compile */
    assert_int_equal(ab_scanner_set_workers(sc, 2), AB_ERR_ARG);
    assert_int_equal(ab_scanner_add_exclude(sc, "*.log"), AB_ERR_ARG);
    assert_int_equal(ab_scanner_compile(sc, diag, NULL), AB_ERR_ARG);
    ab_scanner_free(sc);

    /* nothing compiles: AB_ERR_RULES */
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scanner_add_rules_string(sc, "rule { }", "x", NULL, diag, NULL), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, diag, NULL), AB_ERR_RULES);
    ab_scanner_free(sc);

    /* argument checks */
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    assert_int_equal(ab_scan_buffer(sc, "x", 1, "x", NULL), AB_ERR_ARG); /* not compiled */
    assert_int_equal(ab_scanner_set_timeout(sc, 0), AB_ERR_ARG);
    assert_int_equal(ab_scanner_add_rules(sc, "/nonexistent/rules.yar", diag, NULL),
                     AB_ERR_NOTFOUND);
    assert_true(strstr(ab_scanner_last_error(sc), "/nonexistent/rules.yar") != NULL);
    ab_scanner_free(sc);
}

/* After a bad file the remaining files are vetted alone: each bad file is reported once, a file
 * that refers to a rule of an earlier file still loads, and a file that only clashes with earlier
 * ones (a duplicate rule name) is left out. */
static void test_rule_vetting(void **state)
{
    (void)state;
    ab_scanner *sc = NULL;
    static const char *const src[] = {
        "rule base { condition: true }",
        "rule broken1 { condition: $x }",                  /* bad: undefined string */
        "rule uses_base { condition: base }",              /* needs the first file */
        "rule broken2 { strings: $a = \"x\" condition: }", /* bad: syntax */
        "rule base { condition: false }",                  /* clashes with the first file */
        "rule last { condition: uses_base }",
    };
    n_diag = 0;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%zu.yar", i);
        assert_int_equal(ab_scanner_add_rules_string(sc, src[i], name, NULL, diag, NULL), AB_OK);
    }
    assert_int_equal(ab_scanner_compile(sc, diag, NULL), AB_OK);
    assert_int_equal(ab_scanner_rule_count(sc), 3); /* base, uses_base, last */
    assert_int_equal(n_diag, 3);                    /* broken1, broken2, the duplicate */
    got g = {0};
    ab_sink s = {sink, &g};
    assert_int_equal(ab_scan_buffer(sc, "x", 1, "x", &s), AB_OK);
    assert_int_equal(g.findings, 3);
    ab_scanner_free(sc);
}

static void test_pack(void **state)
{
    (void)state;
    assert_true(ab_pack_count() >= 1);
    ab_pack_info info;
    assert_int_equal(ab_pack_info_get(0, &info), AB_OK);
    assert_string_equal(info.name, "apt29-2020");
    assert_true(info.rules >= 8);
    assert_true(info.iocs >= 15);
    assert_int_equal(ab_pack_info_get(ab_pack_count(), &info), AB_ERR_ARG);
}

static void test_filetype(void **state)
{
    (void)state;
    ab_filetypes *ft = NULL;
    assert_int_equal(ab_filetypes_builtin(&ft), AB_OK);
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"MZ\x90", 3), "EXE");
    assert_string_equal(ab_filetype_of(ft,
                                       (const uint8_t *)"\x7f"
                                                        "ELF",
                                       4),
                        "ELF");
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"PK\x03\x04\x14\x00\x06\x00", 8),
                        "Office");
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"PK\x03\x04\x0a", 5), "ZIP");
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"M", 1), "UNKNOWN");
    assert_string_equal(ab_filetype_of(ft, NULL, 0), "UNKNOWN");
    ab_filetypes_free(ft);
    /* first match in file order wins; bad lines are reported and skipped */
    const char table[] = "# c\n4D 5A 90;First\n4D5A;Second\nZZ;Bad\n4D;\n0;Odd\r\nAB CD;Ok\r\n";
    n_diag = 0;
    assert_int_equal(ab_filetypes_parse(table, sizeof(table) - 1, "t", diag, NULL, &ft), AB_OK);
    assert_int_equal(n_diag, 3);
    assert_int_equal(ab_filetypes_count(ft), 3);
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"MZ\x90", 3), "First");
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"MZ\x00", 3), "Second");
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"\xab\xcd", 2), "Ok");
    ab_filetypes_free(ft);
    /* a repeated signature keeps its first place and takes the last name (Loki's dict) */
    const char dup[] = "43 57 53;SWF\n43;C\n435753;CWS\n";
    assert_int_equal(ab_filetypes_parse(dup, sizeof(dup) - 1, "t", diag, NULL, &ft), AB_OK);
    assert_int_equal(ab_filetypes_count(ft), 2);
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"CWS\x09", 4), "CWS");
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"Cx", 2), "C");
    ab_filetypes_free(ft);
    assert_int_equal(ab_filetypes_builtin(&ft), AB_OK);
    assert_string_equal(ab_filetype_of(ft, (const uint8_t *)"ZWS\x0d", 4), "ZWS");
    ab_filetypes_free(ft);
}

static void test_severity_and_names(void **state)
{
    (void)state;
    assert_string_equal(ab_severity_for_score(100), "critical");
    assert_string_equal(ab_severity_for_score(90), "critical");
    assert_string_equal(ab_severity_for_score(89), "high");
    assert_string_equal(ab_severity_for_score(75), "high");
    assert_string_equal(ab_severity_for_score(74), "medium");
    assert_string_equal(ab_severity_for_score(50), "medium");
    assert_string_equal(ab_severity_for_score(25), "low");
    assert_string_equal(ab_severity_for_score(0), "info");
    assert_string_equal(ab_skip_reason_name(AB_SKIP_TOO_LARGE), "too-large");
    assert_string_equal(ab_skip_reason_name(AB_SKIP_EXITED), "exited");
    assert_string_equal(ab_skip_reason_name(AB_SKIP_REASON_COUNT), "unknown");
    assert_string_equal(ab_matcher_name(AB_MATCHER_NAME), "name");
    assert_string_equal(ab_strerror(AB_ERR_CRASH), "scanner worker crashed");
}

static void test_buf_cap(void **state)
{
    (void)state;
    ab_buf b;
    ab_buf_init(&b, 8);
    assert_int_equal(ab_buf_adds(&b, "12345678"), AB_OK);
    assert_int_equal(ab_buf_addc(&b, 'x'), AB_ERR_LIMIT);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "12345678");
    ab_buf_reset(&b);
    assert_int_equal(ab_buf_printf(&b, "%d-%s", 42, "ab"), AB_OK);
    assert_string_equal(b.data, "42-ab");
    assert_int_equal(ab_buf_printf(&b, "%s", "toolong"), AB_ERR_LIMIT);
    assert_int_equal(ab_buf_reserve(&b, SIZE_MAX), AB_ERR_LIMIT);
    size_t n;
    char *p = ab_buf_detach(&b, &n);
    assert_string_equal(p, "42-ab");
    assert_int_equal(n, 5);
    free(p);
    assert_null(b.data);
    ab_buf_release(&b);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static ab_scanner *compiled_with(void (*add)(ab_scanner *, const char *), const char *arg)
{
    ab_scanner *sc = NULL;
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    if (add)
        add(sc, arg);
    assert_int_equal(
        ab_scanner_add_rules_string(sc, "rule r { condition: false }", "r", NULL, diag, NULL),
        AB_OK);
    assert_int_equal(ab_scanner_set_workers(sc, 1), AB_OK);
    assert_int_equal(ab_scanner_compile(sc, diag, NULL), AB_OK);
    return sc;
}

static void add_exclude_file_ok(ab_scanner *sc, const char *path)
{
    assert_int_equal(ab_scanner_add_exclude_file(sc, path), AB_OK);
    assert_int_equal(ab_scanner_add_exclude_regex(sc, "/NEVER-THERE/"), AB_OK);
}

/* Exclude files (comments, blanks, bounds), and what each pattern excluded in the last sweep. */
static void test_exclude_patterns(void **state)
{
    (void)state;
    char dir[] = "/tmp/ab-ex-XXXXXX", p[320], list[256], tree[256];
    assert_non_null(mkdtemp(dir));
    snprintf(tree, sizeof(tree), "%s/tree", dir);
    assert_int_equal(mkdir(tree, 0755), 0);
    snprintf(p, sizeof(p), "%s/sub", tree);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/a.log", tree);
    write_text(p, "x");
    snprintf(p, sizeof(p), "%s/keep.txt", tree);
    write_text(p, "x");
    snprintf(list, sizeof(list), "%s/excludes", dir);
    write_text(list, "# a comment\n\n   \n  *.log  \r\nsub/\nnever-there\n");

    ab_scanner *sc = compiled_with(add_exclude_file_ok, list);
    assert_int_equal(ab_scanner_exclude_count(sc), 4);
    got g = {0};
    ab_sink k = {sink, &g};
    const char *roots[] = {tree};
    assert_int_equal(ab_scan_paths(sc, roots, 1, &k), AB_OK);
    assert_int_equal(g.objects, 1); /* keep.txt */
    ab_exclude_info x;
    uint64_t want[4] = {1, 1, 0, 0};
    const char *pat[4] = {"*.log", "sub/", "never-there", "/NEVER-THERE/"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(ab_scanner_exclude_info(sc, i, &x), AB_OK);
        assert_string_equal(x.pattern, pat[i]);
        assert_int_equal(x.matched, want[i]);
        assert_int_equal(x.is_regex, i == 3);
    }
    assert_int_equal(ab_scanner_exclude_info(sc, 4, &x), AB_ERR_ARG);
    /* counts are those of the last sweep */
    const char *one[] = {p};
    assert_int_equal(ab_scan_paths(sc, one, 1, &k), AB_OK);
    assert_int_equal(ab_scanner_exclude_info(sc, 0, &x), AB_OK);
    assert_int_equal(x.matched, 0);
    ab_scanner_free(sc);

    /* errors say file and line */
    assert_int_equal(ab_scanner_new(&sc), AB_OK);
    snprintf(p, sizeof(p), "%s/missing", dir);
    assert_int_equal(ab_scanner_add_exclude_file(sc, p), AB_ERR_NOTFOUND);
    assert_non_null(strstr(ab_scanner_last_error(sc), "No such file"));
    char *longline = malloc(5000);
    assert_non_null(longline);
    memset(longline, 'a', 4999);
    longline[4999] = '\0';
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    fprintf(f, "ok\n%s\n", longline);
    assert_int_equal(fclose(f), 0);
    free(longline);
    assert_int_equal(ab_scanner_add_exclude_file(sc, list), AB_ERR_LIMIT);
    assert_non_null(strstr(ab_scanner_last_error(sc), ":2: line longer than 4096 bytes"));
    assert_int_equal(ab_scanner_add_exclude_regex(sc, "a("), AB_ERR_PARSE);
    assert_int_equal(ab_scanner_add_exclude(sc, ""), AB_ERR_ARG);
    ab_scanner_free(sc);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A pid given twice is scanned once (in the library, for every caller). */
static void test_pids_deduped(void **state)
{
    (void)state;
    /* A grandchild: antibody takes its own children for its workers and never scans them. */
    int fds[2];
    pid_t child = 0;
    assert_int_equal(pipe(fds), 0);
    pid_t mid = fork();
    assert_true(mid >= 0);
    if (mid == 0) {
        pid_t g = fork();
        if (g == 0) { /* a small process: a fork of an ASan build maps terabytes of shadow */
            close(fds[1]);
            execl("/bin/sleep", "sleep", "30", (char *)NULL);
            _exit(127);
        }
        _exit(write(fds[1], &g, sizeof(g)) == sizeof(g) ? 0 : 1);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &child, sizeof(child)), sizeof(child));
    close(fds[0]);
    waitpid(mid, NULL, 0);
    ab_scanner *sc = compiled_with(NULL, NULL);
    got g = {0};
    ab_sink k = {sink, &g};
    pid_t pids[3] = {child, child, child};
    assert_int_equal(ab_scan_pids(sc, pids, 3, 0, &k), AB_OK);
    assert_int_equal(g.errors, 0);
    assert_int_equal(g.objects, 1);
    ab_scanner_free(sc);
    kill(child, SIGKILL);
}

static int setup(void **state)
{
    (void)state;
    return ab_init() == AB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ab_finish();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buffer_finding),   cmocka_unit_test(test_default_score_and_externals),
        cmocka_unit_test(test_sink_stop),        cmocka_unit_test(test_bad_rules_and_state),
        cmocka_unit_test(test_rule_vetting),     cmocka_unit_test(test_pack),
        cmocka_unit_test(test_filetype),         cmocka_unit_test(test_severity_and_names),
        cmocka_unit_test(test_buf_cap),          cmocka_unit_test(test_repeated_meta),
        cmocka_unit_test(test_exclude_patterns), cmocka_unit_test(test_pids_deduped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
