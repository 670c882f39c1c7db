/* test_wire.c: parent/worker message encoding round-trips, and the decoder's bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/object.h"
#include "core/wire.h"

static void sample_finding(ab_finding *f, const char **loc, const char **tags, ab_meta *meta)
{
    memset(f, 0, sizeof(*f));
    loc[0] = "/tmp/a\nb";
    loc[1] = "member.exe";
    tags[0] = "APT29";
    tags[1] = "WellMess";
    meta[0] = (ab_meta){.key = "score", .is_int = 1, .ival = 85};
    meta[1] = (ab_meta){.key = "description", .str = "desc"};
    meta[2] = (ab_meta){.key = "memory", .is_bool = 1, .ival = 0};
    f->obj.path = "/tmp/a\nb";
    f->obj.location = loc;
    f->obj.location_len = 2;
    f->obj.size = 12345;
    f->obj.md5 = "d41d8cd98f00b204e9800998ecf8427e";
    f->obj.sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    f->obj.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    f->matcher = AB_MATCHER_YARA;
    f->rule = "APT29_Test";
    f->rule_namespace = "apt29-2020";
    f->tags = tags;
    f->tags_len = 2;
    f->meta = meta;
    f->meta_len = 3;
    f->description = "desc";
    f->score = 85;
    f->reason = "4 of 4 strings matched";
}

static void test_finding_roundtrip(void **state)
{
    (void)state;
    const char *loc[2], *tags[2];
    ab_meta meta[3];
    ab_finding f, g;
    ab_wire_arrays arr;
    ab_buf b;
    ab_buf_init(&b, 0);
    sample_finding(&f, loc, tags, meta);
    ab_wire_begin(&b, AB_MSG_FINDING);
    ab_wire_put_finding(&b, &f);
    assert_int_equal(ab_wire_finish(&b), AB_OK);
    uint32_t len;
    memcpy(&len, b.data, 4);
    assert_int_equal(len, b.len - 5);
    assert_int_equal((uint8_t)b.data[4], AB_MSG_FINDING);
    ab_wire_reader r = {(const uint8_t *)b.data + 5, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_finding(&r, &g, &arr);
    assert_false(r.bad);
    assert_string_equal(g.obj.path, "/tmp/a\nb");
    assert_int_equal(g.obj.location_len, 2);
    assert_string_equal(g.obj.location[1], "member.exe");
    assert_int_equal(g.obj.size, 12345);
    assert_string_equal(g.obj.md5, f.obj.md5);
    assert_string_equal(g.obj.sha1, f.obj.sha1);
    ab_buf b2;
    ab_buf_init(&b2, 0);

    /* A worker (compromised) that sends one digest without the others, or digests that are not
     * lower-case hex, sends a bad frame: the console would print NULL or raw bytes. */
    const char *bad[][3] = {{f.obj.md5, NULL, NULL},
                            {f.obj.md5, f.obj.sha1, "\033[2Jnot-hex"},
                            {"D41D8CD98F00B204E9800998ECF8427E", f.obj.sha1, f.obj.sha256}};
    for (size_t k = 0; k < 3; k++) {
        ab_finding h = f;
        h.obj.md5 = bad[k][0];
        h.obj.sha1 = bad[k][1];
        h.obj.sha256 = bad[k][2];
        ab_wire_begin(&b2, AB_MSG_FINDING);
        ab_wire_put_finding(&b2, &h);
        ab_wire_reader rb = {(const uint8_t *)b2.data + 5, (const uint8_t *)b2.data + b2.len, 0};
        ab_finding g2;
        ab_wire_arrays arr2;
        ab_wire_get_finding(&rb, &g2, &arr2);
        assert_true(rb.bad);
    }
    ab_buf_release(&b2);
    assert_string_equal(g.rule, "APT29_Test");
    assert_string_equal(g.rule_namespace, "apt29-2020");
    assert_int_equal(g.tags_len, 2);
    assert_string_equal(g.tags[1], "WellMess");
    assert_int_equal(g.meta_len, 3);
    assert_true(g.meta[0].is_int);
    assert_int_equal(g.meta[0].ival, 85);
    assert_string_equal(g.meta[1].str, "desc");
    assert_true(g.meta[2].is_bool);
    assert_null(g.family);
    assert_int_equal(g.score, 85);
    assert_string_equal(g.severity, "high");
    ab_buf_release(&b);
}

/* The object's verdict and the matched strings (any bytes, NUL included) survive the wire; a
 * frame claiming more strings than the bound is refused. */
static void test_strings_roundtrip(void **state)
{
    (void)state;
    const char *loc[2], *tags[2];
    ab_meta meta[3];
    ab_finding f, g;
    ab_wire_arrays arr;
    ab_buf b;
    ab_buf_init(&b, 0);
    sample_finding(&f, loc, tags, meta);
    static const uint8_t bin[] = {'M', 'Z', 0, 0x90, 0xff};
    uint8_t big[AB_MATCH_DATA_MAX];
    memset(big, 'b', sizeof(big));
    ab_string_match sm[2] = {
        {"$mz", 0, 5, 5, bin, NULL},
        {"$b", 0x7f0000001000ULL, 300, 64, big, "0x7f0000000000-0x7f0000002000 r-xp /x"}};
    f.strings = sm;
    f.strings_len = 2;
    f.strings_omitted = 7;
    f.object_score = 93;
    f.level = "alert";
    ab_wire_begin(&b, AB_MSG_FINDING);
    ab_wire_put_finding(&b, &f);
    assert_int_equal(ab_wire_finish(&b), AB_OK);
    ab_wire_reader r = {(const uint8_t *)b.data + 5, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_finding(&r, &g, &arr);
    assert_false(r.bad);
    assert_int_equal(g.object_score, 93);
    assert_string_equal(g.level, "alert");
    assert_int_equal(g.strings_len, 2);
    assert_string_equal(g.strings[0].identifier, "$mz");
    assert_int_equal(g.strings[0].data_len, 5);
    assert_memory_equal(g.strings[0].data, bin, 5);
    assert_int_equal(g.strings[1].offset, 0x7f0000001000ULL);
    assert_int_equal(g.strings[1].length, 300);
    assert_int_equal(g.strings_omitted, 7);
    assert_null(g.strings[0].region);
    assert_string_equal(g.strings[1].region, "0x7f0000000000-0x7f0000002000 r-xp /x");

    /* Too many strings in the frame: bad, never an overflow of the arrays. */
    f.strings_len = 1;
    ab_wire_begin(&b, AB_MSG_FINDING);
    ab_wire_put_finding(&b, &f);
    size_t at = b.len - 8 /* omitted */ - 4 /* region NULL */ - (4 + 5) /* data */ -
                4 /* length */ - 8 /* offset */ - (4 + 4) /* "$mz" */ - 4 /* count */;
    uint32_t many = AB_MAX_STRING_MATCHES + 1;
    memcpy(b.data + at, &many, 4);
    ab_wire_reader r2 = {(const uint8_t *)b.data + 5, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_finding(&r2, &g, &arr);
    assert_true(r2.bad);
    ab_buf_release(&b);
}

/* Every truncation of a valid frame must be rejected, never read past the end. */
static void test_truncated(void **state)
{
    (void)state;
    const char *loc[2], *tags[2];
    ab_meta meta[3];
    ab_finding f, g;
    ab_wire_arrays arr;
    ab_buf b;
    ab_buf_init(&b, 0);
    sample_finding(&f, loc, tags, meta);
    ab_wire_begin(&b, AB_MSG_FINDING);
    ab_wire_put_finding(&b, &f);
    size_t full = b.len - 5;
    for (size_t n = 0; n < full; n++) {
        ab_wire_reader r = {(const uint8_t *)b.data + 5, (const uint8_t *)b.data + 5 + n, 0};
        ab_wire_get_finding(&r, &g, &arr);
        assert_true(r.bad);
    }
    ab_buf_release(&b);
}

static void test_bad_counts_and_strings(void **state)
{
    (void)state;
    ab_buf b;
    ab_buf_init(&b, 0);
    ab_wire_arrays arr;
    ab_object_info o;
    /* location count beyond AB_WIRE_MAX_ARRAY */
    ab_wire_str(&b, "/p");
    ab_wire_u32(&b, AB_WIRE_MAX_ARRAY + 1);
    ab_wire_reader r = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_object(&r, &o, &arr);
    assert_true(r.bad);
    /* a string whose last byte is not NUL */
    ab_buf_reset(&b);
    ab_wire_u32(&b, 3);
    ab_buf_add(&b, "abc", 3);
    ab_wire_reader r2 = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    assert_null(ab_wire_get_str(&r2));
    assert_true(r2.bad);
    /* a huge string length */
    ab_buf_reset(&b);
    ab_wire_u32(&b, 0xffffffffu);
    ab_wire_reader r3 = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    assert_null(ab_wire_get_str(&r3));
    assert_true(r3.bad);
    /* an object with no location is malformed */
    ab_buf_reset(&b);
    ab_object_info empty = {.path = "/x"};
    ab_wire_put_object(&b, &empty);
    ab_wire_reader r4 = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_object(&r4, &o, &arr);
    assert_true(r4.bad);
    ab_buf_release(&b);
}

static void test_score_clamped(void **state)
{
    (void)state;
    const char *loc[2], *tags[2];
    ab_meta meta[3];
    ab_finding f, g;
    ab_wire_arrays arr;
    ab_buf b;
    ab_buf_init(&b, 0);
    sample_finding(&f, loc, tags, meta);
    f.score = 1000;
    ab_wire_begin(&b, AB_MSG_FINDING);
    ab_wire_put_finding(&b, &f);
    ab_wire_reader r = {(const uint8_t *)b.data + 5, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_finding(&r, &g, &arr);
    assert_false(r.bad);
    assert_int_equal(g.score, 100);
    assert_string_equal(g.severity, "critical");
    ab_buf_release(&b);
}

/* Member objects: location names with their sources, member metadata and observables travel;
 * a source that is not a short token, or a location without names, is a bad frame. */
static void test_member_object(void **state)
{
    (void)state;
    const char *loc[3] = {"/srv/a.zip", "docs/x.docm", "word/vbaProject.bin"};
    const char *src[3] = {"file", "zip", "zip"};
    const char *ot[1] = {"url"}, *ov[1] = {"http://example.org/x"};
    ab_object_info o = {.path = "/srv/a.zip",
                        .location = loc,
                        .location_source = src,
                        .location_len = 3,
                        .size = 9,
                        .member_mtime = 1600000000.5,
                        .member_mode = 0100644,
                        .observable_type = ot,
                        .observable_value = ov,
                        .observables_len = 1};
    ab_object_info g;
    ab_wire_arrays arr;
    ab_buf b;
    ab_buf_init(&b, 0);
    ab_wire_put_object(&b, &o);
    ab_wire_reader r = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_object(&r, &g, &arr);
    assert_false(r.bad);
    assert_int_equal(g.location_len, 3);
    assert_string_equal(g.location[2], "word/vbaProject.bin");
    assert_string_equal(g.location_source[1], "zip");
    assert_true(g.member_mtime > 1600000000.4 && g.member_mtime < 1600000000.6);
    assert_int_equal(g.member_mode, 0100644);
    assert_int_equal(g.observables_len, 1);
    assert_string_equal(g.observable_value[0], "http://example.org/x");
    assert_null(g.flow);
    /* a flow, and flows a decoder must refuse */
    ab_flow_info fl = {.id = 3,
                       .start = 1.5,
                       .time = 2.5,
                       .proto = "tcp",
                       .src_ip = "2001:db8::5",
                       .src_port = 443,
                       .dest_ip = "10.0.0.1",
                       .dest_port = 25,
                       .direction = "to_server",
                       .app_proto = "smtp+tls",
                       .vlan = 12};
    o.flow = &fl;
    ab_buf_reset(&b);
    ab_wire_put_object(&b, &o);
    r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_object(&r, &g, &arr);
    assert_false(r.bad);
    assert_non_null(g.flow);
    assert_int_equal(g.flow->id, 3);
    assert_string_equal(g.flow->src_ip, "2001:db8::5");
    assert_int_equal(g.flow->dest_port, 25);
    assert_string_equal(g.flow->direction, "to_server");
    assert_string_equal(g.flow->app_proto, "smtp+tls");
    assert_int_equal(g.flow->vlan, 12);
    assert_true(g.flow->time > 2.4 && g.flow->time < 2.6);
    const ab_flow_info bad[] = {
        {.proto = "tcp", .src_ip = "10.0.0.1\n", .dest_ip = "10.0.0.2"},
        {.proto = "tcp", .src_ip = "10.0.0.1", .dest_ip = "10.0.0.2", .direction = "up"},
        {.proto = "t c p", .src_ip = "10.0.0.1", .dest_ip = "10.0.0.2"},
        {.proto = "tcp", .src_ip = "10.0.0.1", .dest_ip = NULL}};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        o.flow = &bad[k];
        ab_buf_reset(&b);
        ab_wire_put_object(&b, &o);
        r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
        ab_wire_get_object(&r, &g, &arr);
        assert_true(r.bad);
    }
    o.flow = NULL;
    /* a source with a space (not a token) */
    src[1] = "zip\x1b[31m";
    ab_buf_reset(&b);
    ab_wire_put_object(&b, &o);
    ab_wire_reader r2 = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_object(&r2, &g, &arr);
    assert_true(r2.bad);
    /* a location element without a name */
    src[1] = "zip";
    loc[1] = NULL;
    ab_buf_reset(&b);
    ab_wire_put_location(&b, loc, src, 3);
    ab_wire_reader r3 = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    const char *l2[AB_WIRE_MAX_ARRAY], *s2[AB_WIRE_MAX_ARRAY];
    size_t n = 99;
    ab_wire_get_location(&r3, l2, s2, &n);
    assert_true(r3.bad);
    assert_int_equal(n, 0);
    ab_buf_release(&b);
}

/* Jobs and splits: what the parent hands out and what a worker asks to be handed out. */
static void test_job_and_split(void **state)
{
    (void)state;
    ab_buf b;
    ab_buf_init(&b, AB_WIRE_MAX_FRAME);
    ab_wire_job j = {.kind = AB_JOB_PART,
                     .dev = 7,
                     .ino = 9,
                     .path = "/m/inbox.mbox",
                     .file_size = 1000,
                     .part = {400, 600, 31}};
    ab_wire_put_job(&b, &j);
    ab_wire_reader r = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_job g;
    ab_wire_get_job(&r, &g);
    assert_false(r.bad);
    assert_int_equal(g.kind, AB_JOB_PART);
    assert_string_equal(g.path, "/m/inbox.mbox");
    assert_int_equal(g.file_size, 1000);
    assert_int_equal(g.part.off, 400);
    assert_int_equal(g.part.len, 600);
    assert_int_equal(g.part.first, 31);
    /* a part past the end of its file, and an unknown kind, are refused */
    ab_buf_reset(&b);
    j.part.len = 601;
    ab_wire_put_job(&b, &j);
    r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_job(&r, &g);
    assert_true(r.bad);
    ab_buf_reset(&b);
    j.kind = 9;
    ab_wire_put_job(&b, &j);
    r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_job(&r, &g);
    assert_true(r.bad);

    ab_wire_part parts[AB_WIRE_MAX_PARTS], got[AB_WIRE_MAX_PARTS];
    parts[0] = (ab_wire_part){100, 200, 5};
    parts[1] = (ab_wire_part){300, 700, 12};
    uint64_t size = 0;
    size_t n = 0;
    ab_buf_reset(&b);
    ab_wire_put_split(&b, 1000, parts, 2);
    r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_split(&r, &size, got, &n);
    assert_false(r.bad);
    assert_int_equal(n, 2);
    assert_int_equal(size, 1000);
    assert_int_equal(got[1].off, 300);
    assert_int_equal(got[1].first, 12);
    /* overlapping parts, numbers that do not increase, no parts at all */
    const ab_wire_part bad[][2] = {{{100, 250, 5}, {300, 700, 12}},
                                   {{100, 200, 5}, {300, 700, 5}},
                                   {{100, 200, 5}, {300, 701, 12}}};
    for (size_t k = 0; k < 3; k++) {
        ab_buf_reset(&b);
        parts[0] = bad[k][0];
        parts[1] = bad[k][1];
        parts[0].len = k == 0 ? 250 : parts[0].len;
        ab_wire_put_split(&b, 1000, parts, 2);
        r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
        ab_wire_get_split(&r, &size, got, &n);
        assert_true(r.bad);
        assert_int_equal(n, 0);
    }
    ab_buf_reset(&b);
    ab_wire_put_split(&b, 1000, parts, 0);
    r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_split(&r, &size, got, &n);
    assert_true(r.bad);
    ab_buf_release(&b);
}

static ab_wire_reader frames_reader(const ab_buf *b)
{
    /* past the frame header [u32 len][u8 type]: what the worker decodes */
    return (ab_wire_reader){(const uint8_t *)b->data + 5, (const uint8_t *)b->data + b->len, 0};
}

/* Live capture frames: a batch round trip; the writer refuses frames out of bounds; the reader
 * refuses counts, lengths and link types out of bounds, short frames and bytes left over. */
static void test_frames(void **state)
{
    (void)state;
    ab_buf b;
    ab_buf_init(&b, AB_WIRE_MAX_FRAME + 64);
    static uint8_t big[AB_WIRE_MAX_CAPLEN + 1];
    const uint8_t a[] = {1, 2, 3, 4, 5};
    ab_wire_frames_begin(&b);
    assert_int_equal(ab_wire_frames_count(&b), 0);
    ab_wire_pkt p = {
        .ts_us = 1700000000123456ULL, .linktype = 1, .caplen = 5, .wirelen = 60, .data = a};
    assert_int_equal(ab_wire_frames_add(&b, &p), 0);
    ab_wire_pkt q = {.ts_us = 2, .linktype = 113, .caplen = 0, .wirelen = 0, .data = a};
    assert_int_equal(ab_wire_frames_add(&b, &q), 0);
    assert_int_equal(ab_wire_frames_count(&b), 2);
    /* refused by the writer: caplen over the cap, wirelen under caplen, a bad link type */
    ab_wire_pkt bad = {
        .caplen = AB_WIRE_MAX_CAPLEN + 1, .wirelen = AB_WIRE_MAX_CAPLEN + 1, .data = big};
    assert_int_equal(ab_wire_frames_add(&b, &bad), -1);
    bad = (ab_wire_pkt){.caplen = 5, .wirelen = 4, .data = a};
    assert_int_equal(ab_wire_frames_add(&b, &bad), -1);
    bad = (ab_wire_pkt){.linktype = 70000, .caplen = 5, .wirelen = 5, .data = a};
    assert_int_equal(ab_wire_frames_add(&b, &bad), -1);
    assert_int_equal(ab_wire_frames_count(&b), 2);
    assert_int_equal(ab_wire_finish(&b), AB_OK);
    assert_int_equal((uint8_t)b.data[4], AB_MSG_FRAMES);

    ab_wire_reader r = frames_reader(&b);
    assert_int_equal(ab_wire_get_frames_count(&r), 2);
    ab_wire_pkt g;
    ab_wire_get_pkt(&r, &g);
    assert_false(r.bad);
    assert_true(g.ts_us == 1700000000123456ULL);
    assert_int_equal(g.linktype, 1);
    assert_int_equal(g.caplen, 5);
    assert_int_equal(g.wirelen, 60);
    assert_memory_equal(g.data, a, 5);
    ab_wire_get_pkt(&r, &g);
    assert_false(r.bad);
    assert_int_equal(g.linktype, 113);
    assert_int_equal(g.caplen, 0);
    ab_wire_frames_end(&r);
    assert_false(r.bad);

    /* cut short anywhere: refused */
    for (size_t cut = 5; cut < b.len; cut++) {
        ab_wire_reader t = {(const uint8_t *)b.data + 5, (const uint8_t *)b.data + cut, 0};
        uint32_t n = ab_wire_get_frames_count(&t);
        for (uint32_t i = 0; i < n && !t.bad; i++)
            ab_wire_get_pkt(&t, &g);
        ab_wire_frames_end(&t);
        assert_true(t.bad);
    }
    /* a byte left over after the last frame */
    ab_buf_addc(&b, 0);
    r = frames_reader(&b);
    for (uint32_t i = 0, n = ab_wire_get_frames_count(&r); i < n; i++)
        ab_wire_get_pkt(&r, &g);
    assert_false(r.bad);
    ab_wire_frames_end(&r);
    assert_true(r.bad);

    /* a hand-made batch: count 0, a count over the bound, a caplen over the cap, wirelen under
     * caplen, a link type out of range */
    const uint32_t counts[] = {0, AB_WIRE_MAX_FRAMES + 1};
    for (size_t k = 0; k < 2; k++) {
        ab_buf_reset(&b);
        ab_wire_u32(&b, counts[k]);
        r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
        assert_int_equal(ab_wire_get_frames_count(&r), 0);
        assert_true(r.bad);
    }
    const uint32_t hdr[][3] = {
        {1, AB_WIRE_MAX_CAPLEN + 1, AB_WIRE_MAX_CAPLEN + 1}, {1, 5, 4}, {65536, 5, 5}};
    for (size_t k = 0; k < 3; k++) {
        ab_buf_reset(&b);
        ab_wire_u32(&b, 1);
        ab_wire_u64(&b, 1);
        ab_wire_u32(&b, hdr[k][0]);
        ab_wire_u32(&b, hdr[k][1]);
        ab_wire_u32(&b, hdr[k][2]);
        ab_buf_add(&b, big, hdr[k][1]);
        r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
        assert_int_equal(ab_wire_get_frames_count(&r), 1);
        ab_wire_get_pkt(&r, &g);
        assert_true(r.bad);
        assert_null(g.data);
    }
    /* the batch stops at AB_WIRE_MAX_FRAME: the frame that would pass it is refused */
    ab_wire_frames_begin(&b);
    ab_wire_pkt full = {
        .linktype = 1, .caplen = AB_WIRE_MAX_CAPLEN, .wirelen = AB_WIRE_MAX_CAPLEN, .data = big};
    uint32_t added = 0;
    while (ab_wire_frames_add(&b, &full) == 0)
        added++;
    assert_true(added > 0 && added < AB_WIRE_MAX_FRAME / AB_WIRE_MAX_CAPLEN);
    assert_int_equal(ab_wire_frames_count(&b), added);
    assert_int_equal(ab_wire_finish(&b), AB_OK);
    ab_buf_release(&b);
}

/* A live job: its restarts travel; a path that is not "live:IFACE" is refused, unless the job is
 * a capture stream's (any name but ""). */
static void test_live_job(void **state)
{
    (void)state;
    ab_buf b;
    ab_buf_init(&b, AB_WIRE_MAX_FRAME);
    static const struct {
        const char *path;
        uint8_t stream;
        int ok;
    } cases[] = {{"live:lo", 0, 1}, {"live:", 0, 0}, {"/etc/passwd", 0, 0}, {NULL, 0, 0},
                 {"stdin", 1, 1},   {"", 1, 0},      {NULL, 1, 0},          {"live:lo", 2, 0}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        ab_buf_reset(&b);
        ab_wire_job j = {
            .kind = AB_JOB_LIVE, .path = cases[k].path, .restarts = 3, .stream = cases[k].stream};
        ab_wire_put_job(&b, &j);
        ab_wire_reader r = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
        ab_wire_job g;
        ab_wire_get_job(&r, &g);
        assert_int_equal(r.bad, !cases[k].ok);
        if (cases[k].ok) {
            assert_int_equal(g.kind, AB_JOB_LIVE);
            assert_int_equal(g.restarts, 3);
            assert_int_equal(g.stream, cases[k].stream);
            assert_string_equal(g.path, cases[k].path);
        }
    }
    /* the tick: one u64 */
    ab_wire_begin(&b, AB_MSG_TICK);
    ab_wire_u64(&b, 42);
    assert_int_equal(ab_wire_finish(&b), AB_OK);
    ab_wire_reader r = frames_reader(&b);
    assert_true(ab_wire_get_u64(&r) == 42);
    assert_false(r.bad);
    ab_buf_release(&b);
}

/* A resume job: the file's identity, the skip and the count travel; a skip or count outside
 * its bounds, a file without identity or size, and a cut frame are refused. */
static ab_wire_job resume_job(void)
{
    return (ab_wire_job){.kind = AB_JOB_RESUME,
                         .dev = 8,
                         .ino = 1234,
                         .path = "/cap/a.pcap",
                         .file_size = 160000,
                         .skip = 42,
                         .resumes = 2};
}

/* Encodes j into b, decodes it less its last cut bytes into g (pointing into b). 1: decoded. */
static int resume_decodes(ab_buf *b, const ab_wire_job *j, ab_wire_job *g, size_t cut)
{
    ab_buf_reset(b);
    ab_wire_put_job(b, j);
    assert_true(b->len > cut);
    ab_wire_reader r = {(const uint8_t *)b->data, (const uint8_t *)b->data + b->len - cut, 0};
    ab_wire_get_job(&r, g);
    return !r.bad;
}

static void test_resume_job(void **state)
{
    (void)state;
    ab_buf b;
    ab_buf_init(&b, AB_WIRE_MAX_FRAME);
    ab_wire_job j = resume_job(), g;
    assert_true(resume_decodes(&b, &j, &g, 0));
    assert_int_equal(g.kind, AB_JOB_RESUME);
    assert_int_equal(g.dev, 8);
    assert_int_equal(g.ino, 1234);
    assert_int_equal(g.file_size, 160000);
    assert_int_equal(g.skip, 42);
    assert_int_equal(g.resumes, 2);
    assert_string_equal(g.path, "/cap/a.pcap");
    /* the bounds, each side */
    j.skip = 160000 / 16;
    j.resumes = AB_WIRE_MAX_RESUMES;
    assert_true(resume_decodes(&b, &j, &g, 0));
    assert_int_equal(g.skip, 10000);
    struct {
        uint64_t ino, size, skip, resumes;
        const char *path;
    } bad[] = {
        {1234, 160000, 0, 2, "/cap/a.pcap"},                        /* nothing skipped */
        {1234, 160000, 10001, 2, "/cap/a.pcap"},                    /* past the file */
        {1234, 160000, UINT64_MAX, 2, "/cap/a.pcap"},               /* no frame */
        {1234, 160000, 42, 0, "/cap/a.pcap"},                       /* no loss */
        {1234, 160000, 42, AB_WIRE_MAX_RESUMES + 1, "/cap/a.pcap"}, /* past the bound */
        {0, 160000, 42, 2, "/cap/a.pcap"},                          /* no identity */
        {1234, 0, 0, 2, "/cap/a.pcap"},                             /* no size */
        {1234, 15, 1, 1, "/cap/a.pcap"},                            /* no frame fits */
        {1234, 160000, 42, 2, NULL},                                /* no path */
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        j = resume_job();
        j.ino = bad[k].ino;
        j.file_size = bad[k].size;
        j.skip = bad[k].skip;
        j.resumes = bad[k].resumes;
        j.path = bad[k].path;
        assert_false(resume_decodes(&b, &j, &g, 0));
    }
    /* a frame cut anywhere in the payload */
    j = resume_job();
    for (size_t cut = 1; cut <= 24; cut++)
        assert_false(resume_decodes(&b, &j, &g, cut));
    /* a file job carries none of it: the same bytes read as another kind are refused */
    j.kind = 6;
    assert_false(resume_decodes(&b, &j, &g, 0));
    ab_buf_release(&b);
}

/* Flow records: round trip; a record whose JSON is not one object is refused. */
static void test_record(void **state)
{
    (void)state;
    const char *loc[1] = {"/cap/a.pcap"};
    ab_flow_info fl = {.id = 1, .proto = "udp", .src_ip = "10.0.0.9", .dest_ip = "10.0.0.1"};
    const char *js = "{\"queries\":[{\"name\":\"c2.example\"}]}";
    ab_flow_record rec = {.path = "/cap/a.pcap",
                          .location = loc,
                          .location_len = 1,
                          .flow = &fl,
                          .type = "dns",
                          .json = js,
                          .json_len = strlen(js)};
    ab_buf b;
    ab_buf_init(&b, 0);
    ab_wire_put_record(&b, &rec);
    ab_wire_reader r = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_arrays arr;
    ab_flow_record g;
    ab_wire_get_record(&r, &g, &arr);
    assert_false(r.bad);
    assert_string_equal(g.type, "dns");
    assert_int_equal(g.json_len, strlen(js));
    assert_memory_equal(g.json, js, strlen(js));
    assert_string_equal(g.flow->src_ip, "10.0.0.9");
    rec.json = "{\"a\":}";
    rec.json_len = strlen(rec.json);
    ab_buf_reset(&b);
    ab_wire_put_record(&b, &rec);
    r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_record(&r, &g, &arr);
    assert_true(r.bad);
    rec.json = js;
    rec.json_len = strlen(js);
    rec.type = "dns\"x";
    ab_buf_reset(&b);
    ab_wire_put_record(&b, &rec);
    r = (ab_wire_reader){(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_record(&r, &g, &arr);
    assert_true(r.bad);
    ab_buf_release(&b);
}

/* One worker's NET frame of a capture's counters, decoded into r (bad when refused). */
static void net_frame(const ab_net_summary *in, ab_net_summary *out, int *bad, size_t cut)
{
    ab_buf b;
    ab_buf_init(&b, 0);
    ab_wire_put_net(&b, in);
    assert_true(b.len > cut);
    ab_wire_reader r = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len - cut, 0};
    ab_wire_get_net(&r, out);
    *bad = r.bad;
    ab_buf_release(&b);
}

static void sample_net(ab_net_summary *n)
{
    memset(n, 0, sizeof(*n));
    n->captures = 2;
    n->frames = 1000;
    n->bytes = 1u << 20;
    n->packets = 990;
    n->malformed = 3;
    n->truncated = 4;
    n->flows = 100;
    n->peak_flows = 40;
    n->flows_evicted = 30;
    n->flows_memcap = 5;
    n->flows_timeout = 7;
    n->gaps = 11;
    n->gap_bytes = 12345;
    n->ooo_dropped = 13;
    n->fragments = 20;
    n->frag_dropped = 2;
    n->depth_cut = 9;
    n->memcap_cut = 8;
    n->parser_errors = 1;
}

/* The captures' counters: every field round-trips in its place; counts that cannot be (no
 * capture, more packets than frames, more flows ended early than flows, a short frame, another
 * field count) are refused and nothing of them is kept. */
static void test_net(void **state)
{
    (void)state;
    ab_net_summary n, g;
    int bad;
    sample_net(&n);
    net_frame(&n, &g, &bad, 0);
    assert_false(bad);
    assert_memory_equal(&n, &g, sizeof(n));
    assert_int_equal(g.gap_bytes, 12345);
    assert_int_equal(g.parser_errors, 1);
    net_frame(&n, &g, &bad, 1); /* cut short */
    assert_true(bad);
    assert_int_equal(g.frames, 0);

    sample_net(&n);
    n.captures = 0;
    net_frame(&n, &g, &bad, 0);
    assert_true(bad);
    sample_net(&n);
    n.packets = n.frames + 1;
    net_frame(&n, &g, &bad, 0);
    assert_true(bad);
    sample_net(&n);
    n.flows_evicted = UINT64_MAX; /* a sum that would wrap */
    net_frame(&n, &g, &bad, 0);
    assert_true(bad);
    sample_net(&n);
    n.flows_evicted = 90; /* 90 + 5 + 7 > 100 */
    net_frame(&n, &g, &bad, 0);
    assert_true(bad);
    sample_net(&n);
    n.depth_cut = 201; /* two directions per flow at most */
    net_frame(&n, &g, &bad, 0);
    assert_true(bad);
    sample_net(&n);
    n.peak_flows = 101;
    net_frame(&n, &g, &bad, 0);
    assert_true(bad);

    /* another field count: refused, whatever follows */
    ab_buf b;
    ab_buf_init(&b, 0);
    ab_wire_u32(&b, AB_WIRE_NET_FIELDS + 1);
    for (int i = 0; i < AB_WIRE_NET_FIELDS + 1; i++)
        ab_wire_u64(&b, 1);
    ab_wire_reader r = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    ab_wire_get_net(&r, &g);
    assert_true(r.bad);
    ab_buf_release(&b);
}

/* The flows given up travel with live and resume jobs, each field; more than AB_MAX_SKIP_FLOWS
 * or a cut list is refused. */
static void test_job_skip_flows(void **state)
{
    (void)state;
    ab_buf b;
    ab_buf_init(&b, AB_WIRE_MAX_FRAME);
    for (int live = 0; live <= 1; live++) {
        ab_wire_job j = live ? (ab_wire_job){.kind = AB_JOB_LIVE, .path = "live:lo"} : resume_job();
        j.n_skip_flows = AB_MAX_SKIP_FLOWS;
        for (int i = 0; i < AB_MAX_SKIP_FLOWS; i++) {
            ab_flow_key *k = &j.skip_flows[i];
            memset(k, 0, sizeof(*k));
            k->a.b[15] = (uint8_t)i;
            k->b.b[0] = (uint8_t)(100 + i);
            k->pa = (uint16_t)(40000 + i);
            k->pb = 80;
            k->proto = (uint8_t)(i % 2 ? 17 : 6);
        }
        ab_wire_job g;
        assert_true(resume_decodes(&b, &j, &g, 0));
        assert_int_equal(g.n_skip_flows, AB_MAX_SKIP_FLOWS);
        for (int i = 0; i < AB_MAX_SKIP_FLOWS; i++) {
            assert_memory_equal(g.skip_flows[i].a.b, j.skip_flows[i].a.b, 16);
            assert_memory_equal(g.skip_flows[i].b.b, j.skip_flows[i].b.b, 16);
            assert_int_equal(g.skip_flows[i].pa, j.skip_flows[i].pa);
            assert_int_equal(g.skip_flows[i].pb, 80);
            assert_int_equal(g.skip_flows[i].proto, j.skip_flows[i].proto);
        }
        assert_false(resume_decodes(&b, &j, &g, 1)); /* the last key cut short */
        /* a count past the bound, written by hand where the count goes */
        j.n_skip_flows = 0;
        ab_buf_reset(&b);
        ab_wire_put_job(&b, &j);
        assert_int_equal(b.data[b.len - 1], 0); /* the count is the last byte */
        b.data[b.len - 1] = AB_MAX_SKIP_FLOWS + 1;
        ab_wire_reader r = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
        ab_wire_get_job(&r, &g);
        assert_true(r.bad);
    }
    ab_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_object),
        cmocka_unit_test(test_finding_roundtrip),
        cmocka_unit_test(test_strings_roundtrip),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_counts_and_strings),
        cmocka_unit_test(test_score_clamped),
        cmocka_unit_test(test_job_and_split),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_live_job),
        cmocka_unit_test(test_resume_job),
        cmocka_unit_test(test_job_skip_flows),
        cmocka_unit_test(test_net),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
