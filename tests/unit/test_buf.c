#include <stdlib.h>

#include "check.h"
#include "core/buf.h"
#include "core/utf8.h"

int main(void)
{
    buf b;
    buf_init(&b, 8);
    CHECK(buf_append_str(&b, "12345678") == 0);
    CHECK(b.len == 8);
    CHECK(buf_append_str(&b, "9") == -1); /* the cap holds */
    CHECK_STR(b.data, "12345678");        /* and nothing was lost */
    buf_reset(&b);
    CHECK(buf_printf(&b, "%d-%s", 42, "x") == 0);
    CHECK_STR(b.data, "42-x");
    CHECK(buf_printf(&b, "%s", "toolongforcap") == -1);
    buf_free(&b);

    buf_init(&b, 1024);
    const char in[] = "a\"b\\c\n<\x01\xc3\xa9\xff";
    CHECK(buf_append_json_str(&b, in, sizeof in - 1) == 0);
    CHECK_STR(b.data, "a\\\"b\\\\c\\n\\u003c\\u0001\xc3\xa9\xef\xbf\xbd");
    buf_free(&b);

    /* UTF-8 validation */
    CHECK(utf8_count("abc", 3) == 3);
    CHECK(utf8_count("\xc3\xa9t\xc3\xa9", 5) == 3);
    CHECK(utf8_count("\xf0\x9f\x8d\x8e", 4) == 1);  /* U+1F34E */
    CHECK(utf8_count("\xc0\xaf", 2) == -1);         /* overlong '/' */
    CHECK(utf8_count("\xed\xa0\x80", 3) == -1);     /* surrogate */
    CHECK(utf8_count("\xf4\x90\x80\x80", 4) == -1); /* > U+10FFFF */
    CHECK(utf8_count("\xe2\x82", 2) == -1);         /* truncated */
    CHECK(utf8_count("\x80", 1) == -1);             /* lone continuation */
    return check_done("buf");
}
