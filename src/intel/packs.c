/* packs.c: access to the built-in packs. */
#include "intel/packs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const ab_pack_def *find_pack(const char *name)
{
    for (size_t i = 0; i < ab_builtin_pack_count; i++)
        if (strcmp(ab_builtin_packs[i].name, name) == 0)
            return &ab_builtin_packs[i];
    return NULL;
}

ab_status ab_pack_load(const char *name, ab_rules *rules, ab_iocs *iocs, ab_diag_fn diag, void *ctx)
{
    const ab_pack_def *p = find_pack(name);
    if (!p)
        return AB_ERR_NOTFOUND;
    for (size_t i = 0; i < p->n_files; i++) {
        const ab_pack_file *f = &p->files[i];
        char where[256];
        snprintf(where, sizeof(where), "%s/%s", p->name, f->name);
        ab_status st = AB_OK;
        char *text = malloc(f->len + 1); /* decoded copy, freed below */
        if (!text)
            return AB_ERR_NOMEM;
        for (size_t k = 0; k < f->len; k++)
            text[k] = (char)(f->data[k] ^ AB_PACK_XOR);
        text[f->len] = '\0';
        if (ends_with(f->name, ".yar") || ends_with(f->name, ".yara"))
            st = ab_rules_add_string(rules, text, where, p->name);
        else if (ends_with(f->name, ".ioc"))
            st = ab_iocs_load_buffer(iocs, text, f->len, AB_IOC_FMT_NATIVE, where, 0, 0, diag, ctx,
                                     NULL);
        free(text);
        if (st != AB_OK)
            return st;
    }
    return AB_OK;
}

size_t ab_pack_count(void)
{
    return ab_builtin_pack_count;
}

ab_status ab_pack_info_get(size_t i, ab_pack_info *out)
{
    if (i >= ab_builtin_pack_count || !out)
        return AB_ERR_ARG;
    const ab_pack_def *p = &ab_builtin_packs[i];
    ab_rules *r = NULL;
    ab_iocs *s = NULL;
    ab_status st = ab_rules_new(&r);
    if (st == AB_OK)
        st = ab_iocs_new(&s);
    if (st == AB_OK)
        st = ab_pack_load(p->name, r, s, NULL, NULL);
    if (st == AB_OK)
        st = ab_rules_compile(r, NULL, NULL);
    if (st == AB_OK) {
        out->name = p->name;
        out->description = p->description;
        out->rules = ab_rules_count(r);
        out->iocs = ab_iocs_total(s);
    }
    ab_rules_free(r);
    ab_iocs_free(s);
    return st;
}
