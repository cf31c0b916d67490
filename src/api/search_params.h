/* Validation of /api/search parameters and the cache key derived from them.
 * Pure functions over a parsed query string, unit-tested. */
#ifndef CLEANPNG_API_SEARCH_PARAMS_H
#define CLEANPNG_API_SEARCH_PARAMS_H

#include <stddef.h>

#include "http/errors.h"
#include "http/query.h"

#define SEARCH_Q_MAX_CHARS 100
#define SEARCH_Q_MAX_BYTES (SEARCH_Q_MAX_CHARS * 4)
#define SEARCH_PAGE_MAX 100
#define SEARCH_PER_PAGE_MAX 30
#define SEARCH_PER_PAGE_DEFAULT 20

typedef struct {
    /* q trimmed, runs of white space folded to one space, ASCII lower-cased:
     * what we search for, cache by and echo back */
    char q[SEARCH_Q_MAX_BYTES + 1];
    int page;
    int per_page;
    const char *orientation; /* static string or NULL */
    const char *color;       /* static string or NULL */
    const char *order_by;    /* "relevant" or "latest" */
} search_params;

/* 0 and *out filled, or -1 and *err set to a 400 with the parameter named. */
int search_params_parse(const query *qs, search_params *out, api_error *err);

/* Writes "cp:search:v1:<provider>:<hex sha256 of the normalised parameters>". */
void search_params_cache_key(const search_params *p, const char *provider, char *out,
                             size_t outlen);

#endif
