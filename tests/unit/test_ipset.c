/* test_ipset.c: the ip/cidr index (src/intel/ipset.c) and its use by the IOC store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "intel/ioc.h"
#include "intel/ipset.h"

static ab_ipaddr addr(const char *text)
{
    ab_ipaddr a;
    unsigned bits = 0;
    assert_int_equal(ab_ipaddr_parse(text, strlen(text), &a, &bits), 0);
    assert_int_equal(bits, 128);
    return a;
}

static ab_ipset *set_of(const char *const *entries, size_t n)
{
    ab_ipset *s = NULL;
    assert_int_equal(ab_ipset_new(&s), AB_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ab_ipset_add_text(s, entries[i], strlen(entries[i]), (uint32_t)i, NULL),
                         AB_OK);
    return s;
}

/* The value of the entry matching text, or -1. */
static long hit(const ab_ipset *s, const char *text)
{
    ab_ipaddr a = addr(text);
    uint32_t v;
    return ab_ipset_lookup(s, &a, &v, NULL) ? (long)v : -1;
}

static void test_parse(void **state)
{
    (void)state;
    ab_ipaddr a;
    unsigned bits;
    char out[AB_IPADDR_TEXT];
    assert_int_equal(ab_ipaddr_parse("10.1.2.3/8", 10, &a, &bits), 0);
    assert_int_equal(bits, 104); /* 96 + 8: IPv4 lives in the mapped space */
    ab_ipaddr_format(&a, out, sizeof(out));
    assert_string_equal(out, "10.0.0.0"); /* host bits cleared */
    assert_int_equal(ab_ipaddr_parse("2001:db8::1/32", 14, &a, &bits), 0);
    assert_int_equal(bits, 32);
    ab_ipaddr_format(&a, out, sizeof(out));
    assert_string_equal(out, "2001:db8::");
    /* v4-mapped text is the IPv4 address */
    ab_ipaddr m = addr("::ffff:192.0.2.1"), v4 = addr("192.0.2.1");
    assert_memory_equal(m.b, v4.b, 16);
    assert_true(ab_ipaddr_is_v4(&v4));
    ab_ipaddr_format(&m, out, sizeof(out));
    assert_string_equal(out, "192.0.2.1");
    assert_true(ab_ipaddr_is_unspecified(&(ab_ipaddr){{0}}));
    ab_ipaddr z = addr("0.0.0.0");
    assert_true(ab_ipaddr_is_unspecified(&z));
    assert_false(ab_ipaddr_is_unspecified(&v4));
    /* only the given bytes are read */
    assert_int_equal(ab_ipaddr_parse("1.2.3.4/24xyz", 10, &a, &bits), 0);
    assert_int_equal(bits, 120);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "/",
        "/24",
        "1.2.3.4/",
        "1.2.3.4/33",
        "::/129",
        "1.2.3.4/-1",
        "1.2.3.4/+8",
        "1.2.3.4/0008",
        "1.2.3.4/ 8",
        " 1.2.3.4",
        "1.2.3.4 ",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.4/8/8",
        "2001:db8:::1",
        "2001:db8::g",
        "example.com",
        "1111:2222:3333:4444:5555:6666:7777:8888:9999",                        /* too many groups */
        "0000000000000000000000000000000000000000000000000000000000000000::1", /* over-long */
    };
    ab_ipaddr a;
    unsigned bits;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ab_ipaddr_parse(bad[i], strlen(bad[i]), &a, &bits) == 0)
            fail_msg("accepted '%s'", bad[i]);
    }
    assert_int_equal(ab_ipaddr_parse("1.2.3.4\0", 8, &a, &bits), -1); /* a NUL inside */
    assert_int_equal(ab_ipaddr_parse(NULL, 0, &a, &bits), -1);
    ab_ipset *s = set_of(NULL, 0);
    int added = 1;
    assert_int_equal(ab_ipset_add_text(s, "1.2.3.4/33", 10, 0, &added), AB_ERR_PARSE);
    assert_int_equal(added, 0);
    assert_int_equal(ab_ipset_count(s), 0);
    ab_ipaddr x = addr("1.2.3.4");
    assert_int_equal(ab_ipset_add(s, &x, 129, 0, NULL), AB_ERR_ARG);
    ab_ipset_free(s);
}

static void test_exact_v4_v6(void **state)
{
    (void)state;
    static const char *const e[] = {"203.0.113.7", "2001:db8::7", "::ffff:198.51.100.1"};
    ab_ipset *s = set_of(e, 3);
    assert_int_equal(hit(s, "203.0.113.7"), 0);
    assert_int_equal(hit(s, "::ffff:203.0.113.7"), 0); /* mapped = IPv4 */
    assert_int_equal(hit(s, "203.0.113.8"), -1);
    assert_int_equal(hit(s, "2001:db8::7"), 1);
    assert_int_equal(hit(s, "2001:db8:0:0:0:0:0:7"), 1);
    assert_int_equal(hit(s, "2001:db8::8"), -1);
    assert_int_equal(hit(s, "198.51.100.1"), 2);
    /* an IPv4 address is not the IPv6 address with the same low 32 bits */
    assert_int_equal(hit(s, "::203.0.113.7"), -1);
    unsigned bits = 0;
    ab_ipaddr a = addr("2001:db8::7");
    assert_int_equal(ab_ipset_lookup(s, &a, NULL, &bits), 1);
    assert_int_equal(bits, 128);
    ab_ipset_free(s);
}

static void test_prefixes(void **state)
{
    (void)state;
    static const char *const e[] = {
        "10.0.0.0/8",   "10.1.0.0/16",   "10.1.2.0/24",     "10.1.2.3/32",
        "192.0.2.1/32", "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::1/128",
    };
    ab_ipset *s = set_of(e, sizeof(e) / sizeof(e[0]));
    /* overlapping prefixes: the most specific wins */
    assert_int_equal(hit(s, "10.9.9.9"), 0);
    assert_int_equal(hit(s, "10.1.9.9"), 1);
    assert_int_equal(hit(s, "10.1.2.9"), 2);
    assert_int_equal(hit(s, "10.1.2.3"), 3);
    assert_int_equal(hit(s, "11.0.0.0"), -1);
    assert_int_equal(hit(s, "192.0.2.1"), 4); /* /32 is one address */
    assert_int_equal(hit(s, "192.0.2.2"), -1);
    assert_int_equal(hit(s, "2001:db8:ffff::1"), 5);
    assert_int_equal(hit(s, "2001:db8:1:2::3"), 6);
    assert_int_equal(hit(s, "2001:db8:1::1"), 7); /* /128 */
    assert_int_equal(hit(s, "2001:db9::1"), -1);
    unsigned bits;
    ab_ipaddr a = addr("10.1.2.9");
    assert_int_equal(ab_ipset_lookup(s, &a, NULL, &bits), 1);
    assert_int_equal(bits, 120);
    ab_ipset_free(s);
}

static void test_zero_prefixes(void **state)
{
    (void)state;
    static const char *const v4all[] = {"0.0.0.0/0"};
    ab_ipset *s = set_of(v4all, 1);
    assert_int_equal(hit(s, "1.2.3.4"), 0);
    assert_int_equal(hit(s, "255.255.255.255"), 0);
    assert_int_equal(hit(s, "::ffff:8.8.8.8"), 0);
    assert_int_equal(hit(s, "2001:db8::1"), -1); /* IPv4's /0 is not every IPv6 address */
    ab_ipset_free(s);
    static const char *const all[] = {"::/0"};
    s = set_of(all, 1);
    assert_int_equal(hit(s, "2001:db8::1"), 0);
    assert_int_equal(hit(s, "1.2.3.4"), 0); /* mapped addresses are IPv6 addresses */
    ab_ipset_free(s);
    static const char *const mapped[] = {"::ffff:0:0/96"};
    s = set_of(mapped, 1);
    assert_int_equal(hit(s, "9.9.9.9"), 0);
    assert_int_equal(hit(s, "2001:db8::1"), -1);
    ab_ipset_free(s);
}

static void test_duplicates_and_growth(void **state)
{
    (void)state;
    ab_ipset *s = set_of(NULL, 0);
    int added = 0;
    assert_int_equal(ab_ipset_add_text(s, "10.0.0.0/8", 10, 1, &added), AB_OK);
    assert_int_equal(added, 1);
    assert_int_equal(ab_ipset_add_text(s, "10.9.9.9/8", 10, 2, &added), AB_OK);
    assert_int_equal(added, 0); /* the same prefix: the first value stays */
    assert_int_equal(hit(s, "10.2.3.4"), 1);
    /* many entries: the table grows and every one is still found */
    char text[64];
    for (unsigned i = 0; i < 20000; i++) {
        snprintf(text, sizeof(text), "172.%u.%u.%u", 16 + (i >> 16), (i >> 8) & 255, i & 255);
        assert_int_equal(ab_ipset_add_text(s, text, strlen(text), 100 + i, NULL), AB_OK);
        snprintf(text, sizeof(text), "2001:db8:%x::/48", i);
        assert_int_equal(ab_ipset_add_text(s, text, strlen(text), 100000 + i, NULL), AB_OK);
    }
    assert_int_equal(ab_ipset_count(s), 40001);
    for (unsigned i = 0; i < 20000; i += 997) {
        snprintf(text, sizeof(text), "172.%u.%u.%u", 16 + (i >> 16), (i >> 8) & 255, i & 255);
        assert_int_equal(hit(s, text), 100 + i);
        snprintf(text, sizeof(text), "2001:db8:%x::42", i);
        assert_int_equal(hit(s, text), 100000 + i);
    }
    assert_int_equal(hit(s, "172.15.0.1"), -1);
    ab_ipset_free(s);
    /* an empty set and NULLs */
    assert_int_equal(ab_ipset_lookup(NULL, NULL, NULL, NULL), 0);
    assert_int_equal(ab_ipset_count(NULL), 0);
    ab_ipset_free(NULL);
}

/* The IOC store indexes its ip and cidr values at compile. */
static void test_iocs_match_ip(void **state)
{
    (void)state;
    ab_iocs *s = NULL;
    assert_int_equal(ab_iocs_new(&s), AB_OK);
    const char *native = "ip\t203.0.113.7\tc2 one\n"
                         "cidr\t198.51.100.0/24\tc2 net\n"
                         "cidr\t198.51.100.128/25\tc2 subnet\n"
                         "ip\t2001:db8::bad\n"
                         "ip\t::ffff:192.0.2.9\n"
                         "cidr\t203.0.113.7/32\tsame as the ip\n"
                         "domain\tevil.example\n";
    assert_int_equal(ab_iocs_load_buffer(s, native, strlen(native), AB_IOC_FMT_NATIVE, "n.ioc", 0,
                                         0, NULL, NULL, NULL),
                     AB_OK);
    const char *c2 = "# a Loki c2 list\n192.0.2.200;90\n2001:db8:c2::/48\n";
    assert_int_equal(ab_iocs_load_buffer(s, c2, strlen(c2), AB_IOC_FMT_LOKI_C2, "c2-iocs.txt", 0, 0,
                                         NULL, NULL, NULL),
                     AB_OK);
    ab_ipaddr a = addr("203.0.113.7");
    assert_null(ab_iocs_match_ip(s, &a)); /* not compiled yet */
    assert_int_equal(ab_iocs_compile(s, NULL, NULL), AB_OK);
    const ab_ioc *ioc = ab_iocs_match_ip(s, &a);
    assert_non_null(ioc);
    assert_int_equal(ioc->type, AB_IOC_IP); /* the ip, before the cidr /32 */
    assert_string_equal(ioc->source, "n.ioc:1");
    a = addr("198.51.100.1");
    assert_string_equal(ab_iocs_match_ip(s, &a)->description, "c2 net");
    a = addr("198.51.100.200");
    assert_string_equal(ab_iocs_match_ip(s, &a)->description, "c2 subnet");
    a = addr("2001:db8::bad");
    assert_string_equal(ab_iocs_match_ip(s, &a)->source, "n.ioc:4");
    a = addr("192.0.2.9");
    assert_string_equal(ab_iocs_match_ip(s, &a)->source, "n.ioc:5");
    a = addr("192.0.2.200");
    ioc = ab_iocs_match_ip(s, &a);
    assert_non_null(ioc);
    assert_int_equal(ioc->score, 90);
    assert_string_equal(ioc->source, "c2-iocs.txt:2");
    a = addr("2001:db8:c2:1::1");
    assert_string_equal(ab_iocs_match_ip(s, &a)->source, "c2-iocs.txt:3");
    a = addr("192.0.2.1");
    assert_null(ab_iocs_match_ip(s, &a));
    ab_iocs_free(s);
    /* malformed ip and cidr values are rejected at load, the good lines around them kept */
    assert_int_equal(ab_iocs_new(&s), AB_OK);
    const char *bad = "ip\t1.2.3.4.5\ncidr\t10.0.0.0/33\ncidr\t::/129\ncidr\t10.0.0.0\n"
                      "ip\t10.0.0.1/8\nip\t2001:db8::1%eth0\nip\t192.0.2.50\n";
    size_t nbad = 0;
    assert_int_equal(ab_iocs_load_buffer(s, bad, strlen(bad), AB_IOC_FMT_NATIVE, "bad.ioc", 0, 0,
                                         NULL, NULL, &nbad),
                     AB_OK);
    assert_int_equal(nbad, 6);
    assert_int_equal(ab_iocs_compile(s, NULL, NULL), AB_OK);
    assert_int_equal(ab_iocs_count(s, AB_IOC_IP) + ab_iocs_count(s, AB_IOC_CIDR), 1);
    a = addr("192.0.2.50");
    assert_non_null(ab_iocs_match_ip(s, &a));
    ab_iocs_free(s);
    /* a store without network IOCs */
    assert_int_equal(ab_iocs_new(&s), AB_OK);
    assert_int_equal(ab_iocs_compile(s, NULL, NULL), AB_OK);
    assert_null(ab_iocs_match_ip(s, &a));
    ab_iocs_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),         cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_exact_v4_v6),   cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_zero_prefixes), cmocka_unit_test(test_duplicates_and_growth),
        cmocka_unit_test(test_iocs_match_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
