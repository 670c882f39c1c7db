/* fuzz_pdf.c: the PDF source (src/unpack/pdf.c, qpdf underneath) alone over arbitrary bytes, with
 * small limits so that bombs and big streams end quickly; members are looked at (every byte read)
 * so a member pointing at freed or short memory shows under ASan. */
#include <stddef.h>
#include <stdint.h>

#include "unpack/unpack.h"

static int touch(void *ctx, const ab_member *m)
{
    uint8_t *sum = ctx;
    for (size_t i = 0; i < m->size; i++)
        *sum ^= m->data[i];
    for (const char *p = m->name; *p; p++)
        *sum ^= (uint8_t)*p;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = (uint64_t)4 << 20;
    l.max_unpacked = (uint64_t)16 << 20;
    l.max_members = 1000;
    uint8_t sum = 0;
    ab_unpack_counts c;
    ab_source_pdf.claims(data, size);
    ab_unpack_run_source(&ab_source_pdf, data, size, &l, NULL, 0, touch, &sum, &c);
    return 0;
}
