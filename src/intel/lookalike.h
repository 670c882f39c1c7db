/* lookalike.h: names that imitate system binaries (Loki's Levenshtein check, THOR's
 * "lookalike"): a file or process name one edit, or a few digit/letter homoglyphs, away from a
 * protected name (svch0st.exe, lsas.exe, kworkerd), but not the name itself. The protected names
 * are a built-in list plus the protected-name IOCs (docs/lookalike.md). */
#ifndef AB_LOOKALIKE_H
#define AB_LOOKALIKE_H

#include <stddef.h>

#include "antibody/antibody.h"
#include "intel/ioc.h"

#define AB_LOOKALIKE_MAX_NAME      128 /* bytes of a protected name */
#define AB_LOOKALIKE_MIN_HOMOGLYPH 4   /* shorter names are never checked */
#define AB_LOOKALIKE_MIN_EDIT      6   /* shorter names: homoglyph spellings only */
#define AB_LOOKALIKE_SCORE         60  /* built-in names and protected-name IOCs without a score */
#define AB_LOOKALIKE_COMM_LEN      15  /* Linux truncates process names (comm) to 15 bytes */

typedef enum ab_lookalike_kind {
    AB_LOOKALIKE_HOMOGLYPH = 1, /* the same name once homoglyphs are folded (svch0st.exe) */
    AB_LOOKALIKE_EDIT,          /* one insertion, deletion, substitution or transposition */
    AB_LOOKALIKE_EDIT_HOMOGLYPH /* one edit once homoglyphs are folded (5vhcost.exe) */
} ab_lookalike_kind;

/* What a name imitates. Strings belong to the table (or to the IOC store it was built from). */
typedef struct ab_lookalike_hit {
    const char *name;        /* the protected name, lower-cased */
    const char *source;      /* "builtin" or the IOC's "file:line" */
    const char *description; /* never NULL */
    int score;
    ab_lookalike_kind kind;
} ab_lookalike_hit;

typedef struct ab_lookalike ab_lookalike;

/* Build the table from the built-in list and the protected-name IOCs of a compiled store (which
 * must outlive the table). Read-only afterwards: safe to share with forked workers. */
ab_status ab_lookalike_new(const ab_iocs *iocs, ab_lookalike **out);
void ab_lookalike_free(ab_lookalike *l);
size_t ab_lookalike_count(const ab_lookalike *l); /* protected names (built-in + IOCs) */

/* 1 and *hit filled when name (len bytes, a base name) imitates a protected name. process: name
 * is a process name (comm), compared with the protected names cut to 15 bytes as the kernel cuts
 * them. Costs O(names of a length within one of len) times len; names over 129 bytes are never
 * lookalikes. */
int ab_lookalike_check(const ab_lookalike *l, const char *name, size_t len, int process,
                       ab_lookalike_hit *hit);

/* Damerau-Levenshtein (optimal string alignment) distance of a and b, capped: 0, 1, or 2 for
 * "two or more". Linear time. */
int ab_edit_distance1(const char *a, size_t an, const char *b, size_t bn);

/* Lower-case ASCII and fold homoglyphs: 0 -> o, 1 and i -> l, 5 -> s, rn -> m, vv -> w. out
 * needs n + 1 bytes; returns the folded length. */
size_t ab_homoglyph_fold(const char *in, size_t n, char *out);

#endif
