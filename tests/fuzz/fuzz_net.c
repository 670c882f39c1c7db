/* fuzz_net.c: the /proc/net socket-line parser (both address widths) and the ip/cidr parser,
 * each line of the input on its own, then the parsed addresses looked up in a set built from the
 * input's valid ip/cidr lines. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "host/sockets.h"
#include "intel/ipset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ab_ipset *set = NULL;
    if (ab_ipset_new(&set) != AB_OK)
        return 0;
    const char *p = (const char *)data, *end = p + size;
    uint32_t n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        ab_sock s;
        char text[AB_IPADDR_TEXT];
        for (int v6 = 0; v6 < 2; v6++) {
            if (ab_sock_parse_line(p, len, v6, &s) == 1) {
                ab_ipaddr_format(&s.local, text, sizeof(text));
                ab_ipset_lookup(set, &s.remote, NULL, NULL);
            }
        }
        ab_ipaddr a;
        unsigned bits;
        if (ab_ipaddr_parse(p, len, &a, &bits) == 0) {
            ab_ipset_add(set, &a, bits, n++, NULL);
            ab_ipset_lookup(set, &a, NULL, NULL);
            ab_ipaddr_format(&a, text, sizeof(text));
        }
        p += len + 1;
    }
    ab_ipset_free(set);
    return 0;
}
