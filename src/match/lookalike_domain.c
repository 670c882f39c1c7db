/* lookalike_domain.c: the guard of protected domains (lookalike_domain.h).
 *
 * Every name, protected or checked, is put in one canonical form before it is compared:
 *   1. ASCII lower-cased, one trailing dot dropped;
 *   2. xn-- labels decoded to Unicode (libidn2). A label that is no valid A-label (no punycode,
 *      decodes to nothing, or the round trip to ASCII gives another label) is kept as its ASCII
 *      text, as browsers and mail clients show it: "xn--..." imitates nothing by its looks, but
 *      "xn--our-university" still has the protected label in it (added-words). Invalid punycode
 *      alone is no finding: it is said in the reason of any other;
 *   3. NFKC_Casefold (ICU): what UTS #46 lookups do too, so a full-width or upper-case spelling
 *      of a protected domain is that domain (a browser goes there), never a lookalike;
 *   4. the Unicode TS #39 confusable skeleton (ICU's uspoof_getSkeleton) of the whole host, of
 *      its registered domain (libpsl on the folded form) and of that domain's first label.
 * The kinds are then tested on these forms, per protected domain, and the strongest one wins
 * (docs/mail-signals.md has the rules). Everything is in fixed buffers: a host whose forms do not
 * fit is not checked. */
#include "match/lookalike_domain.h"

#include <idn2.h>
#include <libpsl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "match/domain.h"

#define FOLD_MAX 1024 /* bytes of a folded host (decoded xn-- labels grow up to 4x) */
#define SKEL_MAX 2048 /* bytes of a skeleton */
#define U16_MAX  2048 /* UTF-16 units while folding */
#define CP_MAX   256  /* code points of a label compared by edit distance */
#define FREE_CONTAINMENT                                                                           \
    12 /* code points (hyphens not counted): a protected label this long is                        \
        * an added-words match anywhere in a label; shorter ones must stand                        \
        * between hyphens, digits or the label's ends ("oxford-login" yes,                         \
        * "oxfordshire" no) */

/* A name in its canonical forms. For a protected domain, the whole name is its registered
 * domain (rd == 0). */
typedef struct dform {
    char fold[FOLD_MAX]; /* steps 1-3, UTF-8, NUL-terminated */
    size_t n;
    char skel[SKEL_MAX]; /* skeleton of fold */
    int has_rd;          /* a registered domain was found */
    size_t rd;           /* its offset in fold */
    size_t label_len;    /* bytes of its first label */
    size_t label_cp;     /* code points of that label */
    char rd_skel[SKEL_MAX], label_skel[SKEL_MAX];
    int invalid_ace; /* an xn-- label did not decode, or did not round-trip */
    int decoded;     /* an xn-- label was decoded */
} dform;

struct ab_domain_guard {
    USpoofChecker *spoof;        /* owned */
    const UNormalizer2 *nfkc_cf; /* ICU's singleton: never closed */
    dform *p;                    /* owned: n protected registered domains */
    size_t n;
};

/* ---- canonical forms ---- */

static int host_byte_ok(unsigned char c)
{
    return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* ASCII lower-case of n bytes into out (n + 1 bytes), other bytes kept. */
static void lower_ascii(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    out[n] = '\0';
}

/* Steps 1 and 2 into out (cap bytes). Returns the length, or -1 when host is no host name. */
static long decode_labels(const char *host, size_t len, char *out, size_t cap, dform *f)
{
    char low[AB_MAX_DOMAIN + 1];
    if (len && host[len - 1] == '.')
        len--;
    if (!len || len > AB_MAX_DOMAIN)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!host_byte_ok((unsigned char)host[i]))
            return -1;
    lower_ascii(host, len, low);
    size_t o = 0;
    for (size_t s = 0; s <= len;) {
        const char *dot = memchr(low + s, '.', len - s);
        size_t e = dot ? (size_t)(dot - low) : len;
        if (e == s)
            return -1; /* an empty label */
        char label[AB_MAX_DOMAIN + 1];
        memcpy(label, low + s, e - s);
        label[e - s] = '\0';
        const char *use = label;
        char *dec = NULL;
        if (e - s > 4 && !memcmp(label, "xn--", 4)) {
            if (idn2_to_unicode_8z8z(label, &dec, 0) == IDN2_OK && dec && dec[0] &&
                !strchr(dec, '.')) {
                char *back = NULL;
                if (idn2_to_ascii_8z(dec, &back, IDN2_NONTRANSITIONAL) == IDN2_OK &&
                    !strcmp(back, label)) {
                    use = dec;
                    f->decoded = 1;
                } else {
                    f->invalid_ace = 1;
                }
                idn2_free(back);
            } else {
                f->invalid_ace = 1;
            }
        }
        size_t un = strlen(use);
        if (o + un + 2 > cap) {
            idn2_free(dec);
            return -1;
        }
        if (o)
            out[o++] = '.';
        memcpy(out + o, use, un);
        o += un;
        idn2_free(dec);
        s = e + 1;
    }
    out[o] = '\0';
    return (long)o;
}

/* UTF-8 in (n bytes) to UTF-16 NFKC_Casefold; returns the units or -1. */
static int32_t fold16(const ab_domain_guard *g, const char *in, size_t n, UChar *out, int32_t cap)
{
    UChar raw[U16_MAX];
    int32_t rn = 0;
    UErrorCode e = U_ZERO_ERROR;
    u_strFromUTF8(raw, U16_MAX, &rn, in, (int32_t)n, &e); /* fails on ill-formed UTF-8 */
    if (U_FAILURE(e) || rn >= U16_MAX)
        return -1;
    e = U_ZERO_ERROR;
    int32_t on = unorm2_normalize(g->nfkc_cf, raw, rn, out, cap, &e);
    if (U_FAILURE(e) || on >= cap)
        return -1;
    return on;
}

static int to_utf8(const UChar *s, int32_t n, char *out, size_t cap)
{
    UErrorCode e = U_ZERO_ERROR;
    int32_t on = 0;
    u_strToUTF8(out, (int32_t)cap, &on, s, n, &e);
    if (U_FAILURE(e) || on < 0 || (size_t)on >= cap)
        return -1;
    out[on] = '\0';
    return 0;
}

/* The skeleton of UTF-8 s (n bytes, already folded) into out. */
static int skeleton(const ab_domain_guard *g, const char *s, size_t n, char *out, size_t cap)
{
    UChar in[U16_MAX], sk[U16_MAX * 2];
    int32_t in_n = 0;
    UErrorCode e = U_ZERO_ERROR;
    u_strFromUTF8(in, U16_MAX, &in_n, s, (int32_t)n, &e);
    if (U_FAILURE(e) || in_n >= U16_MAX)
        return -1;
    e = U_ZERO_ERROR;
    int32_t sn = uspoof_getSkeleton(g->spoof, 0, in, in_n, sk, U16_MAX * 2, &e);
    if (U_FAILURE(e) || sn >= U16_MAX * 2)
        return -1;
    return to_utf8(sk, sn, out, cap);
}

static size_t count_cp(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* All canonical forms of host. protected_form: keep only the registered domain. Returns 0, or
 * -1 when host is not checked. */
static int make_form(const ab_domain_guard *g, const char *host, size_t len, int protected_form,
                     dform *f)
{
    char dec[FOLD_MAX];
    UChar u16[U16_MAX];
    f->invalid_ace = f->decoded = 0;
    long dn = decode_labels(host, len, dec, sizeof(dec), f);
    if (dn < 0)
        return -1;
    int32_t un = fold16(g, dec, (size_t)dn, u16, U16_MAX);
    if (un <= 0 || to_utf8(u16, un, f->fold, sizeof(f->fold)) != 0)
        return -1;
    f->n = strlen(f->fold);
    if (!f->n || f->fold[0] == '.' || f->fold[f->n - 1] == '.' || strstr(f->fold, ".."))
        return -1; /* folding made an empty label (a full-width dot, say) */
    const psl_ctx_t *psl = psl_builtin();
    const char *rd = psl ? psl_registrable_domain(psl, f->fold) : NULL;
    f->has_rd = rd != NULL;
    if (protected_form) {
        if (!rd)
            return -1;
        size_t rn = strlen(rd);
        memmove(f->fold, rd, rn + 1);
        f->n = rn;
        rd = f->fold;
    }
    if (skeleton(g, f->fold, f->n, f->skel, sizeof(f->skel)) != 0)
        return -1;
    f->rd = f->label_len = f->label_cp = 0;
    f->rd_skel[0] = f->label_skel[0] = '\0';
    if (!rd)
        return 0;
    f->rd = (size_t)(rd - f->fold);
    const char *dot = strchr(rd, '.');
    f->label_len = dot ? (size_t)(dot - rd) : strlen(rd);
    f->label_cp = count_cp(rd, f->label_len);
    if (skeleton(g, rd, f->n - f->rd, f->rd_skel, sizeof(f->rd_skel)) != 0 ||
        skeleton(g, rd, f->label_len, f->label_skel, sizeof(f->label_skel)) != 0)
        return -1;
    return 0;
}

/* ---- comparisons ---- */

/* Code points of UTF-8 s (n bytes) into cp; -1 when more than CP_MAX. */
static int decode_cp(const char *s, size_t n, int32_t *cp)
{
    int32_t i = 0, len = (int32_t)n;
    int k = 0;
    while (i < len) {
        if (k >= CP_MAX)
            return -1;
        UChar32 c;
        U8_NEXT(s, i, len, c);
        cp[k++] = c;
    }
    return k;
}

/* Damerau-Levenshtein distance (optimal string alignment) of a and b, or k + 1 when it is over
 * k; only the band |i - j| <= k of the table is computed, so it costs O(n * k). */
static int osa(const int32_t *a, int n, const int32_t *b, int m, int k)
{
    enum { BIG = 1 << 20 };
    if (n - m > k || m - n > k)
        return k + 1;
    int rows[3][CP_MAX + 2];
    int *pp = rows[0], *p = rows[1], *c = rows[2];
    for (int j = 0; j <= m + 1; j++) {
        pp[j] = c[j] = BIG;
        p[j] = j <= k ? j : BIG;
    }
    for (int i = 1; i <= n; i++) {
        int lo = i - k > 1 ? i - k : 1, hi = i + k < m ? i + k : m;
        c[0] = i <= k ? i : BIG;
        c[lo - 1] = lo > 1 ? BIG : c[0];
        for (int j = lo; j <= hi; j++) {
            int v = p[j - 1] + (a[i - 1] != b[j - 1]);
            if (p[j] + 1 < v)
                v = p[j] + 1;
            if (c[j - 1] + 1 < v)
                v = c[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
        }
        c[hi + 1] = BIG;
        int *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[m] > k ? k + 1 : p[m];
}

/* Distance of two UTF-8 labels in code points, capped at k + 1. */
static int label_distance(const char *a, size_t an, const char *b, size_t bn, int k)
{
    int32_t ca[CP_MAX], cb[CP_MAX];
    int n = decode_cp(a, an, ca), m = decode_cp(b, bn, cb);
    if (n < 0 || m < 0)
        return k + 1;
    return osa(ca, n, cb, m, k);
}

static int boundary(const char *s, size_t n, size_t at, int before)
{
    if (before ? at == 0 : at == n)
        return 1;
    char c = before ? s[at - 1] : s[at];
    return c == '-' || (c >= '0' && c <= '9');
}

/* needle (nn bytes) in hay (hn bytes), standing between hyphens, digits or the ends. */
static int contains_bounded(const char *hay, size_t hn, const char *needle, size_t nn)
{
    for (size_t at = 0; nn && at + nn <= hn; at++) {
        const char *p = memmem(hay + at, hn - at, needle, nn);
        if (!p)
            return 0;
        at = (size_t)(p - hay);
        if (boundary(hay, hn, at, 1) && boundary(hay, hn, at + nn, 0))
            return 1;
    }
    return 0;
}

static size_t strip_hyphens(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '-')
            out[o++] = s[i];
    out[o] = '\0';
    return o;
}

/* The host's label (hl) has the protected label (pl) in it, with words or hyphens added. */
static int added_words(const char *hl, size_t hn, const char *pl, size_t pn)
{
    char hs[SKEL_MAX], ps[SKEL_MAX];
    size_t hsn = strip_hyphens(hl, hn, hs), psn = strip_hyphens(pl, pn, ps);
    if (!psn || (hn == pn && !memcmp(hl, pl, hn)))
        return 0;
    if (count_cp(ps, psn) >= FREE_CONTAINMENT)
        return memmem(hs, hsn, ps, psn) != NULL;
    return contains_bounded(hl, hn, pl, pn) || (hsn == psn && !memcmp(hs, ps, psn));
}

/* The protected domain (pd, pn bytes) as whole labels inside host (hn bytes), followed by more of
 * the host: "our-university.ac.uk.secure-login.com", "our-university.ac.uk-login.com". */
static int embedded(const char *h, size_t hn, const char *pd, size_t pn)
{
    for (size_t at = 0; at + pn < hn; at++) {
        const char *p = memmem(h + at, hn - at, pd, pn);
        if (!p)
            return 0;
        at = (size_t)(p - h);
        int starts = at == 0 || h[at - 1] == '.' || h[at - 1] == '-';
        int more = at + pn < hn && (h[at + pn] == '.' || h[at + pn] == '-');
        if (starts && more)
            return 1;
    }
    return 0;
}

static int ends_with_label(const char *s, size_t n, const char *suf, size_t sn)
{
    if (n == sn)
        return !memcmp(s, suf, n);
    return n > sn && s[n - sn - 1] == '.' && !memcmp(s + n - sn, suf, sn);
}

/* ---- kinds ---- */

enum kind { K_NONE, K_TLD_SWAP, K_ADDED, K_EDIT, K_EMBEDDED, K_HOMOGLYPH };
static const char *const kind_token[] = {
    "", "tld-swap", "added-words", "edit-distance", "added-words", "idn-homoglyph"};
static const int kind_score[] = {0,
                                 AB_DOMAIN_SCORE_TLD_SWAP,
                                 AB_DOMAIN_SCORE_ADDED,
                                 AB_DOMAIN_SCORE_EDIT,
                                 AB_DOMAIN_SCORE_EMBEDDED,
                                 AB_DOMAIN_SCORE_HOMOGLYPH};

/* The strongest kind by which h imitates p; *dist gets the edit distance of K_EDIT. */
static enum kind classify(const dform *h, const dform *p, int *dist)
{
    const char *hl = h->fold + h->rd, *pl = p->fold;
    size_t hln = h->label_len, pln = p->label_len;
    int long_enough = p->label_cp >= AB_DOMAIN_MIN_LABEL;
    if (!strcmp(h->skel, p->skel) || (h->has_rd && !strcmp(h->rd_skel, p->skel)))
        return K_HOMOGLYPH;
    int same_label = h->has_rd && hln == pln && !memcmp(hl, pl, hln);
    if (h->has_rd && long_enough && !same_label && !strcmp(h->label_skel, p->label_skel))
        return K_HOMOGLYPH; /* the label is a homoglyph, under another suffix */
    if (embedded(h->skel, strlen(h->skel), p->skel, strlen(p->skel)) ||
        embedded(h->fold, h->n, p->fold, p->n))
        return K_EMBEDDED;
    if (!h->has_rd || !long_enough)
        return K_NONE;
    int k = p->label_cp >= AB_DOMAIN_LONG_LABEL ? 2 : 1;
    int d = label_distance(hl, hln, pl, pln, k);
    int ds = label_distance(h->label_skel, strlen(h->label_skel), p->label_skel,
                            strlen(p->label_skel), k);
    d = ds < d ? ds : d;
    if (d >= 1 && d <= k) {
        *dist = d;
        return K_EDIT;
    }
    if (added_words(hl, hln, pl, pln) ||
        added_words(h->label_skel, strlen(h->label_skel), p->label_skel, strlen(p->label_skel)))
        return K_ADDED;
    if (same_label) /* the same registered domain is excluded before: the suffix differs */
        return K_TLD_SWAP;
    return K_NONE;
}

static void describe(const dform *h, const char *host, size_t len, const dform *p, enum kind k,
                     int dist, char *out, size_t cap)
{
    char shown[FOLD_MAX + 8] = "";
    if (len && host[len - 1] == '.')
        len--;
    if (h->decoded || h->n != len || strncasecmp(host, h->fold, len) != 0)
        snprintf(shown, sizeof(shown), " (%s)", h->fold);
    const char *bad = h->invalid_ace ? ", with invalid punycode" : "";
    int hl = (int)len;
    switch (k) {
    case K_HOMOGLYPH:
        snprintf(out, cap, "%.*s%s is a homoglyph of %s%s", hl, host, shown, p->fold, bad);
        break;
    case K_EMBEDDED:
        snprintf(out, cap, "%.*s%s has %s in its name but belongs to %s%s", hl, host, shown,
                 p->fold, h->has_rd ? h->fold + h->rd : "another domain", bad);
        break;
    case K_EDIT:
        snprintf(out, cap, "%.*s%s is %d edit%s from %s%s", hl, host, shown, dist,
                 dist > 1 ? "s" : "", p->fold, bad);
        break;
    case K_ADDED:
        snprintf(out, cap, "%.*s%s adds words to the name of %s%s", hl, host, shown, p->fold, bad);
        break;
    case K_TLD_SWAP:
        snprintf(out, cap, "%.*s%s has the name of %s under another suffix%s", hl, host, shown,
                 p->fold, bad);
        break;
    case K_NONE:
        out[0] = '\0';
        break;
    }
}

int ab_domain_guard_check(const ab_domain_guard *g, const char *host, size_t len,
                          ab_domain_hit *hit)
{
    dform h;
    if (!g || !g->n || !host || !len || len > AB_MAX_DOMAIN + 1 || memchr(host, '\0', len) ||
        ab_host_is_ip(host, len) || make_form(g, host, len, 0, &h) != 0)
        return 0;
    for (size_t i = 0; i < g->n; i++) /* a protected domain or one of its subdomains */
        if (ends_with_label(h.fold, h.n, g->p[i].fold, g->p[i].n))
            return 0;
    enum kind best = K_NONE;
    size_t bi = 0;
    int bdist = 0;
    for (size_t i = 0; i < g->n && best != K_HOMOGLYPH; i++) {
        int dist = 0;
        enum kind k = classify(&h, &g->p[i], &dist);
        if (k > best) {
            best = k;
            bi = i;
            bdist = dist;
        }
    }
    if (best == K_NONE)
        return 0;
    hit->kind = kind_token[best];
    hit->score = kind_score[best];
    hit->protected_domain = g->p[bi].fold;
    describe(&h, host, len, &g->p[bi], best, bdist, hit->reason, sizeof(hit->reason));
    return 1;
}

/* ---- building ---- */

static int ldh_label_ok(const char *s, size_t n)
{
    if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    if (n > 4 && !memcmp(s, "xn--", 4)) { /* an A-label: it must be one */
        char label[64], *dec = NULL, *back = NULL;
        memcpy(label, s, n);
        label[n] = '\0';
        int ok = idn2_to_unicode_8z8z(label, &dec, 0) == IDN2_OK && dec && dec[0] &&
                 idn2_to_ascii_8z(dec, &back, IDN2_NONTRANSITIONAL) == IDN2_OK &&
                 !strcmp(back, label);
        idn2_free(dec);
        idn2_free(back);
        return ok;
    }
    return 1;
}

ab_status ab_domain_normalize(const char *domain, char *out, size_t cap)
{
    char buf[AB_MAX_DOMAIN + 1], rd[AB_MAX_DOMAIN + 1];
    char *ace = NULL;
    ab_status st = AB_ERR_ARG;
    size_t n = domain ? strlen(domain) : 0;
    if (n && domain[n - 1] == '.')
        n--;
    if (!n || n > 4 * AB_MAX_DOMAIN || ab_host_is_ip(domain, n))
        return AB_ERR_ARG;
    int ascii = 1;
    for (size_t i = 0; i < n; i++)
        ascii &= (unsigned char)domain[i] < 0x80;
    const char *src = domain;
    if (!ascii) { /* UTS #46 mapping (lower-cases, NFC) then A-labels */
        char tmp[4 * AB_MAX_DOMAIN + 1];
        memcpy(tmp, domain, n);
        tmp[n] = '\0';
        if (idn2_to_ascii_8z(tmp, &ace, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
            goto out;
        src = ace;
        n = strlen(ace);
        if (n && ace[n - 1] == '.')
            n--;
    }
    if (!n || n > AB_MAX_DOMAIN)
        goto out;
    lower_ascii(src, n, buf);
    for (size_t s = 0; s <= n;) {
        const char *dot = memchr(buf + s, '.', n - s);
        size_t e = dot ? (size_t)(dot - buf) : n;
        if (!ldh_label_ok(buf + s, e - s))
            goto out;
        s = e + 1;
    }
    if (!ab_registered_domain(buf, n, rd, sizeof(rd)))
        goto out; /* a public suffix, or a single label */
    if (n + 1 > cap)
        goto out;
    memcpy(out, buf, n + 1);
    st = AB_OK;
out:
    idn2_free(ace);
    return st;
}

void ab_domain_guard_free(ab_domain_guard *g)
{
    if (!g)
        return;
    if (g->spoof)
        uspoof_close(g->spoof);
    free(g->p);
    free(g);
}

ab_status ab_domain_guard_new(const char *const *domains, size_t n, ab_domain_guard **out)
{
    ab_status st = AB_ERR_NOMEM;
    if (n > AB_DOMAIN_GUARD_MAX || (n && !domains))
        return AB_ERR_ARG;
    ab_domain_guard *g = calloc(1, sizeof(*g)); /* owned by the caller on success */
    if (!g)
        return AB_ERR_NOMEM;
    g->p = calloc(n ? n : 1, sizeof(*g->p));
    if (!g->p)
        goto out;
    UErrorCode e = U_ZERO_ERROR;
    g->nfkc_cf = unorm2_getNFKCCasefoldInstance(&e);
    if (U_SUCCESS(e))
        g->spoof = uspoof_open(&e);
    if (U_FAILURE(e) || !g->spoof) {
        st = AB_ERR_INTERNAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char norm[AB_MAX_DOMAIN + 1];
        st = AB_ERR_ARG;
        if (!domains[i] || ab_domain_normalize(domains[i], norm, sizeof(norm)) != AB_OK ||
            make_form(g, norm, strlen(norm), 1, &g->p[g->n]) != 0)
            goto out;
        g->n++;
    }
    *out = g;
    return AB_OK;
out:
    ab_domain_guard_free(g);
    return st;
}
