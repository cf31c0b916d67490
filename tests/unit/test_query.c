#include <stdlib.h>

#include "check.h"
#include "http/query.h"

static query q; /* large: keep it off the stack */

int main(void)
{
    const char *v;
    size_t len;
    const char *s = "q=red+apple&page=2&empty=&flag&x=%41%62%2B";
    CHECK(query_parse(s, strlen(s), &q) == QUERY_OK);
    CHECK(q.count == 5);
    CHECK(query_get(&q, "q", &v, &len) == 1);
    CHECK_STR(v, "red apple");
    CHECK(len == 9);
    CHECK(query_get(&q, "empty", &v, &len) == 1 && len == 0);
    CHECK(query_get(&q, "flag", &v, &len) == 1 && len == 0);
    CHECK(query_get(&q, "x", &v, NULL) == 1);
    CHECK_STR(v, "Ab+");
    CHECK(query_get(&q, "missing", &v, NULL) == 0);

    s = "q=a&q=b";
    CHECK(query_parse(s, strlen(s), &q) == QUERY_OK);
    CHECK(query_get(&q, "q", &v, NULL) == -1); /* repeated */

    s = "%71=encoded%20key";
    CHECK(query_parse(s, strlen(s), &q) == QUERY_OK);
    CHECK(query_get(&q, "q", &v, NULL) == 1);
    CHECK_STR(v, "encoded key");

    /* malformed escapes */
    const char *bad[] = {"q=%", "q=%4", "q=%zz", "q=abc%", "q=%G1", "%=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(query_parse(bad[i], strlen(bad[i]), &q) == QUERY_ERR_BAD_ESCAPE);
    s = "q=a%00b";
    CHECK(query_parse(s, strlen(s), &q) == QUERY_ERR_NUL);
    CHECK(query_parse("q=a\0b", 5, &q) == QUERY_ERR_NUL);

    /* caps */
    char *big = malloc(100 * 1024 + 1);
    memset(big, 'a', 100 * 1024);
    big[0] = 'q';
    big[1] = '=';
    big[100 * 1024] = '\0';
    CHECK(query_parse(big, strlen(big), &q) == QUERY_ERR_TOO_LONG);
    free(big);
    char many[512] = "";
    for (int i = 0; i < QUERY_MAX_PARAMS + 1; i++)
        strcat(many, "a=1&");
    CHECK(query_parse(many, strlen(many), &q) == QUERY_ERR_TOO_MANY);

    /* exactly at the length cap, full of escapes: storage must suffice */
    char *edge = malloc(QUERY_MAX_LEN + 1);
    memset(edge, 'x', QUERY_MAX_LEN);
    edge[QUERY_MAX_LEN] = '\0';
    for (int i = 0; i < QUERY_MAX_PARAMS; i++) {
        edge[i * 3] = '&';
    }
    CHECK(query_parse(edge, QUERY_MAX_LEN, &q) == QUERY_OK);
    free(edge);

    CHECK(query_parse("", 0, &q) == QUERY_OK && q.count == 0);
    CHECK(query_parse("&&&;", 4, &q) == QUERY_OK && q.count == 0);
    return check_done("query");
}
