#include "store/redis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/timeutil.h"

#define REDIS_BACKOFF_MIN_MS 50
#define REDIS_BACKOFF_MAX_MS 2000

void redis_conn_init(redis_conn *c, const config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->backoff_ms = REDIS_BACKOFF_MIN_MS;
}

void redis_conn_close(redis_conn *c)
{
    if (c->ctx)
        redisFree(c->ctx);
    c->ctx = NULL;
}

void redis_conn_fail(redis_conn *c)
{
    c->errors++;
    metrics_redis_error();
    /* A connection that failed (a slow reply, a reset) is dropped and the
     * next command reconnects at once: one slow moment must not turn into a
     * run of refusals. The backoff applies only when connecting fails, i.e.
     * when Redis is really away (redis_conn_get). */
    if (c->ctx) {
        log_warn("event=redis_error err=\"%s\"", c->ctx->errstr[0] ? c->ctx->errstr : "reply");
        redisFree(c->ctx);
        c->ctx = NULL;
    }
}

static redisContext *connect_url(const char *url, struct timeval tv)
{
    if (!strncmp(url, "unix://", 7))
        return redisConnectUnixWithTimeout(url + 7, tv);
    /* redis://host:port[/db] ; host may be [v6] */
    const char *h = url + 8;
    char host[256];
    int port = 6379;
    const char *end;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end || (size_t)(end - h - 1) >= sizeof host)
            return NULL;
        memcpy(host, h + 1, (size_t)(end - h - 1));
        host[end - h - 1] = '\0';
        end++;
    } else {
        end = h + strcspn(h, ":/");
        if ((size_t)(end - h) >= sizeof host || end == h)
            return NULL;
        memcpy(host, h, (size_t)(end - h));
        host[end - h] = '\0';
    }
    if (*end == ':')
        port = atoi(end + 1);
    return redisConnectWithTimeout(host, port, tv);
}

redisContext *redis_conn_get(redis_conn *c)
{
    if (c->ctx)
        return c->ctx;
    uint64_t now = now_mono_us();
    if (now < c->next_attempt_us)
        return NULL;
    long ms = c->cfg->redis_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    redisContext *ctx = connect_url(c->cfg->redis_url, tv);
    if (!ctx || ctx->err) {
        if (ctx) {
            log_debug("event=redis_connect_failed err=\"%s\"", ctx->errstr);
            redisFree(ctx);
        }
        c->errors++;
        metrics_redis_error();
        c->next_attempt_us = now + (uint64_t)c->backoff_ms * 1000u;
        c->backoff_ms =
            c->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ? REDIS_BACKOFF_MAX_MS : c->backoff_ms * 2;
        return NULL;
    }
    if (redisSetTimeout(ctx, tv) != REDIS_OK) {
        redisFree(ctx);
        return NULL;
    }
    c->ctx = ctx;
    c->reconnects++;
    metrics_redis_reconnect();
    c->backoff_ms = REDIS_BACKOFF_MIN_MS;
    return ctx;
}

static redisReply *checked(redis_conn *c, redisReply *r)
{
    if (!r) {
        redis_conn_fail(c);
        return NULL;
    }
    return r;
}

redisReply *redis_conn_command(redis_conn *c, const char *fmt, ...)
{
    redisContext *ctx = redis_conn_get(c);
    if (!ctx)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(ctx, fmt, ap);
    va_end(ap);
    return checked(c, r);
}

redisReply *redis_conn_command_argv(redis_conn *c, int argc, const char **argv,
                                    const size_t *argvlen)
{
    redisContext *ctx = redis_conn_get(c);
    if (!ctx)
        return NULL;
    return checked(c, redisCommandArgv(ctx, argc, argv, argvlen));
}

int redis_conn_up(const redis_conn *c)
{
    return c->ctx != NULL;
}
