/* GET /api/health: cheap, never blocks longer than the Redis timeout, and
 * says "degraded" (still 200) when Redis cannot be reached. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "http/worker.h"
#include "store/logq.h"
#include "upstream/unsplash.h"

#define CLEANPNG_VERSION "0.1.0"

void api_health(request *r)
{
    redisReply *rep = redis_conn_command(&r->thread->redis, "PING");
    int redis_ok = rep && rep->type == REDIS_REPLY_STATUS;
    if (rep)
        freeReplyObject(rep);
    logq_stats_t lq;
    logq_stats(&lq);
    char body[768];
    long remaining = unsplash_ratelimit_remaining();
    char rl[32] = "null";
    if (remaining >= 0)
        snprintf(rl, sizeof rl, "%ld", remaining);
    int n = snprintf(body, sizeof body,
                     "{\"status\":\"%s\",%s\"redis\":\"%s\",\"search_provider\":\"%s\","
                     "\"remove_engine\":\"%s\",\"unsplash_ratelimit_remaining\":%s,"
                     "\"log_queue\":{\"depth\":%zu,\"capacity\":%zu,\"written\":%llu,"
                     "\"dropped\":%llu,\"expired_unwritten\":%llu},"
                     "\"worker\":%ld,\"pid\":%d,\"version\":\"%s\"}",
                     redis_ok ? "ok" : "degraded",
                     redis_ok ? ""
                              : "\"reason\":\"redis unreachable: rate limits are per worker "
                                "and log entries are queued\",",
                     redis_ok ? "ok" : "down", config_search_name(r->cfg->search),
                     config_engine_name(r->cfg->engine), rl, lq.depth, lq.capacity, lq.written,
                     lq.dropped, lq.expired_unwritten, r->thread->worker_index, (int)getpid(),
                     CLEANPNG_VERSION);
    response_json(r, 200, body, (size_t)n);
}
