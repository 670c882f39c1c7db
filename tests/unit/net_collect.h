/* net_collect.h: an ab_net_out for tests that keeps every observable, object, record and error
 * (the first NC_MAX of each), plus one text log of all of them in order, so that two runs over
 * the same bytes fed in different pieces can be compared whole. Header-only. */
#ifndef AB_NET_COLLECT_H
#define AB_NET_COLLECT_H

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define NC_MAX 512

typedef struct nc_obs {
    int dir;
    char type[16], where[32];
    char *value;
} nc_obs;

typedef struct nc_object {
    int dir;
    char name0[300], name1[32];
    uint8_t *data;
    size_t len;
    char media[128]; /* "" when NULL */
    int has_media, truncated;
} nc_object;

typedef struct nc {
    size_t n_obs, n_obj, n_rec, n_err;
    nc_obs obs[NC_MAX];
    nc_object obj[NC_MAX];
    char *rec[NC_MAX];
    char *err[NC_MAX];
    char *log; /* every event, one line each */
    size_t log_len, log_cap;
} nc;

static inline void nc_log(nc *c, const char *s, size_t n)
{
    if (c->log_len + n + 2 > c->log_cap) {
        size_t cap = c->log_cap ? c->log_cap : 4096;
        while (cap < c->log_len + n + 2)
            cap *= 2;
        c->log = realloc(c->log, cap);
        c->log_cap = cap;
    }
    memcpy(c->log + c->log_len, s, n);
    c->log_len += n;
    c->log[c->log_len++] = '\n';
    c->log[c->log_len] = '\0';
}

static inline char *nc_dup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Lower-case hex SHA-256 of p[0..n) into out[65], computed here (not by the parser). */
static inline void nc_sha256(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static inline void nc_on_obs(void *ctx, const ab_flow_ref *f, int dir, const char *type,
                             const char *where, const char *value, size_t len)
{
    nc *c = ctx;
    (void)f;
    char line[2048];
    int k = snprintf(line, sizeof(line), "O %d %s %s %.*s", dir, type, where,
                     (int)(len > 1800 ? 1800 : len), value);
    nc_log(c, line, (size_t)k);
    if (c->n_obs < NC_MAX) {
        nc_obs *o = &c->obs[c->n_obs];
        o->dir = dir;
        snprintf(o->type, sizeof(o->type), "%s", type);
        snprintf(o->where, sizeof(o->where), "%s", where);
        o->value = nc_dup(value, len);
    }
    c->n_obs++;
}

static inline void nc_on_object(void *ctx, const ab_flow_ref *f, int dir, const char *const *names,
                                size_t n_names, const uint8_t *data, size_t len,
                                const char *media_type, int truncated)
{
    nc *c = ctx;
    (void)f;
    char sha[65], line[1024];
    nc_sha256(data, len, sha);
    int k = snprintf(line, sizeof(line), "B %d %s|%s %s %zu %d %s", dir,
                     n_names > 0 ? names[0] : "", n_names > 1 ? names[1] : "",
                     media_type ? media_type : "(null)", len, truncated, sha);
    nc_log(c, line, (size_t)k);
    if (c->n_obj < NC_MAX) {
        nc_object *o = &c->obj[c->n_obj];
        o->dir = dir;
        snprintf(o->name0, sizeof(o->name0), "%s", n_names > 0 ? names[0] : "");
        snprintf(o->name1, sizeof(o->name1), "%s", n_names > 1 ? names[1] : "");
        o->data = malloc(len ? len : 1);
        if (len)
            memcpy(o->data, data, len);
        o->len = len;
        o->has_media = media_type != NULL;
        snprintf(o->media, sizeof(o->media), "%s", media_type ? media_type : "");
        o->truncated = truncated;
    }
    c->n_obj++;
}

static inline void nc_on_record(void *ctx, const ab_flow_ref *f, const char *json, size_t len)
{
    nc *c = ctx;
    (void)f;
    nc_log(c, "R", 1);
    nc_log(c, json, len);
    if (c->n_rec < NC_MAX)
        c->rec[c->n_rec] = nc_dup(json, len);
    c->n_rec++;
}

static inline void nc_on_error(void *ctx, const ab_flow_ref *f, const char *msg)
{
    nc *c = ctx;
    (void)f;
    nc_log(c, "E", 1);
    nc_log(c, msg, strlen(msg));
    if (c->n_err < NC_MAX)
        c->err[c->n_err] = nc_dup(msg, strlen(msg));
    c->n_err++;
}

static inline ab_net_out nc_out(nc *c)
{
    memset(c, 0, sizeof(*c));
    ab_net_out o = {c, nc_on_obs, nc_on_object, nc_on_record, nc_on_error};
    return o;
}

static inline void nc_free(nc *c)
{
    for (size_t i = 0; i < c->n_obs && i < NC_MAX; i++)
        free(c->obs[i].value);
    for (size_t i = 0; i < c->n_obj && i < NC_MAX; i++)
        free(c->obj[i].data);
    for (size_t i = 0; i < c->n_rec && i < NC_MAX; i++)
        free(c->rec[i]);
    for (size_t i = 0; i < c->n_err && i < NC_MAX; i++)
        free(c->err[i]);
    free(c->log);
    memset(c, 0, sizeof(*c));
}

/* Index of the observable (type, where, value), or -1. */
static inline int nc_find_obs(const nc *c, const char *type, const char *where, const char *value)
{
    for (size_t i = 0; i < c->n_obs && i < NC_MAX; i++)
        if (strcmp(c->obs[i].type, type) == 0 && strcmp(c->obs[i].where, where) == 0 &&
            strcmp(c->obs[i].value, value) == 0)
            return (int)i;
    return -1;
}

static inline ab_flow_ref nc_flow(void)
{
    ab_flow_ref f;
    memset(&f, 0, sizeof(f));
    f.id = 1;
    f.ipver = 4;
    f.proto = 6;
    f.client_port = 40000;
    f.server_port = 80;
    return f;
}

#endif
