/* Route handlers, one file each. A handler does its route's own job and
 * answers through response_*(); the dispatcher does everything shared. */
#ifndef CLEANPNG_API_API_H
#define CLEANPNG_API_API_H

#include "http/request.h"
#include "upstream/library.h"

/* Process-wide, read-only after start-up (set before the workers fork). */
void api_set_library(const library *lib);

void api_set_remove_library(const library *lib);

/* 0, or -1 with err set to 503 upstream_quota when the shared Unsplash
 * allowance is spent (api/search.c). */
int api_unsplash_budget_or_fail(request *r, long cost, api_error *err);

void api_search(request *r);
void api_search_prefetch(request *r);
void api_remove(request *r);
void api_health(request *r);
void api_privacy(request *r);
void api_metrics(request *r);

#endif
