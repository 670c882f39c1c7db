/* console.h: human-readable reporting: one line per finding, errors on stderr, a progress line
 * when stderr is a terminal, and a summary. Terminal-hostile bytes in names are escaped. */
#ifndef AB_CONSOLE_H
#define AB_CONSOLE_H

#include <stdio.h>

#include "antibody/antibody.h"

typedef struct ab_console {
    FILE *out;        /* findings, listings, summary; NULL: errors (and progress) only */
    FILE *err;        /* errors and progress */
    int color;        /* ANSI colours on out */
    int progress;     /* a progress line on err (err must be a terminal) */
    int list_objects; /* print AB_EVENT_OBJECT lines */
    int list_skipped; /* print AB_EVENT_SKIP lines */
    int quiet;        /* no summary */
    int progress_shown;
    char last_object[4096]; /* path of the last finding's object, for its context line */
    size_t last_object_len; /* strlen + 1, or 0 */
    char last_mail[512];    /* path + Message-ID of the last message whose context was shown */
    char last_flow[512];    /* path + flow id of the last flow whose context was shown */
} ab_console;

/* Sink function: ctx is an ab_console. */
int ab_console_event(void *ctx, const ab_event *ev);
void ab_console_progress(void *ctx, const ab_summary *s);
/* Write s with control characters, DEL and invalid UTF-8 escaped as \xNN (and '\\' as "\\\\"). */
void ab_console_write_safe(FILE *f, const char *s);
/* The same for a name (path, member, process): also escapes ": " and " > ", which on a console
 * line separate the location from the rule and the levels of the location. */
void ab_console_write_name(FILE *f, const char *s);
/* Clear the progress line if one is shown. */
void ab_console_clear_progress(ab_console *c);

#endif
