/* hash.h: MD5, SHA-1 and SHA-256 of an object in one pass (OpenSSL EVP). */
#ifndef AB_HASH_H
#define AB_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"

typedef struct ab_hasher ab_hasher; /* per process: EVP contexts reused across objects */

ab_status ab_hasher_new(ab_hasher **out);
void ab_hasher_free(ab_hasher *h);
/* Writes lower-case hex with NUL into md5[33], sha1[41], sha256[65]. */
ab_status ab_hasher_hash(ab_hasher *h, const uint8_t *data, size_t len, char md5[33], char sha1[41],
                         char sha256[65]);

#endif
