/* Functional tests of codec.h: sniffing, headers, decoding of every PNG
 * and JPEG flavour we promise, EXIF orientation, WebP, and encoders. */
#include "codec_testutil.h"

#include <webp/decode.h>

static void test_sniff(void)
{
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const uint8_t jpg[] = {0xFF, 0xD8, 0xFF, 0xE0};
    CHECK_EQ_INT(img_sniff_format(png, sizeof(png)), IMG_FMT_PNG);
    CHECK_EQ_INT(img_sniff_format(png, 7), IMG_FMT_UNKNOWN);
    CHECK_EQ_INT(img_sniff_format(jpg, sizeof(jpg)), IMG_FMT_JPEG);
    CHECK_EQ_INT(img_sniff_format((const uint8_t *)"RIFF\0\0\0\0WEBPVP8 ", 16), IMG_FMT_WEBP);
    CHECK_EQ_INT(img_sniff_format((const uint8_t *)"RIFF\0\0\0\0WAVEfmt ", 16), IMG_FMT_UNKNOWN);
    CHECK_EQ_INT(img_sniff_format((const uint8_t *)"GIF89a", 6), IMG_FMT_GIF);
    CHECK_EQ_INT(img_sniff_format((const uint8_t *)"GIF87a", 6), IMG_FMT_GIF);
    CHECK_EQ_INT(img_sniff_format((const uint8_t *)"BM\0\0", 4), IMG_FMT_BMP);
    CHECK_EQ_INT(img_sniff_format((const uint8_t *)"II*\0", 4), IMG_FMT_TIFF);
    CHECK_EQ_INT(img_sniff_format((const uint8_t *)"MM\0*", 4), IMG_FMT_TIFF);
    CHECK_EQ_INT(img_sniff_format((const uint8_t *)"hello", 5), IMG_FMT_UNKNOWN);
    CHECK_EQ_INT(img_sniff_format(NULL, 0), IMG_FMT_UNKNOWN);
    CHECK(strcmp(img_format_name(IMG_FMT_WEBP), "webp") == 0);
    CHECK(strcmp(img_format_mime(IMG_FMT_PNG), "image/png") == 0);
    CHECK(img_format_mime(IMG_FMT_UNKNOWN) == NULL);
}

/* Random RGBA through our PNG encoder and decoder must be lossless. */
static void test_png_roundtrip(void)
{
    static const uint32_t sizes[][2] = {{1, 1}, {3, 7}, {64, 48}, {257, 3}};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        img_rgba im = t_image(sizes[s][0], sizes[s][1]);
        for (size_t i = 0; i < (size_t)im.width * im.height * 4; i++)
            im.rgba[i] = (uint8_t)t_rand();
        uint8_t *png = NULL;
        size_t len = 0;
        CHECK_EQ_INT(img_encode_png(&im, &png, &len), IMG_OK);
        img_header h;
        CHECK_EQ_INT(img_read_header(png, len, &h), IMG_OK);
        CHECK_EQ_INT(h.format, IMG_FMT_PNG);
        CHECK_EQ_INT(h.width, im.width);
        CHECK_EQ_INT(h.height, im.height);
        CHECK_EQ_INT(h.orientation, 1);
        img_rgba out;
        char err[128];
        CHECK_EQ_INT(img_decode(png, len, &t_limits, &out, err, sizeof(err)), IMG_OK);
        CHECK(out.width == im.width && out.height == im.height);
        CHECK(out.rgba && memcmp(out.rgba, im.rgba, (size_t)im.width * im.height * 4) == 0);
        img_rgba_free(&out);
        free(png);
        free(im.rgba);
    }
    img_rgba bad = {0, 5, NULL};
    uint8_t *o = (uint8_t *)1;
    size_t ol = 1;
    CHECK_EQ_INT(img_encode_png(&bad, &o, &ol), IMG_ERR_INVALID);
    CHECK(o == NULL && ol == 0);
}

static img_rgba decode_ok(const uint8_t *buf, size_t len)
{
    img_rgba out = {0};
    char err[160] = "";
    img_status st = img_decode(buf, len, &t_limits, &out, err, sizeof(err));
    CHECK_EQ_INT(st, IMG_OK);
    if (st)
        fprintf(stderr, "  decode error: %s\n", err);
    return out;
}

/* Every PNG colour type and depth comes out as 8-bit RGBA. */
static void test_png_flavours(void)
{
    enum { W = 9, H = 5 };
    uint8_t buf[H][W * 8];
    uint8_t *rows[H];
    size_t len;
    uint8_t *png;
    img_rgba o;
    for (int y = 0; y < H; y++)
        rows[y] = buf[y];

    /* 16-bit RGBA: the high byte decides. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = buf[y] + x * 8;
            p[0] = 200, p[1] = 0xff, p[2] = 10, p[3] = 0, p[4] = (uint8_t)(x * 20), p[5] = 0,
            p[6] = 0x80, p[7] = 0x00;
        }
    png = t_png_raw(W, H, 16, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE, rows, NULL, 0, NULL, 0,
                    &len);
    o = decode_ok(png, len);
    if (o.rgba) {
        uint8_t *p = t_px(&o, 3, 2);
        CHECK(abs(p[0] - 200) <= 1 && abs(p[1] - 10) <= 1 && abs(p[2] - 60) <= 1 &&
              abs(p[3] - 128) <= 1);
    }
    img_rgba_free(&o);
    free(png);

    /* 16-bit grey + interlaced */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            buf[y][x * 2] = (uint8_t)(x * 25 + y), buf[y][x * 2 + 1] = 0;
    png =
        t_png_raw(W, H, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_ADAM7, rows, NULL, 0, NULL, 0, &len);
    o = decode_ok(png, len);
    if (o.rgba) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                uint8_t *p = t_px(&o, (uint32_t)x, (uint32_t)y);
                int v = x * 25 + y;
                CHECK(abs(p[0] - v) <= 1 && p[0] == p[1] && p[1] == p[2] && p[3] == 255);
            }
    }
    img_rgba_free(&o);
    free(png);

    /* 1-bit grey: 0 -> black, 1 -> white */
    for (int y = 0; y < H; y++)
        memset(buf[y], y & 1 ? 0xAA : 0x00, 2);
    png = t_png_raw(W, H, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, rows, NULL, 0, NULL, 0, &len);
    o = decode_ok(png, len);
    if (o.rgba) {
        CHECK(t_near(t_px(&o, 0, 1), 255, 255, 255, 0));
        CHECK(t_near(t_px(&o, 1, 1), 0, 0, 0, 0));
        CHECK(t_near(t_px(&o, 0, 0), 0, 0, 0, 0) && t_px(&o, 0, 0)[3] == 255);
    }
    img_rgba_free(&o);
    free(png);

    /* grey + alpha, 8-bit */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            buf[y][x * 2] = 99, buf[y][x * 2 + 1] = (uint8_t)(x * 30);
    png = t_png_raw(W, H, 8, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE, rows, NULL, 0, NULL, 0,
                    &len);
    o = decode_ok(png, len);
    if (o.rgba) {
        uint8_t *p = t_px(&o, 4, 4);
        CHECK(p[0] == 99 && p[1] == 99 && p[2] == 99 && p[3] == 120);
    }
    img_rgba_free(&o);
    free(png);

    /* 4-bit palette with tRNS: entry 1 is half-transparent blue */
    png_color pal[3] = {{255, 0, 0}, {0, 0, 255}, {0, 255, 0}};
    uint8_t trns[2] = {255, 128};
    for (int y = 0; y < H; y++) {
        memset(buf[y], 0, sizeof(buf[y]));
        buf[y][0] = 0x12; /* pixels 0,1 -> entries 1,2 */
    }
    png = t_png_raw(W, H, 4, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_ADAM7, rows, pal, 3, trns, 2,
                    &len);
    o = decode_ok(png, len);
    if (o.rgba) {
        uint8_t *p0 = t_px(&o, 0, 3), *p1 = t_px(&o, 1, 3), *p2 = t_px(&o, 2, 3);
        CHECK(t_near(p0, 0, 0, 255, 0) && p0[3] == 128);
        CHECK(t_near(p1, 0, 255, 0, 0) && p1[3] == 255);
        CHECK(t_near(p2, 255, 0, 0, 0) && p2[3] == 255);
    }
    img_rgba_free(&o);
    free(png);

    /* RGB 8-bit with a tRNS colour key */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            buf[y][x * 3] = x == 0 ? 10 : 50, buf[y][x * 3 + 1] = 20, buf[y][x * 3 + 2] = 30;
    {
        t_buf b = {0};
        png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop i = png_create_info_struct(p);
        png_color_16 key = {0, 10, 20, 30, 0};
        png_set_write_fn(p, &b, t_png_write_cb, t_png_flush_cb);
        png_set_IHDR(p, i, W, H, 8, PNG_COLOR_TYPE_RGB, 0, 0, 0);
        png_set_tRNS(p, i, NULL, 0, &key);
        png_write_info(p, i);
        png_write_image(p, rows);
        png_write_end(p, NULL);
        png_destroy_write_struct(&p, &i);
        o = decode_ok(b.data, b.len);
        if (o.rgba) {
            CHECK(t_px(&o, 0, 0)[3] == 0);
            CHECK(t_px(&o, 1, 0)[3] == 255 && t_px(&o, 1, 0)[0] == 50);
        }
        img_rgba_free(&o);
        free(b.data);
    }
}

static void test_jpeg_flavours(void)
{
    img_rgba src = t_quadrants(64, 48);
    static const J_COLOR_SPACE spaces[] = {JCS_RGB, JCS_GRAYSCALE, JCS_CMYK};
    for (int s = 0; s < 3; s++) {
        for (int prog = 0; prog < 2; prog++) {
            t_jpeg_opts jo = {.quality = 95, .progressive = prog, .space = spaces[s]};
            size_t len;
            uint8_t *jpg = t_jpeg(&src, &jo, &len);
            img_header h;
            CHECK_EQ_INT(img_read_header(jpg, len, &h), IMG_OK);
            CHECK(h.format == IMG_FMT_JPEG && h.width == 64 && h.height == 48);
            CHECK_EQ_INT(h.orientation, 1);
            img_rgba o = decode_ok(jpg, len);
            if (o.rgba) {
                CHECK(o.width == 64 && o.height == 48);
                const uint8_t *tl = t_px(&o, 4, 4), *br = t_px(&o, 60, 44);
                if (spaces[s] == JCS_GRAYSCALE) {
                    CHECK(tl[0] == tl[1] && tl[1] == tl[2] && abs(tl[0] - 76) <= 6);
                } else {
                    CHECK(t_near(tl, 255, 0, 0, 12));
                    CHECK(t_near(t_px(&o, 60, 4), 0, 255, 0, 12));
                    CHECK(t_near(t_px(&o, 4, 44), 0, 0, 255, 12));
                }
                CHECK(t_near(br, 255, 255, 255, 6));
                CHECK(tl[3] == 255 && br[3] == 255);
            }
            img_rgba_free(&o);
            free(jpg);
        }
    }
    free(src.rgba);
}

/* Upright corner colours for each EXIF orientation, given a stored image
 * with red TL, green TR, blue BL, white BR. Worked out by hand from the
 * EXIF definitions, independently of the decoder's mapping. */
static const uint8_t corner_rgb[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
enum { RED, GREEN, BLUE, WHITE };
static const int expect_corners[9][4] = {
    /* TL, TR, BL, BR */
    {0},
    {RED, GREEN, BLUE, WHITE}, /* 1 */
    {GREEN, RED, WHITE, BLUE}, /* 2 mirror horizontal */
    {WHITE, BLUE, GREEN, RED}, /* 3 rotate 180 */
    {BLUE, WHITE, RED, GREEN}, /* 4 mirror vertical */
    {RED, BLUE, GREEN, WHITE}, /* 5 transpose */
    {BLUE, RED, WHITE, GREEN}, /* 6 rotate 90 cw */
    {WHITE, GREEN, BLUE, RED}, /* 7 transverse */
    {GREEN, WHITE, RED, BLUE}, /* 8 rotate 90 ccw */
};

static void check_corners(const img_rgba *o, int orient, const char *what)
{
    const uint32_t m = 3, W = o->width, H = o->height;
    const uint8_t *px[4] = {t_px(o, m, m), t_px(o, W - 1 - m, m), t_px(o, m, H - 1 - m),
                            t_px(o, W - 1 - m, H - 1 - m)};
    for (int c = 0; c < 4; c++) {
        const uint8_t *e = corner_rgb[expect_corners[orient][c]];
        if (!t_near(px[c], e[0], e[1], e[2], 16)) {
            fprintf(stderr, "  %s orientation %d corner %d: got %d,%d,%d\n", what, orient, c,
                    px[c][0], px[c][1], px[c][2]);
            CHECK(0);
        }
    }
}

static void test_jpeg_orientation(void)
{
    img_rgba src = t_quadrants(64, 32);
    for (int be = 0; be < 2; be++) {
        for (int orient = 1; orient <= 8; orient++) {
            uint8_t exif[64];
            size_t elen = t_exif(exif, orient, be, 1);
            t_jpeg_opts jo = {.quality = 95, .space = JCS_RGB, .app1 = exif, .app1_len = elen};
            size_t len;
            uint8_t *jpg = t_jpeg(&src, &jo, &len);
            img_header h;
            CHECK_EQ_INT(img_read_header(jpg, len, &h), IMG_OK);
            CHECK_EQ_INT(h.orientation, orient);
            CHECK(h.width == 64 && h.height == 32); /* as stored */
            img_rgba o = decode_ok(jpg, len);
            if (o.rgba) {
                uint32_t ew = orient >= 5 ? 32 : 64, eh = orient >= 5 ? 64 : 32;
                CHECK(o.width == ew && o.height == eh);
                check_corners(&o, orient, be ? "jpeg/MM" : "jpeg/II");
            }
            img_rgba_free(&o);
            free(jpg);
        }
    }
    /* Out-of-range and broken EXIF fall back to 1. */
    uint8_t exif[64];
    size_t elen = t_exif(exif, 9, 0, 1);
    t_jpeg_opts jo = {.quality = 90, .space = JCS_RGB, .app1 = exif, .app1_len = elen};
    size_t len;
    uint8_t *jpg = t_jpeg(&src, &jo, &len);
    img_header h;
    CHECK_EQ_INT(img_read_header(jpg, len, &h), IMG_OK);
    CHECK_EQ_INT(h.orientation, 1);
    free(jpg);
    elen = t_exif(exif, 6, 0, 1);
    exif[6 + 4] = 0xF0; /* IFD0 offset far past the end */
    jpg = t_jpeg(&src, &jo, &len);
    CHECK_EQ_INT(img_read_header(jpg, len, &h), IMG_OK);
    CHECK_EQ_INT(h.orientation, 1);
    free(jpg);
    free(src.rgba);
}

/* Inserts a chunk (with a correct CRC) into a PNG at byte offset at. */
static uint8_t *png_insert_chunk(const uint8_t *png, size_t len, size_t at, const char *type,
                                 const uint8_t *data, uint32_t dlen, size_t *outlen)
{
    uint8_t *b = malloc(len + 12 + dlen);
    memcpy(b, png, at);
    uint8_t *c = b + at;
    t_be32(c, dlen);
    memcpy(c + 4, type, 4);
    if (dlen)
        memcpy(c + 8, data, dlen);
    t_be32(c + 8 + dlen, t_crc32(c + 4, 4 + (size_t)dlen));
    memcpy(c + 12 + dlen, png + at, len - at);
    *outlen = len + 12 + dlen;
    return b;
}

/* APNG: libpng ignores acTL/fcTL/fdAT, so we get the default image. PNG
 * eXIf orientation is honoured like JPEG's. */
static void test_png_chunks(void)
{
    img_rgba q = t_quadrants(64, 32);
    uint8_t *png, *a, *b;
    size_t len, alen, blen;
    CHECK_EQ_INT(img_encode_png(&q, &png, &len), IMG_OK);

    uint8_t actl[8] = {0, 0, 0, 2, 0, 0, 0, 0};
    uint8_t fdat[30] = {0, 0, 0, 2};
    a = png_insert_chunk(png, len, 33, "acTL", actl, sizeof(actl), &alen);
    b = png_insert_chunk(a, alen, alen - 12, "fdAT", fdat, sizeof(fdat), &blen);
    img_rgba o = decode_ok(b, blen);
    CHECK(o.rgba && o.width == 64 && memcmp(o.rgba, q.rgba, 64 * 32 * 4) == 0);
    img_rgba_free(&o);
    free(a);
    free(b);

    uint8_t exif[64];
    size_t elen = t_exif(exif, 8, 1, 0);
    a = png_insert_chunk(png, len, 33, "eXIf", exif, (uint32_t)elen, &alen);
    img_header h;
    CHECK_EQ_INT(img_read_header(a, alen, &h), IMG_OK);
    CHECK_EQ_INT(h.orientation, 8);
    o = decode_ok(a, alen);
    if (o.rgba) {
        CHECK(o.width == 32 && o.height == 64);
        check_corners(&o, 8, "png");
    }
    img_rgba_free(&o);
    free(a);
    free(png);
    free(q.rgba);
}

/* Wraps a VP8L bitstream in a VP8X container with an optional EXIF chunk,
 * by hand, the way cameras and phones write it. */
static uint8_t *webp_with_exif(const uint8_t *simple, size_t slen, uint32_t w, uint32_t h,
                               const uint8_t *exif, size_t elen, uint8_t extra_flags, size_t *len)
{
    size_t vlen = slen - 12; /* the VP8L chunk, header included */
    size_t total = 12 + 18 + vlen + (exif ? 8 + elen + (elen & 1) : 0);
    uint8_t *b = calloc(1, total);
    memcpy(b, "RIFF", 4);
    t_le32(b + 4, (uint32_t)(total - 8));
    memcpy(b + 8, "WEBPVP8X", 8);
    t_le32(b + 16, 10);
    b[20] = (uint8_t)((exif ? 0x08 : 0) | extra_flags);
    b[24] = (uint8_t)(w - 1), b[25] = (uint8_t)((w - 1) >> 8), b[26] = (uint8_t)((w - 1) >> 16);
    b[27] = (uint8_t)(h - 1), b[28] = (uint8_t)((h - 1) >> 8), b[29] = (uint8_t)((h - 1) >> 16);
    memcpy(b + 30, simple + 12, vlen);
    if (exif) {
        memcpy(b + 30 + vlen, "EXIF", 4);
        t_le32(b + 34 + vlen, (uint32_t)elen);
        memcpy(b + 38 + vlen, exif, elen);
    }
    *len = total;
    return b;
}

static void test_webp(void)
{
    img_rgba src = t_quadrants(40, 20);
    t_fill(&src, 0, 0, 5, 5, 1, 2, 3, 77); /* some real alpha */
    uint8_t *ll = NULL;
    size_t lllen = 0;
    CHECK_EQ_INT(img_encode_webp(&src, &ll, &lllen), IMG_OK);
    CHECK(lllen > 20 && memcmp(ll + 12, "VP8L", 4) == 0);
    img_header h;
    CHECK_EQ_INT(img_read_header(ll, lllen, &h), IMG_OK);
    CHECK(h.format == IMG_FMT_WEBP && h.width == 40 && h.height == 20 && h.orientation == 1);
    img_rgba o = decode_ok(ll, lllen);
    CHECK(o.rgba && memcmp(o.rgba, src.rgba, 40 * 20 * 4) == 0);
    img_rgba_free(&o);

    /* Lossy without alpha is a plain "VP8 " chunk. */
    uint8_t *lossy = NULL;
    size_t lossylen = WebPEncodeRGBA(src.rgba, 40, 20, 160, 90, &lossy);
    CHECK(lossylen > 0);
    t_fill(&src, 0, 0, 5, 5, 255, 0, 0, 255);
    uint8_t *vp8 = NULL;
    size_t vp8len = WebPEncodeRGB((const uint8_t[40 * 20 * 3]){0}, 40, 20, 120, 80, &vp8);
    CHECK(vp8len > 20 && memcmp(vp8 + 12, "VP8 ", 4) == 0);
    CHECK_EQ_INT(img_read_header(vp8, vp8len, &h), IMG_OK);
    CHECK(h.width == 40 && h.height == 20);
    o = decode_ok(vp8, vp8len);
    CHECK(o.width == 40 && o.height == 20);
    img_rgba_free(&o);
    /* Lossy with alpha: VP8X + ALPH + VP8 */
    CHECK_EQ_INT(img_read_header(lossy, lossylen, &h), IMG_OK);
    CHECK(h.width == 40 && h.height == 20);
    o = decode_ok(lossy, lossylen);
    CHECK(o.rgba && abs(t_px(&o, 1, 1)[3] - 77) <= 3 && t_px(&o, 30, 15)[3] == 255);
    img_rgba_free(&o);
    WebPFree(lossy);
    WebPFree(vp8);
    free(ll);

    /* VP8X + EXIF orientation 6 (with and without the "Exif\0\0" prefix) */
    img_rgba q = t_quadrants(64, 32);
    CHECK_EQ_INT(img_encode_webp(&q, &ll, &lllen), IMG_OK);
    for (int prefix = 0; prefix < 2; prefix++) {
        uint8_t exif[64];
        size_t elen = t_exif(exif, 6, prefix, prefix);
        size_t xlen;
        uint8_t *x = webp_with_exif(ll, lllen, 64, 32, exif, elen, 0, &xlen);
        CHECK_EQ_INT(img_read_header(x, xlen, &h), IMG_OK);
        CHECK(h.width == 64 && h.height == 32);
        CHECK_EQ_INT(h.orientation, 6);
        o = decode_ok(x, xlen);
        if (o.rgba) {
            CHECK(o.width == 32 && o.height == 64);
            check_corners(&o, 6, "webp");
        }
        img_rgba_free(&o);
        free(x);
    }
    /* Animated WebP is refused by name, not mis-decoded. */
    {
        size_t xlen;
        uint8_t *x = webp_with_exif(ll, lllen, 64, 32, NULL, 0, 0x02, &xlen);
        char err[128] = "";
        img_status st = img_decode(x, xlen, &t_limits, &o, err, sizeof(err));
        CHECK_EQ_INT(st, IMG_ERR_UNSUPPORTED);
        CHECK(o.rgba == NULL);
        free(x);
    }
    free(ll);
    free(q.rgba);

    img_rgba big = t_image(16384, 1);
    CHECK_EQ_INT(img_encode_webp(&big, &ll, &lllen), IMG_ERR_TOO_LARGE);
    free(big.rgba);
    free(src.rgba);
}

/* Real photos shipped with python3-skimage, when installed. */
static void test_real_files(void)
{
    static const char *dir = "/usr/lib/python3/dist-packages/skimage/data/";
    static const char *files[] = {
        "astronaut.png",         "retina.jpg", "rocket.jpg",        "coffee.png",
        "hubble_deep_field.jpg", "camera.png", "green_palette.png", "logo.png"};
    int seen = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s%s", dir, files[i]);
        size_t len;
        uint8_t *b = t_read_file(path, &len);
        if (!b)
            continue;
        seen++;
        img_header h;
        CHECK_EQ_INT(img_read_header(b, len, &h), IMG_OK);
        img_rgba o = decode_ok(b, len);
        CHECK(o.width == h.width && o.height == h.height);
        if (o.rgba) {
            uint8_t *png;
            size_t plen;
            CHECK_EQ_INT(img_encode_png(&o, &png, &plen), IMG_OK);
            img_rgba back = decode_ok(png, plen);
            CHECK(back.rgba && memcmp(back.rgba, o.rgba, (size_t)o.width * o.height * 4) == 0);
            img_rgba_free(&back);
            free(png);
        }
        img_rgba_free(&o);
        free(b);
    }
    /* skimage's own truncated.jpg must not decode. */
    size_t len;
    uint8_t *b = t_read_file("/usr/lib/python3/dist-packages/skimage/data/truncated.jpg", &len);
    if (b) {
        img_rgba o;
        CHECK_EQ_INT(img_decode(b, len, &t_limits, &o, NULL, 0), IMG_ERR_INVALID);
        free(b);
    }
    fprintf(stderr, "real files decoded: %d\n", seen);
}

int main(void)
{
    test_sniff();
    test_png_roundtrip();
    test_png_flavours();
    test_jpeg_flavours();
    test_jpeg_orientation();
    test_png_chunks();
    test_webp();
    test_real_files();
    return t_report("test_codec");
}
