/* GET /api/privacy: every log entry kept about the caller's address, by kind,
 * each with its deletion date, plus the retention policy.
 * DELETE /api/privacy: erases them all at once (and, through an erase mark,
 * any entry still waiting in a log queue). Rate-limit counters are exempt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/buf.h"
#include "core/timeutil.h"
#include "http/accesslog.h"
#include "http/worker.h"
#include "store/keys.h"
#include "store/logq.h"

#define PRIVACY_MAX_ENTRIES 500 /* newest shown per kind; counts are complete */
#define PRIVACY_BODY_MAX (8u * 1024 * 1024)
#define ERASE_MARK_TTL_S 86400

/* KEYS[1] an index; ARGV[1] how many entries to erase at most. Deletes the
 * oldest entries listed in the index and their index members; returns how
 * many entries existed. Called in a loop, so no single call holds Redis for
 * long, however many entries a visitor has. */
static const char ERASE_CHUNK_SCRIPT[] =
    "local keys = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)\n"
    "if #keys == 0 then redis.call('DEL', KEYS[1]) return {0, 0} end\n"
    "local n = redis.call('DEL', unpack(keys))\n"
    "redis.call('ZREM', KEYS[1], unpack(keys))\n"
    "return {#keys, n}\n";

#define ERASE_CHUNK 500

static const char *unavailable = "your data cannot be reached right now; try again shortly";

static void idx_key(const request *r, log_kind k, char *out, size_t n)
{
    snprintf(out, n, "cp:idx:{%s}:%s", r->who, log_kind_name(k));
}

/* Appends the newest PRIVACY_MAX_ENTRIES entries of one kind to b: trim
 * the index, count it, list it, and read the entries with one MGET, so the
 * whole kind costs four round trips however many entries there are. */
static int list_kind(request *r, log_kind k, long long now, buf *b, long *count)
{
    char idx[128], nowbuf[24];
    idx_key(r, k, idx, sizeof idx);
    snprintf(nowbuf, sizeof nowbuf, "%lld", now);
    redis_conn *c = &r->thread->redis;
    redisReply *rep = redis_conn_command(c, "ZREMRANGEBYSCORE %s -inf %s", idx, nowbuf);
    if (!rep)
        return -1;
    freeReplyObject(rep);
    rep = redis_conn_command(c, "ZCARD %s", idx);
    if (!rep)
        return -1;
    *count = rep->type == REDIS_REPLY_INTEGER ? (long)rep->integer : 0;
    freeReplyObject(rep);
    redisReply *ids =
        redis_conn_command(c, "ZREVRANGE %s 0 %d WITHSCORES", idx, PRIVACY_MAX_ENTRIES - 1);
    if (!ids)
        return -1;
    size_t n = ids->type == REDIS_REPLY_ARRAY ? ids->elements / 2 : 0;
    if (n == 0) {
        freeReplyObject(ids);
        return 0;
    }
    const char *argv[PRIVACY_MAX_ENTRIES + 1];
    size_t argl[PRIVACY_MAX_ENTRIES + 1];
    argv[0] = "MGET";
    argl[0] = 4;
    for (size_t i = 0; i < n; i++) {
        argv[i + 1] = ids->element[2 * i]->str;
        argl[i + 1] = ids->element[2 * i]->len;
    }
    redisReply *vals = redis_conn_command_argv(c, (int)n + 1, argv, argl);
    if (!vals) {
        freeReplyObject(ids);
        return -1;
    }
    int rc = 0, first = 1;
    for (size_t i = 0; rc == 0 && vals->type == REDIS_REPLY_ARRAY && i < vals->elements; i++) {
        redisReply *v = vals->element[i];
        /* our own JSON objects: splice the deletion date in front */
        if (v->type == REDIS_REPLY_STRING && v->len > 2 && v->str[0] == '{') {
            char when[32];
            iso_time(strtoll(ids->element[2 * i + 1]->str, NULL, 10), when);
            rc = buf_printf(b, "%s{\"deletes_at\":\"%s\",%.*s", first ? "" : ",", when,
                            (int)v->len - 1, v->str + 1);
            first = 0;
        }
    }
    freeReplyObject(vals);
    freeReplyObject(ids);
    return rc;
}

static void privacy_get(request *r)
{
    buf b;
    buf_init(&b, PRIVACY_BODY_MAX);
    long long now = (long long)now_wall_ms();
    long counts[LOGK_COUNT] = {0};
    const config *cfg = r->cfg;
    int ok = buf_printf(&b, "{\"address\":\"") == 0 &&
             buf_append_json_str(&b, r->client_addr, strlen(r->client_addr)) == 0 &&
             buf_printf(&b,
                        "\",\"retention\":{\"search_seconds\":%ld,\"error_seconds\":%ld,"
                        "\"access_seconds\":%ld,\"images_seconds\":0,"
                        "\"search\":\"%ld days\",\"error\":\"%ld days\",\"access\":\"%ld days\"},"
                        "\"entries\":{",
                        cfg->retention_search_s, cfg->retention_error_s, cfg->retention_access_s,
                        cfg->retention_search_s / 86400, cfg->retention_error_s / 86400,
                        cfg->retention_access_s / 86400) == 0;
    for (int k = 0; ok && k < LOGK_COUNT; k++) {
        ok = buf_printf(&b, "%s\"%s\":[", k ? "," : "", log_kind_name((log_kind)k)) == 0;
        if (ok && list_kind(r, (log_kind)k, now, &b, &counts[k])) {
            buf_free(&b);
            response_fail(r, 503, "unavailable", NULL, "%s", unavailable);
            return;
        }
        ok = ok && buf_append_str(&b, "]") == 0;
    }
    ok = ok &&
         buf_printf(&b,
                    "},\"counts\":{\"access\":%ld,\"search\":%ld,\"error\":%ld},"
                    "\"shown_per_kind_max\":%d,"
                    "\"note\":\"Rate-limit counters are not listed: they hold only a count for "
                    "your address and expire within minutes. Images are never stored.\"}",
                    counts[LOGK_ACCESS], counts[LOGK_SEARCH], counts[LOGK_ERROR],
                    PRIVACY_MAX_ENTRIES) == 0;
    if (!ok)
        response_fail(r, 500, "internal", NULL, "your data is too large to show at once");
    else
        response_json(r, 200, b.data, b.len);
    buf_free(&b);
}

/* Sets the erase mark first, so entries still waiting in any worker's log
 * queue are never written afterwards, then deletes everything listed in the
 * three indexes in chunks. */
static void privacy_delete(request *r)
{
    r->no_access_log = 1; /* erasing leaves no trace of the erase */
    redis_conn *c = &r->thread->redis;
    char mark[96];
    snprintf(mark, sizeof mark, "cp:erased:{%s}", r->who);
    redisReply *rep = redis_conn_command(c, "SET %s %llu EX %d", mark,
                                         (unsigned long long)now_wall_ms(), ERASE_MARK_TTL_S);
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        if (rep)
            freeReplyObject(rep);
        response_fail(r, 503, "unavailable", NULL, "%s", unavailable);
        return;
    }
    freeReplyObject(rep);
    long long erased[LOGK_COUNT] = {0};
    for (int k = 0; k < LOGK_COUNT; k++) {
        char idx[128];
        idx_key(r, (log_kind)k, idx, sizeof idx);
        for (;;) {
            rep = redis_conn_command(c, "EVAL %s 1 %s %d", ERASE_CHUNK_SCRIPT, idx, ERASE_CHUNK);
            if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
                if (rep)
                    freeReplyObject(rep);
                response_fail(r, 503, "unavailable", NULL, "%s", unavailable);
                return;
            }
            long long listed = rep->element[0]->integer;
            erased[k] += rep->element[1]->integer;
            freeReplyObject(rep);
            if (listed < ERASE_CHUNK)
                break;
        }
    }
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"erased\":{\"access\":%lld,\"search\":%lld,\"error\":%lld},"
                     "\"note\":\"Every log entry about your address is gone. Rate-limit "
                     "counters are kept until their window ends (minutes) because they stop "
                     "abuse; they hold only a count.\"}",
                     erased[LOGK_ACCESS], erased[LOGK_SEARCH], erased[LOGK_ERROR]);
    response_json(r, 200, body, (size_t)n);
}

void api_privacy(request *r)
{
    if (!strcmp(r->method, "DELETE"))
        privacy_delete(r);
    else
        privacy_get(r);
}
