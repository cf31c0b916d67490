/* URL query-string parsing: a pure function over a buffer, no I/O.
 * Keys and values are percent-decoded ('+' is a space). Malformed escapes,
 * decoded NUL bytes, too many parameters and over-long strings are errors. */
#ifndef CLEANPNG_HTTP_QUERY_H
#define CLEANPNG_HTTP_QUERY_H

#include <stddef.h>

#define QUERY_MAX_LEN 4096  /* bytes of raw query string we accept */
#define QUERY_MAX_PARAMS 32 /* key=value pairs */

typedef enum {
    QUERY_OK = 0,
    QUERY_ERR_TOO_LONG,
    QUERY_ERR_TOO_MANY,
    QUERY_ERR_BAD_ESCAPE,
    QUERY_ERR_NUL,
} query_status;

typedef struct {
    const char *key; /* decoded, NUL-terminated, inside the query's storage */
    const char *value;
    size_t value_len;
} query_param;

typedef struct {
    query_param params[QUERY_MAX_PARAMS];
    int count;
    char storage[QUERY_MAX_LEN + 2 * QUERY_MAX_PARAMS + 2];
} query;

query_status query_parse(const char *qs, size_t len, query *out);

/* 0 when absent, 1 when present once (*value set), -1 when repeated. */
int query_get(const query *q, const char *key, const char **value, size_t *value_len);

const char *query_status_message(query_status st);

#endif
