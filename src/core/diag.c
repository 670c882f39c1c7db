/* diag.c: the diagnostics router (see diag.h). */
#include "core/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHERE_MAX 4352 /* a path up to PATH_MAX and a line number */

static void deliver(const ab_diag_route *r, const ab_diag *d)
{
    ab_diag copy = *d;
    if (copy.level != AB_DIAG_NOTE && copy.status == AB_OK)
        copy.status = r->status;
    if (r->fn2) {
        r->fn2(r->ctx2, &copy);
        return;
    }
    ab_diag_emit(r->fn, r->ctx, &copy);
}

void ab_diag_route_fn(void *route, ab_diag_level level, const char *where, const char *message)
{
    char file[WHERE_MAX];
    unsigned line = 0;
    snprintf(file, sizeof(file), "%s", where ? where : "");
    char *colon = strrchr(file, ':');
    if (colon && colon[1] && strlen(colon + 1) <= 9 &&
        strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        line = (unsigned)strtoul(colon + 1, NULL, 10);
        *colon = '\0';
    }
    ab_diag d = {level, AB_OK, file, line, NULL, message ? message : ""};
    deliver(route, &d);
}

void ab_diag_emit(ab_diag_fn fn, void *ctx, const ab_diag *d)
{
    if (!fn)
        return;
    if (fn == ab_diag_route_fn) {
        deliver(ctx, d);
        return;
    }
    if (d->level == AB_DIAG_NOTE)
        return; /* the old callback type has no level for it: its users would take it for an error
                 */
    char where[WHERE_MAX];
    int n = d->line ? snprintf(where, sizeof(where), "%s:%u", d->file, d->line)
                    : snprintf(where, sizeof(where), "%s", d->file);
    if (n < 0)
        where[0] = '\0'; /* a file name past WHERE_MAX is cut: still said */
    fn(ctx, d->level, where, d->message);
}

void ab_diag_say(ab_diag_fn fn, void *ctx, ab_diag_level level, ab_status st, const char *file,
                 unsigned line, const char *fmt, ...)
{
    if (!fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ab_diag d = {level, st, file, line, NULL, msg};
    ab_diag_emit(fn, ctx, &d);
}
