/* test_verdict.c: per-object verdicts: THOR's score combination, levels, findings held and
 * delivered with the verdict, the minimum score, the bound on held findings, matched strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/verdict.h"

static void test_combined_score(void **state)
{
    (void)state;
    int one[] = {75};
    assert_int_equal(ab_combined_score(one, 1), 75);
    int two[] = {50, 70}; /* sorted high to low: 70 + half of 50's share */
    assert_int_equal(ab_combined_score(two, 2), 78);
    assert_int_equal(two[0], 70);
    int none[1];
    assert_int_equal(ab_combined_score(none, 0), 0);
    int many[40];
    for (int i = 0; i < 40; i++)
        many[i] = 100;
    assert_int_equal(ab_combined_score(many, 40), 100); /* saturates, never overflows */
    int weak[] = {30, 30, 30, 30};
    assert_int_equal(ab_combined_score(weak, 4), 47); /* 1-(.7)(.85)(.925)(.9625) */
    int wild[] = {-5, 250};
    assert_int_equal(ab_combined_score(wild, 2), 100);
}

static void test_levels(void **state)
{
    (void)state;
    const unsigned thor[3] = {80, 60, 40};
    assert_string_equal(ab_level_for(80, thor), "alert");
    assert_string_equal(ab_level_for(79, thor), "warning");
    assert_string_equal(ab_level_for(60, thor), "warning");
    assert_string_equal(ab_level_for(40, thor), "notice");
    assert_string_equal(ab_level_for(39, thor), "info");
    const unsigned strict[3] = {100, 100, 100};
    assert_string_equal(ab_level_for(99, strict), "info");
}

/* A fake downstream: records what arrives. */
typedef struct sink_rec {
    int findings, errors, scores[8];
    const char *levels[8];
    uint64_t suppressed;
    ab_status last_error;
    char data0[16];
} sink_rec;

static int rec_finding(void *ctx, const ab_finding *f)
{
    sink_rec *r = ctx;
    if (r->findings < 8) {
        r->scores[r->findings] = f->object_score;
        r->levels[r->findings] = f->level;
    }
    if (r->findings == 0 && f->strings_len)
        memcpy(r->data0, f->strings[0].data, f->strings[0].data_len);
    r->findings++;
    return 0;
}

static int rec_error(void *ctx, const ab_error *e)
{
    sink_rec *r = ctx;
    r->errors++;
    r->last_error = e->status;
    return 0;
}

static void rec_suppressed(void *ctx, uint64_t n)
{
    ((sink_rec *)ctx)->suppressed += n;
}

static void one_finding(const ab_emit *em, int score, const char *tag)
{
    const char *tags[1] = {tag};
    char reason[32], data[8];
    ab_meta meta[1] = {{.key = "score", .is_int = 1, .ival = score}};
    snprintf(reason, sizeof(reason), "score %d", score);
    snprintf(data, sizeof(data), "DATA%d", score % 10);
    char region[48];
    snprintf(region, sizeof(region), "0x1000-0x2000 r-xp /lib/x.so");
    ab_string_match sm[1] = {{"$a", 12, 5, 5, (const uint8_t *)data, region}};
    ab_finding f;
    memset(&f, 0, sizeof(f));
    f.rule = "r";
    f.score = score;
    f.tags = tags;
    f.tags_len = 1;
    f.meta = meta;
    f.meta_len = 1;
    f.reason = reason;
    f.strings = sm;
    f.strings_len = 1;
    em->finding(em->ctx, &f);
    /* The matcher's stack is gone after the call: scribble over it. */
    memset(reason, 'X', sizeof(reason) - 1);
    memset(data, 'Y', sizeof(data));
    memset(region, 'Z', sizeof(region) - 1);
}

static void test_held_until_the_end(void **state)
{
    (void)state;
    const unsigned thor[3] = {80, 60, 40};
    const char *loc[1] = {"/x"};
    ab_object obj = {.path = "/x", .location = loc, .location_len = 1};
    sink_rec r;
    memset(&r, 0, sizeof(r));
    ab_emit down = {rec_finding, rec_error, &r, rec_suppressed, NULL, NULL};
    ab_verdict v;
    const ab_emit *em = ab_verdict_begin(&v, &obj, &down, 0, thor);
    one_finding(em, 70, "t1");
    one_finding(em, 50, "t2");
    assert_int_equal(r.findings, 0); /* nothing before the object is done */
    ab_verdict_end(&v);
    assert_int_equal(r.findings, 2);
    assert_int_equal(r.scores[0], 78);
    assert_int_equal(r.scores[1], 78);
    assert_string_equal(r.levels[0], "warning");
    assert_string_equal(r.data0, "DATA0"); /* copied, not pointing at the dead stack */

    /* Under the minimum score: none delivered, all counted. */
    memset(&r, 0, sizeof(r));
    em = ab_verdict_begin(&v, &obj, &down, 80, thor);
    one_finding(em, 70, "t1");
    one_finding(em, 50, "t2");
    ab_verdict_end(&v);
    assert_int_equal(r.findings, 0);
    assert_int_equal(r.suppressed, 2);
}

static void test_bounded(void **state)
{
    (void)state;
    const unsigned thor[3] = {80, 60, 40};
    const char *loc[1] = {"/x"};
    ab_object obj = {.path = "/x", .location = loc, .location_len = 1};
    sink_rec r;
    memset(&r, 0, sizeof(r));
    ab_emit down = {rec_finding, rec_error, &r, rec_suppressed, NULL, NULL};
    ab_verdict v;
    const ab_emit *em = ab_verdict_begin(&v, &obj, &down, 0, thor);
    int stopped = 0;
    for (int i = 0; i < AB_MAX_OBJECT_FINDINGS + 10; i++) {
        ab_finding f;
        memset(&f, 0, sizeof(f));
        f.rule = "r";
        f.score = 10;
        if (em->finding(em->ctx, &f))
            stopped++;
    }
    assert_int_equal(stopped, 10); /* the matchers are told to stop */
    assert_int_equal(r.errors, 1); /* said once */
    assert_int_equal(r.last_error, AB_ERR_LIMIT);
    ab_verdict_end(&v);
    assert_int_equal(r.findings, AB_MAX_OBJECT_FINDINGS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_combined_score),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_held_until_the_end),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
