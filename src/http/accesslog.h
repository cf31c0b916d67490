/* The visitor log entries of SPEC section 4, as JSON objects, built from a
 * finished request. Pure; the dispatcher queues them (store/logq.h). */
#ifndef CLEANPNG_HTTP_ACCESSLOG_H
#define CLEANPNG_HTTP_ACCESSLOG_H

#include "http/request.h"

#define LOG_USER_AGENT_MAX 160

/* Each returns a malloc'd JSON object text, or NULL. time_ms is wall time. */
char *accesslog_access_json(const request *r, long long time_ms, double duration_ms);
char *accesslog_search_json(const request *r, long long time_ms, double duration_ms);
char *accesslog_error_json(const request *r, long long time_ms, const char *route, const char *code,
                           long upstream_status, const char *message);

/* "2026-12-04T16:00:00.123Z" */
void iso_time(long long time_ms, char out[32]);

#endif
