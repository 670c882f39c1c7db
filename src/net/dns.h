/* dns.h: DNS messages (RFC 1035 and kin) for the network pipeline: one message of a UDP
 * datagram (ab_dns_message), or DNS over TCP (ab_app_dns: a 2-byte length before each message,
 * several messages per stream).
 *
 * A message gives, through out:
 *   observables: each question's name as "domain" where "dns.query"; in the answer section each
 *     owner name and each CNAME, NS, MX, PTR, SRV, DNAME target as "domain", each A and AAAA
 *     address as "ip", where "dns.answer". Domains are lower-cased (ASCII) and in the text form
 *     below; the root is left out; a name repeating the domain just before it is said once.
 *   one record, keys in this order (tshark's field in brackets):
 *     "type": "dns", "id" (dns.id), "qr" (dns.flags.response, bool), "opcode"
 *     (dns.flags.opcode), "rcode" (dns.flags.rcode), "flags": names of the flags set, of "aa",
 *     "tc", "rd", "ra", "ad", "cd" (dns.flags.authoritative ...),
 *     "queries": [{"name" (dns.qry.name), "qtype" (dns.qry.type), "qtype_name", "qclass" (when
 *     not 1)}],
 *     "answers", "authorities", "additionals" (each when not empty): [{"name" (dns.resp.name),
 *     "rtype" (dns.resp.type), "rtype_name", "class" (when not 1 and not OPT), "ttl"
 *     (dns.resp.ttl), "data"}],
 *     "records_cut": true when the counts said more than DNS_MAX_RECORDS records in all,
 *     "malformed": true when the message ended early or broke a rule (what came before is
 *     kept).
 *   Text forms: names as dig prints them without the final dot ("." for the root): bytes
 *   outside 0x21..0x7e as \DDD, and . ; \ " ( ) @ $ inside a label with a backslash. "data": A
 *   dotted quad, AAAA RFC 5952, CNAME/NS/PTR/DNAME the name, MX "pref name", SRV "priority
 *   weight port target", SOA "mname rname serial refresh retry expire minimum", TXT the
 *   strings each in double quotes (\" \\ and \DDD escaped) joined by spaces, OPT
 *   "udp=<payload size>", anything else (and an A/AAAA of the wrong length) RFC 3597's
 *   "\# <len> <hex>"; cut at DNS_MAX_DATA bytes of text (hex at DNS_MAX_HEX bytes of rdata),
 *   "..." marking the cut. qtype_name/rtype_name: the mnemonic, or "TYPE<n>".
 *
 * Names: a label is at most 63 bytes, a name at most 255 bytes on the wire; a compression
 * pointer must point before the start of every run of labels read so far for this name (so
 * following pointers always goes backwards and ends), and at most DNS_MAX_POINTERS of them.
 * Anything else is malformed. */
#ifndef AB_NET_DNS_H
#define AB_NET_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

#define DNS_MAX_RECORDS  256  /* questions and resource records of one message */
#define DNS_MAX_POINTERS 64   /* compression pointers followed for one name */
#define DNS_MAX_DATA     2048 /* bytes of one record's "data" text */
#define DNS_MAX_HEX      256  /* rdata bytes shown in hex for other types */

/* One DNS message (a UDP payload) sent in direction dir. Returns 0 when the whole message was
 * read, -1 when it was malformed (shorter than a header: nothing is said; else the record says
 * "malformed"). */
int ab_dns_message(const ab_flow_ref *f, int dir, const uint8_t *msg, size_t n,
                   const ab_net_out *out);

/* DNS over TCP. detect: a length prefix and a header a client (queries) or server (responses)
 * would send: QR by direction, opcode 0, 1, 2, 4 or 5, Z clear, 1..16 questions, record counts
 * that fit the length, rcode 0 in a query, a first label of at most 63 bytes. data: messages
 * split and joined across feeds; at most lim->max_tx messages per flow (then -1). A zero
 * length stops the direction; a gap inside a message skips that message (its bytes after the
 * gap too), any other gap stops the direction. */
extern const ab_app_proto ab_app_dns;

#endif
