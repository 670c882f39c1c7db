/* rules.c: YARA rule loading, compilation and scanning (libyara). */
#include "intel/rules.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yara.h>

#include "core/diag.h"
#include "host/procmaps.h"

#define MAX_SOURCES    100000 /* rule files queued */
#define MAX_SETS       64     /* compiled (yarac) files + 1 for our compiled sources */
#define MAX_TAGS       64     /* per finding; more are dropped */
#define MAX_META       64
#define AB_REGION_TEXT 256 /* "0x...-0x... rwxp /path" of a match in process memory */
#define MAX_SRC_SIZE   ((size_t)64 << 20)
#define MAX_WARNINGS   100000 /* compiler warnings kept for notes; more are only counted */

/* A queued source: a file on disk (path) or text in memory (text). Owned by ab_rules. */
typedef struct rule_source {
    char *path; /* NULL for text sources */
    char *text;
    char *name;     /* for diagnostics: path or the given name */
    char *ns;       /* NULL: "default" */
    int bad;        /* failed to compile: left out */
    size_t n_rules; /* rules it added to the compiled set (after compile) */
    dev_t dev;      /* identity of a file source, so that a file given twice loads once */
    ino_t ino;
} rule_source;

/* A YARA compiler warning (a slow string, ...) about one rule: the first one of the rule is kept,
 * the others counted. Delivered as notes when compiling is over, for the sources that loaded. */
typedef struct rule_warning {
    size_t src; /* index in ab_rules.src */
    char *rule; /* NULL: not about one rule */
    char *message;
    unsigned line;
    unsigned more; /* further warnings about the same rule */
} rule_warning;

struct ab_rules {
    rule_source *src; /* owned */
    size_t n_src, alloc_src;
    YR_RULES *sets[MAX_SETS]; /* owned: compiled files loaded, then our compiled sources */
    size_t n_sets;
    struct {
        dev_t dev;
        ino_t ino;
    } set_id[MAX_SETS];  /* identity of each compiled file loaded */
    YR_RULE **no_memory; /* owned array (rules not owned): rules not run on process memory */
    size_t n_no_memory;
    size_t n_rules;
    rule_warning *warn; /* owned: compiler warnings, one per rule */
    size_t n_warn, alloc_warn;
    size_t n_warned_total; /* rules warned about, kept or not (MAX_WARNINGS) */
    size_t n_warned;       /* of those, the rules that loaded (after compile) */
    int compiled;
};

ab_status ab_rules_new(ab_rules **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? AB_OK : AB_ERR_NOMEM;
}

void ab_rules_free(ab_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_src; i++) {
        free(r->src[i].path);
        free(r->src[i].text);
        free(r->src[i].name);
        free(r->src[i].ns);
    }
    free(r->src);
    for (size_t i = 0; i < r->n_sets; i++)
        yr_rules_destroy(r->sets[i]);
    free(r->no_memory);
    for (size_t i = 0; i < r->n_warn; i++) {
        free(r->warn[i].rule);
        free(r->warn[i].message);
    }
    free(r->warn);
    free(r);
}

static ab_status push_source(ab_rules *r, const char *path, const char *text, const char *name,
                             const char *ns)
{
    if (r->compiled)
        return AB_ERR_ARG;
    if (r->n_src >= MAX_SOURCES)
        return AB_ERR_LIMIT;
    if (r->n_src == r->alloc_src) {
        size_t na = r->alloc_src ? r->alloc_src * 2 : 16;
        rule_source *p = realloc(r->src, na * sizeof(*p));
        if (!p)
            return AB_ERR_NOMEM;
        r->src = p;
        r->alloc_src = na;
    }
    rule_source *s = &r->src[r->n_src];
    memset(s, 0, sizeof(*s));
    s->path = path ? strdup(path) : NULL;
    s->text = text ? strdup(text) : NULL;
    s->name = strdup(name);
    s->ns = ns ? strdup(ns) : NULL;
    if ((path && !s->path) || (text && !s->text) || !s->name || (ns && !s->ns)) {
        free(s->path);
        free(s->text);
        free(s->name);
        free(s->ns);
        return AB_ERR_NOMEM;
    }
    r->n_src++;
    return AB_OK;
}

ab_status ab_rules_add_string(ab_rules *r, const char *source, const char *name, const char *ns)
{
    return push_source(r, NULL, source, name ? name : "<string>", ns);
}

/* 1 when the file starts with the magic of a compiled (yarac) rules file, 0 when not, -1 (errno
 * set) when it cannot be read. */
static int compiled_magic(const char *path)
{
    char magic[4];
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, magic, sizeof(magic));
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return -1;
    }
    return n == 4 && memcmp(magic, "YARA", 4) == 0;
}

static const char *yara_error_text(int rc);

static ab_status add_compiled(ab_rules *r, const char *path, const struct stat *sb, char *err,
                              size_t errlen)
{
    if (r->n_sets >= MAX_SETS - 1) {
        snprintf(err, errlen, "%s: too many compiled rule files (max %d)", path, MAX_SETS - 1);
        return AB_ERR_LIMIT;
    }
    YR_RULES *rules = NULL;
    int rc = yr_rules_load(path, &rules);
    if (rc != ERROR_SUCCESS) {
        const char *why = yara_error_text(rc);
        snprintf(err, errlen, "%s: cannot load compiled rules: %s", path,
                 why ? why : "unexpected YARA error");
        return AB_ERR_RULES;
    }
    r->set_id[r->n_sets].dev = sb->st_dev;
    r->set_id[r->n_sets].ino = sb->st_ino;
    r->sets[r->n_sets++] = rules;
    return AB_OK;
}

/* The same file named twice (-r DIR -r DIR, or a folder and a file in it) loads once: a second
 * copy would only clash with the first, rule by rule. */
static int already_loaded(const ab_rules *r, const struct stat *sb)
{
    for (size_t i = 0; i < r->n_src; i++)
        if (r->src[i].path && r->src[i].dev == sb->st_dev && r->src[i].ino == sb->st_ino)
            return 1;
    for (size_t i = 0; i < r->n_sets; i++)
        if (r->set_id[i].dev == sb->st_dev && r->set_id[i].ino == sb->st_ino)
            return 1;
    return 0;
}

static ab_status add_source_file(ab_rules *r, const char *path, const struct stat *sb)
{
    ab_status st = push_source(r, path, NULL, path, NULL);
    if (st == AB_OK) {
        r->src[r->n_src - 1].dev = sb->st_dev;
        r->src[r->n_src - 1].ino = sb->st_ino;
    }
    return st;
}

/* One rule file (source or yarac output) whose stat is sb: the content decides which. */
static ab_status add_file(ab_rules *r, const char *path, const struct stat *sb, char *err,
                          size_t errlen)
{
    if (already_loaded(r, sb))
        return AB_OK;
    if (compiled_magic(path) == 1)
        return add_compiled(r, path, sb, err, errlen);
    return add_source_file(r, path, sb); /* unreadable: said when compiling */
}

static int has_rule_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".yar") == 0 || strcasecmp(dot, ".yara") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- folders ---- */

#define MAX_RULE_DEPTH 32 /* folder levels below the folder given */

/* One ab_rules_add_path over a folder tree. */
typedef struct folder_walk {
    ab_rules *r;
    ab_diag_fn diag;
    void *ctx;
    int recurse;
    size_t seen;  /* directory entries examined, at most MAX_SOURCES */
    size_t found; /* rule files taken (queued, loaded, or already there) */
    unsigned depth;
    struct {
        dev_t dev;
        ino_t ino;
    } open_dirs[MAX_RULE_DEPTH + 1]; /* the folders being walked, to notice a symlink loop */
    char *err;
    size_t errlen;
} folder_walk;

static void skipped(folder_walk *w, ab_status why, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ab_status path_failed(ab_status st, const char *path, ab_diag_fn diag, void *ctx,
                             const char *err);

/* A file of the folder is left out: say which and why (a warning: the rest loads). */
static void skipped(folder_walk *w, ab_status why, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ab_diag_say(w->diag, w->ctx, AB_DIAG_WARNING, why, path, 0, "%s: skipped", msg);
}

/* Sorted names of a folder, without '.', '~' and '_' names. */
static ab_status list_names(folder_walk *w, DIR *d, const char *path, char ***out, size_t *count)
{
    ab_status st = AB_OK;
    char **names = NULL;
    size_t n = 0, alloc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (nm[0] == '.' || nm[0] == '~' || nm[0] == '_')
            continue;
        if (++w->seen > MAX_SOURCES) {
            snprintf(w->err, w->errlen, "%s: more than %d files in the rules folder", path,
                     MAX_SOURCES);
            st = AB_ERR_LIMIT;
            goto out;
        }
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            char **p = realloc(names, alloc * sizeof(*p));
            if (!p) {
                st = AB_ERR_NOMEM;
                goto out;
            }
            names = p;
        }
        if (!(names[n] = strdup(nm))) {
            st = AB_ERR_NOMEM;
            goto out;
        }
        n++;
    }
    if (n > 0) /* qsort wants a non-NULL base even for no elements */
        qsort(names, n, sizeof(*names), cmp_str);
out:
    *out = names;
    *count = n;
    return st;
}

static ab_status walk_folder(folder_walk *w, const char *path, const struct stat *dsb);

static int dir_open(const folder_walk *w, const struct stat *sb)
{
    for (unsigned i = 0; i <= w->depth && i <= MAX_RULE_DEPTH; i++)
        if (w->open_dirs[i].dev == sb->st_dev && w->open_dirs[i].ino == sb->st_ino)
            return 1;
    return 0;
}

static ab_status walk_subfolder(folder_walk *w, const char *full, const struct stat *sb)
{
    if (!w->recurse)
        return AB_OK; /* asked for: --rules-no-recurse */
    if (dir_open(w, sb)) {
        skipped(w, AB_ERR_LIMIT, full, "folder loop (a link to a folder above)");
        return AB_OK;
    }
    if (w->depth >= MAX_RULE_DEPTH) {
        skipped(w, AB_ERR_LIMIT, full, "more than %d folder levels", MAX_RULE_DEPTH);
        return AB_OK;
    }
    w->depth++;
    ab_status st = walk_folder(w, full, sb);
    w->depth--;
    return st;
}

/* One entry of a folder: a rule file (by extension, or by content for compiled rules), a
 * subfolder, or something skipped with a warning. */
static ab_status walk_entry(folder_walk *w, const char *full, const char *name)
{
    struct stat sb;
    if (stat(full, &sb) != 0) {
        skipped(w, errno == ENOENT ? AB_ERR_NOTFOUND : AB_ERR_IO, full, "%s", strerror(errno));
        return AB_OK;
    }
    if (S_ISDIR(sb.st_mode))
        return walk_subfolder(w, full, &sb);
    if (!S_ISREG(sb.st_mode)) {
        skipped(w, AB_ERR_UNSUPPORTED, full, "not a regular file");
        return AB_OK;
    }
    if (!has_rule_ext(name)) {
        int m = compiled_magic(full);
        if (m < 0) {
            skipped(w, AB_ERR_IO, full, "cannot read: %s", strerror(errno));
            return AB_OK;
        }
        if (m == 0) {
            skipped(w, AB_ERR_UNSUPPORTED, full,
                    "neither a .yar/.yara file nor compiled YARA rules");
            return AB_OK;
        }
    }
    w->found++;
    ab_status st = add_file(w->r, full, &sb, w->err, w->errlen);
    if (st == AB_ERR_RULES || st == AB_ERR_LIMIT) {
        /* a compiled file that cannot load (another YARA version, one set too many): like a
         * source that does not compile, an error about it, and the others still load */
        path_failed(st, full, w->diag, w->ctx, w->err);
        w->err[0] = '\0';
        st = AB_OK;
    }
    return st;
}

static ab_status walk_folder(folder_walk *w, const char *path, const struct stat *dsb)
{
    char **names = NULL;
    size_t n = 0;
    DIR *d = opendir(path);
    if (!d) {
        if (w->depth == 0) {
            snprintf(w->err, w->errlen, "%s: %s", path, strerror(errno));
            return AB_ERR_IO;
        }
        skipped(w, AB_ERR_IO, path, "cannot read folder: %s", strerror(errno));
        return AB_OK;
    }
    w->open_dirs[w->depth].dev = dsb->st_dev;
    w->open_dirs[w->depth].ino = dsb->st_ino;
    ab_status st = list_names(w, d, path, &names, &n);
    closedir(d); /* before descending: open folders would grow with the depth */
    for (size_t i = 0; i < n && st == AB_OK; i++) {
        char full[4096];
        int len = snprintf(full, sizeof(full), "%s/%s", path, names[i]);
        if (len < 0 || (size_t)len >= sizeof(full))
            skipped(w, AB_ERR_LIMIT, names[i], "path longer than %zu bytes", sizeof(full) - 1);
        else
            st = walk_entry(w, full, names[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return st;
}

static ab_status add_folder(ab_rules *r, const char *path, const struct stat *sb, int recurse,
                            ab_diag_fn diag, void *ctx, char *err, size_t errlen)
{
    folder_walk w = {
        .r = r, .diag = diag, .ctx = ctx, .recurse = recurse, .err = err, .errlen = errlen};
    ab_status st = walk_folder(&w, path, sb);
    if (st == AB_OK && w.found == 0) /* an error, but not fatal: as for an IOC folder */
        ab_diag_say(diag, ctx, AB_DIAG_ERROR, AB_ERR_NOTFOUND, path, 0,
                    "no YARA rule files in folder (.yar, .yara or compiled rules%s)",
                    recurse ? ", subfolders included" : "; subfolders not searched");
    return st;
}

/* A failure of the path given: the reason goes to err and to diag (one report, with status). */
static ab_status path_failed(ab_status st, const char *path, ab_diag_fn diag, void *ctx,
                             const char *err)
{
    const char *msg = err;
    size_t pl = strlen(path);
    if (strncmp(err, path, pl) == 0 && strncmp(err + pl, ": ", 2) == 0)
        msg = err + pl + 2; /* diag has the file apart */
    ab_diag_say(diag, ctx, AB_DIAG_ERROR, st, path, 0, "%s", msg[0] ? msg : ab_strerror(st));
    return st;
}

ab_status ab_rules_add_path(ab_rules *r, const char *path, int recurse, ab_diag_fn diag, void *ctx,
                            char *err, size_t errlen)
{
    struct stat sb;
    ab_status st;
    err[0] = '\0';
    if (r->compiled)
        return AB_ERR_ARG;
    if (stat(path, &sb) != 0) {
        st = errno == ENOENT ? AB_ERR_NOTFOUND : AB_ERR_IO;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        st = add_folder(r, path, &sb, recurse, diag, ctx, err, errlen);
    } else if (!S_ISREG(sb.st_mode)) {
        st = AB_ERR_ARG;
        snprintf(err, errlen, "%s: not a regular file or folder", path);
    } else {
        st = add_file(r, path, &sb, err, errlen);
    }
    if (st != AB_OK)
        path_failed(st, path, diag, ctx, err);
    return st;
}

/* ---- compilation ---- */

typedef struct compile_ctx {
    ab_rules *r;
    ab_diag_fn diag;
    void *ctx;
    int errors;        /* errors reported for the source being added */
    size_t cur;        /* index of the source being added */
    int keep_warnings; /* record warnings (not while rebuilding or vetting) */
} compile_ctx;

static const char *src_name(const ab_rules *r, size_t i, const char *file)
{
    if (file)
        return file;
    return i < r->n_src ? r->src[i].name : "<rules>";
}

static void keep_warning(compile_ctx *cc, int line, const YR_RULE *rule, const char *msg)
{
    ab_rules *r = cc->r;
    const char *id = rule ? rule->identifier : NULL;
    if (r->n_warn > 0) {
        rule_warning *last = &r->warn[r->n_warn - 1];
        /* a rule's warnings come together, as libyara compiles it */
        if (last->src == cc->cur && id && last->rule && strcmp(last->rule, id) == 0) {
            last->more++;
            return;
        }
    }
    r->n_warned_total++;
    if (r->n_warn >= MAX_WARNINGS)
        return; /* counted, not kept */
    if (r->n_warn == r->alloc_warn) {
        size_t na = r->alloc_warn ? r->alloc_warn * 2 : 16;
        rule_warning *p = realloc(r->warn, na * sizeof(*p));
        if (!p)
            return;
        r->warn = p;
        r->alloc_warn = na;
    }
    rule_warning *w = &r->warn[r->n_warn];
    memset(w, 0, sizeof(*w));
    w->src = cc->cur;
    w->line = line > 0 ? (unsigned)line : 0;
    w->rule = id ? strdup(id) : NULL;
    w->message = strdup(msg ? msg : "");
    if ((id && !w->rule) || !w->message) {
        free(w->rule);
        free(w->message);
        return;
    }
    r->n_warn++;
}

static void compiler_cb(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
                        void *user)
{
    compile_ctx *cc = user;
    if (level != YARA_ERROR_LEVEL_ERROR) {
        if (cc->keep_warnings && cc->r)
            keep_warning(cc, line, rule, msg);
        return;
    }
    cc->errors++;
    const char *where = cc->r ? src_name(cc->r, cc->cur, file) : (file ? file : "<rules>");
    ab_diag_say(cc->diag, cc->ctx, AB_DIAG_ERROR, AB_ERR_RULES, where,
                line > 0 ? (unsigned)line : 0, "%s", msg);
}

/* External variables: those rules written for Loki/THOR expect, and the flow an object was
 * carried in (captures), so that a network rule can say "in what a client sent over HTTP" or
 * "TLS to port 25" (docs/antibody.1, EXTERNAL VARIABLES). Declared empty at compile time. */
static int define_externals(YR_COMPILER *c)
{
    static const char *const strs[] = {"filename", "filepath",   "extension",     "filetype",
                                       "owner",    "group",      "unpack_parent", "unpack_source",
                                       "md5",      "flow_proto", "app_proto",     "flow_direction",
                                       "src_ip",   "dest_ip"};
    static const char *const ints[] = {"filemode", "src_port", "dest_port"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (yr_compiler_define_string_variable(c, strs[i], "") != ERROR_SUCCESS)
            return -1;
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (yr_compiler_define_integer_variable(c, ints[i], 0) != ERROR_SUCCESS)
            return -1;
    return 0;
}

static YR_COMPILER *new_compiler_cb(YR_COMPILER_CALLBACK_FUNC cb, void *user)
{
    YR_COMPILER *c = NULL;
    if (yr_compiler_create(&c) != ERROR_SUCCESS)
        return NULL;
    if (define_externals(c) != 0) {
        yr_compiler_destroy(c);
        return NULL;
    }
    yr_compiler_set_callback(c, cb, user);
    return c;
}

static YR_COMPILER *new_compiler(compile_ctx *cc)
{
    return new_compiler_cb(compiler_cb, cc);
}

/* Add source i of r to c; returns the number of compile errors (or -1 on I/O error, reported). */
static int add_source(YR_COMPILER *c, ab_rules *r, size_t i, compile_ctx *cc)
{
    rule_source *s = &r->src[i];
    const char *ns = s->ns ? s->ns : "default";
    cc->errors = 0;
    cc->cur = i;
    if (s->text)
        return yr_compiler_add_string(c, s->text, ns);
    FILE *f = fopen(s->path, "re");
    if (!f) {
        ab_diag_say(cc->diag, cc->ctx, AB_DIAG_ERROR, errno == ENOENT ? AB_ERR_NOTFOUND : AB_ERR_IO,
                    s->path, 0, "%s", strerror(errno));
        return -1;
    }
    int n = yr_compiler_add_file(c, f, ns, s->path);
    fclose(f);
    return n;
}

/* libyara cannot keep using a compiler after an error, so a bad source costs a rebuild of the
 * compiler from the good sources so far. */
static YR_COMPILER *rebuild(ab_rules *r, size_t upto, compile_ctx *cc)
{
    for (;;) {
        compile_ctx quiet = {0};
        YR_COMPILER *c = new_compiler(&quiet);
        if (!c)
            return NULL;
        size_t i = 0;
        for (; i < upto; i++)
            if (!r->src[i].bad && add_source(c, r, i, &quiet) != 0)
                break;
        if (i == upto) {
            yr_compiler_set_callback(c, compiler_cb, cc);
            return c;
        }
        r->src[i].bad = 1; /* failed only together with others (e.g. a duplicate rule name) */
        yr_compiler_destroy(c);
    }
}

/* Vetting callback: counts errors and whether every one was an undefined identifier, the only
 * kind of error that the rules of other files can cure (a rule referring to another file's rule).
 */
typedef struct vet_ctx {
    int errors, other;
} vet_ctx;

static void vet_cb(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
                   void *user)
{
    (void)file;
    (void)line;
    (void)rule;
    vet_ctx *v = user;
    if (level != YARA_ERROR_LEVEL_ERROR)
        return;
    v->errors++;
    if (!strstr(msg, "undefined identifier"))
        v->other++;
}

/* After the first failure, vet every remaining source alone in a throwaway compiler, so a rule
 * set with many bad files costs about two compiles, not one rebuild per bad file. A source that
 * fails alone for a reason other rules cannot cure is marked bad and its errors reported (by a
 * second, reporting compile of that file only); the others are tried in context as usual. */
static void vet_remaining(ab_rules *r, size_t from, compile_ctx *cc)
{
    for (size_t i = from; i < r->n_src; i++) {
        vet_ctx v = {0, 0};
        YR_COMPILER *c = new_compiler_cb(vet_cb, &v);
        if (!c)
            return;
        compile_ctx dummy = {0};
        add_source(c, r, i, &dummy);
        yr_compiler_destroy(c);
        if (v.errors == 0 || v.other == 0)
            continue;
        r->src[i].bad = 1;
        if ((c = new_compiler(cc))) {
            add_source(c, r, i, cc); /* reports file:line: message */
            yr_compiler_destroy(c);
        }
    }
}

static int meta_excludes_memory(const YR_RULE *rule)
{
    const YR_META *m;
    yr_rule_metas_foreach(rule, m)
    {
        if (strcmp(m->identifier, "memory") == 0 &&
            (m->type == META_TYPE_INTEGER || m->type == META_TYPE_BOOLEAN) && m->integer == 0)
            return 1;
        if (strcmp(m->identifier, "type") == 0 && m->type == META_TYPE_STRING &&
            strcasecmp(m->string, "file") == 0)
            return 1;
    }
    return 0;
}

/* The value of a score meta as written: an integer, or text read as a number; a boolean is
 * ignored (THOR's default 75). *whole (may be NULL) is 0 when the value was not a number, or
 * text with trailing junk. */
static long meta_score(const YR_META *m, int *whole)
{
    if (whole)
        *whole = m->type != META_TYPE_BOOLEAN;
    if (m->type == META_TYPE_BOOLEAN)
        return 75;
    if (m->type != META_TYPE_STRING)
        return (long)m->integer;
    char *end = NULL;
    long v = strtol(m->string, &end, 10);
    if (whole && (end == m->string || *end != '\0'))
        *whole = 0;
    return v;
}

/* A score outside 0..100 is clamped when the rule matches, and a score that is not a number
 * reads as what strtol makes of it: say so once per rule at load time (where the author can fix
 * it), not silently at every finding. Only the first score meta counts, as in finding_from_rule. */
static void warn_scores(const ab_rules *r, ab_diag_fn diag, void *ctx)
{
    for (size_t i = 0; diag && i < r->n_sets; i++) {
        YR_RULE *rule;
        yr_rules_foreach(r->sets[i], rule)
        {
            const YR_META *m;
            yr_rule_metas_foreach(rule, m)
            {
                if (strcmp(m->identifier, "score") != 0)
                    continue;
                int whole = 1;
                long v = meta_score(m, &whole);
                char where[256], msg[160];
                snprintf(where, sizeof(where), "rule %s", rule->identifier);
                if (v < 0 || v > 100)
                    snprintf(msg, sizeof(msg), "score %ld clamped to %d", v, v < 0 ? 0 : 100);
                else if (!whole)
                    snprintf(msg, sizeof(msg), "score %s%.40s%s is not a number: read as %ld",
                             m->string ? "\"" : "", m->string ? m->string : "(a boolean)",
                             m->string ? "\"" : "", v);
                if (v < 0 || v > 100 || !whole)
                    diag(ctx, AB_DIAG_WARNING, where, msg);
                break;
            }
        }
    }
}

static ab_status index_rules(ab_rules *r)
{
    size_t cap = 0;
    for (size_t i = 0; i < r->n_sets; i++) {
        YR_RULE *rule;
        yr_rules_foreach(r->sets[i], rule)
        {
            r->n_rules++;
            if (!meta_excludes_memory(rule))
                continue;
            if (r->n_no_memory == cap) {
                cap = cap ? cap * 2 : 16;
                YR_RULE **p = realloc(r->no_memory, cap * sizeof(*p));
                if (!p)
                    return AB_ERR_NOMEM;
                r->no_memory = p;
            }
            r->no_memory[r->n_no_memory++] = rule;
        }
    }
    return AB_OK;
}

/* The warnings kept, as notes, for the sources that loaded; returns how many rules they concern. */
static size_t deliver_warnings(const ab_rules *r, ab_diag_fn diag, void *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_warn; i++) {
        const rule_warning *w = &r->warn[i];
        if (w->src < r->n_src && r->src[w->src].bad)
            continue; /* its file did not load: its errors were said */
        n++;
        char msg[1024];
        if (w->more)
            snprintf(msg, sizeof(msg), "%s (and %u more warning%s)", w->message, w->more,
                     w->more == 1 ? "" : "s");
        else
            snprintf(msg, sizeof(msg), "%s", w->message);
        ab_diag d = {AB_DIAG_NOTE, AB_OK, src_name(r, w->src, NULL), w->line, w->rule, msg};
        ab_diag_emit(diag, ctx, &d);
    }
    return n;
}

ab_status ab_rules_compile(ab_rules *r, ab_diag_fn diag, void *ctx)
{
    ab_status st = AB_OK;
    compile_ctx cc = {.r = r, .diag = diag, .ctx = ctx, .keep_warnings = 1};
    YR_COMPILER *c = NULL;
    size_t good = 0;
    if (r->compiled)
        return AB_ERR_ARG;
    if (r->n_src > 0) {
        if (!(c = new_compiler(&cc)))
            return AB_ERR_NOMEM;
        int vetted = 0;
        for (size_t i = 0; i < r->n_src; i++) {
            if (r->src[i].bad)
                continue; /* already reported by vet_remaining */
            uint32_t before = c->next_rule_idx;
            if (add_source(c, r, i, &cc) == 0) {
                r->src[i].n_rules = c->next_rule_idx - before;
                good++;
                continue;
            }
            r->src[i].bad = 1;
            yr_compiler_destroy(c);
            if (!vetted) {
                vet_remaining(r, i + 1, &cc);
                vetted = 1;
            }
            if (!(c = rebuild(r, i, &cc)))
                return AB_ERR_NOMEM;
        }
        YR_RULES *rules = NULL;
        if (good > 0) {
            if (yr_compiler_get_rules(c, &rules) != ERROR_SUCCESS) {
                st = AB_ERR_NOMEM;
                goto out;
            }
            r->sets[r->n_sets++] = rules;
        }
    }
    st = index_rules(r);
    warn_scores(r, diag, ctx);
    if (st == AB_OK && r->n_src > 0 && good == 0 && r->n_sets == 0)
        st = AB_ERR_RULES;
    r->n_warned = deliver_warnings(r, diag, ctx) + (r->n_warned_total - r->n_warn);
    r->compiled = 1;
out:
    if (c)
        yr_compiler_destroy(c);
    return st;
}

size_t ab_rules_count(const ab_rules *r)
{
    return r ? r->n_rules : 0;
}

size_t ab_rules_warned(const ab_rules *r)
{
    return r ? r->n_warned : 0;
}

size_t ab_rules_sources(const ab_rules *r)
{
    return r ? r->n_src + r->n_sets : 0;
}

void ab_rules_position(const ab_rules *r, size_t *src, size_t *sets)
{
    *src = r->n_src;
    *sets = r->n_sets; /* before compile: the compiled files so far */
}

static size_t set_rule_count(YR_RULES *rules)
{
    size_t n = 0;
    const YR_RULE *rule;
    yr_rules_foreach(rules, rule) n++;
    return n;
}

size_t ab_rules_count_range(const ab_rules *r, size_t src_from, size_t src_to, size_t set_from,
                            size_t set_to)
{
    size_t n = 0;
    for (size_t i = src_from; i < src_to && i < r->n_src; i++)
        n += r->src[i].bad ? 0 : r->src[i].n_rules;
    for (size_t i = set_from; i < set_to && i < r->n_sets; i++)
        n += set_rule_count(r->sets[i]);
    return n;
}

typedef struct digest_stream {
    void (*update)(void *ctx, const void *p, size_t n);
    void *ctx;
} digest_stream;

static size_t digest_write(const void *ptr, size_t size, size_t count, void *user)
{
    digest_stream *d = user;
    d->update(d->ctx, ptr, size * count);
    return count;
}

/* The compiled rule sets as libyara saves them (yarac's format): the same sources compiled by
 * the same libyara give the same bytes, wherever the files lie. */
ab_status ab_rules_digest(const ab_rules *r, void (*update)(void *ctx, const void *p, size_t n),
                          void *ctx)
{
    digest_stream d = {update, ctx};
    YR_STREAM st = {.user_data = &d, .write = digest_write};
    for (size_t i = 0; i < r->n_sets; i++)
        if (yr_rules_save_stream(r->sets[i], &st) != ERROR_SUCCESS)
            return AB_ERR_INTERNAL;
    return AB_OK;
}

/* ---- scanning ---- */

struct ab_yara {
    const ab_rules *rules;
    YR_SCANNER *scanners[MAX_SETS]; /* owned, one per rule set */
    size_t n;
    int strings;        /* report matched strings */
    unsigned timeout_s; /* for the message when it is reached */
};

void ab_yara_no_trycatch(ab_yara *y)
{
    for (size_t i = 0; y && i < y->n; i++)
        yr_scanner_set_flags(y->scanners[i], SCAN_FLAGS_NO_TRYCATCH);
}

void ab_yara_set_strings(ab_yara *y, int on)
{
    y->strings = on;
}

void ab_yara_free(ab_yara *y)
{
    if (!y)
        return;
    for (size_t i = 0; i < y->n; i++)
        yr_scanner_destroy(y->scanners[i]);
    free(y);
}

/* Per-scan state handed to libyara's callback. */
typedef struct scan_cb {
    const ab_object *obj;
    const ab_emit *em;
    int stop;
    int strings;  /* collect matched strings */
    ab_maps maps; /* process objects: their memory map, read at the first match */
    int maps_loaded;
} scan_cb;

/* The matches of rule's public strings, at most AB_MAX_STRING_MATCHES; the rest are counted in
 * *omitted. libyara keeps YR_MATCH records unaligned in its notebook, so each one is copied out
 * with memcpy, never dereferenced in place (UBSan rejects the misaligned access). */
static size_t collect_strings(YR_SCAN_CONTEXT *context, YR_RULE *rule, ab_string_match *out,
                              uint64_t *omitted, scan_cb *cb, char (*regions)[AB_REGION_TEXT])
{
    size_t n = 0;
    const YR_STRING *s;
    *omitted = 0;
    yr_rule_strings_foreach(rule, s)
    {
        if (s->flags & STRING_FLAGS_PRIVATE)
            continue; /* as yara -s: private strings are not shown */
        const YR_MATCHES *ms = &context->matches[s->idx];
        uint64_t left = ms->count > 0 ? (uint64_t)ms->count : 0;
        const YR_MATCH *mp = ms->head;
        while (mp && left && n < AB_MAX_STRING_MATCHES) {
            YR_MATCH m;
            memcpy(&m, mp, sizeof(m));
            uint32_t len = m.match_length > 0 ? (uint32_t)m.match_length : 0;
            uint32_t dl = m.data_length > 0 ? (uint32_t)m.data_length : 0;
            out[n] =
                (ab_string_match){s->identifier, (uint64_t)(m.base + m.offset),
                                  len,           dl < AB_MATCH_DATA_MAX ? dl : AB_MATCH_DATA_MAX,
                                  m.data,        NULL};
            if (cb->obj->pid > 0 && !cb->obj->data) {
                if (!cb->maps_loaded) {
                    ab_maps_load(cb->obj->pid, &cb->maps); /* none: regions stay NULL */
                    cb->maps_loaded = 1;
                }
                out[n].region =
                    ab_maps_describe(&cb->maps, out[n].offset, regions[n], AB_REGION_TEXT);
            }
            n++;
            left--;
            mp = m.next;
        }
        *omitted += left;
    }
    return n;
}

static void finding_from_rule(YR_SCAN_CONTEXT *context, YR_RULE *rule, ab_finding *f,
                              const char **tags, ab_meta *meta, char *reason, size_t rlen)
{
    const char *tag;
    size_t nt = 0, nm = 0, n_str = 0, n_hit = 0;
    yr_rule_tags_foreach(rule, tag)
    {
        if (nt < MAX_TAGS)
            tags[nt++] = tag;
    }
    f->score = 75;      /* THOR's default when a rule has no score */
    int have_score = 0; /* a repeated meta: the first one counts, as for description and family */
    const YR_META *m;
    yr_rule_metas_foreach(rule, m)
    {
        if (nm >= MAX_META)
            break;
        ab_meta *x = &meta[nm++];
        x->key = m->identifier;
        x->is_int = m->type == META_TYPE_INTEGER;
        x->is_bool = m->type == META_TYPE_BOOLEAN;
        x->ival = m->integer;
        x->str = m->type == META_TYPE_STRING ? m->string : NULL;
        if (!have_score && strcmp(m->identifier, "score") == 0) {
            have_score = 1;
            long v = meta_score(m, NULL);
            f->score = v < 0 ? 0 : v > 100 ? 100 : (int)v; /* warn_scores said so at load */
        } else if (x->str && !f->description && strcmp(m->identifier, "description") == 0) {
            f->description = x->str;
        } else if (x->str && !f->family &&
                   (strcmp(m->identifier, "family") == 0 ||
                    strcmp(m->identifier, "malware_family") == 0)) {
            f->family = x->str;
        }
    }
    /* Only the per-string match count is read: walking libyara's YR_MATCH records
     * (yr_string_matches_foreach) reads misaligned arena memory, which UBSan rejects. */
    const YR_STRING *s;
    yr_rule_strings_foreach(rule, s)
    {
        if (s->flags & STRING_FLAGS_PRIVATE)
            continue;
        n_str++;
        if (context->matches[s->idx].count > 0)
            n_hit++;
    }
    if (n_str)
        snprintf(reason, rlen, "%zu of %zu strings matched", n_hit, n_str);
    else
        snprintf(reason, rlen, "condition matched");
    f->tags = tags;
    f->tags_len = nt;
    f->meta = meta;
    f->meta_len = nm;
}

static int yara_callback(YR_SCAN_CONTEXT *context, int message, void *message_data, void *user)
{
    scan_cb *cb = user;
    if (message != CALLBACK_MSG_RULE_MATCHING)
        return CALLBACK_CONTINUE;
    YR_RULE *rule = message_data;
    const char *tags[MAX_TAGS];
    ab_meta meta[MAX_META];
    char reason[96];
    ab_string_match sm[AB_MAX_STRING_MATCHES];
    char regions[AB_MAX_STRING_MATCHES][AB_REGION_TEXT];
    ab_finding f;
    memset(&f, 0, sizeof(f));
    if (cb->strings) {
        f.strings_len = collect_strings(context, rule, sm, &f.strings_omitted, cb, regions);
        f.strings = sm;
    }
    ab_object_info_fill(&f.obj, cb->obj);
    f.matcher = AB_MATCHER_YARA;
    f.rule = rule->identifier;
    f.rule_namespace = rule->ns->name;
    finding_from_rule(context, rule, &f, tags, meta, reason, sizeof(reason));
    f.severity = ab_severity_for_score(f.score);
    f.reason = reason;
    if (cb->em->finding(cb->em->ctx, &f)) {
        cb->stop = 1;
        return CALLBACK_ABORT;
    }
    return CALLBACK_CONTINUE;
}

ab_status ab_yara_new(const ab_rules *r, unsigned timeout_s, ab_yara **out)
{
    ab_yara *y = calloc(1, sizeof(*y));
    if (!y)
        return AB_ERR_NOMEM;
    y->rules = r;
    y->timeout_s = timeout_s;
    for (size_t i = 0; i < r->n_sets; i++) {
        if (yr_scanner_create(r->sets[i], &y->scanners[i]) != ERROR_SUCCESS) {
            ab_yara_free(y);
            return AB_ERR_NOMEM;
        }
        y->n++;
        yr_scanner_set_timeout(y->scanners[i], (int)timeout_s);
        yr_scanner_set_flags(y->scanners[i], 0);
    }
    *out = y;
    return AB_OK;
}

static void set_vars(YR_SCANNER *s, const ab_yara_vars *v)
{
    /* Failures only mean a compiled rule file did not declare the variable: harmless. */
    yr_scanner_define_string_variable(s, "filename", v->filename ? v->filename : "");
    yr_scanner_define_string_variable(s, "filepath", v->filepath ? v->filepath : "");
    yr_scanner_define_string_variable(s, "extension", v->extension ? v->extension : "");
    yr_scanner_define_string_variable(s, "filetype", v->filetype ? v->filetype : "UNKNOWN");
    yr_scanner_define_string_variable(s, "owner", v->owner ? v->owner : "");
    yr_scanner_define_string_variable(s, "group", v->group ? v->group : "");
    yr_scanner_define_string_variable(s, "md5", v->md5 ? v->md5 : "");
    yr_scanner_define_string_variable(s, "unpack_parent", v->unpack_parent ? v->unpack_parent : "");
    yr_scanner_define_string_variable(s, "unpack_source", v->unpack_source ? v->unpack_source : "");
    yr_scanner_define_integer_variable(s, "filemode", v->filemode);
    const ab_flow_info *f = v->flow;
    yr_scanner_define_string_variable(s, "flow_proto", f && f->proto ? f->proto : "");
    yr_scanner_define_string_variable(s, "app_proto", f && f->app_proto ? f->app_proto : "");
    yr_scanner_define_string_variable(s, "flow_direction", f && f->direction ? f->direction : "");
    yr_scanner_define_string_variable(s, "src_ip", f && f->src_ip ? f->src_ip : "");
    yr_scanner_define_string_variable(s, "dest_ip", f && f->dest_ip ? f->dest_ip : "");
    yr_scanner_define_integer_variable(s, "src_port", f ? f->src_port : 0);
    yr_scanner_define_integer_variable(s, "dest_port", f ? f->dest_port : 0);
}

/* What a libyara error code means, in words (messages never show the number: it means nothing
 * to the reader). Every ERROR_* of libyara's error.h is here; the ones a scan can return are
 * worded for a scan, the compiler's for completeness (a compiled rule file can carry them). */
static const char *yara_error_text(int rc)
{
    switch (rc) {
    case ERROR_INSUFFICIENT_MEMORY:
        return "out of memory";
    case ERROR_COULD_NOT_ATTACH_TO_PROCESS:
        return "cannot open the process's memory";
    case ERROR_COULD_NOT_OPEN_FILE:
        return "cannot open the file";
    case ERROR_COULD_NOT_MAP_FILE:
        return "cannot map the file into memory";
    case ERROR_INVALID_FILE:
        return "not a valid compiled rules file";
    case ERROR_CORRUPT_FILE:
        return "corrupt compiled rules file";
    case ERROR_UNSUPPORTED_FILE_VERSION:
        return "compiled rules file of another YARA version";
    case ERROR_INVALID_REGULAR_EXPRESSION:
        return "invalid regular expression in a rule";
    case ERROR_INVALID_HEX_STRING:
        return "invalid hex string in a rule";
    case ERROR_SYNTAX_ERROR:
        return "syntax error in a rule";
    case ERROR_LOOP_NESTING_LIMIT_EXCEEDED:
        return "loops nested too deeply in a rule";
    case ERROR_DUPLICATED_LOOP_IDENTIFIER:
        return "duplicated loop identifier in a rule";
    case ERROR_DUPLICATED_IDENTIFIER:
        return "duplicated rule identifier";
    case ERROR_DUPLICATED_TAG_IDENTIFIER:
        return "duplicated tag in a rule";
    case ERROR_DUPLICATED_META_IDENTIFIER:
        return "duplicated meta identifier in a rule";
    case ERROR_DUPLICATED_STRING_IDENTIFIER:
        return "duplicated string identifier in a rule";
    case ERROR_UNREFERENCED_STRING:
        return "a rule string is never used in its condition";
    case ERROR_UNDEFINED_STRING:
        return "undefined string in a rule";
    case ERROR_UNDEFINED_IDENTIFIER:
        return "undefined identifier in a rule";
    case ERROR_MISPLACED_ANONYMOUS_STRING:
        return "misplaced anonymous string in a rule";
    case ERROR_INCLUDES_CIRCULAR_REFERENCE:
        return "circular include in rules";
    case ERROR_INCLUDE_DEPTH_EXCEEDED:
        return "includes nested too deeply in rules";
    case ERROR_WRONG_TYPE:
        return "wrong type in a rule condition";
    case ERROR_EXEC_STACK_OVERFLOW:
        return "a rule condition overflowed YARA's evaluation stack";
    case ERROR_SCAN_TIMEOUT:
        return "time limit reached";
    case ERROR_TOO_MANY_SCAN_THREADS:
        return "too many YARA scans at once";
    case ERROR_CALLBACK_ERROR:
        return "the scan was stopped by its callback";
    case ERROR_INVALID_ARGUMENT:
        return "invalid argument to YARA";
    case ERROR_TOO_MANY_MATCHES:
        return "a rule string matched too many times (YARA's limit per string)";
    case ERROR_INTERNAL_FATAL_ERROR:
        return "YARA internal error";
    case ERROR_NESTED_FOR_OF_LOOP:
        return "nested for..of loop in a rule";
    case ERROR_INVALID_FIELD_NAME:
        return "invalid field name in a rule";
    case ERROR_UNKNOWN_MODULE:
        return "a rule imports a module this YARA lacks";
    case ERROR_NOT_A_STRUCTURE:
        return "not a structure in a rule condition";
    case ERROR_NOT_INDEXABLE:
        return "not indexable in a rule condition";
    case ERROR_NOT_A_FUNCTION:
        return "not a function in a rule condition";
    case ERROR_INVALID_FORMAT:
        return "invalid format in a rule";
    case ERROR_TOO_MANY_ARGUMENTS:
        return "too many arguments in a rule condition";
    case ERROR_WRONG_ARGUMENTS:
        return "wrong arguments in a rule condition";
    case ERROR_WRONG_RETURN_TYPE:
        return "wrong return type in a module function";
    case ERROR_DUPLICATED_STRUCTURE_MEMBER:
        return "duplicated structure member in a module";
    case ERROR_EMPTY_STRING:
        return "empty string in a rule";
    case ERROR_DIVISION_BY_ZERO:
        return "division by zero in a rule condition";
    case ERROR_REGULAR_EXPRESSION_TOO_LARGE:
        return "regular expression in a rule too large";
    case ERROR_TOO_MANY_RE_FIBERS:
        return "a rule's regular expression needed too many matching threads on this data";
    case ERROR_COULD_NOT_READ_PROCESS_MEMORY:
        return "cannot read the process's memory";
    case ERROR_INVALID_EXTERNAL_VARIABLE_TYPE:
        return "external variable of the wrong type";
    case ERROR_REGULAR_EXPRESSION_TOO_COMPLEX:
        return "regular expression in a rule too complex";
    case ERROR_INVALID_MODULE_NAME:
        return "invalid module name in a rule";
    case ERROR_TOO_MANY_STRINGS:
        return "a rule has too many strings";
    case ERROR_INTEGER_OVERFLOW:
        return "integer overflow in a rule";
    case ERROR_CALLBACK_REQUIRED:
        return "YARA needs a callback";
    case ERROR_INVALID_OPERAND:
        return "invalid operand in a rule condition";
    case ERROR_COULD_NOT_READ_FILE:
        return "cannot read the file";
    case ERROR_DUPLICATED_EXTERNAL_VARIABLE:
        return "duplicated external variable";
    case ERROR_INVALID_MODULE_DATA:
        return "invalid module data";
    case ERROR_WRITING_FILE:
        return "cannot write the file";
    case ERROR_INVALID_MODIFIER:
        return "invalid string modifier in a rule";
    case ERROR_DUPLICATED_MODIFIER:
        return "duplicated string modifier in a rule";
    case ERROR_BLOCK_NOT_READY:
        return "a memory block was not ready";
    case ERROR_INVALID_PERCENTAGE:
        return "invalid percentage in a rule condition";
    case ERROR_IDENTIFIER_MATCHES_WILDCARD:
        return "a rule identifier matches a wildcard";
    default:
        return NULL; /* newer than the libyara this was built with */
    }
}

/* The status for a libyara scan error. */
static ab_status yara_error_status(int rc)
{
    switch (rc) {
    case ERROR_SCAN_TIMEOUT:
        return AB_ERR_TIMEOUT;
    case ERROR_INSUFFICIENT_MEMORY:
        return AB_ERR_NOMEM;
    case ERROR_TOO_MANY_MATCHES:
    case ERROR_EXEC_STACK_OVERFLOW:
    case ERROR_TOO_MANY_RE_FIBERS:
    case ERROR_TOO_MANY_SCAN_THREADS:
        return AB_ERR_LIMIT;
    case ERROR_COULD_NOT_ATTACH_TO_PROCESS:
    case ERROR_COULD_NOT_OPEN_FILE:
    case ERROR_COULD_NOT_MAP_FILE:
    case ERROR_COULD_NOT_READ_PROCESS_MEMORY:
    case ERROR_COULD_NOT_READ_FILE:
        return AB_ERR_IO;
    case ERROR_UNKNOWN_MODULE:
    case ERROR_INVALID_MODULE_DATA:
    case ERROR_WRONG_TYPE:
    case ERROR_INVALID_EXTERNAL_VARIABLE_TYPE:
        return AB_ERR_RULES;
    default:
        return AB_ERR_INTERNAL;
    }
}

/* A one-line message for a failed scan. */
static void yara_scan_message(const ab_yara *y, int rc, char *err, size_t errlen)
{
    const char *text = yara_error_text(rc);
    if (rc == ERROR_SCAN_TIMEOUT)
        snprintf(err, errlen, "time limit of %u s reached (--timeout): not completely scanned",
                 y->timeout_s);
    else if (text)
        snprintf(err, errlen, "YARA: %s", text);
    else /* a code this build does not know: the number is all there is to report */
        snprintf(err, errlen, "YARA: unexpected error (code %d, unknown to this build)", rc);
}

static void set_memory_rules(const ab_rules *r, int enable)
{
    for (size_t i = 0; i < r->n_no_memory; i++) {
        if (enable)
            yr_rule_enable(r->no_memory[i]);
        else
            yr_rule_disable(r->no_memory[i]);
    }
}

ab_status ab_yara_scan(ab_yara *y, const ab_object *obj, const ab_yara_vars *vars,
                       const ab_emit *em, char *err, size_t errlen)
{
    scan_cb cb = {obj, em, 0, y->strings, {0}, 0};
    int is_proc = obj->pid > 0 && !obj->data;
    if (is_proc)
        set_memory_rules(y->rules, 0); /* workers own their copy of the rules: safe to toggle */
    int rc = ERROR_SUCCESS;
    for (size_t i = 0; i < y->n && !cb.stop; i++) {
        YR_SCANNER *s = y->scanners[i];
        yr_scanner_set_callback(s, yara_callback, &cb);
        set_vars(s, vars);
        rc = is_proc ? yr_scanner_scan_proc(s, (int)obj->pid)
                     : yr_scanner_scan_mem(s, obj->data, obj->size);
        if (rc != ERROR_SUCCESS && !(cb.stop && rc == ERROR_CALLBACK_ERROR))
            break;
        rc = ERROR_SUCCESS;
    }
    if (is_proc)
        set_memory_rules(y->rules, 1);
    ab_maps_free(&cb.maps);
    if (rc == ERROR_SUCCESS)
        return AB_OK;
    yara_scan_message(y, rc, err, errlen);
    return yara_error_status(rc);
}
