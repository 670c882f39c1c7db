/* live.h: the worker pool's side of a live capture (pool.c ab_pool_live), fed by a packet reader
 * in the parent (src/net/live.c, libpcap). The parent only reads frames and hands them on in
 * batches; one worker owns the flow state and parses (AB_JOB_LIVE, wire.h AB_MSG_FRAMES). */
#ifndef AB_CORE_LIVE_H
#define AB_CORE_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"
#include "core/wire.h"

typedef struct ab_live_input {
    void *ctx;
    const char *path; /* "live:IFACE": the capture's object path */
    int fd;           /* readable when frames wait (pcap_get_selectable_fd) */
    /* Read at most max frames that are ready, without blocking, each to add (its bytes valid
     * during the call). Returns the frames read (0: none ready), -1 on an error of the capture
     * (why in err): the capture ends; AB_LIVE_END (a stream) at its end, all read. */
    int (*read)(void *ctx, int max, void (*add)(void *actx, const ab_wire_pkt *p), void *actx,
                char *err, size_t errlen);
    /* 1 when frames are ready without the fd being readable (read them already, stopped at
     * max). May be NULL: the fd says it all. */
    int (*pending)(void *ctx);
    /* The kernel's counters into s (kernel_ok and the kernel_* fields). */
    void (*stats)(void *ctx, ab_capture_summary *s);
    /* The worker is started: the caller may say it is listening. May be NULL. */
    void (*ready)(void *ready_ctx);
    void *ready_ctx;
    double duration; /* seconds; 0: until cancelled */
    uint64_t count;  /* frames; 0: no limit */
    /* 1: a capture file read as a stream (antibody pcap -), not an interface: path is its name;
     * no frame is dropped (past the backlog cap the input is not read until the worker catches
     * up), no clock is sent (flows time out by the capture's time), a cancel leaves the summary
     * interrupted, and the summary has no capture counters (as for a capture file). */
    int stream;
} ab_live_input;

#define AB_LIVE_END (-2) /* ab_live_input.read: the stream ended */

/* Run the capture to its end (cancel, duration, count, an error of the capture) and deliver the
 * summary (with the capture's counters) to sink. */
ab_status ab_pool_live(ab_scanner *sc, const ab_live_input *in, const ab_sink *sink);

#endif
