/* test_hash.c: MD5/SHA-1/SHA-256 against published test vectors (RFC 1321, FIPS 180). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hash.h"

static void check(ab_hasher *h, const void *data, size_t len, const char *md5, const char *sha1,
                  const char *sha256)
{
    char m[33], s1[41], s2[65];
    assert_int_equal(ab_hasher_hash(h, data, len, m, s1, s2), AB_OK);
    assert_string_equal(m, md5);
    assert_string_equal(s1, sha1);
    assert_string_equal(s2, sha256);
}

static void test_vectors(void **state)
{
    (void)state;
    ab_hasher *h = NULL;
    assert_int_equal(ab_hasher_new(&h), AB_OK);
    check(h, NULL, 0, "d41d8cd98f00b204e9800998ecf8427e",
          "da39a3ee5e6b4b0d3255bfef95601890afd80709",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check(h, "abc", 3, "900150983cd24fb0d6963f7d28e17f72",
          "a9993e364706816aba3e25717850c26c9cd0d89d",
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check(h, s, strlen(s), "8215ef0796a20bcaaae116d3876c664a",
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    ab_hasher_free(h);
}

/* One million 'a': crosses the 256 KiB slice boundary several times. */
static void test_million_a(void **state)
{
    (void)state;
    ab_hasher *h = NULL;
    char *buf = malloc(1000000);
    assert_non_null(buf);
    memset(buf, 'a', 1000000);
    assert_int_equal(ab_hasher_new(&h), AB_OK);
    check(h, buf, 1000000, "7707d6ae4e027c70eea2a935c2296f21",
          "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* reuse of the contexts gives the same result */
    check(h, "abc", 3, "900150983cd24fb0d6963f7d28e17f72",
          "a9993e364706816aba3e25717850c26c9cd0d89d",
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ab_hasher_free(h);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
