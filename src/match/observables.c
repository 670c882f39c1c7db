/* observables.c: the observable matcher (observables.h). Values are normalised as the IOC store
 * normalised its indicators (match/url.h, match/domain.h), then looked up in the store's
 * indexes (intel/iocobs.c, intel/ipset.c): a URL exactly, its host as a domain or an IP; a
 * domain and each parent domain (at most 127 levels), plain and wildcard IOCs; an e-mail
 * address exactly and its domain as a domain.
 *
 * Safety: values are any bytes; everything is bounded (URLs to AB_URL_MAX, hosts to 1024 bytes,
 * addresses to 8 KiB); scratch is on the stack (about 40 KiB); nothing is allocated. */
#include "match/observables.h"

#include <string.h>
#include <strings.h>

#include "match/domain.h"
#include "match/url.h"

#define MAX_LEVELS 127  /* parent domains tried (a 253-byte name has at most 127 labels) */
#define MAX_SEEN   512  /* indicators remembered for "at most once per call" */
#define HOST_CAP   3200 /* ab_host_normalize's output for a 1024-byte host, escapes kept */

typedef struct mstate {
    const ab_iocs *s;
    ab_observable_hit_fn cb;
    void *ctx;
    const ab_ioc *seen[MAX_SEEN];
    size_t nseen;
    int stop;
} mstate;

static void hit(mstate *m, const ab_ioc *ioc, const char *matched, const char *type)
{
    if (!ioc || m->stop)
        return;
    for (size_t i = 0; i < m->nseen; i++)
        if (m->seen[i] == ioc)
            return;
    if (m->nseen < MAX_SEEN)
        m->seen[m->nseen++] = ioc;
    if (m->cb(m->ctx, ioc, matched, type))
        m->stop = 1;
}

static int has(const ab_iocs *s, ab_ioc_type t)
{
    return ab_iocs_count(s, t) > 0;
}

/* An IP address (brackets allowed) against the ip and cidr IOCs. */
static void match_ip(mstate *m, const char *v, size_t n)
{
    ab_ipaddr a;
    unsigned bits;
    char txt[AB_IPADDR_TEXT];
    if (n >= 2 && v[0] == '[' && v[n - 1] == ']')
        v++, n -= 2;
    const char *pct = memchr(v, '%', n); /* an IPv6 zone id */
    if (pct)
        n = (size_t)(pct - v);
    if (!has(m->s, AB_IOC_IP) && !has(m->s, AB_IOC_CIDR))
        return;
    if (ab_ipaddr_parse(v, n, &a, &bits) != 0 || bits != 128)
        return;
    const ab_ioc *ioc = ab_iocs_match_ip(m->s, &a);
    if (!ioc)
        return;
    ab_ipaddr_format(&a, txt, sizeof(txt));
    hit(m, ioc, txt, "ip");
}

/* A normalised host (NUL-terminated): an IP, or a name and its parent domains. */
static void match_host(mstate *m, const char *host, size_t n)
{
    if (!n)
        return;
    if (ab_host_is_ip(host, n)) {
        match_ip(m, host, n);
        return;
    }
    if (!has(m->s, AB_IOC_DOMAIN))
        return;
    hit(m, ab_iocs_find_value(m->s, AB_IOC_DOMAIN, host, n), host, "domain");
    unsigned levels = 0;
    for (size_t i = 0; i < n && levels < MAX_LEVELS && !m->stop; i++) {
        if (host[i] != '.')
            continue;
        levels++;
        const char *parent = host + i + 1;
        size_t pn = n - i - 1;
        hit(m, ab_iocs_find_wildcard(m->s, parent, pn), host, "domain");
        hit(m, ab_iocs_find_value(m->s, AB_IOC_DOMAIN, parent, pn), host, "domain");
    }
}

static void match_raw_host(mstate *m, const char *h, size_t n)
{
    char host[HOST_CAP];
    size_t hn = ab_host_normalize(h, n, host, sizeof(host));
    match_host(m, host, hn);
}

static void trim(const char **v, size_t *n, const char *set)
{
    while (*n && strchr(set, (*v)[0]) && (*v)[0])
        (*v)++, (*n)--;
    while (*n && strchr(set, (*v)[*n - 1]) && (*v)[*n - 1])
        (*n)--;
}

static void match_url(mstate *m, const char *v, size_t n)
{
    char norm[AB_URL_NORM_CAP], tmp[AB_URL_MAX + 8];
    const char *host;
    size_t hn;
    if (n >= 2 && v[0] == '/' && v[1] == '/' && n <= AB_URL_MAX) { /* "//host/path" */
        memcpy(tmp, "http:", 5);
        memcpy(tmp + 5, v, n);
        v = tmp;
        n += 5;
    }
    size_t k = ab_url_normalize(v, n, norm, sizeof(norm));
    if (!k) { /* too long or not a URL with an authority: its host if it has one */
        if (ab_url_host(v, n > AB_URL_MAX ? AB_URL_MAX : n, &host, &hn))
            match_raw_host(m, host, hn);
        return;
    }
    if (has(m->s, AB_IOC_URL))
        hit(m, ab_iocs_find_value(m->s, AB_IOC_URL, norm, k), norm, "url");
    if (m->stop || !ab_url_host(norm, k, &host, &hn))
        return;
    char h[HOST_CAP];
    if (hn >= sizeof(h))
        return;
    memcpy(h, host, hn);
    h[hn] = '\0';
    match_host(m, h, hn);
}

static void match_email(mstate *m, const char *v, size_t n)
{
    char key[8192 + HOST_CAP], host[HOST_CAP];
    trim(&v, &n, " \t\r\n<>\"'");
    if (n >= 7 && !strncasecmp(v, "mailto:", 7)) {
        v += 7, n -= 7;
        const char *q = memchr(v, '?', n);
        if (q)
            n = (size_t)(q - v);
    }
    size_t dn;
    const char *d = ab_email_domain(v, n, &dn);
    if (!d || d == v + 1 || (size_t)(d - v) > 8192 || !dn)
        return;
    size_t local = (size_t)(d - v) - 1;
    size_t hn = ab_host_normalize(d, dn, host, sizeof(host));
    if (!hn)
        return;
    if (has(m->s, AB_IOC_EMAIL) && !memchr(v, '\0', local)) {
        for (size_t i = 0; i < local; i++)
            key[i] = v[i] >= 'A' && v[i] <= 'Z' ? (char)(v[i] - 'A' + 'a') : v[i];
        key[local] = '@';
        memcpy(key + local + 1, host, hn + 1);
        hit(m, ab_iocs_find_value(m->s, AB_IOC_EMAIL, key, local + 1 + hn), key, "email");
    }
    match_host(m, host, hn);
}

/* TLS fingerprints and certificate hashes: exact values, in the sorted vectors of the store. */
static const struct {
    const char *name;
    ab_ioc_type t;
} fingerprints[] = {{"ja3", AB_IOC_JA3},
                    {"ja3s", AB_IOC_JA3S},
                    {"ja4", AB_IOC_JA4},
                    {"cert-sha1", AB_IOC_CERT_SHA1},
                    {"cert-sha256", AB_IOC_CERT_SHA256}};

static void match_fingerprint(mstate *m, const char *type, const char *value, size_t len)
{
    for (size_t i = 0; i < sizeof(fingerprints) / sizeof(fingerprints[0]); i++) {
        if (strcmp(type, fingerprints[i].name) || !has(m->s, fingerprints[i].t))
            continue;
        const ab_ioc *ioc = ab_iocs_find_exact(m->s, fingerprints[i].t, value, len);
        if (ioc) {
            char v[65];
            memcpy(v, ioc->value, strlen(ioc->value) + 1);
            hit(m, ioc, v, type);
        }
    }
}

int ab_observable_match(const ab_iocs *iocs, const char *type, const char *value, size_t len,
                        ab_observable_hit_fn cb, void *ctx)
{
    if (!iocs || !type || !value || !cb || !ab_observable_any(iocs))
        return 0;
    static const mstate zero;
    mstate m = zero;
    m.s = iocs;
    m.cb = cb;
    m.ctx = ctx;
    if (!strcmp(type, "url")) {
        match_url(&m, value, len);
    } else if (!strcmp(type, "domain")) {
        trim(&value, &len, " \t\r\n");
        match_raw_host(&m, value, len);
    } else if (!strcmp(type, "email")) {
        match_email(&m, value, len);
    } else if (!strcmp(type, "ip")) {
        trim(&value, &len, " \t\r\n");
        match_ip(&m, value, len);
    } else {
        match_fingerprint(&m, type, value, len);
    }
    return m.stop;
}

int ab_observable_any(const ab_iocs *iocs)
{
    return iocs && (has(iocs, AB_IOC_IP) || has(iocs, AB_IOC_CIDR) || has(iocs, AB_IOC_DOMAIN) ||
                    has(iocs, AB_IOC_URL) || has(iocs, AB_IOC_EMAIL) || has(iocs, AB_IOC_JA3) ||
                    has(iocs, AB_IOC_JA3S) || has(iocs, AB_IOC_JA4) ||
                    has(iocs, AB_IOC_CERT_SHA1) || has(iocs, AB_IOC_CERT_SHA256));
}
