/* fuzz_capture.c: a whole capture through the network pipeline (src/net/capture.c): libpcap
 * over memory, decode, flows, protocol detection by content, the HTTP and DNS parsers, stream
 * and observable keeping. The input is a capture as it is, and again behind a pcap header with a
 * linktype from its first byte (so raw frames reach the decoders without a valid file header);
 * every byte given back is touched (ASan sees a read past a stream, a body or a value), and
 * small limits exercise the caps. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/capture.h"

static unsigned sink;

static void touch(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        sink += b[i];
}

static void on_obs(void *ctx, const ab_flow_ref *f, int dir, const char *type, const char *where,
                   const char *value, size_t len)
{
    (void)ctx, (void)f, (void)dir;
    touch(type, strlen(type));
    touch(where, strlen(where));
    touch(value, len);
}

static void on_object(void *ctx, const ab_flow_ref *f, int dir, const char *const *names,
                      size_t n_names, const uint8_t *data, size_t len, const char *media_type,
                      int truncated)
{
    (void)ctx, (void)f, (void)dir, (void)truncated;
    for (size_t i = 0; i < n_names; i++)
        touch(names[i], strlen(names[i]));
    touch(data, len);
    if (media_type)
        touch(media_type, strlen(media_type));
}

static void on_record(void *ctx, const ab_flow_ref *f, const char *json, size_t len)
{
    (void)ctx, (void)f;
    touch(json, len);
}

static void on_stream(void *ctx, const ab_flow *f, int dir, const uint8_t *data, size_t n,
                      int truncated, const ab_observation *obs, size_t n_obs)
{
    (void)ctx, (void)f, (void)dir, (void)truncated;
    touch(data, n);
    for (size_t i = 0; i < n_obs; i++)
        touch(obs[i].value, obs[i].len);
}

static void run(const uint8_t *data, size_t size, int small)
{
    ab_capture_opts o;
    ab_capture_opts_default(&o);
    if (small) {
        o.flow.max_flows = 4;
        o.flow.stream_depth = 300;
        o.flow.stream_memcap = 4096;
        o.flow.flow_ooo_cap = 1024;
        o.stream_memcap = 2048;
        o.obs_memcap = 256;
        o.app.max_body = 100;
        o.app.max_line = 64;
        o.app.max_headers = 4;
        o.app.max_tx = 3;
        o.decode.frag_memcap = 4096;
        o.decode.max_frag_datagrams = 2;
    }
    ab_capture_out out = {.net = {NULL, on_obs, on_object, on_record, NULL}, .stream = on_stream};
    char err[128];
    ab_capture_run(data, size, &o, &out, NULL, err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, 0);
    run(data, size, 1);
    if (size < 1 || size > (1 << 20))
        return 0;
    /* the rest of the input as one frame of a one-frame pcap whose linktype the first byte picks */
    static const uint32_t links[] = {1, 0, 12, 101, 108, 113, 228, 229, 276};
    size_t fl = size - 1;
    uint8_t *cap = malloc(24 + 16 + fl);
    if (!cap)
        return 0;
    uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 262144, links[data[0] % 9]};
    uint32_t rec[4] = {1600000000u, data[0], (uint32_t)fl, (uint32_t)fl};
    memcpy(cap, hdr, 24);
    memcpy(cap + 24, rec, 16);
    memcpy(cap + 40, data + 1, fl);
    run(cap, 40 + fl, 0);
    free(cap);
    return 0;
}
