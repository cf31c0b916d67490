#include "api/remove_output.h"

#include <stdio.h>
#include <string.h>

#include "imgops.h"
#include "upstream/engine.h"

static int replace(img_rgba *img, img_rgba *next)
{
    img_rgba_free(img);
    *img = *next;
    return 0;
}

int remove_output(img_rgba *img, const remove_options *o, uint8_t **out, size_t *out_len,
                  const char **mime, api_error *err)
{
    img_rgba next;
    if (o->size == SIZE_PREVIEW && (uint64_t)img->width * img->height > PREVIEW_MAX_PIXELS) {
        if (img_resize_to_fit(img, PREVIEW_MAX_PIXELS, &next) != IMG_OK)
            goto nomem;
        replace(img, &next);
    }
    if (o->crop) {
        img_box box;
        if (img_alpha_bbox(img, IMG_ALPHA_BBOX_THRESHOLD, &box)) {
            if (o->has_margin)
                box = img_box_expand(box, &o->margin, img->width, img->height);
            if (img_crop(img, box, &next) != IMG_OK)
                goto nomem;
            replace(img, &next);
        }
        /* nothing to crop to: the (empty) image is returned whole */
    }
    if (o->has_bg)
        img_composite_inplace(img, o->bg);
    else
        img_clear_transparent_inplace(img);
    img_status st;
    if (o->format == FORMAT_WEBP) {
        st = img_encode_webp(img, out, out_len);
        *mime = "image/webp";
        if (st == IMG_ERR_TOO_LARGE) {
            api_error_set(err, 422, "image_too_large", "format",
                          "the result is too large for WebP (16383 px per side); ask for png");
            return -1;
        }
    } else {
        st = img_encode_png(img, out, out_len);
        *mime = "image/png";
    }
    if (st != IMG_OK)
        goto nomem;
    return 0;
nomem:
    api_error_set(err, 500, "internal", NULL, "the server ran out of memory for this image");
    return -1;
}

void remove_download_name(const char *source, const char *ext, char *out, size_t outlen)
{
    char name[61];
    size_t n = 0;
    const char *base = source ? source : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    int dash = 0;
    for (size_t i = 0; i < len && n < sizeof name - 1; i++) {
        char c = base[i];
        int ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (ok) {
            name[n++] = c;
            dash = 0;
        } else if (!dash && n > 0) {
            name[n++] = '-';
            dash = 1;
        }
    }
    while (n > 0 && name[n - 1] == '-')
        n--;
    name[n] = '\0';
    snprintf(out, outlen, "%s-cleanpng.%s", n ? name : "image", ext);
}
