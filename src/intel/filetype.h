/* filetype.h: the Loki/THOR `filetype` external: a magic-header table of "HEX;Name" lines, the
 * first line in file order whose bytes prefix the object wins, else "UNKNOWN"; a signature listed
 * twice keeps its first place and takes the last name, as in Loki's dict. A built-in table
 * of common types is used unless signature-base's misc/file-type-signatures.txt is loaded. */
#ifndef AB_FILETYPE_H
#define AB_FILETYPE_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"

#define AB_FILETYPE_MAX_MAGIC 32 /* bytes; longer signatures are rejected */

typedef struct ab_filetypes ab_filetypes;

ab_status ab_filetypes_builtin(ab_filetypes **out);
/* Parse "HEX BYTES;Name" lines (spaces in the hex allowed, '#' comments). Bad lines are reported
 * through diag and skipped. */
ab_status ab_filetypes_parse(const char *text, size_t len, const char *source, ab_diag_fn diag,
                             void *ctx, ab_filetypes **out);
void ab_filetypes_free(ab_filetypes *ft);
size_t ab_filetypes_count(const ab_filetypes *ft);
/* Never NULL: the name, or "UNKNOWN". */
const char *ab_filetype_of(const ab_filetypes *ft, const uint8_t *data, size_t len);

#endif
