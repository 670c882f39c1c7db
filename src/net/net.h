/* net.h: the types the network pipeline's stages share (decode -> flow -> reassembly ->
 * app-layer -> matchers, docs in DEVELOPERS.md). Each stage is its own module in src/net/ and
 * knows only this header and the stage before it:
 *   decode.c      link layer .. L4 of one captured frame into an ab_pkt (IP fragments joined)
 *   flow.c        the flow table and TCP reassembly: in-order bytes of each direction
 *   http.c, dns.c, tls.c, smtp.c   application parsers over those bytes (ab_app_proto)
 * What the parsers find leaves through one ab_net_out: typed observables (matched against the
 * IOC store by the caller), payload objects (HTTP bodies, SMTP messages: scanned like files) and
 * transaction records (antibody pcap --flows).
 *
 * Everything here parses hostile bytes: every length is checked against what is there, every
 * count and byte of memory a parser keeps is bounded by a constant or a limit given to it, and
 * nothing recurses by what the input says. All of it runs in a sweep worker. */
#ifndef AB_NET_H
#define AB_NET_H

#include <stddef.h>
#include <stdint.h>

#include "intel/ipset.h" /* ab_ipaddr: 16 bytes, IPv4 as ::ffff:a.b.c.d */

/* Directions of a flow: the client is the end that sent the first SYN (or, picked up mid-stream,
 * the end with the higher port, ties by address), the server the other. */
enum { AB_DIR_TO_SERVER = 0, AB_DIR_TO_CLIENT = 1 };

/* One decoded packet (decode.h fills it). Pointers are borrowed: valid until the next call into
 * the decoder that made it. */
typedef struct ab_pkt {
    uint64_t ts_us; /* capture time, microseconds since the epoch */
    uint8_t ipver;  /* 4 or 6 */
    uint8_t proto;  /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, or another */
    ab_ipaddr src, dst;
    uint16_t sport, dport; /* host order; 0 unless TCP or UDP */
    /* TCP only */
    uint8_t tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 */
    uint32_t seq, ack;
    uint16_t win;
    /* The L4 payload (after the TCP/UDP/ICMP header) as far as it was captured. */
    const uint8_t *payload;
    size_t payload_len;
    uint32_t payload_missing; /* bytes of payload the IP length says and the capture cut off */
    uint16_t vlan;            /* outermost 802.1Q id, 0 when none */
    uint8_t tunnel;           /* 1: decoded from inside GRE or VXLAN */
    uint8_t reassembled;      /* 1: an IP datagram joined from fragments */
} ab_pkt;

/* A flow by its two ends, in either order: a flow given up after a worker was lost on it (its
 * later packets are not read: capture.h skip_flows). */
typedef struct ab_flow_key {
    ab_ipaddr a, b;
    uint16_t pa, pb;
    uint8_t proto;
} ab_flow_key;
#define AB_MAX_SKIP_FLOWS 8 /* flows given up in one capture: the latest ones */

/* 1 when packet p is of flow k, either way. */
int ab_flow_key_has(const ab_flow_key *k, const ab_pkt *p);

/* The flow a parser's bytes belong to, as the app layer and the outputs see it. */
typedef struct ab_flow_ref {
    uint64_t id;    /* unique in one capture, from 1 in order of first packet */
    uint64_t ts_us; /* time of the packet being processed */
    uint8_t ipver, proto;
    ab_ipaddr client, server;
    uint16_t client_port, server_port;
    uint16_t vlan;   /* the first packet's outermost 802.1Q id, 0 when none (not in the key) */
    const char *app; /* "http", "tls", "dns", "smtp", or NULL while unknown */
} ab_flow_ref;

/* Where parsed things go. Every pointer passed is valid during the call only; any callback may be
 * NULL. Implemented by the caller (the capture scanner; unit tests collect). */
typedef struct ab_net_out {
    void *ctx;
    /* A value a parser read: type is an IOC type name: "ip", "domain", "url", "email", "ja3",
     * "ja3s", "ja4", "cert-sha1", "cert-sha256" (hashes lower-case hex; ja3/ja3s the MD5, the
     * full string goes in the record); where a static token of where it was read
     * ("dns.query", "dns.answer", "http.host", "http.url", "tls.sni", "tls.cert.name",
     * "smtp.mail_from", ...). len bytes, no NUL needed. */
    void (*observable)(void *ctx, const ab_flow_ref *f, int dir, const char *type,
                       const char *where, const char *value, size_t len);
    /* A payload to scan like a file: an HTTP body (after transfer and content decoding), an SMTP
     * DATA message (unstuffed). names[0..n_names-1] is its location below the flow, such as
     * {"GET /update.zip", "response-body"}; media_type the declared type or NULL. truncated: 1
     * when the parser stopped keeping bytes at its limit (data is the first part). */
    void (*object)(void *ctx, const ab_flow_ref *f, int dir, const char *const *names,
                   size_t n_names, const uint8_t *data, size_t len, const char *media_type,
                   int truncated);
    /* A transaction finished (an HTTP request/response pair, a DNS query or answer, a TLS
     * handshake's facts, an SMTP session's envelope): json is one JSON object written with
     * report/json.h (ab_json; bytes that are not UTF-8 as that writer does them), such as
     * {"type":"http","method":"GET",...}; the caller adds the flow, the time and the framing.
     * Keys are documented in docs/findings.md ("Flows"); "type" says which kind. */
    void (*record)(void *ctx, const ab_flow_ref *f, const char *json, size_t len);
    /* Something the parser could not read and gave up on for this flow (one line, no newline);
     * the flow's bytes still go to stream matching. */
    void (*error)(void *ctx, const ab_flow_ref *f, const char *msg);
} ab_net_out;

/* Memory the flows of one capture hold together, against one cap (the capture's stream_memcap,
 * --stream-memcap): its stream buffers and the parsers' payloads being assembled (HTTP bodies,
 * SMTP messages, TLS handshake messages), counted by their buffers' capacities. Not locked: one
 * capture is read by one thread. */
typedef struct ab_net_mem {
    size_t used;   /* bytes held now */
    size_t cap;    /* 0: no cap */
    uint64_t cuts; /* payloads a parser cut short because the cap was reached */
} ab_net_mem;

/* 1 when growing a buffer from `from` to `to` bytes stays within m's cap (or m is NULL). */
int ab_net_mem_room(const ab_net_mem *m, size_t from, size_t to);
/* A buffer counted in m went from `from` to `to` bytes (either way; m NULL: nothing). */
void ab_net_mem_count(ab_net_mem *m, size_t from, size_t to);
/* *p (of *alloc bytes) reallocated to want bytes, counted in m: 0, -1 out of memory, 1 when m's
 * cap refuses it (m->cuts counted; *p is left as it was). */
int ab_net_mem_grow(ab_net_mem *m, uint8_t **p, size_t *alloc, size_t want);

/* Limits an app parser is given (per flow and direction unless said). */
typedef struct ab_net_limits {
    size_t max_body;      /* bytes of one payload object kept (default 1 MiB: --stream-depth) */
    size_t max_line;      /* an HTTP header or SMTP line (default 16 KiB) */
    size_t max_headers;   /* header fields of one HTTP message (default 256) */
    size_t max_tx;        /* transactions of one flow reported (default 10000) */
    size_t max_cert_size; /* one certificate (default 64 KiB) */
    ab_net_mem *mem;      /* where payload buffers are counted, over all flows (NULL: nowhere);
                           * a payload that would grow past its cap is cut (mem->cuts) */
} ab_net_limits;

void ab_net_limits_default(ab_net_limits *l);
/* A parser state's copy of the limits it is given: lim, or the defaults when lim is NULL. */
void ab_net_limits_set(ab_net_limits *to, const ab_net_limits *lim);

/* What every parser says through out (net.h ab_net_out): a value read (nothing when n is 0 or
 * out has no observable callback), and a message for the flow (when out has an error callback). */
void ab_net_observe(const ab_net_out *out, const ab_flow_ref *f, int dir, const char *type,
                    const char *where, const char *v, size_t n);
void ab_net_say(const ab_net_out *out, const ab_flow_ref *f, const char *msg);

/* 1 when s[0..n) (one trailing dot allowed) is a host name as parsers report them: at most 253
 * bytes, at least two labels of [A-Za-z0-9_-] of 1..63 bytes, not all digits (an IPv4 address is
 * no name). */
int ab_net_is_hostname(const char *s, size_t n);

/* An application protocol parser over one TCP flow's in-order bytes, both directions. */
typedef struct ab_app_proto {
    const char *name; /* "http", "tls", "smtp", "dns" (DNS over TCP) */
    /* By content, never by port: 1 when the first n bytes a direction sent are this protocol,
     * 0 when they are not, -1 when more bytes are needed to say (a caller stops asking past 64
     * bytes and takes 0). dir is who sent them. */
    int (*detect)(const uint8_t *data, size_t n, int dir);
    /* A state for one flow (owned by the caller, freed with free_state); NULL on ENOMEM. */
    void *(*new_state)(const ab_net_limits *lim);
    /* In-order bytes of direction dir. Returns 0, or -1 when the flow is not (any more) this
     * protocol or broke a limit for good: the caller stops feeding it (error already said). */
    int (*data)(void *st, const ab_flow_ref *f, int dir, const uint8_t *data, size_t n,
                const ab_net_out *out);
    /* n bytes of direction dir are missing (lost packets, past the stream depth): the parser
     * resynchronises or gives up (returns -1). */
    int (*gap)(void *st, const ab_flow_ref *f, int dir, uint64_t n, const ab_net_out *out);
    /* The flow ended (FIN/RST, timeout, end of capture): finish what is open (a body without a
     * length ends here) and report it. */
    void (*close)(void *st, const ab_flow_ref *f, const ab_net_out *out);
    void (*free_state)(void *st);
    /* May be NULL. 1 when all direction dir sends from now on is ciphertext (TLS past its
     * handshake, also after STARTTLS): the caller stops keeping its bytes for stream rules, as
     * Suricata's default TLS encryption-handling stops raw content inspection. */
    int (*sealed)(void *st, int dir);
} ab_app_proto;

#endif
