/* fuzz_mime.c: the mail sources alone (src/unpack/mime.c): the input as an RFC 5322 message
 * (a mail header put in front when the input lacks one, so every input reaches GMime and our
 * walk, signals and URL and password scanners), as an mbox ("From " line in front) and as a yEnc
 * block ("=ybegin" line in front); members
 * are touched byte by byte, and a second run with small limits takes the budget paths. */
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
    if (m->mail_part)
        *sum += (unsigned)strlen(m->mail_part);
    return 0;
}

static void run(const ab_source *s, const char *prefix, const uint8_t *data, size_t size,
                unsigned *sum)
{
    size_t pl = strlen(prefix);
    uint8_t *p = malloc(size + pl + 1);
    if (!p)
        return;
    memcpy(p, prefix, pl);
    if (size)
        memcpy(p + pl, data, size);
    const uint8_t *in = s->claims(data, size) ? data : p;
    size_t n = in == data ? size : size + pl;
    ab_unpack_counts c;
    ab_unpack_run_source(s, in, n, NULL, NULL, 0, touch, sum, &c);
    ab_unpack_limits l;
    ab_unpack_limits_default(&l);
    l.max_member_size = 64;
    l.max_unpacked = 300;
    l.max_members = 4;
    ab_unpack_run_source(s, in, n, &l, NULL, 0, touch, sum, &c);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned sum = 0;
    run(&ab_source_mime,
        "From: a <a@b.example>\r\nTo: c@d.example\r\nMessage-ID: <x@b.example>\r\nSubject: s\r\n",
        data, size, &sum);
    run(&ab_source_mbox, "From a@b Thu May 14 10:00:00 2020\nFrom: a@b.example\nTo: c@d\nDate: x\n",
        data, size, &sum);
    run(&ab_source_yenc, "=ybegin line=128 size=64 name=x.bin\r\n", data, size, &sum);
    return (int)(sum & 0);
}
