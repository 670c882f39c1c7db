/* test_json.c: the JSON writer (escaping, UTF-8 repair, _b64, limits) and JSON Lines events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsoncheck.h"
#include "report/json.h"
#include "json_check.h"

#define FFFD "\xef\xbf\xbd"

/* ---- helpers -------------------------------------------------------------------------------- */

/* ab_json_str(s, len) alone into a fresh buffer; returns the output (caller frees). */
static char *render_str(const char *s, size_t len, int *valid)
{
    ab_buf b;
    ab_json j;
    ab_buf_init(&b, 0);
    ab_json_init(&j, &b);
    int v = ab_json_str(&j, s, len);
    assert_int_equal(j.st, AB_OK);
    if (valid)
        *valid = v;
    return ab_buf_detach(&b, NULL);
}

static void assert_str_renders(const char *in, size_t len, const char *want, int want_valid)
{
    int valid = -1;
    char *out = render_str(in, len, &valid);
    assert_string_equal(out, want);
    assert_int_equal(valid, want_valid);
    jc_val v;
    assert_true(jc_parse(out, strlen(out), &v)); /* whatever the bytes, the output is JSON */
    assert_int_equal(v.type, JC_STR);
    jc_free(&v);
    free(out);
}

/* Encodes ev as a line, checks it with the strict parser and returns the tree. */
static jc_val line_of(const ab_event *ev)
{
    ab_buf b;
    jc_val v;
    ab_buf_init(&b, 0);
    assert_int_equal(ab_jsonl_event(&b, ev), AB_OK);
    if (!jc_parse_line(b.data, b.len, &v))
        fail_msg("not a strict JSON line: %s", b.data);
    ab_buf_release(&b);
    return v;
}

/* Decodes member key_b64 of obj and checks it equals want exactly. */
static void assert_b64_member(const jc_val *obj, const char *key, const char *want)
{
    const char *b64 = jc_get_str(obj, key);
    assert_non_null(b64);
    size_t n = 0;
    unsigned char *dec = jc_b64_decode(b64, strlen(b64), &n);
    assert_non_null(dec);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(dec, want, n);
    free(dec);
}

static void assert_member_str(const jc_val *obj, const char *key, const char *want)
{
    const char *got = jc_get_str(obj, key);
    if (!got)
        fail_msg("member %s missing or not a string", key);
    assert_string_equal(got, want);
}

static void assert_member_num(const jc_val *obj, const char *key, const char *want)
{
    const jc_val *v = jc_get(obj, key);
    assert_non_null(v);
    assert_int_equal(v->type, JC_NUM);
    assert_string_equal(v->str, want);
}

/* ---- strings -------------------------------------------------------------------------------- */

static void test_escape_specials(void **state)
{
    (void)state;
    const char in[] = "a\nb\"c\\d\te\rf/g";
    assert_str_renders(in, sizeof in - 1, "\"a\\nb\\\"c\\\\d\\te\\rf/g\"", 1);
    assert_str_renders("", 0, "\"\"", 1);
}

static void test_escape_control_chars(void **state)
{
    (void)state;
    char in[0x20];
    for (int c = 1; c < 0x20; c++)
        in[c - 1] = (char)c;
    in[0x1f] = 0x7f;
    const char *want = "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
                       "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
                       "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\u007f\"";
    assert_str_renders(in, sizeof in, want, 1);
}

static void test_embedded_nul(void **state)
{
    (void)state;
    assert_str_renders("a\0b", 3, "\"a\\u0000b\"", 1);
}

static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    /* One U+FFFD per maximal subpart (Unicode 3.9, "U+FFFD substitution of maximal subparts"). */
    assert_str_renders("a\xff"
                       "b",
                       3, "\"a" FFFD "b\"", 0);
    assert_str_renders("\xc0\xaf", 2, "\"" FFFD FFFD "\"", 0);          /* overlong '/' */
    assert_str_renders("\xe0\x80\xaf", 3, "\"" FFFD FFFD FFFD "\"", 0); /* overlong, 3 bytes */
    assert_str_renders("\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"", 0); /* surrogate D800 */
    assert_str_renders("x\xe2\x82", 3, "\"x" FFFD "\"", 0);             /* truncated euro */
    assert_str_renders("\xe2\x82y", 3, "\"" FFFD "y\"", 0);
    assert_str_renders("\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\"", 0); /* > U+10FFFF */
    assert_str_renders("\xf0\x9f\x98", 3, "\"" FFFD "\"", 0);  /* truncated 4-byte */
    assert_str_renders("\x80\xbf", 2, "\"" FFFD FFFD "\"", 0); /* stray continuations */
    assert_str_renders("\xf5\xfe", 2, "\"" FFFD FFFD "\"", 0);
    /* A bad byte inside a run of good text does not swallow its neighbours. */
    assert_str_renders("\xc3\xa9\xc3\x28\xc3\xa9", 6, "\"\xc3\xa9" FFFD "(\xc3\xa9\"", 0);
}

static void test_valid_utf8_kept(void **state)
{
    (void)state;
    const char in[] = "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbd";
    char want[sizeof in + 2];
    snprintf(want, sizeof want, "\"%s\"", in);
    assert_str_renders(in, sizeof in - 1, want, 1);
}

static void test_utf8_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int valid;
    } cases[] = {
        {"", 1},
        {"plain", 1},
        {"\xc2\x80", 1},
        {"\xdf\xbf", 1},
        {"\xe0\xa0\x80", 1},
        {"\xed\x9f\xbf", 1},
        {"\xee\x80\x80", 1},
        {"\xf0\x90\x80\x80", 1},
        {"\xf4\x8f\xbf\xbf", 1},
        {"\xc1\xbf", 0},
        {"\xe0\x9f\xbf", 0},
        {"\xed\xbf\xbf", 0},
        {"\xf0\x8f\xbf\xbf", 0},
        {"\xf4\x90\x80\x80", 0},
        {"\xf8\x88\x80\x80\x80", 0},
        {"\xc2", 0},
        {"\xe2\x82", 0},
        {"\xbf", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].s);
        assert_int_equal(ab_utf8_valid(cases[i].s, n), cases[i].valid);
        assert_int_equal(jc_utf8_valid(cases[i].s, n), cases[i].valid); /* the checker agrees */
    }
}

/* ---- bytes and base64 ----------------------------------------------------------------------- */

/* {"k": s} written with ab_json_kv_bytes, parsed back. */
static jc_val object_with_bytes(const char *s)
{
    ab_buf b;
    ab_json j;
    jc_val v;
    ab_buf_init(&b, 0);
    ab_json_init(&j, &b);
    ab_json_obj_begin(&j);
    ab_json_kv_bytes(&j, "k", s);
    ab_json_obj_end(&j);
    assert_int_equal(j.st, AB_OK);
    assert_true(jc_parse(b.data, b.len, &v));
    ab_buf_release(&b);
    return v;
}

static void test_b64_only_when_needed(void **state)
{
    (void)state;
    jc_val v = object_with_bytes("/tmp/caf\xc3\xa9\n.txt");
    assert_int_equal(v.n, 1);
    assert_member_str(&v, "k", "/tmp/caf\xc3\xa9\n.txt");
    assert_null(jc_get(&v, "k_b64"));
    jc_free(&v);

    v = object_with_bytes(NULL);
    assert_int_equal(v.n, 1);
    assert_int_equal(jc_get(&v, "k")->type, JC_NULL);
    jc_free(&v);
}

static void test_b64_round_trip(void **state)
{
    (void)state;
    /* Lengths 1..5 after the bad byte exercise every padding case. */
    const char *names[] = {
        "\xff", "a\xff", "ab\xff", "/x/\xed\xa0\x80", "\xc0\xaf\xfe\x01\x7f", "\"\\\xe2\x82"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        jc_val v = object_with_bytes(names[i]);
        assert_int_equal(v.n, 2);
        assert_true(jc_utf8_valid(jc_get_str(&v, "k"), strlen(jc_get_str(&v, "k"))));
        assert_b64_member(&v, "k_b64", names[i]);
        jc_free(&v);
    }
    jc_val v = object_with_bytes("\xff\xfe");
    assert_member_str(&v, "k", FFFD FFFD);
    assert_member_str(&v, "k_b64", "//4=");
    jc_free(&v);
}

static void test_b64_array(void **state)
{
    (void)state;
    const char *good[] = {"/a.zip", "inner/b.exe"};
    const char *bad[] = {"/a.zip", "inner/\xff.exe", NULL};
    ab_buf b;
    ab_json j;
    jc_val v;
    ab_buf_init(&b, 0);
    ab_json_init(&j, &b);
    ab_json_obj_begin(&j);
    ab_json_kv_bytes_array(&j, "good", good, 2);
    ab_json_kv_bytes_array(&j, "bad", bad, 3);
    ab_json_kv_bytes_array(&j, "none", NULL, 5);
    ab_json_obj_end(&j);
    assert_int_equal(j.st, AB_OK);
    assert_true(jc_parse(b.data, b.len, &v));

    assert_null(jc_get(&v, "good_b64"));
    assert_int_equal(jc_get(&v, "good")->n, 2);
    assert_int_equal(jc_get(&v, "none")->n, 0);
    const jc_val *lossy = jc_get(&v, "bad"), *raw = jc_get(&v, "bad_b64");
    assert_non_null(raw);
    assert_int_equal(lossy->n, 3);
    assert_int_equal(raw->n, 3); /* every element, so indexes line up */
    assert_string_equal(lossy->kids[1].str, "inner/" FFFD ".exe");
    assert_int_equal(lossy->kids[2].type, JC_NULL);
    assert_int_equal(raw->kids[2].type, JC_NULL);
    for (int i = 0; i < 2; i++) {
        size_t n;
        unsigned char *dec = jc_b64_decode(raw->kids[i].str, raw->kids[i].len, &n);
        assert_non_null(dec);
        assert_int_equal(n, strlen(bad[i]));
        assert_memory_equal(dec, bad[i], n);
        free(dec);
    }
    jc_free(&v);
    ab_buf_release(&b);
}

/* ---- numbers -------------------------------------------------------------------------------- */

static void test_numbers(void **state)
{
    (void)state;
    ab_buf b;
    ab_json j;
    ab_buf_init(&b, 0);
    ab_json_init(&j, &b);
    ab_json_arr_begin(&j);
    ab_json_int(&j, INT64_MIN);
    ab_json_uint(&j, UINT64_MAX);
    ab_json_double(&j, 0.1);
    ab_json_double(&j, 2.5);
    ab_json_double(&j, 1e300);
    ab_json_double(&j, -0.0);
    ab_json_double(&j, NAN);
    ab_json_double(&j, INFINITY);
    ab_json_bool(&j, 7);
    ab_json_bool(&j, 0);
    ab_json_null(&j);
    ab_json_cstr(&j, NULL);
    ab_json_arr_end(&j);
    assert_int_equal(j.st, AB_OK);
    assert_string_equal(b.data, "[-9223372036854775808,18446744073709551615,0.1,2.5,1e+300,-0,"
                                "null,null,true,false,null,null]");
    jc_val v;
    assert_true(jc_parse(b.data, b.len, &v));
    jc_free(&v);
    ab_buf_release(&b);
}

/* ---- errors and limits ---------------------------------------------------------------------- */

static void test_sticky_error(void **state)
{
    (void)state;
    ab_buf b;
    ab_json j;
    ab_buf_init(&b, 10);
    ab_json_init(&j, &b);
    ab_json_obj_begin(&j);
    ab_json_key(&j, "k");
    ab_json_cstr(&j, "a long value that does not fit");
    assert_int_equal(j.st, AB_ERR_LIMIT);
    size_t len = b.len;
    ab_json_key(&j, "x"); /* "x" would fit, but the error is sticky: nothing more is written */
    ab_json_int(&j, 1);
    ab_json_obj_end(&j);
    assert_int_equal(j.st, AB_ERR_LIMIT);
    assert_int_equal(b.len, len);
    ab_buf_release(&b);
}

static void test_event_too_big_leaves_buffer_unchanged(void **state)
{
    (void)state;
    ab_buf b;
    ab_buf_init(&b, 64);
    assert_int_equal(ab_buf_adds(&b, "previous line\n"), AB_OK);
    ab_event ev = {.kind = AB_EVENT_SKIP, .time = 1.0};
    ev.u.skip.path = "/a/path/long/enough/that/the/line/does/not/fit/in/sixty/four/bytes";
    assert_int_equal(ab_jsonl_event(&b, &ev), AB_ERR_LIMIT);
    assert_string_equal(b.data, "previous line\n");
    ab_buf_release(&b);
}

static void test_depth_limit(void **state)
{
    (void)state;
    ab_buf b;
    ab_json j;
    ab_buf_init(&b, 0);
    ab_json_init(&j, &b);
    for (int i = 0; i < AB_JSON_MAX_DEPTH; i++)
        ab_json_arr_begin(&j);
    assert_int_equal(j.st, AB_OK);
    assert_int_equal(j.depth, AB_JSON_MAX_DEPTH);
    for (int i = 0; i < AB_JSON_MAX_DEPTH; i++)
        ab_json_arr_end(&j);
    assert_int_equal(j.st, AB_OK);
    jc_val v;
    assert_true(jc_parse(b.data, b.len, &v));
    jc_free(&v);

    ab_buf_reset(&b);
    ab_json_init(&j, &b);
    for (int i = 0; i <= AB_JSON_MAX_DEPTH; i++) {
        ab_json_obj_begin(&j);
        ab_json_key(&j, "k");
    }
    assert_int_equal(j.st, AB_ERR_LIMIT);
    assert_int_equal(j.depth, AB_JSON_MAX_DEPTH);
    ab_buf_release(&b);
}

/* Misuse becomes a sticky AB_ERR_ARG rather than output that is not JSON. */
static void test_misuse_detected(void **state)
{
    (void)state;
    ab_buf b;
    ab_json j;
    ab_buf_init(&b, 0);

    ab_json_init(&j, &b);
    ab_json_obj_begin(&j);
    ab_json_int(&j, 1); /* value without a key */
    assert_int_equal(j.st, AB_ERR_ARG);

    ab_json_init(&j, &b);
    ab_json_arr_begin(&j);
    ab_json_key(&j, "k"); /* key in an array */
    assert_int_equal(j.st, AB_ERR_ARG);

    ab_json_init(&j, &b);
    ab_json_arr_begin(&j);
    ab_json_obj_end(&j); /* mismatched end */
    assert_int_equal(j.st, AB_ERR_ARG);

    ab_json_init(&j, &b);
    ab_json_obj_begin(&j);
    ab_json_key(&j, "k");
    ab_json_obj_end(&j); /* key without a value */
    assert_int_equal(j.st, AB_ERR_ARG);

    ab_json_init(&j, &b);
    ab_json_arr_end(&j); /* nothing open */
    assert_int_equal(j.st, AB_ERR_ARG);

    ab_event ev = {.kind = (ab_event_kind)99};
    ab_buf_reset(&b);
    assert_int_equal(ab_jsonl_event(&b, &ev), AB_ERR_ARG);
    assert_int_equal(b.len, 0);
    assert_int_equal(ab_jsonl_event(NULL, &ev), AB_ERR_ARG);
    assert_int_equal(ab_jsonl_event(&b, NULL), AB_ERR_ARG);
    ab_buf_release(&b);
}

/* ---- events --------------------------------------------------------------------------------- */

static void test_time_format(void **state)
{
    (void)state;
    static const struct {
        double t;
        const char *want;
    } cases[] = {
        {1795614312.345, "2026-11-25T13:45:12.345Z"},
        {1795614312.9996, "2026-11-25T13:45:13.000Z"}, /* rounds into the next second */
        {0.0, "1970-01-01T00:00:00.000Z"},
        {-5.0, "1970-01-01T00:00:00.000Z"},
        {NAN, "1970-01-01T00:00:00.000Z"},
        {1e300, "9999-12-31T23:59:59.999Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ab_event ev = {.kind = AB_EVENT_SUMMARY, .time = cases[i].t};
        jc_val v = line_of(&ev);
        assert_member_str(&v, "time", cases[i].want);
        jc_free(&v);
    }
}

static void test_event_finding(void **state)
{
    (void)state;
    const char *loc[] = {"/srv/\xff.zip", "payload.exe"};
    const char *tags[] = {"APT29", "dropper"};
    const ab_meta meta[] = {
        {.key = "author", .str = "me \"quoted\""},
        {.key = "score", .str = "80", .is_int = 1, .ival = 80},
        {.key = "author", .str = "second author: dropped"},
        {.key = "active", .str = "true", .is_bool = 1, .ival = 1},
        {.key = "bad\xff", .str = "dropped: key not UTF-8"},
        {.key = "note", .str = "bad \xc0 value"},
    };
    ab_event ev = {.kind = AB_EVENT_FINDING, .time = 1795614312.345};
    ab_finding *f = &ev.u.finding;
    f->obj = (ab_object_info){.path = "/srv/\xff.zip",
                              .location = loc,
                              .location_len = 2,
                              .size = 4096,
                              .sha256 = "e3b0c442"};
    f->matcher = AB_MATCHER_YARA;
    f->rule = "APT29_Dropper";
    f->rule_namespace = "apt29-2020";
    f->tags = tags;
    f->tags_len = 2;
    f->meta = meta;
    f->meta_len = sizeof meta / sizeof meta[0];
    f->score = 80;
    f->severity = "high";
    f->family = "WellMess";
    f->reason = "3 strings matched";

    jc_val v = line_of(&ev);
    assert_string_equal(v.kids[0].key, "event"); /* first, so `grep '"event":"finding"'` works */
    assert_member_str(&v, "event", "finding");
    assert_member_str(&v, "time", "2026-11-25T13:45:12.345Z");
    assert_member_str(&v, "path", "/srv/" FFFD ".zip");
    assert_b64_member(&v, "path_b64", "/srv/\xff.zip");
    /* location: one {"name","source"} per level; a non-UTF-8 name also as name_b64 */
    const jc_val *locv = jc_get(&v, "location");
    assert_non_null(locv);
    assert_int_equal(locv->n, 2);
    assert_non_null(jc_get(&locv->kids[0], "name_b64"));
    assert_null(jc_get(&locv->kids[1], "name_b64"));
    assert_null(jc_get(&v, "location_b64"));
    assert_member_num(&v, "size", "4096");
    assert_member_str(&v, "matcher", "yara");
    assert_member_str(&v, "rule", "APT29_Dropper");
    assert_member_str(&v, "namespace", "apt29-2020");
    assert_int_equal(jc_get(&v, "tags")->n, 2);
    assert_member_num(&v, "score", "80");
    assert_member_str(&v, "severity", "high");
    assert_member_str(&v, "family", "WellMess");
    assert_null(jc_get(&v, "description"));
    assert_member_str(&v, "reason", "3 strings matched");
    assert_member_str(&v, "sha256", "e3b0c442");
    assert_null(jc_get(&v, "md5"));
    assert_null(jc_get(&v, "pid"));

    const jc_val *m = jc_get(&v, "meta");
    assert_non_null(m);
    assert_int_equal(m->n, 4);
    assert_member_str(m, "author", "me \"quoted\"");
    assert_member_num(m, "score", "80");
    assert_int_equal(jc_get(m, "active")->type, JC_BOOL);
    assert_int_equal(jc_get(m, "active")->b, 1);
    assert_member_str(m, "note", "bad " FFFD " value");
    jc_free(&v);
}

static void test_event_finding_process_and_defaults(void **state)
{
    (void)state;
    const char *loc[] = {"pid:4242"};
    ab_event ev = {.kind = AB_EVENT_FINDING, .time = 1.5};
    ab_finding *f = &ev.u.finding;
    f->obj = (ab_object_info){.path = "pid:4242",
                              .location = loc,
                              .location_len = 1,
                              .pid = 4242,
                              .process_name = "sshd",
                              .cmdline = "sshd -D \xff"};
    f->matcher = AB_MATCHER_HASH;
    f->rule = "d41d8cd98f00b204e9800998ecf8427e";
    f->rule_namespace = "iocs/hashes.txt";
    f->score = 95; /* severity NULL: derived from the score */
    f->description = "known bad";
    f->reason = "md5 IOC";

    jc_val v = line_of(&ev);
    assert_member_str(&v, "matcher", "hash");
    assert_member_str(&v, "severity", "critical");
    assert_member_str(&v, "description", "known bad");
    assert_null(jc_get(&v, "family"));
    assert_int_equal(jc_get(&v, "tags")->n, 0);
    assert_int_equal(jc_get(&v, "meta")->n, 0);
    assert_member_num(&v, "pid", "4242");
    assert_member_str(&v, "process_name", "sshd");
    assert_b64_member(&v, "cmdline_b64", "sshd -D \xff");
    jc_free(&v);
}

static void test_severity_from_score(void **state)
{
    (void)state;
    static const struct {
        int score;
        const char *want;
    } cases[] = {{100, "critical"}, {90, "critical"}, {89, "high"}, {75, "high"}, {74, "medium"},
                 {50, "medium"},    {49, "low"},      {25, "low"},  {24, "info"}, {0, "info"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ab_event ev = {.kind = AB_EVENT_FINDING};
        ev.u.finding.matcher = AB_MATCHER_NAME;
        ev.u.finding.score = cases[i].score;
        jc_val v = line_of(&ev);
        assert_member_str(&v, "severity", cases[i].want);
        jc_free(&v);
    }
}

static void test_event_error(void **state)
{
    (void)state;
    ab_event ev = {.kind = AB_EVENT_ERROR, .time = 2.0};
    ev.u.error = (ab_error){.status = AB_ERR_CRASH, .message = "worker killed by SIGSEGV"};
    jc_val v = line_of(&ev);
    assert_member_str(&v, "event", "error");
    assert_int_equal(jc_get(&v, "path")->type, JC_NULL);
    assert_int_equal(jc_get(&v, "location")->n, 0);
    assert_member_str(&v, "status", "crash");
    assert_member_str(&v, "message", "worker killed by SIGSEGV");
    jc_free(&v);

    static const struct {
        ab_status st;
        const char *token;
    } tokens[] = {{AB_ERR_IO, "io"},         {AB_ERR_TIMEOUT, "timeout"}, {AB_ERR_PARSE, "parse"},
                  {AB_ERR_LIMIT, "limit"},   {AB_ERR_NOMEM, "no-memory"}, {AB_ERR_RULES, "rules"},
                  {(ab_status)77, "unknown"}};
    const char *loc[] = {"/x.tar", "a/b"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        ev.u.error = (ab_error){.path = "/x.tar",
                                .location = loc,
                                .location_len = 2,
                                .status = tokens[i].st,
                                .message = "m"};
        v = line_of(&ev);
        assert_member_str(&v, "status", tokens[i].token);
        assert_member_str(&v, "path", "/x.tar");
        assert_int_equal(jc_get(&v, "location")->n, 2);
        jc_free(&v);
    }
}

static void test_event_skip(void **state)
{
    (void)state;
    ab_event ev = {.kind = AB_EVENT_SKIP, .time = 3.0};
    ev.u.skip = (ab_skip){.path = "/dev/sda", .reason = AB_SKIP_SPECIAL, .size = 0};
    jc_val v = line_of(&ev);
    assert_int_equal(v.n, 5);
    assert_member_str(&v, "event", "skip");
    assert_member_str(&v, "path", "/dev/sda");
    assert_member_str(&v, "reason", "special-file");
    assert_member_num(&v, "size", "0");
    jc_free(&v);
}

static void test_event_object(void **state)
{
    (void)state;
    const char *loc[] = {"/bin/ls"};
    ab_event ev = {.kind = AB_EVENT_OBJECT, .time = 4.0};
    ev.u.object = (ab_object_info){.path = "/bin/ls",
                                   .location = loc,
                                   .location_len = 1,
                                   .size = 138208,
                                   .md5 = "aa",
                                   .sha1 = "bb",
                                   .sha256 = "cc"};
    jc_val v = line_of(&ev);
    assert_member_str(&v, "event", "object");
    assert_member_str(&v, "md5", "aa");
    assert_member_str(&v, "sha1", "bb");
    assert_member_str(&v, "sha256", "cc");
    assert_member_num(&v, "size", "138208");
    assert_null(jc_get(&v, "pid"));
    jc_free(&v);

    ev.u.object = (ab_object_info){.path = "pid:7", .location = loc, .location_len = 1, .pid = 7};
    v = line_of(&ev);
    assert_null(jc_get(&v, "md5"));
    assert_member_num(&v, "pid", "7");
    assert_int_equal(jc_get(&v, "process_name")->type, JC_NULL);
    jc_free(&v);

    /* an object carried in a flow */
    const char *cloc[] = {"/cap/a.pcap", "10.0.0.5:49152->198.51.100.7:80"};
    ab_flow_info fl = {.id = 17,
                       .start = 1589446920.0,
                       .proto = "tcp",
                       .src_ip = "10.0.0.5",
                       .src_port = 49152,
                       .dest_ip = "198.51.100.7",
                       .dest_port = 80,
                       .direction = "to_client",
                       .app_proto = "http"};
    ev.u.object =
        (ab_object_info){.path = "/cap/a.pcap", .location = cloc, .location_len = 2, .flow = &fl};
    v = line_of(&ev);
    const jc_val *f = jc_get(&v, "flow");
    assert_non_null(f);
    assert_member_num(f, "id", "17");
    assert_member_str(f, "src_ip", "10.0.0.5");
    assert_member_num(f, "src_port", "49152");
    assert_member_str(f, "dest_ip", "198.51.100.7");
    assert_member_num(f, "dest_port", "80");
    assert_member_str(f, "proto", "tcp");
    assert_member_str(f, "direction", "to_client");
    assert_member_str(f, "app_proto", "http");
    assert_member_str(f, "start", "2020-05-14T09:02:00.000Z");
    assert_null(jc_get(f, "time"));
    assert_null(jc_get(f, "vlan"));
    jc_free(&v);
}

static void test_event_summary(void **state)
{
    (void)state;
    ab_event ev = {.kind = AB_EVENT_SUMMARY, .time = 5.0};
    ab_summary *s = &ev.u.summary;
    s->objects = 12345;
    s->bytes = 987654321;
    s->skipped[AB_SKIP_TOO_LARGE] = 2;
    s->skipped[AB_SKIP_PSEUDO_FS] = 3;
    s->skipped_total = 5;
    s->errors = 1;
    s->findings = 4;
    s->seconds = 12.2500004; /* printed to the microsecond */
    jc_val v = line_of(&ev);
    assert_member_str(&v, "event", "summary");
    assert_member_num(&v, "objects", "12345");
    assert_member_num(&v, "bytes", "987654321");
    const jc_val *sk = jc_get(&v, "skipped");
    assert_int_equal(sk->n, 2); /* only non-zero reasons */
    assert_member_num(sk, "too-large", "2");
    assert_member_num(sk, "pseudo-fs", "3");
    assert_member_num(&v, "skipped_total", "5");
    assert_member_num(&v, "errors", "1");
    assert_member_num(&v, "findings", "4");
    assert_member_num(&v, "seconds", "12.25");
    jc_free(&v);
}

/* Events appended to one buffer form a valid JSON Lines stream. */
static void test_lines_append(void **state)
{
    (void)state;
    ab_buf b;
    ab_buf_init(&b, 0);
    for (int k = AB_EVENT_FINDING; k <= AB_EVENT_SUMMARY; k++) {
        ab_event ev = {.kind = (ab_event_kind)k, .time = 1795614312.0 + k};
        assert_int_equal(ab_jsonl_event(&b, &ev), AB_OK);
    }
    size_t lines = 0;
    for (char *p = b.data, *nl; (nl = strchr(p, '\n')); p = nl + 1, lines++) {
        jc_val v;
        assert_true(jc_parse_line(p, (size_t)(nl - p) + 1, &v));
        jc_free(&v);
    }
    assert_int_equal(lines, 5);
    ab_buf_release(&b);
}

/* The checker itself must reject what the writer must never produce, or the tests above prove
 * nothing. */
static void test_checker_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\"a\nb\"",          /* raw newline */
        "\"\x7f\"",          /* raw DEL */
        "\"\xff\"",          /* invalid UTF-8 */
        "\"\xed\xa0\x80\"",  /* encoded surrogate */
        "\"\\ud800\"",       /* lone surrogate escape */
        "\"\\x41\"",         /* unknown escape */
        "[1,]",              /* trailing comma */
        "{\"a\":1,\"a\":2}", /* duplicate name */
        "01",                /* leading zero */
        "1.",                /* no fraction digits */
        "{\"a\" 1}",         /* missing colon */
        "[1] [2]",           /* two texts */
        "nul",               /* truncated literal */
        "",                  /* nothing */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jc_val v;
        if (jc_parse(bad[i], strlen(bad[i]), &v))
            fail_msg("checker accepted %s", bad[i]);
    }
    jc_val v;
    assert_false(jc_parse_line("{}\n{}\n", 6, &v));
    assert_false(jc_parse_line("[]\n", 3, &v));
    assert_false(jc_parse_line("{}", 2, &v));
    const char *good = "{\"a\":[1,-2.5e3,true,null,\"\\ud83d\\ude00\"]}\n";
    assert_true(jc_parse_line(good, strlen(good), &v));
    assert_string_equal(jc_get(&v, "a")->kids[4].str, "\xf0\x9f\x98\x80");
    jc_free(&v);
    size_t n;
    assert_null(jc_b64_decode("ab=c", 4, &n));
    assert_null(jc_b64_decode("//5=", 4, &n)); /* padding bits set */
}

/* The check of worker-made JSON: exactly one object, bounded depth, valid strings. */
static void test_json_check_object(void **state)
{
    (void)state;
    const char *good[] = {"{}", " {\"a\":1} ", "{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\"]}",
                          "{\"a\":{\"b\":{}}}", "{\"s\":\"caf\xc3\xa9\"}"};
    const char *bad[] = {"",
                         "[]",
                         "{",
                         "{}{}",
                         "{\"a\"}",
                         "{\"a\":01}",
                         "{\"a\":1,}",
                         "{\"a\":\"\x01\"}",
                         "{\"a\":\"\xc3\"}",
                         "{\"a\":\"\xed\xa0\x80\"}",
                         "{\"a\":\"\\x\"}",
                         "{\"a\":tru}",
                         "{a:1}",
                         "{\"a\":1} x"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(ab_json_check_object(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ab_json_check_object(bad[i], strlen(bad[i])))
            fail_msg("accepted: %s", bad[i]);
    /* nesting: 16 levels are fine, 17 are not */
    char deep[64] = "", deeper[64] = "";
    for (int i = 0; i < 16; i++)
        strcat(deep, i ? "[" : "{\"a\":");
    for (int i = 1; i < 16; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    assert_true(ab_json_check_object(deep, strlen(deep)));
    for (int i = 0; i < 17; i++)
        strcat(deeper, i ? "[" : "{\"a\":");
    for (int i = 1; i < 17; i++)
        strcat(deeper, "]");
    strcat(deeper, "}");
    assert_false(ab_json_check_object(deeper, strlen(deeper)));
}

/* A flow record: its flow, and its own object under its type's key. */
static void test_event_flow(void **state)
{
    (void)state;
    const char *loc[] = {"/cap/a.pcap"};
    ab_flow_info fl = {.id = 2,
                       .start = 1589446920.0,
                       .proto = "tcp",
                       .src_ip = "10.0.0.5",
                       .src_port = 49152,
                       .dest_ip = "198.51.100.7",
                       .dest_port = 80,
                       .app_proto = "http"};
    const char *rec = "{\"method\":\"GET\",\"uri\":\"/update.zip\",\"status\":200}";
    ab_event ev = {.kind = AB_EVENT_FLOW, .time = 4.0};
    ev.u.flow = (ab_flow_record){.path = "/cap/a.pcap",
                                 .location = loc,
                                 .location_len = 1,
                                 .flow = &fl,
                                 .type = "http",
                                 .json = rec,
                                 .json_len = strlen(rec)};
    jc_val v = line_of(&ev);
    assert_member_str(&v, "event", "flow");
    assert_member_str(&v, "type", "http");
    assert_member_str(jc_get(&v, "flow"), "dest_ip", "198.51.100.7");
    const jc_val *h = jc_get(&v, "http");
    assert_non_null(h);
    assert_member_str(h, "uri", "/update.zip");
    assert_member_num(h, "status", "200");
    jc_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_specials),
        cmocka_unit_test(test_escape_control_chars),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_invalid_utf8_replaced),
        cmocka_unit_test(test_valid_utf8_kept),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_b64_only_when_needed),
        cmocka_unit_test(test_b64_round_trip),
        cmocka_unit_test(test_b64_array),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_sticky_error),
        cmocka_unit_test(test_event_too_big_leaves_buffer_unchanged),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_misuse_detected),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_event_finding),
        cmocka_unit_test(test_event_finding_process_and_defaults),
        cmocka_unit_test(test_severity_from_score),
        cmocka_unit_test(test_event_error),
        cmocka_unit_test(test_event_skip),
        cmocka_unit_test(test_event_object),
        cmocka_unit_test(test_json_check_object),
        cmocka_unit_test(test_event_flow),
        cmocka_unit_test(test_event_summary),
        cmocka_unit_test(test_lines_append),
        cmocka_unit_test(test_checker_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
