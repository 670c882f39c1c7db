/* tnef.c: TNEF streams (winmail.dat, application/ms-tnef; [MS-OXTNEF]) by our own reader. Each
 * attachment is a member, named by PR_ATTACH_LONG_FILENAME, else attAttachTitle, else
 * "attachment-N", with its bytes (attAttachData, else PR_ATTACH_DATA_OBJ; an object's data
 * without its 16-byte interface id). An embedded message (PR_ATTACH_DATA_OBJ of type PtypObject,
 * ATTACH_EMBEDDED_MSG) is a TNEF stream itself: it is yielded as a member and the engine
 * recurses into it through claims(). The message body is yielded too: attBody as "body.txt"
 * (else PR_BODY), PR_BODY_HTML as "body.html", PR_RTF_COMPRESSED decompressed ([MS-OXRTFCP]) as
 * "body.rtf". Sender and recipient addresses (attFrom, PR_SENDER_EMAIL_ADDRESS and its kin, the
 * recipient table's PR_EMAIL_ADDRESS/PR_SMTP_ADDRESS) are observables ("email", "mail.header").
 *
 * Why not libytnef (the obvious library): libytnef 2.0 printf()s to stdout on every malformed
 * input whatever TNEFStruct.Debug says (the scanner runs in-process in the unit tests and in
 * ab_scan_buffer callers), and it gives up the whole stream when an attachment title exceeds 100
 * bytes, the body 100000 bytes, a MAPI value 512 KiB or an attribute the attachmentSize MB: an
 * attacker's easy way to hide an attachment from a scanner. Its DecompressRTF() allocates by the
 * header's raw size, copies that many bytes from the input in the uncompressed ("MELA") case (a
 * read past the buffer) and reads up to two bytes past the end in the compressed one. Repeated
 * attributes leak. Pre-validating all of that would be this reader anyway; ytnef(1) remains the
 * parity oracle of the e2e test.
 *
 * Safety: every member is a slice of the input except the decompressed RTF body, whose buffer
 * grows by what is decoded, never by the header's claim, up to ab_unpack_max_member() + 1 bytes,
 * with ab_unpack_check() every CHECK_EVERY bytes. Every length is checked against the bytes that
 * remain before it is used; at most MAX_ATTRS attributes, MAX_PROPS MAPI properties per block,
 * MAX_ROWS recipient rows; multi-valued counts are bounded by the bytes left (each value takes at
 * least 4). One pass, no recursion (embedded messages recurse through the engine, under its depth
 * limit). A length that runs past the end stops the walk: what was complete before is yielded. A
 * checksum mismatch is said once and the stream read on: the checksum is a plain byte sum anyone
 * recomputes, so it protects nothing against an attacker, and a scanner that stopped there would
 * let one hide an attachment behind a wrong sum. */
#include "unpack/unpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TNEF_SIGNATURE 0x223E9F78u
#define MAX_ATTRS      10000
#define MAX_PROPS      10000
#define MAX_ROWS       10000
#define MAX_NAME       255 /* bytes of a member name kept */
#define MAX_ADDR       320 /* bytes of an address observed */
#define CHECK_EVERY    ((size_t)64 << 10)

/* Attribute ids (level, then id = type << 16 | tag) of [MS-OXTNEF] 2.1.3.3. */
#define ATT_FROM          0x00008000u
#define ATT_BODY          0x0002800Cu
#define ATT_ATTACH_DATA   0x0006800Fu
#define ATT_ATTACH_TITLE  0x00018010u
#define ATT_ATTACH_MODIFY 0x00038013u
#define ATT_ATTACH_REND   0x00069002u
#define ATT_MAPI_PROPS    0x00069003u
#define ATT_RECIP_TABLE   0x00069004u
#define ATT_ATTACHMENT    0x00069005u

/* Property types ([MS-OXCDATA] 2.11.1) and the ids we read. */
#define PT_I2      0x0002
#define PT_LONG    0x0003
#define PT_R4      0x0004
#define PT_DOUBLE  0x0005
#define PT_CURR    0x0006
#define PT_APPTIME 0x0007
#define PT_ERROR   0x000A
#define PT_BOOLEAN 0x000B
#define PT_OBJECT  0x000D
#define PT_I8      0x0014
#define PT_STRING8 0x001E
#define PT_UNICODE 0x001F
#define PT_SYSTIME 0x0040
#define PT_CLSID   0x0048
#define PT_BINARY  0x0102
#define MV_FLAG    0x1000

#define PR_SENT_REPR_EMAIL   0x0065
#define PR_SENDER_EMAIL      0x0C1F
#define PR_SENDER_SMTP       0x5D01
#define PR_SENT_REPR_SMTP    0x5D02
#define PR_BODY              0x1000
#define PR_RTF_COMPRESSED    0x1009
#define PR_BODY_HTML         0x1013
#define PR_DISPLAY_NAME      0x3001
#define PR_EMAIL_ADDRESS     0x3003
#define PR_ATTACH_DATA_OBJ   0x3701
#define PR_ATTACH_FILENAME   0x3704
#define PR_ATTACH_METHOD     0x3705
#define PR_ATTACH_LONG_FNAME 0x3707
#define PR_SMTP_ADDRESS      0x39FE

#define ATTACH_EMBEDDED_MSG 5

typedef struct slice {
    const uint8_t *p;
    size_t n;
    uint16_t type; /* the property type when it came from a MAPI property, else 0 */
} slice;

typedef struct attach {
    int open; /* an attachment is being collected */
    unsigned n;
    slice title, long_name, short_name, display, data, obj;
    uint32_t method;
    double mtime;
} attach;

typedef struct tnef {
    ab_unpack *u;
    int stop;
    unsigned attachments;
    int said_checksum;
    int had_body; /* attBody seen: PR_BODY is not yielded again */
    attach a;
} tnef;

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The signature, a legacy key and a first attribute header whose level is message or
 * attachment. */
static int tnef_claims(const uint8_t *d, size_t n)
{
    return n >= 6 + 9 && le32(d) == TNEF_SIGNATURE && (d[6] == 1 || d[6] == 2);
}

/* ---- names ---- */

/* UTF-16LE to UTF-8 into out (cap bytes, NUL-terminated), up to the first NUL; cut at a whole
 * character. Unpaired surrogates become U+FFFD. */
static size_t utf16_to_utf8(const uint8_t *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i + 1 < n;) {
        uint32_t c = le16(s + i);
        i += 2;
        if (!c)
            break;
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && le16(s + i) >= 0xDC00 &&
            le16(s + i) < 0xE000) {
            c = 0x10000 + ((c - 0xD800) << 10) + (le16(s + i) - 0xDC00);
            i += 2;
        } else if (c >= 0xD800 && c < 0xE000) {
            c = 0xFFFD;
        }
        char b[4];
        size_t k;
        if (c < 0x80) {
            b[0] = (char)c, k = 1;
        } else if (c < 0x800) {
            b[0] = (char)(0xC0 | c >> 6), b[1] = (char)(0x80 | (c & 63)), k = 2;
        } else if (c < 0x10000) {
            b[0] = (char)(0xE0 | c >> 12), b[1] = (char)(0x80 | (c >> 6 & 63));
            b[2] = (char)(0x80 | (c & 63)), k = 3;
        } else {
            b[0] = (char)(0xF0 | c >> 18), b[1] = (char)(0x80 | (c >> 12 & 63));
            b[2] = (char)(0x80 | (c >> 6 & 63)), b[3] = (char)(0x80 | (c & 63)), k = 4;
        }
        if (o + k >= cap)
            break;
        memcpy(out + o, b, k);
        o += k;
    }
    out[o] = '\0';
    return o;
}

/* A string property or attribute as text: PT_UNICODE converted, any other up to its first NUL.
 * Returns the length written into out (cap bytes with the NUL). */
static size_t slice_text(const slice *s, char *out, size_t cap)
{
    if (s->type == PT_UNICODE)
        return utf16_to_utf8(s->p, s->n, out, cap);
    size_t k = 0;
    while (k < s->n && s->p[k] && k + 1 < cap)
        k++;
    if (k)
        memcpy(out, s->p, k);
    out[k] = '\0';
    return k;
}

/* ---- members ---- */

static void emit(tnef *t, const char *name, const uint8_t *data, size_t size, double mtime)
{
    if (t->stop)
        return;
    ab_member m = {
        .name = name, .data = size ? data : NULL, .size = size, .packed = size, .mtime = mtime};
    if (ab_unpack_member(t->u, &m) || ab_unpack_stopped(t->u))
        t->stop = 1;
}

/* The attachment collected so far, if any. */
static void attach_flush(tnef *t)
{
    attach *a = &t->a;
    if (!a->open)
        return;
    a->open = 0;
    char name[MAX_NAME + 1] = "";
    const slice *names[] = {&a->long_name, &a->title, &a->short_name, &a->display};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !name[0]; i++)
        if (names[i]->p)
            slice_text(names[i], name, sizeof(name));
    if (!name[0])
        snprintf(name, sizeof(name), "attachment-%u", a->n);
    /* An object's value starts with the interface id (IID_IMessage for an embedded message); so
     * does the binary data of an embedded message some writers put in PR_ATTACH_DATA_OBJ. */
    slice obj = a->obj;
    int embedded = 0;
    if (obj.p && (obj.type == PT_OBJECT || a->method == ATTACH_EMBEDDED_MSG) && obj.n >= 20 &&
        le32(obj.p + 16) == TNEF_SIGNATURE) {
        obj.p += 16, obj.n -= 16;
        embedded = 1;
    } else if (obj.p && obj.type == PT_OBJECT) {
        if (obj.n < 16) {
            ab_unpack_error(t->u, name, AB_ERR_PARSE, "attachment object shorter than its id");
            obj.p = NULL;
        } else {
            obj.p += 16, obj.n -= 16;
        }
    }
    /* The first of the embedded message, attAttachData, the object; the other when it differs
     * (from both forms of the object), so that neither can hide behind the other. */
    slice first = embedded || !a->data.p ? obj : a->data, second = embedded ? a->data : obj;
    if (first.p)
        emit(t, name, first.p, first.n, a->mtime);
    if (first.p && second.p && (second.n != first.n || memcmp(second.p, first.p, first.n)) &&
        (!embedded || second.n != a->obj.n || memcmp(second.p, a->obj.p, second.n))) {
        char oname[MAX_NAME + 16];
        snprintf(oname, sizeof(oname), "%s (%s)", name, embedded ? "data" : "object");
        emit(t, oname, second.p, second.n, a->mtime);
    } /* no data at all: by reference, nothing to scan */
}

static void attach_begin(tnef *t)
{
    attach_flush(t);
    memset(&t->a, 0, sizeof(t->a));
    t->a.open = 1;
    t->a.n = ++t->attachments;
}

/* The attachment attributes apply to: the open one, or a new one (a writer that omits
 * attAttachRendData still gets its data scanned). */
static attach *cur_attach(tnef *t)
{
    if (!t->a.open)
        attach_begin(t);
    return &t->a;
}

/* ---- observables ---- */

static void observe_addr(tnef *t, const slice *s)
{
    char buf[MAX_ADDR + 1];
    size_t len = slice_text(s, buf, sizeof(buf));
    const char *v = buf;
    /* "SMTP:a@b" in attFrom and PR_*_EMAIL_ADDRESS of some writers */
    if (len > 5 && strncasecmp(v, "SMTP:", 5) == 0)
        v += 5, len -= 5;
    if (len && memchr(v, '@', len))
        ab_unpack_observe(t->u, "email", "mail.header", v, len);
}

/* attFrom: a TRP structure ([MS-OXTNEF] 2.1.3.3.1): id, total size, name size, address size,
 * then the name and the address. */
static void from_attr(tnef *t, const uint8_t *d, size_t n)
{
    if (n < 8)
        return;
    size_t cch = le16(d + 4), cb = le16(d + 6);
    if (cch > n - 8 || cb > n - 8 - cch)
        return;
    slice s = {d + 8 + cch, cb, 0};
    observe_addr(t, &s);
}

/* ---- compressed RTF ([MS-OXRTFCP]) ---- */

static const char rtf_prebuf[] =
    "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern "
    "\\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0"
    "\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

typedef struct rtfout {
    tnef *t;
    uint8_t *buf; /* owned by the caller of rtf_body */
    size_t len, cap, limit, next_check;
    size_t consumed; /* input bytes read, for the ratio */
    int dropped;
} rtfout;

static int rtf_put(rtfout *o, uint8_t b)
{
    if (o->dropped)
        return 0;
    if (o->len == o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 4096;
        if (ncap > o->limit)
            ncap = o->limit;
        if (ncap <= o->len) {
            o->dropped = 1; /* unreachable: the check below stops at limit */
            return 0;
        }
        uint8_t *nb = realloc(o->buf, ncap);
        if (!nb) {
            ab_unpack_error(o->t->u, "body.rtf", AB_ERR_NOMEM, "out of memory decompressing");
            o->dropped = 1;
            return 0;
        }
        o->buf = nb, o->cap = ncap;
    }
    o->buf[o->len++] = b;
    if (o->len >= o->next_check) {
        ab_room room = ab_unpack_check(o->t->u, "body.rtf", o->len, o->consumed ? o->consumed : 1);
        if (room == AB_ROOM_STOP)
            o->t->stop = 1;
        if (room != AB_ROOM_OK || o->len >= o->limit) {
            o->dropped = 1;
            return 0;
        }
        o->next_check = o->limit - o->len > CHECK_EVERY ? o->len + CHECK_EVERY : o->limit;
    }
    return 1;
}

/* LZFu: a 4096-byte dictionary primed with rtf_prebuf; control bytes whose bits (LSB first) say
 * literal (0) or a big-endian 12-bit offset / 4-bit length-2 reference (1); a reference to the
 * write position ends the stream. Output stops at raw bytes, the header's size (never more). */
static void lzfu(rtfout *o, const uint8_t *s, size_t n, uint32_t raw)
{
    uint8_t dict[4096];
    size_t w = sizeof(rtf_prebuf) - 1;
    memset(dict, 0, sizeof(dict));
    memcpy(dict, rtf_prebuf, w);
    size_t i = 0;
    while (i < n && !o->dropped) {
        uint8_t ctl = s[i++];
        for (int bit = 0; bit < 8 && !o->dropped; bit++) {
            o->consumed = 16 + i;
            if (o->len >= raw)
                return;
            if (!(ctl >> bit & 1)) {
                if (i >= n)
                    return;
                dict[w] = s[i++];
                rtf_put(o, dict[w]);
                w = (w + 1) & 4095;
                continue;
            }
            if (n - i < 2)
                return;
            size_t ref = (size_t)s[i] << 4 | s[i + 1] >> 4, len = (s[i + 1] & 15u) + 2;
            i += 2;
            if (ref == w)
                return; /* the end */
            for (size_t k = 0; k < len && !o->dropped && o->len < raw; k++) {
                uint8_t c = dict[(ref + k) & 4095];
                dict[w] = c;
                w = (w + 1) & 4095;
                rtf_put(o, c);
            }
        }
    }
}

/* PR_RTF_COMPRESSED: COMPSIZE, RAWSIZE, COMPTYPE ("LZFu" compressed, "MELA" not), CRC, data. */
static void rtf_body(tnef *t, const uint8_t *d, size_t n)
{
    if (n < 16) {
        ab_unpack_error(t->u, "body.rtf", AB_ERR_PARSE, "compressed RTF shorter than its header");
        return;
    }
    uint32_t raw = le32(d + 4), type = le32(d + 8);
    const uint8_t *s = d + 16;
    size_t sn = n - 16;
    if (type == 0x414C454Du) { /* "MELA": the raw bytes as they are, cut to what is there */
        emit(t, "body.rtf", s, raw < sn ? raw : sn, 0);
        return;
    }
    if (type != 0x75465A4Cu) {
        ab_unpack_error(t->u, "body.rtf", AB_ERR_PARSE, "unknown compressed RTF type 0x%08x",
                        (unsigned)type);
        return;
    }
    uint64_t max = ab_unpack_max_member(t->u);
    rtfout o = {.t = t};
    o.limit = max < (uint64_t)SIZE_MAX - 1 ? (size_t)max + 1 : SIZE_MAX - 1;
    o.next_check = o.limit < CHECK_EVERY ? o.limit : CHECK_EVERY;
    lzfu(&o, s, sn, raw);
    if (!o.dropped)
        emit(t, "body.rtf", o.buf, o.len, 0);
    free(o.buf);
}

/* ---- MAPI properties ([MS-OXTNEF] 2.1.3.4) ---- */

typedef struct reader {
    const uint8_t *p;
    size_t n, i;
} reader;

static int rd32(reader *r, uint32_t *v)
{
    if (r->n - r->i < 4)
        return 0;
    *v = le32(r->p + r->i);
    r->i += 4;
    return 1;
}

static int skip_padded(reader *r, size_t len)
{
    size_t pad = (4 - (len & 3)) & 3;
    if (len > r->n - r->i || pad > r->n - r->i - len)
        return 0;
    r->i += len + pad;
    return 1;
}

static size_t fixed_size(uint16_t type)
{
    switch (type) {
    case PT_I2: /* 2 bytes padded to 4 */
    case PT_LONG:
    case PT_R4:
    case PT_ERROR:
    case PT_BOOLEAN:
        return 4;
    case PT_DOUBLE:
    case PT_CURR:
    case PT_APPTIME:
    case PT_I8:
    case PT_SYSTIME:
        return 8;
    case PT_CLSID:
        return 16;
    default:
        return 0;
    }
}

static int is_variable(uint16_t type)
{
    return type == PT_STRING8 || type == PT_UNICODE || type == PT_BINARY || type == PT_OBJECT;
}

/* Called with the first value of each property (id, type, value); named properties (id >=
 * 0x8000) are skipped: none of ours is one. */
typedef void (*prop_fn)(tnef *t, void *ctx, uint16_t id, const slice *v);

/* count properties from r; 0 and a one-line reason on a malformed one. */
static int read_props(tnef *t, reader *r, uint32_t count, prop_fn fn, void *ctx, const char **why)
{
    for (uint32_t k = 0; k < count; k++) {
        uint32_t tag, nvals = 1;
        if (!rd32(r, &tag))
            return *why = "property list ends early", 0;
        uint16_t type = (uint16_t)(tag & 0xFFFF), id = (uint16_t)(tag >> 16);
        uint16_t base = type & (uint16_t)~MV_FLAG;
        if (id >= 0x8000) { /* named: GUID, kind, then an id or a padded UTF-16 name */
            uint32_t kind, v;
            if (!skip_padded(r, 16) || !rd32(r, &kind) || !rd32(r, &v))
                return *why = "named property ends early", 0;
            if (kind == 1 && !skip_padded(r, v))
                return *why = "named property name runs past the end", 0;
        }
        size_t fs = fixed_size(base);
        if (!fs && !is_variable(base))
            return *why = "unknown property type", 0;
        if ((type & MV_FLAG) || is_variable(base))
            if (!rd32(r, &nvals))
                return *why = "property value count missing", 0;
        if (nvals > (r->n - r->i) / 4)
            return *why = "property value count past the end", 0;
        for (uint32_t j = 0; j < nvals; j++) {
            slice v = {r->p + r->i, fs, base};
            if (fs) {
                if (!skip_padded(r, fs))
                    return *why = "property value runs past the end", 0;
            } else {
                uint32_t len;
                if (!rd32(r, &len))
                    return *why = "property value runs past the end", 0;
                v.p = r->p + r->i;
                v.n = len;
                if (!skip_padded(r, len))
                    return *why = "property value runs past the end", 0;
            }
            if (j == 0 && id < 0x8000 && fn && !t->stop)
                fn(t, ctx, id, &v);
        }
    }
    return 1;
}

/* A MAPI property block: count, properties. 0 on a malformed one (said). */
static int props_block(tnef *t, const char *what, const uint8_t *d, size_t n, prop_fn fn, void *ctx)
{
    reader r = {d, n, 0};
    uint32_t count;
    const char *why = "property count missing";
    if (rd32(&r, &count)) {
        why = "too many properties";
        if (count <= MAX_PROPS && read_props(t, &r, count, fn, ctx, &why))
            return 1;
    }
    ab_unpack_error(t->u, NULL, AB_ERR_PARSE, "%s: %s", what, why);
    return 0;
}

static int is_string(const slice *v)
{
    return v->type == PT_STRING8 || v->type == PT_UNICODE;
}

static void message_prop(tnef *t, void *ctx, uint16_t id, const slice *v)
{
    (void)ctx;
    switch (id) {
    case PR_SENT_REPR_EMAIL:
    case PR_SENDER_EMAIL:
    case PR_SENDER_SMTP:
    case PR_SENT_REPR_SMTP:
        if (is_string(v))
            observe_addr(t, v);
        break;
    case PR_BODY:
        if (!t->had_body && is_string(v))
            emit(t, "body.txt", v->p, v->n, 0);
        break;
    case PR_BODY_HTML:
        if (v->type == PT_BINARY || is_string(v))
            emit(t, "body.html", v->p, v->n, 0);
        break;
    case PR_RTF_COMPRESSED:
        if (v->type == PT_BINARY)
            rtf_body(t, v->p, v->n);
        break;
    }
}

static void recip_prop(tnef *t, void *ctx, uint16_t id, const slice *v)
{
    (void)ctx;
    if ((id == PR_EMAIL_ADDRESS || id == PR_SMTP_ADDRESS) && is_string(v))
        observe_addr(t, v);
}

/* attRecipTable: a row count, then rows, each a property count and properties. */
static void recip_table(tnef *t, const uint8_t *d, size_t n)
{
    reader r = {d, n, 0};
    uint32_t rows, count;
    const char *why = "row count missing";
    if (!rd32(&r, &rows))
        goto bad;
    why = "too many rows";
    if (rows > MAX_ROWS)
        goto bad;
    for (uint32_t k = 0; k < rows && !t->stop; k++) {
        why = "row ends early";
        if (!rd32(&r, &count))
            goto bad;
        why = "too many properties in a row";
        if (count > MAX_PROPS || !read_props(t, &r, count, recip_prop, NULL, &why))
            goto bad;
    }
    return;
bad:
    ab_unpack_error(t->u, NULL, AB_ERR_PARSE, "recipient table: %s", why);
}

static void attach_prop(tnef *t, void *ctx, uint16_t id, const slice *v)
{
    attach *a = ctx;
    (void)t;
    switch (id) {
    case PR_ATTACH_LONG_FNAME:
        if (is_string(v))
            a->long_name = *v;
        break;
    case PR_ATTACH_FILENAME:
        if (is_string(v))
            a->short_name = *v;
        break;
    case PR_DISPLAY_NAME:
        if (is_string(v))
            a->display = *v;
        break;
    case PR_ATTACH_DATA_OBJ:
        if (v->type == PT_BINARY || v->type == PT_OBJECT)
            a->obj = *v;
        break;
    case PR_ATTACH_METHOD:
        if (v->type == PT_LONG)
            a->method = le32(v->p);
        break;
    }
}

/* ---- attributes ---- */

/* attAttachModifyDate: a DTR ([MS-OXTNEF] 2.1.3.3.2), seconds since the epoch (UTC). */
static double dtr_time(const uint8_t *d, size_t n)
{
    if (n < 12)
        return 0;
    int y = le16(d), mo = le16(d + 2), day = le16(d + 4);
    int h = le16(d + 6), mi = le16(d + 8), s = le16(d + 10);
    if (y < 1601 || y > 9999 || mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 ||
        s > 60)
        return 0;
    /* days from civil (Howard Hinnant's algorithm) */
    y -= mo <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    double days = (double)era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 + s;
}

static void attribute(tnef *t, uint8_t level, uint32_t id, const uint8_t *d, size_t n)
{
    (void)level; /* readers dispatch on the id; the level is redundant */
    switch (id) {
    case ATT_FROM:
        from_attr(t, d, n);
        break;
    case ATT_BODY:
        t->had_body = 1;
        emit(t, "body.txt", d, n, 0);
        break;
    case ATT_MAPI_PROPS:
        props_block(t, "message properties", d, n, message_prop, NULL);
        break;
    case ATT_RECIP_TABLE:
        recip_table(t, d, n);
        break;
    case ATT_ATTACH_REND:
        attach_begin(t);
        break;
    case ATT_ATTACH_TITLE:
        cur_attach(t)->title = (slice){d, n, 0};
        break;
    case ATT_ATTACH_DATA:
        cur_attach(t)->data = (slice){d, n, 0};
        break;
    case ATT_ATTACH_MODIFY:
        cur_attach(t)->mtime = dtr_time(d, n);
        break;
    case ATT_ATTACHMENT: {
        attach *a = cur_attach(t);
        props_block(t, "attachment properties", d, n, attach_prop, a);
        break;
    }
    }
}

static ab_status tnef_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    tnef t;
    memset(&t, 0, sizeof(t));
    t.u = u;
    if (size < 6 || le32(data) != TNEF_SIGNATURE) {
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "not a TNEF stream");
        return AB_ERR_PARSE;
    }
    size_t i = 6;
    unsigned count = 0;
    while (i < size && !t.stop) {
        if (++count > MAX_ATTRS) {
            ab_unpack_error(u, NULL, AB_ERR_PARSE, "more than %d attributes", MAX_ATTRS);
            break;
        }
        if (size - i < 9) {
            ab_unpack_error(u, NULL, AB_ERR_PARSE, "truncated attribute header at offset %zu", i);
            break;
        }
        uint8_t level = data[i];
        uint32_t id = le32(data + i + 1), len = le32(data + i + 5);
        i += 9;
        if (len > size - i || size - i - len < 2) {
            ab_unpack_error(u, NULL, AB_ERR_PARSE,
                            "attribute 0x%08x at offset %zu: length %u runs past the end",
                            (unsigned)id, i - 9, (unsigned)len);
            break;
        }
        const uint8_t *d = data + i;
        uint16_t sum = 0;
        for (size_t k = 0; k < len; k++)
            sum = (uint16_t)(sum + d[k]);
        if (sum != le16(d + len) && !t.said_checksum) {
            t.said_checksum = 1;
            ab_unpack_error(u, NULL, AB_ERR_PARSE,
                            "attribute 0x%08x at offset %zu: checksum mismatch (read on)",
                            (unsigned)id, i - 9);
        }
        i += (size_t)len + 2;
        attribute(&t, level, id, d, len);
    }
    attach_flush(&t);
    return AB_OK;
}

const ab_source ab_source_tnef = {
    .name = "tnef",
    .parent = "TNEF",
    .claims = tnef_claims,
    .run = tnef_run,
};
