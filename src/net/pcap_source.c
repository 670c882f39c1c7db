/* pcap_source.c: captures as a source of the seam (unpack.h). A pcap or pcapng file, met in a
 * sweep or given to `antibody pcap`, goes through the network pipeline (capture.h) and its
 * flows become members:
 *   capture.pcap!10.0.0.5:49152->198.51.100.7:80      what the client sent (its first
 *                                                     stream-depth bytes), with the values the
 *                                                     parsers read from it as observables
 *   capture.pcap!198.51.100.7:80->10.0.0.5:49152      what the server sent, the same
 *   capture.pcap!198.51.100.7:80->10.0.0.5:49152!GET /update.zip!response-body
 *                                                     a payload object (an HTTP body, an SMTP
 *                                                     message), the transaction a level between
 * Every member carries its flow (ab_flow_info), so findings say which hosts talked, when, and in
 * which protocol. UDP and ICMP flows are named with their protocol after the ports. */
#include <stdio.h>
#include <string.h>

#include "net/capture.h"
#include "net/pcapsrc.h"
#include "unpack/unpack.h"

typedef struct psrc {
    ab_unpack *u;
    int stop;         /* a member said stop: read no further */
    uint64_t id_base; /* added to flow ids: a live capture's later workers go on from it */
    ab_capture *cap;  /* the pipeline (owned: capture_end frees it) */
    int live;         /* values are matched as they are read (on_values), not with the stream */
    const ab_flow_key *skip_flows; /* not read: flows lost workers were on (borrowed) */
    size_t n_skip_flows;
} psrc;

static const char *proto_name(uint8_t p, char *buf, size_t n)
{
    switch (p) {
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 1:
        return "icmp";
    case 58:
        return "icmpv6";
    default:
        snprintf(buf, n, "%u", p);
        return buf;
    }
}

/* "10.0.0.5:49152", "[2001:db8::5]:443" */
static void endpoint(char *out, size_t n, const ab_ipaddr *a, uint16_t port)
{
    char ip[AB_IPADDR_TEXT];
    ab_ipaddr_format(a, ip, sizeof(ip));
    snprintf(out, n, ab_ipaddr_is_v4(a) ? "%s:%u" : "[%s]:%u", ip, port);
}

/* The flow info of ref (strings into ip, the caller's two AB_IPADDR_TEXT buffers, and proto) and
 * the name of what dir sent: "client->server" or "server->client". */
typedef struct flowtext {
    char src[AB_IPADDR_TEXT], dst[AB_IPADDR_TEXT], proto[8];
    char name[2 * AB_IPADDR_TEXT + 32];
    ab_flow_info info;
} flowtext;

/* "from->to", with the protocol after it unless TCP: "10.0.0.5:53->10.0.0.1:40000 udp" */
static void flow_name(char *out, size_t n, const ab_ipaddr *from, uint16_t from_port,
                      const ab_ipaddr *to, uint16_t to_port, uint8_t proto)
{
    char a[AB_IPADDR_TEXT + 8], b[AB_IPADDR_TEXT + 8], pn[8];
    endpoint(a, sizeof(a), from, from_port);
    endpoint(b, sizeof(b), to, to_port);
    snprintf(out, n, "%s->%s%s%s", a, b, proto == 6 ? "" : " ",
             proto == 6 ? "" : proto_name(proto, pn, sizeof(pn)));
}

void ab_capture_flow_name(const ab_capture_flow_at *f, char *out, size_t n)
{
    flow_name(out, n, &f->client, f->client_port, &f->server, f->server_port, f->proto);
}

static void flow_text(const psrc *p, flowtext *t, const ab_flow_ref *r, const ab_flow *f, int dir)
{
    ab_ipaddr_format(&r->client, t->src, sizeof(t->src));
    ab_ipaddr_format(&r->server, t->dst, sizeof(t->dst));
    const char *proto = proto_name(r->proto, t->proto, sizeof(t->proto));
    if (dir == AB_DIR_TO_SERVER)
        flow_name(t->name, sizeof(t->name), &r->client, r->client_port, &r->server, r->server_port,
                  r->proto);
    else
        flow_name(t->name, sizeof(t->name), &r->server, r->server_port, &r->client, r->client_port,
                  r->proto);
    t->info = (ab_flow_info){.id = r->id + p->id_base,
                             .start = f ? (double)f->first_us / 1e6 : 0,
                             .time = (double)r->ts_us / 1e6,
                             .proto = proto,
                             .src_ip = t->src,
                             .src_port = r->client_port,
                             .dest_ip = t->dst,
                             .dest_port = r->server_port,
                             .direction = dir == AB_DIR_TO_SERVER ? "to_server" : "to_client",
                             .app_proto = r->app,
                             .vlan = r->vlan};
}

/* ---- what the pipeline gives ---- */

static void on_object(void *ctx, const ab_flow_ref *r, int dir, const char *const *names,
                      size_t n_names, const uint8_t *data, size_t len, const char *media_type,
                      int truncated)
{
    psrc *p = ctx;
    (void)truncated; /* the parser kept what its limit allows; the budget said the rest */
    if (p->stop || !n_names || n_names > AB_MAX_VIA)
        return;
    flowtext t;
    flow_text(p, &t, r, (const ab_flow *)r, dir);
    ab_level via[AB_MAX_VIA];
    const char *app = r->app ? r->app : "flow";
    via[0] = (ab_level){t.name, "flow", "FLOW"};
    for (size_t i = 0; i + 1 < n_names; i++)
        via[i + 1] = (ab_level){names[i], app, "NET"};
    ab_member m;
    memset(&m, 0, sizeof(m));
    m.name = names[n_names - 1];
    m.data = len ? data : NULL;
    m.size = len;
    m.source = app;
    m.parent = "NET";
    m.media_type = media_type;
    m.via = via;
    m.n_via = n_names; /* the flow and the transaction levels */
    m.flow = &t.info;
    if (ab_unpack_member(p->u, &m))
        p->stop = 1;
}

/* A flow direction as a member: its stream bytes (data, n) or, values_only, the values read from
 * it so far (a live capture's, matched as they come: on_values). */
static void flow_member(psrc *p, const ab_flow *f, int dir, const uint8_t *data, size_t n,
                        const ab_observation *obs, size_t n_obs, int endpoints, int values_only)
{
    if (p->stop)
        return;
    flowtext t;
    flow_text(p, &t, &f->ref, f, dir);
    /* the stream's time is its last packet; each value says its own packet's */
    t.info.time = (double)(values_only ? f->ref.ts_us : f->last_us) / 1e6;
    /* What the client sent (given for every flow, capture.h) also carries the flow's two
     * addresses, so ip and cidr IOCs match either end, once per flow. */
    ab_observation all[2 + AB_CAPTURE_MAX_OBS];
    if (endpoints && n_obs <= AB_CAPTURE_MAX_OBS) {
        double first = (double)f->first_us / 1e6; /* the flow's first packet */
        all[0] = (ab_observation){"ip", "flow.src_ip", t.src, strlen(t.src), first};
        all[1] = (ab_observation){"ip", "flow.dest_ip", t.dst, strlen(t.dst), first};
        if (n_obs)
            memcpy(all + 2, obs, n_obs * sizeof(*obs));
        obs = all;
        n_obs += 2;
    }
    ab_member m;
    memset(&m, 0, sizeof(m));
    m.name = t.name;
    m.data = n ? data : NULL;
    m.size = n;
    m.source = "flow";
    m.parent = "FLOW";
    /* A parsed protocol's payloads are hashed as members of their own (an HTTP body, a mail);
     * its direction as a whole is hashed only when no parser read it (a raw transfer may be a
     * file as sent). */
    m.no_hash = f->ref.app != NULL || values_only;
    m.values_only = values_only;
    m.flow = &t.info;
    m.observe = obs;
    m.n_observe = n_obs;
    if (ab_unpack_member(p->u, &m))
        p->stop = 1;
}

static void on_stream(void *ctx, const ab_flow *f, int dir, const uint8_t *data, size_t n,
                      int truncated, const ab_observation *obs, size_t n_obs)
{
    psrc *p = ctx;
    (void)truncated;
    /* live, the endpoints were matched at the flow's first frame (on_values) */
    flow_member(p, f, dir, data, n, obs, n_obs, dir == AB_DIR_TO_SERVER && !p->live, 0);
}

/* A live capture's values, at the end of the frame they were read in (capture.h): a member with
 * the flow's location and no bytes, so a C2 name in a connection open for hours is said now. */
static void on_values(void *ctx, const ab_flow *f, int dir, const ab_observation *obs, size_t n,
                      int first)
{
    flow_member(ctx, f, dir, NULL, 0, obs, n, first, 1);
}

/* Over the capture's bounds for observables kept with their flow: matched on the capture. */
static void on_observable(void *ctx, const ab_flow_ref *r, int dir, const char *type,
                          const char *where, const char *value, size_t len)
{
    psrc *p = ctx;
    (void)r;
    (void)dir;
    ab_unpack_observe(p->u, type, where, value, len);
}

/* A transaction record (antibody pcap --flows): its "type" key says which kind. */
static void on_record(void *ctx, const ab_flow_ref *r, const char *json, size_t len)
{
    psrc *p = ctx;
    flowtext t;
    flow_text(p, &t, r, (const ab_flow *)r, AB_DIR_TO_SERVER);
    t.info.direction = NULL;
    /* the parsers write their kind first: {"type":"dns",... (a TLS record of an SMTP flow) */
    char type[16] = "flow";
    static const char lead[] = "{\"type\":\"";
    if (len > sizeof(lead) && !memcmp(json, lead, sizeof(lead) - 1)) {
        size_t i = 0;
        const char *v = json + sizeof(lead) - 1;
        while (i + 1 < sizeof(type) && v + i < json + len &&
               ((v[i] >= 'a' && v[i] <= 'z') || v[i] == '+'))
            i++;
        if (v + i < json + len && v[i] == '"' && i) {
            memcpy(type, v, i);
            type[i] = '\0';
        }
    }
    ab_unpack_record(p->u, &t.info, type, json, len);
}

/* The flow's own record when it ends ("conn", as Zeek's conn.log): its counters and why it
 * ended; flow.time is its last packet. */
static void on_flow_end(void *ctx, const ab_flow *f, int reason)
{
    psrc *p = ctx;
    flowtext t;
    flow_text(p, &t, &f->ref, f, AB_DIR_TO_SERVER);
    t.info.direction = NULL;
    t.info.time = (double)f->last_us / 1e6;
    char js[512];
    int n = snprintf(js, sizeof(js),
                     "{\"type\":\"conn\",\"pkts_toserver\":%llu,\"pkts_toclient\":%llu,"
                     "\"bytes_toserver\":%llu,\"bytes_toclient\":%llu,\"duration\":%.6f,"
                     "\"reason\":\"%s\",\"midstream\":%s}",
                     (unsigned long long)f->pkts[0], (unsigned long long)f->pkts[1],
                     (unsigned long long)f->bytes[0], (unsigned long long)f->bytes[1],
                     (double)(f->last_us - f->first_us) / 1e6, ab_flow_reason_name(reason),
                     f->midstream ? "true" : "false");
    if (n > 0 && (size_t)n < sizeof(js))
        ab_unpack_record(p->u, &t.info, "conn", js, (size_t)n);
}

static void on_error(void *ctx, const ab_flow_ref *r, const char *msg)
{
    psrc *p = ctx;
    flowtext t;
    flow_text(p, &t, r, NULL, AB_DIR_TO_SERVER);
    ab_unpack_error(p->u, t.name, AB_ERR_PARSE, "%s", msg);
}

static int on_stopped(void *ctx)
{
    psrc *p = ctx;
    return p->stop || ab_unpack_stopped(p->u);
}

int ab_is_capture(const void *data, size_t len)
{
    return data && ab_pcap_claims(data, len);
}

static int pcap_claims(const uint8_t *data, size_t size)
{
    return ab_pcap_claims(data, size);
}

/* The scanner's bounds (ab_scanner_set_capture_limits) over the pipeline's defaults: the depth
 * is also the largest payload object, out-of-order bytes are held up to a quarter of the
 * memcap (64 MiB of the default 256). */
static void apply_limits(ab_capture_opts *o, const ab_capture_limits *l)
{
    o->flow.stream_depth = l->stream_depth;
    o->app.max_body = (size_t)l->stream_depth;
    o->flow.max_flows = (size_t)l->max_flows;
    o->stream_memcap = (size_t)l->stream_memcap;
    o->flow.stream_memcap = (size_t)(l->stream_memcap / 4);
}

/* What a responder needs to know of what the capture and the bounds left out (ab_net_summary). */
static void net_summary(ab_net_summary *n, const ab_capture_stats *st)
{
    memset(n, 0, sizeof(*n));
    n->captures = 1;
    n->frames = st->frames;
    n->bytes = st->bytes;
    n->packets = st->decode.packets;
    n->malformed = st->decode.malformed;
    n->truncated = st->decode.truncated;
    n->flows = st->flow.flows;
    n->peak_flows = st->flow.peak_active;
    n->flows_evicted = st->flow.evicted;
    n->flows_memcap = st->stream_evictions;
    n->flows_timeout = st->flow.timeouts;
    n->gaps = st->flow.gaps;
    n->gap_bytes = st->flow.gap_bytes;
    n->ooo_dropped = st->flow.memcap_drops;
    n->fragments = st->decode.fragments;
    n->frag_dropped = st->decode.frag_dropped + st->decode.frag_timeouts;
    n->depth_cut = st->flow.depth_reached;
    n->memcap_cut = st->memcap_cuts;
    n->parser_errors = st->parser_errors;
}

/* The counters of the capture being read, so far (ab_unpack_net_probe): a worker lost before
 * the capture ends still tells what it read. */
static void net_probe(void *ctx, ab_net_summary *out)
{
    const psrc *p = ctx;
    ab_capture_stats st;
    ab_capture_get_stats(p->cap, &st);
    net_summary(out, &st);
}

/* The pipeline of a capture file or a live capture, set up the same: the scanner's bounds, the
 * payload objects no larger than a member may be, the callbacks into the seam, and its counters
 * offered to the worker (net_probe). A file's frames are numbered for the worker's resume point
 * (frame_at). p->cap (owned by the caller: ab_capture_free) on AB_OK; the error said otherwise. */
static ab_status capture_start(psrc *p, ab_capture_opts *o, ab_capture_out *out, uint64_t skip,
                               int drop_behind)
{
    ab_unpack *u = p->u;
    ab_capture_limits lim;
    ab_capture_opts_default(o);
    ab_unpack_capture_limits(u, &lim);
    apply_limits(o, &lim);
    o->skip_frames = skip;
    o->drop_behind = drop_behind;
    o->values_now = p->live;
    o->n_skip_flows = p->n_skip_flows > AB_MAX_SKIP_FLOWS ? AB_MAX_SKIP_FLOWS : p->n_skip_flows;
    if (o->n_skip_flows)
        memcpy(o->skip_flows, p->skip_flows, o->n_skip_flows * sizeof(*p->skip_flows));
    uint64_t room = ab_unpack_max_member(u); /* a payload object is a member like any */
    if (room < o->app.max_body)
        o->app.max_body = (size_t)room;
    int records = ab_unpack_wants_records(u);
    *out = (ab_capture_out){
        .net = {p, on_observable, on_object, records ? on_record : NULL, on_error},
        .stream = on_stream,
        .values = p->live ? on_values : NULL,
        .flow_end = records ? on_flow_end : NULL,
        .stopped = on_stopped, /* a file's frames (ab_capture_read); a feed stops by itself */
        .frame_at = ab_unpack_frame_cell(u), /* the worker's resume point, if it has one */
        .flow_at = ab_unpack_flow_cell(u),   /* and the flow in flight */
    };
    ab_status rc = ab_capture_new(o, out, &p->cap);
    if (rc != AB_OK) {
        ab_unpack_error(u, NULL, rc, "cannot start the capture pipeline");
        return rc;
    }
    ab_unpack_net_probe(u, net_probe, p);
    return AB_OK;
}

/* The capture's counters into the summary (ab_unpack_net_add); the probe ends with them. */
static void capture_end(psrc *p, int counted)
{
    ab_unpack_net_probe(p->u, NULL, NULL);
    if (counted) {
        ab_capture_stats st;
        ab_net_summary ns;
        ab_capture_get_stats(p->cap, &st);
        net_summary(&ns, &st);
        ab_unpack_net_add(p->u, &ns);
    }
    ab_capture_free(p->cap);
    p->cap = NULL;
}

/* A capture file through the pipeline: from its first frame (skip 0), or resumed after a lost
 * worker (skip frames not read, flow ids from id_base on). */
static ab_status pcap_read(ab_unpack *u, const uint8_t *data, size_t size, uint64_t skip,
                           uint64_t id_base, const ab_flow_key *skip_flows, size_t n_skip_flows)
{
    psrc p = {.u = u, .id_base = id_base, .skip_flows = skip_flows, .n_skip_flows = n_skip_flows};
    ab_capture_opts o;
    ab_capture_out out;
    /* Streams and plain bodies are the capture's own bytes, twice at most; a flow is at least a
     * packet (a record header and 34 bytes): the budget grows by that, no more. */
    ab_unpack_widen_budget(u, 2 * (uint64_t)size, size / 50 * 3);
    ab_status rc = capture_start(&p, &o, &out, skip, ab_unpack_container_mapped(u));
    if (rc != AB_OK)
        return rc;
    char err[256];
    rc = ab_capture_read(p.cap, data, size, err, sizeof(err));
    ab_capture_stats st;
    ab_capture_get_stats(p.cap, &st);
    capture_end(&p, rc == AB_OK);
    if (rc != AB_OK)
        ab_unpack_error(u, NULL, rc, "not a capture libpcap can read: %s", err);
    else if (err[0])
        ab_unpack_error(u, NULL, AB_ERR_PARSE, "capture cut short after %llu frames: %s",
                        (unsigned long long)st.frames, err);
    return rc;
}

static ab_status pcap_run(ab_unpack *u, const uint8_t *data, size_t size)
{
    return pcap_read(u, data, size, 0, 0, NULL, 0);
}

ab_status ab_pcap_resume_run(ab_unpack *u, void *arg)
{
    const ab_capture_resume *r = arg;
    return pcap_read(u, r->data, r->size, r->skip_frames, r->first_flow_id, r->skip_flows,
                     r->n_skip_flows);
}

/* A live capture (unpack.h ab_live_feed): the same pipeline and members, frames from the feed.
 * The budget grows with the bytes that arrive, as a file's grows with its size (pcap_run). */
ab_status ab_pcap_live_run(ab_unpack *u, void *arg)
{
    const ab_live_feed *feed = arg;
    psrc p = {.u = u,
              .id_base = feed->first_flow_id,
              .live = !feed->stream,
              .skip_flows = feed->skip_flows,
              .n_skip_flows = feed->n_skip_flows};
    ab_capture_opts o;
    ab_capture_out out; /* no drop_behind: the frames are in no file mapping */
    ab_status rc = capture_start(&p, &o, &out, 0, 0);
    if (rc != AB_OK)
        return rc;
    ab_capture_stats before, now;
    memset(&before, 0, sizeof(before));
    /* Frames are taken to the end even when members stop being scanned (the budget spent, said
     * once as a limit finding): the parent must not back up behind a worker that reads nothing. */
    while (feed->pump(feed->ctx, p.cap) > 0) {
        ab_capture_get_stats(p.cap, &now);
        uint64_t db = now.bytes - before.bytes, df = now.frames - before.frames;
        /* + 3 members a frame: a new flow's endpoints and its values, both ways (on_values) */
        ab_unpack_widen_budget(u, 2 * db, db / 50 * 3 + 3 * df);
        before = now;
    }
    ab_capture_finish(p.cap);
    capture_end(&p, 1); /* the summary's network part, as for a file */
    return AB_OK;
}

const ab_source ab_source_pcap = {
    .name = "pcap", .parent = "PCAP", .claims = pcap_claims, .run = pcap_run};
