/* pcapsrc.h: a capture file (pcap or pcapng) read from memory with libpcap, frame by frame.
 *
 * What libpcap does with hostile or odd captures (libpcap 1.10, checked by tests/unit/
 * test_decode.c):
 * - A last record cut short (a capture file copied while being written): the frames before it
 *   are read, then ab_pcap_next returns -1 with libpcap's "truncated dump file" message.
 * - pcapng with several interfaces: libpcap gives one link type (and one snapshot length) per
 *   section, the first interface's. An interface description block with another link type or
 *   another snapshot length is an error where it is met ("an interface has a type N different
 *   from the type of the first interface", "... a snapshot length N different ..."): the frames
 *   before it are read, then -1. Interfaces alike are fine. So *linktype from ab_pcap_next is
 *   the same for every frame of one capture (pcap_datalink per packet would tell nothing more);
 *   a capture mixing link types needs a reader of its own (not done).
 * - Nanosecond captures are given in microseconds (PCAP_TSTAMP_PRECISION_MICRO, truncated).
 * - *linktype is libpcap's DLT_ value (pcap_datalink: LINKTYPE_RAW 101 becomes DLT_RAW), which
 *   ab_decode takes as it is. */
#ifndef AB_NET_PCAPSRC_H
#define AB_NET_PCAPSRC_H

#include <stddef.h>
#include <stdint.h>

#include "antibody/antibody.h"

typedef struct ab_pcapsrc ab_pcapsrc;

/* 1 when data starts like a pcap file (magic a1b2c3d4 microseconds, a1b23c4d nanoseconds,
 * a1b2cd34 Kuznetzov's, in either byte order) or a pcapng file (a section header block,
 * 0x0a0d0d0a, with the byte-order magic 1a2b3c4d in either order). */
int ab_pcap_claims(const uint8_t *data, size_t n);

/* Open a capture over data[0..n) (borrowed: it must outlive the source). AB_ERR_PARSE with a
 * message in err (errsz bytes, may be 0) when libpcap does not take it, AB_ERR_NOMEM. */
ab_status ab_pcap_open_mem(const uint8_t *data, size_t n, ab_pcapsrc **out, char *err,
                           size_t errsz);

/* The next frame: 1 with *frame (valid until the next call), *caplen, *wirelen, *ts_us and
 * *linktype; 0 at the end; -1 on an error (ab_pcap_error says it; reading stops there). */
int ab_pcap_next(ab_pcapsrc *s, const uint8_t **frame, size_t *caplen, size_t *wirelen,
                 uint64_t *ts_us, int *linktype);

/* The bytes before the reader's position will not be read again: give their whole pages back
 * (MADV_DONTNEED), at most once per page. Only for data that is a private read-only file
 * mapping: a later read of those pages maps them from the file again. Anonymous or heap
 * memory would read back as zeros: never call it on such data. */
void ab_pcap_drop_behind(ab_pcapsrc *s);

/* The last error message ("" when none). */
const char *ab_pcap_error(const ab_pcapsrc *s);

/* The capture's snapshot length and link type as libpcap says them. */
int ab_pcap_linktype(const ab_pcapsrc *s);
int ab_pcap_snaplen(const ab_pcapsrc *s);

void ab_pcap_close(ab_pcapsrc *s);

#endif
