/* Unit tests for the built-in background removal (cutout.h) on synthetic
 * images whose true matte is known. Each check is a property a working
 * engine must have; a broken stage (graph cut, matting, upsampling,
 * warnings) makes at least one of them fail. */
#include "cutout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static uint32_t rng_state = 1;
static int noise(int amp)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return amp ? (int)((rng_state >> 16) % (2 * amp + 1)) - amp : 0;
}

static uint8_t clamp8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

typedef struct {
    uint32_t w, h;
    uint8_t *rgba;
    float *truth; /* true alpha in [0,1] */
} scene;

/* Background colour at (x, y): flat, or a horizontal gradient. */
static void bg_color(int kind, uint32_t x, uint32_t y, uint32_t w, int out[3])
{
    (void)y;
    if (kind == 0) {
        out[0] = 40;
        out[1] = 170;
        out[2] = 60;
    } else {
        float t = (float)x / (float)(w > 1 ? w - 1 : 1);
        out[0] = (int)(30 + 60 * t);
        out[1] = (int)(120 + 80 * t);
        out[2] = (int)(200 - 40 * t);
    }
}

/* Composites a shape of colour fg over a background with 4x4 supersampled
 * (antialiased) edges. inside(x, y) says whether a point is subject. */
typedef int (*shape_fn)(float x, float y, const void *arg);

static int make_scene(scene *s, uint32_t w, uint32_t h, shape_fn inside, const void *arg,
                      const int fg[3], int bg_kind, int noise_amp)
{
    s->w = w;
    s->h = h;
    s->rgba = malloc((size_t)w * h * 4);
    s->truth = malloc((size_t)w * h * sizeof(float));
    if (!s->rgba || !s->truth)
        return -1;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            int cover = 0;
            for (int sy = 0; sy < 4; sy++)
                for (int sx = 0; sx < 4; sx++)
                    cover += inside(x + (sx + 0.5f) / 4, y + (sy + 0.5f) / 4, arg);
            float a = cover / 16.0f;
            int bg[3];
            bg_color(bg_kind, x, y, w, bg);
            uint8_t *p = s->rgba + ((size_t)y * w + x) * 4;
            for (int k = 0; k < 3; k++)
                p[k] = clamp8((int)lroundf(a * fg[k] + (1 - a) * bg[k]) + noise(noise_amp));
            p[3] = 255;
            s->truth[(size_t)y * w + x] = a;
        }
    return 0;
}

static void free_scene(scene *s)
{
    free(s->rgba);
    free(s->truth);
}

/* IoU of (alpha >= 128) against (truth >= 0.5), and mean |alpha - truth|. */
static double iou(const scene *s, const uint8_t *alpha, double *mae)
{
    size_t inter = 0, uni = 0, n = (size_t)s->w * s->h;
    double err = 0;
    for (size_t i = 0; i < n; i++) {
        int a = alpha[i] >= 128, t = s->truth[i] >= 0.5f;
        inter += a && t;
        uni += a || t;
        err += fabs(alpha[i] / 255.0 - s->truth[i]);
    }
    if (mae)
        *mae = err / (double)n;
    return uni ? (double)inter / (double)uni : 1.0;
}

typedef struct {
    float cx, cy, r;
} disc;

static int in_disc(float x, float y, const void *arg)
{
    const disc *d = arg;
    return (x - d->cx) * (x - d->cx) + (y - d->cy) * (y - d->cy) <= d->r * d->r;
}

typedef struct {
    float x0, y0, x1, y1;
} box;

static int in_box(float x, float y, const void *arg)
{
    const box *b = arg;
    return x >= b->x0 && x < b->x1 && y >= b->y0 && y < b->y1;
}

static int run(const scene *s, int threads, uint32_t work_pixels, cutout_result *res)
{
    cutout_options o;
    cutout_options_default(&o);
    o.threads = threads;
    if (work_pixels)
        o.max_work_pixels = work_pixels;
    return cutout_compute(s->rgba, s->w, s->h, &o, res);
}

static void test_disc_flat(void)
{
    static const int red[3] = {210, 40, 40};
    disc d = {100, 75, 40};
    scene s;
    CHECK(make_scene(&s, 200, 150, in_disc, &d, red, 0, 3) == 0);
    cutout_result r1, r2;
    CHECK(run(&s, 1, 0, &r1) == CUTOUT_OK);
    CHECK(run(&s, 2, 0, &r2) == CUTOUT_OK);
    double mae;
    double j = iou(&s, r1.alpha, &mae);
    printf("disc_flat: iou=%.4f mae=%.4f conf=%.3f flags=%u\n", j, mae, r1.confidence, r1.flags);
    CHECK(j >= 0.97);
    CHECK(mae <= 0.02);
    CHECK(r1.confidence >= CUTOUT_LOW_CONFIDENCE);
    CHECK(r1.flags == 0);
    CHECK(r1.alpha[75 * 200 + 100] == 255);
    CHECK(r1.alpha[0] == 0 && r1.alpha[200 * 150 - 1] == 0);
    /* Crop box hugs the disc (x 60..140, y 35..115). */
    CHECK(abs((int)r1.crop_x0 - 60) <= 2 && abs((int)r1.crop_x1 - 140) <= 2);
    CHECK(abs((int)r1.crop_y0 - 35) <= 2 && abs((int)r1.crop_y1 - 115) <= 2);
    /* The thread count must not change the answer. */
    CHECK(memcmp(r1.alpha, r2.alpha, 200 * 150) == 0);
    CHECK(r1.confidence == r2.confidence);
    cutout_result_free(&r1);
    cutout_result_free(&r2);
    free_scene(&s);
}

static void test_gradient_and_downscale(void)
{
    /* 1600x1200 on a gradient with the working copy at 0.1 MP: exercises the
     * guided upsampling back to full resolution. */
    static const int blue[3] = {250, 230, 20};
    disc d = {700, 650, 330};
    scene s;
    CHECK(make_scene(&s, 1600, 1200, in_disc, &d, blue, 1, 2) == 0);
    cutout_result r;
    CHECK(run(&s, 2, 100000, &r) == CUTOUT_OK);
    double mae;
    double j = iou(&s, r.alpha, &mae);
    printf("gradient_large: iou=%.4f mae=%.4f conf=%.3f flags=%u\n", j, mae, r.confidence, r.flags);
    CHECK(j >= 0.98);
    CHECK(mae <= 0.01);
    CHECK(!(r.flags & (CUTOUT_WARN_EMPTY | CUTOUT_WARN_FULL)));
    /* The antialiased rim must stay soft, not snap to 0/255 everywhere. */
    size_t soft = 0;
    for (size_t i = 0; i < (size_t)s.w * s.h; i++)
        soft += r.alpha[i] > 20 && r.alpha[i] < 235;
    CHECK(soft > 500);
    cutout_result_free(&r);
    free_scene(&s);
}

static void test_touching_edge(void)
{
    /* A "bust" rising from the bottom edge, as in a portrait. */
    static const int skin[3] = {200, 150, 120};
    box b = {120, 90, 280, 300};
    scene s;
    CHECK(make_scene(&s, 400, 300, in_box, &b, skin, 0, 3) == 0);
    cutout_result r;
    CHECK(run(&s, 1, 0, &r) == CUTOUT_OK);
    double mae;
    double j = iou(&s, r.alpha, &mae);
    printf("touching_edge: iou=%.4f mae=%.4f conf=%.3f flags=%u\n", j, mae, r.confidence, r.flags);
    CHECK(j >= 0.95);
    CHECK(r.flags & CUTOUT_WARN_TOUCHES_EDGE);
    CHECK(!(r.flags & CUTOUT_WARN_EMPTY));
    CHECK(r.alpha[299 * 400 + 200] == 255); /* bottom edge, inside the subject */
    cutout_result_free(&r);
    free_scene(&s);
}

static void test_uniform(void)
{
    static const int same[3] = {40, 170, 60};
    box b = {0, 0, 0, 0};
    scene s;
    CHECK(make_scene(&s, 160, 120, in_box, &b, same, 0, 2) == 0);
    cutout_result r;
    CHECK(run(&s, 2, 0, &r) == CUTOUT_OK);
    printf("uniform: conf=%.3f flags=%u\n", r.confidence, r.flags);
    CHECK(r.flags & CUTOUT_WARN_EMPTY);
    CHECK(r.flags & CUTOUT_WARN_LOW_CONFIDENCE);
    CHECK(r.confidence < CUTOUT_LOW_CONFIDENCE);
    size_t nonzero = 0;
    for (size_t i = 0; i < 160 * 120; i++)
        nonzero += r.alpha[i] != 0;
    CHECK(nonzero == 0);
    CHECK(r.crop_x1 == 0 && r.crop_y1 == 0);
    cutout_result_free(&r);
    free_scene(&s);
}

static void test_tiny(void)
{
    static const uint32_t dims[][2] = {{1, 1}, {2, 1}, {1, 3}, {2, 2}, {3, 3}, {5, 4}, {7, 7}};
    for (size_t k = 0; k < sizeof(dims) / sizeof(dims[0]); k++) {
        uint32_t w = dims[k][0], h = dims[k][1];
        uint8_t px[7 * 7 * 4];
        for (uint32_t i = 0; i < w * h * 4; i++)
            px[i] = (uint8_t)(i * 37 % 251);
        cutout_result r;
        int rc = cutout_compute(px, w, h, NULL, &r);
        CHECK(rc == CUTOUT_OK);
        if (rc != CUTOUT_OK)
            continue;
        CHECK(r.width == w && r.height == h && r.alpha);
        CHECK(r.confidence >= 0 && r.confidence <= 1);
        /* Tiny images give the engine nothing to go on: it must say so. */
        CHECK(r.flags & CUTOUT_WARN_LOW_CONFIDENCE);
        CHECK(cutout_apply(px, w, h, r.alpha, 2) == CUTOUT_OK);
        cutout_result_free(&r);
    }
}

static void test_aspect(void)
{
    /* 4000x40 strip with a block in the middle, and its transpose. */
    static const int dark[3] = {20, 20, 90};
    for (int transpose = 0; transpose < 2; transpose++) {
        box b = {1800, 8, 2200, 32};
        if (transpose)
            b = (box){8, 1800, 32, 2200};
        scene s;
        CHECK(make_scene(&s, transpose ? 40 : 4000, transpose ? 4000 : 40, in_box, &b, dark, 0,
                         2) == 0);
        cutout_result r;
        CHECK(run(&s, 2, 0, &r) == CUTOUT_OK);
        double j = iou(&s, r.alpha, NULL);
        printf("aspect%d: iou=%.4f conf=%.3f flags=%u\n", transpose, j, r.confidence, r.flags);
        CHECK(j >= 0.9);
        cutout_result_free(&r);
        free_scene(&s);
    }
    /* Extreme: 20000x2 and 1x5000 must not fail. */
    uint8_t *px = calloc(20000 * 2 * 4, 1);
    CHECK(px != NULL);
    if (px) {
        cutout_result r;
        CHECK(cutout_compute(px, 20000, 2, NULL, &r) == CUTOUT_OK);
        cutout_result_free(&r);
        CHECK(cutout_compute(px, 1, 5000, NULL, &r) == CUTOUT_OK);
        cutout_result_free(&r);
        free(px);
    }
}

static void test_apply_decontaminates(void)
{
    /* Red disc on green: after apply, semi-transparent rim pixels must have
     * lost the green of the old background. */
    static const int red[3] = {220, 30, 30};
    disc d = {64, 64, 30};
    scene s;
    CHECK(make_scene(&s, 128, 128, in_disc, &d, red, 0, 0) == 0);
    cutout_result r;
    CHECK(run(&s, 1, 0, &r) == CUTOUT_OK);
    uint8_t *orig = malloc(128 * 128 * 4);
    CHECK(orig != NULL);
    if (!orig)
        return;
    memcpy(orig, s.rgba, 128 * 128 * 4);
    CHECK(cutout_apply(s.rgba, 128, 128, r.alpha, 1) == CUTOUT_OK);
    size_t rim = 0, halo = 0, before = 0;
    for (size_t i = 0; i < 128 * 128; i++) {
        const uint8_t *p = s.rgba + i * 4;
        CHECK(p[3] == r.alpha[i]);
        if (p[3] == 0)
            CHECK(p[0] == 0 && p[1] == 0 && p[2] == 0);
        if (p[3] > 25 && p[3] < 230) {
            rim++;
            halo += p[1] > 80;
            before += orig[i * 4 + 1] > 80;
        }
    }
    printf("apply: rim=%zu halo_before=%zu halo_after=%zu\n", rim, before, halo);
    CHECK(rim > 50);
    CHECK(before > rim / 4); /* the test is meaningful: the rim was green-tinted */
    CHECK(halo * 20 <= rim);
    free(orig);
    cutout_result_free(&r);
    free_scene(&s);
}

/* A smooth subject whose colour is the backdrop's mean, on heavy grain: only
 * texture tells them apart. */
static void test_smooth_on_grain(void)
{
    scene s;
    disc d = {150, 100, 55};
    const int grey[3] = {128, 128, 128};
    CHECK(make_scene(&s, 300, 200, in_disc, &d, grey, 0, 2) == 0);
    for (size_t i = 0; i < (size_t)300 * 200; i++)
        if (s.truth[i] < 0.5f)
            for (int k = 0; k < 3; k++)
                s.rgba[i * 4 + k] = clamp8(128 + noise(70));
    cutout_result r;
    CHECK(run(&s, 1, 0, &r) == CUTOUT_OK);
    double j = iou(&s, r.alpha, NULL);
    printf("smooth on grain: iou=%.4f conf=%.3f flags=%u\n", j, r.confidence, r.flags);
    CHECK(j >= 0.9);
    CHECK(!(r.flags & CUTOUT_WARN_LOW_CONFIDENCE));
    cutout_result_free(&r);
    free_scene(&s);
}

/* A "subject" filling most of the frame is more likely a framed picture than
 * a cut-out: the answer must carry a warning. */
static void test_framed_warns(void)
{
    scene s;
    box b = {20, 15, 380, 285};
    const int orange[3] = {220, 120, 40};
    CHECK(make_scene(&s, 400, 300, in_box, &b, orange, 0, 3) == 0);
    cutout_result r;
    CHECK(run(&s, 1, 0, &r) == CUTOUT_OK);
    printf("framed: conf=%.3f flags=%u\n", r.confidence, r.flags);
    CHECK(r.flags & CUTOUT_WARN_LOW_CONFIDENCE);
    CHECK(r.confidence < CUTOUT_LOW_CONFIDENCE);
    cutout_result_free(&r);
    free_scene(&s);
}

static void test_invalid(void)
{
    uint8_t px[16] = {0};
    cutout_result r;
    CHECK(cutout_compute(NULL, 1, 1, NULL, &r) == CUTOUT_ERR_INVALID);
    CHECK(cutout_compute(px, 0, 1, NULL, &r) == CUTOUT_ERR_INVALID);
    CHECK(cutout_compute(px, 1, 0, NULL, &r) == CUTOUT_ERR_INVALID);
    CHECK(cutout_compute(px, CUTOUT_MAX_SIDE + 1, 1, NULL, &r) == CUTOUT_ERR_INVALID);
    CHECK(cutout_compute(px, 20000, 20000, NULL, &r) == CUTOUT_ERR_INVALID);
    CHECK(r.alpha == NULL);
    CHECK(cutout_compute(px, 1, 1, NULL, NULL) == CUTOUT_ERR_INVALID);
    CHECK(cutout_apply(NULL, 1, 1, px, 1) == CUTOUT_ERR_INVALID);
    CHECK(cutout_apply(px, 1, 1, NULL, 1) == CUTOUT_ERR_INVALID);
    char buf[64];
    CHECK(strcmp(cutout_flags_str(0, buf, sizeof(buf)), "none") == 0);
    CHECK(strcmp(cutout_flags_str(CUTOUT_WARN_LOW_CONFIDENCE | CUTOUT_WARN_EMPTY, buf, sizeof(buf)),
                 "low_confidence,empty") == 0);
}

int main(void)
{
    test_invalid();
    test_disc_flat();
    test_gradient_and_downscale();
    test_touching_edge();
    test_uniform();
    test_tiny();
    test_aspect();
    test_apply_decontaminates();
    test_smooth_on_grain();
    test_framed_warns();
    if (failures) {
        fprintf(stderr, "test_cutout: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_cutout: ok\n");
    return 0;
}
