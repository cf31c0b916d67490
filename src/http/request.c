#include "http/request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/buf.h"
#include "core/log.h"

void request_add_header(request *r, const char *name, const char *value)
{
    size_t room = sizeof r->extra_headers - r->extra_len;
    int n = snprintf(r->extra_headers + r->extra_len, room, "%s: %s\r\n", name, value);
    if (n > 0 && (size_t)n < room)
        r->extra_len += (size_t)n;
    else
        r->extra_headers[r->extra_len] = '\0'; /* drop a header that does not fit */
}

void response_send(request *r, int status, const char *content_type, const char *headers,
                   const void *body, size_t len)
{
    if (r->responded) {
        log_warn("event=double_response request_id=%s status=%d", r->id, status);
        return;
    }
    r->responded = 1;
    r->status = status;
    char head[1536];
    int n = snprintf(head, sizeof head,
                     "Status: %d %s\r\n"
                     "X-Request-Id: %s\r\n"
                     "Cache-Control: no-store\r\n"
                     "%s%s%s"
                     "Content-Length: %zu\r\n"
                     "%.*s%s\r\n",
                     status, http_status_text(status), r->id, content_type ? "Content-Type: " : "",
                     content_type ? content_type : "", content_type ? "\r\n" : "", len,
                     (int)r->extra_len, r->extra_headers, headers ? headers : "");
    if (n < 0 || (size_t)n >= sizeof head) {
        log_error("event=header_overflow request_id=%s", r->id);
        n = snprintf(head, sizeof head, "Status: 500 Internal Server Error\r\n\r\n");
        len = 0;
    }
    FCGX_PutStr(head, n, r->fcgi->out);
    if (len)
        FCGX_PutStr(body, (int)len, r->fcgi->out);
    r->bytes_sent = len;
}

void response_json(request *r, int status, const char *json, size_t len)
{
    response_send(r, status, "application/json; charset=utf-8", NULL, json, len);
}

void response_error(request *r, const api_error *e)
{
    buf tmp;
    buf_init(&tmp, 2048);
    int ok = buf_append_str(&tmp, "{\"error\":{\"code\":\"") == 0 &&
             buf_append_str(&tmp, e->code) == 0 && buf_append_str(&tmp, "\",\"message\":\"") == 0 &&
             buf_append_json_str(&tmp, e->message, strlen(e->message)) == 0 &&
             buf_append_str(&tmp, "\"") == 0;
    if (ok && e->param)
        ok = buf_append_str(&tmp, ",\"param\":\"") == 0 &&
             buf_append_json_str(&tmp, e->param, strlen(e->param)) == 0 &&
             buf_append_str(&tmp, "\"") == 0;
    if (ok)
        ok = buf_append_str(&tmp, "}}") == 0;
    char headers[160] = "";
    if (e->retry_after > 0)
        snprintf(headers, sizeof headers, "Retry-After: %ld\r\n", e->retry_after);
    r->last_error = *e;
    if (ok)
        response_send(r, e->status, "application/json; charset=utf-8", headers, tmp.data, tmp.len);
    else
        response_send(r, e->status, "application/json; charset=utf-8", headers,
                      "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}", 56);
    buf_free(&tmp);
}

void response_fail(request *r, int status, const char *code, const char *param, const char *fmt,
                   ...)
{
    api_error e;
    api_error_set(&e, status, code, param, "-");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    response_error(r, &e);
}

void request_id_assign(char out[REQUEST_ID_MAX + 1], const char *incoming)
{
    if (incoming) {
        size_t n = strlen(incoming);
        int sane = n >= 8 && n <= REQUEST_ID_MAX;
        for (size_t i = 0; sane && i < n; i++) {
            char c = incoming[i];
            sane = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.';
        }
        if (sane) {
            memcpy(out, incoming, n + 1);
            return;
        }
    }
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0, sizeof rnd);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof rnd; i++) {
        out[2 * i] = hex[rnd[i] >> 4];
        out[2 * i + 1] = hex[rnd[i] & 15];
    }
    out[32] = '\0';
}
