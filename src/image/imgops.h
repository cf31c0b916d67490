/* Pixel operations the removal route applies to an engine's RGBA result,
 * whichever engine produced it: fit to a pixel budget, crop to the subject,
 * fill the background, and validate an upstream engine's PNG.
 *
 * Same rules as codec.h: pure over memory, thread-safe, and every function
 * that returns an img_rgba hands over a fresh malloc'd buffer (free with
 * img_rgba_free) and allocates nothing on failure. Inputs are never
 * modified unless the name says "inplace". */
#ifndef CLEANPNG_IMAGE_IMGOPS_H
#define CLEANPNG_IMAGE_IMGOPS_H

#include "codec.h"

#include <stdbool.h>

/* SPEC.md section 3: size=preview is at most 0.25 megapixels. */
#define IMG_PREVIEW_MAX_PIXELS 250000u

/* Alpha above this counts as subject for the crop box: the faint fringe
 * that matting leaves around a subject should not widen the crop. */
#define IMG_ALPHA_BBOX_THRESHOLD 8

typedef struct {
    uint32_t x, y; /* top-left corner */
    uint32_t w, h; /* size; w == 0 or h == 0 means "empty" */
} img_box;

typedef struct {
    uint8_t r, g, b, a;
} img_color;

/* Per-side margin: each value is pixels, or per cent of the subject's
 * width (left/right) or height (top/bottom) when percent is set. */
typedef struct {
    uint32_t top, right, bottom, left;
    bool percent;
} img_margin;

/* Largest size with the same aspect ratio and at most max_pixels pixels,
 * never larger than (w, h) and never below 1x1. */
void img_fit_dims(uint32_t w, uint32_t h, uint64_t max_pixels, uint32_t *out_w, uint32_t *out_h);

/* Area-averaging resample to exactly dst_w x dst_h, with premultiplied
 * alpha so transparent pixels' colours do not bleed into edges. Meant for
 * downscaling; upscaling works but is blocky. */
img_status img_resize(const img_rgba *src, uint32_t dst_w, uint32_t dst_h, img_rgba *out);

/* img_resize to img_fit_dims(max_pixels); a plain copy when it already fits. */
img_status img_resize_to_fit(const img_rgba *src, uint64_t max_pixels, img_rgba *out);

/* Copies the box out of src. IMG_ERR_INVALID when the box is empty or not
 * inside the image. */
img_status img_crop(const img_rgba *src, img_box box, img_rgba *out);

/* Smallest box holding every pixel with alpha > threshold. Returns false
 * (and an empty box) when there is no such pixel. */
bool img_alpha_bbox(const img_rgba *img, uint8_t threshold, img_box *out);

/* Grows box by the margin on each side, clamped to img_w x img_h. */
img_box img_box_expand(img_box box, const img_margin *m, uint32_t img_w, uint32_t img_h);

/* Parses crop_margin: one, two (vertical horizontal) or four (top right
 * bottom left, CSS order) values separated by spaces or commas, each an
 * integer with optional "px" or all with "%" (no mixing). Limits: px <=
 * IMG_MARGIN_MAX_PX, per cent <= 100. Returns false on anything else. */
#define IMG_MARGIN_MAX_PX 20000u
bool img_margin_parse(const char *s, img_margin *out);

/* Parses a hex colour with or without '#': rgb, rgba, rrggbb, rrggbbaa.
 * Alpha defaults to 255. Returns false on anything else. */
bool img_color_parse(const char *s, img_color *out);

/* Composites img over a solid colour, in place. With bg.a == 255 the result
 * is fully opaque; otherwise it is the "over" operator's result. */
void img_composite_inplace(img_rgba *img, img_color bg);

/* Sets the colour of fully transparent pixels to 0 so they compress well
 * and leak nothing of the original photo. */
void img_clear_transparent_inplace(img_rgba *img);

/* Fully decodes a PNG (e.g. from remove.bg or rembg) with the same limits
 * as user uploads, to check it is real, complete and sane. Width and
 * height (may be NULL) receive its size. IMG_ERR_UNSUPPORTED when the
 * bytes are not a PNG at all. */
img_status img_validate_png(const uint8_t *buf, size_t len, const img_limits *lim, uint32_t *width,
                            uint32_t *height);

#endif
