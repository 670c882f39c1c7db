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

/* Elements of a location chain: the file plus at most 15 levels of containers. Enforced by the
 * unpack depth limit (ab_unpack_limits.max_depth <= AB_MAX_LOCATION - 1), never cut by the wire. */
#define AB_MAX_LOCATION       16
#define AB_MAX_OBSERVABLES    256  /* per object (ab_unpack_observe) */
#define AB_MAX_OBSERVABLE_LEN 2048 /* bytes of one observable value */

typedef enum ab_object_kind {
    AB_OBJ_FILE = 0, /* a file on disk (st set) or a caller's buffer */
    AB_OBJ_PROCESS,  /* process memory, scanned by pid */
    AB_OBJ_MEMBER,   /* produced by a source from its parent's bytes */
} ab_object_kind;

/* A value a source read from an object (a DNS name from a flow, a Host header), matched against
 * the IOC store once the object is scanned and listed among its observables. type and value as
 * for ab_unpack_observe; where a static token. */
typedef struct ab_observation {
    const char *type, *where;
    const char *value; /* len bytes, no NUL needed */
    size_t len;
    double time; /* when it was read (a capture: its packet's time), seconds since the epoch; 0:
                  * the object's time (a finding on it then says the object's flow time) */
} ab_observation;

/* Borrowed view: the source owns every pointer and keeps it alive while the engine runs. */
typedef struct ab_object {
    ab_object_kind kind;
    const struct ab_object *parent; /* the container (members), else NULL */
    unsigned depth;                 /* 0: top level; location_len == depth + 1 */
    const uint8_t *data;            /* NULL for process objects (scanned by pid) */
    size_t size;
    const char *path; /* file on disk (or "pid:N") */
    const char *const *location;
    const char *const *location_source; /* parallel to location; may be NULL */
    size_t location_len;
    const struct stat *st; /* NULL when not a file on disk */
    int mapped; /* data is the file's private read-only mapping (a top-level file; pool.c) */
    /* Members: what the container says, and THOR's unpack_parent ("ZIP") and unpack_source
     * ("ZIP>OLE": the containers from the top down); "" at top level. */
    double member_mtime;
    uint32_t member_mode;
    const char *unpack_parent, *unpack_source;
    const char *media_type; /* members: the type the container declares (ab_member), or NULL */
    /* Observables sources found in it (ab_unpack_observe); owned by the unpack context. */
    const char *const *observable_type;
    const char *const *observable_value;
    const char *const *observable_where; /* parallel; "pdf.uri", "mail.body", "html.href" */
    size_t observables_len;
    /* The message this object is or belongs to (sources of mail), NULL otherwise; owned by the
     * unpack context, inherited by members (a zip attachment's members keep its part). */
    const ab_mail_info *mail;
    /* The flow this object was carried in (captures), NULL otherwise; owned by its source. */
    const ab_flow_info *flow;
    /* Values its source read from it, matched by the engine inside its verdict (members). */
    const ab_observation *observe;
    size_t n_observe;
    int no_hash;     /* 1: the hash matchers skip it and it has no hashes (ab_member.no_hash) */
    int values_only; /* 1: only its observables are matched (ab_member.values_only) */
    pid_t pid;       /* > 0: process memory object */
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
    /* A member a source did not scan (its location in s). May be NULL (then it is not said). */
    void (*skip)(void *ctx, const ab_skip *s);
    /* A flow or transaction record (captures, with flow records on). May be NULL. */
    void (*record)(void *ctx, const ab_flow_record *r);
} ab_emit;

/* Fill the object part of a finding/event from an object. */
void ab_object_info_fill(ab_object_info *info, const ab_object *obj);

/* Severity token for a 0..100 score (docs/findings.md). */
const char *ab_severity_for_score(int score);

#endif
