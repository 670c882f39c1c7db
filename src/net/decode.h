/* decode.h: the first stage of the network pipeline (net.h): one captured frame, link layer to
 * L4, into an ab_pkt, with IPv4 and IPv6 fragments joined into datagrams.
 *
 * Link layers (linktype is the pcap DLT_ or LINKTYPE_ number; both spellings are taken):
 *   Ethernet (1), Linux cooked SLL (113) and SLL2 (276), raw IP (12, 14, LINKTYPE_RAW 101;
 *   LINKTYPE_IPV4 228, LINKTYPE_IPV6 229), BSD loopback DLT_NULL (0: the family in the capturing
 *   host's order, read in either) and DLT_LOOP (108: network order); AF values 2 (IPv4) and 24,
 *   28, 30 (IPv6 on the BSDs and macOS).
 *   After an Ethernet or SLL header: 802.1Q/QinQ tags (0x8100, 0x88a8, 0x9100; at most
 *   AB_DECODE_MAX_VLAN, ab_pkt.vlan = the outermost id), MPLS label stacks (0x8847, 0x8848; at
 *   most AB_DECODE_MAX_MPLS labels, the payload's IP version from its first nibble), PPPoE
 *   session (0x8864, PPP IPv4/IPv6).
 * Tunnels, exactly one level deep (ab_pkt.tunnel = 1): GRE (IP protocol 47, version 0, optional
 *   checksum/key/sequence, carrying IPv4, IPv6 or Ethernet 0x6558) and VXLAN (UDP destination port
 *   4789 with the I flag -> Ethernet). A GRE or VXLAN packet found inside a tunnel is delivered as
 *   that inner GRE/UDP packet (tunnel = 1), not opened again: so no input drives a recursion. A
 *   GRE header we do not open (version 1 PPTP, source routing, another protocol type) or a UDP
 *   packet to 4789 without the VXLAN I flag is delivered as the outer packet itself.
 * IP: IPv4 (options skipped), IPv6 with up to AB_DECODE_MAX_EXTHDR extension headers (hop-by-hop,
 *   routing, destination options, fragment, AH). An IP length of 0 (a host's TSO/GRO capture) is
 *   taken as "to the end of the frame". Ethernet padding or a trailing FCS beyond the IP length is
 *   dropped.
 * L4: TCP (ports, flags, seq/ack/window, payload after the data offset), UDP (payload bounded by
 *   the UDP length), ICMP and ICMPv6 (payload after the 8-byte header); any other protocol: the
 *   IP payload, ports 0.
 *
 * Truncation: when the capture cut the frame (caplen < wirelen) and the IP length says more than
 * was captured, the packet is delivered with payload_len what was captured and payload_missing
 * the rest (stats.truncated). A frame cut before the end of its L4 header is counted truncated
 * and not delivered (0). An IP length beyond what the frame had on the wire is malformed.
 *
 * Fragment reassembly (IPv4 and IPv6): datagrams are keyed by (source, destination,
 * identification, protocol, tunnel or not) for IPv4 and by (source, destination,
 * identification, tunnel or not) for IPv6, where RFC 8200 4.5 takes the next header from the
 * first fragment only. Overlaps are resolved FIRST-WINS: bytes already held are kept and a later
 * fragment only fills what is still missing (stats.frag_overlaps counts fragments that overlapped
 * held bytes). The end of a datagram is fixed by the first last fragment (MF = 0); a later last
 * fragment with another end, or held bytes past a newly learned end, drop the datagram
 * (frag_dropped), as do more than AB_FRAG_MAX_RANGES disjoint pieces. A fragment reaching past
 * 65535 bytes of payload is malformed. Unfinished datagrams are bounded by frag_memcap (their
 * buffers, counted by capacity, plus their bookkeeping) and max_frag_datagrams: the oldest is
 * dropped first (frag_dropped), and one is dropped when frag_timeout_s of packet time passed
 * since its first fragment (frag_timeouts). A buffer grows with the fragments that arrive and
 * never past 64 KiB, whatever a header claims. A fragment cut by the capture holds what was
 * captured: its datagram never completes and times out. A completed datagram is decoded as one
 * packet (reassembled = 1; vlan from its first-arriving fragment); fragments themselves give 0.
 *
 * Speed: no allocation or system call per packet except for fragments (a datagram's buffer). */
#ifndef AB_NET_DECODE_H
#define AB_NET_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"
#include "net/net.h"

#define AB_DECODE_MAX_VLAN   4  /* 802.1Q/QinQ tags in one frame */
#define AB_DECODE_MAX_MPLS   8  /* MPLS labels in one stack */
#define AB_DECODE_MAX_EXTHDR 8  /* IPv6 extension headers in one packet (or datagram) */
#define AB_FRAG_MAX_RANGES   64 /* disjoint held pieces of one unfinished datagram */
#define AB_FRAG_MAX_PAYLOAD  65535u

/* pcap link types the decoder knows (DLT_ and LINKTYPE_ numbers). */
enum {
    AB_LINK_NULL = 0,
    AB_LINK_ETHERNET = 1,
    AB_LINK_RAW = 12,
    AB_LINK_RAW_OPENBSD = 14,
    AB_LINK_LINKTYPE_RAW = 101,
    AB_LINK_LOOP = 108,
    AB_LINK_SLL = 113,
    AB_LINK_IPV4 = 228,
    AB_LINK_IPV6 = 229,
    AB_LINK_SLL2 = 276,
};

typedef struct ab_decoder ab_decoder;

typedef struct ab_decode_limits {
    size_t frag_memcap;        /* bytes held by unfinished datagrams (default 16 MiB) */
    uint32_t frag_timeout_s;   /* seconds of packet time a datagram may wait (default 30) */
    size_t max_frag_datagrams; /* unfinished datagrams held (default 4096) */
} ab_decode_limits;

void ab_decode_limits_default(ab_decode_limits *l);

/* lim NULL: the defaults. A limit of 0 is taken as its default. */
ab_status ab_decoder_new(const ab_decode_limits *lim, ab_decoder **out);
void ab_decoder_free(ab_decoder *d);

/* Decode one frame of caplen captured bytes (wirelen on the wire, at least caplen). Returns 1:
 * *out is a packet; 0: nothing to deliver (a fragment held, not IP, ARP, cut before its L4
 * header...); -1: malformed (ab_decoder_error(d) says why). out's pointers are valid until the
 * next ab_decode call on d. */
int ab_decode(ab_decoder *d, int linktype, uint64_t ts_us, const uint8_t *frame, size_t caplen,
              size_t wirelen, ab_pkt *out);

/* Why the last ab_decode returned -1: a static string, "" when it did not. */
const char *ab_decoder_error(const ab_decoder *d);

typedef struct ab_decode_stats {
    uint64_t frames;        /* ab_decode calls */
    uint64_t packets;       /* returned 1 */
    uint64_t malformed;     /* returned -1 */
    uint64_t not_ip;        /* ARP, LLDP, unknown link type or ethertype... (returned 0) */
    uint64_t truncated;     /* cut by the capture (delivered with payload_missing, or not) */
    uint64_t fragments;     /* IP fragments taken */
    uint64_t reassembled;   /* datagrams completed */
    uint64_t frag_dropped;  /* unfinished datagrams dropped by a limit or an inconsistency */
    uint64_t frag_overlaps; /* fragments that overlapped bytes already held (first wins) */
    uint64_t frag_timeouts; /* unfinished datagrams expired */
    uint64_t tunnels;       /* packets delivered from inside GRE or VXLAN */
} ab_decode_stats;

void ab_decoder_stats(const ab_decoder *d, ab_decode_stats *out);

#endif
