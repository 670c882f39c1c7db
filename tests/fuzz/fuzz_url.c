/* fuzz_url.c: the URL functions (src/match/url.c) over any bytes: text extraction (every value
 * within AB_URL_TEXT_MAX, NUL-terminated, at most AB_URL_TEXT_URLS of them, and each URL value
 * normalising within bounds), normalisation (length, NUL, idempotence: a normalised URL
 * normalises to itself), the host of the input and of its normalised form, host normalisation. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/url.h"

static char norm[AB_URL_NORM_CAP], again[AB_URL_NORM_CAP];

static void check_norm(const char *in, size_t n)
{
    size_t k = ab_url_normalize(in, n, norm, sizeof(norm));
    if (k >= sizeof(norm) || strlen(norm) != k)
        abort();
    if (!k)
        return;
    const char *h;
    size_t hn;
    if (!ab_url_host(norm, k, &h, &hn) || h < norm || h + hn > norm + k)
        abort(); /* a normalised URL always has a host */
    size_t k2 = ab_url_normalize(norm, k, again, sizeof(again));
    if (k2 != k || memcmp(norm, again, k))
        abort();
}

typedef struct seen {
    unsigned n;
} seen;

static int on_found(void *ctx, const char *type, const char *value, size_t len, int defanged)
{
    seen *s = ctx;
    (void)defanged;
    if (++s->n > AB_URL_TEXT_URLS || len > AB_URL_TEXT_MAX || value[len] != '\0' ||
        strlen(value) != len)
        abort();
    if (strcmp(type, "url") && strcmp(type, "domain") && strcmp(type, "ip"))
        abort();
    if (!strcmp(type, "url"))
        check_norm(value, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    seen s = {0};
    ab_url_extract_text(t, size, on_found, &s);
    check_norm(t, size);
    const char *h;
    size_t hn;
    if (ab_url_host(t, size, &h, &hn) && (h < t || h + hn > t + size || !hn))
        abort();
    char host[4096];
    size_t k = ab_host_normalize(t, size, host, sizeof(host));
    if (k >= sizeof(host) || strlen(host) != k)
        abort();
    return 0;
}
