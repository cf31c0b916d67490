#include "http/query.h"

#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes src[0..len) into dst (which has room for len+1), NUL-terminates. */
static query_status decode(const char *src, size_t len, char *dst, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '+') {
            dst[o++] = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return QUERY_ERR_BAD_ESCAPE;
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0)
                return QUERY_ERR_BAD_ESCAPE;
            char d = (char)(hi * 16 + lo);
            if (d == '\0')
                return QUERY_ERR_NUL;
            dst[o++] = d;
            i += 2;
        } else {
            dst[o++] = c;
        }
    }
    dst[o] = '\0';
    *out_len = o;
    return QUERY_OK;
}

query_status query_parse(const char *qs, size_t len, query *out)
{
    out->count = 0;
    if (len > QUERY_MAX_LEN)
        return QUERY_ERR_TOO_LONG;
    if (memchr(qs, '\0', len))
        return QUERY_ERR_NUL;
    char *store = out->storage;
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && qs[end] != '&' && qs[end] != ';')
            end++;
        if (end > pos) {
            if (out->count == QUERY_MAX_PARAMS)
                return QUERY_ERR_TOO_MANY;
            const char *eq = memchr(qs + pos, '=', end - pos);
            size_t klen = eq ? (size_t)(eq - (qs + pos)) : end - pos;
            const char *vstart = eq ? eq + 1 : qs + end;
            size_t vlen = eq ? (size_t)(qs + end - vstart) : 0;
            size_t kdec, vdec;
            query_param *p = &out->params[out->count];
            query_status st = decode(qs + pos, klen, store, &kdec);
            if (st)
                return st;
            p->key = store;
            store += kdec + 1;
            st = decode(vstart, vlen, store, &vdec);
            if (st)
                return st;
            p->value = store;
            p->value_len = vdec;
            store += vdec + 1;
            out->count++;
        }
        pos = end + 1;
    }
    return QUERY_OK;
}

int query_get(const query *q, const char *key, const char **value, size_t *value_len)
{
    int found = 0;
    for (int i = 0; i < q->count; i++) {
        if (strcmp(q->params[i].key, key) == 0) {
            if (found)
                return -1;
            found = 1;
            if (value)
                *value = q->params[i].value;
            if (value_len)
                *value_len = q->params[i].value_len;
        }
    }
    return found;
}

const char *query_status_message(query_status st)
{
    switch (st) {
    case QUERY_OK:
        return "ok";
    case QUERY_ERR_TOO_LONG:
        return "the query string is too long";
    case QUERY_ERR_TOO_MANY:
        return "too many query parameters";
    case QUERY_ERR_BAD_ESCAPE:
        return "malformed percent-encoding in the query string";
    case QUERY_ERR_NUL:
        return "the query string contains a NUL byte";
    }
    return "invalid query string";
}
