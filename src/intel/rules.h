/* rules.h: YARA rules through libyara: loading sources, folders and compiled files, compiling once
 * in the parent (workers share the result copy-on-write), and scanning objects with the Loki/THOR
 * external variables. */
#ifndef AB_RULES_H
#define AB_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"
#include "core/object.h"

typedef struct ab_rules ab_rules;

ab_status ab_rules_new(ab_rules **out);
void ab_rules_free(ab_rules *r);

/* A .yar/.yara file, a compiled (yarac) file (known by its magic, whatever its name), or a folder
 * of rule files: .yar/.yara names and compiled files, with subfolders when recurse is set (at
 * most 32 levels, MAX_SOURCES entries); names starting with '.', '~' or '_' are ignored; sorted
 * by name. Any other file of a folder is skipped with a warning through diag naming it, and a
 * folder with no rule file is an error through diag (AB_ERR_NOTFOUND), though AB_OK is returned.
 * Sources are only queued here; compile errors come from ab_rules_compile. On failure, err
 * receives a one-line reason, which is also reported through diag (with the status). */
ab_status ab_rules_add_path(ab_rules *r, const char *path, int recurse, ab_diag_fn diag, void *ctx,
                            char *err, size_t errlen);
/* Rule text from memory (copied). name is used in diagnostics; ns may be NULL ("default"). */
ab_status ab_rules_add_string(ab_rules *r, const char *source, const char *name, const char *ns);

/* Compile every queued source. A source that fails is reported (file:line: message) and left out;
 * the rest still load. AB_ERR_RULES only when sources were given and none compiled. YARA compiler
 * warnings about the rules that loaded are delivered as AB_DIAG_NOTEs, one per rule. */
ab_status ab_rules_compile(ab_rules *r, ab_diag_fn diag, void *ctx);
size_t ab_rules_count(const ab_rules *r);   /* rules loaded (after compile) */
size_t ab_rules_warned(const ab_rules *r);  /* of those, rules with compiler warnings */
size_t ab_rules_sources(const ab_rules *r); /* sources and compiled files queued */
/* Where the next source and compiled file will go (to attribute rules to an add call). */
void ab_rules_position(const ab_rules *r, size_t *src, size_t *sets);
/* Rules (after compile) from the sources [src_from, src_to) and compiled files [set_from, set_to).
 */
size_t ab_rules_count_range(const ab_rules *r, size_t src_from, size_t src_to, size_t set_from,
                            size_t set_to);
/* Feed the compiled rule sets (after compile) to update, for a digest of the rule set. */
ab_status ab_rules_digest(const ab_rules *r, void (*update)(void *ctx, const void *p, size_t n),
                          void *ctx);

/* Per-process scanning state (YR_SCANNERs); create after fork. */
typedef struct ab_yara ab_yara;

/* Loki/THOR externals for one object. */
typedef struct ab_yara_vars {
    const char *filename, *filepath, *extension, *filetype, *owner, *group;
    const char *md5; /* Loki's legacy external: the MD5 when hashes are computed, else "" */
    const char *unpack_parent, *unpack_source; /* THOR's: "ZIP", "ZIP>OLE"; "" at top level */
    int64_t filemode;
    const ab_flow_info *flow; /* the flow the object was carried in (captures), or NULL */
} ab_yara_vars;

ab_status ab_yara_new(const ab_rules *r, unsigned timeout_s, ab_yara **out);
/* For sweep workers: no try/catch around each scan. libyara installs SIGSEGV and SIGBUS handlers
 * for every scan call (four sigaction and two sigprocmask calls per object: 15 % of the CPU of a
 * mailbox of small parts); a worker catches SIGBUS around the whole object itself, and a SIGSEGV
 * costs the object and the worker, which the parent reports and replaces. */
void ab_yara_no_trycatch(ab_yara *y);
void ab_yara_free(ab_yara *y);
void ab_yara_set_strings(ab_yara *y, int on); /* report matched strings in findings */
/* Run every rule set over obj (its bytes, or the memory of obj->pid for process objects, where
 * rules with meta memory = 0 / memory = false / type = "file" do not run). Findings go to em.
 * Returns AB_ERR_TIMEOUT, AB_ERR_IO etc. with a one-line message in err when a scan could not
 * complete; findings emitted before that stand. */
ab_status ab_yara_scan(ab_yara *y, const ab_object *obj, const ab_yara_vars *vars,
                       const ab_emit *em, char *err, size_t errlen);

#endif
