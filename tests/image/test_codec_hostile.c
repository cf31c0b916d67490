/* Hostile input for codec.h: size bombs, lying lengths, every truncation
 * of small valid files, seeded random corruption, and non-images. Nothing
 * may crash (run under ASan/UBSan), nothing truncated may decode, nothing
 * over the limits may allocate. Linked with -Wl,--wrap=malloc so the test
 * sees the largest allocation our library code asks for. */
#include "codec_testutil.h"

#include <webp/encode.h>

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
static size_t max_alloc;
void *__wrap_malloc(size_t n)
{
    if (n > max_alloc)
        max_alloc = n;
    return __real_malloc(n);
}

#define SMALL_ALLOC (1u << 20)

static img_status decode(const uint8_t *b, size_t len, img_rgba *o)
{
    char err[160];
    img_status st = img_decode(b, len, &t_limits, o, err, sizeof(err));
    if (st)
        CHECK(o->rgba == NULL && o->width == 0 && err[0] != '\0');
    return st;
}

static uint8_t *small_png(uint32_t w, uint32_t h, size_t *len)
{
    img_rgba im = t_image(w, h);
    for (size_t i = 0; i < (size_t)w * h * 4; i++)
        im.rgba[i] = (uint8_t)(i * 7 + (t_rand() & 3));
    uint8_t *png = NULL;
    if (img_encode_png(&im, &png, len) != IMG_OK)
        abort();
    free(im.rgba);
    return png;
}

static void test_size_bombs(void)
{
    size_t len;
    img_header h;
    img_rgba o;
    uint8_t *png = small_png(8, 8, &len);
    static const uint32_t sizes[][3] = {
        /* w, h, expected */
        {100000, 100000, IMG_ERR_TOO_LARGE},
        {20001, 1, IMG_ERR_TOO_LARGE},
        {1, 20001, IMG_ERR_TOO_LARGE},
        {7072, 7072, IMG_ERR_TOO_LARGE}, /* 50.01 MP */
        {0x7fffffff, 1, IMG_ERR_TOO_LARGE},
        {0x80000000u, 1, IMG_ERR_INVALID}, /* not a legal PNG size */
        {0, 5, IMG_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        t_png_set_size(png, sizes[i][0], sizes[i][1]);
        if (sizes[i][2] == IMG_ERR_TOO_LARGE) {
            CHECK_EQ_INT(img_read_header(png, len, &h), IMG_OK);
            CHECK(h.width == sizes[i][0] && h.height == sizes[i][1]);
        }
        max_alloc = 0;
        CHECK_EQ_INT(decode(png, len, &o), sizes[i][2]);
        CHECK(max_alloc < SMALL_ALLOC);
        /* NULL limits mean the SPEC defaults, not "unlimited". */
        CHECK_EQ_INT(img_decode(png, len, NULL, &o, NULL, 0), sizes[i][2]);
    }
    /* Within limits but the IDAT only holds 8x8 worth of data. */
    t_png_set_size(png, 64, 64);
    CHECK_EQ_INT(decode(png, len, &o), IMG_ERR_INVALID);
    /* Tighter caller limits are honoured. */
    t_png_set_size(png, 8, 8);
    img_limits tight = {7, 1000};
    CHECK_EQ_INT(img_decode(png, len, &tight, &o, NULL, 0), IMG_ERR_TOO_LARGE);
    tight = (img_limits){100, 63};
    CHECK_EQ_INT(img_decode(png, len, &tight, &o, NULL, 0), IMG_ERR_TOO_LARGE);
    /* ...and the malloc wrapper really sees the library's allocations. */
    max_alloc = 0;
    CHECK_EQ_INT(decode(png, len, &o), IMG_OK);
    CHECK(max_alloc >= 8 * 8 * 4);
    img_rgba_free(&o);
    free(png);

    /* JPEG whose SOF claims 65000x65000, baseline and progressive. */
    img_rgba src = t_quadrants(16, 16);
    for (int prog = 0; prog < 2; prog++) {
        t_jpeg_opts jo = {.quality = 80, .progressive = prog, .space = JCS_RGB};
        uint8_t *jpg = t_jpeg(&src, &jo, &len);
        size_t sof = 0;
        for (size_t i = 2; i + 9 < len; i++)
            if (jpg[i] == 0xFF && (jpg[i + 1] == 0xC0 || jpg[i + 1] == 0xC2)) {
                sof = i;
                break;
            }
        CHECK(sof > 0);
        jpg[sof + 5] = 0xFD, jpg[sof + 6] = 0xE8; /* height 65000 */
        jpg[sof + 7] = 0xFD, jpg[sof + 8] = 0xE8; /* width 65000 */
        CHECK_EQ_INT(img_read_header(jpg, len, &h), IMG_OK);
        CHECK(h.width == 65000 && h.height == 65000);
        max_alloc = 0;
        CHECK_EQ_INT(decode(jpg, len, &o), IMG_ERR_TOO_LARGE);
        CHECK(max_alloc < SMALL_ALLOC);
        /* Height 0 ("defined by DNL") is refused. */
        jpg[sof + 5] = 0, jpg[sof + 6] = 0;
        CHECK_EQ_INT(img_read_header(jpg, len, &h), IMG_ERR_INVALID);
        CHECK_EQ_INT(decode(jpg, len, &o), IMG_ERR_INVALID);
        free(jpg);
    }

    /* WebP: VP8X canvas 2^24 x 2^24, and a VP8L claiming 16384x16384. */
    uint8_t *ll = NULL;
    CHECK_EQ_INT(img_encode_webp(&src, &ll, &len), IMG_OK);
    {
        uint8_t vp8x[40] = "RIFF\0\0\0\0WEBPVP8X";
        t_le32(vp8x + 4, 32);
        t_le32(vp8x + 16, 10);
        memset(vp8x + 24, 0xFF, 6);
        CHECK_EQ_INT(img_read_header(vp8x, sizeof(vp8x), &h), IMG_OK);
        CHECK(h.width == 1u << 24 && h.height == 1u << 24);
        max_alloc = 0;
        CHECK_EQ_INT(decode(vp8x, sizeof(vp8x), &o), IMG_ERR_TOO_LARGE);
        CHECK(max_alloc < SMALL_ALLOC);
    }
    uint8_t *big = malloc(len);
    memcpy(big, ll, len);
    t_le32(big + 21, 0x3fffu | 0x3fffu << 14 | (big[24] & 0xF0u) << 24);
    CHECK_EQ_INT(img_read_header(big, len, &h), IMG_OK);
    CHECK(h.width == 16384 && h.height == 16384);
    max_alloc = 0;
    CHECK_EQ_INT(decode(big, len, &o), IMG_ERR_TOO_LARGE);
    CHECK(max_alloc < SMALL_ALLOC);
    free(big);
    free(ll);
    free(src.rgba);
}

static void test_lying_lengths(void)
{
    img_header h;
    img_rgba o;
    size_t len;
    img_rgba src = t_quadrants(16, 16);
    t_jpeg_opts jo = {.quality = 80, .space = JCS_RGB};
    uint8_t *jpg = t_jpeg(&src, &jo, &len);

    /* Fill bytes before a marker are legal. */
    uint8_t *fill = malloc(len + 3);
    memcpy(fill, jpg, 2);
    memset(fill + 2, 0xFF, 3);
    memcpy(fill + 5, jpg + 2, len - 2);
    CHECK_EQ_INT(img_read_header(fill, len + 3, &h), IMG_OK);
    CHECK(h.width == 16 && h.height == 16);
    CHECK_EQ_INT(decode(fill, len + 3, &o), IMG_OK);
    img_rgba_free(&o);
    free(fill);

    /* First segment (APP0) claims 0xFFFF bytes or fewer than 2. */
    uint8_t *lie = malloc(len);
    memcpy(lie, jpg, len);
    lie[4] = 0xFF, lie[5] = 0xFF;
    CHECK_EQ_INT(img_read_header(lie, len, &h), IMG_ERR_INVALID);
    CHECK(decode(lie, len, &o) != IMG_OK);
    lie[4] = 0, lie[5] = 1;
    CHECK_EQ_INT(img_read_header(lie, len, &h), IMG_ERR_INVALID);
    CHECK(decode(lie, len, &o) != IMG_OK);
    free(lie);
    /* SOS before any SOF; EOI right after SOI. */
    static const uint8_t sos[] = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x00};
    static const uint8_t eoi[] = {0xFF, 0xD8, 0xFF, 0xD9};
    CHECK_EQ_INT(img_read_header(sos, sizeof(sos), &h), IMG_ERR_INVALID);
    CHECK_EQ_INT(img_read_header(eoi, sizeof(eoi), &h), IMG_ERR_INVALID);
    CHECK_EQ_INT(decode(eoi, sizeof(eoi), &o), IMG_ERR_INVALID);
    /* Garbage after a JPEG's EOI does not matter. */
    uint8_t *tail = malloc(len + 100);
    memcpy(tail, jpg, len);
    memset(tail + len, 0xAB, 100);
    CHECK_EQ_INT(decode(tail, len + 100, &o), IMG_OK);
    img_rgba_free(&o);
    free(tail);
    free(jpg);

    /* PNG: IHDR length not 13, and a later chunk claiming 4 GB. */
    uint8_t *png = small_png(8, 8, &len);
    png[11] = 14;
    CHECK_EQ_INT(img_read_header(png, len, &h), IMG_ERR_INVALID);
    png[11] = 13;
    t_be32(png + 33, 0xFFFFFFFFu); /* the chunk after IHDR */
    CHECK_EQ_INT(img_read_header(png, len, &h), IMG_OK);
    CHECK_EQ_INT(decode(png, len, &o), IMG_ERR_INVALID);
    free(png);

    /* WebP: RIFF size smaller than the header itself, or bigger than the file. */
    uint8_t *ll = NULL;
    CHECK_EQ_INT(img_encode_webp(&src, &ll, &len), IMG_OK);
    t_le32(ll + 4, 4);
    CHECK_EQ_INT(img_read_header(ll, len, &h), IMG_ERR_INVALID);
    CHECK(decode(ll, len, &o) != IMG_OK);
    t_le32(ll + 4, 0xFFFFFFF0u);
    CHECK_EQ_INT(decode(ll, len, &o), IMG_ERR_INVALID);
    free(ll);
    free(src.rgba);

    /* EXIF with an entry count far past its segment. */
    uint8_t exif[64];
    size_t elen = t_exif(exif, 6, 0, 1);
    exif[6 + 8] = 0xFF, exif[6 + 9] = 0xFF;
    src = t_quadrants(16, 8);
    jo.app1 = exif;
    jo.app1_len = elen;
    jpg = t_jpeg(&src, &jo, &len);
    CHECK_EQ_INT(img_read_header(jpg, len, &h), IMG_OK);
    CHECK(h.orientation == 1 || h.orientation == 6);
    free(jpg);
    free(src.rgba);
}

/* Every proper prefix of a valid file must fail to decode, cleanly. */
static void truncate_all(const char *what, const uint8_t *file, size_t len)
{
    img_rgba o;
    img_header h;
    int ok = 0;
    CHECK_EQ_INT(decode(file, len, &o), IMG_OK);
    img_rgba_free(&o);
    for (size_t n = 0; n < len; n++) {
        /* A fresh exact-size copy so ASan sees any read past the cut. */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, file, n);
        (void)img_read_header(cut, n, &h);
        img_status st = decode(cut, n, &o);
        if (st == IMG_OK) {
            if (!ok++)
                fprintf(stderr, "  %s: prefix %zu of %zu decoded OK\n", what, n, len);
            img_rgba_free(&o);
        }
        free(cut);
    }
    CHECK_EQ_INT(ok, 0);
}

static void test_truncation(void)
{
    size_t len;
    uint8_t *png = small_png(24, 16, &len);
    truncate_all("png", png, len);
    free(png);

    /* interlaced palette PNG */
    uint8_t buf[16][12];
    uint8_t *rows[16];
    png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 9, 9}};
    for (int y = 0; y < 16; y++) {
        rows[y] = buf[y];
        for (int x = 0; x < 12; x++)
            buf[y][x] = (uint8_t)((x * 37 + y * 11) & 0x33); /* indices 0..3 */
    }
    png = t_png_raw(24, 16, 4, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_ADAM7, rows, pal, 4, NULL, 0,
                    &len);
    truncate_all("png-palette-interlaced", png, len);
    free(png);

    img_rgba src = t_quadrants(24, 16);
    uint8_t exif[64];
    size_t elen = t_exif(exif, 3, 1, 1);
    for (int prog = 0; prog < 2; prog++) {
        t_jpeg_opts jo = {
            .quality = 85, .progressive = prog, .space = JCS_RGB, .app1 = exif, .app1_len = elen};
        uint8_t *jpg = t_jpeg(&src, &jo, &len);
        truncate_all(prog ? "jpeg-progressive" : "jpeg-baseline", jpg, len);
        free(jpg);
    }

    uint8_t *ll = NULL;
    CHECK_EQ_INT(img_encode_webp(&src, &ll, &len), IMG_OK);
    truncate_all("webp-lossless", ll, len);
    free(ll);
    uint8_t *lossy = NULL;
    len = WebPEncodeRGBA(src.rgba, 24, 16, 24 * 4, 80, &lossy);
    truncate_all("webp-lossy", lossy, len);
    WebPFree(lossy);
    t_fill(&src, 0, 0, 4, 4, 9, 9, 9, 100);
    len = WebPEncodeRGBA(src.rgba, 24, 16, 24 * 4, 80, &lossy);
    truncate_all("webp-lossy-alpha", lossy, len);
    WebPFree(lossy);
    free(src.rgba);
}

/* Seeded random corruption: whatever happens, no crash, no leak, and an
 * OK result is a sane image within the limits. */
static void fuzz(const char *what, const uint8_t *file, size_t len, int rounds)
{
    int oks = 0;
    for (int r = 0; r < rounds; r++) {
        uint8_t *b = malloc(len);
        memcpy(b, file, len);
        int flips = 1 + (int)(t_rand() % 6);
        for (int f = 0; f < flips; f++) {
            size_t at = t_rand() % len;
            if (t_rand() & 1)
                b[at] ^= (uint8_t)(1u << (t_rand() % 8));
            else
                b[at] = (uint8_t)t_rand();
        }
        img_header h;
        img_rgba o;
        if (img_read_header(b, len, &h) == IMG_OK)
            CHECK(h.width > 0 && h.height > 0 && h.orientation >= 1 && h.orientation <= 8);
        if (decode(b, len, &o) == IMG_OK) {
            oks++;
            CHECK(o.rgba && o.width > 0 && o.height > 0 && o.width <= t_limits.max_side &&
                  o.height <= t_limits.max_side);
            img_rgba_free(&o);
        }
        free(b);
    }
    fprintf(stderr, "  fuzz %s: %d/%d still decoded\n", what, oks, rounds);
}

static void test_fuzz(void)
{
    size_t len;
    t_rng_state = 12345;
    uint8_t *png = small_png(20, 12, &len);
    fuzz("png", png, len, 3000);
    free(png);
    img_rgba src = t_quadrants(32, 24);
    uint8_t exif[64];
    size_t elen = t_exif(exif, 8, 0, 1);
    for (int prog = 0; prog < 2; prog++) {
        t_jpeg_opts jo = {
            .quality = 75, .progressive = prog, .space = JCS_RGB, .app1 = exif, .app1_len = elen};
        uint8_t *jpg = t_jpeg(&src, &jo, &len);
        fuzz(prog ? "jpeg-progressive" : "jpeg", jpg, len, 3000);
        free(jpg);
    }
    uint8_t *ll = NULL;
    CHECK_EQ_INT(img_encode_webp(&src, &ll, &len), IMG_OK);
    fuzz("webp-lossless", ll, len, 3000);
    free(ll);
    uint8_t *lossy = NULL;
    len = WebPEncodeRGBA(src.rgba, 32, 24, 32 * 4, 80, &lossy);
    fuzz("webp-lossy", lossy, len, 3000);
    WebPFree(lossy);
    free(src.rgba);
}

static void test_not_images(void)
{
    img_rgba o;
    img_header h;
    char err[160] = "";
    static const char text[] = "Hello, this is a text file.\n";
    static const uint8_t gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!"
                                 "\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00"
                                 "\x00\x02\x02\x44\x01\x00;";
    static const uint8_t bmp[] = "BM\x3a\0\0\0\0\0\0\0\x36\0\0\0";
    static const uint8_t tiff[] = "II*\0\x08\0\0\0";
    CHECK_EQ_INT(
        img_decode((const uint8_t *)text, sizeof(text) - 1, &t_limits, &o, err, sizeof(err)),
        IMG_ERR_UNSUPPORTED);
    CHECK(strlen(err) > 0);
    CHECK_EQ_INT(img_decode(gif, sizeof(gif) - 1, &t_limits, &o, err, sizeof(err)),
                 IMG_ERR_UNSUPPORTED);
    CHECK(strstr(err, "gif") != NULL);
    CHECK_EQ_INT(img_read_header(gif, sizeof(gif) - 1, &h), IMG_ERR_UNSUPPORTED);
    CHECK_EQ_INT(h.format, IMG_FMT_GIF);
    CHECK_EQ_INT(decode(bmp, sizeof(bmp) - 1, &o), IMG_ERR_UNSUPPORTED);
    CHECK_EQ_INT(decode(tiff, sizeof(tiff) - 1, &o), IMG_ERR_UNSUPPORTED);
    CHECK_EQ_INT(decode((const uint8_t *)"", 0, &o), IMG_ERR_UNSUPPORTED);
    CHECK_EQ_INT(img_decode(NULL, 0, &t_limits, &o, NULL, 0), IMG_ERR_UNSUPPORTED);
    CHECK_EQ_INT(img_read_header(NULL, 0, &h), IMG_ERR_UNSUPPORTED);
    /* Magic only, then nothing. */
    CHECK_EQ_INT(decode((const uint8_t *)"\xFF\xD8\xFF", 3, &o), IMG_ERR_INVALID);
    CHECK_EQ_INT(decode((const uint8_t *)"\x89PNG\r\n\x1a\n", 8, &o), IMG_ERR_INVALID);
    CHECK_EQ_INT(decode((const uint8_t *)"RIFF\x04\0\0\0WEBP", 12, &o), IMG_ERR_INVALID);
    /* Random bytes behind each magic. */
    t_rng_state = 777;
    for (int r = 0; r < 2000; r++) {
        uint8_t b[256];
        size_t n = 8 + t_rand() % (sizeof(b) - 8);
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)t_rand();
        switch (r % 3) {
        case 0:
            memcpy(b, "\xFF\xD8\xFF", 3);
            break;
        case 1:
            memcpy(b, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", n >= 16 ? 16 : 8);
            break;
        default:
            memcpy(b, "RIFF", 4);
            if (n >= 16)
                memcpy(b + 8, r & 4 ? "WEBPVP8L" : "WEBPVP8X", 8);
            break;
        }
        (void)img_read_header(b, n, &h);
        CHECK(decode(b, n, &o) != IMG_OK);
    }
}

int main(void)
{
    test_size_bombs();
    test_lying_lengths();
    test_truncation();
    test_fuzz();
    test_not_images();
    return t_report("test_codec_hostile");
}
