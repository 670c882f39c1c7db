/* output.h: a report destination whose every write is checked, so that no finding is lost without
 * a word (a full disk, an I/O error, a closed pipe when SIGPIPE is ignored).
 *
 * Reporters write one event at a time and end it with ab_output_end_event. Bytes reach the file
 * descriptor at event boundaries (the stdio view is fully buffered and flushed there), so a
 * reader following the file sees whole lines, and after a crash or kill -9 at most the last line
 * is incomplete. When a write fails, the first errno is kept, later events are refused and
 * counted as lost, and a regular file is cut back to the end of the last complete event. */
#ifndef AB_OUTPUT_H
#define AB_OUTPUT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "antibody/antibody.h"

/* How ab_output_open treats an existing regular file. */
typedef enum ab_output_mode {
    AB_OUTPUT_NEW = 0, /* refuse an existing regular file */
    AB_OUTPUT_FORCE,   /* truncate it */
    AB_OUTPUT_APPEND,  /* append to it */
} ab_output_mode;

typedef struct ab_output {
    int fd;
    int owns_fd;        /* closed by ab_output_close */
    const char *name;   /* for messages; borrowed, must outlive the output */
    int regular;        /* a regular file: cut back to good_off when a write fails */
    off_t good_off;     /* offset at the end of the last complete event */
    int err;            /* errno of the first failed write; 0 while everything was written */
    size_t event_bytes; /* bytes the current event tried to write */
    uint64_t lost;      /* events not written (completely) */
    FILE *stream;       /* stdio view, created by ab_output_stream; owned */
} ab_output;

/* Wrap an open descriptor (e.g. STDOUT_FILENO). name is used in messages. */
void ab_output_init_fd(ab_output *o, int fd, const char *name, int owns_fd);

/* Open path for writing: never through a symlink (the report of a root sweep must not be
 * redirected onto a system file), a new file created 0640, an existing regular file refused
 * unless mode says otherwise; FIFOs and character devices are opened as they are. On failure a
 * one-line reason goes to err. */
ab_status ab_output_open(ab_output *o, const char *path, ab_output_mode mode, char *err,
                         size_t errlen);

/* Write n bytes of the current event. 0 on success, -1 when the output has failed (now or
 * before). */
int ab_output_write(ab_output *o, const void *p, size_t n);

/* A fully buffered stdio stream writing through o (for reporters written with stdio). NULL if it
 * cannot be made. */
FILE *ab_output_stream(ab_output *o);

/* End an event: flush the stream, remember the offset, count the event as lost if it was not
 * written. Returns 0, or -1 when the output has failed. */
int ab_output_end_event(ab_output *o);

/* Close (when owned). Returns 0, or -1 when closing failed (err set if it was still 0). */
int ab_output_close(ab_output *o);

#endif
