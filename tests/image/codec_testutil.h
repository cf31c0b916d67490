/* Helpers shared by the codec tests: a tiny check macro and builders for
 * in-memory test images (PNG via libpng, JPEG via libjpeg, WebP via
 * libwebp), so no test depends on files on disk. Header-only on purpose:
 * each test is one C program. */
#ifndef CLEANPNG_TESTS_CODEC_TESTUTIL_H
#define CLEANPNG_TESTS_CODEC_TESTUTIL_H

#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

__attribute__((unused)) static int t_failures;
__attribute__((unused)) static int t_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        t_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            t_failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        t_checks++;                                                                                \
        if (va_ != vb_) {                                                                          \
            t_failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__,  \
                    #a, #b, va_, vb_);                                                             \
        }                                                                                          \
    } while (0)

static inline int t_report(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failures\n", name, t_checks, t_failures);
    return t_failures ? 1 : 0;
}

/* Deterministic PRNG (xorshift32) so failures reproduce. */
static uint32_t t_rng_state = 2463534242u;
static inline uint32_t t_rand(void)
{
    uint32_t x = t_rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return t_rng_state = x;
}

static inline img_rgba t_image(uint32_t w, uint32_t h)
{
    img_rgba im = {w, h, calloc((size_t)w * h, 4)};
    if (!im.rgba)
        abort();
    return im;
}

static inline uint8_t *t_px(const img_rgba *im, uint32_t x, uint32_t y)
{
    return im->rgba + ((size_t)y * im->width + x) * 4;
}

static inline void t_fill(img_rgba *im, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint8_t r,
                          uint8_t g, uint8_t b, uint8_t a)
{
    for (uint32_t y = y0; y < y0 + h; y++)
        for (uint32_t x = x0; x < x0 + w; x++) {
            uint8_t *p = t_px(im, x, y);
            p[0] = r;
            p[1] = g;
            p[2] = b;
            p[3] = a;
        }
}

/* Four quadrants: red TL, green TR, blue BL, white BR (all opaque). */
static inline img_rgba t_quadrants(uint32_t w, uint32_t h)
{
    img_rgba im = t_image(w, h);
    t_fill(&im, 0, 0, w / 2, h / 2, 255, 0, 0, 255);
    t_fill(&im, w / 2, 0, w - w / 2, h / 2, 0, 255, 0, 255);
    t_fill(&im, 0, h / 2, w / 2, h - h / 2, 0, 0, 255, 255);
    t_fill(&im, w / 2, h / 2, w - w / 2, h - h / 2, 255, 255, 255, 255);
    return im;
}

static inline int t_near(const uint8_t *p, int r, int g, int b, int tol)
{
    return abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
}

/* ---- JPEG writer ---- */

typedef struct {
    int quality;
    int progressive;
    J_COLOR_SPACE space; /* JCS_RGB, JCS_GRAYSCALE or JCS_CMYK */
    const uint8_t *app1; /* raw APP1 body (e.g. "Exif\0\0" + TIFF), or NULL */
    size_t app1_len;
} t_jpeg_opts;

/* Encodes im (RGBA; alpha ignored). For JCS_CMYK, pixels are converted
 * to Adobe-style inverted CMYK, which libjpeg tags with an Adobe marker. */
static inline uint8_t *t_jpeg(const img_rgba *im, const t_jpeg_opts *o, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *out = NULL;
    unsigned long outlen = 0;
    int comps = o->space == JCS_GRAYSCALE ? 1 : o->space == JCS_CMYK ? 4 : 3;
    uint8_t *row = malloc((size_t)im->width * 4);

    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &outlen);
    c.image_width = im->width;
    c.image_height = im->height;
    c.input_components = comps;
    c.in_color_space = o->space;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, o->quality ? o->quality : 95, TRUE);
    if (o->progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    if (o->app1)
        jpeg_write_marker(&c, JPEG_APP0 + 1, o->app1, (unsigned)o->app1_len);
    for (uint32_t y = 0; y < im->height; y++) {
        for (uint32_t x = 0; x < im->width; x++) {
            const uint8_t *p = t_px(im, x, y);
            if (comps == 1) {
                row[x] = (uint8_t)((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
            } else if (comps == 3) {
                memcpy(row + x * 3, p, 3);
            } else {
                /* inverted CMYK with K = min(C,M,Y) removal */
                int cc = 255 - p[0], m = 255 - p[1], yy = 255 - p[2];
                int k = cc < m ? (cc < yy ? cc : yy) : (m < yy ? m : yy);
                int div = 255 - k;
                uint8_t *q = row + x * 4;
                q[0] = (uint8_t)(255 - (div ? (cc - k) * 255 / div : 0));
                q[1] = (uint8_t)(255 - (div ? (m - k) * 255 / div : 0));
                q[2] = (uint8_t)(255 - (div ? (yy - k) * 255 / div : 0));
                q[3] = (uint8_t)(255 - k);
            }
        }
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    /* jpeg_mem_dest buffers are malloc'd; copy so callers just free(). */
    uint8_t *copy = malloc(outlen);
    memcpy(copy, out, outlen);
    free(out);
    *len = outlen;
    return copy;
}

/* A TIFF/EXIF body holding only IFD0 Orientation; big_endian picks MM. */
static inline size_t t_exif(uint8_t *b, int orientation, int big_endian, int with_prefix)
{
    size_t n = 0;
    if (with_prefix) {
        memcpy(b, "Exif\0\0", 6);
        n = 6;
    }
    uint8_t *t = b + n;
    static const uint8_t ii[] = {'I', 'I', 42, 0, 8, 0, 0, 0};
    static const uint8_t mm[] = {'M', 'M', 0, 42, 0, 0, 0, 8};
    memcpy(t, big_endian ? mm : ii, 8);
    /* 2 entries: a dummy ImageWidth-ish tag, then Orientation */
    uint8_t *ifd = t + 8;
    memset(ifd, 0, 2 + 2 * 12 + 4);
    if (big_endian) {
        ifd[1] = 2;
        ifd[2] = 0x01, ifd[3] = 0x00, ifd[5] = 3, ifd[9] = 1, ifd[11] = 77;
        ifd[14] = 0x01, ifd[15] = 0x12, ifd[17] = 3, ifd[21] = 1, ifd[23] = (uint8_t)orientation;
    } else {
        ifd[0] = 2;
        ifd[2] = 0x00, ifd[3] = 0x01, ifd[4] = 3, ifd[6] = 1, ifd[10] = 77;
        ifd[14] = 0x12, ifd[15] = 0x01, ifd[16] = 3, ifd[18] = 1, ifd[22] = (uint8_t)orientation;
    }
    return n + 8 + 2 + 2 * 12 + 4;
}

/* ---- PNG writer with full control over the flavour ---- */

typedef struct {
    uint8_t *data;
    size_t len, cap;
} t_buf;

static inline void t_png_write_cb(png_structp p, png_bytep d, size_t n)
{
    t_buf *b = png_get_io_ptr(p);
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->data = realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, d, n);
    b->len += n;
}

static inline void t_png_flush_cb(png_structp p)
{
    (void)p;
}

/* rows: raw PNG rows in the given colour type / depth. */
static inline uint8_t *t_png_raw(uint32_t w, uint32_t h, int depth, int ctype, int interlace,
                                 uint8_t **rows, const png_color *pal, int npal,
                                 const uint8_t *trns, int ntrns, size_t *len)
{
    t_buf b = {0};
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop i = png_create_info_struct(p);
    if (setjmp(png_jmpbuf(p)))
        abort();
    png_set_write_fn(p, &b, t_png_write_cb, t_png_flush_cb);
    png_set_IHDR(p, i, w, h, depth, ctype, interlace, PNG_COMPRESSION_TYPE_BASE,
                 PNG_FILTER_TYPE_BASE);
    if (pal)
        png_set_PLTE(p, i, pal, npal);
    if (trns)
        png_set_tRNS(p, i, trns, ntrns, NULL);
    png_write_info(p, i);
    png_write_image(p, rows);
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &i);
    *len = b.len;
    return b.data;
}

static inline uint32_t t_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static inline void t_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void t_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Rewrites a PNG's IHDR size and fixes its CRC so libpng believes it. */
static inline void t_png_set_size(uint8_t *png, uint32_t w, uint32_t h)
{
    t_be32(png + 16, w);
    t_be32(png + 20, h);
    t_be32(png + 29, t_crc32(png + 12, 17));
}

static inline uint8_t *t_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

__attribute__((unused)) static const img_limits t_limits = {20000, 50000000};

#endif
