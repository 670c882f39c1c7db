/* connections.c: the live-connection check (Loki's C2 check): the host's TCP and UDP sockets
 * against the ip and cidr IOCs, reported with the process holding each matching socket; and
 * ab_scan_host, which runs it together with the all-process memory sweep under one summary.
 *
 * It runs in the calling process: the only input is the kernel's socket tables and /proc links,
 * bounded by src/host/sockets.c, so there is nothing hostile to isolate in a worker. Matches are
 * collected first and their holders looked up afterwards, in one walk of /proc for all of them:
 * a host has many sockets and few matches. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/scanner.h"
#include "core/verdict.h"
#include "host/procinfo.h"
#include "host/sockets.h"

#define MAX_MATCHES   ((size_t)65536) /* matching sockets reported per scan; more are an error */
#define MAX_HOLDERS   64              /* processes reported per socket (a forked server's) */
#define MAX_PROC_TEXT 4096

typedef struct table {
    const char *path, *name;
    int v6, udp;
} table;

static const table tables[] = {
    {"/proc/net/tcp", "tcp", 0, 0},
    {"/proc/net/tcp6", "tcp6", 1, 0},
    {"/proc/net/udp", "udp", 0, 1},
    {"/proc/net/udp6", "udp6", 1, 1},
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

typedef struct match {
    ab_sock s;
    const ab_ioc *ioc;
    unsigned table; /* index in tables */
    int remote;     /* 1: the remote address matched, 0: the local one */
} match;

typedef struct run {
    ab_scanner *sc;
    const ab_sink *sink;
    ab_summary *sum;
    int stop; /* the sink asked to stop */
    unsigned table;
    match *m; /* owned */
    size_t n, cap;
    size_t dropped; /* matches past MAX_MATCHES */
} run;

/* ---- events ---- */

static void deliver(run *r, ab_event *ev)
{
    ev->time = ab_now();
    if (!r->stop && r->sink && r->sink->fn && r->sink->fn(r->sink->ctx, ev))
        r->stop = 1;
}

static void run_error(run *r, const char *path, ab_status st, const char *msg)
{
    const char *loc[1] = {path};
    ab_event ev = {.kind = AB_EVENT_ERROR};
    ev.u.error = (ab_error){path, path ? loc : NULL, path ? 1 : 0, st, msg, NULL};
    r->sum->errors++;
    deliver(r, &ev);
}

/* ---- reading the tables ---- */

static ab_status push_match(run *r, const ab_sock *s, const ab_ioc *ioc, int remote)
{
    if (r->n >= MAX_MATCHES) {
        r->dropped++;
        return AB_OK;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        match *m = realloc(r->m, cap * sizeof(*m));
        if (!m)
            return AB_ERR_NOMEM;
        r->m = m;
        r->cap = cap;
    }
    r->m[r->n++] = (match){*s, ioc, r->table, remote};
    return AB_OK;
}

static int on_sock(void *ctx, const ab_sock *s)
{
    run *r = ctx;
    if (r->sc->cancel)
        return 1;
    r->sum->objects++;
    /* The remote end first: that is what a C2 list is about. An unspecified address is a socket
     * bound to every address, or a remote end not connected: never an indicator. */
    const ab_ioc *ioc = NULL;
    int remote = 1;
    if (!ab_ipaddr_is_unspecified(&s->remote))
        ioc = ab_iocs_match_ip(r->sc->iocs, &s->remote);
    if (!ioc && !ab_ipaddr_is_unspecified(&s->local)) {
        ioc = ab_iocs_match_ip(r->sc->iocs, &s->local);
        remote = 0;
    }
    if (ioc && push_match(r, s, ioc, remote) != AB_OK) {
        run_error(r, NULL, AB_ERR_NOMEM, "out of memory while matching connections");
        return 1;
    }
    return 0;
}

/* Reads every table; 0 when none of them exists. */
static int read_tables(run *r)
{
    int found = 0;
    char msg[256];
    for (unsigned i = 0; i < N_TABLES && !r->stop && !r->sc->cancel; i++) {
        size_t bad = 0;
        r->table = i;
        ab_status st = ab_sock_read_table(tables[i].path, tables[i].v6, on_sock, r, &bad);
        if (st == AB_ERR_NOTFOUND) /* tcp6/udp6 without IPv6: no such sockets */
            continue;
        found = 1;
        if (st != AB_OK) {
            snprintf(msg, sizeof(msg), "cannot read the socket table: %s",
                     st == AB_ERR_IO ? strerror(errno) : ab_strerror(st));
            run_error(r, tables[i].path, st, msg);
        }
        if (bad) {
            snprintf(msg, sizeof(msg), "%zu malformed line%s left out", bad, bad == 1 ? "" : "s");
            run_error(r, tables[i].path, AB_ERR_PARSE, msg);
        }
    }
    return found;
}

/* ---- reporting a match ---- */

typedef struct proc_text {
    char comm[256], cmdline[MAX_PROC_TEXT];
    int have_comm, have_cmdline;
} proc_text;

static void emit_match(run *r, const match *m, pid_t pid, const char *unknown, proc_text *pt)
{
    char local[AB_IPADDR_TEXT], remote[AB_IPADDR_TEXT], path[48], reason[384];
    const table *t = &tables[m->table];
    ab_ipaddr_format(&m->s.local, local, sizeof(local));
    ab_ipaddr_format(&m->s.remote, remote, sizeof(remote));
    ab_connection conn = {t->name,
                          local,
                          m->s.local_port,
                          remote,
                          m->s.remote_port,
                          ab_sock_state_name(t->udp, m->s.state),
                          m->s.inode,
                          m->s.uid,
                          m->remote ? "remote" : "local"};
    if (pid > 0)
        snprintf(path, sizeof(path), "pid:%d", (int)pid);
    else
        snprintf(path, sizeof(path), "socket:%llu", (unsigned long long)m->s.inode);
    snprintf(reason, sizeof(reason), "%s address %s %s IOC%s%s", m->remote ? "remote" : "local",
             m->ioc->type == AB_IOC_IP ? "is an" : "is in a", ab_ioc_type_name(m->ioc->type),
             unknown ? "; " : "", unknown ? unknown : "");
    const char *loc[1] = {path};
    ab_finding f;
    memset(&f, 0, sizeof(f));
    f.obj.path = path;
    f.obj.location = loc;
    f.obj.location_len = 1;
    f.obj.pid = pid;
    f.obj.process_name = pid > 0 && pt->have_comm ? pt->comm : NULL;
    f.obj.cmdline = pid > 0 && pt->have_cmdline ? pt->cmdline : NULL;
    f.matcher = AB_MATCHER_CONNECTION;
    f.rule = m->ioc->value;
    f.rule_namespace = m->ioc->source;
    f.description = m->ioc->description;
    f.family = m->ioc->family;
    f.score = m->ioc->score;
    f.severity = ab_severity_for_score(m->ioc->score);
    f.reason = reason;
    f.conn = &conn;
    ab_meta meta[2];
    size_t nm = 0;
    if (m->ioc->reference)
        meta[nm++] = (ab_meta){.key = "reference", .str = m->ioc->reference};
    if (m->ioc->description)
        meta[nm++] = (ab_meta){.key = "description", .str = m->ioc->description};
    f.meta = meta;
    f.meta_len = nm;
    /* A connection is an object of its own: its verdict is its one finding's. */
    f.object_score = f.score;
    f.level = ab_level_for(f.score, r->sc->levels);
    if ((unsigned)f.score < r->sc->min_score) {
        r->sum->suppressed++;
        return;
    }
    ab_event ev = {.kind = AB_EVENT_FINDING};
    ev.u.finding = f;
    r->sum->findings++;
    deliver(r, &ev);
}

/* Why a socket has no holder to report (the finding says it rather than being dropped). */
static const char *why_unknown(const ab_sock *s, const ab_sock_owners *o, int owners_ok, char *buf,
                               size_t len)
{
    if (s->inode == 0)
        return "no process holds this socket (the kernel keeps it, e.g. in TIME_WAIT)";
    if (!owners_ok)
        return "owning process unknown: /proc could not be read";
    if (o->truncated)
        return "owning process unknown: too many sockets held to record them all";
    if (o->unreadable) {
        snprintf(buf, len,
                 "owning process unknown: the descriptors of %zu process%s could not be read "
                 "(another user's processes need root or CAP_SYS_PTRACE)",
                 o->unreadable, o->unreadable == 1 ? "" : "es");
        return buf;
    }
    return "owning process not found (the socket may have been closed meanwhile)";
}

static void report_one(run *r, const match *m, const ab_sock_owners *o, int owners_ok)
{
    proc_text pt;
    size_t first = 0, n = owners_ok && m->s.inode ? ab_sock_owners_of(o, m->s.inode, &first) : 0;
    if (n == 0) {
        char buf[256];
        emit_match(r, m, 0, why_unknown(&m->s, o, owners_ok, buf, sizeof(buf)), &pt);
        return;
    }
    for (size_t k = 0; k < n && k < MAX_HOLDERS && !r->stop; k++) {
        pid_t pid = o->v[first + k].pid;
        pt.have_comm = ab_proc_read_text(pid, "comm", pt.comm, sizeof(pt.comm)) == 0;
        pt.have_cmdline = ab_proc_read_text(pid, "cmdline", pt.cmdline, sizeof(pt.cmdline)) == 0;
        emit_match(r, m, pid, NULL, &pt);
    }
    if (n > MAX_HOLDERS && !r->stop) {
        char msg[160];
        snprintf(msg, sizeof(msg), "socket held by %zu processes: the first %d are reported", n,
                 MAX_HOLDERS);
        char path[48];
        snprintf(path, sizeof(path), "socket:%llu", (unsigned long long)m->s.inode);
        run_error(r, path, AB_ERR_LIMIT, msg);
    }
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The distinct non-zero inodes of the matches, sorted; NULL (and *n 0) when there are none or on
 * allocation failure (then the holders are reported unknown). */
static uint64_t *match_inodes(const run *r, size_t *n)
{
    *n = 0;
    uint64_t *v = malloc((r->n ? r->n : 1) * sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (r->m[i].s.inode)
            v[(*n)++] = r->m[i].s.inode;
    qsort(v, *n, sizeof(*v), u64_cmp);
    size_t o = 0;
    for (size_t i = 0; i < *n; i++)
        if (!o || v[i] != v[o - 1])
            v[o++] = v[i];
    *n = o;
    return v;
}

static void report_matches(run *r)
{
    size_t n_inodes = 0;
    uint64_t *inodes = match_inodes(r, &n_inodes);
    ab_sock_owners o;
    memset(&o, 0, sizeof(o));
    int owners_ok = inodes != NULL;
    if (inodes && n_inodes) {
        ab_status st = ab_sock_find_owners(NULL, inodes, n_inodes, &o);
        if (st != AB_OK) {
            owners_ok = 0;
            run_error(r, "/proc", st,
                      st == AB_ERR_IO ? "cannot list processes to find socket owners"
                                      : "out of memory while finding socket owners");
        }
    }
    for (size_t i = 0; i < r->n && !r->stop; i++)
        report_one(r, &r->m[i], &o, owners_ok);
    if (r->dropped && !r->stop) {
        char msg[160];
        snprintf(msg, sizeof(msg), "%zu more matching sockets not reported (at most %zu per scan)",
                 r->dropped, MAX_MATCHES);
        run_error(r, NULL, AB_ERR_LIMIT, msg);
    }
    ab_sock_owners_release(&o);
    free(inodes);
}

/* The connection check into sum (no summary event). Returns 1 when the sink asked to stop. */
static int check_connections(ab_scanner *sc, const ab_sink *sink, ab_summary *sum)
{
    run r;
    memset(&r, 0, sizeof(r));
    r.sc = sc;
    r.sink = sink;
    r.sum = sum;
    if (sc->cancel)
        return 0;
    if (!read_tables(&r) && !sc->cancel)
        run_error(&r, "/proc/net", AB_ERR_NOTFOUND,
                  "no socket tables (/proc/net/tcp, udp, ...): is /proc mounted?");
    if (!r.stop)
        report_matches(&r);
    free(r.m);
    return r.stop;
}

/* ---- one summary over several scopes ---- */

/* The process sweep's events go through to the caller's sink, except its summary, which is kept
 * to be merged into the one summary of ab_scan_host. */
typedef struct hold {
    const ab_sink *sink;
    int got, stopped;
    ab_summary sum;
    ab_net_summary net; /* sum.net's, copied: the scan call's is gone when it returns */
} hold;

static int hold_event(void *ctx, const ab_event *ev)
{
    hold *h = ctx;
    if (ev->kind == AB_EVENT_SUMMARY) {
        h->sum = ev->u.summary;
        if (h->sum.net) {
            h->net = *h->sum.net;
            h->sum.net = &h->net;
        }
        h->got = 1;
        return 0;
    }
    int rc = h->sink && h->sink->fn ? h->sink->fn(h->sink->ctx, ev) : 0;
    if (rc)
        h->stopped = 1;
    return rc;
}

/* to->net, when set, is the caller's to fill (ab_scan_host's own). */
static void add_summary(ab_summary *to, const ab_summary *s, ab_net_summary *net)
{
    if (s->net) {
        ab_net_summary_add(net, s->net);
        to->net = net;
    }
    to->objects += s->objects;
    to->bytes += s->bytes;
    for (int i = 0; i < AB_SKIP_REASON_COUNT; i++)
        to->skipped[i] += s->skipped[i];
    to->skipped_total += s->skipped_total;
    to->errors += s->errors;
    to->findings += s->findings;
    to->interrupted |= s->interrupted;
    to->suppressed += s->suppressed;
}

/* Runs one scan call with its summary held back, then adds the summary to sum. Returns 1 when
 * the sweep must end here (the sink asked to stop, or the call was interrupted). */
static int held_part(ab_scanner *sc, const ab_sink *sink, ab_summary *sum, ab_net_summary *net,
                     ab_status *st, const char *const *paths, size_t n)
{
    hold h = {sink, 0, 0, {0}, {0}};
    ab_sink hs = {hold_event, &h};
    *st = paths ? ab_scan_paths(sc, paths, n, &hs) : ab_scan_pids(sc, NULL, 0, 1, &hs);
    if (h.stopped)
        return 1;
    if (h.got)
        add_summary(sum, &h.sum, net);
    return h.got && h.sum.interrupted;
}

ab_status ab_scan_host(ab_scanner *sc, unsigned scope, const char *const *paths, size_t n,
                       const ab_sink *sink)
{
    const unsigned known = AB_SCOPE_FILES | AB_SCOPE_PROCESSES | AB_SCOPE_CONNECTIONS;
    if (!sc || !sc->compiled || !scope || (scope & ~known) ||
        ((scope & AB_SCOPE_FILES) && (!paths || !n)))
        return AB_ERR_ARG;
    double t0 = ab_now();
    ab_summary sum;
    ab_net_summary net; /* sum.net, once a part read a capture */
    memset(&sum, 0, sizeof(sum));
    memset(&net, 0, sizeof(net));
    ab_status st = AB_OK;
    if ((scope & AB_SCOPE_CONNECTIONS) && check_connections(sc, sink, &sum))
        return AB_OK; /* the sink asked to stop: no summary, as in a sweep */
    /* Memory before files: processes come and go, files stay. */
    int end = 0;
    if ((scope & AB_SCOPE_PROCESSES) && !sc->cancel) {
        end = held_part(sc, sink, &sum, &net, &st, NULL, 0);
        if (end && !sum.interrupted)
            return st; /* the sink asked to stop */
    }
    if ((scope & AB_SCOPE_FILES) && !end && !sc->cancel) {
        /* even when the process sweep failed: the files are still to be swept */
        ab_status fst = AB_OK;
        end = held_part(sc, sink, &sum, &net, &fst, paths, n);
        if (st == AB_OK)
            st = fst;
        if (end && !sum.interrupted)
            return st;
    }
    if (sc->cancel) /* during the connection check (the sweep clears the flag it saw itself) */
        sum.interrupted = 1;
    sc->cancel = 0;
    sum.seconds = ab_now() - t0;
    ab_event ev = {.kind = AB_EVENT_SUMMARY, .time = ab_now()};
    ev.u.summary = sum;
    if (sink && sink->fn)
        sink->fn(sink->ctx, &ev);
    return st;
}

ab_status ab_scan_connections(ab_scanner *sc, const ab_sink *sink)
{
    return ab_scan_host(sc, AB_SCOPE_CONNECTIONS, NULL, 0, sink);
}
