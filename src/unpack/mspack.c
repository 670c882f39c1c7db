/* mspack.c: CHM (HTML Help / InfoTech storage), SZDD and KWAJ through libmspack, read from memory.
 * Three sources share one in-memory mspack_system: "chm" yields every file of the help file's
 * directory (section 0 stored, section 1 LZX) named by its CHM path ("/index.html"); "szdd" and
 * "kwaj" yield their one member, named after the container with the missing last character put
 * back (SZDD "setup.ex_" -> "setup.exe") or by the file name a KWAJ header carries. CAB (MSCF) is
 * libarchive's (archive.c).
 *
 * Safety: libmspack only ever sees the struct mspack_system below. Its "file names" are two opaque
 * tokens that open() maps to the container bytes (read only) or to the member's output buffer
 * (write only); any other name fails, so nothing touches the file system. Every allocation the
 * library makes goes through alloc(), which keeps a running total and fails past LIB_ALLOC_CAP.
 * The output buffer grows only as bytes arrive and write() fails once ab_unpack_max_member() + 1
 * bytes are there or ab_unpack_check() says stop; the lengths headers declare are never used to
 * allocate. A CHM directory can make libmspack re-read and re-decompress the same bytes for every
 * entry (overlapping files, LZX restarts), so reads of the container are capped (READ_CAP_*), the
 * decompression work of a CHM is estimated before each file and capped (CHM_WORK_CAP), and so are
 * the number of entries and of member errors. */
#include "unpack/unpack.h"

#include <mspack.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIB_ALLOC_CAP     ((size_t)64 << 20)   /* what libmspack may hold at once */
#define READ_CAP_FACTOR   8                    /* container reads: 8 x its size ... */
#define READ_CAP_EXTRA    ((uint64_t)64 << 20) /* ... plus 64 MiB */
#define CHM_WORK_CAP      ((uint64_t)1 << 30)  /* bytes decompressed or copied for one CHM */
#define MAX_CHM_FILES     100000
#define MAX_MEMBER_ERRORS 16
#define FIRST_OUT         ((size_t)64 << 10)
#define NAME_MAX_LEN      4096

/* The only names open() knows. Not paths: never passed to anything but strcmp. */
static const char TOKEN_IN[] = "antibody:container";
static const char TOKEN_OUT[] = "antibody:member";

typedef struct memsys memsys;

/* The library's file handle (mspack.h declares struct mspack_file as a placeholder, so handles are
 * cast): the container (read) or the member being written. */
typedef struct memfile {
    memsys *s;
    int output;
    size_t pos; /* read position in the container */
} memfile;

static memfile *mf(struct mspack_file *f)
{
    return (memfile *)(void *)f;
}

struct memsys {
    struct mspack_system ops; /* first: open() receives &ops back */
    ab_unpack *u;
    const uint8_t *in;
    size_t in_size;
    /* Bytes read() serves in place of the container's at overlay_off (CHM header GUIDs). */
    const uint8_t *overlay;
    size_t overlay_off, overlay_len;
    uint64_t read_total, read_cap;
    int read_over; /* the read cap was hit: the container is abandoned */
    size_t alloc_total;
    int alloc_over; /* an allocation was refused by the cap */
    int corrupt;    /* libmspack warned that a CHM directory is partly corrupt */
    /* the member being produced */
    const char *name;
    uint8_t *out; /* owned: grows to at most limit bytes, reused from member to member */
    size_t out_len, out_cap;
    uint64_t limit;        /* ab_unpack_max_member() + 1 */
    uint64_t read_at_open; /* read_total when the member was opened: its packed bytes */
    ab_room room;          /* not OK: ab_unpack_check said so, writes fail */
    int out_nomem;
};

/* libmspack copies its mspack_system by value for the CHM LZX state and passes that copy as alloc's
 * self, so self cannot lead back to the memsys: the one in use on this thread is kept here. Runs
 * nest (a CHM inside a CHM) only between library calls, so save/restore around a run suffices. */
static _Thread_local memsys *active;
static int selftest_ok;

/* Every allocation carries its owner and size, because free() gets nothing else. */
typedef union alloc_hdr {
    struct {
        memsys *s;
        size_t size;
    } h;
    max_align_t align;
} alloc_hdr;

static void *ms_alloc(struct mspack_system *self, size_t bytes)
{
    (void)self;
    memsys *s = active;
    if (!s || bytes > LIB_ALLOC_CAP - s->alloc_total) {
        if (s)
            s->alloc_over = 1;
        return NULL;
    }
    /* Zeroed: libmspack 0.11 frees a KWAJ header's name pointer it never set when the header is
     * short (kwajd_open); zeroed memory makes that free(NULL). Owned by libmspack until ms_free. */
    alloc_hdr *h = calloc(1, sizeof(*h) + bytes);
    if (!h)
        return NULL;
    h->h.s = s;
    h->h.size = bytes;
    s->alloc_total += bytes;
    return h + 1;
}

static void ms_free(void *p)
{
    if (!p)
        return;
    alloc_hdr *h = (alloc_hdr *)p - 1;
    h->h.s->alloc_total -= h->h.size;
    free(h);
}

static void ms_copy(void *src, void *dest, size_t bytes)
{
    memmove(dest, src, bytes);
}

static void ms_message(struct mspack_file *file, const char *format, ...)
{
    (void)file;
    /* Warnings only, except this one: chmd_open kept what it could of a broken directory. */
    if (active && format && strstr(format, "contents are corrupt"))
        active->corrupt = 1;
}

static struct mspack_file *ms_open(struct mspack_system *self, const char *filename, int mode)
{
    (void)self;
    memsys *s = active;
    int output;
    if (!s || !filename)
        return NULL;
    if (mode == MSPACK_SYS_OPEN_READ && !strcmp(filename, TOKEN_IN))
        output = 0;
    else if (mode == MSPACK_SYS_OPEN_WRITE && !strcmp(filename, TOKEN_OUT))
        output = 1;
    else
        return NULL;                            /* anything else would be a path: refused */
    memfile *f = ms_alloc(&s->ops, sizeof(*f)); /* owned until ms_close */
    if (!f)
        return NULL;
    f->s = s;
    f->output = output;
    f->pos = 0;
    if (output) {
        s->out_len = 0;
        s->room = AB_ROOM_OK;
        s->out_nomem = 0;
        s->read_at_open = s->read_total;
    }
    return (struct mspack_file *)(void *)f;
}

static void ms_close(struct mspack_file *f)
{
    ms_free(mf(f));
}

static int ms_read(struct mspack_file *file, void *buffer, int bytes)
{
    memfile *f = mf(file);
    memsys *s = f->s;
    if (f->output || bytes < 0)
        return -1;
    if (s->read_total >= s->read_cap) {
        s->read_over = 1;
        return -1;
    }
    size_t n = s->in_size - f->pos;
    if (n > (size_t)bytes)
        n = (size_t)bytes;
    if (n)
        memcpy(buffer, s->in + f->pos, n);
    if (s->overlay && f->pos < s->overlay_off + s->overlay_len && f->pos + n > s->overlay_off) {
        size_t lo = f->pos > s->overlay_off ? f->pos : s->overlay_off;
        size_t hi = f->pos + n < s->overlay_off + s->overlay_len ? f->pos + n
                                                                 : s->overlay_off + s->overlay_len;
        memcpy((uint8_t *)buffer + (lo - f->pos), s->overlay + (lo - s->overlay_off), hi - lo);
    }
    f->pos += n;
    s->read_total += n;
    return (int)n;
}

static uint64_t packed_so_far(const memsys *s)
{
    uint64_t p = s->read_total - s->read_at_open;
    return p ? p : 1;
}

/* Grow the output buffer to hold need bytes (need <= limit). */
static int out_reserve(memsys *s, size_t need)
{
    if (need <= s->out_cap)
        return 0;
    size_t ncap = s->out_cap ? s->out_cap : FIRST_OUT;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > s->limit)
        ncap = (size_t)s->limit;
    uint8_t *nb = realloc(s->out, ncap);
    if (!nb)
        return -1;
    s->out = nb;
    s->out_cap = ncap;
    return 0;
}

static int ms_write(struct mspack_file *file, void *buffer, int bytes)
{
    memfile *f = mf(file);
    memsys *s = f->s;
    if (!f->output || bytes < 0 || s->room != AB_ROOM_OK)
        return -1;
    size_t n = (size_t)bytes;
    if (n > s->limit - s->out_len)
        n = (size_t)(s->limit - s->out_len); /* one byte past the cap tells that it is over */
    if (out_reserve(s, s->out_len + n)) {
        s->out_nomem = 1;
        return -1;
    }
    if (n)
        memcpy(s->out + s->out_len, buffer, n);
    s->out_len += n;
    s->room = ab_unpack_check(s->u, s->name, s->out_len, packed_so_far(s));
    if (n < (size_t)bytes && s->room == AB_ROOM_OK)
        s->room = AB_ROOM_SKIP_MEMBER; /* unreachable: past the cap the check says so */
    return s->room == AB_ROOM_OK ? bytes : -1;
}

static int ms_seek(struct mspack_file *file, off_t offset, int mode)
{
    memfile *f = mf(file);
    if (f->output)
        return -1;
    int64_t base;
    switch (mode) {
    case MSPACK_SYS_SEEK_START:
        base = 0;
        break;
    case MSPACK_SYS_SEEK_CUR:
        base = (int64_t)f->pos;
        break;
    case MSPACK_SYS_SEEK_END:
        base = (int64_t)f->s->in_size;
        break;
    default:
        return -1;
    }
    int64_t off = (int64_t)offset;
    if ((off < 0 && off < -base) || (off > 0 && off > (int64_t)f->s->in_size - base))
        return -1;
    f->pos = (size_t)(base + off);
    return 0;
}

static off_t ms_tell(struct mspack_file *file)
{
    memfile *f = mf(file);
    return f->output ? (off_t)f->s->out_len : (off_t)f->pos;
}

static void sys_begin(memsys *s, ab_unpack *u, const uint8_t *data, size_t size)
{
    memset(s, 0, sizeof(*s));
    s->ops.open = ms_open;
    s->ops.close = ms_close;
    s->ops.read = ms_read;
    s->ops.write = ms_write;
    s->ops.seek = ms_seek;
    s->ops.tell = ms_tell;
    s->ops.message = ms_message;
    s->ops.alloc = ms_alloc;
    s->ops.free = ms_free;
    s->ops.copy = ms_copy;
    s->ops.null_ptr = NULL;
    s->u = u;
    s->in = data;
    s->in_size = size;
    s->read_cap = (uint64_t)size * READ_CAP_FACTOR + READ_CAP_EXTRA;
}

static void sys_end(memsys *s)
{
    free(s->out);
    s->out = NULL;
    s->out_cap = s->out_len = 0;
}

/* Before producing a member: what it may hold. */
static void member_begin(memsys *s, const char *name)
{
    uint64_t max = ab_unpack_max_member(s->u);
    s->name = name;
    s->limit = max + 1;
    if (s->limit > SIZE_MAX)
        s->limit = SIZE_MAX;
    s->out_len = 0;
    s->room = AB_ROOM_OK;
    s->out_nomem = 0;
}

static const char *mspack_strerror(const memsys *s, int err)
{
    if (s->read_over)
        return "libmspack read the container over and over (overlapping files?)";
    if (s->alloc_over)
        return "libmspack needed more memory than allowed";
    switch (err) {
    case MSPACK_ERR_OK:
        return "no error";
    case MSPACK_ERR_ARGS:
        return "bad arguments";
    case MSPACK_ERR_OPEN:
        return "cannot open";
    case MSPACK_ERR_READ:
        return "truncated or unreadable data";
    case MSPACK_ERR_WRITE:
        return "output refused";
    case MSPACK_ERR_SEEK:
        return "offset outside the file";
    case MSPACK_ERR_NOMEMORY:
        return "out of memory";
    case MSPACK_ERR_SIGNATURE:
        return "bad signature";
    case MSPACK_ERR_DATAFORMAT:
        return "bad data format";
    case MSPACK_ERR_CHECKSUM:
        return "checksum mismatch";
    case MSPACK_ERR_CRUNCH:
        return "compression error";
    case MSPACK_ERR_DECRUNCH:
        return "corrupt compressed data";
    default:
        return "unknown error";
    }
}

static void mspack_init(void)
{
    int r;
    MSPACK_SYS_SELFTEST(r); /* off_t of this build and the library's must agree */
    selftest_ok = r == MSPACK_ERR_OK;
}

static int usable(ab_unpack *u, const char *what)
{
    if (selftest_ok)
        return 1;
    ab_unpack_error(u, NULL, AB_ERR_UNSUPPORTED, "%s: libmspack is incompatible with this build",
                    what);
    return 0;
}

typedef enum produced { P_NEXT, P_STOP } produced;

/* After an extract: yield the member, or say why not. errors counts member errors. */
static produced finish_member(memsys *s, const char *name, int err, const char *source,
                              unsigned *errors)
{
    ab_unpack *u = s->u;
    if (s->room == AB_ROOM_STOP)
        return P_STOP;
    if (s->room == AB_ROOM_SKIP_MEMBER)
        return P_NEXT; /* the limit was reported by ab_unpack_check */
    if (s->read_over || s->alloc_over) {
        ab_unpack_error(u, NULL, AB_ERR_LIMIT, "%s: %s; the rest is not read", source,
                        mspack_strerror(s, err));
        return P_STOP;
    }
    if (s->out_nomem) {
        ab_unpack_error(u, name, AB_ERR_NOMEM, "out of memory reading this member");
        return P_NEXT;
    }
    if (err != MSPACK_ERR_OK) {
        ab_unpack_error(u, name, AB_ERR_PARSE, "%s: cannot extract this member: %s", source,
                        mspack_strerror(s, err));
        if (++*errors >= MAX_MEMBER_ERRORS) {
            ab_unpack_error(u, NULL, AB_ERR_PARSE,
                            "%s: %u members unreadable; the rest is not read", source, *errors);
            return P_STOP;
        }
        return P_NEXT;
    }
    ab_member m = {.name = name,
                   .data = s->out_len ? s->out : NULL,
                   .size = s->out_len,
                   .packed = packed_so_far(s)};
    return ab_unpack_member(u, &m) ? P_STOP : P_NEXT;
}

/* ---- CHM ---- */

static int le32(const uint8_t *p)
{
    return (int)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24);
}

/* The two GUIDs of the ITSF header, as Microsoft's compiler writes them. libmspack insists on both;
 * Free Pascal's chmcmd writes the first twice, and Windows opens such files, so libmspack is shown
 * these bytes instead of the file's (chm_run). */
static const uint8_t itsf_guids[32] = {
    0x10, 0xFD, 0x01, 0x7C, 0xAA, 0x7B, 0xD0, 0x11, 0x9E, 0x0C, 0x00, 0xA0, 0xC9, 0x22, 0xE6, 0xEC,
    0x11, 0xFD, 0x01, 0x7C, 0xAA, 0x7B, 0xD0, 0x11, 0x9E, 0x0C, 0x00, 0xA0, 0xC9, 0x22, 0xE6, 0xEC};
#define ITSF_GUIDS_AT 0x18

static int chm_claims(const uint8_t *d, size_t n)
{
    if (n < 0x38 || memcmp(d, "ITSF", 4) != 0)
        return 0;
    int version = le32(d + 4);
    return version == 2 || version == 3;
}

/* Section 0 before section 1, each by offset: the LZX stream is then decompressed once, front to
 * back, instead of restarting for every file listed out of order. */
static int chm_file_cmp(const void *a, const void *b)
{
    const struct mschmd_file *x = *(const struct mschmd_file *const *)a;
    const struct mschmd_file *y = *(const struct mschmd_file *const *)b;
    if (x->section->id != y->section->id)
        return x->section->id < y->section->id ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return 0;
}

/* The directory's files in extraction order; *n set, NULL with *n 0 when none. */
static struct mschmd_file **chm_list(ab_unpack *u, struct mschmd_header *chm, size_t *n)
{
    size_t count = 0;
    for (struct mschmd_file *f = chm->files; f && count <= MAX_CHM_FILES; f = f->next)
        count++;
    *n = 0;
    if (count > MAX_CHM_FILES) {
        ab_unpack_error(u, NULL, AB_ERR_LIMIT,
                        "chm: more than %d files in the directory; the rest is not read",
                        MAX_CHM_FILES);
        count = MAX_CHM_FILES;
    }
    if (!count)
        return NULL;
    struct mschmd_file **v = malloc(count * sizeof(*v)); /* owned by chm_run */
    if (!v) {
        ab_unpack_error(u, NULL, AB_ERR_NOMEM, "chm: out of memory listing the files");
        return NULL;
    }
    size_t i = 0;
    for (struct mschmd_file *f = chm->files; f && i < count; f = f->next)
        v[i++] = f;
    qsort(v, i, sizeof(*v), chm_file_cmp);
    *n = i;
    return v;
}

/* Decompression work a section 1 file costs before its first byte: the LZX stream continues
 * from pos when the file starts there or later, else it restarts at a reset point at or before
 * the file's offset (at worst the stream's start). */
static uint64_t chm_skip_cost(const struct mschmd_file *f, uint64_t pos)
{
    uint64_t off = f->offset > 0 ? (uint64_t)f->offset : 0;
    if (f->section->id != 1 || f->length <= 0)
        return 0;
    return off >= pos ? off - pos : off;
}

static ab_status chm_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    if (!usable(u, "chm"))
        return AB_ERR_UNSUPPORTED;
    memsys s;
    sys_begin(&s, u, data, size);
    s.overlay = itsf_guids;
    s.overlay_off = ITSF_GUIDS_AT;
    s.overlay_len = sizeof(itsf_guids);
    memsys *prev = active;
    active = &s;
    ab_status st = AB_OK;
    struct mschmd_header *chm = NULL;
    struct mschmd_file **files = NULL; /* owned */
    size_t n = 0;
    uint64_t work = 0, pos = 0; /* pos: where the LZX stream stands after the last file */
    unsigned errors = 0;
    struct mschm_decompressor *d = mspack_create_chm_decompressor(&s.ops);
    if (!d) {
        ab_unpack_error(u, NULL, AB_ERR_NOMEM, "chm: out of memory");
        st = AB_ERR_NOMEM;
        goto out;
    }
    chm = d->open(d, TOKEN_IN);
    if (!chm) {
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "chm: cannot read the directory: %s",
                        mspack_strerror(&s, d->last_error(d)));
        st = AB_ERR_PARSE;
        goto out;
    }
    if (s.corrupt)
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "chm: directory partly corrupt; read what is left");
    files = chm_list(u, chm, &n);
    for (size_t i = 0; i < n && !ab_unpack_stopped(u); i++) {
        struct mschmd_file *f = files[i];
        const char *name = f->filename;
        uint64_t cost = chm_skip_cost(f, pos);
        if (cost > CHM_WORK_CAP - work) {
            ab_unpack_error(u, NULL, AB_ERR_LIMIT,
                            "chm: more than %llu bytes to decompress (overlapping files?); the "
                            "rest is not read",
                            (unsigned long long)CHM_WORK_CAP);
            break;
        }
        work += cost;
        member_begin(&s, name);
        int err = d->extract(d, f, TOKEN_OUT);
        work += s.out_len;
        if (f->section->id == 1)
            pos = err == MSPACK_ERR_OK ? (uint64_t)f->offset + (uint64_t)f->length : 0;
        if (finish_member(&s, name, err, "chm", &errors) == P_STOP)
            break;
    }
out:
    free(files);
    if (chm)
        d->close(d, chm);
    if (d)
        mspack_destroy_chm_decompressor(d);
    sys_end(&s);
    active = prev;
    return st;
}

/* ---- SZDD and KWAJ ---- */

static int szdd_claims(const uint8_t *d, size_t n)
{
    return n >= 8 && memcmp(d, "SZDD\x88\xf0\x27\x33", 8) == 0;
}

static int kwaj_claims(const uint8_t *d, size_t n)
{
    return n >= 8 && memcmp(d, "KWAJ\x88\xf0\x27\xd1", 8) == 0;
}

/* The container's name, its last character replaced by missing when it ends in '_' (the
 * COMPRESS.EXE convention: "setup.ex_" holds "setup.exe"). */
static void restored_name(ab_unpack *u, char missing, char *out, size_t len)
{
    const char *c = ab_unpack_container_name(u);
    size_t n = strlen(c);
    if (!n) {
        snprintf(out, len, "data");
        return;
    }
    snprintf(out, len, "%s", c);
    n = strlen(out);
    if (missing && missing != '/' && out[n - 1] == '_')
        out[n - 1] = missing;
}

static ab_status szdd_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    if (!usable(u, "szdd"))
        return AB_ERR_UNSUPPORTED;
    memsys s;
    sys_begin(&s, u, data, size);
    memsys *prev = active;
    active = &s;
    ab_status st = AB_OK;
    char name[NAME_MAX_LEN];
    struct msszddd_header *h = NULL;
    struct msszdd_decompressor *d = mspack_create_szdd_decompressor(&s.ops);
    if (!d) {
        ab_unpack_error(u, NULL, AB_ERR_NOMEM, "szdd: out of memory");
        st = AB_ERR_NOMEM;
        goto out;
    }
    if (!(h = d->open(d, TOKEN_IN))) {
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "szdd: cannot read the header: %s",
                        mspack_strerror(&s, d->last_error(d)));
        st = AB_ERR_PARSE;
        goto out;
    }
    restored_name(u, h->format == MSSZDD_FMT_NORMAL ? h->missing_char : 0, name, sizeof(name));
    member_begin(&s, name);
    unsigned errors = 0;
    finish_member(&s, name, d->extract(d, h, TOKEN_OUT), "szdd", &errors);
out:
    if (h)
        d->close(d, h);
    if (d)
        mspack_destroy_szdd_decompressor(d);
    sys_end(&s);
    active = prev;
    return st;
}

static ab_status kwaj_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    if (!usable(u, "kwaj"))
        return AB_ERR_UNSUPPORTED;
    memsys s;
    sys_begin(&s, u, data, size);
    memsys *prev = active;
    active = &s;
    ab_status st = AB_OK;
    char name[NAME_MAX_LEN];
    struct mskwajd_header *h = NULL;
    struct mskwaj_decompressor *d = mspack_create_kwaj_decompressor(&s.ops);
    if (!d) {
        ab_unpack_error(u, NULL, AB_ERR_NOMEM, "kwaj: out of memory");
        st = AB_ERR_NOMEM;
        goto out;
    }
    if (!(h = d->open(d, TOKEN_IN))) {
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "kwaj: cannot read the header: %s",
                        mspack_strerror(&s, d->last_error(d)));
        st = AB_ERR_PARSE;
        goto out;
    }
    /* The header's own name (8.3, no path) when it has one; the container's otherwise. */
    if (h->filename && h->filename[0])
        snprintf(name, sizeof(name), "%s", h->filename);
    else
        restored_name(u, 0, name, sizeof(name));
    member_begin(&s, name);
    unsigned errors = 0;
    finish_member(&s, name, d->extract(d, h, TOKEN_OUT), "kwaj", &errors);
out:
    if (h)
        d->close(d, h);
    if (d)
        mspack_destroy_kwaj_decompressor(d);
    sys_end(&s);
    active = prev;
    return st;
}

const ab_source ab_source_chm = {
    .name = "chm",
    .parent = "CHM",
    .claims = chm_claims,
    .run = chm_run,
    .init = mspack_init,
};

const ab_source ab_source_szdd = {
    .name = "szdd",
    .parent = "SZDD",
    .claims = szdd_claims,
    .run = szdd_run,
    .init = mspack_init,
};

const ab_source ab_source_kwaj = {
    .name = "kwaj",
    .parent = "KWAJ",
    .claims = kwaj_claims,
    .run = kwaj_run,
    .init = mspack_init,
};
