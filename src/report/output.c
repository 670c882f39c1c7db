/* output.c: checked report destinations (see output.h). */
#include "report/output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STREAM_BUF ((size_t)1 << 16) /* larger than nearly every event: one write per event */

void ab_output_init_fd(ab_output *o, int fd, const char *name, int owns_fd)
{
    struct stat st;
    memset(o, 0, sizeof(*o));
    o->fd = fd;
    o->owns_fd = owns_fd;
    o->name = name;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        /* Where our first byte will land: the end for O_APPEND (">>"), whose offset is 0 until
         * the first write; else the shared offset (other writers may move it too). */
        int fl = fcntl(fd, F_GETFL);
        off_t at = lseek(fd, 0, fl >= 0 && (fl & O_APPEND) ? SEEK_END : SEEK_CUR);
        if (at >= 0) {
            o->regular = 1;
            o->good_off = at;
        }
    }
}

static void fail(ab_output *o, int e)
{
    o->err = e ? e : EIO;
    /* Cut back to the last whole event, so that what is there can be read line by line, and put
     * the offset there (another writer of a shared descriptor must not leave a hole). It may
     * fail too (the device is gone): the error already says the report is incomplete. */
    if (o->regular && ftruncate(o->fd, o->good_off) == 0)
        (void)lseek(o->fd, o->good_off, SEEK_SET);
}

int ab_output_write(ab_output *o, const void *p, size_t n)
{
    const char *s = p;
    o->event_bytes += n;
    if (o->err)
        return -1;
    while (n) {
        ssize_t w = write(o->fd, s, n);
        if (w < 0 && errno == EINTR)
            continue; /* the stop signal: the rest of the event still goes out */
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* A non-blocking descriptor we inherited: wait as a blocking write would. */
            struct pollfd pf = {.fd = o->fd, .events = POLLOUT};
            (void)poll(&pf, 1, -1);
            continue;
        }
        if (w <= 0) {
            fail(o, w < 0 ? errno : EIO);
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
    ab_output *o = cookie;
    if (ab_output_write(o, buf, size) != 0) {
        errno = o->err;
        return -1;
    }
    return (ssize_t)size;
}

FILE *ab_output_stream(ab_output *o)
{
    if (o->stream)
        return o->stream;
    cookie_io_functions_t io = {.write = stream_write};
    o->stream = fopencookie(o, "w", io);
    if (o->stream)
        setvbuf(o->stream, NULL, _IOFBF, STREAM_BUF);
    return o->stream;
}

int ab_output_end_event(ab_output *o)
{
    if (o->stream) {
        if (__fpending(o->stream))
            o->event_bytes++;
        if (fflush(o->stream) == EOF && !o->err)
            fail(o, errno);
        if (o->err) { /* drop what stdio still holds: it is counted as lost below */
            __fpurge(o->stream);
            clearerr(o->stream);
        }
    }
    if (o->err && o->event_bytes)
        o->lost++;
    if (!o->err && o->regular && o->event_bytes) {
        off_t at = lseek(o->fd, 0, SEEK_CUR); /* after our write, even with O_APPEND */
        if (at >= 0)
            o->good_off = at;
    }
    o->event_bytes = 0;
    return o->err ? -1 : 0;
}

/* --append to a report whose last line was cut (an earlier run killed): end that line, so the
 * events that follow are lines of their own. */
static int end_line(int fd, off_t size)
{
    char last = '\n', self[64];
    if (size > 0) {
        /* fd is write-only: read the last byte through a second, read-only open of the inode */
        snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
        int rfd = open(self, O_RDONLY | O_CLOEXEC);
        ssize_t n = rfd >= 0 ? pread(rfd, &last, 1, size - 1) : -1;
        if (rfd >= 0)
            close(rfd);
        if (n != 1)
            return -1;
    }
    return last == '\n' || write(fd, "\n", 1) == 1 ? 0 : -1;
}

static int open_existing(const char *path, ab_output_mode mode, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode)) {
        snprintf(err, errlen,
                 "is a symbolic link: refused, because a link could send the report "
                 "anywhere, onto a system file too (give the real path)");
        return -1;
    }
    int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    if (mode == AB_OUTPUT_APPEND)
        flags |= O_APPEND;
    int fd = open(path, flags);
    if (fd < 0) {
        snprintf(err, errlen, "%s", errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        goto bad;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
        /* A block device (-o /dev/sdb1 by mistake) would have a disk overwritten. */
        snprintf(err, errlen, "%s",
                 S_ISDIR(st.st_mode)   ? strerror(EISDIR)
                 : S_ISBLK(st.st_mode) ? "is a block device: refused (it would overwrite a disk)"
                                       : "not a regular file, FIFO or character device: refused");
        goto bad;
    }
    if (S_ISREG(st.st_mode) && mode == AB_OUTPUT_NEW) {
        snprintf(err, errlen, "exists: not overwritten (--force overwrites it, --append adds)");
        goto bad;
    }
    if (S_ISREG(st.st_mode) && mode == AB_OUTPUT_FORCE && ftruncate(fd, 0) != 0) {
        snprintf(err, errlen, "cannot truncate: %s", strerror(errno));
        goto bad;
    }
    /* O_NONBLOCK was only for the open (a FIFO without a reader must not hang us). */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        goto bad;
    }
    if (mode == AB_OUTPUT_APPEND && S_ISREG(st.st_mode) && end_line(fd, st.st_size) != 0) {
        snprintf(err, errlen, "cannot append: %s", strerror(errno));
        goto bad;
    }
    return fd;
bad:
    close(fd);
    return -1;
}

ab_status ab_output_open(ab_output *o, const char *path, ab_output_mode mode, char *err,
                         size_t errlen)
{
    /* O_EXCL never follows a symlink: a link planted at the path, even a dangling one, is
     * EEXIST and examined below. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0 && errno == EEXIST)
        fd = open_existing(path, mode, err, errlen);
    else if (fd < 0)
        snprintf(err, errlen, "%s", strerror(errno));
    if (fd < 0)
        return AB_ERR_IO;
    ab_output_init_fd(o, fd, path, 1);
    return AB_OK;
}

int ab_output_close(ab_output *o)
{
    int rc = 0;
    if (o->stream) {
        if (fflush(o->stream) == EOF && !o->err)
            fail(o, errno);
        __fpurge(o->stream);
        fclose(o->stream); /* the cookie has no close function: the fd stays ours */
        o->stream = NULL;
    }
    if (o->owns_fd && o->fd >= 0) {
        if (close(o->fd) != 0 && !o->err) {
            o->err = errno;
            rc = -1;
        }
        o->fd = -1;
    }
    return o->err ? -1 : rc;
}
