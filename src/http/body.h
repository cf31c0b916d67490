#ifndef CLEANPNG_HTTP_BODY_H
#define CLEANPNG_HTTP_BODY_H

#include "core/buf.h"
#include "http/request.h"

#define REQUEST_BODY_MAX (22u * 1024 * 1024) /* SPEC: uploads up to 22 MB */

/* Reads the whole request body into out (initialised here, capped at max).
 * 0 on success; -1 with err set: 413 when the body is larger than max,
 * 400 when it ends before CONTENT_LENGTH promised. */
int request_read_body(request *r, size_t max, buf *out, api_error *err);

#endif
