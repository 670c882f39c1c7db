/* unpack.c: recursion and budget of the source seam (unpack.h). One ab_unpack per engine (one per
 * worker); its per-file counters restart with every top-level object. Recursion is depth-first
 * and bounded by max_depth (<= AB_MAX_LOCATION - 1), so the location chain is one stack of
 * borrowed names: element d is the name of the member being scanned at depth d. */
#include "unpack/unpack.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/scanner.h"
#include "core/verdict.h"
#include "match/domain.h"
#include "match/lookalike_domain.h"
#include "match/observables.h"
#include "unpack/mailsig.h"

#define RATIO_FLOOR  ((uint64_t)1 << 20) /* the ratio limit applies past this many bytes */
#define MAX_PASSWORD 1024

static const ab_source *const sources[] = {
    &ab_source_archive, &ab_source_chm,  &ab_source_szdd, &ab_source_kwaj, &ab_source_pdf,
    &ab_source_rtf,     &ab_source_ole,  &ab_source_pst,  &ab_source_tnef, &ab_source_mbox,
    &ab_source_mime,    &ab_source_yenc, &ab_source_html, &ab_source_pcap,
};
#define N_SOURCES (sizeof(sources) / sizeof(sources[0]))

/* Limits, each reported at most once per top-level file as a finding (the skips are each said). */
enum { L_DEPTH, L_MEMBER_SIZE, L_UNPACKED, L_RATIO, L_MEMBERS, L_COUNT };
static const char *const limit_names[L_COUNT] = {"max-unpack-depth", "max-member-size",
                                                 "max-unpacked", "max-ratio", "max-members"};
/* A bomb is suspicious in itself (ratio, nesting); a big member or a big archive much less. */
static const int limit_scores[L_COUNT] = {50, 25, 40, 60, 40};

#define MAX_HITS        256 /* observable findings per object (indicator, value) */
#define MAX_SIGNALS     64  /* distinct signal rules per object */
#define MAX_FILE_PW     16  /* passwords found in one top-level file */
#define MAX_FILE_PW_LEN 128
#define MAX_PW_VIEW     (256 + MAX_FILE_PW)

/* What was found in the object at one depth: observables, which of them hit, which signals. */
typedef struct obs_slot {
    char *type[AB_MAX_OBSERVABLES], *value[AB_MAX_OBSERVABLES]; /* owned */
    const char *where[AB_MAX_OBSERVABLES];                      /* static tokens */
    size_t n;
    struct {
        const ab_ioc *ioc;
        uint64_t value_hash;
    } hit[MAX_HITS];
    size_t n_hits;
    int hits_said;                   /* the MAX_HITS error was said */
    const char *signal[MAX_SIGNALS]; /* static rule names */
    size_t n_signals;
} obs_slot;

/* The mail info of the message at one depth (ab_unpack_set_mail), strings owned; and the view
 * a member with a mail_part gets (the message's strings, its own part). */
typedef struct mail_slot {
    ab_mail_info own;  /* strings owned */
    ab_mail_info part; /* borrowed strings */
} mail_slot;

struct ab_unpack {
    const ab_scanner *sc; /* NULL in ab_unpack_run_source */
    ab_engine *eng;
    ab_unpack_limits lim;
    const char *const *passwords;
    size_t n_passwords;
    ab_unpack_hooks hooks;
    const ab_emit *down; /* members' verdicts */
    /* per top-level file */
    uint64_t members, unpacked, scanned, scanned_bytes;
    unsigned reported; /* bit per limit already a finding */
    int spent;         /* max-members or max-unpacked reached: nothing more is produced */
    int container_said;
    /* the container being unpacked */
    ab_object *cur;
    const ab_emit *self; /* its verdict */
    const ab_source *src;
    const char *msource, *mparent; /* ab_unpack_name_members, NULL: src's */
    uint64_t cprod, ccons; /* the container's members so far: bytes produced, packed bytes */
    /* location stack */
    const char *loc[AB_MAX_LOCATION], *locsrc[AB_MAX_LOCATION], *parent[AB_MAX_LOCATION];
    char usource[AB_MAX_LOCATION][AB_MAX_LOCATION * 12]; /* unpack_source per depth */
    obs_slot obs[AB_MAX_LOCATION];
    mail_slot mail[AB_MAX_LOCATION];
    /* passwords: the scanner's, then the top-level file's (owned) */
    char *file_pw[MAX_FILE_PW];
    size_t n_file_pw;
    const char *pw_view[MAX_PW_VIEW];
    /* ab_unpack_run_source */
    int (*collect)(void *ctx, const ab_member *m);
    void *collect_ctx;
    ab_unpack_counts *counts;
    /* lookalikes of the protected domains: built on first use, so in the worker after fork */
    ab_domain_guard *guard; /* owned */
    int guard_failed;       /* not built (ICU): not tried again */
    /* a part of a split mbox (ab_unpack_set_part): set for the next top-level object, in
     * effect (in_part) while it is unpacked */
    int part_next, in_part, part_mbox_only;
    ab_mbox_range part;
    uint64_t part_file_size;
    /* the captures read since the last ab_unpack_net_take */
    ab_net_summary net;
    int net_any;
    /* the top-level capture being read: its counters so far (ab_unpack_net_probe) */
    void (*probe)(void *ctx, ab_net_summary *out);
    void *probe_ctx;
};

void ab_unpack_limits_default(ab_unpack_limits *l)
{
    l->max_depth = 8;
    l->max_member_size = (uint64_t)100 << 20;
    l->max_unpacked = (uint64_t)400 << 20;
    l->max_ratio = 250;
    l->max_members = 10000;
}

void ab_unpack_process_init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    for (size_t i = 0; i < N_SOURCES; i++)
        if (sources[i]->init)
            sources[i]->init();
}

static void obs_clear(obs_slot *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->type[i]);
        free(o->value[i]);
    }
    o->n = 0;
    o->n_hits = 0;
    o->hits_said = 0;
    o->n_signals = 0;
}

static void mail_clear(mail_slot *m)
{
    free((char *)m->own.message_id);
    free((char *)m->own.date);
    free((char *)m->own.from);
    free((char *)m->own.to);
    free((char *)m->own.subject);
    memset(m, 0, sizeof(*m));
}

static void file_pw_clear(ab_unpack *u)
{
    for (size_t i = 0; i < u->n_file_pw; i++)
        free(u->file_pw[i]);
    u->n_file_pw = 0;
}

/* A new object at depth d: what was found in the last one there is gone. */
static void slot_clear(ab_unpack *u, size_t d)
{
    obs_clear(&u->obs[d]);
    mail_clear(&u->mail[d]);
}

ab_status ab_unpack_new(const ab_scanner *sc, ab_engine *eng, ab_unpack **out)
{
    ab_unpack *u = calloc(1, sizeof(*u));
    if (!u)
        return AB_ERR_NOMEM;
    u->sc = sc;
    u->eng = eng;
    u->lim = sc->unpack_limits;
    u->passwords = (const char *const *)sc->passwords;
    u->n_passwords = sc->n_passwords;
    *out = u;
    return AB_OK;
}

void ab_unpack_free(ab_unpack *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < AB_MAX_LOCATION; i++)
        slot_clear(u, i);
    file_pw_clear(u);
    ab_domain_guard_free(u->guard);
    free(u);
}

void ab_unpack_set_hooks(ab_unpack *u, const ab_unpack_hooks *h)
{
    if (h)
        u->hooks = *h;
    else
        memset(&u->hooks, 0, sizeof(u->hooks));
}

void ab_unpack_stats(const ab_unpack *u, uint64_t *members, uint64_t *bytes)
{
    *members = u ? u->scanned : 0;
    *bytes = u ? u->scanned_bytes : 0;
}

void ab_unpack_capture_limits(const ab_unpack *u, ab_capture_limits *out)
{
    if (u && u->sc)
        *out = u->sc->capture_limits;
    else
        ab_capture_limits_default(out);
}

void ab_unpack_net_add(ab_unpack *u, const ab_net_summary *s)
{
    ab_net_summary_add(&u->net, s);
    u->net_any = 1;
}

int ab_unpack_net_take(ab_unpack *u, ab_net_summary *out)
{
    if (!u || !u->net_any)
        return 0;
    *out = u->net;
    memset(&u->net, 0, sizeof(u->net));
    u->net_any = 0;
    return 1;
}

void ab_unpack_net_probe(ab_unpack *u, void (*fn)(void *ctx, ab_net_summary *out), void *ctx)
{
    if (!u || (fn && (!u->cur || u->cur->depth != 0)))
        return; /* a capture inside a container is counted when it ends */
    u->probe = fn;
    u->probe_ctx = fn ? ctx : NULL;
}

int ab_unpack_net_peek(const ab_unpack *u, ab_net_summary *out)
{
    memset(out, 0, sizeof(*out));
    if (!u || (!u->net_any && !u->probe))
        return 0;
    *out = u->net;
    if (u->probe) {
        ab_net_summary now;
        u->probe(u->probe_ctx, &now);
        ab_net_summary_add(out, &now);
    }
    return 1;
}

int ab_unpack_container_mapped(const ab_unpack *u)
{
    return u && u->cur && u->cur->depth == 0 && u->cur->mapped;
}

uint64_t *ab_unpack_frame_cell(const ab_unpack *u)
{
    return u && u->cur && u->cur->depth == 0 ? u->hooks.frame : NULL;
}

struct ab_capture_flow_at *ab_unpack_flow_cell(const ab_unpack *u)
{
    return u && u->cur && u->cur->depth == 0 && u->hooks.frame ? u->hooks.flow : NULL;
}

/* ---- the location of a member of the container being unpacked ---- */

typedef struct member_loc {
    const char *loc[AB_MAX_LOCATION], *src[AB_MAX_LOCATION];
    size_t len;
} member_loc;

/* The container's chain plus name (NULL: the container itself). */
static void member_location(const ab_unpack *u, const char *name, const char *source,
                            member_loc *ml)
{
    size_t d = u->cur ? u->cur->depth : 0;
    for (size_t i = 0; i <= d; i++) {
        ml->loc[i] = u->loc[i];
        ml->src[i] = u->locsrc[i];
    }
    ml->len = d + 1;
    if (name && d + 1 < AB_MAX_LOCATION) {
        ml->loc[d + 1] = name;
        ml->src[d + 1] = source ? source : u->msource ? u->msource : u->src ? u->src->name : NULL;
        ml->len = d + 2;
    }
}

static void say_skip(ab_unpack *u, const char *name, ab_skip_reason r, uint64_t size)
{
    if (u->counts) {
        u->counts->skips++;
        u->counts->last_skip = r;
    }
    if (!u->down || !u->down->skip || !u->cur)
        return;
    member_loc ml;
    member_location(u, name, NULL, &ml);
    ab_skip s = {u->cur->path, r, size, ml.loc, ml.src, ml.len};
    u->down->skip(u->down->ctx, &s);
}

void ab_unpack_skip(ab_unpack *u, const char *name, ab_skip_reason reason, uint64_t size)
{
    say_skip(u, name, reason, size); /* NULL: the container itself (an encrypted PDF) */
}

void ab_unpack_error(ab_unpack *u, const char *name, ab_status st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) /* one line, whatever a library's message holds */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (u->counts) {
        u->counts->errors++;
        snprintf(u->counts->last_error, sizeof(u->counts->last_error), "%s", msg);
    }
    if (!u->down || !u->cur)
        return;
    member_loc ml;
    member_location(u, name, NULL, &ml);
    ab_error e = {u->cur->path, ml.loc, ml.len, st, msg, ml.src};
    u->down->error(u->down->ctx, &e);
}

/* A limit finding on obj through em (its verdict, or a verdict of its own). */
static void limit_finding(ab_unpack *u, const ab_object *obj, const ab_emit *em, int which,
                          const char *reason)
{
    if (u->counts) {
        u->counts->limits++;
        snprintf(u->counts->last_limit, sizeof(u->counts->last_limit), "%s", limit_names[which]);
    }
    if (!em || (u->reported & (1u << which)))
        return;
    u->reported |= 1u << which;
    ab_finding f;
    memset(&f, 0, sizeof(f));
    ab_object_info_fill(&f.obj, obj);
    f.matcher = AB_MATCHER_LIMIT;
    f.rule = limit_names[which];
    f.rule_namespace = "unpack";
    f.score = limit_scores[which];
    f.severity = ab_severity_for_score(f.score);
    f.reason = reason;
    em->finding(em->ctx, &f);
}

/* A limit hit by a member that is not scanned: the finding goes on that member (an object of
 * its own, with no bytes), the skip too. */
static void member_limit(ab_unpack *u, const char *name, int which, ab_skip_reason r, uint64_t size,
                         const char *reason)
{
    if (u->cur && !(u->reported & (1u << which)) && u->down && u->sc) {
        member_loc ml;
        member_location(u, name, NULL, &ml);
        ab_object m;
        memset(&m, 0, sizeof(m));
        m.kind = AB_OBJ_MEMBER;
        m.parent = u->cur;
        m.depth = (unsigned)ml.len - 1;
        m.path = u->cur->path;
        m.location = ml.loc;
        m.location_source = ml.src;
        m.location_len = ml.len;
        m.size = size;
        ab_verdict v;
        const ab_emit *hold = ab_verdict_begin(&v, &m, u->down, u->sc->min_score, u->sc->levels);
        limit_finding(u, &m, hold, which, reason);
        ab_verdict_end(&v);
    } else {
        limit_finding(u, NULL, NULL, which, reason);
    }
    say_skip(u, name, r, size);
}

/* Said in a limit's reason when the budget is a part's share (ab_unpack_set_part). */
static const char *share_note(const ab_unpack *u)
{
    return u->in_part ? ": this part's share of an mbox split across workers" : "";
}

/* The file's budget is spent: a finding on the container being read, the rest of it skipped. */
static void spend(ab_unpack *u, int which, const char *reason)
{
    u->spent = 1;
    limit_finding(u, u->cur, u->self, which, reason);
    say_skip(u, NULL, AB_SKIP_UNPACK_LIMIT, 0);
}

uint64_t ab_unpack_max_member(const ab_unpack *u)
{
    uint64_t left = u->unpacked < u->lim.max_unpacked ? u->lim.max_unpacked - u->unpacked : 0;
    return left < u->lim.max_member_size ? left : u->lim.max_member_size;
}

/* A dropped member's bytes were produced all the same: they count against max-unpacked, or a
 * 42.zip (thousands of members, each dropped at the ratio limit) would decompress for hours. */
static ab_room drop(ab_unpack *u, uint64_t produced, uint64_t packed)
{
    u->unpacked += produced;
    u->cprod += produced;
    u->ccons += packed;
    if (u->unpacked >= u->lim.max_unpacked) {
        char why[160];
        snprintf(why, sizeof(why), "more than %llu bytes unpacked from one file (--max-unpacked%s)",
                 (unsigned long long)u->lim.max_unpacked, share_note(u));
        spend(u, L_UNPACKED, why);
        return AB_ROOM_STOP;
    }
    return AB_ROOM_SKIP_MEMBER;
}

ab_room ab_unpack_check(ab_unpack *u, const char *name, uint64_t produced, uint64_t packed)
{
    char why[160];
    if (u->spent)
        return AB_ROOM_STOP;
    if (produced > u->lim.max_member_size) {
        snprintf(why, sizeof(why), "member larger than %llu bytes (--max-member-size)",
                 (unsigned long long)u->lim.max_member_size);
        member_limit(u, name, L_MEMBER_SIZE, AB_SKIP_TOO_LARGE, produced, why);
        return drop(u, produced, packed);
    }
    if (u->unpacked + produced > u->lim.max_unpacked) {
        snprintf(why, sizeof(why), "more than %llu bytes unpacked from one file (--max-unpacked%s)",
                 (unsigned long long)u->lim.max_unpacked, share_note(u));
        u->spent = 1;
        member_limit(u, name, L_UNPACKED, AB_SKIP_UNPACK_LIMIT, produced, why);
        return AB_ROOM_STOP;
    }
    /* The member's own ratio and the container's so far, both: in a solid stream (tar.xz, a
     * solid 7z) a member that repeats an earlier one costs a few bytes and is no bomb. */
    uint64_t cons = u->ccons + packed;
    if (u->lim.max_ratio && packed && produced > RATIO_FLOOR &&
        produced / packed >= u->lim.max_ratio &&
        (u->cprod + produced) / (cons ? cons : 1) >= u->lim.max_ratio) {
        snprintf(why, sizeof(why),
                 "compression ratio over %u: %llu bytes from %llu (--max-ratio; a bomb?)",
                 u->lim.max_ratio, (unsigned long long)produced, (unsigned long long)packed);
        member_limit(u, name, L_RATIO, AB_SKIP_UNPACK_LIMIT, produced, why);
        return drop(u, produced, packed);
    }
    return AB_ROOM_OK;
}

void ab_unpack_name_members(ab_unpack *u, const char *source, const char *parent)
{
    u->msource = source;
    u->mparent = parent;
}

int ab_unpack_stopped(const ab_unpack *u)
{
    return u->spent || (u->sc && u->sc->cancel);
}

size_t ab_unpack_passwords(const ab_unpack *u, const char *const **out)
{
    if (!u->n_file_pw) {
        *out = u->passwords;
        return u->n_passwords;
    }
    ab_unpack *w = (ab_unpack *)u; /* the view is a cache of the two lists */
    size_t n = 0;
    for (size_t i = 0; i < u->n_passwords && n < MAX_PW_VIEW; i++)
        w->pw_view[n++] = u->passwords[i];
    for (size_t i = 0; i < u->n_file_pw && n < MAX_PW_VIEW; i++)
        w->pw_view[n++] = u->file_pw[i];
    *out = w->pw_view;
    return n;
}

void ab_unpack_add_password(ab_unpack *u, const char *password, size_t len)
{
    if (!password || !len || len > MAX_FILE_PW_LEN || u->n_file_pw >= MAX_FILE_PW ||
        memchr(password, '\0', len))
        return;
    for (size_t i = 0; i < u->n_file_pw; i++)
        if (strlen(u->file_pw[i]) == len && !memcmp(u->file_pw[i], password, len))
            return;
    for (size_t i = 0; i < u->n_passwords; i++)
        if (strlen(u->passwords[i]) == len && !memcmp(u->passwords[i], password, len))
            return;
    char *p = strndup(password, len);
    if (p)
        u->file_pw[u->n_file_pw++] = p;
}

size_t ab_unpack_protected_domains(const ab_unpack *u, const char *const **out)
{
    if (!u->sc) {
        *out = NULL;
        return 0;
    }
    *out = (const char *const *)u->sc->protected_domains;
    return u->sc->n_protected_domains;
}

/* ---- mail ---- */

/* Header values travel with every finding and object of the message (and over the wire in each
 * frame): a 9 MB To: list would make every frame too big to send. Cut on a UTF-8 character
 * boundary and marked "...". */
#define MAX_MAIL_ID    1024
#define MAX_MAIL_FIELD 8192

static char *dup_cut(const char *s, size_t cap)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n <= cap)
        return strdup(s);
    while (n > cap || (n && ((unsigned char)s[n] & 0xC0) == 0x80))
        n--; /* not inside a character */
    char *d = malloc(n + 4);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    memcpy(d + n, "...", 4);
    return d;
}

void ab_unpack_set_mail(ab_unpack *u, const ab_mail_info *info)
{
    if (!u->cur || !info)
        return;
    mail_slot *m = &u->mail[u->cur->depth];
    mail_clear(m);
    m->own.message_id = dup_cut(info->message_id, MAX_MAIL_ID);
    m->own.date = dup_cut(info->date, MAX_MAIL_ID);
    m->own.date_epoch = info->date_epoch;
    m->own.from = dup_cut(info->from, MAX_MAIL_FIELD);
    m->own.to = dup_cut(info->to, MAX_MAIL_FIELD);
    m->own.subject = dup_cut(info->subject, MAX_MAIL_FIELD);
    m->own.part = NULL;
    m->own.depth = u->cur->depth;
    u->cur->mail = &m->own;
}

const ab_mail_info *ab_unpack_mail(const ab_unpack *u)
{
    return u->cur ? u->cur->mail : NULL;
}

/* ---- findings of sources: signals and observable hits ---- */

static void source_finding(ab_unpack *u, ab_matcher_kind kind, const char *rule, const char *ns,
                           int score, const char *description, const char *reason,
                           const char *value, const char *value_type, const char *where,
                           const ab_meta *meta, size_t n_meta)
{
    if (!u->self || !u->cur)
        return;
    ab_finding f;
    memset(&f, 0, sizeof(f));
    ab_object_info_fill(&f.obj, u->cur);
    f.matcher = kind;
    f.rule = rule;
    f.rule_namespace = ns;
    f.description = description;
    f.score = score < 0 ? 0 : score > 100 ? 100 : score;
    f.severity = ab_severity_for_score(f.score);
    f.reason = reason;
    f.value = value;
    f.value_type = value_type;
    f.where = where;
    f.meta = meta;
    f.meta_len = n_meta;
    u->self->finding(u->self->ctx, &f);
}

void ab_unpack_signal(ab_unpack *u, const char *rule, int score, const char *reason,
                      const char *value, const char *value_type, const char *where)
{
    if (!u->cur || !rule)
        return;
    obs_slot *o = &u->obs[u->cur->depth];
    for (size_t i = 0; i < o->n_signals; i++)
        if (!strcmp(o->signal[i], rule))
            return;
    if (o->n_signals >= MAX_SIGNALS)
        return;
    o->signal[o->n_signals++] = rule;
    if (u->counts) {
        u->counts->signals++;
        snprintf(u->counts->last_signal, sizeof(u->counts->last_signal), "%s", rule);
        size_t l = strlen(u->counts->signal_list);
        snprintf(u->counts->signal_list + l, sizeof(u->counts->signal_list) - l, "%s,", rule);
    }
    source_finding(u, AB_MATCHER_MAIL_SIGNAL, rule, "mail-signals", score, NULL, reason, value,
                   value_type, where, NULL, 0);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

typedef struct hit_ctx {
    ab_unpack *u;
    const char *where;
} hit_ctx;

static int on_observable_hit(void *ctx, const ab_ioc *ioc, const char *matched,
                             const char *matched_type)
{
    hit_ctx *h = ctx;
    obs_slot *o = &h->u->obs[h->u->cur->depth];
    uint64_t vh = fnv1a(matched, strlen(matched));
    for (size_t i = 0; i < o->n_hits; i++)
        if (o->hit[i].ioc == ioc && o->hit[i].value_hash == vh)
            return 0;
    if (o->n_hits >= MAX_HITS) {
        if (!o->hits_said) {
            o->hits_said = 1;
            ab_unpack_error(h->u, NULL, AB_ERR_LIMIT,
                            "more than %d IOC matches on one object: the rest are not reported",
                            MAX_HITS);
        }
        return 0;
    }
    o->hit[o->n_hits].ioc = ioc;
    o->hit[o->n_hits].value_hash = vh;
    o->n_hits++;
    char reason[160];
    snprintf(reason, sizeof(reason), "%s IOC (%s)", ab_ioc_type_name(ioc->type),
             h->where ? h->where : "found in the object");
    ab_meta meta[2];
    size_t nm = 0;
    if (ioc->reference)
        meta[nm++] = (ab_meta){.key = "reference", .str = ioc->reference};
    if (ioc->description)
        meta[nm++] = (ab_meta){.key = "description", .str = ioc->description};
    source_finding(h->u, AB_MATCHER_OBSERVABLE, ioc->value, ioc->source, ioc->score,
                   ioc->description, reason, matched, matched_type, h->where, meta, nm);
    return 0;
}

const char *ab_unpack_container_name(const ab_unpack *u)
{
    if (!u->cur)
        return "";
    const char *n = u->cur->location[u->cur->location_len - 1];
    if (u->cur->depth == 0) { /* a path: its base name */
        const char *slash = strrchr(n, '/');
        return slash ? slash + 1 : n;
    }
    return n;
}

/* ---- lookalikes of the protected domains ---- */

#define LOOKALIKE_RULE "lookalike-domain"

static int signal_fired(const ab_unpack *u, const char *rule)
{
    const obs_slot *o = &u->obs[u->cur->depth];
    for (size_t i = 0; i < o->n_signals; i++)
        if (!strcmp(o->signal[i], rule))
            return 1;
    return 0;
}

static int scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.';
}

/* The host of a URL: scheme://[userinfo@]host[:port][/?#...], //host..., a bare host[/...], or
 * the domain of a mailto: address (the first). Unlike ab_url_host (match/url.h), which wants
 * "scheme://", it takes what sources observe as links: mailto:, scheme-relative and bare hosts.
 * No percent-decoding: the guard compares names. NULL when none. */
static const char *url_host(const char *url, size_t len, size_t *hlen)
{
    size_t i = 0;
    while (i < len && (url[i] == ' ' || url[i] == '\t'))
        i++;
    size_t s = i;
    while (i < len && scheme_char(url[i]))
        i++;
    int scheme = i > s && i < len && url[i] == ':';
    if (scheme && i - s == 6 && !strncasecmp(url + s, "mailto", 6)) {
        const char *a = url + i + 1;
        size_t an = len - i - 1;
        for (size_t k = 0; k < an; k++)
            if (a[k] == '?' || a[k] == ',') {
                an = k;
                break;
            }
        return ab_email_domain(a, an, hlen);
    }
    i = scheme ? i + 1 : s;
    if (i + 1 < len && (url[i] == '/' || url[i] == '\\') &&
        (url[i + 1] == '/' || url[i + 1] == '\\'))
        i += 2;
    else if (scheme)
        return NULL; /* javascript:, data:, a scheme without an authority */
    size_t a = i;
    while (i < len && url[i] != '/' && url[i] != '?' && url[i] != '#' && url[i] != '\\')
        i++;
    size_t e = i;
    for (size_t k = a; k < e; k++) /* userinfo: up to the last '@' */
        if (url[k] == '@')
            a = k + 1;
    if (a < e && url[a] == '[') { /* an IPv6 literal */
        const char *rb = memchr(url + a, ']', e - a);
        if (!rb)
            return NULL;
        e = (size_t)(rb - url) + 1;
    } else {
        for (size_t k = a; k < e; k++)
            if (url[k] == ':') {
                e = k;
                break;
            }
    }
    *hlen = e - a;
    return e > a ? url + a : NULL;
}

/* A url, domain or email observable whose host imitates a protected domain: the
 * "lookalike-domain" signal. ab_unpack_signal keeps one per object, so once it fired the other
 * observables of the object are not checked (the first lookalike is the one reported). */
static void check_lookalike(ab_unpack *u, const char *type, const char *where, const char *value,
                            size_t len)
{
    if (!u->sc || !u->sc->n_protected_domains || u->guard_failed || signal_fired(u, LOOKALIKE_RULE))
        return;
    const char *host = NULL, *what;
    size_t hn = 0;
    if (!strcmp(type, "url")) {
        host = url_host(value, len, &hn);
        what = "link domain";
    } else if (!strcmp(type, "email")) {
        host = ab_email_domain(value, len, &hn);
        what = "e-mail domain";
    } else if (!strcmp(type, "domain")) {
        host = value;
        hn = len;
        what = "domain";
    } else {
        return;
    }
    if (!host || !hn)
        return;
    if (!u->guard && ab_domain_guard_new((const char *const *)u->sc->protected_domains,
                                         u->sc->n_protected_domains, &u->guard) != AB_OK) {
        u->guard_failed = 1;
        return;
    }
    ab_domain_hit hit;
    if (!ab_domain_guard_check(u->guard, host, hn, &hit))
        return;
    char reason[sizeof(hit.reason) + 32];
    snprintf(reason, sizeof(reason), "%s %s", what, hit.reason);
    size_t n = len > AB_MAX_OBSERVABLE_LEN ? AB_MAX_OBSERVABLE_LEN : len;
    char *v = malloc(n + 1); /* owned here: the finding copies it */
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = value[i] ? value[i] : ' ';
    v[n] = '\0';
    ab_unpack_signal(u, LOOKALIKE_RULE, hit.score, reason, v, type, where);
    free(v);
}

void ab_unpack_observe(ab_unpack *u, const char *type, const char *where, const char *value,
                       size_t len)
{
    if (!u->cur || !type || !value)
        return;
    if (u->counts)
        u->counts->observables++;
    if (u->sc && u->sc->iocs && ab_observable_any(u->sc->iocs)) {
        hit_ctx h = {u, where};
        ab_observable_match(u->sc->iocs, type, value, len, on_observable_hit, &h);
    }
    check_lookalike(u, type, where, value, len);
    obs_slot *o = &u->obs[u->cur->depth];
    size_t keep = len > AB_MAX_OBSERVABLE_LEN ? AB_MAX_OBSERVABLE_LEN : len;
    size_t stored = keep + (len > AB_MAX_OBSERVABLE_LEN ? 3 : 0); /* a cut value ends "..." */
    for (size_t i = 0; i < o->n; i++) /* the same link ten times is one observable */
        if (!strcmp(o->type[i], type) && o->where[i] == where && strlen(o->value[i]) == stored &&
            !memcmp(o->value[i], value, keep))
            return;
    if (o->n >= AB_MAX_OBSERVABLES)
        return;
    int cut = len > AB_MAX_OBSERVABLE_LEN;
    size_t n = cut ? AB_MAX_OBSERVABLE_LEN : len;
    char *v = malloc(n + 4);
    char *t = strdup(type);
    if (!v || !t) {
        free(v);
        free(t);
        return;
    }
    memcpy(v, value, n);
    for (size_t i = 0; i < n; i++)
        if (!v[i])
            v[i] = ' '; /* strings on the wire are NUL-terminated */
    if (cut)
        memcpy(v + n, "...", 3), n += 3;
    v[n] = '\0';
    o->type[o->n] = t;
    o->value[o->n] = v;
    o->where[o->n] = where;
    o->n++;
    u->cur->observable_type = (const char *const *)o->type;
    u->cur->observable_value = (const char *const *)o->value;
    u->cur->observable_where = o->where;
    u->cur->observables_len = o->n;
}

void ab_unpack_widen_budget(ab_unpack *u, uint64_t bytes, uint64_t members)
{
    uint64_t cap = UINT64_MAX / 4; /* no wrap, whatever the caller says */
    if (u->lim.max_unpacked < cap && bytes < cap)
        u->lim.max_unpacked += bytes;
    if (u->lim.max_members < cap && members < cap)
        u->lim.max_members += members;
}

int ab_unpack_wants_records(const ab_unpack *u)
{
    return u->sc && u->sc->flow_records && u->down && u->down->record;
}

void ab_unpack_record(ab_unpack *u, const ab_flow_info *flow, const char *type, const char *json,
                      size_t len)
{
    if (!ab_unpack_wants_records(u) || !u->cur)
        return;
    ab_flow_record r = {u->cur->path,
                        u->cur->location,
                        u->cur->location_source,
                        u->cur->location_len,
                        flow,
                        type,
                        json,
                        len};
    u->down->record(u->down->ctx, &r);
}

void ab_unpack_observe_object(ab_unpack *u, ab_object *obj, const ab_emit *self)
{
    ab_object *cur = u->cur;
    const ab_emit *cself = u->self;
    u->cur = obj;
    u->self = self;
    const ab_flow_info *flow = obj->flow;
    for (size_t i = 0; i < obj->n_observe; i++) {
        const ab_observation *o = &obj->observe[i];
        /* A value read before the object was complete (a DNS name early in a long flow): its
         * findings say when it was read. The verdict keeps a copy of the flow info. */
        ab_flow_info at;
        if (flow && o->time > 0) {
            at = *flow;
            at.time = o->time;
            obj->flow = &at;
        }
        ab_unpack_observe(u, o->type, o->where, o->value, o->len);
        obj->flow = flow;
    }
    u->cur = cur;
    u->self = cself;
}

/* unpack_source of a member at depth d: the unpack_parent tokens of depths 1..d, joined by '>'. */
static const char *unpack_source(ab_unpack *u, size_t d)
{
    char *s = u->usource[d];
    size_t cap = sizeof(u->usource[d]), n = 0;
    s[0] = '\0';
    for (size_t i = 1; i <= d; i++) {
        int k = snprintf(s + n, cap - n, "%s%s", i > 1 ? ">" : "", u->parent[i]);
        if (k < 0 || (size_t)k >= cap - n)
            break;
        n += (size_t)k;
    }
    return s;
}

/* An archive from a mail (an attachment, or inside one) holding an executable member: the
 * signal goes on the archive. Message parts themselves are the attachment signals' business. */
static void archive_signal(ab_unpack *u, const char *name)
{
    if (!u->cur || !u->cur->mail || u->src == &ab_source_mime || u->src == &ab_source_mbox ||
        !ab_mail_name_is_executable(name, strlen(name)))
        return;
    char why[160];
    snprintf(why, sizeof(why), "a %s from a mail holds an executable or script member",
             u->msource ? u->msource : u->src->name);
    ab_unpack_signal(u, "archive-hides-executable", AB_SIG_ARCHIVE_EXECUTABLE, why, name, "name",
                     "mail.attachment");
}

int ab_unpack_member(ab_unpack *u, const ab_member *m)
{
    if (u->spent || ab_unpack_stopped(u))
        return 1;
    const char *name = m->name ? m->name : "";
    if (++u->members > u->lim.max_members) {
        char why[128];
        snprintf(why, sizeof(why), "more than %llu members in one file (--max-members%s)",
                 (unsigned long long)u->lim.max_members, share_note(u));
        spend(u, L_MEMBERS, why);
        return 1;
    }
    switch (ab_unpack_check(u, name, m->size, m->packed)) {
    case AB_ROOM_OK:
        break;
    case AB_ROOM_SKIP_MEMBER:
        return 0;
    case AB_ROOM_STOP:
        return 1;
    }
    u->unpacked += m->size;
    u->cprod += m->size;
    u->ccons += m->packed;
    archive_signal(u, name);
    if (u->collect) {
        if (u->counts)
            u->counts->members++;
        return u->collect(u->collect_ctx, m);
    }
    size_t d = u->cur->depth + 1; /* < AB_MAX_LOCATION: ab_unpack_object checked */
    if (m->n_via) {
        size_t nv = m->n_via;
        if (nv > AB_MAX_VIA || d + nv >= AB_MAX_LOCATION || d + nv > u->lim.max_depth) {
            char why[128];
            snprintf(why, sizeof(why), "member nested deeper than %u levels (--max-unpack-depth)",
                     u->lim.max_depth);
            member_limit(u, name, L_DEPTH, AB_SKIP_UNPACK_LIMIT, m->size, why);
            return 0;
        }
        for (size_t i = 0; i < nv; i++, d++) { /* names on the chain, nothing else */
            u->loc[d] = m->via[i].name ? m->via[i].name : "";
            u->locsrc[d] = m->via[i].source ? m->via[i].source : u->src->name;
            u->parent[d] = m->via[i].parent ? m->via[i].parent : u->src->parent;
            slot_clear(u, d);
        }
    }
    u->loc[d] = name;
    u->locsrc[d] = m->source ? m->source : u->msource ? u->msource : u->src->name;
    u->parent[d] = m->parent ? m->parent : u->mparent ? u->mparent : u->src->parent;
    slot_clear(u, d);
    ab_object c;
    memset(&c, 0, sizeof(c));
    c.kind = AB_OBJ_MEMBER;
    c.parent = u->cur;
    c.depth = (unsigned)d;
    c.data = m->data;
    c.size = m->size;
    c.path = u->cur->path;
    c.location = u->loc;
    c.location_source = u->locsrc;
    c.location_len = d + 1;
    c.member_mtime = m->mtime;
    c.member_mode = m->mode;
    c.unpack_parent = u->parent[d];
    c.unpack_source = unpack_source(u, d);
    c.media_type = m->media_type;
    c.flow = m->flow ? m->flow : u->cur->flow;
    c.observe = m->observe;
    c.no_hash = m->no_hash;
    c.values_only = m->values_only;
    c.n_observe = m->n_observe;
    c.mail = u->cur->mail;
    if (m->mail_part) {
        mail_slot *ms = &u->mail[d];
        if (u->cur->mail)
            ms->part = *u->cur->mail;
        ms->part.part = m->mail_part;
        c.mail = &ms->part;
    }
    if (u->hooks.beat)
        u->hooks.beat(u->hooks.ctx, &c);
    /* The container's frame: the member's scan recurses into ab_unpack_object. */
    ab_object *cur = u->cur;
    const ab_emit *self = u->self;
    const ab_source *src = u->src;
    const char *msource = u->msource, *mparent = u->mparent;
    uint64_t cprod = u->cprod, ccons = u->ccons;
    char err[512];
    int allowed = 0;
    ab_engine_scan(u->eng, &c, u->down, &allowed, err, sizeof(err));
    u->cur = cur;
    u->self = self;
    u->src = src;
    u->msource = msource;
    u->mparent = mparent;
    u->cprod = cprod;
    u->ccons = ccons;
    if (allowed) {
        say_skip(u, name, AB_SKIP_ALLOWLIST, m->size);
    } else {
        u->scanned++;
        u->scanned_bytes += m->size;
        if (u->hooks.scanned)
            u->hooks.scanned(u->hooks.ctx, &c);
    }
    return u->spent || ab_unpack_stopped(u);
}

static void part_begin(ab_unpack *u, size_t size);

/* A top-level object starts: a new per-file budget and location stack. */
static void top_begin(ab_unpack *u, const ab_object *obj, const ab_emit *down)
{
    u->members = u->unpacked = u->scanned = u->scanned_bytes = 0;
    u->probe = NULL; /* a capture's probe ends with it */
    u->reported = 0;
    u->spent = 0;
    u->container_said = 0;
    u->down = down;
    u->loc[0] = obj->location[0];
    u->locsrc[0] = obj->location_source ? obj->location_source[0] : "file";
    u->parent[0] = "";
    slot_clear(u, 0);
    file_pw_clear(u);
}

void ab_unpack_run_live(ab_unpack *u, ab_object *obj, const ab_source *as,
                        ab_status (*run)(ab_unpack *u, void *ctx), void *ctx, const ab_emit *self,
                        const ab_emit *down)
{
    if (!u || obj->depth != 0)
        return;
    ab_unpack_limits saved = u->lim;
    top_begin(u, obj, down);
    u->cur = obj;
    u->self = self;
    u->src = as;
    u->msource = u->mparent = NULL;
    u->cprod = u->ccons = 0;
    u->container_said = 1;
    if (u->hooks.container)
        u->hooks.container(u->hooks.ctx);
    ab_unpack_process_init();
    run(u, ctx);
    u->cur = NULL;
    u->lim = saved;
}

void ab_unpack_object(ab_unpack *u, ab_object *obj, const ab_emit *self, const ab_emit *down)
{
    if (!u || !obj->data || obj->kind == AB_OBJ_PROCESS)
        return;
    ab_unpack_limits saved = u->lim;
    if (obj->depth == 0) {
        if (u->hooks.top)
            u->hooks.top(u->hooks.ctx, obj);
        part_begin(u, obj->size);
        top_begin(u, obj, down);
    }
    for (size_t i = 0; i < N_SOURCES && !u->spent && !ab_unpack_stopped(u); i++) {
        const ab_source *s = sources[i];
        if (u->in_part && obj->depth == 0 && u->part_mbox_only && s != &ab_source_mbox)
            continue;
        if (!s->claims(obj->data, obj->size) &&
            !(s->media_type && obj->media_type && !strcmp(s->media_type, obj->media_type)))
            continue;
        u->cur = obj;
        u->self = self;
        u->src = s;
        u->msource = u->mparent = NULL;
        u->cprod = u->ccons = 0;
        if (obj->depth >= u->lim.max_depth || obj->depth + 1 >= AB_MAX_LOCATION) {
            char why[128];
            snprintf(why, sizeof(why),
                     "%s container nested deeper than %u levels (--max-unpack-depth)", s->name,
                     u->lim.max_depth);
            limit_finding(u, obj, self, L_DEPTH, why);
            say_skip(u, NULL, AB_SKIP_UNPACK_LIMIT, obj->size);
            break;
        }
        if (!u->container_said && u->hooks.container) {
            u->container_said = 1;
            u->hooks.container(u->hooks.ctx);
        }
        ab_unpack_process_init();
        s->run(u, obj->data, obj->size);
    }
    u->cur = obj->parent ? (ab_object *)obj->parent : NULL;
    if (obj->depth == 0) {
        u->lim = saved;
        u->in_part = 0;
    }
}

void ab_unpack_set_part(ab_unpack *u, const ab_mbox_range *range, uint64_t file_size, int mbox_only)
{
    u->part_next = range != NULL;
    if (range) {
        u->part = *range;
        u->part_file_size = file_size;
        u->part_mbox_only = mbox_only;
    }
}

int ab_unpack_part(const ab_unpack *u, ab_mbox_range *range)
{
    if (!u->in_part || !u->cur || u->cur->depth != 0)
        return 0;
    *range = u->part;
    return 1;
}

/* share of limit for len of total bytes, at least 1 (0 stays 0: no limit) */
static uint64_t share(uint64_t limit, uint64_t len, uint64_t total)
{
    if (!limit || !total || len >= total)
        return limit;
    unsigned __int128 s = (unsigned __int128)limit * len / total;
    return s ? (uint64_t)s : 1;
}

/* A top-level object starts: a part set for it comes into effect with its share of the budget. */
static void part_begin(ab_unpack *u, size_t size)
{
    u->in_part = u->part_next && u->part_file_size == size && u->part.off <= size &&
                 u->part.len <= size - u->part.off;
    u->part_next = 0;
    if (!u->in_part)
        return;
    u->lim.max_members = share(u->lim.max_members, u->part.len, size);
    u->lim.max_unpacked = share(u->lim.max_unpacked, u->part.len, size);
}

ab_status ab_unpack_run_source(const ab_source *s, const uint8_t *data, size_t size,
                               const ab_unpack_limits *l, const char *const *passwords,
                               size_t n_passwords, int (*cb)(void *ctx, const ab_member *m),
                               void *ctx, ab_unpack_counts *counts)
{
    ab_unpack u;
    memset(&u, 0, sizeof(u));
    if (l)
        u.lim = *l;
    else
        ab_unpack_limits_default(&u.lim);
    u.passwords = passwords;
    u.n_passwords = n_passwords;
    u.collect = cb;
    u.collect_ctx = ctx;
    u.counts = counts;
    if (counts)
        memset(counts, 0, sizeof(*counts));
    const char *loc[1] = {"buffer"};
    ab_object obj;
    memset(&obj, 0, sizeof(obj));
    obj.data = data;
    obj.size = size;
    obj.path = "buffer";
    obj.location = loc;
    obj.location_len = 1;
    u.loc[0] = "buffer";
    u.cur = &obj;
    u.src = s;
    ab_unpack_process_init();
    ab_status st = s->run(&u, data, size);
    slot_clear(&u, 0);
    file_pw_clear(&u);
    return st;
}
