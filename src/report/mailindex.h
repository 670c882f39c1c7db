/* mailindex.h: the mail index (--mail-index): one record per message, built from the object
 * events of a sweep (every object, members too, as --list gives them), for triage even without
 * findings: ids, addresses, subject, date, its parts with names and hashes, and every URL found in
 * it or in anything inside it. Objects of a file come post-order (members before their
 * container), so a message's record is complete when the message's own object arrives; objects
 * of different files may interleave (workers run in parallel), so records are keyed by location.
 * Memory: records of messages still being scanned (a few per worker), each bounded. */
#ifndef AB_MAILINDEX_H
#define AB_MAILINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"

#define AB_MAILINDEX_MAX_PARTS 1000 /* parts listed per message; more are counted */
#define AB_MAILINDEX_MAX_URLS  1000 /* distinct URLs listed per message; more are counted */
#define AB_MAILINDEX_MAX_OPEN  4096 /* messages open at once; more are dropped and counted */
#define AB_MAILINDEX_MAX_LOC   16   /* location elements (the library bounds chains to 16) */

typedef struct ab_mail_part_rec {
    char *name; /* owned */
    char *part; /* owned; NULL for an embedded message */
    uint64_t size;
    char sha256[65]; /* "" when not hashed */
    int body;        /* a body part without a file name (named "part-<path>.<ext>") */
} ab_mail_part_rec;

typedef struct ab_mail_record {
    char *key; /* owned: path and message location, NUL-separated */
    size_t key_len;
    /* the message: filled when its own object arrives (all owned) */
    char *path;
    char *loc[AB_MAILINDEX_MAX_LOC], *locsrc[AB_MAILINDEX_MAX_LOC];
    size_t loc_len;
    ab_mail_info mail; /* strings owned */
    uint64_t size;
    char sha256[65];
    int complete; /* 0: the sweep ended before the message's own object (a worker died) */
    ab_mail_part_rec *parts;
    size_t n_parts;
    uint64_t parts_omitted;
    char **urls; /* owned, distinct */
    size_t n_urls;
    uint64_t urls_omitted;
} ab_mail_record;

typedef struct ab_mailindex ab_mailindex;
/* emit gets each finished record; the record is freed after the call. */
typedef void (*ab_mailindex_emit)(void *ctx, const ab_mail_record *r);

ab_status ab_mailindex_new(ab_mailindex_emit emit, void *ctx, ab_mailindex **out);
/* Emits what is still open (complete = 0), then frees. */
void ab_mailindex_free(ab_mailindex *x);
/* Feed one object event (any object: those not from mail are ignored). */
void ab_mailindex_object(ab_mailindex *x, const ab_object_info *o);
/* Records dropped because more than AB_MAILINDEX_MAX_OPEN were open, or memory ran out. */
uint64_t ab_mailindex_dropped(const ab_mailindex *x);

#endif
