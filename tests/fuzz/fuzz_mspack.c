/* fuzz_mspack.c: the libmspack sources (src/unpack/mspack.c). The first byte picks the source
 * (CHM, SZDD, KWAJ) and the magic of that format is written over the start of the rest, so every
 * input reaches past the header checks; inputs that already carry a magic are run as they are.
 * Small limits make the member, ratio and budget paths reachable with small inputs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unpack/unpack.h"

static int member(void *ctx, const ab_member *m)
{
    (void)ctx;
    volatile uint8_t x = 0;
    for (size_t i = 0; i < m->size; i += 512)
        x ^= m->data[i]; /* touch the bytes: ASan sees a member that is not all there */
    (void)x;
    return 0;
}

static void run(const ab_source *s, const uint8_t *d, size_t n)
{
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 1 << 20;
    l.max_unpacked = 4 << 20;
    l.max_members = 200;
    ab_unpack_counts c;
    ab_unpack_run_source(s, d, n, &l, NULL, 0, member, NULL, &c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ab_source *const src[3] = {&ab_source_chm, &ab_source_szdd, &ab_source_kwaj};
    static const char *const magic[3] = {"ITSF\3\0\0\0", "SZDD\x88\xf0\x27\x33",
                                         "KWAJ\x88\xf0\x27\xd1"};
    for (int i = 0; i < 3; i++)
        if (src[i]->claims(data, size)) {
            run(src[i], data, size);
            return 0;
        }
    if (size < 2)
        return 0;
    int k = data[0] % 3;
    size_t n = size - 1;
    uint8_t *d = malloc(n < 8 ? 8 : n);
    if (!d)
        return 0;
    memcpy(d, data + 1, n);
    memcpy(d, magic[k], 8);
    if (n < 8)
        n = 8;
    run(src[k], d, n);
    free(d);
    return 0;
}
