/* observables.h: the observable matcher. Sources find values in what they parse (a URL in a
 * mail body or an HTML href, a sender address, a Received hop's IP, later a DNS name or an SNI);
 * this matches each against the url, domain, email, ip and cidr IOCs of the store, by meaning,
 * not bytes: URLs normalised (scheme and host case, percent-decoding of unreserved characters,
 * dot segments, default ports), domains exact and by parent domain (an IOC "evil.example"
 * matches "a.b.evil.example"), a URL's host and an address's domain as domains, a URL host that
 * is an IP literal as an ip. The indexes are built when the store is compiled and are read-only
 * afterwards (shared with forked workers). */
#ifndef AB_OBSERVABLES_H
#define AB_OBSERVABLES_H

#include <stddef.h>

#include "intel/ioc.h"

/* One hit: the indicator, and the form of the value that matched it (for a URL that matched a
 * domain IOC by its host: matched "evil.example", matched_type "domain"). Strings are valid
 * during the call only. Return non-zero to stop. */
typedef int (*ab_observable_hit_fn)(void *ctx, const ab_ioc *ioc, const char *matched,
                                    const char *matched_type);

/* Match value (len bytes, any bytes) of type "url", "domain", "email" or "ip" (other types never
 * match) against the store. Each indicator is reported at most once per call. Returns non-zero
 * when cb asked to stop. Bounded: values over 8 KiB are cut, parent domains are tried at most
 * 127 levels up. */
int ab_observable_match(const ab_iocs *iocs, const char *type, const char *value, size_t len,
                        ab_observable_hit_fn cb, void *ctx);

/* 1 when the store holds any indicator ab_observable_match can hit (then sources may bother). */
int ab_observable_any(const ab_iocs *iocs);

#endif
