#include "upstream/search_result.h"

#include <string.h>

void search_page_release(search_page *p)
{
    if (p->release && p->owner)
        p->release(p->owner);
    p->owner = NULL;
    p->release = NULL;
}

static int put_str(buf *b, const char *key, const char *val)
{
    if (buf_printf(b, "\"%s\":", key))
        return -1;
    if (!val)
        return buf_append_str(b, "null");
    return buf_append_str(b, "\"") || buf_append_json_str(b, val, strlen(val)) ||
           buf_append_str(b, "\"");
}

/* A link with the attribution parameters Unsplash asks for. */
static int put_link(buf *b, const char *key, const char *url, const char *utm)
{
    if (!url || !utm)
        return put_str(b, key, url);
    const char *sep = strchr(url, '?') ? "&" : "?";
    return buf_printf(b, "\"%s\":\"", key) || buf_append_json_str(b, url, strlen(url)) ||
           buf_printf(b, "%sutm_source=%s&utm_medium=referral\"", sep, utm);
}

int search_page_to_json(const search_params *params, const char *provider, const search_page *page,
                        buf *out)
{
    if (buf_append_str(out, SEARCH_JSON_UNCACHED_PREFIX) || put_str(out, "query", params->q) ||
        buf_printf(out,
                   ",\"page\":%d,\"per_page\":%d,\"total\":%ld,\"total_pages\":%ld,"
                   "\"provider\":\"%s\",\"results\":[",
                   params->page, params->per_page, page->total, page->total_pages, provider))
        return -1;
    for (int i = 0; i < page->count; i++) {
        const photo_result *r = &page->items[i];
        if (buf_append_str(out, i ? ",{" : "{") || put_str(out, "id", r->id) ||
            buf_printf(out, ",\"width\":%ld,\"height\":%ld,", r->width, r->height) ||
            put_str(out, "color", r->color) || buf_append_str(out, ",") ||
            put_str(out, "blur_hash", r->blur_hash) || buf_append_str(out, ",") ||
            put_str(out, "description", r->description) || buf_append_str(out, ",\"urls\":{") ||
            put_str(out, "thumb", r->url_thumb) || buf_append_str(out, ",") ||
            put_str(out, "small", r->url_small) || buf_append_str(out, ",") ||
            put_str(out, "regular", r->url_regular) || buf_append_str(out, "},\"author\":{") ||
            put_str(out, "name", r->author_name) || buf_append_str(out, ",") ||
            put_str(out, "username", r->author_username) || buf_append_str(out, ",") ||
            put_link(out, "url", r->author_url, page->utm_source) || buf_append_str(out, "},") ||
            put_link(out, "link", r->link, page->utm_source) || buf_append_str(out, "}"))
            return -1;
    }
    return buf_append_str(out, "]}");
}
