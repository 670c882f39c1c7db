/* reassembly.h: one TCP direction's reassembly (reassembly.c), used by the flow table (flow.c).
 * Internal to src/net/; the rules it follows are flow.h's. */
#ifndef AB_REASSEMBLY_H
#define AB_REASSEMBLY_H

#include <stddef.h>
#include <stdint.h>

#include "net/flow.h"

/* Data ahead of the expected sequence is held only this far ahead. */
#define AB_REASM_WINDOW ((uint32_t)1 << 30)

/* A held out-of-order piece: len bytes at seq, never overlapping another of its list. Owned by
 * its ab_half while held (from ab_reasm's cache or malloc, back to it when delivered or dropped).
 */
typedef struct ab_seg {
    struct ab_seg *next;
    uint32_t seq, len;
    uint8_t data[];
} ab_seg;

/* One direction. Invariant: the held list is sorted by seq, its pieces do not overlap, and each
 * starts after next_seq (serially, within AB_REASM_WINDOW); held is the memory of its pieces. */
typedef struct ab_half {
    uint32_t next_seq;       /* next byte to deliver (valid when init) */
    uint32_t fin_seq;        /* sequence of the FIN (valid when fin) */
    uint8_t init, fin, done; /* done: at depth or closed; nothing more delivered */
    uint16_t nsegs;
    ab_seg *head, *tail;
    size_t held;
} ab_half;

#define AB_REASM_CLASSES 3

/* What the halves of all flows share: limits, the global held count, counters, callbacks, and
 * freed pieces kept for reuse (owned here, freed by ab_reasm_release). */
typedef struct ab_reasm {
    ab_seg *cache[AB_REASM_CLASSES];
    size_t ncache[AB_REASM_CLASSES];
    uint64_t depth; /* 0: unlimited */
    size_t memcap, ooo_cap;
    size_t held;       /* over all flows */
    ab_flow_stats *st; /* counters updated here (owned by the table) */
    const ab_flow_cb *cb;
} ab_reasm;

/* Bytes d[0..n) at seq of direction dir of f (h is f's half for dir). */
void ab_reasm_segment(ab_reasm *r, ab_half *h, ab_flow *f, int dir, uint32_t seq, const uint8_t *d,
                      size_t n);
/* The bytes before seq that are not held will never come: report them as gaps and deliver what
 * is held up to there and contiguous after it. Nothing when seq is not ahead of next_seq. */
void ab_reasm_skip_to(ab_reasm *r, ab_half *h, ab_flow *f, int dir, uint32_t seq);
/* Deliver everything held, gaps between (before a close). */
void ab_reasm_flush(ab_reasm *r, ab_half *h, ab_flow *f, int dir);
/* Free the cache of pieces (nothing may be held any more). */
void ab_reasm_release(ab_reasm *r);
/* Free what is held without delivering it; done = 1. */
void ab_reasm_drop(ab_reasm *r, ab_half *h);

/* Serial distance a - b (RFC 1982): negative when a is before b. */
static inline int32_t ab_seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

#endif
