/* file.c: the worker's safe file opener: re-check that the path is still the regular file the
 * walker saw, then read it (small) or mmap it (large), never blocking and never writing.
 *
 * Why read below 1 MiB: for the many small files of a sweep a read() into the heap is cheaper than
 * setting up and tearing down a mapping. Above, mmap avoids a copy. A mapped file truncated by
 * someone else while it is scanned raises SIGBUS in the worker; the pool reports that as a crash
 * of that one object, which is why the mapping is done in a worker and not in the parent. */
#include "host/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FILE_READ_MAX ((size_t)1 << 20) /* up to this size files are read, above mmap'd */

static const char *errno_text(int err)
{
    const char *s = strerrordesc_np(err);
    return s ? s : "Unknown error";
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int open_read(const char *path, int extra)
{
    int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | extra;
    int fd = open(path, flags | O_NOATIME);

    /* O_NOATIME needs ownership or CAP_FOWNER; scanning must work without either. */
    if (fd < 0 && errno == EPERM)
        fd = open(path, flags);
    return fd;
}

/* Reopens for reading the object behind an O_PATH descriptor: the very inode that was checked,
 * whatever the path leads to now. -1 with errno ENOENT when /proc is not mounted. */
static int reopen_path_fd(int pfd)
{
    char proc[64];

    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
    return open_read(proc, 0);
}

/* What the walker promised: a regular file, the same inode, within the size limit. */
static ab_status check_file(const struct stat *st, const struct stat *expect, uint64_t max_size,
                            char *err, size_t errlen)
{
    uint64_t size = (uint64_t)st->st_size;

    if (!S_ISREG(st->st_mode)) {
        set_err(err, errlen, "not a regular file");
        return AB_ERR_IO;
    }
    if (expect && (st->st_dev != expect->st_dev || st->st_ino != expect->st_ino)) {
        set_err(err, errlen, "file was replaced while scanning");
        return AB_ERR_IO;
    }
    if (!max_size || max_size > SIZE_MAX)
        max_size = SIZE_MAX; /* whatever the caller allows, it must fit in memory */
    if (size > max_size) {
        set_err(err, errlen, "file too large: %llu bytes, limit %llu", (unsigned long long)size,
                (unsigned long long)max_size);
        return AB_ERR_LIMIT;
    }
    return AB_OK;
}

/* Reads up to size bytes into buf (size + 1 bytes long; one byte more is asked for so that a
 * file that grew since fstat stops the loop) and sets *got to what is kept (at most size). A file
 * that changes while read is still scanned as read, like a mapped one: the check after the scan
 * (ab_file_check_unchanged) reports the change, so a log being appended to is not lost. */
static ab_status read_upto(int fd, uint8_t *buf, size_t size, size_t *kept, char *err,
                           size_t errlen)
{
    size_t got = 0;

    for (;;) {
        ssize_t r = read(fd, buf + got, size + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            set_err(err, errlen, "read: %s", errno_text(errno));
            return AB_ERR_IO;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got > size)
            break;
    }
    *kept = got > size ? size : got;
    return AB_OK;
}

static ab_status load_heap(ab_mapped *m, char *err, size_t errlen)
{
    ab_status rc;

    m->heap = malloc(m->size + 1);
    if (!m->heap) {
        set_err(err, errlen, "out of memory reading %zu bytes", m->size);
        return AB_ERR_NOMEM;
    }
    rc = read_upto(m->fd, m->heap, m->size, &m->size, err, errlen);
    if (rc == AB_OK)
        m->data = m->heap;
    return rc;
}

static ab_status load_map(ab_mapped *m, char *err, size_t errlen)
{
    void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, m->fd, 0);
    int saved = errno;

    if (p == MAP_FAILED) {
        set_err(err, errlen, "mmap: %s", errno_text(saved));
        return saved == ENOMEM ? AB_ERR_NOMEM : AB_ERR_IO;
    }
    /* Only a hint: the scan reads front to back, so aggressive read-ahead pays off. */
    (void)madvise(p, m->size, MADV_SEQUENTIAL);
    m->map = p;
    m->data = p;
    return AB_OK;
}

ab_status ab_file_map(const char *path, int follow, const struct stat *expect, uint64_t max_size,
                      ab_mapped *out, char *err, size_t errlen)
{
    ab_status rc = AB_ERR_IO;
    int pfd = -1;

    if (!out)
        return AB_ERR_ARG;
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    if (!path) {
        set_err(err, errlen, "no path");
        return AB_ERR_ARG;
    }
    /* The walker vetted this file through its parent directory's descriptor, but here it is
     * reached by name again, and a directory on the way may have been swapped for a symlink since
     * (O_NOFOLLOW guards only the last component): the name may now lead to a FIFO or a device,
     * whose open() alone can act (allocate a pty, arm a watchdog). So take an O_PATH descriptor
     * first, which opens nothing, check what it is, and only then open that inode for reading. */
    pfd = open(path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    if (pfd < 0) {
        if (errno == ENOENT) /* deleted since the walk saw it */
            rc = AB_ERR_NOTFOUND;
        set_err(err, errlen, "open: %s", errno_text(errno));
        goto cleanup;
    }
    if (fstat(pfd, &out->st) != 0) {
        set_err(err, errlen, "fstat: %s", errno_text(errno));
        goto cleanup;
    }
    if (S_ISLNK(out->st.st_mode)) { /* O_PATH|O_NOFOLLOW gives the link itself */
        set_err(err, errlen, "open: is a symlink, not followed");
        goto cleanup;
    }
    rc = check_file(&out->st, expect, max_size, err, errlen);
    if (rc != AB_OK)
        goto cleanup;
    rc = AB_ERR_IO;
    out->fd = reopen_path_fd(pfd);
    if (out->fd < 0 && errno == ENOENT) {
        /* No /proc (a bare chroot): open by name, as before; the fstat below still refuses
         * anything but the vetted inode, only after the open. */
        out->fd = open_read(path, follow ? 0 : O_NOFOLLOW);
    }
    if (out->fd < 0) {
        set_err(err, errlen, "open: %s", errno_text(errno));
        goto cleanup;
    }
    struct stat vetted = out->st;
    if (fstat(out->fd, &out->st) != 0) {
        set_err(err, errlen, "fstat: %s", errno_text(errno));
        goto cleanup;
    }
    rc = check_file(&out->st, &vetted, max_size, err, errlen);
    if (rc != AB_OK)
        goto cleanup;
    out->size = (size_t)out->st.st_size;
    if (out->size == 0)
        rc = AB_OK;
    else if (out->size <= FILE_READ_MAX)
        rc = load_heap(out, err, errlen);
    else
        rc = load_map(out, err, errlen);
cleanup:
    if (pfd >= 0)
        close(pfd);
    if (rc != AB_OK)
        ab_file_unmap(out);
    return rc;
}

ab_status ab_file_check_unchanged(const ab_mapped *m, char *err, size_t errlen)
{
    struct stat now;

    if (!m || m->fd < 0)
        return AB_ERR_ARG;
    if (fstat(m->fd, &now) != 0) {
        set_err(err, errlen, "fstat: %s", errno_text(errno));
        return AB_ERR_IO;
    }
    if (now.st_size != m->st.st_size || now.st_mtim.tv_sec != m->st.st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != m->st.st_mtim.tv_nsec) {
        set_err(err, errlen, "file changed while being read");
        return AB_ERR_IO;
    }
    return AB_OK;
}

void ab_file_unmap(ab_mapped *m)
{
    if (!m)
        return;
    if (m->map)
        munmap(m->map, m->size);
    free(m->heap);
    if (m->fd >= 0)
        close(m->fd);
    m->map = NULL;
    m->heap = NULL;
    m->data = NULL;
    m->size = 0;
    m->fd = -1;
}
