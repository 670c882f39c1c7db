/* scanner.h: the ab_scanner behind the public handle, and the per-process engine that runs every
 * matcher over an object. Shared by scanner.c (settings, content, in-process scans) and pool.c
 * (the forked worker pool). */
#ifndef AB_SCANNER_H
#define AB_SCANNER_H

#include <signal.h>

#include "antibody/antibody.h"
#include "core/hash.h"
#include "core/object.h"
#include "host/walk.h"
#include "intel/filetype.h"
#include "intel/ioc.h"
#include "intel/lookalike.h"
#include "intel/rules.h"

typedef struct ab_engine ab_engine;

struct ab_scanner {
    /* settings */
    unsigned workers;
    uint64_t max_filesize;
    unsigned timeout;
    unsigned max_depth;
    ab_exclude **excludes; /* owned: globs and regexes, in the order added */
    size_t n_excludes;
    int follow_symlinks, one_file_system, scan_pseudo_fs, scan_remote_fs, hash_all, list_objects,
        flow_records, containers_only, strict, lookalike;
    int strings;               /* report matched strings */
    unsigned max_cpu;          /* percent of one core per worker; 0: no limit */
    uint64_t max_io;           /* bytes per second over all workers; 0: no limit */
    unsigned min_score;        /* report objects whose combined score reaches it */
    unsigned levels[3];        /* alert, warning, notice thresholds */
    struct ab_load_rec *loads; /* owned: one per add call, for ab_scanner_load_info */
    size_t n_loads;
    ab_content_source *load_view; /* owned, built by ab_scanner_load_info */
    char digest[65];
    ab_progress_fn progress;
    void *progress_ctx;
    ab_diag2_fn diag2; /* ab_scanner_set_diag: overrides the per-call ab_diag_fn */
    void *diag2_ctx;
    int rules_recurse; /* ab_scanner_add_rules descends into subfolders */
    int unpack;        /* look inside containers (ab_scanner_set_unpack) */
    ab_unpack_limits unpack_limits;
    ab_capture_limits capture_limits; /* read by the pcap source, in the workers after fork */
    char **passwords;                 /* owned, each owned */
    size_t n_passwords;
    char **protected_domains; /* owned, each owned: lower-case A-labels, no trailing dot
                                 (ab_scanner_add_protected_domain, ab_domain_normalize) */
    size_t n_protected_domains;
    /* content, owned; read-only after compile and shared with forked workers */
    ab_rules *rules;
    ab_iocs *iocs;
    ab_filetypes *filetypes;
    ab_lookalike *lookalikes; /* NULL when the lookalike check is off */
    int compiled;
    int need_hash;                /* hash_all or hash IOCs loaded */
    volatile sig_atomic_t cancel; /* set by ab_scanner_cancel, cleared when a scan starts */
    /* in-process engine for ab_scan_buffer, created on first use */
    ab_engine *local;
    char errmsg[1024];
};

/* Per-process matcher state: create in each worker after fork. */
ab_status ab_engine_new(const ab_scanner *sc, ab_engine **out);
void ab_engine_free(ab_engine *e);

/* A sweep worker's engine: the worker guards each object itself (SIGBUS jump, death reported by
 * the parent), so libyara's per-scan signal handlers are left out (ab_yara_no_trycatch). */
void ab_engine_worker_mode(ab_engine *e);

/* The worker's hooks around members (unpack/unpack.h); NULL: none. */
struct ab_unpack_hooks;
void ab_engine_set_unpack_hooks(ab_engine *e, const struct ab_unpack_hooks *h);
/* Members scanned inside the last top-level object, and their bytes. */
void ab_engine_unpack_stats(const ab_engine *e, uint64_t *members, uint64_t *bytes);
/* The counters of the captures read since the last call: 1 when there were any (then cleared). */
int ab_engine_net_take(ab_engine *e, ab_net_summary *out);
/* The same without clearing, with the top-level capture being read so far (ab_unpack_net_peek). */
int ab_engine_net_peek(const ab_engine *e, ab_net_summary *out);

/* Run every matcher over obj, then (unless it is allow-listed) offer it to the sources, which
 * scan its members the same way, recursively. *allowed is set when the object's hash is on an
 * allow-list (then no matcher ran). Errors that did not stop the other matchers are emitted through
 * em and also returned (the first one), with a one-line message in err. */
ab_status ab_engine_scan(ab_engine *e, ab_object *obj, const ab_emit *em, int *allowed, char *err,
                         size_t errlen);

/* One part of an mbox split across workers (unpack.h): the next ab_engine_scan or
 * ab_engine_scan_members unpacks only range's messages; mbox_only as in ab_unpack_set_part. */
struct ab_mbox_range;
void ab_engine_set_part(ab_engine *e, const struct ab_mbox_range *range, uint64_t file_size,
                        int mbox_only);
/* A part that is not the owner's: obj's members only. No matcher runs on obj itself (the owner
 * did that); its limit findings still join a verdict of obj's. */
void ab_engine_scan_members(ab_engine *e, ab_object *obj, const ab_emit *em);

/* A live capture (obj without data): run yields its members (unpack.h ab_unpack_run_live), each
 * scanned as a member; obj's own findings (observables over the flows' bounds, limits) are its
 * verdict's, delivered at the end. -1 when unpacking is off (nothing would be scanned). */
struct ab_source;
struct ab_unpack;
int ab_engine_scan_live(ab_engine *e, ab_object *obj, const struct ab_source *as,
                        ab_status (*run)(struct ab_unpack *u, void *ctx), void *ctx,
                        const ab_emit *em);

/* Build ab_walk_opts from the scanner settings (excludes point into sc). */
void ab_scanner_walk_opts(const ab_scanner *sc, ab_walk_opts *o);

/* Content accounting (loadinfo.c): a mark before an add call, a record after it. */
typedef struct ab_load_mark {
    size_t src, sets, iocs;
} ab_load_mark;
void ab_load_mark_now(const ab_scanner *sc, ab_load_mark *m);
void ab_load_record(ab_scanner *sc, const char *kind, const char *name, const ab_load_mark *m);
void ab_load_free(ab_scanner *sc);

/* Counters of captures summed (saturating): the parent's summary, ab_scan_host's parts. */
void ab_net_summary_add(ab_net_summary *to, const ab_net_summary *s);

double ab_now(void);
void ab_scanner_set_error(ab_scanner *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
