/* packs.h: built-in content packs (rules/<name>/), embedded into the library at build time by
 * scripts/embed-packs so a copied binary carries them; found without a path. */
#ifndef AB_PACKS_H
#define AB_PACKS_H

#include <stddef.h>

#include "antibody/antibody.h"
#include "intel/ioc.h"
#include "intel/rules.h"

/* Embedded contents are XORed with this byte (scripts/embed-packs): the library must not carry
 * the rules' strings in clear, or scanning the binary would match its own rules. */
#define AB_PACK_XOR 0xA5

typedef struct ab_pack_file {
    const char *name; /* file name inside the pack, e.g. "wellmess.yar" */
    const char *data; /* XORed with AB_PACK_XOR; NUL-terminated (the NUL is not XORed) */
    size_t len;
} ab_pack_file;

typedef struct ab_pack_def {
    const char *name;
    const char *description;
    const ab_pack_file *files;
    size_t n_files;
} ab_pack_def;

/* Generated (packs_data.c). */
extern const ab_pack_def ab_builtin_packs[];
extern const size_t ab_builtin_pack_count;

/* Queue a pack's YARA sources (namespace = pack name) and load its IOC files. */
ab_status ab_pack_load(const char *name, ab_rules *rules, ab_iocs *iocs, ab_diag_fn diag,
                       void *ctx);

#endif
