/* filetype.c: magic-header classification for the `filetype` YARA external. */
#include "intel/filetype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ft_entry {
    uint8_t magic[AB_FILETYPE_MAX_MAGIC];
    size_t len;
    char *name; /* owned */
} ft_entry;

struct ab_filetypes {
    ft_entry *v; /* owned, in file order */
    size_t n, alloc;
};

/* Our built-in table: well-known magic numbers under the type names Loki/THOR rule sets test for
 * (signature-base's misc/file-type-signatures.txt), ordered so a longer, more specific header is
 * tried before a shorter one that prefixes it; where both tables have a header, they give the
 * same name. Used when that file is not found next to the rules. */
static const char builtin_table[] =
    /* archives and containers */
    "50 4B 03 04 14 00 06 00;Office\n"
    "50 4B 03 04 14 00 08 00;JAR\n"
    "50 4B 03 04;ZIP\n"
    "50 4B 05 06;PKZIP\n"
    "50 4B 53 70 58;PKSFX\n"
    "57 69 6E 5A 69 70;WinZIP\n"
    "52 61 72 21 1A 07;RAR\n"
    "37 7A BC AF 27 1C;7Zip\n"
    "1F 8B 08;GZIP\n"
    "42 5A 68;BZip2\n"
    "1F 9D;TARZ\n"
    "1F A0;TARZ\n"
    "75 73 74 61 72;TAR\n"
    "60 EA;ARJ\n"
    "4D 53 43 46;CAB\n"
    "4A 41 52 43 53 00;JARCS\n"
    "5F 27 A8 89;JAR\n"
    "41 45 53;AESCrypt\n"
    /* documents */
    "25 50 44 46;PDF\n"
    "7B 5C 72 74 66 31;RTF\n"
    "D0 CF 11 E0 A1 B1 1A E1;OLE\n"
    "0D 44 4F 43;DOC\n"
    "3C 3F 78 6D;XML\n"
    "3C 3F 58 4D;XML\n"
    "3C 3F 70 68 70;PHP\n"
    "46 75 6E 63 74 69 6F 6E;VBS\n"
    "FF FE 3C 00 3F 00 78 00 6D 00 6C;Windows At Job\n"
    "FF FE 3C 00 25 00 40;JSP\n"
    "3C 25;JSP\n"
    "FF FE;Windows Registry File\n"
    /* Windows artefacts, disk images, captures */
    "4C 00 00 00 01 14 02 00;LNK\n"
    "72 65 67 66;Registry Hive\n"
    "30 00 00 00 4C 66 4C 65;EVT\n"
    "45 6C 66 46 69 6C;EVTX\n"
    "4D 44 4D 50;MDMP\n"
    "46 49 4C 45;NTFS MFT\n"
    "FF 4B 45 59 42 20 20 20;SYS Keyboard Driver\n"
    "FF FF FF FF;SYS\n"
    "23 20 44 69 73 6B 20 44;VMDK\n"
    "43 4F 57 44;VMDK\n"
    "4B 44 4D;VMDK\n"
    "63 6F 6E 65 63 74 69 78;VHD\n"
    "5F 43 41 53 45 5F;Encase File\n"
    "D4 C3 B2 A1;WINPCAP\n"
    "A1 B2 C3 D4;LIBPCAP\n"
    "A1 B2 CD 34;LIBPCAP\n"
    /* media */
    "FF D8 FF;JPEG\n"
    "47 49 46;GIF\n"
    "43 57 53;CWS\n"
    "5A 57 53;ZWS\n"
    "46 57 53;FWS (Flash)\n"
    /* executables and scripts */
    "CA FE BA BE;Class\n"
    "4D 5A;EXE\n"
    "7F 45;ELF\n"
    "23 21 2F;UNIX SCRIPT\n"
    "23 21;Script\n"
    "E8;SYS\n"
    "E9;SYS\n"
    "EB;SYS\n";

void ab_filetypes_free(ab_filetypes *ft)
{
    if (!ft)
        return;
    for (size_t i = 0; i < ft->n; i++)
        free(ft->v[i].name);
    free(ft->v);
    free(ft);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses one "HEX;Name" line into e; returns 0 on success, else a static message. */
static const char *parse_line(const char *s, size_t len, ft_entry *e)
{
    const char *semi = memchr(s, ';', len);
    if (!semi)
        return "expected HEX;Name";
    int hi = -1;
    e->len = 0;
    for (const char *p = s; p < semi; p++) {
        if (*p == ' ' || *p == '\t')
            continue;
        int v = hexval((unsigned char)*p);
        if (v < 0)
            return "bad hex digit";
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (e->len >= AB_FILETYPE_MAX_MAGIC)
            return "signature too long";
        e->magic[e->len++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0 || e->len == 0)
        return "odd or empty hex";
    size_t nlen = len - (size_t)(semi + 1 - s);
    while (nlen && (semi[nlen] == '\r' || semi[nlen] == ' '))
        nlen--;
    if (nlen == 0 || nlen > 64)
        return "bad name";
    e->name = strndup(semi + 1, nlen);
    return e->name ? NULL : "out of memory";
}

static ft_entry *find_same(const ab_filetypes *ft, const ft_entry *e)
{
    for (size_t i = 0; i < ft->n; i++)
        if (ft->v[i].len == e->len && memcmp(ft->v[i].magic, e->magic, e->len) == 0)
            return &ft->v[i];
    return NULL;
}

ab_status ab_filetypes_parse(const char *text, size_t len, const char *source, ab_diag_fn diag,
                             void *ctx, ab_filetypes **out)
{
    ab_filetypes *ft = calloc(1, sizeof(*ft));
    if (!ft)
        return AB_ERR_NOMEM;
    size_t lineno = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (text + off)) : len - off;
        const char *s = text + off;
        off += l + (nl ? 1 : 0);
        lineno++;
        while (l && (s[l - 1] == '\r' || s[l - 1] == ' '))
            l--;
        if (l == 0 || s[0] == '#')
            continue;
        if (ft->n == ft->alloc) {
            size_t na = ft->alloc ? ft->alloc * 2 : 64;
            ft_entry *nv = na <= 100000 ? realloc(ft->v, na * sizeof(*nv)) : NULL;
            if (!nv) {
                ab_filetypes_free(ft);
                return AB_ERR_NOMEM;
            }
            ft->v = nv;
            ft->alloc = na;
        }
        ft_entry e = {0};
        const char *err = parse_line(s, l, &e);
        if (err) {
            if (diag) {
                char where[512];
                snprintf(where, sizeof(where), "%s:%zu", source, lineno);
                diag(ctx, AB_DIAG_ERROR, where, err);
            }
            continue;
        }
        /* Loki keeps the table in a dict: a repeated signature keeps its first position but
         * takes the last name (signature-base lists "43 57 53" as SWF, later as CWS: CWS). */
        ft_entry *dup = find_same(ft, &e);
        if (dup) {
            free(dup->name);
            dup->name = e.name;
            continue;
        }
        ft->v[ft->n++] = e;
    }
    *out = ft;
    return AB_OK;
}

ab_status ab_filetypes_builtin(ab_filetypes **out)
{
    return ab_filetypes_parse(builtin_table, sizeof(builtin_table) - 1, "builtin", NULL, NULL, out);
}

size_t ab_filetypes_count(const ab_filetypes *ft)
{
    return ft ? ft->n : 0;
}

const char *ab_filetype_of(const ab_filetypes *ft, const uint8_t *data, size_t len)
{
    if (ft && data)
        for (size_t i = 0; i < ft->n; i++)
            if (ft->v[i].len <= len && memcmp(ft->v[i].magic, data, ft->v[i].len) == 0)
                return ft->v[i].name;
    return "UNKNOWN";
}
