/* pool.c: the sweep. The parent walks (or lists processes) and hands one job at a time to each of
 * N worker processes forked after the rules were compiled, so they share them copy-on-write. A
 * worker that dies on a signal or overruns its deadline costs the object it held: the parent
 * reports an error event for that object, forks a replacement, and the sweep goes on. The sink is
 * only ever called in the parent. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/live.h"
#include "core/scanner.h"
#include "core/throttle.h"
#include "core/wire.h"
#include "host/procinfo.h"
#include "net/capture.h"
#include "unpack/unpack.h"

#define MAX_WORKERS       256
#define KILL_GRACE_S      10 /* past the YARA timeout before a worker is killed */
#define MAX_BAD_STARTS    5  /* workers dying before they are ready: give up */
#define IN_BUF_CAP        ((size_t)(AB_WIRE_MAX_FRAME) + 64)
#define PROGRESS_INTERVAL 0.1
#define MAX_PROC_TEXT     4096
#define REAP_WAIT_MS      2000 /* how long a killed worker may take to die before it is left */
/* Jobs in flight per worker. A second, queued job hides the parent round trip between small
 * files (20k files: 20k round trips per sweep); it is only queued behind a small file, so a big
 * or slow file never holds back work another worker could take. Jobs complete in order, so the
 * head is always the object being scanned: a crash is still blamed on exactly one object, and the
 * jobs queued behind it are handed to other workers. */
#define QUEUE_DEPTH 2
#define SMALL_FILE  ((off_t)1 << 20)

/* A big mbox is split across workers (unpack.h ab_mbox_range) in parts of at least this many
 * bytes, about four per worker: the owner of the file does its matchers and the first part, and
 * the other parts go to whichever worker is free. */
#define SPLIT_MIN_CHUNK   ((uint64_t)16 << 20)
#define SPLITS_PER_WORKER 4

typedef struct job {
    int kind;   /* AB_JOB_FILE, AB_JOB_PROC, AB_JOB_PART, AB_JOB_RESUME (core/wire.h) */
    char *path; /* owned; the file, or "pid:N" */
    struct stat st;
    pid_t pid;
    uint64_t file_size; /* AB_JOB_PART: the file's size when it was split; AB_JOB_RESUME */
    ab_wire_part part;  /* AB_JOB_PART */
    uint64_t skip;      /* AB_JOB_RESUME: the capture's frames not read again */
    uint64_t resumes;   /* AB_JOB_RESUME: the file's workers lost so far */
    int stream;         /* AB_JOB_LIVE: a capture read as a stream (antibody pcap -) */
    ab_flow_key skip_flows[AB_MAX_SKIP_FLOWS]; /* AB_JOB_RESUME: flows given up (not read) */
    uint8_t n_skip_flows;
} job;

/* The member a worker is scanning, in memory it shares with the parent (MAP_SHARED, made before
 * the fork): the worker writes it before each member, the parent reads it for the member's
 * deadline, the progress line and the blame of a death. A frame per member cost a send and a
 * wake-up of the parent each, a quarter of the CPU of a mailbox of small parts. A seqlock: seq
 * is odd while the worker writes; the parent copies and retries when seq moved. */
#define BEAT_CAP ((size_t)64 << 10) /* a location longer than this is not said (the file is) */

/* What a worker reading a capture (a live job, a resume, a top-level capture file) counted of
 * it so far: the summary's members, bytes (a live capture's: the frames it took) and network
 * counters, as its DONE would say them. */
typedef struct slot_tally {
    uint64_t job; /* the worker's object count (beat_slot.job) these belong to */
    uint64_t members, member_bytes, bytes;
    ab_net_summary net;
} slot_tally;

typedef struct beat_slot {
    uint64_t seq;           /* __atomic access only */
    uint64_t job;           /* the worker's count of objects started: whose member this is */
    uint64_t container_job; /* __atomic: the object (by that count) that opened a container */
    /* __atomic, no seqlock (one word): the frame (from 1) a top-level capture of object `job` is
     * handling (capture.h frame_at), AB_CAPTURE_FRAME_END once it read them all, 0 none. The
     * worker stores it before each frame, the parent reads it once the worker is gone, to go on
     * from the next frame (AB_JOB_RESUME). */
    uint64_t frame;
    /* The flow that capture is working on (capture.h ab_capture_flow_at: the frame always, the
     * endpoints when the flow changes), in flight while flow.frame equals frame: a crash or a
     * stall between members is blamed on it. Read once the worker is gone. */
    ab_capture_flow_at flow;
    /* The worker's last tally (w_tally, after each member of a capture and each live batch),
     * for a worker lost before its DONE: tally[tally_at & 1], written whole before tally_at
     * (__atomic) says so; read by the parent only once the worker is gone. */
    uint64_t tally_at;
    slot_tally tally[2];
    double start; /* ab_now() when the member started */
    uint32_t len; /* bytes of data: a wire location (ab_wire_put_location); 0: no member */
    uint8_t data[BEAT_CAP];
} beat_slot;

typedef struct worker {
    pid_t pid;          /* 0: slot empty */
    int fd;             /* parent's end of the socketpair */
    int ready;          /* READY received */
    int long_job;       /* q[0] is a container being unpacked: queue nothing behind it */
    int retiring;       /* EXITING received: the jobs it holds were not started */
    ab_buf beat;        /* the location of q[0]'s member being scanned (from slot), or empty */
    beat_slot *slot;    /* shared with the worker (mmap, owned: unmapped with the worker) */
    uint64_t slot_seq;  /* the slot's seq last copied into beat */
    uint64_t done;      /* objects it finished (DONE): q[0] is its object number done + 1 */
    job q[QUEUE_DEPTH]; /* q[0] is being scanned, the rest wait in the worker's socket */
    unsigned nq;
    double deadline; /* of q[0] */
    ab_buf in;       /* bytes read but not yet consumed */
} worker;

struct pool;
typedef struct feeder feeder;
struct feeder {
    /* 1: *j filled; 0: no more. May emit skip/error events through the pool. */
    int (*next)(feeder *f, struct pool *p, job *j);
    ab_walk *walk;
    const pid_t *pids;
    size_t n_pids, i;
    DIR *proc;
};

typedef struct pool {
    ab_scanner *sc;
    const ab_sink *sink;
    worker w[MAX_WORKERS];
    unsigned n;
    ab_summary sum;
    ab_net_summary net; /* sum.net points here once a capture was read */
    double t0, last_progress;
    /* Jobs before the feeder's: those queued at workers that were lost, or handed back, and the
     * parts of split files. A stack (the last pushed goes first); owned, grown on demand. */
    job *retry;
    size_t nretry, retry_cap;
    int stop;                  /* the sink asked to stop */
    int bad_starts;            /* consecutive workers that died before READY */
    int named_pids;            /* a pid list (not --processes): a process that exits is an error */
    char current[8192];        /* progress: the member being scanned */
    uint8_t scratch[BEAT_CAP]; /* beat_refresh's copy of a slot */
    ab_status fatal;
    int live_ending;            /* a live capture is ending: a lost worker is not replaced */
    uint64_t live_lost_frame;   /* the frame a lost live worker's slot said (beat_slot.frame) */
    ab_flow_key live_lost_flow; /* and the flow it was on, when live_lost_in_flow */
    int live_lost_in_flow;
} pool;

/* ---- events to the sink (parent only) ---- */

static void deliver(pool *p, ab_event *ev)
{
    ev->time = ab_now();
    if (!p->stop && p->sink && p->sink->fn && p->sink->fn(p->sink->ctx, ev))
        p->stop = 1;
}

/* An error of an object; loc (n > 0) is the member's location, else [path]. */
static void pool_error_at(pool *p, const char *path, const char *const *loc, const char *const *src,
                          size_t n, ab_status st, const char *msg)
{
    const char *one[1] = {path}, *one_src[1] = {"file"};
    if (path && !strncmp(path, "pid:", 4))
        one_src[0] = "process";
    ab_event ev = {.kind = AB_EVENT_ERROR};
    if (n)
        ev.u.error = (ab_error){path, loc, n, st, msg, src};
    else
        ev.u.error = (ab_error){path, path ? one : NULL, path ? 1 : 0, st, msg, one_src};
    p->sum.errors++;
    deliver(p, &ev);
}

static void pool_error(pool *p, const char *path, ab_status st, const char *msg)
{
    pool_error_at(p, path, NULL, NULL, 0, st, msg);
}

static void pool_skip_at(pool *p, const char *path, const char *const *loc, const char *const *src,
                         size_t n, ab_skip_reason r, uint64_t size)
{
    ab_event ev = {.kind = AB_EVENT_SKIP};
    ev.u.skip = (ab_skip){path, r, size, n ? loc : NULL, n ? src : NULL, n};
    p->sum.skipped[r]++;
    p->sum.skipped_total++;
    deliver(p, &ev);
}

static void pool_skip(pool *p, const char *path, ab_skip_reason r, uint64_t size)
{
    pool_skip_at(p, path, NULL, NULL, 0, r, size);
}

/* ---- the worker side ---- */

static unsigned worker_count(const ab_scanner *sc);

typedef struct wctx {
    int fd;
    beat_slot *slot; /* shared with the parent */
    uint64_t jobs;   /* objects started */
    ab_buf loc;      /* a member's location, encoded for the slot */
    ab_buf out;
    ab_throttle thr;      /* --max-cpu, --max-io */
    int list_objects;     /* send an OBJECT per member too */
    int returned;         /* the queued job was handed back for this top-level object */
    int quit_after;       /* a QUIT arrived while a container was being unpacked */
    ab_buf peek;          /* a frame read while looking for a queued job */
    unsigned workers;     /* in the sweep */
    ab_engine *eng;       /* the worker's (h_top sets a part on it) */
    int split_ok;         /* the object being scanned is a file this worker may split */
    uint64_t split_chunk; /* smallest part of a split mbox (SPLIT_MIN_CHUNK) */
    int live;             /* an AB_JOB_LIVE job runs: frames arrive on the socket */
    uint64_t live_bytes;  /* its captured bytes taken so far (the summary's bytes) */
    ab_buf live_loc;      /* its location ([path]) encoded for the slot: "parsing frames" */
} wctx;

static int send_all(int fd, const void *data, size_t len)
{
    const char *s = data;
    while (len) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

static int send_frame(int fd, ab_buf *b)
{
    if (ab_wire_finish(b) != AB_OK)
        return -1;
    return send_all(fd, b->data, b->len);
}

static int w_finding(void *ctx, const ab_finding *f)
{
    wctx *w = ctx;
    ab_wire_begin(&w->out, AB_MSG_FINDING);
    ab_wire_put_finding(&w->out, f);
    if (send_frame(w->fd, &w->out) != 0)
        _exit(3); /* the parent is gone */
    return 0;
}

static void w_send_simple(wctx *w, uint8_t type, uint64_t a, uint32_t b);

static void w_suppressed(void *ctx, uint64_t n)
{
    w_send_simple(ctx, AB_MSG_SUPPRESSED, n, 0);
}

/* An error of the job's object; a member's location when loc_len > 1. */
static void w_send_error_at(wctx *w, const char *path, const char *const *loc,
                            const char *const *src, size_t n, ab_status st, const char *msg)
{
    ab_wire_begin(&w->out, AB_MSG_ERROR);
    ab_wire_u32(&w->out, (uint32_t)st);
    ab_wire_str(&w->out, msg);
    ab_wire_str(&w->out, path);
    ab_wire_put_location(&w->out, loc, src, n > 1 ? n : 0);
    if (send_frame(w->fd, &w->out) != 0)
        _exit(3);
}

static void w_send_error(wctx *w, const char *path, ab_status st, const char *msg)
{
    w_send_error_at(w, path, NULL, NULL, 0, st, msg);
}

static int w_error(void *ctx, const ab_error *e)
{
    w_send_error_at(ctx, e->path, e->location, e->location_source, e->location_len, e->status,
                    e->message);
    return 0;
}

static void w_send_skip_at(wctx *w, ab_skip_reason r, uint64_t size, const char *const *loc,
                           const char *const *src, size_t n)
{
    ab_wire_begin(&w->out, AB_MSG_SKIP);
    ab_wire_u32(&w->out, (uint32_t)r);
    ab_wire_u64(&w->out, size);
    ab_wire_put_location(&w->out, loc, src, n);
    if (send_frame(w->fd, &w->out) != 0)
        _exit(3);
}

static void w_record(void *ctx, const ab_flow_record *rec)
{
    wctx *w = ctx;
    ab_wire_begin(&w->out, AB_MSG_RECORD);
    ab_wire_put_record(&w->out, rec);
    if (send_frame(w->fd, &w->out) != 0)
        _exit(3);
}

static void w_skip(void *ctx, const ab_skip *s)
{
    w_send_skip_at(ctx, s->reason, s->size, s->location, s->location_source, s->location_len);
}

static void w_send_simple(wctx *w, uint8_t type, uint64_t a, uint32_t b)
{
    if (type == AB_MSG_DONE) /* rest before the parent hands out more (inside its grace) */
        ab_throttle_end(&w->thr, a);
    ab_wire_begin(&w->out, type);
    ab_wire_u64(&w->out, a);
    ab_wire_u32(&w->out, b);
    if (type == AB_MSG_DONE) { /* members: none unless w_send_done says */
        ab_wire_u64(&w->out, 0);
        ab_wire_u64(&w->out, 0);
        w->returned = 0; /* the next object starts afresh */
    }
    if (send_frame(w->fd, &w->out) != 0)
        _exit(3);
}

/* DONE for a file: its bytes (when counted) and the members scanned inside it; before it, the
 * counters of the captures read in it (NET). */
static void w_send_done(wctx *w, ab_engine *eng, uint64_t bytes, uint32_t counted)
{
    uint64_t members = 0, mbytes = 0;
    ab_net_summary net;
    if (ab_engine_net_take(eng, &net)) {
        ab_wire_begin(&w->out, AB_MSG_NET);
        ab_wire_put_net(&w->out, &net);
        if (send_frame(w->fd, &w->out) != 0)
            _exit(3);
    }
    if (counted)
        ab_engine_unpack_stats(eng, &members, &mbytes);
    ab_throttle_end(&w->thr, bytes + mbytes);
    ab_wire_begin(&w->out, AB_MSG_DONE);
    ab_wire_u64(&w->out, bytes);
    ab_wire_u32(&w->out, counted);
    ab_wire_u64(&w->out, members);
    ab_wire_u64(&w->out, mbytes);
    if (send_frame(w->fd, &w->out) != 0)
        _exit(3);
    w->returned = 0;
}

static void w_send_object(wctx *w, const ab_object *obj)
{
    ab_object_info info;
    ab_object_info_fill(&info, obj);
    ab_wire_begin(&w->out, AB_MSG_OBJECT);
    ab_wire_put_object(&w->out, &info);
    if (send_frame(w->fd, &w->out) != 0)
        _exit(3);
}

static int w_read_frame(int fd, ab_buf *b);

/* ---- hooks around members (unpack/unpack.h) ---- */

/* A container is being unpacked: it may take long whatever its size on disk, so a job the
 * parent queued behind it (a small file looked cheap) is handed back for another worker. Frames
 * arrive whole and in order; a job that is not in the socket yet will not come (the parent
 * queues nothing behind a job once it was handed one back). */
static void w_give_back(wctx *w)
{
    if (w->returned || w->quit_after || w->live) /* live: the socket carries frames, not jobs */
        return;
    struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
    if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
        return;
    int type = w_read_frame(w->fd, &w->peek);
    if (type == AB_MSG_JOB) {
        w->returned = 1;
        ab_wire_begin(&w->out, AB_MSG_RETURN);
        if (send_frame(w->fd, &w->out) != 0)
            _exit(3);
    } else {
        w->quit_after = 1; /* QUIT, or the parent is gone: end after this object */
    }
}

/* The object opens its first container: hand back a job queued behind it, and tell the parent
 * (through the slot, no frame) to queue none: one sent a moment later would wait behind the
 * whole archive. */
static void h_container(void *ctx)
{
    wctx *w = ctx;
    w_give_back(w);
    if (w->slot)
        __atomic_store_n(&w->slot->container_job, w->jobs, __ATOMIC_RELEASE);
}

static void test_fault(const char *path, int stage);

/* Write the member being scanned (loc: an encoded location, n bytes; 0: none) into the slot. */
static void slot_write(beat_slot *s, uint64_t job, const void *loc, size_t n)
{
    if (!s)
        return;
    uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED); /* odd: being written */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (n > BEAT_CAP)
        n = 0;
    if (n)
        memcpy(s->data, loc, n);
    s->len = (uint32_t)n;
    s->job = job;
    s->start = ab_now();
    __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

/* A file about to be unpacked: a big mbox is cut into parts (whole messages), the first kept
 * here, the others sent to the parent as jobs for any worker. Runs after the file's matchers, so
 * an allow-listed mbox is never split; the reading of the file is inside the SIGBUS guard. */
static void h_top(void *ctx, const ab_object *obj)
{
    wctx *w = ctx;
    uint64_t chunk = obj->size / ((uint64_t)w->workers * SPLITS_PER_WORKER);
    if (!w->split_ok || obj->depth || !w->split_chunk || obj->size / 2 < w->split_chunk ||
        !ab_source_mbox.claims(obj->data, obj->size))
        return;
    if (chunk < w->split_chunk)
        chunk = w->split_chunk;
    ab_mbox_range r[AB_WIRE_MAX_PARTS];
    size_t n = ab_mbox_split(obj->data, obj->size, chunk, r, AB_WIRE_MAX_PARTS);
    if (n < 2)
        return;
    ab_wire_part parts[AB_WIRE_MAX_PARTS];
    for (size_t i = 1; i < n; i++)
        parts[i - 1] = (ab_wire_part){r[i].off, r[i].len, r[i].first};
    ab_wire_begin(&w->out, AB_MSG_SPLIT);
    ab_wire_put_split(&w->out, obj->size, parts, n - 1);
    if (send_frame(w->fd, &w->out) != 0)
        _exit(3);
    ab_engine_set_part(w->eng, &r[0], obj->size, 0);
}

static void h_beat(void *ctx, const ab_object *m)
{
    wctx *w = ctx;
    w_give_back(w);
    ab_buf_reset(&w->loc);
    ab_wire_put_location(&w->loc, m->location, m->location_source, m->location_len);
    slot_write(w->slot, w->jobs, w->loc.data, w->loc.len);
    test_fault(m->location[m->location_len - 1], 1); /* crash:/hang: a member by base name */
}

/* The counts of the capture being read so far into the slot (slot_tally): two copies, the one
 * not in use written, then named. A few hundred bytes, no call into the kernel: once per member
 * of a capture (a flow direction, a payload) and per live batch. */
static void w_tally(wctx *w)
{
    beat_slot *s = w->slot;
    if (!s)
        return;
    uint64_t at = __atomic_load_n(&s->tally_at, __ATOMIC_RELAXED) + 1;
    slot_tally *t = &s->tally[at & 1];
    t->job = w->jobs;
    ab_engine_unpack_stats(w->eng, &t->members, &t->member_bytes);
    t->bytes = w->live ? w->live_bytes : 0; /* a file's size is counted once, by its last DONE */
    ab_engine_net_peek(w->eng, &t->net);
    __atomic_store_n(&s->tally_at, at, __ATOMIC_RELEASE);
}

static void h_scanned(void *ctx, const ab_object *m)
{
    wctx *w = ctx;
    if (w->list_objects)
        w_send_object(w, m);
    uint64_t frame = w->slot ? __atomic_load_n(&w->slot->frame, __ATOMIC_RELAXED) : 0;
    if ((w->live || frame) && m->parent && m->parent->depth == 0)
        w_tally(w); /* a member of a capture: counted even if this worker is lost later */
    /* A live capture's member is done: what runs now is the pipeline again, with a deadline of
     * its own (a parser stalling later is not blamed on this member). */
    if (w->live && m->parent && m->parent->depth == 0)
        slot_write(w->slot, w->jobs, w->live_loc.data, w->live_loc.len);
    /* The same for a capture file: a parser crash after this member is the pipeline's (and the
     * frame's, beat_slot.frame), not this member's. */
    if (!w->live && frame && frame != AB_CAPTURE_FRAME_END && m->parent && m->parent->depth == 0 &&
        m->parent->location_len == 1) {
        ab_buf_reset(&w->loc);
        ab_wire_put_location(&w->loc, m->parent->location, m->parent->location_source, 1);
        slot_write(w->slot, w->jobs, w->loc.data, w->loc.len);
    }
}

/* Reads one frame (blocking). Returns the type, 0 on EOF/error. */
static int w_read_frame(int fd, ab_buf *b)
{
    uint32_t len;
    uint8_t type;
    char hdr[5];
    size_t got = 0;
    while (got < 5) {
        ssize_t n = read(fd, hdr + got, 5 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        got += (size_t)n;
    }
    memcpy(&len, hdr, 4);
    type = (uint8_t)hdr[4];
    if (len > AB_WIRE_MAX_FRAME)
        return 0;
    ab_buf_reset(b);
    if (ab_buf_reserve(b, len) != AB_OK)
        return 0;
    for (got = 0; got < len;) {
        ssize_t n = read(fd, b->data + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        got += (size_t)n;
    }
    b->len = len;
    return type;
}

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
    (void)sig;
    if (bus_armed)
        siglongjmp(bus_jmp, 1);
    signal(SIGBUS, SIG_DFL);
    raise(SIGBUS);
}

#ifdef AB_TEST_HOOKS
/* Test builds only: ANTIBODY_TEST_FAULT=crash:NAME, hang:NAME, slow:NAME, vanish:NAME or
 * shrink:NAME (several separated by ',') makes the worker crash, spin, sleep 4 s, delete the file
 * just before opening it (a file deleted mid-scan), or truncate it after mapping it (SIGBUS), for
 * a file (or archive member: crash, hang and slow) whose base name is NAME; vanish:pid:N ends
 * process N just before the worker reads it (a process that exits mid-sweep). stage 0: before open,
 * 1: while scanning. */
static int fault_is(const char *f, const char *kind, const char *base)
{
    size_t k = strlen(kind), b = strlen(base);
    for (const char *t = f; t && *t; t = strchr(t, ',') ? strchr(t, ',') + 1 : NULL)
        if (!strncmp(t, kind, k) && !strncmp(t + k, base, b) && (t[k + b] == ',' || !t[k + b]))
            return 1;
    return 0;
}

/* vanish:pid:N kills process N (SIGKILL) just before the worker reads it, and waits until it is
 * a zombie or gone: a process that exits between the listing and the scan. */
static void vanish_process(const char *path)
{
    pid_t pid = (pid_t)atoi(path + 4);
    char stat_path[64], buf[512];
    kill(pid, SIGKILL);
    snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 2000; i++) {
        int fd = open(stat_path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n <= 0)
            return;
        buf[n] = '\0';
        const char *rp = strrchr(buf, ')');
        if (rp && (rp[2] == 'Z' || rp[2] == 'X'))
            return;
        usleep(1000);
    }
}

static void test_fault(const char *path, int stage)
{
    const char *f = getenv("ANTIBODY_TEST_FAULT");
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!f)
        return;
    if (stage == 0 && fault_is(f, "vanish:", base)) {
        if (!strncmp(path, "pid:", 4))
            vanish_process(path);
        else
            unlink(path);
    }
    if (stage == 1 && fault_is(f, "crash:", base))
        raise(SIGSEGV);
    if (stage == 2 && fault_is(f, "crash-part:", base)) /* a part of a split mbox */
        raise(SIGSEGV);
    if (stage == 1 && fault_is(f, "slow:", base))
        sleep(4);
    if (stage == 1 && fault_is(f, "shrink:", base) && strncmp(path, "pid:", 4))
        if (truncate(path, 0) != 0) /* a mapped file cut short: reading it raises SIGBUS */
            raise(SIGSEGV);
    if (stage == 1 && fault_is(f, "hang:", base))
        for (volatile unsigned long i = 0;; i++)
            ;
}
#else
static void test_fault(const char *path, int stage)
{
    (void)path;
    (void)stage;
}
#endif

/* A job's top-level object: its path, the one element of its location (source: "file",
 * "live", "process"); the location arrays live with it. The caller fills in its bytes, if any. */
typedef struct top_object {
    ab_object obj;
    const char *loc[1], *src[1];
} top_object;

static void top_object_init(top_object *t, const char *path, const char *source)
{
    memset(t, 0, sizeof(*t));
    t->loc[0] = path;
    t->src[0] = source;
    t->obj.kind = AB_OBJ_FILE;
    t->obj.path = path;
    t->obj.location = t->loc;
    t->obj.location_source = t->src;
    t->obj.location_len = 1;
}

/* After SIGBUS (a mapped file shrank) a library (libarchive, libyara) was left in the middle of
 * its state: report, end this worker and let the parent start a fresh one; the jobs queued here
 * go elsewhere. */
static void w_bus_exit(wctx *w, ab_engine *eng, const char *path)
{
    bus_armed = 0;
    w_send_error(w, path, AB_ERR_IO, "file shrank while being read (SIGBUS)");
    w_send_done(w, eng, 0, 0);
    ab_wire_begin(&w->out, AB_MSG_EXITING);
    send_frame(w->fd, &w->out);
    _exit(0);
}

/* A file (AB_JOB_FILE) or a part of a split mbox (AB_JOB_PART): mapped, scanned with the SIGBUS
 * guard, its DONE sent. A part runs only its messages, and its bytes are the owner's. */
static void w_scan_file(ab_scanner *sc, ab_engine *eng, wctx *w, const ab_wire_job *j)
{
    ab_emit em = {w_finding, w_error, w, w_suppressed, w_skip, w_record};
    const char *path = j->path;
    struct stat expect;
    memset(&expect, 0, sizeof(expect));
    expect.st_dev = (dev_t)j->dev;
    expect.st_ino = (ino_t)j->ino;
    int part = j->kind == AB_JOB_PART;
    ab_mapped m;
    char err[512];
    test_fault(path, part ? 2 : 0);
    ab_status st = ab_file_map(path, sc->follow_symlinks, j->ino ? &expect : NULL,
                               part ? 0 : sc->max_filesize, &m, err, sizeof(err));
    if (st == AB_OK && part && m.size != j->file_size) {
        snprintf(err, sizeof(err), "file changed size while its parts were being scanned");
        ab_file_unmap(&m);
        st = AB_ERR_IO;
    }
    if (st != AB_OK) {
        if (st == AB_ERR_LIMIT) {
            w_send_skip_at(w, AB_SKIP_TOO_LARGE, 0, NULL, NULL, 0);
        } else {
            w_send_error(w, path, st, err);
        }
        w_send_simple(w, AB_MSG_DONE, 0, 0);
        return;
    }
    top_object top;
    top_object_init(&top, path, "file");
    ab_object *obj = &top.obj;
    obj->data = m.data;
    obj->size = m.size;
    obj->st = &m.st;
    obj->mapped = m.map != NULL; /* MAP_PRIVATE, PROT_READ (host/file.c) */
    int allowed = 0;
    w->split_ok = !part && w->workers > 1;
    if (part) {
        ab_mbox_range r = {j->part.off, j->part.len, j->part.first};
        ab_engine_set_part(eng, &r, m.size, 1);
    }
    test_fault(path, 1);
    if (sigsetjmp(bus_jmp, 1) == 0) {
        bus_armed = 1;
        if (part)
            ab_engine_scan_members(eng, obj, &em);
        else
            ab_engine_scan(eng, obj, &em, &allowed, err, sizeof(err));
        bus_armed = 0;
        if (ab_file_check_unchanged(&m, err, sizeof(err)) != AB_OK)
            w_send_error(w, path, AB_ERR_IO, err);
    } else {
        w_bus_exit(w, eng, path);
    }
    w->split_ok = 0;
    if (allowed)
        w_send_skip_at(w, AB_SKIP_ALLOWLIST, m.size, NULL, NULL, 0);
    else if (sc->list_objects && !part)
        w_send_object(w, obj);
    w_send_done(w, eng, allowed || part ? 0 : m.size, allowed ? 0 : 1);
    ab_file_unmap(&m);
}

#define PF_KTHREAD     0x00200000UL /* linux/sched.h: kernel threads have no user memory */
#define CAP_PTRACE_BIT (1ULL << 19) /* CAP_SYS_PTRACE */

/* ppid, flags and state from /proc/PID/stat; -1 when the process is gone. */
static int read_stat(pid_t pid, int *ppid, unsigned long *flags, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')'); /* comm may contain spaces and ')' */
    int pgrp, session, tty, tpgid;
    if (!rp || sscanf(rp + 1, " %c %d %d %d %d %d %lu", state, ppid, &pgrp, &session, &tty, &tpgid,
                      flags) != 7)
        return -1;
    return 0;
}

/* The value of "KEY:" in /proc/PID/status (or /proc/self/status when pid is 0), into buf. */
static int status_field(pid_t pid, const char *key, char *buf, size_t len)
{
    char path[64], line[256];
    size_t k = strlen(key);
    int found = -1;
    if (pid)
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    else
        snprintf(path, sizeof(path), "/proc/self/status");
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (found && fgets(line, sizeof(line), f)) {
        if (!strncmp(line, key, k) && line[k] == ':') {
            snprintf(buf, len, "%s", line + k + 1);
            found = 0;
        }
    }
    fclose(f);
    return found;
}

static unsigned long long status_hex(pid_t pid, const char *key)
{
    char v[64];
    return status_field(pid, key, v, sizeof(v)) == 0 ? strtoull(v, NULL, 16) : 0;
}

/* 1 when the real, effective and saved ids of "Uid"/"Gid" all equal id (the kernel's test). */
static int ids_are(pid_t pid, const char *key, unsigned id)
{
    char v[128];
    unsigned r, e, s;
    return status_field(pid, key, v, sizeof(v)) == 0 && sscanf(v, "%u %u %u", &r, &e, &s) == 3 &&
           r == id && e == id && s == id;
}

static long small_int_file(const char *path)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

/* Why the kernel refused to open /proc/PID/mem (EACCES/EPERM): the ptrace access check, in the
 * kernel's order (ids, dumpable, capabilities, then Yama and other security modules). One line
 * into why, after "permission denied: ". */
static void denied_reason(pid_t pid, char *why, size_t len)
{
    unsigned long long eff = status_hex(0, "CapEff"), target_prm = status_hex(pid, "CapPrm");
    long yama = small_int_file("/proc/sys/kernel/yama/ptrace_scope");
    int same_user =
        ids_are(pid, "Uid", (unsigned)geteuid()) && ids_are(pid, "Gid", (unsigned)getegid());
    char mem[64];
    struct stat st;
    snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)pid);
    /* The files of /proc/PID (not the directory) of a process that is not dumpable belong to root,
     * whoever runs it (the kernel's task_dump_owner). */
    int not_dumpable = same_user && geteuid() != 0 && stat(mem, &st) == 0 && st.st_uid == 0;
    if (yama == 3)
        snprintf(why, len,
                 "reading process memory is disabled on this host "
                 "(kernel.yama.ptrace_scope = 3)");
    else if (eff & CAP_PTRACE_BIT)
        snprintf(why, len,
                 "refused although antibody has CAP_SYS_PTRACE: a security module "
                 "(AppArmor, SELinux, Landlock) or the sandbox or container antibody "
                 "runs in forbids it");
    else if (!same_user)
        snprintf(why, len, "another user's process (reading it needs root or CAP_SYS_PTRACE)");
    else if (not_dumpable)
        snprintf(why, len,
                 "the process is not dumpable (set-user-ID, or it called "
                 "prctl(PR_SET_DUMPABLE, 0)): reading it needs CAP_SYS_PTRACE");
    else if (target_prm & ~eff)
        snprintf(why, len,
                 "the process holds capabilities antibody lacks: reading it needs "
                 "CAP_SYS_PTRACE");
    else if (yama == 2)
        snprintf(why, len,
                 "kernel.yama.ptrace_scope = 2: reading process memory needs "
                 "CAP_SYS_PTRACE");
    else if (yama == 1)
        snprintf(why, len,
                 "kernel.yama.ptrace_scope = 1: without CAP_SYS_PTRACE only descendant "
                 "processes may be read");
    else
        snprintf(why, len, "refused by the kernel (a security module or a sandbox?)");
}

typedef enum proc_state {
    PROC_READABLE, /* may be read (or failed for a reason libyara will report) */
    PROC_GONE,     /* no /proc/PID */
    PROC_EXITED,   /* a zombie: exited, not yet reaped */
    PROC_KTHREAD,  /* a kernel thread: no user memory */
    PROC_DENIED,   /* the ptrace access check refused it; why says why */
} proc_state;

/* What a process is, as far as reading its memory goes. Opening /proc/PID/mem runs the same
 * ptrace access check libyara's attach needs, without stopping the process. */
static proc_state probe_proc(pid_t pid, int *ppid, char *why, size_t len)
{
    unsigned long flags = 0;
    char state = 0, path[64];
    int pp = 0;
    if (read_stat(pid, &pp, &flags, &state) != 0)
        return PROC_GONE;
    if (ppid)
        *ppid = pp;
    if (flags & PF_KTHREAD)
        return PROC_KTHREAD;
    if (state == 'Z' || state == 'X')
        return PROC_EXITED;
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return PROC_READABLE;
    }
    if (errno == EACCES || errno == EPERM) {
        denied_reason(pid, why, len);
        return PROC_DENIED;
    }
    if (errno == ENOENT || errno == ESRCH) /* exited since the stat: gone, or a zombie */
        return read_stat(pid, &pp, &flags, &state) != 0 ? PROC_GONE : PROC_EXITED;
    return PROC_READABLE;
}

/* Total size of a process's readable mappings (/proc/PID/maps), the memory libyara reads: the
 * process object's size. 0 when the maps cannot be read. */
static uint64_t proc_readable_bytes(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    uint64_t total = 0;
    unsigned long long lo, hi;
    char perms[5];
    int at_line_start = 1;
    while (fgets(line, sizeof(line), f)) {
        /* A line longer than the buffer (a long mapped path) continues in the next read. */
        int starts = at_line_start;
        at_line_start = strchr(line, '\n') != NULL;
        if (starts && sscanf(line, "%llx-%llx %4s", &lo, &hi, perms) == 3 && hi > lo &&
            perms[0] == 'r')
            total += hi - lo;
    }
    fclose(f);
    return total;
}

/* The worker's emit for a process: its first error is held back, since a process that exited
 * while libyara read it makes the scan fail ("cannot attach", a short read), and that is an
 * AB_SKIP_EXITED, not an error. */
typedef struct proc_emit {
    wctx *w;
    ab_status st; /* AB_OK: no error held */
    char msg[512];
} proc_emit;

static int pe_error(void *ctx, const ab_error *e)
{
    proc_emit *pe = ctx;
    if (pe->st != AB_OK)
        return w_error(pe->w, e);
    pe->st = e->status;
    snprintf(pe->msg, sizeof(pe->msg), "%s", e->message);
    return 0;
}

static int pe_finding(void *ctx, const ab_finding *f)
{
    proc_emit *pe = ctx;
    return w_finding(pe->w, f);
}

static void pe_suppressed(void *ctx, uint64_t n)
{
    proc_emit *pe = ctx;
    w_suppressed(pe->w, n);
}

static void w_send_skip(wctx *w, ab_skip_reason r)
{
    w_send_skip_at(w, r, 0, NULL, NULL, 0);
}

/* A process the parent listed may be gone, a zombie or unreadable by now: say which, in words.
 * Returns 0 when it is still worth scanning. */
static int w_proc_unscannable(wctx *w, const char *path, pid_t pid)
{
    char why[400], msg[512];
    switch (probe_proc(pid, NULL, why, sizeof(why))) {
    case PROC_READABLE:
        return 0;
    case PROC_GONE:
    case PROC_EXITED:
        w_send_skip(w, AB_SKIP_EXITED); /* the parent makes it an error for a named pid */
        break;
    case PROC_KTHREAD:
        w_send_error(w, path, AB_ERR_UNSUPPORTED, "kernel thread: no user memory to scan");
        break;
    case PROC_DENIED:
        snprintf(msg, sizeof(msg), "permission denied: %s", why);
        w_send_error(w, path, AB_ERR_IO, msg);
        break;
    }
    return 1;
}

static void w_scan_proc(ab_scanner *sc, ab_engine *eng, wctx *w, const ab_wire_job *j)
{
    const char *path = j->path;
    pid_t pid = (pid_t)j->pid;
    proc_emit pe = {w, AB_OK, ""};
    ab_emit em = {pe_finding, pe_error, &pe, pe_suppressed, NULL, NULL};
    char comm[256], cmdline[MAX_PROC_TEXT], err[512];
    test_fault(path, 0);
    if (w_proc_unscannable(w, path, pid)) {
        w_send_simple(w, AB_MSG_DONE, 0, 0);
        return;
    }
    if (ab_proc_read_text(pid, "comm", comm, sizeof(comm)) != 0) {
        if (errno == ENOENT || errno == ESRCH)
            w_send_skip(w, AB_SKIP_EXITED);
        else
            w_send_error(w, path, AB_ERR_IO, "cannot read process information");
        w_send_simple(w, AB_MSG_DONE, 0, 0);
        return;
    }
    if (ab_proc_read_text(pid, "cmdline", cmdline, sizeof(cmdline)) != 0)
        cmdline[0] = '\0';
    top_object top;
    top_object_init(&top, path, "process");
    ab_object obj = top.obj; /* its location arrays stay in top */
    obj.kind = AB_OBJ_PROCESS;
    obj.pid = pid;
    obj.process_name = comm;
    obj.cmdline = cmdline;
    obj.size = (size_t)proc_readable_bytes(pid);
    static ab_proc_info pi; /* 4 KiB of path: not on the worker's stack */
    ab_proc_info_read(pid, &pi);
    obj.exe = pi.exe[0] ? pi.exe : NULL;
    obj.exe_deleted = pi.exe_deleted;
    obj.ppid = pi.ppid;
    obj.user = pi.user[0] ? pi.user : NULL;
    obj.start_time = pi.start;
    int allowed = 0;
    ab_status st = ab_engine_scan(eng, &obj, &em, &allowed, err, sizeof(err));
    if (pe.st != AB_OK) {
        char why[400];
        proc_state now = probe_proc(pid, NULL, why, sizeof(why));
        if (now == PROC_GONE || now == PROC_EXITED)
            w_send_skip(w, AB_SKIP_EXITED);
        else
            w_send_error(w, path, pe.st, pe.msg);
    }
    if (st == AB_OK && sc->list_objects)
        w_send_object(w, &obj);
    w_send_simple(w, AB_MSG_DONE, st == AB_OK ? obj.size : 0, st == AB_OK ? 1 : 0);
}

/* ---- live captures, the worker side ---- */

typedef struct live_pump {
    wctx *w;
    ab_buf in; /* the message being handled */
} live_pump;

#ifdef AB_TEST_HOOKS
/* Test builds only: ANTIBODY_TEST_FAULT=stall-live:N makes a live job's worker wait N seconds
 * once, before it reads its first message (with no member: no deadline), so the parent's
 * backlog grows past its cap and batches are dropped (dropped_worker_behind). */
static void live_stall(void)
{
    static int done;
    const char *f = getenv("ANTIBODY_TEST_FAULT");
    const char *t = f ? strstr(f, "stall-live:") : NULL;
    if (done || !t)
        return;
    done = 1;
    sleep((unsigned)atoi(t + strlen("stall-live:")));
}
#else
static void live_stall(void)
{
}
#endif

/* unpack.h ab_live_feed.pump: waits for the parent's next message (the slot says "no member":
 * no deadline while waiting), then gives it to the pipeline with the slot saying "parsing frames"
 * (a deadline: a parser that stalls is killed and blamed on the capture, not on a member). */
static int w_live_pump(void *ctx, struct ab_capture *cap)
{
    live_pump *lp = ctx;
    wctx *w = lp->w;
    slot_write(w->slot, w->jobs, NULL, 0);
    live_stall();
    int type = w_read_frame(w->fd, &lp->in);
    slot_write(w->slot, w->jobs, w->live_loc.data, w->live_loc.len);
    ab_wire_reader r = {(const uint8_t *)lp->in.data, (const uint8_t *)lp->in.data + lp->in.len, 0};
    if (type == AB_MSG_TICK) {
        uint64_t now = ab_wire_get_u64(&r);
        if (!r.bad)
            ab_capture_tick(cap, now);
        return !r.bad;
    }
    if (type != AB_MSG_FRAMES)
        return 0; /* QUIT (the end: every flow is flushed), or the parent is gone */
    uint32_t n = ab_wire_get_frames_count(&r);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        ab_wire_pkt pk;
        ab_wire_get_pkt(&r, &pk);
        if (r.bad)
            break;
        w->live_bytes += pk.caplen; /* before the frame: as the capture counts it */
        ab_capture_frame(cap, (int)pk.linktype, pk.ts_us, pk.data, pk.caplen, pk.wirelen);
    }
    ab_wire_frames_end(&r);
    w_tally(w);    /* the batch is counted even if this worker is lost later */
    return !r.bad; /* a malformed batch from the parent (a bug): the capture ends */
}

/* AB_JOB_LIVE: the capture is one object without bytes whose members (flow directions, payloads)
 * are scanned as they end; it runs until the parent says QUIT, then DONE. */
static void w_scan_live(ab_scanner *sc, ab_engine *eng, wctx *w, const ab_wire_job *j)
{
    (void)sc;
    ab_emit em = {w_finding, w_error, w, w_suppressed, w_skip, w_record};
    top_object top;
    top_object_init(&top, j->path, j->stream ? "stream" : "live");
    live_pump lp = {.w = w};
    ab_buf_init(&lp.in, IN_BUF_CAP);
    ab_live_feed feed = {&lp,       w_live_pump,   j->restarts << 40,
                         j->stream, j->skip_flows, j->n_skip_flows};
    ab_buf_init(&w->live_loc, BEAT_CAP);
    ab_wire_put_location(&w->live_loc, top.loc, top.src, 1);
    w->live = 1;
    w->live_bytes = 0;
    if (ab_engine_scan_live(eng, &top.obj, &ab_source_pcap, ab_pcap_live_run, &feed, &em) != 0)
        w_send_error(w, j->path, AB_ERR_ARG,
                     "unpacking is off: a live capture has nothing to scan");
    w->live = 0;
    w_send_done(w, eng, w->live_bytes, 1);
    ab_buf_release(&lp.in);
    ab_buf_release(&w->live_loc);
}

/* AB_JOB_RESUME: the capture file a lost worker was reading, mapped again (same inode and size,
 * or an error), its frames after the skip read through the pipeline (pcap_source.c). The file's
 * matchers ran in the first worker: only its flows are scanned here, as members of the file,
 * which this DONE counts once (the lost workers sent none). */
static void w_scan_resume(ab_scanner *sc, ab_engine *eng, wctx *w, const ab_wire_job *j)
{
    ab_emit em = {w_finding, w_error, w, w_suppressed, w_skip, w_record};
    struct stat expect;
    memset(&expect, 0, sizeof(expect));
    expect.st_dev = (dev_t)j->dev;
    expect.st_ino = (ino_t)j->ino;
    ab_mapped m;
    char err[512];
    ab_status st = ab_file_map(j->path, sc->follow_symlinks, &expect, 0, &m, err, sizeof(err));
    if (st == AB_OK && m.size != j->file_size) {
        snprintf(err, sizeof(err), "file changed size after its worker was lost: not resumed");
        ab_file_unmap(&m);
        st = AB_ERR_IO;
    }
    if (st != AB_OK) {
        w_send_error(w, j->path, st, err);
        w_send_simple(w, AB_MSG_DONE, 0, 0);
        return;
    }
    top_object top;
    top_object_init(&top, j->path, "file");
    top.obj.size = m.size; /* what the capture's own findings say; its bytes are read by the run */
    top.obj.st = &m.st;
    top.obj.mapped = m.map != NULL;
    ab_capture_resume rs = {m.data,           m.size,        j->skip,
                            j->resumes << 40, j->skip_flows, j->n_skip_flows};
    if (sigsetjmp(bus_jmp, 1) == 0) {
        bus_armed = 1;
        if (ab_engine_scan_live(eng, &top.obj, &ab_source_pcap, ab_pcap_resume_run, &rs, &em) != 0)
            w_send_error(w, j->path, AB_ERR_ARG, "unpacking is off: the capture is not resumed");
        bus_armed = 0;
        if (ab_file_check_unchanged(&m, err, sizeof(err)) != AB_OK)
            w_send_error(w, j->path, AB_ERR_IO, err);
    } else {
        w_bus_exit(w, eng, j->path);
    }
    w_send_done(w, eng, m.size, 1);
    ab_file_unmap(&m);
}

/* The worker's runner of each job kind (wire.c decodes and checks each kind's payload). */
typedef void (*w_job_fn)(ab_scanner *sc, ab_engine *eng, wctx *w, const ab_wire_job *j);
static const struct {
    uint8_t kind;
    w_job_fn run;
} w_jobs[] = {
    {AB_JOB_FILE, w_scan_file}, {AB_JOB_PART, w_scan_file},     {AB_JOB_PROC, w_scan_proc},
    {AB_JOB_LIVE, w_scan_live}, {AB_JOB_RESUME, w_scan_resume},
};

/* A kind with a codec in wire.c and no runner here: said, and the job is done (a bug, never a
 * silent skip). */
static void w_no_runner(ab_scanner *sc, ab_engine *eng, wctx *w, const ab_wire_job *j)
{
    (void)sc, (void)eng;
    w_send_error(w, j->path, AB_ERR_INTERNAL, "internal error: no worker runner for this job kind");
    w_send_simple(w, AB_MSG_DONE, 0, 0);
}

static w_job_fn w_job_runner(uint8_t kind)
{
    for (size_t i = 0; i < sizeof(w_jobs) / sizeof(w_jobs[0]); i++)
        if (w_jobs[i].kind == kind)
            return w_jobs[i].run;
    return w_no_runner;
}

static void worker_main(ab_scanner *sc, int fd, beat_slot *slot)
{
    static wctx w; /* static: the hooks' context outlives nothing, and the stack stays small */
    w.fd = fd;
    w.slot = slot;
    ab_buf_init(&w.loc, BEAT_CAP);
    w.list_objects = sc->list_objects;
    ab_buf in;
    ab_engine *eng = NULL;
    ab_buf_init(&w.out, IN_BUF_CAP);
    ab_buf_init(&w.peek, IN_BUF_CAP);
    ab_buf_init(&in, IN_BUF_CAP);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the sweep */
    /* The parent decides when to stop: a SIGINT/SIGTERM sent to the whole process group (Ctrl-C,
     * systemd) must not kill a worker mid-object and have its object blamed. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigbus;
    sigaction(SIGBUS, &sa, NULL);
    if (ab_engine_new(sc, &eng) != AB_OK)
        _exit(4);
    ab_engine_worker_mode(eng);
    w.eng = eng;
    ab_unpack_hooks hooks = {h_container, h_beat, h_scanned, &w, h_top, &slot->frame, &slot->flow};
    w.workers = worker_count(sc);
    w.split_chunk = SPLIT_MIN_CHUNK;
#ifdef AB_TEST_HOOKS
    const char *chunk = getenv("ANTIBODY_TEST_SPLIT_CHUNK"); /* small files split in tests */
    if (chunk && *chunk)
        w.split_chunk = strtoull(chunk, NULL, 10);
#endif
    ab_engine_set_unpack_hooks(eng, &hooks);
    if (sc->unpack)
        ab_unpack_process_init(); /* library inits after fork, before any hostile byte */
    w.thr.max_cpu = sc->max_cpu;
    w.thr.max_io = sc->max_io ? sc->max_io / worker_count(sc) + 1 : 0; /* each its share */
    w_send_simple(&w, AB_MSG_READY, 0, 0);
    while (!w.quit_after) {
        int type = w_read_frame(fd, &in);
        if (type != AB_MSG_JOB)
            break;
        ab_wire_reader r = {(const uint8_t *)in.data, (const uint8_t *)in.data + in.len, 0};
        ab_wire_job job;
        ab_wire_get_job(&r, &job);
        if (r.bad)
            break;
        ab_throttle_begin(&w.thr);
        __atomic_store_n(&w.slot->frame, 0, __ATOMIC_RELAXED); /* before the job says it is new */
        __atomic_store_n(&w.slot->flow.frame, 0, __ATOMIC_RELAXED);
        slot_write(w.slot, ++w.jobs, NULL, 0); /* a new object: no member yet */
        w_job_runner(job.kind)(sc, eng, &w, &job);
    }
    /* _exit: no atexit handlers, no stdio flush of buffers inherited from the parent. */
    _exit(0);
}

/* ---- the parent side ---- */

static void job_clear(job *j)
{
    free(j->path);
    memset(j, 0, sizeof(*j));
}

/* Put j (moved: the pool owns it now) on the retry stack. Out of memory: the job is said as an
 * error of its object, never dropped without a word. */
static void retry_push(pool *p, job *j)
{
    if (p->nretry == p->retry_cap) {
        size_t cap = p->retry_cap ? p->retry_cap * 2 : 64;
        job *n = realloc(p->retry, cap * sizeof(*n));
        if (!n) {
            pool_error(p, j->path, AB_ERR_NOMEM, "out of memory: cannot queue this object");
            job_clear(j);
            return;
        }
        p->retry = n;
        p->retry_cap = cap;
    }
    p->retry[p->nretry++] = *j;
    memset(j, 0, sizeof(*j));
}

/* In a new worker: keep only its socket (as fd 3) and stderr (sanitizer reports). A worker parses
 * hostile bytes; it must not hold the report file, the walker's directories or the other
 * workers' sockets (those would also keep their EOF from being seen). */
static int worker_fds(int sock)
{
    /* The socket first: it may have been given fd 0..2 when the caller had closed stdio. */
    if (sock != 3) {
        if (dup2(sock, 3) != 3)
            _exit(5);
        sock = 3;
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0 && null != 3) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
    }
    if (close_range(4, ~0U, 0) != 0) { /* also closes null and the socket's first fd */
        long max = sysconf(_SC_OPEN_MAX);
        for (long fd = 4; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
            close((int)fd);
    }
    return sock;
}

static void slot_free(worker *w)
{
    if (w->slot)
        munmap(w->slot, sizeof(beat_slot));
    w->slot = NULL;
    w->slot_seq = 0;
}

/* Copy the worker's current member from its slot into w->beat when it changed, and give that
 * member its own deadline. A torn read (the worker was writing) is retried a few times, then
 * left for the next call; a dead worker's slot is stable. */
static void beat_refresh(pool *p, worker *w)
{
    beat_slot *s = w->slot;
    if (!s || !w->nq)
        return;
    for (int tries = 0; tries < 4; tries++) {
        uint64_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        if (a == w->slot_seq)
            return;
        if (a & 1)
            continue;
        uint32_t len = s->len;
        double start = s->start;
        uint64_t job = s->job;
        if (len > BEAT_CAP)
            len = 0;
        if (len) /* into scratch first: a torn copy must not replace the last good one */
            memcpy(p->scratch, s->data, len);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != a)
            continue;
        if (job != w->done + 1) { /* the last object's member, before the next one began */
            ab_buf_reset(&w->beat);
            return;
        }
        w->slot_seq = a;
        ab_buf_reset(&w->beat);
        if (len && ab_buf_add(&w->beat, p->scratch, len) != AB_OK)
            ab_buf_reset(&w->beat);
        /* The time is the worker's word: a NaN or a time in the future would make it unkillable. */
        double now = ab_now();
        if (!(start <= now) || start < now - 86400)
            start = now;
        if (len) /* a member started: the deadline is per member */
            w->deadline = start + p->sc->timeout + KILL_GRACE_S;
        else if (w->q[0].kind == AB_JOB_LIVE) /* waiting for frames: no deadline */
            w->deadline = INFINITY;
        return;
    }
    /* Still torn (a worker killed inside slot_write): keep the last member it said. */
}

static ab_status spawn(pool *p, worker *w)
{
    int sv[2];
    beat_slot *slot =
        mmap(NULL, sizeof(beat_slot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (slot == MAP_FAILED)
        return AB_ERR_NOMEM;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        munmap(slot, sizeof(beat_slot));
        return AB_ERR_IO;
    }
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        munmap(slot, sizeof(beat_slot));
        return AB_ERR_IO;
    }
    if (pid == 0)
        worker_main(p->sc, worker_fds(sv[1]), slot);
    /* Later workers must not inherit this one's slot: a worker taken over by hostile input could
     * otherwise rewrite a sibling's deadline or blame. */
    madvise(slot, sizeof(beat_slot), MADV_DONTFORK);
    w->slot = slot;
    w->slot_seq = 0;
    w->done = 0;
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    w->pid = pid;
    w->fd = sv[0];
    w->ready = 0;
    w->nq = 0;
    w->long_job = 0;
    w->retiring = 0;
    ab_buf_init(&w->in, IN_BUF_CAP);
    ab_buf_init(&w->beat, IN_BUF_CAP);
    return AB_OK;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGABRT:
        return "SIGABRT";
    case SIGILL:
        return "SIGILL";
    case SIGFPE:
        return "SIGFPE";
    case SIGKILL:
        return "SIGKILL";
    case SIGTERM:
        return "SIGTERM";
    default:
        return "signal";
    }
}

/* Reaps a worker that was sent SIGKILL. One blocked in the kernel (a hung NFS or FUSE read)
 * cannot die until the kernel lets go, and waiting for it would hang the sweep: after
 * REAP_WAIT_MS it is left behind (killed; init reaps it once we exit). 1 when reaped. */
static int reap(pid_t pid, int *status)
{
    for (int waited = 0;; waited++) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0 && errno != EINTR)
            return 0;
        if (waited >= REAP_WAIT_MS)
            return 0;
        if (r == 0)
            usleep(1000);
    }
}

/* A flow a lost worker was on is given up: the next worker does not read it (its packets may be
 * what killed this one); the latest AB_MAX_SKIP_FLOWS are kept (skip_flow_add). */
static void flow_key_of(const ab_capture_flow_at *fl, ab_flow_key *k)
{
    memset(k, 0, sizeof(*k)); /* padding too: keys are compared whole */
    k->a = fl->client;
    k->b = fl->server;
    k->pa = fl->client_port;
    k->pb = fl->server_port;
    k->proto = fl->proto;
}

static void skip_flow_add(ab_flow_key *keys, uint8_t *n, const ab_flow_key *k)
{
    for (uint8_t i = 0; i < *n; i++)
        if (!memcmp(&keys[i], k, sizeof(*k)))
            return;
    if (*n == AB_MAX_SKIP_FLOWS) {
        memmove(keys, keys + 1, (AB_MAX_SKIP_FLOWS - 1) * sizeof(*keys));
        (*n)--;
    }
    keys[(*n)++] = *k;
}

/* The flow the lost worker's capture was on, parsing it or scanning its members, into *fl with
 * the frame. 0 when none was (decoding a frame, say). */
static int flow_at_loss(const worker *w, ab_capture_flow_at *fl, uint64_t *frame)
{
    const beat_slot *s = w->slot;
    int kind = w->q[0].kind;
    if (!s || s->job != w->done + 1 ||
        (kind != AB_JOB_FILE && kind != AB_JOB_RESUME && kind != AB_JOB_LIVE))
        return 0;
    uint64_t f = __atomic_load_n(&s->frame, __ATOMIC_RELAXED);
    *fl = s->flow; /* the worker is gone: the slot no longer moves */
    if (!f || fl->frame != f)
        return 0;
    *frame = f;
    return 1;
}

/* The lost worker w was reading a top-level capture file (its slot says the frame in flight):
 * the rest of the file becomes a resume job (*out, 1) from the next frame, unless the sweep is
 * ending, the frame is no point to go on from (the flush at the end, not past the job's own
 * skip: a worker's word is checked) or the file's workers were lost AB_WIRE_MAX_RESUMES + 1
 * times. What happened is appended to msg. */
static int capture_resume(pool *p, worker *w, int respawn, size_t nl, job *out, char *msg,
                          size_t len)
{
    const job *q = &w->q[0];
    beat_slot *s = w->slot;
    if ((q->kind != AB_JOB_FILE && q->kind != AB_JOB_RESUME) || !s || s->job != w->done + 1)
        return 0;
    uint64_t frame = __atomic_load_n(&s->frame, __ATOMIC_RELAXED);
    size_t k = strlen(msg);
    if (frame == AB_CAPTURE_FRAME_END &&
        k + 1 < len) { /* every frame was read: nothing to resume */
        snprintf(msg + k, len - k, "; the flows open at the end of the capture are lost");
        return 0;
    }
    if (!frame || frame == AB_CAPTURE_FRAME_END || frame <= q->skip)
        return 0;
    char *o = nl < 2 ? strstr(msg, " on this object") : NULL; /* no member: the pipeline's */
    if (o && !strcmp(o, " on this object"))
        snprintf(o, len - (size_t)(o - msg), " while decoding and parsing frames");
    k = strlen(msg);
    if (k + 1 >= len)
        return 0;
    uint64_t losses = q->resumes + 1;
    memset(out, 0, sizeof(*out));
    out->kind = AB_JOB_RESUME;
    out->st = q->st;
    out->file_size = q->kind == AB_JOB_RESUME ? q->file_size : (uint64_t)q->st.st_size;
    out->skip = frame;
    out->resumes = losses;
    /* the flows given up so far, and the one this worker was on */
    memcpy(out->skip_flows, q->skip_flows, sizeof(out->skip_flows));
    out->n_skip_flows = q->n_skip_flows;
    ab_capture_flow_at fl;
    uint64_t fl_frame;
    int in_flow = flow_at_loss(w, &fl, &fl_frame);
    if (in_flow) {
        ab_flow_key key;
        flow_key_of(&fl, &key);
        skip_flow_add(out->skip_flows, &out->n_skip_flows, &key);
    }
    ab_wire_job wj = {.kind = AB_JOB_RESUME,
                      .ino = (uint64_t)q->st.st_ino,
                      .path = q->path,
                      .file_size = out->file_size,
                      .skip = out->skip,
                      .resumes = out->resumes};
    if (losses > AB_WIRE_MAX_RESUMES) {
        snprintf(msg + k, len - k,
                 "; the flows open in this worker are lost; gave up on this capture after %llu "
                 "worker losses (frame %llu)",
                 (unsigned long long)losses, (unsigned long long)frame);
        return 0;
    }
    if (!respawn || p->stop || p->sc->cancel || !ab_wire_resume_ok(&wj) ||
        !(out->path = strdup(q->path))) {
        snprintf(msg + k, len - k, "; the flows open in this worker are lost (frame %llu)",
                 (unsigned long long)frame);
        return 0;
    }
    snprintf(msg + k, len - k,
             "; the flows open in this worker are lost, the capture goes on from frame %llu in a "
             "new worker%s",
             (unsigned long long)frame + 1, in_flow ? " without the flow it was on" : "");
    return 1;
}

/* The flow the lost worker's capture was working on, when one was in flight (beat_slot.flow):
 * its name into name, and the frame into *frame. 0 when none was (decoding a frame, say). */

/* Say in msg that the worker was lost in the flow being parsed: in place of "on this object"
 * (a signal, an exit), or after the reason (a deadline). The frame of a live capture is only
 * this worker's count: not said. */
static void blame_flow(char *msg, size_t len, uint64_t frame, int live)
{
    char where[96];
    if (live)
        snprintf(where, sizeof(where), " while parsing this flow");
    else if (frame == AB_CAPTURE_FRAME_END)
        snprintf(where, sizeof(where), " while parsing this flow (at the end of the capture)");
    else
        snprintf(where, sizeof(where), " while parsing this flow (frame %llu)",
                 (unsigned long long)frame);
    char *o = strstr(msg, " on this object");
    if (!o || strcmp(o, " on this object"))
        o = msg + strlen(msg);
    snprintf(o, len - (size_t)(o - msg), "%s", where);
}

/* The lost worker's last tally of the capture its job reads (w_tally) into the summary: what it
 * counted before it was lost is not lost with it. A resumed file's frames and bytes, and the
 * capture itself, are counted by the worker that goes on (goes_on; it counts the frames it
 * skips); a live capture is one capture however many workers served it (ab_pool_live). */
static void tally_add(pool *p, worker *w, int goes_on)
{
    beat_slot *s = w->slot;
    int kind = w->q[0].kind;
    if (!s || (kind != AB_JOB_LIVE && kind != AB_JOB_RESUME && kind != AB_JOB_FILE))
        return;
    uint64_t at = __atomic_load_n(&s->tally_at, __ATOMIC_ACQUIRE);
    if (!at)
        return;
    slot_tally t = s->tally[at & 1]; /* the worker is gone: the slot no longer moves */
    if (t.job != w->done + 1)
        return; /* an earlier object's (the worker's word is checked) */
    p->sum.members += t.members;
    p->sum.member_bytes += t.member_bytes;
    if (kind == AB_JOB_LIVE) {
        p->sum.bytes += t.bytes;
        t.net.captures = 0;
    } else if (goes_on) {
        t.net.captures = t.net.frames = t.net.bytes = 0;
    }
    ab_net_summary_add(&p->net, &t.net);
    p->sum.net = &p->net;
}

/* The worker is gone (EOF), or we end it (deadline, malformed frame: why says so, with status
 * why_st): reap it, report its job, and start a replacement unless the sweep is ending. */
static void worker_lost(pool *p, worker *w, ab_status why_st, const char *why, int respawn)
{
    int status = 0;
    char msg[400];
    int had_live = w->nq && w->q[0].kind == AB_JOB_LIVE; /* the capture goes on: where it was */
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    kill(w->pid, SIGKILL);
    int reaped = reap(w->pid, &status);
    beat_refresh(p, w); /* the member it died on (its slot cannot change any more) */
    if (!w->ready)
        p->bad_starts++;
    if (w->nq && w->retiring) { /* it said it was ending: nothing it holds was started */
        for (unsigned i = 0; i < w->nq; i++) {
            if (p->stop)
                job_clear(&w->q[i]);
            else
                retry_push(p, &w->q[i]);
        }
        w->nq = 0;
    }
    if (w->nq) {
        ab_status st = why ? why_st : AB_ERR_CRASH;
        if (why)
            snprintf(msg, sizeof(msg), "%s", why);
        else if (!reaped)
            snprintf(msg, sizeof(msg),
                     "scanner worker stopped answering and could not be "
                     "ended (stuck in the kernel: a hung network or FUSE file "
                     "system?); left behind");
        else if (WIFSIGNALED(status))
            snprintf(msg, sizeof(msg), "scanner worker killed by signal %d (%s) on this object",
                     WTERMSIG(status), signal_name(WTERMSIG(status)));
        else
            snprintf(msg, sizeof(msg), "scanner worker exited (status %d) on this object",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        /* Blame the member being scanned when the worker said which (its slot). */
        ab_wire_arrays *arr = calloc(1, sizeof(*arr));
        size_t nl = 0;
        if (arr && w->beat.len) {
            ab_wire_reader r = {(const uint8_t *)w->beat.data,
                                (const uint8_t *)w->beat.data + w->beat.len, 0};
            ab_wire_get_location(&r, arr->location, arr->location_source, &nl);
        }
        char *obj = nl > 1 ? strstr(msg, "on this object") : NULL;
        if (obj && strlen(obj) == strlen("on this object")) /* a member was being scanned */
            snprintf(obj, sizeof(msg) - (size_t)(obj - msg), "on this member");
        /* No member: a flow being parsed, if the capture said one (then blamed on it). */
        char flow[2 * AB_IPADDR_TEXT + 32];
        const char *floc[2] = {w->q[0].path, flow}, *fsrc[2] = {"file", "flow"};
        /* The flow it was on, parsing it or scanning a member of it: given up (skip_flows). */
        ab_capture_flow_at lost;
        uint64_t lost_frame = 0;
        int lost_in_flow = flow_at_loss(w, &lost, &lost_frame);
        int in_flow = nl < 2 && lost_in_flow;
        if (in_flow) {
            ab_capture_flow_name(&lost, flow, sizeof(flow));
            blame_flow(msg, sizeof(msg), lost_frame, w->q[0].kind == AB_JOB_LIVE);
            if (w->q[0].kind == AB_JOB_LIVE)
                fsrc[0] = w->q[0].stream ? "stream" : "live";
        }
        if (w->q[0].kind == AB_JOB_LIVE) { /* the worker held every open flow */
            char *o2 = strstr(msg, " on this object");
            if (o2 && !strcmp(o2, " on this object"))
                snprintf(o2, sizeof(msg) - (size_t)(o2 - msg),
                         " while decoding and parsing frames");
            size_t k = strlen(msg);
            int goes_on = respawn && !p->sc->cancel && !p->live_ending;
            snprintf(msg + k, sizeof(msg) - k, "; the flows open in this worker are lost%s%s",
                     goes_on ? ", the capture goes on in a new worker" : "",
                     goes_on && lost_in_flow ? " without the flow it was on" : "");
            p->live_lost_in_flow = lost_in_flow;
            if (lost_in_flow)
                flow_key_of(&lost, &p->live_lost_flow);
        }
        if (w->q[0].kind == AB_JOB_PART) { /* which messages went unscanned */
            size_t k = strlen(msg);
            const ab_wire_part *pt = &w->q[0].part;
            snprintf(msg + k, sizeof(msg) - k,
                     "; in the part of this mbox from message #%llu (bytes %llu..%llu), "
                     "split across workers",
                     (unsigned long long)pt->first, (unsigned long long)pt->off,
                     (unsigned long long)(pt->off + pt->len));
        }
        job resume;
        int resumed = capture_resume(p, w, respawn, nl, &resume, msg, sizeof(msg));
        if (in_flow)
            pool_error_at(p, w->q[0].path, floc, fsrc, 2, st, msg);
        else
            pool_error_at(p, w->q[0].path, arr ? arr->location : NULL,
                          arr ? arr->location_source : NULL, nl, st, msg);
        free(arr);
        tally_add(p, w, resumed);
        if (resumed)
            retry_push(p, &resume);
        job_clear(&w->q[0]);
        for (unsigned i = 1; i < w->nq; i++) { /* not started: another worker takes them */
            if (p->stop)
                job_clear(&w->q[i]);
            else
                retry_push(p, &w->q[i]);
        }
        w->nq = 0;
    }
    ab_buf_release(&w->in);
    ab_buf_release(&w->beat);
    if (w->slot && had_live) /* for live_worker_gone */
        p->live_lost_frame = __atomic_load_n(&w->slot->frame, __ATOMIC_RELAXED);
    slot_free(w);
    w->pid = 0;
    if (p->sc->cancel || p->live_ending)
        respawn = 0; /* the sweep is ending: no new workers */
    if (respawn && p->bad_starts < MAX_BAD_STARTS && spawn(p, w) != AB_OK)
        p->fatal = AB_ERR_IO;
    if (p->bad_starts >= MAX_BAD_STARTS)
        p->fatal = AB_ERR_INTERNAL;
}

static int send_job(worker *w, const job *j)
{
    ab_buf b;
    ab_buf_init(&b, AB_WIRE_MAX_FRAME);
    ab_wire_begin(&b, AB_MSG_JOB);
    ab_wire_job wj = {.kind = (uint8_t)j->kind,
                      .dev = (uint64_t)j->st.st_dev,
                      .ino = (uint64_t)j->st.st_ino,
                      .pid = (uint32_t)j->pid,
                      .path = j->path,
                      .file_size = j->file_size,
                      .part = j->part,
                      .skip = j->skip,
                      .resumes = j->resumes,
                      .n_skip_flows = j->n_skip_flows};
    memcpy(wj.skip_flows, j->skip_flows, sizeof(wj.skip_flows));
    ab_wire_put_job(&b, &wj);
    int rc = send_frame(w->fd, &b);
    ab_buf_release(&b);
    return rc;
}

/* The worker scanning a file split it: its other parts become jobs for any worker, first part
 * first. Returns -1 when the frame is malformed or not about a file being scanned. */
static int on_split(pool *p, worker *w, ab_wire_reader *r)
{
    ab_wire_part parts[AB_WIRE_MAX_PARTS];
    uint64_t size = 0;
    size_t n = 0;
    ab_wire_get_split(r, &size, parts, &n);
    if (r->bad || !w->nq || w->q[0].kind != AB_JOB_FILE)
        return -1;
    for (size_t i = n; i-- > 0 && !p->stop;) { /* a stack: the last pushed is taken first */
        job j;
        memset(&j, 0, sizeof(j));
        j.kind = AB_JOB_PART;
        j.path = strdup(w->q[0].path);
        j.st = w->q[0].st;
        j.file_size = size;
        j.part = parts[i];
        if (!j.path) {
            pool_error(p, w->q[0].path, AB_ERR_NOMEM,
                       "out of memory: a part of this mbox is not scanned");
            continue;
        }
        retry_push(p, &j);
    }
    return 0;
}

/* Handle one complete frame from w. Returns -1 when the frame is malformed. */
static int handle_frame(pool *p, worker *w, uint8_t type, const uint8_t *data, size_t len)
{
    ab_wire_reader r = {data, data + len, 0};
    ab_wire_arrays arr;
    ab_event ev;
    memset(&ev, 0, sizeof(ev));
    switch (type) {
    case AB_MSG_READY:
        w->ready = 1;
        p->bad_starts = 0;
        return 0;
    case AB_MSG_FINDING:
        ev.kind = AB_EVENT_FINDING;
        ab_wire_get_finding(&r, &ev.u.finding, &arr);
        if (r.bad)
            return -1;
        p->sum.findings++;
        deliver(p, &ev);
        return 0;
    case AB_MSG_SUPPRESSED:
        p->sum.suppressed += ab_wire_get_u64(&r);
        return r.bad ? -1 : 0;
    case AB_MSG_OBJECT:
        ev.kind = AB_EVENT_OBJECT;
        ab_wire_get_object(&r, &ev.u.object, &arr);
        if (r.bad)
            return -1;
        deliver(p, &ev);
        return 0;
    case AB_MSG_ERROR: {
        ab_status st = (ab_status)ab_wire_get_u32(&r);
        const char *msg = ab_wire_get_str(&r);
        const char *path = ab_wire_get_str(&r);
        size_t nl = 0;
        ab_wire_get_location(&r, arr.location, arr.location_source, &nl);
        if (r.bad || !msg || !w->nq)
            return -1;
        /* The job's path, not the worker's word for it: the worker only adds members. */
        pool_error_at(p, w->q[0].path, arr.location, arr.location_source, nl, st, msg);
        (void)path;
        return 0;
    }
    case AB_MSG_SKIP: {
        uint32_t reason = ab_wire_get_u32(&r);
        uint64_t size = ab_wire_get_u64(&r);
        size_t nl = 0;
        ab_wire_get_location(&r, arr.location, arr.location_source, &nl);
        if (r.bad || reason >= AB_SKIP_REASON_COUNT || !w->nq)
            return -1;
        if (reason == AB_SKIP_EXITED && p->named_pids) /* the caller asked for this process */
            pool_error(p, w->q[0].path, AB_ERR_NOTFOUND,
                       "process exited before it could be scanned");
        else if (nl)
            pool_skip_at(p, w->q[0].path, arr.location, arr.location_source, nl,
                         (ab_skip_reason)reason, size);
        else
            pool_skip(p, w->q[0].path, (ab_skip_reason)reason,
                      size ? size : (uint64_t)w->q[0].st.st_size);
        return 0;
    }
    case AB_MSG_RETURN:
        /* The worker handed back the job queued behind a container it is unpacking. */
        if (w->nq < 2)
            return -1;
        retry_push(p, &w->q[--w->nq]);
        memset(&w->q[w->nq], 0, sizeof(job));
        w->long_job = 1;
        return 0;
    case AB_MSG_EXITING:
        w->retiring = 1;
        return 0;
    case AB_MSG_SPLIT:
        return on_split(p, w, &r);
    case AB_MSG_RECORD:
        ev.kind = AB_EVENT_FLOW;
        ab_wire_get_record(&r, &ev.u.flow, &arr);
        if (r.bad || !w->nq)
            return -1;
        ev.u.flow.path = w->q[0].path; /* the job's path, not the worker's word for it */
        deliver(p, &ev);
        return 0;
    case AB_MSG_NET: {
        ab_net_summary ns;
        ab_wire_get_net(&r, &ns);
        if (r.bad || !w->nq)
            return -1;
        ab_net_summary_add(&p->net, &ns);
        p->sum.net = &p->net;
        return 0;
    }
    case AB_MSG_DONE: {
        uint64_t bytes = ab_wire_get_u64(&r);
        uint32_t counted = ab_wire_get_u32(&r);
        uint64_t members = ab_wire_get_u64(&r);
        uint64_t mbytes = ab_wire_get_u64(&r);
        if (r.bad || !w->nq)
            return -1;
        if (counted) {
            if (w->q[0].kind != AB_JOB_PART) { /* a part is members of a file counted once */
                p->sum.objects++;
                p->sum.bytes += bytes;
            }
            p->sum.members += members;
            p->sum.member_bytes += mbytes;
        }
        w->long_job = 0;
        w->done++;
        ab_buf_reset(&w->beat);
        job_clear(&w->q[0]);
        memmove(&w->q[0], &w->q[1], (QUEUE_DEPTH - 1) * sizeof(job));
        memset(&w->q[QUEUE_DEPTH - 1], 0, sizeof(job));
        if (--w->nq)
            w->deadline = ab_now() + p->sc->timeout + KILL_GRACE_S;
        return 0;
    }
    default:
        return -1;
    }
}

/* Read what the worker has sent and handle complete frames. Frames that arrived before an EOF
 * are handled before the EOF: they belong to objects finished before the worker died, and the
 * death must be blamed on the object it was scanning, not on one it had already reported. */
static void drain(pool *p, worker *w)
{
    int eof = 0;
    for (;;) {
        if (ab_buf_reserve(&w->in, 65536) != AB_OK) {
            worker_lost(p, w, AB_ERR_INTERNAL, "scanner worker sent a malformed message", 1);
            return;
        }
        ssize_t n = read(w->fd, w->in.data + w->in.len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            eof = 1;
            break;
        }
        w->in.len += (size_t)n;
    }
    size_t off = 0;
    while (w->in.len - off >= 5) {
        uint32_t len;
        memcpy(&len, w->in.data + off, 4);
        if (len > AB_WIRE_MAX_FRAME) {
            worker_lost(p, w, AB_ERR_INTERNAL, "scanner worker sent a malformed message", 1);
            return;
        }
        if (w->in.len - off - 5 < len)
            break;
        uint8_t type = (uint8_t)w->in.data[off + 4];
        if (handle_frame(p, w, type, (const uint8_t *)w->in.data + off + 5, len) != 0) {
            worker_lost(p, w, AB_ERR_INTERNAL, "scanner worker sent a malformed message", 1);
            return;
        }
        off += 5 + (size_t)len;
    }
    memmove(w->in.data, w->in.data + off, w->in.len - off);
    w->in.len -= off;
    if (eof)
        worker_lost(p, w, AB_OK, NULL, !p->stop);
}

/* "path" or "path!member!member" of w's object, into buf. */
static const char *current_name(const worker *w, char *buf, size_t len)
{
    const char *loc[AB_WIRE_MAX_ARRAY], *src[AB_WIRE_MAX_ARRAY];
    size_t nl = 0, n = 0;
    if (w->beat.len) {
        ab_wire_reader r = {(const uint8_t *)w->beat.data,
                            (const uint8_t *)w->beat.data + w->beat.len, 0};
        ab_wire_get_location(&r, loc, src, &nl);
    }
    if (nl < 2)
        return w->q[0].path;
    int k = snprintf(buf, len, "%s", w->q[0].path);
    n = k > 0 ? (size_t)k : 0;
    for (size_t i = 1; i < nl && n < len; i++) {
        k = snprintf(buf + n, len - n, "!%s", loc[i]);
        n += k > 0 ? (size_t)k : 0;
    }
    return buf;
}

static void maybe_progress(pool *p)
{
    double now = ab_now();
    if (!p->sc->progress || now - p->last_progress < PROGRESS_INTERVAL)
        return;
    p->last_progress = now;
    ab_summary s = p->sum;
    s.seconds = now - p->t0;
    /* The object being scanned longest: the one a user would ask about; inside a container, the
     * member (path!member!member) from the worker's slot. */
    double oldest = 0;
    const worker *cur = NULL;
    for (unsigned i = 0; i < p->n; i++)
        beat_refresh(p, &p->w[i]);
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid && p->w[i].nq && (!cur || p->w[i].deadline < oldest)) {
            cur = &p->w[i];
            oldest = p->w[i].deadline;
        }
    if (cur)
        s.current = current_name(cur, p->current, sizeof(p->current));
    p->sc->progress(p->sc->progress_ctx, &s);
}

/* May w take another job now? Idle workers always; a busy one only behind small files. */
static int can_take(const worker *w)
{
    if (!w->pid || !w->ready || w->nq >= QUEUE_DEPTH || w->retiring)
        return 0;
    if (w->nq == 0)
        return 1;
    if (w->long_job ||
        (w->slot && __atomic_load_n(&w->slot->container_job, __ATOMIC_ACQUIRE) == w->done + 1))
        return 0; /* q[0] is a container being unpacked (it said so in its slot) */
    const job *last = &w->q[w->nq - 1];
    return last->kind == AB_JOB_FILE && last->st.st_size < SMALL_FILE;
}

static int next_job(pool *p, feeder *f, int *more, job *j)
{
    if (p->nretry) {
        *j = p->retry[--p->nretry];
        return 1;
    }
    if (!*more)
        return 0;
    memset(j, 0, sizeof(*j));
    if (f->next(f, p, j))
        return 1;
    *more = 0;
    return 0;
}

static void dispatch(pool *p, feeder *f, int *more)
{
    for (unsigned i = 0; i < p->n && !p->stop; i++) {
        worker *w = &p->w[i];
        while (can_take(w)) {
            job j;
            if (!next_job(p, f, more, &j))
                return;
            w->q[w->nq++] = j;
            if (w->nq == 1)
                w->deadline = ab_now() + p->sc->timeout + KILL_GRACE_S;
            if (send_job(w, &w->q[w->nq - 1]) != 0) {
                /* Most often the worker just died: read what it sent, so that the death is
                 * blamed (with its signal) on the object it was scanning, and the job that was
                 * not handed over goes to another worker. */
                drain(p, w);
                if (w->pid)
                    worker_lost(p, w, AB_ERR_INTERNAL,
                                "cannot hand this object to a scanner worker", 1);
                break;
            }
        }
    }
}

static void wait_events(pool *p)
{
    struct pollfd pfd[MAX_WORKERS];
    worker *who[MAX_WORKERS];
    nfds_t n = 0;
    double now = ab_now(), next = now + PROGRESS_INTERVAL;
    for (unsigned i = 0; i < p->n; i++) {
        if (!p->w[i].pid)
            continue;
        pfd[n] = (struct pollfd){.fd = p->w[i].fd, .events = POLLIN};
        who[n++] = &p->w[i];
        if (p->w[i].nq && p->w[i].deadline < next)
            next = p->w[i].deadline;
    }
    int ms = next > now ? (int)((next - now) * 1000) + 1 : 0;
    int rc = poll(pfd, n, ms);
    for (nfds_t i = 0; rc > 0 && i < n; i++)
        if (pfd[i].revents)
            drain(p, who[i]);
    now = ab_now();
    for (unsigned i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        if (w->pid && w->nq && now > w->deadline)
            beat_refresh(p, w); /* a member that started since has a deadline of its own */
        if (w->pid && w->nq && now > w->deadline) {
            char msg[160];
            snprintf(msg, sizeof(msg), "scan exceeded the time limit (%u s + %d s); worker killed",
                     p->sc->timeout, KILL_GRACE_S);
            worker_lost(p, w, AB_ERR_TIMEOUT, msg, 1);
        }
    }
}

static int any_busy(const pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid && p->w[i].nq)
            return 1;
    return 0;
}

static int any_ready(const pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid)
            return 1;
    return 0;
}

static void shutdown_workers(pool *p)
{
    ab_buf b;
    ab_buf_init(&b, 64);
    for (unsigned i = 0; i < p->n; i++) {
        worker *w = &p->w[i];
        if (!w->pid)
            continue;
        ab_wire_begin(&b, AB_MSG_QUIT);
        int quit = !w->nq && send_frame(w->fd, &b) == 0;
        if (!quit)
            kill(w->pid, SIGKILL);
        close(w->fd);
        int status;
        if (!reap(w->pid, &status) && quit) { /* an idle worker that did not quit in time */
            kill(w->pid, SIGKILL);
            reap(w->pid, &status);
        }
        for (unsigned k = 0; k < w->nq; k++)
            job_clear(&w->q[k]);
        w->nq = 0;
        ab_buf_release(&w->in);
        ab_buf_release(&w->beat);
        slot_free(w);
        w->pid = 0;
    }
    ab_buf_release(&b);
}

static unsigned worker_count(const ab_scanner *sc)
{
    long n = sc->workers ? (long)sc->workers : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > MAX_WORKERS ? MAX_WORKERS : (unsigned)n;
}

static ab_status run_pool(ab_scanner *sc, feeder *f, const ab_sink *sink)
{
    if (!sc || !sc->compiled)
        return AB_ERR_ARG;
    pool *p = calloc(1, sizeof(*p));
    if (!p)
        return AB_ERR_NOMEM;
    p->sc = sc;
    p->sink = sink;
    p->named_pids = f->pids != NULL;
    p->t0 = ab_now();
    p->n = worker_count(sc);
    ab_status st = AB_OK;
    for (unsigned i = 0; i < p->n; i++) {
        p->w[i].fd = -1;
        if ((st = spawn(p, &p->w[i])) != AB_OK) {
            ab_scanner_set_error(sc, "cannot start scanner workers: %s", strerror(errno));
            goto out;
        }
    }
    int more = 1;
    while (!p->stop && p->fatal == AB_OK && (more || p->nretry || any_busy(p)) && any_ready(p)) {
        if (sc->cancel) {
            p->sum.interrupted = 1;
            break;
        }
        dispatch(p, f, &more);
        if (!more && !p->nretry && !any_busy(p))
            break;
        wait_events(p);
        maybe_progress(p);
    }
    if (p->fatal != AB_OK) {
        st = p->fatal;
        ab_scanner_set_error(sc, "scanner workers keep dying at start-up; sweep aborted");
    }
out:
    shutdown_workers(p);
    while (p->nretry) /* left over only when the sweep was stopped */
        job_clear(&p->retry[--p->nretry]);
    free(p->retry);
    p->sum.seconds = ab_now() - p->t0;
    if (p->sum.interrupted)
        p->sum.errors++; /* an incomplete sweep is an error of the sweep (antibody(1), SIGNALS) */
    ab_event ev = {.kind = AB_EVENT_SUMMARY};
    ev.u.summary = p->sum;
    int was_stopped = p->stop;
    p->stop = 0;
    if (!was_stopped)
        deliver(p, &ev);
    sc->cancel = 0; /* a cancel ends this scan only */
    free(p);
    return st;
}

/* ---- feeders ---- */

static int feed_walk(feeder *f, pool *p, job *j)
{
    ab_walk_entry e;
    while (!p->stop && !p->sc->cancel) {
        if (ab_walk_next(f->walk, &e) != AB_OK) {
            pool_error(p, NULL, AB_ERR_NOMEM, "directory walk failed: out of memory");
            return 0;
        }
        switch (e.kind) {
        case AB_WALK_END:
            return 0;
        case AB_WALK_SKIP:
            pool_skip(p, e.path, e.reason, (uint64_t)e.st.st_size);
            continue;
        case AB_WALK_ERROR:
            pool_error(p, e.path, e.status, e.message);
            continue;
        case AB_WALK_FILE:
            j->kind = AB_JOB_FILE;
            j->st = e.st;
            if (!(j->path = strdup(e.path))) {
                pool_error(p, e.path, AB_ERR_NOMEM, "out of memory");
                continue;
            }
            return 1;
        }
    }
    if (p->sc->cancel)
        p->sum.interrupted = 1; /* stopped walking: not everything was scanned */
    return 0;
}

ab_status ab_scan_paths(ab_scanner *sc, const char *const *paths, size_t n, const ab_sink *sink)
{
    if (!sc || !sc->compiled || (!paths && n))
        return AB_ERR_ARG;
    ab_walk_opts o;
    ab_scanner_walk_opts(sc, &o);
    for (size_t i = 0; i < sc->n_excludes; i++)
        sc->excludes[i]->hits = 0; /* ab_scanner_exclude_info reports this sweep */
    /* Roots are made absolute and normalised, so the filepath external (rules compare it with
     * "/var/log", "/root/", ...) and reported paths are unambiguous. A root that cannot be
     * resolved is passed as given: the walker reports why. */
    char **abs = calloc(n ? n : 1, sizeof(*abs));
    if (!abs)
        return AB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        abs[i] = realpath(paths[i], NULL);
    const char **roots = calloc(n ? n : 1, sizeof(*roots));
    ab_status st = AB_ERR_NOMEM;
    feeder f;
    memset(&f, 0, sizeof(f));
    f.next = feed_walk;
    if (!roots)
        goto out;
    for (size_t i = 0; i < n; i++)
        roots[i] = abs[i] ? abs[i] : paths[i];
    st = ab_walk_new(&o, roots, n, &f.walk);
    if (st != AB_OK)
        goto out;
    st = run_pool(sc, &f, sink);
    ab_walk_free(f.walk);
out:
    for (size_t i = 0; i < n; i++)
        free(abs[i]);
    free(abs);
    free(roots);
    return st;
}

/* antibody never scans itself: the parent and its workers hold rule strings in memory. */
static int is_self(const pool *p, pid_t pid, int ppid)
{
    if (pid == getpid() || ppid == getpid()) /* ppid: a worker being started */
        return 1;
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].pid == pid)
            return 1;
    return 0;
}

/* Lists one process. --processes means "every process the caller may read": kernel threads are
 * left out, the others are skipped with a reason (no-access, exited), not errors. A pid the
 * caller named is an error when it cannot be scanned, said in words. */
static int make_proc_job(pool *p, pid_t pid, int all, job *j)
{
    char path[32], why[400], msg[512];
    int ppid = 0;
    snprintf(path, sizeof(path), "pid:%d", (int)pid);
    proc_state ps = probe_proc(pid, &ppid, why, sizeof(why));
    if (ps != PROC_GONE && is_self(p, pid, ppid)) {
        pool_skip(p, path, AB_SKIP_SELF, 0);
        return 0;
    }
    switch (ps) {
    case PROC_READABLE:
        break;
    case PROC_GONE:
        if (all) /* listed by readdir, gone by now */
            pool_skip(p, path, AB_SKIP_EXITED, 0);
        else
            pool_error(p, path, AB_ERR_NOTFOUND, "no such process");
        return 0;
    case PROC_EXITED:
        if (all)
            pool_skip(p, path, AB_SKIP_EXITED, 0);
        else
            pool_error(p, path, AB_ERR_NOTFOUND,
                       "process exited (a zombie its parent has not reaped): no memory to scan");
        return 0;
    case PROC_KTHREAD:
        if (!all) /* --processes: kernel threads are not processes with memory to scan */
            pool_error(p, path, AB_ERR_UNSUPPORTED, "kernel thread: no user memory to scan");
        return 0;
    case PROC_DENIED:
        if (all) {
            pool_skip(p, path, AB_SKIP_NO_ACCESS, 0);
        } else {
            snprintf(msg, sizeof(msg), "permission denied: %s", why);
            pool_error(p, path, AB_ERR_IO, msg);
        }
        return 0;
    }
    j->kind = AB_JOB_PROC;
    j->pid = pid;
    j->path = strdup(path);
    return j->path != NULL;
}

static int feed_pids(feeder *f, pool *p, job *j)
{
    while (!p->stop && !p->sc->cancel) {
        pid_t pid;
        if (f->pids) {
            if (f->i >= f->n_pids)
                return 0;
            pid = f->pids[f->i++];
        } else {
            struct dirent *de = f->proc ? readdir(f->proc) : NULL;
            if (!de)
                return 0;
            char *end;
            long v = strtol(de->d_name, &end, 10);
            if (*end || v <= 0)
                continue;
            pid = (pid_t)v;
        }
        if (make_proc_job(p, pid, f->pids == NULL, j))
            return 1;
    }
    if (p->sc->cancel)
        p->sum.interrupted = 1; /* stopped listing: not everything was scanned */
    return 0;
}

typedef struct pid_at {
    pid_t pid;
    size_t at;
} pid_at;

static int cmp_pid_at(const void *a, const void *b)
{
    const pid_at *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* pids without repeats, in the order first given, into a new array (*out, owned by the caller). */
static ab_status dedupe_pids(const pid_t *pids, size_t n, pid_t **out, size_t *n_out)
{
    pid_at *v = calloc(n, sizeof(*v));
    unsigned char *keep = calloc(n, 1);
    pid_t *res = calloc(n, sizeof(*res));
    ab_status st = AB_ERR_NOMEM;
    if (!v || !keep || !res)
        goto out;
    for (size_t i = 0; i < n; i++)
        v[i] = (pid_at){pids[i], i};
    qsort(v, n, sizeof(*v), cmp_pid_at);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || v[i].pid != v[i - 1].pid)
            keep[v[i].at] = 1;
    *n_out = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            res[(*n_out)++] = pids[i];
    *out = res;
    res = NULL;
    st = AB_OK;
out:
    free(v);
    free(keep);
    free(res);
    return st;
}

ab_status ab_scan_pids(ab_scanner *sc, const pid_t *pids, size_t n, int all, const ab_sink *sink)
{
    if (!sc || !sc->compiled || (!all && (!pids || !n)))
        return AB_ERR_ARG;
    feeder f;
    pid_t *unique = NULL;
    memset(&f, 0, sizeof(f));
    f.next = feed_pids;
    if (all) {
        if (!(f.proc = opendir("/proc"))) {
            ab_scanner_set_error(sc, "/proc: %s", strerror(errno));
            return AB_ERR_IO;
        }
    } else {
        ab_status st = dedupe_pids(pids, n, &unique, &f.n_pids); /* --pid X --pid X: once */
        if (st != AB_OK)
            return st;
        f.pids = unique;
    }
    ab_status st = run_pool(sc, &f, sink);
    if (f.proc)
        closedir(f.proc);
    free(unique);
    return st;
}

/* ---- live captures, the parent side (core/live.h) ---- */

#define LIVE_BATCH_BYTES ((size_t)256 << 10) /* a batch is sent when this big, */
#define LIVE_BATCH_AGE   0.05                /* or this old (seconds) */
#define LIVE_BACKLOG_CAP ((size_t)64 << 20)  /* bytes held for the worker; past it, batches drop */
#define LIVE_TICK_S      1.0                 /* the clock sent to the worker (idle flows end) */
#define LIVE_READ_MAX    1024                /* frames read from libpcap per turn of the loop */
#define LIVE_STOP_READS  64 /* reads of what the kernel holds at a stop (x LIVE_READ_MAX) */
#define LIVE_FINISH_JOBS 10 /* the final flush may take this many member deadlines in all */
/* A capture stream is never dropped: past its backlog cap it is not read (its writer waits), so
 * the cap only needs to keep the worker fed; a turn's read passes it by at most STREAM_READ_MAX
 * frames (16 MiB at the largest snapshot length). */
#define STREAM_BACKLOG_CAP ((size_t)4 << 20)
#define STREAM_READ_MAX    64

/* A message for the worker, in the order it is to be sent. */
typedef struct live_msg {
    struct live_msg *next;
    ab_buf b;        /* the whole frame (owned) */
    size_t off;      /* bytes of it sent */
    uint32_t frames; /* captured frames in it */
    uint64_t end;    /* sent whole: the worker's frames up to its last (live.sent_frames) */
} live_msg;

typedef struct live {
    pool *p;
    const ab_live_input *in;
    ab_buf batch; /* AB_MSG_FRAMES being filled */
    double batch_t0;
    live_msg *head, *tail;
    size_t backlog; /* bytes queued */
    /* Sent whole to the worker but perhaps not read yet (in the socket, or the batch it is on):
     * kept until its slot says a later frame, so that what a lost worker had not taken goes to
     * the next one. sent_frames: the frames sent whole to this worker (it counts from 1). */
    live_msg *sent, *sent_tail;
    uint64_t sent_frames;
    ab_flow_key skip_flows[AB_MAX_SKIP_FLOWS]; /* flows lost workers were on: given up */
    uint8_t n_skip_flows;
    pid_t job_pid; /* the worker holding the live job, 0: none */
    uint64_t restarts;
    ab_capture_summary cs;
    int ending;    /* no more reading: the rest is sent, then QUIT */
    double end_by; /* ending: the worker is killed after this */
    char err[256];
} live;

static void live_msg_free(live_msg *m)
{
    ab_buf_release(&m->b);
    free(m);
}

/* Queue frame b (moved) of frames captured frames; past the backlog cap it is dropped and its
 * frames counted. Control messages (frames 0) are never dropped: they are a few bytes; nor is a
 * capture stream's frame (live_turn stops reading it past the cap instead). */
static void live_queue(live *L, ab_buf *b, uint32_t frames)
{
    live_msg *m = NULL;
    if (frames == 0 || L->in->stream || L->backlog + b->len <= LIVE_BACKLOG_CAP)
        m = calloc(1, sizeof(*m));
    if (!m) {
        L->cs.dropped_behind += frames;
        ab_buf_release(b);
        return;
    }
    m->b = *b;
    m->frames = frames;
    ab_buf_init(b, IN_BUF_CAP);
    L->backlog += m->b.len;
    if (L->tail)
        L->tail->next = m;
    else
        L->head = m;
    L->tail = m;
}

static void live_close_batch(live *L)
{
    uint32_t n = ab_wire_frames_count(&L->batch);
    if (!n)
        return;
    if (ab_wire_finish(&L->batch) != AB_OK) { /* cannot happen: frames_add kept it in bounds */
        L->cs.dropped_behind += n;
        ab_wire_frames_begin(&L->batch);
        return;
    }
    live_queue(L, &L->batch, n);
    ab_wire_frames_begin(&L->batch);
}

static void live_control(live *L, uint8_t type, uint64_t arg)
{
    ab_buf b;
    ab_buf_init(&b, 64);
    ab_wire_begin(&b, type);
    if (type == AB_MSG_TICK)
        ab_wire_u64(&b, arg);
    if (ab_wire_finish(&b) == AB_OK)
        live_queue(L, &b, 0);
    else
        ab_buf_release(&b);
}

/* One frame from the reader into the batch. */
static void live_add(void *ctx, const ab_wire_pkt *pk)
{
    live *L = ctx;
    ab_wire_pkt q = *pk;
    if (q.caplen > AB_WIRE_MAX_CAPLEN) /* the snapshot length is capped at this: cannot happen */
        q.caplen = AB_WIRE_MAX_CAPLEN;
    if (q.wirelen < q.caplen)
        q.wirelen = q.caplen;
    L->cs.packets++;
    L->cs.bytes += q.caplen;
    if (!ab_wire_frames_count(&L->batch))
        L->batch_t0 = ab_now();
    if (ab_wire_frames_add(&L->batch, &q) != 0) {
        live_close_batch(L);
        if (ab_wire_frames_add(&L->batch, &q) != 0) {
            L->cs.dropped_behind++; /* out of memory */
            return;
        }
    }
    if (L->batch.len >= LIVE_BATCH_BYTES)
        live_close_batch(L);
}

/* A message sent whole: kept (live.sent) until the worker is past it. */
static void live_sent(live *L, live_msg *m)
{
    L->sent_frames += m->frames;
    m->end = L->sent_frames;
    m->off = 0;
    m->next = NULL;
    if (L->sent_tail)
        L->sent_tail->next = m;
    else
        L->sent = m;
    L->sent_tail = m;
}

/* The worker is on frame f (beat_slot.frame): the messages it is past are done with. */
static void live_prune(live *L, uint64_t f)
{
    while (L->sent && f && f != AB_CAPTURE_FRAME_END && L->sent->end < f) {
        live_msg *m = L->sent;
        L->sent = m->next;
        if (!L->sent)
            L->sent_tail = NULL;
        live_msg_free(m);
    }
}

/* m without its first k frames (a batch the lost worker was in: frame k in flight cost it). 0:
 * nothing is left, or no memory (those frames are counted as dropped). */
static int live_cut_batch(live *L, live_msg *m, uint32_t k)
{
    ab_wire_reader r = {(const uint8_t *)m->b.data + 5, (const uint8_t *)m->b.data + m->b.len, 0};
    uint32_t n = ab_wire_get_frames_count(&r);
    ab_buf b;
    ab_buf_init(&b, IN_BUF_CAP);
    ab_wire_frames_begin(&b);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        ab_wire_pkt pk;
        ab_wire_get_pkt(&r, &pk);
        if (!r.bad && i >= k && ab_wire_frames_add(&b, &pk) != 0)
            r.bad = 1;
    }
    uint32_t left = ab_wire_frames_count(&b);
    if (r.bad || !left || ab_wire_finish(&b) != AB_OK) {
        L->cs.dropped_behind += r.bad && n > k ? n - k : 0;
        ab_buf_release(&b);
        return 0;
    }
    ab_buf_release(&m->b);
    m->b = b;
    m->frames = left;
    return 1;
}

/* Send what the socket takes. -1: the worker is gone. */
static int live_flush(live *L, worker *w)
{
    while (L->head) {
        live_msg *m = L->head;
        ssize_t n = send(w->fd, m->b.data + m->off, m->b.len - m->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        m->off += (size_t)n;
        if (m->off < m->b.len)
            continue;
        L->head = m->next;
        if (!L->head)
            L->tail = NULL;
        L->backlog -= m->b.len;
        live_sent(L, m);
    }
    return 0;
}

/* The worker holding the job is gone (worker_lost said why, and the frame it was on, f, and
 * started another): what it had not read goes to the next one, before what was not sent yet. The
 * frame in flight is not sent again (it may be what killed it), nor what came before it; a
 * message it had only in part it did not read. Once it had read all (f AB_CAPTURE_FRAME_END: it
 * was flushing after QUIT), only the control messages are sent again; lost before its first
 * frame (f 0), all but the first message. Each loss so moves on by a message or a frame at
 * least: a crash that comes back with the same bytes cannot loop. */
static void live_worker_gone(live *L, uint64_t f)
{
    L->job_pid = 0;
    L->restarts++;
    if (L->head)
        L->head->off = 0;
    live_msg *again = NULL, *last = NULL;
    int first = 1;
    while (L->sent) {
        live_msg *m = L->sent;
        L->sent = m->next;
        uint64_t start = m->end - m->frames;
        int keep = f == AB_CAPTURE_FRAME_END ? !m->frames : m->end >= f;
        if (!f) /* on no frame yet: the first message may be what killed it, the rest goes on */
            keep = !first;
        first = 0;
        if (keep && f && f != AB_CAPTURE_FRAME_END && m->frames && start < f)
            keep = live_cut_batch(L, m, (uint32_t)(f - start)); /* f is in it */
        if (!keep) {
            live_msg_free(m);
            continue;
        }
        L->backlog += m->b.len;
        m->next = NULL;
        if (last)
            last->next = m;
        else
            again = m;
        last = m;
    }
    L->sent_tail = NULL;
    L->sent_frames = 0;
    if (again) {
        last->next = L->head;
        if (!L->head)
            L->tail = last;
        L->head = again;
    }
}

/* Hand the live job to a ready worker that holds none. */
static void live_give_job(live *L, worker *w)
{
    job j;
    memset(&j, 0, sizeof(j));
    j.kind = AB_JOB_LIVE;
    j.stream = L->in->stream;
    if (!(j.path = strdup(L->in->path))) {
        L->p->fatal = AB_ERR_NOMEM;
        return;
    }
    w->q[0] = j;
    w->nq = 1;
    w->deadline = INFINITY; /* until the worker's slot says it is parsing */
    ab_buf b;
    ab_buf_init(&b, AB_WIRE_MAX_FRAME);
    ab_wire_begin(&b, AB_MSG_JOB);
    ab_wire_job wj = {.kind = AB_JOB_LIVE,
                      .path = j.path,
                      .restarts = L->restarts,
                      .stream = L->in->stream,
                      .n_skip_flows = L->n_skip_flows};
    memcpy(wj.skip_flows, L->skip_flows, sizeof(wj.skip_flows));
    ab_wire_put_job(&b, &wj);
    int rc = send_frame(w->fd, &b); /* a fresh socket: a small frame is taken at once */
    ab_buf_release(&b);
    L->job_pid = w->pid;
    if (rc != 0) {
        drain(L->p, w);
        if (w->pid)
            worker_lost(L->p, w, AB_ERR_INTERNAL, "cannot hand the capture to a scanner worker", 1);
    }
}

static void live_start_ending(live *L)
{
    if (L->ending)
        return;
    L->ending = 1;
    /* A stream's end is the end of its reading only: what is queued still needs a worker, and a
     * lost one is replaced (a cancel ends it for good). A live capture ends with the flush. */
    L->p->live_ending = !L->in->stream || L->p->sc->cancel;
    live_close_batch(L);
    live_control(L, AB_MSG_QUIT, 0);
    L->end_by = ab_now() + (double)LIVE_FINISH_JOBS * (L->p->sc->timeout + KILL_GRACE_S);
}

/* Frames ready at the reader into batches. Returns what read returned. */
static int live_read(live *L)
{
    int max = L->in->stream ? STREAM_READ_MAX : LIVE_READ_MAX;
    if (L->in->count && L->in->count - L->cs.packets < (uint64_t)max)
        max = (int)(L->in->count - L->cs.packets);
    if (max <= 0)
        return 0;
    int n = L->in->read(L->in->ctx, max, live_add, L, L->err, sizeof(L->err));
    if (n == AB_LIVE_END) { /* a capture stream's end: all of it was read */
        live_start_ending(L);
        return 0;
    }
    if (n < 0) {
        char msg[400];
        snprintf(msg, sizeof(msg), "capture ended: %s", L->err);
        const char *loc[1] = {L->in->path}, *src[1] = {L->in->stream ? "stream" : "live"};
        pool_error_at(L->p, L->in->path, loc, src, 1, AB_ERR_IO, msg);
        live_start_ending(L);
    }
    return n;
}

/* One turn: wait for the reader, the worker or a timer, and do what is due. */
static void live_turn(live *L)
{
    pool *p = L->p;
    worker *w = &p->w[0];
    struct pollfd pfd[2];
    nfds_t n = 0;
    int wi = -1, ri = -1;
    int has_job = w->pid && w->nq && L->job_pid == w->pid;
    double now = ab_now(), next = now + PROGRESS_INTERVAL;
    if (w->pid) {
        wi = (int)n;
        pfd[n++] = (struct pollfd){.fd = w->fd,
                                   .events = (short)(POLLIN | (has_job && L->head ? POLLOUT : 0))};
        if (w->nq && w->deadline < next)
            next = w->deadline;
    }
    /* A capture stream waits for the worker past the cap: its writer is held up, nothing lost */
    int pend = 0; /* frames the reader holds already: read them now, not at the next byte */
    if (!L->ending && !(L->in->stream && L->backlog > STREAM_BACKLOG_CAP)) {
        ri = (int)n;
        pfd[n++] = (struct pollfd){.fd = L->in->fd, .events = POLLIN};
        pend = L->in->pending && L->in->pending(L->in->ctx);
        if (pend)
            next = now;
        if (ab_wire_frames_count(&L->batch) && L->batch_t0 + LIVE_BATCH_AGE < next)
            next = L->batch_t0 + LIVE_BATCH_AGE;
    }
    int ms = next > now ? (int)((next - now) * 1000) + 1 : 0;
    int rc = poll(pfd, n, ms);
    if (rc > 0 && wi >= 0 && (pfd[wi].revents & (POLLIN | POLLHUP | POLLERR)))
        drain(p, w);
    if (!L->ending && ri >= 0 && ((rc > 0 && pfd[ri].revents) || pend))
        live_read(L);
    now = ab_now();
    if (ab_wire_frames_count(&L->batch) &&
        (L->ending || now - L->batch_t0 >= LIVE_BATCH_AGE || L->batch.len >= LIVE_BATCH_BYTES))
        live_close_batch(L);
}

/* The member the worker is on may have passed its deadline (wait_events does this for sweeps). */
static void live_deadline(live *L)
{
    pool *p = L->p;
    worker *w = &p->w[0];
    if (!w->pid || !w->nq)
        return;
    beat_refresh(p, w); /* every turn: a live job has no deadline until its slot gives one */
    double now = ab_now();
    if (now > w->deadline) {
        char msg[160];
        snprintf(msg, sizeof(msg), "scan exceeded the time limit (%u s + %d s); worker killed",
                 p->sc->timeout, KILL_GRACE_S);
        worker_lost(p, w, AB_ERR_TIMEOUT, msg, 1);
    } else if (L->ending && now > L->end_by) {
        worker_lost(p, w, AB_ERR_TIMEOUT,
                    "the capture's last flows were not all scanned in time; worker killed", 0);
    }
}

static void live_stop_now(live *L)
{
    if (L->ending)
        return;
    const ab_live_input *in = L->in;
    double now = ab_now();
    if (L->p->stop || (in->count && L->cs.packets >= in->count)) {
        live_start_ending(L);
    } else if (in->stream && L->p->sc->cancel) { /* a stream's rest is not read: incomplete */
        L->p->sum.interrupted = 1;
        live_start_ending(L);
    } else if (L->p->sc->cancel || (in->duration > 0 && now - L->p->t0 >= in->duration)) {
        /* What the kernel holds already happened before the stop: it is read first (bounded). */
        for (int i = 0; i < LIVE_STOP_READS && !L->ending && live_read(L) > 0; i++)
            ;
        live_start_ending(L);
    }
}

ab_status ab_pool_live(ab_scanner *sc, const ab_live_input *in, const ab_sink *sink)
{
    if (!sc || !sc->compiled || !in || !in->read || !in->path)
        return AB_ERR_ARG;
    pool *p = calloc(1, sizeof(*p));
    live *L = calloc(1, sizeof(*L));
    ab_status st = AB_ERR_NOMEM;
    if (!p || !L)
        goto out;
    p->sc = sc;
    p->sink = sink;
    p->t0 = ab_now();
    p->n = 1; /* one worker owns the flows (the capture's state) */
    L->p = p;
    L->in = in;
    L->cs.interface = in->stream ? in->path : in->path + 5; /* "live:IFACE" */
    ab_buf_init(&L->batch, IN_BUF_CAP);
    ab_wire_frames_begin(&L->batch);
    p->w[0].fd = -1;
    if ((st = spawn(p, &p->w[0])) != AB_OK) {
        ab_scanner_set_error(sc, "cannot start a scanner worker: %s", strerror(errno));
        goto out;
    }
    if (in->ready)
        in->ready(in->ready_ctx);
    double next_tick = p->t0 + LIVE_TICK_S;
    for (;;) {
        worker *w = &p->w[0];
        if (L->job_pid && w->pid != L->job_pid) {
            if (p->live_lost_in_flow)
                skip_flow_add(L->skip_flows, &L->n_skip_flows, &p->live_lost_flow);
            p->live_lost_in_flow = 0;
            live_worker_gone(L, p->live_lost_frame);
        }
        if (p->fatal != AB_OK)
            break;
        live_stop_now(L);
        if (L->job_pid && w->pid == L->job_pid && !w->nq) /* DONE: the capture's end is scanned */
            break;
        if (!w->pid) /* lost while ending: no new worker */
            break;
        if (w->ready && !w->nq && !L->job_pid) {
            if (L->ending && !L->head)
                break;
            live_give_job(L, w);
            continue;
        }
        double now = ab_now();
        if (!L->ending && !in->stream && now >= next_tick) { /* a stream's flows: by its time */
            live_close_batch(L); /* the clock after the frames it follows */
            live_control(L, AB_MSG_TICK, (uint64_t)(now * 1e6));
            next_tick = now + LIVE_TICK_S;
        }
        if (w->pid && L->job_pid == w->pid && L->head && live_flush(L, w) != 0) {
            drain(p, w); /* may find it gone, and start another: that one is not this loss's */
            if (w->pid && w->pid == L->job_pid)
                worker_lost(p, w, AB_OK, NULL, !p->live_ending);
            continue;
        }
        live_turn(L);
        live_deadline(L);
        if (w->pid && w->slot && L->job_pid == w->pid)
            live_prune(L, __atomic_load_n(&w->slot->frame, __ATOMIC_RELAXED));
        maybe_progress(p);
    }
    st = p->fatal;
    if (st != AB_OK)
        ab_scanner_set_error(sc, "scanner workers keep dying at start-up; capture aborted");
out:
    if (p) {
        shutdown_workers(p);
        while (L && L->head) {
            live_msg *m = L->head;
            L->head = m->next;
            if (m->frames)
                L->cs.dropped_behind += m->frames; /* never sent: the worker was gone */
            live_msg_free(m);
        }
        while (L && L->sent) { /* sent: read, or lost with a worker (an error said so) */
            live_msg *m = L->sent;
            L->sent = m->next;
            live_msg_free(m);
        }
        if (L) {
            L->cs.dropped_behind += ab_wire_frames_count(&L->batch);
            if (in->stream && L->cs.dropped_behind) { /* a stream has no drop counter: said */
                char m[200];
                snprintf(m, sizeof(m),
                         "%llu frames of the capture were not scanned: its worker was lost as "
                         "the capture ended",
                         (unsigned long long)L->cs.dropped_behind);
                const char *loc[1] = {in->path}, *src[1] = {"stream"};
                pool_error_at(p, in->path, loc, src, 1, AB_ERR_CRASH, m);
            }
            ab_buf_release(&L->batch);
            L->cs.worker_restarts = L->restarts;
            if (in->stats)
                in->stats(in->ctx, &L->cs);
        }
        if (st == AB_OK || p->fatal != AB_OK) {
            if (p->sum.net && !p->net.captures) /* its workers were lost: still one capture */
                p->net.captures = 1;
            p->sum.seconds = ab_now() - p->t0;
            /* a stream has no interface or drops: its summary is a capture file's */
            p->sum.capture = L && !in->stream ? &L->cs : NULL;
            if (p->sum.interrupted)
                p->sum.errors++; /* as for a sweep: incomplete is an error */
            ab_event ev = {.kind = AB_EVENT_SUMMARY};
            ev.u.summary = p->sum; /* a live capture ends by a stop: not "interrupted" */
            int was_stopped = p->stop;
            p->stop = 0;
            if (!was_stopped)
                deliver(p, &ev);
        }
    }
    sc->cancel = 0;
    free(L);
    free(p);
    return st;
}
