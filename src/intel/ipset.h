/* ipset.h: a set of IP addresses and CIDR prefixes with constant-time look-ups, for the network
 * IOC types (ip, cidr). Used by the live-connection check; meant to be reused by packet sources.
 *
 * Every address is held as 16 bytes of IPv6: an IPv4 address a.b.c.d is the IPv4-mapped
 * ::ffff:a.b.c.d, and an IPv4 prefix /p is the mapped prefix /(96 + p). So 1.2.3.4 and
 * ::ffff:1.2.3.4 are the same address, 0.0.0.0/0 covers every IPv4 address (and no other), and an
 * IPv6 prefix that covers ::ffff:0:0/96 (such as ::/0) covers the IPv4 addresses too.
 *
 * An exact address is the prefix /128. Entries live in one open-addressing hash table keyed by
 * (prefix length, masked address); a look-up probes it once per distinct prefix length present,
 * longest first, so it costs at most 129 probes whatever the number of entries, and usually a
 * handful (C2 lists hold single addresses and a few common lengths). */
#ifndef AB_IPSET_H
#define AB_IPSET_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"

typedef struct ab_ipaddr {
    uint8_t b[16]; /* network byte order; IPv4 as ::ffff:a.b.c.d */
} ab_ipaddr;

/* Longest address text ab_ipaddr_format writes, NUL included (INET6_ADDRSTRLEN). */
#define AB_IPADDR_TEXT 46

/* An IPv4 address from its 4 bytes in network order. */
void ab_ipaddr_from_v4(ab_ipaddr *a, const uint8_t v4[4]);
/* 1 when a is IPv4-mapped (::ffff:a.b.c.d). */
int ab_ipaddr_is_v4(const ab_ipaddr *a);
/* 1 for the unspecified address (0.0.0.0 or ::): a socket bound to every address, or a remote end
 * that is not connected. */
int ab_ipaddr_is_unspecified(const ab_ipaddr *a);
/* Text of a (IPv4 dotted for mapped addresses, else RFC 5952 IPv6) into out (at least
 * AB_IPADDR_TEXT bytes). */
void ab_ipaddr_format(const ab_ipaddr *a, char *out, size_t outsz);

/* Parse "ADDRESS" (an exact address: *bits = 128) or "ADDRESS/PREFIX" (IPv4 prefix 0..32, IPv6
 * 0..128; *bits in the mapped space), n bytes, no NUL needed. Host bits beyond the prefix are
 * allowed and cleared, as the IOC loader does. Returns 0, or -1 for anything else (spaces, an
 * empty or non-decimal prefix, more than 3 prefix digits, a prefix out of range, a malformed or
 * over-long address). */
int ab_ipaddr_parse(const char *s, size_t n, ab_ipaddr *addr, unsigned *bits);

typedef struct ab_ipset ab_ipset;

ab_status ab_ipset_new(ab_ipset **out);
void ab_ipset_free(ab_ipset *s);

/* Add a prefix (bits 0..128, host bits are cleared) with a caller's value (e.g. an index). When
 * the prefix is already present the first value is kept and *added (may be NULL) is 0. At most
 * 2^31 entries. */
ab_status ab_ipset_add(ab_ipset *s, const ab_ipaddr *addr, unsigned bits, uint32_t value,
                       int *added);
/* ab_ipaddr_parse then ab_ipset_add; AB_ERR_PARSE when text is malformed. */
ab_status ab_ipset_add_text(ab_ipset *s, const char *text, size_t n, uint32_t value, int *added);

size_t ab_ipset_count(const ab_ipset *s);

/* The most specific entry covering a: 1 with its value and prefix length (in the mapped space:
 * 128 for an exact address), or 0 when none does. */
int ab_ipset_lookup(const ab_ipset *s, const ab_ipaddr *a, uint32_t *value, unsigned *bits);

#endif
