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
    char **excludes; /* owned */
    size_t n_excludes;
    int follow_symlinks, one_file_system, scan_pseudo_fs, scan_remote_fs, hash_all, list_objects,
        strict, lookalike;
    ab_progress_fn progress;
    void *progress_ctx;
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

/* Run every matcher over obj. *allowed is set when the object's hash is on an allow-list (then no
 * matcher ran). Errors that did not stop the other matchers are emitted through em and also
 * returned (the first one), with a one-line message in err. */
ab_status ab_engine_scan(ab_engine *e, ab_object *obj, const ab_emit *em, int *allowed, char *err,
                         size_t errlen);

/* Build ab_walk_opts from the scanner settings (excludes point into sc). */
void ab_scanner_walk_opts(const ab_scanner *sc, ab_walk_opts *o);

double ab_now(void);
void ab_scanner_set_error(ab_scanner *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
