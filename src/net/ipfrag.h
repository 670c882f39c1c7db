/* ipfrag.h: IPv4/IPv6 fragment reassembly for the decoder (decode.h says the policy: first-wins
 * overlaps, limits, timeouts in packet time). Internal to src/net/decode.c. */
#ifndef AB_NET_IPFRAG_H
#define AB_NET_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "net/decode.h"

typedef struct ab_frag_key {
    ab_ipaddr src, dst;
    uint32_t id;    /* IPv4: 16 bits; IPv6: 32 bits */
    uint8_t ipver;  /* 4 or 6 */
    uint8_t proto;  /* IPv4 protocol; 0 for IPv6 (next header from the first fragment) */
    uint8_t tunnel; /* 1: from inside a tunnel */
    uint8_t pad;    /* 0: the key is hashed and compared as bytes */
} ab_frag_key;

/* One fragment: len bytes at byte offset off of the datagram's fragmentable part. */
typedef struct ab_frag {
    uint32_t off;
    const uint8_t *data;
    size_t len;
    int more;   /* MF */
    uint8_t nh; /* IPv6: the fragment header's next header (kept from offset 0) */
    uint16_t vlan;
} ab_frag;

/* A completed datagram: the fragmentable part (IPv4: the payload after the IP header). */
typedef struct ab_frag_done {
    const uint8_t *data; /* owned by the table until ab_ipfrag_release */
    size_t len;
    uint8_t nh; /* IPv6: the first header of data */
    uint16_t vlan;
} ab_frag_done;

typedef struct ab_ipfrag ab_ipfrag;

/* st: the decoder's counters, updated by the table (fragments, reassembled, frag_*). */
ab_status ab_ipfrag_new(const ab_decode_limits *lim, ab_decode_stats *st, ab_ipfrag **out);
void ab_ipfrag_free(ab_ipfrag *f);

/* Take one fragment (ts_us: packet time). Returns 1: *done is the complete datagram (valid until
 * ab_ipfrag_release); 0: held (or dropped by a limit: counted); -1: malformed (past 65535 bytes),
 * *why says it. At most AB_IPFRAG_MAX_DONE datagrams complete between two releases; past that,
 * a completion is dropped. */
int ab_ipfrag_add(ab_ipfrag *f, const ab_frag_key *k, uint64_t ts_us, const ab_frag *fr,
                  ab_frag_done *done, const char **why);

/* Frees the datagrams handed out since the last release, expires datagrams older than the
 * timeout at packet time ts_us. Called at the start of each ab_decode: O(1) when nothing is held
 * or nothing is old. */
void ab_ipfrag_release(ab_ipfrag *f, uint64_t ts_us);

#define AB_IPFRAG_MAX_DONE 2 /* an outer datagram and one inside its tunnel */

#endif
