/* procinfo.h: what a responder wants to know about a process that matched: its executable (and
 * whether the file on disk was deleted or replaced since it started, a classic implant sign), its
 * parent, its user and when it started. Read from /proc; every field is bounded. */
#ifndef AB_PROCINFO_H
#define AB_PROCINFO_H

#include <sys/types.h>

typedef struct ab_proc_info {
    char exe[4096];  /* the executable's path as the kernel shows it, "" when unreadable */
    int exe_deleted; /* 1: the file was deleted or replaced (" (deleted)" in /proc/PID/exe) */
    pid_t ppid;      /* 0 when unknown */
    char user[64];   /* the real uid's name, or the number as text; "" when unknown */
    double start;    /* seconds since the epoch; 0 when unknown */
} ab_proc_info;

/* A small /proc/PID/WHAT file as one line in buf: NULs (between cmdline arguments) become
 * spaces, trailing white space is dropped, at most len - 1 bytes. 0, or -1 with errno. */
int ab_proc_read_text(pid_t pid, const char *what, char *buf, size_t len);

/* Fills what can be read (the rest stays empty); never fails. */
void ab_proc_info_read(pid_t pid, ab_proc_info *pi);

/* Parses the fields after the command name of a /proc/PID/stat line (text after the last ')'):
 * the parent pid (field 4) and the start time in clock ticks after boot (field 22). 0 when the
 * line is malformed. Exposed for tests. */
int ab_proc_stat_fields(const char *after_comm, pid_t *ppid, unsigned long long *start_ticks);

#endif
