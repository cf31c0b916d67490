#include "cutout_filter.h"
#include "cutout.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cf_rows_fn fn;
    void *ctx;
    int32_t first, last;
} rows_job;

static void *rows_thread(void *arg)
{
    rows_job *job = arg;
    job->fn(job->ctx, job->first, job->last);
    return NULL;
}

void cf_parallel_rows(int threads, int32_t n, cf_rows_fn fn, void *ctx)
{
    if (threads > CUTOUT_MAX_THREADS)
        threads = CUTOUT_MAX_THREADS;
    if (threads > n)
        threads = n;
    if (threads <= 1 || n < 2) {
        if (n > 0)
            fn(ctx, 0, n);
        return;
    }
    rows_job jobs[CUTOUT_MAX_THREADS];
    pthread_t tid[CUTOUT_MAX_THREADS];
    int started[CUTOUT_MAX_THREADS];
    for (int t = 0; t < threads; t++) {
        jobs[t].fn = fn;
        jobs[t].ctx = ctx;
        jobs[t].first = (int32_t)((int64_t)n * t / threads);
        jobs[t].last = (int32_t)((int64_t)n * (t + 1) / threads);
        /* The caller runs the first range itself. */
        started[t] = t > 0 && pthread_create(&tid[t], NULL, rows_thread, &jobs[t]) == 0;
    }
    for (int t = 0; t < threads; t++)
        if (!started[t])
            fn(ctx, jobs[t].first, jobs[t].last);
    for (int t = 1; t < threads; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
}

/* ---- box filter ---- */

typedef struct {
    const float *src;
    float *dst;
    int32_t w, h, r;
} box_ctx;

static void box_rows(void *arg, int32_t first, int32_t last)
{
    box_ctx *c = arg;
    int32_t w = c->w, r = c->r;
    for (int32_t y = first; y < last; y++) {
        const float *s = c->src + (size_t)y * w;
        float *d = c->dst + (size_t)y * w;
        double acc = 0;
        int32_t lo = 0, hi = 0; /* window [lo, hi) */
        for (int32_t x = 0; x < w; x++) {
            int32_t want_hi = x + r + 1 < w ? x + r + 1 : w;
            int32_t want_lo = x - r > 0 ? x - r : 0;
            while (hi < want_hi)
                acc += s[hi++];
            while (lo < want_lo)
                acc -= s[lo++];
            d[x] = (float)(acc / (hi - lo));
        }
    }
}

/* Vertical pass: each job owns a range of columns and runs one accumulator
 * per column down the image, so rows are read contiguously. */
static void box_cols(void *arg, int32_t first, int32_t last)
{
    box_ctx *c = arg;
    int32_t w = c->w, h = c->h, r = c->r;
    enum { BLOCK = 256 };
    double acc[BLOCK];
    for (int32_t x0 = first; x0 < last; x0 += BLOCK) {
        int32_t nx = last - x0 < BLOCK ? last - x0 : BLOCK;
        memset(acc, 0, sizeof(acc));
        int32_t lo = 0, hi = 0;
        for (int32_t y = 0; y < h; y++) {
            int32_t want_hi = y + r + 1 < h ? y + r + 1 : h;
            int32_t want_lo = y - r > 0 ? y - r : 0;
            while (hi < want_hi) {
                const float *s = c->src + (size_t)hi * w + x0;
                for (int32_t i = 0; i < nx; i++)
                    acc[i] += s[i];
                hi++;
            }
            while (lo < want_lo) {
                const float *s = c->src + (size_t)lo * w + x0;
                for (int32_t i = 0; i < nx; i++)
                    acc[i] -= s[i];
                lo++;
            }
            float *d = c->dst + (size_t)y * w + x0;
            double inv = 1.0 / (hi - lo);
            for (int32_t i = 0; i < nx; i++)
                d[i] = (float)(acc[i] * inv);
        }
    }
}

int cf_box_mean(const float *src, float *dst, int planes, int32_t w, int32_t h, int32_t r,
                float *tmp, int threads)
{
    size_t n = (size_t)w * h;
    for (int p = 0; p < planes; p++) {
        box_ctx hc = {src + p * n, tmp, w, h, r};
        cf_parallel_rows(threads, h, box_rows, &hc);
        box_ctx vc = {tmp, dst + p * n, w, h, r};
        cf_parallel_rows(threads, w, box_cols, &vc);
    }
    return 0;
}

/* ---- area downscale ---- */

typedef struct {
    const uint8_t *src;
    uint32_t sw, sh;
    int channels; /* 4: RGBA source -> 3 floats; 1: plane -> 1 float */
    float *dst;
    int32_t dw, dh;
} down_ctx;

static void down_rows(void *arg, int32_t first, int32_t last)
{
    down_ctx *c = arg;
    for (int32_t y = first; y < last; y++) {
        uint32_t y0 = (uint32_t)((uint64_t)y * c->sh / c->dh);
        uint32_t y1 = (uint32_t)((uint64_t)(y + 1) * c->sh / c->dh);
        if (y1 <= y0)
            y1 = y0 + 1;
        for (int32_t x = 0; x < c->dw; x++) {
            uint32_t x0 = (uint32_t)((uint64_t)x * c->sw / c->dw);
            uint32_t x1 = (uint32_t)((uint64_t)(x + 1) * c->sw / c->dw);
            if (x1 <= x0)
                x1 = x0 + 1;
            uint64_t s[3] = {0, 0, 0};
            for (uint32_t yy = y0; yy < y1; yy++) {
                if (c->channels == 4) {
                    const uint8_t *p = c->src + ((size_t)yy * c->sw + x0) * 4;
                    for (uint32_t xx = x0; xx < x1; xx++, p += 4) {
                        s[0] += p[0];
                        s[1] += p[1];
                        s[2] += p[2];
                    }
                } else {
                    const uint8_t *p = c->src + (size_t)yy * c->sw + x0;
                    for (uint32_t xx = x0; xx < x1; xx++)
                        s[0] += p[xx - x0];
                }
            }
            float inv = 1.0f / (255.0f * (float)((uint64_t)(x1 - x0) * (y1 - y0)));
            if (c->channels == 4) {
                float *d = c->dst + ((size_t)y * c->dw + x) * 3;
                d[0] = (float)s[0] * inv;
                d[1] = (float)s[1] * inv;
                d[2] = (float)s[2] * inv;
            } else {
                c->dst[(size_t)y * c->dw + x] = (float)s[0] * inv;
            }
        }
    }
}

void cf_downscale_rgba(const uint8_t *rgba, uint32_t sw, uint32_t sh, float *rgb, int32_t dw,
                       int32_t dh, int threads)
{
    down_ctx c = {rgba, sw, sh, 4, rgb, dw, dh};
    cf_parallel_rows(threads, dh, down_rows, &c);
}

void cf_downscale_plane(const uint8_t *src, uint32_t sw, uint32_t sh, float *dst, int32_t dw,
                        int32_t dh, int threads)
{
    down_ctx c = {src, sw, sh, 1, dst, dw, dh};
    cf_parallel_rows(threads, dh, down_rows, &c);
}

/* ---- push-pull ---- */

#define PP_MAX_CH 8
#define PP_MAX_LEVELS 32

int cf_pushpull(const float *val, const float *wt, int ch, int32_t w, int32_t h, float *out)
{
    if (ch < 1 || ch > PP_MAX_CH)
        return -1;
    /* Level l stores (ch values premultiplied by weight, weight) per pixel,
     * weight clamped to 1 so one good sample dominates blurrier ones. */
    int32_t lw[PP_MAX_LEVELS], lh[PP_MAX_LEVELS];
    size_t off[PP_MAX_LEVELS], total = 0;
    int levels = 0;
    int32_t cw = w, chh = h;
    for (;;) {
        lw[levels] = cw;
        lh[levels] = chh;
        off[levels] = total;
        total += (size_t)cw * chh * (ch + 1);
        levels++;
        if ((cw == 1 && chh == 1) || levels == PP_MAX_LEVELS)
            break;
        cw = (cw + 1) / 2;
        chh = (chh + 1) / 2;
    }
    float *pyr = malloc(total * sizeof(float));
    if (!pyr)
        return -1;
    int stride = ch + 1;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        float a = wt[i];
        float *p = pyr + i * stride;
        for (int k = 0; k < ch; k++)
            p[k] = val[i * ch + k] * a;
        p[ch] = a;
    }
    /* Push: 2x2 sums, renormalised where the weight exceeds 1. */
    for (int l = 1; l < levels; l++) {
        const float *src = pyr + off[l - 1];
        float *dst = pyr + off[l];
        int32_t sw = lw[l - 1], sh = lh[l - 1];
        for (int32_t y = 0; y < lh[l]; y++)
            for (int32_t x = 0; x < lw[l]; x++) {
                float acc[PP_MAX_CH + 1] = {0};
                for (int32_t dy = 0; dy < 2; dy++)
                    for (int32_t dx = 0; dx < 2; dx++) {
                        int32_t sx = 2 * x + dx, sy = 2 * y + dy;
                        if (sx >= sw || sy >= sh)
                            continue;
                        const float *p = src + ((size_t)sy * sw + sx) * stride;
                        for (int k = 0; k <= ch; k++)
                            acc[k] += p[k];
                    }
                float *d = dst + ((size_t)y * lw[l] + x) * stride;
                float scale = acc[ch] > 1 ? 1 / acc[ch] : 1;
                for (int k = 0; k <= ch; k++)
                    d[k] = acc[k] * scale;
            }
    }
    /* Pull: fill each level's missing weight from the (already filled)
     * coarser level, bilinearly, so the result has no block edges. */
    for (int l = levels - 2; l >= 0; l--) {
        const float *c = pyr + off[l + 1];
        float *f = pyr + off[l];
        int32_t cw2 = lw[l + 1], ch2 = lh[l + 1];
        for (int32_t y = 0; y < lh[l]; y++) {
            float fy = (y + 0.5f) * 0.5f - 0.5f;
            int32_t y0 = fy < 0 ? 0 : (int32_t)fy;
            int32_t y1 = y0 + 1 < ch2 ? y0 + 1 : ch2 - 1;
            float ty = fy - (float)y0;
            if (ty < 0)
                ty = 0;
            for (int32_t x = 0; x < lw[l]; x++) {
                float fx = (x + 0.5f) * 0.5f - 0.5f;
                int32_t x0 = fx < 0 ? 0 : (int32_t)fx;
                int32_t x1 = x0 + 1 < cw2 ? x0 + 1 : cw2 - 1;
                float tx = fx - (float)x0;
                if (tx < 0)
                    tx = 0;
                float *d = f + ((size_t)y * lw[l] + x) * stride;
                float miss = 1 - d[ch];
                if (miss <= 0)
                    continue;
                const float *p00 = c + ((size_t)y0 * cw2 + x0) * stride;
                const float *p01 = c + ((size_t)y0 * cw2 + x1) * stride;
                const float *p10 = c + ((size_t)y1 * cw2 + x0) * stride;
                const float *p11 = c + ((size_t)y1 * cw2 + x1) * stride;
                for (int k = 0; k <= ch; k++) {
                    float v = (p00[k] * (1 - tx) + p01[k] * tx) * (1 - ty) +
                              (p10[k] * (1 - tx) + p11[k] * tx) * ty;
                    d[k] += miss * v;
                }
            }
        }
    }
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const float *p = pyr + i * stride;
        float inv = p[ch] > 1e-12f ? 1 / p[ch] : 0;
        for (int k = 0; k < ch; k++)
            out[i * ch + k] = p[k] * inv;
    }
    free(pyr);
    return 0;
}

/* ---- distance to the other label ---- */

void cf_label_distance(const uint8_t *label, int32_t w, int32_t h, uint8_t *dist)
{
    /* Two-pass chamfer with unit weights (chessboard metric). A pixel next to
     * a different label has distance 1. */
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            int d = 255;
            uint8_t l = label[i];
            for (int32_t dy = -1; dy <= 0; dy++)
                for (int32_t dx = -1; dx <= 1; dx++) {
                    if (dy == 0 && dx >= 0)
                        break;
                    int32_t nx = x + dx, ny = y + dy;
                    if (nx < 0 || nx >= w || ny < 0)
                        continue;
                    size_t j = (size_t)ny * w + nx;
                    int c = label[j] != l ? 1 : dist[j] + 1;
                    if (c < d)
                        d = c;
                }
            dist[i] = (uint8_t)(d > 255 ? 255 : d);
        }
    for (int32_t y = h - 1; y >= 0; y--)
        for (int32_t x = w - 1; x >= 0; x--) {
            size_t i = (size_t)y * w + x;
            int d = dist[i];
            uint8_t l = label[i];
            for (int32_t dy = 0; dy <= 1; dy++)
                for (int32_t dx = -1; dx <= 1; dx++) {
                    if (dy == 0 && dx <= 0)
                        continue;
                    int32_t nx = x + dx, ny = y + dy;
                    if (nx < 0 || nx >= w || ny >= h)
                        continue;
                    size_t j = (size_t)ny * w + nx;
                    int c = label[j] != l ? 1 : dist[j] + 1;
                    if (c < d)
                        d = c;
                }
            dist[i] = (uint8_t)(d > 255 ? 255 : d);
        }
}
