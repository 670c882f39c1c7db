/* observables.c: the observable matcher (observables.h). Placeholder until the IOC store indexes
 * url/domain/email types: nothing matches yet, and the IOC counts still say "not matched". */
#include "match/observables.h"

int ab_observable_match(const ab_iocs *iocs, const char *type, const char *value, size_t len,
                        ab_observable_hit_fn cb, void *ctx)
{
    (void)iocs;
    (void)type;
    (void)value;
    (void)len;
    (void)cb;
    (void)ctx;
    return 0;
}

int ab_observable_any(const ab_iocs *iocs)
{
    (void)iocs;
    return 0;
}
