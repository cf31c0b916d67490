#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

void buf_init(buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
}

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int buf_reserve(buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need)
        n = n > ((size_t)-1) / 2 ? need : n * 2;
    if (n > b->max + 1)
        n = b->max + 1;
    char *p = realloc(b->data, n);
    if (!p)
        return -1;
    b->data = p;
    b->alloc = n;
    return 0;
}

int buf_append(buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len))
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_append_str(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || buf_reserve(b, (size_t)n))
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_append_json_str(buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t n = utf8_valid_prefix((const unsigned char *)s + i, len - i);
            if (n == 0) {
                if (buf_append(b, "\xef\xbf\xbd", 3))
                    return -1;
                i++;
            } else {
                if (buf_append(b, s + i, n))
                    return -1;
                i += n;
            }
            continue;
        }
        char esc[7];
        const char *out = NULL;
        size_t outlen = 0;
        switch (c) {
        case '"':
            out = "\\\"";
            outlen = 2;
            break;
        case '\\':
            out = "\\\\";
            outlen = 2;
            break;
        case '\n':
            out = "\\n";
            outlen = 2;
            break;
        case '\r':
            out = "\\r";
            outlen = 2;
            break;
        case '\t':
            out = "\\t";
            outlen = 2;
            break;
        default:
            /* control characters, and <>& so the JSON is safe to embed in HTML */
            if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                out = esc;
                outlen = 6;
            }
        }
        if (out) {
            if (buf_append(b, out, outlen))
                return -1;
            i++;
            continue;
        }
        /* copy a run of plain ASCII in one go */
        size_t j = i;
        while (j < len) {
            unsigned char d = (unsigned char)s[j];
            if (d >= 0x80 || d < 0x20 || d == 0x7f || d == '"' || d == '\\' || d == '<' ||
                d == '>' || d == '&')
                break;
            j++;
        }
        if (buf_append(b, s + i, j - i))
            return -1;
        i = j;
    }
    return 0;
}

char *buf_detach(buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}
