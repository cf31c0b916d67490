/* Built-in background removal: the pipeline. See cutout.h for the contract
 * and docs/engine.md for why each step is there.
 *
 *   full-res RGBA --area downscale--> working RGB (<= max_work_pixels)
 *   border band -> background GMM;  pixels it cannot explain -> foreground GMM
 *   repeat: unaries from both GMMs + contrast-weighted 8-neighbour n-links
 *           -> BK min cut -> refit the GMMs on the new labels
 *   clean-up (specks, pin-holes) -> confidence + warnings
 *   soft matte: colour guided filter coefficients and local F/B colours at
 *   working resolution, evaluated per full-res pixel (guided upsampling);
 *   inside a narrow band around the cut, alpha also comes from projecting the
 *   pixel onto the line between its local F and B colours. */
#include "cutout.h"
#include "cutout_filter.h"
#include "cutout_gmm.h"
#include "cutout_maxflow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GMM_COMPONENTS 5
#define GMM_SAMPLE_MAX 40000 /* colours used to fit one GMM */
#define DEFAULT_ITERATIONS 4
#define MAX_ITERATIONS 10
#define SMOOTHNESS 50.0f /* GrabCut's gamma */
#define UNARY_CAP 60.0f  /* keeps one pixel's colour from outvoting its neighbours */
#define HARD_CAP 1.0e4f  /* "infinite" terminal capacity for seeds */
#ifndef REFINE_BAND
#define REFINE_BAND 8 /* working pixels either side of the cut re-solved after round 1 */
#endif
#define SALIENT_MARGIN 3.0f   /* nats above the border's own worst fit */
#define SPECK_FRACTION 0.0005 /* components smaller than this share of the image are noise */
#define EMPTY_FRACTION 0.0005 /* below this, the result is "empty" */
#define FULL_FRACTION 0.985   /* above this, the result is "full" */
#define GF_EPS 1.0e-3f        /* guided filter regulariser (colour variance units) */
#define MAP_CH 14             /* channels of the per-working-pixel matting map */

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static float smoothstep(float e0, float e1, float x)
{
    float t = clampf((x - e0) / (e1 - e0), 0, 1);
    return t * t * (3 - 2 * t);
}

void cutout_options_default(cutout_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->threads = 1;
    opts->max_work_pixels = CUTOUT_DEFAULT_WORK_PIXELS;
    opts->iterations = DEFAULT_ITERATIONS;
}

void cutout_result_free(cutout_result *res)
{
    if (!res)
        return;
    free(res->alpha);
    memset(res, 0, sizeof(*res));
}

const char *cutout_flags_str(unsigned flags, char *buf, size_t len)
{
    static const struct {
        unsigned flag;
        const char *name;
    } names[] = {{CUTOUT_WARN_LOW_CONFIDENCE, "low_confidence"},
                 {CUTOUT_WARN_EMPTY, "empty"},
                 {CUTOUT_WARN_FULL, "full"},
                 {CUTOUT_WARN_TOUCHES_EDGE, "touches_edge"}};
    if (!buf || len == 0)
        return buf;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(flags & names[i].flag))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i].name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(buf, len, "none");
    return buf;
}

/* Working size: at most max_pixels, aspect kept, each side >= 1. */
static void work_size(uint32_t w, uint32_t h, uint32_t max_pixels, int32_t *ww, int32_t *wh)
{
    uint64_t n = (uint64_t)w * h;
    if (n <= max_pixels) {
        *ww = (int32_t)w;
        *wh = (int32_t)h;
        return;
    }
    double s = sqrt((double)max_pixels / (double)n);
    int32_t y = (int32_t)(h * s);
    if (y < 1)
        y = 1;
    int32_t x = (int32_t)(max_pixels / (uint32_t)y);
    if ((uint32_t)x > w)
        x = (int32_t)w;
    if (x < 1)
        x = 1;
    *ww = x;
    *wh = y;
}

/* ------------------------------------------------------------------ */
/* Segmentation at working resolution                                  */

#define TEX_BINS 32
#define TEX_RADIUS 3        /* quadrant windows are (TEX_RADIUS+1)^2 pixels */
#define TEX_LOG_MIN -13.8f  /* ln 1e-6: below sensor noise */
#define TEX_FLOOR 0.03f     /* share of a texture histogram spread evenly */
#define TEX_SMOOTH_BIN 9    /* bin of a smooth area with 1 % sensor noise at full size */
#define TEX_WEIGHT_MAX 3.0f /* texture nats per histogram nat on a grainy backdrop */

typedef struct {
    int threads;
    int32_t w, h;
    size_t n;
    const float *rgb;  /* smoothed: colour models and unaries */
    const float *edge; /* unsmoothed: n-links, so the cut follows true edges */
    float *dfg, *dbg;  /* unary costs (negative log-likelihoods) */
    float *nlw;        /* 4 n-link weights per pixel: right, down, down-right, down-left */
    uint8_t *label;    /* 1 = foreground */
    uint8_t *hard_bg;  /* 1 = constrained to background */
    uint8_t *border;   /* 1 = inside the border band */
    double *row_sum;   /* per-row partial sums (deterministic reductions) */
    float beta;
    gmm_model fg, bg;
    double poly[3][6];                        /* smooth background field, see fit_poly() */
    gmm_model poly_model;                     /* residuals from that field */
    float poly_weight;                        /* its share of the background mixture, 0 = unused */
    float *dpoly;                             /* per pixel: cost of the residual under poly_model */
    uint8_t *tex;                             /* per pixel: fine-texture bin, see texture_bins() */
    float tex_fg[TEX_BINS], tex_bg[TEX_BINS]; /* per bin: -log p(bin | label) */
    int tex_on;                               /* 1 once tex_bg has been fitted */
    float tex_weight;                         /* see texture_weight() */
} seg_ctx;

/* Capacities are whole multiples of 1/CAP_SCALE nats, held as integers in
 * floats (exact below 2^24): min-cut arithmetic then never leaves residues
 * like 1e-7 that BK would chase through thousands of useless augmentations. */
#define CAP_SCALE 16.0f
static float quantize(float v)
{
    return roundf(v * CAP_SCALE);
}

static float sqdiff(const float *a, const float *b)
{
    float d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
    return d0 * d0 + d1 * d1 + d2 * d2;
}

static void beta_rows(void *arg, int32_t first, int32_t last)
{
    seg_ctx *s = arg;
    for (int32_t y = first; y < last; y++) {
        double acc = 0;
        for (int32_t x = 0; x < s->w; x++) {
            const float *c = s->edge + ((size_t)y * s->w + x) * 3;
            if (x + 1 < s->w)
                acc += sqdiff(c, c + 3);
            if (y + 1 < s->h) {
                const float *d = c + (size_t)s->w * 3;
                acc += sqdiff(c, d);
                if (x + 1 < s->w)
                    acc += sqdiff(c, d + 3);
                if (x > 0)
                    acc += sqdiff(c, d - 3);
            }
        }
        s->row_sum[y] = acc;
    }
}

static void nlink_rows(void *arg, int32_t first, int32_t last)
{
    seg_ctx *s = arg;
    const float diag = SMOOTHNESS / 1.41421356f;
    for (int32_t y = first; y < last; y++)
        for (int32_t x = 0; x < s->w; x++) {
            size_t i = (size_t)y * s->w + x;
            const float *c = s->edge + i * 3;
            float *o = s->nlw + i * 4;
            o[0] = o[1] = o[2] = o[3] = 0;
            if (x + 1 < s->w)
                o[0] = SMOOTHNESS * expf(-s->beta * sqdiff(c, c + 3));
            if (y + 1 < s->h) {
                const float *d = c + (size_t)s->w * 3;
                o[1] = SMOOTHNESS * expf(-s->beta * sqdiff(c, d));
                if (x + 1 < s->w)
                    o[2] = diag * expf(-s->beta * sqdiff(c, d + 3));
                if (x > 0)
                    o[3] = diag * expf(-s->beta * sqdiff(c, d - 3));
            }
        }
}

/* Smooth background field: colour = quadratic polynomial in (u, v), the
 * position scaled to [-0.5, 0.5]. Fitted on the border, it extends
 * gradients and vignettes into the interior, which a colour model alone
 * would call "unlike the border" and hence foreground. */
#define POLY_TERMS 6
static void poly_basis(const seg_ctx *s, size_t i, double b[POLY_TERMS])
{
    double u = ((double)(i % (size_t)s->w) + 0.5) / s->w - 0.5;
    double v = ((double)(i / (size_t)s->w) + 0.5) / s->h - 0.5;
    b[0] = 1;
    b[1] = u;
    b[2] = v;
    b[3] = u * u;
    b[4] = u * v;
    b[5] = v * v;
}

static void poly_residual(const seg_ctx *s, size_t i, float r[3])
{
    double b[POLY_TERMS];
    poly_basis(s, i, b);
    for (int c = 0; c < 3; c++) {
        double p = 0;
        for (int t = 0; t < POLY_TERMS; t++)
            p += s->poly[c][t] * b[t];
        r[c] = s->rgb[i * 3 + c] - (float)p;
    }
}

/* Background cost: a mixture of the colour GMM and the smooth field. */
static float bg_nll(const seg_ctx *s, size_t i)
{
    float dg = gmm_nll(&s->bg, s->rgb + i * 3);
    if (s->poly_weight <= 0)
        return dg;
    float a = dg - logf(1 - s->poly_weight);
    float b = s->dpoly[i] - logf(s->poly_weight);
    float lo = a < b ? a : b, diff = fabsf(a - b);
    return lo - logf(1 + expf(-diff));
}

static void unary_rows(void *arg, int32_t first, int32_t last)
{
    seg_ctx *s = arg;
    for (size_t i = (size_t)first * s->w; i < (size_t)last * s->w; i++) {
        s->dfg[i] = gmm_nll(&s->fg, s->rgb + i * 3);
        s->dbg[i] = bg_nll(s, i);
        if (s->tex_on) {
            s->dfg[i] += s->tex_weight * s->tex_fg[s->tex[i]];
            s->dbg[i] += s->tex_weight * s->tex_bg[s->tex[i]];
        }
    }
}

/* Fine texture: the energy of the unsmoothed image minus its 3x3 mean (grain,
 * not blotches or gradients), averaged over the least textured of the four
 * (TEX_RADIUS+1)^2 windows that have the pixel as a corner, so an edge does
 * not make its smooth neighbours look textured. Quantised on a log scale
 * into TEX_BINS bins. A smooth subject on grainy noise or grass differs from
 * it here even when its colours lie inside the backdrop's. */
static int texture_bins(seg_ctx *s, float *tmp)
{
    int32_t w = s->w, h = s->h;
    size_t n = s->n;
    float *planes = malloc(n * 3 * sizeof(float));
    float *mean = malloc(n * 3 * sizeof(float));
    double *sat = malloc((size_t)(w + 1) * (h + 1) * sizeof(double));
    if (!planes || !mean || !sat) {
        free(planes);
        free(mean);
        free(sat);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            planes[c * n + i] = s->edge[i * 3 + c];
    cf_box_mean(planes, mean, 3, w, h, 1, tmp, s->threads);
    /* Summed-area table of the high-pass energy. */
    size_t sw = (size_t)w + 1;
    memset(sat, 0, sw * sizeof(double));
    for (int32_t y = 0; y < h; y++) {
        double row = 0;
        sat[(size_t)(y + 1) * sw] = 0;
        for (int32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            double e = 0;
            for (int c = 0; c < 3; c++) {
                double d = planes[c * n + i] - mean[c * n + i];
                e += d * d;
            }
            row += e;
            sat[(size_t)(y + 1) * sw + x + 1] = sat[(size_t)y * sw + x + 1] + row;
        }
    }
    const int32_t r = TEX_RADIUS;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            double best = 1e30;
            for (int q = 0; q < 4; q++) {
                int32_t x0 = q & 1 ? x : x - r, y0 = q & 2 ? y : y - r;
                int32_t x1 = x0 + r + 1, y1 = y0 + r + 1;
                x0 = x0 < 0 ? 0 : x0;
                y0 = y0 < 0 ? 0 : y0;
                x1 = x1 > w ? w : x1;
                y1 = y1 > h ? h : y1;
                double sum = sat[(size_t)y1 * sw + x1] - sat[(size_t)y0 * sw + x1] -
                             sat[(size_t)y1 * sw + x0] + sat[(size_t)y0 * sw + x0];
                double v = sum / ((double)(x1 - x0) * (y1 - y0));
                if (v < best)
                    best = v;
            }
            float t = logf((float)best + 1e-6f);
            int b = (int)((t - TEX_LOG_MIN) * (TEX_BINS / -TEX_LOG_MIN));
            s->tex[(size_t)y * w + x] = (uint8_t)(b < 0 ? 0 : b >= TEX_BINS ? TEX_BINS - 1 : b);
        }
    free(planes);
    free(mean);
    free(sat);
    return 0;
}

/* -log of the smoothed texture histogram of the pixels with sel[i] == want. */
static void fit_texture(const seg_ctx *s, const uint8_t *sel, uint8_t want, float *nll)
{
    double hist[TEX_BINS] = {0}, tmp[TEX_BINS];
    double count = 0;
    for (size_t i = 0; i < s->n; i++)
        if (sel[i] == want) {
            hist[s->tex[i]] += 1;
            count += 1;
        }
    for (int pass = 0; pass < 2; pass++) {
        for (int b = 0; b < TEX_BINS; b++) {
            double l = hist[b > 0 ? b - 1 : b], r = hist[b + 1 < TEX_BINS ? b + 1 : b];
            tmp[b] = 0.25 * l + 0.5 * hist[b] + 0.25 * r;
        }
        memcpy(hist, tmp, sizeof(hist));
    }
    for (int b = 0; b < TEX_BINS; b++) {
        double p = (count > 0 ? (1 - TEX_FLOOR) * hist[b] / count : 0) + TEX_FLOOR / TEX_BINS;
        nll[b] = (float)-log(p);
    }
}

/* Side of the border band a pixel belongs to, as a bit set (corners are on
 * two sides): 1 top, 2 bottom, 4 left, 8 right. */
static unsigned band_sides(int32_t x, int32_t y, int32_t w, int32_t h, int32_t bw)
{
    return (y < bw ? 1u : 0u) | (y >= h - bw ? 2u : 0u) | (x < bw ? 4u : 0u) |
           (x >= w - bw ? 8u : 0u);
}

/* How much to trust texture: fully when nearly all (95 %) of the border is
 * grainier than sensor noise (noise, grass, gravel backdrops), not at all
 * when a good part of it is smooth (plain or graded backdrops, where colour
 * suffices, and photographs, whose texture varies from place to place and
 * says little about what is subject). Judged per side, taking the middle
 * two of the four, so a smooth subject touching one side does not count. */
static float texture_weight(const seg_ctx *s, int32_t bw)
{
    uint32_t hist[4][TEX_BINS];
    uint32_t total[4] = {0};
    memset(hist, 0, sizeof(hist));
    for (int32_t y = 0; y < s->h; y++)
        for (int32_t x = 0; x < s->w; x++) {
            size_t i = (size_t)y * s->w + x;
            if (!s->border[i])
                continue;
            unsigned sides = band_sides(x, y, s->w, s->h, bw);
            for (int side = 0; side < 4; side++)
                if (sides & (1u << side)) {
                    hist[side][s->tex[i]]++;
                    total[side]++;
                }
        }
    int q05[4];
    for (int side = 0; side < 4; side++) {
        uint32_t acc = 0;
        q05[side] = 0;
        for (int b = 0; b < TEX_BINS; b++) {
            acc += hist[side][b];
            if ((uint64_t)acc * 20 >= total[side]) {
                q05[side] = b;
                break;
            }
        }
    }
    for (int i = 1; i < 4; i++) /* insertion sort */
        for (int j = i; j > 0 && q05[j - 1] > q05[j]; j--) {
            int t = q05[j];
            q05[j] = q05[j - 1];
            q05[j - 1] = t;
        }
    float q = 0.5f * (float)(q05[1] + q05[2]);
    return TEX_WEIGHT_MAX * smoothstep(TEX_SMOOTH_BIN + 0.5f, TEX_SMOOTH_BIN + 4.5f, q);
}

/* Least-squares fit of the field to the border (border == 1) pixels, its
 * residual Gaussian, and the field's share of the background mixture from a
 * few EM steps: near 1 for flat and gradient backdrops, small for textures. */
static void fit_poly(seg_ctx *s, float *sample, uint8_t *scratch)
{
    double ata[POLY_TERMS][POLY_TERMS + 3];
    memset(ata, 0, sizeof(ata));
    s->poly_weight = 0;
    size_t count = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->border[i] != 1)
            continue;
        double b[POLY_TERMS];
        poly_basis(s, i, b);
        for (int r = 0; r < POLY_TERMS; r++) {
            for (int c = 0; c < POLY_TERMS; c++)
                ata[r][c] += b[r] * b[c];
            for (int c = 0; c < 3; c++)
                ata[r][POLY_TERMS + c] += b[r] * s->rgb[i * 3 + c];
        }
        count++;
    }
    if (count < 4 * POLY_TERMS)
        return;
    /* Gauss-Jordan with partial pivoting and a tiny ridge. */
    for (int r = 0; r < POLY_TERMS; r++)
        ata[r][r] += 1e-9 * count;
    for (int col = 0; col < POLY_TERMS; col++) {
        int piv = col;
        for (int r = col + 1; r < POLY_TERMS; r++)
            if (fabs(ata[r][col]) > fabs(ata[piv][col]))
                piv = r;
        if (fabs(ata[piv][col]) < 1e-12)
            return;
        for (int c = 0; c < POLY_TERMS + 3; c++) {
            double t = ata[col][c];
            ata[col][c] = ata[piv][c];
            ata[piv][c] = t;
        }
        for (int r = 0; r < POLY_TERMS; r++) {
            if (r == col)
                continue;
            double f = ata[r][col] / ata[col][col];
            for (int c = col; c < POLY_TERMS + 3; c++)
                ata[r][c] -= f * ata[col][c];
        }
    }
    for (int c = 0; c < 3; c++)
        for (int t = 0; t < POLY_TERMS; t++)
            s->poly[c][t] = ata[t][POLY_TERMS + c] / ata[t][t];

    size_t stride = (count + GMM_SAMPLE_MAX - 1) / GMM_SAMPLE_MAX, k = 0, m = 0;
    for (size_t i = 0; i < s->n && m < GMM_SAMPLE_MAX; i++)
        if (s->border[i] == 1 && k++ % stride == 0)
            poly_residual(s, i, sample + 3 * m++);
    if (gmm_fit(&s->poly_model, sample, m, 1, scratch) != 0)
        return;
    float w = 0.5f;
    for (int step = 0; step < 5; step++) {
        double resp = 0;
        size_t used = 0;
        k = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (s->border[i] != 1 || k++ % stride != 0)
                continue;
            float r[3];
            poly_residual(s, i, r);
            float dp = gmm_nll(&s->poly_model, r) - logf(w);
            float dg = gmm_nll(&s->bg, s->rgb + i * 3) - logf(1 - w);
            resp += 1.0 / (1.0 + exp((double)dp - dg));
            used++;
        }
        w = clampf((float)(resp / (double)(used ? used : 1)), 0.02f, 0.98f);
    }
    s->poly_weight = w;
    for (size_t i = 0; i < s->n; i++) {
        float r[3];
        poly_residual(s, i, r);
        s->dpoly[i] = gmm_nll(&s->poly_model, r);
    }
}

/* Copies up to GMM_SAMPLE_MAX colours of pixels with sel[i] == want into
 * sample, evenly spaced over the image. Returns the count. */
static size_t gather(const seg_ctx *s, const uint8_t *sel, uint8_t want, float *sample)
{
    size_t count = 0;
    for (size_t i = 0; i < s->n; i++)
        count += sel[i] == want;
    if (count == 0)
        return 0;
    size_t stride = (count + GMM_SAMPLE_MAX - 1) / GMM_SAMPLE_MAX, k = 0, taken = 0;
    for (size_t i = 0; i < s->n && taken < GMM_SAMPLE_MAX; i++) {
        if (sel[i] != want)
            continue;
        if (k++ % stride == 0) {
            memcpy(sample + taken * 3, s->rgb + i * 3, 3 * sizeof(float));
            taken++;
        }
    }
    return taken;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Collects into queue the 4-connected component of pixels with label ==
 * which that contains start, marking them in seen; returns its size. */
static size_t flood(const uint8_t *label, int32_t w, int32_t h, size_t start, uint8_t which,
                    int32_t *queue, uint8_t *seen)
{
    size_t qh = 0, qt = 0;
    queue[qt++] = (int32_t)start;
    seen[start] = 1;
    while (qh < qt) {
        int32_t i = queue[qh++];
        int32_t x = i % w, y = i / w;
        int32_t nb[4] = {x > 0 ? i - 1 : -1, x + 1 < w ? i + 1 : -1, y > 0 ? i - w : -1,
                         y + 1 < h ? i + w : -1};
        for (int k = 0; k < 4; k++) {
            int32_t j = nb[k];
            if (j >= 0 && !seen[j] && label[j] == which) {
                seen[j] = 1;
                queue[qt++] = j;
            }
        }
    }
    return qt;
}

/* Removes label components smaller than `min_area` pixels (4-connected) by
 * flipping them to the other label. queue and comp need n entries. */
static void remove_small(uint8_t *label, int32_t w, int32_t h, size_t min_area, uint8_t which,
                         int32_t *queue, uint8_t *seen)
{
    size_t n = (size_t)w * h;
    memset(seen, 0, n);
    for (size_t start = 0; start < n; start++) {
        if (seen[start] || label[start] != which)
            continue;
        size_t qt = flood(label, w, h, start, which, queue, seen);
        if (qt < min_area)
            for (size_t q = 0; q < qt; q++)
                label[queue[q]] = (uint8_t)!which;
    }
}

/* Size of the largest 4-connected component of label == 1. */
static size_t largest_component(const uint8_t *label, int32_t w, int32_t h, int32_t *queue,
                                uint8_t *seen)
{
    size_t n = (size_t)w * h, best = 0;
    memset(seen, 0, n);
    for (size_t start = 0; start < n; start++) {
        if (seen[start] || label[start] != 1)
            continue;
        size_t qt = flood(label, w, h, start, 1, queue, seen);
        if (qt > best)
            best = qt;
    }
    return best;
}

/* A subject touching the edge puts its own colours into the border band.
 * For each side, pixels that the other three sides' colour model cannot
 * explain are marked suspect (border value 2): they neither train the
 * background model nor are forced to background. When most of a side is
 * unexplained it is taken to be a different background, not a subject. */
static int find_suspects(seg_ctx *s, int32_t bw, float *sample, uint8_t *scratch, float *vals)
{
    int32_t w = s->w, h = s->h;
    if (w < 3 * bw + 3 || h < 3 * bw + 3)
        return 0;
    uint8_t *sel = malloc(s->n);
    if (!sel)
        return -1;
    for (int side = 0; side < 4; side++) {
        unsigned bit = 1u << side;
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                size_t i = (size_t)y * w + x;
                unsigned sides = s->border[i] ? band_sides(x, y, w, h, bw) : 0;
                sel[i] = sides && !(sides & bit) && s->border[i] == 1;
            }
        size_t m = gather(s, sel, 1, sample);
        gmm_model other;
        if (gmm_fit(&other, sample, m, GMM_COMPONENTS, scratch) != 0)
            continue;
        float tnll[TEX_BINS];
        fit_texture(s, sel, 1, tnll);
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++)
            if (sel[i])
                vals[k++] = gmm_nll(&other, s->rgb + i * 3) + s->tex_weight * tnll[s->tex[i]];
        if (k == 0)
            continue;
        qsort(vals, k, sizeof(float), cmp_float);
        float thr = vals[(size_t)((k - 1) * 0.99)] + SALIENT_MARGIN;
        size_t total = 0, odd = 0;
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                size_t i = (size_t)y * w + x;
                if (!s->border[i] || !(band_sides(x, y, w, h, bw) & bit))
                    continue;
                total++;
                float v = gmm_nll(&other, s->rgb + i * 3) + s->tex_weight * tnll[s->tex[i]];
                sel[i] = v > thr ? 2 : 0;
                odd += sel[i] == 2;
            }
        /* Portraits and product shots stand on the bottom edge, so there a
         * subject may fill most of the side; elsewhere that means a second
         * background (floor, sky). */
        size_t limit_tenths = bit == 2u ? 9 : 6;
        if (odd * 10 > total * limit_tenths)
            continue;
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                size_t i = (size_t)y * w + x;
                if (s->border[i] && (band_sides(x, y, w, h, bw) & bit) && sel[i] == 2)
                    s->border[i] = 2;
            }
    }
    free(sel);
    return 0;
}

typedef struct {
    float fg_fraction;
    float separation;    /* 0..1: how well the colour models explain the labels */
    float edge_strength; /* 0..1: how much the cut follows image edges */
    float border_fg;     /* share of the border band labelled foreground */
    float rim_fg;        /* share of the outermost pixel ring labelled foreground */
    float main_share;    /* share of the foreground in its largest component */
    float fg_seeded;     /* share of the foreground that was a salient seed */
    float tex_weight;    /* weight of texture in the unaries, 0..TEX_WEIGHT_MAX */
} seg_stats;

/* Runs the iterated graph cut. On success s->label holds the segmentation. */
static cutout_status segment(seg_ctx *s, int iterations, seg_stats *st)
{
    cutout_status rc = CUTOUT_ERR_NOMEM;
    int32_t w = s->w, h = s->h;
    size_t n = s->n;
    memset(st, 0, sizeof(*st));
    float *sample = malloc(GMM_SAMPLE_MAX * 3 * sizeof(float));
    uint8_t *scratch = malloc(n > GMM_SAMPLE_MAX ? n : GMM_SAMPLE_MAX);
    uint8_t *prev = malloc(n);
    int32_t *queue = malloc(n * sizeof(int32_t));
    uint8_t *seed = malloc(n);
    uint8_t *band = malloc(n);
    float *bvals = NULL;
    mf_graph *g = mf_create((int32_t)n, (int32_t)(4 * n));
    if (!sample || !scratch || !prev || !queue || !seed || !band || !g)
        goto out;

    /* Contrast scale: beta = 1 / (2 <|dz|^2>), as in GrabCut. */
    cf_parallel_rows(s->threads, h, beta_rows, s);
    double total = 0;
    for (int32_t y = 0; y < h; y++)
        total += s->row_sum[y];
    double pairs = 4.0 * n;
    double mean = pairs > 0 ? total / pairs : 0;
    s->beta = mean > 1e-8 ? (float)(1.0 / (2.0 * mean)) : 0.0f;
    cf_parallel_rows(s->threads, h, nlink_rows, s);

    /* Border band: a few pixels thick, so thin frames and JPEG ringing at the
     * very edge do not dominate the background model. */
    int32_t bw = (w < h ? w : h) / 64;
    if (bw < 1)
        bw = 1;
    size_t nborder = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            uint8_t b = x < bw || y < bw || x >= w - bw || y >= h - bw;
            s->border[(size_t)y * w + x] = b;
            nborder += b;
        }
    bvals = malloc((nborder ? nborder : 1) * sizeof(float));
    if (!bvals)
        goto out;
    if (texture_bins(s, s->dfg) != 0)
        goto out;
    s->tex_weight = texture_weight(s, bw);
    if (find_suspects(s, bw, sample, scratch, bvals) != 0)
        goto out;
    size_t m = gather(s, s->border, 1, sample);
    gmm_fit(&s->bg, sample, m, GMM_COMPONENTS, scratch);
    fit_poly(s, sample, scratch);
    memset(&s->fg, 0, sizeof(s->fg));
    fit_texture(s, s->border, 1, s->tex_bg);
    memset(s->tex_fg, 0, sizeof(s->tex_fg));
    s->tex_on = 1;
    cf_parallel_rows(s->threads, h, unary_rows, s);

    /* Salient = worse explained by the border model than almost all of the
     * border itself. Border pixels that are salient too (the subject touches
     * the edge) are left free instead of being forced to background. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s->border[i] == 1)
            bvals[k++] = s->dbg[i];
    qsort(bvals, k, sizeof(float), cmp_float);
    float thr = k ? bvals[(size_t)((k - 1) * 0.99)] + SALIENT_MARGIN : 0;
    size_t nsal = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t sal = s->dbg[i] > thr || s->border[i] == 2;
        s->label[i] = sal && !s->border[i];
        s->hard_bg[i] = s->border[i] && !sal;
        nsal += s->label[i];
    }
    st->tex_weight = s->tex_weight;
    memcpy(seed, s->label, n); /* the salient seeds, for the confidence */
    for (size_t i = 0; i < n; i++)
        s->border[i] = s->border[i] != 0;
    if (nsal < 16) {
        /* Nothing stands out: let a central box seed the foreground model so
         * the cut can still find a subject of background-like colour. */
        for (int32_t y = h / 4; y < h - h / 4; y++)
            for (int32_t x = w / 4; x < w - w / 4; x++)
                s->label[(size_t)y * w + x] = !s->border[(size_t)y * w + x];
    }

    for (int it = 0; it < iterations; it++) {
        m = gather(s, s->label, 1, sample);
        gmm_fit(&s->fg, sample, m, GMM_COMPONENTS, scratch);
        fit_texture(s, s->label, 1, s->tex_fg);
        if (it > 0) {
            m = gather(s, s->label, 0, sample);
            gmm_fit(&s->bg, sample, m, GMM_COMPONENTS, scratch);
            fit_texture(s, s->label, 0, s->tex_bg);
        }
        cf_parallel_rows(s->threads, h, unary_rows, s);

        /* After the first cut only a band around it is re-solved: pixels
         * farther than REFINE_BAND keep their label and enter the graph as
         * terminal capacities of their free neighbours. Later rounds move
         * the boundary by a few pixels, and max-flow on cluttered photos is
         * most of the time; this makes it proportional to the band. */
        if (it > 0)
            cf_label_distance(s->label, w, h, band);
        mf_reset(g);
        for (size_t i = 0; i < n; i++) {
            if (it > 0 && band[i] > REFINE_BAND)
                continue;
            if (s->hard_bg[i]) {
                mf_add_tweights(g, (int32_t)i, 0, quantize(HARD_CAP));
                continue;
            }
            float d = quantize(clampf(s->dbg[i] - s->dfg[i], -UNARY_CAP, UNARY_CAP));
            mf_add_tweights(g, (int32_t)i, d > 0 ? d : 0, d < 0 ? -d : 0);
        }
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                int32_t i = y * w + x;
                const float *o = s->nlw + (size_t)i * 4;
                int32_t nb[4] = {x + 1 < w ? i + 1 : -1, y + 1 < h ? i + w : -1,
                                 x + 1 < w && y + 1 < h ? i + w + 1 : -1,
                                 x > 0 && y + 1 < h ? i + w - 1 : -1};
                for (int e = 0; e < 4; e++) {
                    int32_t j = nb[e];
                    if (j < 0)
                        continue;
                    float c = quantize(o[e]);
                    int fi = it == 0 || band[i] <= REFINE_BAND;
                    int fj = it == 0 || band[j] <= REFINE_BAND;
                    if (fi && fj)
                        mf_add_edge(g, i, j, c, c);
                    else if (fi) /* j is fixed: cutting to it is a terminal cost */
                        mf_add_tweights(g, i, s->label[j] ? c : 0, s->label[j] ? 0 : c);
                    else if (fj)
                        mf_add_tweights(g, j, s->label[i] ? c : 0, s->label[i] ? 0 : c);
                }
            }
        mf_maxflow(g);
        memcpy(prev, s->label, n);
        size_t changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (it == 0 || band[i] <= REFINE_BAND)
                s->label[i] = (uint8_t)mf_is_source(g, (int32_t)i);
            changed += s->label[i] != prev[i];
        }
        if (it > 0 && changed * 1000 < n)
            break;
    }
    mf_free(g);
    g = NULL;

    size_t speck = (size_t)(SPECK_FRACTION * n);
    if (speck > 1) {
        remove_small(s->label, w, h, speck, 1, queue, scratch);
        remove_small(s->label, w, h, speck, 0, queue, scratch);
    }

    /* Statistics for the confidence value. */
    size_t nfg = 0, bfg = 0, rim = 0, rimfg = 0, nedge = 0;
    double sep_fg = 0, sep_bg = 0, sim = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            float margin = clampf(s->dbg[i] - s->dfg[i], -20, 20);
            float p_fg = 1.0f / (1.0f + expf(-margin));
            if (s->label[i]) {
                nfg++;
                sep_fg += p_fg;
            } else {
                sep_bg += 1 - p_fg;
            }
            if (s->border[i])
                bfg += s->label[i];
            if (x == 0 || y == 0 || x == w - 1 || y == h - 1) {
                rim++;
                rimfg += s->label[i];
            }
            if (x + 1 < w && s->label[i] != s->label[i + 1]) {
                sim += s->nlw[i * 4] / SMOOTHNESS;
                nedge++;
            }
            if (y + 1 < h && s->label[i] != s->label[i + w]) {
                sim += s->nlw[i * 4 + 1] / SMOOTHNESS;
                nedge++;
            }
        }
    st->fg_fraction = (float)nfg / (float)n;
    {
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            kept += seed[i] && s->label[i];
        st->fg_seeded = nfg ? (float)kept / (float)nfg : 0;
        st->main_share =
            nfg ? (float)largest_component(s->label, w, h, queue, scratch) / (float)nfg : 0;
    }
    float sf = nfg ? (float)(sep_fg / nfg) : 0.5f;
    float sb = n - nfg ? (float)(sep_bg / (n - nfg)) : 0.5f;
    st->separation = clampf((sf + sb) - 1.0f, 0, 1);
    st->edge_strength = nedge ? clampf(1.0f - (float)(sim / nedge), 0, 1) : 0;
    st->border_fg = nborder ? (float)bfg / (float)nborder : 0;
    st->rim_fg = rim ? (float)rimfg / (float)rim : 0;
    rc = CUTOUT_OK;
out:
    mf_free(g);
    free(sample);
    free(scratch);
    free(prev);
    free(queue);
    free(seed);
    free(band);
    free(bvals);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Matting at working resolution: the map evaluated per full-res pixel  */

typedef struct {
    const float *means; /* 13 planes: I(3), p, II(6), Ip(3) */
    float *ab;          /* 4 planes: a(3), b */
    int32_t w, h;
} gf_ctx;

static void gf_coef_rows(void *arg, int32_t first, int32_t last)
{
    gf_ctx *c = arg;
    size_t n = (size_t)c->w * c->h;
    const float *m = c->means;
    for (size_t i = (size_t)first * c->w; i < (size_t)last * c->w; i++) {
        float mr = m[i], mg = m[n + i], mb = m[2 * n + i], mp = m[3 * n + i];
        /* Sigma = E[II^T] - mu mu^T + eps */
        double s00 = m[4 * n + i] - mr * mr + GF_EPS, s01 = m[5 * n + i] - mr * mg,
               s02 = m[6 * n + i] - mr * mb, s11 = m[7 * n + i] - mg * mg + GF_EPS,
               s12 = m[8 * n + i] - mg * mb, s22 = m[9 * n + i] - mb * mb + GF_EPS;
        double cr = m[10 * n + i] - mr * mp, cg = m[11 * n + i] - mg * mp,
               cb = m[12 * n + i] - mb * mp;
        double i00 = s11 * s22 - s12 * s12, i01 = s02 * s12 - s01 * s22,
               i02 = s01 * s12 - s02 * s11;
        double i11 = s00 * s22 - s02 * s02, i12 = s01 * s02 - s00 * s12,
               i22 = s00 * s11 - s01 * s01;
        double det = s00 * i00 + s01 * i01 + s02 * i02;
        double inv = det > 1e-30 ? 1.0 / det : 0;
        float ar = (float)((i00 * cr + i01 * cg + i02 * cb) * inv);
        float ag = (float)((i01 * cr + i11 * cg + i12 * cb) * inv);
        float ab = (float)((i02 * cr + i12 * cg + i22 * cb) * inv);
        c->ab[i] = ar;
        c->ab[n + i] = ag;
        c->ab[2 * n + i] = ab;
        c->ab[3 * n + i] = mp - ar * mr - ag * mg - ab * mb;
    }
}

/* Builds the MAP_CH-channel matting map:
 *   0-3 guided filter a(3), b;  4 label;  5 band;  6-8 F;  9-11 B;
 *   12 var F;  13 var B. */
static cutout_status build_map(const float *rgb, const uint8_t *label, int32_t w, int32_t h,
                               int threads, float *map)
{
    cutout_status rc = CUTOUT_ERR_NOMEM;
    size_t n = (size_t)w * h;
    float *planes = malloc(n * 13 * sizeof(float));
    float *means = malloc(n * 13 * sizeof(float));
    float *tmp = malloc(n * sizeof(float));
    uint8_t *dist = malloc(n);
    float *val = NULL, *wt = NULL, *fill = NULL;
    if (!planes || !means || !tmp || !dist)
        goto out;

    int32_t r = (w < h ? w : h) / 160;
    if (r < 1)
        r = 1;
    if (r > 8)
        r = 8;
    for (size_t i = 0; i < n; i++) {
        const float *c = rgb + i * 3;
        float p = label[i] ? 1.0f : 0.0f;
        planes[i] = c[0];
        planes[n + i] = c[1];
        planes[2 * n + i] = c[2];
        planes[3 * n + i] = p;
        planes[4 * n + i] = c[0] * c[0];
        planes[5 * n + i] = c[0] * c[1];
        planes[6 * n + i] = c[0] * c[2];
        planes[7 * n + i] = c[1] * c[1];
        planes[8 * n + i] = c[1] * c[2];
        planes[9 * n + i] = c[2] * c[2];
        planes[10 * n + i] = c[0] * p;
        planes[11 * n + i] = c[1] * p;
        planes[12 * n + i] = c[2] * p;
    }
    cf_box_mean(planes, means, 13, w, h, r, tmp, threads);
    gf_ctx gc = {means, planes, w, h}; /* planes reused for a, b */
    cf_parallel_rows(threads, h, gf_coef_rows, &gc);
    cf_box_mean(planes, means, 4, w, h, r, tmp, threads);

    cf_label_distance(label, w, h, dist);
    int32_t band = r + 1;
    for (size_t i = 0; i < n; i++) {
        float *o = map + i * MAP_CH;
        o[0] = means[i];
        o[1] = means[n + i];
        o[2] = means[2 * n + i];
        o[3] = means[3 * n + i];
        o[4] = label[i] ? 1.0f : 0.0f;
        o[5] = dist[i] <= band ? 1.0f : 0.0f;
    }

    /* Local foreground and background colours from pixels at least two
     * working pixels away from the cut (the ones next to it are mixed). */
    val = malloc(n * 4 * sizeof(float));
    wt = malloc(n * sizeof(float));
    fill = malloc(n * 4 * sizeof(float));
    if (!val || !wt || !fill)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const float *c = rgb + i * 3;
        val[i * 4] = c[0];
        val[i * 4 + 1] = c[1];
        val[i * 4 + 2] = c[2];
        val[i * 4 + 3] = c[0] * c[0] + c[1] * c[1] + c[2] * c[2];
    }
    for (int side = 0; side < 2; side++) {
        uint8_t want = side == 0;
        for (size_t i = 0; i < n; i++)
            wt[i] = label[i] == want && dist[i] >= 2 ? 1.0f : 0.0f;
        if (cf_pushpull(val, wt, 4, w, h, fill) != 0)
            goto out;
        for (size_t i = 0; i < n; i++) {
            float *o = map + i * MAP_CH;
            const float *f = fill + i * 4;
            o[6 + side * 3] = f[0];
            o[7 + side * 3] = f[1];
            o[8 + side * 3] = f[2];
            float var = f[3] - (f[0] * f[0] + f[1] * f[1] + f[2] * f[2]);
            o[12 + side] = var > 0 ? var : 0;
        }
    }
    rc = CUTOUT_OK;
out:
    free(planes);
    free(means);
    free(tmp);
    free(dist);
    free(val);
    free(wt);
    free(fill);
    return rc;
}

/* Bilinear lookup tables from full-res coordinates to working pixels. */
typedef struct {
    int32_t *i0, *i1;
    float *t;
} axis_map;

static int axis_map_init(axis_map *a, uint32_t full, int32_t work)
{
    a->i0 = malloc((size_t)full * sizeof(int32_t));
    a->i1 = malloc((size_t)full * sizeof(int32_t));
    a->t = malloc((size_t)full * sizeof(float));
    if (!a->i0 || !a->i1 || !a->t)
        return -1;
    double scale = (double)work / full;
    for (uint32_t x = 0; x < full; x++) {
        double f = (x + 0.5) * scale - 0.5;
        if (f < 0)
            f = 0;
        int32_t i0 = (int32_t)f;
        if (i0 > work - 1)
            i0 = work - 1;
        a->i0[x] = i0;
        a->i1[x] = i0 + 1 < work ? i0 + 1 : work - 1;
        a->t[x] = (float)(f - i0);
        if (a->t[x] > 1)
            a->t[x] = 1;
    }
    return 0;
}

static void axis_map_free(axis_map *a)
{
    free(a->i0);
    free(a->i1);
    free(a->t);
}

typedef struct {
    const uint8_t *rgba;
    uint32_t w, h;
    const float *map;
    int32_t ww;
    axis_map ax, ay;
    uint8_t *alpha;
} up_ctx;

static void upsample_rows(void *arg, int32_t first, int32_t last)
{
    up_ctx *c = arg;
    for (int32_t y = first; y < last; y++) {
        int32_t y0 = c->ay.i0[y], y1 = c->ay.i1[y];
        float ty = c->ay.t[y];
        for (uint32_t x = 0; x < c->w; x++) {
            int32_t x0 = c->ax.i0[x], x1 = c->ax.i1[x];
            float tx = c->ax.t[x];
            const float *p00 = c->map + ((size_t)y0 * c->ww + x0) * MAP_CH;
            const float *p01 = c->map + ((size_t)y0 * c->ww + x1) * MAP_CH;
            const float *p10 = c->map + ((size_t)y1 * c->ww + x0) * MAP_CH;
            const float *p11 = c->map + ((size_t)y1 * c->ww + x1) * MAP_CH;
            float w00 = (1 - tx) * (1 - ty), w01 = tx * (1 - ty), w10 = (1 - tx) * ty,
                  w11 = tx * ty;
            size_t i = (size_t)y * c->w + x;
            if (p00[5] + p01[5] + p10[5] + p11[5] == 0) {
                /* Away from the cut: the label, exactly. */
                c->alpha[i] = p00[4] > 0.5f ? 255 : 0;
                continue;
            }
            float v[MAP_CH];
            for (int k = 0; k < MAP_CH; k++)
                v[k] = w00 * p00[k] + w01 * p01[k] + w10 * p10[k] + w11 * p11[k];
            const uint8_t *px = c->rgba + i * 4;
            float I[3] = {px[0] / 255.0f, px[1] / 255.0f, px[2] / 255.0f};
            float a_gf = clampf(v[0] * I[0] + v[1] * I[1] + v[2] * I[2] + v[3], 0, 1);
            float d[3] = {v[6] - v[9], v[7] - v[10], v[8] - v[11]};
            float d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            float a = a_gf;
            if (d2 > 1e-4f) {
                float proj =
                    ((I[0] - v[9]) * d[0] + (I[1] - v[10]) * d[1] + (I[2] - v[11]) * d[2]) / d2;
                proj = clampf(proj, 0, 1);
                /* Trust the colour line where F and B differ clearly compared
                 * with how much each varies locally (texture). */
                float trust = d2 / (d2 + 0.01f + 4.0f * (v[12] + v[13]));
                a = trust * proj + (1 - trust) * a_gf;
            }
            c->alpha[i] = (uint8_t)(a * 255.0f + 0.5f);
        }
    }
}

/* Box-smoothed copy (radius SEG_SMOOTH_RADIUS) of an interleaved RGB image,
 * or NULL when out of memory. */
#define SEG_SMOOTH_RADIUS 1
static float *smooth_rgb(const float *rgb, int32_t w, int32_t h, int threads)
{
    size_t n = (size_t)w * h;
    float *planes = malloc(n * 3 * sizeof(float));
    float *tmp = malloc(n * sizeof(float));
    float *out = malloc(n * 3 * sizeof(float));
    if (!planes || !tmp || !out) {
        free(planes);
        free(tmp);
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            planes[c * n + i] = rgb[i * 3 + c];
    cf_box_mean(planes, out, 3, w, h, SEG_SMOOTH_RADIUS, tmp, threads);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            planes[i * 3 + c] = out[c * n + i];
    free(tmp);
    free(out);
    return planes;
}

cutout_status cutout_compute(const uint8_t *rgba, uint32_t width, uint32_t height,
                             const cutout_options *opts, cutout_result *out)
{
    if (!out)
        return CUTOUT_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (!rgba || width == 0 || height == 0 || width > CUTOUT_MAX_SIDE || height > CUTOUT_MAX_SIDE ||
        (uint64_t)width * height > CUTOUT_MAX_PIXELS)
        return CUTOUT_ERR_INVALID;
    cutout_options o;
    cutout_options_default(&o);
    if (opts) {
        if (opts->threads > 0)
            o.threads = opts->threads > CUTOUT_MAX_THREADS ? CUTOUT_MAX_THREADS : opts->threads;
        if (opts->max_work_pixels > 0)
            o.max_work_pixels = opts->max_work_pixels;
        if (opts->iterations > 0)
            o.iterations = opts->iterations > MAX_ITERATIONS ? MAX_ITERATIONS : opts->iterations;
    }
    if (o.max_work_pixels < CUTOUT_MIN_WORK_PIXELS)
        o.max_work_pixels = CUTOUT_MIN_WORK_PIXELS;
    if (o.max_work_pixels > CUTOUT_MAX_WORK_PIXELS)
        o.max_work_pixels = CUTOUT_MAX_WORK_PIXELS;

    cutout_status rc = CUTOUT_ERR_NOMEM;
    int32_t ww, wh;
    work_size(width, height, o.max_work_pixels, &ww, &wh);
    size_t n = (size_t)ww * wh;
    seg_ctx s;
    memset(&s, 0, sizeof(s));
    s.threads = o.threads;
    s.w = ww;
    s.h = wh;
    s.n = n;
    float *rgb = malloc(n * 3 * sizeof(float));
    s.dfg = malloc(n * sizeof(float));
    s.dbg = malloc(n * sizeof(float));
    s.nlw = malloc(n * 4 * sizeof(float));
    s.label = malloc(n);
    s.hard_bg = malloc(n);
    s.border = malloc(n);
    s.row_sum = malloc((size_t)wh * sizeof(double));
    s.dpoly = malloc(n * sizeof(float));
    s.tex = malloc(n);
    float *map = NULL, *smooth = NULL;
    up_ctx uc;
    memset(&uc, 0, sizeof(uc));
    uint8_t *alpha = malloc((size_t)width * height);
    if (!rgb || !s.dfg || !s.dbg || !s.nlw || !s.label || !s.hard_bg || !s.border || !s.row_sum ||
        !s.dpoly || !s.tex || !alpha)
        goto out;
    cf_downscale_rgba(rgba, width, height, rgb, ww, wh, o.threads);
    /* The graph cut sees a lightly smoothed copy: per-pixel noise would
     * otherwise widen the colour models until subject and background
     * overlap. Matting later uses the unsmoothed pixels. */
    smooth = smooth_rgb(rgb, ww, wh, o.threads);
    if (!smooth)
        goto out;
    s.rgb = smooth;
    s.edge = rgb;

    seg_stats st;
    rc = segment(&s, o.iterations, &st);
    if (rc != CUTOUT_OK)
        goto out;
    free(s.nlw);
    s.nlw = NULL;

    unsigned flags = 0;
    if (st.fg_fraction < EMPTY_FRACTION) {
        memset(s.label, 0, n);
        flags |= CUTOUT_WARN_EMPTY;
    } else if (st.fg_fraction > FULL_FRACTION) {
        flags |= CUTOUT_WARN_FULL;
    }
    if (!(flags & CUTOUT_WARN_EMPTY) && st.rim_fg > 0.02f)
        flags |= CUTOUT_WARN_TOUCHES_EDGE;

    /* Confidence: a product of factors in (0, 1], each a sign of a wrong
     * cut seen in the benchmark (docs/engine.md):
     *  - implausible size: next to nothing, nearly everything, or more than
     *    about half of the image (a framed photograph, not a subject);
     *  - colour models that explain the labels poorly (separation);
     *  - foreground that grew from pixels the border explains well instead
     *    of from the salient seeds: the cut has annexed background;
     *  - a fragmented subject;
     *  - a cut that does not follow image edges (unless the backdrop is
     *    textured, where contrast along any line is weak);
     *  - a subject covering much of the border the model came from.
     * Calibrated so that results with IoU < 0.7 fall below
     * CUTOUT_LOW_CONFIDENCE and good ones stay above it. */
    float area = smoothstep(EMPTY_FRACTION, 0.01f, st.fg_fraction) *
                 smoothstep(1.0f - FULL_FRACTION, 0.05f, 1.0f - st.fg_fraction);
    float size = 1.0f - 0.7f * smoothstep(0.35f, 0.6f, st.fg_fraction);
    float sep = 0.3f + 0.7f * smoothstep(0.80f, 0.96f, st.separation);
    float seeded = 0.4f + 0.6f * smoothstep(0.6f, 0.95f, st.fg_seeded);
    float whole = 0.5f + 0.5f * smoothstep(0.8f, 0.97f, st.main_share);
    float edge = 1.0f - 0.25f * (1.0f - st.tex_weight / TEX_WEIGHT_MAX) *
                            (1.0f - smoothstep(0.8f, 0.95f, st.edge_strength));
    float border = 1.0f - 0.6f * smoothstep(0.05f, 0.5f, st.border_fg);
    out->confidence = clampf(area * size * sep * seeded * whole * edge * border, 0, 1);
    if (out->confidence < CUTOUT_LOW_CONFIDENCE)
        flags |= CUTOUT_WARN_LOW_CONFIDENCE;

    if (flags & CUTOUT_WARN_EMPTY) {
        memset(alpha, 0, (size_t)width * height);
    } else {
        map = malloc(n * MAP_CH * sizeof(float));
        if (!map)
            goto nomem;
        rc = build_map(rgb, s.label, ww, wh, o.threads, map);
        if (rc != CUTOUT_OK)
            goto out;
        if (axis_map_init(&uc.ax, width, ww) != 0 || axis_map_init(&uc.ay, height, wh) != 0)
            goto nomem;
        uc.rgba = rgba;
        uc.w = width;
        uc.h = height;
        uc.map = map;
        uc.ww = ww;
        uc.alpha = alpha;
        cf_parallel_rows(o.threads, (int32_t)height, upsample_rows, &uc);
    }

    /* Crop box: rows and columns holding a clearly visible subject pixel. */
    uint32_t x0 = width, y0 = height, x1 = 0, y1 = 0;
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *row = alpha + (size_t)y * width;
        uint32_t first = width, last = 0;
        for (uint32_t x = 0; x < width; x++)
            if (row[x] >= 16) {
                if (first == width)
                    first = x;
                last = x + 1;
            }
        if (first < width) {
            if (y < y0)
                y0 = y;
            y1 = y + 1;
            if (first < x0)
                x0 = first;
            if (last > x1)
                x1 = last;
        }
    }
    if (x1 > x0 && y1 > y0) {
        out->crop_x0 = x0;
        out->crop_y0 = y0;
        out->crop_x1 = x1;
        out->crop_y1 = y1;
    } else if (!(flags & CUTOUT_WARN_EMPTY)) {
        flags |= CUTOUT_WARN_EMPTY | CUTOUT_WARN_LOW_CONFIDENCE;
        out->confidence = 0;
    }
    out->flags = flags;
    out->alpha = alpha;
    out->width = width;
    out->height = height;
    alpha = NULL;
    rc = CUTOUT_OK;
    goto out;
nomem:
    rc = CUTOUT_ERR_NOMEM;
out:
    if (rc != CUTOUT_OK)
        memset(out, 0, sizeof(*out));
    axis_map_free(&uc.ax);
    axis_map_free(&uc.ay);
    free(map);
    free(smooth);
    free(rgb);
    free(s.dfg);
    free(s.dbg);
    free(s.nlw);
    free(s.label);
    free(s.hard_bg);
    free(s.border);
    free(s.row_sum);
    free(s.dpoly);
    free(s.tex);
    free(alpha);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Applying the matte: alpha + colour decontamination                  */

typedef struct {
    uint8_t *rgba;
    const uint8_t *alpha;
    uint32_t w, h;
    const float *fb; /* 6 channels per working pixel: F(3), B(3) */
    int32_t ww;
    axis_map ax, ay;
} apply_ctx;

static void apply_rows(void *arg, int32_t first, int32_t last)
{
    apply_ctx *c = arg;
    for (int32_t y = first; y < last; y++) {
        int32_t y0 = c->ay.i0[y], y1 = c->ay.i1[y];
        float ty = c->ay.t[y];
        for (uint32_t x = 0; x < c->w; x++) {
            size_t i = (size_t)y * c->w + x;
            uint8_t *px = c->rgba + i * 4;
            uint8_t a8 = c->alpha[i];
            px[3] = a8;
            if (a8 == 255)
                continue;
            if (a8 == 0) {
                px[0] = px[1] = px[2] = 0;
                continue;
            }
            int32_t x0 = c->ax.i0[x], x1 = c->ax.i1[x];
            float tx = c->ax.t[x];
            const float *p00 = c->fb + ((size_t)y0 * c->ww + x0) * 6;
            const float *p01 = c->fb + ((size_t)y0 * c->ww + x1) * 6;
            const float *p10 = c->fb + ((size_t)y1 * c->ww + x0) * 6;
            const float *p11 = c->fb + ((size_t)y1 * c->ww + x1) * 6;
            float a = a8 / 255.0f;
            /* Solving I = aF + (1-a)B amplifies noise by 1/a, so faint
             * pixels lean on the local foreground colour instead. */
            float t = smoothstep(0.1f, 0.6f, a);
            for (int k = 0; k < 3; k++) {
                float F = (p00[k] * (1 - tx) + p01[k] * tx) * (1 - ty) +
                          (p10[k] * (1 - tx) + p11[k] * tx) * ty;
                float B = (p00[3 + k] * (1 - tx) + p01[3 + k] * tx) * (1 - ty) +
                          (p10[3 + k] * (1 - tx) + p11[3 + k] * tx) * ty;
                float I = px[k] / 255.0f;
                float solved = clampf((I - (1 - a) * B) / a, 0, 1);
                float v = t * solved + (1 - t) * F;
                px[k] = (uint8_t)(clampf(v, 0, 1) * 255.0f + 0.5f);
            }
        }
    }
}

cutout_status cutout_apply(uint8_t *rgba, uint32_t width, uint32_t height, const uint8_t *alpha,
                           int threads)
{
    if (!rgba || !alpha || width == 0 || height == 0 || width > CUTOUT_MAX_SIDE ||
        height > CUTOUT_MAX_SIDE || (uint64_t)width * height > CUTOUT_MAX_PIXELS)
        return CUTOUT_ERR_INVALID;
    if (threads < 1)
        threads = 1;
    if (threads > CUTOUT_MAX_THREADS)
        threads = CUTOUT_MAX_THREADS;
    cutout_status rc = CUTOUT_ERR_NOMEM;
    int32_t ww, wh;
    work_size(width, height, CUTOUT_APPLY_MAX_WORK_PIXELS, &ww, &wh);
    size_t n = (size_t)ww * wh;
    apply_ctx c;
    memset(&c, 0, sizeof(c));
    float *rgb = malloc(n * 3 * sizeof(float));
    float *a = malloc(n * sizeof(float));
    float *wt = malloc(n * sizeof(float));
    float *fill = malloc(n * 3 * sizeof(float));
    float *fb = malloc(n * 6 * sizeof(float));
    if (!rgb || !a || !wt || !fill || !fb)
        goto out;
    cf_downscale_rgba(rgba, width, height, rgb, ww, wh, threads);
    cf_downscale_plane(alpha, width, height, a, ww, wh, threads);
    for (int side = 0; side < 2; side++) {
        for (size_t i = 0; i < n; i++)
            wt[i] = side == 0 ? (a[i] >= 0.98f) : (a[i] <= 0.02f);
        if (cf_pushpull(rgb, wt, 3, ww, wh, fill) != 0)
            goto out;
        for (size_t i = 0; i < n; i++)
            memcpy(fb + i * 6 + side * 3, fill + i * 3, 3 * sizeof(float));
    }
    if (axis_map_init(&c.ax, width, ww) != 0 || axis_map_init(&c.ay, height, wh) != 0)
        goto out;
    c.rgba = rgba;
    c.alpha = alpha;
    c.w = width;
    c.h = height;
    c.fb = fb;
    c.ww = ww;
    cf_parallel_rows(threads, (int32_t)height, apply_rows, &c);
    rc = CUTOUT_OK;
out:
    axis_map_free(&c.ax);
    axis_map_free(&c.ay);
    free(rgb);
    free(a);
    free(wt);
    free(fill);
    free(fb);
    return rc;
}
