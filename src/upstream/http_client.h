/* A bounded HTTP client over the calling thread's curl handle: connect and
 * total timeouts, a cap on the body, and the few response headers we use.
 * No redirects are followed here. */
#ifndef CLEANPNG_UPSTREAM_HTTP_CLIENT_H
#define CLEANPNG_UPSTREAM_HTTP_CLIENT_H

#include <curl/curl.h>

#include "core/buf.h"

typedef enum {
    HTTPC_OK = 0,    /* a response arrived (any status) */
    HTTPC_TIMEOUT,   /* connect or total time ran out */
    HTTPC_TOO_LARGE, /* the body passed max_body */
    HTTPC_CONNECT,   /* could not connect / resolve / TLS */
    HTTPC_ERROR,     /* anything else */
} httpc_result;

typedef struct {
    const char *url;
    const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_body;
    /* POST body; NULL for GET */
    const void *post_body;
    size_t post_len;
    curl_mime *mime; /* multipart POST instead of post_body */
} httpc_request;

typedef struct {
    long status;
    buf body;
    char content_type[128];
    long ratelimit_remaining; /* X-Ratelimit-Remaining, -1 when absent */
    long retry_after;         /* Retry-After in seconds, -1 when absent */
    double total_ms;
} httpc_response;

/* The response's body buffer is initialised here; the caller frees it with
 * httpc_response_free() whatever the result. */
httpc_result httpc_perform(CURL *curl, const httpc_request *req, httpc_response *resp);
void httpc_response_free(httpc_response *resp);

#endif
