/* json_check.h: a strict RFC 8259 parser for tests and fuzz targets, independent of the writer in
 * src/report/json.c so that the two do not share bugs. Header-only (static inline functions) so any
 * test or fuzz target can include it without build changes.
 *
 * Stricter than RFC 8259 where antibody's output promises more: raw bytes must be valid UTF-8,
 * \u escapes must not be lone surrogates, object names must be unique, DEL must be escaped, and
 * nesting is bounded. jc_parse() builds a small tree so tests can look at values. */
#ifndef AB_JSON_CHECK_H
#define AB_JSON_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JC_MAX_DEPTH 64

typedef enum jc_type { JC_NULL, JC_BOOL, JC_NUM, JC_STR, JC_ARR, JC_OBJ } jc_type;

/* A parsed value. Owns str, key and kids. */
typedef struct jc_val {
    jc_type type;
    char *key; /* member name (decoded, NUL-terminated) when inside an object, else NULL */
    size_t key_len;
    char *str; /* JC_STR: decoded bytes; JC_NUM: the literal text. NUL-terminated. */
    size_t len;
    int b; /* JC_BOOL */
    struct jc_val *kids;
    size_t n;
} jc_val;

typedef struct jc_parser {
    const unsigned char *p, *end;
    int depth;
} jc_parser;

static inline void jc_free(jc_val *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        jc_free(&v->kids[i]);
    free(v->kids);
    free(v->str);
    free(v->key);
    memset(v, 0, sizeof *v);
}

static inline void jc_ws(jc_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static inline int jc_lit(jc_parser *ps, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

/* Appends a byte to a malloc'ed growing string. */
static inline int jc_push(char **s, size_t *len, size_t *cap, unsigned char c)
{
    if (*len + 2 > *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        char *t = realloc(*s, nc);
        if (!t)
            return 0;
        *s = t;
        *cap = nc;
    }
    (*s)[(*len)++] = (char)c;
    (*s)[*len] = '\0';
    return 1;
}

static inline int jc_push_cp(char **s, size_t *len, size_t *cap, uint32_t cp)
{
    if (cp < 0x80)
        return jc_push(s, len, cap, (unsigned char)cp);
    if (cp < 0x800)
        return jc_push(s, len, cap, (unsigned char)(0xc0 | (cp >> 6))) &&
               jc_push(s, len, cap, (unsigned char)(0x80 | (cp & 63)));
    if (cp < 0x10000)
        return jc_push(s, len, cap, (unsigned char)(0xe0 | (cp >> 12))) &&
               jc_push(s, len, cap, (unsigned char)(0x80 | ((cp >> 6) & 63))) &&
               jc_push(s, len, cap, (unsigned char)(0x80 | (cp & 63)));
    return jc_push(s, len, cap, (unsigned char)(0xf0 | (cp >> 18))) &&
           jc_push(s, len, cap, (unsigned char)(0x80 | ((cp >> 12) & 63))) &&
           jc_push(s, len, cap, (unsigned char)(0x80 | ((cp >> 6) & 63))) &&
           jc_push(s, len, cap, (unsigned char)(0x80 | (cp & 63)));
}

/* Decodes one UTF-8 scalar by arithmetic (not by byte-range tables as the writer does) and
 * rejects overlongs, surrogates and values above U+10FFFF. Returns its length or 0. */
static inline size_t jc_utf8_scalar(const unsigned char *s, size_t avail, uint32_t *out)
{
    size_t n;
    uint32_t cp;
    if (s[0] < 0x80) {
        *out = s[0];
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        n = 2;
        cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3;
        cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *out = cp;
    return n;
}

/* 1 if the bytes are valid UTF-8 by the arithmetic definition above. */
static inline int jc_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = jc_utf8_scalar(u + i, len - i, &cp);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

static inline int jc_hex4(jc_parser *ps, uint32_t *out)
{
    uint32_t v = 0;
    if (ps->end - ps->p < 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* After a backslash. */
static inline int jc_escape(jc_parser *ps, char **s, size_t *len, size_t *cap)
{
    if (ps->p >= ps->end)
        return 0;
    unsigned char c = *ps->p++;
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (k)
        return jc_push(s, len, cap, (unsigned char)to[k - from]);
    if (c != 'u')
        return 0;
    uint32_t cp, lo;
    if (!jc_hex4(ps, &cp))
        return 0;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return 0; /* lone low surrogate */
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (!jc_lit(ps, "\\u") || !jc_hex4(ps, &lo) || lo < 0xdc00 || lo > 0xdfff)
            return 0;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return jc_push_cp(s, len, cap, cp);
}

static inline int jc_string(jc_parser *ps, char **out, size_t *out_len)
{
    char *s = NULL;
    size_t len = 0, cap = 0;
    uint32_t cp;
    if (!jc_lit(ps, "\"") || !jc_push(&s, &len, &cap, 'x'))
        goto fail;
    len = 0; /* the push above only allocated, so that "" yields a non-NULL string */
    s[0] = '\0';
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = *ps->p;
        if (c < 0x20 || c == 0x7f)
            goto fail;
        if (c == '\\') {
            ps->p++;
            if (!jc_escape(ps, &s, &len, &cap))
                goto fail;
            continue;
        }
        size_t n = jc_utf8_scalar(ps->p, (size_t)(ps->end - ps->p), &cp);
        if (!n)
            goto fail;
        for (size_t i = 0; i < n; i++)
            if (!jc_push(&s, &len, &cap, ps->p[i]))
                goto fail;
        ps->p += n;
    }
    if (!jc_lit(ps, "\""))
        goto fail;
    *out = s;
    *out_len = len;
    return 1;
fail:
    free(s);
    return 0;
}

static inline int jc_digits(jc_parser *ps)
{
    const unsigned char *start = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    return ps->p > start;
}

static inline int jc_number(jc_parser *ps, jc_val *v)
{
    const unsigned char *start = ps->p;
    jc_lit(ps, "-");
    if (jc_lit(ps, "0")) {
        /* no leading zeros */
    } else if (ps->p < ps->end && *ps->p >= '1' && *ps->p <= '9') {
        jc_digits(ps);
    } else {
        return 0;
    }
    if (jc_lit(ps, ".") && !jc_digits(ps))
        return 0;
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!jc_digits(ps))
            return 0;
    }
    size_t n = (size_t)(ps->p - start);
    v->type = JC_NUM;
    v->str = malloc(n + 1);
    if (!v->str)
        return 0;
    memcpy(v->str, start, n);
    v->str[n] = '\0';
    v->len = n;
    return 1;
}

static inline int jc_value(jc_parser *ps, jc_val *v);

static inline jc_val *jc_new_kid(jc_val *v)
{
    jc_val *k = realloc(v->kids, (v->n + 1) * sizeof *k);
    if (!k)
        return NULL;
    v->kids = k;
    memset(&k[v->n], 0, sizeof *k);
    return &k[v->n++];
}

static inline int jc_key_unique(const jc_val *obj, const char *key, size_t key_len)
{
    for (size_t i = 0; i + 1 < obj->n; i++)
        if (obj->kids[i].key_len == key_len && memcmp(obj->kids[i].key, key, key_len) == 0)
            return 0;
    return 1;
}

static inline int jc_container(jc_parser *ps, jc_val *v, int is_obj)
{
    v->type = is_obj ? JC_OBJ : JC_ARR;
    if (++ps->depth > JC_MAX_DEPTH)
        return 0;
    ps->p++;
    jc_ws(ps);
    if (jc_lit(ps, is_obj ? "}" : "]")) {
        ps->depth--;
        return 1;
    }
    for (;;) {
        jc_val *k = jc_new_kid(v);
        if (!k)
            return 0;
        if (is_obj) {
            jc_ws(ps);
            if (!jc_string(ps, &k->key, &k->key_len) || !jc_key_unique(v, k->key, k->key_len))
                return 0;
            jc_ws(ps);
            if (!jc_lit(ps, ":"))
                return 0;
        }
        if (!jc_value(ps, k))
            return 0;
        if (jc_lit(ps, ","))
            continue;
        if (!jc_lit(ps, is_obj ? "}" : "]"))
            return 0;
        ps->depth--;
        return 1;
    }
}

/* A value with the whitespace around it. */
static inline int jc_value(jc_parser *ps, jc_val *v)
{
    int ok = 0;
    jc_ws(ps);
    if (ps->p >= ps->end)
        return 0;
    switch (*ps->p) {
    case '{':
        ok = jc_container(ps, v, 1);
        break;
    case '[':
        ok = jc_container(ps, v, 0);
        break;
    case '"':
        v->type = JC_STR;
        ok = jc_string(ps, &v->str, &v->len);
        break;
    case 't':
        v->type = JC_BOOL;
        v->b = 1;
        ok = jc_lit(ps, "true");
        break;
    case 'f':
        v->type = JC_BOOL;
        ok = jc_lit(ps, "false");
        break;
    case 'n':
        v->type = JC_NULL;
        ok = jc_lit(ps, "null");
        break;
    default:
        ok = jc_number(ps, v);
        break;
    }
    jc_ws(ps);
    return ok;
}

/* Parses exactly one JSON text filling s[0..len). Returns 1 and fills *out (free with jc_free),
 * or 0 (and *out is empty). */
static inline int jc_parse(const char *s, size_t len, jc_val *out)
{
    jc_parser ps = {(const unsigned char *)s, (const unsigned char *)s + len, 0};
    memset(out, 0, sizeof *out);
    if (jc_value(&ps, out) && ps.p == ps.end)
        return 1;
    jc_free(out);
    return 0;
}

/* One JSON Lines record: one object, one '\n' at the very end and nowhere else. */
static inline int jc_parse_line(const char *s, size_t len, jc_val *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || s[len - 1] != '\n' || memchr(s, '\n', len - 1))
        return 0;
    if (!jc_parse(s, len - 1, out))
        return 0;
    if (out->type != JC_OBJ) {
        jc_free(out);
        return 0;
    }
    return 1;
}

/* Member of an object by name, or NULL. */
static inline const jc_val *jc_get(const jc_val *obj, const char *key)
{
    if (!obj || obj->type != JC_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->kids[i].key_len == strlen(key) &&
            memcmp(obj->kids[i].key, key, obj->kids[i].key_len) == 0)
            return &obj->kids[i];
    return NULL;
}

/* The string value of member key, or NULL if absent or not a string. */
static inline const char *jc_get_str(const jc_val *obj, const char *key)
{
    const jc_val *v = jc_get(obj, key);
    return v && v->type == JC_STR ? v->str : NULL;
}

/* Standard base64 with padding, strictly (no whitespace, canonical padding bits). Returns a
 * malloc'ed buffer and its length, or NULL. */
static inline unsigned char *jc_b64_decode(const char *s, size_t len, size_t *out_len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len % 4)
        return NULL;
    unsigned char *out = malloc(len / 4 * 3 + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t w = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = s[i + (size_t)k];
            const char *at = c ? strchr(alphabet, c) : NULL;
            if (c == '=' && i + 4 == len && k >= 2 && (k == 3 || s[i + 3] == '=')) {
                pad++;
                w <<= 6;
            } else if (at && !pad) {
                w = (w << 6) | (uint32_t)(at - alphabet);
            } else {
                free(out);
                return NULL;
            }
        }
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff))) {
            free(out); /* non-canonical: padding bits set */
            return NULL;
        }
        out[o++] = (unsigned char)(w >> 16);
        if (pad < 2)
            out[o++] = (unsigned char)(w >> 8);
        if (pad < 1)
            out[o++] = (unsigned char)w;
    }
    *out_len = o;
    return out;
}

#endif
