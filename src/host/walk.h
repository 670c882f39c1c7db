/* walk.h: the safe tree walker (runs in the parent) and the safe file opener (runs in workers).
 * Hostile trees are normal: symlinks are not followed unless asked (then loops are detected),
 * FIFOs/sockets/devices are never opened, /proc, /sys and /dev are skipped by default, depth is
 * bounded, and every file not handed out is reported with a reason. */
#ifndef AB_WALK_H
#define AB_WALK_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "antibody/antibody.h"

#define AB_EXCLUDE_MAX_LEN 4096 /* bytes in one exclude pattern */

/* One compiled exclude pattern. A glob is translated into an anchored POSIX ERE (compiled in the
 * C locale, so names are bytes whatever the caller's locale): '*' -> "[^/]*", '?' -> "[^/]",
 * "**" -> ".*" ("**\/" -> "(.*\/)?"), brackets as in fnmatch (a negated one never matches '/').
 * Rules for what it is matched against: ab_scanner_add_exclude in antibody.h. */
typedef struct ab_exclude {
    char *text;    /* owned: the pattern as given */
    int is_regex;  /* 1: a user ERE searched in the full path; 0: a glob */
    int has_slash; /* glob with '/': full and relative paths; else the base name */
    int dir_only;  /* glob ended in '/': directories only */
    regex_t re;    /* owned */
    uint64_t hits; /* paths this pattern excluded (the walk adds; the caller resets) */
} ab_exclude;

/* Compiles pattern into *x. AB_ERR_ARG (empty, too long), AB_ERR_PARSE (a regex that does not
 * compile or uses a back-reference), AB_ERR_NOMEM; err gets a one-line reason. */
ab_status ab_exclude_init(ab_exclude *x, const char *pattern, int is_regex, char *err,
                          size_t errlen);
void ab_exclude_fini(ab_exclude *x);

typedef struct ab_walk_opts {
    uint64_t max_filesize; /* larger regular files are skipped (AB_SKIP_TOO_LARGE); 0: no limit */
    unsigned max_depth;    /* directories deeper than this below a root are skipped */
    int follow_symlinks;   /* follow symlinks (files and dirs), detecting loops by dev/ino */
    int one_file_system;   /* do not cross into other file systems than the root's */
    int scan_pseudo_fs;    /* 0: skip /proc, /sys, /dev (and anything under them) */
    int scan_remote_fs;    /* 0: skip network and FUSE mount points met inside the walk */
    const char *mountinfo; /* where mounts are listed; NULL: /proc/self/mountinfo (tests) */
    ab_exclude *const
        *excludes; /* borrowed; their hits are counted; an excluded dir is not entered */
    size_t n_excludes;
    const char *cwd; /* relative globs are also matched below it; NULL: getcwd() (tests set it) */
} ab_walk_opts;

typedef enum ab_walk_kind {
    AB_WALK_END = 0, /* no more entries */
    AB_WALK_FILE,    /* a regular file to scan: path, st */
    AB_WALK_SKIP,    /* not scanned: path, reason, st when known */
    AB_WALK_ERROR,   /* could not stat/open/read a path or directory: path, status, message */
} ab_walk_kind;

/* Pointers are valid until the next ab_walk_next/ab_walk_free. */
typedef struct ab_walk_entry {
    ab_walk_kind kind;
    const char *path;
    struct stat st; /* lstat (or stat when following) result; zeroed when unknown */
    ab_skip_reason reason;
    ab_status status;
    const char *message; /* one line, e.g. "cannot open directory: Permission denied" */
} ab_walk_entry;

typedef struct ab_walk ab_walk;

/* roots are copied. A root that is a file yields that file (symlink roots are followed: the user
 * named them). opts and its excludes array must outlive the walk. */
ab_status ab_walk_new(const ab_walk_opts *opts, const char *const *roots, size_t n, ab_walk **out);
ab_status ab_walk_next(ab_walk *w, ab_walk_entry *e);
void ab_walk_free(ab_walk *w);

/* 1 when path is /proc, /sys or /dev or below them. */
int ab_walk_is_pseudo_fs(const char *path);
/* 1 when a file system type (as in /proc/self/mountinfo) is a network or FUSE file system that
 * the walk skips by default. fuseblk (a FUSE driver over a local disk, e.g. ntfs-3g) is not. */
int ab_walk_is_remote_fstype(const char *type);
/* 1 when path matches one of the exclude patterns; every pattern that matches counts a hit.
 * root: the root path is below (NULL: none); cwd: the current directory (NULL: none); is_dir: 1
 * a directory, 0 not, -1 unknown (then directory-only globs do not match). */
int ab_walk_excluded(const ab_walk_opts *opts, const char *path, const char *root, const char *cwd,
                     int is_dir);

/* ---- Safe reading, in the worker ---- */

/* A file's bytes: read into memory for small files, mmap'd for large ones. */
typedef struct ab_mapped {
    const uint8_t *data; /* NULL when size == 0 */
    size_t size;
    struct stat st;
    int fd;     /* -1 after unmap */
    void *map;  /* non-NULL when mmap'd */
    void *heap; /* non-NULL when read into memory */
} ab_mapped;

/* Take an O_PATH descriptor on path (not following a final symlink unless follow), check with
 * fstat that it is a regular file (and, when expect is non-NULL, the dev/ino the walker saw) no
 * larger than max_size, and only then reopen that inode for reading through /proc/self/fd
 * (O_NONBLOCK|O_NOCTTY|O_NOATIME, NOATIME dropped on EPERM): nothing but the vetted file is ever
 * opened. Then map/read it. On failure returns a status and writes a one-line reason into err. */
ab_status ab_file_map(const char *path, int follow, const struct stat *expect, uint64_t max_size,
                      ab_mapped *out, char *err, size_t errlen);
/* After scanning: AB_ERR_IO with a message when the file changed size/mtime while being read. */
ab_status ab_file_check_unchanged(const ab_mapped *m, char *err, size_t errlen);
void ab_file_unmap(ab_mapped *m);

#endif
