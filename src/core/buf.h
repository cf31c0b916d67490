/* A growable byte buffer with a hard maximum, after curl's dynbuf: going past
 * the cap is an error the caller must handle, never an unbounded realloc. */
#ifndef CLEANPNG_CORE_BUF_H
#define CLEANPNG_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t alloc;
    size_t max; /* the largest len this buffer may reach */
} buf;

void buf_init(buf *b, size_t max);
void buf_free(buf *b);
void buf_reset(buf *b); /* len = 0, keeps the allocation */

/* Makes room for extra more bytes in one allocation; -1 past the cap. */
int buf_reserve(buf *b, size_t extra);

/* 0 on success, -1 when the cap would be exceeded or memory ran out; on
 * failure the buffer keeps its previous contents. */
int buf_append(buf *b, const void *data, size_t len);
int buf_append_str(buf *b, const char *s);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Appends s as the body of a JSON string (no quotes), escaping as needed.
 * Invalid UTF-8 bytes are replaced by U+FFFD. */
int buf_append_json_str(buf *b, const char *s, size_t len);

/* Hands the data to the caller (who frees it) and re-initialises b. */
char *buf_detach(buf *b, size_t *len);

#endif
