/* The search cache in Redis: provider answers by normalised parameters,
 * never by client, each with a TTL. Every failure is a miss. */
#ifndef CLEANPNG_STORE_CACHE_H
#define CLEANPNG_STORE_CACHE_H

#include <stddef.h>

#include "store/redis.h"

#define CACHE_VALUE_MAX (1024 * 1024)

/* 1 and a malloc'd copy in *val on a hit, 0 on a miss or error. */
int cache_get(redis_conn *c, const char *key, char **val, size_t *len);
void cache_put(redis_conn *c, const char *key, const char *val, size_t len, long ttl_s);

#endif
