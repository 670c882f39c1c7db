/* fuzz_wire.c: the parent's decoder of worker frames (findings, objects, strings, counts). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ab_wire_arrays arr;
    ab_wire_reader r = {data + 1, data + size, 0};
    if (data[0] == 'J' || data[0] == 'P') { /* a job (workers decode), a split (the parent) */
        ab_wire_job j;
        ab_wire_part parts[AB_WIRE_MAX_PARTS];
        uint64_t fsize;
        size_t n;
        if (data[0] == 'J') {
            ab_wire_get_job(&r, &j);
            if (!r.bad && j.kind == AB_JOB_RESUME && !ab_wire_resume_ok(&j))
                __builtin_trap(); /* the decoder let a resume out of its bounds through */
        } else
            ab_wire_get_split(&r, &fsize, parts, &n);
        return 0;
    }
    if (data[0] & 1) {
        ab_finding f;
        ab_wire_get_finding(&r, &f, &arr);
        if (!r.bad) { /* a frame that decodes must be fully usable */
            size_t n = strlen(f.rule) + strlen(f.obj.path) + strlen(f.severity);
            for (size_t i = 0; i < f.tags_len; i++)
                n += strlen(f.tags[i]);
            for (size_t i = 0; i < f.meta_len; i++)
                n += strlen(f.meta[i].key) + (f.meta[i].str ? strlen(f.meta[i].str) : 0);
            for (size_t i = 0; i < f.obj.location_len; i++)
                n += strlen(f.obj.location[i]);
            (void)n;
        }
    } else {
        ab_object_info o;
        ab_wire_get_object(&r, &o, &arr);
    }
    return 0;
}
