/* procmaps.c: process memory regions (see procmaps.h). The kernel writes the text, but a mapped
 * file's name is chosen by whoever created it: it is only ever copied, bounded, never parsed. */
#include "host/procmaps.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAPS_MAX_BYTES ((size_t)32 << 20)

static char *read_all(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (len == cap) {
            char *nb = cap < MAPS_MAX_BYTES ? realloc(buf, cap * 2 + 1) : NULL;
            if (!nb)
                break; /* keep what was read: the first regions are still right */
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* One line: "start-end perms offset dev inode   path". 0 when it has the first two fields. */
static int parse_line(char *line, ab_map_region *r)
{
    char *end;
    r->start = strtoull(line, &end, 16);
    if (*end != '-')
        return -1;
    r->end = strtoull(end + 1, &end, 16);
    if (*end != ' ' || r->end <= r->start)
        return -1;
    end++;
    size_t i = 0;
    for (; i < 4 && end[i] && end[i] != ' '; i++)
        r->perms[i] = end[i];
    r->perms[i] = '\0';
    /* skip perms, offset, dev, inode: the path (possibly with spaces) is what follows */
    char *p = end;
    for (int f = 0; f < 4 && *p; f++) {
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    r->path = p;
    return 0;
}

int ab_maps_parse(ab_maps *m, char *text)
{
    memset(m, 0, sizeof(*m));
    m->text = text;
    size_t cap = 0;
    for (char *line = text; line && *line && m->n < AB_MAPS_MAX_REGIONS;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        ab_map_region r;
        if (parse_line(line, &r) == 0) {
            if (m->n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                ab_map_region *v = realloc(m->r, nc * sizeof(*v));
                if (!v)
                    break;
                m->r = v;
                cap = nc;
            }
            m->r[m->n++] = r;
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

int ab_maps_load(pid_t pid, ab_maps *m)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    char *text = read_all(path);
    memset(m, 0, sizeof(*m));
    if (!text)
        return -1;
    return ab_maps_parse(m, text);
}

void ab_maps_free(ab_maps *m)
{
    free(m->r);
    free(m->text);
    memset(m, 0, sizeof(*m));
}

const char *ab_maps_describe(const ab_maps *m, uint64_t addr, char *buf, size_t len)
{
    size_t lo = 0, hi = m->n; /* the kernel lists regions in address order */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->r[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= m->n || m->r[lo].start > addr)
        return NULL;
    const ab_map_region *r = &m->r[lo];
    snprintf(buf, len, "0x%" PRIx64 "-0x%" PRIx64 " %s%s%.*s", r->start, r->end, r->perms,
             r->path[0] ? " " : "", 200, r->path);
    return buf;
}
