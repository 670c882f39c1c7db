/* json.c: the streaming JSON writer and the JSON Lines encoding of events (docs/findings.md). */
#include "report/json.h"
#include "report/mailindex.h"

#include "core/object.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bits of ab_json.first[d]. The header documents first[] as "1 until the first member"; we also
 * remember whether the container is an object so that a misuse (a value without a key in an
 * object, a key in an array, a mismatched end) becomes a sticky AB_ERR_ARG instead of invalid
 * output. */
#define JSON_FIRST  0x01
#define JSON_OBJECT 0x02

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char replacement[] = "\xef\xbf\xbd";

/* ---- UTF-8 ---------------------------------------------------------------------------------- */

/* Length of the well-formed sequence starting at s (Unicode Table 3-7), with *ok = 1; or, when
 * ill-formed, the length of its maximal subpart (>= 1) with *ok = 0, so that each maximal subpart
 * becomes exactly one U+FFFD, as Unicode and the WHATWG decoder recommend. len >= 1. */
static size_t utf8_next(const unsigned char *s, size_t len, int *ok)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    size_t need;

    *ok = 0;
    if (c < 0x80) {
        *ok = 1;
        return 1;
    }
    if (c < 0xc2 || c > 0xf4) /* continuation bytes, overlong 2-byte leads, > U+10FFFF leads */
        return 1;
    if (c < 0xe0) {
        need = 1;
    } else if (c < 0xf0) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else {
        need = 3;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* > U+10FFFF */
    }
    for (size_t k = 1; k <= need; k++) {
        if (k >= len || s[k] < lo || s[k] > hi)
            return k; /* truncated or bad continuation: the subpart is what we have so far */
        lo = 0x80;
        hi = 0xbf;
    }
    *ok = 1;
    return need + 1;
}

int ab_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    int ok;

    while (i < len) {
        if (u[i] < 0x80) { /* fast path: file names are mostly ASCII */
            i++;
            continue;
        }
        i += utf8_next(u + i, len - i, &ok);
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- Low-level output (all output goes through here, so errors stay sticky) ----------------- */

static void json_add(ab_json *j, const void *p, size_t n)
{
    if (j->st == AB_OK)
        j->st = ab_buf_add(j->buf, p, n);
}

static void json_addc(ab_json *j, char c)
{
    json_add(j, &c, 1);
}

static void json_fail(ab_json *j, ab_status st)
{
    if (j->st == AB_OK)
        j->st = st;
}

/* Escape for one byte that JSON forbids raw (or that we keep out of lines: DEL), or NULL. */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\t':
        return "\\t";
    case '\r':
        return "\\r";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    }
    return NULL;
}

static void put_escape(ab_json *j, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    const char *e = short_escape(c);
    if (e) {
        json_add(j, e, strlen(e));
        return;
    }
    char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    json_add(j, u, sizeof u);
}

/* True for ASCII bytes that go into a JSON string unchanged. */
static int plain_ascii(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The body of a JSON string (no quotes). Runs of bytes that need no change are copied in one
 * append. Returns 1 if s was valid UTF-8. */
static int put_string_body(ab_json *j, const unsigned char *s, size_t len)
{
    size_t run = 0, i = 0;
    int valid = 1, ok;

    while (i < len) {
        unsigned char c = s[i];
        if (plain_ascii(c)) {
            i++;
            continue;
        }
        size_t n = c < 0x80 ? 1 : utf8_next(s + i, len - i, &ok);
        if (c >= 0x80 && ok) {
            i += n;
            continue;
        }
        json_add(j, s + run, i - run);
        if (c < 0x80) {
            put_escape(j, c);
        } else {
            json_add(j, replacement, sizeof replacement - 1);
            valid = 0;
        }
        i += n;
        run = i;
    }
    json_add(j, s + run, i - run);
    return valid;
}

/* ---- Structure ------------------------------------------------------------------------------ */

void ab_json_init(ab_json *j, ab_buf *buf)
{
    memset(j, 0, sizeof *j);
    j->buf = buf;
    j->st = buf ? AB_OK : AB_ERR_ARG;
}

static int in_object(const ab_json *j)
{
    return j->depth > 0 && (j->first[j->depth - 1] & JSON_OBJECT);
}

/* Separator before an array element or object member; clears the container's "first" bit. */
static void put_separator(ab_json *j)
{
    unsigned char *f = &j->first[j->depth - 1];
    if (!(*f & JSON_FIRST))
        json_addc(j, ',');
    *f &= (unsigned char)~JSON_FIRST;
}

/* Before any value: checks it is allowed here and writes the separator. Returns 0 when the
 * writer is in error (then nothing must be written). */
static int begin_value(ab_json *j)
{
    if (j->st != AB_OK)
        return 0;
    if (in_object(j)) {
        if (!j->after_key) {
            json_fail(j, AB_ERR_ARG); /* an object member needs a key first */
            return 0;
        }
        j->after_key = 0;
    } else if (j->depth > 0) {
        put_separator(j);
    }
    return j->st == AB_OK;
}

static void container_begin(ab_json *j, char open, unsigned char kind)
{
    if (!begin_value(j))
        return;
    if (j->depth >= AB_JSON_MAX_DEPTH) {
        json_fail(j, AB_ERR_LIMIT);
        return;
    }
    json_addc(j, open);
    j->first[j->depth++] = JSON_FIRST | kind;
}

static void container_end(ab_json *j, char close, unsigned char kind)
{
    if (j->st != AB_OK)
        return;
    if (j->depth == 0 || (j->first[j->depth - 1] & JSON_OBJECT) != kind || j->after_key) {
        json_fail(j, AB_ERR_ARG);
        return;
    }
    json_addc(j, close);
    j->depth--;
}

void ab_json_obj_begin(ab_json *j)
{
    container_begin(j, '{', JSON_OBJECT);
}

void ab_json_obj_end(ab_json *j)
{
    container_end(j, '}', JSON_OBJECT);
}

void ab_json_arr_begin(ab_json *j)
{
    container_begin(j, '[', 0);
}

void ab_json_arr_end(ab_json *j)
{
    container_end(j, ']', 0);
}

/* Writes "<key><suffix>": with escaping although keys are documented as trusted: meta keys come
 * from rule files, and escaping costs nothing. */
static void put_key(ab_json *j, const char *key, const char *suffix)
{
    if (j->st != AB_OK)
        return;
    if (!in_object(j) || j->after_key || !key) {
        json_fail(j, AB_ERR_ARG);
        return;
    }
    put_separator(j);
    json_addc(j, '"');
    put_string_body(j, (const unsigned char *)key, strlen(key));
    put_string_body(j, (const unsigned char *)suffix, strlen(suffix));
    json_add(j, "\":", 2);
    j->after_key = 1;
}

void ab_json_key(ab_json *j, const char *key)
{
    put_key(j, key, "");
}

/* ---- Scalars -------------------------------------------------------------------------------- */

int ab_json_str(ab_json *j, const char *s, size_t len)
{
    if (!s && len == 0)
        s = "";
    if (!s) {
        json_fail(j, AB_ERR_ARG);
        return 0;
    }
    if (!begin_value(j))
        return ab_utf8_valid(s, len); /* the answer must not depend on the writer's state */
    json_addc(j, '"');
    int valid = put_string_body(j, (const unsigned char *)s, len);
    json_addc(j, '"');
    return valid;
}

void ab_json_cstr(ab_json *j, const char *s)
{
    if (s)
        ab_json_str(j, s, strlen(s));
    else
        ab_json_null(j);
}

void ab_json_int(ab_json *j, int64_t v)
{
    if (begin_value(j))
        j->st = ab_buf_printf(j->buf, "%" PRId64, v);
}

void ab_json_uint(ab_json *j, uint64_t v)
{
    if (begin_value(j))
        j->st = ab_buf_printf(j->buf, "%" PRIu64, v);
}

/* The shortest of %.15g..%.17g that reads back as v, so 0.1 prints as 0.1, not
 * 0.10000000000000001. printf follows LC_NUMERIC if the CLI ever calls setlocale, and a decimal
 * comma (or a multi-byte separator) must not leak into JSON: any run of bytes that is not part of
 * a C-locale number is the decimal point and becomes one '.'. */
static void format_double(char *out, size_t size, double v)
{
    char tmp[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    size_t o = 0;
    for (const char *p = tmp; *p && o + 1 < size; p++) {
        if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == 'e') {
            out[o++] = *p;
            continue;
        }
        out[o++] = '.';
        while (p[1] && !(p[1] >= '0' && p[1] <= '9'))
            p++;
    }
    out[o] = '\0';
}

void ab_json_double(ab_json *j, double v)
{
    if (!isfinite(v)) {
        ab_json_null(j);
        return;
    }
    char tmp[40];
    format_double(tmp, sizeof tmp, v);
    if (begin_value(j))
        json_add(j, tmp, strlen(tmp));
}

void ab_json_bool(ab_json *j, int v)
{
    if (begin_value(j))
        json_add(j, v ? "true" : "false", v ? 4 : 5);
}

void ab_json_null(ab_json *j)
{
    if (begin_value(j))
        json_add(j, "null", 4);
}

void ab_json_raw(ab_json *j, const char *json, size_t len)
{
    if (begin_value(j))
        json_add(j, json, len);
}

/* ---- Bytes: lossy text plus base64 ---------------------------------------------------------- */

/* Standard base64 (RFC 4648 section 4) with padding, as a JSON string value. */
static void put_base64(ab_json *j, const unsigned char *s, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[256]; /* encoded in chunks: no allocation, no size arithmetic that can overflow */
    size_t o = 0;

    if (!begin_value(j))
        return;
    json_addc(j, '"');
    for (size_t i = 0; i < len; i += 3) {
        size_t n = len - i < 3 ? len - i : 3;
        uint32_t w = (uint32_t)s[i] << 16;
        if (n > 1)
            w |= (uint32_t)s[i + 1] << 8;
        if (n > 2)
            w |= s[i + 2];
        out[o++] = alphabet[(w >> 18) & 63];
        out[o++] = alphabet[(w >> 12) & 63];
        out[o++] = n > 1 ? alphabet[(w >> 6) & 63] : '=';
        out[o++] = n > 2 ? alphabet[w & 63] : '=';
        if (o + 4 > sizeof out) {
            json_add(j, out, o);
            o = 0;
        }
    }
    json_add(j, out, o);
    json_addc(j, '"');
}

void ab_json_kv_bytes(ab_json *j, const char *key, const char *s)
{
    ab_json_key(j, key);
    if (!s) {
        ab_json_null(j);
        return;
    }
    size_t len = strlen(s);
    if (ab_json_str(j, s, len))
        return;
    put_key(j, key, "_b64");
    put_base64(j, (const unsigned char *)s, len);
}

void ab_json_kv_bytes_array(ab_json *j, const char *key, const char *const *v, size_t n)
{
    int all_valid = 1;

    if (!v)
        n = 0;
    ab_json_key(j, key);
    ab_json_arr_begin(j);
    for (size_t i = 0; i < n; i++) {
        if (v[i])
            all_valid &= ab_json_str(j, v[i], strlen(v[i]));
        else
            ab_json_null(j);
    }
    ab_json_arr_end(j);
    if (all_valid)
        return;
    /* All elements, not only the bad ones, so that index i of both arrays is the same object. */
    put_key(j, key, "_b64");
    ab_json_arr_begin(j);
    for (size_t i = 0; i < n; i++) {
        if (v[i])
            put_base64(j, (const unsigned char *)v[i], strlen(v[i]));
        else
            ab_json_null(j);
    }
    ab_json_arr_end(j);
}

/* ---- Events --------------------------------------------------------------------------------- */

/* Stable tokens for "status" in error events: ab_strerror's text is for humans and may change. */
static const char *status_token(ab_status st)
{
    switch (st) {
    case AB_OK:
        return "ok";
    case AB_ERR_NOMEM:
        return "no-memory";
    case AB_ERR_ARG:
        return "bad-argument";
    case AB_ERR_IO:
        return "io";
    case AB_ERR_PARSE:
        return "parse";
    case AB_ERR_RULES:
        return "rules";
    case AB_ERR_LIMIT:
        return "limit";
    case AB_ERR_TIMEOUT:
        return "timeout";
    case AB_ERR_CRASH:
        return "crash";
    case AB_ERR_UNSUPPORTED:
        return "unsupported";
    case AB_ERR_NOTFOUND:
        return "not-found";
    case AB_ERR_INTERNAL:
        return "internal";
    }
    return "unknown";
}

static const char *event_name(ab_event_kind k)
{
    switch (k) {
    case AB_EVENT_FINDING:
        return "finding";
    case AB_EVENT_ERROR:
        return "error";
    case AB_EVENT_SKIP:
        return "skip";
    case AB_EVENT_OBJECT:
        return "object";
    case AB_EVENT_SUMMARY:
        return "summary";
    case AB_EVENT_WARNING:
        return "warning";
    case AB_EVENT_LOAD:
        return "load";
    case AB_EVENT_FLOW:
        return "flow";
    }
    return NULL;
}

/* Largest time we print: 9999-12-31T23:59:59.999Z, so the year always has four digits. */
#define MAX_EPOCH_MS 253402300799999LL

/* RFC 3339 UTC with milliseconds. Out-of-range or non-finite times are clamped, not refused:
 * an event with a strange clock is still worth reporting. */
static void put_time_key(ab_json *j, const char *key, double t)
{
    long long ms = 0;
    if (isfinite(t) && t > 0)
        ms = t * 1000.0 >= (double)MAX_EPOCH_MS ? MAX_EPOCH_MS : llround(t * 1000.0);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char out[80]; /* room for any int fields, so no truncation warning */
    if (!gmtime_r(&secs, &tm)) {
        json_fail(j, AB_ERR_INTERNAL);
        return;
    }
    snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    ab_json_key(j, key);
    ab_json_cstr(j, out);
}

static void put_time(ab_json *j, double t)
{
    put_time_key(j, "time", t);
}

static void put_hashes(ab_json *j, const ab_object_info *o)
{
    const char *names[3] = {"md5", "sha1", "sha256"};
    const char *values[3] = {o->md5, o->sha1, o->sha256};
    for (int i = 0; i < 3; i++) {
        if (!values[i])
            continue;
        ab_json_key(j, names[i]);
        ab_json_cstr(j, values[i]);
    }
}

/* pid, process_name, cmdline: only for process-memory objects (pid > 0). The command line is
 * the process's own bytes, hence the _b64 fallback. */
static void put_process(ab_json *j, const ab_object_info *o)
{
    if (o->pid <= 0)
        return;
    ab_json_key(j, "pid");
    ab_json_int(j, o->pid);
    ab_json_kv_bytes(j, "process_name", o->process_name);
    ab_json_kv_bytes(j, "cmdline", o->cmdline);
    if (!o->exe && !o->user && !o->ppid && !(o->start_time > 0))
        return; /* no context was read (a connection's holder) */
    ab_json_kv_bytes(j, "exe", o->exe);
    ab_json_key(j, "exe_deleted");
    ab_json_bool(j, o->exe_deleted);
    ab_json_key(j, "ppid");
    ab_json_int(j, o->ppid);
    ab_json_kv_bytes(j, "user", o->user);
    if (o->start_time > 0)
        put_time_key(j, "start_time", o->start_time);
}

/* "file":{"type","mode","owner","group","mtime","ctime","atime"} for files on disk: the context
 * THOR and Loki give with a finding. Mode is octal text, as ECS's file.mode. */
static void put_file(ab_json *j, const ab_object_info *o)
{
    if (!o->has_file)
        return;
    char mode[16];
    snprintf(mode, sizeof(mode), "%04o", (unsigned)(o->mode & 07777));
    ab_json_key(j, "file");
    ab_json_obj_begin(j);
    ab_json_key(j, "type");
    ab_json_cstr(j, o->filetype ? o->filetype : "UNKNOWN");
    ab_json_key(j, "mode");
    ab_json_cstr(j, mode);
    ab_json_kv_bytes(j, "owner", o->owner);
    ab_json_kv_bytes(j, "group", o->group);
    put_time_key(j, "mtime", o->mtime);
    put_time_key(j, "ctime", o->ctime);
    put_time_key(j, "atime", o->atime);
    ab_json_obj_end(j);
}

/* "connection":{...} of a connection finding (docs/findings.md). */
static void put_connection(ab_json *j, const ab_connection *c)
{
    if (!c)
        return;
    ab_json_key(j, "connection");
    ab_json_obj_begin(j);
    ab_json_kv_bytes(j, "protocol", c->protocol);
    ab_json_kv_bytes(j, "local_address", c->local_addr);
    ab_json_key(j, "local_port");
    ab_json_uint(j, c->local_port);
    ab_json_kv_bytes(j, "remote_address", c->remote_addr);
    ab_json_key(j, "remote_port");
    ab_json_uint(j, c->remote_port);
    ab_json_kv_bytes(j, "state", c->state);
    ab_json_key(j, "inode");
    ab_json_uint(j, c->inode);
    ab_json_key(j, "uid");
    ab_json_uint(j, c->uid);
    ab_json_kv_bytes(j, "matched", c->matched);
    ab_json_obj_end(j);
}

/* "location":[{"name":...,"source":"zip"},...]: one element per level, from the file on disk
 * down (docs/findings.md); a name that is not UTF-8 also comes as "name_b64". */
static void put_location(ab_json *j, const char *const *loc, const char *const *src, size_t n)
{
    ab_json_key(j, "location");
    ab_json_arr_begin(j);
    for (size_t i = 0; loc && i < n; i++) {
        ab_json_obj_begin(j);
        ab_json_kv_bytes(j, "name", loc[i] ? loc[i] : "");
        if (src && src[i])
            ab_json_kv_bytes(j, "source", src[i]);
        ab_json_obj_end(j);
    }
    ab_json_arr_end(j);
}

/* key: s, or nothing at all when s is NULL. */
static void put_optional_bytes(ab_json *j, const char *key, const char *s)
{
    if (s)
        ab_json_kv_bytes(j, key, s);
}

/* "mail":{"message_id","date","date_epoch"?,"from","to","subject","part"}: the message an
 * object is or belongs to (docs/findings.md); absent fields are left out. */
static void put_mail(ab_json *j, const ab_mail_info *m)
{
    if (!m)
        return;
    ab_json_key(j, "mail");
    ab_json_obj_begin(j);
    put_optional_bytes(j, "message_id", m->message_id);
    put_optional_bytes(j, "date", m->date);
    if (m->date_epoch > 0)
        put_time_key(j, "date_time", m->date_epoch);
    put_optional_bytes(j, "from", m->from);
    put_optional_bytes(j, "to", m->to);
    put_optional_bytes(j, "subject", m->subject);
    put_optional_bytes(j, "part", m->part);
    ab_json_obj_end(j);
}

/* "flow":{"id","start","time"?,"proto","src_ip","src_port","dest_ip","dest_port","direction"?,
 * "app_proto"?,"vlan"?}: the flow an object was carried in (docs/findings.md). */
static void put_flow(ab_json *j, const ab_flow_info *f)
{
    if (!f)
        return;
    ab_json_key(j, "flow");
    ab_json_obj_begin(j);
    ab_json_key(j, "id");
    ab_json_uint(j, f->id);
    put_time_key(j, "start", f->start);
    if (f->time > 0)
        put_time_key(j, "time", f->time);
    put_optional_bytes(j, "proto", f->proto);
    put_optional_bytes(j, "src_ip", f->src_ip);
    ab_json_key(j, "src_port");
    ab_json_uint(j, f->src_port);
    put_optional_bytes(j, "dest_ip", f->dest_ip);
    ab_json_key(j, "dest_port");
    ab_json_uint(j, f->dest_port);
    put_optional_bytes(j, "direction", f->direction);
    put_optional_bytes(j, "app_proto", f->app_proto);
    if (f->vlan) {
        ab_json_key(j, "vlan");
        ab_json_uint(j, f->vlan);
    }
    ab_json_obj_end(j);
}

/* What the container said of a member, and what sources found in an object. */
static void put_member(ab_json *j, const ab_object_info *o)
{
    if (o->location_len > 1 && (o->member_mtime > 0 || o->member_mode)) {
        ab_json_key(j, "member");
        ab_json_obj_begin(j);
        if (o->member_mode) {
            char mode[16];
            snprintf(mode, sizeof(mode), "%04o", (unsigned)(o->member_mode & 07777));
            ab_json_key(j, "mode");
            ab_json_cstr(j, mode);
        }
        if (o->member_mtime > 0)
            put_time_key(j, "mtime", o->member_mtime);
        ab_json_obj_end(j);
    }
    if (o->observables_len && o->observable_type && o->observable_value) {
        ab_json_key(j, "observables");
        ab_json_arr_begin(j);
        for (size_t i = 0; i < o->observables_len; i++) {
            ab_json_obj_begin(j);
            ab_json_kv_bytes(j, "type", o->observable_type[i]);
            ab_json_kv_bytes(j, "value", o->observable_value[i]);
            if (o->observable_where)
                put_optional_bytes(j, "where", o->observable_where[i]);
            ab_json_obj_end(j);
        }
        ab_json_arr_end(j);
    }
    put_mail(j, o->mail);
    put_flow(j, o->flow);
}

static void put_object_fields(ab_json *j, const ab_object_info *o)
{
    ab_json_kv_bytes(j, "path", o->path);
    put_location(j, o->location, o->location_source, o->location_len);
    ab_json_key(j, "size");
    ab_json_uint(j, o->size);
    put_hashes(j, o);
    put_process(j, o);
    put_file(j, o);
    put_member(j, o);
}

/* Returns 1 if meta[i]'s key already appeared before i: JSON objects need unique names, and the
 * first value is the one a rule author reads first. */
static int meta_key_seen(const ab_meta *meta, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (meta[k].key && strcmp(meta[k].key, meta[i].key) == 0)
            return 1;
    return 0;
}

/* Meta keys are YARA identifiers; one that is not valid UTF-8 cannot come from a rule and could
 * collide with another after U+FFFD substitution, so it is dropped. Values are lossy text (no
 * _b64: it could collide with a real key). */
static void put_meta(ab_json *j, const ab_meta *meta, size_t n)
{
    ab_json_key(j, "meta");
    ab_json_obj_begin(j);
    for (size_t i = 0; meta && i < n; i++) {
        const ab_meta *m = &meta[i];
        if (!m->key || !ab_utf8_valid(m->key, strlen(m->key)) || meta_key_seen(meta, i))
            continue;
        ab_json_key(j, m->key);
        if (m->is_bool)
            ab_json_bool(j, m->ival != 0);
        else if (m->is_int)
            ab_json_int(j, m->ival);
        else
            ab_json_cstr(j, m->str);
    }
    ab_json_obj_end(j);
}

static void put_tags(ab_json *j, const char *const *tags, size_t n)
{
    ab_json_key(j, "tags");
    ab_json_arr_begin(j);
    for (size_t i = 0; tags && i < n; i++)
        ab_json_cstr(j, tags[i]);
    ab_json_arr_end(j);
}

/* key: text of the bytes (lossy), and key_b64 with the exact bytes when they are not UTF-8. */
static void put_bytes_kv(ab_json *j, const char *key, const uint8_t *p, size_t n)
{
    ab_json_key(j, key);
    if (ab_json_str(j, (const char *)p, n))
        return;
    put_key(j, key, "_b64");
    put_base64(j, p, n);
}

/* "strings":[{"id","offset","length","data"(,"data_b64")}], "strings_omitted": N. Only when
 * strings were asked for (they are NULL otherwise). */
static void put_strings(ab_json *j, const ab_finding *f)
{
    if (!f->strings && !f->strings_omitted)
        return;
    ab_json_key(j, "strings");
    ab_json_arr_begin(j);
    for (size_t i = 0; i < f->strings_len; i++) {
        const ab_string_match *m = &f->strings[i];
        ab_json_obj_begin(j);
        ab_json_key(j, "id");
        ab_json_cstr(j, m->identifier);
        ab_json_key(j, "offset");
        ab_json_uint(j, m->offset);
        ab_json_key(j, "length");
        ab_json_uint(j, m->length);
        put_bytes_kv(j, "data", m->data, m->data_len);
        if (m->region)
            ab_json_kv_bytes(j, "region", m->region);
        ab_json_obj_end(j);
    }
    ab_json_arr_end(j);
    if (f->strings_omitted) {
        ab_json_key(j, "strings_omitted");
        ab_json_uint(j, f->strings_omitted);
    }
}

static void put_finding(ab_json *j, const ab_finding *f)
{
    ab_json_kv_bytes(j, "path", f->obj.path);
    put_location(j, f->obj.location, f->obj.location_source, f->obj.location_len);
    ab_json_key(j, "size");
    ab_json_uint(j, f->obj.size);
    ab_json_key(j, "matcher");
    ab_json_cstr(j, ab_matcher_name(f->matcher));
    ab_json_kv_bytes(j, "rule", f->rule); /* for IOC matches: the IOC value, maybe a file name */
    ab_json_kv_bytes(j, "namespace", f->rule_namespace);
    put_tags(j, f->tags, f->tags_len);
    put_meta(j, f->meta, f->meta_len);
    ab_json_key(j, "score");
    ab_json_int(j, f->score);
    ab_json_key(j, "severity");
    ab_json_cstr(j, f->severity ? f->severity : ab_severity_for_score(f->score));
    put_optional_bytes(j, "family", f->family);
    put_optional_bytes(j, "description", f->description);
    ab_json_kv_bytes(j, "reason", f->reason);
    put_optional_bytes(j, "value", f->value);
    put_optional_bytes(j, "value_type", f->value_type);
    put_optional_bytes(j, "where", f->where);
    ab_json_key(j, "object_score");
    ab_json_int(j, f->object_score);
    ab_json_key(j, "level");
    ab_json_cstr(j, f->level ? f->level : "info");
    put_strings(j, f);
    put_hashes(j, &f->obj);
    put_process(j, &f->obj);
    put_file(j, &f->obj);
    put_member(j, &f->obj);
    put_connection(j, f->conn);
}

static void put_error(ab_json *j, const ab_error *e)
{
    ab_json_kv_bytes(j, "path", e->path);
    put_location(j, e->location, e->location_source, e->location_len);
    ab_json_key(j, "status");
    ab_json_cstr(j, status_token(e->status));
    ab_json_kv_bytes(j, "message", e->message);
}

static void put_skip(ab_json *j, const ab_skip *s)
{
    ab_json_kv_bytes(j, "path", s->path);
    if (s->location_len)
        put_location(j, s->location, s->location_source, s->location_len);
    ab_json_key(j, "reason");
    ab_json_cstr(j, ab_skip_reason_name(s->reason));
    ab_json_key(j, "size");
    ab_json_uint(j, s->size);
}

/* Microseconds are more than a wall-clock measure is worth, and keep 0.00578 from printing as
 * 0.0057799816131591797. Absurd values are left alone (rounding them would overflow to inf). */
static double to_microseconds(double seconds)
{
    return fabs(seconds) < 1e9 ? round(seconds * 1e6) / 1e6 : seconds;
}

/* A live capture's counters (antibody sniff): "capture" in the summary. */
static void put_capture_summary(ab_json *j, const ab_capture_summary *c)
{
    ab_json_key(j, "capture");
    ab_json_obj_begin(j);
    ab_json_key(j, "interface");
    ab_json_str(j, c->interface ? c->interface : "", c->interface ? strlen(c->interface) : 0);
    ab_json_key(j, "packets");
    ab_json_uint(j, c->packets);
    ab_json_key(j, "bytes");
    ab_json_uint(j, c->bytes);
    if (c->kernel_ok) {
        ab_json_key(j, "kernel_received");
        ab_json_uint(j, c->kernel_received);
        ab_json_key(j, "kernel_dropped");
        ab_json_uint(j, c->kernel_dropped);
        ab_json_key(j, "interface_dropped");
        ab_json_uint(j, c->interface_dropped);
    }
    ab_json_key(j, "dropped_worker_behind");
    ab_json_uint(j, c->dropped_behind);
    ab_json_key(j, "worker_restarts");
    ab_json_uint(j, c->worker_restarts);
    ab_json_obj_end(j);
}

/* The summary's "network" object (only when a capture was read): names say which bound or
 * which loss (docs/findings.md). */
static void put_network(ab_json *j, const ab_net_summary *n)
{
    const struct {
        const char *key;
        uint64_t v;
    } f[] = {
        {"captures", n->captures},
        {"frames", n->frames},
        {"bytes", n->bytes},
        {"packets", n->packets},
        {"malformed_frames", n->malformed},
        {"truncated_frames", n->truncated},
        {"flows", n->flows},
        {"peak_flows", n->peak_flows},
        {"flows_evicted_max_flows", n->flows_evicted},
        {"flows_evicted_stream_memcap", n->flows_memcap},
        {"flows_timed_out", n->flows_timeout},
        {"gaps", n->gaps},
        {"gap_bytes", n->gap_bytes},
        {"ooo_segments_dropped", n->ooo_dropped},
        {"fragments", n->fragments},
        {"fragment_datagrams_dropped", n->frag_dropped},
        {"streams_cut_stream_depth", n->depth_cut},
        {"streams_cut_stream_memcap", n->memcap_cut},
        {"parser_errors", n->parser_errors},
    };
    ab_json_key(j, "network");
    ab_json_obj_begin(j);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        ab_json_key(j, f[i].key);
        ab_json_uint(j, f[i].v);
    }
    ab_json_obj_end(j);
}

static void put_summary(ab_json *j, const ab_summary *s)
{
    ab_json_key(j, "objects");
    ab_json_uint(j, s->objects);
    ab_json_key(j, "bytes");
    ab_json_uint(j, s->bytes);
    ab_json_key(j, "members");
    ab_json_uint(j, s->members);
    ab_json_key(j, "member_bytes");
    ab_json_uint(j, s->member_bytes);
    ab_json_key(j, "skipped");
    ab_json_obj_begin(j);
    for (int r = 0; r < AB_SKIP_REASON_COUNT; r++) {
        if (!s->skipped[r])
            continue;
        ab_json_key(j, ab_skip_reason_name((ab_skip_reason)r));
        ab_json_uint(j, s->skipped[r]);
    }
    ab_json_obj_end(j);
    ab_json_key(j, "skipped_total");
    ab_json_uint(j, s->skipped_total);
    ab_json_key(j, "errors");
    ab_json_uint(j, s->errors);
    ab_json_key(j, "findings");
    ab_json_uint(j, s->findings);
    ab_json_key(j, "seconds");
    ab_json_double(j, to_microseconds(s->seconds));
    ab_json_key(j, "interrupted");
    ab_json_bool(j, s->interrupted);
    ab_json_key(j, "suppressed");
    ab_json_uint(j, s->suppressed);
    if (s->net)
        put_network(j, s->net);
    if (s->capture)
        put_capture_summary(j, s->capture);
}

static void put_load(ab_json *j, const ab_load_info *l)
{
    ab_json_key(j, "antibody");
    ab_json_cstr(j, l->versions.antibody);
    ab_json_key(j, "libyara");
    ab_json_cstr(j, l->versions.yara);
    ab_json_key(j, "vectorscan");
    ab_json_cstr(j, l->versions.vectorscan);
    ab_json_key(j, "rules");
    ab_json_uint(j, l->rules);
    ab_json_key(j, "iocs");
    ab_json_uint(j, l->iocs);
    ab_json_key(j, "iocs_unmatched");
    ab_json_uint(j, l->iocs_unmatched);
    ab_json_key(j, "rule_warnings");
    ab_json_uint(j, l->rule_warnings);
    ab_json_key(j, "digest");
    ab_json_cstr(j, l->digest);
    ab_json_key(j, "sources");
    ab_json_arr_begin(j);
    for (size_t i = 0; l->sources && i < l->n_sources; i++) {
        const ab_content_source *s = &l->sources[i];
        ab_json_obj_begin(j);
        ab_json_key(j, "kind");
        ab_json_cstr(j, s->kind);
        ab_json_kv_bytes(j, "name", s->name);
        ab_json_key(j, "rules");
        ab_json_uint(j, s->rules);
        ab_json_key(j, "iocs");
        ab_json_uint(j, s->iocs);
        ab_json_obj_end(j);
    }
    ab_json_arr_end(j);
}

/* "path","location","flow":{...},"type":"http","http":{...}: the record's own object under its
 * type's key, as Suricata's EVE does (docs/findings.md, Flows). The library checked it is one
 * JSON object. */
static void put_flow_record(ab_json *j, const ab_flow_record *r)
{
    ab_json_kv_bytes(j, "path", r->path);
    put_location(j, r->location, r->location_source, r->location_len);
    put_flow(j, r->flow);
    ab_json_key(j, "type");
    ab_json_cstr(j, r->type);
    ab_json_key(j, r->type);
    ab_json_raw(j, r->json, r->json_len);
}

static void put_event(ab_json *j, const ab_event *ev)
{
    switch (ev->kind) {
    case AB_EVENT_FINDING:
        put_finding(j, &ev->u.finding);
        break;
    case AB_EVENT_ERROR:
    case AB_EVENT_WARNING:
        put_error(j, &ev->u.error);
        break;
    case AB_EVENT_SKIP:
        put_skip(j, &ev->u.skip);
        break;
    case AB_EVENT_OBJECT:
        put_object_fields(j, &ev->u.object);
        break;
    case AB_EVENT_SUMMARY:
        put_summary(j, &ev->u.summary);
        break;
    case AB_EVENT_LOAD:
        put_load(j, &ev->u.load);
        break;
    case AB_EVENT_FLOW:
        put_flow_record(j, &ev->u.flow);
        break;
    }
}

/* "host":{"name":...},"sweep_id":...: where and in which run an event happened, so streams of
 * many hosts and runs can be merged. */
static void put_context(ab_json *j, const ab_jsonl_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->host_name) {
        ab_json_key(j, "host");
        ab_json_obj_begin(j);
        ab_json_kv_bytes(j, "name", ctx->host_name);
        ab_json_obj_end(j);
    }
    if (ctx->sweep_id) {
        ab_json_key(j, "sweep_id");
        ab_json_cstr(j, ctx->sweep_id);
    }
}

ab_status ab_jsonl_event(ab_buf *buf, const ab_event *ev)
{
    return ab_jsonl_event_ctx(buf, ev, NULL);
}

/* {"event":"message",...}: one --mail-index record (docs/findings.md). */
ab_status ab_jsonl_message(ab_buf *buf, double time, const ab_jsonl_ctx *ctx,
                           const ab_mail_record *r)
{
    size_t start = buf->len;
    ab_json j;
    ab_json_init(&j, buf);
    ab_json_obj_begin(&j);
    ab_json_key(&j, "event");
    ab_json_cstr(&j, "message");
    put_time(&j, time);
    put_context(&j, ctx);
    ab_json_kv_bytes(&j, "path", r->path ? r->path : r->key);
    if (r->loc_len)
        put_location(&j, (const char *const *)r->loc, (const char *const *)r->locsrc, r->loc_len);
    ab_json_key(&j, "complete");
    ab_json_bool(&j, r->complete);
    if (r->complete) {
        ab_json_key(&j, "size");
        ab_json_uint(&j, r->size);
        if (r->sha256[0]) {
            ab_json_key(&j, "sha256");
            ab_json_cstr(&j, r->sha256);
        }
    }
    put_optional_bytes(&j, "message_id", r->mail.message_id);
    put_optional_bytes(&j, "date", r->mail.date);
    if (r->mail.date_epoch > 0)
        put_time_key(&j, "date_time", r->mail.date_epoch);
    put_optional_bytes(&j, "from", r->mail.from);
    put_optional_bytes(&j, "to", r->mail.to);
    put_optional_bytes(&j, "subject", r->mail.subject);
    ab_json_key(&j, "parts");
    ab_json_arr_begin(&j);
    for (size_t i = 0; i < r->n_parts; i++) {
        const ab_mail_part_rec *p = &r->parts[i];
        ab_json_obj_begin(&j);
        ab_json_kv_bytes(&j, "name", p->name);
        put_optional_bytes(&j, "part", p->part);
        ab_json_key(&j, "size");
        ab_json_uint(&j, p->size);
        if (p->sha256[0]) {
            ab_json_key(&j, "sha256");
            ab_json_cstr(&j, p->sha256);
        }
        ab_json_key(&j, "attachment");
        ab_json_bool(&j, !p->body);
        ab_json_obj_end(&j);
    }
    ab_json_arr_end(&j);
    if (r->parts_omitted) {
        ab_json_key(&j, "parts_omitted");
        ab_json_uint(&j, r->parts_omitted);
    }
    ab_json_kv_bytes_array(&j, "urls", (const char *const *)r->urls, r->n_urls);
    if (r->urls_omitted) {
        ab_json_key(&j, "urls_omitted");
        ab_json_uint(&j, r->urls_omitted);
    }
    ab_json_obj_end(&j);
    json_addc(&j, '\n');
    if (j.st != AB_OK && buf->data) {
        buf->len = start;
        buf->data[start] = '\0';
    }
    return j.st;
}

ab_status ab_jsonl_event_ctx(ab_buf *buf, const ab_event *ev, const ab_jsonl_ctx *ctx)
{
    if (!buf || !ev || !event_name(ev->kind))
        return AB_ERR_ARG;

    size_t start = buf->len;
    ab_json j;
    ab_json_init(&j, buf);
    ab_json_obj_begin(&j);
    ab_json_key(&j, "event");
    ab_json_cstr(&j, event_name(ev->kind));
    put_time(&j, ev->time);
    put_context(&j, ctx);
    put_event(&j, ev);
    ab_json_obj_end(&j);
    json_addc(&j, '\n');
    if (j.st != AB_OK && buf->data) {
        /* Never leave half a line behind: the caller may write the buffer out regardless. */
        buf->len = start;
        buf->data[start] = '\0';
    }
    return j.st;
}
