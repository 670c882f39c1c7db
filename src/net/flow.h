/* flow.h: the flow stage of the network pipeline (net.h): decoded packets (ab_pkt) in, flows out:
 * each TCP direction as in-order bytes (reassembled), each UDP/ICMP/other packet as a datagram.
 *
 * Flows. A flow is the 5-tuple (addresses, ports, IP protocol) taken in either direction; VLAN
 * and tunnel are not part of it. The client is the sender of the first SYN without ACK; a flow
 * whose first packet is a SYN/ACK has that packet's sender as the server; a TCP flow picked up
 * mid-stream (first packet neither) has as client the end with the higher port, on equal ports
 * the lower address (midstream = 1). A UDP, ICMP or other flow's client is the sender of its
 * first packet. Flows live in a hash table of at most max_flows slots (allocated in chunks as
 * they are first needed, never more than max_flows); when every slot is taken the least recently
 * active flow is evicted (close AB_FLOW_EVICTED). Idle flows time out in packet time (the
 * largest ts_us seen so far is "now"): a few are checked per packet (bounded work) and a flow
 * whose next packet comes after its timeout is closed first and a new flow made.
 *
 * TCP reassembly, per direction. The stream starts at the SYN's sequence + 1 or, without a SYN,
 * at the first packet carrying data (or a FIN) of that direction; sequence numbers are compared
 * in serial arithmetic (wrap-around at 2^32). Acknowledgements are not needed: a one-sided
 * capture or one without the handshake is delivered all the same. Data at the expected sequence
 * is passed to data() straight from the packet (no copy). Data ahead of it (within 1 GiB) is held
 * (a copy) until the hole before it fills: at most flow_ooo_cap bytes and AB_FLOW_MAX_SEGS
 * segments per direction and stream_memcap bytes over all flows. A held piece counts the memory
 * it takes: pieces are allocated in classes of 128, 512 and 2048 bytes (a 16-byte header
 * included), a larger one as its length + 16. Freed pieces of a class are kept
 * for reuse until the table is freed, so their memory never exceeds the peak held. When a segment
 * cannot be held within those caps (counted in memcap_drops) the hole before the held data is given
 * up: gap() reports it, the held data after it is delivered, and the segment is tried again (until
 * it fits or is in order). A hole is also given up when the other end acknowledges past it (those
 * bytes will not be sent again), when the capture cut a packet short (payload_missing: the cut
 * bytes are a gap at once), and when the flow closes.
 *
 * Overlaps: FIRST WINS. Bytes already delivered, or already held, win over any later copy of
 * the same sequence range; only the new bytes of a later segment are used. A segment wholly
 * within delivered bytes (or within held bytes with equal content) is a retransmission; one that
 * covers delivered or held bytes and something else, or held bytes with other content, is an
 * overlap; overlap_conflicts counts the overlaps whose bytes differ from the held ones. Delivered
 * bytes are not kept (no copy on the in-order path), so a conflict with them cannot be seen: such
 * a segment counts as a retransmission or an overlap only.
 *
 * Depth: at most stream_depth bytes per direction are passed to data(). The chunk that crosses
 * it is cut; from then on that direction gets no data() and no gap() call (depth_reached counts
 * it once, when bytes were cut: a stream of exactly stream_depth bytes is not), only close().
 *
 * Ending: an RST ends the flow at once (AB_FLOW_RST), whatever its sequence number. A FIN ends
 * its direction at its sequence: data before it that arrives later is still delivered, bytes
 * after it are dropped (the receiver drops them too). When both directions have delivered up to
 * their FIN the flow closes (AB_FLOW_FIN); a flow with a FIN closes after tcp_closed_timeout_s of
 * quiet otherwise (also AB_FLOW_FIN). A closed TCP flow keeps its slot (without callbacks) for
 * tcp_closed_timeout_s so the last ACKs and retransmissions do not open a mid-stream flow; a SYN
 * without ACK there starts a new flow (as does one on a flow with a FIN: the ports reused).
 * Before close() the held bytes of both directions are delivered, with gap() for the holes before
 * them (bytes never seen after the last held ones are not reported). Any TCP packet of an unknown
 * flow makes a flow, a lone RST or ACK included.
 *
 * Callbacks: every one may be NULL; f, its fields and the bytes given are valid during the call
 * only; a callback must not call back into the table. open() comes before anything else of a flow,
 * close() last and exactly once (the caller frees f->user there). f->ref.app is the caller's to
 * set.
 *
 * Memory: no allocation per packet (a held piece comes from the free list once it has one); O(1)
 * look-up (a keyed hash: chains cannot be chosen by the traffic), eviction and expiry. All memory
 * is bounded by max_flows (the hash buckets, 8 bytes each for the next power of two, allocated up
 * front; slots of about 330 bytes allocated 1024 at a time) and the caps above, never by the
 * length of the capture. */
#ifndef AB_FLOW_H
#define AB_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"
#include "net/net.h"

/* Why a flow closed (close()'s reason). */
enum {
    AB_FLOW_FIN = 1, /* both FINs, or a FIN and tcp_closed_timeout_s of quiet */
    AB_FLOW_RST,     /* an RST */
    AB_FLOW_TIMEOUT, /* idle for its timeout */
    AB_FLOW_EVICTED, /* the table was full and this flow the least recently active */
    AB_FLOW_END,     /* end of capture (ab_flows_flush, ab_flows_free) */
    AB_FLOW_MEMCAP,  /* ended early by the caller over a memory bound (ab_flows_end_lru) */
};

/* Held segments per flow direction, whatever their size. */
#define AB_FLOW_MAX_SEGS 1024
/* Largest max_flows accepted. */
#define AB_FLOW_MAX_FLOWS ((size_t)1 << 24)

typedef struct ab_flow {
    ab_flow_ref ref; /* id, addresses, ports, proto; ts_us is the current packet's; app: caller's */
    void *user;      /* the caller's per-flow state (set in open(), freed in close()) */
    uint64_t first_us, last_us; /* first packet's time, latest packet time */
    uint64_t pkts[2];           /* packets per direction (AB_DIR_TO_SERVER, AB_DIR_TO_CLIENT) */
    uint64_t bytes[2];          /* L4 payload bytes per direction, as the IP length said */
    uint64_t delivered[2];      /* TCP bytes passed to data() per direction */
    uint8_t midstream;          /* 1: a TCP flow picked up without its SYN or SYN/ACK */
} ab_flow;

typedef struct ab_flow_limits {
    size_t max_flows;              /* flows held at once (default 65536; 1..AB_FLOW_MAX_FLOWS) */
    uint64_t stream_depth;         /* bytes per direction delivered (default 1 MiB; 0: unlimited) */
    size_t stream_memcap;          /* bytes of out-of-order segments held over all flows (64 MiB) */
    size_t flow_ooo_cap;           /* the same per flow direction (default 1 MiB) */
    uint32_t tcp_timeout_s;        /* idle TCP flow (default 300; 0: none) */
    uint32_t tcp_closed_timeout_s; /* after a FIN, and a closed flow's slot (10; 0: none) */
    uint32_t udp_timeout_s;        /* idle UDP, ICMP and other flows (default 60; 0: none) */
} ab_flow_limits;

void ab_flow_limits_default(ab_flow_limits *l);

typedef struct ab_flow_cb {
    void *ctx;
    void (*open)(void *ctx, ab_flow *f); /* a new flow */
    /* In-order TCP payload of direction dir (n > 0). */
    void (*data)(void *ctx, ab_flow *f, int dir, const uint8_t *d, size_t n);
    /* n bytes of direction dir will never come (loss, a cap, a short capture); the stream goes on
     * after them. */
    void (*gap)(void *ctx, ab_flow *f, int dir, uint64_t n);
    /* A UDP, ICMP or other non-TCP packet of the flow (p valid during the call). */
    void (*dgram)(void *ctx, ab_flow *f, int dir, const ab_pkt *p);
    /* The flow ended (reason AB_FLOW_*): the caller frees f->user here. */
    void (*close)(void *ctx, ab_flow *f, int reason);
} ab_flow_cb;

typedef struct ab_flows ab_flows;

/* A table with limits lim (NULL: defaults) and callbacks cb (copied). AB_ERR_ARG for max_flows 0
 * or above AB_FLOW_MAX_FLOWS. */
ab_status ab_flows_new(const ab_flow_limits *lim, const ab_flow_cb *cb, ab_flows **out);
/* One packet; its time is p->ts_us. */
void ab_flows_packet(ab_flows *t, const ab_pkt *p);
/* The clock moves on without a packet (a live capture gone quiet): now_us becomes "now" when it
 * is later, and idle flows time out as a packet would make them (at most 4096 per list and
 * call: bounded work; the rest at the next call or packet). */
void ab_flows_tick(ab_flows *t, uint64_t now_us);
/* End of capture: every flow's held bytes delivered (gaps between), every flow closed with
 * AB_FLOW_END and its slot freed. The table stays usable. */
void ab_flows_flush(ab_flows *t);
/* End the least recently active open flow now, as a full table does (its held bytes delivered,
 * close() with reason): for a caller over a memory bound of its own. Not from a callback.
 * Returns 0 when no flow is open. */
int ab_flows_end_lru(ab_flows *t, int reason);
/* ab_flows_flush, then the table freed. NULL is fine. */
void ab_flows_free(ab_flows *t);

typedef struct ab_flow_stats {
    uint64_t flows; /* flows made */
    uint64_t tcp, udp, other;
    uint64_t evicted;  /* closed AB_FLOW_EVICTED */
    uint64_t timeouts; /* closed AB_FLOW_TIMEOUT */
    uint64_t active;   /* flows open now (closed flows keeping their slot not counted) */
    uint64_t peak_active;
    uint64_t ooo_segments;      /* segments that arrived ahead of the expected sequence */
    uint64_t retransmissions;   /* segments with nothing new */
    uint64_t overlaps;          /* segments partly over delivered or held bytes */
    uint64_t overlap_conflicts; /* overlaps whose bytes differ from the held ones */
    uint64_t gaps, gap_bytes;   /* holes given up (gap() calls, also when gap is NULL) */
    uint64_t memcap_drops;      /* segments a cap kept from being held */
    uint64_t depth_reached;     /* directions cut at stream_depth */
    uint64_t midstream;         /* TCP flows picked up mid-stream */
    uint64_t held_bytes;        /* bytes held now (segment headers included) */
    uint64_t peak_held_bytes;
    uint64_t slots; /* flow slots allocated (<= max_flows) */
} ab_flow_stats;

void ab_flows_stats(const ab_flows *t, ab_flow_stats *s);

/* "fin", "rst", "timeout", "evicted", "end", "memcap" (or "?"). */
const char *ab_flow_reason_name(int reason);

#endif
