/* fuzz_tnef.c: the TNEF source alone (src/unpack/tnef.c) over any bytes, with the signature and
 * a legacy key put in front when the input lacks them so that every input reaches the attribute
 * walk; members are touched byte by byte (ASan sees a read past a member), and a second run with
 * small limits exercises the member-size and budget paths (the RTF decompressor's buffer). */
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
    static const uint8_t head[6] = {0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00};
    uint8_t *owned = NULL;
    const uint8_t *p = data;
    size_t n = size;
    if (size < 4 || memcmp(data, head, 4) != 0) {
        owned = malloc(size + sizeof(head));
        if (!owned)
            return 0;
        memcpy(owned, head, sizeof(head));
        if (size)
            memcpy(owned + sizeof(head), data, size);
        p = owned;
        n = size + sizeof(head);
    }
    unsigned sum = 0;
    ab_unpack_counts c;
    ab_unpack_run_source(&ab_source_tnef, p, n, NULL, NULL, 0, touch, &sum, &c);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 64;
    l.max_unpacked = 200;
    l.max_members = 3;
    ab_unpack_run_source(&ab_source_tnef, p, n, &l, NULL, 0, touch, &sum, &c);
    free(owned);
    return (int)(sum & 0);
}
