/* verdict.h: an object's findings are held until every matcher has run over it, then delivered
 * together, each carrying the object's combined score and level; under the minimum score they
 * are counted as suppressed instead. Loki and THOR users read one verdict per file, not a list
 * of rule scores. */
#ifndef AB_VERDICT_H
#define AB_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "core/object.h"

/* Findings held per object; a file matching more rules than this is a limit error. */
#define AB_MAX_OBJECT_FINDINGS 4096

typedef struct ab_verdict {
    const ab_object *obj;
    const ab_emit *down; /* where the findings go in the end */
    unsigned min_score;
    const unsigned *levels; /* alert, warning, notice */
    ab_finding **held;      /* owned, each one allocation (finding_copy) */
    size_t n, cap;
    int full;   /* the limit error was sent */
    int stop;   /* down asked to stop */
    ab_emit up; /* what matchers emit to */
} ab_verdict;

/* Start collecting for obj. The returned emit is valid until ab_verdict_end. */
const ab_emit *ab_verdict_begin(ab_verdict *v, const ab_object *obj, const ab_emit *down,
                                unsigned min_score, const unsigned levels[3]);
/* Deliver (or count as suppressed) and free what was held. Returns 1 if down asked to stop. */
int ab_verdict_end(ab_verdict *v);

/* THOR's combination: with the scores sorted high to low, 100 * (1 - prod(1 - s_i/100/2^i)),
 * rounded. Sorts scores in place. */
int ab_combined_score(int *scores, size_t n);
/* "alert", "warning", "notice" or "info". */
const char *ab_level_for(int score, const unsigned levels[3]);

#endif
