/* One HTTP request as the FastCGI layer hands it to us, and the functions that
 * answer it. A handler answers exactly once: the first response_* call sends
 * status, headers and body; later calls are ignored (and logged). */
#ifndef CLEANPNG_HTTP_REQUEST_H
#define CLEANPNG_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>

#include "core/config.h"
#include "http/errors.h"

struct worker_thread;

#define REQUEST_ID_MAX 64
#define REQUEST_EXTRA_HEADERS_MAX 512

typedef struct request {
    FCGX_Request *fcgi;
    const config *cfg;
    struct worker_thread *thread; /* per-thread clients (curl, Redis) */

    const char *method;       /* "GET", ... */
    const char *path;         /* without the query string */
    const char *query_string; /* raw, never NULL */
    const char *content_type; /* may be NULL */
    long long content_length; /* -1 when absent */
    const char *user_agent;   /* may be NULL */

    char id[REQUEST_ID_MAX + 1];
    char client_addr[64];
    char who[33]; /* keyed hash of client_addr (store/keys.h) */
    uint64_t started_us;
    const char *route_name; /* for logs and metrics */

    /* headers every response of this request carries (RateLimit-*), CRLF-terminated lines */
    char extra_headers[REQUEST_EXTRA_HEADERS_MAX];
    size_t extra_len;

    /* set by the search handler for the search log */
    int search_logged;
    char search_query[404];
    int search_page;
    long search_results;
    int search_cached;
    int no_access_log; /* the privacy erase leaves no trace of itself */

    /* A route may name one Redis key to read in the same round trip as the
     * rate-limit check (dispatch.h); the handler then finds the reply here
     * and owns it. prefetch_key is "" when there is none. */
    char prefetch_key[160];
    int prefetched; /* the read was attempted */
    struct redisReply *prefetch_reply;

    int responded;
    int status;
    size_t bytes_sent;
    api_error last_error; /* valid when status >= 400 */
} request;

/* Adds a header line to every response of this request. */
void request_add_header(request *r, const char *name, const char *value);

/* Sends status, headers and body. content_type may be NULL for no body.
 * headers: extra CRLF-terminated header lines or NULL. */
void response_send(request *r, int status, const char *content_type, const char *headers,
                   const void *body, size_t len);
void response_json(request *r, int status, const char *json, size_t len);
void response_error(request *r, const api_error *e);

/* Shorthand for a one-off error. */
void response_fail(request *r, int status, const char *code, const char *param, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

/* Records an upstream failure that did not (yet) fail the request, e.g. a
 * retried 5xx, in the error log. */
void request_log_upstream_failure(request *r, const char *upstream, long status, const char *what);

/* Copies a sane client-supplied request id ([A-Za-z0-9._-], 8..64 chars) or
 * generates a random one. */
void request_id_assign(char out[REQUEST_ID_MAX + 1], const char *incoming);

#endif
