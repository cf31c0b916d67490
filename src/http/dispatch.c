#include "http/dispatch.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "http/worker.h"

static const route routes[] = {
    {"/api/search", "GET", "search", api_search},
    {"/api/remove", "POST", "remove", api_remove},
    {"/api/health", "GET", "health", api_health},
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
    scoreboard_enter(t, &r);

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
        } else {
            rt->handler(&r);
        }
    }
    if (!r.responded) {
        log_error("event=handler_without_response route=%s request_id=%s", r.route_name, r.id);
        response_fail(&r, 500, "internal", NULL, "the server could not answer this request");
    }

    uint64_t us = now_mono_us() - r.started_us;
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
