#include <stdlib.h>

#include "check.h"
#include "upstream/library.h"

static const char manifest[] =
    "{\"version\":1,\"photos\":["
    "{\"id\":\"apple-red\",\"title\":\"Red apple\",\"description\":\"a red apple on a table\","
    " \"tags\":[\"apple\",\"fruit\",\"red\"],\"author\":{\"name\":\"A\",\"url\":\"https://"
    "a.example/\"},"
    " \"width\":800,\"height\":600,\"color\":\"#c02020\",\"files\":{\"full\":\"apple-red.jpg\","
    " \"regular\":\"apple-red-1080.jpg\",\"small\":\"apple-red-400.jpg\",\"thumb\":\"apple-red-200."
    "jpg\"}},"
    "{\"id\":\"cat\",\"title\":\"Cat\",\"description\":\"a cat sleeping next to an apple\","
    " \"tags\":[\"cat\",\"animals\"],\"author\":{\"name\":\"B\",\"url\":null},"
    " \"width\":400,\"height\":800,\"color\":\"#808080\",\"files\":{\"full\":\"cat.jpg\","
    " \"regular\":\"cat-1080.jpg\",\"small\":\"cat-400.jpg\",\"thumb\":\"cat-200.jpg\"}},"
    "{\"id\":\"pears\",\"title\":\"Pears and apples\",\"description\":\"fruit bowl\","
    " \"tags\":[\"pear\",\"fruits\"],\"author\":{\"name\":\"C\"},"
    " \"width\":500,\"height\":500,\"color\":\"#20a020\",\"files\":{\"full\":\"pears.jpg\","
    " \"regular\":\"pears-1080.jpg\",\"small\":\"pears-400.jpg\",\"thumb\":\"pears-200.jpg\"}},"
    "{\"id\":\"evil\",\"title\":\"x\",\"tags\":[\"apple\"],\"author\":{\"name\":\"D\"},"
    " \"files\":{\"full\":\"../../etc/"
    "passwd\",\"regular\":\"a.jpg\",\"small\":\"a.jpg\",\"thumb\":\"a.jpg\"}}"
    "]}";

static search_params params(const char *q)
{
    search_params p;
    memset(&p, 0, sizeof p);
    snprintf(p.q, sizeof p.q, "%s", q);
    p.page = 1;
    p.per_page = 20;
    p.order_by = "relevant";
    return p;
}

int main(void)
{
    char err[256];
    library *lib = library_load_buffer(manifest, sizeof manifest - 1, "/library/", err, sizeof err);
    CHECK(lib != NULL);
    if (!lib)
        return check_done("library");
    CHECK(library_count(lib) == 3); /* the path-traversal entry is refused */

    search_page page;
    search_params p = params("apple");
    library_search(lib, &p, &page);
    CHECK(page.total == 3);
    CHECK_STR(page.items[0].id, "apple-red"); /* tag beats title beats description */
    CHECK_STR(page.items[1].id, "pears");
    CHECK_STR(page.items[2].id, "cat");
    CHECK_STR(page.items[0].url_thumb, "/library/apple-red-200.jpg");
    CHECK_STR(page.items[0].link, "/library/apple-red.jpg");
    CHECK(page.items[1].author_url == NULL);

    p = params("apples"); /* plural folds to the same stem */
    library_search(lib, &p, &page);
    CHECK(page.total == 3);

    p = params("red fruit"); /* matching both words ranks first */
    library_search(lib, &p, &page);
    CHECK(page.total >= 2);
    CHECK_STR(page.items[0].id, "apple-red");

    p = params("FRUIT"); /* params are lower-cased by the parser; library is case-blind too */
    library_search(lib, &p, &page);
    CHECK(page.total == 2);

    p = params("apple");
    p.orientation = "portrait";
    library_search(lib, &p, &page);
    CHECK(page.total == 1 && !strcmp(page.items[0].id, "cat"));
    p.orientation = "squarish";
    library_search(lib, &p, &page);
    CHECK(page.total == 1 && !strcmp(page.items[0].id, "pears"));
    p.orientation = NULL;
    p.color = "red";
    library_search(lib, &p, &page);
    CHECK(page.total == 1 && !strcmp(page.items[0].id, "apple-red"));
    p.color = NULL;

    /* paging */
    p.per_page = 2;
    p.page = 2;
    library_search(lib, &p, &page);
    CHECK(page.total == 3 && page.total_pages == 2 && page.count == 1);
    p.page = 5;
    library_search(lib, &p, &page);
    CHECK(page.count == 0 && page.total == 3);

    p = params("apple");
    p.order_by = "latest";
    library_search(lib, &p, &page);
    CHECK_STR(page.items[0].id, "pears");

    p = params("zebra");
    library_search(lib, &p, &page);
    CHECK(page.total == 0 && page.total_pages == 0 && page.count == 0);

    library_free(lib);
    CHECK(library_load_buffer("[]", 2, "/library/", err, sizeof err) == NULL);
    CHECK(library_load_buffer("{not json", 9, "/library/", err, sizeof err) == NULL);
    CHECK(library_load("/nonexistent-dir", "/library/", err, sizeof err) == NULL);
    return check_done("library");
}
