/* olefmt.c: compound-file preflight, MS-OVBA decompression and VBA dir records (olefmt.h).
 *
 * Safety: plain byte parsing of hostile input. Every read is checked against the length given;
 * every loop is bounded by the input (records at least 6 bytes, chains by a visited bitmap and a
 * count limit, the directory walk by an explicit stack of at most AB_CFB_MAX_TREE frames).
 * Allocation: the preflight's FAT index and bitmaps are bounded by the file's own size (after
 * the header's FAT count was checked against it); decompression output never passes max. */
#include "unpack/olefmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ============================== compound file preflight ============================== */

#define CFB_HEADER    512
#define CFB_DIFAT_HDR 109
#define CFB_UNUSED    0xFFFFFFFFu
#define CFB_DIRENT    128
/* Mini sectors of one file (64 bytes each: 64 MiB of small streams), which bounds the mini FAT
 * chain libgsf expands into a table and a stack bitmap. */
#define CFB_MAX_MINI ((uint32_t)1 << 20)

typedef struct cfb {
    const uint8_t *d;
    size_t n;
    uint32_t shift, bs, epb; /* sector shift, size, FAT entries per sector */
    size_t hdr;              /* bytes before sector 0 */
    uint32_t max_block;      /* sectors present, as libgsf counts them */
    uint32_t num_bat;        /* FAT sectors */
    uint32_t *difat;         /* owned: the sector of each FAT sector (num_bat entries) */
    uint8_t *seen;           /* owned: chain bitmap over FAT entries (num_bat * epb bits) */
    uint32_t *chain;         /* owned: the directory's sectors */
    uint32_t chain_len;
} cfb;

static int say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *why, size_t len, const char *fmt, ...)
{
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The bytes of sector s, or NULL when it is not (wholly) in the file. */
static const uint8_t *sector(const cfb *c, uint32_t s)
{
    if (s >= c->max_block)
        return NULL;
    size_t off = c->hdr + (size_t)s * c->bs;
    return off <= c->n && c->n - off >= c->bs ? c->d + off : NULL;
}

/* The FAT entry of sector s, as libgsf reads it: CFB_UNUSED when out of the table. */
static uint32_t fat_next(const cfb *c, uint32_t s)
{
    uint32_t idx = s / c->epb;
    if (idx >= c->num_bat || c->difat[idx] == CFB_UNUSED)
        return CFB_UNUSED;
    const uint8_t *p = sector(c, c->difat[idx]);
    return p ? le32(p + (size_t)(s % c->epb) * 4) : CFB_UNUSED;
}

/* The FAT sectors' locations: 109 in the header, the rest in the DIFAT chain. */
static int read_difat(cfb *c, char *why, size_t wl)
{
    const uint8_t *h = c->d;
    uint32_t got = 0, next = le32(h + 0x44), left = le32(h + 0x48);
    c->difat = malloc((size_t)(c->num_bat ? c->num_bat : 1) * sizeof(uint32_t));
    if (!c->difat)
        return say(why, wl, "out of memory");
    for (; got < c->num_bat && got < CFB_DIFAT_HDR; got++)
        c->difat[got] = le32(h + 0x4C + (size_t)got * 4);
    for (uint32_t hops = 0; got < c->num_bat; hops++) {
        const uint8_t *p = left && hops < c->max_block ? sector(c, next) : NULL;
        if (!p)
            return say(why, wl, "FAT index (DIFAT) cut short");
        for (uint32_t i = 0; i + 1 < c->epb && got < c->num_bat; i++)
            c->difat[got++] = le32(p + (size_t)i * 4);
        next = le32(p + (size_t)(c->epb - 1) * 4);
        left--;
    }
    return 0;
}

/* Follow a FAT chain from start as libgsf does (it stops at an entry past the table or at a
 * sector already seen). Fails when it is longer than limit sectors. keep: store the sectors. */
static int chain_walk(cfb *c, uint32_t start, uint32_t limit, int keep, uint32_t *len)
{
    size_t entries = (size_t)c->num_bat * c->epb;
    memset(c->seen, 0, entries / 8 + 1);
    uint32_t n = 0;
    for (uint32_t s = start; s < entries && !(c->seen[s / 8] & (1u << (s % 8)));
         s = fat_next(c, s)) {
        if (n >= limit)
            return -1;
        c->seen[s / 8] |= (uint8_t)(1u << (s % 8));
        if (keep)
            c->chain[n] = s;
        n++;
    }
    *len = n;
    return 0;
}

/* Directory entry e, or NULL when libgsf would not read it. */
static const uint8_t *dirent_at(const cfb *c, uint32_t e)
{
    size_t off = (size_t)e * CFB_DIRENT;
    if (e == CFB_UNUSED || off / c->bs >= c->chain_len)
        return NULL;
    const uint8_t *p = sector(c, c->chain[off / c->bs]);
    return p ? p + off % c->bs : NULL;
}

/* libgsf reads the directory by recursion (left sibling, right sibling, then a storage's child,
 * each entry once): replay it with an explicit stack to know how deep it would go. */
typedef struct tree {
    cfb *c;
    uint8_t *seen; /* owned by tree_depth_ok */
    size_t n_ent;
    struct frame {
        uint32_t e;
        uint8_t stage; /* 0: left sibling next, 1: right sibling, 2: child, 3: done */
        uint8_t root;  /* reached with no parent (the root and its siblings) */
        uint8_t dir;
    } st[AB_CFB_MAX_TREE];
    int sp;
} tree;

/* Enter entry e as libgsf would: 1 entered (a frame pushed), 0 not, -1 too deep. */
static int enter(tree *t, uint32_t e, int root)
{
    const uint8_t *p =
        e < t->n_ent && !(t->seen[e / 8] & (1u << (e % 8))) ? dirent_at(t->c, e) : NULL;
    if (!p)
        return 0;
    t->seen[e / 8] |= (uint8_t)(1u << (e % 8));
    uint8_t type = p[0x42];
    if (type != 1 && type != 2 && type != 5)
        return 0;
    if (root)
        type = 5;
    if (type == 2 && le32(p + 0x78) > t->c->n)
        return 0;
    if (t->sp >= AB_CFB_MAX_TREE)
        return -1;
    t->st[t->sp++] = (struct frame){e, 0, (uint8_t)root, (uint8_t)(type != 2)};
    return 1;
}

static int tree_depth_ok(cfb *c, char *why, size_t wl)
{
    int rc = 0;
    tree *t = calloc(1, sizeof(*t));
    if (!t)
        return say(why, wl, "out of memory");
    t->c = c;
    t->n_ent = (size_t)c->chain_len * c->bs / CFB_DIRENT;
    t->seen = calloc(t->n_ent / 8 + 1, 1);
    if (!t->seen) {
        rc = say(why, wl, "out of memory");
        goto out;
    }
    int r = enter(t, 0, 1);
    while (r >= 0 && t->sp > 0) {
        struct frame *f = &t->st[t->sp - 1];
        const uint8_t *q = dirent_at(c, f->e);
        switch (f->stage++) {
        case 0:
            r = enter(t, le32(q + 0x44), f->root);
            break;
        case 1:
            r = enter(t, le32(q + 0x48), f->root);
            break;
        case 2:
            r = f->dir ? enter(t, le32(q + 0x4C), 0) : 0;
            break;
        default:
            t->sp--;
        }
    }
    if (r < 0)
        rc = say(why, wl, "directory links nest deeper than %d", AB_CFB_MAX_TREE);
out:
    free(t->seen);
    free(t);
    return rc;
}

static int check_header(cfb *c, char *why, size_t wl)
{
    const uint8_t *h = c->d;
    if (c->n < CFB_HEADER || memcmp(h, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) != 0)
        return say(why, wl, "no compound-file header");
    c->shift = le16(h + 0x1E);
    if (c->shift != 9 && c->shift != 12)
        return say(why, wl, "sector size 2^%u (512 or 4096 expected)", c->shift);
    if (le16(h + 0x20) != 6 || le32(h + 0x38) != 4096)
        return say(why, wl, "mini sector size or mini stream cutoff not the spec's");
    c->bs = 1u << c->shift;
    c->epb = c->bs / 4;
    c->hdr = c->bs > CFB_HEADER ? c->bs : CFB_HEADER;
    c->max_block = (uint32_t)((c->n - CFB_HEADER + c->bs - 1) / c->bs);
    c->num_bat = le32(h + 0x2C);
    /* A FAT covers every sector of the file; one much bigger only costs libgsf memory and stack
     * (it sizes a table and an alloca'd bitmap by it). */
    if (c->num_bat == 0 || c->num_bat >= c->max_block ||
        (uint64_t)c->num_bat * c->epb > (uint64_t)c->max_block * 4 + c->epb)
        return say(why, wl, "FAT of %u sectors for a file of %u", c->num_bat, c->max_block);
    if (le32(h + 0x40) >= c->max_block)
        return say(why, wl, "mini FAT of %u sectors for a file of %u", le32(h + 0x40),
                   c->max_block);
    return 0;
}

int ab_cfb_preflight(const uint8_t *data, size_t size, char *why, size_t why_len)
{
    cfb c;
    memset(&c, 0, sizeof(c));
    c.d = data;
    c.n = size;
    int rc = check_header(&c, why, why_len);
    if (rc || (rc = read_difat(&c, why, why_len)))
        goto out;
    size_t entries = (size_t)c.num_bat * c.epb;
    uint32_t dir_limit = (uint32_t)((size_t)AB_CFB_MAX_DIRENTS * CFB_DIRENT / c.bs);
    c.seen = malloc(entries / 8 + 1);
    c.chain = malloc(dir_limit * sizeof(uint32_t));
    if (!c.seen || !c.chain) {
        rc = say(why, why_len, "out of memory");
        goto out;
    }
    uint32_t mini_len;
    if (chain_walk(&c, le32(data + 0x3C), CFB_MAX_MINI / c.epb, 0, &mini_len)) {
        rc = say(why, why_len, "mini FAT longer than %u sectors", CFB_MAX_MINI / c.epb);
        goto out;
    }
    if (chain_walk(&c, le32(data + 0x30), dir_limit, 1, &c.chain_len)) {
        rc = say(why, why_len, "more than %d directory entries", AB_CFB_MAX_DIRENTS);
        goto out;
    }
    if (!c.chain_len || !dirent_at(&c, 0)) {
        rc = say(why, why_len, "no directory");
        goto out;
    }
    rc = tree_depth_ok(&c, why, why_len);
out:
    free(c.difat);
    free(c.seen);
    free(c.chain);
    return rc;
}

/* ================================ MS-OVBA decompression ================================ */

#define OVBA_CHUNK 4096

/* Room for k more bytes in out, never past max. Returns the bytes that fit (< k: max reached). */
static size_t room(ab_ovba_buf *out, size_t k, size_t max, int *nomem)
{
    size_t fit = out->len < max ? max - out->len : 0;
    if (k > fit)
        k = fit;
    if (out->len + k > out->cap) {
        size_t ncap = out->cap ? out->cap : OVBA_CHUNK;
        while (ncap < out->len + k)
            ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
        if (ncap > max)
            ncap = max;
        uint8_t *nb = realloc(out->data, ncap);
        if (!nb) {
            *nomem = 1;
            return 0;
        }
        out->data = nb;
        out->cap = ncap;
    }
    return k;
}

/* One compressed chunk's token sequences, in[cur..end) producing into out from chunk_start. */
static ab_ovba_status token_chunk(const uint8_t *in, size_t *pcur, size_t end, size_t max,
                                  ab_ovba_buf *out)
{
    size_t cur = *pcur, chunk_start = out->len;
    ab_ovba_status st = AB_OVBA_OK;
    int nomem = 0;
    while (cur < end && st == AB_OVBA_OK) {
        uint8_t flags = in[cur++];
        for (int bit = 0; bit < 8 && cur < end && st == AB_OVBA_OK; bit++) {
            size_t done = out->len - chunk_start;
            if (!(flags & (1u << bit))) { /* a literal */
                if (done >= OVBA_CHUNK) {
                    st = AB_OVBA_CORRUPT; /* a chunk decompresses to at most 4096 bytes */
                } else if (room(out, 1, max, &nomem) == 1) {
                    out->data[out->len++] = in[cur++];
                } else {
                    st = nomem ? AB_OVBA_NOMEM : AB_OVBA_FULL;
                }
                continue;
            }
            if (end - cur < 2 || done == 0) { /* a cut token, or a copy with nothing before */
                st = AB_OVBA_CORRUPT;
                break;
            }
            uint16_t tok = le16(in + cur);
            cur += 2;
            unsigned bits = 4;
            while (bits < 12 && ((size_t)1 << bits) < done)
                bits++;
            size_t len = (size_t)(tok & (0xFFFFu >> bits)) + 3;
            size_t off = (size_t)(tok >> (16 - bits)) + 1;
            if (off > done || done + len > OVBA_CHUNK) {
                st = AB_OVBA_CORRUPT;
                break;
            }
            size_t fit = room(out, len, max, &nomem);
            size_t src = out->len - off;
            for (size_t i = 0; i < fit; i++) /* byte by byte: source and copy may overlap */
                out->data[out->len++] = out->data[src + i];
            if (fit < len)
                st = nomem ? AB_OVBA_NOMEM : AB_OVBA_FULL;
        }
    }
    *pcur = cur;
    return st;
}

ab_ovba_status ab_ovba_decompress(const uint8_t *in, size_t n, size_t max, ab_ovba_buf *out,
                                  size_t *consumed, ab_ovba_chunk_fn fn, void *ctx)
{
    size_t cur = 0;
    ab_ovba_status st = AB_OVBA_OK;
    if (n < 1 || in[0] != 0x01) {
        st = AB_OVBA_CORRUPT;
        goto out;
    }
    cur = 1;
    while (cur < n && st == AB_OVBA_OK) {
        if (n - cur < 2) {
            st = AB_OVBA_CORRUPT;
            break;
        }
        uint16_t hdr = le16(in + cur);
        size_t size = (size_t)(hdr & 0x0FFF) + 3;
        if (((hdr >> 12) & 7) != 3) {
            st = AB_OVBA_CORRUPT;
            break;
        }
        size_t end = n - cur < size ? n : cur + size;
        cur += 2;
        if (hdr & 0x8000) {
            st = token_chunk(in, &cur, end, max, out);
        } else { /* a raw chunk: 4096 bytes as they are (fewer at the end of the input) */
            size_t k = n - cur < OVBA_CHUNK ? n - cur : OVBA_CHUNK;
            int nomem = 0;
            size_t fit = room(out, k, max, &nomem);
            if (fit) /* out->data may still be NULL */
                memcpy(out->data + out->len, in + cur, fit);
            out->len += fit;
            cur += fit;
            if (fit < k)
                st = nomem ? AB_OVBA_NOMEM : AB_OVBA_FULL;
        }
        if (st == AB_OVBA_OK && fn && fn(ctx, out->len, cur))
            st = AB_OVBA_STOPPED;
    }
out:
    if (consumed)
        *consumed = cur;
    return st;
}

/* ================================== VBA dir records ================================== */

/* Bytes as they are up to a NUL or the buffer's end. */
static void copy_name(char *dst, const uint8_t *src, size_t n)
{
    size_t k = 0;
    while (k < n && k < AB_VBA_NAME_MAX - 1 && src[k])
        k++;
    memcpy(dst, src, k);
    dst[k] = '\0';
}

/* UTF-16LE to UTF-8, unpaired surrogates as U+FFFD, cut at a whole character. */
static void utf16_name(char *dst, const uint8_t *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i + 1 < n;) {
        uint32_t cp = le16(src + i);
        i += 2;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < n && le16(src + i) >= 0xDC00 &&
            le16(src + i) < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (le16(src + i) - 0xDC00u);
            i += 2;
        } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;
        }
        if (cp == 0)
            break;
        uint8_t b[4];
        size_t k;
        if (cp < 0x80) {
            b[0] = (uint8_t)cp, k = 1;
        } else if (cp < 0x800) {
            b[0] = (uint8_t)(0xC0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3F)), k = 2;
        } else if (cp < 0x10000) {
            b[0] = (uint8_t)(0xE0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (uint8_t)(0x80 | (cp & 0x3F)), k = 3;
        } else {
            b[0] = (uint8_t)(0xF0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (o + k > AB_VBA_NAME_MAX - 1)
            break;
        memcpy(dst + o, b, k);
        o += k;
    }
    dst[o] = '\0';
}

enum {
    R_PROJECTVERSION = 0x0009,
    R_DIR_END = 0x0010,
    R_MODULENAME = 0x0019,
    R_MODULESTREAMNAME = 0x001A,
    R_MODULEOFFSET = 0x0031,
    R_STREAMNAME_UNICODE = 0x0032,
    R_MODULENAME_UNICODE = 0x0047,
    R_MODULE_END = 0x002B,
};

typedef struct dir_walk {
    ab_vba_module m;
    int open; /* a MODULENAME started a module not yet given */
    int (*fn)(void *ctx, const ab_vba_module *m);
    void *ctx;
} dir_walk;

/* Give the open module if it is complete. Non-zero: the callback asked to stop. */
static int give(dir_walk *w)
{
    int stop = 0;
    if (w->open && w->m.has_offset && (w->m.stream[0] || w->m.stream_mbcs[0])) {
        if (!w->m.name[0])
            memcpy(w->m.name, w->m.stream, sizeof(w->m.name));
        if (!w->m.stream[0])
            memcpy(w->m.stream, w->m.stream_mbcs, sizeof(w->m.stream));
        stop = w->fn(w->ctx, &w->m);
    }
    w->open = 0;
    return stop;
}

int ab_vba_dir_modules(const uint8_t *dir, size_t n, int (*fn)(void *ctx, const ab_vba_module *m),
                       void *ctx)
{
    dir_walk w;
    memset(&w, 0, sizeof(w));
    w.fn = fn;
    w.ctx = ctx;
    size_t p = 0;
    while (n - p >= 6) { /* every record is at least 6 bytes: the loop is bounded by n */
        uint16_t id = le16(dir + p);
        uint64_t len = le32(dir + p + 2);
        p += 6;
        if (id == R_PROJECTVERSION)
            len += 2; /* Size says 4, then VersionMajor (4) and VersionMinor (2) follow */
        if (len > n - p)
            break;
        const uint8_t *d = dir + p;
        switch (id) {
        case R_MODULENAME:
            if (give(&w))
                return 0;
            memset(&w.m, 0, sizeof(w.m));
            w.open = 1;
            copy_name(w.m.name, d, (size_t)len);
            break;
        case R_MODULENAME_UNICODE:
            if (w.open && len >= 2)
                utf16_name(w.m.name, d, (size_t)len);
            break;
        case R_MODULESTREAMNAME:
            if (w.open) {
                copy_name(w.m.stream_mbcs, d, (size_t)len);
                copy_name(w.m.stream, d, (size_t)len);
            }
            break;
        case R_STREAMNAME_UNICODE:
            if (w.open && len >= 2)
                utf16_name(w.m.stream, d, (size_t)len);
            break;
        case R_MODULEOFFSET:
            if (w.open && len == 4) {
                w.m.offset = le32(d);
                w.m.has_offset = 1;
            }
            break;
        case R_MODULE_END:
            if (give(&w))
                return 0;
            break;
        case R_DIR_END:
            give(&w);
            return 0;
        default:
            break;
        }
        p += (size_t)len;
    }
    give(&w);
    return -1;
}
