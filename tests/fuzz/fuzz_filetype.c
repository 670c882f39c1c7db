/* fuzz_filetype.c: the "HEX;Name" magic table parser, then classification of the same bytes. */
#include <stddef.h>
#include <stdint.h>

#include "intel/filetype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ab_filetypes *ft = NULL;
    if (ab_filetypes_parse((const char *)data, size, "fuzz", NULL, NULL, &ft) != AB_OK)
        return 0;
    const char *name = ab_filetype_of(ft, data, size);
    (void)name;
    ab_filetypes_free(ft);
    return 0;
}
