/* throttle.c: per-worker CPU and I/O limits (see throttle.h). */
#include "core/throttle.h"

#include <time.h>

double ab_throttle_delay(unsigned max_cpu, uint64_t max_io, double cpu, double wall, uint64_t bytes)
{
    double d = 0;
    if (max_cpu > 0 && max_cpu < 100 && cpu > 0) {
        /* cpu / (wall + d) <= max_cpu / 100 */
        double need = cpu * 100.0 / max_cpu - wall;
        if (need > d)
            d = need;
    }
    if (max_io > 0) {
        double need = (double)bytes / (double)max_io - wall;
        if (need > d)
            d = need;
    }
    return d;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ab_throttle_begin(ab_throttle *t)
{
    if (!t->max_io && (!t->max_cpu || t->max_cpu >= 100))
        return;
    t->cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    t->wall0 = clock_s(CLOCK_MONOTONIC);
}

double ab_throttle_end(ab_throttle *t, uint64_t bytes)
{
    if (!t->max_io && (!t->max_cpu || t->max_cpu >= 100))
        return 0;
    t->debt += ab_throttle_delay(t->max_cpu, t->max_io, clock_s(CLOCK_PROCESS_CPUTIME_ID) - t->cpu0,
                                 clock_s(CLOCK_MONOTONIC) - t->wall0, bytes);
    double d = t->debt > AB_THROTTLE_MAX_REST ? AB_THROTTLE_MAX_REST : t->debt;
    if (d <= 0)
        return 0;
    t->debt -= d;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ; /* EINTR: sleep the rest */
    return d;
}
