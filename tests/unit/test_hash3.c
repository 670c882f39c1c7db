/* test_hash3.c: the stitched MD5/SHA-1/SHA-256 against published vectors and against OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "core/hash_stitched.h"

#define MAX_RANDOM_LEN ((size_t)2 << 20)

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void check_vector(const void *data, size_t len, const char *md5, const char *sha1,
                         const char *sha256)
{
    uint8_t m[16], s1[20], s2[32];
    char hex[65];
    ab_hash3(data, len, m, s1, s2);
    to_hex(m, sizeof(m), hex);
    assert_string_equal(hex, md5);
    to_hex(s1, sizeof(s1), hex);
    assert_string_equal(hex, sha1);
    to_hex(s2, sizeof(s2), hex);
    assert_string_equal(hex, sha256);
}

/* The three digests by OpenSSL, one context each. */
static void check_against_openssl(const uint8_t *data, size_t len)
{
    uint8_t m[16], s1[20], s2[32], ref[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    ab_hash3(data, len, m, s1, s2);

    assert_true(EVP_Digest(data, len, ref, &n, EVP_md5(), NULL));
    assert_int_equal(n, sizeof(m));
    if (memcmp(ref, m, sizeof(m)) != 0)
        fail_msg("MD5 differs at length %zu", len);
    assert_true(EVP_Digest(data, len, ref, &n, EVP_sha1(), NULL));
    assert_int_equal(n, sizeof(s1));
    if (memcmp(ref, s1, sizeof(s1)) != 0)
        fail_msg("SHA-1 differs at length %zu", len);
    assert_true(EVP_Digest(data, len, ref, &n, EVP_sha256(), NULL));
    assert_int_equal(n, sizeof(s2));
    if (memcmp(ref, s2, sizeof(s2)) != 0)
        fail_msg("SHA-256 differs at length %zu", len);
}

/* splitmix64: a fixed seed makes a failure reproducible. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint8_t *random_buffer(size_t len, uint64_t *state)
{
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)next_random(state);
    return buf;
}

static void skip_without_sha_ni(void)
{
    if (!ab_hash3_supported())
        skip();
}

static void test_vectors(void **state)
{
    (void)state;
    skip_without_sha_ni();
    check_vector(NULL, 0, "d41d8cd98f00b204e9800998ecf8427e",
                 "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_vector("abc", 3, "900150983cd24fb0d6963f7d28e17f72",
                 "a9993e364706816aba3e25717850c26c9cd0d89d",
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* 448 bits: the length no longer fits in the first block's padding. */
    const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_vector(s, strlen(s), "8215ef0796a20bcaaae116d3876c664a",
                 "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a(void **state)
{
    (void)state;
    skip_without_sha_ni();
    char *buf = malloc(1000000);
    assert_non_null(buf);
    memset(buf, 'a', 1000000);
    check_vector(buf, 1000000, "7707d6ae4e027c70eea2a935c2296f21",
                 "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
                 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(buf);
}

/* Every length through several blocks, so each padding case (tail fits or spills into a second
 * block) is met, and at every start offset 0..7 of an aligned allocation. */
static void test_short_lengths_all_offsets(void **state)
{
    (void)state;
    skip_without_sha_ni();
    uint64_t rng = 0x68617368330a0001ULL;
    uint8_t *buf = random_buffer(300 + 8, &rng);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= 300; len++)
            check_against_openssl(buf + off, len);
    free(buf);
}

/* Each buffer is allocated to its exact end, so ASan sees any read past it. */
static void test_random_lengths(void **state)
{
    (void)state;
    skip_without_sha_ni();
    uint64_t rng = 0x68617368330a0002ULL;
    for (int i = 0; i < 24; i++) {
        size_t len = (size_t)(next_random(&rng) % (MAX_RANDOM_LEN + 1));
        size_t off = (size_t)(next_random(&rng) % 8);
        uint8_t *buf = random_buffer(off + len, &rng);
        check_against_openssl(buf + off, len);
        free(buf);
    }
    /* the largest size itself, at an odd offset */
    uint8_t *buf = random_buffer(MAX_RANDOM_LEN + 3, &rng);
    check_against_openssl(buf + 3, MAX_RANDOM_LEN);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_short_lengths_all_offsets),
        cmocka_unit_test(test_random_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
