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

#endif
