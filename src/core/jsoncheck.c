/* jsoncheck.c: see jsoncheck.h. A recursive-descent recogniser whose recursion is bounded by
 * AB_JSONCHECK_MAX_DEPTH, not by the input. */
#include "core/jsoncheck.h"

#include <string.h>

typedef struct jc {
    const unsigned char *p, *end;
} jc;

static void ws(jc *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* One UTF-8 sequence at j->p (not ASCII): well formed, shortest form, no surrogates. */
static int utf8(jc *j)
{
    unsigned c = *j->p;
    size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (!n || (size_t)(j->end - j->p) < n)
        return 0;
    unsigned cp = c & (0x3f >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((j->p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (j->p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    j->p += n;
    return 1;
}

static int str(jc *j)
{
    if (j->p >= j->end || *j->p != '"')
        return 0;
    j->p++;
    while (j->p < j->end) {
        unsigned c = *j->p;
        if (c == '"') {
            j->p++;
            return 1;
        }
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (j->end - j->p < 2)
                return 0;
            unsigned e = j->p[1];
            if (e == 'u') {
                if (j->end - j->p < 6)
                    return 0;
                for (int i = 2; i < 6; i++)
                    if (!strchr("0123456789abcdefABCDEF", j->p[i]) || !j->p[i])
                        return 0;
                j->p += 6;
            } else if (e && strchr("\"\\/bfnrt", (int)e)) {
                j->p += 2;
            } else {
                return 0;
            }
        } else if (c >= 0x80) {
            if (!utf8(j))
                return 0;
        } else {
            j->p++;
        }
    }
    return 0;
}

static int digits(jc *j)
{
    const unsigned char *s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s;
}

static int number(jc *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!digits(j))
        return 0;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!digits(j))
            return 0;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!digits(j))
            return 0;
    }
    return 1;
}

static int word(jc *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
        return 0;
    j->p += n;
    return 1;
}

static int value(jc *j, int depth);

static int container(jc *j, int depth, int obj)
{
    if (depth >= AB_JSONCHECK_MAX_DEPTH)
        return 0;
    j->p++; /* '{' or '[' */
    ws(j);
    if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
        j->p++;
        return 1;
    }
    for (;;) {
        if (obj) {
            if (!str(j))
                return 0;
            ws(j);
            if (j->p >= j->end || *j->p != ':')
                return 0;
            j->p++;
        }
        if (!value(j, depth + 1))
            return 0;
        ws(j);
        if (j->p >= j->end)
            return 0;
        if (*j->p == ',') {
            j->p++;
            ws(j);
            continue;
        }
        if (*j->p != (obj ? '}' : ']'))
            return 0;
        j->p++;
        return 1;
    }
}

static int value(jc *j, int depth)
{
    ws(j);
    if (j->p >= j->end)
        return 0;
    switch (*j->p) {
    case '{':
        return container(j, depth, 1);
    case '[':
        return container(j, depth, 0);
    case '"':
        return str(j);
    case 't':
        return word(j, "true");
    case 'f':
        return word(j, "false");
    case 'n':
        return word(j, "null");
    default:
        return number(j);
    }
}

int ab_json_check_object(const char *s, size_t n)
{
    jc j = {(const unsigned char *)s, (const unsigned char *)s + n};
    ws(&j);
    if (!s || j.p >= j.end || *j.p != '{' || !container(&j, 0, 1))
        return 0;
    ws(&j);
    return j.p == j.end;
}
