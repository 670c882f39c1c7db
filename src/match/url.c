/* url.c: URL normalisation, host normalisation and URL extraction from plain text (url.h).
 *
 * Safety: input is hostile. Every loop is bounded by the input length; writes go through a
 * bounded writer that records overflow instead of writing past its buffer; the extractor visits
 * each byte a bounded number of times (a candidate is always consumed past its end, the '>' of a
 * bracketed URL is searched once per '>'), so its time is linear. No allocation except inside
 * libidn2 (freed at once). */
#include "match/url.h"

#include "match/domain.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------------------------- */

typedef struct wbuf {
    char *p;
    size_t cap; /* bytes of p usable for text (one more is kept for the NUL) */
    size_t n;
    int over; /* something did not fit */
} wbuf;

static void put(wbuf *w, char c)
{
    if (w->n < w->cap)
        w->p[w->n++] = c;
    else
        w->over = 1;
}

static void puts_n(wbuf *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(w, s[i]);
}

static const char HEX[] = "0123456789ABCDEF";

static void put_escape(wbuf *w, unsigned char c)
{
    put(w, '%');
    put(w, HEX[c >> 4]);
    put(w, HEX[c & 15]);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int is_unreserved(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Decoded value of an escape "%XX" at s[i] (n bytes), or -1. */
static int escape_at(const char *s, size_t n, size_t i)
{
    if (s[i] != '%' || n - i < 3)
        return -1;
    int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
    return h < 0 || l < 0 ? -1 : h * 16 + l;
}

static int ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (lower(a[i]) != b[i])
            return 0;
    return 1;
}

/* ---- URL parts ----------------------------------------------------------------------------- */

typedef struct url_parts {
    const char *scheme;
    size_t scheme_len;
    int special; /* http, https or ftp: '\' is '/' and there is a default port */
    const char *host;
    size_t host_len; /* with the brackets of an IPv6 literal */
    const char *port;
    size_t port_len;
    int has_port;
    const char *rest; /* path, query, fragment */
    size_t rest_len;
} url_parts;

/* Split "scheme://authority rest" (s: n bytes, already trimmed). 0 on success. */
static int split_url(const char *s, size_t n, url_parts *u)
{
    memset(u, 0, sizeof(*u));
    size_t i = 0;
    if (!n || !is_alpha((unsigned char)s[0]))
        return -1;
    while (i < n && i < 32 &&
           (is_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i >= n || s[i] != ':')
        return -1;
    u->scheme = s;
    u->scheme_len = i;
    u->special = ieq(s, i, "http") || ieq(s, i, "https") || ieq(s, i, "ftp");
    i++;
    for (int k = 0; k < 2; k++, i++) /* "//" (for the special schemes, '\' works too) */
        if (i >= n || !(s[i] == '/' || (u->special && s[i] == '\\')))
            return -1;
    size_t auth = i, end = i;
    while (end < n && s[end] != '/' && s[end] != '?' && s[end] != '#' &&
           !(u->special && s[end] == '\\'))
        end++;
    for (size_t k = auth; k < end; k++) /* userinfo: up to the last '@' */
        if (s[k] == '@')
            auth = k + 1;
    const char *h = s + auth;
    size_t hn = end - auth, hl;
    if (hn && h[0] == '[') {
        const char *rb = memchr(h, ']', hn);
        if (!rb)
            return -1;
        hl = (size_t)(rb - h) + 1;
        if (hl < hn && h[hl] != ':')
            return -1;
    } else {
        const char *c = memchr(h, ':', hn);
        hl = c ? (size_t)(c - h) : hn;
    }
    if (hl == 0)
        return -1;
    u->host = h;
    u->host_len = hl;
    if (hl < hn) {
        u->has_port = 1;
        u->port = h + hl + 1;
        u->port_len = hn - hl - 1;
    }
    u->rest = s + end;
    u->rest_len = n - end;
    return 0;
}

int ab_url_host(const char *url, size_t len, const char **host, size_t *hlen)
{
    url_parts u;
    if (!url || !host || !hlen)
        return 0;
    while (len && is_blank((unsigned char)url[0]))
        url++, len--;
    if (split_url(url, len, &u) != 0)
        return 0;
    *host = u.host;
    *hlen = u.host_len;
    if (u.host_len >= 2 && u.host[0] == '[') {
        (*host)++;
        *hlen -= 2;
    }
    return *hlen > 0;
}

/* ---- hosts --------------------------------------------------------------------------------- */

#define HOST_MAX 1024

/* WHATWG IPv4 number: decimal, 0x hex or 0-prefixed octal. -1 when not a number. */
static int64_t ipv4_number(const char *s, size_t n)
{
    int base = 10;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2, n -= 2;
    else if (n >= 2 && s[0] == '0')
        base = 8, s++, n--;
    if (n == 0)
        return base == 16 ? 0 : -1; /* "0x" is 0; "" is not a number */
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hexval((unsigned char)s[i]);
        if (d < 0 || d >= base)
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
        if (v > 0xffffffffull)
            return -1;
    }
    return (int64_t)v;
}

/* A host "ending in a number" is an IPv4 address in WHATWG's sense: write its dotted quad to
 * q (16 bytes). Returns the length, or 0 when it is not one (a name, or an invalid address,
 * which is then kept as the name it looks like). */
static size_t ipv4_canon(const char *h, size_t n, char q[16])
{
    int64_t part[4];
    size_t np = 0, start = 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && h[i] != '.')
            continue;
        if (np == 4)
            return 0;
        part[np] = ipv4_number(h + start, i - start);
        if (part[np] < 0)
            return 0;
        np++;
        start = i + 1;
    }
    uint64_t v = 0;
    for (size_t i = 0; i + 1 < np; i++) {
        if (part[i] > 255)
            return 0;
        v = (v << 8) | (uint64_t)part[i];
    }
    if (np < 4 && (uint64_t)part[np - 1] >= (1ull << (8 * (5 - np))))
        return 0;
    if (np == 4 && part[3] > 255)
        return 0;
    v = (v << (8 * (5 - np))) | (uint64_t)part[np - 1];
    int k = snprintf(q, 16, "%u.%u.%u.%u", (unsigned)(v >> 24) & 255, (unsigned)(v >> 16) & 255,
                     (unsigned)(v >> 8) & 255, (unsigned)v & 255);
    return k > 0 && k < 16 ? (size_t)k : 0;
}

/* An IPv6 literal (inside brackets or bare) in RFC 5952 form; a zone id is dropped. */
static size_t ipv6_canon(const char *h, size_t n, int brackets, char *out, size_t cap)
{
    char tmp[64], txt[INET6_ADDRSTRLEN];
    unsigned char a[16];
    const char *pct = memchr(h, '%', n);
    if (pct)
        n = (size_t)(pct - h);
    if (n == 0 || n >= sizeof(tmp))
        return 0;
    memcpy(tmp, h, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET6, tmp, a) != 1 || !inet_ntop(AF_INET6, a, txt, sizeof(txt)))
        return 0;
    int k = snprintf(out, cap, brackets ? "[%s]" : "%s", txt);
    return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

/* Bytes a host keeps escaped: what would change the URL's structure if decoded. */
static int host_forbidden(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || strchr("/?#@[]\\:%<>^|\"", c) != NULL;
}

static size_t copy_out(const char *s, size_t n, char *out, size_t cap)
{
    if (n + 1 > cap)
        return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return n;
}

size_t ab_host_normalize(const char *in, size_t len, char *out, size_t cap)
{
    char buf[3 * HOST_MAX + 1];
    if (!out || !cap)
        return 0;
    out[0] = '\0';
    if (!in || !len || len > HOST_MAX)
        return 0;
    if (in[0] == '[') {
        if (len < 3 || in[len - 1] != ']')
            return 0;
        return ipv6_canon(in + 1, len - 2, 1, out, cap); /* a literal, or no host at all */
    } else if (memchr(in, ':', len)) {
        size_t k = ipv6_canon(in, len, 0, out, cap);
        if (k)
            return k;
    }
    wbuf w = {buf, sizeof(buf) - 1, 0, 0};
    int high = 0, kept_escape = 0;
    for (size_t i = 0; i < len; i++) {
        int v = escape_at(in, len, i);
        if (v >= 0) {
            i += 2;
            if (host_forbidden((unsigned char)v)) {
                put_escape(&w, (unsigned char)v);
                kept_escape = 1;
                continue;
            }
        } else {
            v = (unsigned char)in[i];
            if (host_forbidden((unsigned char)v)) {
                put_escape(&w, (unsigned char)v); /* as its escape would be: one spelling */
                kept_escape = 1;
                continue;
            }
        }
        high |= v >= 0x80;
        put(&w, lower((char)v));
    }
    if (w.over || w.n > HOST_MAX) /* normalised, a host is at most HOST_MAX too */
        return 0;
    size_t n = w.n;
    while (n && buf[n - 1] == '.') /* the root dot (and more: one spelling of one name) */
        n--;
    if (!n)
        return 0;
    buf[n] = '\0';
    if (high && !kept_escape && !memchr(buf, '\0', n)) {
        char a[HOST_MAX + 1];
        size_t k = ab_domain_to_ascii(buf, n, a, sizeof(a));
        for (size_t i = 0; i < k; i++) /* UTS #46 maps U+00A0 to a space, for one */
            if (host_forbidden((unsigned char)a[i]))
                k = 0;
        while (k && a[k - 1] == '.') /* U+3002 maps to a dot */
            k--;
        if (k) { /* the A-labels go on as the name: they may spell an IPv4 address */
            memcpy(buf, a, k);
            n = k;
            buf[n] = '\0';
        }
    }
    char q[16];
    size_t qn = ipv4_canon(buf, n, q);
    if (qn)
        return copy_out(q, qn, out, cap);
    return copy_out(buf, n, out, cap);
}

/* ---- URL normalisation --------------------------------------------------------------------- */

/* Characters path and query hold percent-encoded (WHATWG's path set, and '|' and '^'). */
static int needs_escape(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || strchr("\"<>^`{|}", c) != NULL;
}

static void pct_normalize(wbuf *w, const char *s, size_t n, int special)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int v = escape_at(s, n, i);
        if (v >= 0) {
            i += 2;
            if (is_unreserved((unsigned char)v))
                put(w, (char)v);
            else
                put_escape(w, (unsigned char)v);
        } else if (c == '%') { /* not an escape: escaped, so that normalising is idempotent */
            put_escape(w, c);
        } else if (c == '\\' && special) {
            put(w, '/');
        } else if (needs_escape(c)) {
            put_escape(w, c);
        } else {
            put(w, (char)c);
        }
    }
}

/* RFC 3986 5.2.4 in place on p[0..n) (a path that starts with '/'): the output never outgrows
 * the input consumed, so it is written over the input. Returns the new length. */
static size_t remove_dot_segments(char *p, size_t n)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t left = n - i;
        char *s = p + i;
        if (left >= 3 && !memcmp(s, "../", 3)) {
            i += 3;
        } else if (left >= 2 && !memcmp(s, "./", 2)) {
            i += 2;
        } else if (left >= 3 && !memcmp(s, "/./", 3)) {
            i += 2;
        } else if (left == 2 && !memcmp(s, "/.", 2)) {
            i += 1;
            p[i] = '/';
        } else if ((left >= 4 && !memcmp(s, "/../", 4)) || (left == 3 && !memcmp(s, "/..", 3))) {
            i += left == 3 ? 2 : 3;
            p[i] = '/';
            while (o > 0 && p[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if ((left == 1 && s[0] == '.') || (left == 2 && !memcmp(s, "..", 2))) {
            i = n;
        } else {
            do
                p[o++] = p[i++];
            while (i < n && p[i] != '/');
        }
    }
    return o;
}

/* Port text without leading zeros into pb; 0 when it is the scheme's default or empty, -1 when
 * it is not a port (not decimal, over 65535: browsers refuse such URLs too). */
static int port_norm(const url_parts *u, char *pb, size_t cap)
{
    const char *p = u->port;
    size_t n = u->port_len;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (unsigned long)(p[i] - '0');
        if (v > 65535)
            return -1;
    }
    if (n == 0)
        return 0;
    int k = snprintf(pb, cap, "%lu", v);
    if (k <= 0 || (size_t)k >= cap)
        return -1;
    int dflt = (ieq(u->scheme, u->scheme_len, "http") && v == 80) ||
               (ieq(u->scheme, u->scheme_len, "https") && v == 443) ||
               (ieq(u->scheme, u->scheme_len, "ftp") && v == 21);
    return dflt ? 0 : k;
}

size_t ab_url_normalize(const char *in, size_t len, char *out, size_t cap)
{
    char s[AB_URL_MAX];
    if (!out || !cap)
        return 0;
    out[0] = '\0';
    if (!in)
        return 0;
    while (len && is_blank((unsigned char)in[0]))
        in++, len--;
    while (len && is_blank((unsigned char)in[len - 1]))
        len--;
    if (!len || len > AB_URL_MAX)
        return 0;
    size_t n = 0; /* TAB, CR and LF inside are dropped, as browsers do */
    for (size_t i = 0; i < len; i++)
        if (in[i] != '\t' && in[i] != '\r' && in[i] != '\n')
            s[n++] = in[i];
    url_parts u;
    if (split_url(s, n, &u) != 0)
        return 0;
    char host[3 * HOST_MAX + 1], port[16];
    size_t hn = ab_host_normalize(u.host, u.host_len, host, sizeof(host));
    if (!hn)
        return 0;
    int pk = u.has_port ? port_norm(&u, port, sizeof(port)) : 0;
    if (pk < 0)
        return 0;
    size_t pn = (size_t)pk;

    wbuf w = {out, cap - 1, 0, 0};
    for (size_t i = 0; i < u.scheme_len; i++)
        put(&w, lower(u.scheme[i]));
    puts_n(&w, "://", 3);
    puts_n(&w, host, hn);
    if (pn) {
        put(&w, ':');
        puts_n(&w, port, pn);
    }
    const char *r = u.rest, *end = r + u.rest_len;
    const char *hash = memchr(r, '#', u.rest_len);
    if (hash)
        end = hash;
    const char *q = memchr(r, '?', (size_t)(end - r));
    const char *pend = q ? q : end;
    size_t base = w.n;
    if (pend == r)
        put(&w, '/');
    else
        pct_normalize(&w, r, (size_t)(pend - r), u.special);
    if (!w.over)
        w.n = base + remove_dot_segments(out + base, w.n - base);
    if (w.n == base)
        put(&w, '/');
    if (q) {
        put(&w, '?');
        pct_normalize(&w, q + 1, (size_t)(end - q - 1), 0);
    }
    if (w.over) {
        out[0] = '\0';
        return 0;
    }
    out[w.n] = '\0';
    return w.n;
}

/* ---- extraction from text ------------------------------------------------------------------ */

/* Length of a byte sequence at t[i] that ends a URL: ASCII blanks and controls, <>"`, and the
 * Unicode spaces, curly quotes and guillemets of mail bodies. 0 when none. */
static size_t stop_at(const char *t, size_t n, size_t i)
{
    unsigned char c = (unsigned char)t[i];
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '`')
        return 1;
    if (c < 0x80 || i + 1 >= n)
        return 0;
    unsigned char c1 = (unsigned char)t[i + 1];
    if (c == 0xc2 && (c1 == 0xa0 || c1 == 0xab || c1 == 0xbb)) /* NBSP, guillemets */
        return 2;
    if (i + 2 >= n)
        return 0;
    unsigned char c2 = (unsigned char)t[i + 2];
    if (c == 0xe2 && c1 == 0x80 &&
        ((c2 >= 0x80 && c2 <= 0x8f) || (c2 >= 0x98 && c2 <= 0x9f) || c2 == 0xa8 || c2 == 0xa9 ||
         c2 == 0xaf))
        return 3; /* U+2000-200F spaces and zero widths, U+2018-201F quotes, U+2028/9, U+202F */
    if ((c == 0xe2 && c1 == 0x81 && c2 == 0x9f) || (c == 0xe3 && c1 == 0x80 && c2 == 0x80) ||
        (c == 0xef && c1 == 0xbb && c2 == 0xbf))
        return 3; /* U+205F, U+3000, U+FEFF */
    return 0;
}

static int prefix_ci(const char *t, size_t n, size_t i, const char *w)
{
    size_t k = strlen(w);
    if (n - i < k)
        return 0;
    for (size_t j = 0; j < k; j++)
        if (lower(t[i + j]) != w[j])
            return 0;
    return 1;
}

/* A defanged dot ("[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}") or colon ("[:]") at t[i]:
 * its length, with the character it stands for in *c. 0 when none. */
static size_t token_at(const char *t, size_t n, size_t i, char *c)
{
    static const char *const dots[] = {"[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}"};
    unsigned char b = (unsigned char)t[i];
    if (b != '[' && b != '(' && b != '{')
        return 0;
    for (size_t k = 0; k < sizeof(dots) / sizeof(dots[0]); k++)
        if (prefix_ci(t, n, i, dots[k])) {
            *c = '.';
            return strlen(dots[k]);
        }
    if (prefix_ci(t, n, i, "[:]")) {
        *c = ':';
        return 3;
    }
    return 0;
}

/* A byte of a host name run: letters, digits, '-', '_', '.', and UTF-8 bytes. */
static int is_run(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '_' || c == '.' || c >= 0x80;
}

typedef struct xstate {
    const char *t;
    size_t n;
    ab_url_found_fn cb;
    void *ctx;
    unsigned found;
    int stop;   /* the callback asked to stop */
    size_t gt;  /* position of the next '>' at or after the scan position (n: none) */
    int gt_set; /* gt is valid */
    char b[AB_URL_TEXT_MAX + 1];
    size_t bn;
    int defanged;
} xstate;

static void bput(xstate *x, char c)
{
    if (x->bn < AB_URL_TEXT_MAX)
        x->b[x->bn++] = c;
}

/* Copy URL bytes from t[j] into the buffer, refanging tokens, up to a stop (or, bracketed, up to
 * end with blanks skipped). Returns the position reached. */
static size_t collect(xstate *x, size_t j, size_t end, int bracketed)
{
    while (j < end) {
        unsigned char c = (unsigned char)x->t[j];
        if (bracketed && is_blank(c)) {
            j++;
            continue;
        }
        if (stop_at(x->t, x->n, j))
            break;
        char r;
        size_t k = token_at(x->t, x->n, j, &r);
        if (k) {
            bput(x, r);
            x->defanged = 1;
            j += k;
            continue;
        }
        bput(x, (char)c);
        j++;
    }
    return j;
}

/* Drop trailing punctuation, and closing brackets and quotes the URL does not open (a quote
 * closes the one before the URL, quoted, or an odd one). */
static void strip_tail(xstate *x, size_t keep, int quoted)
{
    size_t open[3] = {0}, close[3] = {0}, quotes = 0;
    static const char opens[] = "([{", closes[] = ")]}";
    for (size_t i = 0; i < x->bn; i++) {
        const char *o = strchr(opens, x->b[i]), *c = strchr(closes, x->b[i]);
        if (x->b[i] && o)
            open[o - opens]++;
        else if (x->b[i] && c)
            close[c - closes]++;
        else if (x->b[i] == '\'')
            quotes++;
    }
    while (x->bn > keep) {
        char c = x->b[x->bn - 1];
        const char *cl = c ? strchr(closes, c) : NULL;
        if (c && strchr(".,;:!?", c)) {
            x->bn--;
        } else if (cl && close[cl - closes] > open[cl - closes]) {
            close[cl - closes]--;
            x->bn--;
        } else if (c == '\'' && (quoted || quotes % 2)) {
            quotes--;
            quoted = 0;
            x->bn--;
        } else {
            break;
        }
    }
}

static void report(xstate *x, const char *type)
{
    if (x->stop || x->found >= AB_URL_TEXT_URLS)
        return;
    x->b[x->bn] = '\0';
    x->found++;
    if (x->cb(x->ctx, type, x->b, x->bn, x->defanged))
        x->stop = 1;
}

/* The '>' closing a URL that starts at j right after '<', or 0 when it is not bracketed. */
static size_t bracket_end(xstate *x, size_t start, size_t j)
{
    if (start == 0 || x->t[start - 1] != '<')
        return 0;
    if (!x->gt_set || x->gt < j) {
        const char *g = memchr(x->t + j, '>', x->n - j);
        x->gt = g ? (size_t)(g - x->t) : x->n;
        x->gt_set = 1;
    }
    if (x->gt >= x->n || x->gt - j > 2 * AB_URL_TEXT_MAX)
        return 0;
    return x->gt;
}

/* The URL body from t[j] (the buffer holds "scheme://" or the like; keep is its length).
 * Returns the position after it. */
static size_t url_body(xstate *x, size_t start, size_t j, size_t keep)
{
    size_t g = bracket_end(x, start, j);
    size_t e;
    if (g) {
        e = collect(x, j, g, 1);
        if (e == g)
            e = g + 1;
    } else {
        e = collect(x, j, x->n, 0);
        strip_tail(x, keep, start > 0 && x->t[start - 1] == '\'');
    }
    /* A host must follow: a letter, digit, UTF-8 byte or an IPv6 '['. */
    if (x->bn > keep) {
        unsigned char h = (unsigned char)x->b[keep];
        if (is_alnum(h) || h >= 0x80 || h == '[')
            report(x, "url");
    }
    return e;
}

/* 1 when a defanged dot comes in the host starting at t[j] (bounded: 256 bytes). "http://
 * alone" is prose; "http:// evil[.]example" is a defanged URL. */
static int defanged_host(const xstate *x, size_t j)
{
    char r;
    for (size_t k = j; k < x->n && k < j + 256; k++) {
        if (token_at(x->t, x->n, k, &r) && r == '.')
            return 1;
        if (!is_run((unsigned char)x->t[k]) || stop_at(x->t, x->n, k))
            return 0;
    }
    return 0;
}

typedef struct scheme_word {
    const char *word, *scheme;
    int defanged;
} scheme_word;

/* A URL starting at t[i] with a scheme (plain or defanged). Returns the position after it, or
 * i when there is none. */
static size_t try_scheme(xstate *x, size_t i)
{
    static const scheme_word words[] = {
        {"https", "https", 0},  {"http", "http", 0},   {"ftp", "ftp", 0},   {"hxxps", "https", 1},
        {"hxxp", "http", 1},    {"h**ps", "https", 1}, {"h**p", "http", 1}, {"fxp", "ftp", 1},
        {"hxxxps", "https", 1}, {"hxxxp", "http", 1},  {"fxxp", "ftp", 1},
    };
    const char *t = x->t;
    size_t n = x->n;
    for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
        if (!prefix_ci(t, n, i, words[w].word))
            continue;
        size_t j = i + strlen(words[w].word);
        int def = words[w].defanged;
        if (prefix_ci(t, n, j, "://")) {
            j += 3;
        } else if (prefix_ci(t, n, j, "[://]")) {
            j += 5, def = 1;
        } else if (prefix_ci(t, n, j, "[:]//") || prefix_ci(t, n, j, "(:)//")) {
            j += 5, def = 1;
        } else {
            continue;
        }
        size_t sp = 0; /* "hxxp:// evil[.]example": blanks after the separator */
        while (j + sp < n && sp < 3 && (t[j + sp] == ' ' || t[j + sp] == '\t'))
            sp++;
        if (sp && j + sp < n && (is_alnum((unsigned char)t[j + sp]) || t[j + sp] == '[') &&
            (def || defanged_host(x, j + sp))) {
            j += sp;
            def = 1;
        }
        x->bn = 0;
        x->defanged = def;
        size_t sl = strlen(words[w].scheme);
        memcpy(x->b, words[w].scheme, sl);
        memcpy(x->b + sl, "://", 3);
        x->bn = sl + 3;
        return url_body(x, i, j, x->bn);
    }
    return i;
}

/* "www." (or "www[.]") at t[i]: an http URL. */
static size_t try_www(xstate *x, size_t i)
{
    char r;
    if (!prefix_ci(x->t, x->n, i, "www"))
        return i;
    size_t j = i + 3, k;
    if (j < x->n && x->t[j] == '.')
        k = 1;
    else if (j < x->n && (k = token_at(x->t, x->n, j, &r)) && r == '.')
        ;
    else
        return i;
    if (j + k >= x->n ||
        !(is_alnum((unsigned char)x->t[j + k]) || (unsigned char)x->t[j + k] >= 0x80))
        return i;
    memcpy(x->b, "http://", 7);
    x->bn = 7;
    x->defanged = 0;
    return url_body(x, i, i, 7);
}

/* Validate the host in b[0..bn): "domain", "ip" (four numeric labels) or NULL. */
static const char *bare_kind(const char *b, size_t n)
{
    if (n == 0 || n > 253)
        return NULL;
    size_t labels = 0, start = 0;
    int numeric = 1, last_numeric = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && b[i] != '.')
            continue;
        size_t ln = i - start;
        if (ln == 0 || ln > 63)
            return NULL;
        int digits = 1;
        for (size_t k = start; k < i; k++)
            digits &= is_digit((unsigned char)b[k]);
        if (digits && (ln > 3 || (ln == 3 && memcmp(b + start, "255", 3) > 0)))
            numeric = 0;
        numeric &= digits;
        last_numeric = digits;
        labels++;
        start = i + 1;
        if (i == n && !digits) { /* a top-level label: 2+ bytes, not starting with '-' */
            if (ln < 2 || b[i - ln] == '-')
                return NULL;
        }
    }
    if (labels < 2)
        return NULL;
    if (numeric && labels == 4)
        return "ip";
    return last_numeric ? NULL : "domain";
}

/* A defanged bare domain whose run of host bytes starts at t[s] (a token is at t[i]). Returns
 * the position after it (always past i: what fails to be a domain is skipped as a whole). */
static size_t try_bare(xstate *x, size_t s, size_t i)
{
    const char *t = x->t;
    size_t n = x->n, j = s, raw = 0;
    while (j < i && (t[j] == '.' || t[j] == '-' || t[j] == '_'))
        j++;
    x->bn = 0;
    x->defanged = 1;
    memcpy(x->b, "http://", 7);
    x->bn = 7;
    while (j < n && raw < 1300) { /* 253 bytes of name, each dot spelt "(dot)" at most */
        char r;
        size_t k = token_at(t, n, j, &r);
        if (k && r == '.') {
            bput(x, '.');
            j += k, raw += k;
        } else if (is_run((unsigned char)t[j]) && !stop_at(t, n, j)) {
            bput(x, t[j]);
            j++, raw++;
        } else {
            break;
        }
    }
    if (j <= i)
        return i + 1;
    while (x->bn > 7 && (x->b[x->bn - 1] == '.' || x->b[x->bn - 1] == '-'))
        x->bn--;
    const char *kind = bare_kind(x->b + 7, x->bn - 7);
    if (!kind)
        return j;
    int path =
        j < n && (t[j] == '/' || (t[j] == ':' && j + 1 < n && is_digit((unsigned char)t[j + 1])));
    if (path) {
        size_t e = collect(x, j, n, 0);
        strip_tail(x, 7, s > 0 && t[s - 1] == '\'');
        report(x, "url");
        return e;
    }
    memmove(x->b, x->b + 7, x->bn - 7);
    x->bn -= 7;
    report(x, kind);
    return j;
}

int ab_url_extract_text(const char *text, size_t len, ab_url_found_fn cb, void *ctx)
{
    static xstate zero;
    xstate x = zero;
    if (!text || !cb)
        return 0;
    x.t = text;
    x.n = len;
    x.cb = cb;
    x.ctx = ctx;
    size_t i = 0, run = 0;
    int in_run = 0;
    while (i < len && !x.stop && x.found < AB_URL_TEXT_URLS) {
        unsigned char c = (unsigned char)text[i];
        unsigned char prev = i ? (unsigned char)text[i - 1] : ' ';
        size_t e = i;
        if (!is_alnum(prev) && (lower((char)c) == 'h' || lower((char)c) == 'f'))
            e = try_scheme(&x, i);
        if (e == i && lower((char)c) == 'w' && !is_alnum(prev) && !strchr(".-_@/", prev))
            e = try_www(&x, i);
        char r;
        if (e == i && in_run && i > run && (c == '[' || c == '(' || c == '{')) {
            size_t k = token_at(text, len, i, &r);
            if (k && r == '.' && i + k < len && is_alnum((unsigned char)text[i + k]) &&
                is_run(prev) && prev != '.')
                e = try_bare(&x, run, i);
        }
        if (e > i) {
            i = e;
            in_run = 0;
            continue;
        }
        size_t k = stop_at(text, len, i);
        if (k) {
            in_run = 0;
            i += k;
            continue;
        }
        if (is_run(c)) {
            if (!in_run)
                run = i, in_run = 1;
        } else {
            in_run = 0;
        }
        i++;
    }
    return x.stop;
}
