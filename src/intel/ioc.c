/* ioc.c: the IOC store: arena-backed indicator vectors, our native format, value validation,
 * reading files and folders, and the sorted hash look-ups built by ab_iocs_compile. */
#include "intel/ioc_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/diag.h"
#include "intel/lookalike.h"
#include "match/domain.h"
#include "match/url.h"

/* ---- Type names ------------------------------------------------------------------------------ */

static const char *const type_names[AB_IOC_TYPE_COUNT] = {
    [AB_IOC_MD5] = "md5",
    [AB_IOC_SHA1] = "sha1",
    [AB_IOC_SHA256] = "sha256",
    [AB_IOC_FILENAME_RE] = "filename-regex",
    [AB_IOC_PROTECTED_NAME] = "protected-name",
    [AB_IOC_IP] = "ip",
    [AB_IOC_CIDR] = "cidr",
    [AB_IOC_DOMAIN] = "domain",
    [AB_IOC_URL] = "url",
    [AB_IOC_EMAIL] = "email",
    [AB_IOC_JA3] = "ja3",
    [AB_IOC_JA3S] = "ja3s",
    [AB_IOC_CERT_SHA1] = "cert-sha1",
    [AB_IOC_CERT_SHA256] = "cert-sha256",
    [AB_IOC_JA4] = "ja4",
};

const char *ab_ioc_type_name(ab_ioc_type t)
{
    if ((unsigned)t >= AB_IOC_TYPE_COUNT)
        return "unknown";
    return type_names[t];
}

int ab_ioc_type_from_name(const char *name, size_t len)
{
    if (!name)
        return -1;
    for (int t = 0; t < AB_IOC_TYPE_COUNT; t++) {
        if (strlen(type_names[t]) == len && strncasecmp(type_names[t], name, len) == 0)
            return t;
    }
    return -1;
}

size_t ab_ioc_hex_len(ab_ioc_type t)
{
    switch (t) {
    case AB_IOC_MD5:
    case AB_IOC_JA3:
    case AB_IOC_JA3S:
        return 32;
    case AB_IOC_SHA1:
    case AB_IOC_CERT_SHA1:
        return 40;
    case AB_IOC_SHA256:
    case AB_IOC_CERT_SHA256:
        return 64;
    default:
        return 0;
    }
}

static int is_file_hash(ab_ioc_type t)
{
    return t == AB_IOC_MD5 || t == AB_IOC_SHA1 || t == AB_IOC_SHA256;
}

/* ---- Arena ----------------------------------------------------------------------------------- */

/* Strings are many and small; one block per 64 KiB keeps malloc overhead and frees trivial. */
#define ARENA_BLOCK ((size_t)64 << 10)

struct ioc_arena_block {
    ioc_arena_block *next;
    size_t used;
    size_t size;
    char data[];
};

static char *arena_alloc(ab_iocs *s, size_t n)
{
    ioc_arena_block *b = s->arena;
    if (b && b->size - b->used >= n) {
        char *p = b->data + b->used;
        b->used += n;
        return p;
    }
    size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
    ioc_arena_block *nb = malloc(sizeof(*nb) + size);
    if (!nb)
        return NULL;
    nb->size = size;
    nb->used = n;
    if (size == n && b) {
        /* A big string gets its own block behind the current one, which keeps its free room. */
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        s->arena = nb;
    }
    return nb->data;
}

char *ioc_strndup(ab_iocs *s, const char *p, size_t n)
{
    if (n >= SIZE_MAX - sizeof(ioc_arena_block))
        return NULL;
    char *d = arena_alloc(s, n + 1);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

char *ioc_optdup(ab_iocs *s, const char *p, size_t n, int *nomem)
{
    if (!p || n == 0)
        return NULL;
    char *d = ioc_strndup(s, p, n);
    if (!d)
        *nomem = 1;
    return d;
}

/* ---- Store ----------------------------------------------------------------------------------- */

ab_status ab_iocs_new(ab_iocs **out)
{
    if (!out)
        return AB_ERR_ARG;
    *out = calloc(1, sizeof(**out));
    return *out ? AB_OK : AB_ERR_NOMEM;
}

void ab_iocs_free(ab_iocs *s)
{
    if (!s)
        return;
    ioc_names_free(s);
    ab_ipset_free(s->net);
    ioc_obs_free(s);
    for (int t = 0; t < AB_IOC_TYPE_COUNT; t++)
        free(s->by_type[t].items);
    for (int i = 0; i < 3; i++)
        free(s->allow[i].items);
    ioc_arena_block *b = s->arena;
    while (b) {
        ioc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(s);
}

static ab_status vec_push(ioc_vec *v, const ab_ioc *ioc)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(ab_ioc))
            return AB_ERR_NOMEM;
        ab_ioc *p = realloc(v->items, cap * sizeof(ab_ioc));
        if (!p)
            return AB_ERR_NOMEM;
        v->items = p;
        v->cap = cap;
    }
    v->items[v->len++] = *ioc;
    return AB_OK;
}

static ioc_vec *vec_for(ab_iocs *s, const ab_ioc *ioc)
{
    if (ioc->allow && is_file_hash(ioc->type))
        return &s->allow[ioc->type];
    return &s->by_type[ioc->type];
}

static void note_where(const ioc_load *ld, char *where, size_t n)
{
    snprintf(where, n, "%s:%zu", ld->source, ld->lineno);
}

ab_status ioc_add(ioc_load *ld, ab_ioc *ioc)
{
    ab_iocs *s = ld->s;
    if (s->total >= AB_IOC_MAX_TOTAL) {
        ioc_note(ld, "the store holds at most %zu indicators", AB_IOC_MAX_TOTAL);
        return AB_ERR_LIMIT;
    }
    if (ioc->type == AB_IOC_FILENAME_RE && s->by_type[AB_IOC_FILENAME_RE].len >= AB_IOC_MAX_REGEX) {
        ioc_note(ld, "the store holds at most %zu filename regexes", AB_IOC_MAX_REGEX);
        return AB_ERR_LIMIT;
    }
    if (ioc->type == AB_IOC_PROTECTED_NAME &&
        s->by_type[AB_IOC_PROTECTED_NAME].len >= AB_IOC_MAX_PROTECTED) {
        ioc_note(ld, "the store holds at most %zu protected names", AB_IOC_MAX_PROTECTED);
        return AB_ERR_LIMIT;
    }
    char where[32];
    int n = snprintf(where, sizeof(where), ":%zu", ld->lineno);
    size_t slen = strlen(ld->source);
    char *src = arena_alloc(s, slen + (size_t)n + 1);
    if (!src)
        return AB_ERR_NOMEM;
    memcpy(src, ld->source, slen);
    memcpy(src + slen, where, (size_t)n + 1);
    ioc->source = src;
    ab_status st = vec_push(vec_for(s, ioc), ioc);
    if (st == AB_OK)
        s->total++;
    return st;
}

/* ---- Diagnostics ----------------------------------------------------------------------------- */

ab_status ioc_bad(ioc_load *ld, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->msg, sizeof(ld->msg), fmt, ap);
    va_end(ap);
    return AB_ERR_PARSE;
}

void ioc_note(ioc_load *ld, const char *fmt, ...)
{
    if (!ld->diag)
        return;
    char msg[256];
    char where[4200]; /* a path up to PATH_MAX and the line number */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    note_where(ld, where, sizeof(where));
    ld->diag(ld->ctx, AB_DIAG_ERROR, where, msg);
}

const char *ioc_snip(const char *p, size_t n, char *out, size_t outsz)
{
    size_t max = outsz - 4; /* room for "..." and the NUL */
    size_t i;
    for (i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)p[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (i < n) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

/* ---- Small parsing helpers ------------------------------------------------------------------- */

void ioc_trim(const char **p, size_t *n, const char *set)
{
    while (*n && strchr(set, (*p)[0]))
        (*p)++, (*n)--;
    while (*n && strchr(set, (*p)[*n - 1]))
        (*n)--;
}

int ioc_all_digits(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
    }
    return 1;
}

int ioc_parse_score(const char *p, size_t n, int *score)
{
    /* Three digits at most, so no overflow; "007" is accepted as 7. */
    if (n > 3 || !ioc_all_digits(p, n))
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    if (v > 100)
        return -1;
    *score = v;
    return 0;
}

int ioc_is_empty_file_hash(const char *hex, size_t n)
{
    static const char *const empty[] = {
        "d41d8cd98f00b204e9800998ecf8427e",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    };
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        if (strlen(empty[i]) == n && memcmp(empty[i], hex, n) == 0)
            return 1;
    }
    return 0;
}

/* ---- Value normalisation --------------------------------------------------------------------- */

static int bad(char *msg, size_t msgsz, const char *why)
{
    snprintf(msg, msgsz, "%s", why);
    return -1;
}

static int norm_hex(const char *in, size_t n, size_t want, int colons, char *out, size_t *outlen,
                    char *msg, size_t msgsz)
{
    /* Certificate fingerprints are often written "AB:CD:..."; accept that for cert types. */
    if (colons && n == want + want / 2 - 1) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (i % 3 == 2) {
                if (in[i] != ':')
                    return bad(msg, msgsz, "malformed colon-separated fingerprint");
                continue;
            }
            out[o++] = in[i];
        }
        in = out;
        n = o;
    }
    if (n != want) {
        snprintf(msg, msgsz, "expected %zu hex digits, got %zu characters", want, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)in[i]))
            return bad(msg, msgsz, "not a hex digest");
        out[i] = (char)tolower((unsigned char)in[i]);
    }
    *outlen = n;
    return 0;
}

/* Parse an IPv4/IPv6 address (n bytes) into addr; returns AF_INET, AF_INET6 or 0. */
static int parse_ip(const char *in, size_t n, unsigned char addr[16])
{
    char tmp[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof(tmp))
        return 0;
    memcpy(tmp, in, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, addr) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, tmp, addr) == 1)
        return AF_INET6;
    return 0;
}

static int norm_ip(const char *in, size_t n, char *out, size_t outcap, size_t *outlen, char *msg,
                   size_t msgsz)
{
    unsigned char addr[16];
    int af = parse_ip(in, n, addr);
    if (!af || outcap < INET6_ADDRSTRLEN)
        return bad(msg, msgsz, "not an IPv4 or IPv6 address");
    if (!inet_ntop(af, addr, out, (socklen_t)outcap))
        return bad(msg, msgsz, "not an IPv4 or IPv6 address");
    *outlen = strlen(out);
    return 0;
}

static int norm_cidr(const char *in, size_t n, char *out, size_t outcap, size_t *outlen, char *msg,
                     size_t msgsz)
{
    const char *slash = memchr(in, '/', n);
    if (!slash)
        return bad(msg, msgsz, "CIDR needs ADDRESS/PREFIX");
    size_t alen = (size_t)(slash - in);
    const char *pfx = slash + 1;
    size_t plen = n - alen - 1;
    unsigned char addr[16];
    int af = parse_ip(in, alen, addr);
    if (!af)
        return bad(msg, msgsz, "CIDR address is not IPv4 or IPv6");
    int bits = af == AF_INET ? 32 : 128;
    if (plen == 0 || plen > 3 || !ioc_all_digits(pfx, plen))
        return bad(msg, msgsz, "CIDR prefix length is not a number");
    int prefix = 0;
    for (size_t i = 0; i < plen; i++)
        prefix = prefix * 10 + (pfx[i] - '0');
    if (prefix > bits)
        return bad(msg, msgsz, "CIDR prefix length out of range");
    /* Clear the host bits so that 10.1.2.3/8 and 10.0.0.0/8 are the same indicator. */
    int bytes = bits / 8;
    for (int i = 0; i < bytes; i++) {
        int keep = prefix - i * 8;
        if (keep <= 0)
            addr[i] = 0;
        else if (keep < 8)
            addr[i] &= (unsigned char)(0xff << (8 - keep));
    }
    char ip[INET6_ADDRSTRLEN];
    if (!inet_ntop(af, addr, ip, sizeof(ip)))
        return bad(msg, msgsz, "CIDR address is not IPv4 or IPv6");
    int w = snprintf(out, outcap, "%s/%d", ip, prefix);
    if (w < 0 || (size_t)w >= outcap)
        return bad(msg, msgsz, "CIDR too long");
    *outlen = (size_t)w;
    return 0;
}

/* A plausible host name: labels of 1-63 letters, digits, '-' or '_', at most 253 bytes, the last
 * label not all digits (that would be a malformed IP). wildcard allows a leading "*.". */
static int norm_domain(const char *in, size_t n, int wildcard, char *out, size_t *outlen, char *msg,
                       size_t msgsz)
{
    size_t o = 0;
    if (wildcard && n >= 2 && in[0] == '*' && in[1] == '.') {
        out[o++] = '*';
        out[o++] = '.';
        in += 2;
        n -= 2;
    }
    char idn[AB_MAX_DOMAIN + 8];
    int high = 0;
    for (size_t i = 0; i < n; i++)
        high |= (unsigned char)in[i] >= 0x80;
    if (high) { /* a UTF-8 name: compared as A-labels, as hosts are (match/url.h) */
        size_t k = ab_domain_to_ascii(in, n, idn, sizeof(idn));
        if (!k)
            return bad(msg, msgsz, "not a valid internationalised domain name");
        in = idn;
        n = k;
    }
    if (n && in[n - 1] == '.') /* the root dot of a fully qualified name */
        n--;
    if (n == 0)
        return bad(msg, msgsz, "empty domain");
    if (n > 253)
        return bad(msg, msgsz, "domain longer than 253 characters");
    size_t label = 0, label_start = o;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '.') {
            if (label == 0)
                return bad(msg, msgsz, "empty label in domain");
            out[o++] = '.';
            label = 0;
            label_start = o;
            continue;
        }
        if (!isalnum(c) && c != '-' && c != '_')
            return bad(msg, msgsz, "invalid character in domain");
        if (++label > 63)
            return bad(msg, msgsz, "domain label longer than 63 characters");
        out[o++] = (char)tolower(c);
    }
    if (label == 0)
        return bad(msg, msgsz, "empty label in domain");
    if (ioc_all_digits(out + label_start, o - label_start))
        return bad(msg, msgsz, "not a domain (numeric top-level label)");
    *outlen = o;
    return 0;
}

static int has_space_or_ctl(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

/* URLs are compared normalised (match/url.h), so the IOC is stored that way. */
static int norm_url(const char *in, size_t n, char *out, size_t outcap, size_t *outlen, char *msg,
                    size_t msgsz)
{
    if (has_space_or_ctl(in, n))
        return bad(msg, msgsz, "URL contains spaces or control characters");
    if (n > AB_URL_MAX)
        return bad(msg, msgsz, "URL longer than 8192 bytes");
    size_t i = 0;
    while (i < n && i <= 32 && (isalnum((unsigned char)in[i]) || strchr("+.-", in[i])))
        i++;
    if (i == 0 || !isalpha((unsigned char)in[0]) || n - i < 3 || memcmp(in + i, "://", 3) != 0)
        return bad(msg, msgsz, "URL needs a scheme (http://, https://, ...)");
    size_t k = ab_url_normalize(in, n, out, outcap);
    if (!k)
        return bad(msg, msgsz, "URL has no host");
    *outlen = k;
    return 0;
}

static int norm_email(const char *in, size_t n, char *out, size_t *outlen, char *msg, size_t msgsz)
{
    const char *at = memchr(in, '@', n);
    if (!at || memchr(at + 1, '@', n - (size_t)(at - in) - 1))
        return bad(msg, msgsz, "email needs exactly one '@'");
    size_t local = (size_t)(at - in);
    if (local == 0 || local > 64 || has_space_or_ctl(in, local))
        return bad(msg, msgsz, "malformed email local part");
    size_t dlen;
    if (norm_domain(at + 1, n - local - 1, 0, out + local + 1, &dlen, msg, msgsz) != 0)
        return -1;
    /* Mail matching is case-insensitive in practice; store the whole address lower-cased. */
    for (size_t k = 0; k < local; k++)
        out[k] = (char)tolower((unsigned char)in[k]);
    out[local] = '@';
    *outlen = local + 1 + dlen;
    return 0;
}

/* A protected name: a base name compared case-insensitively, so stored lower-cased. Names too
 * short for the lookalike rules (intel/lookalike.h) could never be imitated: refused. */
static int norm_protected(const char *in, size_t n, char *out, size_t *outlen, char *msg,
                          size_t msgsz)
{
    if (n < AB_LOOKALIKE_MIN_HOMOGLYPH) {
        snprintf(msg, msgsz, "shorter than %d characters: its lookalikes are never checked",
                 AB_LOOKALIKE_MIN_HOMOGLYPH);
        return -1;
    }
    if (n > AB_LOOKALIKE_MAX_NAME) {
        snprintf(msg, msgsz, "longer than %d bytes", AB_LOOKALIKE_MAX_NAME);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '/' || c < 0x20 || c == 0x7f)
            return bad(msg, msgsz, "a file or process name: no '/' or control characters");
        out[i] = (char)tolower(c);
    }
    *outlen = n;
    return 0;
}

/* A domain IOC matches its sub-domains too (match/observables.h), so one that is a public
 * suffix or a single label would match every host under it: refused. */
static int norm_domain_ioc(const char *in, size_t n, char *out, size_t *outlen, char *msg,
                           size_t msgsz)
{
    if (norm_domain(in, n, 1, out, outlen, msg, msgsz) != 0)
        return -1;
    out[*outlen] = '\0';
    const char *name = out[0] == '*' ? out + 2 : out;
    if (ab_domain_is_public_suffix(name))
        return bad(msg, msgsz,
                   "a public suffix or a single label: it would match every host under it");
    return 0;
}

/* JA4 (FoxIO): "a_b_c": a is 10 characters (t or q or d, two version digits, d or i, two cipher
 * and two extension count digits, two ALPN characters), b and c 12 hex digits; lower case. */
static int norm_ja4(const char *in, size_t n, char *out, size_t *outlen, char *msg, size_t msgsz)
{
    if (n != 36 || in[10] != '_' || in[23] != '_')
        return bad(msg, msgsz, "not a JA4 fingerprint (a_b_c: 10, 12 and 12 characters)");
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[n] = '\0';
    int ok = strchr("tqd", out[0]) && isdigit((unsigned char)out[1]) &&
             isdigit((unsigned char)out[2]) && (out[3] == 'd' || out[3] == 'i');
    for (size_t i = 4; ok && i < 8; i++)
        ok = isdigit((unsigned char)out[i]);
    for (size_t i = 8; ok && i < 10; i++)
        ok = isalnum((unsigned char)out[i]);
    for (size_t i = 11; ok && i < n; i++)
        ok = i == 23 || isxdigit((unsigned char)out[i]);
    if (!ok)
        return bad(msg, msgsz, "not a JA4 fingerprint (a_b_c: 10, 12 and 12 characters)");
    *outlen = n;
    return 0;
}

int ioc_normalize(ab_ioc_type t, const char *in, size_t n, char *out, size_t outcap, size_t *outlen,
                  char *msg, size_t msgsz)
{
    if (n == 0)
        return bad(msg, msgsz, "empty value");
    if (outcap < n + 64)
        return bad(msg, msgsz, "value too long");
    switch (t) {
    case AB_IOC_MD5:
    case AB_IOC_SHA1:
    case AB_IOC_SHA256:
    case AB_IOC_JA3:
    case AB_IOC_JA3S:
        return norm_hex(in, n, ab_ioc_hex_len(t), 0, out, outlen, msg, msgsz);
    case AB_IOC_CERT_SHA1:
    case AB_IOC_CERT_SHA256:
        return norm_hex(in, n, ab_ioc_hex_len(t), 1, out, outlen, msg, msgsz);
    case AB_IOC_JA4:
        return norm_ja4(in, n, out, outlen, msg, msgsz);
    case AB_IOC_FILENAME_RE:
        if (n > AB_IOC_MAX_REGEX_LEN)
            return bad(msg, msgsz, "regex longer than 4096 bytes");
        memcpy(out, in, n);
        *outlen = n;
        return 0;
    case AB_IOC_PROTECTED_NAME:
        return norm_protected(in, n, out, outlen, msg, msgsz);
    case AB_IOC_IP:
        return norm_ip(in, n, out, outcap, outlen, msg, msgsz);
    case AB_IOC_CIDR:
        return norm_cidr(in, n, out, outcap, outlen, msg, msgsz);
    case AB_IOC_DOMAIN:
        return norm_domain_ioc(in, n, out, outlen, msg, msgsz);
    case AB_IOC_URL:
        return norm_url(in, n, out, outcap, outlen, msg, msgsz);
    case AB_IOC_EMAIL:
        return norm_email(in, n, out, outlen, msg, msgsz);
    default:
        return bad(msg, msgsz, "unknown type");
    }
}

/* ---- Native format --------------------------------------------------------------------------- */

#define NATIVE_FIELDS 6 /* TYPE VALUE DESCRIPTION REFERENCE SCORE FAMILY */

typedef struct field {
    const char *p;
    size_t n;
} field;

/* Split on TABs; returns the field count, or -1 when there are too many. */
static int split_tabs(const char *line, size_t len, field f[NATIVE_FIELDS])
{
    int nf = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (nf == NATIVE_FIELDS)
            return -1;
        f[nf].p = line + start;
        f[nf].n = i - start;
        ioc_trim(&f[nf].p, &f[nf].n, " ");
        nf++;
        start = i + 1;
    }
    return nf;
}

/* "TYPE VALUE" (no TAB): the value is the rest of the line. */
static int split_spaces(const char *line, size_t len, field f[NATIVE_FIELDS])
{
    const char *sp = memchr(line, ' ', len);
    if (!sp)
        return 1;
    f[0].p = line;
    f[0].n = (size_t)(sp - line);
    f[1].p = sp;
    f[1].n = len - f[0].n;
    ioc_trim(&f[1].p, &f[1].n, " ");
    return 2;
}

static ab_status native_store(ioc_load *ld, ab_ioc_type type, const field f[NATIVE_FIELDS], int nf,
                              const char *val, size_t vlen)
{
    int score = type == AB_IOC_PROTECTED_NAME ? AB_LOOKALIKE_SCORE : AB_IOC_DEFAULT_SCORE;
    if (nf > 4 && f[4].n && ioc_parse_score(f[4].p, f[4].n, &score) != 0)
        return ioc_bad(ld, "score must be a number from 0 to 100");
    int nomem = 0;
    ab_ioc ioc = {.type = type, .score = score, .allow = ld->allow};
    ioc.value = ioc_strndup(ld->s, val, vlen);
    ioc.description = nf > 2 ? ioc_optdup(ld->s, f[2].p, f[2].n, &nomem) : NULL;
    ioc.reference = nf > 3 ? ioc_optdup(ld->s, f[3].p, f[3].n, &nomem) : NULL;
    ioc.family = nf > 5 ? ioc_optdup(ld->s, f[5].p, f[5].n, &nomem) : NULL;
    if (!ioc.value || nomem)
        return AB_ERR_NOMEM;
    return ioc_add(ld, &ioc);
}

ab_status ioc_parse_native(ioc_load *ld, char *line, size_t len)
{
    const char *p = line;
    size_t n = len;
    ioc_trim(&p, &n, " \t\r\v\f");
    if (n == 0 || p[0] == '#')
        return AB_OK;
    /* Leading TABs would mean an empty TYPE, so only spaces go from the front. */
    p = line;
    n = len;
    ioc_trim(&p, &n, " \r\v\f");
    while (n && strchr("\t\r\v\f ", p[n - 1]))
        n--;

    field f[NATIVE_FIELDS] = {{0}};
    int nf = memchr(p, '\t', n) ? split_tabs(p, n, f) : split_spaces(p, n, f);
    if (nf < 0)
        return ioc_bad(ld, "more than %d TAB-separated fields", NATIVE_FIELDS);
    if (nf < 2 || f[1].n == 0)
        return ioc_bad(ld, "expected TYPE<TAB>VALUE[...] or TYPE VALUE");
    int type = ab_ioc_type_from_name(f[0].p, f[0].n);
    char snip[48];
    if (type < 0)
        return ioc_bad(ld, "unknown type '%s'", ioc_snip(f[0].p, f[0].n, snip, sizeof(snip)));
    if (ld->allow && !is_file_hash((ab_ioc_type)type))
        return ioc_bad(ld, "an allow-list holds only md5, sha1 or sha256 values");

    char why[128];
    size_t vlen;
    if (ioc_normalize((ab_ioc_type)type, f[1].p, f[1].n, ld->norm, AB_IOC_NORM_CAP, &vlen, why,
                      sizeof(why)) != 0)
        return ioc_bad(ld, "%s: %s", type_names[type], why);
    if (!ld->allow && is_file_hash((ab_ioc_type)type) && ioc_is_empty_file_hash(ld->norm, vlen)) {
        return AB_OK; /* would flag every empty file; skipped silently like Loki */
    }
    return native_store(ld, (ab_ioc_type)type, f, nf, ld->norm, vlen);
}

/* ---- Loading buffers ------------------------------------------------------------------------- */

ab_ioc_format ab_ioc_format_for_name(const char *basename, int *allow, int in_folder)
{
    if (allow)
        *allow = 0;
    if (!basename)
        return in_folder ? AB_IOC_FMT_AUTO : AB_IOC_FMT_NATIVE;
    size_t n = strlen(basename);
    int is_ioc = n >= 4 && strcasecmp(basename + n - 4, ".ioc") == 0;
    int has_hash = strcasestr(basename, "hash") != NULL;
    if (allow)
        *allow = has_hash && strcasestr(basename, "falsepositive") != NULL;
    if (is_ioc)
        return AB_IOC_FMT_NATIVE;
    if (has_hash)
        return AB_IOC_FMT_LOKI_HASH;
    if (strcasestr(basename, "filename"))
        return AB_IOC_FMT_LOKI_FILENAME;
    if (strcasestr(basename, "c2"))
        return AB_IOC_FMT_LOKI_C2;
    return in_folder ? AB_IOC_FMT_AUTO : AB_IOC_FMT_NATIVE;
}

static ioc_line_fn parser_for(ab_ioc_format fmt)
{
    switch (fmt) {
    case AB_IOC_FMT_NATIVE:
        return ioc_parse_native;
    case AB_IOC_FMT_LOKI_HASH:
        return ioc_parse_loki_hash;
    case AB_IOC_FMT_LOKI_FILENAME:
        return ioc_parse_loki_filename;
    case AB_IOC_FMT_LOKI_C2:
        return ioc_parse_loki_c2;
    default:
        return NULL;
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Check the raw line, then hand a mutable copy to the parser. */
static ab_status one_line(ioc_load *ld, char *tmp, const char *p, size_t n, ioc_line_fn fn)
{
    if (n > AB_IOC_MAX_LINE)
        return ioc_bad(ld, "line longer than %zu bytes", AB_IOC_MAX_LINE);
    if (memchr(p, '\0', n))
        return ioc_bad(ld, "NUL byte in line");
    while (n && p[n - 1] == '\r')
        n--;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    ld->msg[0] = '\0';
    return fn(ld, tmp, n);
}

/* Saved vector lengths, so that a failed load leaves the store as it was. */
typedef struct mark {
    size_t by_type[AB_IOC_TYPE_COUNT];
    size_t allow[3];
    size_t total;
} mark;

static void mark_take(const ab_iocs *s, mark *m)
{
    for (int t = 0; t < AB_IOC_TYPE_COUNT; t++)
        m->by_type[t] = s->by_type[t].len;
    for (int i = 0; i < 3; i++)
        m->allow[i] = s->allow[i].len;
    m->total = s->total;
}

static void mark_restore(ab_iocs *s, const mark *m)
{
    /* The arena keeps the strings until the store is freed: bounded by what was loaded. */
    for (int t = 0; t < AB_IOC_TYPE_COUNT; t++)
        s->by_type[t].len = m->by_type[t];
    for (int i = 0; i < 3; i++)
        s->allow[i].len = m->allow[i];
    s->total = m->total;
}

static ab_status load_lines(ioc_load *ld, const char *data, size_t len, ioc_line_fn fn, int strict,
                            size_t *bad_lines)
{
    ab_status st = AB_OK;
    char *tmp = malloc(AB_IOC_MAX_LINE + 1);
    if (!tmp)
        return AB_ERR_NOMEM;
    size_t pos = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 BOM from Windows editors */
        pos = 3;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        ld->lineno++;
        st = one_line(ld, tmp, data + pos, end - pos, fn);
        pos = nl ? end + 1 : len;
        if (st == AB_ERR_PARSE) {
            (*bad_lines)++;
            ioc_note(ld, "%s", ld->msg);
            if (strict)
                goto out;
            st = AB_OK;
        }
        if (st != AB_OK)
            goto out;
    }
out:
    free(tmp);
    return st;
}

ab_status ab_iocs_load_buffer(ab_iocs *s, const char *data, size_t len, ab_ioc_format fmt,
                              const char *source_name, int allow, int strict, ab_diag_fn diag,
                              void *ctx, size_t *bad_lines)
{
    size_t bad_local = 0;
    if (!bad_lines)
        bad_lines = &bad_local;
    *bad_lines = 0;
    if (!s || (!data && len) || s->compiled)
        return AB_ERR_ARG;
    const char *source = source_name ? source_name : "<buffer>";
    if (fmt == AB_IOC_FMT_AUTO) {
        int a = 0;
        fmt = ab_ioc_format_for_name(base_name(source), &a, 0);
        allow = allow || a;
    }
    ioc_line_fn fn = parser_for(fmt);
    if (!fn)
        return AB_ERR_ARG;

    ioc_load ld = {.s = s, .source = source, .allow = allow, .diag = diag, .ctx = ctx};
    mark m;
    mark_take(s, &m);
    ld.norm = malloc(AB_IOC_NORM_CAP);
    if (!ld.norm)
        return AB_ERR_NOMEM;
    ab_status st = len ? load_lines(&ld, data, len, fn, strict, bad_lines) : AB_OK;
    if (st != AB_OK)
        mark_restore(s, &m);
    free(ld.norm);
    return st;
}

/* ---- Loading files and folders --------------------------------------------------------------- */

static void diag_errno(ab_diag_fn diag, void *ctx, const char *where, const char *what, int err)
{
    ab_diag_say(diag, ctx, AB_DIAG_ERROR, err == ENOENT ? AB_ERR_NOTFOUND : AB_ERR_IO, where, 0,
                "%s: %s", what, strerror(err));
}

static void diag_msg(ab_diag_fn diag, void *ctx, ab_status st, const char *where, const char *msg)
{
    ab_diag_say(diag, ctx, AB_DIAG_ERROR, st, where, 0, "%s", msg);
}

/* A file's bytes; data is owned (free()), NUL-terminated. */
typedef struct file_data {
    char *data;
    size_t len;
} file_data;

/* Read a regular file (fd already open) of at most AB_IOC_MAX_FILE bytes. Reads the size fstat
 * reported at open time: a file growing meanwhile cannot push memory past the limit. */
static ab_status read_fd(int fd, const char *path, file_data *out, ab_diag_fn diag, void *ctx)
{
    struct stat st;
    out->data = NULL;
    out->len = 0;
    if (fstat(fd, &st) != 0) {
        diag_errno(diag, ctx, path, "cannot stat", errno);
        return AB_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        diag_msg(diag, ctx, AB_ERR_UNSUPPORTED, path, "not a regular file: skipped");
        return AB_ERR_IO;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > AB_IOC_MAX_FILE) {
        diag_msg(diag, ctx, AB_ERR_LIMIT, path, "IOC file larger than 256 MiB: refused");
        return AB_ERR_LIMIT;
    }
    size_t size = (size_t)st.st_size;
    char *data = malloc(size + 1);
    if (!data)
        return AB_ERR_NOMEM;
    size_t len = 0;
    while (len < size) {
        ssize_t r = read(fd, data + len, size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            diag_errno(diag, ctx, path, "read failed", errno);
            free(data);
            return AB_ERR_IO;
        }
        if (r == 0) /* shrank meanwhile: take what is there */
            break;
        len += (size_t)r;
    }
    data[len] = '\0';
    out->data = data;
    out->len = len;
    return AB_OK;
}

/* Load one already opened file; fd is closed here. */
static ab_status load_fd(ab_iocs *s, int fd, const char *path, ab_ioc_format fmt, int allow,
                         int strict, ab_diag_fn diag, void *ctx)
{
    file_data f;
    ab_status st = read_fd(fd, path, &f, diag, ctx);
    close(fd);
    if (st == AB_OK)
        st = ab_iocs_load_buffer(s, f.data, f.len, fmt, path, allow, strict, diag, ctx, NULL);
    free(f.data);
    return st;
}

static int open_flags(void)
{
    /* O_NONBLOCK: opening a FIFO must not hang; fstat then rejects anything not regular. */
    return O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Names in the folder worth loading, sorted so that load order (and dedupe) is reproducible. */
static ab_status list_folder(DIR *d, const char *path, char ***out, size_t *count, ab_diag_fn diag,
                             void *ctx)
{
    char **names = NULL;
    size_t n = 0, cap = 0, seen = 0;
    ab_status st = AB_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (name[0] == '.' || name[0] == '~' || name[0] == '_')
            continue;
        if (++seen > AB_IOC_MAX_DIR_FILES) {
            diag_msg(diag, ctx, AB_ERR_LIMIT, path, "too many files in IOC folder");
            st = AB_ERR_LIMIT;
            goto out;
        }
        if (ab_ioc_format_for_name(name, NULL, 1) == AB_IOC_FMT_AUTO)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **p = realloc(names, nc * sizeof(*p));
            if (!p) {
                st = AB_ERR_NOMEM;
                goto out;
            }
            names = p;
            cap = nc;
        }
        if (!(names[n] = strdup(name))) {
            st = AB_ERR_NOMEM;
            goto out;
        }
        n++;
    }
    if (n)
        qsort(names, n, sizeof(*names), name_cmp);
out:
    if (st != AB_OK) {
        free_names(names, n);
        names = NULL;
        n = 0;
    }
    *out = names;
    *count = n;
    return st;
}

/* A file of the folder that cannot be read is reported and skipped; parse errors in strict mode,
 * store limits and memory exhaustion stop the whole load. */
static ab_status load_folder_entry(ab_iocs *s, int dfd, const char *dir, const char *name,
                                   int strict, ab_diag_fn diag, void *ctx)
{
    ab_buf path;
    ab_buf_init(&path, 0);
    ab_status st = ab_buf_printf(&path, "%s/%s", dir, name);
    if (st != AB_OK)
        goto out;
    int fd = openat(dfd, name, open_flags());
    if (fd < 0) {
        diag_errno(diag, ctx, path.data, "cannot open", errno);
        goto out;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) { /* not recursive */
        close(fd);
        goto out;
    }
    int allow = 0;
    ab_ioc_format fmt = ab_ioc_format_for_name(name, &allow, 1);
    file_data f;
    st = read_fd(fd, path.data, &f, diag, ctx);
    close(fd);
    if (st == AB_OK)
        st = ab_iocs_load_buffer(s, f.data, f.len, fmt, path.data, allow, strict, diag, ctx, NULL);
    else if (st == AB_ERR_IO || st == AB_ERR_LIMIT)
        st = AB_OK; /* this file only: reported by read_fd */
    free(f.data);
out:
    ab_buf_release(&path);
    return st;
}

static ab_status load_folder(ab_iocs *s, int fd, const char *path, int strict, ab_diag_fn diag,
                             void *ctx)
{
    char **names = NULL;
    size_t n = 0;
    ab_status st = AB_OK;
    DIR *d = fdopendir(fd);
    if (!d) {
        diag_errno(diag, ctx, path, "cannot read folder", errno);
        close(fd);
        return AB_ERR_IO;
    }
    st = list_folder(d, path, &names, &n, diag, ctx);
    if (st != AB_OK)
        goto out;
    if (n == 0)
        diag_msg(diag, ctx, AB_ERR_NOTFOUND, path,
                 "no IOC files in folder (*.ioc, or names with hash/filename/c2)");
    for (size_t i = 0; i < n && st == AB_OK; i++)
        st = load_folder_entry(s, dirfd(d), path, names[i], strict, diag, ctx);
out:
    free_names(names, n);
    closedir(d);
    return st;
}

ab_status ab_iocs_load_path(ab_iocs *s, const char *path, int strict, ab_diag_fn diag, void *ctx)
{
    if (!s || !path || s->compiled)
        return AB_ERR_ARG;
    int fd = open(path, open_flags());
    if (fd < 0) {
        int err = errno;
        diag_errno(diag, ctx, path, "cannot open", err);
        return err == ENOENT ? AB_ERR_NOTFOUND : AB_ERR_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode))
        return load_folder(s, fd, path, strict, diag, ctx);
    int allow = 0;
    ab_ioc_format fmt = ab_ioc_format_for_name(base_name(path), &allow, 0);
    return load_fd(s, fd, path, fmt, allow, strict, diag, ctx);
}

/* ---- Compile and look-ups -------------------------------------------------------------------- */

static int idx_cmp(const void *a, const void *b, void *arg)
{
    const ab_ioc *items = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = strcmp(items[x].value, items[y].value);
    if (c)
        return c;
    return x < y ? -1 : x > y; /* keeps the first loaded of equal values first */
}

/* Sort by value and keep the first loaded of each value, without a second copy of the items:
 * sort an index, apply it as a permutation in place, then squeeze out duplicates. */
static ab_status sort_dedupe(ioc_vec *v)
{
    size_t n = v->len;
    if (n < 2)
        return AB_OK;
    uint32_t *idx = malloc(n * sizeof(*idx)); /* n <= AB_IOC_MAX_TOTAL < 2^32 */
    if (!idx)
        return AB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    qsort_r(idx, n, sizeof(*idx), idx_cmp, v->items);
    for (size_t i = 0; i < n; i++) {
        if (idx[i] == i)
            continue;
        ab_ioc tmp = v->items[i];
        size_t j = i;
        for (;;) {
            size_t k = idx[j];
            idx[j] = (uint32_t)j;
            if (k == i) {
                v->items[j] = tmp;
                break;
            }
            v->items[j] = v->items[k];
            j = k;
        }
    }
    free(idx);
    size_t o = 1;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(v->items[i].value, v->items[o - 1].value) != 0)
            v->items[o++] = v->items[i];
    }
    v->len = o;
    return AB_OK;
}

/* The values were validated and normalised at load, so one that does not parse is a bug. */
static ab_status index_network(ab_iocs *s)
{
    const ioc_vec *ip = &s->by_type[AB_IOC_IP], *cidr = &s->by_type[AB_IOC_CIDR];
    ab_ipset_free(s->net); /* from a compile that failed later on */
    s->net = NULL;
    if (!ip->len && !cidr->len)
        return AB_OK;
    ab_status st = ab_ipset_new(&s->net);
    for (size_t i = 0; i < ip->len && st == AB_OK; i++)
        st = ab_ipset_add_text(s->net, ip->items[i].value, strlen(ip->items[i].value), (uint32_t)i,
                               NULL);
    for (size_t i = 0; i < cidr->len && st == AB_OK; i++)
        st = ab_ipset_add_text(s->net, cidr->items[i].value, strlen(cidr->items[i].value),
                               (uint32_t)(ip->len + i), NULL);
    return st == AB_ERR_PARSE ? AB_ERR_INTERNAL : st;
}

const ab_ioc *ab_iocs_match_ip(const ab_iocs *s, const ab_ipaddr *a)
{
    uint32_t v;
    if (!s || !s->compiled || !ab_ipset_lookup(s->net, a, &v, NULL))
        return NULL;
    const ioc_vec *ip = &s->by_type[AB_IOC_IP], *cidr = &s->by_type[AB_IOC_CIDR];
    if (v < ip->len)
        return &ip->items[v];
    return v - ip->len < cidr->len ? &cidr->items[v - ip->len] : NULL;
}

ab_status ab_iocs_compile(ab_iocs *s, ab_diag_fn diag, void *ctx)
{
    if (!s || s->compiled)
        return AB_ERR_ARG;
    ab_status st = AB_OK;
    for (int t = 0; t < AB_IOC_TYPE_COUNT && st == AB_OK; t++) {
        if (ab_ioc_hex_len((ab_ioc_type)t) || t == AB_IOC_JA4)
            st = sort_dedupe(&s->by_type[t]);
    }
    for (int i = 0; i < 3 && st == AB_OK; i++)
        st = sort_dedupe(&s->allow[i]);
    if (st == AB_OK)
        st = ioc_names_compile(s, diag, ctx);
    if (st == AB_OK)
        st = index_network(s);
    if (st == AB_OK)
        st = ioc_obs_index(s);
    if (st != AB_OK)
        return st;
    size_t total = 0;
    for (int t = 0; t < AB_IOC_TYPE_COUNT; t++)
        total += s->by_type[t].len;
    for (int i = 0; i < 3; i++)
        total += s->allow[i].len;
    s->total = total;
    s->compiled = 1;
    return AB_OK;
}

size_t ab_iocs_count(const ab_iocs *s, ab_ioc_type t)
{
    if (!s || (unsigned)t >= AB_IOC_TYPE_COUNT)
        return 0;
    return s->by_type[t].len;
}

size_t ab_iocs_total(const ab_iocs *s)
{
    return s ? s->total : 0;
}

int ab_iocs_has_hashes(const ab_iocs *s)
{
    if (!s)
        return 0;
    for (int t = AB_IOC_MD5; t <= AB_IOC_SHA256; t++) {
        if (s->by_type[t].len || s->allow[t].len)
            return 1;
    }
    return 0;
}

const ab_ioc *ab_iocs_get(const ab_iocs *s, ab_ioc_type t, size_t i)
{
    if (!s || (unsigned)t >= AB_IOC_TYPE_COUNT || i >= s->by_type[t].len)
        return NULL;
    return &s->by_type[t].items[i];
}

static const ab_ioc *vec_find(const ioc_vec *v, const char *key)
{
    size_t lo = 0, hi = v->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, v->items[mid].value);
        if (c == 0)
            return &v->items[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Lower-case a candidate digest into key; 0 when it is not hex of the expected length. */
static int hex_key(const char *hex, size_t want, char key[65])
{
    for (size_t i = 0; i < want; i++) {
        if (!isxdigit((unsigned char)hex[i]))
            return 0;
        key[i] = (char)tolower((unsigned char)hex[i]);
    }
    if (hex[want] != '\0')
        return 0;
    key[want] = '\0';
    return 1;
}

const ab_ioc *ab_iocs_find_hash(const ab_iocs *s, ab_ioc_type t, const char *hex)
{
    char key[65];
    if (!s || !hex || !s->compiled || (unsigned)t >= AB_IOC_TYPE_COUNT)
        return NULL;
    size_t want = ab_ioc_hex_len(t);
    if (!want || !hex_key(hex, want, key))
        return NULL;
    return vec_find(&s->by_type[t], key);
}

const ab_ioc *ab_iocs_find_exact(const ab_iocs *s, ab_ioc_type t, const char *key, size_t len)
{
    char k[65];
    if (!s || !key || !s->compiled || (unsigned)t >= AB_IOC_TYPE_COUNT || len >= sizeof(k) ||
        (!ab_ioc_hex_len(t) && t != AB_IOC_JA4))
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (!key[i])
            return NULL;
        k[i] = (char)tolower((unsigned char)key[i]);
    }
    k[len] = '\0';
    return vec_find(&s->by_type[t], k);
}

int ab_iocs_allowed(const ab_iocs *s, const char *md5, const char *sha1, const char *sha256)
{
    if (!s || !s->compiled)
        return 0;
    const char *h[3] = {md5, sha1, sha256};
    for (int i = 0; i < 3; i++) {
        char key[65];
        if (h[i] && s->allow[i].len && hex_key(h[i], ab_ioc_hex_len((ab_ioc_type)i), key) &&
            vec_find(&s->allow[i], key))
            return 1;
    }
    return 0;
}
