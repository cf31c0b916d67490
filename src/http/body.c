#include "http/body.h"

#include <fcgiapp.h>

int request_read_body(request *r, size_t max, buf *out, api_error *err)
{
    buf_init(out, max);
    if (r->content_length > (long long)max) {
        api_error_set(err, 413, "payload_too_large", NULL, "the upload is larger than %zu MB",
                      max / (1024 * 1024));
        return -1;
    }
    /* one allocation of the announced size instead of repeated growth */
    if (r->content_length > 0)
        buf_reserve(out, (size_t)r->content_length);
    char chunk[16384];
    for (;;) {
        int n = FCGX_GetStr(chunk, sizeof chunk, r->fcgi->in);
        if (n <= 0)
            break;
        if (buf_append(out, chunk, (size_t)n)) {
            buf_free(out);
            api_error_set(err, 413, "payload_too_large", NULL, "the upload is larger than %zu MB",
                          max / (1024 * 1024));
            return -1;
        }
    }
    if (r->content_length >= 0 && (long long)out->len != r->content_length) {
        buf_free(out);
        api_error_set(err, 400, "bad_request", NULL, "the upload ended early");
        return -1;
    }
    return 0;
}
