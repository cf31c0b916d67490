/* JPEG: marker walk for the header, libjpeg-turbo for pixels. libjpeg's
 * default error handler calls exit() and its memory source pads a cut
 * file with a fake EOI (grey bottom, "success"); both are replaced here so
 * corrupt or truncated input is always IMG_ERR_INVALID. */
#include "codec_internal.h"
#include "exif.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* Upper bound on markers walked before the SOF; each one advances the
 * position, so the walk is bounded by len anyway. */
#define JPEG_HEADER_MAX_MARKERS 4096

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static int is_sof(uint8_t m)
{
    /* C0..CF minus DHT (C4), JPG (C8) and DAC (CC). */
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

img_status codec_jpeg_header(const uint8_t *buf, size_t len, img_header *out)
{
    size_t pos = 2; /* past SOI */
    int have_exif = 0;

    for (int n = 0; n < JPEG_HEADER_MAX_MARKERS; n++) {
        /* Like libjpeg, tolerate garbage before a marker, then fill bytes. */
        while (pos < len && buf[pos] != 0xFF)
            pos++;
        while (pos < len && buf[pos] == 0xFF)
            pos++;
        if (pos >= len)
            return IMG_ERR_INVALID;
        uint8_t m = buf[pos++];
        if (m == 0x00 || m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7))
            continue; /* stuffed byte, TEM, SOI, RSTn: no length */
        if (m == 0xD9 || m == 0xDA)
            return IMG_ERR_INVALID; /* EOI or scan data before any frame */
        if (len - pos < 2)
            return IMG_ERR_INVALID;
        uint32_t seglen = be16(buf + pos);
        if (seglen < 2 || seglen > len - pos)
            return IMG_ERR_INVALID;
        const uint8_t *seg = buf + pos + 2;
        size_t bodylen = seglen - 2;
        if (is_sof(m)) {
            /* precision(1) height(2) width(2) components(1) */
            if (bodylen < 6)
                return IMG_ERR_INVALID;
            out->height = be16(seg + 1);
            out->width = be16(seg + 3);
            /* Height 0 means "given later by DNL", which libjpeg refuses. */
            if (out->width == 0 || out->height == 0)
                return IMG_ERR_INVALID;
            return IMG_OK;
        }
        if (m == 0xE1 && !have_exif && bodylen >= 6 && memcmp(seg, "Exif\0\0", 6) == 0) {
            out->orientation = exif_orientation(seg, bodylen);
            have_exif = 1;
        }
        pos += seglen;
    }
    return IMG_ERR_INVALID;
}

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    int corrupt; /* a warning that means the pixels are not the file's */
    char msg[JMSG_LENGTH_MAX];
} jpeg_err_ctx;

static void jpeg_error_exit_fn(j_common_ptr cinfo)
{
    jpeg_err_ctx *e = (jpeg_err_ctx *)cinfo->err;
    e->pub.format_message(cinfo, e->msg);
    longjmp(e->jb, 1);
}

static void jpeg_emit_message_fn(j_common_ptr cinfo, int level)
{
    jpeg_err_ctx *e = (jpeg_err_ctx *)cinfo->err;
    if (level >= 0)
        return; /* trace messages */
    e->pub.num_warnings++;
    switch (e->pub.msg_code) {
    case JWRN_HIT_MARKER:
    case JWRN_JPEG_EOF:
    case JWRN_MUST_RESYNC:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
        /* Entropy data is damaged or missing: libjpeg fills with grey and
         * carries on. We would hand back a wrong picture; refuse instead. */
        if (!e->corrupt) {
            e->pub.format_message(cinfo, e->msg);
            e->corrupt = 1;
        }
        break;
    default:
        /* Extraneous bytes, odd JFIF versions, bad ICC, sloppy progressive
         * scan scripts: real cameras and editors write these; the pixels
         * are still right. */
        break;
    }
}

static void jpeg_output_message_fn(j_common_ptr cinfo)
{
    (void)cinfo; /* never print to stderr */
}

static void src_init(j_decompress_ptr cinfo)
{
    (void)cinfo;
}

static boolean src_fill(j_decompress_ptr cinfo)
{
    /* The whole file is already in the buffer: asking for more means the
     * file ended before its EOI. */
    ERREXIT(cinfo, JERR_INPUT_EOF);
    return FALSE;
}

static void src_skip(j_decompress_ptr cinfo, long n)
{
    struct jpeg_source_mgr *src = cinfo->src;
    if (n <= 0)
        return;
    if ((unsigned long)n > src->bytes_in_buffer)
        ERREXIT(cinfo, JERR_INPUT_EOF);
    src->next_input_byte += n;
    src->bytes_in_buffer -= (size_t)n;
}

static void src_term(j_decompress_ptr cinfo)
{
    (void)cinfo;
}

static void jpeg_progress_fn(j_common_ptr cinfo)
{
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    jpeg_err_ctx *e = (jpeg_err_ctx *)cinfo->err;
    if (d->is_decompressor && d->input_scan_number > CODEC_JPEG_MAX_SCANS) {
        snprintf(e->msg, sizeof(e->msg), "more than %d progressive scans", CODEC_JPEG_MAX_SCANS);
        longjmp(e->jb, 1);
    }
}

/* Adobe writes CMYK inverted (0 = full ink); everyone else does not. */
static void cmyk_to_rgba(uint8_t *p, size_t npx, int inverted)
{
    for (size_t i = 0; i < npx; i++, p += 4) {
        unsigned c = p[0], m = p[1], y = p[2], k = p[3];
        if (!inverted) {
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        p[0] = (uint8_t)((c * k + 127) / 255);
        p[1] = (uint8_t)((m * k + 127) / 255);
        p[2] = (uint8_t)((y * k + 127) / 255);
        p[3] = 255;
    }
}

img_status codec_jpeg_decode(const uint8_t *buf, size_t len, const img_limits *lim, img_rgba *out,
                             char *err, size_t errlen)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_err_ctx jerr;
    struct jpeg_source_mgr src;
    struct jpeg_progress_mgr progress;
    uint8_t *volatile pixels = NULL;
    volatile int created = 0;
    volatile img_status st = IMG_ERR_INVALID;

    memset(&cinfo, 0, sizeof(cinfo));
    memset(&jerr, 0, sizeof(jerr));
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = jpeg_error_exit_fn;
    jerr.pub.emit_message = jpeg_emit_message_fn;
    jerr.pub.output_message = jpeg_output_message_fn;
    if (setjmp(jerr.jb)) {
        /* Our own source reports a cut file as JERR_INPUT_EOF. */
        codec_seterr(err, errlen, "invalid JPEG: %s", jerr.msg);
        st = IMG_ERR_INVALID;
        goto out;
    }
    jpeg_create_decompress(&cinfo);
    created = 1;

    memset(&src, 0, sizeof(src));
    src.next_input_byte = buf;
    src.bytes_in_buffer = len;
    src.init_source = src_init;
    src.fill_input_buffer = src_fill;
    src.skip_input_data = src_skip;
    src.resync_to_restart = jpeg_resync_to_restart;
    src.term_source = src_term;
    cinfo.src = &src;
    memset(&progress, 0, sizeof(progress));
    progress.progress_monitor = jpeg_progress_fn;
    cinfo.progress = &progress;

    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        codec_seterr(err, errlen, "invalid JPEG: no image in the stream");
        goto out;
    }
    st = codec_check_limits(cinfo.image_width, cinfo.image_height, lim, err, errlen);
    if (st)
        goto out;
    st = IMG_ERR_INVALID;

    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != 4 || cinfo.output_width != cinfo.image_width ||
        cinfo.output_height != cinfo.image_height) {
        codec_seterr(err, errlen, "invalid JPEG: unexpected output layout");
        goto out;
    }

    img_rgba tmp = {0};
    if (codec_alloc_rgba(cinfo.output_width, cinfo.output_height, &tmp) != IMG_OK) {
        codec_seterr(err, errlen, "out of memory decoding JPEG");
        st = IMG_ERR_NOMEM;
        goto out;
    }
    pixels = tmp.rgba;
    const size_t stride = (size_t)cinfo.output_width * 4;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * stride;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            codec_seterr(err, errlen, "invalid JPEG: decoder stalled");
            goto out;
        }
    }
    jpeg_finish_decompress(&cinfo);
    if (jerr.corrupt) {
        codec_seterr(err, errlen, "invalid JPEG: %s", jerr.msg);
        goto out;
    }
    if (cmyk)
        cmyk_to_rgba(pixels, (size_t)cinfo.output_width * cinfo.output_height,
                     cinfo.saw_Adobe_marker);

    out->width = cinfo.output_width;
    out->height = cinfo.output_height;
    out->rgba = pixels;
    pixels = NULL;
    st = IMG_OK;
out:
    if (created)
        jpeg_destroy_decompress(&cinfo);
    free(pixels);
    return st;
}
