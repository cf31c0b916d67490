/* GET /api/search: validate, answer from the cache when we can, otherwise
 * ask the configured provider and cache its answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/search_params.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/worker.h"
#include <hiredis/hiredis.h>

#include "store/cache.h"
#include "store/keys.h"
#include "store/ratelimit.h"
#include "upstream/library.h"
#include "upstream/unsplash.h"

static const library *local_library;

void api_set_library(const library *lib)
{
    local_library = lib;
}

/* Spends one request of the operator's Unsplash allowance, shared by all
 * visitors; refuses (503, without calling Unsplash) once it is spent. */
int api_unsplash_budget_or_fail(request *r, long cost, api_error *err)
{
    char tag[17];
    key_tag(r->cfg->unsplash_key, tag);
    rl_decision d;
    budget_spend(&r->thread->redis, "unsplash", tag, cost, &r->cfg->budget_unsplash, &d);
    if (d.allowed)
        return 0;
    api_error_set(err, 503, "upstream_quota", NULL,
                  "the photo search allowance of this site is used up for now; try again later");
    err->retry_after = d.reset_s > 0 ? d.reset_s : 60;
    return -1;
}

static int provider_search(request *r, const search_params *p, search_page *page, api_error *err)
{
    if (r->cfg->search == SEARCH_UNSPLASH)
        return api_unsplash_budget_or_fail(r, 1, err) ||
               unsplash_search(r->thread->curl, r->cfg, p, page, err);
    if (!local_library) {
        api_error_set(err, 503, "unavailable", NULL, "the image library is not loaded");
        return -1;
    }
    library_search(local_library, p, page);
    return 0;
}

/* The "total" of a rendered search body, for the search log. */
static long search_json_total(const char *body, size_t len)
{
    const char *p = memmem(body, len, "\"total\":", 8);
    return p ? strtol(p + 8, NULL, 10) : 0;
}

/* Parsed once per request, before the rate-limit check, so the cache can
 * be read in the same Redis round trip (dispatch.c). One per thread. */
typedef struct {
    query q;
    query_status qs;
    search_params p;
    api_error err;
    int bad;
} search_state;

static __thread search_state state;

static void parse_state(request *r)
{
    state.bad = 0;
    state.qs = query_parse(r->query_string, strlen(r->query_string), &state.q);
    if (state.qs != QUERY_OK || search_params_parse(&state.q, &state.p, &state.err))
        state.bad = 1;
}

void api_search_prefetch(request *r)
{
    parse_state(r);
    if (!state.bad)
        search_params_cache_key(&state.p, config_search_name(r->cfg->search), r->prefetch_key,
                                sizeof r->prefetch_key);
}

/* The cache read that came with the rate-limit check, or a fresh one. */
static int cached_body(request *r, const char *key, char **val, size_t *len)
{
    if (!r->prefetched)
        return cache_get(&r->thread->redis, key, val, len);
    redisReply *rep = r->prefetch_reply;
    r->prefetch_reply = NULL;
    int hit = 0;
    if (rep && rep->type == REDIS_REPLY_STRING && rep->len > 0 && rep->len <= CACHE_VALUE_MAX) {
        *val = malloc(rep->len + 1);
        if (*val) {
            memcpy(*val, rep->str, rep->len);
            (*val)[rep->len] = '\0';
            *len = rep->len;
            hit = 1;
        }
    }
    if (rep)
        freeReplyObject(rep);
    return hit;
}

void api_search(request *r)
{
    if (!r->prefetched)
        parse_state(r);
    if (state.bad && state.qs != QUERY_OK) {
        query_status qs = state.qs;
        response_fail(r, qs == QUERY_ERR_TOO_LONG ? 414 : 400,
                      qs == QUERY_ERR_TOO_LONG ? "uri_too_long" : "invalid_parameter", NULL, "%s",
                      query_status_message(qs));
        return;
    }
    if (state.bad) {
        response_error(r, &state.err);
        return;
    }
    const search_params *pp = &state.p;
    search_params p = *pp;
    api_error err;
    const char *provider = config_search_name(r->cfg->search);
    r->search_logged = 1;
    snprintf(r->search_query, sizeof r->search_query, "%s", p.q);
    r->search_page = p.page;
    char key[128];
    search_params_cache_key(&p, provider, key, sizeof key);

    char *cached;
    size_t len;
    int hit = cached_body(r, key, &cached, &len);
    metrics_cache(hit);
    if (hit) {
        size_t pl = sizeof SEARCH_JSON_UNCACHED_PREFIX - 1;
        if (len > pl && !memcmp(cached, SEARCH_JSON_UNCACHED_PREFIX, pl)) {
            memcpy(cached, SEARCH_JSON_CACHED_PREFIX, pl);
            r->search_cached = 1;
            r->search_results = search_json_total(cached, len);
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
    r->search_results = page.total;
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
