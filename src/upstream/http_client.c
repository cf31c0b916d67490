#include "upstream/http_client.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    httpc_response *resp;
    int overflow;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    sink *s = userdata;
    size_t n = size * nmemb;
    if (buf_append(&s->resp->body, data, n)) {
        s->overflow = 1;
        return 0; /* aborts the transfer */
    }
    return n;
}

static long header_long(const char *v, size_t len)
{
    while (len && isspace((unsigned char)*v)) {
        v++;
        len--;
    }
    long val = 0;
    size_t i = 0;
    for (; i < len && isdigit((unsigned char)v[i]) && val < 100000000; i++)
        val = val * 10 + (v[i] - '0');
    return i ? val : -1;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    sink *s = userdata;
    size_t n = size * nmemb;
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t nlen = (size_t)(colon - data);
    const char *v = colon + 1;
    size_t vlen = n - nlen - 1;
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
    if (nlen == 21 && !strncasecmp(data, "X-Ratelimit-Remaining", nlen))
        s->resp->ratelimit_remaining = header_long(v, vlen);
    else if (nlen == 11 && !strncasecmp(data, "Retry-After", nlen))
        s->resp->retry_after = header_long(v, vlen);
    else if (nlen == 12 && !strncasecmp(data, "Content-Type", nlen)) {
        while (vlen && *v == ' ') {
            v++;
            vlen--;
        }
        size_t c =
            vlen < sizeof s->resp->content_type - 1 ? vlen : sizeof s->resp->content_type - 1;
        memcpy(s->resp->content_type, v, c);
        s->resp->content_type[c] = '\0';
    }
    return n;
}

httpc_result httpc_perform(CURL *curl, const httpc_request *req, httpc_response *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->ratelimit_remaining = -1;
    resp->retry_after = -1;
    buf_init(&resp->body, req->max_body);
    sink s = {resp, 0};

    struct curl_slist *hdrs = NULL;
    for (const char *const *h = req->headers; h && *h; h++) {
        struct curl_slist *n = curl_slist_append(hdrs, *h);
        if (!n) {
            curl_slist_free_all(hdrs);
            return HTTPC_ERROR;
        }
        hdrs = n;
    }
    curl_easy_reset(curl); /* keeps the connection cache, drops old options */
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "cleanpng/0.1");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    if (req->max_body)
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_body);
    if (req->mime)
        curl_easy_setopt(curl, CURLOPT_MIMEPOST, req->mime);
    else if (req->post_body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->post_body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->post_len);
    }

    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    double t = 0;
    curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &t);
    resp->total_ms = t * 1000.0;
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);

    if (s.overflow || rc == CURLE_FILESIZE_EXCEEDED)
        return HTTPC_TOO_LARGE;
    switch (rc) {
    case CURLE_OK:
        return HTTPC_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return HTTPC_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return HTTPC_CONNECT;
    default:
        return HTTPC_ERROR;
    }
}

void httpc_response_free(httpc_response *resp)
{
    buf_free(&resp->body);
}
