#include "api/search_params.h"

#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "core/utf8.h"

static const char *const orientations[] = {"landscape", "portrait", "squarish", NULL};
static const char *const colors[] = {"black_and_white", "black", "white",  "yellow",
                                     "orange",          "red",   "purple", "magenta",
                                     "green",           "teal",  "blue",   NULL};
static const char *const orders[] = {"relevant", "latest", NULL};

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Looks up a single-valued parameter; -1 with err set when repeated. */
static int get_one(const query *qs, const char *name, const char **v, size_t *len, api_error *err)
{
    int n = query_get(qs, name, v, len);
    if (n < 0) {
        api_error_set(err, 400, "invalid_parameter", name, "%s must be given only once", name);
        return -1;
    }
    if (n == 0)
        *v = NULL;
    return 0;
}

static int get_int(const query *qs, const char *name, int min, int max, int def, int *out,
                   api_error *err)
{
    const char *v;
    size_t len;
    if (get_one(qs, name, &v, &len, err))
        return -1;
    if (!v || len == 0) {
        *out = def;
        return 0;
    }
    long val = 0;
    int ok = len <= 6;
    for (size_t i = 0; ok && i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            ok = 0;
        else
            val = val * 10 + (v[i] - '0');
    }
    if (!ok || val < min || val > max) {
        api_error_set(err, 400, "invalid_parameter", name,
                      "%s must be a whole number from %d to %d", name, min, max);
        return -1;
    }
    *out = (int)val;
    return 0;
}

static int get_enum(const query *qs, const char *name, const char *const *allowed, const char *def,
                    const char **out, api_error *err)
{
    const char *v;
    size_t len;
    if (get_one(qs, name, &v, &len, err))
        return -1;
    if (!v || len == 0) {
        *out = def;
        return 0;
    }
    for (int i = 0; allowed[i]; i++) {
        if (strlen(allowed[i]) == len && memcmp(allowed[i], v, len) == 0) {
            *out = allowed[i];
            return 0;
        }
    }
    char list[256] = "";
    for (int i = 0; allowed[i]; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
    }
    api_error_set(err, 400, "invalid_parameter", name, "%s must be one of: %s", name, list);
    return -1;
}

int search_params_parse(const query *qs, search_params *out, api_error *err)
{
    memset(out, 0, sizeof *out);
    const char *q;
    size_t qlen;
    if (get_one(qs, "q", &q, &qlen, err))
        return -1;
    if (!q) {
        api_error_set(err, 400, "missing_parameter", "q",
                      "q is required: what should we search for?");
        return -1;
    }
    if (utf8_count(q, qlen) < 0) {
        api_error_set(err, 400, "invalid_parameter", "q", "q must be valid UTF-8 text");
        return -1;
    }
    /* trim, fold white space, lower-case ASCII */
    size_t o = 0;
    int pending_space = 0;
    for (size_t i = 0; i < qlen; i++) {
        unsigned char c = (unsigned char)q[i];
        if (is_space(c)) {
            pending_space = o > 0;
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            api_error_set(err, 400, "invalid_parameter", "q",
                          "q must not contain control characters");
            return -1;
        }
        if (o + 2 > SEARCH_Q_MAX_BYTES) {
            api_error_set(err, 400, "invalid_parameter", "q", "q must be at most %d characters",
                          SEARCH_Q_MAX_CHARS);
            return -1;
        }
        if (pending_space) {
            out->q[o++] = ' ';
            pending_space = 0;
        }
        out->q[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out->q[o] = '\0';
    if (o == 0) {
        api_error_set(err, 400, "missing_parameter", "q", "q must not be empty");
        return -1;
    }
    if (utf8_count(out->q, o) > SEARCH_Q_MAX_CHARS) {
        api_error_set(err, 400, "invalid_parameter", "q", "q must be at most %d characters",
                      SEARCH_Q_MAX_CHARS);
        return -1;
    }
    if (get_int(qs, "page", 1, SEARCH_PAGE_MAX, 1, &out->page, err) ||
        get_int(qs, "per_page", 1, SEARCH_PER_PAGE_MAX, SEARCH_PER_PAGE_DEFAULT, &out->per_page,
                err) ||
        get_enum(qs, "orientation", orientations, NULL, &out->orientation, err) ||
        get_enum(qs, "color", colors, NULL, &out->color, err) ||
        get_enum(qs, "order_by", orders, "relevant", &out->order_by, err))
        return -1;
    return 0;
}

void search_params_cache_key(const search_params *p, const char *provider, char *out, size_t outlen)
{
    char canon[SEARCH_Q_MAX_BYTES + 128];
    int n = snprintf(canon, sizeof canon, "%s\x1f%d\x1f%d\x1f%s\x1f%s\x1f%s", p->q, p->page,
                     p->per_page, p->orientation ? p->orientation : "", p->color ? p->color : "",
                     p->order_by);
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)canon, (size_t)n, md);
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(out, outlen, "cp:search:v1:%s:%s", provider, hex);
}
