/* fuzz_lookalike.c: the guard of protected domains (src/match/lookalike_domain.c) over any bytes
 * as a host, against a fixed list of protected domains (ASCII, IDN, short label, long label).
 * The guard is built once (as a worker does); each input is checked whole, then cut at its first
 * NUL or newline (hosts as a source would give them), and the reason is read to its end (ASan
 * sees a missing terminator). ab_domain_normalize runs on the input too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/lookalike_domain.h"

static ab_domain_guard *guard;

static void build(void)
{
    static const char *const list[] = {"our-university.ac.uk", "xn--mnchen-3ya.de", "ox.ac.uk",
                                       "cambridge.ac.uk", "example-bank.co.uk"};
    if (ab_domain_guard_new(list, sizeof(list) / sizeof(list[0]), &guard) != AB_OK)
        abort();
}

static void check(const char *h, size_t n)
{
    ab_domain_hit hit;
    if (ab_domain_guard_check(guard, h, n, &hit)) {
        if (!hit.kind || hit.score <= 0 || hit.score > 100 || !hit.protected_domain ||
            strlen(hit.reason) >= sizeof(hit.reason) || !hit.reason[0])
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!guard)
        build();
    const char *h = (const char *)data;
    check(h, size);
    size_t cut = 0;
    while (cut < size && data[cut] && data[cut] != '\n')
        cut++;
    if (cut < size)
        check(h, cut);
    if (size < 1024) {
        char buf[1024], out[256];
        memcpy(buf, data, size);
        buf[size] = '\0';
        if (ab_domain_normalize(buf, out, sizeof(out)) == AB_OK) {
            if (strlen(out) > 253)
                abort();
            check(out, strlen(out)); /* a protected-looking name never crashes either */
        }
    }
    return 0;
}
