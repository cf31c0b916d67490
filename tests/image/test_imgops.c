/* Tests of imgops.h: colour and margin parsing, fit/resize quality with
 * alpha, crop, subject bounding box, compositing, and PNG validation. */
#include "codec_testutil.h"
#include "imgops.h"

static void test_color_parse(void)
{
    img_color c;
    CHECK(img_color_parse("#ff8000", &c) && c.r == 255 && c.g == 128 && c.b == 0 && c.a == 255);
    CHECK(img_color_parse("FF8000", &c) && c.r == 255 && c.g == 128 && c.a == 255);
    CHECK(img_color_parse("f80", &c) && c.r == 255 && c.g == 136 && c.b == 0 && c.a == 255);
    CHECK(img_color_parse("#f808", &c) && c.r == 255 && c.a == 136);
    CHECK(img_color_parse("0000ff80", &c) && c.b == 255 && c.a == 128);
    CHECK(img_color_parse("#AbCdEf", &c) && c.r == 0xab && c.g == 0xcd && c.b == 0xef);
    static const char *bad[] = {"",          "#",      "ff",      "fffff", "fffffff",
                                "fffffffff", "gg0000", "#ff 000", "##fff", "-ff000",
                                " fff",      "fff ",   NULL};
    for (int i = 0; bad[i]; i++)
        CHECK(!img_color_parse(bad[i], &c));
    CHECK(!img_color_parse(NULL, &c));
}

static void test_margin_parse(void)
{
    img_margin m;
    CHECK(img_margin_parse("10", &m) && !m.percent && m.top == 10 && m.right == 10 &&
          m.bottom == 10 && m.left == 10);
    CHECK(img_margin_parse("30px", &m) && !m.percent && m.left == 30);
    CHECK(img_margin_parse("5%", &m) && m.percent && m.top == 5 && m.left == 5);
    CHECK(img_margin_parse("1px 2px", &m) && m.top == 1 && m.bottom == 1 && m.left == 2 &&
          m.right == 2);
    CHECK(img_margin_parse("1,2,3,4", &m) && m.top == 1 && m.right == 2 && m.bottom == 3 &&
          m.left == 4);
    CHECK(img_margin_parse("0", &m) && m.top == 0);
    static const char *bad[] = {"",     "px",      "-5",     "5 %", "5%%",  "1 2 3",   "1 2 3 4 5",
                                "101%", "20001px", "1px 2%", "1.5", "10em", "9999999", NULL};
    for (int i = 0; bad[i]; i++) {
        if (img_margin_parse(bad[i], &m)) {
            fprintf(stderr, "  margin '%s' accepted\n", bad[i]);
            CHECK(0);
        }
    }
}

static void test_fit_dims(void)
{
    uint32_t w, h;
    img_fit_dims(4000, 3000, IMG_PREVIEW_MAX_PIXELS, &w, &h);
    CHECK((uint64_t)w * h <= IMG_PREVIEW_MAX_PIXELS && w >= 570 && h >= 430);
    CHECK(abs((int)(w * 3) - (int)(h * 4)) <= 4);
    img_fit_dims(400, 300, IMG_PREVIEW_MAX_PIXELS, &w, &h);
    CHECK(w == 400 && h == 300); /* never upscaled */
    img_fit_dims(20000, 1, 100, &w, &h);
    CHECK(w == 100 && h == 1);
    img_fit_dims(1, 20000, 100, &w, &h);
    CHECK(w == 1 && h == 100);
    img_fit_dims(20000, 2500, IMG_PREVIEW_MAX_PIXELS, &w, &h);
    CHECK((uint64_t)w * h <= IMG_PREVIEW_MAX_PIXELS && w > 1000);
    img_fit_dims(7, 7, 0, &w, &h);
    CHECK(w == 1 && h == 1);
}

static void test_resize(void)
{
    img_rgba out;
    /* 4x4 -> 2x2 is an exact 2x2 block average. */
    img_rgba a = t_image(4, 4);
    for (uint32_t y = 0; y < 4; y++)
        for (uint32_t x = 0; x < 4; x++)
            t_fill(&a, x, y, 1, 1, (uint8_t)(x * 40 + y * 10), 100, 200, 255);
    CHECK_EQ_INT(img_resize(&a, 2, 2, &out), IMG_OK);
    if (out.rgba) {
        /* block (0,0): values 0,40,10,50 -> 25 */
        CHECK(abs(t_px(&out, 0, 0)[0] - 25) <= 1 && t_px(&out, 0, 0)[1] == 100 &&
              t_px(&out, 0, 0)[3] == 255);
        CHECK(abs(t_px(&out, 1, 1)[0] - 125) <= 1); /* 100,140,110,150 */
    }
    img_rgba_free(&out);
    free(a.rgba);

    /* Premultiplied: red opaque next to transparent green must stay red,
     * at half alpha, not turn brown. */
    img_rgba b = t_image(4, 2);
    t_fill(&b, 0, 0, 2, 2, 0, 255, 0, 0);
    t_fill(&b, 1, 0, 1, 2, 255, 0, 0, 255);
    t_fill(&b, 2, 0, 2, 2, 0, 0, 255, 255);
    CHECK_EQ_INT(img_resize(&b, 2, 1, &out), IMG_OK);
    if (out.rgba) {
        uint8_t *p = t_px(&out, 0, 0);
        CHECK(p[0] == 255 && p[1] == 0 && p[2] == 0 && abs(p[3] - 128) <= 1);
        CHECK(t_near(t_px(&out, 1, 0), 0, 0, 255, 0) && t_px(&out, 1, 0)[3] == 255);
    }
    img_rgba_free(&out);
    free(b.rgba);

    /* Non-integer ratio keeps a flat colour flat and the budget honoured. */
    img_rgba c = t_image(1001, 777);
    t_fill(&c, 0, 0, 1001, 777, 12, 34, 56, 200);
    CHECK_EQ_INT(img_resize_to_fit(&c, IMG_PREVIEW_MAX_PIXELS, &out), IMG_OK);
    CHECK((uint64_t)out.width * out.height <= IMG_PREVIEW_MAX_PIXELS);
    CHECK(out.width > 500 && out.height > 380);
    int flat = 1;
    for (uint32_t y = 0; out.rgba && y < out.height; y++)
        for (uint32_t x = 0; x < out.width; x++) {
            uint8_t *p = t_px(&out, x, y);
            if (!(t_near(p, 12, 34, 56, 0) && p[3] == 200))
                flat = 0;
        }
    CHECK(flat);
    img_rgba_free(&out);
    /* Already small enough: a copy of the same pixels. */
    CHECK_EQ_INT(img_resize_to_fit(&c, 10000000, &out), IMG_OK);
    CHECK(out.width == 1001 && out.rgba != c.rgba &&
          memcmp(out.rgba, c.rgba, (size_t)1001 * 777 * 4) == 0);
    img_rgba_free(&out);
    /* Odd targets, including upscaling and 1x1 */
    CHECK_EQ_INT(img_resize(&c, 1, 1, &out), IMG_OK);
    CHECK(out.rgba && t_near(t_px(&out, 0, 0), 12, 34, 56, 0));
    img_rgba_free(&out);
    CHECK_EQ_INT(img_resize(&c, 2003, 5, &out), IMG_OK);
    img_rgba_free(&out);
    CHECK_EQ_INT(img_resize(&c, 0, 5, &out), IMG_ERR_INVALID);
    free(c.rgba);
}

static void test_crop_bbox(void)
{
    img_rgba im = t_image(100, 80);
    img_box box;
    CHECK(!img_alpha_bbox(&im, IMG_ALPHA_BBOX_THRESHOLD, &box));
    CHECK(box.w == 0 && box.h == 0);
    t_fill(&im, 20, 10, 30, 40, 1, 2, 3, 255);
    t_fill(&im, 0, 79, 100, 1, 9, 9, 9, 5); /* faint fringe below threshold */
    CHECK(img_alpha_bbox(&im, IMG_ALPHA_BBOX_THRESHOLD, &box));
    CHECK(box.x == 20 && box.y == 10 && box.w == 30 && box.h == 40);
    CHECK(img_alpha_bbox(&im, 0, &box));
    CHECK(box.x == 0 && box.y == 10 && box.w == 100 && box.h == 70);
    t_fill(&im, 0, 79, 100, 1, 0, 0, 0, 0);

    img_margin m = {5, 5, 5, 5, false};
    img_box e = img_box_expand((img_box){20, 10, 30, 40}, &m, 100, 80);
    CHECK(e.x == 15 && e.y == 5 && e.w == 40 && e.h == 50);
    m = (img_margin){50, 50, 50, 50, false}; /* clamped to the image */
    e = img_box_expand((img_box){20, 10, 30, 40}, &m, 100, 80);
    CHECK(e.x == 0 && e.y == 0 && e.w == 100 && e.h == 80);
    m = (img_margin){10, 20, 10, 20, true}; /* % of the subject's size */
    e = img_box_expand((img_box){20, 10, 30, 40}, &m, 100, 80);
    CHECK(e.x == 14 && e.y == 6 && e.w == 42 && e.h == 48);

    img_rgba out;
    CHECK_EQ_INT(img_crop(&im, (img_box){20, 10, 30, 40}, &out), IMG_OK);
    CHECK(out.width == 30 && out.height == 40);
    int all = 1;
    for (uint32_t y = 0; out.rgba && y < 40; y++)
        for (uint32_t x = 0; x < 30; x++)
            if (t_px(&out, x, y)[3] != 255)
                all = 0;
    CHECK(all);
    img_rgba_free(&out);
    CHECK_EQ_INT(img_crop(&im, (img_box){90, 0, 11, 1}, &out), IMG_ERR_INVALID);
    CHECK_EQ_INT(img_crop(&im, (img_box){0, 0, 0, 1}, &out), IMG_ERR_INVALID);
    CHECK_EQ_INT(img_crop(&im, (img_box){UINT32_MAX, 0, 2, 1}, &out), IMG_ERR_INVALID);
    CHECK(out.rgba == NULL);
    free(im.rgba);
}

static void test_composite(void)
{
    img_rgba im = t_image(3, 1);
    t_fill(&im, 0, 0, 1, 1, 200, 100, 50, 255);
    t_fill(&im, 1, 0, 1, 1, 200, 100, 50, 0);
    t_fill(&im, 2, 0, 1, 1, 255, 255, 255, 128);
    img_rgba cp = t_image(3, 1);
    memcpy(cp.rgba, im.rgba, 12);

    img_composite_inplace(&im, (img_color){0, 0, 0, 255});
    CHECK(t_near(t_px(&im, 0, 0), 200, 100, 50, 0));
    CHECK(t_near(t_px(&im, 1, 0), 0, 0, 0, 0));
    CHECK(t_near(t_px(&im, 2, 0), 128, 128, 128, 1));
    for (int x = 0; x < 3; x++)
        CHECK(t_px(&im, (uint32_t)x, 0)[3] == 255);

    /* Over a half-transparent blue: alpha = a + 128*(1-a). */
    img_composite_inplace(&cp, (img_color){0, 0, 255, 128});
    CHECK(t_px(&cp, 0, 0)[3] == 255 && t_near(t_px(&cp, 0, 0), 200, 100, 50, 0));
    CHECK(t_px(&cp, 1, 0)[3] == 128 && t_near(t_px(&cp, 1, 0), 0, 0, 255, 0));
    CHECK(abs(t_px(&cp, 2, 0)[3] - 192) <= 1);
    CHECK(t_near(t_px(&cp, 2, 0), 170, 170, 255, 2));
    free(cp.rgba);

    t_fill(&im, 0, 0, 3, 1, 7, 8, 9, 0);
    t_px(&im, 1, 0)[3] = 1;
    img_clear_transparent_inplace(&im);
    CHECK(t_near(t_px(&im, 0, 0), 0, 0, 0, 0) && t_near(t_px(&im, 1, 0), 7, 8, 9, 0));
    free(im.rgba);
}

static void test_validate_png(void)
{
    img_rgba im = t_quadrants(30, 20);
    uint8_t *png;
    size_t len;
    uint32_t w = 0, h = 0;
    CHECK_EQ_INT(img_encode_png(&im, &png, &len), IMG_OK);
    CHECK_EQ_INT(img_validate_png(png, len, &t_limits, &w, &h), IMG_OK);
    CHECK(w == 30 && h == 20);
    CHECK_EQ_INT(img_validate_png(png, len - 1, &t_limits, &w, &h), IMG_ERR_INVALID);
    CHECK_EQ_INT(img_validate_png(png, len / 2, &t_limits, NULL, NULL), IMG_ERR_INVALID);
    png[len / 2] ^= 0x55; /* inside IDAT: CRC mismatch */
    CHECK_EQ_INT(img_validate_png(png, len, &t_limits, NULL, NULL), IMG_ERR_INVALID);
    png[len / 2] ^= 0x55;
    t_png_set_size(png, 30000, 30000);
    CHECK_EQ_INT(img_validate_png(png, len, &t_limits, NULL, NULL), IMG_ERR_TOO_LARGE);
    free(png);
    t_jpeg_opts jo = {.quality = 80, .space = JCS_RGB};
    uint8_t *jpg = t_jpeg(&im, &jo, &len);
    CHECK_EQ_INT(img_validate_png(jpg, len, &t_limits, NULL, NULL), IMG_ERR_UNSUPPORTED);
    free(jpg);
    CHECK_EQ_INT(img_validate_png((const uint8_t *)"{\"error\":1}", 11, &t_limits, NULL, NULL),
                 IMG_ERR_UNSUPPORTED);
    free(im.rgba);
}

int main(void)
{
    test_color_parse();
    test_margin_parse();
    test_fit_dims();
    test_resize();
    test_crop_bbox();
    test_composite();
    test_validate_png();
    return t_report("test_imgops");
}
