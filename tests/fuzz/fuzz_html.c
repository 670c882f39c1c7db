/* fuzz_html.c: the HTML source alone (src/unpack/html.c) over any bytes, with "<html>" put in
 * front when the input lacks a claimed start so that every input reaches gumbo and the walk;
 * members are touched byte by byte (ASan sees a read past a member), and a second run with small
 * limits exercises the member-size and budget paths of the decoders. */
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
    if (size > (1u << 20))
        return 0;
    if (!ab_source_html.claims(data, size)) {
        owned = malloc(size + 6);
        if (!owned)
            return 0;
        memcpy(owned, "<html>", 6);
        if (size)
            memcpy(owned + 6, data, size);
        p = owned;
        n = size + 6;
    }
    unsigned sum = 0;
    ab_unpack_counts c;
    ab_unpack_run_source(&ab_source_html, p, n, NULL, NULL, 0, touch, &sum, &c);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 64;
    l.max_unpacked = 200;
    l.max_members = 3;
    ab_unpack_run_source(&ab_source_html, p, n, &l, NULL, 0, touch, &sum, &c);
    free(owned);
    return (int)(sum & 0);
}
