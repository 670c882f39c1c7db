/* fuzz_json.c: builds events from fuzz bytes (hostile path, location, rule, meta, tags...), writes
 * them with ab_jsonl_event and checks the line with an independent strict parser: valid JSON, one
 * line, and every byte string round-trips exactly (verbatim when UTF-8, else through <key>_b64). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json.h"
#include "../unit/json_check.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_json: check failed at line %d: %s\n", __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_STRS 64 /* strings taken from one input; bounds the pool below */
#define MAX_LIST 8  /* location, tags and meta entries per event */

/* Reads the input front to back; running out yields zeros and empty strings, never a failure,
 * so every input is an event. Owns the strings it hands out. */
typedef struct cursor {
    const uint8_t *p;
    size_t n;
    char *pool[MAX_STRS];
    size_t npool;
} cursor;

static uint8_t take_u8(cursor *c)
{
    if (c->n == 0)
        return 0;
    c->n--;
    return *c->p++;
}

static uint64_t take_u64(cursor *c)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take_u8(c);
    return v;
}

static double take_double(cursor *c)
{
    uint64_t bits = take_u64(c);
    double d;
    memcpy(&d, &bits, sizeof d); /* any bit pattern: NaN, infinities, negatives, huge */
    return d;
}

/* Bytes up to the next NUL (strings are C strings, so NUL is the only byte they cannot hold). */
static const char *take_str(cursor *c)
{
    const uint8_t *nul = memchr(c->p, 0, c->n);
    size_t len = nul ? (size_t)(nul - c->p) : c->n;
    if (c->npool == MAX_STRS)
        return "";
    char *s = malloc(len + 1);
    CHECK(s);
    memcpy(s, c->p, len);
    s[len] = '\0';
    c->pool[c->npool++] = s;
    c->p += len + (nul ? 1 : 0);
    c->n -= len + (nul ? 1 : 0);
    return s;
}

/* A string or, when the selector bit says so, NULL. */
static const char *take_opt_str(cursor *c, uint8_t sel, int bit)
{
    const char *s = take_str(c);
    return (sel >> bit) & 1 ? NULL : s;
}

static void cursor_free(cursor *c)
{
    for (size_t i = 0; i < c->npool; i++)
        free(c->pool[i]);
}

/* ---- round-trip checks ---------------------------------------------------------------------- */

/* A lossy string from the writer: always valid UTF-8, and exactly the input when that was. */
static void check_text(const jc_val *v, const char *orig)
{
    CHECK(v && v->type == JC_STR);
    CHECK(jc_utf8_valid(v->str, v->len));
    if (ab_utf8_valid(orig, strlen(orig))) {
        CHECK(v->len == strlen(orig) && memcmp(v->str, orig, v->len) == 0);
    }
}

static void check_b64(const jc_val *v, const char *orig)
{
    size_t n = 0;
    CHECK(v && v->type == JC_STR);
    unsigned char *dec = jc_b64_decode(v->str, v->len, &n);
    CHECK(dec);
    CHECK(n == strlen(orig) && memcmp(dec, orig, n) == 0);
    free(dec);
}

/* key (and key_b64 exactly when orig is not UTF-8) carry orig. */
static void check_bytes_member(const jc_val *obj, const char *key, const char *orig)
{
    char b64key[64];
    snprintf(b64key, sizeof b64key, "%s_b64", key);
    const jc_val *v = jc_get(obj, key), *raw = jc_get(obj, b64key);
    CHECK(v);
    if (!orig) {
        CHECK(v->type == JC_NULL && !raw);
        return;
    }
    check_text(v, orig);
    if (ab_utf8_valid(orig, strlen(orig))) {
        CHECK(!raw);
    } else {
        CHECK(raw);
        check_b64(raw, orig);
    }
}

/* "location": one {"name", "name_b64" when not UTF-8} object per element. */
static void check_location(const jc_val *obj, const char *const *a, size_t n)
{
    const jc_val *v = jc_get(obj, "location");
    CHECK(v && v->type == JC_ARR && v->n == n);
    CHECK(!jc_get(obj, "location_b64"));
    for (size_t i = 0; i < n; i++) {
        CHECK(v->kids[i].type == JC_OBJ);
        check_bytes_member(&v->kids[i], "name", a[i]);
    }
}

/* ---- building events ------------------------------------------------------------------------ */

/* Storage for one event's lists. */
typedef struct lists {
    const char *loc[MAX_LIST];
    const char *tags[MAX_LIST];
    ab_meta meta[MAX_LIST];
} lists;

static void take_object(cursor *c, ab_object_info *o, lists *l, uint8_t sel)
{
    o->path = take_opt_str(c, sel, 0);
    o->location_len = take_u8(c) % MAX_LIST;
    for (size_t i = 0; i < o->location_len; i++)
        l->loc[i] = take_str(c);
    o->location = l->loc;
    o->size = take_u64(c);
    o->md5 = take_opt_str(c, sel, 1);
    o->sha1 = take_opt_str(c, sel, 2);
    o->sha256 = take_opt_str(c, sel, 3);
    o->pid = (pid_t)(int32_t)take_u64(c);
    o->process_name = take_opt_str(c, sel, 4);
    o->cmdline = take_opt_str(c, sel, 5);
}

static void take_finding(cursor *c, ab_finding *f, lists *l, uint8_t sel)
{
    take_object(c, &f->obj, l, sel);
    f->matcher = (ab_matcher_kind)(take_u8(c) % 5);
    f->rule = take_opt_str(c, sel, 6);
    f->rule_namespace = take_str(c);
    f->tags_len = take_u8(c) % MAX_LIST;
    for (size_t i = 0; i < f->tags_len; i++)
        l->tags[i] = take_str(c);
    f->tags = l->tags;
    f->meta_len = take_u8(c) % MAX_LIST;
    for (size_t i = 0; i < f->meta_len; i++) {
        uint8_t t = take_u8(c);
        l->meta[i] = (ab_meta){.key = take_str(c),
                               .str = take_str(c),
                               .is_int = t & 1,
                               .is_bool = (t >> 1) & 1,
                               .ival = (int64_t)take_u64(c)};
    }
    f->meta = l->meta;
    f->description = take_opt_str(c, sel, 7);
    f->family = take_str(c);
    f->score = (int)(int32_t)take_u64(c);
    f->severity = take_u8(c) & 1 ? NULL : take_str(c);
    f->reason = take_str(c);
}

static void take_event(cursor *c, ab_event *ev, lists *l)
{
    uint8_t kind = take_u8(c), sel = take_u8(c);
    ev->kind = (ab_event_kind)(AB_EVENT_FINDING + kind % 5);
    ev->time = take_double(c);
    switch (ev->kind) {
    case AB_EVENT_FINDING:
        take_finding(c, &ev->u.finding, l, sel);
        break;
    case AB_EVENT_OBJECT:
        take_object(c, &ev->u.object, l, sel);
        break;
    case AB_EVENT_ERROR:
    case AB_EVENT_WARNING: /* not generated (kind % 5), but the switch must cover it */
        ev->u.error.path = take_opt_str(c, sel, 0);
        ev->u.error.location_len = take_u8(c) % MAX_LIST;
        for (size_t i = 0; i < ev->u.error.location_len; i++)
            l->loc[i] = take_str(c);
        ev->u.error.location = l->loc;
        ev->u.error.status = (ab_status)(take_u8(c) % 16);
        ev->u.error.message = take_opt_str(c, sel, 1);
        break;
    case AB_EVENT_SKIP:
        ev->u.skip.path = take_opt_str(c, sel, 0);
        ev->u.skip.reason = (ab_skip_reason)(take_u8(c) % (AB_SKIP_REASON_COUNT + 2));
        ev->u.skip.size = take_u64(c);
        break;
    case AB_EVENT_SUMMARY:
        ev->u.summary.objects = take_u64(c);
        ev->u.summary.bytes = take_u64(c);
        for (int r = 0; r < AB_SKIP_REASON_COUNT; r++)
            ev->u.summary.skipped[r] = take_u8(c) & 1 ? take_u64(c) : 0;
        ev->u.summary.seconds = take_double(c);
        break;
    case AB_EVENT_LOAD: /* not generated (kind % 5): written from the scanner, not from input */
    case AB_EVENT_FLOW: /* not generated: its JSON is checked by core/jsoncheck.c (test_json) */
        break;
    }
}

/* ---- checking one line ---------------------------------------------------------------------- */

static void check_object_fields(const jc_val *v, const ab_object_info *o)
{
    check_bytes_member(v, "path", o->path);
    check_location(v, o->location, o->location_len);
    CHECK(!o->md5 == !jc_get(v, "md5"));
    CHECK(!o->sha256 == !jc_get(v, "sha256"));
    CHECK((o->pid > 0) == !!jc_get(v, "pid"));
    if (o->pid > 0) {
        check_bytes_member(v, "process_name", o->process_name);
        check_bytes_member(v, "cmdline", o->cmdline);
    }
}

static void check_line(const ab_event *ev, const char *line, size_t len)
{
    static const char *const names[] = {"finding", "error", "skip", "object", "summary"};
    jc_val v;
    CHECK(jc_parse_line(line, len, &v));
    CHECK(v.n > 0 && strcmp(v.kids[0].key, "event") == 0);
    CHECK(strcmp(jc_get_str(&v, "event"), names[ev->kind - AB_EVENT_FINDING]) == 0);
    const char *t = jc_get_str(&v, "time");
    CHECK(t && strlen(t) == 24 && t[10] == 'T' && t[23] == 'Z');
    switch (ev->kind) {
    case AB_EVENT_FINDING: {
        const ab_finding *f = &ev->u.finding;
        check_object_fields(&v, &f->obj);
        check_bytes_member(&v, "rule", f->rule);
        check_bytes_member(&v, "namespace", f->rule_namespace);
        check_bytes_member(&v, "reason", f->reason);
        CHECK(jc_get(&v, "tags")->n == f->tags_len);
        CHECK(jc_get(&v, "meta")->n <= f->meta_len);
        CHECK(!f->description == !jc_get(&v, "description"));
        if (f->description)
            check_bytes_member(&v, "description", f->description);
        break;
    }
    case AB_EVENT_OBJECT:
        check_object_fields(&v, &ev->u.object);
        break;
    case AB_EVENT_ERROR:
    case AB_EVENT_WARNING: /* not generated (kind % 5), but the switch must cover it */
        check_bytes_member(&v, "path", ev->u.error.path);
        check_location(&v, ev->u.error.location, ev->u.error.location_len);
        check_bytes_member(&v, "message", ev->u.error.message);
        break;
    case AB_EVENT_SKIP:
        check_bytes_member(&v, "path", ev->u.skip.path);
        break;
    case AB_EVENT_SUMMARY:
        CHECK(jc_get(&v, "skipped")->type == JC_OBJ);
        break;
    case AB_EVENT_LOAD:
    case AB_EVENT_FLOW:
        break;
    }
    jc_free(&v);
}

/* The writer's UTF-8 check against the checker's arithmetic one, and the lossy text of the raw
 * input (NULs included) against the input. */
static void check_raw_string(const uint8_t *data, size_t size)
{
    int valid = ab_utf8_valid((const char *)data, size);
    CHECK(valid == jc_utf8_valid((const char *)data, size));

    ab_buf b;
    ab_json j;
    jc_val v;
    ab_buf_init(&b, 0);
    ab_json_init(&j, &b);
    CHECK(ab_json_str(&j, (const char *)data, size) == valid);
    CHECK(j.st == AB_OK);
    CHECK(jc_parse(b.data, b.len, &v) && v.type == JC_STR);
    CHECK(!valid || (v.len == size && memcmp(v.str, data, size) == 0));
    jc_free(&v);
    ab_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cursor c = {.p = data, .n = size};
    ab_event ev;
    lists l;
    memset(&ev, 0, sizeof ev);
    memset(&l, 0, sizeof l);
    uint8_t cap_sel = take_u8(&c);
    take_event(&c, &ev, &l);

    ab_buf b;
    ab_buf_init(&b, 0);
    CHECK(ab_jsonl_event(&b, &ev) == AB_OK);
    check_line(&ev, b.data, b.len);

    /* A small cap: either the whole line fits, or nothing at all is added. */
    ab_buf small;
    ab_buf_init(&small, (size_t)cap_sel * 8 + 1);
    CHECK(ab_buf_adds(&small, "x") == AB_OK);
    ab_status st = ab_jsonl_event(&small, &ev);
    CHECK(st == AB_OK || st == AB_ERR_LIMIT);
    CHECK(st != AB_OK || (small.len == b.len + 1 && memcmp(small.data + 1, b.data, b.len) == 0));
    CHECK(st == AB_OK || (small.len == 1 && strcmp(small.data, "x") == 0));
    ab_buf_release(&small);

    ab_buf_release(&b);
    cursor_free(&c);
    check_raw_string(data, size);
    return 0;
}
