#include "http/dispatch.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/timeutil.h"
#include "http/accesslog.h"
#include "http/worker.h"
#include "store/keys.h"
#include "store/logq.h"
#include "store/ratelimit.h"

static const route routes[] = {
    {"/api/search", "GET", "search", LIMIT_SEARCH, api_search, api_search_prefetch},
    {"/api/remove", "POST", "remove", LIMIT_REMOVE, api_remove, NULL},
    {"/api/privacy", "GET, DELETE", "privacy", LIMIT_PRIVACY, api_privacy, NULL},
    {"/api/health", "GET", "health", LIMIT_HEALTH, api_health, NULL},
    {"/api/metrics", "GET", "metrics", LIMIT_HEALTH, api_metrics, NULL},
};

const route *dispatch_find(const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (!strcmp(routes[i].path, path))
            return &routes[i];
    return NULL;
}

int dispatch_method_allowed(const route *rt, const char *method)
{
    size_t n = strlen(method);
    if (n == 0)
        return 0;
    for (const char *p = rt->methods; (p = strstr(p, method)) != NULL; p += n) {
        int starts = p == rt->methods || p[-1] == ' ';
        int ends = p[n] == '\0' || p[n] == ',';
        if (starts && ends)
            return 1;
    }
    return 0;
}

static const char *param(FCGX_Request *fr, const char *name)
{
    return FCGX_GetParam(name, fr->envp);
}

/* Counts the request against its class's limit and adds the RateLimit-*
 * headers; answers 429 and returns -1 when the client is over it. Health
 * checks are limited per worker in memory, never at the cost of a Redis
 * round trip. */
static int rate_limit_or_reply(request *r, const route *rt)
{
    const config *cfg = r->cfg;
    const rate_limit *lim = rt->limit == LIMIT_SEARCH    ? &cfg->limit_search
                            : rt->limit == LIMIT_REMOVE  ? &cfg->limit_remove
                            : rt->limit == LIMIT_PRIVACY ? &cfg->limit_privacy
                                                         : &cfg->limit_health;
    rl_decision d;
    if (rt->limit == LIMIT_HEALTH) {
        char key[64];
        snprintf(key, sizeof key, "health:%s", r->who);
        ratelimit_local(key, lim, 1, (long long)now_wall_ms(), &d);
    } else if (rt->prefetch) {
        rt->prefetch(r);
        if (r->prefetch_key[0]) {
            ratelimit_check_and_get(&r->thread->redis, r->who, rt->name, lim, &d, r->prefetch_key,
                                    &r->prefetch_reply);
            r->prefetched = 1;
        } else {
            ratelimit_check(&r->thread->redis, r->who, rt->name, lim, &d);
        }
    } else {
        ratelimit_check(&r->thread->redis, r->who, rt->name, lim, &d);
    }
    char v[24];
    snprintf(v, sizeof v, "%ld", d.limit);
    request_add_header(r, "RateLimit-Limit", v);
    snprintf(v, sizeof v, "%ld", d.remaining);
    request_add_header(r, "RateLimit-Remaining", v);
    snprintf(v, sizeof v, "%ld", d.reset_s);
    request_add_header(r, "RateLimit-Reset", v);
    if (d.allowed)
        return 0;
    metrics_ratelimit_rejected(metrics_route_of(rt->name));
    api_error e;
    api_error_set(&e, 429, "rate_limited", NULL,
                  "too many %s requests from your address; try again in %ld seconds", rt->name,
                  d.reset_s > 0 ? d.reset_s : 1);
    e.retry_after = d.reset_s > 0 ? d.reset_s : 1;
    response_error(r, &e);
    return -1;
}

/* Queues the visitor-log entries of a finished request (SPEC section 4). */
static void log_request(request *r, double duration_ms)
{
    long long now = (long long)now_wall_ms();
    if (!r->no_access_log) {
        char *j = accesslog_access_json(r, now, duration_ms);
        if (j)
            logq_push(LOGK_ACCESS, r->who, now, j);
    }
    if (r->search_logged) {
        char *j = accesslog_search_json(r, now, duration_ms);
        if (j)
            logq_push(LOGK_SEARCH, r->who, now, j);
    }
    if (r->status >= 400) {
        char *j = accesslog_error_json(r, now, r->path, r->last_error.code,
                                       r->last_error.upstream_status, r->last_error.message);
        if (j)
            logq_push(LOGK_ERROR, r->who, now, j);
    }
}

void request_log_upstream_failure(request *r, const char *upstream, long status, const char *what)
{
    if (!r)
        return;
    long long now = (long long)now_wall_ms();
    char code[48];
    snprintf(code, sizeof code, "%s_failure", upstream);
    char *j = accesslog_error_json(r, now, r->path, code, status, what);
    if (j)
        logq_push(LOGK_ERROR, r->who, now, j);
}

static void scoreboard_enter(worker_thread *t, const request *r)
{
    scoreboard_slot *s = t->slot;
    if (!s)
        return;
    snprintf(s->request_id, sizeof s->request_id, "%s", r->id);
    snprintf(s->method, sizeof s->method, "%s", r->method);
    snprintf(s->route, sizeof s->route, "%s", r->path);
    s->started_ms = now_wall_ms();
    atomic_store(&s->busy, 1);
}

void dispatch_request(worker_thread *t, FCGX_Request *fr)
{
    request r;
    memset(&r, 0, sizeof r);
    r.fcgi = fr;
    r.cfg = t->cfg;
    r.thread = t;
    r.started_us = now_mono_us();
    r.method = param(fr, "REQUEST_METHOD");
    r.path = param(fr, "DOCUMENT_URI");
    if (!r.path)
        r.path = param(fr, "SCRIPT_NAME");
    r.query_string = param(fr, "QUERY_STRING");
    r.content_type = param(fr, "CONTENT_TYPE");
    r.user_agent = param(fr, "HTTP_USER_AGENT");
    const char *cl = param(fr, "CONTENT_LENGTH");
    r.content_length = cl && *cl ? strtoll(cl, NULL, 10) : -1;
    if (!r.method)
        r.method = "";
    if (!r.path)
        r.path = "";
    if (!r.query_string)
        r.query_string = "";
    const char *rid = param(fr, "REQUEST_ID");
    request_id_assign(r.id, rid ? rid : param(fr, "HTTP_X_REQUEST_ID"));
    const char *addr = param(fr, "REMOTE_ADDR");
    snprintf(r.client_addr, sizeof r.client_addr, "%s", addr ? addr : "");
    client_hash(t->cfg->log_secret, r.client_addr, r.who);
    scoreboard_enter(t, &r);
    t->current = &r;

    const route *rt = dispatch_find(r.path);
    if (!rt) {
        r.route_name = "unknown";
        response_fail(&r, 404, "not_found", NULL, "there is no API route at this path");
    } else {
        r.route_name = rt->name;
        if (!dispatch_method_allowed(rt, r.method)) {
            api_error e;
            api_error_set(&e, 405, "method_not_allowed", NULL, "use %s for %s", rt->methods,
                          rt->path);
            e.param = NULL;
            char allow[64];
            snprintf(allow, sizeof allow, "%s", rt->methods);
            request_add_header(&r, "Allow", allow);
            response_error(&r, &e);
        } else if (rate_limit_or_reply(&r, rt) == 0) {
            rt->handler(&r);
        }
    }
    if (!r.responded) {
        log_error("event=handler_without_response route=%s request_id=%s", r.route_name, r.id);
        response_fail(&r, 500, "internal", NULL, "the server could not answer this request");
    }

    if (r.prefetch_reply) /* a handler that did not take it */
        freeReplyObject(r.prefetch_reply);
    uint64_t us = now_mono_us() - r.started_us;
    log_request(&r, (double)us / 1000.0);
    metrics_request(metrics_route_of(r.route_name), r.status, us);
    t->current = NULL;
    if (r.status >= 500)
        log_warn("event=request route=%s method=%s status=%d code=%s us=%llu request_id=%s",
                 r.route_name, r.method, r.status, r.last_error.code ? r.last_error.code : "-",
                 (unsigned long long)us, r.id);
    else
        log_debug("event=request route=%s method=%s status=%d us=%llu request_id=%s", r.route_name,
                  r.method, r.status, (unsigned long long)us, r.id);
    if (t->slot)
        atomic_store(&t->slot->busy, 0);
}
