/* Image intake and output: format sniffing, header-only dimension reading,
 * capped decoding to RGBA8 (EXIF orientation applied), and encoding.
 *
 * Every function here is pure over memory buffers: no I/O, no globals, safe
 * to call from many threads at once. Ownership: a successful decode or
 * encode hands the caller a malloc'd buffer, freed with img_rgba_free() or
 * free() respectively. On failure nothing is allocated. */
#ifndef CLEANPNG_IMAGE_CODEC_H
#define CLEANPNG_IMAGE_CODEC_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    IMG_FMT_UNKNOWN = 0,
    IMG_FMT_JPEG,
    IMG_FMT_PNG,
    IMG_FMT_WEBP,
    IMG_FMT_GIF,  /* recognised only to be refused by name */
    IMG_FMT_BMP,  /* ditto */
    IMG_FMT_TIFF, /* ditto */
} img_format;

typedef enum {
    IMG_OK = 0,
    IMG_ERR_UNSUPPORTED, /* not JPEG, PNG or WebP (HTTP 415) */
    IMG_ERR_TOO_LARGE,   /* over the pixel or side limits (HTTP 422 image_too_large) */
    IMG_ERR_INVALID,     /* truncated or corrupt (HTTP 422 invalid_image) */
    IMG_ERR_NOMEM,       /* allocation failed (HTTP 500) */
} img_status;

typedef struct {
    uint32_t max_side;   /* e.g. 20000 */
    uint64_t max_pixels; /* e.g. 50000000 */
} img_limits;

/* Tightly packed RGBA, 8 bits per channel, row stride = width * 4. */
typedef struct {
    uint32_t width;
    uint32_t height;
    uint8_t *rgba;
} img_rgba;

typedef struct {
    img_format format;
    uint32_t width; /* as stored, before orientation */
    uint32_t height;
    int orientation; /* EXIF orientation 1..8, 1 when absent */
} img_header;

img_format img_sniff_format(const uint8_t *buf, size_t len);
const char *img_format_name(img_format fmt); /* "jpeg", "png", "webp", "gif", ... */
const char *img_format_mime(img_format fmt); /* "image/jpeg", ... or NULL */

/* Reads format, dimensions and orientation from the header without decoding
 * pixel data. IMG_ERR_UNSUPPORTED for formats other than JPEG/PNG/WebP,
 * IMG_ERR_INVALID when the header cannot be read. Does not apply limits.
 * Orientation comes from the JPEG APP1 Exif segment, the WebP VP8X EXIF
 * chunk or the PNG eXIf chunk. out->format is set even on failure, so a
 * refused GIF can be named. A file cut after its header still passes. */
img_status img_read_header(const uint8_t *buf, size_t len, img_header *out);

/* Checks the header against the limits, then decodes to RGBA with EXIF
 * orientation applied (so out->width/height are the upright dimensions).
 * err (may be NULL) receives a short human-readable reason on failure.
 *
 * lim == NULL means the SPEC defaults (20000 px per side, 50 MP). Nothing
 * is allocated for pixels before the limits pass. A file that ends early
 * is IMG_ERR_INVALID, never a padded image: PNG is read through IEND, JPEG
 * through EOI (and damaged entropy data is refused), WebP must hold all
 * the bytes its RIFF header claims. Animated WebP is IMG_ERR_UNSUPPORTED;
 * an APNG decodes as its default (static) image. Grey, palette, 16-bit and
 * interlaced PNG, and grey, CMYK and progressive JPEG all come out as RGBA. */
img_status img_decode(const uint8_t *buf, size_t len, const img_limits *lim, img_rgba *out,
                      char *err, size_t errlen);

/* Encodes to PNG (RGBA, 8 bit, fast deflate) or lossless WebP (fast
 * preset) in a malloc'd buffer. WebP cannot exceed 16383 px per side:
 * IMG_ERR_TOO_LARGE. IMG_ERR_INVALID for an empty image. */
img_status img_encode_png(const img_rgba *img, uint8_t **out, size_t *out_len);
img_status img_encode_webp(const img_rgba *img, uint8_t **out, size_t *out_len);

void img_rgba_free(img_rgba *img);

#endif
