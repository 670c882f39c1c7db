/* ole.c: OLE2 compound files (MS-CFB: .doc, .xls, .ppt, .msg, vbaProject.bin, ...) through
 * libgsf, read from memory. Every stream is a member named by its path inside the file, storages
 * joined by '/' ("Macros/VBA/Module1", "\x05SummaryInformation": names as they are). A storage
 * named "VBA" holding a "dir" stream is a VBA project: each module's source text, decompressed
 * (MS-OVBA), is one more member named by the module ("Module1"), with source "vba" and parent
 * "VBA", so that rules about macros see the code and not its compressed bytes.
 *
 * Safety: libgsf opens only files that olefmt.c's preflight passed: spec sector sizes, a FAT no
 * bigger than the file warrants and a directory of bounded size and link depth (libgsf walks it
 * by recursion, sizes tables and a stack bitmap by the header). The walk here is bounded in depth
 * and entries; streams are read in blocks into one buffer that never grows past what the member
 * limits allow (the size a directory entry claims only ends the read). VBA dir records and
 * MS-OVBA decompression are our own bounded code (olefmt.c): libgsf's gsf_infile_msvba
 * ignores a module's source offset, prints to stderr and grows its output without a bound.
 * GLib messages are swallowed (a worker's stderr is no place for a hostile file's complaints). */
#include "unpack/unpack.h"

#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-input.h>
#include <gsf/gsf-utils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "unpack/olefmt.h"

#define MAX_DEPTH  32                 /* storages inside storages */
#define READ_BLOCK ((size_t)64 << 10) /* bytes asked of libgsf at a time */
#define PATH_LEN   4096               /* a member's path: 32 levels of 31 UTF-16 characters fit */
#define DIR_MAX    ((size_t)4 << 20)  /* a VBA dir stream, compressed and decompressed */

static const uint8_t OLE_MAGIC[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};

typedef struct ole_ctx {
    ab_unpack *u;
    uint8_t *buf; /* owned: the stream being read */
    size_t cap;
    unsigned entries; /* directory entries visited */
    int stop;         /* the container must stop (budget, sweep stopping, too many entries) */
    char path[PATH_LEN];
} ole_ctx;

typedef enum rd_end { RD_OK, RD_SKIP, RD_STOP } rd_end;

static int ole_claims(const uint8_t *data, size_t size)
{
    return size >= sizeof(OLE_MAGIC) && memcmp(data, OLE_MAGIC, sizeof(OLE_MAGIC)) == 0;
}

static void quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)domain, (void)level, (void)msg, (void)data;
}

static void ole_init(void)
{
    gsf_init();
    g_log_set_default_handler(quiet, NULL);
}

/* Room for want bytes in o->buf, grown by doubling. 0 on failure. */
static int grow(ole_ctx *o, size_t want)
{
    if (want <= o->cap)
        return 1;
    size_t ncap = o->cap ? o->cap : READ_BLOCK;
    while (ncap < want)
        ncap *= 2;
    uint8_t *nb = realloc(o->buf, ncap);
    if (!nb)
        return 0;
    o->buf = nb;
    o->cap = ncap;
    return 1;
}

/* Read the stream in into o->buf, at most limit bytes (a member's read asks ab_unpack_check
 * after every block when name is set). *len: bytes read. A stream that cannot be read to its end
 * is said as an error for name_err and the bytes before are kept. */
static rd_end read_stream(ole_ctx *o, GsfInput *in, const char *name, const char *name_err,
                          uint64_t limit, size_t *len)
{
    gsf_off_t size = gsf_input_size(in);
    uint64_t total = size > 0 ? (uint64_t)size : 0, got = 0;
    *len = 0;
    if (name && total > limit) { /* the limits say it, once, with their reason */
        ab_room r = ab_unpack_check(o->u, name, total, total);
        if (r != AB_ROOM_OK)
            return r == AB_ROOM_STOP ? RD_STOP : RD_SKIP;
    }
    if (total > limit)
        total = limit;
    while (got < total) {
        size_t k = total - got < READ_BLOCK ? (size_t)(total - got) : READ_BLOCK;
        if (!grow(o, (size_t)got + k)) {
            ab_unpack_error(o->u, name_err, AB_ERR_NOMEM, "out of memory reading this stream");
            break;
        }
        if (!gsf_input_read(in, k, o->buf + got)) {
            ab_unpack_error(o->u, name_err, AB_ERR_PARSE,
                            "stream cut short: %llu of %llu bytes readable",
                            (unsigned long long)got, (unsigned long long)size);
            break;
        }
        got += k;
        if (name) {
            ab_room r = ab_unpack_check(o->u, name, got, got);
            if (r != AB_ROOM_OK)
                return r == AB_ROOM_STOP ? RD_STOP : RD_SKIP;
        }
    }
    *len = (size_t)got;
    return RD_OK;
}

static void yield_stream(ole_ctx *o, GsfInput *in, const char *name)
{
    size_t len;
    rd_end e = read_stream(o, in, name, name, ab_unpack_max_member(o->u), &len);
    if (e == RD_STOP)
        o->stop = 1;
    if (e != RD_OK)
        return;
    ab_member m = {.name = name, .data = len ? o->buf : NULL, .size = len, .packed = len};
    if (ab_unpack_member(o->u, &m))
        o->stop = 1;
}

/* The child of storage dir named name, a stream: exact first, then ASCII case-insensitive (names
 * in a compound file compare so). NULL when there is none. */
static GsfInput *child_stream(GsfInfile *dir, const char *name, const char *alt)
{
    int n = gsf_infile_num_children(dir), found = -1;
    for (int pass = 0; pass < 2 && found < 0; pass++)
        for (int i = 0; i < n && found < 0; i++) {
            const char *c = gsf_infile_name_by_index(dir, i);
            if (!c)
                continue;
            if (pass == 0 ? !strcmp(c, name) || (alt && !strcmp(c, alt))
                          : !strcasecmp(c, name) || (alt && !strcasecmp(c, alt)))
                found = i;
        }
    if (found < 0)
        return NULL;
    GsfInput *in = gsf_infile_child_by_index(dir, found);
    if (in && GSF_IS_INFILE(in) && gsf_infile_num_children(GSF_INFILE(in)) >= 0) {
        g_object_unref(in); /* a storage of that name */
        return NULL;
    }
    return in;
}

typedef struct vba_ctx {
    ole_ctx *o;
    GsfInfile *vba;
    ab_ovba_buf src; /* owned by vba_project: the module being decompressed */
    const char *name;
    int skip; /* the limits dropped this module */
} vba_ctx;

/* After every decompressed chunk of a module: the member limits. */
static int module_chunk(void *ctx, size_t produced, size_t consumed)
{
    vba_ctx *v = ctx;
    ab_room r = ab_unpack_check(v->o->u, v->name, produced, consumed ? consumed : 1);
    if (r == AB_ROOM_STOP)
        v->o->stop = 1;
    v->skip = r != AB_ROOM_OK;
    return v->skip;
}

static int module_source(void *ctx, const ab_vba_module *m)
{
    vba_ctx *v = ctx;
    ole_ctx *o = v->o;
    ab_unpack *u = o->u;
    if (o->stop || ab_unpack_stopped(u))
        return 1;
    GsfInput *in = child_stream(v->vba, m->stream, m->stream_mbcs);
    if (!in) {
        ab_unpack_error(u, m->name, AB_ERR_PARSE, "VBA module stream '%s' not found", m->stream);
        return 0;
    }
    size_t len = 0;
    uint64_t max = ab_unpack_max_member(u);
    /* A chunk takes at most 4098 bytes for its 4096: compressed bytes past that ratio could only
     * give text over the limit. */
    uint64_t raw_max = max > UINT64_MAX / 2 ? UINT64_MAX : max + max / 1024 + m->offset + 8192;
    read_stream(o, in, NULL, m->name, raw_max, &len);
    g_object_unref(in);
    if (m->offset >= len) {
        ab_unpack_error(u, m->name, AB_ERR_PARSE,
                        "VBA module source offset %u past its stream (%zu bytes)", m->offset, len);
        return 0;
    }
    v->src.len = 0;
    v->name = m->name;
    v->skip = 0;
    size_t used = 0;
    ab_ovba_status st = ab_ovba_decompress(o->buf + m->offset, len - m->offset,
                                           max < SIZE_MAX ? (size_t)max + 1 : SIZE_MAX, &v->src,
                                           &used, module_chunk, v);
    if (st == AB_OVBA_STOPPED)
        return o->stop;
    if (st == AB_OVBA_FULL) { /* one byte past what may be produced: the limits say why */
        if (ab_unpack_check(u, m->name, v->src.len, used ? used : 1) == AB_ROOM_STOP)
            o->stop = 1;
        return o->stop;
    }
    if (st == AB_OVBA_NOMEM) {
        ab_unpack_error(u, m->name, AB_ERR_NOMEM, "out of memory decompressing VBA source");
        return 0;
    }
    if (st == AB_OVBA_CORRUPT)
        ab_unpack_error(u, m->name, AB_ERR_PARSE,
                        "VBA source compression corrupt after %zu bytes of text", v->src.len);
    if (st == AB_OVBA_CORRUPT && !v->src.len)
        return 0;
    ab_member mem = {.name = m->name,
                     .data = v->src.len ? v->src.data : NULL,
                     .size = v->src.len,
                     .packed = used ? used : 1,
                     .source = "vba",
                     .parent = "VBA"};
    if (ab_unpack_member(u, &mem))
        o->stop = 1;
    return o->stop;
}

/* A storage named VBA at path o->path: if it holds a dir stream, yield its modules' sources. */
static void vba_project(ole_ctx *o, GsfInfile *vba)
{
    ab_unpack *u = o->u;
    GsfInput *dir = child_stream(vba, "dir", NULL);
    if (!dir)
        return;
    char where[PATH_LEN + 8];
    snprintf(where, sizeof(where), "%s/dir", o->path);
    vba_ctx v = {o, vba, {NULL, 0, 0}, NULL, 0};
    uint8_t *raw = NULL; /* owned: the compressed dir stream (o->buf is reused by modules) */
    size_t len = 0;
    read_stream(o, dir, NULL, where, DIR_MAX, &len);
    g_object_unref(dir);
    if (!len || !(raw = malloc(len))) {
        if (len)
            ab_unpack_error(u, where, AB_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(raw, o->buf, len);
    ab_ovba_buf text = {NULL, 0, 0}; /* owned: the decompressed records */
    ab_ovba_status st = ab_ovba_decompress(raw, len, DIR_MAX, &text, NULL, NULL, NULL);
    if (st != AB_OVBA_OK)
        ab_unpack_error(u, where, st == AB_OVBA_NOMEM ? AB_ERR_NOMEM : AB_ERR_PARSE,
                        "VBA dir stream: %s after %zu bytes",
                        st == AB_OVBA_FULL ? "too large" : "compression corrupt", text.len);
    if (text.len && ab_vba_dir_modules(text.data, text.len, module_source, &v) != 0 &&
        st == AB_OVBA_OK && !o->stop)
        ab_unpack_error(u, where, AB_ERR_PARSE, "VBA dir records cut short or malformed");
    free(text.data);
out:
    free(raw);
    free(v.src.data);
}

/* Append "/name" (or "name" at the root) to o->path at plen. 0 when it does not fit. */
static int path_push(ole_ctx *o, size_t plen, const char *name)
{
    size_t k = strlen(name), sep = plen ? 1 : 0;
    if (plen + sep + k >= sizeof(o->path))
        return 0;
    if (sep)
        o->path[plen] = '/';
    memcpy(o->path + plen + sep, name, k + 1);
    return 1;
}

static void walk(ole_ctx *o, GsfInfile *dir, size_t plen, unsigned depth)
{
    ab_unpack *u = o->u;
    int n = gsf_infile_num_children(dir);
    for (int i = 0; i < n && !o->stop && !ab_unpack_stopped(u); i++) {
        if (++o->entries > AB_CFB_MAX_DIRENTS) {
            ab_unpack_error(u, NULL, AB_ERR_PARSE, "ole: more than %d directory entries",
                            AB_CFB_MAX_DIRENTS);
            o->stop = 1;
            break;
        }
        const char *name = gsf_infile_name_by_index(dir, i);
        if (!path_push(o, plen, name ? name : "")) {
            ab_unpack_error(u, NULL, AB_ERR_PARSE, "ole: a path longer than %d bytes", PATH_LEN);
            continue;
        }
        GsfInput *child = gsf_infile_child_by_index(dir, i);
        if (!child) {
            ab_unpack_error(u, o->path, AB_ERR_PARSE, "cannot open this stream");
        } else if (GSF_IS_INFILE(child) && gsf_infile_num_children(GSF_INFILE(child)) >= 0) {
            if (depth + 1 >= MAX_DEPTH)
                ab_unpack_error(u, o->path, AB_ERR_PARSE, "storages nested deeper than %d",
                                MAX_DEPTH);
            else
                walk(o, GSF_INFILE(child), strlen(o->path), depth + 1);
            if (!o->stop && name && !strcasecmp(name, "VBA"))
                vba_project(o, GSF_INFILE(child));
        } else {
            yield_stream(o, child, o->path);
        }
        if (child)
            g_object_unref(child);
        o->path[plen] = '\0';
    }
}

static ab_status ole_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    char why[160];
    if (ab_cfb_preflight(data, size, why, sizeof(why))) {
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "ole: not a readable compound file: %s", why);
        return AB_ERR_PARSE;
    }
    ole_ctx *o = calloc(1, sizeof(*o)); /* owned here: 4 KiB of path off the stack */
    GsfInput *in = gsf_input_memory_new(data, (gsf_off_t)size, FALSE);
    if (!o || !in) {
        free(o);
        if (in)
            g_object_unref(in);
        return AB_ERR_NOMEM;
    }
    o->u = u;
    GError *err = NULL;
    ab_status st = AB_OK;
    GsfInfile *root = gsf_infile_msole_new(in, &err);
    if (!root) {
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "ole: not a readable compound file: %s",
                        err && err->message ? err->message : "?");
        st = AB_ERR_PARSE;
        goto out;
    }
    walk(o, root, 0, 0);
    g_object_unref(root);
out:
    if (err)
        g_error_free(err);
    g_object_unref(in);
    free(o->buf);
    free(o);
    return st;
}

const ab_source ab_source_ole = {
    .name = "ole",
    .parent = "OLE",
    .claims = ole_claims,
    .run = ole_run,
    .init = ole_init,
};
