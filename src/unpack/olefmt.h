/* olefmt.h: the OLE2 byte formats the OLE source checks or decodes itself, in plain C with no
 * library: a preflight of the compound-file (MS-CFB) header and directory that keeps hostile
 * files away from libgsf's unbounded paths, MS-OVBA decompression (2.4.1) and the VBA `dir`
 * stream's module records (2.3.4.2). Every function reads only the bytes it is given, bounds
 * every loop by its input, and allocates at most what its caller allows. */
#ifndef AB_UNPACK_OLEFMT_H
#define AB_UNPACK_OLEFMT_H

#include <stddef.h>
#include <stdint.h>

/* ---- compound file preflight ---- */

#define AB_CFB_MAX_DIRENTS 16384 /* directory entries of one file */
#define AB_CFB_MAX_TREE    1024  /* depth of the directory's sibling/child links */

/* 0 when libgsf may open data: a compound-file header with spec sector sizes (512 or 4096, mini
 * 64, cutoff 4096), a FAT no bigger than the file warrants, and a directory of at most
 * AB_CFB_MAX_DIRENTS entries whose links nest at most AB_CFB_MAX_TREE deep (libgsf walks them by
 * recursion and sorts each storage's children by insertion). Else -1 and why (one line). */
int ab_cfb_preflight(const uint8_t *data, size_t size, char *why, size_t why_len);

/* ---- MS-OVBA compression ---- */

typedef struct ab_ovba_buf {
    uint8_t *data; /* owned by the caller: free() it */
    size_t len, cap;
} ab_ovba_buf;

typedef enum ab_ovba_status {
    AB_OVBA_OK = 0,
    AB_OVBA_CORRUPT, /* bad signature, chunk header or copy token: out holds what came before */
    AB_OVBA_FULL,    /* max bytes produced: out holds exactly max bytes, the rest is not read */
    AB_OVBA_STOPPED, /* the chunk callback asked to stop */
    AB_OVBA_NOMEM,
} ab_ovba_status;

/* Called after each decompressed chunk with the bytes produced and consumed so far: non-zero
 * stops. NULL: no callback. */
typedef int (*ab_ovba_chunk_fn)(void *ctx, size_t produced, size_t consumed);

/* Decompress the CompressedContainer in[0..n) (signature byte 0x01, then chunks) appending to
 * out, which grows (realloc) but never past max bytes. *consumed: input bytes read. */
ab_ovba_status ab_ovba_decompress(const uint8_t *in, size_t n, size_t max, ab_ovba_buf *out,
                                  size_t *consumed, ab_ovba_chunk_fn fn, void *ctx);

/* ---- the VBA dir stream (decompressed) ---- */

#define AB_VBA_NAME_MAX 512 /* bytes of a module or stream name kept (longer ones are cut) */

typedef struct ab_vba_module {
    char name[AB_VBA_NAME_MAX];   /* MODULENAMEUNICODE as UTF-8, else MODULENAME bytes */
    char stream[AB_VBA_NAME_MAX]; /* MODULESTREAMNAME's Unicode part as UTF-8, else its bytes */
    char stream_mbcs[AB_VBA_NAME_MAX]; /* MODULESTREAMNAME's MBCS bytes */
    uint32_t offset;                   /* MODULEOFFSET: the compressed source in the stream */
    int has_offset;
} ab_vba_module;

/* Walk the records of a decompressed dir stream, calling fn for every module that has a stream
 * name and an offset (fn returns non-zero to stop). Returns 0 when the records ran to the dir
 * terminator, -1 when they were cut or malformed (the modules before were still given). */
int ab_vba_dir_modules(const uint8_t *dir, size_t n, int (*fn)(void *ctx, const ab_vba_module *m),
                       void *ctx);

#endif
