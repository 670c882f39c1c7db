/* fuzz_decode.c: the frame decoder (src/net/decode.c, ipfrag.c) and the capture reader
 * (src/net/pcapsrc.c). The input is (1) one frame after a selector byte that picks the link type
 * (LINKS[], the same table as tests/fixtures/gen_pcap.py's FUZZ_LINKS) and whether the capture
 * "cut" it (wirelen > caplen), decoded twice (duplicate fragments); (2) when it holds the
 * separator SEP, a sequence of frames of that link type, 10 s of packet time apart, through a
 * decoder with small fragment limits (eviction, memcap, timeouts); (3) when it looks like a
 * capture, a whole pcap/pcapng read and decoded frame by frame. Every payload byte delivered is
 * read (ASan sees a pointer past its buffer). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/decode.h"
#include "net/pcapsrc.h"

static const int LINKS[] = {1, 113, 276, 12, 14, 101, 228, 229, 0, 108};
#define NLINKS     (sizeof(LINKS) / sizeof(LINKS[0]))
#define MAX_FRAMES 4096

static const uint8_t SEP[3] = {0xab, 0xcd, 0xef};

static unsigned touch(const ab_pkt *p)
{
    unsigned s = p->sport + p->dport + p->proto + p->vlan;
    for (size_t i = 0; i < p->payload_len; i++)
        s += p->payload[i];
    return s;
}

static unsigned decode_one(ab_decoder *d, int lt, uint64_t ts, const uint8_t *f, size_t n,
                           size_t wire)
{
    ab_pkt p;
    int r = ab_decode(d, lt, ts, f, n, wire, &p);
    if (r == 1)
        return touch(&p);
    if (r < 0)
        return (unsigned)strlen(ab_decoder_error(d));
    return 0;
}

static unsigned frames(const uint8_t *data, size_t size)
{
    unsigned s = 0;
    ab_decoder *d = NULL;
    if (size < 1 || ab_decoder_new(NULL, &d) != AB_OK)
        return 0;
    int lt = LINKS[data[0] % NLINKS];
    size_t extra = (data[0] / NLINKS) & 1 ? 1000 : 0;
    s += decode_one(d, lt, 1, data + 1, size - 1, size - 1 + extra);
    s += decode_one(d, lt, 2, data + 1, size - 1, size - 1 + extra);
    ab_decoder_free(d);

    const uint8_t *sep = memmem(data + 1, size - 1, SEP, sizeof(SEP));
    if (!sep)
        return s;
    ab_decode_limits l = {8192, 15, 4};
    if (ab_decoder_new(&l, &d) != AB_OK)
        return s;
    const uint8_t *p = data + 1, *end = data + size;
    for (uint64_t ts = 0; p <= end; ts += 10000000) {
        const uint8_t *q = memmem(p, (size_t)(end - p), SEP, sizeof(SEP));
        size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
        s += decode_one(d, lt, ts, p, n, n + extra);
        if (!q)
            break;
        p = q + sizeof(SEP);
    }
    ab_decode_stats st;
    ab_decoder_stats(d, &st);
    ab_decoder_free(d);
    return s + (unsigned)st.packets;
}

static unsigned capture(const uint8_t *data, size_t size)
{
    ab_pcapsrc *src = NULL;
    ab_decoder *d = NULL;
    unsigned s = 0;
    if (!ab_pcap_claims(data, size) || ab_pcap_open_mem(data, size, &src, NULL, 0) != AB_OK)
        return 0;
    if (ab_decoder_new(NULL, &d) == AB_OK) {
        const uint8_t *f;
        size_t caplen, wirelen;
        uint64_t ts;
        int lt;
        for (int i = 0; i < MAX_FRAMES && ab_pcap_next(src, &f, &caplen, &wirelen, &ts, &lt) == 1;
             i++)
            s += decode_one(d, lt, ts, f, caplen, wirelen);
        ab_decoder_free(d);
    }
    ab_pcap_close(src);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned s = frames(data, size) + capture(data, size);
    return (int)(s & 0);
}
