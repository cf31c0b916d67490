/* An SSRF-safe fetcher for images at a URL (SPEC.md, "Fetching from a URL").
 *
 * Three gates, all of which must pass on every hop of a redirect chain:
 *   1. url_check(): the URL parses (with curl's own URL parser, so we read it
 *      the way curl will connect), the scheme is https (http only in tests),
 *      there is no userinfo, and the host is on the allow-list.
 *   2. At connect time, after DNS resolution, the address curl is about to
 *      connect to must pass address_is_forbidden() (CURLOPT_OPENSOCKETFUNCTION;
 *      a refused address never gets a socket). This is the check that holds
 *      against DNS rebinding and every numeric spelling of an address.
 *   3. Before a request is sent on a connection (new or reused), its peer
 *      address is checked once more (CURLOPT_PREREQFUNCTION).
 * Redirects are never followed by curl: safe_fetch reads the target, runs
 * gate 1 on it before any connection, and counts hops. Size, total time and
 * transfer speed are capped. No credentials, cookies or proxies are used. */
#ifndef CLEANPNG_UPSTREAM_SAFE_FETCH_H
#define CLEANPNG_UPSTREAM_SAFE_FETCH_H

#include <stddef.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "core/buf.h"

#define SAFE_FETCH_MAX_URL 2048      /* longer URLs are FETCH_ERR_BAD_URL */
#define SAFE_FETCH_HOST_MAX 128      /* size of one allow-list entry, NUL included */
#define SAFE_FETCH_LOW_SPEED 1024    /* bytes/s; slower for SAFE_FETCH_LOW_SPEED_SECS */
#define SAFE_FETCH_LOW_SPEED_SECS 5L /* ... and the transfer is a timeout */

typedef struct {
    /* Allow-list of host names: exact match after lower-casing and dropping
     * one trailing dot, e.g. "images.unsplash.com". IPv6 literals would be
     * spelled "[...]", but no production list should hold an address. */
    const char (*hosts)[SAFE_FETCH_HOST_MAX];
    int host_count;
    int allow_http;          /* test-only: permit http:// (production: https only) */
    int allow_loopback;      /* test-only: permit 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104
                                (fakes on loopback). Never permits any other range. */
    const char *ca_file;     /* test-only: PEM bundle to trust instead of the
                                system store; NULL in production */
    size_t max_bytes;        /* body cap, > 0 */
    long connect_timeout_ms; /* per connection, > 0 */
    long timeout_ms;         /* the whole fetch, redirects included, > 0 */
    int max_redirects;       /* hops allowed; each target is re-checked */
} fetch_policy;

typedef enum {
    FETCH_OK = 0,
    FETCH_ERR_BAD_URL,           /* unparsable, userinfo, control chars, too long */
    FETCH_ERR_SCHEME,            /* not https (or http when allowed) */
    FETCH_ERR_HOST_NOT_ALLOWED,  /* host not on the allow-list */
    FETCH_ERR_ADDRESS_FORBIDDEN, /* resolved/connected address is internal */
    FETCH_ERR_TOO_LARGE,         /* body passed max_bytes */
    FETCH_ERR_TIMEOUT,           /* connect/total time ran out, or too slow */
    FETCH_ERR_HTTP_STATUS,       /* final status other than 200 */
    FETCH_ERR_TOO_MANY_REDIRECTS,
    FETCH_ERR_NETWORK,  /* resolve, connect, TLS or protocol failure */
    FETCH_ERR_INTERNAL, /* invalid policy, out of memory, curl setup */
} fetch_result;

/* A short stable name for logs: "ok", "bad_url", "address_forbidden", ... */
const char *fetch_result_name(fetch_result r);

/* Fetches url under pol with the calling thread's curl handle, which is
 * curl_easy_reset() first so options from earlier uses do not leak in (its
 * connection and DNS caches are kept; reused connections are re-checked).
 * out is initialised here with cap pol->max_bytes whatever the result; the
 * caller frees it with buf_free(). On FETCH_OK it holds the body of a 200.
 * status (may be NULL) gets the last HTTP status seen, 0 when none.
 * content_type (may be NULL) gets the final response's Content-Type, "" when
 * absent. why (may be NULL) gets a short reason that never echoes anything
 * the server sent. */
fetch_result safe_fetch(CURL *curl, const char *url, const fetch_policy *pol, buf *out,
                        long *status, char *content_type, size_t ctlen, char *why, size_t whylen);

/* 1 when connecting to sa must be refused, 0 when it is a public address.
 * sa points at a complete sockaddr_in or sockaddr_in6 according to its
 * family; any other family (or NULL) is forbidden. IPv4-mapped, NAT64 and
 * 6to4 addresses are judged by their embedded IPv4 address. In IPv6 only
 * global unicast (2000::/3) can pass at all. */
int address_is_forbidden(const struct sockaddr *sa, int allow_loopback);

/* Checks url without any network I/O: length and characters, scheme,
 * authority without userinfo, host on the allow-list. On FETCH_OK, host_out
 * (may be NULL) gets the normalised host. */
fetch_result url_check(const char *url, const fetch_policy *pol, char *host_out, size_t hostlen);

#endif
