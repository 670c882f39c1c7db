/* scanner.c: the public scanner handle (settings, content, compile), the engine that runs every
 * matcher over one object, and in-process buffer scans. */
#include "core/scanner.h"
#include "core/verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yara.h>

#include "core/diag.h"
#include "intel/packs.h"
#include "match/domain.h"
#include "match/lookalike_domain.h"
#include "net/capture.h"
#include "unpack/unpack.h"

#define DEFAULT_MAX_FILESIZE ((uint64_t)256 << 20)
#define DEFAULT_TIMEOUT      60
#define DEFAULT_MAX_DEPTH    64
#define MAX_EXCLUDES         4096

double ab_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

ab_status ab_init(void)
{
    return yr_initialize() == ERROR_SUCCESS ? AB_OK : AB_ERR_NOMEM;
}

void ab_finish(void)
{
    yr_finalize();
}

void ab_scanner_set_error(ab_scanner *sc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sc->errmsg, sizeof(sc->errmsg), fmt, ap);
    va_end(ap);
}

const char *ab_scanner_last_error(const ab_scanner *sc)
{
    return sc ? sc->errmsg : "";
}

ab_status ab_scanner_new(ab_scanner **out)
{
    ab_scanner *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return AB_ERR_NOMEM;
    sc->max_filesize = DEFAULT_MAX_FILESIZE;
    sc->timeout = DEFAULT_TIMEOUT;
    sc->max_depth = DEFAULT_MAX_DEPTH;
    sc->levels[0] = 80; /* THOR's alert, warning and notice thresholds */
    sc->levels[1] = 60;
    sc->levels[2] = 40;
    sc->rules_recurse = 1;
    sc->lookalike = 1; /* as Loki's Levenshtein check: on unless --no-lookalike */
    sc->unpack = 1;
    ab_unpack_limits_default(&sc->unpack_limits);
    ab_capture_limits_default(&sc->capture_limits);
    ab_status st = ab_rules_new(&sc->rules);
    if (st == AB_OK)
        st = ab_iocs_new(&sc->iocs);
    if (st == AB_OK)
        st = ab_filetypes_builtin(&sc->filetypes);
    if (st != AB_OK) {
        ab_scanner_free(sc);
        return st;
    }
    *out = sc;
    return AB_OK;
}

void ab_scanner_free(ab_scanner *sc)
{
    if (!sc)
        return;
    ab_engine_free(sc->local);
    ab_rules_free(sc->rules);
    ab_iocs_free(sc->iocs);
    ab_filetypes_free(sc->filetypes);
    ab_load_free(sc);
    ab_lookalike_free(sc->lookalikes);
    for (size_t i = 0; i < sc->n_excludes; i++) {
        ab_exclude_fini(sc->excludes[i]);
        free(sc->excludes[i]);
    }
    free(sc->excludes);
    for (size_t i = 0; i < sc->n_passwords; i++)
        free(sc->passwords[i]);
    free(sc->passwords);
    for (size_t i = 0; i < sc->n_protected_domains; i++)
        free(sc->protected_domains[i]);
    free(sc->protected_domains);
    free(sc);
}

/* Settings may only change before compile: workers share the compiled state. */
#define SETTER_GUARD(sc)                                                                           \
    do {                                                                                           \
        if (!(sc) || (sc)->compiled)                                                               \
            return AB_ERR_ARG;                                                                     \
    } while (0)

ab_status ab_scanner_set_workers(ab_scanner *sc, unsigned n)
{
    SETTER_GUARD(sc);
    if (n > 1024)
        return AB_ERR_ARG;
    sc->workers = n;
    return AB_OK;
}

ab_status ab_scanner_set_max_filesize(ab_scanner *sc, uint64_t bytes)
{
    SETTER_GUARD(sc);
    sc->max_filesize = bytes;
    return AB_OK;
}

ab_status ab_scanner_set_timeout(ab_scanner *sc, unsigned seconds)
{
    SETTER_GUARD(sc);
    if (seconds == 0 || seconds > 86400)
        return AB_ERR_ARG;
    sc->timeout = seconds;
    return AB_OK;
}

ab_status ab_scanner_set_max_depth(ab_scanner *sc, unsigned depth)
{
    SETTER_GUARD(sc);
    if (depth > 4096)
        return AB_ERR_ARG;
    sc->max_depth = depth;
    return AB_OK;
}

static ab_status add_exclude(ab_scanner *sc, const char *pattern, int is_regex)
{
    char why[256] = "";
    SETTER_GUARD(sc);
    if (!pattern)
        return AB_ERR_ARG;
    if (sc->n_excludes >= MAX_EXCLUDES) {
        ab_scanner_set_error(sc, "more than %d exclude patterns", MAX_EXCLUDES);
        return AB_ERR_LIMIT;
    }
    ab_exclude **v = realloc(sc->excludes, (sc->n_excludes + 1) * sizeof(*v));
    if (!v)
        return AB_ERR_NOMEM;
    sc->excludes = v;
    ab_exclude *x = malloc(sizeof(*x));
    if (!x)
        return AB_ERR_NOMEM;
    ab_status st = ab_exclude_init(x, pattern, is_regex, why, sizeof(why));
    if (st != AB_OK) {
        ab_scanner_set_error(sc, "%s '%.*s': %s", is_regex ? "exclude regex" : "exclude", 200,
                             pattern, why[0] ? why : ab_strerror(st));
        free(x);
        return st;
    }
    v[sc->n_excludes++] = x;
    return AB_OK;
}

ab_status ab_scanner_add_exclude(ab_scanner *sc, const char *glob)
{
    return add_exclude(sc, glob, 0);
}

ab_status ab_scanner_add_exclude_regex(ab_scanner *sc, const char *regex)
{
    return add_exclude(sc, regex, 1);
}

#define EXCLUDE_FILE_MAX ((off_t)4 << 20)

/* One line of an exclude file: blanks around it dropped; blank and '#' lines are not patterns. */
static ab_status exclude_line(ab_scanner *sc, char *line, size_t len, const char *path,
                              unsigned lineno)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                   line[len - 1] == '\t'))
        line[--len] = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line || *line == '#')
        return AB_OK;
    ab_status st = add_exclude(sc, line, 0);
    if (st != AB_OK) {
        char why[1024];
        snprintf(why, sizeof(why), "%s", sc->errmsg);
        ab_scanner_set_error(sc, "%s:%u: %s", path, lineno, why[0] ? why : ab_strerror(st));
    }
    return st;
}

ab_status ab_scanner_add_exclude_file(ab_scanner *sc, const char *path)
{
    SETTER_GUARD(sc);
    if (!path)
        return AB_ERR_ARG;
    ab_status st = AB_OK;
    char *line = NULL;
    size_t cap = 0;
    struct stat sb;
    FILE *f = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int err = errno;
        st = err == ENOENT ? AB_ERR_NOTFOUND : AB_ERR_IO;
        ab_scanner_set_error(sc, "%s: %s", path, strerror(err));
        goto out;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size > EXCLUDE_FILE_MAX) {
        ab_scanner_set_error(sc, "%s: %s", path,
                             S_ISREG(sb.st_mode) ? "larger than 4 MiB" : "not a regular file");
        st = S_ISREG(sb.st_mode) ? AB_ERR_LIMIT : AB_ERR_IO;
        goto out;
    }
    if (!(f = fdopen(fd, "r"))) {
        st = AB_ERR_NOMEM;
        goto out;
    }
    fd = -1; /* owned by f now */
    ssize_t n;
    for (unsigned lineno = 1; (n = getline(&line, &cap, f)) > 0; lineno++) {
        if ((size_t)n > AB_EXCLUDE_MAX_LEN + 2) { /* + "\r\n" */
            ab_scanner_set_error(sc, "%s:%u: line longer than %d bytes", path, lineno,
                                 AB_EXCLUDE_MAX_LEN);
            st = AB_ERR_LIMIT;
            goto out;
        }
        if (memchr(line, '\0', (size_t)n)) {
            ab_scanner_set_error(sc, "%s:%u: NUL byte in a pattern", path, lineno);
            st = AB_ERR_PARSE;
            goto out;
        }
        if ((st = exclude_line(sc, line, (size_t)n, path, lineno)) != AB_OK)
            goto out;
    }
    if (ferror(f)) {
        ab_scanner_set_error(sc, "%s: read error", path);
        st = AB_ERR_IO;
    }
out:
    free(line);
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    return st;
}

size_t ab_scanner_exclude_count(const ab_scanner *sc)
{
    return sc ? sc->n_excludes : 0;
}

ab_status ab_scanner_exclude_info(const ab_scanner *sc, size_t i, ab_exclude_info *out)
{
    if (!sc || !out || i >= sc->n_excludes)
        return AB_ERR_ARG;
    out->pattern = sc->excludes[i]->text;
    out->is_regex = sc->excludes[i]->is_regex;
    out->matched = sc->excludes[i]->hits;
    return AB_OK;
}

#define FLAG_SETTER(fn, field)                                                                     \
    ab_status fn(ab_scanner *sc, int on)                                                           \
    {                                                                                              \
        SETTER_GUARD(sc);                                                                          \
        sc->field = on ? 1 : 0;                                                                    \
        return AB_OK;                                                                              \
    }
FLAG_SETTER(ab_scanner_set_follow_symlinks, follow_symlinks)
FLAG_SETTER(ab_scanner_set_one_file_system, one_file_system)
FLAG_SETTER(ab_scanner_set_scan_pseudo_fs, scan_pseudo_fs)
FLAG_SETTER(ab_scanner_set_scan_remote_fs, scan_remote_fs)
FLAG_SETTER(ab_scanner_set_hash, hash_all)
FLAG_SETTER(ab_scanner_set_list_objects, list_objects)
FLAG_SETTER(ab_scanner_set_flow_records, flow_records)

ab_status ab_scanner_set_match_top_level(ab_scanner *sc, int on)
{
    if (!sc)
        return AB_ERR_ARG;
    sc->containers_only = !on;
    return AB_OK;
}
FLAG_SETTER(ab_scanner_set_strict, strict)
FLAG_SETTER(ab_scanner_set_strings, strings)

ab_status ab_scanner_set_max_cpu(ab_scanner *sc, unsigned percent)
{
    SETTER_GUARD(sc);
    if (percent > 100)
        return AB_ERR_ARG;
    sc->max_cpu = percent;
    return AB_OK;
}

ab_status ab_scanner_set_max_io(ab_scanner *sc, uint64_t bytes_per_second)
{
    SETTER_GUARD(sc);
    sc->max_io = bytes_per_second;
    return AB_OK;
}

ab_status ab_scanner_set_min_score(ab_scanner *sc, unsigned score)
{
    if (!sc || sc->compiled || score > 100)
        return AB_ERR_ARG;
    sc->min_score = score;
    return AB_OK;
}

ab_status ab_scanner_set_levels(ab_scanner *sc, unsigned alert, unsigned warning, unsigned notice)
{
    if (!sc || sc->compiled || alert > 100 || warning > alert || notice > warning)
        return AB_ERR_ARG;
    sc->levels[0] = alert;
    sc->levels[1] = warning;
    sc->levels[2] = notice;
    return AB_OK;
}

FLAG_SETTER(ab_scanner_set_rules_recurse, rules_recurse)

ab_status ab_scanner_set_diag(ab_scanner *sc, ab_diag2_fn fn, void *ctx)
{
    if (!sc)
        return AB_ERR_ARG;
    sc->diag2 = fn;
    sc->diag2_ctx = ctx;
    return AB_OK;
}

/* Where the diagnostics of one call go (core/diag.h); dflt is the status of those that come
 * without one: AB_ERR_PARSE from IOC and file-type tables, AB_ERR_RULES from rule loading. */
static ab_diag_route diag_route(const ab_scanner *sc, ab_diag_fn fn, void *ctx, ab_status dflt)
{
    ab_diag_route r = {sc->diag2, sc->diag2_ctx, fn, ctx, dflt};
    return r;
}

FLAG_SETTER(ab_scanner_set_lookalike, lookalike)
FLAG_SETTER(ab_scanner_set_unpack, unpack)

ab_status ab_scanner_set_unpack_limits(ab_scanner *sc, const ab_unpack_limits *l)
{
    SETTER_GUARD(sc);
    if (!l || l->max_depth < 1 || l->max_depth > AB_MAX_LOCATION - 1 || !l->max_member_size ||
        !l->max_unpacked || !l->max_members)
        return AB_ERR_ARG;
    sc->unpack_limits = *l;
    return AB_OK;
}

void ab_capture_limits_default(ab_capture_limits *l)
{
    ab_capture_opts o; /* the pipeline's own defaults: one place says them */
    ab_capture_opts_default(&o);
    l->stream_depth = o.flow.stream_depth;
    l->max_flows = o.flow.max_flows;
    l->stream_memcap = o.stream_memcap;
}

ab_status ab_scanner_set_capture_limits(ab_scanner *sc, const ab_capture_limits *l)
{
    SETTER_GUARD(sc);
    if (!l)
        return AB_ERR_ARG;
    if (l->stream_depth < 1 || l->stream_depth > AB_CAPTURE_MAX_DEPTH) {
        ab_scanner_set_error(sc, "stream depth: expected 1..%llu bytes, got %llu",
                             (unsigned long long)AB_CAPTURE_MAX_DEPTH,
                             (unsigned long long)l->stream_depth);
        return AB_ERR_ARG;
    }
    if (l->max_flows < 1 || l->max_flows > AB_CAPTURE_MAX_FLOWS) {
        ab_scanner_set_error(sc, "max flows: expected 1..%llu, got %llu",
                             (unsigned long long)AB_CAPTURE_MAX_FLOWS,
                             (unsigned long long)l->max_flows);
        return AB_ERR_ARG;
    }
    if (l->stream_memcap < AB_CAPTURE_MIN_MEMCAP || l->stream_memcap > AB_CAPTURE_MAX_MEMCAP ||
        l->stream_memcap > SIZE_MAX / 2) {
        ab_scanner_set_error(sc, "stream memcap: expected 1 MiB..64 GiB, got %llu bytes",
                             (unsigned long long)l->stream_memcap);
        return AB_ERR_ARG;
    }
    sc->capture_limits = *l;
    return AB_OK;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void ab_net_summary_add(ab_net_summary *to, const ab_net_summary *s)
{
    uint64_t peak = to->peak_flows > s->peak_flows ? to->peak_flows : s->peak_flows;
    uint64_t *t = (uint64_t *)to;
    const uint64_t *f = (const uint64_t *)s;
    for (size_t i = 0; i < sizeof(*to) / sizeof(uint64_t); i++) /* every field is a uint64_t */
        t[i] = sat_add(t[i], f[i]);
    to->peak_flows = peak; /* a peak is the largest, not a sum */
}

#define MAX_PASSWORDS    256
#define MAX_PASSWORD_LEN 1024

ab_status ab_scanner_add_password(ab_scanner *sc, const char *password)
{
    SETTER_GUARD(sc);
    if (!password || strlen(password) > MAX_PASSWORD_LEN)
        return AB_ERR_ARG;
    if (sc->n_passwords >= MAX_PASSWORDS) {
        ab_scanner_set_error(sc, "more than %d passwords", MAX_PASSWORDS);
        return AB_ERR_LIMIT;
    }
    char **v = realloc(sc->passwords, (sc->n_passwords + 1) * sizeof(*v));
    if (!v)
        return AB_ERR_NOMEM;
    sc->passwords = v;
    if (!(v[sc->n_passwords] = strdup(password)))
        return AB_ERR_NOMEM;
    sc->n_passwords++;
    return AB_OK;
}

#define MAX_PROTECTED_DOMAINS AB_DOMAIN_GUARD_MAX /* 1024 */

ab_status ab_scanner_add_protected_domain(ab_scanner *sc, const char *domain)
{
    SETTER_GUARD(sc);
    char norm[AB_MAX_DOMAIN + 1];
    /* Lower-case A-labels, as the guard of lookalikes compares them (match/lookalike_domain.h). */
    if (ab_domain_normalize(domain, norm, sizeof(norm)) != AB_OK) {
        ab_scanner_set_error(sc, "not a registered domain name: %.300s", domain ? domain : "");
        return AB_ERR_ARG;
    }
    if (sc->n_protected_domains >= MAX_PROTECTED_DOMAINS) {
        ab_scanner_set_error(sc, "more than %d protected domains", MAX_PROTECTED_DOMAINS);
        return AB_ERR_LIMIT;
    }
    char **v = realloc(sc->protected_domains, (sc->n_protected_domains + 1) * sizeof(*v));
    if (!v)
        return AB_ERR_NOMEM;
    sc->protected_domains = v;
    char *d = strdup(norm);
    if (!d)
        return AB_ERR_NOMEM;
    v[sc->n_protected_domains++] = d;
    return AB_OK;
}

ab_status ab_scanner_set_progress(ab_scanner *sc, ab_progress_fn fn, void *ctx)
{
    if (!sc)
        return AB_ERR_ARG;
    sc->progress = fn;
    sc->progress_ctx = ctx;
    return AB_OK;
}

/* signature-base keeps its magic table in misc/ next to yara/: use it, as Loki does. */
static void maybe_load_filetypes(ab_scanner *sc, const char *rules_dir, ab_diag_fn diag, void *ctx)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/../misc/file-type-signatures.txt", rules_dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat sb;
    char *text = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (1 << 20))
        goto out;
    text = malloc((size_t)sb.st_size + 1);
    if (!text || read(fd, text, (size_t)sb.st_size) != sb.st_size)
        goto out;
    ab_filetypes *ft = NULL;
    if (ab_filetypes_parse(text, (size_t)sb.st_size, path, diag, ctx, &ft) == AB_OK) {
        if (ab_filetypes_count(ft) > 0) {
            ab_filetypes_free(sc->filetypes);
            sc->filetypes = ft;
        } else {
            ab_filetypes_free(ft);
        }
    }
out:
    free(text);
    close(fd);
}

ab_status ab_scanner_add_rules(ab_scanner *sc, const char *path, ab_diag_fn diag, void *ctx)
{
    SETTER_GUARD(sc);
    char err[1024] = "";
    ab_diag_route rules = diag_route(sc, diag, ctx, AB_ERR_RULES);
    ab_diag_route tables = diag_route(sc, diag, ctx, AB_ERR_PARSE);
    ab_load_mark mark;
    ab_load_mark_now(sc, &mark);
    ab_status st = ab_rules_add_path(sc->rules, path, sc->rules_recurse, ab_diag_route_fn, &rules,
                                     err, sizeof(err));
    if (st != AB_OK) {
        ab_scanner_set_error(sc, "%s", err[0] ? err : ab_strerror(st));
        return st;
    }
    ab_load_record(sc, "rules", path, &mark);
    /* signature-base layout: RULES/yara/x.yar or RULES/yara/ with RULES/misc/ beside it */
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        maybe_load_filetypes(sc, path, ab_diag_route_fn, &tables);
    } else {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof(dir), ".");
        maybe_load_filetypes(sc, dir, ab_diag_route_fn, &tables);
    }
    return AB_OK;
}

ab_status ab_scanner_add_rules_string(ab_scanner *sc, const char *source, const char *name,
                                      const char *ns, ab_diag_fn diag, void *ctx)
{
    (void)diag;
    (void)ctx;
    SETTER_GUARD(sc);
    ab_load_mark mark;
    ab_load_mark_now(sc, &mark);
    ab_status st = ab_rules_add_string(sc->rules, source, name, ns);
    if (st == AB_OK)
        ab_load_record(sc, "rules", name, &mark);
    return st;
}

ab_status ab_scanner_add_iocs(ab_scanner *sc, const char *path, ab_diag_fn diag, void *ctx)
{
    SETTER_GUARD(sc);
    ab_diag_route rt = diag_route(sc, diag, ctx, AB_ERR_PARSE);
    ab_load_mark mark;
    ab_load_mark_now(sc, &mark);
    ab_status st = ab_iocs_load_path(sc->iocs, path, sc->strict, ab_diag_route_fn, &rt);
    if (st != AB_OK)
        ab_scanner_set_error(sc, "%s: %s", path, ab_strerror(st));
    else
        ab_load_record(sc, "iocs", path, &mark);
    return st;
}

ab_status ab_scanner_add_pack(ab_scanner *sc, const char *name, ab_diag_fn diag, void *ctx)
{
    SETTER_GUARD(sc);
    ab_diag_route rt = diag_route(sc, diag, ctx, AB_ERR_PARSE);
    ab_load_mark mark;
    ab_load_mark_now(sc, &mark);
    ab_status st = ab_pack_load(name, sc->rules, sc->iocs, ab_diag_route_fn, &rt);
    if (st == AB_ERR_NOTFOUND)
        ab_scanner_set_error(sc, "no built-in pack named '%s' (see: antibody packs)", name);
    else if (st == AB_OK)
        ab_load_record(sc, "pack", name, &mark);
    return st;
}

ab_status ab_scanner_compile(ab_scanner *sc, ab_diag_fn diag, void *ctx)
{
    SETTER_GUARD(sc);
    /* rule errors carry AB_ERR_RULES; what comes without a status is from the IOC matchers */
    ab_diag_route rt = diag_route(sc, diag, ctx, AB_ERR_PARSE);
    ab_status st = ab_rules_compile(sc->rules, ab_diag_route_fn, &rt);
    if (st != AB_OK) {
        ab_scanner_set_error(sc, "no YARA rules could be compiled");
        return st;
    }
    st = ab_iocs_compile(sc->iocs, ab_diag_route_fn, &rt);
    if (st != AB_OK) {
        ab_scanner_set_error(sc, "IOC compilation failed: %s", ab_strerror(st));
        return st;
    }
    if (sc->lookalike && (st = ab_lookalike_new(sc->iocs, &sc->lookalikes)) != AB_OK) {
        ab_scanner_set_error(sc, "lookalike names: %s", ab_strerror(st));
        return st;
    }
    sc->need_hash = sc->hash_all || ab_iocs_has_hashes(sc->iocs);
    sc->compiled = 1;
    return AB_OK;
}

void ab_scanner_cancel(ab_scanner *sc)
{
    if (sc)
        sc->cancel = 1;
}

size_t ab_scanner_rule_count(const ab_scanner *sc)
{
    return sc ? ab_rules_count(sc->rules) : 0;
}

size_t ab_scanner_rule_warning_count(const ab_scanner *sc)
{
    return sc ? ab_rules_warned(sc->rules) : 0;
}

size_t ab_scanner_ioc_count(const ab_scanner *sc)
{
    return sc ? ab_iocs_total(sc->iocs) : 0;
}

size_t ab_scanner_ioc_count_unmatched(const ab_scanner *sc, unsigned scope)
{
    size_t n = 0; /* ab_ioc_type lists the file types first, then from AB_IOC_IP the others */
    for (int t = AB_IOC_IP; sc && t < AB_IOC_TYPE_COUNT; t++) {
        /* ip and cidr: live sockets, and observables (URL hosts, mail hops) of unpacked files;
         * domain, url, email: observables only (match/observables.h). */
        int net = t == AB_IOC_IP || t == AB_IOC_CIDR;
        int obs = net || t == AB_IOC_DOMAIN || t == AB_IOC_URL || t == AB_IOC_EMAIL ||
                  t == AB_IOC_JA3 || t == AB_IOC_JA3S || t == AB_IOC_JA4 || t == AB_IOC_CERT_SHA1 ||
                  t == AB_IOC_CERT_SHA256; /* captures */
        int matched = (net && (scope & AB_SCOPE_CONNECTIONS)) || (obs && (scope & AB_SCOPE_FILES));
        if (!matched)
            n += ab_iocs_count(sc->iocs, (ab_ioc_type)t);
    }
    return n;
}

void ab_scanner_walk_opts(const ab_scanner *sc, ab_walk_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_filesize = sc->max_filesize;
    o->max_depth = sc->max_depth;
    o->follow_symlinks = sc->follow_symlinks;
    o->one_file_system = sc->one_file_system;
    o->scan_pseudo_fs = sc->scan_pseudo_fs;
    o->scan_remote_fs = sc->scan_remote_fs;
    o->excludes = (ab_exclude *const *)sc->excludes;
    o->n_excludes = sc->n_excludes;
}

/* ---- the engine ---- */

#define OWNER_CACHE 16

typedef struct id_name {
    unsigned id;
    int valid;
    char name[64];
} id_name;

struct ab_engine {
    const ab_scanner *sc;
    ab_hasher *hasher;                               /* owned; NULL when hashing is off */
    ab_yara *yara;                                   /* owned */
    ab_name_scratch *names;                          /* owned; NULL without filename IOCs */
    ab_unpack *unpack;                               /* owned; NULL when unpacking is off */
    id_name users[OWNER_CACHE], groups[OWNER_CACHE]; /* small caches: NSS can be slow */
};

void ab_engine_free(ab_engine *e)
{
    if (!e)
        return;
    ab_hasher_free(e->hasher);
    ab_yara_free(e->yara);
    ab_name_scratch_free(e->names);
    ab_unpack_free(e->unpack);
    free(e);
}

ab_status ab_engine_new(const ab_scanner *sc, ab_engine **out)
{
    ab_status st = AB_OK;
    ab_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return AB_ERR_NOMEM;
    e->sc = sc;
    if (sc->need_hash)
        st = ab_hasher_new(&e->hasher);
    if (st == AB_OK)
        st = ab_yara_new(sc->rules, sc->timeout, &e->yara);
    if (st == AB_OK)
        ab_yara_set_strings(e->yara, sc->strings);
    if (st == AB_OK && ab_iocs_count(sc->iocs, AB_IOC_FILENAME_RE) > 0)
        st = ab_name_scratch_new(sc->iocs, &e->names);
    if (st == AB_OK && sc->unpack)
        st = ab_unpack_new(sc, e, &e->unpack);
    if (st != AB_OK) {
        ab_engine_free(e);
        return st;
    }
    *out = e;
    return AB_OK;
}

void ab_engine_worker_mode(ab_engine *e)
{
    if (e)
        ab_yara_no_trycatch(e->yara);
}

void ab_engine_set_unpack_hooks(ab_engine *e, const ab_unpack_hooks *h)
{
    if (e->unpack)
        ab_unpack_set_hooks(e->unpack, h);
}

void ab_engine_unpack_stats(const ab_engine *e, uint64_t *members, uint64_t *bytes)
{
    ab_unpack_stats(e->unpack, members, bytes);
}

int ab_engine_net_take(ab_engine *e, ab_net_summary *out)
{
    return ab_unpack_net_take(e->unpack, out);
}

int ab_engine_net_peek(const ab_engine *e, ab_net_summary *out)
{
    return ab_unpack_net_peek(e->unpack, out);
}

static const char *cached_name(id_name *cache, unsigned id, int is_group)
{
    id_name *slot = &cache[id % OWNER_CACHE];
    if (slot->valid && slot->id == id)
        return slot->name;
    char buf[4096];
    const char *nm = NULL;
    if (is_group) {
        struct group g, *res = NULL;
        if (getgrgid_r(id, &g, buf, sizeof(buf), &res) == 0 && res)
            nm = res->gr_name;
    } else {
        struct passwd p, *res = NULL;
        if (getpwuid_r(id, &p, buf, sizeof(buf), &res) == 0 && res)
            nm = res->pw_name;
    }
    if (nm)
        snprintf(slot->name, sizeof(slot->name), "%s", nm);
    else
        snprintf(slot->name, sizeof(slot->name), "%u", id);
    slot->id = id;
    slot->valid = 1;
    return slot->name;
}

/* The Loki/THOR externals (docs/antibody.1): filename = base name, filepath = directory without
 * trailing '/', extension = lower-cased ".ext" of the base name ("" when none or a dotfile). */
static void fill_vars(ab_engine *e, const ab_object *obj, ab_yara_vars *v, char *dir, size_t dlen,
                      char *ext, size_t elen)
{
    const char *name = obj->location[obj->location_len - 1];
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    memset(v, 0, sizeof(*v));
    v->filename = base;
    dir[0] = '\0';
    if (slash) {
        size_t n = (size_t)(slash - name);
        if (n == 0)
            n = 1; /* a file in "/" has filepath "/" */
        if (n >= dlen)
            n = dlen - 1;
        memcpy(dir, name, n);
        dir[n] = '\0';
    }
    v->filepath = dir;
    ext[0] = '\0';
    const char *stem = base;
    while (*stem == '.') /* as Python's splitext (Loki): leading dots never start an extension */
        stem++;
    const char *dot = strrchr(stem, '.');
    if (dot && strlen(dot) < elen) {
        size_t i = 0;
        for (; dot[i]; i++)
            ext[i] = (dot[i] >= 'A' && dot[i] <= 'Z') ? (char)(dot[i] + 32) : dot[i];
        ext[i] = '\0';
    }
    v->extension = ext;
    v->filetype = ab_filetype_of(e->sc->filetypes, obj->data, obj->size);
    v->md5 = obj->hashed ? obj->md5 : "";
    v->unpack_parent = obj->unpack_parent ? obj->unpack_parent : "";
    v->unpack_source = obj->unpack_source ? obj->unpack_source : "";
    v->flow = obj->flow;
    if (obj->st) {
        v->owner = cached_name(e->users, obj->st->st_uid, 0);
        v->group = cached_name(e->groups, obj->st->st_gid, 1);
        v->filemode = obj->st->st_mode & 07777;
    }
}

typedef struct name_ctx {
    const ab_object *obj;
    const ab_emit *em;
    int stop;
} name_ctx;

static int emit_ioc(const ab_emit *em, const ab_object *obj, const ab_ioc *ioc, ab_matcher_kind m,
                    const char *reason)
{
    ab_finding f;
    memset(&f, 0, sizeof(f));
    ab_object_info_fill(&f.obj, obj);
    f.matcher = m;
    f.rule = ioc->value;
    f.rule_namespace = ioc->source;
    f.description = ioc->description;
    f.family = ioc->family;
    f.score = ioc->score;
    f.severity = ab_severity_for_score(ioc->score);
    f.reason = reason;
    ab_meta meta[2];
    size_t nm = 0;
    if (ioc->reference)
        meta[nm++] = (ab_meta){.key = "reference", .str = ioc->reference};
    if (ioc->description)
        meta[nm++] = (ab_meta){.key = "description", .str = ioc->description};
    f.meta = meta;
    f.meta_len = nm;
    return em->finding(em->ctx, &f);
}

static int on_name_match(void *ctx, const ab_ioc *ioc)
{
    name_ctx *nc = ctx;
    nc->stop = emit_ioc(nc->em, nc->obj, ioc, AB_MATCHER_NAME, "file name matches IOC regex");
    return nc->stop;
}

static int match_hashes(ab_engine *e, const ab_object *obj, const ab_emit *em)
{
    static const char *const reasons[3] = {"md5 IOC", "sha1 IOC", "sha256 IOC"};
    const char *hex[3] = {obj->md5, obj->sha1, obj->sha256};
    const ab_ioc_type types[3] = {AB_IOC_MD5, AB_IOC_SHA1, AB_IOC_SHA256};
    for (int i = 0; i < 3; i++) {
        const ab_ioc *ioc = ab_iocs_find_hash(e->sc->iocs, types[i], hex[i]);
        if (ioc && emit_ioc(em, obj, ioc, AB_MATCHER_HASH, reasons[i]))
            return 1;
    }
    return 0;
}

/* A file base name or process name imitating a protected name (intel/lookalike.h). Returns
 * non-zero when the emitter asked to stop. */
static int match_lookalike(const ab_lookalike *l, const ab_object *obj, const ab_emit *em)
{
    static const char *const kinds[] = {[AB_LOOKALIKE_HOMOGLYPH] = "a homoglyph spelling of",
                                        [AB_LOOKALIKE_EDIT] = "one edit from",
                                        [AB_LOOKALIKE_EDIT_HOMOGLYPH] =
                                            "one edit plus homoglyphs from"};
    const char *name = obj->pid ? obj->process_name : obj->location[obj->location_len - 1];
    if (!l || !name)
        return 0;
    const char *slash = obj->pid ? NULL : strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    ab_lookalike_hit hit;
    if (!ab_lookalike_check(l, base, strlen(base), obj->pid > 0, &hit))
        return 0;
    char reason[AB_LOOKALIKE_MAX_NAME + 64];
    snprintf(reason, sizeof(reason), "%s %s %s", obj->pid ? "process name" : "name",
             kinds[hit.kind], hit.name);
    ab_meta meta[2] = {{.key = "imitates", .str = hit.name}, {.key = "name", .str = base}};
    ab_finding f;
    memset(&f, 0, sizeof(f));
    ab_object_info_fill(&f.obj, obj);
    f.matcher = AB_MATCHER_LOOKALIKE;
    f.rule = hit.name;
    f.rule_namespace = hit.source;
    f.description = hit.description;
    f.score = hit.score;
    f.severity = ab_severity_for_score(hit.score);
    f.reason = reason;
    f.meta = meta;
    f.meta_len = 2;
    return em->finding(em->ctx, &f);
}

static void emit_error(const ab_emit *em, const ab_object *obj, ab_status st, const char *msg)
{
    ab_error er = {obj->path, obj->location, obj->location_len, st, msg, obj->location_source};
    em->error(em->ctx, &er);
}

static ab_status run_matchers(ab_engine *e, ab_object *obj, ab_yara_vars *vars, const ab_emit *em,
                              int *allowed, char *err, size_t errlen)
{
    ab_status st = AB_OK;
    *allowed = 0;
    err[0] = '\0';
    if (obj->values_only) /* its observables are matched after (ab_engine_scan) */
        return AB_OK;
    if (e->hasher && !obj->pid && !obj->no_hash) {
        st = ab_hasher_hash(e->hasher, obj->data, obj->size, obj->md5, obj->sha1, obj->sha256);
        if (st != AB_OK) {
            snprintf(err, errlen, "hashing failed");
            return st;
        }
        obj->hashed = 1;
        vars->md5 = obj->md5; /* Loki's md5 external */
        if (ab_iocs_allowed(e->sc->iocs, obj->md5, obj->sha1, obj->sha256)) {
            *allowed = 1;
            return AB_OK;
        }
        if (match_hashes(e, obj, em))
            return AB_OK;
    }
    if (e->names && !obj->pid) {
        name_ctx nc = {obj, em, 0};
        const char *p = obj->location[obj->location_len - 1];
        ab_iocs_match_path(e->sc->iocs, e->names, p, strlen(p), on_name_match, &nc);
        if (nc.stop)
            return AB_OK;
    }
    if (match_lookalike(e->sc->lookalikes, obj, em))
        return AB_OK;
    st = ab_yara_scan(e->yara, obj, vars, em, err, errlen);
    if (st != AB_OK)
        emit_error(em, obj, st, err);
    return st;
}

ab_status ab_engine_scan(ab_engine *e, ab_object *obj, const ab_emit *em, int *allowed, char *err,
                         size_t errlen)
{
    /* The externals first: they are also the file context every finding reports. */
    char dir[4096], ext[64];
    ab_yara_vars vars;
    fill_vars(e, obj, &vars, dir, sizeof(dir), ext, sizeof(ext));
    if (obj->st && obj->pid <= 0) {
        obj->owner = vars.owner;
        obj->group = vars.group;
        obj->filetype = vars.filetype;
    }
    ab_verdict v;
    const ab_emit *hold = ab_verdict_begin(&v, obj, em, e->sc->min_score, e->sc->levels);
    ab_status st = AB_OK;
    if (e->sc->containers_only && obj->depth == 0 && obj->kind == AB_OBJ_FILE)
        *allowed = 0; /* a container only: its members are matched, not its own bytes */
    else
        st = run_matchers(e, obj, &vars, hold, allowed, err, errlen);
    /* Inside the object's verdict: a limit hit on the container joins its findings. Members go
     * to em, each in a verdict of its own. */
    if (e->unpack && !*allowed && !v.stop && obj->n_observe)
        ab_unpack_observe_object(e->unpack, obj, hold);
    if (e->unpack && !*allowed && !v.stop && !obj->values_only)
        ab_unpack_object(e->unpack, obj, hold, em);
    ab_verdict_end(&v);
    return st;
}

void ab_engine_set_part(ab_engine *e, const ab_mbox_range *range, uint64_t file_size, int mbox_only)
{
    if (e->unpack)
        ab_unpack_set_part(e->unpack, range, file_size, mbox_only);
}

void ab_engine_scan_members(ab_engine *e, ab_object *obj, const ab_emit *em)
{
    if (!e->unpack)
        return;
    ab_verdict v;
    const ab_emit *hold = ab_verdict_begin(&v, obj, em, e->sc->min_score, e->sc->levels);
    ab_unpack_object(e->unpack, obj, hold, em);
    ab_verdict_end(&v);
}

int ab_engine_scan_live(ab_engine *e, ab_object *obj, const ab_source *as,
                        ab_status (*run)(ab_unpack *u, void *ctx), void *ctx, const ab_emit *em)
{
    if (!e->unpack)
        return -1;
    ab_verdict v;
    const ab_emit *hold = ab_verdict_begin(&v, obj, em, e->sc->min_score, e->sc->levels);
    ab_unpack_run_live(e->unpack, obj, as, run, ctx, hold, em);
    ab_verdict_end(&v);
    return 0;
}

/* ---- in-process buffer scans ---- */

typedef struct direct_ctx {
    const ab_sink *sink;
    ab_summary *sum;
    int stop;
} direct_ctx;

static int direct_finding(void *ctx, const ab_finding *f)
{
    direct_ctx *d = ctx;
    ab_event ev = {.kind = AB_EVENT_FINDING, .time = ab_now()};
    ev.u.finding = *f;
    d->sum->findings++;
    if (d->sink && d->sink->fn(d->sink->ctx, &ev))
        d->stop = 1;
    return d->stop;
}

static void direct_suppressed(void *ctx, uint64_t n)
{
    direct_ctx *d = ctx;
    d->sum->suppressed += n;
}

static void direct_skip(void *ctx, const ab_skip *s)
{
    direct_ctx *d = ctx;
    ab_event ev = {.kind = AB_EVENT_SKIP, .time = ab_now()};
    ev.u.skip = *s;
    d->sum->skipped[s->reason]++;
    d->sum->skipped_total++;
    if (d->sink && !d->stop && d->sink->fn(d->sink->ctx, &ev))
        d->stop = 1;
}

static int direct_error(void *ctx, const ab_error *er)
{
    direct_ctx *d = ctx;
    ab_event ev = {.kind = AB_EVENT_ERROR, .time = ab_now()};
    ev.u.error = *er;
    d->sum->errors++;
    if (d->sink && d->sink->fn(d->sink->ctx, &ev))
        d->stop = 1;
    return d->stop;
}

static void direct_record(void *ctx, const ab_flow_record *r)
{
    direct_ctx *d = ctx;
    ab_event ev = {.kind = AB_EVENT_FLOW, .time = ab_now()};
    ev.u.flow = *r;
    if (d->sink && !d->stop && d->sink->fn(d->sink->ctx, &ev))
        d->stop = 1;
}

ab_status ab_scan_buffer(ab_scanner *sc, const void *data, size_t len, const char *name,
                         const ab_sink *sink)
{
    if (!sc || !sc->compiled || (!data && len) || !name)
        return AB_ERR_ARG;
    ab_status st = AB_OK;
    if (!sc->local && (st = ab_engine_new(sc, &sc->local)) != AB_OK)
        return st;
    double t0 = ab_now();
    ab_summary sum;
    memset(&sum, 0, sizeof(sum));
    direct_ctx d = {sink, &sum, 0};
    ab_emit em = {direct_finding, direct_error, &d, direct_suppressed, direct_skip, direct_record};
    const char *loc[1] = {name}, *locsrc[1] = {"buffer"};
    ab_object obj;
    memset(&obj, 0, sizeof(obj));
    obj.location_source = locsrc;
    obj.data = data;
    obj.size = len;
    obj.path = name;
    obj.location = loc;
    obj.location_len = 1;
    char err[512];
    int allowed = 0;
    ab_engine_scan(sc->local, &obj, &em, &allowed, err, sizeof(err));
    if (allowed) {
        sum.skipped[AB_SKIP_ALLOWLIST]++;
        sum.skipped_total++;
    } else {
        sum.objects = 1;
        sum.bytes = len;
        ab_engine_unpack_stats(sc->local, &sum.members, &sum.member_bytes);
    }
    ab_net_summary net;
    if (ab_engine_net_take(sc->local, &net))
        sum.net = &net;
    sum.seconds = ab_now() - t0;
    ab_event ev = {.kind = AB_EVENT_SUMMARY, .time = ab_now()};
    ev.u.summary = sum;
    if (sink && !d.stop)
        sink->fn(sink->ctx, &ev);
    return AB_OK;
}
