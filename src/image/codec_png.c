/* PNG: header walk, capped decode (libpng classic API, so the limits and
 * png_read_end's check for a complete file are ours to set) and encode. */
#include "codec_internal.h"
#include "exif.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* PNG caps a side at 2^31 - 1. Chunks walked looking for eXIf are capped
 * too, so a file of a million empty chunks costs nothing. */
#define PNG_MAX_SIDE 0x7fffffffu
#define PNG_HEADER_MAX_CHUNKS 256
/* Output buffer growth: start here, double, never past the worst case. */
#define PNG_ENC_INITIAL (64u * 1024)

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

img_status codec_png_header(const uint8_t *buf, size_t len, img_header *out)
{
    /* signature(8) length(4) "IHDR"(4) width(4) height(4) ... */
    if (len < 8 + 8 + 13 || be32(buf + 8) != 13 || memcmp(buf + 12, "IHDR", 4) != 0)
        return IMG_ERR_INVALID;
    out->width = be32(buf + 16);
    out->height = be32(buf + 20);
    if (out->width == 0 || out->height == 0 || out->width > PNG_MAX_SIDE ||
        out->height > PNG_MAX_SIDE)
        return IMG_ERR_INVALID;

    /* eXIf must precede IDAT; stop at IDAT, at truncation or at the cap. */
    size_t pos = 8 + 12 + 13;
    for (int i = 0; i < PNG_HEADER_MAX_CHUNKS && pos <= len && len - pos >= 8; i++) {
        uint64_t clen = be32(buf + pos);
        const uint8_t *type = buf + pos + 4;
        if (memcmp(type, "IDAT", 4) == 0 || memcmp(type, "IEND", 4) == 0)
            break;
        if (clen > len - pos - 8)
            break;
        if (memcmp(type, "eXIf", 4) == 0) {
            out->orientation = exif_orientation(buf + pos + 8, (size_t)clen);
            break;
        }
        if (clen + 12 > len - pos)
            break;
        pos += (size_t)clen + 12;
    }
    return IMG_OK;
}

typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    char msg[128];
} png_mem_reader;

static void png_err_fn(png_structp png, png_const_charp msg)
{
    png_mem_reader *r = png_get_error_ptr(png);
    if (r)
        snprintf(r->msg, sizeof(r->msg), "%s", msg);
    png_longjmp(png, 1);
}

static void png_warn_fn(png_structp png, png_const_charp msg)
{
    /* Benign problems (bad ancillary CRC, extra zlib data) are not worth
     * refusing a photo over, nor worth a line on stderr. */
    (void)png;
    (void)msg;
}

static void png_read_fn(png_structp png, png_bytep data, size_t n)
{
    png_mem_reader *r = png_get_io_ptr(png);
    if (n > r->len - r->pos)
        png_error(png, "truncated PNG data");
    memcpy(data, r->buf + r->pos, n);
    r->pos += n;
}

img_status codec_png_decode(const uint8_t *buf, size_t len, const img_limits *lim, img_rgba *out,
                            char *err, size_t errlen)
{
    png_mem_reader rd = {.buf = buf, .len = len, .pos = 0, .msg = "corrupt PNG"};
    png_structp png = NULL;
    png_infop info = NULL;
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile img_status st = IMG_ERR_INVALID;
    uint32_t max_side = lim ? lim->max_side : CODEC_DEFAULT_MAX_SIDE;

    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &rd, png_err_fn, png_warn_fn);
    if (!png) {
        st = IMG_ERR_NOMEM;
        goto out;
    }
    info = png_create_info_struct(png);
    if (!info) {
        st = IMG_ERR_NOMEM;
        goto out;
    }
    if (setjmp(png_jmpbuf(png))) {
        codec_seterr(err, errlen, "invalid PNG: %s", rd.msg);
        st = IMG_ERR_INVALID;
        goto out;
    }
    png_set_read_fn(png, &rd, png_read_fn);
    png_set_user_limits(png, max_side, max_side);
    png_set_chunk_malloc_max(png, CODEC_PNG_CHUNK_MAX);
    png_set_chunk_cache_max(png, 128);
    png_read_info(png, info);

    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    st = codec_check_limits(w, h, lim, err, errlen);
    if (st)
        goto out;

    /* Normalise every PNG flavour to 8-bit RGBA. */
    if (depth == 16)
        png_set_scale_16(png);
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    else if (!(ctype & PNG_COLOR_MASK_ALPHA))
        png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
    if (!(ctype & PNG_COLOR_MASK_COLOR))
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 4 || png_get_channels(png, info) != 4 ||
        png_get_bit_depth(png, info) != 8) {
        codec_seterr(err, errlen, "invalid PNG: unexpected pixel layout");
        st = IMG_ERR_INVALID;
        goto out;
    }

    img_rgba tmp = {0};
    if (codec_alloc_rgba(w, h, &tmp) != IMG_OK) {
        st = IMG_ERR_NOMEM;
        goto out;
    }
    pixels = tmp.rgba;
    rows = malloc((size_t)h * sizeof(*rows));
    if (!rows) {
        st = IMG_ERR_NOMEM;
        goto out;
    }
    for (uint32_t y = 0; y < h; y++)
        rows[y] = pixels + (size_t)y * w * 4;
    png_read_image(png, rows);
    /* Reading through IEND is what tells a complete file from a cut one. */
    png_read_end(png, NULL);

    out->width = w;
    out->height = h;
    out->rgba = pixels;
    pixels = NULL;
    st = IMG_OK;
out:
    if (st == IMG_ERR_NOMEM)
        codec_seterr(err, errlen, "out of memory decoding PNG");
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    free(rows);
    free(pixels);
    return st;
}

/* Growable output with a hard cap fixed up front (STYLE.md: no realloc
 * into the void). */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
} png_mem_writer;

static void png_write_fn(png_structp png, png_bytep data, size_t n)
{
    png_mem_writer *w = png_get_io_ptr(png);
    if (n > w->max - w->len)
        png_error(png, "PNG output over its size cap");
    if (n > w->cap - w->len) {
        size_t ncap = w->cap ? w->cap : PNG_ENC_INITIAL;
        while (ncap - w->len < n)
            ncap = ncap > w->max / 2 ? w->max : ncap * 2;
        uint8_t *p = realloc(w->data, ncap);
        if (!p)
            png_error(png, "out of memory");
        w->data = p;
        w->cap = ncap;
    }
    memcpy(w->data + w->len, data, n);
    w->len += n;
}

static void png_flush_fn(png_structp png)
{
    (void)png;
}

img_status img_encode_png(const img_rgba *img, uint8_t **out, size_t *out_len)
{
    png_mem_writer wr = {0};
    png_structp png = NULL;
    png_infop info = NULL;
    png_bytep *volatile rows = NULL;
    volatile img_status st = IMG_ERR_NOMEM;

    if (!out || !out_len)
        return IMG_ERR_INVALID;
    *out = NULL;
    *out_len = 0;
    if (!img || !img->rgba || img->width == 0 || img->height == 0 || img->width > PNG_MAX_SIDE ||
        img->height > PNG_MAX_SIDE)
        return IMG_ERR_INVALID;

    /* Worst case is stored (incompressible) deflate: raw bytes plus a few
     * bytes per 16 KiB block, plus 12 bytes per IDAT chunk. 1/16 more and
     * a fixed margin for headers covers both with room to spare. */
    uint64_t raw = ((uint64_t)img->width * 4 + 1) * img->height;
    uint64_t max = raw + raw / 16 + 4096;
    if (max > SIZE_MAX)
        return IMG_ERR_NOMEM;
    wr.max = (size_t)max;

    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_err_fn, png_warn_fn);
    if (!png)
        goto out;
    info = png_create_info_struct(png);
    if (!info)
        goto out;
    rows = malloc((size_t)img->height * sizeof(*rows));
    if (!rows)
        goto out;
    if (setjmp(png_jmpbuf(png))) {
        st = IMG_ERR_NOMEM;
        goto out;
    }
    png_set_write_fn(png, &wr, png_write_fn, png_flush_fn);
    /* Results are large and go straight to the user: fast deflate. SUB and
     * UP are the cheap filters that still help photos and flat cut-outs. */
    png_set_compression_level(png, 2);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB | PNG_FILTER_UP);
    png_set_IHDR(png, info, img->width, img->height, 8, PNG_COLOR_TYPE_RGB_ALPHA,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    for (uint32_t y = 0; y < img->height; y++)
        rows[y] = img->rgba + (size_t)y * img->width * 4;
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);

    *out = wr.data;
    *out_len = wr.len;
    wr.data = NULL;
    st = IMG_OK;
out:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(rows);
    free(wr.data);
    return st;
}
