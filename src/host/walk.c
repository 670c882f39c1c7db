/* walk.c: the sweep's tree walker, built so that a hostile tree can neither hang it nor lead it
 * out of the roots it was given.
 *
 * Design, and why:
 *  - One open DIR per level of the current path, on an explicit stack (no recursion). Children are
 *    reached with fstatat/openat relative to their parent's fd, so a renamed or swapped parent
 *    cannot redirect us, and a directory is read lazily: memory is bounded by the depth, not by
 *    the size of a directory.
 *  - Depth: a root is depth 0; a directory deeper than max_depth is reported (AB_SKIP_DEPTH) and
 *    not entered. max_depth is capped at WALK_DEPTH_CAP (256) and, so that the open DIRs never
 *    use more than half of RLIMIT_NOFILE, lowered further when that soft limit is small.
 *  - Classification uses lstat (fstatat AT_SYMLINK_NOFOLLOW), helped by d_type: symlinks (unless
 *    following) and FIFOs, sockets and devices are reported without any syscall and never opened.
 *    The walker opens directories only, with O_DIRECTORY|O_NOFOLLOW|O_NONBLOCK.
 *  - What is entered is what was checked: after openat, fstat the fd; when it is not the inode
 *    lstat saw (raced, or an automount), every check is run again on what was really opened.
 *  - Loops: without follow_symlinks only bind mounts can loop, caught by comparing with the
 *    directories on the current path. With follow_symlinks every directory entered is remembered
 *    (dev, ino) for the whole walk, which also stops a tree of symlinks to siblings from making
 *    the walk exponential; a repeat is AB_SKIP_LOOP (also for overlapping roots).
 *  - Pseudo file systems (unless scan_pseudo_fs): a root is compared by its canonical path
 *    (realpath) with /proc, /sys, /dev; inside the walk a directory is skipped when it is the
 *    /proc, /sys or /dev directory (by dev/ino, so "/./proc" or a bind mount are caught), when it
 *    is on the device of the mounted /proc or /sys, or when, entered across a mount point or
 *    through a symlink, fstatfs says it is a kernel pseudo file system (proc, sysfs, devpts,
 *    debugfs, cgroup, ...): a /proc mounted elsewhere is skipped too. devtmpfs cannot be told
 *    apart from tmpfs by its magic, so a /dev mounted elsewhere is not detected; its devices are
 *    still never opened (AB_SKIP_SPECIAL).
 *  - Network and FUSE file systems (unless scan_remote_fs): their mount points are read from
 *    /proc/self/mountinfo when the walk starts, and an entry whose path is one of them is skipped
 *    by name, before any syscall touches it: a stat on a hung NFS server or on a FUSE file system
 *    that never answers would block the walk (in the parent, for the whole sweep). Roots the
 *    user names are scanned. Mounts reached only through a followed symlink are not recognised.
 *  - Paths are built in one buffer of PATH_MAX bytes: a longer path is an error, never truncated.
 *    A root's trailing slashes are dropped ("dir/" -> "dir", "/" stays), so joins never give "//".
 *  - Excludes: globs (translated to POSIX EREs: '*' stays within a component, '**' crosses) and
 *    regexes, checked by name before any syscall on the entry. A glob without '/' is matched
 *    against the base name; one with '/' against the full path and the paths below the root and
 *    below the current directory; a directory-only glob ("dir/") waits for the entry's type.
 *  - Hard links are not deduplicated: the same inode may be handed out under two names. */
#include "host/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#define WALK_DEPTH_CAP 256
#define WALK_PATH_MAX  PATH_MAX

#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC 0x62656570
#endif
#ifndef FUSECTL_MAGIC
#define FUSECTL_MAGIC 0x65735543
#endif
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

/* One directory on the current path. The frame at stack index d is at depth d. */
typedef struct frame {
    DIR *dir;  /* owned, closed on pop */
    int fd;    /* dirfd(dir), for the *at() calls */
    dev_t dev; /* identity, for loop and mount-point checks */
    ino_t ino;
    size_t path_len; /* length of this directory's path in ab_walk.path */
} frame;

typedef struct dir_id {
    dev_t dev;
    ino_t ino;
} dir_id;

/* Open-addressing set of directory identities. Invariant: 2 * n <= cap, cap is 0 or a power of
 * two, a slot is free when used == 0. Owns slots. */
typedef struct id_set {
    struct id_slot {
        dir_id id;
        int used;
    } * slots;
    size_t cap, n;
} id_set;

struct ab_walk {
    const ab_walk_opts *opts; /* borrowed: outlives the walk */
    char **roots;             /* owned copies */
    size_t n_roots, next_root;
    frame *stack; /* owned, max_depth + 1 frames */
    size_t top;   /* frames in use; also the depth of the next child directory */
    unsigned max_depth;
    dev_t root_dev;       /* st_dev of the current root, for one_file_system */
    const char *root;     /* the current root (points into roots) */
    char *cwd;            /* owned, may be NULL: relative globs are also matched below it */
    dir_id pseudo_dir[3]; /* /proc, /sys, /dev as found when the walk started */
    size_t n_pseudo_dir;
    dev_t pseudo_dev[2]; /* devices of the proc and sysfs mounted on /proc and /sys */
    size_t n_pseudo_dev;
    dir_id dev_dir; /* /dev, whose skip queues /dev/shm (see queue_dev_shm) */
    int has_dev_dir;
    int shm_queued;
    id_set visited; /* every directory entered, only when following symlinks */
    char **remote;  /* owned, sorted: mount points of network/FUSE file systems */
    size_t n_remote;
    size_t path_len; /* length of the path last built in path */
    char path[WALK_PATH_MAX];
    char msg[160];
};

/* ---- Small helpers ------------------------------------------------------------------------ */

static const char *errno_text(int err)
{
    /* strerrordesc_np: thread-safe and untranslated, so messages are stable in logs. */
    const char *s = strerrordesc_np(err);
    return s ? s : "Unknown error";
}

static int is_dot_or_dotdot(const char *name)
{
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static int same_id(dir_id a, dev_t dev, ino_t ino)
{
    return a.dev == dev && a.ino == ino;
}

/* Appends "/name" to the first base_len bytes of w->path. 0 when the result would not fit. */
static int join_path(ab_walk *w, size_t base_len, const char *name)
{
    size_t name_len = strlen(name);
    size_t sep = (base_len > 0 && w->path[base_len - 1] != '/') ? 1 : 0;

    if (name_len >= sizeof(w->path) - base_len - sep)
        return 0;
    if (sep)
        w->path[base_len] = '/';
    memcpy(w->path + base_len + sep, name, name_len + 1);
    w->path_len = base_len + sep + name_len;
    return 1;
}

/* ---- Entries -------------------------------------------------------------------------------- */

static int emit(ab_walk_entry *e, ab_walk_kind kind, const char *path, const struct stat *st)
{
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->path = path;
    if (st)
        e->st = *st;
    return 1;
}

static void queue_dev_shm(ab_walk *w, const struct stat *st);

static int emit_skip(ab_walk *w, ab_walk_entry *e, ab_skip_reason why, const struct stat *st)
{
    if (why == AB_SKIP_PSEUDO_FS)
        queue_dev_shm(w, st);
    emit(e, AB_WALK_SKIP, w->path, st);
    e->reason = why;
    return 1;
}

static int emit_error_msg(ab_walk_entry *e, const char *path, ab_status status, const char *msg)
{
    emit(e, AB_WALK_ERROR, path, NULL);
    e->status = status;
    e->message = msg;
    return 1;
}

static int emit_errno(ab_walk *w, ab_walk_entry *e, const char *what, int err)
{
    snprintf(w->msg, sizeof(w->msg), "%s: %s", what, errno_text(err));
    return emit_error_msg(e, w->path,
                          err == ENOMEM   ? AB_ERR_NOMEM
                          : err == ENOENT ? AB_ERR_NOTFOUND
                                          : AB_ERR_IO,
                          w->msg);
}

/* Regular files are the only thing handed out; size is the only reason to hold one back. */
static int emit_file(ab_walk *w, ab_walk_entry *e, const struct stat *st)
{
    if (w->opts->max_filesize && (uint64_t)st->st_size > w->opts->max_filesize)
        return emit_skip(w, e, AB_SKIP_TOO_LARGE, st);
    return emit(e, AB_WALK_FILE, w->path, st);
}

/* ---- The visited set (follow_symlinks only) -------------------------------------------------- */

static size_t id_hash(dir_id id)
{
    uint64_t h = (uint64_t)id.ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)id.dev;

    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (size_t)h;
}

static struct id_slot *id_set_find(const id_set *s, dir_id id)
{
    size_t i = id_hash(id) & (s->cap - 1);

    while (s->slots[i].used && !same_id(s->slots[i].id, id.dev, id.ino))
        i = (i + 1) & (s->cap - 1);
    return &s->slots[i];
}

static int id_set_has(const id_set *s, dir_id id)
{
    return s->cap && id_set_find(s, id)->used;
}

static int id_set_grow(id_set *s)
{
    id_set bigger = {NULL, s->cap ? s->cap * 2 : 64, 0};

    if (bigger.cap < s->cap)
        return ENOMEM;
    bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
    if (!bigger.slots)
        return ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i].used)
            *id_set_find(&bigger, s->slots[i].id) = s->slots[i];
    }
    bigger.n = s->n;
    free(s->slots);
    *s = bigger;
    return 0;
}

static int id_set_add(id_set *s, dir_id id)
{
    struct id_slot *slot;

    if (2 * (s->n + 1) > s->cap && id_set_grow(s) != 0)
        return ENOMEM;
    slot = id_set_find(s, id);
    if (!slot->used) {
        slot->id = id;
        slot->used = 1;
        s->n++;
    }
    return 0;
}

/* ---- Pseudo file systems -------------------------------------------------------------------- */

int ab_walk_is_pseudo_fs(const char *path)
{
    static const char *const tops[] = {"proc", "sys", "dev"};

    if (!path || path[0] != '/')
        return 0;
    while (*path == '/')
        path++;
    /* /dev/shm is tmpfs, world-writable storage and a common drop place: it is scanned. */
    if (strncmp(path, "dev/shm", 7) == 0 && (path[7] == '\0' || path[7] == '/'))
        return 0;
    for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
        size_t n = strlen(tops[i]);
        if (strncmp(path, tops[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
            return 1;
    }
    return 0;
}

/* Kernel interfaces rather than storage: reading them is slow, endless or has side effects. */
static int is_pseudo_magic(unsigned long magic)
{
    static const unsigned long magics[] = {
        PROC_SUPER_MAGIC,    SYSFS_MAGIC,      DEVPTS_SUPER_MAGIC, DEBUGFS_MAGIC,
        TRACEFS_MAGIC,       SECURITYFS_MAGIC, SELINUX_MAGIC,      CGROUP_SUPER_MAGIC,
        CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC,     PSTOREFS_MAGIC,     EFIVARFS_MAGIC,
        BINFMTFS_MAGIC,      CONFIGFS_MAGIC,   FUSECTL_MAGIC,      MQUEUE_MAGIC,
    };

    for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
        if (magic == magics[i])
            return 1;
    }
    return 0;
}

static int fd_on_pseudo_fs(int fd)
{
    struct statfs sf;

    return fstatfs(fd, &sf) == 0 && is_pseudo_magic((unsigned long)sf.f_type);
}

/* Remembers where /proc, /sys and /dev are, so they are recognised under any name. The device
 * of /proc and /sys is remembered only when a proc/sysfs is really mounted there: an empty /proc
 * directory must not make the whole root file system "pseudo". */
static void note_pseudo_fs(ab_walk *w)
{
    static const char *const dirs[] = {"/proc", "/sys", "/dev"};
    static const unsigned long magic[] = {PROC_SUPER_MAGIC, SYSFS_MAGIC, 0};

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        struct stat st;
        struct statfs sf;
        if (lstat(dirs[i], &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        w->pseudo_dir[w->n_pseudo_dir++] = (dir_id){st.st_dev, st.st_ino};
        if (i == 2) {
            w->dev_dir = (dir_id){st.st_dev, st.st_ino};
            w->has_dev_dir = 1;
        }
        if (magic[i] && statfs(dirs[i], &sf) == 0 && (unsigned long)sf.f_type == magic[i])
            w->pseudo_dev[w->n_pseudo_dev++] = st.st_dev;
    }
}

/* Skipping /dev must not hide /dev/shm, a tmpfs any user can write to and a classic place to drop
 * tools: when the walk skips /dev itself (st, or by its path when st is NULL), /dev/shm is walked
 * as an extra root (once, only when it is really a tmpfs directory, and not with
 * one_file_system, since it is another file system). */
static void queue_dev_shm(ab_walk *w, const struct stat *st)
{
    struct stat sb;
    struct statfs sf;
    int is_dev = st ? same_id(w->dev_dir, st->st_dev, st->st_ino) : strcmp(w->path, "/dev") == 0;
    if (!w->has_dev_dir || w->shm_queued || w->opts->one_file_system || !is_dev)
        return;
    w->shm_queued = 1;
    if (lstat("/dev/shm", &sb) != 0 || !S_ISDIR(sb.st_mode) || statfs("/dev/shm", &sf) != 0 ||
        (unsigned long)sf.f_type != TMPFS_MAGIC)
        return;
    for (size_t i = 0; i < w->n_roots; i++)
        if (strcmp(w->roots[i], "/dev/shm") == 0)
            return; /* the user named it */
    char **r = realloc(w->roots, (w->n_roots + 1) * sizeof(*r));
    if (!r)
        return;
    w->roots = r;
    if ((r[w->n_roots] = strdup("/dev/shm")))
        w->n_roots++;
}

static int on_pseudo_dev(const ab_walk *w, const struct stat *st)
{
    if (w->opts->scan_pseudo_fs)
        return 0;
    for (size_t i = 0; i < w->n_pseudo_dev; i++) {
        if (st->st_dev == w->pseudo_dev[i])
            return 1;
    }
    return 0;
}

static int is_pseudo_dir(const ab_walk *w, const struct stat *st)
{
    if (w->opts->scan_pseudo_fs)
        return 0;
    for (size_t i = 0; i < w->n_pseudo_dir; i++) {
        if (same_id(w->pseudo_dir[i], st->st_dev, st->st_ino))
            return 1;
    }
    return on_pseudo_dev(w, st);
}

/* A root is what the user typed, so it is judged by where it really leads. */
static int root_is_pseudo(const ab_walk *w, const struct stat *st)
{
    char *real;
    int pseudo;
    struct statfs sf;

    if (w->opts->scan_pseudo_fs)
        return 0;
    if (on_pseudo_dev(w, st))
        return 1;
    real = realpath(w->path, NULL);
    pseudo = real && ab_walk_is_pseudo_fs(real);
    free(real);
    /* Directories get an fstatfs on the opened fd; files only this check by name. */
    if (!pseudo && !S_ISDIR(st->st_mode) && statfs(w->path, &sf) == 0)
        pseudo = is_pseudo_magic((unsigned long)sf.f_type);
    return pseudo;
}

/* ---- Network and FUSE mounts ------------------------------------------------------------- */

int ab_walk_is_remote_fstype(const char *type)
{
    static const char *const remote[] = {
        "nfs",      "nfs4",  "cifs",  "smb3",   "smbfs",  "9p",        "ceph",
        "afs",      "ncpfs", "davfs", "coda",   "lustre", "glusterfs", "orangefs",
        "virtiofs", "ocfs2", "gfs2",  "beegfs", "gpfs",
    };

    if (!type)
        return 0;
    if (strncmp(type, "fuse", 4) == 0) /* fuse, fuse.sshfs, ...; fuseblk is a local disk */
        return strcmp(type, "fuseblk") != 0 && strcmp(type, "fusectl") != 0;
    for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
        if (strcmp(type, remote[i]) == 0)
            return 1;
    }
    return 0;
}

/* Decodes mountinfo's octal escapes (\040 for a space, ...) in place. */
static void unescape_mount(char *s)
{
    char *o = s;

    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            *o++ = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
            p += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

#define MAX_REMOTE_MOUNTS 65536

/* Collects the mount points of network/FUSE file systems. Best effort: without /proc nothing is
 * known and nothing is skipped by this rule. */
static void note_remote_fs(ab_walk *w)
{
    FILE *f = fopen(w->opts->mountinfo ? w->opts->mountinfo : "/proc/self/mountinfo", "re");
    char *line = NULL;
    size_t cap = 0;

    if (!f)
        return;
    while (getline(&line, &cap, f) > 0 && w->n_remote < MAX_REMOTE_MOUNTS) {
        /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS */
        char *save = NULL, *field, *mnt = NULL, *type = NULL;
        int i = 0, after_dash = 0;
        for (field = strtok_r(line, " \n", &save); field; field = strtok_r(NULL, " \n", &save)) {
            if (i++ == 4)
                mnt = field;
            else if (after_dash) {
                type = field;
                break;
            } else if (i > 6 && strcmp(field, "-") == 0)
                after_dash = 1;
        }
        if (!mnt || !type || !ab_walk_is_remote_fstype(type))
            continue;
        unescape_mount(mnt);
        char **v = realloc(w->remote, (w->n_remote + 1) * sizeof(*v));
        if (!v)
            break;
        w->remote = v;
        if ((v[w->n_remote] = strdup(mnt)))
            w->n_remote++;
    }
    free(line);
    fclose(f);
    if (w->n_remote)
        qsort(w->remote, w->n_remote, sizeof(*w->remote), cmp_str);
}

static int is_remote_mount(const ab_walk *w, const char *path)
{
    const char *key = path;

    return w->n_remote &&
           bsearch(&key, w->remote, w->n_remote, sizeof(*w->remote), cmp_str) != NULL;
}

/* ---- Excludes ------------------------------------------------------------------------------- */

/* The translation of a glob, written into a buffer sized for the worst case (8 bytes per byte). */
typedef struct re_out {
    char *s;
    size_t n;
} re_out;

static void put(re_out *o, const char *s)
{
    size_t k = strlen(s);

    memcpy(o->s + o->n, s, k);
    o->n += k;
}

static void put_literal(re_out *o, char c)
{
    if (strchr(".^$|()+{}[]\\*?", c))
        o->s[o->n++] = '\\';
    o->s[o->n++] = c;
}

/* Length of the bracket expression at p (p[0] == '['), as fnmatch reads it; 0 when it is not
 * closed, and the '[' is then an ordinary character. */
static size_t bracket_len(const char *p)
{
    size_t i = 1;

    if (p[i] == '!' || p[i] == '^')
        i++;
    if (p[i] == ']')
        i++;
    while (p[i] && p[i] != ']') {
        if (p[i] == '[' && p[i + 1] == ':') {
            const char *end = strstr(p + i + 2, ":]");
            if (!end)
                return 0;
            i = (size_t)(end - p) + 2;
        } else {
            i += (p[i] == '\\' && p[i + 1]) ? 2 : 1;
        }
    }
    return p[i] == ']' ? i + 1 : 0;
}

/* A bracket expression of len bytes. In an ERE list ']' is special unless first, '^' when first,
 * '-' between two characters: escaped glob characters become collating symbols ("[.-.]"), which
 * are always literal, and so does a leading ']'. A negated list never matches '/' (as '*'). */
static void put_bracket(re_out *o, const char *p, size_t len)
{
    size_t i = 1, end = len - 1;

    put(o, "[");
    if (p[i] == '!' || p[i] == '^') {
        put(o, "^/");
        i++;
    }
    if (p[i] == ']') {
        put(o, "[.].]");
        i++;
    }
    while (i < end) {
        if (p[i] == '[' && p[i + 1] == ':') {
            const char *close = strstr(p + i + 2, ":]");
            size_t k = (size_t)(close - p) + 2 - i;
            memcpy(o->s + o->n, p + i, k);
            o->n += k;
            i += k;
        } else if (p[i] == '\\' && i + 1 < end) {
            char c = p[i + 1];
            if (c == '\\') {
                put(o, "\\");
            } else if (strchr("]-^[", c)) {
                char sym[6] = {'[', '.', c, '.', ']', '\0'};
                put(o, sym);
            } else {
                o->s[o->n++] = c;
            }
            i += 2;
        } else if (p[i] == '[' && (p[i + 1] == '.' || p[i + 1] == '=')) {
            put(o, "[.[.]"); /* a literal '[', not the start of an ERE collating element */
            i++;
        } else {
            o->s[o->n++] = p[i++];
        }
    }
    put(o, "]");
}

/* glob (of len bytes, trailing '/' already dropped) -> an anchored ERE in o. */
static void glob_to_ere(const char *g, size_t len, re_out *o)
{
    put(o, "^");
    for (size_t i = 0; i < len;) {
        if (g[i] == '*' && i + 1 < len && g[i + 1] == '*') {
            size_t j = i;
            int seg_start = i == 0 || g[i - 1] == '/';
            while (j < len && g[j] == '*')
                j++;
            if (seg_start && j < len && g[j] == '/') { /* "**" + "/": any directories, or none */
                put(o, "(.*/)?");
                j++;
            } else {
                put(o, ".*");
            }
            i = j;
        } else if (g[i] == '*') {
            put(o, "[^/]*");
            i++;
        } else if (g[i] == '?') {
            put(o, "[^/]");
            i++;
        } else if (g[i] == '[' && bracket_len(g + i) && bracket_len(g + i) <= len - i) {
            size_t k = bracket_len(g + i);
            put_bracket(o, g + i, k);
            i += k;
        } else if (g[i] == '\\' && i + 1 < len) {
            put_literal(o, g[i + 1]);
            i += 2;
        } else {
            put_literal(o, g[i++]);
        }
    }
    put(o, "$");
    o->s[o->n] = '\0';
}

/* A back-reference (\1..\9 outside a bracket) lets a crafted file name make glibc's matcher
 * backtrack exponentially; excludes are matched against every name of the sweep. */
static int has_backref(const char *re)
{
    for (size_t i = 0; re[i]; i++) {
        if (re[i] == '[') {
            size_t k = bracket_len(re + i);
            if (k)
                i += k - 1;
        } else if (re[i] == '\\' && re[i + 1]) {
            if (re[i + 1] >= '1' && re[i + 1] <= '9')
                return 1;
            i++;
        }
    }
    return 0;
}

/* regcomp in the C locale: a UTF-8 locale of the caller would make '.' refuse the invalid UTF-8
 * bytes an attacker can put in a name, and the exclude would silently not match. */
static int compile_c_locale(regex_t *re, const char *text, int flags)
{
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = c ? uselocale(c) : (locale_t)0;
    int rc = regcomp(re, text, flags | REG_EXTENDED | REG_NOSUB);

    if (c) {
        uselocale(old);
        freelocale(c);
    }
    return rc;
}

ab_status ab_exclude_init(ab_exclude *x, const char *pattern, int is_regex, char *err,
                          size_t errlen)
{
    size_t len = pattern ? strlen(pattern) : 0;
    char *ere = NULL;
    const char *g = pattern;
    int rc;

    memset(x, 0, sizeof(*x));
    if (len == 0 || len > AB_EXCLUDE_MAX_LEN) {
        snprintf(err, errlen, len ? "pattern longer than %d bytes" : "empty pattern",
                 AB_EXCLUDE_MAX_LEN);
        return AB_ERR_ARG;
    }
    if (is_regex && has_backref(pattern)) {
        snprintf(err, errlen, "back-references are not supported in exclude regexes");
        return AB_ERR_PARSE;
    }
    if (!(x->text = strdup(pattern)))
        return AB_ERR_NOMEM;
    x->is_regex = is_regex;
    if (is_regex) {
        rc = compile_c_locale(&x->re, pattern, REG_ICASE);
    } else {
        while (len > 1 && g[len - 1] == '/') { /* "dir/": directories only ("/" stays "/") */
            len--;
            x->dir_only = 1;
        }
        x->has_slash = memchr(g, '/', len) != NULL;     /* "sub/" is still a base-name glob */
        while (len > 2 && g[0] == '.' && g[1] == '/') { /* "./sub": sub right below a root */
            g += 2;
            len -= 2;
        }
        re_out o = {malloc(8 * len + 8), 0};
        if (!(ere = o.s)) {
            ab_exclude_fini(x);
            return AB_ERR_NOMEM;
        }
        glob_to_ere(g, len, &o);
        rc = compile_c_locale(&x->re, ere, 0);
    }
    free(ere);
    if (rc != 0) {
        char why[160];
        regerror(rc, &x->re, why, sizeof(why));
        snprintf(err, errlen, "%s", why);
        free(x->text);
        x->text = NULL;
        return rc == REG_ESPACE ? AB_ERR_NOMEM : AB_ERR_PARSE;
    }
    return AB_OK;
}

void ab_exclude_fini(ab_exclude *x)
{
    if (!x || !x->text)
        return;
    regfree(&x->re);
    free(x->text);
    x->text = NULL;
}

/* path below dir ("" for dir itself), or NULL when it is not below it. */
static const char *below(const char *path, const char *dir)
{
    size_t n = dir ? strlen(dir) : 0;

    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (!n || strncmp(path, dir, n) != 0)
        return NULL;
    if (n == 1 && dir[0] == '/')
        return path + 1;
    return path[n] == '/' ? path + n + 1 : path[n] == '\0' ? path + n : NULL;
}

static int matches(const ab_exclude *x, const char *path, const char *rel_root, const char *rel_cwd)
{
    const char *slash;

    if (x->is_regex)
        return regexec(&x->re, path, 0, NULL, 0) == 0;
    if (!x->has_slash) {
        slash = strrchr(path, '/');
        return regexec(&x->re, slash && slash[1] ? slash + 1 : path, 0, NULL, 0) == 0;
    }
    return regexec(&x->re, path, 0, NULL, 0) == 0 ||
           (rel_root && *rel_root && regexec(&x->re, rel_root, 0, NULL, 0) == 0) ||
           (rel_cwd && *rel_cwd && regexec(&x->re, rel_cwd, 0, NULL, 0) == 0);
}

int ab_walk_excluded(const ab_walk_opts *opts, const char *path, const char *root, const char *cwd,
                     int is_dir)
{
    const char *rel_root, *rel_cwd;
    int hit = 0;

    if (!opts || !path || opts->n_excludes == 0)
        return 0;
    rel_root = root ? below(path, root) : NULL;
    rel_cwd = cwd ? below(path, cwd) : NULL;
    /* Every pattern is tried, so that each one that matches is credited: a pattern reported as
     * having matched nothing really excluded nothing. */
    for (size_t i = 0; i < opts->n_excludes; i++) {
        ab_exclude *x = opts->excludes[i];
        if (!x || !x->text || (x->dir_only && is_dir != 1))
            continue;
        if (matches(x, path, rel_root, rel_cwd)) {
            x->hits++;
            hit = 1;
        }
    }
    return hit;
}

/* ---- Directories ---------------------------------------------------------------------------- */

static int open_dir_at(int dirfd, const char *name, int follow)
{
    int flags = O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
    int fd = openat(dirfd, name, flags | O_NOATIME);

    /* O_NOATIME needs ownership or CAP_FOWNER; the walk must work without either. */
    if (fd < 0 && errno == EPERM)
        fd = openat(dirfd, name, flags);
    return fd;
}

static int seen_before(const ab_walk *w, const struct stat *st)
{
    if (w->opts->follow_symlinks)
        return id_set_has(&w->visited, (dir_id){st->st_dev, st->st_ino});
    for (size_t i = 0; i < w->top; i++) {
        if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino)
            return 1;
    }
    return 0;
}

/* The checks that need only a directory's identity. 1 and *why when it must not be entered. */
static int dir_refused(const ab_walk *w, const struct stat *st, ab_skip_reason *why)
{
    if (is_pseudo_dir(w, st))
        *why = AB_SKIP_PSEUDO_FS;
    else if (w->opts->one_file_system && st->st_dev != w->root_dev)
        *why = AB_SKIP_OTHER_FS;
    else if (seen_before(w, st))
        *why = AB_SKIP_LOOP;
    else
        return 0;
    return 1;
}

/* Takes ownership of fd (closed on failure). Returns 0 or an errno value. */
static int push_frame(ab_walk *w, int fd, const struct stat *st)
{
    frame *f = &w->stack[w->top];
    int err = 0;

    if (w->opts->follow_symlinks && id_set_add(&w->visited, (dir_id){st->st_dev, st->st_ino})) {
        err = ENOMEM;
        goto out;
    }
    f->dir = fdopendir(fd);
    if (!f->dir) {
        err = errno;
        goto out;
    }
    f->fd = fd;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->path_len = w->path_len;
    w->top++;
out:
    if (err)
        close(fd);
    return err;
}

static void pop_frame(ab_walk *w)
{
    w->top--;
    closedir(w->stack[w->top].dir);
    w->stack[w->top].dir = NULL;
}

/* Opens the directory at w->path (name relative to dirfd), re-checks the inode really opened and
 * pushes it at depth w->top. st holds what lstat/stat saw and is updated to what was opened.
 * Returns 0 when entered, 1 with a skip or error in e otherwise. */
static int push_dir(ab_walk *w, int dirfd, const char *name, struct stat *st, int follow,
                    ab_walk_entry *e)
{
    int is_root = w->top == 0, err, fd;
    int changed, crossed;
    struct stat now;
    ab_skip_reason why;

    fd = open_dir_at(dirfd, name, follow);
    if (fd < 0)
        return emit_errno(w, e, "cannot open directory", errno);
    if (fstat(fd, &now) != 0) {
        err = errno;
        close(fd);
        return emit_errno(w, e, "cannot stat directory", err);
    }
    changed = now.st_dev != st->st_dev || now.st_ino != st->st_ino;
    *st = now;
    if (is_root)
        w->root_dev = now.st_dev;
    if ((changed || is_root) && dir_refused(w, st, &why))
        goto skip;
    crossed = is_root || follow || now.st_dev != w->stack[w->top - 1].dev;
    why = AB_SKIP_PSEUDO_FS;
    if (!w->opts->scan_pseudo_fs && crossed && fd_on_pseudo_fs(fd))
        goto skip;
    err = push_frame(w, fd, st);
    if (err)
        return emit_errno(w, e, "cannot read directory", err);
    return 0;
skip:
    close(fd);
    return emit_skip(w, e, why, st);
}

/* A directory met inside the walk (w->path is its path). */
static int enter_dir(ab_walk *w, const frame *parent, const char *name, struct stat *st,
                     int followed, ab_walk_entry *e)
{
    ab_skip_reason why;

    /* Checked before opening as well, so that e.g. another file system's mount point is not
     * even opened (opening an autofs mount point would mount it). Before the depth check: "this
     * is /proc" says more than "too deep". */
    if (dir_refused(w, st, &why))
        return emit_skip(w, e, why, st);
    if (w->top > w->max_depth)
        return emit_skip(w, e, AB_SKIP_DEPTH, st);
    return push_dir(w, parent->fd, name, st, followed, e);
}

static int is_special_type(unsigned char d_type)
{
    return d_type == DT_FIFO || d_type == DT_SOCK || d_type == DT_CHR || d_type == DT_BLK;
}

/* A dangling symlink is a symlink with nothing to scan, not a failure; a chain that loops or a
 * target we may not stat is an error. st holds the symlink's lstat. */
static int follow_failed(ab_walk *w, ab_walk_entry *e, const struct stat *st, int err)
{
    if (err == ENOENT)
        return emit_skip(w, e, AB_SKIP_SYMLINK, st);
    return emit_errno(w, e, "cannot follow symlink", err);
}

/* One directory entry of the top frame. Returns 1 with e filled, 0 when nothing to report (a
 * directory was entered). */
static int visit(ab_walk *w, const frame *f, const struct dirent *de, ab_walk_entry *e)
{
    int follow = w->opts->follow_symlinks, followed = 0;
    struct stat st;

    if (!join_path(w, f->path_len, de->d_name)) {
        w->path[f->path_len] = '\0';
        return emit_error_msg(e, w->path, AB_ERR_LIMIT, "path too long: entry not scanned");
    }
    /* By name, before any syscall; a directory-only glob needs the type (d_type, else below). */
    int is_dir = de->d_type == DT_DIR                                 ? 1
                 : (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) ? -1
                                                                      : 0;
    if (ab_walk_excluded(w->opts, w->path, w->root, w->cwd, is_dir))
        return emit_skip(w, e, AB_SKIP_EXCLUDED, NULL);
    /* d_type is authoritative when set: no syscall for what is never opened anyway. */
    if (is_special_type(de->d_type))
        return emit_skip(w, e, AB_SKIP_SPECIAL, NULL);
    /* By name, before the fstatat that would ask the (maybe hung) server. */
    if ((de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) && is_remote_mount(w, w->path))
        return emit_skip(w, e, AB_SKIP_REMOTE_FS, NULL);
    if (de->d_type == DT_LNK && !follow)
        return emit_skip(w, e, AB_SKIP_SYMLINK, NULL);
    if (fstatat(f->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return emit_errno(w, e, "cannot stat", errno);
    if (S_ISLNK(st.st_mode)) {
        if (!follow)
            return emit_skip(w, e, AB_SKIP_SYMLINK, &st);
        if (fstatat(f->fd, de->d_name, &st, 0) != 0)
            return follow_failed(w, e, &st, errno);
        followed = 1;
        if (on_pseudo_dev(w, &st))
            return emit_skip(w, e, AB_SKIP_PSEUDO_FS, &st);
    }
    if (S_ISREG(st.st_mode))
        return emit_file(w, e, &st);
    if (S_ISDIR(st.st_mode)) {
        if (is_dir < 0 && ab_walk_excluded(w->opts, w->path, w->root, w->cwd, 1))
            return emit_skip(w, e, AB_SKIP_EXCLUDED, &st);
        return enter_dir(w, f, de->d_name, &st, followed, e);
    }
    return emit_skip(w, e, AB_SKIP_SPECIAL, &st);
}

/* Reads one entry of the top directory. Returns 1 with e filled, 0 to go on. */
static int step_dir(ab_walk *w, ab_walk_entry *e)
{
    frame *f = &w->stack[w->top - 1];
    struct dirent *de;
    int err;

    errno = 0;
    de = readdir(f->dir);
    if (de)
        return is_dot_or_dotdot(de->d_name) ? 0 : visit(w, f, de, e);
    err = errno;
    w->path[f->path_len] = '\0';
    w->path_len = f->path_len;
    pop_frame(w);
    return err ? emit_errno(w, e, "cannot read directory", err) : 0;
}

/* ---- Roots ---------------------------------------------------------------------------------- */

/* Copies root into w->path without its trailing slashes ("/" stays "/"). 0 when too long. */
static int set_root_path(ab_walk *w, const char *root)
{
    size_t len = strlen(root);

    while (len > 1 && root[len - 1] == '/')
        len--;
    if (len >= sizeof(w->path))
        return 0;
    memcpy(w->path, root, len);
    w->path[len] = '\0';
    w->path_len = len;
    return 1;
}

/* A root that is a symlink to a file is handed out under its target's canonical name: the worker
 * opens files with O_NOFOLLOW unless follow_symlinks, and the user did ask for this one. */
static int root_file(ab_walk *w, ab_walk_entry *e, const struct stat *st)
{
    struct stat lst;
    char *real;
    int fits;

    if (w->opts->follow_symlinks || lstat(w->path, &lst) != 0 || !S_ISLNK(lst.st_mode))
        return emit_file(w, e, st);
    real = realpath(w->path, NULL);
    if (!real)
        return emit_errno(w, e, "cannot resolve symlink", errno);
    fits = strlen(real) < sizeof(w->path);
    if (fits)
        strcpy(w->path, real);
    free(real);
    if (!fits)
        return emit_error_msg(e, w->path, AB_ERR_LIMIT, "path too long");
    return emit_file(w, e, st);
}

static int start_root(ab_walk *w, const char *root, ab_walk_entry *e)
{
    struct stat st;

    if (!set_root_path(w, root))
        return emit_error_msg(e, root, AB_ERR_LIMIT, "path too long");
    w->root = root;
    if (ab_walk_excluded(w->opts, w->path, NULL, w->cwd, -1))
        return emit_skip(w, e, AB_SKIP_EXCLUDED, NULL);
    /* By name first: no syscall at all on /proc when it is skipped anyway. */
    if (!w->opts->scan_pseudo_fs && ab_walk_is_pseudo_fs(w->path))
        return emit_skip(w, e, AB_SKIP_PSEUDO_FS, NULL);
    if (stat(w->path, &st) != 0)
        return emit_errno(w, e, "cannot stat", errno);
    if (S_ISDIR(st.st_mode) && ab_walk_excluded(w->opts, w->path, NULL, w->cwd, 1))
        return emit_skip(w, e, AB_SKIP_EXCLUDED, &st);
    if (root_is_pseudo(w, &st))
        return emit_skip(w, e, AB_SKIP_PSEUDO_FS, &st);
    if (S_ISREG(st.st_mode))
        return root_file(w, e, &st);
    if (!S_ISDIR(st.st_mode))
        return emit_skip(w, e, AB_SKIP_SPECIAL, &st);
    return push_dir(w, AT_FDCWD, w->path, &st, 1, e);
}

/* ---- Life cycle ----------------------------------------------------------------------------- */

/* The open DIRs of the current path may use at most half of the fd limit: the sweep's parent also
 * holds pipes to its workers. */
static unsigned effective_max_depth(unsigned wanted)
{
    unsigned depth = wanted < WALK_DEPTH_CAP ? wanted : WALK_DEPTH_CAP;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t budget = rl.rlim_cur / 2;
        if ((rlim_t)depth + 1 > budget)
            depth = budget > 1 ? (unsigned)(budget - 1) : 0;
    }
    return depth;
}

ab_status ab_walk_new(const ab_walk_opts *opts, const char *const *roots, size_t n, ab_walk **out)
{
    ab_walk *w = NULL;
    ab_status rc = AB_ERR_NOMEM;

    if (!opts || !out || (n && !roots) || (opts->n_excludes && !opts->excludes))
        return AB_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        if (!roots[i])
            return AB_ERR_ARG;
    }
    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        goto out;
    w->opts = opts;
    w->max_depth = effective_max_depth(opts->max_depth);
    w->stack = calloc((size_t)w->max_depth + 1, sizeof(*w->stack));
    w->roots = calloc(n ? n : 1, sizeof(*w->roots));
    if (!w->stack || !w->roots)
        goto out;
    for (; w->n_roots < n; w->n_roots++) {
        w->roots[w->n_roots] = strdup(roots[w->n_roots]);
        if (!w->roots[w->n_roots])
            goto out;
    }
    if (!opts->scan_pseudo_fs)
        note_pseudo_fs(w);
    if (!opts->scan_remote_fs)
        note_remote_fs(w);
    if (opts->n_excludes) /* best effort: without it, relative globs match below roots only */
        w->cwd = opts->cwd ? strdup(opts->cwd) : getcwd(NULL, 0);
    *out = w;
    w = NULL;
    rc = AB_OK;
out:
    ab_walk_free(w);
    return rc;
}

ab_status ab_walk_next(ab_walk *w, ab_walk_entry *e)
{
    if (!w || !e)
        return AB_ERR_ARG;
    for (;;) {
        if (w->top > 0) {
            if (step_dir(w, e))
                return AB_OK;
        } else if (w->next_root < w->n_roots) {
            if (start_root(w, w->roots[w->next_root++], e))
                return AB_OK;
        } else {
            emit(e, AB_WALK_END, NULL, NULL);
            return AB_OK;
        }
    }
}

void ab_walk_free(ab_walk *w)
{
    if (!w)
        return;
    while (w->top > 0)
        pop_frame(w);
    for (size_t i = 0; i < w->n_roots; i++)
        free(w->roots[i]);
    free(w->roots);
    free(w->stack);
    free(w->visited.slots);
    for (size_t i = 0; i < w->n_remote; i++)
        free(w->remote[i]);
    free(w->remote);
    free(w->cwd);
    free(w);
}
