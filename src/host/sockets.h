/* sockets.h: the host's TCP and UDP sockets, from the kernel's tables /proc/net/{tcp,tcp6,udp,
 * udp6}, and the processes that hold them (socket inodes in /proc/PID/fd). Runs in the parent:
 * the tables are kernel-generated text, but every line and field is still bounded, and anything
 * that does not parse is counted as malformed rather than trusted. */
#ifndef AB_SOCKETS_H
#define AB_SOCKETS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "antibody/antibody.h"
#include "intel/ipset.h"

/* Lines longer than this are malformed (the kernel's are about 150 bytes, tcp6 about 180). */
#define AB_SOCK_MAX_LINE 512
/* (socket, process) pairs ab_sock_find_owners records at most. */
#define AB_SOCK_MAX_OWNERS ((size_t)1 << 20)

typedef struct ab_sock {
    ab_ipaddr local, remote; /* IPv4 as IPv4-mapped (ipset.h) */
    unsigned local_port, remote_port;
    unsigned state; /* the kernel's TCP state number (UDP: 1 connected, 7 not) */
    uint32_t uid;   /* the socket's owner as the kernel records it */
    uint64_t inode; /* 0 when no file holds it (TIME_WAIT and similar) */
} ab_sock;

/* Parse one table line (no '\n'; len bytes, need not be NUL-terminated). v6: from tcp6/udp6
 * (addresses of 32 hex digits, else 8). Returns 1 for a socket (*out filled), 0 for the header
 * line, -1 for a malformed line: over AB_SOCK_MAX_LINE bytes, fewer than 10 fields, an address
 * or port of the wrong length or not hex, a uid or inode that is not a bounded decimal. */
int ab_sock_parse_line(const char *line, size_t len, int v6, ab_sock *out);

/* "ESTABLISHED", "LISTEN", ... as netstat(8) names TCP states; for UDP "ESTABLISHED" (connected)
 * or "UNCONN" as ss(8) does. "UNKNOWN" for a number the kernel does not define. */
const char *ab_sock_state_name(int udp, unsigned state);

/* Calls fn for each socket of the table at path; fn returning non-zero stops the read. Lines
 * that do not parse are counted in *malformed and skipped. Returns AB_OK, AB_ERR_NOTFOUND when
 * the table does not exist (no IPv6 in this kernel), or AB_ERR_IO with errno set. */
typedef int (*ab_sock_fn)(void *ctx, const ab_sock *s);
ab_status ab_sock_read_table(const char *path, int v6, ab_sock_fn fn, void *ctx, size_t *malformed);

typedef struct ab_sock_owner {
    uint64_t inode;
    pid_t pid;
} ab_sock_owner;

typedef struct ab_sock_owners {
    ab_sock_owner *v; /* owned; sorted by inode, then pid */
    size_t len, cap;
    size_t unreadable; /* processes whose descriptors could not be read (another user's) */
    int truncated;     /* AB_SOCK_MAX_OWNERS was reached: some holders are not listed */
} ab_sock_owners;

/* Which processes hold the sockets inodes[0..n) (sorted ascending, distinct), from the
 * "socket:[INODE]" links in proc_root/PID/fd (proc_root NULL: "/proc"). Processes that exit
 * meanwhile are passed over. Returns AB_OK, AB_ERR_NOMEM, or AB_ERR_IO when proc_root cannot be
 * read (errno set). */
ab_status ab_sock_find_owners(const char *proc_root, const uint64_t *inodes, size_t n,
                              ab_sock_owners *out);
/* The holders of inode: *first is the index of the first, the count is returned. */
size_t ab_sock_owners_of(const ab_sock_owners *o, uint64_t inode, size_t *first);
void ab_sock_owners_release(ab_sock_owners *o);

#endif
