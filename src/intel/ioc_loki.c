/* ioc_loki.c: the Loki/THOR IOC lists of signature-base (hash, filename-regex and c2 lists),
 * read the way Loki reads them, minus its bugs; regexes written for Windows paths are translated
 * to match Linux paths. See docs/ioc-format.md. */
#include "intel/ioc_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#define BLANKS " \t\r\v\f"

/* Blank lines are skipped; "# comment" lines set the description of the lines after them (the
 * hash list ignores comments). Returns 1 when the line was consumed. */
static int comment_or_blank(ioc_load *ld, const char *p, size_t n, int describes, ab_status *st)
{
    *st = AB_OK;
    ioc_trim(&p, &n, BLANKS);
    if (n == 0)
        return 1;
    if (p[0] != '#')
        return 0;
    if (!describes)
        return 1;
    p++, n--;
    ioc_trim(&p, &n, BLANKS);
    ld->comment = NULL;
    if (n && !(ld->comment = ioc_strndup(ld->s, p, n)))
        *st = AB_ERR_NOMEM;
    return 1;
}

/* ---- Hash lists ------------------------------------------------------------------------------ */

static ab_ioc_type hash_type(size_t n)
{
    return n == 32 ? AB_IOC_MD5 : n == 40 ? AB_IOC_SHA1 : AB_IOC_SHA256;
}

/* HASH;DESCRIPTION or HASH;SCORE;DESCRIPTION (the 3-field form only when field 2 is all digits);
 * the description keeps any further ';'. */
ab_status ioc_parse_loki_hash(ioc_load *ld, char *line, size_t len)
{
    ab_status st;
    if (comment_or_blank(ld, line, len, 0, &st))
        return st;
    const char *p = line;
    size_t n = len;
    ioc_trim(&p, &n, BLANKS);
    const char *semi = memchr(p, ';', n);
    size_t hlen = semi ? (size_t)(semi - p) : n;
    const char *h = p;
    ioc_trim(&h, &hlen, BLANKS);
    const char *desc = semi ? semi + 1 : NULL;
    size_t dlen = semi ? n - (size_t)(desc - p) : 0;
    int score = AB_IOC_LOKI_HASH_SCORE;
    const char *semi2 = desc ? memchr(desc, ';', dlen) : NULL;
    if (semi2) {
        const char *sp = desc;
        size_t slen = (size_t)(semi2 - desc);
        ioc_trim(&sp, &slen, " ");
        if (ioc_all_digits(sp, slen)) {
            if (ioc_parse_score(sp, slen, &score) != 0)
                return ioc_bad(ld, "score must be a number from 0 to 100");
            dlen -= (size_t)(semi2 + 1 - desc);
            desc = semi2 + 1;
        }
    }
    if (hlen != 32 && hlen != 40 && hlen != 64)
        return ioc_bad(ld, "not an MD5, SHA-1 or SHA-256 hash (%zu characters)", hlen);
    ab_ioc_type t = hash_type(hlen);
    char why[128];
    size_t vlen;
    if (ioc_normalize(t, h, hlen, ld->norm, AB_IOC_NORM_CAP, &vlen, why, sizeof(why)) != 0)
        return ioc_bad(ld, "%s", why);
    if (!ld->allow && ioc_is_empty_file_hash(ld->norm, vlen)) {
        return AB_OK; /* would flag every empty file; skipped silently like Loki */
    }
    if (desc)
        ioc_trim(&desc, &dlen, BLANKS);
    int nomem = 0;
    ab_ioc ioc = {.type = t, .score = score, .allow = ld->allow};
    ioc.value = ioc_strndup(ld->s, ld->norm, vlen);
    ioc.description = ioc_optdup(ld->s, desc, dlen, &nomem);
    if (!ioc.value || nomem)
        return AB_ERR_NOMEM;
    return ioc_add(ld, &ioc);
}

/* ---- Filename-regex lists -------------------------------------------------------------------- */

/* Output of a translation: bounded, never past cap. */
typedef struct out {
    char *p;
    size_t n;
    size_t cap;
} out;

static int put(out *o, const char *p, size_t n)
{
    if (n > o->cap - o->n)
        return -1;
    memcpy(o->p + o->n, p, n);
    o->n += n;
    return 0;
}

static int starts(const char *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(p, lit, l) == 0;
}

/* Length of a drive spec at p ("C:", "[Cc]:", "[C-Zc-z]:", or a bare ":") followed by an escaped
 * backslash; 0 when there is none. The drive is dropped, the backslash becomes the root '/'. */
static size_t drive_len(const char *p, size_t n)
{
    size_t i = 0;
    if (n && isalpha((unsigned char)p[0])) {
        i = 1;
    } else if (n && p[0] == '[') {
        i = 1;
        while (i < n && (isalpha((unsigned char)p[i]) || p[i] == '-'))
            i++;
        if (i == 1 || i >= n || p[i] != ']')
            return 0;
        i++;
    }
    if (i >= n || p[i] != ':')
        return 0;
    i++;
    return starts(p + i, n - i, "\\\\") ? i : 0;
}

/* 1 when a regex (after a drive's "\\") has no further path separator "\\" outside a
 * character class: it names something directly in the drive's root. */
static int drive_root_only(const char *p, size_t n)
{
    int in_class = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\') {
            if (!in_class && i + 1 < n && p[i + 1] == '\\')
                return 0;
            i++; /* an escaped character */
        } else if (p[i] == '[') {
            in_class = 1;
        } else if (p[i] == ']') {
            in_class = 0;
        }
    }
    return 1;
}

/* Python's "{,N}" means "{0,N}"; PCRE and vectorscan read it as literal text. Returns the length
 * of "{,digits}" at p, or 0. */
static size_t python_upto(const char *p, size_t n)
{
    if (n < 4 || p[0] != '{' || p[1] != ',')
        return 0;
    size_t i = 2;
    while (i < n && i < 12 && p[i] >= '0' && p[i] <= '9')
        i++;
    return (i > 2 && i < n && p[i] == '}') ? i + 1 : 0;
}

/* Rewrite a Loki regex written for Windows paths so that it matches Linux paths:
 *  - an escaped backslash "\\" (the path separator) becomes "/", other escapes are kept, so
 *    "\\\." is "/" then "\." and "[^\\]" is "[^/]";
 *  - a leading drive ("C:", "[Cc]:", ":" before "\\"), possibly after "^" and/or "(?i)", is
 *    dropped: "^C:\\Temp" becomes "^/Temp", and a pattern for the drive's root is anchored:
 *    "C:\\x\.exe" becomes "^/x\.exe";
 *  - Python's "{,N}" becomes "{0,N}".
 * Loki does a blind replace of every "\\" and of "C:" anywhere; this is the careful version. */
static int loki_translate(const char *in, size_t n, out *o)
{
    size_t i = 0;
    int anchored = 0;
    for (int k = 0; k < 2; k++) { /* "^" and "(?i)" in either order */
        if (starts(in + i, n - i, "(?i)")) {
            if (put(o, "(?i)", 4))
                return -1;
            i += 4;
        } else if (starts(in + i, n - i, "^")) {
            if (put(o, "^", 1))
                return -1;
            anchored = 1;
            i += 1;
        }
    }
    size_t drive = drive_len(in + i, n - i);
    /* "C:\\x.exe" names a file in a drive's root: anchored to "/", or it would match x.exe in
     * every folder (Loki, which drops only a literal "C:", never matches "[Cc]:" lines at all).
     * Deeper paths stay unanchored, as in Loki, so they also match a mounted Windows volume. */
    if (drive && !anchored && drive_root_only(in + i + drive + 2, n - i - drive - 2) &&
        put(o, "^", 1))
        return -1;
    i += drive;
    int in_class = 0;
    while (i < n) {
        char c = in[i];
        size_t up;
        if (c == '\\' && i + 1 < n) {
            if (in[i + 1] == '\\' ? put(o, "/", 1) : put(o, in + i, 2))
                return -1;
            i += 2;
            continue;
        }
        if (!in_class && (up = python_upto(in + i, n - i)) != 0) {
            if (put(o, "{0", 2) || put(o, in + i + 1, up - 1))
                return -1;
            i += up;
            continue;
        }
        if (!in_class && c == '[') {
            in_class = 1;
            if (put(o, "[", 1))
                return -1;
            i++;
            /* "[^]..." and "[]...": a ']' first in a class is a literal. */
            if (i < n && in[i] == '^' && put(o, in + i++, 1))
                return -1;
            if (i < n && in[i] == ']' && put(o, in + i++, 1))
                return -1;
            continue;
        }
        if (in_class && c == ']')
            in_class = 0;
        if (put(o, &c, 1))
            return -1;
        i++;
    }
    return 0;
}

/* Where the fields of REGEX;SCORE[;FP_REGEX] are. */
typedef struct re_line {
    const char *re, *fp;
    size_t re_n, fp_n;
    int score;
} re_line;

/* The SCORE is the last ';'-separated field made only of digits: what is before it is the regex,
 * what is after it (possibly empty) the false-positive regex. So a ';' may appear in the regex
 * (e.g. "[;]") and in the FP regex, as long as the FP regex has no all-digit field of its own.
 * A line without any ';' is a regex with the default score (old signature-base lines). */
static int split_re_line(const char *p, size_t n, re_line *r, ioc_load *ld)
{
    memset(r, 0, sizeof(*r));
    r->score = AB_IOC_DEFAULT_SCORE;
    if (!memchr(p, ';', n)) {
        r->re = p;
        r->re_n = n;
        return 0;
    }
    size_t end = n; /* fields are [start, end) scanned right to left */
    for (size_t i = n; i-- > 0;) {
        if (p[i] != ';')
            continue;
        const char *f = p + i + 1;
        size_t fn = end - i - 1;
        ioc_trim(&f, &fn, " ");
        if (ioc_all_digits(f, fn)) {
            if (ioc_parse_score(f, fn, &r->score) != 0)
                return ioc_bad(ld, "score must be a number from 0 to 100"), -1;
            r->re = p;
            r->re_n = i;
            if (end < n) {
                r->fp = p + end + 1;
                r->fp_n = n - end - 1;
            }
            return 0;
        }
        end = i;
    }
    ioc_bad(ld, "expected REGEX;SCORE[;FALSE_POSITIVE_REGEX] (no numeric score field)");
    return -1;
}

static int translate_field(ioc_load *ld, const char *what, const char *p, size_t n, char *buf,
                           size_t cap, size_t *outlen)
{
    if (n > AB_IOC_MAX_REGEX_LEN) {
        ioc_bad(ld, "%s longer than %zu bytes", what, AB_IOC_MAX_REGEX_LEN);
        return -1;
    }
    out o = {.p = buf, .n = 0, .cap = cap};
    if (loki_translate(p, n, &o) != 0 || o.n > AB_IOC_MAX_REGEX_LEN) {
        ioc_bad(ld, "%s longer than %zu bytes after translation", what, AB_IOC_MAX_REGEX_LEN);
        return -1;
    }
    *outlen = o.n;
    return 0;
}

ab_status ioc_parse_loki_filename(ioc_load *ld, char *line, size_t len)
{
    ab_status st;
    if (comment_or_blank(ld, line, len, 1, &st))
        return st;
    if (ld->allow)
        return ioc_bad(ld, "an allow-list holds only md5, sha1 or sha256 values");
    /* Loki strips only trailing blanks: leading spaces belong to the regex. */
    size_t n = len;
    while (n && strchr(BLANKS, line[n - 1]))
        n--;
    re_line r;
    if (split_re_line(line, n, &r, ld) != 0)
        return AB_ERR_PARSE;
    if (r.re_n == 0)
        return ioc_bad(ld, "empty regex");
    /* Translations grow by at most one byte per 4 ("{,N}" -> "{0,N}"): twice the limit is room. */
    char *re_buf = ld->norm, *fp_buf = ld->norm + 2 * AB_IOC_MAX_REGEX_LEN + 16;
    size_t re_n, fp_n = 0;
    if (translate_field(ld, "regex", r.re, r.re_n, re_buf, 2 * AB_IOC_MAX_REGEX_LEN, &re_n) != 0)
        return AB_ERR_PARSE;
    if (r.fp_n && translate_field(ld, "false-positive regex", r.fp, r.fp_n, fp_buf,
                                  2 * AB_IOC_MAX_REGEX_LEN, &fp_n) != 0)
        return AB_ERR_PARSE;
    int nomem = 0;
    ab_ioc ioc = {.type = AB_IOC_FILENAME_RE, .score = r.score, .description = ld->comment};
    ioc.value = ioc_strndup(ld->s, re_buf, re_n);
    ioc.fp_regex = ioc_optdup(ld->s, fp_buf, fp_n, &nomem);
    if (!ioc.value || nomem)
        return AB_ERR_NOMEM;
    return ioc_add(ld, &ioc);
}

/* ---- C2 lists -------------------------------------------------------------------------------- */

static int looks_like_ip(const char *p, size_t n)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    unsigned char addr[16];
    if (n >= sizeof(tmp))
        return 0;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET, tmp, addr) == 1 || inet_pton(AF_INET6, tmp, addr) == 1;
}

/* Splits what follows "IOC;" into a score and a description. signature-base's own c2 list is
 * "C2;COMMENT" (its header says so, and Loki keeps only the text before the first ';'), while the
 * compat notes also allow "IOC;SCORE": field 2 is a score only when it is all digits. Accepted:
 * "IOC;SCORE", "IOC;SCORE;DESC", "IOC;;DESC" and "IOC;DESC" (the description keeps any ';'). */
static ab_status c2_fields(ioc_load *ld, const char *f, size_t fn, int *score, const char **desc,
                           size_t *dlen)
{
    const char *semi2 = memchr(f, ';', fn);
    const char *f2 = f;
    size_t f2n = semi2 ? (size_t)(semi2 - f) : fn;
    ioc_trim(&f2, &f2n, BLANKS);
    *desc = NULL;
    *dlen = 0;
    if (f2n && ioc_all_digits(f2, f2n)) {
        if (ioc_parse_score(f2, f2n, score) != 0)
            return ioc_bad(ld, "score must be a number from 0 to 100");
    } else if (f2n) {
        *desc = f; /* "C2;COMMENT" */
        *dlen = fn;
    }
    if (!*desc && semi2) {
        *desc = semi2 + 1;
        *dlen = fn - (size_t)(semi2 + 1 - f);
    }
    if (*desc)
        ioc_trim(desc, dlen, BLANKS);
    return AB_OK;
}

/* IOC[;SCORE][;DESCRIPTION] or IOC;DESCRIPTION: an IP, a CIDR range or a domain, told apart by
 * their syntax. */
ab_status ioc_parse_loki_c2(ioc_load *ld, char *line, size_t len)
{
    ab_status st;
    if (comment_or_blank(ld, line, len, 1, &st))
        return st;
    if (ld->allow)
        return ioc_bad(ld, "an allow-list holds only md5, sha1 or sha256 values");
    const char *p = line;
    size_t n = len;
    ioc_trim(&p, &n, BLANKS);
    const char *semi = memchr(p, ';', n);
    int score = AB_IOC_DEFAULT_SCORE;
    size_t vn = semi ? (size_t)(semi - p) : n;
    const char *desc = NULL;
    size_t dlen = 0;
    if (semi && (st = c2_fields(ld, semi + 1, n - vn - 1, &score, &desc, &dlen)) != AB_OK)
        return st;
    ioc_trim(&p, &vn, BLANKS);
    if (vn < 4)
        return ioc_bad(ld, "C2 entry shorter than 4 characters");
    ab_ioc_type t = memchr(p, '/', vn)     ? AB_IOC_CIDR
                    : looks_like_ip(p, vn) ? AB_IOC_IP
                                           : AB_IOC_DOMAIN;
    char why[128], snip[48];
    size_t vlen;
    if (ioc_normalize(t, p, vn, ld->norm, AB_IOC_NORM_CAP, &vlen, why, sizeof(why)) != 0)
        return ioc_bad(ld, "not an IP, CIDR or domain ('%s': %s)",
                       ioc_snip(p, vn, snip, sizeof(snip)), why);
    int nomem = 0;
    ab_ioc ioc = {.type = t, .score = score, .description = ld->comment};
    if (dlen)
        ioc.description = ioc_optdup(ld->s, desc, dlen, &nomem);
    if (!(ioc.value = ioc_strndup(ld->s, ld->norm, vlen)) || nomem)
        return AB_ERR_NOMEM;
    return ioc_add(ld, &ioc);
}
