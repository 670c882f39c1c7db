/* unpack.h: the source seam. A *source* claims an object by its bytes (magic, structure) and
 * turns it into child objects (archive members, OLE2 streams, VBA modules, PDF streams, RTF
 * objects). The engine scans every child with every matcher, exactly like a file, and offers it
 * to every source again, recursively, inside the worker that owns the top-level file.
 *
 * The recursion context (ab_unpack) carries the per-top-level-file budget: depth, members,
 * bytes produced, and the per-member size and ratio caps. Sources never allocate by what a header
 * claims: they ask ab_unpack_max_member() how much a member may have and stop producing when
 * ab_unpack_check() says so. Nothing is ever written to disk; member names are only names.
 *
 * Sources are plain tables (ab_source) listed in unpack.c; a source file holds only its parser
 * and its table. Libraries that need a global init are initialised in ab_unpack_process_init(),
 * which runs in each worker after fork (and once in a process calling ab_scan_buffer). */
#ifndef AB_UNPACK_H
#define AB_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"
#include "core/object.h"
#include "net/net.h" /* ab_flow_key */

typedef struct ab_unpack ab_unpack;

/* A location level between a container and a member that is no object itself: a flow in a
 * capture, an HTTP transaction in a flow. A name on the chain only: never scanned, listed or
 * counted. */
typedef struct ab_level {
    const char *name;   /* any bytes but NUL */
    const char *source; /* location source token (static): "flow", "http" */
    const char *parent; /* THOR unpack_parent token (static): "FLOW", "HTTP" */
} ab_level;
#define AB_MAX_VIA 4 /* levels of one member */

/* One member a source yields. Every pointer is borrowed for the duration of the call. */
typedef struct ab_member {
    const char *name;    /* the member's name in its container: any bytes but NUL; "" allowed */
    const uint8_t *data; /* its bytes (NULL when size is 0) */
    size_t size;
    uint64_t packed; /* bytes it took in the container (compressed size), 0 when unknown */
    double mtime;    /* seconds since the epoch, 0 when unknown */
    uint32_t mode;   /* st_mode-like type and permission bits, 0 when unknown */
    /* The location source token of this member when it differs from the running source's name
     * (libarchive: "tar+gzip"; the OLE2 source yields VBA modules as "vba"). NULL: the source's
     * own name. Must be a static string. */
    const char *source;
    /* THOR unpack_parent token for this member ("ZIP", "OLE", ...), static; NULL: the source's. */
    const char *parent;
    /* Sources of mail: the MIME part path of this member in the message being unpacked ("2.1");
     * the member's mail info is then the message's with this part. NULL: the member inherits the
     * container's mail info as it is (a member of a zip attachment keeps the attachment's). */
    const char *mail_part;
    /* The media type its container declares for it ("text/html" of a MIME part), lower case, or
     * NULL. A source whose media_type it is claims the member even when claims() does not: an
     * HTML body that starts with text has no tag to be known by. */
    const char *media_type;
    /* Levels between the container and this member (at most AB_MAX_VIA; they count against
     * --max-unpack-depth like members): "capture.pcap!<flow>!GET /x!response-body" is the
     * member "response-body" via the flow and the transaction. */
    const ab_level *via;
    size_t n_via;
    /* The flow the member was carried in (sources of captures); NULL: the container's. Its
     * members inherit it. */
    const ab_flow_info *flow;
    /* Values read from the member (a flow's DNS names): matched and listed as its observables
     * once it is scanned, as ab_unpack_observe does for a container. */
    const ab_observation *observe;
    size_t n_observe;
    /* 1: not hashed (a flow direction whose protocol a parser read: its payloads are members of
     * their own, hashed as files; the direction's bytes as a whole are no file a hash IOC names) */
    int no_hash;
    /* 1: only its observables are matched (a live flow's values as they are read: no bytes, no
     * rule, name or hash matcher; pcap_source.c on_values) */
    int values_only;
} ab_member;

typedef struct ab_source {
    const char *name;   /* location source token: "zip", "ole", "pdf", "rtf", "chm", ... */
    const char *parent; /* THOR unpack_parent of its members: "ZIP", "OLE", "PDF", ... */
    /* 1 when data is this source's format. Runs on every object of a sweep: look at magic and
     * structure only, never allocate, never call into a library. */
    int (*claims)(const uint8_t *data, size_t size);
    /* Yield every member through ab_unpack_member(), in container order; say what could not be
     * read with ab_unpack_error()/ab_unpack_skip(). Returns AB_OK, or the status of a failure of
     * the container as a whole (already said with ab_unpack_error(u, NULL, ...)). */
    ab_status (*run)(ab_unpack *u, const uint8_t *data, size_t size);
    /* Optional: once per process before the first run (after fork in workers): the place for a
     * library's global init (gsf_init). */
    void (*init)(void);
    /* Optional: a media type ("text/html") whose members this source reads whatever their first
     * bytes (ab_member.media_type). */
    const char *media_type;
} ab_source;

/* The sources, in the order they are offered an object (unpack.c). */
extern const ab_source ab_source_archive; /* libarchive: zip, 7z, rar, tar, cpio, ar, iso9660,
                                           * cab, xar and compressed streams */
extern const ab_source ab_source_chm, ab_source_szdd, ab_source_kwaj; /* libmspack (mspack.c) */
extern const ab_source ab_source_pdf;  /* qpdf: PDF streams (decoded), embedded files,
                                        * JavaScript; URI actions as observables */
extern const ab_source ab_source_rtf;  /* RTF: \objdata objects, OLE1 and Packager */
extern const ab_source ab_source_ole;  /* libgsf: OLE2 compound files, VBA module sources */
extern const ab_source ab_source_pst;  /* libpff: Outlook PST/OST, each message as MIME */
extern const ab_source ab_source_mbox; /* mbox files: each message a member (mime.c) */
extern const ab_source ab_source_mime; /* GMime: RFC 5322 messages, their parts (mime.c) */
extern const ab_source ab_source_tnef; /* TNEF (winmail.dat): attachments, bodies */
extern const ab_source ab_source_yenc; /* yEnc blocks (mime.c, GMime's filter) */
extern const ab_source ab_source_html; /* gumbo: links as observables, data: URIs and script
                                        * blobs as members (HTML smuggling) */
extern const ab_source ab_source_pcap; /* pcap/pcapng captures: flows and payloads as members
                                        * (src/net/pcap_source.c) */

/* ---- for sources ---- */

/* Scan m as a child object (every matcher, then every source, recursively). Returns non-zero
 * when the source must stop reading this container: the per-file budget is spent, a limit that
 * ends the container was hit (already reported), or the sweep is stopping. */
int ab_unpack_member(ab_unpack *u, const ab_member *m);

/* What may still be produced for one member: min(max member size, what is left of the file's
 * budget). A source that streams a member reads at most this plus one byte (to know it is over). */
uint64_t ab_unpack_max_member(const ab_unpack *u);

typedef enum ab_room {
    AB_ROOM_OK = 0,
    AB_ROOM_SKIP_MEMBER, /* this member broke a per-member limit: drop it, go on with the next */
    AB_ROOM_STOP,        /* the file's budget is spent: stop reading this container */
} ab_room;

/* While producing member name: produced bytes so far out of packed input bytes (0: unknown).
 * On a limit it reports it once (a `limit` finding and a skip with the member's location) and
 * says what the source must do. Cheap: call it after every block. */
ab_room ab_unpack_check(ab_unpack *u, const char *name, uint64_t produced, uint64_t packed);

/* A member that is not scanned for a reason of the source (AB_SKIP_ENCRYPTED, ...), or with name
 * NULL the container's content as a whole (a PDF no password opens). size: its size when known,
 * else 0. */
void ab_unpack_skip(ab_unpack *u, const char *name, ab_skip_reason reason, uint64_t size);

/* A member (name) or, with name NULL, the container itself could not be (fully) read. One line,
 * no trailing newline; the sweep goes on. */
void ab_unpack_error(ab_unpack *u, const char *name, ab_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An observable of the container being unpacked: type "url", "domain", "email" or "ip"; where
 * it was found, a static token ("pdf.uri", "mail.header", "mail.body", "html.href", "html.src",
 * "html.form", "html.refresh"). Stored on the object and reported with it (docs/findings.md); at
 * most AB_MAX_OBSERVABLES per object (the rest are still matched), each value at most
 * AB_MAX_OBSERVABLE_LEN bytes (longer ones are cut and marked). The value is matched against the
 * IOC store (match/observables.h) at once: a hit is an AB_MATCHER_OBSERVABLE finding on the
 * container, once per indicator and value. */
void ab_unpack_observe(ab_unpack *u, const char *type, const char *where, const char *value,
                       size_t len);

/* A phishing signal (AB_MATCHER_MAIL_SIGNAL) on the container being unpacked: rule is its stable
 * name (docs/mail-signals.md), reason one line; value/value_type/where what it is about (may be
 * NULL). Each rule at most once per object. */
void ab_unpack_signal(ab_unpack *u, const char *rule, int score, const char *reason,
                      const char *value, const char *value_type, const char *where);

/* Sources of mail: the container being unpacked is a message; info is copied (part is ignored:
 * the message itself has none). Its findings and its members carry it. */
void ab_unpack_set_mail(ab_unpack *u, const ab_mail_info *info);
/* The mail info of the container being unpacked (its own, or inherited from the message it is
 * in), or NULL. Valid until the container ends. */
const ab_mail_info *ab_unpack_mail(const ab_unpack *u);

/* A password found in the top-level file (a mail body saying "the password is ..."): tried after
 * the scanner's, on encrypted members of this top-level file only. At most 16, each at most
 * 128 bytes; the rest are ignored. */
void ab_unpack_add_password(ab_unpack *u, const char *password, size_t len);

/* Sources whose members are bounded by the container's own size (a capture: each flow direction
 * keeps at most its stream depth, so its members are about twice its bytes, plus what bodies
 * decompress to): the file's budget grows by bytes and members for this container, so a big
 * capture is read to its end. What decompresses is still bounded by the rest of the budget. */
void ab_unpack_widen_budget(ab_unpack *u, uint64_t bytes, uint64_t members);

/* Sources of captures: 1 when the scanner wants flow records (ab_scanner_set_flow_records). */
int ab_unpack_wants_records(const ab_unpack *u);
/* A flow record of the container being unpacked (a capture): type "flow", "http", ...; json one
 * JSON object (checked again in the parent). Goes to the sweep's reporters as AB_EVENT_FLOW. */
void ab_unpack_record(ab_unpack *u, const ab_flow_info *flow, const char *type, const char *json,
                      size_t len);

/* Sources of captures: the capture limits (ab_scanner_set_capture_limits; the defaults without
 * a scanner). */
void ab_unpack_capture_limits(const ab_unpack *u, ab_capture_limits *out);
/* Sources of captures: one capture's counters, added to what the worker reports with the
 * top-level object (ab_unpack_net_take). */
void ab_unpack_net_add(ab_unpack *u, const ab_net_summary *s);
/* Sources of captures: a top-level capture (ignored inside a container) says how to read its
 * counters while it is being read (fn(ctx, out) fills out as for ab_unpack_net_add), until it
 * calls this again with fn NULL, before its ab_unpack_net_add. */
void ab_unpack_net_probe(ab_unpack *u, void (*fn)(void *ctx, ab_net_summary *out), void *ctx);
/* 1 when the container being unpacked is a top-level file's private read-only mapping
 * (ab_object.mapped): a source that reads it once, front to back, may drop the pages behind it
 * (MADV_DONTNEED: a later read maps them from the file again). */
int ab_unpack_container_mapped(const ab_unpack *u);
/* Where a capture being unpacked publishes the frame it is at (capture.h frame_at): the hooks'
 * cell when the container is the top-level object, else NULL (a capture inside an archive is not
 * resumed: its worker's loss costs the file's remaining members, as any container's). */
uint64_t *ab_unpack_frame_cell(const ab_unpack *u);
/* The same for the flow a top-level capture is working on (ab_unpack_hooks.flow). */
struct ab_capture_flow_at *ab_unpack_flow_cell(const ab_unpack *u);

/* The protected domains (ab_scanner_add_protected_domain): lower-case IDNA A-labels. */
size_t ab_unpack_protected_domains(const ab_unpack *u, const char *const **out);

/* The location source and unpack_parent tokens of this container's members, once the source
 * knows them (libarchive knows the format only after the first header: "tar+gzip"/"TAR").
 * Static strings; they apply to members, skips and errors until the container ends. */
void ab_unpack_name_members(ab_unpack *u, const char *source, const char *parent);

/* The passwords to try on encrypted members (--password, --passwords, then those found in this
 * file by ab_unpack_add_password), in order. Valid until the next ab_unpack_add_password. */
size_t ab_unpack_passwords(const ab_unpack *u, const char *const **out);

/* The name of the object being unpacked (the last element of its location), for naming the one
 * member of a compressed stream ("x.log.gz" -> "x.log"). */
const char *ab_unpack_container_name(const ab_unpack *u);

/* 1 when the sweep is stopping (cancel, the sink asked to stop): a source checks it between
 * members. */
int ab_unpack_stopped(const ab_unpack *u);

/* ---- for the engine (core/scanner.c) and the worker (core/pool.c) ---- */

typedef struct ab_engine ab_engine;

/* What a worker does around members: all may be NULL. */
typedef struct ab_unpack_hooks {
    void (*container)(void *ctx);                   /* once per top-level object, before its
                                                     * first container is opened */
    void (*beat)(void *ctx, const ab_object *m);    /* before each member is scanned */
    void (*scanned)(void *ctx, const ab_object *m); /* after each member was scanned */
    void *ctx;
    /* A top-level object is about to be unpacked (after its matchers, not when allow-listed):
     * the place to split it (ab_unpack_set_part). */
    void (*top)(void *ctx, const ab_object *obj);
    /* Not NULL: a top-level capture stores the number of the frame it is handling here
     * (ab_unpack_frame_cell), so a worker's parent can resume the file after that frame. */
    uint64_t *frame;
    /* With frame, not NULL: the same capture publishes the flow it is working on here
     * (net/capture.h ab_capture_flow_at; ab_unpack_flow_cell). */
    struct ab_capture_flow_at *flow;
} ab_unpack_hooks;

ab_status ab_unpack_new(const ab_scanner *sc, ab_engine *eng, ab_unpack **out);
void ab_unpack_free(ab_unpack *u);
void ab_unpack_set_hooks(ab_unpack *u, const ab_unpack_hooks *h);
/* Once per process before unpacking (library inits); idempotent. */
void ab_unpack_process_init(void);

/* Offer obj (already scanned by the matchers, not allow-listed) to every source. self: the emit
 * of obj's own verdict (limit findings on obj join it); down: where members' verdicts go. At
 * depth 0 this starts a new per-file budget. */
void ab_unpack_object(ab_unpack *u, ab_object *obj, const ab_emit *self, const ab_emit *down);

/* A top-level object whose bytes are not in memory but keep arriving (a live capture: obj has no
 * data): run(u, ctx) yields its members as source as would (ab_unpack_member and the rest), with
 * a fresh per-file budget that run may widen as bytes arrive (ab_unpack_widen_budget). self: obj's
 * verdict; down: the members'. */
void ab_unpack_run_live(ab_unpack *u, ab_object *obj, const ab_source *as,
                        ab_status (*run)(ab_unpack *u, void *ctx), void *ctx, const ab_emit *self,
                        const ab_emit *down);

/* Live captures (src/net/pcap_source.c): the frames arrive through feed; pump waits for the next
 * message and gives it to cap (ab_capture_frame/_tick); it returns > 0 while more may come, 0 at
 * the end (then every flow is flushed and its members scanned). */
struct ab_capture;
typedef struct ab_live_feed {
    void *ctx;
    int (*pump)(void *ctx, struct ab_capture *cap);
    uint64_t first_flow_id; /* flow ids of this capture start after it (a restarted worker) */
    /* 1: a capture file read as a stream (antibody pcap -): its members are a capture file's
     * (values with their flow direction's stream), not a live capture's (values as they come) */
    int stream;
    const ab_flow_key *skip_flows; /* flows not read: lost workers were on them (capture.h) */
    size_t n_skip_flows;
} ab_live_feed;
/* run for ab_unpack_run_live: ctx is an ab_live_feed. */
ab_status ab_pcap_live_run(ab_unpack *u, void *feed);

/* The rest of a capture file whose worker was lost (core/pool.c AB_JOB_RESUME): its frames after
 * the first skip_frames are read (flows seen from there on, mid-stream), with flow ids from
 * first_flow_id on, so none repeats one said before the loss. */
typedef struct ab_capture_resume {
    const uint8_t *data;
    size_t size;
    uint64_t skip_frames;
    uint64_t first_flow_id;
    const ab_flow_key *skip_flows; /* flows not read: lost workers were on them (capture.h) */
    size_t n_skip_flows;
} ab_capture_resume;
/* run for ab_unpack_run_live: ctx is an ab_capture_resume. The budget is a fresh file's (as
 * pcap_run widens it for the whole capture), not what the lost worker left of it. */
ab_status ab_pcap_resume_run(ab_unpack *u, void *resume);
/* The name of flow f as its client's direction has it in locations (pcap_source.c):
 * "10.0.0.5:49152->198.51.100.7:80", "10.0.0.5:5353->224.0.0.251:5353 udp". */
struct ab_capture_flow_at;
void ab_capture_flow_name(const struct ab_capture_flow_at *f, char *out, size_t n);

/* A big mbox is split across workers (core/pool.c): each part is a run of whole messages. The
 * worker that owns the file scans it as a whole (hashes, YARA, every source) but unpacks only
 * the first part; every other part is a job of its own that unpacks only its messages. Members
 * keep their numbers ("#N <message-id>") and their locations, whichever worker reads them. */
typedef struct ab_mbox_range {
    uint64_t off, len; /* bytes [off, off + len) of the file: whole messages, "From " line first */
    uint64_t first;    /* the number of its first message (from 1) */
} ab_mbox_range;

/* Cut an mbox (one ab_source_mbox claims) into at most max parts of whole messages, each about
 * chunk bytes or more. Returns the number of parts (1: the file is not worth splitting). Reads the
 * file once, as the mbox source does (its separator rule). */
size_t ab_mbox_split(const uint8_t *data, size_t size, uint64_t chunk, ab_mbox_range *out,
                     size_t max);

/* The next top-level ab_unpack_object is one part of a split mbox of file_size bytes: the mbox
 * source yields only the messages of range; mbox_only: no other source runs on the file (a part
 * that is not the owner's). The per-file budget (--max-members, --max-unpacked) is cut to the
 * part's share, in proportion to its bytes, so the parts together stay within the file's; the
 * limit findings say so. Applies to that one object; NULL clears. */
void ab_unpack_set_part(ab_unpack *u, const ab_mbox_range *range, uint64_t file_size,
                        int mbox_only);
/* For the mbox source: 1 and the range when the object being unpacked (at depth 0) is a part. */
int ab_unpack_part(const ab_unpack *u, ab_mbox_range *range);

/* For the engine: match obj's pending observations (ab_object.observe) into emit self, the
 * verdict of obj. */
void ab_unpack_observe_object(ab_unpack *u, ab_object *obj, const ab_emit *self);

/* Counters of the last top-level object: members scanned and their bytes. */
void ab_unpack_stats(const ab_unpack *u, uint64_t *members, uint64_t *bytes);
/* The captures' counters added since the last take (ab_unpack_net_add): 1 and *out when a
 * capture was read, then cleared; 0 when none was. */
int ab_unpack_net_take(ab_unpack *u, ab_net_summary *out);
/* What ab_unpack_net_take would give now, plus the counters so far of the top-level capture
 * being read (ab_unpack_net_probe), without clearing: 1 when there are any (*out zeroed if not).
 * A worker's tally of a capture it may be lost in. */
int ab_unpack_net_peek(const ab_unpack *u, ab_net_summary *out);

/* Sources alone, for unit tests and fuzz targets: run s over data with limits (NULL: defaults),
 * members to cb (depth 1 only, no matchers, no recursion; cb returns non-zero to stop). Limit
 * hits, skips and errors are counted into the optional counters. */
typedef struct ab_unpack_counts {
    uint64_t members, limits, skips, errors, observables, signals;
    char last_signal[48];  /* the rule of the last ab_unpack_signal */
    char signal_list[512]; /* every signal rule, each followed by ',' (as far as it fits) */
    char last_limit[32];   /* the name of the last limit hit */
    char last_error[512];  /* the last error message */
    ab_skip_reason last_skip;
} ab_unpack_counts;
ab_status ab_unpack_run_source(const ab_source *s, const uint8_t *data, size_t size,
                               const ab_unpack_limits *l, const char *const *passwords,
                               size_t n_passwords, int (*cb)(void *ctx, const ab_member *m),
                               void *ctx, ab_unpack_counts *counts);

#endif
