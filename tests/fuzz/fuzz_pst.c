/* fuzz_pst.c: the PST source alone (src/unpack/pst.c, libpff from memory) over any bytes, claimed
 * or not (run() does not rely on the claim); members are touched byte by byte (ASan sees a read
 * past a member), and a second run with small limits exercises the member-size and budget paths
 * of the MIME conversion. The header's CRCs are set right first (libpff checks them: without
 * this every mutation of the header would end at the first check). Seeds:
 * tests/fixtures/gen_pst.py --seeds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unpack/unpack.h"

/* libpff 20180714 leaks on some error paths of corrupt tables (column definitions, 24 bytes
 * each: libpff_column_definition_initialize, from libpff_table_read_*); a worker process ends
 * with the sweep, so this is noted, not fixed here. Leaks of our own code are still reported. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libpff_column_definition_initialize\n";
}

static int touch(void *ctx, const ab_member *m)
{
    unsigned *sum = ctx;
    for (size_t i = 0; i < m->size; i++)
        *sum += m->data[i];
    *sum += (unsigned)strlen(m->name);
    return 0;
}

/* MS-PST ComputeCRC: reflected CRC-32, initial value 0, no final xor. */
static uint32_t pst_crc(const uint8_t *p, size_t n)
{
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *owned = NULL;
    if (size >= 564 && !memcmp(data, "!BDN", 4)) {
        owned = malloc(size);
        if (!owned)
            return 0;
        memcpy(owned, data, size);
        put32(owned + 4, pst_crc(owned + 8, 471));
        if (owned[10] >= 23) /* Unicode: the full CRC too */
            put32(owned + 524, pst_crc(owned + 8, 516));
        data = owned;
    }
    unsigned sum = 0;
    ab_unpack_counts c;
    ab_unpack_run_source(&ab_source_pst, data, size, NULL, NULL, 0, touch, &sum, &c);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 700;
    l.max_unpacked = 1500;
    l.max_members = 3;
    ab_unpack_run_source(&ab_source_pst, data, size, &l, NULL, 0, touch, &sum, &c);
    free(owned);
    return (int)(sum & 0);
}
