#include "upstream/engine.h"

#include <string.h>

#include "core/metrics.h"
#include "core/timeutil.h"
#include "cutout.h"
#include "http/worker.h"

int engine_remove(worker_thread *t, const config *cfg, const intake_image *in, remove_size size,
                  engine_result *out, api_error *err)
{
    memset(out, 0, sizeof *out);
    out->confidence = -1;
    uint64_t start = now_mono_us();
    int rc;
    metric_engine which;
    switch (cfg->engine) {
    case ENGINE_REMOVEBG:
        rc = engine_removebg(t, cfg, in, size, out, err);
        which = ME_REMOVEBG;
        break;
    case ENGINE_REMBG:
        rc = engine_rembg(t, cfg, in, out, err);
        which = ME_REMBG;
        break;
    default:
        rc = engine_local(in, size, out, err);
        which = ME_LOCAL;
        break;
    }
    metrics_engine_time(which, now_mono_us() - start);
    return rc;
}

int engine_decode_png(const uint8_t *data, size_t len, img_rgba *out, api_error *err)
{
    if (img_sniff_format(data, len) != IMG_FMT_PNG) {
        api_error_set(err, 502, "upstream_error", NULL,
                      "the background-removal service sent something that is not a PNG");
        return -1;
    }
    img_limits lim = {20000, 50000000};
    char why[128];
    if (img_decode(data, len, &lim, out, why, sizeof why) != IMG_OK) {
        api_error_set(err, 502, "upstream_error", NULL,
                      "the background-removal service sent a damaged image");
        return -1;
    }
    return 0;
}

/* The built-in engine: no network. Works on a preview-sized copy when the
 * visitor asked for a preview, otherwise on the full image (the engine
 * itself segments a small working copy and carries the matte back up). */
int engine_local(const intake_image *in, remove_size size, engine_result *out, api_error *err)
{
    img_rgba work;
    img_status st;
    if (size == SIZE_PREVIEW)
        st = img_resize_to_fit(&in->image, PREVIEW_MAX_PIXELS, &work);
    else
        st = img_resize_to_fit(&in->image, (uint64_t)in->image.width * in->image.height, &work);
    if (st != IMG_OK) {
        api_error_set(err, 500, "internal", NULL, "out of memory");
        return -1;
    }
    cutout_options opts;
    cutout_options_default(&opts);
    cutout_result res;
    if (cutout_compute(work.rgba, work.width, work.height, &opts, &res) != CUTOUT_OK ||
        cutout_apply(work.rgba, work.width, work.height, res.alpha, 1) != CUTOUT_OK) {
        cutout_result_free(&res);
        img_rgba_free(&work);
        api_error_set(err, 500, "internal", NULL,
                      "the built-in engine could not process this image");
        return -1;
    }
    out->rgba = work;
    out->confidence = res.confidence;
    if (res.flags)
        cutout_flags_str(res.flags, out->warning, sizeof out->warning);
    cutout_result_free(&res);
    return 0;
}
