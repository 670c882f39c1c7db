/* throttle.h: sweeping production servers without hurting them. Each worker, after each object,
 * sleeps long enough that its CPU use stays under max_cpu percent of one core and its reads
 * under its share of max_io bytes per second (averaged over objects: a large file is read at
 * full speed, then paid for). */
#ifndef AB_THROTTLE_H
#define AB_THROTTLE_H

#include <stdint.h>

/* At most this much rest per object, so that a throttled worker still answers well inside the
 * parent's grace period; what is not paid is carried over to the next objects. */
#define AB_THROTTLE_MAX_REST 5.0

typedef struct ab_throttle {
    unsigned max_cpu;   /* percent of one core per worker, 1..100; 0 or 100: no limit */
    uint64_t max_io;    /* bytes per second for this worker; 0: no limit */
    double cpu0, wall0; /* at the start of the object */
    double debt;        /* seconds of rest owed */
} ab_throttle;

/* Seconds to sleep after an object that used cpu seconds of CPU and wall seconds of real time
 * and read bytes. Pure, for tests. */
double ab_throttle_delay(unsigned max_cpu, uint64_t max_io, double cpu, double wall,
                         uint64_t bytes);

void ab_throttle_begin(ab_throttle *t);
/* Rests as owed after an object of bytes just finished (at most AB_THROTTLE_MAX_REST). Returns
 * the seconds slept. */
double ab_throttle_end(ab_throttle *t, uint64_t bytes);

#endif
