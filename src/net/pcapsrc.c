/* pcapsrc.c: captures from memory through libpcap (pcapsrc.h): fmemopen(3) gives libpcap a
 * FILE over the caller's bytes (no system call per frame), which pcap_close closes. libpcap
 * copies each record into its own buffer: nothing it gives points into the caller's bytes. */
#include "net/pcapsrc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pcap/pcap.h>

#define DROP_MIN ((size_t)1 << 20) /* bytes given back at a time (ab_pcap_drop_behind) */

struct ab_pcapsrc {
    pcap_t *p; /* owned; owns the FILE */
    int linktype;
    char err[PCAP_ERRBUF_SIZE];
    const uint8_t *data; /* the caller's bytes (borrowed) */
    size_t n;
    uintptr_t dropped; /* pages below this address were given back */
};

static uint32_t rd32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

int ab_pcap_claims(const uint8_t *data, size_t n)
{
    if (!data || n < 4)
        return 0;
    for (int swap = 0; swap < 2; swap++) {
        uint32_t m = rd32(data, swap);
        if (m == 0xa1b2c3d4u || m == 0xa1b23c4du || m == 0xa1b2cd34u)
            return 1;
    }
    /* pcapng: block type 0x0a0d0d0a reads the same in both orders; then length, then the
     * byte-order magic. */
    if (n >= 12 && rd32(data, 0) == 0x0a0d0d0au) {
        uint32_t bom = rd32(data + 8, 0);
        return bom == 0x1a2b3c4du || bom == 0x4d3c2b1au;
    }
    return 0;
}

static void say(char *err, size_t errsz, const char *msg)
{
    if (errsz)
        snprintf(err, errsz, "%s", msg);
}

ab_status ab_pcap_open_mem(const uint8_t *data, size_t n, ab_pcapsrc **out, char *err, size_t errsz)
{
    ab_status st = AB_ERR_PARSE;
    FILE *fp = NULL;
    ab_pcapsrc *s = NULL;
    if (!data || n == 0) {
        say(err, errsz, "empty capture");
        goto out;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        st = AB_ERR_NOMEM;
        say(err, errsz, "out of memory");
        goto out;
    }
    /* Mode "r": the stream never writes to the (const) bytes. */
    fp = fmemopen((void *)(uintptr_t)data, n, "r");
    if (!fp) {
        st = errno == ENOMEM ? AB_ERR_NOMEM : AB_ERR_PARSE;
        say(err, errsz, "fmemopen failed");
        goto out;
    }
    s->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, s->err);
    if (!s->p) {
        say(err, errsz, s->err[0] ? s->err : "not a capture libpcap reads");
        goto out;
    }
    fp = NULL; /* pcap_close closes it */
    s->linktype = pcap_datalink(s->p);
    s->err[0] = '\0';
    s->data = data;
    s->n = n;
    *out = s;
    s = NULL;
    st = AB_OK;
out:
    if (fp)
        fclose(fp);
    free(s);
    return st;
}

int ab_pcap_next(ab_pcapsrc *s, const uint8_t **frame, size_t *caplen, size_t *wirelen,
                 uint64_t *ts_us, int *linktype)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int r = pcap_next_ex(s->p, &h, &data);
    if (r == PCAP_ERROR_BREAK)
        return 0;
    if (r != 1) {
        snprintf(s->err, sizeof(s->err), "%s", pcap_geterr(s->p));
        return -1;
    }
    *frame = data;
    *caplen = h->caplen;
    *wirelen = h->len < h->caplen ? h->caplen : h->len;
    /* tv_sec before 1970 is not a capture time anyone wrote: taken as 0. */
    uint64_t sec = h->ts.tv_sec < 0 ? 0 : (uint64_t)h->ts.tv_sec;
    uint64_t usec = h->ts.tv_usec < 0 ? 0 : (uint64_t)h->ts.tv_usec;
    *ts_us = sec * 1000000u + usec;
    *linktype = s->linktype;
    return 1;
}

void ab_pcap_drop_behind(ab_pcapsrc *s)
{
    FILE *fp = pcap_file(s->p);
    long pos = fp ? ftell(fp) : -1; /* what stdio has taken from the bytes: copied out */
    if (pos <= 0 || (unsigned long)pos > s->n)
        return;
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)s->data + pg - 1) & ~(pg - 1); /* whole pages of the bytes only */
    uintptr_t hi = ((uintptr_t)s->data + (size_t)pos) & ~(pg - 1);
    if (lo < s->dropped)
        lo = s->dropped;
    if (hi <= lo || hi - lo < DROP_MIN)
        return;
    (void)madvise((void *)lo, hi - lo, MADV_DONTNEED); /* a failure only keeps the pages */
    s->dropped = hi;
}

const char *ab_pcap_error(const ab_pcapsrc *s)
{
    return s->err;
}

int ab_pcap_linktype(const ab_pcapsrc *s)
{
    return s->linktype;
}

int ab_pcap_snaplen(const ab_pcapsrc *s)
{
    return pcap_snapshot(s->p);
}

void ab_pcap_close(ab_pcapsrc *s)
{
    if (!s)
        return;
    pcap_close(s->p);
    free(s);
}
