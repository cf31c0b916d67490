#include "core/metrics.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define N_KNOWN 13             /* statuses counted by name ... */
#define N_STATUS (N_KNOWN + 1) /* ... plus "other" */
#define N_BUCKETS 12

static const int statuses[N_KNOWN] = {200, 400, 404, 405, 413, 414, 415,
                                      422, 429, 500, 502, 503, 504};
/* upper bounds in microseconds; the last is +Inf */
static const uint64_t bucket_us[N_BUCKETS] = {1000,   5000,   10000,   25000,   50000,    100000,
                                              250000, 500000, 1000000, 2500000, 10000000, 0};
static const char *const bucket_s[N_BUCKETS] = {"0.001", "0.005", "0.01", "0.025", "0.05", "0.1",
                                                "0.25",  "0.5",   "1",    "2.5",   "10",   "+Inf"};

typedef struct {
    atomic_ullong count[N_BUCKETS]; /* per bucket (not cumulative) */
    atomic_ullong sum_us;
} histogram;

typedef struct {
    atomic_ullong requests[MR_COUNT][N_STATUS];
    histogram latency[MR_COUNT];
    atomic_ullong upstream[MU_COUNT][MO_COUNT];
    histogram engine[ME_COUNT];
    atomic_ullong ratelimited[MR_COUNT];
    atomic_ullong redis_errors, redis_reconnects;
    atomic_ullong cache_hits, cache_misses;
    atomic_ullong worker_restarts;
    atomic_ullong log_queue_depth[METRICS_MAX_WORKERS];
    atomic_ullong log_queue_dropped[METRICS_MAX_WORKERS];
} metrics_block;

static metrics_block *m;

static const char *const route_names[MR_COUNT] = {"search", "remove",  "privacy",
                                                  "health", "metrics", "other"};
static const char *const upstream_names[MU_COUNT] = {"unsplash", "removebg", "rembg",
                                                     "image_fetch"};
static const char *const outcome_names[MO_COUNT] = {"ok", "error", "timeout", "quota"};
static const char *const engine_names[ME_COUNT] = {"local", "removebg", "rembg"};

int metrics_init(void)
{
    void *p = mmap(NULL, sizeof(metrics_block), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return -1;
    m = p; /* zero-filled */
    return 0;
}

metric_route metrics_route_of(const char *name)
{
    for (int i = 0; i < MR_COUNT; i++)
        if (name && !strcmp(name, route_names[i]))
            return (metric_route)i;
    return MR_OTHER;
}

static void observe(histogram *h, uint64_t us)
{
    int b = 0;
    while (b < N_BUCKETS - 1 && us > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&h->count[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

void metrics_request(metric_route r, int status, uint64_t duration_us)
{
    if (!m)
        return;
    int s = N_KNOWN; /* "other" */
    for (int i = 0; i < N_KNOWN; i++)
        if (statuses[i] == status)
            s = i;
    atomic_fetch_add_explicit(&m->requests[r][s], 1, memory_order_relaxed);
    observe(&m->latency[r], duration_us);
}

void metrics_upstream(metric_upstream u, metric_outcome o)
{
    if (m)
        atomic_fetch_add_explicit(&m->upstream[u][o], 1, memory_order_relaxed);
}

void metrics_engine_time(metric_engine e, uint64_t duration_us)
{
    if (m)
        observe(&m->engine[e], duration_us);
}

void metrics_ratelimit_rejected(metric_route r)
{
    if (m)
        atomic_fetch_add_explicit(&m->ratelimited[r], 1, memory_order_relaxed);
}

void metrics_redis_error(void)
{
    if (m)
        atomic_fetch_add_explicit(&m->redis_errors, 1, memory_order_relaxed);
}

void metrics_redis_reconnect(void)
{
    if (m)
        atomic_fetch_add_explicit(&m->redis_reconnects, 1, memory_order_relaxed);
}

void metrics_cache(int hit)
{
    if (m)
        atomic_fetch_add_explicit(hit ? &m->cache_hits : &m->cache_misses, 1, memory_order_relaxed);
}

void metrics_worker_restart(void)
{
    if (m)
        atomic_fetch_add_explicit(&m->worker_restarts, 1, memory_order_relaxed);
}

void metrics_log_queue(long worker, size_t depth, unsigned long long dropped)
{
    if (!m || worker < 0 || worker >= METRICS_MAX_WORKERS)
        return;
    atomic_store_explicit(&m->log_queue_depth[worker], depth, memory_order_relaxed);
    atomic_store_explicit(&m->log_queue_dropped[worker], dropped, memory_order_relaxed);
}

static int render_histogram(buf *out, const char *name, const char *label, const char *value,
                            histogram *h)
{
    unsigned long long cum = 0;
    for (int b = 0; b < N_BUCKETS; b++) {
        cum += atomic_load_explicit(&h->count[b], memory_order_relaxed);
        if (buf_printf(out, "%s_bucket{%s=\"%s\",le=\"%s\"} %llu\n", name, label, value,
                       bucket_s[b], cum))
            return -1;
    }
    return buf_printf(out, "%s_sum{%s=\"%s\"} %.6f\n%s_count{%s=\"%s\"} %llu\n", name, label, value,
                      (double)atomic_load(&h->sum_us) / 1e6, name, label, value, cum);
}

int metrics_render(buf *out)
{
    if (!m)
        return -1;
    int rc = buf_append_str(out, "# HELP cleanpng_requests_total API requests by route and "
                                 "status.\n# TYPE cleanpng_requests_total counter\n");
    for (int r = 0; !rc && r < MR_COUNT; r++)
        for (int s = 0; !rc && s < N_KNOWN; s++) {
            unsigned long long v = atomic_load(&m->requests[r][s]);
            if (v || s == 0)
                rc = buf_printf(out, "cleanpng_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                                route_names[r], statuses[s], v);
        }
    for (int r = 0; !rc && r < MR_COUNT; r++) {
        unsigned long long v = atomic_load(&m->requests[r][N_KNOWN]);
        if (v)
            rc = buf_printf(out, "cleanpng_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                            route_names[r], v);
    }
    rc = rc || buf_append_str(out, "# HELP cleanpng_request_duration_seconds Time from the "
                                   "dispatcher's start to the end of the response.\n# TYPE "
                                   "cleanpng_request_duration_seconds histogram\n");
    for (int r = 0; !rc && r < MR_COUNT; r++)
        rc = render_histogram(out, "cleanpng_request_duration_seconds", "route", route_names[r],
                              &m->latency[r]);
    rc = rc || buf_append_str(out, "# HELP cleanpng_upstream_calls_total Calls to search "
                                   "providers, engines and image hosts by outcome.\n# TYPE "
                                   "cleanpng_upstream_calls_total counter\n");
    for (int u = 0; !rc && u < MU_COUNT; u++)
        for (int o = 0; !rc && o < MO_COUNT; o++)
            rc = buf_printf(out,
                            "cleanpng_upstream_calls_total{upstream=\"%s\",outcome=\"%s\"} %llu\n",
                            upstream_names[u], outcome_names[o], atomic_load(&m->upstream[u][o]));
    rc = rc || buf_append_str(out, "# HELP cleanpng_engine_seconds Time spent in the "
                                   "background-removal engine.\n# TYPE cleanpng_engine_seconds "
                                   "histogram\n");
    for (int e = 0; !rc && e < ME_COUNT; e++)
        rc = render_histogram(out, "cleanpng_engine_seconds", "engine", engine_names[e],
                              &m->engine[e]);
    rc = rc ||
         buf_append_str(out, "# HELP cleanpng_ratelimit_rejections_total Requests refused "
                             "with 429.\n# TYPE cleanpng_ratelimit_rejections_total counter\n");
    for (int r = 0; !rc && r < MR_COUNT; r++)
        rc = buf_printf(out, "cleanpng_ratelimit_rejections_total{route=\"%s\"} %llu\n",
                        route_names[r], atomic_load(&m->ratelimited[r]));
    unsigned long long depth = 0, dropped = 0;
    for (int w = 0; w < METRICS_MAX_WORKERS; w++) {
        depth += atomic_load(&m->log_queue_depth[w]);
        dropped += atomic_load(&m->log_queue_dropped[w]);
    }
    unsigned long long hits = atomic_load(&m->cache_hits), misses = atomic_load(&m->cache_misses);
    rc = rc ||
         buf_printf(out,
                    "# HELP cleanpng_redis_errors_total Redis connection and protocol errors.\n"
                    "# TYPE cleanpng_redis_errors_total counter\n"
                    "cleanpng_redis_errors_total %llu\n"
                    "# HELP cleanpng_redis_reconnects_total Redis connections made.\n"
                    "# TYPE cleanpng_redis_reconnects_total counter\n"
                    "cleanpng_redis_reconnects_total %llu\n"
                    "# HELP cleanpng_log_queue_depth Log entries waiting to be written, all "
                    "workers.\n# TYPE cleanpng_log_queue_depth gauge\n"
                    "cleanpng_log_queue_depth %llu\n"
                    "# HELP cleanpng_log_queue_dropped_total Log entries refused by a full "
                    "queue (since each worker started).\n"
                    "# TYPE cleanpng_log_queue_dropped_total counter\n"
                    "cleanpng_log_queue_dropped_total %llu\n"
                    "# HELP cleanpng_worker_restarts_total Worker processes restarted after "
                    "dying.\n# TYPE cleanpng_worker_restarts_total counter\n"
                    "cleanpng_worker_restarts_total %llu\n"
                    "# HELP cleanpng_search_cache_requests_total Search cache lookups by "
                    "result.\n# TYPE cleanpng_search_cache_requests_total counter\n"
                    "cleanpng_search_cache_requests_total{result=\"hit\"} %llu\n"
                    "cleanpng_search_cache_requests_total{result=\"miss\"} %llu\n"
                    "# HELP cleanpng_search_cache_hit_ratio Hits over lookups since start.\n"
                    "# TYPE cleanpng_search_cache_hit_ratio gauge\n"
                    "cleanpng_search_cache_hit_ratio %.4f\n",
                    atomic_load(&m->redis_errors), atomic_load(&m->redis_reconnects), depth,
                    dropped, atomic_load(&m->worker_restarts), hits, misses,
                    hits + misses ? (double)hits / (double)(hits + misses) : 0.0);
    return rc;
}
