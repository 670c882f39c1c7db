/* sockets.c: reading the kernel's socket tables and finding the processes that hold sockets. */
#include "host/sockets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_FIELDS 10 /* sl local remote st tx:rx tr:when retrnsmt uid timeout inode */
#define READ_CHUNK 65536

/* ---- One line -------------------------------------------------------------------------------- */

typedef struct tok {
    const char *p;
    size_t n;
} tok;

/* Split on spaces into at most max tokens; returns how many were found (up to max). */
static size_t split(const char *line, size_t len, tok *t, size_t max)
{
    size_t nt = 0, i = 0;
    while (i < len && nt < max) {
        while (i < len && line[i] == ' ')
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        t[nt++] = (tok){line + start, i - start};
    }
    return nt;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Exactly n (<= 8) hex digits. */
static int parse_hex32(const char *p, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hexval(p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* A decimal of at most 20 digits that fits in max. */
static int parse_dec(const tok *t, uint64_t max, uint64_t *out)
{
    if (t->n == 0 || t->n > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->p[i] < '0' || t->p[i] > '9')
            return -1;
        unsigned d = (unsigned)(t->p[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* "ADDR:PORT": the kernel prints each 32-bit word of the address (one for IPv4, four for IPv6)
 * with %08X of its value as stored, i.e. in host byte order; copying the parsed word back to
 * memory gives the network-order bytes on either endianness. */
static int parse_endpoint(const tok *t, int v6, ab_ipaddr *a, unsigned *port)
{
    size_t hex = v6 ? 32 : 8;
    if (t->n != hex + 5 || t->p[hex] != ':')
        return -1;
    uint8_t bytes[16];
    for (size_t w = 0; w < hex / 8; w++) {
        uint32_t word;
        if (parse_hex32(t->p + w * 8, 8, &word) != 0)
            return -1;
        memcpy(bytes + w * 4, &word, 4);
    }
    uint32_t p;
    if (parse_hex32(t->p + hex + 1, 4, &p) != 0)
        return -1;
    if (v6)
        memcpy(a->b, bytes, 16);
    else
        ab_ipaddr_from_v4(a, bytes);
    *port = (unsigned)p;
    return 0;
}

int ab_sock_parse_line(const char *line, size_t len, int v6, ab_sock *out)
{
    tok t[MIN_FIELDS];
    if (!line || len > AB_SOCK_MAX_LINE)
        return -1;
    size_t nt = split(line, len, t, MIN_FIELDS);
    if (nt >= 1 && t[0].n == 2 && memcmp(t[0].p, "sl", 2) == 0)
        return 0; /* "  sl  local_address rem_address ..." */
    if (nt < MIN_FIELDS)
        return -1;
    uint64_t v;
    ab_sock s;
    memset(&s, 0, sizeof(s));
    /* "N:" the slot number; only its shape is checked */
    tok sl = {t[0].p, t[0].n - 1};
    if (t[0].n < 2 || t[0].p[t[0].n - 1] != ':' || parse_dec(&sl, UINT32_MAX, &v) != 0)
        return -1;
    if (parse_endpoint(&t[1], v6, &s.local, &s.local_port) != 0 ||
        parse_endpoint(&t[2], v6, &s.remote, &s.remote_port) != 0)
        return -1;
    uint32_t st;
    if (t[3].n != 2 || parse_hex32(t[3].p, 2, &st) != 0)
        return -1;
    s.state = st;
    if (parse_dec(&t[7], UINT32_MAX, &v) != 0)
        return -1;
    s.uid = (uint32_t)v;
    if (parse_dec(&t[9], UINT64_MAX, &v) != 0)
        return -1;
    s.inode = v;
    *out = s;
    return 1;
}

const char *ab_sock_state_name(int udp, unsigned state)
{
    /* include/net/tcp_states.h */
    static const char *const names[] = {
        [1] = "ESTABLISHED", [2] = "SYN_SENT",  [3] = "SYN_RECV", [4] = "FIN_WAIT1",
        [5] = "FIN_WAIT2",   [6] = "TIME_WAIT", [7] = "CLOSE",    [8] = "CLOSE_WAIT",
        [9] = "LAST_ACK",    [10] = "LISTEN",   [11] = "CLOSING", [12] = "NEW_SYN_RECV",
    };
    if (udp && state == 7)
        return "UNCONN";
    if (state >= sizeof(names) / sizeof(names[0]) || !names[state])
        return "UNKNOWN";
    return names[state];
}

/* ---- A table --------------------------------------------------------------------------------- */

typedef struct reader {
    char line[AB_SOCK_MAX_LINE + 1];
    size_t len;
    int overlong; /* the current line passed AB_SOCK_MAX_LINE: its rest is dropped */
    int v6;
    ab_sock_fn fn;
    void *ctx;
    size_t *malformed;
    int stop;
} reader;

static void end_line(reader *r)
{
    ab_sock s;
    int rc = r->overlong ? -1 : ab_sock_parse_line(r->line, r->len, r->v6, &s);
    if (rc < 0)
        (*r->malformed)++;
    else if (rc > 0 && r->fn(r->ctx, &s))
        r->stop = 1;
    r->len = 0;
    r->overlong = 0;
}

static void feed(reader *r, const char *p, size_t n)
{
    while (n && !r->stop) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        if (!r->overlong && r->len + seg <= AB_SOCK_MAX_LINE) {
            memcpy(r->line + r->len, p, seg);
            r->len += seg;
        } else {
            r->overlong = 1;
        }
        if (!nl)
            return;
        end_line(r);
        p += seg + 1;
        n -= seg + 1;
    }
}

ab_status ab_sock_read_table(const char *path, int v6, ab_sock_fn fn, void *ctx, size_t *malformed)
{
    size_t bad_local = 0;
    if (!malformed)
        malformed = &bad_local;
    if (!path || !fn)
        return AB_ERR_ARG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? AB_ERR_NOTFOUND : AB_ERR_IO;
    ab_status st = AB_OK;
    char *buf = malloc(READ_CHUNK);
    reader *r = calloc(1, sizeof(*r));
    if (!buf || !r) {
        st = AB_ERR_NOMEM;
        goto out;
    }
    r->v6 = v6;
    r->fn = fn;
    r->ctx = ctx;
    r->malformed = malformed;
    while (!r->stop) {
        ssize_t n = read(fd, buf, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = AB_ERR_IO;
            goto out;
        }
        if (n == 0)
            break;
        feed(r, buf, (size_t)n);
    }
    if (!r->stop && (r->len || r->overlong)) /* a last line without '\n' */
        end_line(r);
out:
    if (st == AB_ERR_IO) {
        int err = errno;
        close(fd);
        errno = err;
    } else {
        close(fd);
    }
    free(buf);
    free(r);
    return st;
}

/* ---- Owners ---------------------------------------------------------------------------------- */

static int inode_in(const uint64_t *inodes, size_t n, uint64_t ino)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (inodes[mid] == ino)
            return 1;
        if (inodes[mid] < ino)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* The inode of a "socket:[INODE]" link text (n bytes), or 0. */
static uint64_t socket_inode(const char *p, size_t n)
{
    if (n < 10 || memcmp(p, "socket:[", 8) != 0 || p[n - 1] != ']')
        return 0;
    tok t = {p + 8, n - 9};
    uint64_t v;
    return parse_dec(&t, UINT64_MAX, &v) == 0 ? v : 0;
}

static ab_status push_owner(ab_sock_owners *o, uint64_t inode, pid_t pid)
{
    if (o->len >= AB_SOCK_MAX_OWNERS) {
        o->truncated = 1;
        return AB_OK;
    }
    if (o->len == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        ab_sock_owner *v = realloc(o->v, cap * sizeof(*v));
        if (!v)
            return AB_ERR_NOMEM;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->len++] = (ab_sock_owner){inode, pid};
    return AB_OK;
}

/* The sockets among inodes that process pid (its fd folder open as dfd) holds. */
static ab_status scan_fds(int dfd, pid_t pid, const uint64_t *inodes, size_t n, ab_sock_owners *o)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return AB_OK;
    }
    ab_status st = AB_OK;
    struct dirent *de;
    while (st == AB_OK && (de = readdir(d)) != NULL) {
        char link[64]; /* "socket:[18446744073709551615]" fits; longer links are not sockets */
        if (de->d_name[0] == '.')
            continue;
        ssize_t len = readlinkat(dirfd(d), de->d_name, link, sizeof(link));
        if (len <= 0 || (size_t)len >= sizeof(link))
            continue;
        uint64_t ino = socket_inode(link, (size_t)len);
        if (ino && inode_in(inodes, n, ino))
            st = push_owner(o, ino, pid);
    }
    closedir(d);
    return st;
}

static int owner_cmp(const void *a, const void *b)
{
    const ab_sock_owner *x = a, *y = b;
    if (x->inode != y->inode)
        return x->inode < y->inode ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static pid_t pid_of(const char *name)
{
    long v = 0;
    if (!*name)
        return 0;
    for (const char *p = name; *p; p++) {
        if (*p < '0' || *p > '9' || v > 0x7fffffffL / 10)
            return 0;
        v = v * 10 + (*p - '0');
    }
    return (pid_t)v;
}

ab_status ab_sock_find_owners(const char *proc_root, const uint64_t *inodes, size_t n,
                              ab_sock_owners *out)
{
    memset(out, 0, sizeof(*out));
    if (!proc_root)
        proc_root = "/proc";
    DIR *proc = opendir(proc_root);
    if (!proc)
        return AB_ERR_IO;
    ab_status st = AB_OK;
    struct dirent *de;
    while (st == AB_OK && n && (de = readdir(proc)) != NULL) {
        pid_t pid = pid_of(de->d_name);
        if (pid <= 0)
            continue;
        char sub[32];
        snprintf(sub, sizeof(sub), "%d/fd", (int)pid);
        int dfd = openat(dirfd(proc), sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            if (errno == EACCES || errno == EPERM)
                out->unreadable++;
            continue; /* ENOENT: it exited */
        }
        st = scan_fds(dfd, pid, inodes, n, out);
    }
    closedir(proc);
    if (st != AB_OK) {
        ab_sock_owners_release(out);
        return st;
    }
    if (out->len > 1)
        qsort(out->v, out->len, sizeof(*out->v), owner_cmp);
    return AB_OK;
}

size_t ab_sock_owners_of(const ab_sock_owners *o, uint64_t inode, size_t *first)
{
    size_t lo = 0, hi = o->len;
    while (lo < hi) { /* the first entry with an inode >= inode */
        size_t mid = lo + (hi - lo) / 2;
        if (o->v[mid].inode < inode)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < o->len && o->v[end].inode == inode)
        end++;
    *first = lo;
    return end - lo;
}

void ab_sock_owners_release(ab_sock_owners *o)
{
    free(o->v);
    memset(o, 0, sizeof(*o));
}
