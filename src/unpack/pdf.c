/* pdf.c: PDF documents through qpdf's C API (libqpdf is C++; only qpdf-c.h is used), read from
 * memory in place (qpdf_read_memory: no copy, nothing on disk). qpdf repairs what it can
 * (attempt-recovery: a broken cross-reference table is rebuilt from the objects in the file).
 *
 * Members, in this order:
 * - every JavaScript text: the /JS of a /S /JavaScript action (OpenAction, /AA, /A, /Next, the
 *   /Names /JavaScript tree, annotations), a string or a stream, as "javascript N" (N counts from
 *   1 in document order). A string starting with the UTF-16BE mark is converted to UTF-8;
 * - every stream, decoded (Flate, LZW, ASCIIHex, ASCII85, RunLength and their predictors), named
 *   "N G" (object and generation number, "12 0"), or for an embedded file (the /EF of a file
 *   specification) the specification's /UF, else /F. A stream whose filters qpdf does not decode
 *   (DCT, JPX, JBIG2, CCITTFax, Crypt, unknown) or that fails to decode is yielded raw: appended
 *   payloads and strings in broken data are still seen (the failure is an error line). Empty
 *   streams and cross-reference streams (/Type /XRef: offsets only) are not yielded.
 * URI actions (/S /URI) are observables of the PDF ("url"), each distinct value once.
 *
 * Safety:
 * - qpdf decodes a stream completely into memory (and copies it once more into the malloc'd
 *   buffer it returns); the C API cannot stop it early. So a stream is decoded only when its
 *   output is known to fit ab_unpack_max_member(): raw size x the worst expansion of its filter
 *   chain fits (Flate 1032, LZW 4096, RunLength 64, ASCII85 4), or a dry run of the chain here
 *   (zlib inflate, ASCIIHex, ASCII85, RunLength through 16 KiB windows, counting only) stays
 *   within the limits: ab_unpack_check() after every window turns a Flate bomb into a max-ratio
 *   (or max-member-size) limit before qpdf sees it. An LZW stream that could exceed the cap is
 *   yielded raw with an error line. qpdf allocates predictor rows as /DecodeParms say
 *   (/Columns x /Colors x /BitsPerComponent): rows over MAX_ROW are not decoded either.
 * - qpdf also decodes, on its own, the streams it needs to find objects: cross-reference streams
 *   and object streams. A pre-scan of the bytes finds them ("N G obj << ... /XRef|/ObjStm ...
 *   stream") and dry-runs them the same way; when one may not fit, qpdf is told to ignore
 *   cross-reference streams, so it expands no object stream (objects stored in object streams are
 *   then not examined: an error line says so; a PDF with no classic trailer then cannot be read
 *   at all, which is said too, next to the limit finding of the stream).
 * - Bounded work: object numbers 1..MAX_OBJECTS (the larger of the trailer's /Size and the
 *   highest "N G obj" in the bytes; without object streams only those with an "N G obj" in the
 *   bytes), MAX_NODES direct sub-objects visited in all, MAX_DEPTH deep,
 *   MAX_ARRAY items and MAX_KEYS keys per container, MAX_WARNINGS qpdf warnings, and a budget of
 *   stream bytes read, dry-run and decoded (8 x the member cap + 4 x the file). Left to qpdf and
 *   bounded only by the file's size: parsing objects and rebuilding a broken xref table.
 * - Errors: every qpdf-c call used here traps C++ exceptions into the qpdf_data error (checked
 *   with qpdf_has_error, said as one ab_unpack_error line, at most MAX_ERROR_LINES per PDF)
 *   except qpdf_init, qpdf_get_object_by_id, qpdf_oh_release, qpdf_more_warnings,
 *   qpdf_next_warning, the copies of keys in qpdf_oh_begin_dict_key_iter/qpdf_oh_dict_next_key and
 *   qpdf_cleanup, which only allocate: a std::bad_alloc there would unwind into these C frames,
 *   find no handler and end the worker (std::terminate, SIGABRT), which the pool reports as a
 *   crash of this file; no exception can be caught in C. qpdf prints nothing: errors silenced,
 *   warnings suppressed, the default logger discards, every error is taken before qpdf_cleanup.
 * - No static mutable state besides init(): a PDF embedded in a PDF runs this source again. */
#include "unpack/unpack.h"

#include <qpdf/qpdf-c.h>
#include <qpdf/qpdflogger-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CLAIM_WINDOW    1024
#define MAX_OBJECTS     100000
#define MAX_NODES       1000000 /* direct sub-objects visited per PDF */
#define MAX_DEPTH       12
#define MAX_ARRAY       4096 /* items looked at per array */
#define MAX_KEYS        4096 /* keys looked at per dictionary */
#define MAX_CHAIN       8    /* filters per stream */
#define MAX_NAMED       4096 /* embedded files and JavaScript streams */
#define MAX_WARNINGS    100000
#define MAX_ERROR_LINES 8
#define DICT_WINDOW     4096 /* bytes from "obj" to "stream" looked at by the pre-scan */
#define DRY_CHUNK       ((size_t)16 << 10)
#define FEED_CHUNK      ((size_t)4 << 10)
#define MAX_ROW         ((uint64_t)4 << 20) /* predictor row: qpdf allocates two of them */

/* ---- filters ---- */

enum { FK_NONE, FK_FLATE, FK_LZW, FK_AHX, FK_A85, FK_RL, FK_OTHER };

static int filter_kind(const char *n, size_t len)
{
    static const struct {
        const char *name;
        int kind;
    } names[] = {
        {"/FlateDecode", FK_FLATE},  {"/Fl", FK_FLATE},
        {"/LZWDecode", FK_LZW},      {"/LZW", FK_LZW},
        {"/ASCIIHexDecode", FK_AHX}, {"/AHx", FK_AHX},
        {"/ASCII85Decode", FK_A85},  {"/A85", FK_A85},
        {"/RunLengthDecode", FK_RL}, {"/RL", FK_RL},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i].name) == len && !memcmp(names[i].name, n, len))
            return names[i].kind;
    return FK_OTHER;
}

/* The most one input byte can become: deflate's limit is 1032:1; an LZW code (>= 9 bits) yields
 * at most a table entry (< 4096 bytes); RunLength 2 bytes -> 128; ASCII85 'z' -> 4 bytes. */
static uint64_t filter_factor(int kind)
{
    switch (kind) {
    case FK_FLATE:
        return 1032;
    case FK_LZW:
        return 4096;
    case FK_RL:
        return 64;
    case FK_A85:
        return 4;
    case FK_AHX:
        return 1;
    default:
        return UINT64_MAX;
    }
}

/* raw x the chain's worst expansion, saturating. */
static uint64_t worst_size(uint64_t raw, const int *kinds, size_t n)
{
    uint64_t b = raw ? raw : 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t f = filter_factor(kinds[i]);
        if (f == UINT64_MAX || b > UINT64_MAX / f)
            return UINT64_MAX;
        b *= f;
    }
    return b;
}

static int dry_runnable(const int *kinds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (kinds[i] != FK_FLATE && kinds[i] != FK_AHX && kinds[i] != FK_A85 && kinds[i] != FK_RL)
            return 0;
    return 1;
}

/* ---- the dry run: decode through fixed windows, count what comes out ---- */

typedef enum dry_end { DRY_FITS, DRY_OVER, DRY_STOP } dry_end;

typedef struct stage {
    int kind, done;
    uint64_t used; /* input bytes consumed */
    z_stream z;
    int z_ready;
    uint32_t acc; /* ASCII85 group / ASCIIHex high nibble */
    int nacc;
    int rl_left, rl_rep; /* RunLength: literal bytes left / a repeat is pending */
    uint8_t out[DRY_CHUNK];
    size_t olen;
} stage;

typedef struct dry {
    ab_unpack *u;
    const char *name;
    stage st[MAX_CHAIN];
    size_t n;
    uint64_t produced;
    dry_end end;
} dry;

static void stage_push(dry *d, size_t i, const uint8_t *p, size_t len);

/* Stage i produced bytes: into the next stage, or counted and checked after the last. */
static void emit(dry *d, size_t i, const uint8_t *p, size_t len)
{
    if (!len || d->end != DRY_FITS)
        return;
    if (i + 1 < d->n) {
        stage_push(d, i + 1, p, len);
        return;
    }
    d->produced += len;
    uint64_t packed = d->st[0].used ? d->st[0].used : 1;
    ab_room room = ab_unpack_check(d->u, d->name, d->produced, packed);
    if (room == AB_ROOM_SKIP_MEMBER)
        d->end = DRY_OVER;
    else if (room == AB_ROOM_STOP)
        d->end = DRY_STOP;
}

static void out_byte(dry *d, size_t i, uint8_t b)
{
    stage *s = &d->st[i];
    s->out[s->olen++] = b;
    if (s->olen == sizeof(s->out)) {
        emit(d, i, s->out, s->olen);
        s->olen = 0;
    }
}

static void flate_push(dry *d, size_t i, const uint8_t *p, size_t len)
{
    stage *s = &d->st[i];
    s->z.next_in = (Bytef *)p;
    s->z.avail_in = (uInt)len;
    while (s->z.avail_in && !s->done && d->end == DRY_FITS) {
        s->z.next_out = s->out;
        s->z.avail_out = (uInt)sizeof(s->out);
        uInt before = s->z.avail_in;
        int r = inflate(&s->z, Z_NO_FLUSH);
        size_t got = sizeof(s->out) - s->z.avail_out;
        s->used = s->z.total_in;
        emit(d, i, s->out, got);
        if (r == Z_STREAM_END || (r != Z_OK && r != Z_BUF_ERROR))
            s->done = 1; /* the end, or broken data: qpdf stops there too */
        else if (!got && s->z.avail_in == before)
            break; /* no progress */
    }
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int pdf_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == 0;
}

static void ahx_byte(dry *d, size_t i, uint8_t c)
{
    stage *s = &d->st[i];
    int v = hexval(c);
    if (c == '>') {
        if (s->nacc)
            out_byte(d, i, (uint8_t)(s->acc << 4));
        s->done = 1;
    } else if (v >= 0) {
        if (s->nacc) {
            out_byte(d, i, (uint8_t)(s->acc << 4 | (uint32_t)v));
            s->nacc = 0;
        } else {
            s->acc = (uint32_t)v;
            s->nacc = 1;
        }
    }
}

static void a85_flush(dry *d, size_t i, int final)
{
    stage *s = &d->st[i];
    int n = s->nacc;
    if (!n)
        return;
    uint32_t acc = s->acc;
    for (int k = n; k < 5; k++)
        acc = acc * 85 + 84; /* pad a short last group with 'u' */
    for (int k = 0; k < (final ? n - 1 : 4); k++)
        out_byte(d, i, (uint8_t)(acc >> (24 - 8 * k)));
    s->acc = 0;
    s->nacc = 0;
}

static void a85_byte(dry *d, size_t i, uint8_t c)
{
    stage *s = &d->st[i];
    if (c == '~') {
        a85_flush(d, i, 1);
        s->done = 1;
    } else if (c == 'z' && !s->nacc) {
        for (int k = 0; k < 4; k++)
            out_byte(d, i, 0);
    } else if (c >= '!' && c <= 'u') {
        s->acc = s->acc * 85 + (uint32_t)(c - '!');
        if (++s->nacc == 5)
            a85_flush(d, i, 0);
    }
}

static void rl_byte(dry *d, size_t i, uint8_t c)
{
    stage *s = &d->st[i];
    if (s->rl_left) {
        out_byte(d, i, c);
        s->rl_left--;
    } else if (s->rl_rep) {
        for (int k = 0; k < s->rl_rep && d->end == DRY_FITS; k++)
            out_byte(d, i, c);
        s->rl_rep = 0;
    } else if (c < 128) {
        s->rl_left = c + 1;
    } else if (c > 128) {
        s->rl_rep = 257 - c;
    } else {
        s->done = 1;
    }
}

static void stage_push(dry *d, size_t i, const uint8_t *p, size_t len)
{
    stage *s = &d->st[i];
    if (s->kind == FK_FLATE) {
        flate_push(d, i, p, len);
        return;
    }
    for (size_t k = 0; k < len && !s->done && d->end == DRY_FITS; k++) {
        s->used++;
        if (s->kind == FK_AHX)
            ahx_byte(d, i, p[k]);
        else if (s->kind == FK_A85)
            a85_byte(d, i, p[k]);
        else
            rl_byte(d, i, p[k]);
    }
}

/* Run data through the chain, counting the output; limits are reported by ab_unpack_check. */
static dry_end dry_run(ab_unpack *u, const char *name, const uint8_t *data, size_t size,
                       const int *kinds, size_t n, uint64_t *work)
{
    dry *d = calloc(1, sizeof(*d)); /* owned here: ~130 KiB of windows */
    if (!d)
        return DRY_OVER;
    d->u = u;
    d->name = name;
    d->n = n;
    d->end = DRY_FITS;
    for (size_t i = 0; i < n; i++) {
        d->st[i].kind = kinds[i];
        if (kinds[i] == FK_FLATE) {
            if (inflateInit(&d->st[i].z) != Z_OK) {
                d->end = DRY_OVER;
                break;
            }
            d->st[i].z_ready = 1;
        }
    }
    /* Small feeds keep the ratio's packed count close to the truth. */
    for (size_t off = 0; off < size && d->end == DRY_FITS && !d->st[0].done;) {
        size_t k = size - off < FEED_CHUNK ? size - off : FEED_CHUNK;
        stage_push(d, 0, data + off, k);
        off += k;
    }
    for (size_t i = 0; i < n && d->end == DRY_FITS; i++) { /* the tails, in order */
        if (d->st[i].kind == FK_A85 && !d->st[i].done)
            a85_flush(d, i, 1);
        if (d->st[i].kind == FK_AHX && d->st[i].nacc && !d->st[i].done)
            out_byte(d, i, (uint8_t)(d->st[i].acc << 4));
        emit(d, i, d->st[i].out, d->st[i].olen);
        d->st[i].olen = 0;
    }
    dry_end end = d->end;
    *work += d->produced + d->st[0].used;
    for (size_t i = 0; i < n; i++)
        if (d->st[i].z_ready)
            inflateEnd(&d->st[i].z);
    free(d);
    return end;
}

/* ---- one run ---- */

enum { F_SEEN = 1, F_SKIP = 2, F_NAMED = 4, F_STREAM = 8 };

typedef struct objinfo {
    uint16_t gen;
    uint8_t flags;
} objinfo;

typedef struct named {
    int id;
    char *name; /* owned */
} named;

typedef struct pdfrun {
    ab_unpack *u;
    qpdf_data q;
    const uint8_t *data;
    size_t size;
    objinfo *info; /* owned: MAX_OBJECTS + 1 entries */
    int max_seen;  /* highest "N G obj" in the bytes (<= MAX_OBJECTS) */
    int over;      /* an object number above MAX_OBJECTS was seen */
    int encrypted, ignore_xref, stop;
    int objstm; /* an object stream is in the bytes: objects without "N G obj" text may exist */
    char ignore_why[96];
    named *names; /* owned */
    size_t n_names, cap_names;
    unsigned js_count;
    uint64_t nodes, warnings, work, work_max;
    unsigned errors;
    uint32_t url_hash[AB_MAX_OBSERVABLES];
    size_t n_urls;
} pdfrun;

static int pdf_claims(const uint8_t *data, size_t size)
{
    size_t n = size < CLAIM_WINDOW ? size : CLAIM_WINDOW;
    return n >= 5 && memmem(data, n, "%PDF-", 5) != NULL;
}

static void pdf_init(void)
{
    /* Every QPDF object logs through the default logger unless told otherwise: nothing may reach
     * the worker's stdout/stderr. */
    qpdflogger_handle l = qpdflogger_default_logger();
    qpdflogger_set_info(l, qpdf_log_dest_discard, NULL, NULL);
    qpdflogger_set_warn(l, qpdf_log_dest_discard, NULL, NULL);
    qpdflogger_set_error(l, qpdf_log_dest_discard, NULL, NULL);
    qpdflogger_cleanup(&l);
}

static int over_budget(pdfrun *r)
{
    if (r->work <= r->work_max)
        return 0;
    if (!r->stop)
        ab_unpack_error(r->u, NULL, AB_ERR_LIMIT,
                        "pdf: stopped after %llu bytes of stream data (bound: 8 x the member "
                        "limit + 4 x the file)",
                        (unsigned long long)r->work);
    r->stop = 1;
    return 1;
}

/* qpdf's message without the file name it starts with (ours is only "pdf"), with its offset. */
static void error_text(qpdf_data q, qpdf_error e, char *out, size_t len)
{
    const char *detail = e ? qpdf_get_error_message_detail(q, e) : NULL;
    unsigned long long pos = e ? qpdf_get_error_file_position(q, e) : 0;
    if (!detail || !*detail) {
        const char *t = e ? qpdf_get_error_full_text(q, e) : NULL;
        snprintf(out, len, "%s", t && *t ? t : "unknown qpdf error");
    } else if (pos) {
        snprintf(out, len, "%s (offset %llu)", detail, pos);
    } else {
        snprintf(out, len, "%s", detail);
    }
}

/* Take qpdf's pending error, if any; say it (name: the member, NULL: the PDF) while lines are
 * left. Returns 1 when there was one. */
static int take_error(pdfrun *r, const char *name, const char *what)
{
    if (!qpdf_has_error(r->q))
        return 0;
    qpdf_error e = qpdf_get_error(r->q);
    if (++r->errors <= MAX_ERROR_LINES) {
        char why[400];
        error_text(r->q, e, why, sizeof(why));
        ab_unpack_error(r->u, name, AB_ERR_PARSE, "pdf: %s: %s", what, why);
    }
    return 1;
}

/* Warnings are suppressed but still kept by qpdf: drop them as they come, and count them. */
static void drain_warnings(pdfrun *r)
{
    while (qpdf_more_warnings(r->q)) {
        qpdf_next_warning(r->q);
        if (++r->warnings == MAX_WARNINGS) {
            ab_unpack_error(r->u, NULL, AB_ERR_LIMIT,
                            "pdf: more than %d qpdf warnings: damaged beyond use, stopped",
                            MAX_WARNINGS);
            r->stop = 1;
        }
    }
}

static int yield(pdfrun *r, const char *name, const uint8_t *p, size_t len, uint64_t packed)
{
    if (!len)
        return 0;
    ab_member m = {.name = name, .data = p, .size = len, .packed = packed ? packed : len};
    if (ab_unpack_member(r->u, &m))
        r->stop = 1;
    return r->stop;
}

/* ---- the pre-scan: object numbers and the streams qpdf would expand by itself ---- */

static int is_delim(uint8_t c)
{
    return pdf_space(c) || c == '<' || c == '>' || c == '[' || c == ']' || c == '(' || c == ')' ||
           c == '/' || c == '%' || c == '{' || c == '}';
}

/* "N G obj" ending at o (the 'o' of obj): its numbers, or 0. */
static int obj_header(const uint8_t *d, size_t o, long *id, long *gen)
{
    size_t i = o;
    int sp = 0;
    while (i > 0 && pdf_space(d[i - 1]) && sp < 16)
        i--, sp++;
    if (!sp)
        return 0;
    size_t e = i;
    while (i > 0 && d[i - 1] >= '0' && d[i - 1] <= '9' && e - i < 6)
        i--;
    if (i == e || (i > 0 && d[i - 1] >= '0' && d[i - 1] <= '9'))
        return 0;
    long g = strtol((const char *)d + i, NULL, 10);
    sp = 0;
    while (i > 0 && pdf_space(d[i - 1]) && sp < 16)
        i--, sp++;
    if (!sp)
        return 0;
    e = i;
    while (i > 0 && d[i - 1] >= '0' && d[i - 1] <= '9' && e - i < 10)
        i--;
    if (i == e || (i > 0 && !is_delim(d[i - 1])))
        return 0;
    char num[16];
    memcpy(num, d + i, e - i);
    num[e - i] = '\0';
    *id = strtol(num, NULL, 10);
    *gen = g;
    return 1;
}

/* The filter names of a dictionary's text ("/Filter /FlateDecode", "/Filter [/A85 /Fl]").
 * Returns 0 when they cannot be read from the text (an indirect reference, too many). */
static int text_filters(const uint8_t *dict, size_t len, int *kinds, size_t *n)
{
    *n = 0;
    const uint8_t *f = memmem(dict, len, "/Filter", 7);
    if (!f)
        return 1;
    size_t i = (size_t)(f - dict) + 7, end = len;
    while (i < end && pdf_space(dict[i]))
        i++;
    int array = i < end && dict[i] == '[';
    if (array)
        i++;
    for (;;) {
        while (i < end && pdf_space(dict[i]))
            i++;
        if (i >= end)
            return 0;
        if (array && dict[i] == ']')
            return 1;
        if (dict[i] != '/' || *n == MAX_CHAIN)
            return 0;
        size_t s = i++;
        while (i < end && !is_delim(dict[i]))
            i++;
        kinds[(*n)++] = filter_kind((const char *)dict + s, i - s);
        if (!array)
            return 1;
    }
}

/* The number after key in a dictionary's text, or dflt. */
static long long text_int(const uint8_t *dict, size_t len, const char *key, long long dflt)
{
    size_t k = strlen(key);
    const uint8_t *f = memmem(dict, len, key, k);
    if (!f)
        return dflt;
    size_t i = (size_t)(f - dict) + k;
    while (i < len && pdf_space(dict[i]))
        i++;
    long long v = 0;
    int digits = 0;
    while (i < len && dict[i] >= '0' && dict[i] <= '9' && digits < 18)
        v = v * 10 + (dict[i++] - '0'), digits++;
    return digits ? v : dflt;
}

/* qpdf allocates two rows for a predictor (/Columns x /Colors x /BitsPerComponent), as the
 * dictionary says: refuse rows no real image has. */
static int row_ok(long long predictor, long long columns, long long colors, long long bpc)
{
    if (predictor <= 1)
        return 1;
    if (columns < 0 || colors < 0 || bpc < 0 || columns > (long long)MAX_ROW * 8 || colors > 256 ||
        bpc > 64)
        return 0;
    return (uint64_t)((columns * colors * bpc + 7) / 8) <= MAX_ROW;
}

/* An xref or object stream at obj "id gen" whose dictionary text is dict: 0 when qpdf may expand
 * it itself (its output fits), else 1. */
static int internal_stream_risky(pdfrun *r, long id, long gen, const uint8_t *dict, size_t dlen,
                                 size_t start)
{
    int kinds[MAX_CHAIN];
    size_t n;
    char name[48];
    snprintf(name, sizeof(name), "%ld %ld", id, gen);
    if (!text_filters(dict, dlen, kinds, &n)) {
        snprintf(r->ignore_why, sizeof(r->ignore_why), "the filters of %s", name);
        return 1;
    }
    if (!n)
        return 0;
    if (!row_ok(text_int(dict, dlen, "/Predictor", 1), text_int(dict, dlen, "/Columns", 1),
                text_int(dict, dlen, "/Colors", 1), text_int(dict, dlen, "/BitsPerComponent", 8))) {
        snprintf(r->ignore_why, sizeof(r->ignore_why), "the predictor rows of %s", name);
        return 1;
    }
    uint64_t max = ab_unpack_max_member(r->u);
    if (dry_runnable(kinds, n) && !r->encrypted) {
        dry_end e = dry_run(r->u, name, r->data + start, r->size - start, kinds, n, &r->work);
        if (e == DRY_STOP)
            r->stop = 1;
        if (e != DRY_FITS && id > 0 && id <= MAX_OBJECTS)
            r->info[id].flags |= F_SKIP; /* said by the limit: not again in the walk */
        if (e != DRY_FITS)
            snprintf(r->ignore_why, sizeof(r->ignore_why), "%s expands past the limits", name);
        return e != DRY_FITS;
    }
    /* Encrypted (decrypted only inside qpdf) or LZW: the worst case of its raw length. */
    const uint8_t *es = memmem(r->data + start, r->size - start, "endstream", 9);
    uint64_t raw = es ? (uint64_t)(es - (r->data + start)) : r->size - start;
    r->work += raw;
    if (worst_size(raw, kinds, n) <= max)
        return 0;
    snprintf(r->ignore_why, sizeof(r->ignore_why), "%s could expand past the member limit", name);
    return 1;
}

static void prescan(pdfrun *r)
{
    const uint8_t *d = r->data;
    size_t size = r->size;
    r->encrypted = memmem(d, size, "/Encrypt", 8) != NULL;
    r->work += size;
    for (size_t off = 0; off + 3 <= size && !r->stop;) {
        const uint8_t *hit = memmem(d + off, size - off, "obj", 3);
        if (!hit)
            break;
        size_t o = (size_t)(hit - d);
        off = o + 3;
        long id, gen;
        if ((o + 3 < size && !is_delim(d[o + 3])) || !obj_header(d, o, &id, &gen))
            continue;
        if (id <= 0 || gen < 0 || gen > 65535)
            continue;
        if (id > MAX_OBJECTS) {
            r->over = 1;
            continue;
        }
        r->info[id].gen = (uint16_t)gen;
        r->info[id].flags |= F_SEEN;
        if (id > r->max_seen)
            r->max_seen = (int)id;
        /* Its dictionary, up to "stream" (and not past "endobj"). */
        size_t win = size - off < DICT_WINDOW ? size - off : DICT_WINDOW;
        const uint8_t *st = memmem(d + off, win, "stream", 6);
        const uint8_t *eo = memmem(d + off, win, "endobj", 6);
        if (!st || (eo && eo < st))
            continue;
        size_t dlen = (size_t)(st - (d + off));
        int objstm = memmem(d + off, dlen, "/ObjStm", 7) != NULL;
        r->objstm |= objstm;
        if (!objstm && !memmem(d + off, dlen, "/XRef", 5))
            continue;
        size_t start = (size_t)(st - d) + 6;
        if (start < size && d[start] == '\r')
            start++;
        if (start < size && d[start] == '\n')
            start++;
        if (!r->ignore_xref && internal_stream_risky(r, id, gen, d + off, dlen, start))
            r->ignore_xref = 1;
        if (over_budget(r))
            break;
    }
}

/* ---- the walk ---- */

static const char *name_of(pdfrun *r, int id)
{
    for (size_t i = 0; i < r->n_names; i++)
        if (r->names[i].id == id)
            return r->names[i].name;
    return NULL;
}

/* Stream id gets a member name of its own ("javascript 3", an embedded file's name). */
static void set_name(pdfrun *r, int id, const char *name, size_t len)
{
    if (id <= 0 || id > MAX_OBJECTS || (r->info[id].flags & F_NAMED) || r->n_names >= MAX_NAMED)
        return;
    if (r->n_names == r->cap_names) {
        size_t nc = r->cap_names ? r->cap_names * 2 : 16;
        named *nn = realloc(r->names, nc * sizeof(*nn));
        if (!nn)
            return;
        r->names = nn;
        r->cap_names = nc;
    }
    char *s = malloc(len + 1);
    if (!s)
        return;
    memcpy(s, name, len);
    for (size_t i = 0; i < len; i++)
        if (!s[i])
            s[i] = ' '; /* names are C strings */
    s[len] = '\0';
    r->names[r->n_names].id = id;
    r->names[r->n_names].name = s;
    r->n_names++;
    r->info[id].flags |= F_NAMED;
}

static int is_name(pdfrun *r, qpdf_oh dict, const char *key, const char *value)
{
    qpdf_oh v = qpdf_oh_get_key(r->q, dict, key);
    int yes = qpdf_oh_is_name_and_equals(r->q, v, value);
    qpdf_oh_release(r->q, v);
    return yes;
}

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static void uri_action(pdfrun *r, qpdf_oh dict)
{
    qpdf_oh v = qpdf_oh_get_key(r->q, dict, "/URI");
    if (qpdf_oh_is_string(r->q, v) && r->n_urls < AB_MAX_OBSERVABLES) {
        size_t len = 0;
        const char *s = qpdf_oh_get_binary_string_value(r->q, v, &len);
        uint32_t h = s ? fnv1a(s, len) : 0;
        int seen = 0;
        for (size_t i = 0; i < r->n_urls && !seen; i++)
            seen = r->url_hash[i] == h;
        if (s && len && !seen) {
            r->url_hash[r->n_urls++] = h;
            ab_unpack_observe(r->u, "url", "pdf.uri", s, len);
        }
    }
    qpdf_oh_release(r->q, v);
}

static void js_action(pdfrun *r, qpdf_oh dict)
{
    char name[32];
    qpdf_oh v = qpdf_oh_get_key(r->q, dict, "/JS");
    if (qpdf_oh_is_string(r->q, v)) {
        size_t len = 0;
        const char *s = qpdf_oh_get_binary_string_value(r->q, v, &len);
        if (s && len >= 2 && (uint8_t)s[0] == 0xfe && (uint8_t)s[1] == 0xff)
            s = qpdf_oh_get_binary_utf8_value(r->q, v, &len); /* UTF-16BE text */
        snprintf(name, sizeof(name), "javascript %u", ++r->js_count);
        /* s is qpdf's buffer: valid until the next call on r->q, and the member's scan makes
         * none (a nested PDF has its own qpdf_data). */
        if (s && len)
            yield(r, name, (const uint8_t *)s, len, len);
    } else if (qpdf_oh_is_stream(r->q, v)) {
        int id = qpdf_oh_get_object_id(r->q, v);
        if (id > 0 && id <= MAX_OBJECTS && !(r->info[id].flags & F_NAMED)) {
            snprintf(name, sizeof(name), "javascript %u", ++r->js_count);
            set_name(r, id, name, strlen(name));
        }
    }
    qpdf_oh_release(r->q, v);
}

/* A file specification's /EF streams are named after its /UF (else /F). */
static void filespec(pdfrun *r, qpdf_oh dict)
{
    const char *keys[2] = {"/UF", "/F"};
    char fname[1024];
    size_t flen = 0;
    for (int k = 0; k < 2 && !flen; k++) {
        qpdf_oh v = qpdf_oh_get_key(r->q, dict, keys[k]);
        if (qpdf_oh_is_string(r->q, v)) {
            size_t len = 0;
            const char *s = k == 0 ? qpdf_oh_get_binary_utf8_value(r->q, v, &len)
                                   : qpdf_oh_get_binary_string_value(r->q, v, &len);
            flen = s ? (len < sizeof(fname) ? len : sizeof(fname) - 1) : 0;
            if (flen)
                memcpy(fname, s, flen);
        }
        qpdf_oh_release(r->q, v);
    }
    qpdf_oh ef = qpdf_oh_get_key(r->q, dict, "/EF");
    if (qpdf_oh_is_dictionary(r->q, ef)) {
        static const char *const efkeys[] = {"/UF", "/F", "/DOS", "/Mac", "/Unix"};
        for (size_t k = 0; k < sizeof(efkeys) / sizeof(efkeys[0]); k++) {
            qpdf_oh s = qpdf_oh_get_key(r->q, ef, efkeys[k]);
            if (qpdf_oh_is_stream(r->q, s)) {
                int id = qpdf_oh_get_object_id(r->q, s);
                if (flen)
                    set_name(r, id, fname, flen);
            }
            qpdf_oh_release(r->q, s);
        }
    }
    qpdf_oh_release(r->q, ef);
}

/* Keys whose direct values may hold actions or file specifications. */
static const char *const descend[] = {
    "/OpenAction", "/AA", "/A",    "/Next",     "/Names",  "/JavaScript", "/EmbeddedFiles",
    "/Annots",     "/FS", "/Kids", "/AcroForm", "/Fields", "/O",          "/C",
    "/K",          "/V",  "/Fo",   "/Bl",       "/PO",     "/PC",         "/PV",
    "/PI",         "/WC", "/WS",   "/DS",       "/WP",     "/DP",         "/E",
    "/X",          "/D",  "/U",    "/Fu",       "/FT",
};
#define N_DESCEND (sizeof(descend) / sizeof(descend[0]))

static void visit(pdfrun *r, qpdf_oh oh, int depth);

static void visit_value(pdfrun *r, qpdf_oh v, int depth)
{
    /* Indirect objects are visited once each, by the walk over object numbers. */
    if (!qpdf_oh_is_indirect(r->q, v))
        visit(r, v, depth);
}

static void visit_dict(pdfrun *r, qpdf_oh d, int depth)
{
    /* qpdf allows one key iteration at a time: collect first, then descend. */
    const char *todo[N_DESCEND];
    size_t ntodo = 0, nkeys = 0;
    int has_s = 0, has_ef = 0;
    qpdf_oh_begin_dict_key_iter(r->q, d);
    while (qpdf_oh_dict_more_keys(r->q) && nkeys++ < MAX_KEYS) {
        const char *k = qpdf_oh_dict_next_key(r->q);
        if (!k)
            break;
        if (!strcmp(k, "/S"))
            has_s = 1;
        else if (!strcmp(k, "/EF"))
            has_ef = 1;
        for (size_t i = 0; i < N_DESCEND; i++)
            if (!strcmp(k, descend[i]) && ntodo < N_DESCEND)
                todo[ntodo++] = descend[i];
    }
    if (has_s && is_name(r, d, "/S", "/JavaScript"))
        js_action(r, d);
    else if (has_s && is_name(r, d, "/S", "/URI"))
        uri_action(r, d);
    if (has_ef)
        filespec(r, d);
    for (size_t i = 0; i < ntodo && !r->stop; i++) {
        qpdf_oh v = qpdf_oh_get_key(r->q, d, todo[i]);
        visit_value(r, v, depth + 1);
        qpdf_oh_release(r->q, v);
    }
}

static void visit(pdfrun *r, qpdf_oh oh, int depth)
{
    if (depth > MAX_DEPTH || r->stop || ++r->nodes > MAX_NODES)
        return;
    switch (qpdf_oh_get_type_code(r->q, oh)) {
    case ot_dictionary:
        visit_dict(r, oh, depth);
        break;
    case ot_stream: {
        qpdf_oh d = qpdf_oh_get_dict(r->q, oh);
        visit_dict(r, d, depth);
        qpdf_oh_release(r->q, d);
        break;
    }
    case ot_array: {
        int n = qpdf_oh_get_array_n_items(r->q, oh);
        for (int i = 0; i < n && i < MAX_ARRAY && !r->stop; i++) {
            qpdf_oh v = qpdf_oh_get_array_item(r->q, oh, i);
            visit_value(r, v, depth + 1);
            qpdf_oh_release(r->q, v);
        }
        break;
    }
    default:
        break;
    }
}

/* The stream's filter chain from its dictionary. Returns the count, or -1 when unreadable. */
static int stream_filters(pdfrun *r, qpdf_oh dict, int *kinds)
{
    int n = 0;
    qpdf_oh f = qpdf_oh_get_key(r->q, dict, "/Filter");
    if (qpdf_oh_is_name(r->q, f)) {
        const char *s = qpdf_oh_get_name(r->q, f);
        kinds[n++] = filter_kind(s, strlen(s));
    } else if (qpdf_oh_is_array(r->q, f)) {
        int items = qpdf_oh_get_array_n_items(r->q, f);
        for (int i = 0; i < items && n >= 0; i++) {
            qpdf_oh v = qpdf_oh_get_array_item(r->q, f, i);
            if (n == MAX_CHAIN || !qpdf_oh_is_name(r->q, v)) {
                n = -1;
            } else {
                const char *s = qpdf_oh_get_name(r->q, v);
                kinds[n++] = filter_kind(s, strlen(s));
            }
            qpdf_oh_release(r->q, v);
        }
    }
    qpdf_oh_release(r->q, f);
    return n;
}

static long long int_key(pdfrun *r, qpdf_oh dict, const char *key, long long dflt)
{
    qpdf_oh v = qpdf_oh_get_key(r->q, dict, key);
    long long x = qpdf_oh_is_integer(r->q, v) ? qpdf_oh_get_int_value(r->q, v) : dflt;
    qpdf_oh_release(r->q, v);
    return x;
}

static int parms_ok(pdfrun *r, qpdf_oh p)
{
    if (!qpdf_oh_is_dictionary(r->q, p))
        return 1;
    return row_ok(int_key(r, p, "/Predictor", 1), int_key(r, p, "/Columns", 1),
                  int_key(r, p, "/Colors", 1), int_key(r, p, "/BitsPerComponent", 8));
}

/* 1 when the stream's /DecodeParms ask for no absurd predictor rows. */
static int predictors_ok(pdfrun *r, qpdf_oh dict)
{
    int ok = 1;
    qpdf_oh p = qpdf_oh_get_key(r->q, dict, "/DecodeParms");
    if (qpdf_oh_is_array(r->q, p)) {
        int n = qpdf_oh_get_array_n_items(r->q, p);
        for (int i = 0; i < n && i < MAX_CHAIN && ok; i++) {
            qpdf_oh v = qpdf_oh_get_array_item(r->q, p, i);
            ok = parms_ok(r, v);
            qpdf_oh_release(r->q, v);
        }
    } else {
        ok = parms_ok(r, p);
    }
    qpdf_oh_release(r->q, p);
    return ok;
}

/* Decode within the limits, or leave raw (said); yield. raw is borrowed. */
static void decode_and_yield(pdfrun *r, qpdf_oh oh, const char *name, const uint8_t *raw,
                             size_t rawlen, const int *kinds, int n)
{
    uint64_t max = ab_unpack_max_member(r->u);
    if (n < 0 || worst_size(rawlen, kinds, (size_t)n) > max) {
        if (n < 0 || !dry_runnable(kinds, (size_t)n)) {
            if (++r->errors <= MAX_ERROR_LINES)
                ab_unpack_error(r->u, name, AB_ERR_LIMIT,
                                "pdf: stream not decoded (its filters could expand %zu bytes "
                                "past the member limit): scanned raw",
                                rawlen);
            yield(r, name, raw, rawlen, rawlen);
            return;
        }
        dry_end e = dry_run(r->u, name, raw, rawlen, kinds, (size_t)n, &r->work);
        if (e == DRY_STOP)
            r->stop = 1;
        if (e != DRY_FITS || over_budget(r))
            return; /* the limit was said by ab_unpack_check */
    }
    QPDF_BOOL filtered = QPDF_FALSE;
    unsigned char *dec = NULL; /* owned: malloc'd by qpdf */
    size_t declen = 0;
    qpdf_oh_get_stream_data(r->q, oh, qpdf_dl_specialized, &filtered, &dec, &declen);
    int failed = take_error(r, name, "cannot decode this stream (scanned raw)");
    drain_warnings(r);
    r->work += declen;
    if (failed || !filtered) {
        yield(r, name, raw, rawlen, rawlen);
    } else {
        ab_room room = ab_unpack_check(r->u, name, declen, rawlen);
        if (room == AB_ROOM_STOP)
            r->stop = 1;
        else if (room == AB_ROOM_OK)
            yield(r, name, dec, declen, rawlen);
    }
    free(dec);
}

static void do_stream(pdfrun *r, int id, int gen, qpdf_oh oh)
{
    char nbuf[32];
    snprintf(nbuf, sizeof(nbuf), "%d %d", id, gen);
    const char *name = (r->info[id].flags & F_NAMED) ? name_of(r, id) : NULL;
    if (!name)
        name = nbuf;
    qpdf_oh dict = qpdf_oh_get_dict(r->q, oh);
    int kinds[MAX_CHAIN];
    int n = stream_filters(r, dict, kinds);
    int xref = is_name(r, dict, "/Type", "/XRef");
    int rows = n == 0 || predictors_ok(r, dict);
    qpdf_oh_release(r->q, dict);
    if (xref || take_error(r, name, "cannot read this stream's dictionary"))
        return;
    unsigned char *raw = NULL; /* owned: malloc'd by qpdf; at most the file's size */
    size_t rawlen = 0;
    qpdf_oh_get_stream_data(r->q, oh, qpdf_dl_none, NULL, &raw, &rawlen);
    if (take_error(r, name, "cannot read this stream")) {
        free(raw);
        return;
    }
    r->work += rawlen;
    if (!over_budget(r) && rawlen) {
        QPDF_BOOL can = QPDF_FALSE; /* qpdf decodes all of the chain or none of it */
        if (n != 0)
            qpdf_oh_get_stream_data(r->q, oh, qpdf_dl_specialized, &can, NULL, NULL);
        take_error(r, name, "cannot check this stream's filters");
        if (can && !rows && ++r->errors <= MAX_ERROR_LINES)
            ab_unpack_error(r->u, name, AB_ERR_LIMIT,
                            "pdf: stream not decoded (predictor rows over %llu bytes): "
                            "scanned raw",
                            (unsigned long long)MAX_ROW);
        if (can && rows)
            decode_and_yield(r, oh, name, raw, rawlen, kinds, n);
        else
            yield(r, name, raw, rawlen, rawlen);
    }
    free(raw);
}

/* The objects 1..max: pass 0 visits dictionaries (actions, file specifications) and notes the
 * streams, pass 1 reads those streams. */
static void walk(pdfrun *r, int max, int pass)
{
    char nbuf[32];
    for (int id = 1; id <= max && !r->stop && !ab_unpack_stopped(r->u); id++) {
        uint8_t fl = r->info[id].flags;
        if (pass == 1 && (!(fl & F_STREAM) || (fl & F_SKIP)))
            continue;
        /* Without object streams every object qpdf can find has its "N G obj" in the bytes. */
        if (pass == 0 && !r->objstm && !(fl & F_SEEN))
            continue;
        int gen = r->info[id].gen;
        qpdf_oh oh = qpdf_get_object_by_id(r->q, id, gen);
        enum qpdf_object_type_e t = qpdf_oh_get_type_code(r->q, oh);
        if (qpdf_has_error(r->q)) {
            snprintf(nbuf, sizeof(nbuf), "%d %d", id, gen);
            take_error(r, nbuf, "cannot read this object");
        } else if (pass == 0 && (t == ot_dictionary || t == ot_stream || t == ot_array)) {
            if (t == ot_stream)
                r->info[id].flags |= F_STREAM;
            visit(r, oh, 0);
        } else if (pass == 1 && t == ot_stream) {
            do_stream(r, id, gen, oh);
        }
        qpdf_oh_release(r->q, oh);
        drain_warnings(r);
        if (qpdf_has_error(r->q)) {
            snprintf(nbuf, sizeof(nbuf), "%d %d", id, gen);
            take_error(r, nbuf, "in this object");
        }
        over_budget(r);
    }
}

/* The highest object number to try: the trailer's /Size - 1 or the pre-scan's, bounded. */
static int object_count(pdfrun *r)
{
    long long size = 0;
    qpdf_oh t = qpdf_get_trailer(r->q);
    qpdf_oh s = qpdf_oh_get_key(r->q, t, "/Size");
    if (qpdf_oh_is_integer(r->q, s))
        size = qpdf_oh_get_int_value(r->q, s);
    qpdf_oh_release(r->q, s);
    qpdf_oh_release(r->q, t);
    take_error(r, NULL, "cannot read the trailer");
    long long max = size - 1 > r->max_seen ? size - 1 : r->max_seen;
    if (max > MAX_OBJECTS || r->over) {
        ab_unpack_error(r->u, NULL, AB_ERR_LIMIT,
                        "pdf: more than %d objects: only objects 1..%d examined", MAX_OBJECTS,
                        MAX_OBJECTS);
        max = MAX_OBJECTS;
    }
    return (int)(max > 0 ? max : 0);
}

static qpdf_data open_pdf(pdfrun *r, const char *password)
{
    qpdf_data q = qpdf_init();
    if (!q)
        return NULL;
    qpdf_silence_errors(q);
    qpdf_set_suppress_warnings(q, QPDF_TRUE);
    qpdf_set_attempt_recovery(q, QPDF_TRUE);
    if (r->ignore_xref)
        qpdf_set_ignore_xref_streams(q, QPDF_TRUE);
    qpdf_read_memory(q, "pdf", (const char *)r->data, r->size, password);
    return q;
}

static void close_pdf(qpdf_data *q)
{
    if (!*q)
        return;
    while (qpdf_more_warnings(*q))
        qpdf_next_warning(*q);
    qpdf_get_error(*q); /* an error left at cleanup would be printed to stderr */
    qpdf_cleanup(q);
}

/* Open with the empty password, then each of --password(s). Returns 1 when open. */
static int open_any(pdfrun *r)
{
    const char *const *pw;
    size_t npw = ab_unpack_passwords(r->u, &pw);
    for (size_t i = 0; i <= npw; i++) {
        r->q = open_pdf(r, i ? pw[i - 1] : "");
        if (!r->q) {
            ab_unpack_error(r->u, NULL, AB_ERR_NOMEM, "pdf: out of memory");
            return 0;
        }
        if (!qpdf_has_error(r->q))
            return 1;
        qpdf_error e = qpdf_get_error(r->q);
        int password = e && qpdf_get_error_code(r->q, e) == qpdf_e_password;
        if (!password || i == npw) {
            if (password) { /* as an encrypted archive member: skipped, counted, listed */
                ab_unpack_skip(r->u, NULL, AB_SKIP_ENCRYPTED, r->size);
            } else {
                char why[400];
                error_text(r->q, e, why, sizeof(why));
                ab_unpack_error(r->u, NULL, AB_ERR_PARSE, "pdf: cannot read: %s", why);
            }
            close_pdf(&r->q);
            return 0;
        }
        close_pdf(&r->q);
    }
    return 0;
}

static ab_status pdf_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    pdfrun r;
    memset(&r, 0, sizeof(r));
    r.u = u;
    r.data = data;
    r.size = size;
    uint64_t max = ab_unpack_max_member(u);
    r.work_max = (max > UINT64_MAX / 16 ? UINT64_MAX / 2 : 8 * max) + 4 * (uint64_t)size;
    ab_status st = AB_OK;
    r.info = calloc(MAX_OBJECTS + 1, sizeof(*r.info)); /* owned here */
    if (!r.info) {
        ab_unpack_error(u, NULL, AB_ERR_NOMEM, "pdf: out of memory");
        return AB_ERR_NOMEM;
    }
    prescan(&r);
    if (r.stop)
        goto out;
    if (r.ignore_xref)
        ab_unpack_error(u, NULL, AB_ERR_LIMIT,
                        "pdf: %s: cross-reference streams ignored, objects inside object "
                        "streams not examined",
                        r.ignore_why);
    if (!open_any(&r)) {
        st = AB_ERR_PARSE;
        goto out;
    }
    drain_warnings(&r);
    int n = object_count(&r);
    walk(&r, n, 0);
    walk(&r, n, 1);
    if (r.errors > MAX_ERROR_LINES)
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "pdf: %u more qpdf errors not shown",
                        r.errors - MAX_ERROR_LINES);
out:
    close_pdf(&r.q);
    for (size_t i = 0; i < r.n_names; i++)
        free(r.names[i].name);
    free(r.names);
    free(r.info);
    return st;
}

const ab_source ab_source_pdf = {
    .name = "pdf",
    .parent = "PDF",
    .claims = pdf_claims,
    .run = pdf_run,
    .init = pdf_init,
};
