/* Pixel operations on RGBA8 images; see imgops.h for the contracts. */
#include "imgops.h"
#include "codec_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void img_fit_dims(uint32_t w, uint32_t h, uint64_t max_pixels, uint32_t *out_w, uint32_t *out_h)
{
    if (max_pixels == 0)
        max_pixels = 1;
    if (w == 0 || h == 0 || (uint64_t)w * h <= max_pixels) {
        *out_w = w;
        *out_h = h;
        return;
    }
    double s = sqrt((double)max_pixels / ((double)w * h));
    uint64_t nw = (uint64_t)floor(w * s), nh = (uint64_t)floor(h * s);
    if (nw < 1)
        nw = 1;
    if (nh < 1)
        nh = 1;
    /* floor() keeps us under the budget except where a side hit 1; then
     * shave the other side until it fits. */
    while (nw * nh > max_pixels && nw > 1 && nh > 1) {
        if (nw > nh)
            nw--;
        else
            nh--;
    }
    if (nw * nh > max_pixels) { /* one side is 1: cap the other */
        if (nh == 1)
            nw = max_pixels;
        else
            nh = max_pixels;
    }
    *out_w = (uint32_t)(nw ? nw : 1);
    *out_h = (uint32_t)(nh ? nh : 1);
}

/* One output sample along an axis: source pixels [start, start+n) with
 * weights[off..off+n) summing to 1. */
typedef struct {
    uint32_t start;
    uint32_t n;
    size_t off;
} rs_span;

/* Box-filter spans: output i covers source [i*src/dst, (i+1)*src/dst) and
 * each source pixel weighs by its overlap with that interval. */
static img_status make_spans(uint32_t src, uint32_t dst, rs_span **spans_out, float **w_out)
{
    /* Each output interval overlaps at most ceil(src/dst) + 1 pixels. */
    uint64_t per = (uint64_t)src / dst + 2;
    uint64_t total = per * dst;
    if (total > SIZE_MAX / sizeof(float))
        return IMG_ERR_NOMEM;
    rs_span *spans = malloc((size_t)dst * sizeof(*spans));
    float *w = malloc((size_t)total * sizeof(*w));
    if (!spans || !w) {
        free(spans);
        free(w);
        return IMG_ERR_NOMEM;
    }
    const double scale = (double)src / dst;
    size_t off = 0;
    for (uint32_t i = 0; i < dst; i++) {
        double lo = i * scale, hi = (i + 1) * scale;
        if (hi > src)
            hi = src;
        uint32_t a = (uint32_t)floor(lo), b = (uint32_t)ceil(hi);
        if (b > src)
            b = src;
        if (b <= a)
            b = a + 1;
        spans[i].start = a;
        spans[i].n = b - a;
        spans[i].off = off;
        double sum = 0;
        for (uint32_t j = a; j < b; j++) {
            double l = j > lo ? j : lo, r = j + 1 < hi ? j + 1 : hi;
            double ov = r > l ? r - l : 0;
            w[off + (j - a)] = (float)ov;
            sum += ov;
        }
        for (uint32_t j = 0; j < b - a; j++)
            w[off + j] = sum > 0 ? (float)(w[off + j] / sum) : 1.0f / (float)(b - a);
        off += b - a;
    }
    *spans_out = spans;
    *w_out = w;
    return IMG_OK;
}

/* Horizontal pass of one source row into premultiplied floats. */
static void resample_row(const uint8_t *srow, const rs_span *xs, const float *xw, uint32_t dw,
                         float *dst)
{
    for (uint32_t x = 0; x < dw; x++) {
        const uint8_t *p = srow + (size_t)xs[x].start * 4;
        const float *w = xw + xs[x].off;
        float r = 0, g = 0, b = 0, a = 0;
        for (uint32_t k = 0; k < xs[x].n; k++, p += 4) {
            float wa = w[k] * p[3];
            r += wa * p[0];
            g += wa * p[1];
            b += wa * p[2];
            a += wa;
        }
        dst[(size_t)x * 4 + 0] = r;
        dst[(size_t)x * 4 + 1] = g;
        dst[(size_t)x * 4 + 2] = b;
        dst[(size_t)x * 4 + 3] = a;
    }
}

static uint8_t clamp_u8(float v)
{
    if (!(v > 0))
        return 0;
    if (v >= 255)
        return 255;
    return (uint8_t)(v + 0.5f);
}

img_status img_resize(const img_rgba *src, uint32_t dst_w, uint32_t dst_h, img_rgba *out)
{
    rs_span *xs = NULL, *ys = NULL;
    float *xw = NULL, *yw = NULL, *row = NULL, *acc = NULL;
    img_rgba d = {0};
    img_status st;

    if (!out)
        return IMG_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (!src || !src->rgba || src->width == 0 || src->height == 0 || dst_w == 0 || dst_h == 0)
        return IMG_ERR_INVALID;

    st = make_spans(src->width, dst_w, &xs, &xw);
    if (st)
        goto out;
    st = make_spans(src->height, dst_h, &ys, &yw);
    if (st)
        goto out;
    st = IMG_ERR_NOMEM;
    row = malloc((size_t)dst_w * 4 * sizeof(float));
    acc = malloc((size_t)dst_w * 4 * sizeof(float));
    if (!row || !acc)
        goto out;
    st = codec_alloc_rgba(dst_w, dst_h, &d);
    if (st)
        goto out;

    const size_t sstride = (size_t)src->width * 4;
    int64_t cached = -1; /* source row currently held in row[] */
    for (uint32_t y = 0; y < dst_h; y++) {
        memset(acc, 0, (size_t)dst_w * 4 * sizeof(float));
        for (uint32_t k = 0; k < ys[y].n; k++) {
            uint32_t sy = ys[y].start + k;
            /* Consecutive outputs share their boundary row: reuse it. */
            if ((int64_t)sy != cached) {
                resample_row(src->rgba + (size_t)sy * sstride, xs, xw, dst_w, row);
                cached = sy;
            }
            float wy = yw[ys[y].off + k];
            for (size_t i = 0; i < (size_t)dst_w * 4; i++)
                acc[i] += wy * row[i];
        }
        uint8_t *o = d.rgba + (size_t)y * dst_w * 4;
        for (uint32_t x = 0; x < dst_w; x++, o += 4) {
            const float *p = acc + (size_t)x * 4;
            if (p[3] <= 0.0f) {
                memset(o, 0, 4);
                continue;
            }
            /* Un-premultiply: colour sums carry one factor of alpha. */
            o[0] = clamp_u8(p[0] / p[3]);
            o[1] = clamp_u8(p[1] / p[3]);
            o[2] = clamp_u8(p[2] / p[3]);
            o[3] = clamp_u8(p[3]);
        }
    }
    *out = d;
    d.rgba = NULL;
    st = IMG_OK;
out:
    free(xs);
    free(ys);
    free(xw);
    free(yw);
    free(row);
    free(acc);
    free(d.rgba);
    return st;
}

img_status img_resize_to_fit(const img_rgba *src, uint64_t max_pixels, img_rgba *out)
{
    uint32_t w, h;
    if (!out)
        return IMG_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (!src || !src->rgba || src->width == 0 || src->height == 0)
        return IMG_ERR_INVALID;
    img_fit_dims(src->width, src->height, max_pixels, &w, &h);
    if (w == src->width && h == src->height) {
        img_box all = {0, 0, w, h};
        return img_crop(src, all, out);
    }
    return img_resize(src, w, h, out);
}

img_status img_crop(const img_rgba *src, img_box box, img_rgba *out)
{
    if (!out)
        return IMG_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (!src || !src->rgba || box.w == 0 || box.h == 0 || (uint64_t)box.x + box.w > src->width ||
        (uint64_t)box.y + box.h > src->height)
        return IMG_ERR_INVALID;
    img_rgba d = {0};
    if (codec_alloc_rgba(box.w, box.h, &d) != IMG_OK)
        return IMG_ERR_NOMEM;
    const size_t sstride = (size_t)src->width * 4, dstride = (size_t)box.w * 4;
    for (uint32_t y = 0; y < box.h; y++)
        memcpy(d.rgba + (size_t)y * dstride,
               src->rgba + (size_t)(box.y + y) * sstride + (size_t)box.x * 4, dstride);
    *out = d;
    return IMG_OK;
}

bool img_alpha_bbox(const img_rgba *img, uint8_t threshold, img_box *out)
{
    memset(out, 0, sizeof(*out));
    if (!img || !img->rgba)
        return false;
    uint32_t x0 = UINT32_MAX, x1 = 0, y0 = UINT32_MAX, y1 = 0;
    for (uint32_t y = 0; y < img->height; y++) {
        const uint8_t *a = img->rgba + (size_t)y * img->width * 4 + 3;
        uint32_t first = UINT32_MAX, last = 0;
        for (uint32_t x = 0; x < img->width; x++) {
            if (a[(size_t)x * 4] > threshold) {
                first = x;
                break;
            }
        }
        if (first == UINT32_MAX)
            continue;
        /* Scan back from the right for the row's last subject pixel. */
        for (uint32_t x = img->width; x-- > first;) {
            if (a[(size_t)x * 4] > threshold) {
                last = x;
                break;
            }
        }
        if (first < x0)
            x0 = first;
        if (last > x1)
            x1 = last;
        if (y0 == UINT32_MAX)
            y0 = y;
        y1 = y;
    }
    if (y0 == UINT32_MAX)
        return false;
    out->x = x0;
    out->y = y0;
    out->w = x1 - x0 + 1;
    out->h = y1 - y0 + 1;
    return true;
}

img_box img_box_expand(img_box box, const img_margin *m, uint32_t img_w, uint32_t img_h)
{
    uint64_t t = m->top, r = m->right, b = m->bottom, l = m->left;
    if (m->percent) {
        t = (t * box.h + 50) / 100;
        b = (b * box.h + 50) / 100;
        l = (l * box.w + 50) / 100;
        r = (r * box.w + 50) / 100;
    }
    uint64_t x0 = box.x > l ? box.x - l : 0;
    uint64_t y0 = box.y > t ? box.y - t : 0;
    uint64_t x1 = (uint64_t)box.x + box.w + r;
    uint64_t y1 = (uint64_t)box.y + box.h + b;
    if (x1 > img_w)
        x1 = img_w;
    if (y1 > img_h)
        y1 = img_h;
    img_box o = {0};
    if (x1 > x0 && y1 > y0) {
        o.x = (uint32_t)x0;
        o.y = (uint32_t)y0;
        o.w = (uint32_t)(x1 - x0);
        o.h = (uint32_t)(y1 - y0);
    }
    return o;
}

bool img_margin_parse(const char *s, img_margin *out)
{
    uint32_t v[4];
    int n = 0, units = -1; /* 0 = px, 1 = per cent */

    if (!s || !out)
        return false;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        if (!*s)
            break;
        if (n == 4 || !isdigit((unsigned char)*s))
            return false;
        uint32_t val = 0;
        int digits = 0;
        for (; isdigit((unsigned char)*s); s++) {
            if (++digits > 6)
                return false;
            val = val * 10 + (uint32_t)(*s - '0');
        }
        int u = 0;
        if (*s == '%') {
            u = 1;
            s++;
        } else if (s[0] == 'p' && s[1] == 'x') {
            s += 2;
        }
        if (*s && *s != ' ' && *s != ',')
            return false;
        if (units >= 0 && u != units)
            return false;
        units = u;
        if (val > (u ? 100u : IMG_MARGIN_MAX_PX))
            return false;
        v[n++] = val;
    }
    if (n != 1 && n != 2 && n != 4)
        return false;
    out->percent = units == 1;
    out->top = v[0];
    out->right = n >= 2 ? v[1] : v[0];
    out->bottom = n == 4 ? v[2] : v[0];
    out->left = n == 4 ? v[3] : out->right;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool img_color_parse(const char *s, img_color *out)
{
    int v[8];
    if (!s || !out)
        return false;
    if (*s == '#')
        s++;
    size_t n = strlen(s);
    if (n != 3 && n != 4 && n != 6 && n != 8)
        return false;
    for (size_t i = 0; i < n; i++) {
        v[i] = hexval(s[i]);
        if (v[i] < 0)
            return false;
    }
    if (n <= 4) {
        out->r = (uint8_t)(v[0] * 17);
        out->g = (uint8_t)(v[1] * 17);
        out->b = (uint8_t)(v[2] * 17);
        out->a = n == 4 ? (uint8_t)(v[3] * 17) : 255;
    } else {
        out->r = (uint8_t)(v[0] << 4 | v[1]);
        out->g = (uint8_t)(v[2] << 4 | v[3]);
        out->b = (uint8_t)(v[4] << 4 | v[5]);
        out->a = n == 8 ? (uint8_t)(v[6] << 4 | v[7]) : 255;
    }
    return true;
}

void img_composite_inplace(img_rgba *img, img_color bg)
{
    if (!img || !img->rgba)
        return;
    const size_t npx = (size_t)img->width * img->height;
    uint8_t *p = img->rgba;
    const uint32_t bc[3] = {bg.r, bg.g, bg.b};
    for (size_t i = 0; i < npx; i++, p += 4) {
        uint32_t a = p[3];
        if (a == 255)
            continue;
        /* "over" scaled by 255: out_a*255 = a*255 + bg.a*(255 - a). */
        uint32_t ba = (uint32_t)bg.a * (255 - a);
        uint32_t oa = a * 255 + ba;
        if (oa == 0) {
            memset(p, 0, 4);
            continue;
        }
        for (int c = 0; c < 3; c++)
            p[c] = (uint8_t)(((uint64_t)p[c] * a * 255 + (uint64_t)bc[c] * ba + oa / 2) / oa);
        p[3] = (uint8_t)((oa + 127) / 255);
    }
}

void img_clear_transparent_inplace(img_rgba *img)
{
    if (!img || !img->rgba)
        return;
    const size_t npx = (size_t)img->width * img->height;
    uint8_t *p = img->rgba;
    for (size_t i = 0; i < npx; i++, p += 4)
        if (p[3] == 0)
            p[0] = p[1] = p[2] = 0;
}

img_status img_validate_png(const uint8_t *buf, size_t len, const img_limits *lim, uint32_t *width,
                            uint32_t *height)
{
    img_header hdr;
    img_rgba img = {0};
    img_status st;

    if (img_sniff_format(buf, len) != IMG_FMT_PNG)
        return IMG_ERR_UNSUPPORTED;
    st = img_read_header(buf, len, &hdr);
    if (st)
        return st;
    st = codec_check_limits(hdr.width, hdr.height, lim, NULL, 0);
    if (st)
        return st;
    /* The pixels must really be there: a full decode through IEND. */
    st = codec_png_decode(buf, len, lim, &img, NULL, 0);
    if (st)
        return st;
    if (width)
        *width = img.width;
    if (height)
        *height = img.height;
    img_rgba_free(&img);
    return IMG_OK;
}
