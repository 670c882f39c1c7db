/* namedb.c: filename-regex IOCs compiled into one vectorscan block-mode database (plus one for
 * their false-positive regexes), and matching a path against them with per-process scratch. */
#include "intel/ioc_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* hs_compile_multi names one bad expression per failure, and each retry compiles the whole set
 * again; after this many the remaining bad ones are found by compiling each expression alone.
 * Rare: the expressions that fail only in a database build are the large ones, which are
 * compiled alone first (PREFLIGHT_STATES). */
#define MAX_RETRIES 2

/* Values of re_set.keep[i]. */
enum { DROPPED = 0, KEPT = 1, KEPT_ALONE = 2 /* and compiled alone without error */ };

/* One set of expressions to compile: the patterns as written (maybe with a "(?i)" prefix), where
 * each came from, and the id each should report (NULL: its rank among the kept ones). */
typedef struct re_set {
    const char *what; /* "filename regex" or "false-positive regex" */
    size_t n;
    const char **pat;
    const char **where;
    const unsigned *ids;
    unsigned char *keep;   /* out: DROPPED or not, for each expression */
    unsigned long *cost;   /* estimated compile cost of each expression (precheck) */
    unsigned long *states; /* its size unrolled, less what repeats of one atom add */
    ioc_re_work *work;     /* what the vectorscan compiles were handed, added up */
    ab_diag_fn diag;
    void *ctx;
} re_set;

static void drop(re_set *rs, size_t i, const char *why)
{
    rs->keep[i] = DROPPED;
    if (!rs->diag)
        return;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s dropped: %.400s", rs->what, why);
    rs->diag(rs->ctx, AB_DIAG_WARNING, rs->where[i], msg);
}

/* A leading "(?i)" becomes HS_FLAG_CASELESS, the way Loki's users write case-insensitivity. */
static const char *expr_of(const char *pat, unsigned *flags)
{
    *flags = HS_FLAG_SINGLEMATCH;
    if (strncmp(pat, "(?i)", 4) == 0) {
        *flags |= HS_FLAG_CASELESS;
        return pat + 4;
    }
    return pat;
}

/* What makes a vectorscan compile slow is the size of the pattern once counted repeats are
 * unrolled: one "[a-z]{1,4000}" costs seconds, "((x{1,8}){8}){8}" multiplies. Paths are a few KiB
 * with components of at most 255 bytes, so patterns that unroll to more than this are useless
 * here; refusing them up front bounds what one crafted regex can cost. */
#define MAX_REPEAT   1024 /* bound of one counted repeat */
#define MAX_UNROLLED 4096 /* atoms of a pattern with its counted repeats unrolled */
#define MAX_NEST     64   /* group depth followed by the estimate below */
/* Measured with vectorscan 5.4 (x86-64, release build): a character added by repeating a single
 * atom ("[a-f0-9]{32}") costs about 30 us of compile time, vectorscan turning it into a counted
 * repeat; one added by repeating a group of several ("(a[a-z]{2}5?){8}") becomes NFA states of
 * its own and costs 60 us to 2 ms, more the larger the pattern: 50 lines of 45 characters like
 * ".((((a[a-z]1[a-z]{',80){6}){5{1,8}){8}){8}45" (4,000 characters each once unrolled) took 36 s.
 * So repeated groups have a much lower limit per pattern, and weigh more in the budget below. */
#define MAX_GROUP_UNROLLED  256 /* atoms added by repeating groups, in one pattern */
#define REPEAT_GROUP_WEIGHT 16  /* budget units per atom added by repeating a group */
/* The cost adds up over a list: 400 patterns each just under MAX_UNROLLED took 80 s and 300 MB
 * to compile. Atoms added by unrolling counted repeats are budgeted over all the patterns of a
 * set together (in load order; about 2 s at worst), weighted as above; ordinary lists use a few
 * thousand units. */
#define MAX_REPEAT_BUDGET 65536
/* Patterns of at least this many NFA states (re_estimate) are compiled alone before the database
 * build: the ones vectorscan refuses only then ("Pattern is too large", from about 500 states)
 * are dropped without compiling the whole set again for each. Repeats of one atom do not count:
 * "[a-z]{1,1024}" compiles, and compiling it twice would double what it costs. */
#define PREFLIGHT_STATES 256
#define SAT              ((unsigned long)1 << 40)

static unsigned long sat_add(unsigned long a, unsigned long b)
{
    return a + b > SAT ? SAT : a + b;
}

static unsigned long sat_mul(unsigned long a, unsigned long b)
{
    return (b && a > SAT / b) ? SAT : a * b;
}

/* Length of a counted repeat at p ("{" digits ["," [digits]] "}"), its larger bound in *bound;
 * 0 when p is not one (vectorscan then reads the brace as a literal). */
static size_t repeat_at(const char *p, unsigned long *bound)
{
    size_t i = 1;
    unsigned long a = 0, b = 0;
    int da = 0, db = 0;
    for (; p[i] >= '0' && p[i] <= '9'; i++, da++)
        a = a > 100000 ? a : a * 10 + (unsigned long)(p[i] - '0');
    if (p[i] == ',') {
        for (i++; p[i] >= '0' && p[i] <= '9'; i++, db++)
            b = b > 100000 ? b : b * 10 + (unsigned long)(p[i] - '0');
    }
    if (p[i] != '}' || (!da && !db))
        return 0;
    *bound = a > b ? a : b;
    return i + 1;
}

/* Per group depth: atoms so far, and the size of the last atom (what a quantifier repeats). */
typedef struct level {
    unsigned long total;
    unsigned long last;
} level;

typedef struct unroll {
    level st[MAX_NEST + 1];
    int depth;
    unsigned long single; /* atoms added by unrolling repeats of one atom */
    unsigned long group;  /* atoms added by unrolling repeats of several (nested: multiplied) */
} unroll;

static void atom(unroll *u, unsigned long n)
{
    level *l = &u->st[u->depth];
    l->total = sat_add(l->total, n);
    l->last = n;
}

/* A counted repeat of the last atom: it is already counted once. */
static void repeat(unroll *u, unsigned long bound)
{
    level *l = &u->st[u->depth];
    unsigned long added = sat_mul(l->last, bound ? bound - 1 : 0);
    l->total = sat_add(l->total, added);
    if (l->last <= 1)
        u->single = sat_add(u->single, added);
    else
        u->group = sat_add(u->group, added);
    l->last = sat_mul(l->last, bound);
}

static void group_end(unroll *u)
{
    if (u->depth == 0) {
        atom(u, 1); /* unbalanced: vectorscan will say so */
        return;
    }
    unsigned long g = u->st[u->depth--].total;
    atom(u, g);
}

/* Position after a character class starting at e[i] == '['; the class is one atom. */
static size_t skip_class(const char *e, size_t i)
{
    i++;
    i += e[i] == '^';
    i += e[i] == ']'; /* a ']' first in a class is a literal */
    while (e[i] && e[i] != ']')
        i += (e[i] == '\\' && e[i + 1]) ? 2 : 1;
    return e[i] ? i : i - 1;
}

/* Walk pattern e, filling u; NULL, or why the pattern is refused before the end. */
static const char *unroll_walk(const char *e, unroll *u)
{
    for (size_t i = 0; e[i]; i++) {
        unsigned long bound;
        size_t len;
        switch (e[i]) {
        case '\\':
            i += e[i + 1] != '\0';
            atom(u, 1);
            break;
        case '[':
            i = skip_class(e, i);
            atom(u, 1);
            break;
        case '(':
            if (u->depth == MAX_NEST)
                return "groups nested more than 64 deep";
            u->st[++u->depth] = (level){0, 0};
            break;
        case ')':
            group_end(u);
            break;
        case '|':
            u->st[u->depth].last = 0;
            break;
        case '*':
        case '+':
        case '?':
            break;
        case '{':
            if ((len = repeat_at(e + i, &bound)) == 0) {
                atom(u, 1);
                break;
            }
            if (bound > MAX_REPEAT)
                return "counted repeat larger than 1024";
            repeat(u, bound);
            i += len - 1;
            break;
        default:
            atom(u, 1);
            break;
        }
    }
    while (u->depth > 0)
        group_end(u);
    return NULL;
}

/* What the estimate says of one pattern: its NFA states (its size unrolled, less what repeats of
 * one atom add: vectorscan counts those), the budget units its counted repeats take, and its
 * compile cost (its size, a character added by a repeated group counting REPEAT_GROUP_WEIGHT
 * times). */
typedef struct re_estimate {
    unsigned long states;
    unsigned long units;
    unsigned long cost;
} re_estimate;

/* NULL when pattern e is small enough once unrolled, else why not. An estimate from the text:
 * alternatives add up, escapes and classes are one atom, a literal brace in \Q...\E may be
 * taken for a repeat; it errs on the side of refusing. */
static const char *complexity_check(const char *e, re_estimate *est)
{
    unroll u = {0};
    const char *why = unroll_walk(e, &u);
    if (why)
        return why;
    if (u.st[0].total > MAX_UNROLLED)
        return "pattern larger than 4096 characters once its repeats are unrolled";
    if (u.group > MAX_GROUP_UNROLLED)
        return "its repeated groups add more than 256 characters once unrolled (nested repeats "
               "multiply): compiling would take too long";
    est->states = u.st[0].total - u.single;
    est->units = u.single + REPEAT_GROUP_WEIGHT * u.group;
    est->cost = u.st[0].total + (REPEAT_GROUP_WEIGHT - 1) * u.group;
    return NULL;
}

/* Cheap per-expression checks before the expensive database build: syntax and supported
 * constructs (hs_expression_info), and no pattern that matches the empty string, which would
 * report every path. */
static void precheck(re_set *rs)
{
    unsigned long budget = MAX_REPEAT_BUDGET;
    for (size_t i = 0; i < rs->n; i++) {
        unsigned flags;
        const char *e = expr_of(rs->pat[i], &flags);
        hs_expr_info_t *info = NULL;
        hs_compile_error_t *err = NULL;
        re_estimate est = {0};
        rs->keep[i] = KEPT;
        const char *why;
        if (strlen(rs->pat[i]) > AB_IOC_MAX_REGEX_LEN) {
            drop(rs, i, "longer than 4096 bytes");
        } else if ((why = complexity_check(e, &est)) != NULL) {
            drop(rs, i, why);
        } else if (est.units > budget) {
            drop(rs, i,
                 "its counted repeats exceed what is left of the budget for all regexes "
                 "together (65536 characters unrolled, 16 per character of a repeated group): "
                 "compiling would take too long");
        } else if (hs_expression_info(e, flags, &info, &err) != HS_SUCCESS) {
            drop(rs, i, err ? err->message : "rejected by vectorscan");
        } else if (info->min_width == 0) {
            drop(rs, i, "matches the empty string (it would match every path)");
        } else {
            budget -= est.units;
        }
        rs->states[i] = est.states;
        rs->cost[i] = est.cost;
        if (err)
            hs_free_compile_error(err);
        free(info); /* allocated by vectorscan's misc allocator, malloc by default */
    }
}

/* Compile expression i alone; 0 when vectorscan refuses it (dropped). */
static int compile_alone(re_set *rs, size_t i)
{
    unsigned flags;
    const char *e = expr_of(rs->pat[i], &flags);
    hs_database_t *one = NULL;
    hs_compile_error_t *err = NULL;
    rs->work->calls++;
    rs->work->cost = sat_add(rs->work->cost, rs->cost[i]);
    int ok = hs_compile(e, flags, HS_MODE_BLOCK, NULL, &one, &err) == HS_SUCCESS;
    if (ok)
        rs->keep[i] = KEPT_ALONE;
    else
        drop(rs, i, err ? err->message : "rejected by vectorscan");
    if (err)
        hs_free_compile_error(err);
    hs_free_database(one);
    return ok;
}

/* The large expressions alone first, so that a few refused ones do not each cost a build of the
 * whole set: every expression is then compiled at most twice, unless the build fails anyway. */
static void preflight(re_set *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (rs->keep[i] && rs->states[i] >= PREFLIGHT_STATES)
            (void)compile_alone(rs, i);
    }
}

/* Arrays handed to hs_compile_multi for the kept expressions. pos[j] is the set index of the
 * j-th one. */
typedef struct hs_args {
    const char **expr;
    unsigned *flags;
    unsigned *ids;
    size_t *pos;
    unsigned m;
} hs_args;

static void fill_args(const re_set *rs, hs_args *a)
{
    unsigned m = 0;
    for (size_t i = 0; i < rs->n; i++) {
        if (!rs->keep[i])
            continue;
        a->expr[m] = expr_of(rs->pat[i], &a->flags[m]);
        a->ids[m] = rs->ids ? rs->ids[i] : m;
        a->pos[m] = i;
        m++;
    }
    a->m = m;
}

/* hs_compile_multi over the filled arguments, its work counted. */
static hs_error_t compile_multi(re_set *rs, const hs_args *a, hs_database_t **db,
                                hs_compile_error_t **err)
{
    rs->work->calls++;
    for (unsigned j = 0; j < a->m; j++)
        rs->work->cost = sat_add(rs->work->cost, rs->cost[a->pos[j]]);
    return hs_compile_multi(a->expr, a->flags, a->ids, a->m, HS_MODE_BLOCK, NULL, db, err);
}

/* Compile the kept expressions; on an error naming one expression, drop it and retry. Returns 1
 * when done (*db set, possibly NULL for an empty set), 0 when the caller should fall back. */
static int compile_retrying(re_set *rs, hs_args *a, hs_database_t **db, char *why, size_t whysz)
{
    for (int attempt = 0; attempt <= MAX_RETRIES; attempt++) {
        fill_args(rs, a);
        if (a->m == 0)
            return 1;
        hs_compile_error_t *err = NULL;
        if (compile_multi(rs, a, db, &err) == HS_SUCCESS)
            return 1;
        int bad = err ? err->expression : -1;
        snprintf(why, whysz, "%s", err ? err->message : "vectorscan compile failed");
        if (err)
            hs_free_compile_error(err);
        if (bad < 0 || (unsigned)bad >= a->m)
            return 0;
        drop(rs, a->pos[bad], why);
    }
    return 0;
}

/* Many bad expressions, or an error not tied to one: test each alone (those not tested yet),
 * then build once more. */
static ab_status compile_fallback(re_set *rs, hs_args *a, hs_database_t **db, char *why,
                                  size_t whysz)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (rs->keep[i] == KEPT)
            (void)compile_alone(rs, i);
    }
    fill_args(rs, a);
    if (a->m == 0)
        return AB_OK;
    hs_compile_error_t *err = NULL;
    if (compile_multi(rs, a, db, &err) == HS_SUCCESS)
        return AB_OK;
    snprintf(why, whysz, "%s", err ? err->message : "vectorscan compile failed");
    if (err)
        hs_free_compile_error(err);
    return AB_ERR_LIMIT;
}

static ab_status compile_set(re_set *rs, hs_database_t **db)
{
    ab_status st = AB_OK;
    char why[512];
    hs_args a = {0};
    *db = NULL;
    if (rs->n == 0)
        return AB_OK;
    a.expr = malloc(rs->n * sizeof(*a.expr));
    a.flags = malloc(rs->n * sizeof(*a.flags));
    a.ids = malloc(rs->n * sizeof(*a.ids));
    a.pos = malloc(rs->n * sizeof(*a.pos));
    rs->cost = malloc(rs->n * sizeof(*rs->cost));
    rs->states = malloc(rs->n * sizeof(*rs->states));
    if (!a.expr || !a.flags || !a.ids || !a.pos || !rs->cost || !rs->states) {
        st = AB_ERR_NOMEM;
        goto out;
    }
    precheck(rs);
    preflight(rs);
    if (compile_retrying(rs, &a, db, why, sizeof(why)))
        goto out;
    st = compile_fallback(rs, &a, db, why, sizeof(why));
    if (st != AB_OK && rs->diag) {
        char msg[600];
        snprintf(msg, sizeof(msg), "cannot build the %s database: %.400s", rs->what, why);
        rs->diag(rs->ctx, AB_DIAG_ERROR, rs->what, msg);
    }
out:
    free(a.expr);
    free(a.flags);
    free(a.ids);
    free(a.pos);
    free(rs->cost);
    free(rs->states);
    rs->cost = NULL;
    rs->states = NULL;
    return st;
}

/* Keep the regexes that compiled, in load order, so that database ids are vector indexes. */
static void compact(ioc_vec *v, const unsigned char *keep)
{
    size_t o = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (keep[i])
            v->items[o++] = v->items[i];
    }
    v->len = o;
}

static ab_status compile_main(ab_iocs *s, ab_diag_fn diag, void *ctx)
{
    ioc_vec *v = &s->by_type[AB_IOC_FILENAME_RE];
    size_t n = v->len;
    re_set rs = {.what = "filename regex", .n = n, .work = &s->re_work, .diag = diag, .ctx = ctx};
    rs.pat = malloc(n * sizeof(*rs.pat));
    rs.where = malloc(n * sizeof(*rs.where));
    rs.keep = malloc(n);
    ab_status st = AB_ERR_NOMEM;
    if (!rs.pat || !rs.where || !rs.keep)
        goto out;
    for (size_t i = 0; i < n; i++) {
        rs.pat[i] = v->items[i].value;
        rs.where[i] = v->items[i].source;
    }
    st = compile_set(&rs, &s->name_db);
    if (st == AB_OK)
        compact(v, rs.keep);
out:
    free(rs.pat);
    free(rs.where);
    free(rs.keep);
    return st;
}

/* A false-positive regex that does not compile is dropped on its own: the indicator stays, only
 * without the exception (more findings rather than silently fewer). */
static ab_status compile_fp(ab_iocs *s, ab_diag_fn diag, void *ctx)
{
    ioc_vec *v = &s->by_type[AB_IOC_FILENAME_RE];
    size_t n = 0;
    for (size_t i = 0; i < v->len; i++)
        n += v->items[i].fp_regex != NULL;
    if (n == 0)
        return AB_OK;
    re_set rs = {
        .what = "false-positive regex", .n = n, .work = &s->re_work, .diag = diag, .ctx = ctx};
    rs.pat = malloc(n * sizeof(*rs.pat));
    rs.where = malloc(n * sizeof(*rs.where));
    unsigned *ids = malloc(n * sizeof(*ids));
    rs.keep = malloc(n);
    ab_status st = AB_ERR_NOMEM;
    if (!rs.pat || !rs.where || !ids || !rs.keep)
        goto out;
    size_t k = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (!v->items[i].fp_regex)
            continue;
        rs.pat[k] = v->items[i].fp_regex;
        rs.where[k] = v->items[i].source;
        ids[k++] = (unsigned)i;
    }
    rs.ids = ids;
    st = compile_set(&rs, &s->fp_db);
    for (size_t j = 0; st == AB_OK && j < n; j++) {
        if (!rs.keep[j])
            v->items[ids[j]].fp_regex = NULL;
    }
out:
    free(rs.pat);
    free(rs.where);
    free(ids);
    free(rs.keep);
    return st;
}

ab_status ioc_names_compile(ab_iocs *s, ab_diag_fn diag, void *ctx)
{
    if (s->by_type[AB_IOC_FILENAME_RE].len > AB_IOC_MAX_REGEX)
        return AB_ERR_LIMIT; /* cannot happen: enforced when loading */
    if (s->by_type[AB_IOC_FILENAME_RE].len == 0)
        return AB_OK;
    ab_status st = compile_main(s, diag, ctx);
    if (st == AB_OK)
        st = compile_fp(s, diag, ctx);
    return st;
}

void ioc_names_free(ab_iocs *s)
{
    hs_free_database(s->name_db);
    hs_free_database(s->fp_db);
    s->name_db = NULL;
    s->fp_db = NULL;
}

/* ---- Matching -------------------------------------------------------------------------------- */

/* Per-thread state: vectorscan scratch sized for both databases, and the ids seen in one scan. */
struct ab_name_scratch {
    hs_scratch_t *hs;
    const ab_iocs *owner; /* the store it was made for */
    size_t n;             /* its regex count */
    uint32_t *hits;       /* ids matched by the main database, each once */
    size_t nhits;
    unsigned char *seen; /* n flags: id already in hits */
    unsigned char *fp;   /* n flags: the id's false-positive regex matched */
    uint32_t *fp_hits;   /* ids set in fp, to clear them cheaply */
    size_t nfp;
};

void ab_name_scratch_free(ab_name_scratch *sc)
{
    if (!sc)
        return;
    hs_free_scratch(sc->hs);
    free(sc->hits);
    free(sc->seen);
    free(sc->fp);
    free(sc->fp_hits);
    free(sc);
}

ab_status ab_name_scratch_new(const ab_iocs *s, ab_name_scratch **out)
{
    if (!s || !out || !s->compiled)
        return AB_ERR_ARG;
    *out = NULL;
    ab_name_scratch *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return AB_ERR_NOMEM;
    ab_status st = AB_ERR_NOMEM;
    size_t n = s->by_type[AB_IOC_FILENAME_RE].len;
    sc->owner = s;
    sc->n = n;
    if (n == 0 || !s->name_db) {
        st = AB_OK;
        goto out;
    }
    sc->hits = malloc(n * sizeof(*sc->hits));
    sc->fp_hits = malloc(n * sizeof(*sc->fp_hits));
    sc->seen = calloc(n, 1);
    sc->fp = calloc(n, 1);
    if (!sc->hits || !sc->fp_hits || !sc->seen || !sc->fp)
        goto out;
    /* One scratch serves both databases: the scans never run at the same time. */
    if (hs_alloc_scratch(s->name_db, &sc->hs) != HS_SUCCESS ||
        (s->fp_db && hs_alloc_scratch(s->fp_db, &sc->hs) != HS_SUCCESS))
        goto out;
    st = AB_OK;
out:
    if (st != AB_OK)
        ab_name_scratch_free(sc);
    else
        *out = sc;
    return st;
}

static int on_main(unsigned int id, unsigned long long from, unsigned long long to,
                   unsigned int flags, void *ctx)
{
    (void)from, (void)to, (void)flags;
    ab_name_scratch *sc = ctx;
    if (id < sc->n && !sc->seen[id]) {
        sc->seen[id] = 1;
        sc->hits[sc->nhits++] = id;
    }
    return 0;
}

static int on_fp(unsigned int id, unsigned long long from, unsigned long long to,
                 unsigned int flags, void *ctx)
{
    (void)from, (void)to, (void)flags;
    ab_name_scratch *sc = ctx;
    if (id < sc->n && !sc->fp[id]) {
        sc->fp[id] = 1;
        sc->fp_hits[sc->nfp++] = id;
    }
    return 0;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void reset_hits(ab_name_scratch *sc)
{
    for (size_t i = 0; i < sc->nhits; i++)
        sc->seen[sc->hits[i]] = 0;
    for (size_t i = 0; i < sc->nfp; i++)
        sc->fp[sc->fp_hits[i]] = 0;
    sc->nhits = 0;
    sc->nfp = 0;
}

/* Scan the false-positive database only when a matching regex has an exception. */
static ab_status scan_fp(const ab_iocs *s, ab_name_scratch *sc, const char *path, size_t len)
{
    const ab_ioc *items = s->by_type[AB_IOC_FILENAME_RE].items;
    int need = 0;
    for (size_t i = 0; i < sc->nhits && !need; i++)
        need = items[sc->hits[i]].fp_regex != NULL;
    if (!need || !s->fp_db)
        return AB_OK;
    hs_error_t e = hs_scan(s->fp_db, path, (unsigned)len, 0, sc->hs, on_fp, sc);
    return e == HS_SUCCESS ? AB_OK : AB_ERR_INTERNAL;
}

ab_status ab_iocs_match_path(const ab_iocs *s, ab_name_scratch *sc, const char *path, size_t len,
                             ab_ioc_match_fn fn, void *ctx)
{
    if (!s || !sc || (!path && len) || !fn || !s->compiled || len > UINT_MAX)
        return AB_ERR_ARG;
    if (!s->name_db)
        return AB_OK;
    if (sc->owner != s || sc->n != s->by_type[AB_IOC_FILENAME_RE].len || !sc->hs)
        return AB_ERR_ARG; /* scratch made for another store */
    ab_status st = AB_OK;
    if (hs_scan(s->name_db, path ? path : "", (unsigned)len, 0, sc->hs, on_main, sc) !=
        HS_SUCCESS) {
        st = AB_ERR_INTERNAL;
        goto out;
    }
    if (sc->nhits == 0)
        goto out;
    st = scan_fp(s, sc, path, len);
    if (st != AB_OK)
        goto out;
    /* Report in file order, not in the order the matches ended in the path. */
    qsort(sc->hits, sc->nhits, sizeof(*sc->hits), u32_cmp);
    const ab_ioc *items = s->by_type[AB_IOC_FILENAME_RE].items;
    for (size_t i = 0; i < sc->nhits; i++) {
        uint32_t id = sc->hits[i];
        if (sc->fp[id])
            continue;
        if (fn(ctx, &items[id]) != 0)
            break;
    }
out:
    reset_hits(sc);
    return st;
}
