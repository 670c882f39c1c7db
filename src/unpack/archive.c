/* archive.c: archives and compressed streams through libarchive, read from memory. zip, 7z, rar
 * (v4, v5), tar, cpio, ar, iso9660, cab and xar, each alone or inside gzip, bzip2, xz, lzma,
 * zstd, lz4, compress or lzip; a compressed stream that holds no archive is one member.
 *
 * Safety: only the formats and filters above are registered (never libarchive's "all", which
 * would run external programs such as lrzip, and bid mtree or raw on any text), and a filter that
 * libarchive could only offer through an external program is left out. Member data is read in
 * blocks into a buffer that never grows past ab_unpack_max_member(); the sizes headers declare
 * are ignored. The ratio is measured against the container bytes libarchive consumed, which is
 * why the input is handed over in READ_BLOCK pieces. */
#include "unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define READ_BLOCK    ((size_t)64 << 10)
#define FIRST_BUF     ((size_t)64 << 10)
#define MAX_RETRIES   16
#define ISO_MAGIC_OFF 32769

typedef struct filter_kind {
    int code;
    const char *name, *parent;
    int (*support)(struct archive *);
} filter_kind;

static const filter_kind filters[] = {
    {ARCHIVE_FILTER_GZIP, "gzip", "GZIP", archive_read_support_filter_gzip},
    {ARCHIVE_FILTER_BZIP2, "bzip2", "BZIP2", archive_read_support_filter_bzip2},
    {ARCHIVE_FILTER_XZ, "xz", "XZ", archive_read_support_filter_xz},
    {ARCHIVE_FILTER_LZMA, "lzma", "LZMA", archive_read_support_filter_lzma},
    {ARCHIVE_FILTER_ZSTD, "zstd", "ZSTD", archive_read_support_filter_zstd},
    {ARCHIVE_FILTER_LZ4, "lz4", "LZ4", archive_read_support_filter_lz4},
    {ARCHIVE_FILTER_COMPRESS, "compress", "COMPRESS", archive_read_support_filter_compress},
    {ARCHIVE_FILTER_LZIP, "lzip", "LZIP", archive_read_support_filter_lzip},
};
#define N_FILTERS (sizeof(filters) / sizeof(filters[0]))
static unsigned char filter_native[N_FILTERS]; /* 1: built in (no external program) */

static int at(const uint8_t *d, size_t n, size_t off, const char *magic, size_t len)
{
    return n >= off + len && memcmp(d + off, magic, len) == 0;
}

/* An end-of-central-directory record in the last 64 KiB + 22 bytes: a zip behind something else
 * (a self-extracting PE). */
static int zip_tail(const uint8_t *d, size_t n)
{
    if (n < 22)
        return 0;
    size_t lo = n > 65557 ? n - 65557 : 0;
    for (size_t i = n - 22 + 1; i-- > lo;)
        if (d[i] == 'P' && d[i + 1] == 'K' && d[i + 2] == 5 && d[i + 3] == 6)
            return 1;
    return 0;
}

/* 2: a magic at its fixed place; 1: weaker evidence (a zip at the end, a header without a
 * magic): an open failure is then silent, as the bytes may be something else entirely. */
static int claim_strength(const uint8_t *d, size_t n)
{
    if (at(d, n, 0, "PK\3\4", 4) || at(d, n, 0, "PK\7\10PK\3\4", 8))
        return 2;
    if (at(d, n, 0, "7z\xbc\xaf\x27\x1c", 6) || at(d, n, 0, "Rar!\x1a\x07", 6))
        return 2;
    if (at(d, n, 257, "ustar", 5) || at(d, n, 0, "!<arch>\n", 8) ||
        at(d, n, ISO_MAGIC_OFF, "CD001", 5) || at(d, n, 0, "MSCF\0\0\0\0", 8) ||
        at(d, n, 0, "xar!", 4))
        return 2;
    if (at(d, n, 0, "070701", 6) || at(d, n, 0, "070702", 6) || at(d, n, 0, "070707", 6))
        return 2;
    if (at(d, n, 0, "\x1f\x8b\x08", 3) ||
        at(d, n, 0,
           "\xfd"
           "7zXZ\0",
           6) ||
        at(d, n, 0, "\x28\xb5\x2f\xfd", 4) || at(d, n, 0, "\x04\x22\x4d\x18", 4) ||
        at(d, n, 0, "LZIP", 4) || at(d, n, 0, "\x1f\x9d", 2))
        return 2;
    if (n >= 10 && at(d, n, 0, "BZh", 3) && d[3] >= '1' && d[3] <= '9' && at(d, n, 4, "1AY&SY", 6))
        return 2;
    if (n >= 13 && d[0] == 0x5d && d[1] == 0 && d[2] == 0) /* lzma "alone": no real magic */
        return 1;
    if (n >= 26 && ((d[0] == 0xc7 && d[1] == 0x71) || (d[0] == 0x71 && d[1] == 0xc7)))
        return 1; /* binary cpio */
    if (at(d, n, 0, "MZ", 2) && zip_tail(d, n))
        return 1;
    return 0;
}

/* A compressed stream at offset 0: if no archive is inside, its content is the one member. */
static int compressed(const uint8_t *d, size_t n)
{
    return at(d, n, 0, "\x1f\x8b\x08", 3) ||
           at(d, n, 0,
              "\xfd"
              "7zXZ\0",
              6) ||
           at(d, n, 0, "\x28\xb5\x2f\xfd", 4) || at(d, n, 0, "\x04\x22\x4d\x18", 4) ||
           at(d, n, 0, "LZIP", 4) || at(d, n, 0, "\x1f\x9d", 2) || at(d, n, 0, "BZh", 3) ||
           (n >= 13 && d[0] == 0x5d && d[1] == 0 && d[2] == 0);
}

static int archive_claims(const uint8_t *data, size_t size)
{
    return claim_strength(data, size) > 0;
}

/* Which filters libarchive has built in: support_filter_X returns ARCHIVE_WARN when it would
 * fall back to running an external program, which a worker parsing hostile bytes must never do. */
static void archive_init(void)
{
    for (size_t i = 0; i < N_FILTERS; i++) {
        struct archive *a = archive_read_new();
        filter_native[i] = a && filters[i].support(a) == ARCHIVE_OK;
        archive_read_free(a);
    }
}

static struct archive *reader(int raw, const char *const *pw, size_t npw)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    for (size_t i = 0; i < N_FILTERS; i++)
        if (filter_native[i])
            filters[i].support(a);
    if (raw) {
        archive_read_support_format_raw(a);
    } else {
        archive_read_support_format_zip(a);
        archive_read_support_format_7zip(a);
        archive_read_support_format_rar(a);
        archive_read_support_format_rar5(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_cpio(a);
        archive_read_support_format_ar(a);
        archive_read_support_format_iso9660(a);
        archive_read_support_format_cab(a);
        archive_read_support_format_xar(a);
    }
    for (size_t i = 0; i < npw; i++)
        archive_read_add_passphrase(a, pw[i]);
    return a;
}

static const char *format_token(int code, int upper)
{
    switch (code & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_ZIP:
        return upper ? "ZIP" : "zip";
    case ARCHIVE_FORMAT_7ZIP:
        return upper ? "7Z" : "7z";
    case ARCHIVE_FORMAT_RAR:
    case ARCHIVE_FORMAT_RAR_V5:
        return upper ? "RAR" : "rar";
    case ARCHIVE_FORMAT_TAR:
        return upper ? "TAR" : "tar";
    case ARCHIVE_FORMAT_CPIO:
        return upper ? "CPIO" : "cpio";
    case ARCHIVE_FORMAT_AR:
        return upper ? "AR" : "ar";
    case ARCHIVE_FORMAT_ISO9660:
        return upper ? "ISO" : "iso9660";
    case ARCHIVE_FORMAT_CAB:
        return upper ? "CAB" : "cab";
    case ARCHIVE_FORMAT_XAR:
        return upper ? "XAR" : "xar";
    default:
        return NULL;
    }
}

static const filter_kind *filter_of(int code)
{
    for (size_t i = 0; i < N_FILTERS; i++)
        if (filters[i].code == code)
            return &filters[i];
    return NULL;
}

/* The location source and unpack_parent of this archive's members: "tar+gzip"/"TAR", "zip"/"ZIP",
 * "gzip"/"GZIP" (a compressed stream). Static strings: combinations are listed. */
typedef struct naming {
    const char *source, *parent;
} naming;

static naming name_archive(struct archive *a)
{
    static const char *const combos[][2] = {
        {"tar", "gzip"},  {"tar", "bzip2"}, {"tar", "xz"},       {"tar", "lzma"},
        {"tar", "zstd"},  {"tar", "lz4"},   {"tar", "compress"}, {"tar", "lzip"},
        {"cpio", "gzip"}, {"cpio", "xz"},   {"cpio", "bzip2"},   {"cpio", "zstd"},
    };
    static const char *const joined[] = {
        "tar+gzip",     "tar+bzip2", "tar+xz",    "tar+lzma", "tar+zstd",   "tar+lz4",
        "tar+compress", "tar+lzip",  "cpio+gzip", "cpio+xz",  "cpio+bzip2", "cpio+zstd",
    };
    naming nm = {NULL, NULL};
    const char *fmt = format_token(archive_format(a), 0);
    const filter_kind *fk =
        archive_filter_count(a) > 1 ? filter_of(archive_filter_code(a, 0)) : NULL;
    if (fmt) {
        nm.source = fmt;
        nm.parent = format_token(archive_format(a), 1);
        for (size_t i = 0; fk && i < sizeof(combos) / sizeof(combos[0]); i++)
            if (!strcmp(combos[i][0], fmt) && !strcmp(combos[i][1], fk->name))
                nm.source = joined[i];
        if (fk && nm.source == fmt)
            nm.source = fk->name; /* e.g. a 7z in gzip: say the outer layer */
    } else if (fk) {
        nm.source = fk->name;
        nm.parent = fk->parent;
    } else {
        nm.source = "archive";
        nm.parent = "ARCHIVE";
    }
    return nm;
}

/* The one member of a compressed stream: the container's name without its compression suffix. */
static void stream_member_name(const char *container, char *out, size_t len)
{
    static const char *const suffixes[] = {".gz", ".bz2", ".xz",  ".lzma", ".zst", ".lz4",
                                           ".z",  ".lz",  ".tgz", ".tbz2", ".txz"};
    size_t n = strlen(container);
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && !strcasecmp(container + n - k, suffixes[i])) {
            snprintf(out, len, "%.*s%s", (int)(n - k), container,
                     suffixes[i][1] == 't' ? ".tar" : "");
            return;
        }
    }
    snprintf(out, len, "%s", n ? container : "data");
}

typedef struct reading {
    ab_unpack *u;
    struct archive *a;
    naming nm;
    int raw;
    size_t npw;
    uint8_t *buf; /* owned */
    size_t cap;
} reading;

typedef enum member_end { M_NEXT, M_STOP, M_FATAL } member_end;

static int encrypted_error(struct archive *a)
{
    const char *e = archive_error_string(a);
    return e && (strstr(e, "assphrase") || strstr(e, "ncrypt") || strstr(e, "password"));
}

/* libarchive's words for a method it does not implement (deflate64 in 3.6, some rar filters). */
static int unsupported(struct archive *a)
{
    const char *e = archive_error_string(a);
    return e && (strstr(e, "nsupported") || strstr(e, "not supported"));
}

/* Read the current entry's data into r->buf, within the limits, and scan it. */
static member_end read_member(reading *r, struct archive_entry *e, const char *name)
{
    ab_unpack *u = r->u;
    la_int64_t start = archive_filter_bytes(r->a, -1);
    uint64_t max = ab_unpack_max_member(u), got = 0;
    for (;;) {
        if (got == r->cap) {
            size_t ncap = r->cap ? r->cap * 2 : FIRST_BUF;
            if (ncap > max + 1)
                ncap = (size_t)max + 1; /* one byte past the cap tells that it is over */
            uint8_t *nb = ncap > r->cap ? realloc(r->buf, ncap) : NULL;
            if (!nb && ncap > r->cap) {
                ab_unpack_error(u, name, AB_ERR_NOMEM, "out of memory reading this member");
                return M_NEXT;
            }
            if (nb) {
                r->buf = nb;
                r->cap = ncap;
            }
        }
        size_t want = r->cap - got;
        if (want == 0) { /* the cap check below stops first; never read past the buffer */
            ab_unpack_error(u, name, AB_ERR_INTERNAL, "member buffer full before its limit");
            return M_NEXT;
        }
        la_ssize_t n = archive_read_data(r->a, r->buf + got, want);
        if (n == 0)
            break;
        if (n < 0) {
            int fatal = n == ARCHIVE_FATAL;
            if (archive_entry_is_data_encrypted(e) || encrypted_error(r->a))
                ab_unpack_skip(u, name, AB_SKIP_ENCRYPTED, 0);
            else
                ab_unpack_error(u, name, unsupported(r->a) ? AB_ERR_UNSUPPORTED : AB_ERR_PARSE,
                                "cannot read this member: %s",
                                archive_error_string(r->a) ? archive_error_string(r->a)
                                                           : "corrupt data");
            return fatal ? M_FATAL : M_NEXT;
        }
        got += (uint64_t)n;
        uint64_t used = (uint64_t)(archive_filter_bytes(r->a, -1) - start);
        ab_room room = ab_unpack_check(u, name, got, used ? used : 1);
        if (room == AB_ROOM_SKIP_MEMBER)
            return M_NEXT;
        if (room == AB_ROOM_STOP)
            return M_STOP;
    }
    uint64_t used = (uint64_t)(archive_filter_bytes(r->a, -1) - start);
    ab_member m = {.name = name,
                   .data = got ? r->buf : NULL,
                   .size = (size_t)got,
                   .packed = used ? used : 1,
                   .mtime = archive_entry_mtime_is_set(e)
                                ? (double)archive_entry_mtime(e) + archive_entry_mtime_nsec(e) / 1e9
                                : 0,
                   .mode = (uint32_t)archive_entry_mode(e),
                   .source = r->nm.source,
                   .parent = r->nm.parent};
    return ab_unpack_member(u, &m) ? M_STOP : M_NEXT;
}

/* Directories, links, devices and FIFOs have no bytes of their own. An unknown type is data: ar
 * members carry permission bits only. */
static int no_data(struct archive_entry *e)
{
    switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
    case AE_IFLNK:
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
    case AE_IFSOCK:
        return 1;
    default:
        return archive_entry_hardlink(e) != NULL && archive_entry_size(e) == 0;
    }
}

static const char *entry_name(struct archive_entry *e, reading *r, char *raw_name, size_t len)
{
    if (r->raw) {
        stream_member_name(ab_unpack_container_name(r->u), raw_name, len);
        return raw_name;
    }
    const char *n = archive_entry_pathname_utf8(e);
    if (!n)
        n = archive_entry_pathname(e);
    return n ? n : "";
}

/* Walk the entries. Returns 1 when the open failed (nothing was read). */
static int walk(reading *r, const uint8_t *data, size_t size)
{
    ab_unpack *u = r->u;
    if (archive_read_open_memory2(r->a, data, size, READ_BLOCK) != ARCHIVE_OK)
        return 1;
    struct archive_entry *e;
    char raw_name[4096];
    int retries = 0, first = 1;
    for (;;) {
        int rc = archive_read_next_header(r->a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc == ARCHIVE_RETRY && ++retries < MAX_RETRIES)
            continue;
        if (rc < ARCHIVE_WARN) {
            if (first && !r->raw)
                return 1; /* not this format after all: the caller decides what to say */
            ab_unpack_error(u, NULL, AB_ERR_PARSE, "%s: corrupt or truncated archive: %s",
                            r->nm.source ? r->nm.source : "archive",
                            archive_error_string(r->a) ? archive_error_string(r->a) : "?");
            break;
        }
        if (first) {
            r->nm = name_archive(r->a);
            ab_unpack_name_members(u, r->nm.source, r->nm.parent);
        }
        first = 0;
        retries = 0;
        if (no_data(e))
            continue;
        const char *name = entry_name(e, r, raw_name, sizeof(raw_name));
        if (archive_entry_is_data_encrypted(e) && !r->npw) {
            ab_unpack_skip(u, name, AB_SKIP_ENCRYPTED,
                           archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0);
            continue;
        }
        member_end end = read_member(r, e, name);
        if (end == M_STOP || ab_unpack_stopped(u))
            break;
        if (end == M_FATAL)
            break;
    }
    return 0;
}

static ab_status archive_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    const char *const *pw;
    size_t npw = ab_unpack_passwords(u, &pw);
    int strength = claim_strength(data, size);
    reading r = {u, NULL, {NULL, NULL}, 0, npw, NULL, 0};
    ab_status st = AB_OK;
    if (!(r.a = reader(0, pw, npw)))
        return AB_ERR_NOMEM;
    int failed = walk(&r, data, size);
    /* No archive format (or a broken one) inside a compressed stream: its content is the one
     * member. Weak evidence that came to nothing is not an error: the bytes are something else. */
    int filtered = failed && compressed(data, size);
    if (failed && !filtered && strength == 2) {
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "not a readable archive: %s",
                        archive_error_string(r.a) ? archive_error_string(r.a) : "?");
        st = AB_ERR_PARSE;
    }
    archive_read_free(r.a);
    r.a = NULL;
    if (filtered) {
        r.raw = 1;
        if (!(r.a = reader(1, pw, npw))) {
            free(r.buf);
            return AB_ERR_NOMEM;
        }
        if (walk(&r, data, size)) {
            ab_unpack_error(u, NULL, AB_ERR_PARSE, "corrupt compressed stream: %s",
                            archive_error_string(r.a) ? archive_error_string(r.a) : "?");
            st = AB_ERR_PARSE;
        }
        archive_read_free(r.a);
    }
    free(r.buf);
    return st;
}

const ab_source ab_source_archive = {
    .name = "archive",
    .parent = "ARCHIVE",
    .claims = archive_claims,
    .run = archive_run,
    .init = archive_init,
};
