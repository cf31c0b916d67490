#include <stdlib.h>

#include "api/remove_options.h"
#include "api/remove_output.h"
#include "check.h"
#include "upstream/engine.h"
#include "upstream/photo_source.h"

static remove_params params(const char *const *kv)
{
    remove_params p;
    memset(&p, 0, sizeof p);
    api_error e;
    for (int i = 0; kv[i]; i += 2)
        remove_params_add(&p, kv[i], kv[i + 1], strlen(kv[i + 1]), &e);
    return p;
}

static void expect_bad(const char *key, const char *value)
{
    const char *kv[] = {key, value, NULL};
    remove_params p = params(kv);
    remove_options o;
    api_error e;
    CHECK(remove_options_parse(&p, &o, &e) == -1);
    CHECK(e.status == 400);
    CHECK_STR(e.param, key);
}

int main(void)
{
    remove_options o;
    api_error e;
    const char *none[] = {NULL};
    remove_params p = params(none);
    CHECK(remove_options_parse(&p, &o, &e) == 0);
    CHECK(o.size == SIZE_AUTO && !o.crop && !o.has_bg && !o.has_margin && o.format == FORMAT_PNG);
    CHECK(o.photo_id[0] == '\0');

    const char *all[] = {"size",     "preview",     "crop",    "true",   "crop_margin",
                         "10%",      "bg_color",    "#ff8800", "format", "webp",
                         "photo_id", "Sg3XwuEpybU", "unknown", "x",      NULL};
    p = params(all);
    CHECK(p.count == 6); /* the unknown key is dropped */
    CHECK(remove_options_parse(&p, &o, &e) == 0);
    CHECK(o.size == SIZE_PREVIEW && o.crop && o.has_margin && o.has_bg);
    CHECK(o.bg.r == 0xff && o.bg.g == 0x88 && o.bg.b == 0 && o.bg.a == 255);
    CHECK(o.format == FORMAT_WEBP);
    CHECK_STR(o.photo_id, "Sg3XwuEpybU");

    expect_bad("size", "huge");
    expect_bad("crop", "perhaps");
    expect_bad("bg_color", "red");
    expect_bad("bg_color", "#12345");
    expect_bad("format", "jpg");
    expect_bad("crop_margin", "-5px");
    expect_bad("photo_id", "../etc/passwd");
    expect_bad("photo_id", "a.b");
    expect_bad("photo_id", "http://x/");
    const char *dup[] = {"size", "full", "size", "preview", NULL};
    p = params(dup);
    CHECK(remove_options_parse(&p, &o, &e) == -1);
    CHECK_STR(e.param, "size");

    char longv[400];
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    memset(&p, 0, sizeof p);
    CHECK(remove_params_add(&p, "size", longv, strlen(longv), &e) == -1);

    CHECK(photo_id_valid("abc_DEF-123"));
    CHECK(!photo_id_valid(""));
    CHECK(!photo_id_valid("a/b"));

    /* download names */
    char name[96];
    remove_download_name("C:\\Users\\me\\My Photo (2).final.JPG", "png", name, sizeof name);
    CHECK_STR(name, "My-Photo-2-final-cleanpng.png");
    remove_download_name("", "png", name, sizeof name);
    CHECK_STR(name, "image-cleanpng.png");
    remove_download_name("\"quoted\";evil\r\n.png", "webp", name, sizeof name);
    CHECK_STR(name, "quoted-evil-cleanpng.webp");
    remove_download_name("Sg3XwuEpybU", "png", name, sizeof name);
    CHECK_STR(name, "Sg3XwuEpybU-cleanpng.png");
    remove_download_name(".hidden", "png", name, sizeof name);
    CHECK_STR(name, "hidden-cleanpng.png");

    /* remove.bg errors */
    const char *b =
        "{\"errors\":[{\"title\":\"Failed to read image\",\"code\":\"failed_to_read_image\"}]}";
    removebg_map_error(400, b, strlen(b), -1, &e);
    CHECK(e.status == 422);
    CHECK_STR(e.code, "invalid_image");
    b = "{\"errors\":[{\"title\":\"x\",\"code\":\"resolution_too_high\"}]}";
    removebg_map_error(400, b, strlen(b), -1, &e);
    CHECK_STR(e.code, "image_too_large");
    b = "{\"errors\":[{\"title\":\"Failed to read image\"}]}"; /* older answers: title only */
    removebg_map_error(400, b, strlen(b), -1, &e);
    CHECK_STR(e.code, "invalid_image");
    b = "{\"errors\":[{\"title\":\"Insufficient credits\"}]}";
    removebg_map_error(402, b, strlen(b), -1, &e);
    CHECK(e.status == 503);
    CHECK_STR(e.code, "upstream_quota");
    removebg_map_error(429, "{}", 2, 42, &e);
    CHECK(e.status == 503 && e.retry_after == 42);
    removebg_map_error(429, NULL, 0, -1, &e);
    CHECK(e.retry_after == 60);
    b = "{\"errors\":[{\"title\":\"API Key invalid\",\"code\":\"auth_failed\"}]}";
    removebg_map_error(403, b, strlen(b), -1, &e);
    CHECK(e.status == 502);
    CHECK(strstr(e.message, "API Key") == NULL);
    removebg_map_error(500, "<html>", 6, -1, &e);
    CHECK(e.status == 502 && e.upstream_status == 500);

    /* the bounded Unsplash image URL keeps ixid */
    char url[256];
    CHECK(unsplash_sized_url("https://images.unsplash.com/photo-1?ixid=M3wy&ixlib=rb-4.0.3", 2500,
                             url, sizeof url) == 0);
    CHECK_STR(url, "https://images.unsplash.com/photo-1?ixid=M3wy&ixlib=rb-4.0.3"
                   "&w=2500&h=2500&fit=max&fm=jpg&q=85");
    CHECK(unsplash_sized_url("https://x/p", 1000, url, sizeof url) == 0);
    CHECK_STR(url, "https://x/p?w=1000&h=1000&fit=max&fm=jpg&q=85");

    /* engine output must be a real PNG */
    img_rgba out;
    CHECK(engine_decode_png((const uint8_t *)"\xff\xd8\xff\xe0", 4, &out, &e) == -1);
    CHECK(e.status == 502);
    return check_done("remove");
}
