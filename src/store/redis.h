/* One Redis connection per thread, with bounded waits and reconnection with
 * backoff. A request never waits longer than the configured Redis timeout:
 * while Redis is down, redis_conn_get() answers NULL at once until the next
 * reconnection attempt is due. */
#ifndef CLEANPNG_STORE_REDIS_H
#define CLEANPNG_STORE_REDIS_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "core/config.h"

typedef struct {
    const config *cfg;
    redisContext *ctx;
    uint64_t next_attempt_us; /* monotonic; no reconnect before this */
    unsigned backoff_ms;
    unsigned long reconnects;
    unsigned long errors;
} redis_conn;

void redis_conn_init(redis_conn *c, const config *cfg);
void redis_conn_close(redis_conn *c);

/* The live context, connecting first if needed and allowed; NULL when Redis
 * is unreachable (the caller degrades gracefully). */
redisContext *redis_conn_get(redis_conn *c);

/* Runs one command; NULL on any connection or protocol error (the connection
 * is then dropped and a reconnect scheduled). The caller frees the reply. */
redisReply *redis_conn_command(redis_conn *c, const char *fmt, ...);
redisReply *redis_conn_command_argv(redis_conn *c, int argc, const char **argv,
                                    const size_t *argvlen);

/* Marks the connection broken after an error seen by the caller. */
void redis_conn_fail(redis_conn *c);

/* Whether the connection is currently believed healthy. */
int redis_conn_up(const redis_conn *c);

#endif
