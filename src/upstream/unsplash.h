/* Unsplash API client: GET /search/photos, and the mapping of its JSON and
 * its failures to ours. The parsers and mappers are pure and unit-tested. */
#ifndef CLEANPNG_UPSTREAM_UNSPLASH_H
#define CLEANPNG_UPSTREAM_UNSPLASH_H

#include <curl/curl.h>

#include "api/search_params.h"
#include "core/config.h"
#include "http/errors.h"
#include "upstream/http_client.h"
#include "upstream/search_result.h"

#define UNSPLASH_SEARCH_BODY_MAX (4 * 1024 * 1024)

/* 0 and *out filled (the caller releases it), or -1 and *err set. */
int unsplash_search(CURL *curl, const config *cfg, const search_params *p, search_page *out,
                    api_error *err);

/* Maps one upstream search response (a JSON body) to a page of results.
 * -1 when the body is not the JSON we expect. */
int unsplash_parse_search(const char *body, size_t len, const char *app_name, search_page *out);

/* Turns a transport result or a non-200 answer into our error. */
void unsplash_map_failure(httpc_result res, const httpc_response *resp, api_error *err);

/* The last X-Ratelimit-Remaining this process saw, or -1 when none yet. */
long unsplash_ratelimit_remaining(void);

/* Builds the request URL (exposed for tests). Returns -1 if it does not fit. */
int unsplash_search_url(const char *base, const search_params *p, char *out, size_t outlen);

#endif
