#ifndef CLEANPNG_CORE_UTF8_H
#define CLEANPNG_CORE_UTF8_H

#include <stddef.h>

/* Length in bytes of the one well-formed UTF-8 sequence at s (1..4), or 0 when
 * the bytes there are not one (overlong forms, surrogates and code points
 * above U+10FFFF are refused). */
size_t utf8_valid_prefix(const unsigned char *s, size_t len);

/* Number of code points in s, or -1 when s is not valid UTF-8. */
long utf8_count(const char *s, size_t len);

#endif
