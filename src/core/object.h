/* object.h: what a source yields and every matcher sees: bytes plus metadata. Sources (files,
 * later archive members, mail parts, TCP streams) fill one in; the engine runs each matcher over
 * it exactly once. */
#ifndef AB_OBJECT_H
#define AB_OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "antibody/antibody.h"

#define AB_MAX_LOCATION 16 /* nesting depth of location chains (archive in mail in ...) */

/* Borrowed view: the source owns every pointer and keeps it alive while the engine runs. */
typedef struct ab_object {
    const uint8_t *data; /* NULL for process objects (scanned by pid) */
    size_t size;
    const char *path; /* file on disk (or "pid:N") */
    const char *const *location;
    size_t location_len;
    const struct stat *st; /* NULL when not a file on disk */
    pid_t pid;             /* > 0: process memory object */
    const char *process_name, *cmdline;
    const char *exe, *user; /* process objects: context, NULL when unknown */
    int exe_deleted;
    pid_t ppid;
    double start_time;
    /* Set by the engine before the matchers run (files with st only). */
    const char *owner, *group, *filetype;
    /* Filled by the engine when hashing is on. */
    int hashed;
    char md5[33], sha1[41], sha256[65];
} ab_object;

/* Where matchers send results. In-process scans deliver straight to the caller's sink; workers
 * serialise to the parent. A non-zero return asks the engine to stop on this object. */
typedef struct ab_emit {
    int (*finding)(void *ctx, const ab_finding *f);
    int (*error)(void *ctx, const ab_error *e);
    void *ctx;
    /* n findings were not reported: their object scored below the minimum score. May be NULL. */
    void (*suppressed)(void *ctx, uint64_t n);
} ab_emit;

/* Fill the object part of a finding/event from an object. */
void ab_object_info_fill(ab_object_info *info, const ab_object *obj);

/* Severity token for a 0..100 score (docs/findings.md). */
const char *ab_severity_for_score(int score);

#endif
