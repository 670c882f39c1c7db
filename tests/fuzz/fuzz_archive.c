/* fuzz_archive.c: the libarchive source (src/unpack/archive.c) alone over the input: format
 * bidding, members, limits, passwords. Small limits keep each run quick; the members are only
 * counted (their contents are not looked at here: the engine's matchers have their own tests). */
#include <stddef.h>
#include <stdint.h>

#include "unpack/unpack.h"

static int count(void *ctx, const ab_member *m)
{
    size_t *n = ctx;
    (*n)++;
    /* touch every byte: a member must be as long as it says */
    volatile uint8_t x = 0;
    for (size_t i = 0; i < m->size; i++)
        x ^= m->data[i];
    (void)x;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const pw[1] = {"infected"};
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 4 << 20;
    l.max_unpacked = 16 << 20;
    l.max_members = 1000;
    size_t n = 0;
    ab_unpack_counts c;
    if (ab_source_archive.claims(data, size))
        ab_unpack_run_source(&ab_source_archive, data, size, &l, pw, 1, count, &n, &c);
    return 0;
}
