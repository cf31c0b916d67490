/* Process-shared counters for GET /api/metrics (Prometheus text format).
 * One MAP_SHARED block is created by the master before it forks, so every
 * worker adds to the same atomics and any worker can render the totals. */
#ifndef CLEANPNG_CORE_METRICS_H
#define CLEANPNG_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum {
    MR_SEARCH,
    MR_REMOVE,
    MR_PRIVACY,
    MR_HEALTH,
    MR_METRICS,
    MR_OTHER,
    MR_COUNT
} metric_route;
typedef enum { MU_UNSPLASH, MU_REMOVEBG, MU_REMBG, MU_IMAGE_FETCH, MU_COUNT } metric_upstream;
typedef enum { MO_OK, MO_ERROR, MO_TIMEOUT, MO_QUOTA, MO_COUNT } metric_outcome;
typedef enum { ME_LOCAL, ME_REMOVEBG, ME_REMBG, ME_COUNT } metric_engine;

#define METRICS_MAX_WORKERS 64

/* Creates the shared block; call once before forking. 0 on success. */
int metrics_init(void);

metric_route metrics_route_of(const char *name);
void metrics_request(metric_route r, int status, uint64_t duration_us);
void metrics_upstream(metric_upstream u, metric_outcome o);
void metrics_engine_time(metric_engine e, uint64_t duration_us);
void metrics_ratelimit_rejected(metric_route r);
void metrics_redis_error(void);
void metrics_redis_reconnect(void);
void metrics_cache(int hit);
void metrics_worker_restart(void);
/* the log writer of worker `worker` reports its queue */
void metrics_log_queue(long worker, size_t depth, unsigned long long dropped);

/* Renders everything in the Prometheus text exposition format. */
int metrics_render(buf *out);

#endif
