/* procmaps.h: the memory map of a process (/proc/PID/maps), to say in which region (address
 * range, permissions, mapped file) a match in process memory lies. */
#ifndef AB_PROCMAPS_H
#define AB_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AB_MAPS_MAX_REGIONS 65536 /* more are not read (a process has a few hundred) */

typedef struct ab_map_region {
    uint64_t start, end;
    char perms[5];
    char *path; /* points into the owning ab_maps' text; "" for anonymous memory */
} ab_map_region;

typedef struct ab_maps {
    ab_map_region *r; /* owned, sorted by start */
    size_t n;
    char *text; /* owned: the file's bytes, paths point into it */
} ab_maps;

/* Reads the map of pid; 0 on success (an empty map when it cannot be read is not an error the
 * caller must handle: lookups then find nothing). */
int ab_maps_load(pid_t pid, ab_maps *m);
/* Parses maps text (modified in place; m takes ownership of text, which must be malloc'd). */
int ab_maps_parse(ab_maps *m, char *text);
void ab_maps_free(ab_maps *m);
/* "0x7f12a000-0x7f12c000 r-xp /usr/lib/x.so" for the region holding addr, in buf; NULL when
 * no region holds it. */
const char *ab_maps_describe(const ab_maps *m, uint64_t addr, char *buf, size_t len);

#endif
