/* domain.h: what mail signals and the observable matcher need to know of a host name: its
 * registered domain (the public suffix plus one label, from libpsl's built-in list: no file is
 * read and no lookup is made, ever), and host parsing shared by the sources. */
#ifndef AB_DOMAIN_H
#define AB_DOMAIN_H

#include <stddef.h>

#define AB_MAX_DOMAIN 253 /* bytes of a host name (RFC 1035) */

/* Lower-case ASCII (the bytes of other characters kept) and strip one trailing dot; out needs
 * len + 1 bytes. Returns the new length. */
size_t ab_domain_lower(const char *host, size_t len, char *out);

/* The registered domain of host (len bytes; any case, ASCII or UTF-8, IDNA A-labels as they
 * are) into out (cap bytes, NUL-terminated, lower-case): "mail.univ-research.ac.uk" ->
 * "univ-research.ac.uk". A host that is a public suffix itself, an IP literal, or not a domain
 * name at all gives 0 and out "". */
size_t ab_registered_domain(const char *host, size_t len, char *out, size_t cap);

/* A UTF-8 host name (len bytes, NUL-free, at most 1024) as lower-case IDNA A-labels into out
 * (cap bytes, NUL-terminated): libidn2, UTS #46 non-transitional mapping ("faß.de" ->
 * "xn--fa-hia.de"), transitional when only that accepts the name. ASCII names are lower-cased
 * only. Returns the length, or 0 when the name is not valid UTF-8 or IDNA refuses it. */
size_t ab_domain_to_ascii(const char *name, size_t len, char *out, size_t cap);

/* 1 when name (lower-case, NUL-terminated) is an ICANN public suffix ("com", "co.uk") or a
 * single label, which the public suffix list's default rule makes one ("localhost", "corp").
 * Private-section suffixes ("duckdns.org", "github.io") are not: their sub-domains belong to
 * many owners, but listing the whole suffix is a deliberate choice of a hunter. */
int ab_domain_is_public_suffix(const char *name);

/* 1 when host (len bytes) is an IPv4 dotted quad or an IPv6 literal (with or without []). */
int ab_host_is_ip(const char *host, size_t len);

/* The domain of an e-mail address: what follows the last '@', without a trailing '>' or
 * spaces. NULL when there is no '@'. *dlen gets its length. */
const char *ab_email_domain(const char *addr, size_t len, size_t *dlen);

#endif
