/* json.h: a small streaming JSON writer into an ab_buf, and the JSON Lines encoding of events.
 * Written by hand (not jansson) because file names are bytes, not UTF-8: see docs/findings.md for
 * how non-UTF-8 strings are carried (lossy text + "<key>_b64" with the exact bytes). */
#ifndef AB_JSON_H
#define AB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"
#include "core/buf.h"

#define AB_JSON_MAX_DEPTH 32

/* Writer state. Does not own buf. Errors are sticky: once an append fails, st stays non-OK and
 * later calls do nothing, so callers check once at the end. */
typedef struct ab_json {
    ab_buf *buf;
    ab_status st;
    int depth;
    unsigned char first[AB_JSON_MAX_DEPTH]; /* 1 until the first member/element at that depth */
    unsigned char after_key;                /* a key was written; the value follows */
} ab_json;

void ab_json_init(ab_json *j, ab_buf *buf);
void ab_json_obj_begin(ab_json *j);
void ab_json_obj_end(ab_json *j);
void ab_json_arr_begin(ab_json *j);
void ab_json_arr_end(ab_json *j);
void ab_json_key(ab_json *j, const char *key); /* key is trusted ASCII */
/* A string value. Valid UTF-8 is kept (control characters, '"', '\\' and DEL escaped); invalid
 * sequences become U+FFFD. Returns 1 if the input was valid UTF-8, else 0. */
int ab_json_str(ab_json *j, const char *s, size_t len);
void ab_json_cstr(ab_json *j, const char *s); /* NULL -> null */
void ab_json_int(ab_json *j, int64_t v);
void ab_json_uint(ab_json *j, uint64_t v);
void ab_json_double(ab_json *j, double v); /* non-finite -> null */
void ab_json_bool(ab_json *j, int v);
void ab_json_null(ab_json *j);
/* A value that is already JSON (checked by the caller: core/jsoncheck.h), appended as it is. */
void ab_json_raw(ab_json *j, const char *json, size_t len);
/* key: "<lossy string>", and when s is not valid UTF-8 also key_b64: "<base64 of the bytes>". */
void ab_json_kv_bytes(ab_json *j, const char *key, const char *s);
/* key: [strings...], and key_b64: [...] (all elements) when any element is not valid UTF-8. */
void ab_json_kv_bytes_array(ab_json *j, const char *key, const char *const *v, size_t n);

/* 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int ab_utf8_valid(const char *s, size_t len);

/* Append one event as one JSON line (with the trailing '\n') to buf. Schema: docs/findings.md. */
ab_status ab_jsonl_event(ab_buf *buf, const ab_event *ev);

/* Members written into every line after "time" (NULL fields are left out). */
typedef struct ab_jsonl_ctx {
    const char *host_name; /* "host":{"name":...} */
    const char *sweep_id;  /* "sweep_id": one id per run */
} ab_jsonl_ctx;
ab_status ab_jsonl_event_ctx(ab_buf *buf, const ab_event *ev, const ab_jsonl_ctx *ctx);

/* One --mail-index record as {"event":"message",...} (report/mailindex.h). */
struct ab_mail_record;
ab_status ab_jsonl_message(ab_buf *buf, double time, const ab_jsonl_ctx *ctx,
                           const struct ab_mail_record *r);

#endif
