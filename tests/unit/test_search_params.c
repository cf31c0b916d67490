#include "api/search_params.h"
#include "check.h"

static query q;

static int parse(const char *qs, search_params *p, api_error *e)
{
    if (query_parse(qs, strlen(qs), &q) != QUERY_OK)
        return -2;
    return search_params_parse(&q, p, e);
}

static void expect_error(const char *qs, int status, const char *code, const char *param)
{
    search_params p;
    api_error e;
    memset(&e, 0, sizeof e);
    int rc = parse(qs, &p, &e);
    CHECK(rc == -1);
    if (rc != -1) {
        fprintf(stderr, "  query: %s\n", qs);
        return;
    }
    CHECK(e.status == status);
    CHECK_STR(e.code, code);
    if (param)
        CHECK_STR(e.param, param);
    CHECK(strlen(e.message) > 0);
}

int main(void)
{
    search_params p;
    api_error e;
    CHECK(parse("q=%20%20Red%09%20Apple%20", &p, &e) == 0);
    CHECK_STR(p.q, "red apple");
    CHECK(p.page == 1 && p.per_page == 20);
    CHECK(p.orientation == NULL && p.color == NULL);
    CHECK_STR(p.order_by, "relevant");

    CHECK(parse("q=cat&page=100&per_page=30&orientation=portrait&color=black_and_white"
                "&order_by=latest&utm=ignored",
                &p, &e) == 0);
    CHECK(p.page == 100 && p.per_page == 30);
    CHECK_STR(p.orientation, "portrait");
    CHECK_STR(p.color, "black_and_white");
    CHECK_STR(p.order_by, "latest");

    /* 100 characters (multi-byte) is fine, 101 is not */
    char qs[1024] = "q=";
    for (int i = 0; i < 100; i++)
        strcat(qs, "%C3%A9");
    CHECK(parse(qs, &p, &e) == 0);
    strcat(qs, "x");
    expect_error(qs, 400, "invalid_parameter", "q");

    expect_error("page=1", 400, "missing_parameter", "q");
    expect_error("q=", 400, "missing_parameter", "q");
    expect_error("q=+++%20", 400, "missing_parameter", "q");
    expect_error("q=%FF%FE", 400, "invalid_parameter", "q");
    expect_error("q=%C0%AF", 400, "invalid_parameter", "q");
    expect_error("q=a%01b", 400, "invalid_parameter", "q");
    expect_error("q=a&q=b", 400, "invalid_parameter", "q");
    expect_error("q=a&page=0", 400, "invalid_parameter", "page");
    expect_error("q=a&page=101", 400, "invalid_parameter", "page");
    expect_error("q=a&page=abc", 400, "invalid_parameter", "page");
    expect_error("q=a&page=-1", 400, "invalid_parameter", "page");
    expect_error("q=a&page=1.5", 400, "invalid_parameter", "page");
    expect_error("q=a&page=99999999999999999999", 400, "invalid_parameter", "page");
    expect_error("q=a&per_page=1000", 400, "invalid_parameter", "per_page");
    expect_error("q=a&per_page=0", 400, "invalid_parameter", "per_page");
    expect_error("q=a&orientation=diagonal", 400, "invalid_parameter", "orientation");
    expect_error("q=a&color=chartreuse", 400, "invalid_parameter", "color");
    expect_error("q=a&order_by=popular", 400, "invalid_parameter", "order_by");
    expect_error("q=a&page=1&page=2", 400, "invalid_parameter", "page");

    /* cache keys: equal for equivalent requests, different otherwise */
    search_params a, b;
    char ka[128], kb[128];
    CHECK(parse("q=Red%20Apple", &a, &e) == 0);
    CHECK(parse("q=++red+++apple&page=1&per_page=20&order_by=relevant", &b, &e) == 0);
    search_params_cache_key(&a, "unsplash", ka, sizeof ka);
    search_params_cache_key(&b, "unsplash", kb, sizeof kb);
    CHECK_STR(ka, kb);
    CHECK(strncmp(ka, "cp:search:v1:unsplash:", 22) == 0);
    CHECK(strlen(ka) == 22 + 64);
    search_params_cache_key(&a, "local", kb, sizeof kb);
    CHECK(strcmp(ka, kb) != 0);
    const char *variants[] = {
        "q=red+apple&page=2",    "q=red+apple&per_page=10",     "q=red+apple&orientation=landscape",
        "q=red+apple&color=red", "q=red+apple&order_by=latest", "q=redapple"};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        CHECK(parse(variants[i], &b, &e) == 0);
        search_params_cache_key(&b, "unsplash", kb, sizeof kb);
        CHECK(strcmp(ka, kb) != 0);
    }
    return check_done("search_params");
}
