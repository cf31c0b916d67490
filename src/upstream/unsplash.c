#include "upstream/unsplash.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"

static atomic_long ratelimit_remaining = -1;

long unsplash_ratelimit_remaining(void)
{
    return atomic_load(&ratelimit_remaining);
}

/* A URL we are willing to hand to a browser: http(s) and nothing odd. */
static const char *safe_url(const char *u)
{
    if (!u || (strncmp(u, "https://", 8) && strncmp(u, "http://", 7)))
        return NULL;
    for (const char *c = u; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == '"' || *c == '<' || *c == '>' || *c == '\\')
            return NULL;
    return u;
}

static void release_json(void *owner)
{
    json_object_put(owner);
}

int unsplash_parse_search(const char *body, size_t len, const char *app_name, search_page *out)
{
    memset(out, 0, sizeof *out);
    json_tokener *tok = json_tokener_new_ex(32);
    if (!tok)
        return -1;
    json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    int complete = json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    if (!root || !complete || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return -1;
    }
    json_object *results;
    if (!json_object_object_get_ex(root, "results", &results) ||
        !json_object_is_type(results, json_type_array)) {
        json_object_put(root);
        return -1;
    }
    out->owner = root;
    out->release = release_json;
    out->utm_source = app_name;
    out->total = json_long(root, "total");
    out->total_pages = json_long(root, "total_pages");
    size_t n = json_object_array_length(results);
    for (size_t i = 0; i < n && out->count < SEARCH_PER_PAGE_MAX; i++) {
        json_object *ph = json_object_array_get_idx(results, i);
        if (!json_object_is_type(ph, json_type_object))
            continue;
        json_object *urls = json_obj(ph, "urls"), *links = json_obj(ph, "links"),
                    *user = json_obj(ph, "user");
        photo_result *r = &out->items[out->count];
        r->id = json_str(ph, "id");
        r->url_thumb = safe_url(json_str(urls, "thumb"));
        r->url_small = safe_url(json_str(urls, "small"));
        r->url_regular = safe_url(json_str(urls, "regular"));
        r->author_name = json_str(user, "name");
        if (!r->id || !r->url_thumb || !r->url_small || !r->url_regular || !r->author_name)
            continue; /* a result a visitor could not see or credit is skipped */
        r->width = json_long(ph, "width");
        r->height = json_long(ph, "height");
        r->color = json_str(ph, "color");
        r->blur_hash = json_str(ph, "blur_hash");
        r->description = json_str(ph, "description");
        if (!r->description)
            r->description = json_str(ph, "alt_description");
        r->author_username = json_str(user, "username");
        r->author_url = safe_url(json_str(json_obj(user, "links"), "html"));
        r->link = safe_url(json_str(links, "html"));
        out->count++;
    }
    return 0;
}

void unsplash_map_failure(httpc_result res, const httpc_response *resp, api_error *err)
{
    switch (res) {
    case HTTPC_TIMEOUT:
        api_error_set(err, 504, "upstream_timeout", NULL,
                      "the photo search took too long; try again");
        return;
    case HTTPC_TOO_LARGE:
        api_error_set(err, 502, "upstream_error", NULL,
                      "the photo search sent an oversized answer");
        return;
    case HTTPC_CONNECT:
    case HTTPC_ERROR:
        api_error_set(err, 502, "upstream_error", NULL, "the photo search could not be reached");
        return;
    case HTTPC_OK:
        break;
    }
    long st = resp->status;
    int rate_text = resp->body.data && strstr(resp->body.data, "Rate Limit Exceeded") != NULL;
    if (st == 429 || (st == 403 && (rate_text || resp->ratelimit_remaining == 0))) {
        api_error_set(err, 503, "upstream_quota", NULL,
                      "the photo search has used its hourly allowance; try again later");
        err->retry_after = resp->retry_after > 0 ? resp->retry_after : 0;
    } else if (st == 401 || st == 403) {
        api_error_set(err, 502, "upstream_error", NULL,
                      "the photo search refused our credentials; the operator has been told");
    } else if (st >= 500) {
        api_error_set(err, 502, "upstream_error", NULL,
                      "the photo search is having trouble; try again");
    } else if (st == 200) {
        api_error_set(err, 502, "upstream_error", NULL,
                      "the photo search sent an answer we could not read");
    } else {
        api_error_set(err, 502, "upstream_error", NULL, "the photo search failed (status %ld)", st);
    }
    err->upstream_status = (int)st;
}

int unsplash_search_url(const char *base, const search_params *p, char *out, size_t outlen)
{
    char q[SEARCH_Q_MAX_BYTES * 3 + 1];
    size_t o = 0;
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)p->q; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.' || *c == '~') {
            q[o++] = (char)*c;
        } else {
            q[o++] = '%';
            q[o++] = hex[*c >> 4];
            q[o++] = hex[*c & 15];
        }
    }
    q[o] = '\0';
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    int n = snprintf(
        out, outlen, "%.*s/search/photos?query=%s&page=%d&per_page=%d&order_by=%s%s%s%s%s", (int)bl,
        base, q, p->page, p->per_page, p->order_by, p->orientation ? "&orientation=" : "",
        p->orientation ? p->orientation : "", p->color ? "&color=" : "", p->color ? p->color : "");
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int unsplash_search(CURL *curl, const config *cfg, const search_params *p, search_page *out,
                    api_error *err)
{
    char url[2048];
    if (unsplash_search_url(cfg->unsplash_url, p, url, sizeof url)) {
        api_error_set(err, 400, "invalid_parameter", "q", "q is too long");
        return -1;
    }
    char auth[192];
    snprintf(auth, sizeof auth, "Authorization: Client-ID %s", cfg->unsplash_key);
    const char *headers[] = {auth, "Accept-Version: v1", "Accept: application/json", NULL};
    httpc_request req = {
        .url = url,
        .headers = headers,
        .connect_timeout_ms = cfg->upstream_connect_timeout_ms,
        .timeout_ms = cfg->search_timeout_ms,
        .max_body = UNSPLASH_SEARCH_BODY_MAX,
    };
    httpc_response resp;
    httpc_result res = httpc_perform(curl, &req, &resp);
    if (resp.ratelimit_remaining >= 0)
        atomic_store(&ratelimit_remaining, resp.ratelimit_remaining);
    int rc = -1;
    if (res != HTTPC_OK || resp.status != 200) {
        unsplash_map_failure(res, &resp, err);
        log_warn("event=upstream_failure provider=unsplash result=%d status=%ld ms=%.0f", (int)res,
                 resp.status, resp.total_ms);
        goto out;
    }
    if (unsplash_parse_search(resp.body.data ? resp.body.data : "", resp.body.len, cfg->app_name,
                              out)) {
        unsplash_map_failure(HTTPC_OK, &resp, err);
        log_warn("event=upstream_failure provider=unsplash reason=unreadable_json ms=%.0f",
                 resp.total_ms);
        goto out;
    }
    rc = 0;
out:
    metrics_upstream(MU_UNSPLASH, rc == 0              ? MO_OK
                                  : err->status == 504 ? MO_TIMEOUT
                                  : err->status == 503 ? MO_QUOTA
                                                       : MO_ERROR);
    httpc_response_free(&resp);
    return rc;
}
