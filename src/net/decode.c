/* decode.c: one captured frame into an ab_pkt (decode.h): link layer, VLAN/MPLS/PPPoE, IPv4/IPv6,
 * one level of GRE/VXLAN, TCP/UDP/ICMP; fragments go to the table of ipfrag.c.
 *
 * Every layer is given the bytes it has (p, n) and how many more the IP length or the capture
 * says are missing after them (cut: bytes the capture dropped at the end of the frame, or what an
 * IP length says beyond what was captured): a header that runs past n is "truncated" when cut
 * covers it and malformed when it does not. No recursion: a tunnel is entered at most once (the
 * tunnel flag), a reassembled IPv6 datagram continues the same extension header loop. */
#include "net/decode.h"

#include <stdlib.h>
#include <string.h>

#include "net/ipfrag.h"

/* Internal results; ab_decode maps them to 1/0/-1 and the counters. */
enum { R_BAD = -1, R_HELD = 0, R_PKT = 1, R_NOTIP = 2, R_CUT = 3, R_OUTER = 4 };

#define ET_IPV4     0x0800
#define ET_IPV6     0x86dd
#define ET_VLAN     0x8100
#define ET_QINQ     0x88a8
#define ET_QINQ_OLD 0x9100
#define ET_MPLS_UC  0x8847
#define ET_MPLS_MC  0x8848
#define ET_PPPOE_S  0x8864
#define ET_TEB      0x6558 /* transparent Ethernet bridging (GRE) */
#define VXLAN_PORT  4789

#define P_ICMP   1
#define P_TCP    6
#define P_UDP    17
#define P_GRE    47
#define P_ICMPV6 58

struct ab_decoder {
    ab_decode_stats st;
    ab_ipfrag *frag; /* owned */
    const char *err; /* static */
};

/* One ab_decode call. */
typedef struct dec {
    ab_decoder *d;
    ab_pkt *out;
    uint64_t ts;
    size_t cut;    /* bytes missing after the end of the buffer being read */
    int tunnel;    /* 1 once inside GRE/VXLAN */
    int vlan_seen; /* the outermost tag is taken */
    int truncated; /* the capture cut something */
} dec;

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int bad(dec *x, const char *why)
{
    x->d->err = why;
    return R_BAD;
}

/* A header of want bytes where n are there and missing more were cut. */
static int short_hdr(dec *x, size_t n, size_t want, size_t missing, const char *why)
{
    if (want - n <= missing) {
        x->truncated = 1;
        return R_CUT;
    }
    return bad(x, why);
}

void ab_decode_limits_default(ab_decode_limits *l)
{
    l->frag_memcap = (size_t)16 << 20;
    l->frag_timeout_s = 30;
    l->max_frag_datagrams = 4096;
}

ab_status ab_decoder_new(const ab_decode_limits *lim, ab_decoder **out)
{
    ab_decode_limits l;
    ab_decode_limits_default(&l);
    if (lim) {
        if (lim->frag_memcap)
            l.frag_memcap = lim->frag_memcap;
        if (lim->frag_timeout_s)
            l.frag_timeout_s = lim->frag_timeout_s;
        if (lim->max_frag_datagrams)
            l.max_frag_datagrams = lim->max_frag_datagrams;
    }
    ab_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return AB_ERR_NOMEM;
    ab_status st = ab_ipfrag_new(&l, &d->st, &d->frag);
    if (st != AB_OK) {
        free(d);
        return st;
    }
    d->err = "";
    *out = d;
    return AB_OK;
}

void ab_decoder_free(ab_decoder *d)
{
    if (!d)
        return;
    ab_ipfrag_free(d->frag);
    free(d);
}

const char *ab_decoder_error(const ab_decoder *d)
{
    return d->err;
}

void ab_decoder_stats(const ab_decoder *d, ab_decode_stats *out)
{
    *out = d->st;
}

static int decode_ether(dec *x, const uint8_t *p, size_t n);
static int decode_ipv4(dec *x, const uint8_t *p, size_t n);
static int decode_ipv6(dec *x, const uint8_t *p, size_t n);

static void set_payload(ab_pkt *o, const uint8_t *p, size_t n, size_t missing)
{
    o->payload = p;
    o->payload_len = n;
    o->payload_missing = (uint32_t)missing; /* at most 65535: an IP length */
}

/* GRE (RFC 2784/2890) one level deep: R_OUTER when this is not a GRE we open. */
static int decode_gre(dec *x, const uint8_t *p, size_t n, size_t missing)
{
    if (x->tunnel || n < 4)
        return R_OUTER;
    uint16_t fl = be16(p), proto = be16(p + 2);
    if ((fl & 0x7) != 0 || (fl & 0x4000) != 0) /* version 1 (PPTP), source routing */
        return R_OUTER;
    size_t hl = 4 + ((fl & 0x8000) ? 4 : 0) + ((fl & 0x2000) ? 4 : 0) + ((fl & 0x1000) ? 4 : 0);
    if (hl > n || (proto != ET_IPV4 && proto != ET_IPV6 && proto != ET_TEB))
        return R_OUTER;
    x->tunnel = 1;
    x->out->tunnel = 1;
    x->cut = missing;
    p += hl;
    n -= hl;
    if (proto == ET_IPV4)
        return decode_ipv4(x, p, n);
    if (proto == ET_IPV6)
        return decode_ipv6(x, p, n);
    return decode_ether(x, p, n);
}

/* L4 over n captured bytes of the IP payload (missing more). */
static int decode_l4(dec *x, uint8_t proto, const uint8_t *p, size_t n, size_t missing)
{
    ab_pkt *o = x->out;
    o->proto = proto;
    o->sport = o->dport = 0;
    o->tcp_flags = 0;
    o->seq = o->ack = 0;
    o->win = 0;
    switch (proto) {
    case P_TCP: {
        if (n < 20)
            return short_hdr(x, n, 20, missing, "TCP header beyond the IP payload");
        size_t doff = (size_t)(p[12] >> 4) * 4;
        if (doff < 20)
            return bad(x, "TCP data offset below 5");
        if (doff > n)
            return short_hdr(x, n, doff, missing, "TCP data offset beyond the segment");
        o->sport = be16(p);
        o->dport = be16(p + 2);
        o->seq = be32(p + 4);
        o->ack = be32(p + 8);
        o->tcp_flags = p[13];
        o->win = be16(p + 14);
        set_payload(o, p + doff, n - doff, missing);
        return R_PKT;
    }
    case P_UDP: {
        if (n < 8)
            return short_hdr(x, n, 8, missing, "UDP header beyond the IP payload");
        size_t ulen = be16(p + 4);
        if (ulen == 0) /* IPv6 jumbogram, or a TSO capture: the IP length says */
            ulen = n + missing;
        if (ulen < 8)
            return bad(x, "UDP length below 8");
        if (ulen > n + missing)
            return bad(x, "UDP length beyond the IP payload");
        if (ulen <= n) {
            n = ulen;
            missing = 0;
        } else {
            missing = ulen - n;
        }
        o->sport = be16(p);
        o->dport = be16(p + 2);
        /* VXLAN (RFC 7348): 8 bytes, flags with the I bit, then Ethernet. */
        if (o->dport == VXLAN_PORT && !x->tunnel && n >= 16 && (p[8] & 0x08)) {
            x->tunnel = 1;
            o->tunnel = 1;
            x->cut = missing;
            return decode_ether(x, p + 16, n - 16);
        }
        set_payload(o, p + 8, n - 8, missing);
        return R_PKT;
    }
    case P_ICMP:
    case P_ICMPV6:
        if (n < 8)
            return short_hdr(x, n, 8, missing, "ICMP header beyond the IP payload");
        set_payload(o, p + 8, n - 8, missing);
        return R_PKT;
    case P_GRE: {
        int r = decode_gre(x, p, n, missing);
        if (r != R_OUTER)
            return r;
        break;
    }
    default:
        break;
    }
    set_payload(o, p, n, missing);
    return R_PKT;
}

/* The IP length says tot bytes from p, n were captured: trims n to tot (padding, FCS) or
 * computes *missing. R_PKT when fine. */
static int ip_extent(dec *x, size_t tot, size_t *n, size_t *missing, const char *why)
{
    *missing = 0;
    if (tot <= *n) {
        *n = tot;
        return R_PKT;
    }
    if (tot - *n > x->cut)
        return bad(x, why);
    *missing = tot - *n;
    x->truncated = 1;
    return R_PKT;
}

/* A fragment to the reassembly: R_PKT with the whole datagram in done (the packet is marked
 * reassembled), R_HELD while pieces are missing, R_BAD when it is given up. */
static int frag_add(dec *x, const ab_frag_key *k, const ab_frag *fr, ab_frag_done *done)
{
    const char *why = "";
    int r = ab_ipfrag_add(x->d->frag, k, x->ts, fr, done, &why);
    if (r < 0)
        return bad(x, why);
    if (r == 0)
        return R_HELD;
    x->out->reassembled = 1;
    x->out->vlan = done->vlan;
    x->cut = 0;
    return R_PKT;
}

static int decode_ipv4(dec *x, const uint8_t *p, size_t n)
{
    ab_pkt *o = x->out;
    if (n < 20)
        return short_hdr(x, n, 20, x->cut, "IPv4 header beyond the frame");
    if ((p[0] >> 4) != 4)
        return bad(x, "IPv4 version is not 4");
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    if (ihl < 20)
        return bad(x, "IPv4 header length below 20");
    if (ihl > n)
        return short_hdr(x, n, ihl, x->cut, "IPv4 options beyond the frame");
    size_t tot = be16(p + 2), missing;
    if (tot == 0) /* a TSO/GRO capture on the sending host */
        tot = n;
    if (tot < ihl)
        return bad(x, "IPv4 total length below its header length");
    if (ip_extent(x, tot, &n, &missing, "IPv4 total length beyond the frame") != R_PKT)
        return R_BAD;
    o->ipver = 4;
    o->proto = p[9];
    ab_ipaddr_from_v4(&o->src, p + 12);
    ab_ipaddr_from_v4(&o->dst, p + 16);
    uint16_t fo = be16(p + 6);
    if ((fo & 0x3fff) == 0)
        return decode_l4(x, p[9], p + ihl, n - ihl, missing);
    /* A fragment: MF set or an offset. */
    ab_frag_key k;
    memset(&k, 0, sizeof(k));
    k.src = o->src;
    k.dst = o->dst;
    k.id = be16(p + 4);
    k.ipver = 4;
    k.proto = p[9];
    k.tunnel = (uint8_t)x->tunnel;
    ab_frag fr = {(uint32_t)(fo & 0x1fff) * 8, p + ihl, n - ihl, (fo & 0x2000) != 0, 0, o->vlan};
    ab_frag_done done;
    int r = frag_add(x, &k, &fr, &done);
    if (r != R_PKT)
        return r;
    return decode_l4(x, p[9], done.data, done.len, 0);
}

/* IPv6 extension headers from next header nh over p[0..n) (missing more), then L4. A reassembled
 * datagram continues the loop over its own bytes; a fragment header inside it is malformed. */
static int decode_v6_chain(dec *x, uint8_t nh, const uint8_t *p, size_t n, size_t missing)
{
    ab_pkt *o = x->out;
    int may_frag = 1;
    for (int i = 0;; i++) {
        size_t hl;
        switch (nh) {
        case 0:  /* hop-by-hop */
        case 43: /* routing */
        case 60: /* destination options */
        case 51: /* AH */
            if (i >= AB_DECODE_MAX_EXTHDR)
                return bad(x, "too many IPv6 extension headers");
            if (n < 8)
                return short_hdr(x, n, 8, missing, "IPv6 extension header beyond the payload");
            hl = nh == 51 ? ((size_t)p[1] + 2) * 4 : ((size_t)p[1] + 1) * 8;
            if (hl > n)
                return short_hdr(x, n, hl, missing, "IPv6 extension header beyond the payload");
            nh = p[0];
            p += hl;
            n -= hl;
            continue;
        case 44: { /* fragment */
            if (i >= AB_DECODE_MAX_EXTHDR)
                return bad(x, "too many IPv6 extension headers");
            if (!may_frag)
                return bad(x, "IPv6 fragment header inside a reassembled datagram");
            if (n < 8)
                return short_hdr(x, n, 8, missing, "IPv6 fragment header beyond the payload");
            uint16_t om = be16(p + 2);
            uint8_t fnh = p[0];
            uint32_t id = be32(p + 4);
            p += 8;
            n -= 8;
            if ((om & 0xfff8) == 0 && (om & 1) == 0) { /* atomic fragment (RFC 6946) */
                nh = fnh;
                continue;
            }
            ab_frag_key k;
            memset(&k, 0, sizeof(k));
            k.src = o->src;
            k.dst = o->dst;
            k.id = id;
            k.ipver = 6;
            k.tunnel = (uint8_t)x->tunnel;
            ab_frag fr = {om & 0xfff8, p, n, om & 1, fnh, o->vlan};
            ab_frag_done done;
            int r = frag_add(x, &k, &fr, &done);
            if (r != R_PKT)
                return r;
            nh = done.nh;
            p = done.data;
            n = done.len;
            missing = 0;
            may_frag = 0;
            continue;
        }
        case 59: /* no next header */
            o->proto = nh;
            o->sport = o->dport = 0;
            set_payload(o, p, 0, 0);
            return R_PKT;
        default:
            return decode_l4(x, nh, p, n, missing);
        }
    }
}

static int decode_ipv6(dec *x, const uint8_t *p, size_t n)
{
    ab_pkt *o = x->out;
    if (n < 40)
        return short_hdr(x, n, 40, x->cut, "IPv6 header beyond the frame");
    if ((p[0] >> 4) != 6)
        return bad(x, "IPv6 version is not 6");
    size_t tot = 40 + (size_t)be16(p + 4), missing;
    if (tot == 40 && p[6] == 0) /* jumbogram or TSO capture: hop-by-hop follows */
        tot = n;
    if (ip_extent(x, tot, &n, &missing, "IPv6 payload length beyond the frame") != R_PKT)
        return R_BAD;
    o->ipver = 6;
    memcpy(o->src.b, p + 8, 16);
    memcpy(o->dst.b, p + 24, 16);
    return decode_v6_chain(x, p[6], p + 40, n - 40, missing);
}

static int decode_ip_by_version(dec *x, const uint8_t *p, size_t n)
{
    if (n < 1)
        return short_hdr(x, n, 1, x->cut, "no IP header");
    if ((p[0] >> 4) == 4)
        return decode_ipv4(x, p, n);
    if ((p[0] >> 4) == 6)
        return decode_ipv6(x, p, n);
    return bad(x, "IP version is neither 4 nor 6");
}

/* An ethertype and what follows it: VLAN tags, MPLS, PPPoE, then IP. */
static int decode_ethertype(dec *x, uint16_t et, const uint8_t *p, size_t n)
{
    ab_pkt *o = x->out;
    for (int vlans = 0;;) {
        switch (et) {
        case ET_IPV4:
            return decode_ipv4(x, p, n);
        case ET_IPV6:
            return decode_ipv6(x, p, n);
        case ET_VLAN:
        case ET_QINQ:
        case ET_QINQ_OLD:
            if (++vlans > AB_DECODE_MAX_VLAN)
                return bad(x, "too many VLAN tags");
            if (n < 4)
                return short_hdr(x, n, 4, x->cut, "VLAN tag beyond the frame");
            if (!x->vlan_seen) {
                o->vlan = be16(p) & 0x0fff;
                x->vlan_seen = 1;
            }
            et = be16(p + 2);
            p += 4;
            n -= 4;
            continue;
        case ET_MPLS_UC:
        case ET_MPLS_MC:
            for (int labels = 0;; labels++) {
                if (labels >= AB_DECODE_MAX_MPLS)
                    return bad(x, "too many MPLS labels");
                if (n < 4)
                    return short_hdr(x, n, 4, x->cut, "MPLS label beyond the frame");
                int bottom = (p[2] & 0x01) != 0;
                p += 4;
                n -= 4;
                if (bottom)
                    break;
            }
            /* No protocol field: IP by its version nibble; 0 is a pseudowire control word. */
            if (n >= 1 && ((p[0] >> 4) == 4 || (p[0] >> 4) == 6))
                return decode_ip_by_version(x, p, n);
            return n < 1 ? short_hdr(x, n, 1, x->cut, "nothing after MPLS") : R_NOTIP;
        case ET_PPPOE_S: {
            if (n < 8)
                return short_hdr(x, n, 8, x->cut, "PPPoE header beyond the frame");
            if (p[0] != 0x11 || p[1] != 0)
                return bad(x, "PPPoE session header is not version 1 type 1 code 0");
            size_t len = be16(p + 4);
            p += 6;
            n -= 6;
            if (len < 2)
                return bad(x, "PPPoE length below 2");
            if (len <= n)
                n = len;
            else if (len - n > x->cut)
                return bad(x, "PPPoE length beyond the frame");
            uint16_t proto;
            if (p[0] & 1) { /* protocol field compression */
                proto = p[0];
                p += 1;
                n -= 1;
            } else {
                proto = be16(p);
                p += 2;
                n -= 2;
            }
            if (proto == 0x21)
                return decode_ipv4(x, p, n);
            if (proto == 0x57)
                return decode_ipv6(x, p, n);
            return R_NOTIP;
        }
        default:
            return R_NOTIP; /* ARP, LLDP, 802.3 lengths, ... */
        }
    }
}

static int decode_ether(dec *x, const uint8_t *p, size_t n)
{
    if (n < 14)
        return short_hdr(x, n, 14, x->cut, "Ethernet header beyond the frame");
    return decode_ethertype(x, be16(p + 12), p + 14, n - 14);
}

/* BSD loopback: the address family, 2 for IPv4, 24/28/30 for IPv6 (NetBSD/OpenBSD, FreeBSD,
 * macOS). */
static int decode_family(dec *x, uint32_t fam, const uint8_t *p, size_t n)
{
    if (fam == 2)
        return decode_ipv4(x, p, n);
    if (fam == 24 || fam == 28 || fam == 30)
        return decode_ipv6(x, p, n);
    return R_NOTIP;
}

static int decode_link(dec *x, int linktype, const uint8_t *p, size_t n)
{
    switch (linktype) {
    case AB_LINK_ETHERNET:
        return decode_ether(x, p, n);
    case AB_LINK_SLL: /* packet type, ARPHRD, address length, 8 address bytes, protocol */
        if (n < 16)
            return short_hdr(x, n, 16, x->cut, "SLL header beyond the frame");
        return decode_ethertype(x, be16(p + 14), p + 16, n - 16);
    case AB_LINK_SLL2: /* protocol, reserved, ifindex, ARPHRD, packet type, address len+8 */
        if (n < 20)
            return short_hdr(x, n, 20, x->cut, "SLL2 header beyond the frame");
        return decode_ethertype(x, be16(p), p + 20, n - 20);
    case AB_LINK_RAW:
    case AB_LINK_RAW_OPENBSD:
    case AB_LINK_LINKTYPE_RAW:
        return decode_ip_by_version(x, p, n);
    case AB_LINK_IPV4:
        return decode_ipv4(x, p, n);
    case AB_LINK_IPV6:
        return decode_ipv6(x, p, n);
    case AB_LINK_NULL: {
        if (n < 4)
            return short_hdr(x, n, 4, x->cut, "loopback header beyond the frame");
        /* The capturing host's order: the small one of the two readings. */
        uint32_t fam = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
        if (fam > 0xffff)
            fam = be32(p);
        return decode_family(x, fam, p + 4, n - 4);
    }
    case AB_LINK_LOOP:
        if (n < 4)
            return short_hdr(x, n, 4, x->cut, "loopback header beyond the frame");
        return decode_family(x, be32(p), p + 4, n - 4);
    default:
        return R_NOTIP;
    }
}

int ab_decode(ab_decoder *d, int linktype, uint64_t ts_us, const uint8_t *frame, size_t caplen,
              size_t wirelen, ab_pkt *out)
{
    ab_ipfrag_release(d->frag, ts_us);
    d->st.frames++;
    d->err = "";
    memset(out, 0, sizeof(*out));
    out->ts_us = ts_us;
    dec x = {d, out, ts_us, wirelen > caplen ? wirelen - caplen : 0, 0, 0, 0};
    int r = frame || caplen == 0 ? decode_link(&x, linktype, frame, caplen) : R_BAD;
    if (x.truncated)
        d->st.truncated++;
    switch (r) {
    case R_PKT:
        d->st.packets++;
        if (out->tunnel)
            d->st.tunnels++;
        return 1;
    case R_BAD:
        d->st.malformed++;
        if (!*d->err)
            d->err = "no frame";
        return -1;
    case R_NOTIP:
        d->st.not_ip++;
        return 0;
    default: /* R_HELD, R_CUT */
        return 0;
    }
}
