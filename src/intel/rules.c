/* rules.c: YARA rule loading, compilation and scanning (libyara). */
#include "intel/rules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yara.h>

#define MAX_SOURCES  100000 /* rule files queued */
#define MAX_SETS     64     /* compiled (yarac) files + 1 for our compiled sources */
#define MAX_TAGS     64     /* per finding; more are dropped */
#define MAX_META     64
#define MAX_SRC_SIZE ((size_t)64 << 20)

/* A queued source: a file on disk (path) or text in memory (text). Owned by ab_rules. */
typedef struct rule_source {
    char *path; /* NULL for text sources */
    char *text;
    char *name; /* for diagnostics: path or the given name */
    char *ns;   /* NULL: "default" */
    int bad;    /* failed to compile: left out */
    dev_t dev;  /* identity of a file source, so that a file given twice loads once */
    ino_t ino;
} rule_source;

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

/* 1 when the file starts with the magic of a compiled (yarac) rules file. */
static int is_compiled_rules(const char *path)
{
    char magic[4];
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, magic, sizeof(magic));
    close(fd);
    return n == 4 && memcmp(magic, "YARA", 4) == 0;
}

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
        snprintf(err, errlen, "%s: cannot load compiled rules (libyara error %d%s)", path, rc,
                 rc == ERROR_UNSUPPORTED_FILE_VERSION ? ": compiled by another YARA version" : "");
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

/* One rule file (source or yarac output) whose stat is sb. */
static ab_status add_file(ab_rules *r, const char *path, const struct stat *sb, char *err,
                          size_t errlen)
{
    if (already_loaded(r, sb))
        return AB_OK;
    if (is_compiled_rules(path))
        return add_compiled(r, path, sb, err, errlen);
    ab_status st = push_source(r, path, NULL, path, NULL);
    if (st == AB_OK) {
        r->src[r->n_src - 1].dev = sb->st_dev;
        r->src[r->n_src - 1].ino = sb->st_ino;
    }
    return st;
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

static ab_status add_folder(ab_rules *r, const char *path, char *err, size_t errlen)
{
    ab_status st = AB_OK;
    char **names = NULL;
    size_t n = 0, alloc = 0;
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return AB_ERR_IO;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (nm[0] == '.' || nm[0] == '~' || nm[0] == '_' || !has_rule_ext(nm))
            continue;
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            char **p = alloc <= MAX_SOURCES ? realloc(names, alloc * sizeof(*p)) : NULL;
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
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n && st == AB_OK; i++) {
        char full[4096];
        int len = snprintf(full, sizeof(full), "%s/%s", path, names[i]);
        if (len < 0 || (size_t)len >= sizeof(full))
            continue;
        struct stat sb;
        if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        st = add_file(r, full, &sb, err, errlen);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return st;
}

ab_status ab_rules_add_path(ab_rules *r, const char *path, ab_diag_fn diag, void *ctx, char *err,
                            size_t errlen)
{
    (void)diag;
    (void)ctx;
    struct stat sb;
    if (r->compiled)
        return AB_ERR_ARG;
    if (stat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? AB_ERR_NOTFOUND : AB_ERR_IO;
    }
    if (S_ISDIR(sb.st_mode))
        return add_folder(r, path, err, errlen);
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file or folder", path);
        return AB_ERR_ARG;
    }
    return add_file(r, path, &sb, err, errlen);
}

/* ---- compilation ---- */

typedef struct compile_ctx {
    ab_diag_fn diag;
    void *ctx;
    int errors; /* errors reported for the source being added */
} compile_ctx;

static void compiler_cb(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
                        void *user)
{
    (void)rule;
    compile_ctx *cc = user;
    if (level != YARA_ERROR_LEVEL_ERROR)
        return; /* warnings (slow rules) are the rule author's business, as in Loki */
    cc->errors++;
    if (cc->diag) {
        char where[4200];
        snprintf(where, sizeof(where), "%s:%d", file ? file : "<rules>", line);
        cc->diag(cc->ctx, AB_DIAG_ERROR, where, msg);
    }
}

/* External variables rules written for Loki/THOR expect; declared empty at compile time. */
static int define_externals(YR_COMPILER *c)
{
    static const char *const strs[] = {"filename",      "filepath",      "extension",
                                       "filetype",      "owner",         "group",
                                       "unpack_parent", "unpack_source", "md5"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (yr_compiler_define_string_variable(c, strs[i], "") != ERROR_SUCCESS)
            return -1;
    return yr_compiler_define_integer_variable(c, "filemode", 0) == ERROR_SUCCESS ? 0 : -1;
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

/* Add one source to c; returns the number of compile errors (or -1 on I/O error, reported). */
static int add_source(YR_COMPILER *c, rule_source *s, compile_ctx *cc)
{
    const char *ns = s->ns ? s->ns : "default";
    cc->errors = 0;
    if (s->text)
        return yr_compiler_add_string(c, s->text, ns);
    FILE *f = fopen(s->path, "re");
    if (!f) {
        if (cc->diag)
            cc->diag(cc->ctx, AB_DIAG_ERROR, s->path, strerror(errno));
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
            if (!r->src[i].bad && add_source(c, &r->src[i], &quiet) != 0)
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
        add_source(c, &r->src[i], &dummy);
        yr_compiler_destroy(c);
        if (v.errors == 0 || v.other == 0)
            continue;
        r->src[i].bad = 1;
        if ((c = new_compiler(cc))) {
            add_source(c, &r->src[i], cc); /* reports file:line: message */
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

ab_status ab_rules_compile(ab_rules *r, ab_diag_fn diag, void *ctx)
{
    ab_status st = AB_OK;
    compile_ctx cc = {diag, ctx, 0};
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
            if (add_source(c, &r->src[i], &cc) == 0) {
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

size_t ab_rules_sources(const ab_rules *r)
{
    return r ? r->n_src + r->n_sets : 0;
}

/* ---- scanning ---- */

struct ab_yara {
    const ab_rules *rules;
    YR_SCANNER *scanners[MAX_SETS]; /* owned, one per rule set */
    size_t n;
};

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
} scan_cb;

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
    ab_finding f;
    memset(&f, 0, sizeof(f));
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
    yr_scanner_define_integer_variable(s, "filemode", v->filemode);
}

static const char *yara_error_text(int rc)
{
    switch (rc) {
    case ERROR_SCAN_TIMEOUT:
        return "YARA scan timed out";
    case ERROR_INSUFFICIENT_MEMORY:
        return "YARA: out of memory";
    case ERROR_COULD_NOT_ATTACH_TO_PROCESS:
        return "cannot attach to process";
    case ERROR_COULD_NOT_MAP_FILE:
        return "cannot map memory";
    case ERROR_TOO_MANY_MATCHES:
        return "YARA: too many matches";
    default:
        return "YARA scan error";
    }
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
    scan_cb cb = {obj, em, 0};
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
    if (rc == ERROR_SUCCESS)
        return AB_OK;
    snprintf(err, errlen, "%s (libyara error %d)", yara_error_text(rc), rc);
    if (rc == ERROR_SCAN_TIMEOUT)
        return AB_ERR_TIMEOUT;
    if (rc == ERROR_INSUFFICIENT_MEMORY)
        return AB_ERR_NOMEM;
    return AB_ERR_IO;
}
