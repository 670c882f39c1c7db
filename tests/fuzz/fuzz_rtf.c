/* fuzz_rtf.c: the RTF source alone (src/unpack/rtf.c) over any bytes, with "{\rt" put in front
 * when the input lacks it so that every input reaches the parser; members are touched byte by
 * byte (ASan sees a read past a member), and a second run with small limits exercises the
 * member-size and budget paths. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unpack/unpack.h"

static int touch(void *ctx, const ab_member *m)
{
    unsigned *sum = ctx;
    for (size_t i = 0; i < m->size; i++)
        *sum += m->data[i];
    *sum += (unsigned)strlen(m->name);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *owned = NULL;
    const uint8_t *p = data;
    size_t n = size;
    if (!ab_source_rtf.claims(data, size)) {
        owned = malloc(size + 4);
        if (!owned)
            return 0;
        memcpy(owned, "{\\rt", 4);
        if (size)
            memcpy(owned + 4, data, size);
        p = owned;
        n = size + 4;
    }
    unsigned sum = 0;
    ab_unpack_counts c;
    ab_unpack_run_source(&ab_source_rtf, p, n, NULL, NULL, 0, touch, &sum, &c);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 64;
    l.max_unpacked = 200;
    l.max_members = 3;
    ab_unpack_run_source(&ab_source_rtf, p, n, &l, NULL, 0, touch, &sum, &c);
    free(owned);
    return (int)(sum & 0);
}
