/* app_fuzz.h: what fuzz_tls and fuzz_smtp share: the input is a conversation of segments, each a
 * 2-byte big-endian header (bit 15: the direction, bit 14: a gap of that many bytes instead of
 * data, bits 0-13: the length) and its bytes (the last segment may be short). It is fed to one
 * app parser three times: whole segments, segments cut in pseudo-random pieces (seeded by the
 * input), and with small limits. The first two must give the same records, observables, objects
 * and errors (a parser must not depend on how its bytes were cut): a difference aborts. Every
 * byte of what the parser gives is read (ASan sees a read past it). */
#ifndef AB_FUZZ_APP_FUZZ_H
#define AB_FUZZ_APP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

typedef struct fz_sum {
    uint64_t h;
    size_t n;
} fz_sum;

static void fz_mix(fz_sum *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        s->h = (s->h ^ b[i]) * 0x100000001b3ULL;
    s->h = (s->h ^ 0xff) * 0x100000001b3ULL;
    s->n++;
}

static void fz_obs(void *ctx, const ab_flow_ref *f, int dir, const char *type, const char *where,
                   const char *v, size_t n)
{
    (void)f;
    fz_mix(ctx, &dir, sizeof(dir));
    fz_mix(ctx, type, strlen(type));
    fz_mix(ctx, where, strlen(where));
    fz_mix(ctx, v, n);
}

static void fz_obj(void *ctx, const ab_flow_ref *f, int dir, const char *const *names,
                   size_t n_names, const uint8_t *data, size_t len, const char *media_type,
                   int truncated)
{
    (void)f;
    for (size_t i = 0; i < n_names; i++)
        fz_mix(ctx, names[i], strlen(names[i]));
    fz_mix(ctx, data, len);
    fz_mix(ctx, &dir, sizeof(dir));
    fz_mix(ctx, &truncated, sizeof(truncated));
    if (media_type)
        fz_mix(ctx, media_type, strlen(media_type));
}

static void fz_rec(void *ctx, const ab_flow_ref *f, const char *json, size_t len)
{
    fz_mix(ctx, json, len);
    if (f->app)
        fz_mix(ctx, f->app, strlen(f->app));
}

static void fz_err(void *ctx, const ab_flow_ref *f, const char *msg)
{
    (void)f;
    fz_mix(ctx, msg, strlen(msg));
}

/* One run; piece 0: whole segments, else pieces of 1..piece bytes from the seed. */
static fz_sum fz_run(const ab_app_proto *app, const uint8_t *data, size_t size, size_t piece,
                     uint32_t seed, const ab_net_limits *lim)
{
    fz_sum sum = {0xcbf29ce484222325ULL, 0};
    ab_net_out out = {&sum, fz_obs, fz_obj, fz_rec, fz_err};
    ab_flow_ref f;
    memset(&f, 0, sizeof(f));
    f.id = 1;
    f.app = app->name;
    void *st = app->new_state(lim);
    if (!st)
        return sum;
    size_t off = 0;
    int r = 0;
    while (off + 2 <= size && r == 0) {
        unsigned h = (unsigned)data[off] << 8 | data[off + 1];
        off += 2;
        int dir = h >> 15;
        size_t len = h & 0x3fff;
        if (h & 0x4000) {
            r = app->gap(st, &f, dir, len, &out);
            continue;
        }
        if (len > size - off)
            len = size - off;
        size_t done = 0;
        while (done < len && r == 0) {
            size_t k = len - done;
            if (piece) {
                seed = seed * 1103515245u + 12345u;
                size_t want = 1 + (seed >> 16) % piece;
                if (want < k)
                    k = want;
            }
            r = app->data(st, &f, dir, data + off + done, k, &out);
            done += k;
        }
        off += len;
    }
    if (r == 0)
        app->close(st, &f, &out);
    app->free_state(st);
    return sum;
}

static int fz_app(const ab_app_proto *app, const uint8_t *data, size_t size)
{
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    fz_sum a = fz_run(app, data, size, 0, seed, NULL);
    fz_sum b = fz_run(app, data, size, 1 + seed % 17, seed, NULL);
    if (a.h != b.h || a.n != b.n)
        abort(); /* the result depended on how the bytes were cut */
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    lim.max_body = 8;
    lim.max_line = 16;
    lim.max_tx = 3;
    lim.max_cert_size = 300;
    fz_run(app, data, size, 3, seed, &lim);
    for (int dir = 0; dir < 2; dir++)
        app->detect(data, size < 64 ? size : 64, dir);
    return 0;
}

#endif
