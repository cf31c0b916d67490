/* GET /api/metrics: the pool's counters in Prometheus text format. nginx
 * lets only loopback and the configured monitoring networks reach it. */
#include "api/api.h"
#include "core/buf.h"
#include "core/metrics.h"

#define METRICS_BODY_MAX (256 * 1024)

void api_metrics(request *r)
{
    buf b;
    buf_init(&b, METRICS_BODY_MAX);
    if (metrics_render(&b))
        response_fail(r, 500, "internal", NULL, "the metrics could not be rendered");
    else
        response_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data, b.len);
    buf_free(&b);
}
