/* Format dispatch, limits, EXIF orientation and the parts shared by every
 * format. The format specifics live in codec_png.c, codec_jpeg.c and
 * codec_webp.c; imgops.c holds the pixel operations. */
#include "codec_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void codec_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

img_format img_sniff_format(const uint8_t *buf, size_t len)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!buf)
        return IMG_FMT_UNKNOWN;
    if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
        return IMG_FMT_JPEG;
    if (len >= 8 && memcmp(buf, png_sig, 8) == 0)
        return IMG_FMT_PNG;
    if (len >= 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WEBP", 4) == 0)
        return IMG_FMT_WEBP;
    if (len >= 6 && (memcmp(buf, "GIF87a", 6) == 0 || memcmp(buf, "GIF89a", 6) == 0))
        return IMG_FMT_GIF;
    if (len >= 2 && buf[0] == 'B' && buf[1] == 'M')
        return IMG_FMT_BMP;
    if (len >= 4 && (memcmp(buf, "II*\0", 4) == 0 || memcmp(buf, "MM\0*", 4) == 0))
        return IMG_FMT_TIFF;
    return IMG_FMT_UNKNOWN;
}

const char *img_format_name(img_format fmt)
{
    switch (fmt) {
    case IMG_FMT_JPEG:
        return "jpeg";
    case IMG_FMT_PNG:
        return "png";
    case IMG_FMT_WEBP:
        return "webp";
    case IMG_FMT_GIF:
        return "gif";
    case IMG_FMT_BMP:
        return "bmp";
    case IMG_FMT_TIFF:
        return "tiff";
    case IMG_FMT_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *img_format_mime(img_format fmt)
{
    switch (fmt) {
    case IMG_FMT_JPEG:
        return "image/jpeg";
    case IMG_FMT_PNG:
        return "image/png";
    case IMG_FMT_WEBP:
        return "image/webp";
    case IMG_FMT_GIF:
        return "image/gif";
    case IMG_FMT_BMP:
        return "image/bmp";
    case IMG_FMT_TIFF:
        return "image/tiff";
    case IMG_FMT_UNKNOWN:
        break;
    }
    return NULL;
}

img_status img_read_header(const uint8_t *buf, size_t len, img_header *out)
{
    if (!out)
        return IMG_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    out->orientation = 1;
    out->format = img_sniff_format(buf, len);
    switch (out->format) {
    case IMG_FMT_PNG:
        return codec_png_header(buf, len, out);
    case IMG_FMT_JPEG:
        return codec_jpeg_header(buf, len, out);
    case IMG_FMT_WEBP:
        return codec_webp_header(buf, len, out);
    default:
        return IMG_ERR_UNSUPPORTED;
    }
}

img_status codec_check_limits(uint32_t w, uint32_t h, const img_limits *lim, char *err,
                              size_t errlen)
{
    uint32_t max_side = lim ? lim->max_side : CODEC_DEFAULT_MAX_SIDE;
    uint64_t max_pixels = lim ? lim->max_pixels : CODEC_DEFAULT_MAX_PIXELS;
    if (w == 0 || h == 0) {
        codec_seterr(err, errlen, "image has a zero dimension");
        return IMG_ERR_INVALID;
    }
    if (w > max_side || h > max_side) {
        codec_seterr(err, errlen, "image is %ux%u; at most %u px per side are accepted", w, h,
                     max_side);
        return IMG_ERR_TOO_LARGE;
    }
    if ((uint64_t)w * h > max_pixels) {
        codec_seterr(err, errlen, "image is %ux%u (%llu pixels); at most %llu are accepted", w, h,
                     (unsigned long long)w * h, (unsigned long long)max_pixels);
        return IMG_ERR_TOO_LARGE;
    }
    return IMG_OK;
}

img_status codec_alloc_rgba(uint32_t w, uint32_t h, img_rgba *out)
{
    uint64_t n = (uint64_t)w * h * 4;
    if (w == 0 || h == 0 || n > SIZE_MAX)
        return IMG_ERR_NOMEM;
    out->rgba = malloc((size_t)n);
    if (!out->rgba)
        return IMG_ERR_NOMEM;
    out->width = w;
    out->height = h;
    return IMG_OK;
}

/* In place: swap pixel a and b (4 bytes each). */
static void px_swap(uint8_t *a, uint8_t *b)
{
    uint8_t t[4];
    memcpy(t, a, 4);
    memcpy(a, b, 4);
    memcpy(b, t, 4);
}

img_status codec_apply_orientation(img_rgba *img, int o)
{
    const uint32_t sw = img->width, sh = img->height;
    const size_t stride = (size_t)sw * 4;
    uint8_t *s = img->rgba;

    if (o < 2 || o > 8)
        return IMG_OK;
    if (o <= 4) {
        /* Flips and the half turn keep the dimensions: do them in place. */
        if (o == 2 || o == 3) {
            for (uint32_t y = 0; y < sh; y++) {
                uint8_t *row = s + y * stride;
                for (uint32_t x = 0; x < sw / 2; x++)
                    px_swap(row + (size_t)x * 4, row + (size_t)(sw - 1 - x) * 4);
            }
        }
        if (o == 3 || o == 4) {
            for (uint32_t y = 0; y < sh / 2; y++) {
                uint8_t *a = s + y * stride, *b = s + (size_t)(sh - 1 - y) * stride;
                for (size_t i = 0; i < stride; i++) {
                    uint8_t t = a[i];
                    a[i] = b[i];
                    b[i] = t;
                }
            }
        }
        return IMG_OK;
    }

    /* 5..8 swap width and height; a transposed copy is the simple way. */
    img_rgba d = {0};
    if (codec_alloc_rgba(sh, sw, &d) != IMG_OK)
        return IMG_ERR_NOMEM;
    const uint32_t dw = sh, dh = sw;
    for (uint32_t y = 0; y < dh; y++) {
        uint8_t *drow = d.rgba + (size_t)y * dw * 4;
        for (uint32_t x = 0; x < dw; x++) {
            uint32_t sx, sy;
            switch (o) {
            case 5: /* transpose */
                sx = y;
                sy = x;
                break;
            case 6: /* stored rotated 90 ccw: turn clockwise */
                sx = y;
                sy = sh - 1 - x;
                break;
            case 7: /* transverse */
                sx = sw - 1 - y;
                sy = sh - 1 - x;
                break;
            default: /* 8: stored rotated 90 cw: turn counter-clockwise */
                sx = sw - 1 - y;
                sy = x;
                break;
            }
            memcpy(drow + (size_t)x * 4, s + (size_t)sy * stride + (size_t)sx * 4, 4);
        }
    }
    free(img->rgba);
    *img = d;
    return IMG_OK;
}

img_status img_decode(const uint8_t *buf, size_t len, const img_limits *lim, img_rgba *out,
                      char *err, size_t errlen)
{
    img_header hdr;
    img_status st;

    if (!out)
        return IMG_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    codec_seterr(err, errlen, "ok");

    st = img_read_header(buf, len, &hdr);
    if (st == IMG_ERR_UNSUPPORTED) {
        if (hdr.format == IMG_FMT_UNKNOWN)
            codec_seterr(err, errlen, "not an image this service reads (JPEG, PNG or WebP)");
        else
            codec_seterr(err, errlen, "%s images are not supported; send JPEG, PNG or WebP",
                         img_format_name(hdr.format));
        goto out;
    }
    if (st) {
        codec_seterr(err, errlen, "cannot read the %s header", img_format_name(hdr.format));
        goto out;
    }
    /* Limits come before any pixel buffer or decoder state is allocated. */
    st = codec_check_limits(hdr.width, hdr.height, lim, err, errlen);
    if (st)
        goto out;

    switch (hdr.format) {
    case IMG_FMT_PNG:
        st = codec_png_decode(buf, len, lim, out, err, errlen);
        break;
    case IMG_FMT_JPEG:
        st = codec_jpeg_decode(buf, len, lim, out, err, errlen);
        break;
    default:
        st = codec_webp_decode(buf, len, lim, out, err, errlen);
        break;
    }
    if (st)
        goto out;
    /* The decoder reads its own headers; disagreeing with ours means a
     * file crafted to pass one check and fail another. */
    if (out->width != hdr.width || out->height != hdr.height) {
        codec_seterr(err, errlen, "inconsistent image dimensions");
        st = IMG_ERR_INVALID;
        goto out;
    }
    st = codec_apply_orientation(out, hdr.orientation);
    if (st)
        codec_seterr(err, errlen, "out of memory");

out:
    if (st)
        img_rgba_free(out);
    return st;
}

void img_rgba_free(img_rgba *img)
{
    if (!img)
        return;
    free(img->rgba);
    img->rgba = NULL;
    img->width = img->height = 0;
}
