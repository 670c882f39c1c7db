/* fuzz_http.c: the HTTP parser (src/net/http.c) over both directions of a flow made from the
 * input: a sequence of steps, each a control byte c then bytes: c = 0xfe/0xff: a gap in
 * direction c & 1 of the next byte's value (+1) bytes; else (c >> 1) + 1 bytes of direction
 * c & 1 (cut at the end of the input). Run with the default limits and with small ones; every
 * record must be valid JSON (tests/unit/json_check.h), every object byte is read (ASan), and
 * feeding each step one byte at a time must give the same events as feeding it whole (except
 * where the decompression ratio bound, checked per decoder call, cuts a body). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/json_check.h"
#include "net/http.h"

typedef struct lg {
    char *s;
    size_t n, cap;
} lg;

static void lg_add(lg *l, const void *p, size_t n)
{
    if (l->n + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 1024;
        while (cap < l->n + n + 1)
            cap *= 2;
        char *s = realloc(l->s, cap);
        if (!s)
            abort();
        l->s = s;
        l->cap = cap;
    }
    memcpy(l->s + l->n, p, n);
    l->n += n;
    l->s[l->n] = '\0';
}

static void on_obs(void *ctx, const ab_flow_ref *f, int dir, const char *type, const char *where,
                   const char *value, size_t len)
{
    (void)f;
    lg_add(ctx, dir ? "O1" : "O0", 2);
    lg_add(ctx, type, strlen(type));
    lg_add(ctx, where, strlen(where));
    lg_add(ctx, value, len);
    lg_add(ctx, "\n", 1);
}

static void on_object(void *ctx, const ab_flow_ref *f, int dir, const char *const *names,
                      size_t n_names, const uint8_t *data, size_t len, const char *media_type,
                      int truncated)
{
    (void)f;
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = sum * 31 + data[i];
    char line[64];
    int k = snprintf(line, sizeof(line), "B%d %zu %u %d ", dir, len, sum, truncated);
    lg_add(ctx, line, (size_t)k);
    for (size_t i = 0; i < n_names; i++)
        lg_add(ctx, names[i], strlen(names[i]));
    if (media_type)
        lg_add(ctx, media_type, strlen(media_type));
    lg_add(ctx, "\n", 1);
}

static void on_record(void *ctx, const ab_flow_ref *f, const char *json, size_t len)
{
    (void)f;
    jc_val v;
    if (!jc_parse(json, len, &v) || v.type != JC_OBJ)
        abort(); /* a record must be one JSON object */
    jc_free(&v);
    lg_add(ctx, "R", 1);
    lg_add(ctx, json, len);
    lg_add(ctx, "\n", 1);
}

static void on_error(void *ctx, const ab_flow_ref *f, const char *msg)
{
    (void)f;
    lg_add(ctx, "E", 1);
    lg_add(ctx, msg, strlen(msg));
    lg_add(ctx, "\n", 1);
}

static void run(const uint8_t *data, size_t size, const ab_net_limits *lim, int bytewise, lg *l)
{
    ab_flow_ref f;
    memset(&f, 0, sizeof(f));
    f.id = 1;
    ab_net_out out = {l, on_obs, on_object, on_record, on_error};
    void *st = ab_app_http.new_state(lim);
    if (!st)
        return;
    size_t i = 0;
    int r = 0;
    while (i < size && r == 0) {
        uint8_t c = data[i++];
        int dir = c & 1;
        if (c >= 0xfe) {
            uint64_t n = i < size ? (uint64_t)data[i++] + 1 : 1;
            r = ab_app_http.gap(st, &f, dir, n, &out);
            continue;
        }
        size_t n = (size_t)(c >> 1) + 1;
        if (n > size - i)
            n = size - i;
        if (bytewise) {
            for (size_t k = 0; k < n && r == 0; k++)
                r = ab_app_http.data(st, &f, dir, data + i + k, 1, &out);
        } else {
            r = ab_app_http.data(st, &f, dir, data + i, n, &out);
        }
        i += n;
    }
    ab_app_http.close(st, &f, &out);
    ab_app_http.free_state(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ab_net_limits lims[2];
    ab_net_limits_default(&lims[0]);
    ab_net_limits_default(&lims[1]);
    lims[1].max_body = 32;
    lims[1].max_line = 64;
    lims[1].max_headers = 4;
    lims[1].max_tx = 3;
    for (int k = 0; k < 2; k++) {
        lg whole = {0}, bytes = {0};
        run(data, size, &lims[k], 0, &whole);
        run(data, size, &lims[k], 1, &bytes);
        if ((whole.n != bytes.n || (whole.n && memcmp(whole.s, bytes.s, whole.n) != 0)) &&
            !strstr(whole.s ? whole.s : "", "ratio limit"))
            abort(); /* the pieces the bytes came in changed what was found */
        free(whole.s);
        free(bytes.s);
    }
    ab_app_http.detect(data, size < 64 ? size : 64, 0);
    ab_app_http.detect(data, size < 64 ? size : 64, 1);
    return 0;
}
