/* WebP: RIFF chunk walk for the header, libwebp for pixels and lossless
 * encoding. Animated WebP is refused (IMG_ERR_UNSUPPORTED): picking one
 * frame of an animation would silently drop the rest. */
#include "codec_internal.h"
#include "exif.h"

#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/encode.h>

#define WEBP_VP8X_FLAG_EXIF 0x08
#define WEBP_VP8X_FLAG_ANIM 0x02
#define WEBP_HEADER_MAX_CHUNKS 64
#define WEBP_MAX_SIDE 16383u /* the bitstream's 14-bit size fields */

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le24(const uint8_t *p)
{
    return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | le24(p);
}

img_status codec_webp_header(const uint8_t *buf, size_t len, img_header *out)
{
    /* "RIFF" size "WEBP" fourcc chunk-size payload... */
    if (len < 20)
        return IMG_ERR_INVALID;
    uint64_t end = (uint64_t)le32(buf + 4) + 8;
    if (end > len)
        end = len; /* a cut file still has a readable header */
    if (end < 20)
        return IMG_ERR_INVALID;
    const uint8_t *fourcc = buf + 12;
    uint64_t clen = le32(buf + 16);
    const uint8_t *p = buf + 20;
    uint64_t avail = end - 20;

    if (memcmp(fourcc, "VP8 ", 4) == 0) {
        /* frame tag(3) start code 9d 01 2a, 14-bit width, 14-bit height */
        if (avail < 10 || clen < 10 || (p[0] & 1) || p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a)
            return IMG_ERR_INVALID;
        out->width = le16(p + 6) & 0x3fff;
        out->height = le16(p + 8) & 0x3fff;
    } else if (memcmp(fourcc, "VP8L", 4) == 0) {
        /* signature 0x2f, then 14 bits width-1, 14 bits height-1 */
        if (avail < 5 || clen < 5 || p[0] != 0x2f)
            return IMG_ERR_INVALID;
        uint32_t bits = le32(p + 1);
        out->width = (bits & 0x3fff) + 1;
        out->height = ((bits >> 14) & 0x3fff) + 1;
    } else if (memcmp(fourcc, "VP8X", 4) == 0) {
        /* flags(1) reserved(3) canvas width-1 (24) canvas height-1 (24) */
        if (avail < 10 || clen < 10)
            return IMG_ERR_INVALID;
        out->width = le24(p + 4) + 1;
        out->height = le24(p + 7) + 1;
        if (p[0] & WEBP_VP8X_FLAG_EXIF) {
            uint64_t pos = 20 + clen + (clen & 1);
            for (int i = 0; i < WEBP_HEADER_MAX_CHUNKS && pos + 8 <= end; i++) {
                uint64_t sz = le32(buf + pos + 4);
                if (memcmp(buf + pos, "EXIF", 4) == 0) {
                    if (sz <= end - pos - 8)
                        out->orientation = exif_orientation(buf + pos + 8, (size_t)sz);
                    break;
                }
                pos += 8 + sz + (sz & 1);
            }
        }
    } else {
        return IMG_ERR_INVALID;
    }
    if (out->width == 0 || out->height == 0)
        return IMG_ERR_INVALID;
    return IMG_OK;
}

img_status codec_webp_decode(const uint8_t *buf, size_t len, const img_limits *lim, img_rgba *out,
                             char *err, size_t errlen)
{
    WebPBitstreamFeatures feat;
    img_rgba tmp = {0};
    img_status st = IMG_ERR_INVALID;

    /* The RIFF size covers the whole file: less data than it claims is a
     * cut file even when libwebp could draw what is there. */
    if (len < 12 || (uint64_t)le32(buf + 4) + 8 > len) {
        codec_seterr(err, errlen, "invalid WebP: file is truncated");
        goto out;
    }
    if (WebPGetFeatures(buf, len, &feat) != VP8_STATUS_OK) {
        codec_seterr(err, errlen, "invalid WebP: unreadable bitstream header");
        goto out;
    }
    if (feat.has_animation) {
        codec_seterr(err, errlen, "animated WebP is not supported; send a still image");
        st = IMG_ERR_UNSUPPORTED;
        goto out;
    }
    if (feat.width <= 0 || feat.height <= 0) {
        codec_seterr(err, errlen, "invalid WebP: zero dimension");
        goto out;
    }
    st = codec_check_limits((uint32_t)feat.width, (uint32_t)feat.height, lim, err, errlen);
    if (st)
        goto out;
    if (codec_alloc_rgba((uint32_t)feat.width, (uint32_t)feat.height, &tmp) != IMG_OK) {
        codec_seterr(err, errlen, "out of memory decoding WebP");
        st = IMG_ERR_NOMEM;
        goto out;
    }
    size_t stride = (size_t)tmp.width * 4;
    if (!WebPDecodeRGBAInto(buf, len, tmp.rgba, stride * tmp.height, (int)stride)) {
        codec_seterr(err, errlen, "invalid WebP: corrupt or truncated image data");
        st = IMG_ERR_INVALID;
        goto out;
    }
    *out = tmp;
    tmp.rgba = NULL;
    st = IMG_OK;
out:
    free(tmp.rgba);
    return st;
}

/* Lossless preset 0..9 (libwebp's -z). 0 is ~7x faster than the simple
 * API's default and still well under the PNG size for photos; results go
 * straight to the user, so speed wins. */
#define WEBP_LOSSLESS_LEVEL 0
#define WEBP_ENC_INITIAL (64u * 1024)

/* Capped growable output, as for PNG (STYLE.md). */
typedef struct {
    uint8_t *data;
    size_t len, cap, max;
} webp_mem_writer;

static int webp_write_fn(const uint8_t *data, size_t n, const WebPPicture *pic)
{
    webp_mem_writer *w = pic->custom_ptr;
    if (n > w->max - w->len)
        return 0;
    if (n > w->cap - w->len) {
        size_t ncap = w->cap ? w->cap : WEBP_ENC_INITIAL;
        while (ncap - w->len < n)
            ncap = ncap > w->max / 2 ? w->max : ncap * 2;
        uint8_t *p = realloc(w->data, ncap);
        if (!p)
            return 0;
        w->data = p;
        w->cap = ncap;
    }
    memcpy(w->data + w->len, data, n);
    w->len += n;
    return 1;
}

img_status img_encode_webp(const img_rgba *img, uint8_t **out, size_t *out_len)
{
    WebPConfig cfg;
    WebPPicture pic;
    webp_mem_writer wr = {0};
    img_status st = IMG_ERR_NOMEM;
    int pic_ready = 0;

    if (!out || !out_len)
        return IMG_ERR_INVALID;
    *out = NULL;
    *out_len = 0;
    if (!img || !img->rgba || img->width == 0 || img->height == 0)
        return IMG_ERR_INVALID;
    if (img->width > WEBP_MAX_SIDE || img->height > WEBP_MAX_SIDE)
        return IMG_ERR_TOO_LARGE;
    /* Lossless WebP of any image stays below its raw size plus headers. */
    uint64_t max = (uint64_t)img->width * img->height * 4;
    max += max / 8 + 4096;
    if (max > SIZE_MAX)
        return IMG_ERR_NOMEM;
    wr.max = (size_t)max;

    if (!WebPConfigInit(&cfg) || !WebPConfigLosslessPreset(&cfg, WEBP_LOSSLESS_LEVEL) ||
        !WebPValidateConfig(&cfg) || !WebPPictureInit(&pic))
        goto out;
    pic_ready = 1;
    pic.use_argb = 1;
    pic.width = (int)img->width;
    pic.height = (int)img->height;
    if (!WebPPictureImportRGBA(&pic, img->rgba, (int)img->width * 4))
        goto out;
    pic.writer = webp_write_fn;
    pic.custom_ptr = &wr;
    if (!WebPEncode(&cfg, &pic))
        goto out;
    *out = wr.data;
    *out_len = wr.len;
    wr.data = NULL;
    st = IMG_OK;
out:
    if (pic_ready)
        WebPPictureFree(&pic);
    free(wr.data);
    return st;
}
