/* Background-removal engines behind one interface: an image that passed
 * intake goes in, an RGBA cut-out (alpha = subject) comes out. Crop,
 * background colour and output format are applied afterwards by the route,
 * the same way whichever engine ran. */
#ifndef CLEANPNG_UPSTREAM_ENGINE_H
#define CLEANPNG_UPSTREAM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "api/remove_options.h"
#include "codec.h"
#include "core/config.h"
#include "http/errors.h"

struct worker_thread;

#define ENGINE_RESPONSE_MAX (40u * 1024 * 1024) /* largest PNG we accept from an engine */
#define PREVIEW_MAX_PIXELS 250000u

/* An image that passed intake: the bytes as received and their decoded,
 * upright pixels. */
typedef struct {
    const uint8_t *bytes;
    size_t len;
    img_header header;
    img_rgba image;
} intake_image;

typedef struct {
    img_rgba rgba;    /* the cut-out; the caller frees it with img_rgba_free */
    char warning[64]; /* "" or the engine's warnings, e.g. "low_confidence" */
    float confidence; /* 0..1, or -1 when the engine does not say */
} engine_result;

/* Runs the configured engine. 0 and *out filled, or -1 and *err set. */
int engine_remove(struct worker_thread *t, const config *cfg, const intake_image *in,
                  remove_size size, engine_result *out, api_error *err);

/* The engines, for tests and for engine_remove. */
int engine_local(const intake_image *in, remove_size size, engine_result *out, api_error *err);
int engine_removebg(struct worker_thread *t, const config *cfg, const intake_image *in,
                    remove_size size, engine_result *out, api_error *err);
int engine_rembg(struct worker_thread *t, const config *cfg, const intake_image *in,
                 engine_result *out, api_error *err);

/* Maps a remove.bg error answer (status + JSON body) to ours. Pure. */
void removebg_map_error(long status, const char *body, size_t len, long retry_after,
                        api_error *err);

/* Checks an engine's answer is a real PNG of sane size and decodes it. */
int engine_decode_png(const uint8_t *buf, size_t len, img_rgba *out, api_error *err);

#endif
