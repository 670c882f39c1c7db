/* hash.c: the three digests in a single pass. On CPUs with the SHA extensions, one stitched loop
 * computes all three per 64-byte block (hash_stitched.c: SHA-1/SHA-256 hide behind MD5's
 * dependency chain, ~1.7-1.9x the three separate OpenSSL passes). Elsewhere the data is fed in
 * 256 KiB slices to three OpenSSL contexts in turn, so each slice is hashed while in cache. */
#include "core/hash.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash_stitched.h"

#define HASH_SLICE ((size_t)256 << 10)

struct ab_hasher {
    EVP_MD *md[3];      /* fetched once: md5, sha1, sha256 */
    EVP_MD_CTX *ctx[3]; /* reused for every object */
    int stitched;       /* the CPU runs ab_hash3 */
};

void ab_hasher_free(ab_hasher *h)
{
    if (!h)
        return;
    for (int i = 0; i < 3; i++) {
        EVP_MD_CTX_free(h->ctx[i]);
        EVP_MD_free(h->md[i]);
    }
    free(h);
}

ab_status ab_hasher_new(ab_hasher **out)
{
    static const char *const names[3] = {"MD5", "SHA1", "SHA256"};
    ab_hasher *h = calloc(1, sizeof(*h));
    if (!h)
        return AB_ERR_NOMEM;
    for (int i = 0; i < 3; i++) {
        h->md[i] = EVP_MD_fetch(NULL, names[i], NULL);
        h->ctx[i] = EVP_MD_CTX_new();
        if (!h->md[i] || !h->ctx[i]) {
            ab_hasher_free(h);
            return AB_ERR_UNSUPPORTED;
        }
    }
    /* ANTIBODY_HASH_IMPL=openssl forces the portable path (tests compare the two). */
    const char *impl = getenv("ANTIBODY_HASH_IMPL");
    h->stitched = ab_hash3_supported() && !(impl && strcmp(impl, "openssl") == 0);
    *out = h;
    return AB_OK;
}

static void to_hex(const unsigned char *d, unsigned n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

ab_status ab_hasher_hash(ab_hasher *h, const uint8_t *data, size_t len, char md5[33], char sha1[41],
                         char sha256[65])
{
    char *outs[3] = {md5, sha1, sha256};
    if (h->stitched) {
        uint8_t d5[16], d1[20], d256[32];
        ab_hash3(data, len, d5, d1, d256);
        to_hex(d5, 16, md5);
        to_hex(d1, 20, sha1);
        to_hex(d256, 32, sha256);
        return AB_OK;
    }
    for (int i = 0; i < 3; i++)
        if (!EVP_DigestInit_ex(h->ctx[i], h->md[i], NULL))
            return AB_ERR_INTERNAL;
    for (size_t off = 0; off < len; off += HASH_SLICE) {
        size_t n = len - off < HASH_SLICE ? len - off : HASH_SLICE;
        for (int i = 0; i < 3; i++)
            if (!EVP_DigestUpdate(h->ctx[i], data + off, n))
                return AB_ERR_INTERNAL;
    }
    for (int i = 0; i < 3; i++) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (!EVP_DigestFinal_ex(h->ctx[i], d, &n))
            return AB_ERR_INTERNAL;
        to_hex(d, n, outs[i]);
    }
    return AB_OK;
}
