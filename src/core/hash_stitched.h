/* hash_stitched.h: MD5, SHA-1 and SHA-256 of a buffer in one stitched pass (x86 SHA extensions). */
#ifndef AB_HASH_STITCHED_H
#define AB_HASH_STITCHED_H

#include <stddef.h>
#include <stdint.h>

/* Non-zero when this CPU has the SHA extensions, SSSE3 and SSE4.1 that ab_hash3() needs. */
int ab_hash3_supported(void);

/* Raw digests of data[0..len) (data may be NULL when len is 0). Only call when
 * ab_hash3_supported() returned non-zero. */
void ab_hash3(const uint8_t *data, size_t len, uint8_t md5[16], uint8_t sha1[20],
              uint8_t sha256[32]);

#endif
