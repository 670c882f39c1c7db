/* mailindex.c: the mail index aggregator (mailindex.h). Open records are a small array searched
 * linearly by key: a sweep has a few messages in flight per worker. */
#include "report/mailindex.h"

#include <stdlib.h>
#include <string.h>

struct ab_mailindex {
    ab_mailindex_emit emit;
    void *ctx;
    ab_mail_record **open; /* owned */
    size_t n_open, cap_open;
    uint64_t dropped;
};

static char *dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void record_free(ab_mail_record *r)
{
    if (!r)
        return;
    free(r->key);
    free(r->path);
    for (size_t i = 0; i < r->loc_len; i++) {
        free(r->loc[i]);
        free(r->locsrc[i]);
    }
    free((char *)r->mail.message_id);
    free((char *)r->mail.date);
    free((char *)r->mail.from);
    free((char *)r->mail.to);
    free((char *)r->mail.subject);
    for (size_t i = 0; i < r->n_parts; i++) {
        free(r->parts[i].name);
        free(r->parts[i].part);
    }
    free(r->parts);
    for (size_t i = 0; i < r->n_urls; i++)
        free(r->urls[i]);
    free(r->urls);
    free(r);
}

ab_status ab_mailindex_new(ab_mailindex_emit emit, void *ctx, ab_mailindex **out)
{
    ab_mailindex *x = calloc(1, sizeof(*x));
    if (!x)
        return AB_ERR_NOMEM;
    x->emit = emit;
    x->ctx = ctx;
    *out = x;
    return AB_OK;
}

void ab_mailindex_free(ab_mailindex *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n_open; i++) {
        if (x->emit)
            x->emit(x->ctx, x->open[i]);
        record_free(x->open[i]);
    }
    free(x->open);
    free(x);
}

uint64_t ab_mailindex_dropped(const ab_mailindex *x)
{
    return x ? x->dropped : 0;
}

/* The key of the message at location[0..depth]: path, then names, each NUL-terminated. */
static char *make_key(const ab_object_info *o, size_t depth, size_t *len)
{
    size_t n = strlen(o->path) + 1;
    for (size_t i = 1; i <= depth; i++)
        n += strlen(o->location[i]) + 1;
    char *k = malloc(n), *p = k;
    if (!k)
        return NULL;
    memcpy(p, o->path, strlen(o->path) + 1);
    p += strlen(o->path) + 1;
    for (size_t i = 1; i <= depth; i++) {
        memcpy(p, o->location[i], strlen(o->location[i]) + 1);
        p += strlen(o->location[i]) + 1;
    }
    *len = n;
    return k;
}

/* The open record of key, created when create; NULL when none (or none could be made). */
static ab_mail_record *find(ab_mailindex *x, char *key, size_t len, int create, size_t *at)
{
    for (size_t i = 0; i < x->n_open; i++)
        if (x->open[i]->key_len == len && !memcmp(x->open[i]->key, key, len)) {
            free(key);
            *at = i;
            return x->open[i];
        }
    if (!create || x->n_open >= AB_MAILINDEX_MAX_OPEN) {
        if (create)
            x->dropped++;
        free(key);
        return NULL;
    }
    if (x->n_open == x->cap_open) {
        size_t cap = x->cap_open ? x->cap_open * 2 : 8;
        ab_mail_record **v = realloc(x->open, cap * sizeof(*v));
        if (!v) {
            x->dropped++;
            free(key);
            return NULL;
        }
        x->open = v;
        x->cap_open = cap;
    }
    ab_mail_record *r = calloc(1, sizeof(*r));
    if (!r) {
        x->dropped++;
        free(key);
        return NULL;
    }
    r->key = key;
    r->key_len = len;
    *at = x->n_open;
    x->open[x->n_open++] = r;
    return r;
}

static void add_part(ab_mail_record *r, const ab_object_info *o, const char *part)
{
    if (r->n_parts >= AB_MAILINDEX_MAX_PARTS) {
        r->parts_omitted++;
        return;
    }
    ab_mail_part_rec *v = realloc(r->parts, (r->n_parts + 1) * sizeof(*v));
    if (!v) {
        r->parts_omitted++;
        return;
    }
    r->parts = v;
    ab_mail_part_rec *p = &v[r->n_parts];
    memset(p, 0, sizeof(*p));
    const char *name = o->location[o->location_len - 1];
    p->name = dup(name);
    p->part = dup(part);
    p->size = o->size;
    if (o->sha256)
        memcpy(p->sha256, o->sha256, 64);
    if (part) { /* the mail source names a body part without a file name "part-<path>.<ext>" */
        size_t pl = strlen(part);
        p->body = !strncmp(name, "part-", 5) && !strncmp(name + 5, part, pl) && name[5 + pl] == '.';
    }
    if (!p->name) {
        r->parts_omitted++;
        free(p->part);
        return;
    }
    r->n_parts++;
}

static void add_urls(ab_mail_record *r, const ab_object_info *o)
{
    for (size_t i = 0; i < o->observables_len; i++) {
        if (strcmp(o->observable_type[i], "url"))
            continue;
        const char *u = o->observable_value[i];
        int seen = 0;
        for (size_t k = 0; k < r->n_urls && !seen; k++)
            seen = !strcmp(r->urls[k], u);
        if (seen)
            continue;
        char **v = r->n_urls < AB_MAILINDEX_MAX_URLS
                       ? realloc(r->urls, (r->n_urls + 1) * sizeof(*v))
                       : NULL;
        if (!v || !(v[r->n_urls] = strdup(u))) {
            if (v)
                r->urls = v;
            r->urls_omitted++;
            continue;
        }
        r->urls = v;
        r->n_urls++;
    }
}

/* The message's own object: what the record says of the message itself. */
static void fill_message(ab_mail_record *r, const ab_object_info *o)
{
    r->path = dup(o->path);
    r->loc_len = o->location_len < AB_MAILINDEX_MAX_LOC ? o->location_len : AB_MAILINDEX_MAX_LOC;
    for (size_t i = 0; i < r->loc_len; i++) {
        r->loc[i] = dup(o->location[i]);
        r->locsrc[i] = o->location_source ? dup(o->location_source[i]) : NULL;
    }
    r->mail.message_id = dup(o->mail->message_id);
    r->mail.date = dup(o->mail->date);
    r->mail.date_epoch = o->mail->date_epoch;
    r->mail.from = dup(o->mail->from);
    r->mail.to = dup(o->mail->to);
    r->mail.subject = dup(o->mail->subject);
    r->mail.depth = o->mail->depth;
    r->size = o->size;
    if (o->sha256)
        memcpy(r->sha256, o->sha256, 64);
    r->complete = 1;
}

static void close_record(ab_mailindex *x, size_t at)
{
    ab_mail_record *r = x->open[at];
    x->open[at] = x->open[--x->n_open];
    if (x->emit)
        x->emit(x->ctx, r);
    record_free(r);
}

void ab_mailindex_object(ab_mailindex *x, const ab_object_info *o)
{
    const ab_mail_info *m = o->mail;
    if (!x || !m || !o->path || m->depth >= o->location_len)
        return;
    size_t klen, at;
    char *key = make_key(o, m->depth, &klen);
    if (!key)
        return;
    int self = !m->part && o->location_len == (size_t)m->depth + 1;
    ab_mail_record *r = find(x, key, klen, 1, &at);
    if (!r)
        return;
    add_urls(r, o);
    if (!self) {
        if (o->location_len == (size_t)m->depth + 2) /* a part of the message itself */
            add_part(r, o, m->part);
        return;
    }
    fill_message(r, o);
    /* An embedded message is also a part of the message it is in, when that one is open. */
    if (m->depth > 0) {
        size_t plen, pat;
        char *pkey = make_key(o, m->depth - 1, &plen);
        /* A message that is a MIME part of another (source "mime") may be the first object of
         * that message to arrive: make its record then. */
        int in_message = o->location_source && o->location_source[m->depth] &&
                         !strcmp(o->location_source[m->depth], "mime");
        ab_mail_record *parent = pkey ? find(x, pkey, plen, in_message, &pat) : NULL;
        if (parent) {
            add_part(parent, o, NULL);
            for (size_t i = 0; i < r->n_urls; i++) {
                ab_object_info u = {0};
                const char *t = "url";
                u.observable_type = &t;
                u.observable_value = (const char *const *)&r->urls[i];
                u.observables_len = 1;
                add_urls(parent, &u);
            }
        }
    }
    close_record(x, at);
}
