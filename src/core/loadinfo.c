/* loadinfo.c: what a scanner sweeps with: the content of each add call, a digest of the whole,
 * the versions. A report starts with it, so a finding can be traced to the rule set that made it
 * and runs on many hosts can be checked to have used the same content. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/scanner.h"

struct ab_load_rec {
    const char *kind; /* static */
    char *name;       /* owned */
    size_t src0, src1, set0, set1;
    size_t iocs;
};

void ab_load_mark_now(const ab_scanner *sc, ab_load_mark *m)
{
    ab_rules_position(sc->rules, &m->src, &m->sets);
    m->iocs = ab_iocs_total(sc->iocs);
}

/* Best effort: a record that cannot be allocated only leaves a line out of the load record. */
void ab_load_record(ab_scanner *sc, const char *kind, const char *name, const ab_load_mark *m)
{
    struct ab_load_rec *v = realloc(sc->loads, (sc->n_loads + 1) * sizeof(*v));
    if (!v)
        return;
    sc->loads = v;
    struct ab_load_rec *r = &v[sc->n_loads];
    memset(r, 0, sizeof(*r));
    if (!(r->name = strdup(name ? name : "")))
        return;
    r->kind = kind;
    r->src0 = m->src;
    r->set0 = m->sets;
    ab_rules_position(sc->rules, &r->src1, &r->set1);
    r->iocs = ab_iocs_total(sc->iocs) - m->iocs;
    sc->n_loads++;
}

void ab_load_free(ab_scanner *sc)
{
    for (size_t i = 0; i < sc->n_loads; i++)
        free(sc->loads[i].name);
    free(sc->loads);
    free(sc->load_view);
    sc->loads = NULL;
    sc->load_view = NULL;
    sc->n_loads = 0;
}

static void md_update(void *ctx, const void *p, size_t n)
{
    EVP_DigestUpdate(ctx, p, n);
}

static void md_str(EVP_MD_CTX *md, const char *s)
{
    EVP_DigestUpdate(md, s ? s : "", (s ? strlen(s) : 0) + 1); /* with the NUL: unambiguous */
}

/* SHA-256 over the compiled rule sets, then every indicator (type, value, score, fp regex) in
 * load order. Allow-list entries are not part of it. */
static ab_status compute_digest(ab_scanner *sc)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    ab_status st = AB_ERR_NOMEM;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        goto out;
    if ((st = ab_rules_digest(sc->rules, md_update, md)) != AB_OK)
        goto out;
    for (int t = 0; t < AB_IOC_TYPE_COUNT; t++) {
        for (size_t i = 0; i < ab_iocs_count(sc->iocs, (ab_ioc_type)t); i++) {
            const ab_ioc *ioc = ab_iocs_get(sc->iocs, (ab_ioc_type)t, i);
            char score[16];
            snprintf(score, sizeof(score), "%d", ioc->score);
            md_str(md, ab_ioc_type_name((ab_ioc_type)t));
            md_str(md, ioc->value);
            md_str(md, score);
            md_str(md, ioc->fp_regex);
        }
    }
    st = EVP_DigestFinal_ex(md, out, &n) && n == 32 ? AB_OK : AB_ERR_INTERNAL;
    for (unsigned i = 0; st == AB_OK && i < n; i++) {
        sc->digest[2 * i] = hex[out[i] >> 4];
        sc->digest[2 * i + 1] = hex[out[i] & 15];
    }
    sc->digest[64] = '\0';
out:
    EVP_MD_CTX_free(md);
    return st;
}

ab_status ab_scanner_load_info(ab_scanner *sc, unsigned scope, ab_load_info *out)
{
    if (!sc || !out || !sc->compiled)
        return AB_ERR_ARG;
    memset(out, 0, sizeof(*out));
    ab_status st = sc->digest[0] ? AB_OK : compute_digest(sc);
    if (st != AB_OK)
        return st;
    if (!sc->load_view && sc->n_loads &&
        !(sc->load_view = calloc(sc->n_loads, sizeof(*sc->load_view))))
        return AB_ERR_NOMEM;
    for (size_t i = 0; i < sc->n_loads; i++) {
        const struct ab_load_rec *r = &sc->loads[i];
        sc->load_view[i] = (ab_content_source){
            r->kind, r->name, ab_rules_count_range(sc->rules, r->src0, r->src1, r->set0, r->set1),
            r->iocs};
    }
    ab_versions_get(&out->versions);
    out->rules = ab_scanner_rule_count(sc);
    out->iocs = ab_scanner_ioc_count(sc);
    out->iocs_unmatched = ab_scanner_ioc_count_unmatched(sc, scope);
    out->rule_warnings = ab_scanner_rule_warning_count(sc);
    out->sources = sc->load_view;
    out->n_sources = sc->n_loads;
    out->digest = sc->digest;
    return AB_OK;
}
