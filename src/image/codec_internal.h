/* Shared between the codec_*.c files only; not part of the public API. */
#ifndef CLEANPNG_IMAGE_CODEC_INTERNAL_H
#define CLEANPNG_IMAGE_CODEC_INTERNAL_H

#include "codec.h"

#include <stdarg.h>

/* Defaults used when a caller passes lim == NULL (SPEC.md section 3). */
#define CODEC_DEFAULT_MAX_SIDE 20000u
#define CODEC_DEFAULT_MAX_PIXELS 50000000u

/* Cap for any single ancillary PNG chunk (iCCP, text, eXIf...) and its
 * decompressed form: a photo never needs more, a bomb always does. */
#define CODEC_PNG_CHUNK_MAX (8u * 1024 * 1024)
/* Progressive JPEGs with thousands of scans cost minutes of CPU for one
 * small file; real encoders emit about ten. */
#define CODEC_JPEG_MAX_SCANS 500

void codec_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* IMG_ERR_INVALID for a zero side, IMG_ERR_TOO_LARGE over the limits. */
img_status codec_check_limits(uint32_t w, uint32_t h, const img_limits *lim, char *err,
                              size_t errlen);

/* Allocates w*h*4 bytes (overflow-checked) into out; IMG_ERR_NOMEM on failure. */
img_status codec_alloc_rgba(uint32_t w, uint32_t h, img_rgba *out);

/* Rotates/flips img so that an image stored with EXIF orientation o
 * (1..8) becomes upright. May replace img->rgba; on failure img is intact. */
img_status codec_apply_orientation(img_rgba *img, int orientation);

/* Format decoders: header dims already checked against lim; out is zeroed
 * on entry and left zeroed on failure. */
img_status codec_png_decode(const uint8_t *buf, size_t len, const img_limits *lim, img_rgba *out,
                            char *err, size_t errlen);
img_status codec_jpeg_decode(const uint8_t *buf, size_t len, const img_limits *lim, img_rgba *out,
                             char *err, size_t errlen);
img_status codec_webp_decode(const uint8_t *buf, size_t len, const img_limits *lim, img_rgba *out,
                             char *err, size_t errlen);

/* Header parsers; buf is known to carry the format's magic. */
img_status codec_png_header(const uint8_t *buf, size_t len, img_header *out);
img_status codec_jpeg_header(const uint8_t *buf, size_t len, img_header *out);
img_status codec_webp_header(const uint8_t *buf, size_t len, img_header *out);

#endif
