/* live.c: ab_scan_live, a live capture (antibody sniff). libpcap is used here, in the parent, to
 * open the interface and read frames, never to parse them: the frames go in batches to one worker
 * (core/pool.c ab_pool_live, AB_JOB_LIVE), which runs the pipeline (capture.h) as for a file.
 *
 * Order matters: the capture is opened (the only step that needs root or CAP_NET_RAW), the filter
 * set, then privileges are dropped for good, and only then is a worker forked or a packet read.
 *
 * ab_scan_capture_stream (antibody pcap -) feeds the same worker from a capture file read as a
 * stream. Its bytes are the capture's, not the kernel's, so libpcap reads them in a reader process
 * of their own (a hostile file header or record costs that process, never the sweep), which
 * hands the frames to the parent through a pipe, in records of ours. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* ---- a capture read as a stream (antibody pcap -) ---- */

/* What the reader process writes to the parent: a record head, then len bytes (a frame, or for
 * REC_ERROR libpcap's message). Host order: both ends are this program. */
enum { REC_FRAME = 1, REC_END = 2, REC_ERROR = 3 };
typedef struct rec {
    uint32_t kind, len, wirelen, linktype;
    uint64_t ts_us;
} rec;

#define REC_MAX_MSG 512
#define STREAM_BUF  (2 * (sizeof(rec) + AB_WIRE_MAX_CAPLEN)) /* room for a whole record and more */

typedef struct streamer {
    pid_t pid;    /* the reader process, 0 once reaped */
    int fd;       /* the pipe's read end (non-blocking, owned) */
    uint8_t *buf; /* STREAM_BUF bytes (owned); [off, len) not yet taken */
    size_t off, len;
    int ended;       /* REC_END was read */
    uint64_t frames; /* frames read */
} streamer;

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The reader process's two ends. Records are gathered in out (a write per record cost two
 * system calls a frame, most of the stream's time) and written when it fills, and whenever the
 * input is about to be waited for: a frame read is never held back while no more come (a live
 * tcpdump -w - upstream). */
#define READER_OUT ((size_t)1 << 20)
#define READER_IN  ((size_t)256 << 10)

typedef struct reader_io {
    int in, out;
    uint8_t *buf; /* READER_OUT bytes */
    size_t len;
    int failed; /* a write failed (the parent is gone) */
} reader_io;

static void rio_flush(reader_io *io)
{
    if (io->len && !io->failed && write_all(io->out, io->buf, io->len) != 0)
        io->failed = 1;
    io->len = 0;
}

static void rio_put(reader_io *io, const void *p, size_t n)
{
    if (io->len + n > READER_OUT)
        rio_flush(io);
    if (n > READER_OUT) { /* cannot happen: a record is at most a frame and its head */
        if (!io->failed && write_all(io->out, p, n) != 0)
            io->failed = 1;
        return;
    }
    memcpy(io->buf + io->len, p, n);
    io->len += n;
}

/* fopencookie's read: what is gathered goes out before a read that would wait. */
static ssize_t rio_read(void *cookie, char *buf, size_t n)
{
    reader_io *io = cookie;
    struct pollfd pfd = {.fd = io->in, .events = POLLIN};
    if (io->len && poll(&pfd, 1, 0) == 0)
        rio_flush(io);
    for (;;) {
        ssize_t r = read(io->in, buf, n);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

static void write_rec(reader_io *io, uint32_t kind, const struct pcap_pkthdr *h, int linktype,
                      const void *data, size_t len)
{
    rec r = {.kind = kind, .len = (uint32_t)len, .linktype = (uint32_t)linktype};
    if (h) {
        uint64_t sec = h->ts.tv_sec < 0 ? 0 : (uint64_t)h->ts.tv_sec;
        uint64_t usec = h->ts.tv_usec < 0 ? 0 : (uint64_t)h->ts.tv_usec;
        r.ts_us = sec * 1000000u + usec;
        r.wirelen = h->len < h->caplen ? h->caplen : h->len;
    }
    rio_put(io, &r, sizeof(r));
    if (len)
        rio_put(io, data, len);
}

/* The reader process: libpcap over in_fd, each frame to out_fd, then REC_END or REC_ERROR. A
 * pipe the parent does not drain holds it up (the parent stops reading while its worker is
 * behind), and so the writer into in_fd: nothing is dropped. */
_Noreturn static void stream_reader(int in_fd, int out_fd, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* it was gone before the prctl: no signal will come */
        _exit(0);
    signal(SIGINT, SIG_IGN); /* the parent decides when to stop (Ctrl-C reaches the group) */
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_DFL); /* the parent gone: nothing to say it to */
    char eb[PCAP_ERRBUF_SIZE] = "";
    static reader_io io; /* static: the process is this function's */
    io = (reader_io){.in = in_fd, .out = out_fd, .buf = malloc(READER_OUT)};
    cookie_io_functions_t fns = {.read = rio_read};
    FILE *f = io.buf ? fopencookie(&io, "rb", fns) : NULL;
    if (f)
        setvbuf(f, NULL, _IOFBF, READER_IN); /* reads of the input in big pieces */
    pcap_t *p =
        f ? pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, eb) : NULL;
    if (!p) {
        if (!f)
            snprintf(eb, sizeof(eb), "%s", strerror(errno));
        if (!io.buf) /* out of memory: the parent says the reader ended early */
            _exit(1);
        write_rec(&io, REC_ERROR, NULL, 0, eb, strnlen(eb, REC_MAX_MSG));
        rio_flush(&io);
        _exit(0);
    }
    int linktype = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;
    while (!io.failed && (r = pcap_next_ex(p, &h, &data)) == 1) {
        size_t n = h->caplen > AB_WIRE_MAX_CAPLEN ? AB_WIRE_MAX_CAPLEN : h->caplen;
        write_rec(&io, REC_FRAME, h, linktype, data, n);
    }
    if (io.failed)
        _exit(0);
    if (r == PCAP_ERROR) {
        const char *m = pcap_geterr(p);
        write_rec(&io, REC_ERROR, NULL, 0, m, strnlen(m, REC_MAX_MSG));
    } else {
        write_rec(&io, REC_END, NULL, 0, NULL, 0);
    }
    rio_flush(&io);
    _exit(0);
}

/* The reader process holds its input on 0, its pipe to the parent on 3, /dev/null on 1, and
 * nothing else: hostile bytes parsed there can reach neither the report (stdout, -o files) nor
 * anything else the parent has open. */
_Noreturn static void stream_reader_start(int in_fd, int out_fd, pid_t parent)
{
    int in = fcntl(in_fd, F_DUPFD, 10), out = fcntl(out_fd, F_DUPFD, 10);
    if (in < 0 || out < 0 || dup2(in, 0) != 0 || dup2(out, 3) != 3)
        _exit(5);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0 && dup2(null, STDOUT_FILENO) != STDOUT_FILENO)
        _exit(5);
    if (close_range(4, ~0U, 0) != 0) {
        long max = sysconf(_SC_OPEN_MAX);
        for (long f = 4; f < (max > 0 && max < 65536 ? max : 65536); f++)
            close((int)f);
    }
    stream_reader(0, 3, parent);
}

/* Why the reader process ended without a last record (it is reaped here). */
static void reader_lost(streamer *s, char *err, size_t errlen)
{
    int ws = 0;
    pid_t r = 0;
    while (s->pid && (r = waitpid(s->pid, &ws, 0)) < 0 && errno == EINTR)
        ;
    if (s->pid && r == s->pid)
        s->pid = 0;
    if (WIFSIGNALED(ws))
        snprintf(err, errlen, "its reader was killed by signal %d after %llu frames", WTERMSIG(ws),
                 (unsigned long long)s->frames);
    else
        snprintf(err, errlen, "its reader ended before the capture's end, after %llu frames",
                 (unsigned long long)s->frames);
}

/* ab_live_input.pending: a whole record is in the buffer (st_read stopped at its max). */
static int st_pending(void *ctx)
{
    const streamer *s = ctx;
    if (s->ended || s->len - s->off < sizeof(rec))
        return 0;
    rec r;
    memcpy(&r, s->buf + s->off, sizeof(r));
    /* a bad record is pending too: st_read says so */
    return r.len > AB_WIRE_MAX_CAPLEN || s->len - s->off - sizeof(rec) >= r.len;
}

/* ab_live_input.read over the reader's records. */
static int st_read(void *ctx, int max, void (*add)(void *actx, const ab_wire_pkt *p), void *actx,
                   char *err, size_t errlen)
{
    streamer *s = ctx;
    int n = 0;
    for (;;) {
        while (n < max && s->len - s->off >= sizeof(rec)) {
            rec r;
            memcpy(&r, s->buf + s->off, sizeof(r));
            size_t want = r.kind == REC_FRAME ? AB_WIRE_MAX_CAPLEN : REC_MAX_MSG;
            if ((r.kind != REC_FRAME && r.kind != REC_END && r.kind != REC_ERROR) || r.len > want) {
                snprintf(err, errlen, "its reader wrote a bad record"); /* a bug */
                return -1;
            }
            if (s->len - s->off - sizeof(rec) < r.len)
                break; /* the rest is to come */
            const uint8_t *d = s->buf + s->off + sizeof(rec);
            s->off += sizeof(rec) + r.len;
            if (r.kind == REC_ERROR) { /* said on the capture (its name): the message alone */
                snprintf(err, errlen, "%s%.*s", s->frames ? "" : "no capture read: ", (int)r.len,
                         (const char *)d);
                return -1;
            }
            if (r.kind == REC_END) {
                s->ended = 1;
                return n ? n : AB_LIVE_END;
            }
            ab_wire_pkt pk = {r.ts_us, r.linktype, r.len, r.wirelen, d};
            add(actx, &pk);
            n++;
            s->frames++;
        }
        if (n >= max || s->ended)
            return s->ended && !n ? AB_LIVE_END : n;
        memmove(s->buf, s->buf + s->off, s->len - s->off); /* room for a whole record */
        s->len -= s->off;
        s->off = 0;
        ssize_t got = read(s->fd, s->buf + s->len, STREAM_BUF - s->len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return n;
        if (got < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            return -1;
        }
        if (got == 0) {
            if (n)
                return n; /* said at the next call */
            reader_lost(s, err, errlen);
            return -1;
        }
        s->len += (size_t)got;
    }
}

ab_status ab_scan_capture_stream(ab_scanner *sc, int fd, const char *name, const ab_sink *sink)
{
    if (!sc || !sc->compiled || fd < 0 || !name || !*name)
        return AB_ERR_ARG;
    if (!sc->unpack) {
        ab_scanner_set_error(sc, "a capture is read by unpacking its flows: not with --no-unpack");
        return AB_ERR_ARG;
    }
    streamer s = {.fd = -1};
    int pfd[2] = {-1, -1};
    ab_status st = AB_ERR_NOMEM;
    if (!(s.buf = malloc(STREAM_BUF)))
        goto out;
    st = AB_ERR_IO;
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        ab_scanner_set_error(sc, "%s: cannot make a pipe: %s", name, strerror(errno));
        goto out;
    }
    fflush(NULL); /* nothing buffered is written twice */
    pid_t parent = getpid();
    s.pid = fork();
    if (s.pid < 0) {
        s.pid = 0;
        ab_scanner_set_error(sc, "%s: cannot start its reader: %s", name, strerror(errno));
        goto out;
    }
    if (s.pid == 0)
        stream_reader_start(fd, pfd[1], parent);
    close(pfd[1]); /* the reader's end: its exit is the pipe's end */
    pfd[1] = -1;
    s.fd = pfd[0];
    pfd[0] = -1;
    if (fcntl(s.fd, F_SETFL, fcntl(s.fd, F_GETFL) | O_NONBLOCK) != 0) {
        ab_scanner_set_error(sc, "%s: %s", name, strerror(errno));
        goto out;
    }
    ab_live_input in = {
        .ctx = &s, .path = name, .fd = s.fd, .read = st_read, .pending = st_pending, .stream = 1};
    st = ab_pool_live(sc, &in, sink);
out:
    if (s.pid) {
        /* done (an error, a cancel): what it would still read is not wanted */
        kill(s.pid, SIGKILL);
        while (waitpid(s.pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i] >= 0)
            close(pfd[i]);
    if (s.fd >= 0)
        close(s.fd);
    free(s.buf);
    return st;
}
