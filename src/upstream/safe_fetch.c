#include "upstream/safe_fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- addresses ---------------------------------------------------------- */

/* IPv4 ranges that are never fetched from (IANA special-purpose registry).
 * 127/8 is handled apart because tests may allow it. */
static const struct {
    uint32_t net;
    int bits;
} v4_forbidden_ranges[] = {
    {0x00000000u, 8},  /* 0.0.0.0/8 "this network" */
    {0x0a000000u, 8},  /* 10/8 private */
    {0x64400000u, 10}, /* 100.64/10 CGNAT */
    {0xa9fe0000u, 16}, /* 169.254/16 link-local, cloud metadata */
    {0xac100000u, 12}, /* 172.16/12 private */
    {0xc0000000u, 24}, /* 192.0.0/24 IETF protocol assignments */
    {0xc0000200u, 24}, /* 192.0.2/24 TEST-NET-1 */
    {0xc0586300u, 24}, /* 192.88.99/24 6to4 relay anycast */
    {0xc0a80000u, 16}, /* 192.168/16 private */
    {0xc6120000u, 15}, /* 198.18/15 benchmarking */
    {0xc6336400u, 24}, /* 198.51.100/24 TEST-NET-2 */
    {0xcb007100u, 24}, /* 203.0.113/24 TEST-NET-3 */
    {0xe0000000u, 4},  /* 224/4 multicast */
    {0xf0000000u, 4},  /* 240/4 reserved, 255.255.255.255 broadcast */
};

static int v4_is_forbidden(uint32_t a, int allow_loopback)
{
    if ((a >> 24) == 127)
        return !allow_loopback;
    for (size_t i = 0; i < sizeof v4_forbidden_ranges / sizeof v4_forbidden_ranges[0]; i++) {
        uint32_t mask = 0xffffffffu << (32 - v4_forbidden_ranges[i].bits);
        if ((a & mask) == v4_forbidden_ranges[i].net)
            return 1;
    }
    return 0;
}

static uint32_t v4_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int v6_prefix(const uint8_t *a, const uint8_t *prefix, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, prefix, (size_t)whole))
        return 0;
    if (!rest)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (prefix[whole] & mask);
}

/* Forbidden parts of 2000::/3, the only IPv6 block that can pass at all. */
static const struct {
    uint8_t prefix[4];
    int bits;
} v6_forbidden_ranges[] = {
    {{0x20, 0x01, 0x00, 0x00}, 23}, /* 2001::/23 IETF: Teredo, benchmarking, ORCHID */
    {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* 2001:db8::/32 documentation */
    {{0x3f, 0xff, 0x00, 0x00}, 20}, /* 3fff::/20 documentation */
};

static int v6_is_forbidden(const uint8_t *a, int allow_loopback)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

    if (!memcmp(a, mapped, sizeof mapped)) /* ::ffff:a.b.c.d is IPv4 on the wire */
        return v4_is_forbidden(v4_at(a + 12), allow_loopback);
    if (!memcmp(a, loopback, sizeof loopback))
        return !allow_loopback;
    /* Translated addresses reach the embedded IPv4 address through a gateway;
     * the gateway's own loopback is never a test fake. */
    if (!memcmp(a, nat64, sizeof nat64)) /* 64:ff9b::/96 */
        return v4_is_forbidden(v4_at(a + 12), 0);
    if (a[0] == 0x20 && a[1] == 0x02) /* 2002::/16 6to4 */
        return v4_is_forbidden(v4_at(a + 2), 0);
    /* Everything outside global unicast: ::, ::/96, 100::/64, 64:ff9b:1::/48,
     * fc00::/7, fe80::/10, fec0::/10, ff00::/8 and the rest of the reserve. */
    if ((a[0] & 0xe0) != 0x20)
        return 1;
    for (size_t i = 0; i < sizeof v6_forbidden_ranges / sizeof v6_forbidden_ranges[0]; i++)
        if (v6_prefix(a, v6_forbidden_ranges[i].prefix, v6_forbidden_ranges[i].bits))
            return 1;
    return 0;
}

int address_is_forbidden(const struct sockaddr *sa, int allow_loopback)
{
    if (!sa)
        return 1;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        return v4_is_forbidden(ntohl(in.sin_addr.s_addr), allow_loopback);
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        return v6_is_forbidden(in6.sin6_addr.s6_addr, allow_loopback);
    }
    return 1;
}

/* ---- URLs --------------------------------------------------------------- */

static void say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* The raw text between "scheme://" and the path. curl is lenient here
 * ("https:///x" connects to x, "a\@b" has userinfo "a\"), so the raw
 * authority must be plain before curl's parse is trusted. */
static fetch_result check_raw(const char *url, int allow_http, char *why, size_t whylen)
{
    size_t n = strnlen(url, SAFE_FETCH_MAX_URL + 1);
    if (n == 0 || n > SAFE_FETCH_MAX_URL) {
        say(why, whylen, n ? "URL longer than %d bytes" : "empty URL", SAFE_FETCH_MAX_URL);
        return FETCH_ERR_BAD_URL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\') {
            say(why, whylen, "URL has a control, space, backslash or non-ASCII byte");
            return FETCH_ERR_BAD_URL;
        }
    }
    const char *sep = strstr(url, "://");
    if (!sep) {
        say(why, whylen, "URL has no scheme://");
        return FETCH_ERR_BAD_URL;
    }
    /* The scheme first, so "file://host/x" is a scheme error whatever curl
     * thinks of the rest; curl's parse is compared with this below. */
    size_t slen = (size_t)(sep - url);
    if (!((slen == 5 && !strncasecmp(url, "https", 5)) ||
          (slen == 4 && !strncasecmp(url, "http", 4) && allow_http))) {
        say(why, whylen, "scheme not allowed (%s only)", allow_http ? "http/https" : "https");
        return FETCH_ERR_SCHEME;
    }
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0) {
        say(why, whylen, "URL has an empty host");
        return FETCH_ERR_BAD_URL;
    }
    /* '@' is userinfo; '%' would be an encoded host or an IPv6 zone. */
    for (size_t i = 0; i < alen; i++) {
        if (auth[i] == '@' || auth[i] == '%') {
            say(why, whylen, auth[i] == '@' ? "URL has userinfo" : "URL host is percent-encoded");
            return FETCH_ERR_BAD_URL;
        }
    }
    return FETCH_OK;
}

static int host_allowed(const char *host, const fetch_policy *pol)
{
    for (int i = 0; i < pol->host_count; i++)
        if (!strcasecmp(host, pol->hosts[i]))
            return 1;
    return 0;
}

/* Gate 1. On FETCH_OK *parsed (when not NULL) is the handle curl is given, so
 * the URL that was checked is exactly the URL that is fetched. */
static fetch_result check_url(const char *url, const fetch_policy *pol, char *host_out,
                              size_t hostlen, CURLU **parsed, char *why, size_t whylen)
{
    if (parsed)
        *parsed = NULL;
    if (!url) {
        say(why, whylen, "no URL");
        return FETCH_ERR_BAD_URL;
    }
    fetch_result result = check_raw(url, pol->allow_http, why, whylen);
    if (result)
        return result;

    char *scheme = NULL, *host = NULL, *part = NULL;
    CURLU *u = curl_url();
    if (!u) {
        say(why, whylen, "out of memory");
        return FETCH_ERR_INTERNAL;
    }
    /* NON_SUPPORT_SCHEME: an unknown scheme is a scheme error, not a parse error */
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) {
        say(why, whylen, "URL does not parse");
        result = FETCH_ERR_BAD_URL;
        goto out;
    }
    if (strcmp(scheme, "https") && !(pol->allow_http && !strcmp(scheme, "http"))) {
        say(why, whylen, "scheme not allowed (%s only)", pol->allow_http ? "http/https" : "https");
        result = FETCH_ERR_SCHEME;
        goto out;
    }
    /* The raw check already refused '@'; this is the parser's opinion. */
    static const CURLUPart secrets[] = {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS,
                                        CURLUPART_ZONEID};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        if (curl_url_get(u, secrets[i], &part, 0) == CURLUE_OK) {
            say(why, whylen, "URL has userinfo");
            result = FETCH_ERR_BAD_URL;
            goto out;
        }
        curl_free(part);
        part = NULL;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) || !host[0]) {
        say(why, whylen, "URL has an empty host");
        result = FETCH_ERR_BAD_URL;
        goto out;
    }
    size_t n = strlen(host);
    if (host[n - 1] == '.')
        host[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (host[i] >= 'A' && host[i] <= 'Z')
            host[i] = (char)(host[i] - 'A' + 'a');
    if (n == 0 || n >= SAFE_FETCH_HOST_MAX || (host_out && n >= hostlen)) {
        say(why, whylen, "URL host is empty or too long");
        result = FETCH_ERR_BAD_URL;
        goto out;
    }
    if (!host_allowed(host, pol)) {
        say(why, whylen, "host not on the allow-list");
        result = FETCH_ERR_HOST_NOT_ALLOWED;
        goto out;
    }
    if (host_out)
        memcpy(host_out, host, n + 1);
    if (parsed) {
        *parsed = u;
        u = NULL;
    }
out:
    curl_free(part);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return result;
}

fetch_result url_check(const char *url, const fetch_policy *pol, char *host_out, size_t hostlen)
{
    return check_url(url, pol, host_out, hostlen, NULL, NULL, 0);
}

/* ---- the transfer ------------------------------------------------------- */

typedef struct {
    buf *body;
    int overflow; /* the body passed the cap */
    int refused;  /* gate 2 or 3 refused an address */
    int allow_loopback;
    char *content_type;
    size_t ctlen;
} fetch_ctx;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    fetch_ctx *c = userdata;
    size_t n = size * nmemb;
    if (buf_append(c->body, data, n)) {
        c->overflow = 1;
        return 0; /* aborts the transfer: chunked bodies have no length to check first */
    }
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    fetch_ctx *c = userdata;
    size_t n = size * nmemb;
    if (!c->content_type || !c->ctlen)
        return n;
    if (n >= 5 && !strncmp(data, "HTTP/", 5)) { /* a new response (1xx, 3xx, final) */
        c->content_type[0] = '\0';
        return n;
    }
    if (n < 13 || strncasecmp(data, "Content-Type:", 13))
        return n;
    const char *v = data + 13;
    size_t vlen = n - 13;
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    size_t k = 0;
    for (size_t i = 0; i < vlen && k + 1 < c->ctlen; i++)
        if ((unsigned char)v[i] >= 0x20 && (unsigned char)v[i] < 0x7f) /* printable only */
            c->content_type[k++] = v[i];
    c->content_type[k] = '\0';
    return n;
}

/* Gate 2: runs after DNS resolution, before the socket exists. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    fetch_ctx *c = clientp;
    (void)purpose;
    size_t need = address->family == AF_INET    ? sizeof(struct sockaddr_in)
                  : address->family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                : (size_t)-1;
    if (address->addrlen < need || address->addrlen == 0 ||
        address_is_forbidden(&address->addr, c->allow_loopback)) {
        c->refused = 1;
        return CURL_SOCKET_BAD;
    }
#ifdef SOCK_CLOEXEC
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
#else
    return socket(address->family, address->socktype, address->protocol);
#endif
}

/* Gate 3: the peer of the connection the request goes out on, which may be a
 * reused one that gate 2 never saw. */
static int on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                     int local_port)
{
    fetch_ctx *c = clientp;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    memset(&in, 0, sizeof in);
    memset(&in6, 0, sizeof in6);
    const struct sockaddr *sa = NULL;
    if (primary_ip && inet_pton(AF_INET, primary_ip, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        sa = (const struct sockaddr *)&in;
    } else if (primary_ip && inet_pton(AF_INET6, primary_ip, &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        sa = (const struct sockaddr *)&in6;
    }
    if (!sa || address_is_forbidden(sa, c->allow_loopback)) {
        c->refused = 1;
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Options that hold for every hop. 0 on success. */
static int setup_handle(CURL *curl, const fetch_policy *pol, fetch_ctx *ctx)
{
    const char *protocols = pol->allow_http ? "http,https" : "https";
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (!rc)                                                                                   \
            rc = curl_easy_setopt(curl, opt, val);                                                 \
    } while (0)
    SET(CURLOPT_PROTOCOLS_STR, protocols);
    SET(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    SET(CURLOPT_FOLLOWLOCATION, 0L); /* we follow, after gate 1 */
    SET(CURLOPT_PROXY, "");          /* no proxy, even from the environment: gates 2
                                        and 3 must see the origin's address */
    SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (pol->ca_file)
        SET(CURLOPT_CAINFO, pol->ca_file);
    SET(CURLOPT_USERAGENT, "cleanpng/0.1");
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)pol->max_bytes);
    SET(CURLOPT_LOW_SPEED_LIMIT, (long)SAFE_FETCH_LOW_SPEED);
    SET(CURLOPT_LOW_SPEED_TIME, SAFE_FETCH_LOW_SPEED_SECS);
    SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    SET(CURLOPT_OPENSOCKETDATA, ctx);
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
    SET(CURLOPT_PREREQDATA, ctx);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, ctx);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, ctx);
#undef SET
    return rc == CURLE_OK ? 0 : -1;
}

static fetch_result map_curl_error(CURLcode rc, const fetch_ctx *ctx, const fetch_policy *pol,
                                   char *why, size_t whylen)
{
    if (ctx->refused && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_ABORTED_BY_CALLBACK)) {
        say(why, whylen, "address forbidden at connect time");
        return FETCH_ERR_ADDRESS_FORBIDDEN;
    }
    if (ctx->overflow || rc == CURLE_FILESIZE_EXCEEDED) {
        say(why, whylen, "body larger than %zu bytes", pol->max_bytes);
        return FETCH_ERR_TOO_LARGE;
    }
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        say(why, whylen, "timed out (budget %ld ms)", pol->timeout_ms);
        return FETCH_ERR_TIMEOUT;
    case CURLE_UNSUPPORTED_PROTOCOL:
        say(why, whylen, "scheme not allowed");
        return FETCH_ERR_SCHEME;
    case CURLE_URL_MALFORMAT:
        say(why, whylen, "URL does not parse");
        return FETCH_ERR_BAD_URL;
    case CURLE_OUT_OF_MEMORY:
        say(why, whylen, "out of memory");
        return FETCH_ERR_INTERNAL;
    default:
        say(why, whylen, "network error: %s", curl_easy_strerror(rc));
        return FETCH_ERR_NETWORK;
    }
}

fetch_result safe_fetch(CURL *curl, const char *url, const fetch_policy *pol, buf *out,
                        long *status, char *content_type, size_t ctlen, char *why, size_t whylen)
{
    buf_init(out, pol ? pol->max_bytes : 0);
    if (status)
        *status = 0;
    if (content_type && ctlen)
        content_type[0] = '\0';
    say(why, whylen, "ok");
    if (!curl || !pol || !pol->max_bytes || pol->timeout_ms <= 0 || pol->connect_timeout_ms <= 0 ||
        pol->max_redirects < 0 || pol->host_count < 0) {
        say(why, whylen, "invalid fetch policy");
        return FETCH_ERR_INTERNAL;
    }

    fetch_ctx ctx = {out, 0, 0, pol->allow_loopback, content_type, ctlen};
    char next[SAFE_FETCH_MAX_URL + 1];
    const char *hop_url = url;
    long deadline = now_ms() + pol->timeout_ms;
    fetch_result result = FETCH_OK;
    CURLU *parsed = NULL;

    curl_easy_reset(curl); /* drops earlier options; keeps connection and DNS caches */
    if (setup_handle(curl, pol, &ctx)) {
        say(why, whylen, "curl setup failed");
        return FETCH_ERR_INTERNAL;
    }
    for (int hop = 0;; hop++) {
        result = check_url(hop_url, pol, NULL, 0, &parsed, why, whylen);
        if (result) {
            if (hop > 0 && why && whylen) { /* say which hop, not where it pointed */
                char inner[96];
                snprintf(inner, sizeof inner, "%s", why);
                say(why, whylen, "redirect: %s", inner);
            }
            goto out;
        }
        long left = deadline - now_ms();
        if (left <= 0) {
            say(why, whylen, "timed out (budget %ld ms)", pol->timeout_ms);
            result = FETCH_ERR_TIMEOUT;
            goto out;
        }
        buf_reset(out);
        ctx.overflow = ctx.refused = 0;
        if (content_type && ctlen)
            content_type[0] = '\0';
        curl_easy_setopt(curl, CURLOPT_CURLU, parsed);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, left);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                         pol->connect_timeout_ms < left ? pol->connect_timeout_ms : left);

        CURLcode rc = curl_easy_perform(curl);
        long code = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        if (status)
            *status = code;
        if (rc != CURLE_OK) {
            result = map_curl_error(rc, &ctx, pol, why, whylen);
            goto out;
        }
        if (code == 200)
            goto out;
        char *location = NULL;
        if (!is_redirect(code) || curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location) ||
            !location) {
            say(why, whylen, "HTTP status %ld", code);
            result = FETCH_ERR_HTTP_STATUS;
            goto out;
        }
        if (hop >= pol->max_redirects) {
            say(why, whylen, "more than %d redirects", pol->max_redirects);
            result = FETCH_ERR_TOO_MANY_REDIRECTS;
            goto out;
        }
        if (strlen(location) > SAFE_FETCH_MAX_URL) {
            say(why, whylen, "redirect: URL longer than %d bytes", SAFE_FETCH_MAX_URL);
            result = FETCH_ERR_BAD_URL;
            goto out;
        }
        snprintf(next, sizeof next, "%s", location);
        hop_url = next;
        curl_easy_setopt(curl, CURLOPT_CURLU, NULL);
        curl_url_cleanup(parsed);
        parsed = NULL;
    }
out:
    if (result != FETCH_OK)
        buf_reset(out);
    curl_easy_setopt(curl, CURLOPT_CURLU, NULL);
    curl_url_cleanup(parsed);
    /* Callbacks point into this stack frame: leave nothing behind. */
    curl_easy_reset(curl);
    return result;
}

const char *fetch_result_name(fetch_result r)
{
    switch (r) {
    case FETCH_OK:
        return "ok";
    case FETCH_ERR_BAD_URL:
        return "bad_url";
    case FETCH_ERR_SCHEME:
        return "scheme";
    case FETCH_ERR_HOST_NOT_ALLOWED:
        return "host_not_allowed";
    case FETCH_ERR_ADDRESS_FORBIDDEN:
        return "address_forbidden";
    case FETCH_ERR_TOO_LARGE:
        return "too_large";
    case FETCH_ERR_TIMEOUT:
        return "timeout";
    case FETCH_ERR_HTTP_STATUS:
        return "http_status";
    case FETCH_ERR_TOO_MANY_REDIRECTS:
        return "too_many_redirects";
    case FETCH_ERR_NETWORK:
        return "network";
    case FETCH_ERR_INTERNAL:
        return "internal";
    }
    return "unknown";
}
