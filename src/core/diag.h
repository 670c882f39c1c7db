/* diag.h: load-time diagnostics with a status, behind both public callback types.
 *
 * Loaders take the public (ab_diag_fn, ctx) pair. The scanner hands them its router
 * (ab_diag_route_fn with an ab_diag_route as ctx), which delivers to the caller's ab_diag2_fn
 * (ab_scanner_set_diag) or else to the per-call ab_diag_fn. A loader that knows a diagnostic's
 * status or rule calls ab_diag_emit, which passes the whole ab_diag through the router, or formats
 * "file:line" for any other ab_diag_fn (unit tests, direct callers). Call sites that still call
 * the ab_diag_fn directly keep working: the router splits "file:line" again and gives such
 * diagnostics the route's default status. No global state: everything travels in ctx. */
#ifndef AB_DIAG_H
#define AB_DIAG_H

#include "antibody/antibody.h"

typedef struct ab_diag_route {
    ab_diag2_fn fn2; /* preferred, when set */
    void *ctx2;
    ab_diag_fn fn; /* the per-call callback; notes never reach it */
    void *ctx;
    ab_status status; /* for errors and warnings that come without one */
} ab_diag_route;

/* The router, in the shape of an ab_diag_fn; route is an ab_diag_route. */
void ab_diag_route_fn(void *route, ab_diag_level level, const char *where, const char *message);

/* Deliver d through (fn, ctx), whichever kind fn is; fn may be NULL. */
void ab_diag_emit(ab_diag_fn fn, void *ctx, const ab_diag *d);

/* ab_diag_emit of a formatted message. */
void ab_diag_say(ab_diag_fn fn, void *ctx, ab_diag_level level, ab_status st, const char *file,
                 unsigned line, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#endif
