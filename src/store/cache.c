#include "store/cache.h"

#include <stdlib.h>
#include <string.h>

int cache_get(redis_conn *c, const char *key, char **val, size_t *len)
{
    redisReply *r = redis_conn_command(c, "GET %s", key);
    if (!r)
        return 0;
    int hit = 0;
    if (r->type == REDIS_REPLY_STRING && r->len > 0 && r->len <= CACHE_VALUE_MAX) {
        *val = malloc(r->len + 1);
        if (*val) {
            memcpy(*val, r->str, r->len);
            (*val)[r->len] = '\0';
            *len = r->len;
            hit = 1;
        }
    }
    freeReplyObject(r);
    return hit;
}

void cache_put(redis_conn *c, const char *key, const char *val, size_t len, long ttl_s)
{
    if (len > CACHE_VALUE_MAX)
        return;
    redisReply *r = redis_conn_command(c, "SET %s %b EX %ld", key, val, len, ttl_s);
    if (r)
        freeReplyObject(r);
}
