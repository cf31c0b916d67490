#include <stdlib.h>

#include "check.h"
#include "upstream/unsplash.h"

/* A response in the shape UPSTREAMS.md documents, with its quirks: a
 * sponsored first result, null description/color/blur_hash, unknown fields,
 * and one result missing what we need to show it. */
static const char sample[] =
    "{\"total\":10001,\"total_pages\":3334,\"results\":["
    "{\"id\":\"Sg3XwuEpybU\",\"slug\":\"x\",\"width\":3742,\"height\":6000,\"color\":\"#402626\","
    "\"blur_hash\":\"LKF=s[8_Os%MO[IAWrxu?^Mx-:tR\",\"description\":null,"
    "\"alt_description\":\"yellow Labrador retriever biting yellow tulip flower\","
    "\"urls\":{\"raw\":\"https://images.unsplash.com/photo-1?ixid=M3wy\",\"thumb\":\"https://"
    "images.unsplash.com/photo-1?w=200\","
    "\"small\":\"https://images.unsplash.com/photo-1?w=400\",\"regular\":\"https://"
    "images.unsplash.com/photo-1?w=1080\"},"
    "\"links\":{\"html\":\"https://unsplash.com/photos/"
    "Sg3XwuEpybU\",\"download_location\":\"https://api.unsplash.com/photos/Sg3XwuEpybU/"
    "download?ixid=1\"},"
    "\"likes\":2128,\"sponsorship\":{\"tagline\":\"ad\"},\"new_field\":[1,2,3],"
    "\"user\":{\"username\":\"richardbrutyo\",\"name\":\"Richard "
    "Brutyo\",\"links\":{\"html\":\"https://unsplash.com/@richardbrutyo\"}}},"
    "{\"id\":\"nulls1\",\"width\":10,\"height\":20,\"color\":null,\"blur_hash\":null,"
    "\"description\":\"a <b>bold</b> \\\"dog\\\"\","
    "\"urls\":{\"thumb\":\"https://i/1\",\"small\":\"https://i/2\",\"regular\":\"https://i/3\"},"
    "\"links\":{\"html\":\"javascript:alert(1)\"},"
    "\"user\":{\"username\":null,\"name\":\"Ann\",\"links\":{}}},"
    "{\"id\":\"nourls\",\"urls\":null,\"user\":{\"name\":\"x\"}},"
    "\"not an object\""
    "]}";

int main(void)
{
    search_page page;
    CHECK(unsplash_parse_search(sample, sizeof sample - 1, "cleanpng", &page) == 0);
    CHECK(page.total == 10001 && page.total_pages == 3334);
    CHECK(page.count == 2);
    CHECK_STR(page.items[0].id, "Sg3XwuEpybU");
    CHECK_STR(page.items[0].description, "yellow Labrador retriever biting yellow tulip flower");
    CHECK_STR(page.items[0].author_name, "Richard Brutyo");
    CHECK(page.items[0].width == 3742 && page.items[0].height == 6000);
    CHECK(page.items[1].color == NULL && page.items[1].blur_hash == NULL);
    CHECK(page.items[1].link == NULL); /* javascript: is never passed on */

    search_params p;
    memset(&p, 0, sizeof p);
    strcpy(p.q, "dog");
    p.page = 1;
    p.per_page = 20;
    p.order_by = "relevant";
    buf out;
    buf_init(&out, SEARCH_BODY_MAX);
    CHECK(search_page_to_json(&p, "unsplash", &page, &out) == 0);
    CHECK(strncmp(out.data, SEARCH_JSON_UNCACHED_PREFIX, strlen(SEARCH_JSON_UNCACHED_PREFIX)) == 0);
    CHECK(strlen(SEARCH_JSON_UNCACHED_PREFIX) == strlen(SEARCH_JSON_CACHED_PREFIX));
    CHECK(strstr(out.data, "\"url\":\"https://unsplash.com/"
                           "@richardbrutyo?utm_source=cleanpng&utm_medium=referral\"") != NULL);
    CHECK(strstr(out.data, "\"link\":\"https://unsplash.com/photos/"
                           "Sg3XwuEpybU?utm_source=cleanpng&utm_medium=referral\"") != NULL);
    CHECK(strstr(out.data, "\"color\":null,\"blur_hash\":null") != NULL);
    CHECK(strstr(out.data, "\\u003cb\\u003ebold") != NULL); /* HTML-safe JSON */
    CHECK(strstr(out.data, "\"provider\":\"unsplash\"") != NULL);
    CHECK(strstr(out.data, "\"username\":null") != NULL);
    buf_free(&out);
    search_page_release(&page);

    /* not what we expect */
    const char *bad[] = {"",
                         "{",
                         "[]",
                         "{\"results\":{}}",
                         "Rate Limit Exceeded",
                         "<html>",
                         "{\"total\":1,\"results\":[] trailing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(unsplash_parse_search(bad[i], strlen(bad[i]), "cleanpng", &page) == -1);
    }

    /* error mapping */
    httpc_response r;
    api_error e;
    memset(&r, 0, sizeof r);
    r.ratelimit_remaining = -1;
    r.retry_after = -1;
    r.status = 401;
    unsplash_map_failure(HTTPC_OK, &r, &e);
    CHECK(e.status == 502);
    CHECK_STR(e.code, "upstream_error");
    CHECK(strstr(e.message, "OAuth") == NULL);

    buf_init(&r.body, 100);
    buf_append_str(&r.body, "Rate Limit Exceeded");
    r.status = 403;
    unsplash_map_failure(HTTPC_OK, &r, &e);
    CHECK(e.status == 503);
    CHECK_STR(e.code, "upstream_quota");
    buf_free(&r.body);

    r.status = 403;
    r.ratelimit_remaining = 0;
    unsplash_map_failure(HTTPC_OK, &r, &e);
    CHECK(e.status == 503);
    r.ratelimit_remaining = 12;
    unsplash_map_failure(HTTPC_OK, &r, &e);
    CHECK(e.status == 502); /* a plain permission error */

    r.status = 429;
    r.retry_after = 30;
    unsplash_map_failure(HTTPC_OK, &r, &e);
    CHECK(e.status == 503 && e.retry_after == 30);
    r.retry_after = -1;

    r.status = 500;
    unsplash_map_failure(HTTPC_OK, &r, &e);
    CHECK(e.status == 502);
    r.status = 503;
    unsplash_map_failure(HTTPC_OK, &r, &e);
    CHECK(e.status == 502);
    CHECK(e.upstream_status == 503);
    unsplash_map_failure(HTTPC_TIMEOUT, &r, &e);
    CHECK(e.status == 504);
    CHECK_STR(e.code, "upstream_timeout");
    unsplash_map_failure(HTTPC_TOO_LARGE, &r, &e);
    CHECK(e.status == 502);
    unsplash_map_failure(HTTPC_CONNECT, &r, &e);
    CHECK(e.status == 502);

    /* request URL */
    char url[512];
    memset(&p, 0, sizeof p);
    strcpy(p.q, "red apple & pear/\xc3\xa9");
    p.page = 3;
    p.per_page = 30;
    p.order_by = "latest";
    p.orientation = "squarish";
    CHECK(unsplash_search_url("http://127.0.0.1:9/", &p, url, sizeof url) == 0);
    CHECK_STR(url, "http://127.0.0.1:9/search/photos?query=red%20apple%20%26%20pear%2F%C3%A9"
                   "&page=3&per_page=30&order_by=latest&orientation=squarish");
    CHECK(unsplash_search_url("http://x", &p, url, 20) == -1);
    return check_done("unsplash");
}
