/* wire.h: the messages between the sweep's parent and its worker processes. Frames are
 * [u32 payload length][u8 type][payload]; strings are [u32 length incl. NUL][bytes][NUL] (length
 * 0 for NULL). The parent decodes with every length checked against the frame, so a worker that
 * goes wrong can cost its object but never the parent. */
#ifndef AB_WIRE_H
#define AB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"
#include "core/buf.h"
#include "net/net.h" /* ab_flow_key */

#define AB_WIRE_MAX_FRAME       ((uint32_t)16 << 20)
#define AB_WIRE_MAX_ARRAY       64
#define AB_MAX_OBSERVABLES_WIRE 256 /* = AB_MAX_OBSERVABLES (core/object.h) */

enum {
    AB_MSG_JOB = 'J',     /* parent -> worker */
    AB_MSG_QUIT = 'Q',    /* parent -> worker */
    AB_MSG_FINDING = 'F', /* worker -> parent */
    AB_MSG_ERROR = 'E',
    AB_MSG_SKIP = 'S',
    AB_MSG_OBJECT = 'O',
    AB_MSG_DONE = 'D',
    AB_MSG_READY = 'R',      /* worker -> parent, once after start-up */
    AB_MSG_SUPPRESSED = 'B', /* worker -> parent: findings below the minimum score */
    AB_MSG_RETURN = 'K',     /* worker -> parent: the job queued last is handed back unstarted */
    AB_MSG_EXITING = 'X',    /* worker -> parent: it ends after this; queued jobs go elsewhere */
    AB_MSG_SPLIT = 'P',      /* worker -> parent: the file's other parts, jobs for any worker */
    AB_MSG_RECORD = 'W',     /* worker -> parent: a flow or transaction record */
    AB_MSG_FRAMES = 'N',     /* parent -> worker: a batch of captured frames (AB_JOB_LIVE) */
    AB_MSG_TICK = 'T',       /* parent -> worker: [u64 now_us]: idle flows time out (AB_JOB_LIVE) */
    AB_MSG_NET = 'C',        /* worker -> parent: the counters of the captures in a file */
};

typedef struct ab_wire_reader {
    const uint8_t *p, *end;
    int bad; /* sticky: a read ran past the end or a string was malformed */
} ab_wire_reader;

/* Writers append to b (sticky errors are checked by the caller via the returned status of
 * ab_wire_finish). */
void ab_wire_begin(ab_buf *b, uint8_t type);
void ab_wire_u8(ab_buf *b, uint8_t v);
void ab_wire_u32(ab_buf *b, uint32_t v);
void ab_wire_u64(ab_buf *b, uint64_t v);
void ab_wire_str(ab_buf *b, const char *s);
ab_status ab_wire_finish(ab_buf *b); /* patches the frame length; AB_ERR_LIMIT if too big */

uint8_t ab_wire_get_u8(ab_wire_reader *r);
uint32_t ab_wire_get_u32(ab_wire_reader *r);
uint64_t ab_wire_get_u64(ab_wire_reader *r);
const char *ab_wire_get_str(ab_wire_reader *r); /* points into the frame; NULL for NULL */
/* [u32 length][bytes]: any bytes. The reader points into the frame. */
void ab_wire_bytes(ab_buf *b, const void *p, uint32_t n);
const uint8_t *ab_wire_get_bytes(ab_wire_reader *r, uint32_t *n);

/* Object info + finding. Decoded pointers point into the frame and into arrays the caller gives
 * (each AB_WIRE_MAX_ARRAY long). */
typedef struct ab_wire_arrays {
    const char *location[AB_WIRE_MAX_ARRAY];
    const char *location_source[AB_WIRE_MAX_ARRAY];
    const char *obs_type[AB_MAX_OBSERVABLES_WIRE], *obs_value[AB_MAX_OBSERVABLES_WIRE];
    const char *obs_where[AB_MAX_OBSERVABLES_WIRE];
    ab_mail_info mail;
    ab_flow_info flow;
    const char *tags[AB_WIRE_MAX_ARRAY];
    ab_meta meta[AB_WIRE_MAX_ARRAY];
    ab_string_match strings[AB_MAX_STRING_MATCHES];
} ab_wire_arrays;

/* A location chain: [u32 n] then n (name, source) string pairs; n <= AB_WIRE_MAX_ARRAY (a longer
 * chain is a bug of the sender: AB_MAX_LOCATION bounds it). Decoding checks every name is
 * present and every source is a short token ([a-z0-9+_-], at most 32 bytes) or absent. */
void ab_wire_put_location(ab_buf *b, const char *const *loc, const char *const *src, size_t n);
void ab_wire_get_location(ab_wire_reader *r, const char **loc, const char **src, size_t *n);
void ab_wire_put_object(ab_buf *b, const ab_object_info *o);
void ab_wire_get_object(ab_wire_reader *r, ab_object_info *o, ab_wire_arrays *a);
void ab_wire_put_finding(ab_buf *b, const ab_finding *f);
void ab_wire_get_finding(ab_wire_reader *r, ab_finding *f, ab_wire_arrays *a);
/* A flow record: [location][flow][str type][bytes json]. Decoding checks the flow is there, the
 * type is a token and the JSON is one object (core/jsoncheck.h). */
void ab_wire_put_record(ab_buf *b, const ab_flow_record *rec);
void ab_wire_get_record(ab_wire_reader *r, ab_flow_record *rec, ab_wire_arrays *a);

/* Jobs (parent -> worker, AB_MSG_JOB): a kind, the object's identity, then what the kind needs.
 * [u8 kind][u64 dev][u64 ino][u32 pid][str path], and for AB_JOB_PART [u64 file size][u64 off]
 * [u64 len][u64 first]; for AB_JOB_LIVE [u64 restarts][u8 stream] (the path must be "live:IFACE",
 * or with stream 1 a capture stream's name) then the flows given up; for
 * AB_JOB_RESUME [u64 file size][u64 skip][u64 resumes] (checked: the file's identity set, a size,
 * 1 <= skip <= size / 16 (a frame is at least a 16-byte record header), 1 <= resumes <=
 * AB_WIRE_MAX_RESUMES) then the flows given up. Flows given up: [u8 n <= AB_MAX_SKIP_FLOWS], n x
 * [16 bytes a][16 bytes b][u16 pa][u16 pb][u8 proto]. */
enum {
    AB_JOB_FILE = 1,   /* a file: every matcher, every source */
    AB_JOB_PROC = 2,   /* a process's memory ("pid:N") */
    AB_JOB_PART = 3,   /* a part of a split mbox: its messages only (unpack.h ab_mbox_range) */
    AB_JOB_LIVE = 4,   /* a live capture ("live:IFACE"): frames follow as AB_MSG_FRAMES and
                        * AB_MSG_TICK; AB_MSG_QUIT ends it (every flow flushed, then DONE) */
    AB_JOB_RESUME = 5, /* the rest of a capture file whose worker was lost: its frames after
                        * the first skip are read (the file's flows, not the file again) */
};
#define AB_WIRE_MAX_RESUMES 8  /* resume jobs of one capture file: then it is given up */
#define AB_WIRE_MAX_PARTS   64 /* parts of one split file */

typedef struct ab_wire_part {
    uint64_t off, len, first;
} ab_wire_part;

typedef struct ab_wire_job {
    uint8_t kind;
    uint64_t dev, ino; /* 0, 0: not checked */
    uint32_t pid;
    const char *path;   /* decoded: points into the frame */
    uint64_t file_size; /* AB_JOB_PART: the size the parts were cut from; AB_JOB_RESUME: the
                         * file's size when its first worker read it */
    ab_wire_part part;  /* AB_JOB_PART */
    uint64_t restarts;  /* AB_JOB_LIVE: live workers lost before this one (flow ids go on) */
    uint8_t stream;     /* AB_JOB_LIVE: 1, a capture read as a stream (antibody pcap -) */
    uint64_t skip;      /* AB_JOB_RESUME: frames not read (the frame in flight and those before) */
    uint64_t resumes;   /* AB_JOB_RESUME: workers of this file lost so far (flow ids go on) */
    /* AB_JOB_LIVE, AB_JOB_RESUME: flows given up (lost workers were on them): not read */
    ab_flow_key skip_flows[AB_MAX_SKIP_FLOWS];
    uint8_t n_skip_flows;
} ab_wire_job;

void ab_wire_put_job(ab_buf *b, const ab_wire_job *j);
/* 1 when an AB_JOB_RESUME's file size, skip and resumes are within their bounds (above): the
 * parent asks before it queues one, the worker's decoder refuses one that is not. */
int ab_wire_resume_ok(const ab_wire_job *j);
/* Sets r->bad on a malformed job: an unknown kind, no path, a part outside its file. */
void ab_wire_get_job(ab_wire_reader *r, ab_wire_job *j);

/* AB_MSG_SPLIT: [u64 file size][u32 n] n x [u64 off][u64 len][u64 first]; decoding checks
 * 1 <= n <= AB_WIRE_MAX_PARTS, each part non-empty, in order, not overlapping, within the file,
 * with increasing first message numbers. parts holds AB_WIRE_MAX_PARTS. */
void ab_wire_put_split(ab_buf *b, uint64_t file_size, const ab_wire_part *parts, size_t n);
void ab_wire_get_split(ab_wire_reader *r, uint64_t *file_size, ab_wire_part *parts, size_t *n);

/* AB_MSG_FRAMES: [u32 count] count x ([u64 ts_us][u32 linktype][u32 caplen][u32 wirelen]
 * [caplen bytes]). A batch holds 1..AB_WIRE_MAX_FRAMES frames; each caplen is at most
 * AB_WIRE_MAX_CAPLEN, wirelen >= caplen, linktype a DLT_ value (< 65536); nothing after the last.
 * The writer starts a batch with ab_wire_frames_begin and appends with ab_wire_frames_add (which
 * refuses, returning -1, a frame breaking those bounds or one that would take the batch past
 * AB_WIRE_MAX_FRAME). The reader takes the count, then each frame in turn: ab_wire_get_pkt sets
 * r->bad on a frame out of bounds, and ab_wire_frames_end on bytes left over. */
#define AB_WIRE_MAX_FRAMES 65536
#define AB_WIRE_MAX_CAPLEN 262144

typedef struct ab_wire_pkt {
    uint64_t ts_us;
    uint32_t linktype, caplen, wirelen;
    const uint8_t *data; /* caplen bytes; decoded: points into the frame */
} ab_wire_pkt;

void ab_wire_frames_begin(ab_buf *b);
int ab_wire_frames_add(ab_buf *b, const ab_wire_pkt *p);
uint32_t ab_wire_frames_count(const ab_buf *b); /* frames in a batch being written */
uint32_t ab_wire_get_frames_count(ab_wire_reader *r);
void ab_wire_get_pkt(ab_wire_reader *r, ab_wire_pkt *p);
void ab_wire_frames_end(ab_wire_reader *r);
/* AB_MSG_NET, before the file's DONE: [u32 n] n x u64, the ab_net_summary fields in order
 * (AB_WIRE_NET_FIELDS). Decoding checks n and that the counters agree with one another (at
 * least one capture; packets, malformed and truncated frames and fragments at most the frames;
 * the peak and the flows ended early at most the flows; cut directions at most two per flow;
 * parser errors at most the flows). */
#define AB_WIRE_NET_FIELDS 19
void ab_wire_put_net(ab_buf *b, const ab_net_summary *s);
void ab_wire_get_net(ab_wire_reader *r, ab_net_summary *s);

#endif
