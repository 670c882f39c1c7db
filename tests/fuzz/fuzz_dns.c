/* fuzz_dns.c: the DNS parser (src/net/dns.c): the input as one UDP message in each direction,
 * then as a DNS-over-TCP stream of the server (detect, framing), fed whole and one byte at a
 * time: the two must give the same events. Every record must be valid JSON
 * (tests/unit/json_check.h). The first byte of the input sets where a gap falls in a third run
 * (0: none). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/json_check.h"
#include "net/dns.h"

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
    (void)dir;
    lg_add(ctx, type, strlen(type));
    lg_add(ctx, where, strlen(where));
    lg_add(ctx, value, len);
    lg_add(ctx, "\n", 1);
}

static void on_record(void *ctx, const ab_flow_ref *f, const char *json, size_t len)
{
    (void)f;
    jc_val v;
    if (!jc_parse(json, len, &v) || v.type != JC_OBJ)
        abort();
    jc_free(&v);
    lg_add(ctx, json, len);
    lg_add(ctx, "\n", 1);
}

static void on_error(void *ctx, const ab_flow_ref *f, const char *msg)
{
    (void)f;
    lg_add(ctx, msg, strlen(msg));
    lg_add(ctx, "\n", 1);
}

static void tcp(const uint8_t *data, size_t size, size_t piece, size_t gap_at, lg *l)
{
    ab_flow_ref f;
    memset(&f, 0, sizeof(f));
    ab_net_out out = {l, on_obs, NULL, on_record, on_error};
    ab_net_limits lim;
    ab_net_limits_default(&lim);
    lim.max_tx = 50;
    void *st = ab_app_dns.new_state(&lim);
    if (!st)
        return;
    int r = 0;
    for (size_t i = 0; i < size && r == 0;) {
        size_t k = piece ? piece : size;
        if (k > size - i)
            k = size - i;
        if (gap_at && i < gap_at && i + k > gap_at)
            k = gap_at - i;
        r = ab_app_dns.data(st, &f, AB_DIR_TO_CLIENT, data + i, k, &out);
        i += k;
        if (gap_at && i == gap_at && r == 0 && i < size) {
            r = ab_app_dns.gap(st, &f, AB_DIR_TO_CLIENT, data[i] + 1u, &out);
            i += 1;
        }
    }
    ab_app_dns.close(st, &f, &out);
    ab_app_dns.free_state(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ab_flow_ref f;
    memset(&f, 0, sizeof(f));
    lg l = {0};
    ab_net_out out = {&l, on_obs, NULL, on_record, on_error};
    ab_dns_message(&f, AB_DIR_TO_SERVER, data, size, &out);
    ab_dns_message(&f, AB_DIR_TO_CLIENT, data, size, &out);
    ab_app_dns.detect(data, size < 64 ? size : 64, AB_DIR_TO_SERVER);
    ab_app_dns.detect(data, size < 64 ? size : 64, AB_DIR_TO_CLIENT);
    free(l.s);

    lg whole = {0}, bytes = {0}, gapped = {0};
    tcp(data, size, 0, 0, &whole);
    tcp(data, size, 1, 0, &bytes);
    if (whole.n != bytes.n || (whole.n && memcmp(whole.s, bytes.s, whole.n) != 0))
        abort();
    if (size)
        tcp(data, size, 5, data[0], &gapped);
    free(whole.s);
    free(bytes.s);
    free(gapped.s);
    return 0;
}
