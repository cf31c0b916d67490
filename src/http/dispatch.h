/* The dispatcher: the one place that does what every request shares —
 * request id, client address, route lookup, method check, timing, the
 * operational log — and hands the rest to the route's handler. */
#ifndef CLEANPNG_HTTP_DISPATCH_H
#define CLEANPNG_HTTP_DISPATCH_H

#include <fcgiapp.h>

#include "http/request.h"

struct worker_thread;

typedef void (*route_handler)(request *r);

typedef enum { LIMIT_SEARCH, LIMIT_REMOVE, LIMIT_PRIVACY, LIMIT_HEALTH } limit_class;

typedef struct {
    const char *path;
    const char *methods; /* "GET", "POST", "GET, DELETE": also the Allow header */
    const char *name;    /* route class for logs and limits */
    limit_class limit;
    route_handler handler;
    /* optional: fills r->prefetch_key (see request.h); no I/O */
    void (*prefetch)(request *r);
} route;

void dispatch_request(struct worker_thread *t, FCGX_Request *fr);

/* Exposed for tests: the route for a path, or NULL. */
const route *dispatch_find(const char *path);
int dispatch_method_allowed(const route *rt, const char *method);

#endif
