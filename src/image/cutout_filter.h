/* Image helpers for the cutout engine (private): a parallel loop over rows,
 * box filtering, area downscaling, push-pull hole filling and a distance
 * transform. All work on float planes or interleaved float pixels; all are
 * deterministic whatever the thread count (each output row is computed by
 * exactly one thread from inputs nobody writes). */
#ifndef CLEANPNG_IMAGE_CUTOUT_FILTER_H
#define CLEANPNG_IMAGE_CUTOUT_FILTER_H

#include <stddef.h>
#include <stdint.h>

/* fn(ctx, first, last) handles rows [first, last). */
typedef void (*cf_rows_fn)(void *ctx, int32_t first, int32_t last);

/* Runs fn over [0, n) split into `threads` contiguous ranges. If a thread
 * cannot be started its range runs in the caller, so this cannot fail. */
void cf_parallel_rows(int threads, int32_t n, cf_rows_fn fn, void *ctx);

/* Box mean over a (2r+1)^2 window clipped to the image, of `planes`
 * consecutive w*h float planes in src into dst (may not alias). tmp must hold
 * w*h floats. */
int cf_box_mean(const float *src, float *dst, int planes, int32_t w, int32_t h, int32_t r,
                float *tmp, int threads);

/* Area-average downscale of RGBA8 (alpha ignored) to an interleaved RGB float
 * image in [0,1] of size dw x dh (dw <= sw, dh <= sh). */
void cf_downscale_rgba(const uint8_t *rgba, uint32_t sw, uint32_t sh, float *rgb, int32_t dw,
                       int32_t dh, int threads);

/* Area-average downscale of a byte plane to floats in [0,1]. */
void cf_downscale_plane(const uint8_t *src, uint32_t sw, uint32_t sh, float *dst, int32_t dw,
                        int32_t dh, int threads);

/* Push-pull fill: out (interleaved, `ch` channels) gets val where wt >= 1 and
 * a smooth interpolation of nearby weighted values elsewhere. wt in [0,1].
 * Returns 0, or -1 on allocation failure. When all weights are 0, out is 0. */
int cf_pushpull(const float *val, const float *wt, int ch, int32_t w, int32_t h, float *out);

/* Chessboard distance (in pixels, capped at 255) from each pixel to the
 * nearest pixel whose label differs from its own. */
void cf_label_distance(const uint8_t *label, int32_t w, int32_t h, uint8_t *dist);

#endif
