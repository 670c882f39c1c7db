/* verdict.c: per-object verdicts (see verdict.h). */
#include "core/verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ab_combined_score(int *scores, size_t n)
{
    /* Insertion sort: objects have a handful of findings; n is bounded anyway. */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && scores[k] > scores[k - 1]; k--) {
            int t = scores[k];
            scores[k] = scores[k - 1];
            scores[k - 1] = t;
        }
    double keep = 1.0, weight = 1.0;
    for (size_t i = 0; i < n && weight > 1e-9; i++, weight /= 2) {
        int s = scores[i] < 0 ? 0 : scores[i] > 100 ? 100 : scores[i];
        keep *= 1.0 - s / 100.0 * weight;
    }
    /* The epsilon makes exact halves (70 and 50: 77.5) round up whatever the float noise. */
    long v = lround(100.0 * (1.0 - keep) + 1e-9);
    return v < 0 ? 0 : v > 100 ? 100 : (int)v;
}

const char *ab_level_for(int score, const unsigned levels[3])
{
    static const char *const names[3] = {"alert", "warning", "notice"};
    for (int i = 0; i < 3; i++)
        if (score >= (int)levels[i])
            return names[i];
    return "info";
}

/* Bytes to hold a copy of f's arrays and strings that may not outlive the matcher's callback. */
static size_t copy_size(const ab_finding *f)
{
    size_t n = sizeof(ab_finding) + (f->obj.flow ? sizeof(ab_flow_info) : 0) +
               f->tags_len * sizeof(char *) + f->meta_len * sizeof(ab_meta) +
               f->strings_len * sizeof(ab_string_match);
    n += (f->reason ? strlen(f->reason) : 0) + 1;
    n += (f->value ? strlen(f->value) : 0) + 1;
    for (size_t i = 0; i < f->strings_len; i++)
        n += f->strings[i].data_len + (f->strings[i].region ? strlen(f->strings[i].region) + 1 : 0);
    return n;
}

/* One allocation holding f and everything of it that lives on the matcher's stack: the tag and
 * meta arrays, the reason, matched-string records and their data. The strings they point to
 * (rule names, tags, meta, IOC values, string identifiers, signal names, value types and
 * "where" tokens) live in the compiled rules and IOC store or are static, and are not copied;
 * the flow info is (its strings live with the member, which outlives the verdict). Arrays come
 * first: they need alignment. */
static ab_finding *finding_copy(const ab_finding *f)
{
    char *p = malloc(copy_size(f));
    if (!p)
        return NULL;
    ab_finding *c = (ab_finding *)p;
    *c = *f;
    p += sizeof(*c);
    if (f->obj.flow) { /* an observable's flow info says its packet's time (unpack.c): a copy */
        memcpy(p, f->obj.flow, sizeof(ab_flow_info));
        c->obj.flow = (const ab_flow_info *)p;
        p += sizeof(ab_flow_info);
    }
    if (f->tags_len) {
        memcpy(p, f->tags, f->tags_len * sizeof(char *));
        c->tags = (const char *const *)p;
        p += f->tags_len * sizeof(char *);
    }
    if (f->meta_len) {
        memcpy(p, f->meta, f->meta_len * sizeof(ab_meta));
        c->meta = (const ab_meta *)p;
        p += f->meta_len * sizeof(ab_meta);
    }
    ab_string_match *sm = (ab_string_match *)p;
    if (f->strings_len) {
        memcpy(sm, f->strings, f->strings_len * sizeof(*sm));
        c->strings = sm;
        p += f->strings_len * sizeof(*sm);
    }
    for (size_t i = 0; i < f->strings_len; i++) {
        memcpy(p, f->strings[i].data, f->strings[i].data_len);
        sm[i].data = (const uint8_t *)p;
        p += f->strings[i].data_len;
        if (f->strings[i].region) {
            strcpy(p, f->strings[i].region);
            sm[i].region = p;
            p += strlen(p) + 1;
        }
    }
    if (f->reason) {
        strcpy(p, f->reason);
        c->reason = p;
        p += strlen(p) + 1;
    }
    if (f->value) { /* a source's value lives on its stack (value_type and where are static) */
        strcpy(p, f->value);
        c->value = p;
    }
    return c;
}

/* Findings past this point cannot be held: say so once, and stop the matchers on the object. */
static int give_up(ab_verdict *v, ab_status st, const char *msg)
{
    if (!v->full) {
        v->full = 1;
        ab_error e = {v->obj->path, v->obj->location,       v->obj->location_len, st,
                      msg,          v->obj->location_source};
        v->down->error(v->down->ctx, &e);
    }
    return 1;
}

static int hold_finding(void *ctx, const ab_finding *f)
{
    ab_verdict *v = ctx;
    if (v->n >= AB_MAX_OBJECT_FINDINGS)
        return give_up(v, AB_ERR_LIMIT,
                       "more than 4096 findings on one object: the rest are not reported");
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        ab_finding **h = realloc(v->held, cap * sizeof(*h));
        if (!h)
            return give_up(v, AB_ERR_NOMEM,
                           "out of memory holding findings: the rest are not "
                           "reported");
        v->held = h;
        v->cap = cap;
    }
    ab_finding *c = finding_copy(f);
    if (!c)
        return give_up(v, AB_ERR_NOMEM,
                       "out of memory holding findings: the rest are not "
                       "reported");
    v->held[v->n++] = c;
    return 0;
}

static int pass_error(void *ctx, const ab_error *e)
{
    ab_verdict *v = ctx;
    return v->down->error(v->down->ctx, e);
}

static void pass_skip(void *ctx, const ab_skip *s)
{
    ab_verdict *v = ctx;
    if (v->down->skip)
        v->down->skip(v->down->ctx, s);
}

static void pass_record(void *ctx, const ab_flow_record *r)
{
    ab_verdict *v = ctx;
    if (v->down->record)
        v->down->record(v->down->ctx, r);
}

const ab_emit *ab_verdict_begin(ab_verdict *v, const ab_object *obj, const ab_emit *down,
                                unsigned min_score, const unsigned levels[3])
{
    memset(v, 0, sizeof(*v));
    v->obj = obj;
    v->down = down;
    v->min_score = min_score;
    v->levels = levels;
    v->up = (ab_emit){hold_finding, pass_error, v, NULL, pass_skip, pass_record};
    return &v->up;
}

int ab_verdict_end(ab_verdict *v)
{
    int scores[AB_MAX_OBJECT_FINDINGS];
    for (size_t i = 0; i < v->n; i++)
        scores[i] = v->held[i]->score;
    int combined = ab_combined_score(scores, v->n);
    const char *level = ab_level_for(combined, v->levels);
    int below = (unsigned)combined < v->min_score;
    if (below && v->n && v->down->suppressed)
        v->down->suppressed(v->down->ctx, v->n);
    for (size_t i = 0; i < v->n; i++) {
        ab_finding *f = v->held[i];
        f->object_score = combined;
        f->level = level;
        /* What the object's sources found (a PDF's URI actions) is known only now: its members
         * were read after the matchers emitted. */
        f->obj.observable_type = v->obj->observable_type;
        f->obj.observable_value = v->obj->observable_value;
        f->obj.observable_where = v->obj->observable_where;
        f->obj.observables_len = v->obj->observables_len;
        f->obj.mail = v->obj->mail; /* a message is known one once its source read it */
        if (!f->obj.flow) /* one it has is its own copy: an observable's says its packet time */
            f->obj.flow = v->obj->flow;
        if (!below && !v->stop && v->down->finding(v->down->ctx, f))
            v->stop = 1;
        free(f);
    }
    free(v->held);
    v->held = NULL;
    v->n = v->cap = 0;
    return v->stop;
}
