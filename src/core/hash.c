/* hash.c: the three digests in a single pass. The data is fed in 256 KiB slices to all three
 * contexts in turn, so each slice is hashed three times while it is still in cache. */
#include "core/hash.h"

#include <openssl/evp.h>
#include <stdlib.h>

#define HASH_SLICE ((size_t)256 << 10)

struct ab_hasher {
    EVP_MD *md[3];      /* fetched once: md5, sha1, sha256 */
    EVP_MD_CTX *ctx[3]; /* reused for every object */
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
