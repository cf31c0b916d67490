/* Per-client rate limits and global upstream budgets.
 *
 * Algorithm: a fixed window per client and route class, counted atomically
 * by one Lua script in Redis (INCR and PEXPIRE together, so no key is ever
 * left without a TTL). Chosen over a sliding window or GCRA because it needs
 * one small key per client and class, gives exact "N per window" counts that
 * RateLimit-Remaining can state honestly, and its known weakness (up to 2N
 * across a window boundary) is acceptable for abuse control, with nginx's
 * limit_req smoothing bursts in front.
 *
 * When Redis cannot be reached, each worker process falls back to an
 * in-memory limiter with the same limits (so the effective limit becomes N
 * per worker); /api/health then says "degraded". */
#ifndef CLEANPNG_STORE_RATELIMIT_H
#define CLEANPNG_STORE_RATELIMIT_H

#include "core/config.h"
#include "store/redis.h"

typedef struct {
    int allowed;
    long limit;
    long remaining;
    long reset_s; /* seconds until the window ends */
    int fallback; /* decided by the in-memory limiter */
} rl_decision;

/* Counts one request of class `cls` for client hash `who` against lim. */
void ratelimit_check(redis_conn *c, const char *who, const char *cls, const rate_limit *lim,
                     rl_decision *out);

/* The same, and GET get_key in the same round trip: *got receives that
 * reply (caller frees it), or NULL when Redis could not be asked. */
void ratelimit_check_and_get(redis_conn *c, const char *who, const char *cls, const rate_limit *lim,
                             rl_decision *out, const char *get_key, redisReply **got);

/* Spends `cost` units of a global budget (per upstream key) if there is room;
 * refuses without spending when there is not. Falls back to a per-process
 * budget of the same size when Redis is down. */
void budget_spend(redis_conn *c, const char *upstream, const char *key_tag, long cost,
                  const rate_limit *lim, rl_decision *out);

/* The in-memory limiter alone (exposed for tests). now_ms is wall time. */
void ratelimit_local(const char *key, const rate_limit *lim, long cost, long long now_ms,
                     rl_decision *out);

#endif
