/* One page of search results, whichever provider produced it, and the one
 * function that renders it as the /api/search JSON body. Strings are
 * borrowed: they live as long as the provider's owner object. */
#ifndef CLEANPNG_UPSTREAM_SEARCH_RESULT_H
#define CLEANPNG_UPSTREAM_SEARCH_RESULT_H

#include "api/search_params.h"
#include "core/buf.h"

#define SEARCH_BODY_MAX (512 * 1024) /* cap on a rendered /api/search body */

typedef struct {
    const char *id;
    long width, height;
    const char *color;       /* "#rrggbb" or NULL */
    const char *blur_hash;   /* or NULL */
    const char *description; /* or NULL */
    const char *url_thumb, *url_small, *url_regular;
    const char *author_name;
    const char *author_username; /* or NULL */
    const char *author_url;      /* or NULL */
    const char *link;            /* or NULL */
} photo_result;

typedef struct {
    long total;
    long total_pages;
    int count;
    photo_result items[SEARCH_PER_PAGE_MAX];
    /* when set, author_url and link get utm_source=<this>&utm_medium=referral */
    const char *utm_source;
    void *owner;
    void (*release)(void *owner);
} search_page;

void search_page_release(search_page *p);

/* Renders {"cached":false,"query":...,"results":[...]}. The body always
 * starts with SEARCH_JSON_UNCACHED_PREFIX so that a cache hit can flip the
 * flag in place (SEARCH_JSON_CACHED_PREFIX has the same length). */
#define SEARCH_JSON_UNCACHED_PREFIX "{\"cached\":false,"
#define SEARCH_JSON_CACHED_PREFIX "{\"cached\":true, "
int search_page_to_json(const search_params *params, const char *provider, const search_page *page,
                        buf *out);

#endif
