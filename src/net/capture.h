/* capture.h: one capture through the whole network pipeline (net.h): frames from a pcap or pcapng
 * file in memory (pcapsrc.h), decoded (decode.h), into flows with TCP reassembly (flow.h), each
 * flow given to the application parser its first bytes say it speaks (http, tls, smtp, dns over
 * TCP; dns over UDP by datagram), by content, never by port. What the parsers find goes to the
 * caller's ab_capture_out; so does each direction's stream (its first stream-depth bytes, for
 * stream matching) when its flow ends.
 *
 * Memory is bounded by the limits, never by the capture's size: the decoder's fragment memcap,
 * the flow table's max_flows and out-of-order memcap, the parsers' per-flow limits, and the
 * stream bytes kept plus the payloads the parsers assemble (net.h ab_net_mem: stream_depth per
 * direction; stream_memcap in all, counted by the buffers' capacity: after a packet that leaves
 * more than 7/8 of it held, the least recently active flows
 * are ended early (AB_FLOW_MEMCAP, their streams given as they are, stream_evictions) until at
 * most 3/4 is; bytes that would go past the cap itself are not kept (memcap_cuts)). With
 * drop_behind the capture's pages behind the reader are given back (its bytes are read once, front
 * to back; nothing points into them: libpcap copies each frame out), so a mapped file does not stay
 * resident as it is read. */
#ifndef AB_CAPTURE_H
#define AB_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"
#include "core/object.h" /* ab_observation */
#include "net/decode.h"
#include "net/flow.h"
#include "net/net.h"

#define AB_CAPTURE_MAX_OBS 64 /* observables kept per flow direction */

typedef struct ab_capture_opts {
    ab_decode_limits decode;
    ab_flow_limits flow; /* flow.stream_depth is also the stream bytes kept per direction */
    ab_net_limits app;
    size_t stream_memcap; /* memory held over all open flows: stream bytes kept and the
                           * parsers' payloads (default 256 MiB) */
    size_t obs_memcap;    /* observable bytes kept over all open flows (default 32 MiB) */
    int keep_streams;     /* 0: no stream bytes are kept or given (no stream rules) */
    uint64_t skip_frames; /* frames of the capture not read (resuming after a lost worker) */
    int drop_behind; /* data is a private read-only file mapping: MADV_DONTNEED behind the reader */
    int values_now;  /* a live capture: values go to out->values as they are read (see there) */
    /* Flows whose packets are not read (decoded, then dropped): the ones a lost worker was on,
     * so that the next one is not lost the same way. */
    ab_flow_key skip_flows[AB_MAX_SKIP_FLOWS];
    size_t n_skip_flows;
} ab_capture_opts;

void ab_capture_opts_default(ab_capture_opts *o);

typedef struct ab_capture_out {
    ab_net_out net; /* the parsers' observables, objects, records and errors */
    /* A flow ended: dir's first bytes (at most stream_depth; truncated when there were more or
     * a gap was skipped) and the values the parsers read from what dir sent (at most
     * AB_CAPTURE_MAX_OBS, deduplicated), once per direction that carried either, and always
     * for AB_DIR_TO_SERVER (perhaps with n 0 and no observables). May be NULL.
     * Observables past the bounds go to net.observable at once instead, so none is lost. */
    void (*stream)(void *ctx, const ab_flow *f, int dir, const uint8_t *data, size_t n,
                   int truncated, const ab_observation *obs, size_t n_obs);
    /* With opts.values_now (a live capture, where a flow may stay open for hours): what the
     * parsers read is not kept for stream(), it comes here at the end of the frame it was read in
     * (deduplicated per flow direction as for stream(), the same bounds), at most once per
     * direction per frame. first: the flow's first call, for AB_DIR_TO_SERVER, made at the end of
     * its first frame (perhaps with n 0): the caller matches the flow's endpoints then. stream()
     * then gets no observables. May be NULL (the values are then given to stream()). */
    void (*values)(void *ctx, const ab_flow *f, int dir, const ab_observation *obs, size_t n,
                   int first);
    /* A flow ended (after its streams): its counters; reason AB_FLOW_*. May be NULL. */
    void (*flow_end)(void *ctx, const ab_flow *f, int reason);
    /* Every 4096 frames, and at the end: frames read so far (a worker's heartbeat and resume
     * point). May be NULL. */
    void (*progress)(void *ctx, uint64_t frames);
    /* Non-zero: stop reading (the sweep is stopping). May be NULL. */
    int (*stopped)(void *ctx);
    /* Not NULL: before each frame is handled (and its callbacks run), its number (from 1) is
     * stored here, then AB_CAPTURE_FRAME_END while the flows open at the end are flushed
     * (ab_capture_finish); a relaxed atomic store, no call: another process may read it to
     * resume after the frame a crash happened in (core/pool.c). */
    uint64_t *frame_at;
    /* With frame_at, not NULL: the flow the pipeline is working on (reassembly, its protocol
     * detected, a parser fed, closed) is published here before each flow callback: the frame
     * (frame_at's value) always, one relaxed store, and its endpoints only when the flow is
     * another than the last one published. Read by another process once this one is gone, to
     * say which flow a crash or a stall was in (core/pool.c). */
    struct ab_capture_flow_at *flow_at;
} ab_capture_out;

#define AB_CAPTURE_FRAME_END UINT64_MAX

/* The flow being worked on (ab_capture_out.flow_at). It is the flow in flight only while frame
 * equals what frame_at says: once the next frame starts, frame_at moves on and the flow is
 * stale. */
typedef struct ab_capture_flow_at {
    uint64_t frame; /* __atomic; frame_at's value when published; 0: none */
    uint64_t id;    /* ab_flow_ref.id (of this capture: the caller adds its own base) */
    ab_ipaddr client, server;
    uint16_t client_port, server_port;
    uint8_t proto;
} ab_capture_flow_at;

typedef struct ab_capture_stats {
    uint64_t frames, bytes; /* frames read and their captured bytes */
    ab_decode_stats decode;
    ab_flow_stats flow;
    uint64_t app[5]; /* flows detected as http, tls, smtp, dns (TCP), dns (UDP datagrams) */
    uint64_t stream_evictions; /* flows ended early: stream_memcap */
    uint64_t parser_errors;    /* flows a parser gave up on */
    uint64_t memcap_cuts;      /* directions whose kept bytes were cut at stream_memcap */
} ab_capture_stats;

/* The pipeline fed frame by frame (a live capture): the same stages and callbacks as
 * ab_capture_run. opts is copied (NULL: defaults); out is borrowed and must outlive the capture.
 * AB_ERR_ARG (bad limits), AB_ERR_NOMEM. */
typedef struct ab_capture ab_capture;
ab_status ab_capture_new(const ab_capture_opts *opts, const ab_capture_out *out, ab_capture **cap);
/* One frame: its link type (DLT_), time, captured bytes and length on the wire. */
void ab_capture_frame(ab_capture *cap, int linktype, uint64_t ts_us, const uint8_t *data,
                      size_t caplen, size_t wirelen);
/* Time passes without frames: idle flows time out by now_us (flow.h ab_flows_tick). */
void ab_capture_tick(ab_capture *cap, uint64_t now_us);
/* The end: every flow flushed and closed (its streams and records given). Frames after it are
 * only counted. */
void ab_capture_finish(ab_capture *cap);
void ab_capture_get_stats(const ab_capture *cap, ab_capture_stats *stats);
/* Flushes what is still open (as ab_capture_finish), then frees. NULL is fine. */
void ab_capture_free(ab_capture *cap);

/* Read the capture file data[0..size) into cap (from ab_capture_new) frame by frame, then
 * ab_capture_finish: what ab_capture_run does, with the capture's counters readable
 * (ab_capture_get_stats) from its callbacks while it runs. Returns as ab_capture_run. */
ab_status ab_capture_read(ab_capture *cap, const uint8_t *data, size_t size, char *err,
                          size_t errlen);

/* Read the capture data[0..size) through the pipeline. Returns AB_OK (also for a capture cut
 * short: what was read is reported and err says where it ended), AB_ERR_PARSE when it is not a
 * capture libpcap reads, AB_ERR_NOMEM. stats may be NULL. */
ab_status ab_capture_run(const uint8_t *data, size_t size, const ab_capture_opts *opts,
                         const ab_capture_out *out, ab_capture_stats *stats, char *err,
                         size_t errlen);

#endif
