/* test_walk.c: the tree walker and the safe file opener, on hostile trees built in /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/walk.h"

/* ---- Fixtures ------------------------------------------------------------------------------- */

typedef struct rec {
    ab_walk_kind kind;
    char *path;
    ab_skip_reason reason;
    ab_status status;
    char *message;
    off_t size;
} rec;

/* Everything one walk reported, in order. Owns the records and their strings. */
typedef struct walk_log {
    rec *v;
    size_t n;
} walk_log;

typedef struct tree {
    char root[64];
    walk_log log;
} tree;

static char *path_in(const tree *t, const char *rel)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];

    snprintf(p, sizeof(buf[0]), "%s/%s", t->root, rel);
    return p;
}

static void make_file(const tree *t, const char *rel, size_t size)
{
    FILE *f = fopen(path_in(t, rel), "wb");

    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc((int)(i * 7 % 251), f);
    assert_int_equal(fclose(f), 0);
}

static void make_dir(const tree *t, const char *rel)
{
    assert_int_equal(mkdir(path_in(t, rel), 0755), 0);
}

static void make_link(const tree *t, const char *target, const char *rel)
{
    assert_int_equal(symlink(target, path_in(t, rel)), 0);
}

static void log_clear(walk_log *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].message);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Walks roots with opts and records every entry. */
static void walk_all(walk_log *l, const ab_walk_opts *opts, const char *const *roots, size_t n)
{
    ab_walk *w = NULL;
    ab_walk_entry e;

    log_clear(l);
    assert_int_equal(ab_walk_new(opts, roots, n, &w), AB_OK);
    for (;;) {
        assert_int_equal(ab_walk_next(w, &e), AB_OK);
        if (e.kind == AB_WALK_END)
            break;
        l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
        assert_non_null(l->v);
        l->v[l->n] = (rec){
            e.kind,      strdup(e.path), e.reason, e.status, e.message ? strdup(e.message) : NULL,
            e.st.st_size};
        assert_non_null(l->v[l->n].path);
        /* Joins must never double the separator (only "//" written by the user could). */
        assert_null(strstr(e.path, "//"));
        l->n++;
    }
    ab_walk_free(w);
}

static void walk_tree(tree *t, const ab_walk_opts *opts)
{
    const char *roots[] = {t->root};

    walk_all(&t->log, opts, roots, 1);
}

static const rec *find(const walk_log *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].path, path) == 0)
            return &l->v[i];
    }
    return NULL;
}

static const rec *find_in(const tree *t, const char *rel)
{
    return find(&t->log, path_in(t, rel));
}

static void assert_file(const tree *t, const char *rel)
{
    const rec *r = find_in(t, rel);

    assert_non_null(r);
    assert_int_equal(r->kind, AB_WALK_FILE);
}

static void assert_skip(const tree *t, const char *rel, ab_skip_reason why)
{
    const rec *r = find_in(t, rel);

    if (!r)
        fail_msg("no entry for %s", rel);
    assert_int_equal(r->kind, AB_WALK_SKIP);
    assert_int_equal(r->reason, why);
}

static void assert_absent(const tree *t, const char *rel)
{
    if (find_in(t, rel))
        fail_msg("unexpected entry for %s", rel);
}

static int tree_setup(void **state)
{
    tree *t = calloc(1, sizeof(*t));

    if (!t)
        return -1;
    strcpy(t->root, "/tmp/ab-walk-XXXXXX");
    if (!mkdtemp(t->root) || chmod(t->root, 0755) != 0) {
        free(t);
        return -1;
    }
    /* A hang (e.g. a FIFO opened for reading) must fail the test, not stall the suite. */
    alarm(30);
    *state = t;
    return 0;
}

static int tree_teardown(void **state)
{
    tree *t = *state;
    char cmd[256];
    int rc;

    alarm(0);
    /* rm copes with trees deeper than PATH_MAX, which test_path_too_long builds. */
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", t->root, t->root);
    rc = system(cmd);
    log_clear(&t->log);
    free(t);
    return rc == 0 ? 0 : -1;
}

/* ---- Walker --------------------------------------------------------------------------------- */

static void test_plain_files(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64};

    make_file(t, "a", 10);
    make_file(t, "b", 0);
    walk_tree(t, &o);
    assert_int_equal(t->log.n, 2);
    assert_file(t, "a");
    assert_file(t, "b");
    assert_int_equal(find_in(t, "a")->size, 10);
}

static void test_nested_dirs(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64};

    make_dir(t, "d1");
    make_dir(t, "d1/d2");
    make_dir(t, "d1/d2/d3");
    make_dir(t, "empty");
    make_file(t, "top", 1);
    make_file(t, "d1/f1", 1);
    make_file(t, "d1/d2/d3/f3", 3);
    walk_tree(t, &o);
    assert_int_equal(t->log.n, 3); /* directories themselves are not entries */
    assert_file(t, "top");
    assert_file(t, "d1/f1");
    assert_file(t, "d1/d2/d3/f3");
}

static void test_symlinks_not_followed(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64};

    make_dir(t, "d");
    make_file(t, "d/f", 1);
    make_link(t, "d/f", "lf");
    make_link(t, "d", "ld");
    make_link(t, "/etc", "letc");
    walk_tree(t, &o);
    assert_file(t, "d/f");
    assert_skip(t, "lf", AB_SKIP_SYMLINK);
    assert_skip(t, "ld", AB_SKIP_SYMLINK);
    assert_skip(t, "letc", AB_SKIP_SYMLINK);
    assert_absent(t, "ld/f");
    assert_int_equal(t->log.n, 4);
}

static void test_symlink_root_followed(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64};
    char ld[600], lf[600];
    const char *roots[2] = {ld, lf};
    ab_mapped m;
    char err[128];

    make_dir(t, "d");
    make_file(t, "d/f", 1);
    make_link(t, "d", "ld");
    make_link(t, "d/f", "lf");
    snprintf(ld, sizeof(ld), "%s", path_in(t, "ld"));
    snprintf(lf, sizeof(lf), "%s", path_in(t, "lf"));
    walk_all(&t->log, &o, roots, 2);
    assert_int_equal(t->log.n, 2);
    assert_file(t, "ld/f");
    /* Handed out under the target's name, so the worker can open it without following. */
    assert_file(t, "d/f");
    assert_int_equal(ab_file_map(path_in(t, "d/f"), 0, NULL, 0, &m, err, sizeof(err)), AB_OK);
    ab_file_unmap(&m);
    o.follow_symlinks = 1; /* the worker follows, so the name the user gave is kept */
    walk_all(&t->log, &o, roots + 1, 1);
    assert_file(t, "lf");
}

static void test_follow_loop_terminates(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64, .follow_symlinks = 1};

    make_dir(t, "d");
    make_dir(t, "e");
    make_file(t, "d/f", 1);
    make_file(t, "e/g", 1);
    make_link(t, "..", "d/up");
    make_link(t, ".", "self");
    make_link(t, "../e", "d/toe"); /* a second way into e: entered once only */
    make_link(t, "d/f", "lf");
    make_link(t, "nowhere", "dangling");
    make_link(t, "pong", "ping");
    make_link(t, "ping", "pong");
    walk_tree(t, &o);
    assert_skip(t, "d/up", AB_SKIP_LOOP);
    assert_skip(t, "self", AB_SKIP_LOOP);
    assert_file(t, "d/f");
    assert_file(t, "lf"); /* a followed symlink to a file is handed out under its own name */
    assert_non_null(find_in(t, "d/toe"));
    assert_true(find_in(t, "e/g") != NULL || find_in(t, "d/toe/g") != NULL);
    assert_false(find_in(t, "e/g") != NULL && find_in(t, "d/toe/g") != NULL);
    assert_skip(t, "dangling", AB_SKIP_SYMLINK); /* nothing to scan, not a failure */
    assert_int_equal(find_in(t, "ping")->kind, AB_WALK_ERROR);
    assert_string_equal(find_in(t, "ping")->message,
                        "cannot follow symlink: Too many levels of symbolic links");
}

static void test_special_files_not_opened(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64};
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_true(s >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path_in(t, "sock"));
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(mkfifo(path_in(t, "fifo"), 0644), 0);
    make_file(t, "plain", 1);
    walk_tree(t, &o); /* would block forever on the FIFO if it were opened */
    close(s);
    assert_skip(t, "fifo", AB_SKIP_SPECIAL);
    assert_skip(t, "sock", AB_SKIP_SPECIAL);
    assert_file(t, "plain");
}

static void test_max_depth(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 1};

    make_dir(t, "a");
    make_dir(t, "a/b");
    make_dir(t, "a/b/c");
    make_file(t, "top", 1);
    make_file(t, "a/fa", 1);
    make_file(t, "a/b/fb", 1);
    make_file(t, "a/b/c/fc", 1);
    walk_tree(t, &o);
    assert_file(t, "top");
    assert_file(t, "a/fa");
    assert_skip(t, "a/b", AB_SKIP_DEPTH);
    assert_absent(t, "a/b/fb");
    assert_absent(t, "a/b/c/fc");

    o.max_depth = 0; /* the root only */
    walk_tree(t, &o);
    assert_file(t, "top");
    assert_skip(t, "a", AB_SKIP_DEPTH);
    assert_absent(t, "a/fa");
}

/* Compiled exclude patterns for a test (at most 8). Owns them. */
typedef struct ex_set {
    ab_exclude x[8];
    ab_exclude *p[8];
    size_t n;
} ex_set;

static void ex_add(ex_set *s, const char *pattern, int is_regex)
{
    char err[256];

    assert_true(s->n < 8);
    if (ab_exclude_init(&s->x[s->n], pattern, is_regex, err, sizeof(err)) != AB_OK)
        fail_msg("%s: %s", pattern, err);
    s->p[s->n] = &s->x[s->n];
    s->n++;
}

static void ex_free(ex_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        ab_exclude_fini(&s->x[i]);
    s->n = 0;
}

/* 1 when the single glob g excludes path (below root, cwd), with is_dir as given. */
static int glob_hits(const char *g, const char *path, const char *root, const char *cwd, int is_dir)
{
    ex_set s = {0};
    ab_walk_opts o = {.max_depth = 64};
    int hit;

    ex_add(&s, g, 0);
    o.excludes = s.p;
    o.n_excludes = s.n;
    hit = ab_walk_excluded(&o, path, root, cwd, is_dir);
    assert_int_equal(s.x[0].hits, (uint64_t)hit);
    ex_free(&s);
    return hit;
}

static void test_excludes(void **state)
{
    tree *t = *state;
    char full[600];
    ex_set s = {0};
    ab_walk_opts o = {.max_depth = 64};

    snprintf(full, sizeof(full), "%s/keep/sub*", t->root);
    ex_add(&s, "*.log", 0);
    ex_add(&s, "cache", 0);
    ex_add(&s, full, 0);
    ex_add(&s, "never-there", 0);
    o.excludes = s.p;
    o.n_excludes = s.n;
    make_dir(t, "cache");
    make_dir(t, "keep");
    make_dir(t, "keep/sub");
    make_file(t, "cache/in-cache", 1);
    make_file(t, "keep/x.log", 1);
    make_file(t, "keep/x.txt", 1);
    make_file(t, "keep/sub/deep", 1);
    walk_tree(t, &o);
    assert_skip(t, "cache", AB_SKIP_EXCLUDED);
    assert_absent(t, "cache/in-cache");
    assert_skip(t, "keep/x.log", AB_SKIP_EXCLUDED);
    assert_file(t, "keep/x.txt");
    assert_skip(t, "keep/sub", AB_SKIP_EXCLUDED);
    assert_absent(t, "keep/sub/deep");
    /* what each pattern excluded, so that one that matched nothing can be reported */
    assert_int_equal(s.x[0].hits, 1);
    assert_int_equal(s.x[1].hits, 1);
    assert_int_equal(s.x[2].hits, 1);
    assert_int_equal(s.x[3].hits, 0);
    ex_free(&s);
}

/* glob(7) with FNM_PATHNAME: '*' and '?' stop at '/', "**" crosses it. */
static void test_exclude_glob_semantics(void **state)
{
    (void)state;
    assert_true(glob_hits("*.log", "/a/b/c.log", NULL, NULL, 0));
    assert_true(glob_hits("*.log", "/a/b/.hidden.log", NULL, NULL, 0)); /* no FNM_PERIOD */
    assert_false(glob_hits("*.log", "/a/b/c.log.txt", NULL, NULL, 0));
    assert_false(glob_hits("cache", "/a/cache/x", NULL, NULL, 0)); /* base name, not a component */
    assert_true(glob_hits("/srv/*/tmp", "/srv/www/tmp", NULL, NULL, 1));
    assert_false(glob_hits("/srv/*/tmp", "/srv/www/x/tmp", NULL, NULL, 1)); /* '*' stops at '/' */
    assert_false(glob_hits("/srv/?/tmp", "/srv/a/b/tmp", NULL, NULL, 1));
    assert_true(glob_hits("/srv/**/tmp", "/srv/www/x/tmp", NULL, NULL, 1));
    assert_true(glob_hits("/srv/**/tmp", "/srv/tmp", NULL, NULL, 1)); /* "**\/" may be empty */
    assert_true(glob_hits("**/node_modules", "/home/u/p/node_modules", NULL, NULL, 1));
    assert_true(glob_hits("/srv/backup/**", "/srv/backup/a/b.iso", NULL, NULL, 0));
    assert_true(glob_hits("/x/a**b", "/x/a/y/b", NULL, NULL, 0));
    /* brackets: classes, negation (never '/'), a leading ']', an unclosed '[' is literal */
    assert_true(glob_hits("f[0-9].txt", "/d/f7.txt", NULL, NULL, 0));
    assert_false(glob_hits("f[!0-9].txt", "/d/f7.txt", NULL, NULL, 0));
    assert_true(glob_hits("f[[:alpha:]].txt", "/d/fq.txt", NULL, NULL, 0));
    assert_false(glob_hits("/d/f[!x]g", "/d/f/g", NULL, NULL, 0));
    assert_true(glob_hits("[]x]", "/d/]", NULL, NULL, 0));
    assert_true(glob_hits("a[b", "/d/a[b", NULL, NULL, 0));
    assert_true(glob_hits("x[[.]", "/d/x.", NULL, NULL, 0)); /* '[' and '.' are members */
    assert_true(glob_hits("a\\*", "/d/a*", NULL, NULL, 0));
    assert_false(glob_hits("a\\*", "/d/ab", NULL, NULL, 0));
    assert_true(glob_hits("a.(b)+c$", "/d/a.(b)+c$", NULL, NULL, 0)); /* ERE characters literal */
    assert_false(glob_hits("a.c", "/d/abc", NULL, NULL, 0));
    /* names are bytes: invalid UTF-8 and newlines match '*' */
    assert_true(glob_hits("*.bin", "/d/\xff\xfe\n.bin", NULL, NULL, 0));
}

/* With '/': the full path, the path below the root, the path below the current directory;
 * "./sub" is sub right below either; a trailing '/' only matches directories. */
static void test_exclude_relative(void **state)
{
    (void)state;
    const char *root = "/abs/tree", *cwd = "/abs";
    assert_true(glob_hits("sub", "/abs/tree/sub", root, cwd, 1));
    assert_true(glob_hits("./sub", "/abs/tree/sub", root, cwd, 1));
    assert_false(glob_hits("./sub", "/abs/tree/x/sub", root, cwd, 1));
    assert_true(glob_hits("/abs/tree/sub/", "/abs/tree/sub", root, cwd, 1));
    assert_false(glob_hits("/abs/tree/sub/", "/abs/tree/sub", root, cwd, 0));  /* a file */
    assert_false(glob_hits("/abs/tree/sub/", "/abs/tree/sub", root, cwd, -1)); /* unknown yet */
    assert_true(glob_hits("sub/", "/abs/tree/x/sub", root, cwd, 1));
    assert_true(glob_hits("x/sub", "/abs/tree/x/sub", root, cwd, 1));      /* below the root */
    assert_true(glob_hits("tree/x/sub", "/abs/tree/x/sub", root, cwd, 1)); /* below cwd */
    assert_true(glob_hits("./tree/x", "/abs/tree/x", root, cwd, 1));
    assert_false(glob_hits("x/sub", "/abs/tree/x/sub", NULL, NULL, 1));
    assert_true(glob_hits("x/*", "/r/x/f", "/r", NULL, 0));
    assert_true(glob_hits("x/*", "/x/f", "/", NULL, 0));        /* root "/" */
    assert_false(glob_hits("b/c", "/a/bb/c", "/a/b", NULL, 0)); /* /a/bb is not below /a/b */
}

static void test_exclude_regex(void **state)
{
    ex_set s = {0};
    ab_walk_opts o = {.max_depth = 64};
    ab_exclude x;
    char err[256];

    (void)state;
    ex_add(&s, "/var/(log|cache)/", 1);
    ex_add(&s, "\\.BAK$", 1);
    o.excludes = s.p;
    o.n_excludes = s.n;
    assert_true(ab_walk_excluded(&o, "/var/log/syslog", NULL, NULL, 0));
    assert_true(ab_walk_excluded(&o, "/home/u/file.bak", NULL, NULL, 0)); /* case-insensitive */
    assert_false(ab_walk_excluded(&o, "/var/lib/x", NULL, NULL, 0));
    assert_int_equal(s.x[0].hits, 1);
    assert_int_equal(s.x[1].hits, 1);
    ex_free(&s);
    assert_int_equal(ab_exclude_init(&x, "a(b", 1, err, sizeof(err)), AB_ERR_PARSE);
    assert_true(err[0] != '\0');
    assert_int_equal(ab_exclude_init(&x, "(a*)\\1", 1, err, sizeof(err)), AB_ERR_PARSE);
    assert_int_equal(ab_exclude_init(&x, "", 0, err, sizeof(err)), AB_ERR_ARG);
}

static void test_too_large(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64, .max_filesize = 100};

    make_file(t, "small", 100);
    make_file(t, "big", 101);
    walk_tree(t, &o);
    assert_file(t, "small");
    assert_skip(t, "big", AB_SKIP_TOO_LARGE);
    assert_int_equal(find_in(t, "big")->size, 101);
}

static void test_one_file_system(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64, .one_file_system = 1};
    struct stat a, b;

    make_dir(t, "d");
    make_file(t, "d/f", 1);
    walk_tree(t, &o);
    assert_file(t, "d/f");

    /* Another file system reached through a followed symlink, when /dev/shm is one. */
    if (stat("/dev/shm", &a) != 0 || stat(t->root, &b) != 0 || a.st_dev == b.st_dev)
        return;
    make_link(t, "/dev/shm", "shm");
    o.follow_symlinks = 1;
    walk_tree(t, &o);
    assert_skip(t, "shm", AB_SKIP_OTHER_FS);
}

static void test_pseudo_fs(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 0};
    const char *proc[] = {"/proc"}, *slash[] = {"/"};

    assert_true(ab_walk_is_pseudo_fs("/proc"));
    assert_true(ab_walk_is_pseudo_fs("/proc/1"));
    assert_true(ab_walk_is_pseudo_fs("/proc/"));
    assert_false(ab_walk_is_pseudo_fs("/process"));
    assert_true(ab_walk_is_pseudo_fs("/sys"));
    assert_true(ab_walk_is_pseudo_fs("/dev/null"));
    assert_false(ab_walk_is_pseudo_fs("/devices"));
    assert_false(ab_walk_is_pseudo_fs("proc"));
    assert_false(ab_walk_is_pseudo_fs("/"));

    walk_all(&t->log, &o, proc, 1);
    assert_int_equal(t->log.n, 1);
    assert_int_equal(t->log.v[0].kind, AB_WALK_SKIP);
    assert_int_equal(t->log.v[0].reason, AB_SKIP_PSEUDO_FS);

    /* Met while walking "/": skipped by identity, and named without "//". */
    walk_all(&t->log, &o, slash, 1);
    if (access("/proc/self", F_OK) == 0) {
        assert_non_null(find(&t->log, "/proc"));
        assert_int_equal(find(&t->log, "/proc")->reason, AB_SKIP_PSEUDO_FS);
    }
    if (access("/dev", F_OK) == 0)
        assert_int_equal(find(&t->log, "/dev")->reason, AB_SKIP_PSEUDO_FS);

    /* A followed symlink into /proc is still /proc; a symlinked root too. */
    o.max_depth = 64;
    o.follow_symlinks = 1;
    make_link(t, "/proc", "lproc");
    walk_tree(t, &o);
    assert_skip(t, "lproc", AB_SKIP_PSEUDO_FS);
    proc[0] = path_in(t, "lproc");
    walk_all(&t->log, &o, proc, 1);
    assert_int_equal(t->log.n, 1);
    assert_int_equal(t->log.v[0].reason, AB_SKIP_PSEUDO_FS);
}

/* Runs in a child that gave up root: 0 when the walk reported the locked directory as an error
 * and went on, 1 otherwise. */
static int walk_locked_as_user(const tree *t)
{
    ab_walk_opts o = {.max_depth = 64};
    const char *roots[] = {t->root};
    char want[600];
    ab_walk *w = NULL;
    ab_walk_entry e;
    int saw_error = 0, saw_file = 0;

    snprintf(want, sizeof(want), "%s/locked", t->root);
    if (ab_walk_new(&o, roots, 1, &w) != AB_OK)
        return 1;
    while (ab_walk_next(w, &e) == AB_OK && e.kind != AB_WALK_END) {
        if (e.kind == AB_WALK_ERROR && strcmp(e.path, want) == 0 &&
            strcmp(e.message, "cannot open directory: Permission denied") == 0)
            saw_error = 1;
        if (e.kind == AB_WALK_FILE && strstr(e.path, "/open/f"))
            saw_file = 1;
    }
    ab_walk_free(w);
    return saw_error && saw_file ? 0 : 1;
}

/* Network and FUSE mount points met in the walk are skipped by name (no stat of a hung server);
 * fuseblk (a local disk) is walked; a named root is scanned; scan_remote_fs turns the rule off. */
static void test_remote_fs(void **state)
{
    tree *t = *state;
    char info[600];
    const char *roots[1];

    assert_true(ab_walk_is_remote_fstype("nfs4"));
    assert_true(ab_walk_is_remote_fstype("fuse.sshfs"));
    assert_true(ab_walk_is_remote_fstype("cifs"));
    assert_false(ab_walk_is_remote_fstype("fuseblk"));
    assert_false(ab_walk_is_remote_fstype("ext4"));
    assert_false(ab_walk_is_remote_fstype("tmpfs"));
    make_dir(t, "net");
    make_file(t, "net/f", 3);
    make_dir(t, "sp ace");
    make_file(t, "sp ace/f", 3);
    make_dir(t, "ntfs");
    make_file(t, "ntfs/f", 3);
    /* mountinfo lines; the second has optional fields and an escaped space */
    snprintf(info, sizeof(info),
             "36 35 98:0 / / rw - ext4 /dev/root rw\n"
             "37 36 0:50 / %s/net rw,relatime shared:7 master:2 - nfs4 srv:/x rw\n"
             "38 36 0:51 / %s/sp\\040ace rw - fuse.sshfs u@h: rw\n"
             "39 36 8:1 / %s/ntfs rw - fuseblk /dev/sdb1 rw\n",
             t->root, t->root, t->root);
    char mi[128];
    snprintf(mi, sizeof(mi), "%s.mountinfo", t->root);
    FILE *f = fopen(mi, "w");
    assert_non_null(f);
    fputs(info, f);
    assert_int_equal(fclose(f), 0);

    ab_walk_opts o = {.max_depth = 64, .mountinfo = mi};
    walk_tree(t, &o);
    assert_skip(t, "net", AB_SKIP_REMOTE_FS);
    assert_absent(t, "net/f");
    assert_skip(t, "sp ace", AB_SKIP_REMOTE_FS);
    assert_file(t, "ntfs/f");
    roots[0] = path_in(t, "net");
    walk_all(&t->log, &o, roots, 1);
    assert_file(t, "net/f");
    o.scan_remote_fs = 1;
    walk_tree(t, &o);
    assert_file(t, "net/f");
    assert_file(t, "sp ace/f");
    unlink(mi);
}

static void test_unreadable_dir(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64};
    int status;
    pid_t pid;

    make_dir(t, "locked");
    make_dir(t, "open");
    make_file(t, "locked/secret", 1);
    make_file(t, "open/f", 1);
    assert_int_equal(chmod(path_in(t, "locked"), 0), 0);
    if (geteuid() != 0) {
        walk_tree(t, &o);
        assert_int_equal(find_in(t, "locked")->kind, AB_WALK_ERROR);
        assert_string_equal(find_in(t, "locked")->message,
                            "cannot open directory: Permission denied");
        assert_file(t, "open/f");
        return;
    }
    /* root reads through mode 000: walk in a child that dropped to nobody instead. */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            _exit(77);
        _exit(walk_locked_as_user(t));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip(); /* no CAP_SETUID here (a restricted container): nothing left to test */
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_root_trailing_slash(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64};
    char root[600];
    const char *roots[] = {root};

    make_dir(t, "d");
    make_file(t, "d/f", 1);
    snprintf(root, sizeof(root), "%s/d/", t->root);
    walk_all(&t->log, &o, roots, 1); /* walk_all asserts no "//" */
    assert_int_equal(t->log.n, 1);
    assert_file(t, "d/f");
    snprintf(root, sizeof(root), "%s/d///", t->root);
    walk_all(&t->log, &o, roots, 1);
    assert_int_equal(t->log.n, 1);
}

static void test_missing_root(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64};
    const char *roots[] = {path_in(t, "nope"), t->root};

    make_file(t, "f", 1);
    walk_all(&t->log, &o, roots, 2);
    assert_int_equal(t->log.n, 2);
    assert_int_equal(t->log.v[0].kind, AB_WALK_ERROR);
    assert_int_equal(t->log.v[0].status, AB_ERR_NOTFOUND); /* docs/findings.md: not-found */
    assert_string_equal(t->log.v[0].message, "cannot stat: No such file or directory");
    assert_file(t, "f"); /* the next root is still walked */
}

static void test_path_too_long(void **state)
{
    tree *t = *state;
    ab_walk_opts o = {.max_depth = 64};
    char name[201];
    int fd = open(t->root, O_RDONLY | O_DIRECTORY);

    /* 25 levels of 200-byte names: deeper than PATH_MAX, built relative to fds. */
    memset(name, 'n', 200);
    name[200] = '\0';
    for (int i = 0; i < 25; i++) {
        int next;
        assert_int_equal(mkdirat(fd, name, 0755), 0);
        next = openat(fd, name, O_RDONLY | O_DIRECTORY);
        assert_true(next >= 0);
        close(fd);
        fd = next;
    }
    close(fd);
    walk_tree(t, &o);
    assert_int_equal(t->log.n, 1);
    assert_int_equal(t->log.v[0].kind, AB_WALK_ERROR);
    assert_int_equal(t->log.v[0].status, AB_ERR_LIMIT);
    assert_true(strlen(t->log.v[0].path) < 4096);
}

static void test_bad_args(void **state)
{
    ab_walk_opts o = {0};
    ab_walk *w = NULL;
    const char *roots[] = {NULL};

    (void)state;
    assert_int_equal(ab_walk_new(NULL, NULL, 0, &w), AB_ERR_ARG);
    assert_int_equal(ab_walk_new(&o, roots, 1, &w), AB_ERR_ARG);
    assert_int_equal(ab_walk_new(&o, NULL, 0, &w), AB_OK);
    assert_int_equal(ab_walk_next(w, NULL), AB_ERR_ARG);
    ab_walk_free(w);
    ab_walk_free(NULL);
}

/* ---- File opener ---------------------------------------------------------------------------- */

static void assert_pattern(const ab_mapped *m, size_t size)
{
    assert_int_equal(m->size, size);
    for (size_t i = 0; i < size; i++) {
        if (m->data[i] != (uint8_t)(i * 7 % 251))
            fail_msg("byte %zu differs", i);
    }
}

static void test_map_small(void **state)
{
    tree *t = *state;
    ab_mapped m;
    char err[128];

    make_file(t, "small", 4000);
    assert_int_equal(ab_file_map(path_in(t, "small"), 0, NULL, 0, &m, err, sizeof(err)), AB_OK);
    assert_non_null(m.heap);
    assert_null(m.map);
    assert_pattern(&m, 4000);
    assert_int_equal(ab_file_check_unchanged(&m, err, sizeof(err)), AB_OK);
    ab_file_unmap(&m);
    assert_int_equal(m.fd, -1);
    ab_file_unmap(&m); /* twice is harmless */
}

static void test_map_large(void **state)
{
    tree *t = *state;
    ab_mapped m;
    char err[128];

    make_file(t, "large", 2u << 20);
    assert_int_equal(ab_file_map(path_in(t, "large"), 0, NULL, 0, &m, err, sizeof(err)), AB_OK);
    assert_non_null(m.map);
    assert_null(m.heap);
    assert_pattern(&m, 2u << 20);
    ab_file_unmap(&m);
}

static void test_map_empty(void **state)
{
    tree *t = *state;
    ab_mapped m;
    char err[128];

    make_file(t, "empty", 0);
    assert_int_equal(ab_file_map(path_in(t, "empty"), 0, NULL, 0, &m, err, sizeof(err)), AB_OK);
    assert_null(m.data);
    assert_int_equal(m.size, 0);
    assert_int_equal(ab_file_check_unchanged(&m, err, sizeof(err)), AB_OK);
    ab_file_unmap(&m);
}

static void test_map_fifo_fails_fast(void **state)
{
    tree *t = *state;
    ab_mapped m;
    char err[128];

    assert_int_equal(mkfifo(path_in(t, "fifo"), 0644), 0);
    assert_int_equal(ab_file_map(path_in(t, "fifo"), 0, NULL, 0, &m, err, sizeof(err)), AB_ERR_IO);
    assert_string_equal(err, "not a regular file");
    assert_int_equal(m.fd, -1);
    assert_int_equal(ab_file_map("/tmp", 0, NULL, 0, &m, err, sizeof(err)), AB_ERR_IO);
}

static void test_map_symlink(void **state)
{
    tree *t = *state;
    ab_mapped m;
    char err[128];

    make_file(t, "f", 10);
    make_link(t, "f", "lf");
    assert_int_equal(ab_file_map(path_in(t, "lf"), 0, NULL, 0, &m, err, sizeof(err)), AB_ERR_IO);
    assert_string_equal(err, "open: is a symlink, not followed");
    assert_int_equal(ab_file_map(path_in(t, "lf"), 1, NULL, 0, &m, err, sizeof(err)), AB_OK);
    assert_pattern(&m, 10);
    ab_file_unmap(&m);
}

static void test_map_replaced(void **state)
{
    tree *t = *state;
    ab_mapped m;
    char err[128];
    struct stat seen;

    make_file(t, "f", 10);
    assert_int_equal(lstat(path_in(t, "f"), &seen), 0); /* what the walker saw */
    make_file(t, "g", 10);
    assert_int_equal(rename(path_in(t, "g"), path_in(t, "f")), 0);
    assert_int_equal(ab_file_map(path_in(t, "f"), 0, &seen, 0, &m, err, sizeof(err)), AB_ERR_IO);
    assert_string_equal(err, "file was replaced while scanning");
    assert_int_equal(lstat(path_in(t, "f"), &seen), 0);
    assert_int_equal(ab_file_map(path_in(t, "f"), 0, &seen, 0, &m, err, sizeof(err)), AB_OK);
    ab_file_unmap(&m);
}

/* A directory on the path swapped for a symlink after the walk: the name now leads to a FIFO
 * elsewhere. The opener must refuse it without ever opening it (inotify sees every real open;
 * an O_PATH descriptor is not one). */
static void test_map_swapped_parent_never_opens(void **state)
{
    tree *t = *state;
    ab_mapped m;
    char err[128], ev[4096];
    struct stat seen;

    make_dir(t, "real");
    make_file(t, "real/f", 10);
    assert_int_equal(lstat(path_in(t, "real/f"), &seen), 0); /* what the walker saw */
    make_dir(t, "evil");
    assert_int_equal(mkfifo(path_in(t, "evil/f"), 0644), 0);
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    assert_true(in >= 0);
    assert_true(inotify_add_watch(in, path_in(t, "evil/f"), IN_OPEN) >= 0);
    assert_int_equal(rename(path_in(t, "real"), path_in(t, "real.old")), 0);
    make_link(t, "evil", "real");
    assert_int_equal(ab_file_map(path_in(t, "real/f"), 0, &seen, 0, &m, err, sizeof(err)),
                     AB_ERR_IO);
    assert_string_equal(err, "not a regular file");
    assert_int_equal(read(in, ev, sizeof(ev)), -1); /* no IN_OPEN: the FIFO was never opened */
    assert_int_equal(errno, EAGAIN);
    /* the same with a regular file of another inode there: refused as replaced */
    assert_int_equal(unlink(path_in(t, "evil/f")), 0);
    make_file(t, "evil/f", 10);
    assert_int_equal(ab_file_map(path_in(t, "real/f"), 0, &seen, 0, &m, err, sizeof(err)),
                     AB_ERR_IO);
    assert_string_equal(err, "file was replaced while scanning");
    close(in);
}

static void test_map_limits_and_errors(void **state)
{
    tree *t = *state;
    ab_mapped m;
    char err[128];

    make_file(t, "f", 101);
    assert_int_equal(ab_file_map(path_in(t, "f"), 0, NULL, 100, &m, err, sizeof(err)),
                     AB_ERR_LIMIT);
    /* deleted since the walk: not-found, as a missing PATH */
    assert_int_equal(ab_file_map(path_in(t, "nope"), 0, NULL, 0, &m, err, sizeof(err)),
                     AB_ERR_NOTFOUND);
    assert_string_equal(err, "open: No such file or directory");
    assert_null(strchr(err, '\n'));
}

static void test_check_unchanged_after_append(void **state)
{
    tree *t = *state;
    ab_mapped m;
    char err[128];
    FILE *f;

    make_file(t, "grow", 100);
    assert_int_equal(ab_file_map(path_in(t, "grow"), 0, NULL, 0, &m, err, sizeof(err)), AB_OK);
    f = fopen(path_in(t, "grow"), "ab");
    assert_non_null(f);
    fputs("more", f);
    fclose(f);
    assert_int_equal(ab_file_check_unchanged(&m, err, sizeof(err)), AB_ERR_IO);
    assert_string_equal(err, "file changed while being read");
    ab_file_unmap(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, tree_setup, tree_teardown)
        T(test_plain_files),
        T(test_nested_dirs),
        T(test_symlinks_not_followed),
        T(test_symlink_root_followed),
        T(test_follow_loop_terminates),
        T(test_special_files_not_opened),
        T(test_max_depth),
        T(test_excludes),
        cmocka_unit_test(test_exclude_glob_semantics),
        cmocka_unit_test(test_exclude_relative),
        cmocka_unit_test(test_exclude_regex),
        T(test_too_large),
        T(test_one_file_system),
        T(test_pseudo_fs),
        T(test_remote_fs),
        T(test_unreadable_dir),
        T(test_root_trailing_slash),
        T(test_missing_root),
        T(test_path_too_long),
        cmocka_unit_test(test_bad_args),
        T(test_map_small),
        T(test_map_large),
        T(test_map_empty),
        T(test_map_fifo_fails_fast),
        T(test_map_symlink),
        T(test_map_replaced),
        T(test_map_swapped_parent_never_opens),
        T(test_map_limits_and_errors),
        T(test_check_unchanged_after_append),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
