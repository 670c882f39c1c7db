/* fuzz_ole.c: the OLE2 source (ole.c through libgsf, after olefmt.c's preflight) on the whole
 * input, with small limits so that budgets and skips are exercised too; then the input itself
 * as an MS-OVBA container and as decompressed VBA dir records (olefmt.c), which random OLE
 * files rarely reach. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "unpack/olefmt.h"
#include "unpack/unpack.h"

/* libgsf leaks the directory entries that hang off the root entry's sibling links (it reads them
 * with no parent to attach them to): a few bytes per such file, its bug, not ours. Our code
 * allocates nothing through GLib, so GLib allocations are left out of leak reports. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libglib-2.0.so\nleak:libgsf-1.so\n";
}

static int member(void *ctx, const ab_member *m)
{
    /* touch every byte: a member's data must be readable over its whole size */
    volatile uint8_t *sum = ctx;
    for (size_t i = 0; i < m->size; i++)
        *sum ^= m->data[i];
    return 0;
}

static int module(void *ctx, const ab_vba_module *m)
{
    (void)ctx;
    return m->name[AB_VBA_NAME_MAX - 1] != 0; /* always NUL-terminated */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t sum;
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 1 << 20;
    l.max_unpacked = 4 << 20;
    l.max_members = 2000;
    ab_unpack_counts c;
    ab_unpack_run_source(&ab_source_ole, data, size, &l, NULL, 0, member, &sum, &c);

    ab_ovba_buf out = {NULL, 0, 0};
    size_t used = 0;
    ab_ovba_decompress(data, size, 1 << 20, &out, &used, NULL, NULL);
    free(out.data);
    ab_vba_dir_modules(data, size, module, NULL);
    return 0;
}
