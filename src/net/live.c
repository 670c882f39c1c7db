/* live.c: ab_scan_live, a live capture (antibody sniff). libpcap is used here, in the parent, to
 * open the interface and read frames, never to parse them: the frames go in batches to one worker
 * (core/pool.c ab_pool_live, AB_JOB_LIVE), which runs the pipeline (capture.h) as for a file.
 *
 * Order matters: the capture is opened (the only step that needs root or CAP_NET_RAW), the filter
 * set, then privileges are dropped for good, and only then is a worker forked or a packet read. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "core/live.h"
#include "core/scanner.h"

#define LIVE_SNAPLEN    262144 /* = AB_WIRE_MAX_CAPLEN */
#define LIVE_BUFFER     ((size_t)32 << 20)
#define LIVE_TIMEOUT_MS 100 /* pcap_set_timeout: moot in immediate mode, set all the same */
#define MAX_IFACE       64  /* IFNAMSIZ is 16; "any" and friends are short too */
#define MAX_BPF         65536

typedef struct reader {
    pcap_t *p; /* owned */
    void (*add)(void *actx, const ab_wire_pkt *pk);
    void *actx;
    int linktype;
} reader;

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    reader *r = (reader *)user;
    uint64_t sec = h->ts.tv_sec < 0 ? 0 : (uint64_t)h->ts.tv_sec;
    uint64_t usec = h->ts.tv_usec < 0 ? 0 : (uint64_t)h->ts.tv_usec;
    ab_wire_pkt pk = {.ts_us = sec * 1000000u + usec,
                      .linktype = (uint32_t)r->linktype,
                      .caplen = h->caplen,
                      .wirelen = h->len < h->caplen ? h->caplen : h->len,
                      .data = bytes};
    r->add(r->actx, &pk);
}

static int rd_read(void *ctx, int max, void (*add)(void *actx, const ab_wire_pkt *p), void *actx,
                   char *err, size_t errlen)
{
    reader *r = ctx;
    r->add = add;
    r->actx = actx;
    int n = pcap_dispatch(r->p, max, on_packet, (u_char *)r);
    if (n == PCAP_ERROR) {
        snprintf(err, errlen, "%s", pcap_geterr(r->p));
        return -1;
    }
    return n < 0 ? 0 : n; /* PCAP_ERROR_BREAK: nothing read */
}

static void rd_stats(void *ctx, ab_capture_summary *s)
{
    reader *r = ctx;
    struct pcap_stat ps;
    memset(&ps, 0, sizeof(ps));
    if (pcap_stats(r->p, &ps) != 0)
        return;
    s->kernel_ok = 1;
    s->kernel_received = ps.ps_recv;
    s->kernel_dropped = ps.ps_drop;
    s->interface_dropped = ps.ps_ifdrop;
}

typedef struct ready_ctx {
    const ab_live_opts *o;
    char user[64];
} ready_ctx;

static void rd_ready(void *ctx)
{
    ready_ctx *rc = ctx;
    if (rc->o->ready)
        rc->o->ready(rc->o->ready_ctx, rc->o->interface, rc->user);
}

/* Why pcap_activate failed, in one line. */
static void say_activate(ab_scanner *sc, pcap_t *p, const char *iface, int rc)
{
    const char *why = pcap_geterr(p);
    switch (rc) {
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        ab_scanner_set_error(sc, "sniff: cannot open %s: %s (root or CAP_NET_RAW is needed)", iface,
                             why && *why ? why : "permission denied");
        return;
    case PCAP_ERROR_NO_SUCH_DEVICE:
        ab_scanner_set_error(sc, "sniff: cannot open %s: no such interface", iface);
        return;
    case PCAP_ERROR_IFACE_NOT_UP:
        ab_scanner_set_error(sc, "sniff: cannot open %s: the interface is not up", iface);
        return;
    default:
        ab_scanner_set_error(sc, "sniff: cannot open %s: %s", iface,
                             why && *why ? why : pcap_statustostr(rc));
    }
}

/* No capability left (a non-root process given CAP_NET_RAW needs none once the socket is open). */
static int drop_caps(void)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof(d));
    return (int)syscall(SYS_capset, &h, d);
}

/* Root becomes user for good: supplementary groups, group, user, in that order (after setuid the
 * others are no longer allowed), then the proof that root cannot come back. */
static ab_status drop_privileges(ab_scanner *sc, const char *user, char *who, size_t wholen)
{
    if (geteuid() != 0) {
        if (drop_caps() != 0) {
            ab_scanner_set_error(sc, "sniff: cannot drop capabilities: %s", strerror(errno));
            return AB_ERR_IO;
        }
        struct passwd *pw = getpwuid(geteuid());
        snprintf(who, wholen, "%s", pw ? pw->pw_name : "?");
    } else {
        errno = 0;
        struct passwd *pw = getpwnam(user);
        if (!pw) {
            ab_scanner_set_error(sc, "sniff: no user '%s' to run as (--user)%s%s", user,
                                 errno ? ": " : "", errno ? strerror(errno) : "");
            return AB_ERR_NOTFOUND;
        }
        uid_t uid = pw->pw_uid;
        gid_t gid = pw->pw_gid;
        if (uid == 0) {
            ab_scanner_set_error(sc, "sniff: --user %s is root: give an unprivileged user", user);
            return AB_ERR_ARG;
        }
        snprintf(who, wholen, "%s", pw->pw_name);
        if (initgroups(who, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
            ab_scanner_set_error(sc, "sniff: cannot become user %s: %s", who, strerror(errno));
            return AB_ERR_IO;
        }
        if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0) {
            ab_scanner_set_error(sc, "sniff: root privileges could be regained after becoming %s",
                                 who);
            return AB_ERR_INTERNAL;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        ab_scanner_set_error(sc, "sniff: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return AB_ERR_IO;
    }
    return AB_OK;
}

static ab_status check_opts(ab_scanner *sc, const ab_live_opts *o)
{
    if (!sc || !o || !sc->compiled)
        return AB_ERR_ARG;
    if (!o->interface || !*o->interface || strlen(o->interface) >= MAX_IFACE) {
        ab_scanner_set_error(sc, "sniff: give an interface name (at most %d bytes)", MAX_IFACE - 1);
        return AB_ERR_ARG;
    }
    if (o->bpf && strlen(o->bpf) >= MAX_BPF) {
        ab_scanner_set_error(sc, "sniff: the --bpf filter is longer than %d bytes", MAX_BPF - 1);
        return AB_ERR_ARG;
    }
    if (o->snaplen > LIVE_SNAPLEN) {
        ab_scanner_set_error(sc, "sniff: --snaplen is at most %d", LIVE_SNAPLEN);
        return AB_ERR_ARG;
    }
    if (!(o->duration >= 0) || isinf(o->duration)) {
        ab_scanner_set_error(sc, "sniff: bad duration");
        return AB_ERR_ARG;
    }
    if (!sc->unpack) {
        ab_scanner_set_error(sc, "sniff: a capture is read by unpacking its flows: not with "
                                 "--no-unpack");
        return AB_ERR_ARG;
    }
    return AB_OK;
}

/* Open, configure and activate the capture, and set the filter. */
static ab_status open_capture(ab_scanner *sc, const ab_live_opts *o, pcap_t **out)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(o->interface, eb);
    ab_status st = AB_ERR_IO;
    if (!p) {
        ab_scanner_set_error(sc, "sniff: cannot open %s: %s", o->interface, eb);
        return st;
    }
    pcap_set_snaplen(p, o->snaplen ? (int)o->snaplen : LIVE_SNAPLEN);
    pcap_set_promisc(p, !o->no_promisc);
    pcap_set_immediate_mode(p, 1); /* frames as they come: poll wakes for each */
    pcap_set_timeout(p, LIVE_TIMEOUT_MS);
    size_t buf = o->buffer_bytes ? o->buffer_bytes : LIVE_BUFFER;
    pcap_set_buffer_size(p, buf > (size_t)1 << 30 ? 1 << 30 : (int)buf);
    int rc = pcap_activate(p);
    if (rc < 0) {
        say_activate(sc, p, o->interface, rc);
        goto out;
    }
    if (o->bpf) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, o->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            ab_scanner_set_error(sc, "sniff: bad --bpf filter: %s", pcap_geterr(p));
            st = AB_ERR_PARSE;
            goto out;
        }
        rc = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            ab_scanner_set_error(sc, "sniff: cannot set the --bpf filter: %s", pcap_geterr(p));
            goto out;
        }
    }
    if (pcap_setnonblock(p, 1, eb) != 0) {
        ab_scanner_set_error(sc, "sniff: %s: %s", o->interface, eb);
        goto out;
    }
    if (pcap_get_selectable_fd(p) < 0) {
        ab_scanner_set_error(sc, "sniff: %s cannot be waited on", o->interface);
        goto out;
    }
    *out = p;
    return AB_OK;
out:
    pcap_close(p);
    return st;
}

ab_status ab_scan_live(ab_scanner *sc, const ab_live_opts *o, const ab_sink *sink)
{
    ab_status st = check_opts(sc, o);
    if (st != AB_OK)
        return st;
    reader r;
    memset(&r, 0, sizeof(r));
    if ((st = open_capture(sc, o, &r.p)) != AB_OK)
        return st;
    r.linktype = pcap_datalink(r.p);
    ready_ctx rc = {o, ""};
    st = drop_privileges(sc, o->user ? o->user : "nobody", rc.user, sizeof(rc.user));
    if (st != AB_OK)
        goto out;
    char path[MAX_IFACE + 8];
    snprintf(path, sizeof(path), "live:%s", o->interface);
    ab_live_input in = {.ctx = &r,
                        .path = path,
                        .fd = pcap_get_selectable_fd(r.p),
                        .read = rd_read,
                        .stats = rd_stats,
                        .ready = rd_ready,
                        .ready_ctx = &rc,
                        .duration = o->duration,
                        .count = o->count};
    st = ab_pool_live(sc, &in, sink);
out:
    pcap_close(r.p);
    return st;
}
