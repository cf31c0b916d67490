/* Built-in background removal ("local" engine): classical computer vision,
 * no neural-network weights, no network.
 *
 * Pipeline (see docs/engine.md): downscale to a working copy, model the
 * background from the image border and the foreground from what the border
 * cannot explain, segment with an iterated graph cut over colour mixtures
 * (GrabCut without user strokes), then turn the hard edge into a soft matte at
 * full resolution (guided upsampling plus local colour matting in a narrow
 * band around the boundary).
 *
 * Contracts:
 *  - Pure over memory: no I/O, no globals mutated, safe to call from many
 *    threads at once. With opts->threads > 1 the call itself starts and joins
 *    that many worker threads; results are identical for any thread count.
 *  - Memory: besides the caller's pixels and the returned matte
 *    (width*height bytes), the work is done on a copy of at most
 *    opts->max_work_pixels pixels and costs at most about
 *    CUTOUT_BYTES_PER_WORK_PIXEL bytes per working pixel (peak in the
 *    matting step; the graph cut needs ~190), i.e. ≈ 45 MB at the default
 *    160 000 working pixels whatever the input size, plus 12 bytes per
 *    column and row of the input. cutout_apply works in place and needs at
 *    most CUTOUT_APPLY_MAX_WORK_PIXELS * 80 bytes of scratch (20 MB).
 *  - Sizes: each side must be 1..CUTOUT_MAX_SIDE and the total at most
 *    CUTOUT_MAX_PIXELS, otherwise CUTOUT_ERR_INVALID. */
#ifndef CLEANPNG_IMAGE_CUTOUT_H
#define CLEANPNG_IMAGE_CUTOUT_H

#include <stddef.h>
#include <stdint.h>

#define CUTOUT_MAX_SIDE 65535u
#define CUTOUT_MAX_PIXELS 100000000u /* 100 MP; the HTTP limits are lower */
#define CUTOUT_MAX_THREADS 64
#define CUTOUT_DEFAULT_WORK_PIXELS 160000u
#define CUTOUT_MIN_WORK_PIXELS 4096u
#define CUTOUT_MAX_WORK_PIXELS 4000000u
#define CUTOUT_BYTES_PER_WORK_PIXEL 280u
#define CUTOUT_APPLY_MAX_WORK_PIXELS 250000u

typedef enum {
    CUTOUT_OK = 0,
    CUTOUT_ERR_INVALID = 1, /* NULL pointer, zero or oversized dimensions */
    CUTOUT_ERR_NOMEM = 2,   /* an allocation failed; nothing is returned */
} cutout_status;

/* Warning flags in cutout_result.flags; the matte is still returned. */
enum {
    CUTOUT_WARN_LOW_CONFIDENCE = 1u << 0, /* confidence < CUTOUT_LOW_CONFIDENCE */
    CUTOUT_WARN_EMPTY = 1u << 1,          /* no foreground found: matte is all 0 */
    CUTOUT_WARN_FULL = 1u << 2,           /* (nearly) everything is foreground */
    CUTOUT_WARN_TOUCHES_EDGE = 1u << 3,   /* subject reaches the border: the
                                             border colour model is less sure */
};

#define CUTOUT_LOW_CONFIDENCE 0.5f

typedef struct {
    int threads;              /* worker threads, 1..CUTOUT_MAX_THREADS; <= 0 means 1 */
    uint32_t max_work_pixels; /* size of the working copy; 0 means default;
                                 clamped to [CUTOUT_MIN_WORK_PIXELS,
                                 CUTOUT_MAX_WORK_PIXELS] */
    int iterations;           /* graph-cut iterations, 1..10; 0 means default (4) */
} cutout_options;

typedef struct {
    uint8_t *alpha; /* width*height bytes, 0 = background, 255 = subject; free() it */
    uint32_t width;
    uint32_t height;
    /* Bounding box of the subject (alpha >= 16), half-open: x0 <= x < x1.
     * All zero when the matte is empty. */
    uint32_t crop_x0, crop_y0, crop_x1, crop_y1;
    float confidence; /* 0..1, how much the engine believes its own answer */
    unsigned flags;   /* CUTOUT_WARN_* */
} cutout_result;

/* Fills *opts with the defaults (threads 1, default working size). */
void cutout_options_default(cutout_options *opts);

/* Finds the subject of an RGBA8 image (stride = width*4; the input alpha is
 * ignored) and returns its matte in *out. opts may be NULL for defaults.
 * On CUTOUT_OK the caller owns out->alpha; on error *out is zeroed and
 * nothing is allocated. */
cutout_status cutout_compute(const uint8_t *rgba, uint32_t width, uint32_t height,
                             const cutout_options *opts, cutout_result *out);

/* Writes the matte into rgba's alpha channel and removes the old background's
 * colour from semi-transparent edge pixels (solves I = aF + (1-a)B for F with
 * a locally estimated B), so the cut-out shows no halo on a new background.
 * Fully transparent pixels get RGB 0. */
cutout_status cutout_apply(uint8_t *rgba, uint32_t width, uint32_t height, const uint8_t *alpha,
                           int threads);

/* "none", or the warning names joined by ',' (e.g. "low_confidence,empty")
 * written into buf; returns buf. */
const char *cutout_flags_str(unsigned flags, char *buf, size_t len);

void cutout_result_free(cutout_result *res);

#endif
