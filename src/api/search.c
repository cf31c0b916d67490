/* GET /api/search: validate, answer from the cache when we can, otherwise
 * ask the configured provider and cache its answer. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/search_params.h"
#include "core/log.h"
#include "http/worker.h"
#include "store/cache.h"
#include "upstream/library.h"
#include "upstream/unsplash.h"

static const library *local_library;

void api_set_library(const library *lib)
{
    local_library = lib;
}

static int provider_search(request *r, const search_params *p, search_page *page, api_error *err)
{
    if (r->cfg->search == SEARCH_UNSPLASH)
        return unsplash_search(r->thread->curl, r->cfg, p, page, err);
    if (!local_library) {
        api_error_set(err, 503, "unavailable", NULL, "the image library is not loaded");
        return -1;
    }
    library_search(local_library, p, page);
    return 0;
}

void api_search(request *r)
{
    query q;
    query_status qs = query_parse(r->query_string, strlen(r->query_string), &q);
    if (qs != QUERY_OK) {
        response_fail(r, qs == QUERY_ERR_TOO_LONG ? 414 : 400,
                      qs == QUERY_ERR_TOO_LONG ? "uri_too_long" : "invalid_parameter", NULL, "%s",
                      query_status_message(qs));
        return;
    }
    search_params p;
    api_error err;
    if (search_params_parse(&q, &p, &err)) {
        response_error(r, &err);
        return;
    }
    const char *provider = config_search_name(r->cfg->search);
    char key[128];
    search_params_cache_key(&p, provider, key, sizeof key);

    char *cached;
    size_t len;
    if (cache_get(&r->thread->redis, key, &cached, &len)) {
        size_t pl = sizeof SEARCH_JSON_UNCACHED_PREFIX - 1;
        if (len > pl && !memcmp(cached, SEARCH_JSON_UNCACHED_PREFIX, pl)) {
            memcpy(cached, SEARCH_JSON_CACHED_PREFIX, pl);
            response_json(r, 200, cached, len);
            free(cached);
            return;
        }
        free(cached); /* not ours: ignore it and refresh below */
    }

    search_page page;
    if (provider_search(r, &p, &page, &err)) {
        response_error(r, &err);
        return;
    }
    buf body;
    buf_init(&body, SEARCH_BODY_MAX);
    if (search_page_to_json(&p, provider, &page, &body)) {
        response_fail(r, 502, "upstream_error", NULL, "the search answer was too large");
    } else {
        cache_put(&r->thread->redis, key, body.data, body.len, r->cfg->search_cache_ttl_s);
        response_json(r, 200, body.data, body.len);
    }
    buf_free(&body);
    search_page_release(&page);
}
