/* procinfo.c: process context for findings (see procinfo.h). */
#include "host/procinfo.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DELETED_SUFFIX " (deleted)"

int ab_proc_read_text(pid_t pid, const char *what, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1; /* errno from open: callers tell a process gone (ENOENT) from the rest */
    ssize_t n = read(fd, buf, len - 1);
    int err = errno;
    close(fd);
    if (n < 0) {
        errno = err;
        return -1;
    }
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        n--;
    buf[n] = '\0';
    return 0;
}

int ab_proc_stat_fields(const char *p, pid_t *ppid, unsigned long long *start_ticks)
{
    /* p is " S 1 2 3 ...": state is field 3, ppid field 4, starttime field 22. */
    unsigned long long v = 0;
    int field = 2;
    *ppid = 0;
    *start_ticks = 0;
    while (*p && field < 22) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        field++;
        char *end;
        errno = 0;
        v = strtoull(p, &end, 10);
        int numeric = end != p && !errno;
        if (field == 4 && numeric && v > 0 && v < (1u << 22))
            *ppid = (pid_t)v;
        if (field == 22 && numeric)
            *start_ticks = v;
        while (*p && *p != ' ')
            p++;
    }
    return field == 22 && *ppid >= 0;
}

/* The wall-clock time of boot: now minus the time since boot (as /proc/stat's btime, which on
 * a many-CPU host lies past any small read of that file). */
static double boot_time(void)
{
    struct timespec real, boot;
    if (clock_gettime(CLOCK_REALTIME, &real) != 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
        return 0;
    return (double)(real.tv_sec - boot.tv_sec) + (real.tv_nsec - boot.tv_nsec) / 1e9;
}

static void read_exe(pid_t pid, ab_proc_info *pi)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, pi->exe, sizeof(pi->exe) - 1);
    if (n < 0) {
        pi->exe[0] = '\0';
        return;
    }
    pi->exe[n] = '\0';
    size_t sl = strlen(DELETED_SUFFIX);
    if ((size_t)n > sl && !strcmp(pi->exe + n - sl, DELETED_SUFFIX)) {
        pi->exe_deleted = 1;
        pi->exe[n - sl] = '\0';
    }
}

static void read_user(pid_t pid, ab_proc_info *pi)
{
    char buf[4096];
    if (ab_proc_read_text(pid, "status", buf, sizeof(buf)) != 0)
        return;
    const char *u = strstr(buf, "\nUid:");
    if (!u)
        return;
    unsigned long uid = strtoul(u + 5, NULL, 10);
    struct passwd pw, *res = NULL;
    char pwbuf[4096];
    if (getpwuid_r((uid_t)uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
        snprintf(pi->user, sizeof(pi->user), "%s", res->pw_name);
    else
        snprintf(pi->user, sizeof(pi->user), "%lu", uid);
}

void ab_proc_info_read(pid_t pid, ab_proc_info *pi)
{
    char buf[2048];
    memset(pi, 0, sizeof(*pi));
    read_exe(pid, pi);
    read_user(pid, pi);
    if (ab_proc_read_text(pid, "stat", buf, sizeof(buf)) != 0)
        return;
    const char *rp = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
    unsigned long long ticks = 0;
    long hz = sysconf(_SC_CLK_TCK);
    if (rp && ab_proc_stat_fields(rp + 1, &pi->ppid, &ticks) && hz > 0) {
        double bt = boot_time();
        if (bt > 0)
            pi->start = bt + (double)ticks / (double)hz;
    }
}
