/* reassembly.c: one TCP direction's bytes in order (reassembly.h; the rules are flow.h's). In-order
 * data goes to data() from the packet; data ahead is copied into held pieces that never overlap
 * (first wins: a later copy only fills what no held piece covers), delivered when the hole before
 * them fills or is given up. Positions are serial (32-bit wrap-around): every held piece starts
 * within AB_REASM_WINDOW after next_seq, so differences taken against next_seq never wrap. */
#include "net/reassembly.h"

#include <stdlib.h>
#include <string.h>

/* Pieces are allocated in size classes and freed ones kept for reuse until the table goes, so the
 * memory they take never exceeds the peak held (<= stream_memcap): malloc and free of a
 * packet-sized block per out-of-order segment made glibc grow and trim its heap over and over (a
 * page fault per segment, 30 times slower). */
static const size_t seg_classes[AB_REASM_CLASSES] = {128, 512, 2048};

static int seg_class(size_t mem)
{
    for (int i = 0; i < AB_REASM_CLASSES; i++)
        if (mem <= seg_classes[i])
            return i;
    return -1;
}

/* The memory a piece of len bytes takes (what the caps count). */
static size_t seg_mem(size_t len)
{
    size_t m = sizeof(ab_seg) + len;
    int c = seg_class(m);
    return c < 0 ? m : seg_classes[c];
}

static ab_seg *seg_alloc(ab_reasm *r, size_t mem)
{
    int c = seg_class(mem);
    if (c >= 0 && r->cache[c]) {
        ab_seg *s = r->cache[c];
        r->cache[c] = s->next;
        r->ncache[c]--;
        return s;
    }
    return malloc(mem);
}

static void seg_release(ab_reasm *r, ab_seg *s)
{
    int c = seg_class(seg_mem(s->len));
    if (c >= 0) {
        s->next = r->cache[c];
        r->cache[c] = s;
        r->ncache[c]++;
        return;
    }
    free(s);
}

void ab_reasm_release(ab_reasm *r)
{
    for (int c = 0; c < AB_REASM_CLASSES; c++) {
        while (r->cache[c]) {
            ab_seg *s = r->cache[c];
            r->cache[c] = s->next;
            free(s);
        }
        r->ncache[c] = 0;
    }
}

static void account(ab_reasm *r, ab_half *h, size_t mem, int add)
{
    if (add) {
        h->held += mem;
        r->held += mem;
        h->nsegs++;
    } else {
        h->held -= mem;
        r->held -= mem;
        h->nsegs--;
    }
    r->st->held_bytes = r->held;
    if (r->held > r->st->peak_held_bytes)
        r->st->peak_held_bytes = r->held;
}

static void seg_free(ab_reasm *r, ab_half *h, ab_seg *s)
{
    account(r, h, seg_mem(s->len), 0);
    seg_release(r, s);
}

static ab_seg *pop(ab_half *h)
{
    ab_seg *s = h->head;
    h->head = s->next;
    if (!h->head)
        h->tail = NULL;
    return s;
}

void ab_reasm_drop(ab_reasm *r, ab_half *h)
{
    while (h->head)
        seg_free(r, h, pop(h));
    h->done = 1;
}

/* To data(), cut at the depth (which makes the direction done). */
static void deliver(ab_reasm *r, ab_half *h, ab_flow *f, int dir, const uint8_t *d, size_t n)
{
    if (h->done || n == 0)
        return;
    if (r->depth) {
        uint64_t room = r->depth - f->delivered[dir]; /* delivered never passes depth */
        if (n > room) {
            n = (size_t)room;
            h->done = 1;
            r->st->depth_reached++;
        }
    }
    if (n) {
        f->delivered[dir] += n;
        if (r->cb->data)
            r->cb->data(r->cb->ctx, f, dir, d, n);
    }
}

static void gap(ab_reasm *r, ab_half *h, ab_flow *f, int dir, uint64_t n)
{
    if (h->done || n == 0)
        return;
    r->st->gaps++;
    r->st->gap_bytes += n;
    if (r->cb->gap)
        r->cb->gap(r->cb->ctx, f, dir, n);
}

/* Held pieces that start at or before next_seq, delivered. */
static void deliver_contiguous(ab_reasm *r, ab_half *h, ab_flow *f, int dir)
{
    while (!h->done && h->head && ab_seq_diff(h->head->seq, h->next_seq) <= 0) {
        ab_seg *s = pop(h);
        uint32_t skip = (uint32_t)ab_seq_diff(h->next_seq, s->seq);
        if (skip < s->len) {
            deliver(r, h, f, dir, s->data + skip, s->len - skip);
            h->next_seq = s->seq + s->len;
        }
        seg_free(r, h, s);
    }
    if (h->done)
        ab_reasm_drop(r, h);
}

void ab_reasm_skip_to(ab_reasm *r, ab_half *h, ab_flow *f, int dir, uint32_t seq)
{
    while (!h->done) {
        int32_t target = ab_seq_diff(seq, h->next_seq);
        if (target <= 0)
            break;
        int32_t start = h->head ? ab_seq_diff(h->head->seq, h->next_seq) : target;
        if (start > 0) {
            uint32_t g = (uint32_t)(start < target ? start : target);
            gap(r, h, f, dir, g);
            h->next_seq += g;
        }
        deliver_contiguous(r, h, f, dir);
    }
    if (h->done)
        ab_reasm_drop(r, h);
}

void ab_reasm_flush(ab_reasm *r, ab_half *h, ab_flow *f, int dir)
{
    if (h->tail)
        ab_reasm_skip_to(r, h, f, dir, h->tail->seq + h->tail->len);
    ab_reasm_drop(r, h);
}

/* d[0..n) starts at next_seq (the part before it already cut off; overlapped says there was
 * one). Held pieces inside the range win over the packet's bytes. */
static void in_order(ab_reasm *r, ab_half *h, ab_flow *f, int dir, const uint8_t *d, size_t n,
                     int overlapped)
{
    uint32_t base = h->next_seq;
    size_t cur = 0;
    int conflict = 0;
    while (cur < n && !h->done) {
        ab_seg *s = h->head;
        int64_t start = s ? ab_seq_diff(s->seq, base) : (int64_t)n;
        if (start > (int64_t)cur) {
            size_t lim = start < (int64_t)n ? (size_t)start : n;
            deliver(r, h, f, dir, d + cur, lim - cur);
            cur = lim;
            continue;
        }
        /* A held piece at cur (pieces start after base and do not overlap: never before it, but
         * should one, its bytes before cur are not given twice). */
        s = pop(h);
        size_t skip = (size_t)((int64_t)cur - start);
        if (skip < s->len) {
            size_t len = s->len - skip;
            size_t ov = len < n - cur ? len : n - cur;
            overlapped = 1;
            if (memcmp(s->data + skip, d + cur, ov) != 0)
                conflict = 1;
            deliver(r, h, f, dir, s->data + skip, len);
            cur += len;
        }
        seg_free(r, h, s);
    }
    h->next_seq = base + (uint32_t)cur;
    if (overlapped)
        r->st->overlaps++;
    if (conflict)
        r->st->overlap_conflicts++;
    if (h->done)
        ab_reasm_drop(r, h);
    else
        deliver_contiguous(r, h, f, dir);
}

static ab_seg *seg_new(ab_reasm *r, ab_half *h, uint32_t seq, const uint8_t *d, size_t len)
{
    ab_seg *s = seg_alloc(r, seg_mem(len));
    if (!s)
        return NULL;
    s->next = NULL;
    s->seq = seq;
    s->len = (uint32_t)len;
    memcpy(s->data, d, len);
    account(r, h, seg_mem(len), 1);
    return s;
}

/* The memory and piece count the bytes [p, e) (from next_seq) would add to what is held. */
static size_t hold_need(const ab_half *h, int64_t p, int64_t e, unsigned *pieces)
{
    size_t need = 0;
    int64_t cur = p;
    *pieces = 0;
    const ab_seg *s = h->head;
    if (h->tail && ab_seq_diff(h->tail->seq, h->next_seq) + (int64_t)h->tail->len <= p)
        s = NULL; /* after everything held: the usual case */
    for (; s && cur < e; s = s->next) {
        int64_t ss = ab_seq_diff(s->seq, h->next_seq), se = ss + s->len;
        if (se <= cur)
            continue;
        if (ss > cur) {
            need += seg_mem((size_t)((ss < e ? ss : e) - cur));
            (*pieces)++;
        }
        cur = se;
    }
    if (cur < e) {
        need += seg_mem((size_t)(e - cur));
        (*pieces)++;
    }
    return need;
}

/* Hold the bytes d[0..n) at seq, ahead of next_seq: the parts no held piece covers become new
 * pieces. 0, or -1 when a cap (or malloc) keeps them from being held (nothing changed). */
static int hold(ab_reasm *r, ab_half *h, uint32_t seq, const uint8_t *d, size_t n)
{
    int64_t p = ab_seq_diff(seq, h->next_seq), e = p + (int64_t)n;
    unsigned pieces;
    size_t need = hold_need(h, p, e, &pieces);
    if (pieces && (h->held + need > r->ooo_cap || r->held + need > r->memcap ||
                   h->nsegs + pieces > AB_FLOW_MAX_SEGS))
        return -1;

    int overlapped = 0, conflict = 0;
    int64_t cur = p;
    ab_seg **link = &h->head;
    if (h->tail && ab_seq_diff(h->tail->seq, h->next_seq) + (int64_t)h->tail->len <= p)
        link = &h->tail->next;
    while (cur < e) {
        ab_seg *s = *link;
        int64_t ss = s ? ab_seq_diff(s->seq, h->next_seq) : e;
        int64_t se = s ? ss + s->len : e;
        if (s && se <= cur) {
            link = &s->next;
            continue;
        }
        if (ss > cur) {
            int64_t pe = ss < e ? ss : e;
            ab_seg *nw =
                seg_new(r, h, seq + (uint32_t)(cur - p), d + (cur - p), (size_t)(pe - cur));
            if (!nw)
                return -1;
            nw->next = s;
            *link = nw;
            if (!s)
                h->tail = nw;
            link = &nw->next;
            cur = pe;
            continue;
        }
        /* s covers cur: its bytes win; compare them. */
        int64_t oe = se < e ? se : e;
        overlapped = 1;
        if (memcmp(s->data + (cur - ss), d + (cur - p), (size_t)(oe - cur)) != 0)
            conflict = 1;
        cur = se;
        link = &s->next;
    }
    if (overlapped) {
        if (!pieces && !conflict)
            r->st->retransmissions++;
        else
            r->st->overlaps++;
    }
    if (conflict)
        r->st->overlap_conflicts++;
    return 0;
}

void ab_reasm_segment(ab_reasm *r, ab_half *h, ab_flow *f, int dir, uint32_t seq, const uint8_t *d,
                      size_t n)
{
    if (h->done || n == 0 || !h->init)
        return;
    if (n > AB_REASM_WINDOW)
        n = AB_REASM_WINDOW; /* no TCP segment is this long; keeps the arithmetic in range */
    int ooo_counted = 0, drop_counted = 0;
    for (;;) {
        int64_t p = ab_seq_diff(seq, h->next_seq), e = p + (int64_t)n;
        if (e <= 0) {
            r->st->retransmissions++;
            return;
        }
        if (p <= 0) {
            in_order(r, h, f, dir, d + (size_t)-p, (size_t)e, p < 0);
            return;
        }
        if (p >= (int64_t)AB_REASM_WINDOW)
            return; /* far ahead: not this stream's bytes, or a loss an ACK will give up */
        if (!ooo_counted) {
            r->st->ooo_segments++;
            ooo_counted = 1;
        }
        if (hold(r, h, seq, d, n) == 0)
            return;
        if (!drop_counted) {
            r->st->memcap_drops++;
            drop_counted = 1;
        }
        /* Give up the first hole: what is held after it goes out and frees its memory, or, with
         * nothing held, the segment itself becomes in order. */
        ab_reasm_skip_to(r, h, f, dir, h->head ? h->head->seq : seq);
        if (h->done)
            return;
    }
}
