/* hash_stitched.c: MD5, SHA-1 and SHA-256 in one pass, the three block functions stitched together.
 *
 * MD5 is one serial chain of scalar ALU operations (about 4-5 cycles a step, 64 steps a block) and
 * leaves most execution ports idle. SHA-1 and SHA-256 on the SHA extensions (sha1rnds4,
 * sha256rnds2, ...) run on the vector units and are much shorter chains. Each 64-byte block is
 * therefore hashed by all three in one loop iteration, the work cut into 16 groups of four MD5
 * steps, one SHA-256 quad-round and one or two SHA-1 quad-rounds, so the out-of-order core runs
 * the SHA chains in MD5's shadow and a block costs little more than its MD5 alone. */
#include "core/hash_stitched.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>

#define HASH3_TARGET __attribute__((target("sha,sse4.1,ssse3")))

struct hash3_state {
    uint32_t md5[4];
    uint32_t sha1[5];
    uint32_t sha256[8];
};

/* clang 14's __builtin_cpu_supports() does not know "sha", so ask cpuid for all three. */
int ab_hash3_supported(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    int sha = (b >> 29) & 1;
    return ssse3 && sse41 && sha;
}

static inline uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t rol32(uint32_t x, unsigned s)
{
    return (x << s) | (x >> (32 - s));
}

/* RFC 1321: sine-derived constants, per-step rotations and message word order. */
static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
static const unsigned md5_s[16] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};
#define MD5_IDX(i)                                                                                 \
    ((i) < 16   ? (i)                                                                              \
     : (i) < 32 ? (5 * (i) + 1) & 15                                                               \
     : (i) < 48 ? (3 * (i) + 5) & 15                                                               \
                : (7 * (i)) & 15)

/* One MD5 step. Message word and constant go in first, off the chain through b; the empty asm
 * keeps clang from reassociating them back behind f (1.3x slower there; no effect on gcc).
 * Round 2's (b & d) | (c & ~d) is added as two parts (they never share a bit) so c & ~d is off
 * the chain too. */
#define MD5_STEP(i, a, b, c, d)                                                                    \
    do {                                                                                           \
        a += load_le32(m + 4 * MD5_IDX(i)) + md5_k[i];                                             \
        __asm__("" : "+r"(a));                                                                     \
        if ((i) < 16) {                                                                            \
            a += d ^ (b & (c ^ d));                                                                \
        } else if ((i) < 32) {                                                                     \
            a += c & ~d;                                                                           \
            a += b & d;                                                                            \
        } else if ((i) < 48) {                                                                     \
            a += b ^ c ^ d;                                                                        \
        } else {                                                                                   \
            a += c ^ (b | ~d);                                                                     \
        }                                                                                          \
        a = rol32(a, md5_s[((i) >> 4) * 4 + ((i)&3)]) + b;                                         \
    } while (0)

/* FIPS 180-4 round constants for SHA-256, four to a quad-round. */
static const uint32_t sha256_k[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* SHA-256 rounds 4i..4i+3 on the state halves s0 = ABEF, s1 = CDGH; w2[i % 4] holds W[4i..4i+3].
 * The message schedule for a later quad is advanced alongside (sha256msg1/msg2). */
#define SHA256_QUAD(i)                                                                             \
    do {                                                                                           \
        if ((i) < 4)                                                                               \
            w2[(i)&3] =                                                                            \
                _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(s + 16 * (i))), bswap32_mask);  \
        __m128i msg_ =                                                                             \
            _mm_add_epi32(w2[(i)&3], _mm_load_si128((const __m128i *)&sha256_k[4 * (i)]));         \
        s1 = _mm_sha256rnds2_epu32(s1, s0, msg_);                                                  \
        if ((i) >= 3 && (i) <= 14) {                                                               \
            __m128i t_ = _mm_alignr_epi8(w2[(i)&3], w2[((i) + 3) & 3], 4);                         \
            w2[((i) + 1) & 3] = _mm_add_epi32(w2[((i) + 1) & 3], t_);                              \
            w2[((i) + 1) & 3] = _mm_sha256msg2_epu32(w2[((i) + 1) & 3], w2[(i)&3]);                \
        }                                                                                          \
        msg_ = _mm_shuffle_epi32(msg_, 0x0e);                                                      \
        s0 = _mm_sha256rnds2_epu32(s0, s1, msg_);                                                  \
        if ((i) >= 1 && (i) <= 12)                                                                 \
            w2[((i) + 3) & 3] = _mm_sha256msg1_epu32(w2[((i) + 3) & 3], w2[(i)&3]);                \
    } while (0)

/* SHA-1 rounds 4j..4j+3; w1[j % 4] holds W[4j..4j+3] (word order reversed, as sha1rnds4 wants).
 * e0/e1 alternate: one carries E plus the message into this quad, the other saves ABCD to
 * derive the next quad's E (sha1nexte). */
#define SHA1_QUAD(j)                                                                               \
    do {                                                                                           \
        if ((j) < 4)                                                                               \
            w1[(j)&3] =                                                                            \
                _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(s + 16 * (j))), reverse_mask);  \
        if ((j) == 0)                                                                              \
            e0 = _mm_add_epi32(e0, w1[0]);                                                         \
        else if ((j)&1)                                                                            \
            e1 = _mm_sha1nexte_epu32(e1, w1[(j)&3]);                                               \
        else                                                                                       \
            e0 = _mm_sha1nexte_epu32(e0, w1[(j)&3]);                                               \
        if ((j)&1)                                                                                 \
            e0 = abcd;                                                                             \
        else                                                                                       \
            e1 = abcd;                                                                             \
        if ((j) >= 3 && (j) <= 18)                                                                 \
            w1[((j) + 1) & 3] = _mm_sha1msg2_epu32(w1[((j) + 1) & 3], w1[(j)&3]);                  \
        abcd = _mm_sha1rnds4_epu32(abcd, ((j)&1) ? e1 : e0, (j) / 5);                              \
        if ((j) >= 1 && (j) <= 16)                                                                 \
            w1[((j) + 3) & 3] = _mm_sha1msg1_epu32(w1[((j) + 3) & 3], w1[(j)&3]);                  \
        if ((j) >= 2 && (j) <= 17)                                                                 \
            w1[((j) + 2) & 3] = _mm_xor_si128(w1[((j) + 2) & 3], w1[(j)&3]);                       \
    } while (0)

/* Group g of 16: MD5 steps 4g..4g+3 (the names rotate through a, b, c, d), SHA-256 quad g, and
 * SHA-1 quads 5g/4 .. 5(g+1)/4 - 1 (20 quads spread over 16 groups). */
#define GROUP(g)                                                                                   \
    do {                                                                                           \
        MD5_STEP(4 * (g), a, b, c, d);                                                             \
        MD5_STEP(4 * (g) + 1, d, a, b, c);                                                         \
        SHA256_QUAD(g);                                                                            \
        MD5_STEP(4 * (g) + 2, c, d, a, b);                                                         \
        MD5_STEP(4 * (g) + 3, b, c, d, a);                                                         \
        SHA1_QUAD(5 * (g) / 4);                                                                    \
        if ((g) % 4 == 3)                                                                          \
            SHA1_QUAD(5 * (g) / 4 + 1);                                                            \
    } while (0)

/* Hashes n blocks into st. MD5 reads its blocks from mp, the SHAs from sp: the same bytes except
 * in the final block, where MD5 stores the length little-endian and the SHAs big-endian. */
HASH3_TARGET static void hash3_blocks(struct hash3_state *st, const uint8_t *mp, const uint8_t *sp,
                                      size_t n)
{
    const __m128i bswap32_mask = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    const __m128i reverse_mask = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);

    uint32_t a = st->md5[0], b = st->md5[1], c = st->md5[2], d = st->md5[3];

    /* SHA-1: ABCD with A in the top lane, E in the top lane of e0 (other lanes stay zero). */
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st->sha1), 0x1b);
    __m128i e0 = _mm_set_epi32((int)st->sha1[4], 0, 0, 0), e1;

    /* SHA-256: the state as ABEF and CDGH, the layout sha256rnds2 works on. */
    __m128i t = _mm_loadu_si128((const __m128i *)&st->sha256[0]);  /* DCBA */
    __m128i s1 = _mm_loadu_si128((const __m128i *)&st->sha256[4]); /* HGFE */
    t = _mm_shuffle_epi32(t, 0xb1);                                /* CDAB */
    s1 = _mm_shuffle_epi32(s1, 0x1b);                              /* EFGH */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                        /* ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xf0);                             /* CDGH */

    for (; n; n--, mp += 64, sp += 64) {
        const uint8_t *m = mp, *s = sp;
        uint32_t a0 = a, b0 = b, c0 = c, d0 = d;
        __m128i abcd0 = abcd, e00 = e0, s00 = s0, s10 = s1;
        __m128i w1[4], w2[4];

        GROUP(0);
        GROUP(1);
        GROUP(2);
        GROUP(3);
        GROUP(4);
        GROUP(5);
        GROUP(6);
        GROUP(7);
        GROUP(8);
        GROUP(9);
        GROUP(10);
        GROUP(11);
        GROUP(12);
        GROUP(13);
        GROUP(14);
        GROUP(15);

        a += a0;
        b += b0;
        c += c0;
        d += d0;
        e0 = _mm_sha1nexte_epu32(e0, e00);
        abcd = _mm_add_epi32(abcd, abcd0);
        s0 = _mm_add_epi32(s0, s00);
        s1 = _mm_add_epi32(s1, s10);
    }

    st->md5[0] = a;
    st->md5[1] = b;
    st->md5[2] = c;
    st->md5[3] = d;

    _mm_storeu_si128((__m128i *)st->sha1, _mm_shuffle_epi32(abcd, 0x1b));
    st->sha1[4] = (uint32_t)_mm_extract_epi32(e0, 3);

    t = _mm_shuffle_epi32(s0, 0x1b);   /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xb1);  /* DCHG */
    s0 = _mm_blend_epi16(t, s1, 0xf0); /* DCBA */
    s1 = _mm_alignr_epi8(s1, t, 8);    /* HGFE */
    _mm_storeu_si128((__m128i *)&st->sha256[0], s0);
    _mm_storeu_si128((__m128i *)&st->sha256[4], s1);
}

void ab_hash3(const uint8_t *data, size_t len, uint8_t md5[16], uint8_t sha1[20],
              uint8_t sha256[32])
{
    struct hash3_state st = {
        .md5 = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476},
        .sha1 = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0},
        .sha256 = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
                   0x1f83d9ab, 0x5be0cd19},
    };
    size_t full = len / 64, rem = len % 64;
    if (full)
        hash3_blocks(&st, data, data, full);

    /* Padding: 0x80, zeros, then the bit length in the last 8 bytes; one block if it fits. */
    uint8_t tm[128] = {0}, ts[128];
    if (rem)
        memcpy(tm, data + full * 64, rem);
    tm[rem] = 0x80;
    size_t tail = rem + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len << 3;
    memcpy(ts, tm, sizeof(ts));
    for (int i = 0; i < 8; i++) {
        tm[tail - 8 + i] = (uint8_t)(bits >> (8 * i));
        ts[tail - 1 - i] = (uint8_t)(bits >> (8 * i));
    }
    hash3_blocks(&st, tm, ts, tail / 64);

    for (int i = 0; i < 4; i++)
        store_le32(md5 + 4 * i, st.md5[i]);
    for (int i = 0; i < 5; i++)
        store_be32(sha1 + 4 * i, st.sha1[i]);
    for (int i = 0; i < 8; i++)
        store_be32(sha256 + 4 * i, st.sha256[i]);
}

#else /* not x86-64: no SHA extensions to stitch with */

int ab_hash3_supported(void)
{
    return 0;
}

void ab_hash3(const uint8_t *data, size_t len, uint8_t md5[16], uint8_t sha1[20],
              uint8_t sha256[32])
{
    (void)data;
    (void)len;
    (void)md5;
    (void)sha1;
    (void)sha256;
    abort(); /* callers must check ab_hash3_supported() first */
}

#endif
