/* antibody.h: the public C API of libantibody, a threat-hunting scanner.
 *
 * The contract, in the spirit of libyara:
 *  - opaque handles (ab_scanner), every call returns an ab_status;
 *  - results (findings, per-object errors, skips, the summary) are delivered to a caller-supplied
 *    sink, one ab_event at a time, always from the thread that called the scan function; the
 *    library never prints;
 *  - global state, all of it: libyara's initialisation (ab_init/ab_finish wrap it); the
 *    libraries the sources use, initialised once per process on first use (in a sweep, in each
 *    worker after fork; ab_scan_buffer initialises them in the calling process): libarchive's
 *    table of built-in filters (read-only after the first use), and each source's library init
 *    (src/unpack: gsf_init for OLE2); ab_scanner_cancel's flag lives in the scanner.
 *
 * Life cycle:
 *   ab_init();
 *   ab_scanner_new(&sc);
 *   ab_scanner_set_*(sc, ...);               limits, workers, hashing
 *   ab_scanner_add_rules(sc, path, ...);     YARA sources, folders or compiled files
 *   ab_scanner_add_iocs(sc, path, ...);      IOC files or folders
 *   ab_scanner_add_pack(sc, "apt29-2020");   built-in content
 *   ab_scanner_compile(sc, ...);             freeze: compile rules and IOC databases
 *   ab_scan_paths(sc, paths, n, &sink);      sweep (forks workers), or ab_scan_buffer/ab_scan_pid
 *   ab_scanner_free(sc);
 *   ab_finish();
 */
#ifndef ANTIBODY_H
#define ANTIBODY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AB_VERSION "0.1.0"

/* The library is built with hidden visibility: only what this header declares is exported. */
#if defined(__GNUC__)
#define AB_API __attribute__((visibility("default")))
#else
#define AB_API
#endif

typedef enum ab_status {
    AB_OK = 0,
    AB_ERR_NOMEM,       /* an allocation failed */
    AB_ERR_ARG,         /* a caller passed a bad argument or called in the wrong state */
    AB_ERR_IO,          /* open/read/stat failed (errno is in the message) */
    AB_ERR_PARSE,       /* malformed input (IOC line, rule file) */
    AB_ERR_RULES,       /* YARA rules failed to compile or load */
    AB_ERR_LIMIT,       /* a documented limit was hit */
    AB_ERR_TIMEOUT,     /* a per-object time limit was hit */
    AB_ERR_CRASH,       /* a worker died on a signal while scanning an object */
    AB_ERR_UNSUPPORTED, /* not supported on this platform or by this build */
    AB_ERR_NOTFOUND,    /* a named pack, process or file does not exist */
    AB_ERR_INTERNAL,    /* a bug: please report */
} ab_status;

/* A static string describing a status. Never NULL. */
AB_API const char *ab_strerror(ab_status st);

/* The versions of antibody and of the matching libraries in this build (static strings). */
typedef struct ab_versions {
    const char *antibody;
    const char *yara;       /* the libyara headers the library was built with */
    const char *vectorscan; /* the running vectorscan/Hyperscan (hs_version) */
} ab_versions;
AB_API void ab_versions_get(ab_versions *v);

/* Initialise/finalise libyara. Call once per process, before/after everything else. */
AB_API ab_status ab_init(void);
AB_API void ab_finish(void);

/* ---- Events delivered to the sink ---------------------------------------------------------- */

typedef enum ab_event_kind {
    AB_EVENT_FINDING = 1,
    AB_EVENT_ERROR,   /* an object could not be (fully) scanned; the sweep went on */
    AB_EVENT_SKIP,    /* an object was deliberately not scanned; see ab_skip_reason */
    AB_EVENT_OBJECT,  /* an object was scanned (only when ab_scanner_set_list_objects is on) */
    AB_EVENT_SUMMARY, /* last event of every scan call */
    AB_EVENT_LOAD,    /* what a sweep runs with (u.load): from ab_scanner_load_info, for reporters;
                       * the library delivers none itself */
    AB_EVENT_WARNING, /* something left out or worth a look that is not an error; u.error. The
                       * library delivers none during scans yet: reporters get load warnings
                       * (ab_diag_fn, AB_DIAG_WARNING) from the caller in this form */
    AB_EVENT_FLOW,    /* what a flow or one of its transactions was (u.flow; only when
                       * ab_scanner_set_flow_records is on) */
} ab_event_kind;

typedef enum ab_skip_reason {
    AB_SKIP_TOO_LARGE = 0, /* larger than max_filesize */
    AB_SKIP_EXCLUDED,      /* matched an exclude pattern (glob or regex) */
    AB_SKIP_SPECIAL,       /* FIFO, socket, device */
    AB_SKIP_SYMLINK,       /* a symlink, not followed */
    AB_SKIP_PSEUDO_FS,     /* under /proc, /sys or /dev */
    AB_SKIP_OTHER_FS,      /* another file system with one_file_system */
    AB_SKIP_DEPTH,         /* deeper than max_depth */
    AB_SKIP_LOOP,          /* a directory already visited (symlink loop) */
    AB_SKIP_SELF,          /* antibody's own process */
    AB_SKIP_ALLOWLIST,     /* hash on an allow-list: findings suppressed */
    AB_SKIP_NO_ACCESS,     /* a process the caller may not read (all-process sweeps only) */
    AB_SKIP_REMOTE_FS,     /* a network or FUSE mount met inside the walk */
    AB_SKIP_EXITED,        /* a process that exited before it could be read (all-process sweeps) */
    AB_SKIP_ENCRYPTED,     /* a member of a container that is encrypted and no password opened */
    AB_SKIP_UNPACK_LIMIT,  /* a member (or the rest of a container) left out by an unpack limit:
                            * depth, members, bytes unpacked or ratio (ab_unpack_limits) */
    AB_SKIP_REASON_COUNT
} ab_skip_reason;

/* A stable lower-case token for a skip reason ("too-large", ...), used in JSON and summaries. */
AB_API const char *ab_skip_reason_name(ab_skip_reason r);

typedef enum ab_matcher_kind {
    AB_MATCHER_YARA = 1,
    AB_MATCHER_HASH,
    AB_MATCHER_NAME,
    AB_MATCHER_CONNECTION, /* a live socket's address is an ip/cidr IOC (ab_scan_connections) */
    AB_MATCHER_LOOKALIKE,  /* a file or process name imitating a system binary (svch0st.exe) */
    AB_MATCHER_LIMIT,      /* an unpack limit was hit (a zip bomb is itself suspicious): rule is the
                            * limit's name ("max-ratio", ...) */
    AB_MATCHER_OBSERVABLE, /* a value a source found (a URL in a mail body, a sender address, a
                            * link in HTML) is an url/domain/email/ip/cidr IOC: rule is the IOC,
                            * value/value_type/where say what matched and where it was found */
    AB_MATCHER_MAIL_SIGNAL, /* a phishing signal of a message or HTML part (docs/mail-signals.md):
                             * rule is the signal's stable name */
} ab_matcher_kind;

/* "yara", "hash", "name", "connection", "lookalike", "limit", "observable", "mail-signal". */
AB_API const char *ab_matcher_name(ab_matcher_kind m);

typedef struct ab_meta {
    const char *key;
    const char *str; /* value as text (integers and booleans are rendered) */
    int is_int;      /* 1: integer meta, ival holds it */
    int is_bool;     /* 1: boolean meta, ival is 0/1 */
    int64_t ival;
} ab_meta;

/* The message an object is, or belongs to (a part, an attachment, a member of an attachment).
 * Header values are decoded (RFC 2047) to UTF-8 where they can be; NULL when absent. */
typedef struct ab_mail_info {
    const char *message_id; /* without the angle brackets */
    const char *date;       /* the Date header as written */
    double date_epoch;      /* the Date header parsed, seconds since the epoch; 0 when unparsable */
    const char *from;       /* the From header (display name and address) */
    const char *to;         /* To, then Cc, comma-separated */
    const char *subject;
    /* The MIME part path of the object in its message ("1", "2.1": RFC 3501 numbering); NULL
     * for the message itself. A member of an attachment has its attachment's part. */
    const char *part;
    /* Where the message is in the object's location chain: location[depth] is the message (0:
     * the file on disk is the message). */
    unsigned depth;
} ab_mail_info;

/* The network flow an object was carried in, or a value was read from (captures). Addresses are
 * text (IPv4 dotted, IPv6 RFC 5952). */
typedef struct ab_flow_info {
    uint64_t id;         /* unique in its capture, from 1 in order of first packet */
    double start;        /* the flow's first packet, seconds since the epoch */
    double time;         /* the packet the object or value was complete in; 0: unknown */
    const char *proto;   /* "tcp", "udp", "icmp", "icmpv6", or the IP protocol number */
    const char *src_ip;  /* the client: the end that opened the flow */
    uint16_t src_port;   /* 0 unless TCP or UDP */
    const char *dest_ip; /* the server */
    uint16_t dest_port;
    const char *direction; /* "to_server", "to_client", or NULL: the flow as a whole */
    const char *app_proto; /* "http", "tls", "dns", "smtp", "smtp+tls"; NULL: not known */
    uint16_t vlan;         /* the outermost 802.1Q id; 0: none */
} ab_flow_info;

/* What was scanned. Strings are NUL-terminated bytes, not necessarily UTF-8 (file names). */
typedef struct ab_object_info {
    const char *path;            /* file on disk; for a process "pid:NNN" */
    const char *const *location; /* chain from the file on disk down to the object: the path,
                                  * then one member name per level of containers */
    /* Parallel to location: the source that produced each element ("file", "process", "zip",
     * "tar+gzip", "ole", "vba", "pdf", ...); NULL (the array, or an element) when unknown. */
    const char *const *location_source;
    size_t location_len; /* >= 1 */
    uint64_t size;
    const char *md5, *sha1, *sha256; /* lower-case hex, or NULL when not computed */
    pid_t pid;                       /* > 0 for process-memory objects */
    const char *process_name;        /* process objects only, else NULL */
    const char *cmdline;             /* process objects only, else NULL (args joined by ' ') */
    /* Process objects (pid > 0): the context of the process. */
    const char *exe;   /* its executable's path, or NULL when unreadable */
    int exe_deleted;   /* 1: that file was deleted or replaced since the process started */
    pid_t ppid;        /* parent, 0 when unknown */
    const char *user;  /* the real user's name (or uid as text), NULL when unknown */
    double start_time; /* seconds since the epoch, 0 when unknown */
    /* Files on disk (has_file): what THOR and Loki report with a finding. */
    int has_file;
    uint32_t mode;              /* st_mode: type and permission bits */
    const char *owner, *group;  /* names, or the numeric ids as text when unknown */
    double mtime, ctime, atime; /* seconds since the epoch */
    const char *filetype;       /* Loki/THOR type from the magic ("EXE", "ZIP", "UNKNOWN") */
    /* Objects inside containers (location_len > 1): what the container says of the member. */
    double member_mtime;  /* seconds since the epoch, 0 when unknown */
    uint32_t member_mode; /* type and permission bits, 0 when unknown */
    /* What sources found in the object (a PDF's URI actions: type "url"), in order. */
    const char *const *observable_type;
    const char *const *observable_value;
    size_t observables_len;
    /* Parallel to observable_type: where each was found ("pdf.uri", "mail.header", "mail.body",
     * "html.href", ...); the array or an element may be NULL. */
    const char *const *observable_where;
    /* Objects from mail: the message; NULL otherwise. */
    const ab_mail_info *mail;
    /* Objects from captures: the flow; NULL otherwise. */
    const ab_flow_info *flow;
} ab_object_info;

/* One matched string of a YARA finding (ab_scanner_set_strings): at most AB_MAX_STRING_MATCHES
 * per finding, each with at most AB_MATCH_DATA_MAX bytes of data. */
#define AB_MAX_STRING_MATCHES 16
#define AB_MATCH_DATA_MAX     64
typedef struct ab_string_match {
    const char *identifier; /* "$a" */
    uint64_t offset;        /* in the object; in process memory, the virtual address */
    uint32_t length;        /* of the whole match */
    uint32_t data_len;      /* bytes in data: min(length, AB_MATCH_DATA_MAX) */
    const uint8_t *data;    /* the first bytes of the match (any bytes, NUL included) */
    const char *region;     /* process memory: "0xSTART-0xEND PERMS [FILE]" of the region holding
                             * the match (/proc/PID/maps), or NULL */
} ab_string_match;
/* A TCP or UDP socket of the host (AB_MATCHER_CONNECTION findings). */
typedef struct ab_connection {
    const char *protocol;    /* "tcp", "tcp6", "udp" or "udp6": the kernel table it is in */
    const char *local_addr;  /* text; an IPv4-mapped IPv6 address is written as IPv4 */
    unsigned local_port;     /* 0..65535 */
    const char *remote_addr; /* "0.0.0.0" or "::" with port 0 when not connected */
    unsigned remote_port;
    const char *state;   /* "ESTABLISHED", "LISTEN", "TIME_WAIT", ...; UDP: "UNCONN" or
                          * "ESTABLISHED" (connected) */
    uint64_t inode;      /* the socket's inode; 0 when no process holds it (e.g. TIME_WAIT) */
    uint32_t uid;        /* the socket's owner as the kernel records it */
    const char *matched; /* "remote" or "local": the side whose address is the IOC */
} ab_connection;

typedef struct ab_finding {
    ab_object_info obj;
    ab_matcher_kind matcher;
    const char *rule;           /* YARA rule name, or the IOC value that matched */
    const char *rule_namespace; /* YARA namespace, or the IOC source file */
    const char *const *tags;
    size_t tags_len;
    const ab_meta *meta;
    size_t meta_len;
    const char *description; /* from meta/IOC, or NULL */
    const char *family;      /* meta "family"/"malware_family", or NULL */
    int score;               /* 0..100: meta "score" (default 75) or IOC score */
    const char *severity;    /* "info", "low", "medium", "high", "critical" from score */
    const char *reason;      /* a short human "why", e.g. "3 strings matched" or "sha256 IOC" */
    /* The verdict on the object, the same in each of its findings: the scores of all its
     * findings combined with THOR's formula (docs/findings.md), and the level it reaches
     * (ab_scanner_set_levels): "alert", "warning", "notice" or "info". */
    int object_score;
    const char *level;
    /* YARA findings with ab_scanner_set_strings: the matched strings, in string order; matches
     * past AB_MAX_STRING_MATCHES are counted in strings_omitted. */
    const ab_string_match *strings;
    size_t strings_len;
    uint64_t strings_omitted;
    /* AB_MATCHER_CONNECTION findings: the socket; NULL for the other matchers */
    const ab_connection *conn;
    /* AB_MATCHER_OBSERVABLE and AB_MATCHER_MAIL_SIGNAL: the value that matched or that the signal
     * is about (a URL, an address, a domain, an attachment name), its type ("url", "domain",
     * "email", "ip", "name") and where it was found ("mail.header", "html.href", ...); NULL when
     * not applicable. */
    const char *value, *value_type, *where;
} ab_finding;

typedef struct ab_error {
    const char *path; /* may be NULL for errors not tied to an object */
    const char *const *location;
    size_t location_len;
    ab_status status;
    const char *message;                /* one line, no trailing newline */
    const char *const *location_source; /* as in ab_object_info; may be NULL */
} ab_error;

typedef struct ab_skip {
    const char *path;
    ab_skip_reason reason;
    uint64_t size; /* when known, else 0 */
    /* A member of a container: its location (as in ab_object_info); location_len 0 (location
     * NULL) for a file or process, which path names alone. */
    const char *const *location;
    const char *const *location_source;
    size_t location_len;
} ab_skip;

/* What the captures a scan read (pcap and pcapng files, given to `antibody pcap` or met in a
 * sweep, also inside containers) came to, summed over them: how much was read and, above all,
 * what the memory bounds (ab_scanner_set_capture_limits) and the capture itself left out. */
typedef struct ab_net_summary {
    uint64_t captures;      /* captures read to their end or cut short */
    uint64_t frames, bytes; /* frames read and their captured bytes */
    uint64_t packets;       /* decoded to IP (fragments joined) */
    uint64_t malformed;     /* frames the decoder rejected */
    uint64_t truncated;     /* frames cut by the capture's snapshot length */
    uint64_t flows;         /* flows seen (TCP, UDP, other) */
    uint64_t peak_flows;    /* the most flows open at once in one capture (the largest) */
    uint64_t flows_evicted; /* flows ended early: --max-flows were open (least recent first) */
    uint64_t flows_memcap;  /* flows ended early: the memory they held (kept stream bytes,
                             * payloads being assembled) was over --stream-memcap (least
                             * recent first) */
    uint64_t flows_timeout; /* flows ended by an idle timeout (packet time; no loss) */
    uint64_t gaps;          /* holes in TCP streams given up (loss, a cap, a short capture) */
    uint64_t gap_bytes;     /* their bytes: never seen by a parser or rule */
    uint64_t ooo_dropped;   /* out-of-order TCP segments not held at a memory cap (their hole
                             * became a gap) */
    uint64_t fragments;     /* IP fragments read */
    uint64_t frag_dropped;  /* fragmented datagrams dropped (a cap, a conflict) or timed out */
    uint64_t depth_cut;     /* stream directions cut at --stream-depth */
    uint64_t memcap_cut;    /* stream directions and payloads whose kept bytes were cut at
                             * --stream-memcap */
    uint64_t parser_errors; /* flows an application parser gave up on (malformed protocol) */
} ab_net_summary;

typedef struct ab_summary {
    uint64_t objects; /* files (or processes) scanned */
    uint64_t bytes;   /* bytes handed to matchers */
    uint64_t skipped[AB_SKIP_REASON_COUNT];
    uint64_t skipped_total;
    uint64_t errors; /* error events, plus 1 when interrupted (the sweep is incomplete) */
    uint64_t findings;
    double seconds;        /* wall time of the scan call */
    int interrupted;       /* 1: ab_scanner_cancel stopped the scan: not everything was scanned */
    uint64_t suppressed;   /* findings not reported: their object scored below the minimum score */
    uint64_t members;      /* objects inside containers scanned (not counted in objects) */
    uint64_t member_bytes; /* their bytes (not counted in bytes) */
    const char *current;   /* progress callbacks only: an object being scanned, or NULL */
    const struct ab_capture_summary *capture; /* ab_scan_live only: the capture's counters */
    /* The captures read (valid during the call, as the rest of the event); NULL when the scan
     * read none. */
    const ab_net_summary *net;
} ab_summary;

/* What a live capture (ab_scan_live) saw and lost. The kernel's counters are libpcap's
 * (pcap_stats: on Linux since the capture was opened); kernel_ok 0 when it could not say. */
typedef struct ab_capture_summary {
    const char *interface;
    uint64_t packets;           /* frames read from the interface (after --bpf) */
    uint64_t bytes;             /* their captured bytes */
    int kernel_ok;              /* the three kernel counters below are known */
    uint64_t kernel_received;   /* ps_recv: packets that passed the filter */
    uint64_t kernel_dropped;    /* ps_drop: dropped by the kernel, its buffer full (we were slow) */
    uint64_t interface_dropped; /* ps_ifdrop: dropped by the interface or its driver */
    uint64_t dropped_behind;    /* frames antibody dropped itself: the worker was behind and the
                                 * parent's backlog full (whole batches, never silently) */
    uint64_t worker_restarts;   /* workers lost (crash, deadline) and replaced; their flows in
                                 * flight were lost, each said in an error event */
} ab_capture_summary;

/* One add call's content: an ab_scanner_add_rules/_iocs/_pack or _rules_string call. */
typedef struct ab_content_source {
    const char *kind; /* "rules", "iocs" or "pack" */
    const char *name; /* the path or pack name as given */
    size_t rules;     /* YARA rules it contributed (after compile) */
    size_t iocs;      /* indicators it contributed */
} ab_content_source;

/* What a compiled scanner sweeps with. Pointers stay valid while the scanner lives. */
typedef struct ab_load_info {
    ab_versions versions;
    size_t rules, iocs, iocs_unmatched;
    size_t rule_warnings; /* rules with YARA compiler warnings */
    const ab_content_source *sources;
    size_t n_sources;
    /* SHA-256 (hex) of the compiled rule sets and the indicators: hosts swept with the same
     * content, from whatever files, show the same digest. */
    const char *digest;
} ab_load_info;

/* A flow of a capture, or one of its transactions (an HTTP request and response, a DNS message, a
 * TLS handshake, an SMTP session), for triage without rules (antibody pcap --flows). */
typedef struct ab_flow_record {
    const char *path;                   /* the capture's file */
    const char *const *location;        /* down to the capture (it may be a member) */
    const char *const *location_source; /* parallel; may be NULL */
    size_t location_len;                /* >= 1 */
    const ab_flow_info *flow;           /* direction NULL: the flow as a whole */
    const char *type;                   /* "flow", "http", "dns", "tls", "smtp" */
    const char *json;                   /* one JSON object: the record's own keys
                                         * (docs/findings.md, Flows); valid JSON, checked */
    size_t json_len;
} ab_flow_record;

typedef struct ab_event {
    ab_event_kind kind;
    double time; /* seconds since the epoch when the event was produced */
    union {
        ab_finding finding;
        ab_error error; /* AB_EVENT_ERROR and AB_EVENT_WARNING */
        ab_skip skip;
        ab_object_info object;
        ab_summary summary;
        ab_load_info load;
        ab_flow_record flow;
    } u;
} ab_event;

/* The sink. Called in the thread that called the scan function. Pointers in ev are valid only
 * during the call: copy what you keep. Returning non-zero asks the scan to stop early. */
typedef int (*ab_sink_fn)(void *ctx, const ab_event *ev);

typedef struct ab_sink {
    ab_sink_fn fn;
    void *ctx;
} ab_sink;

/* Optional progress callback (called at most ~10 times per second from the scanning thread). */
typedef void (*ab_progress_fn)(void *ctx, const ab_summary *so_far);

/* Diagnostics while loading content. `where` is "file:line" or a file name; message is one line.
 * Errors: a rule file that does not compile, a malformed IOC line, an unreadable or missing file,
 * a content folder with nothing to load: content the caller asked for is missing. Warnings:
 * content that was loaded but cannot work as written (e.g. a filename regex vectorscan cannot
 * compile, or one that can never match a path), or a file of a rules folder that was skipped: it
 * is left out, and the rest works as asked; or that works otherwise than
 * written (a YARA rule's score outside 0..100 is clamped: where "rule NAME", message "score 150
 * clamped to 100"). Notes: remarks that change nothing (YARA compiler
 * warnings such as slow strings); they only reach an ab_diag2_fn, never an ab_diag_fn. */
typedef enum ab_diag_level { AB_DIAG_ERROR = 0, AB_DIAG_WARNING, AB_DIAG_NOTE } ab_diag_level;
typedef void (*ab_diag_fn)(void *ctx, ab_diag_level level, const char *where, const char *message);

/* The same diagnostic with its parts apart (ab_scanner_set_diag). Pointers are valid only during
 * the call. */
typedef struct ab_diag {
    ab_diag_level level;
    ab_status status;    /* why: AB_ERR_NOTFOUND (missing file, empty folder), AB_ERR_IO,
                          * AB_ERR_PARSE (IOC line), AB_ERR_RULES (YARA compile error),
                          * AB_ERR_LIMIT, AB_ERR_UNSUPPORTED (a skipped file's type)...; AB_OK for
                          * notes */
    const char *file;    /* the file concerned, or a description ("filename regex"); never NULL */
    unsigned line;       /* 1-based line in file, 0 when none */
    const char *rule;    /* the YARA rule concerned (notes), or NULL */
    const char *message; /* one line, no trailing newline */
} ab_diag;
typedef void (*ab_diag2_fn)(void *ctx, const ab_diag *d);

/* ---- The scanner ---------------------------------------------------------------------------- */

typedef struct ab_scanner ab_scanner;

AB_API ab_status ab_scanner_new(ab_scanner **out);
AB_API void ab_scanner_free(ab_scanner *sc);

/* Last error message of a failed call on this scanner (never NULL, may be ""). */
AB_API const char *ab_scanner_last_error(const ab_scanner *sc);

/* Settings; call before ab_scanner_compile. Defaults are in docs/antibody.1. */
AB_API ab_status ab_scanner_set_workers(ab_scanner *sc, unsigned n); /* 0: online cores */
AB_API ab_status ab_scanner_set_max_filesize(ab_scanner *sc,
                                             uint64_t bytes); /* 256 MiB; 0: no limit */
AB_API ab_status ab_scanner_set_timeout(ab_scanner *sc,
                                        unsigned seconds); /* per object, default 60 */
AB_API ab_status ab_scanner_set_max_depth(ab_scanner *sc, unsigned depth); /* default 64 */
/* Exclude patterns (at most 4096 in all, each at most 4096 bytes), for ab_scan_paths. A glob
 * (glob(7): '*' and '?' do not match '/', '**' does, a leading dot needs no explicit match)
 * without '/' is matched against the base name; one with '/' against the full path, the path
 * below the PATH being swept and the path below the current directory ("./sub" and "sub/x" work
 * with relative PATHs); a trailing '/' matches directories only. AB_ERR_ARG: empty or too long,
 * AB_ERR_LIMIT: too many. An excluded directory is not entered (AB_SKIP_EXCLUDED). */
AB_API ab_status ab_scanner_add_exclude(ab_scanner *sc, const char *glob);
/* A POSIX extended regular expression searched (unanchored, case-insensitive, as Loki's
 * excludes.cfg) in the full path. AB_ERR_PARSE (message in ab_scanner_last_error) when it does
 * not compile or uses a back-reference. */
AB_API ab_status ab_scanner_add_exclude_regex(ab_scanner *sc, const char *regex);
/* Globs from a file, one per line; blank lines and lines starting with '#' are ignored, leading
 * and trailing blanks dropped. Lines are at most 4096 bytes, the file at most 4 MiB. On failure
 * (AB_ERR_NOTFOUND, AB_ERR_IO, AB_ERR_LIMIT, AB_ERR_ARG) ab_scanner_last_error says "FILE:LINE:
 * why"; patterns of earlier lines stay added. */
AB_API ab_status ab_scanner_add_exclude_file(ab_scanner *sc, const char *path);
/* The exclude patterns, in the order added, and what each did in the last ab_scan_paths. */
typedef struct ab_exclude_info {
    const char *pattern; /* as given; valid while the scanner lives */
    int is_regex;        /* 1: added with ab_scanner_add_exclude_regex */
    uint64_t matched;    /* paths it excluded in the last sweep (0: it matched nothing) */
} ab_exclude_info;
AB_API size_t ab_scanner_exclude_count(const ab_scanner *sc);
AB_API ab_status ab_scanner_exclude_info(const ab_scanner *sc, size_t i, ab_exclude_info *out);
AB_API ab_status ab_scanner_set_follow_symlinks(ab_scanner *sc, int on);
AB_API ab_status ab_scanner_set_one_file_system(ab_scanner *sc, int on);
AB_API ab_status ab_scanner_set_scan_pseudo_fs(ab_scanner *sc,
                                               int on); /* default off: skip /proc,... */
/* Default off: network (NFS, SMB, 9p, Ceph, AFS) and FUSE mount points met inside the walk are
 * skipped (a hung server would hang the sweep; a FUSE file system is run by its user). Roots the
 * caller names are always scanned. */
AB_API ab_status ab_scanner_set_scan_remote_fs(ab_scanner *sc, int on);
AB_API ab_status ab_scanner_set_hash(ab_scanner *sc, int on); /* compute hashes for every object */
/* AB_EVENT_FLOW per flow and per transaction of every capture read (default off: the parsers then
 * build no records). */
AB_API ab_status ab_scanner_set_flow_records(ab_scanner *sc, int on);
/* 0: the files given are containers only: no matcher runs on their own bytes, only on what the
 * sources find in them (antibody pcap: a capture's flows and payloads, not its raw bytes, which
 * would only repeat the stream matches). Default 1. */
AB_API ab_status ab_scanner_set_match_top_level(ab_scanner *sc, int on);
/* Memory bounds of every capture read (antibody pcap, captures met in a sweep): nothing grows
 * with the capture's size (docs/antibody.1, NETWORK). */
typedef struct ab_capture_limits {
    uint64_t stream_depth; /* bytes of each flow direction read by the parsers and kept for
                            * stream rules ("--stream-depth"), also the largest payload object
                            * (an HTTP body); 1 MiB; 1..AB_CAPTURE_MAX_DEPTH */
    uint64_t max_flows;    /* flows open at once ("--max-flows"): past it the least recently
                            * active flow is ended early; 65536; 1..AB_CAPTURE_MAX_FLOWS */
    uint64_t
        stream_memcap; /* memory held over all open flows ("--stream-memcap"): stream bytes
                        * kept and payloads being assembled; past it
                        * the least recently active flows are ended early (matched with
                        * what they kept); out-of-order segments are held up to a quarter
                        * of it besides; 256 MiB; AB_CAPTURE_MIN_MEMCAP..AB_CAPTURE_MAX_MEMCAP */
} ab_capture_limits;
#define AB_CAPTURE_MAX_DEPTH  ((uint64_t)1 << 30)
#define AB_CAPTURE_MAX_FLOWS  ((uint64_t)1 << 24)
#define AB_CAPTURE_MIN_MEMCAP ((uint64_t)1 << 20)
#define AB_CAPTURE_MAX_MEMCAP ((uint64_t)64 << 30)
AB_API void ab_capture_limits_default(ab_capture_limits *l);
/* AB_ERR_ARG (and ab_scanner_last_error) for a value outside its range. */
AB_API ab_status ab_scanner_set_capture_limits(ab_scanner *sc, const ab_capture_limits *l);
/* 1 when data (len bytes, the first 24 are enough) starts like a pcap or pcapng capture: how
 * `antibody pcap` checks its inputs. Reads the magic numbers only. */
AB_API int ab_is_capture(const void *data, size_t len);
AB_API ab_status ab_scanner_set_list_objects(ab_scanner *sc,
                                             int on); /* AB_EVENT_OBJECT per object */
AB_API ab_status ab_scanner_set_progress(ab_scanner *sc, ab_progress_fn fn, void *ctx);
AB_API ab_status ab_scanner_set_strict(ab_scanner *sc, int on); /* malformed IOC lines are fatal */
/* Sweeping production servers gently: each worker rests after an object so that it uses at most
 * percent of one core (1..99; 0 or 100: no limit), and all workers together read at most
 * bytes_per_second (0: no limit). Averages over objects: a large file is read at full speed and
 * paid for by rests of at most 5 s after it and the next objects. */
AB_API ab_status ab_scanner_set_max_cpu(ab_scanner *sc, unsigned percent);
AB_API ab_status ab_scanner_set_max_io(ab_scanner *sc, uint64_t bytes_per_second);
/* Report the matched strings of YARA findings (ab_finding.strings). Default off. */
AB_API ab_status ab_scanner_set_strings(ab_scanner *sc, int on);
/* Report an object's findings only when its combined score reaches score (0..100; default 0:
 * all). The others are counted in ab_summary.suppressed. */
AB_API ab_status ab_scanner_set_min_score(ab_scanner *sc, unsigned score);
/* Level thresholds of the combined score (THOR's: 80, 60, 40); alert >= warning >= notice,
 * each 0..100. Below notice the level is "info". */
AB_API ab_status ab_scanner_set_levels(ab_scanner *sc, unsigned alert, unsigned warning,
                                       unsigned notice);
/* Every diagnostic of this scanner's add and compile calls goes to fn (with its status) instead of
 * the ab_diag_fn those calls are given, notes included. fn NULL: back to the per-call callbacks.
 * May be called at any time. */
AB_API ab_status ab_scanner_set_diag(ab_scanner *sc, ab_diag2_fn fn, void *ctx);
/* Default on: ab_scanner_add_rules descends into the subfolders of a rules folder. */
AB_API ab_status ab_scanner_set_rules_recurse(ab_scanner *sc, int on);
/* Default on: report file base names and process names that imitate a protected name (built-in
 * system binaries and protected-name IOCs) by one edit or homoglyphs (docs/lookalike.md). */
AB_API ab_status ab_scanner_set_lookalike(ab_scanner *sc, int on);
/* Looking inside: archives, compressed streams and documents are opened in memory (never
 * extracted to disk) and every member is scanned like a file, recursively (docs/antibody.1,
 * LOOKING INSIDE). Default on. */
AB_API ab_status ab_scanner_set_unpack(ab_scanner *sc, int on);
/* Limits per top-level file (ClamAV's in spirit). Hitting one is an AB_MATCHER_LIMIT finding
 * (rule: the limit's name) and the members it leaves out are AB_SKIP_UNPACK_LIMIT (or
 * AB_SKIP_TOO_LARGE for max_member_size); the rest of the file is still scanned as far as the
 * limits allow. Memory stays bounded by these, never by what a container's headers claim. */
typedef struct ab_unpack_limits {
    unsigned max_depth;       /* containers in containers ("max-unpack-depth"), 1..15; 8 */
    uint64_t max_member_size; /* bytes of one member ("max-member-size"); 100 MiB */
    uint64_t max_unpacked;    /* bytes produced from one file in all ("max-unpacked"); 400 MiB */
    unsigned max_ratio;       /* unpacked / packed bytes of a member past 1 MiB ("max-ratio"); 250;
                               * 0: no ratio limit */
    uint64_t max_members;     /* members of one file, at every level ("max-members"); 10000 */
} ab_unpack_limits;
AB_API void ab_unpack_limits_default(ab_unpack_limits *l);
/* AB_ERR_ARG for a zero size or count, or a depth outside 1..15. */
AB_API ab_status ab_scanner_set_unpack_limits(ab_scanner *sc, const ab_unpack_limits *l);
/* A password to try on encrypted members (zip, 7z, rar), in the order added; at most 256, each at
 * most 1024 bytes. Encrypted members no password opens are AB_SKIP_ENCRYPTED. */
AB_API ab_status ab_scanner_add_password(ab_scanner *sc, const char *password);
/* A domain whose lookalikes are reported when they send mail or are linked to (the
 * "lookalike-domain" mail signal, docs/mail-signals.md): a registered domain such as
 * "our-university.ac.uk", IDNA or UTF-8, any case; kept as lower-case A-labels (a subdomain
 * protects its registered domain); at most 1024. AB_ERR_ARG (and ab_scanner_last_error) when it
 * is not a domain name, or is a public suffix ("ac.uk") or a single label. */
AB_API ab_status ab_scanner_add_protected_domain(ab_scanner *sc, const char *domain);

/* YARA rules: a .yar/.yara file, a compiled file from yarac (known by its content, whatever its
 * name), or a folder of them, with its subfolders (ab_scanner_set_rules_recurse; at most 32 levels
 * and 100,000 entries; names starting with '.', '~' or '_' are ignored). In a folder, any other
 * file is skipped with a warning naming it; a folder with no rule file at all is an error
 * (AB_ERR_NOTFOUND through diag; the call still returns AB_OK, as for IOC folders). A missing
 * path is reported through diag (AB_ERR_NOTFOUND) and returned. Compiled files and the compiled
 * sources are separate rule sets, each object is scanned by each (at most 63 compiled files).
 * A source file that fails to compile is reported through diag and skipped; the others still load
 * (AB_ERR_RULES is returned only when nothing usable loaded). All source files share the
 * namespace "default"; a file already added (same inode) is not added again. */
AB_API ab_status ab_scanner_add_rules(ab_scanner *sc, const char *path, ab_diag_fn diag, void *ctx);
/* Rules from memory (namespace may be NULL). */
AB_API ab_status ab_scanner_add_rules_string(ab_scanner *sc, const char *source, const char *name,
                                             const char *ns, ab_diag_fn diag, void *ctx);

/* IOC files or folders (docs/ioc-format.md and the Loki/THOR list formats). */
AB_API ab_status ab_scanner_add_iocs(ab_scanner *sc, const char *path, ab_diag_fn diag, void *ctx);

/* Built-in packs. */
typedef struct ab_pack_info {
    const char *name;
    const char *description;
    size_t rules; /* YARA rules */
    size_t iocs;  /* indicators */
} ab_pack_info;
AB_API size_t ab_pack_count(void);
/* Fills *out for pack i (counts are computed by compiling; may be slow-ish). */
AB_API ab_status ab_pack_info_get(size_t i, ab_pack_info *out);
AB_API ab_status ab_scanner_add_pack(ab_scanner *sc, const char *name, ab_diag_fn diag, void *ctx);

/* Freeze the configuration: compile YARA rules and IOC matchers. */
AB_API ab_status ab_scanner_compile(ab_scanner *sc, ab_diag_fn diag, void *ctx);

/* Ask a running ab_scan_paths/ab_scan_pids to stop soon: no new objects are started, workers are
 * ended, and the summary is still delivered, with interrupted = 1. Async-signal-safe (it only
 * sets a flag), so a SIGINT handler may call it. A cancel made before a scan starts stops that
 * scan at once; the flag is cleared when a scan ends. */
AB_API void ab_scanner_cancel(ab_scanner *sc);

/* Number of YARA rules / IOCs loaded (after compile). */
AB_API size_t ab_scanner_rule_count(const ab_scanner *sc);
AB_API size_t ab_scanner_ioc_count(const ab_scanner *sc);
/* What a scan call looks at. */
typedef enum ab_scan_scope {
    AB_SCOPE_FILES = 1,       /* ab_scan_paths, ab_scan_buffer */
    AB_SCOPE_PROCESSES = 2,   /* process memory: ab_scan_pids */
    AB_SCOPE_CONNECTIONS = 4, /* the host's sockets: ab_scan_connections */
} ab_scan_scope;
/* Of those, the indicators that a scan of the given scope (ab_scan_scope bits, or'ed) loads but
 * cannot match: the network and mail types (ip, cidr, domain, url, email, ja3, ja3s, cert-sha1,
 * cert-sha256), except ip and cidr when the scope includes AB_SCOPE_CONNECTIONS, and ip, cidr,
 * domain, url and email when it includes AB_SCOPE_FILES (observables of unpacked files: a PDF's
 * URI, a mail's links, addresses and hops). ja3, ja3s and the cert types are never matched. */
AB_API size_t ab_scanner_ioc_count_unmatched(const ab_scanner *sc, unsigned scope);
/* What the scanner sweeps with (after compile): counts per add call, the content digest and the
 * versions; iocs_unmatched for a scan of scope (ab_scan_scope bits). For the "load" record a report
 * starts with. */
AB_API ab_status ab_scanner_load_info(ab_scanner *sc, unsigned scope, ab_load_info *out);
/* YARA rules loaded with compiler warnings (slow strings and the like), after compile: each is
 * one AB_DIAG_NOTE (the first warning, and how many more) to an ab_diag2_fn. */
AB_API size_t ab_scanner_rule_warning_count(const ab_scanner *sc);

/* ---- Scanning -------------------------------------------------------------------------------- */

/* Sweep paths (files or directories) with the worker pool. Events go to sink; the last one is the
 * summary. Returns AB_OK when the sweep ran (even with per-object errors, which are events). */
AB_API ab_status ab_scan_paths(ab_scanner *sc, const char *const *paths, size_t n,
                               const ab_sink *sink);

/* Scan the memory of processes (pid list, or all readable processes when all != 0), isolated in
 * workers like files. antibody's own processes are never scanned; a pid listed twice is scanned
 * once. With all, kernel threads (no user memory) are left out, processes the caller may not read
 * are AB_SKIP_NO_ACCESS and processes that exit before they are read AB_SKIP_EXITED. With a pid
 * list those are errors: AB_ERR_NOTFOUND ("no such process", or it exited before it was read),
 * AB_ERR_IO (permission denied, with the reason), AB_ERR_UNSUPPORTED (a kernel thread). */
AB_API ab_status ab_scan_pids(ab_scanner *sc, const pid_t *pids, size_t n, int all,
                              const ab_sink *sink);

/* Match the host's TCP and UDP sockets (/proc/net/tcp, tcp6, udp, udp6: those of the network
 * namespace antibody runs in) against the ip and cidr IOCs: the remote address, and the local one
 * (a socket bound to an IOC address). Unspecified addresses (0.0.0.0, ::) are not matched. Each
 * match is one AB_MATCHER_CONNECTION finding per process holding the socket (obj.pid, path
 * "pid:N"); a socket whose holder cannot be found (another user's process without root, a
 * TIME_WAIT socket, one closed meanwhile) is still reported, with pid 0 and path "socket:INODE",
 * and the reason says why. Runs in the calling process (no workers: only kernel text is parsed).
 * The summary counts the sockets examined as objects (bytes 0). */
AB_API ab_status ab_scan_connections(ab_scanner *sc, const ab_sink *sink);

/* Several scopes in one scan call with one summary, in this order: AB_SCOPE_CONNECTIONS
 * (ab_scan_connections: quick, and connections are short-lived), AB_SCOPE_PROCESSES (every
 * process we may read, as ab_scan_pids with all), AB_SCOPE_FILES (ab_scan_paths over paths, n:
 * files stay). Objects in the summary are sockets plus processes plus files. AB_ERR_ARG for other
 * bits, or AB_SCOPE_FILES without paths. */
AB_API ab_status ab_scan_host(ab_scanner *sc, unsigned scope, const char *const *paths, size_t n,
                              const ab_sink *sink);

/* Live capture ("antibody sniff"): frames are read from an interface with libpcap in the calling
 * process, which never parses them; one worker decodes them, follows the flows and scans their
 * members (flow directions, HTTP bodies, SMTP messages) as in a capture file, each as it ends
 * (idle flows time out by the clock). All fields may be 0/NULL except interface. */
typedef struct ab_live_opts {
    const char *interface; /* "eth0", "lo", "any" */
    const char *bpf;       /* a pcap-filter(7) expression, or NULL: every packet */
    /* When running as root: once the capture is open (before any packet is read or any worker
     * started) the process becomes this user (supplementary groups, group, user; then checks that
     * root cannot be regained) with no new privileges. NULL: "nobody". Not root: nothing changes
     * (a capability such as CAP_NET_RAW is dropped once the capture is open). */
    const char *user;
    int no_promisc;      /* 1: do not put the interface in promiscuous mode */
    unsigned snaplen;    /* bytes kept per packet (0: 262144, at most 262144) */
    size_t buffer_bytes; /* the kernel's capture buffer (0: 32 MiB) */
    double duration;     /* stop after this many seconds (0: when cancelled) */
    uint64_t count;      /* stop after this many packets (0: no limit) */
    /* Called once the capture is open, privileges dropped and the worker started: the caller may
     * say it is listening. user: who the process runs as now. May be NULL. */
    void (*ready)(void *ctx, const char *interface, const char *user);
    void *ready_ctx;
} ab_live_opts;

/* Capture until ab_scanner_cancel (SIGINT, SIGTERM: the normal end of a live capture, so the
 * summary is complete, not interrupted), the duration or the count. Every flow still open at the
 * end is flushed and scanned. Returns AB_OK when the capture ran (errors on the way are events);
 * before that, AB_ERR_IO (the interface cannot be opened: ab_scanner_last_error says why, and
 * "root or CAP_NET_RAW is needed" when that is the reason), AB_ERR_PARSE (a bad bpf filter),
 * AB_ERR_NOTFOUND (no such user), AB_ERR_ARG. The summary carries an ab_capture_summary. A worker
 * that dies (a parser crash) or passes a deadline costs the flows in flight: one error event names
 * the member or says the pipeline, and a new worker goes on with the next packets. */
AB_API ab_status ab_scan_live(ab_scanner *sc, const ab_live_opts *opts, const ab_sink *sink);

/* A capture file (pcap or pcapng) read as a stream from fd (a pipe, standard input: "antibody
 * pcap -"), named name in locations ("stdin"). libpcap reads it in a process of its own; its
 * frames go to one worker as a live capture's (ab_scan_live: values are matched as they are read,
 * a worker lost costs the flows in flight and a new one goes on), but flows time out by the
 * capture's time, nothing is dropped (past the parent's backlog, fd is not read until the worker
 * catches up), ab_scanner_cancel leaves the summary interrupted, and the summary is that of a
 * capture file (no ab_capture_summary). A capture that libpcap rejects or that ends cut short is
 * an error event (what came before it is scanned). Returns AB_OK when the capture was read (errors
 * on the way are events), AB_ERR_ARG, AB_ERR_IO, AB_ERR_NOMEM. fd stays the caller's. */
AB_API ab_status ab_scan_capture_stream(ab_scanner *sc, int fd, const char *name,
                                        const ab_sink *sink);

/* Scan one buffer in the calling process (no workers, no isolation): for embedding and tests.
 * name is used as path and for the filename/extension externals. */
AB_API ab_status ab_scan_buffer(ab_scanner *sc, const void *data, size_t len, const char *name,
                                const ab_sink *sink);

#ifdef __cplusplus
}
#endif
#endif /* ANTIBODY_H */
