#include "http/accesslog.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"

#define ENTRY_MAX 2048

void iso_time(long long time_ms, char out[32])
{
    time_t s = (time_t)(time_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.19s.%03uZ", day, (unsigned)(time_ms % 1000) % 1000u);
}

static int put(buf *b, const char *key, const char *val, size_t maxlen)
{
    size_t n = val ? strlen(val) : 0;
    if (n > maxlen)
        n = maxlen;
    if (!val)
        return buf_printf(b, ",\"%s\":null", key);
    return buf_printf(b, ",\"%s\":\"", key) || buf_append_json_str(b, val, n) ||
           buf_append_str(b, "\"");
}

static int start(buf *b, const request *r, long long time_ms)
{
    char t[32];
    iso_time(time_ms, t);
    buf_init(b, ENTRY_MAX);
    return buf_printf(b, "{\"time\":\"%s\"", t) || put(b, "address", r->client_addr, 64);
}

char *accesslog_access_json(const request *r, long long time_ms, double duration_ms)
{
    buf b;
    if (start(&b, r, time_ms) || put(&b, "method", r->method, 16) ||
        put(&b, "route", r->path, 64) ||
        buf_printf(&b, ",\"status\":%d,\"bytes\":%zu,\"duration_ms\":%.1f", r->status,
                   r->bytes_sent, duration_ms) ||
        put(&b, "request_id", r->id, REQUEST_ID_MAX) ||
        put(&b, "user_agent", r->user_agent, LOG_USER_AGENT_MAX) || buf_append_str(&b, "}")) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

char *accesslog_search_json(const request *r, long long time_ms, double duration_ms)
{
    buf b;
    if (start(&b, r, time_ms) || put(&b, "query", r->search_query, 400) ||
        buf_printf(&b, ",\"page\":%d,\"results\":%ld,\"cached\":%s,\"duration_ms\":%.1f}",
                   r->search_page, r->search_results, r->search_cached ? "true" : "false",
                   duration_ms)) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

char *accesslog_error_json(const request *r, long long time_ms, const char *route, const char *code,
                           long upstream_status, const char *message)
{
    buf b;
    if (start(&b, r, time_ms) || put(&b, "route", route, 64) || put(&b, "code", code, 64) ||
        (upstream_status ? buf_printf(&b, ",\"upstream_status\":%ld", upstream_status)
                         : buf_append_str(&b, ",\"upstream_status\":null")) ||
        put(&b, "message", message, 200) || buf_append_str(&b, "}")) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}
