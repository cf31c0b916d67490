/* libFuzzer driver for the multipart parser.
 * Input: a Content-Type value, a newline, then the body. When the first line
 * yields no boundary, the body is parsed with the boundary "b".
 * clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Isrc \
 *   src/http/multipart.c tests/fuzz/fuzz_multipart.c -o fuzz_multipart */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/multipart.h"

/* kind: 0 a name (no control characters), 1 a filename (nor a path
 * separator), 2 a header value (tab allowed). */
static void check_text(const char *s, size_t cap, int kind)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        abort(); /* not NUL-terminated */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(kind == 2 && c == '\t')) || c == 0x7f ||
            (kind == 1 && (c == '/' || c == '\\')))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char content_type[256];
    char boundary[MULTIPART_BOUNDARY_MAX + 1] = "b";
    const uint8_t *nl = memchr(data, '\n', size < sizeof content_type ? size : sizeof content_type);
    const uint8_t *body = data;
    if (nl) {
        size_t n = (size_t)(nl - data);
        memcpy(content_type, data, n);
        content_type[n] = '\0';
        if (multipart_boundary(content_type, boundary, sizeof boundary) != 0)
            strcpy(boundary, "b");
        else if (strlen(boundary) < 1 || strlen(boundary) > MULTIPART_BOUNDARY_MAX)
            abort();
        body = nl + 1;
    }
    size_t len = size - (size_t)(body - data);

    multipart_part parts[MULTIPART_MAX_PARTS];
    int count = -1;
    multipart_status st = multipart_parse(body, len, boundary, parts, MULTIPART_MAX_PARTS, &count);
    if (st != MULTIPART_OK) {
        if (count != 0 || !multipart_status_message(st))
            abort();
        return 0;
    }
    if (count < 0 || count > MULTIPART_MAX_PARTS)
        abort();
    for (int i = 0; i < count; i++) {
        const multipart_part *p = &parts[i];
        if (p->data < body || p->len > len || (size_t)(p->data - body) > len - p->len)
            abort();
        if (p->name[0] == '\0')
            abort();
        check_text(p->name, sizeof p->name, 0);
        check_text(p->filename, sizeof p->filename, 1);
        check_text(p->content_type, sizeof p->content_type, 2);
        if (!p->has_filename && p->filename[0])
            abort();
        const multipart_part *found = NULL;
        int r = multipart_find(parts, count, p->name, &found);
        if (r == 0 || (r == 1 && found != p))
            abort();
    }
    return 0;
}
