/* rtf.c: embedded objects of RTF documents, by our own single-pass parser (no library reads
 * RTF the way Word does). Each \objdata destination is decoded from hex (and \bin runs) and read
 * as an OLE1 EmbeddedObject: its NativeData is one member, "objdata N (ClassName)"; an OLE
 * Packager object ("Package") yields the packaged file itself, named by its label ("invoice.exe").
 * What the OLE1 header does not describe is yielded as decoded. The members then reach the other
 * sources (an OLE2 compound file, a zip) through the engine's recursion.
 *
 * Lenient as Word is, because malicious RTFs rely on it (behaviour learned from oletools'
 * rtfobj, which was tested against Word): any text in an objdata destination that is not a hex
 * digit is skipped (whitespace, junk, text of plain nested groups such as "{}" or "{\foo}"), an
 * odd last digit is dropped, "\'hh" drops a pending odd digit (a Word bug malware uses), a
 * "\bin N" run adds its N bytes as if they were hex-encoded, and destination control words open
 * a destination wherever they appear in a group (not only after "{").
 *
 * Safety: one pass over the bytes, no recursion; every loop advances the input or walks decoded
 * bytes once, so a file costs O(n). Group nesting is a counter; the destination of each level is
 * kept for the first MAX_DEPTH levels only (deeper groups share the deepest kept level's, but an
 * \objdata opened deeper is still decoded: its level is a number). Control words are at most
 * MAX_WORD letters and, with their parameter, MAX_WORD_PARAM characters, as Word reads them.
 * Decoded bytes go into one buffer that grows by what is decoded, never by what a header
 * claims, and never past ab_unpack_max_member() + 1 bytes; ab_unpack_check() is asked every
 * CHECK_EVERY bytes. Every OLE1 and Packager length is checked against the bytes that remain.
 *
 * Truncated files: a file that ends inside groups is normal (many RTFs lack the last "}"). A file
 * that ends inside an \objdata yields what was decoded (OLE1 native data and a packaged file are
 * cut to what remains, as their last length is); only an \objdata cut before its first byte is
 * an error, since there is nothing to look at. */
#include "unpack/unpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH      1024
#define MAX_WORD       250 /* letters of a control word */
#define MAX_WORD_PARAM 253 /* letters plus parameter (sign and digits) */
#define CHECK_EVERY    ((size_t)64 << 10)
#define FIRST_BUF      ((size_t)64 << 10)
#define MAX_CLASS      128 /* bytes of a class name kept for naming */
#define MAX_LABEL      255 /* bytes of a packaged file's name kept */
#define PARAM_CAP      ((uint64_t)1 << 60)

/* What the text of a group is: nothing of ours, an object's hex data, or its class name. */
enum dest { D_TEXT = 0, D_OTHER, D_OBJDATA, D_OBJCLASS };

typedef struct rtf {
    ab_unpack *u;
    const uint8_t *p;
    size_t n, i;
    int stop; /* the engine said stop: read no further */
    /* groups */
    uint64_t depth;              /* open groups */
    uint64_t deep;               /* groups opened past MAX_DEPTH (counted, not tracked) */
    uint8_t dest[MAX_DEPTH + 1]; /* destination of each kept level; [0]: outside any group */
    /* the \objdata being decoded */
    int in_obj;
    uint64_t obj_depth; /* the level whose "}" ends it */
    size_t obj_start;   /* input offset of its control word */
    unsigned obj_n;     /* objdata destinations so far; the current one's number */
    char obj_name[32];  /* "objdata N", for limits while decoding */
    int nib;            /* pending high nibble, or -1 */
    int dropped;        /* over a limit (already said): decode no more of it */
    uint8_t *buf;       /* owned; reused from one object to the next */
    size_t len, cap;
    size_t limit;      /* ab_unpack_max_member() + 1 when it started */
    size_t next_check; /* ask ab_unpack_check() when len reaches this */
    /* the last \objclass text, for naming an object whose OLE1 header does not parse */
    char cls[MAX_CLASS + 1];
    size_t cls_len;
} rtf;

static int is_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "{\rt" at 0: Word opens "{\rtf1", but also "{\rt" followed by anything, and malicious RTFs
 * use exactly that ("{\rtxyz...") to escape scanners that insist on "{\rtf". */
static int rtf_claims(const uint8_t *data, size_t size)
{
    return size >= 4 && memcmp(data, "{\\rt", 4) == 0;
}

/* ---- little-endian fields of decoded data, each checked against what remains ---- */

static int rd32(const uint8_t *d, size_t n, size_t *off, uint32_t *v)
{
    if (n - *off < 4)
        return 0;
    const uint8_t *q = d + *off;
    *v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    *off += 4;
    return 1;
}

/* An OLE1 LengthPrefixedAnsiString: u32 length (with its NUL), then the bytes. *s, *len: the
 * text up to its first NUL. */
static int lp_string(const uint8_t *d, size_t n, size_t *off, const uint8_t **s, size_t *len)
{
    uint32_t l;
    if (!rd32(d, n, off, &l) || l > n - *off)
        return 0;
    *s = d + *off;
    const uint8_t *nul = memchr(*s, 0, l);
    *len = nul ? (size_t)(nul - *s) : l;
    *off += l;
    return 1;
}

/* A NUL-terminated string that must end before n. */
static int c_string(const uint8_t *d, size_t n, size_t *off, const uint8_t **s, size_t *len)
{
    const uint8_t *nul = memchr(d + *off, 0, n - *off);
    if (!nul)
        return 0;
    *s = d + *off;
    *len = (size_t)(nul - *s);
    *off += *len + 1;
    return 1;
}

/* ---- OLE1 EmbeddedObject (MS-OLEDS 2.2.4) and the Packager's native data ---- */

typedef struct ole1 {
    const uint8_t *cls; /* ClassName up to its NUL */
    size_t cls_len;
    uint32_t format;       /* 1: linked, 2: embedded */
    const uint8_t *native; /* embedded only: NativeData, cut to what remains */
    size_t native_len;
} ole1;

/* ObjectHeader (OLEVersion, FormatID, ClassName, TopicName, ItemName), then for an embedded
 * object NativeDataSize and NativeData. OLEVersion is not checked: exploits put anything there
 * and Word does not care. */
static int ole1_parse(const uint8_t *d, size_t n, ole1 *o)
{
    size_t off = 0, l;
    uint32_t version;
    const uint8_t *s;
    memset(o, 0, sizeof(*o));
    if (!rd32(d, n, &off, &version) || !rd32(d, n, &off, &o->format))
        return 0;
    if (o->format != 1 && o->format != 2)
        return 0;
    if (!lp_string(d, n, &off, &o->cls, &o->cls_len) || !lp_string(d, n, &off, &s, &l) ||
        !lp_string(d, n, &off, &s, &l))
        return 0;
    if (o->format == 2) {
        uint32_t size;
        if (!rd32(d, n, &off, &size))
            return 0;
        o->native = d + off;
        o->native_len = size < n - off ? size : n - off; /* a cut object: what there is */
    }
    return 1;
}

typedef struct package {
    const uint8_t *label, *path, *temp; /* display name, original path, temporary path */
    size_t label_len, path_len, temp_len;
    const uint8_t *data; /* the packaged file, cut to what remains */
    size_t size;
} package;

/* The Packager's native data (as oletools' OleNativeStream reads it): u16 header, label and
 * original path (NUL-terminated), u32 type (high half 3: embedded file, 1: link), u32 length and
 * the temporary path, u32 size and the file's bytes. A link has no bytes: not a package here. */
static int package_parse(const uint8_t *d, size_t n, package *pk)
{
    size_t off = 2;
    uint32_t type, temp_len, size;
    memset(pk, 0, sizeof(*pk));
    if (n < off || !c_string(d, n, &off, &pk->label, &pk->label_len) ||
        !c_string(d, n, &off, &pk->path, &pk->path_len) || !rd32(d, n, &off, &type) ||
        (type >> 16) == 1 || !rd32(d, n, &off, &temp_len) || temp_len > n - off)
        return 0;
    pk->temp = d + off;
    const uint8_t *nul = memchr(pk->temp, 0, temp_len);
    pk->temp_len = nul ? (size_t)(nul - pk->temp) : temp_len;
    off += temp_len;
    if (!rd32(d, n, &off, &size))
        return 0;
    pk->data = d + off;
    pk->size = size < n - off ? size : n - off;
    return pk->size > 0;
}

static int is_package_class(const uint8_t *s, size_t len)
{
    return len == 7 && strncasecmp((const char *)s, "Package", 7) == 0;
}

/* The last element of a Windows or POSIX path. */
static void base_name(const uint8_t **s, size_t *len)
{
    for (size_t k = *len; k-- > 0;)
        if ((*s)[k] == '\\' || (*s)[k] == '/') {
            *s += k + 1;
            *len -= k + 1;
            return;
        }
}

/* ---- members ---- */

static void emit(rtf *r, const char *name, const uint8_t *data, size_t size)
{
    ab_member m = {.name = name,
                   .data = size ? data : NULL,
                   .size = size,
                   .packed = r->i > r->obj_start ? r->i - r->obj_start : 1};
    if (ab_unpack_member(r->u, &m) || ab_unpack_stopped(r->u))
        r->stop = 1;
}

/* A packaged file: named by its label, else by its original or temporary path's last element. */
static int emit_package(rtf *r, const ole1 *o)
{
    package pk;
    if (!package_parse(o->native, o->native_len, &pk))
        return 0;
    const uint8_t *s = pk.label;
    size_t len = pk.label_len;
    if (!len) {
        s = pk.path, len = pk.path_len;
        base_name(&s, &len);
    }
    if (!len) {
        s = pk.temp, len = pk.temp_len;
        base_name(&s, &len);
    }
    if (!len)
        return 0;
    char name[MAX_LABEL + 1];
    if (len > MAX_LABEL)
        len = MAX_LABEL;
    memcpy(name, s, len);
    name[len] = '\0';
    emit(r, name, pk.data, pk.size);
    return 1;
}

/* A whole decoded \objdata: its native data, its packaged file, or its bytes as they are. */
static void yield_object(rtf *r)
{
    char name[64 + MAX_CLASS];
    ole1 o;
    if (ole1_parse(r->buf, r->len, &o) && o.native_len) {
        if (is_package_class(o.cls, o.cls_len) && emit_package(r, &o))
            return;
        int cl = (int)(o.cls_len > MAX_CLASS ? MAX_CLASS : o.cls_len);
        if (cl)
            snprintf(name, sizeof(name), "objdata %u (%.*s)", r->obj_n, cl, (const char *)o.cls);
        else
            snprintf(name, sizeof(name), "objdata %u", r->obj_n);
        emit(r, name, o.native, o.native_len);
        return;
    }
    /* Not an embedded OLE1 object (a link, a mangled header, raw data): the class from the
     * header when there is one, else from \objclass. */
    const char *cls = r->cls;
    size_t a = 0, b = r->cls_len;
    while (a < b && is_space((uint8_t)cls[a]))
        a++;
    while (b > a && is_space((uint8_t)cls[b - 1]))
        b--;
    cls += a;
    int cl = (int)(b - a);
    if (o.cls_len) {
        cls = (const char *)o.cls;
        cl = (int)(o.cls_len > MAX_CLASS ? MAX_CLASS : o.cls_len);
    }
    if (cl)
        snprintf(name, sizeof(name), "objdata %u (%.*s)", r->obj_n, cl, cls);
    else
        snprintf(name, sizeof(name), "objdata %u", r->obj_n);
    emit(r, name, r->buf, r->len);
}

/* ---- decoding an \objdata ---- */

static void obj_begin(rtf *r, uint64_t level)
{
    uint64_t max = ab_unpack_max_member(r->u);
    r->in_obj = 1;
    r->obj_depth = level;
    r->obj_start = r->i;
    r->obj_n++;
    snprintf(r->obj_name, sizeof(r->obj_name), "objdata %u", r->obj_n);
    r->nib = -1;
    r->dropped = 0;
    r->len = 0;
    r->limit = max < (uint64_t)SIZE_MAX - 1 ? (size_t)max + 1 : SIZE_MAX - 1;
    r->next_check = r->limit < CHECK_EVERY ? r->limit : CHECK_EVERY;
}

/* len reached next_check: within the limits, or this object is dropped (or the file stops). */
static void obj_check(rtf *r)
{
    ab_room room = ab_unpack_check(r->u, r->obj_name, r->len, r->i - r->obj_start + 1);
    if (room == AB_ROOM_STOP)
        r->stop = 1;
    if (room != AB_ROOM_OK || r->len >= r->limit) {
        r->dropped = 1; /* at the limit check says so; the last test is only a backstop */
        return;
    }
    r->next_check = r->limit - r->len > CHECK_EVERY ? r->len + CHECK_EVERY : r->limit;
}

/* Room for one more byte: the buffer doubles up to limit (a decoded byte count, not a claim). */
static int obj_grow(rtf *r)
{
    size_t ncap = r->cap ? r->cap * 2 : FIRST_BUF;
    if (ncap < r->cap || ncap > r->limit)
        ncap = r->limit;
    if (ncap <= r->len) {
        r->dropped = 1; /* unreachable: obj_check stops the object at limit */
        return 0;
    }
    uint8_t *nb = realloc(r->buf, ncap);
    if (!nb) {
        ab_unpack_error(r->u, r->obj_name, AB_ERR_NOMEM, "out of memory decoding this object");
        r->dropped = 1;
        return 0;
    }
    r->buf = nb;
    r->cap = ncap;
    return 1;
}

static void obj_put(rtf *r, uint8_t b)
{
    if (r->dropped)
        return;
    if (r->len == r->cap && !obj_grow(r))
        return;
    r->buf[r->len++] = b;
    if (r->len >= r->next_check)
        obj_check(r);
}

static void obj_nibble(rtf *r, int v)
{
    if (r->nib < 0) {
        r->nib = v;
    } else {
        obj_put(r, (uint8_t)(r->nib << 4 | v));
        r->nib = -1;
    }
}

/* The group that opened it closed (truncated: the file ended first). */
static void obj_end(rtf *r, int truncated)
{
    r->in_obj = 0;
    if (r->dropped)
        return;
    if (!r->len) {
        if (truncated)
            ab_unpack_error(r->u, r->obj_name, AB_ERR_PARSE,
                            "the file ends inside \\objdata before any of its data");
        return;
    }
    yield_object(r);
}

/* ---- the parser ---- */

/* The RTF 1.9.1 destination control words (those whose text is not document text), sorted for
 * bsearch, without the math (\m...) ones; "rtf" itself is not one (it holds the document). Text
 * of a group inside an \objdata that opens one of these is not object data. */
/* clang-format off */
static const char *const destinations[] = {
    "aftncn", "aftnsep", "aftnsepc", "annotation", "atnauthor", "atndate", "atnid", "atnparent",
    "atnref", "atrfend", "atrfstart", "author", "background", "bkmkend", "bkmkstart", "blipuid",
    "buptim", "category", "colorschememapping", "colortbl", "comment", "company", "creatim",
    "datafield", "datastore", "defchp", "defpap", "do", "doccomm", "docvar", "dptxbxtext",
    "ebcend", "ebcstart", "factoidname", "falt", "fchars", "ffdeftext", "ffentrymcr", "ffexitmcr",
    "ffformat", "ffhelptext", "ffl", "ffname", "ffstattext", "field", "file", "filetbl", "fldinst",
    "fldrslt", "fldtype", "fontemb", "fonttbl", "footer", "footerf", "footerl", "footerr",
    "footnote", "formfield", "ftncn", "ftnsep", "ftnsepc", "g", "generator", "gridtbl", "header",
    "headerf", "headerl", "headerr", "hl", "hlfr", "hlinkbase", "hlloc", "hlsrc", "hsv", "info",
    "keywords", "latentstyles", "lchars", "levelnumbers", "leveltext", "lfolevel", "linkval",
    "list", "listlevel", "listname", "listoverride", "listoverridetable", "listpicture",
    "liststylename", "listtable", "listtext", "lsdlockedexcept", "mailmerge", "manager",
    "nesttableprops", "nonesttables", "objalias", "objclass", "objdata", "object", "objname",
    "objsect", "oldcprops", "oldpprops", "oldsprops", "oldtprops", "oleclsid", "operator",
    "panose", "password", "passwordhash", "pgp", "pgptbl", "picprop", "pict", "pn", "pnseclvl",
    "pntext", "pntxta", "pntxtb", "printim", "propname", "protend", "protstart", "protusertbl",
    "result", "revtbl", "revtim", "rxe", "shp", "shpgrp", "shpinst", "shppict", "shprslt",
    "shptxt", "sn", "sp", "staticval", "stylesheet", "subject", "sv", "svb", "tc", "template",
    "themedata", "title", "txe", "ud", "upr", "userprops", "wgrffmtfilter", "windowcaption",
    "writereservation", "writereservhash", "xe", "xform", "xmlattrname", "xmlattrvalue",
    "xmlclose", "xmlname", "xmlnstbl", "xmlopen",
};
/* clang-format on */
#define N_DESTINATIONS (sizeof(destinations) / sizeof(destinations[0]))

typedef struct word {
    const uint8_t *s;
    size_t len;
} word;

static int word_cmp(const void *key, const void *elem)
{
    const word *w = key;
    const char *d = *(const char *const *)elem;
    size_t dl = strlen(d);
    int c = memcmp(w->s, d, w->len < dl ? w->len : dl);
    if (c)
        return c;
    return w->len < dl ? -1 : w->len > dl;
}

static int word_is(const word *w, const char *s)
{
    return w->len == strlen(s) && memcmp(w->s, s, w->len) == 0;
}

/* The destination of the text being read. */
static enum dest cur_dest(const rtf *r)
{
    if (r->depth <= MAX_DEPTH)
        return (enum dest)r->dest[r->depth];
    if (r->in_obj && r->obj_depth > MAX_DEPTH)
        return D_OBJDATA; /* opened past the kept levels; depth >= obj_depth while it is open */
    return (enum dest)r->dest[MAX_DEPTH];
}

static void open_group(rtf *r)
{
    r->depth++;
    if (r->depth <= MAX_DEPTH)
        r->dest[r->depth] = r->dest[r->depth - 1];
    else
        r->deep++;
}

static void close_group(rtf *r)
{
    if (!r->depth)
        return; /* a stray "}" after the document: nothing to close */
    if (r->in_obj && r->depth == r->obj_depth)
        obj_end(r, 0);
    r->depth--;
}

/* A destination control word in the current group. */
static void destination(rtf *r, const word *w)
{
    int is_obj = word_is(w, "objdata");
    if (r->depth > MAX_DEPTH) {
        /* Levels past the kept ones: only an object is worth following (its level is exact). */
        if (is_obj && !r->in_obj)
            obj_begin(r, r->depth);
        return;
    }
    if (r->in_obj && r->depth == r->obj_depth) {
        if (is_obj)
            return;    /* "\objdata" again where one is open: the same object, as Word reads it */
        obj_end(r, 0); /* another destination in the object's own group ends the object */
    }
    if (is_obj) {
        if (!r->in_obj)
            obj_begin(r, r->depth);
        /* inside an open object's nested group: still that object's data */
        r->dest[r->depth] = D_OBJDATA;
    } else if (word_is(w, "objclass")) {
        r->dest[r->depth] = D_OBJCLASS;
        r->cls_len = 0;
    } else {
        if (word_is(w, "object"))
            r->cls_len = 0; /* a new object: the last one's class name no longer applies */
        r->dest[r->depth] = D_OTHER;
    }
}

/* "\bin N": N raw bytes (no parameter or a negative one: none, as Word reads it), cut to what
 * the file holds. In an object they are its data, as if they had been written in hex. */
static void bin_run(rtf *r, int has_param, int neg, uint64_t param)
{
    uint64_t want = has_param && !neg ? param : 0;
    size_t start = r->i, n = want < r->n - start ? (size_t)want : r->n - start;
    if (r->in_obj && cur_dest(r) == D_OBJDATA)
        for (size_t k = 0; k < n && !r->dropped; k++) {
            r->i = start + k; /* for the ratio obj_check() measures */
            obj_nibble(r, r->p[start + k] >> 4);
            obj_nibble(r, r->p[start + k] & 15);
        }
    r->i = start + n;
}

static void cls_add(rtf *r, uint8_t c)
{
    if (r->cls_len < MAX_CLASS && c)
        r->cls[r->cls_len++] = (char)c;
}

/* A control symbol: "\" and one non-letter at r->i. */
static void control_symbol(rtf *r)
{
    uint8_t c = r->p[r->i];
    enum dest d = cur_dest(r);
    r->i++;
    if (c == '\'') {
        /* "\'hh": a character, but in an object Word drops an odd digit read before it. */
        if (d == D_OBJDATA && r->in_obj)
            r->nib = -1;
        int hi = r->i < r->n ? hex_value(r->p[r->i]) : -1;
        int lo = r->i + 1 < r->n ? hex_value(r->p[r->i + 1]) : -1;
        if (d == D_OBJCLASS && hi >= 0 && lo >= 0)
            cls_add(r, (uint8_t)(hi << 4 | lo));
        r->i = r->n - r->i < 2 ? r->n : r->i + 2;
    } else if (d == D_OBJCLASS && (c == '{' || c == '}' || c == '\\')) {
        cls_add(r, c);
    }
}

/* A control word or symbol at the backslash r->i. */
static void control(rtf *r)
{
    const uint8_t *p = r->p;
    size_t n = r->n, i = r->i + 1;
    if (i >= n) {
        r->i = n;
        return;
    }
    if (!is_alpha(p[i])) {
        r->i = i;
        control_symbol(r);
        return;
    }
    size_t start = i;
    while (i < n && is_alpha(p[i]) && i - start < MAX_WORD)
        i++;
    word w = {p + start, i - start};
    int has_param = 0, neg = 0;
    uint64_t param = 0;
    size_t end = start + MAX_WORD_PARAM;
    if (i + 1 < n && i + 1 < end && p[i] == '-' && is_digit(p[i + 1])) {
        neg = 1;
        i++;
    }
    while (i < n && i < end && is_digit(p[i])) {
        has_param = 1;
        if (param < PARAM_CAP)
            param = param * 10 + (uint64_t)(p[i] - '0');
        i++;
    }
    if (i < n && p[i] == ' ')
        i++; /* the space that ends a control word belongs to it */
    r->i = i;
    if (word_is(&w, "bin"))
        bin_run(r, has_param, neg, param);
    else if (bsearch(&w, destinations, N_DESTINATIONS, sizeof(destinations[0]), word_cmp))
        destination(r, &w);
}

/* Text up to the next "{", "}" or "\". */
static void text(rtf *r)
{
    const uint8_t *p = r->p;
    size_t i = r->i, n = r->n;
    enum dest d = cur_dest(r);
    if (d == D_OBJDATA && r->in_obj) {
        for (; i < n && p[i] != '{' && p[i] != '}' && p[i] != '\\'; i++) {
            int v = hex_value(p[i]);
            if (v >= 0 && !r->dropped) {
                r->i = i; /* where we are, for the ratio obj_check() measures */
                obj_nibble(r, v);
            }
        }
    } else if (d == D_OBJCLASS) {
        for (; i < n && p[i] != '{' && p[i] != '}' && p[i] != '\\'; i++)
            cls_add(r, p[i]);
    } else {
        while (i < n && p[i] != '{' && p[i] != '}' && p[i] != '\\')
            i++;
    }
    r->i = i;
}

static ab_status rtf_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    rtf r; /* r.buf owned here */
    memset(&r, 0, sizeof(r));
    r.u = u;
    r.p = data;
    r.n = size;
    r.nib = -1;
    while (r.i < r.n && !r.stop) {
        uint8_t c = r.p[r.i];
        if (c == '{') {
            open_group(&r);
            r.i++;
        } else if (c == '}') {
            close_group(&r);
            r.i++;
        } else if (c == '\\') {
            control(&r);
        } else {
            text(&r);
        }
    }
    if (r.in_obj && !r.stop)
        obj_end(&r, 1);
    free(r.buf);
    return AB_OK;
}

const ab_source ab_source_rtf = {
    .name = "rtf",
    .parent = "RTF",
    .claims = rtf_claims,
    .run = rtf_run,
};
