/* cleanpng-cutout: runs the built-in background removal on one file.
 *
 *   cleanpng-cutout in.{png,jpg,webp} out.png [--threads N] [--mask mask.png]
 *       [--work-pixels N] [--iterations N]
 *
 * Prints one key=value line: engine time (matte + apply, without decoding
 * and encoding), confidence and warnings. Exit status: 0 ok, 1 bad usage or
 * I/O, 2 image or engine error. Low confidence is a warning, not an error. */
#include "codec.h"
#include "cutout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOOL_MAX_FILE (64u * 1024 * 1024)
#define TOOL_MAX_SIDE 20000u
#define TOOL_MAX_PIXELS 50000000u

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Reads a whole file of at most TOOL_MAX_FILE bytes. */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 20, used = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0)
            break;
        if (used == cap) {
            if (cap >= TOOL_MAX_FILE) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            uint8_t *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = used;
    return 0;
}

static int write_png(const char *path, const img_rgba *img)
{
    uint8_t *png = NULL;
    size_t len = 0;
    if (img_encode_png(img, &png, &len) != IMG_OK)
        return -1;
    FILE *f = fopen(path, "wb");
    int rc = -1;
    if (f) {
        rc = fwrite(png, 1, len, f) == len ? 0 : -1;
        if (fclose(f) != 0)
            rc = -1;
    }
    free(png);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: cleanpng-cutout in.{png,jpg,webp} out.png [--threads N] "
                    "[--mask mask.png] [--work-pixels N] [--iterations N]\n");
}

int main(int argc, char **argv)
{
    const char *in = NULL, *outp = NULL, *maskp = NULL;
    cutout_options opts;
    cutout_options_default(&opts);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            opts.threads = atoi(argv[++i]);
            if (opts.threads < 1 || opts.threads > CUTOUT_MAX_THREADS) {
                usage();
                return 1;
            }
        } else if (strcmp(argv[i], "--mask") == 0 && i + 1 < argc) {
            maskp = argv[++i];
        } else if (strcmp(argv[i], "--work-pixels") == 0 && i + 1 < argc) {
            long v = atol(argv[++i]);
            if (v <= 0 || v > (long)CUTOUT_MAX_WORK_PIXELS) {
                usage();
                return 1;
            }
            opts.max_work_pixels = (uint32_t)v;
        } else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            opts.iterations = atoi(argv[++i]);
            if (opts.iterations < 1 || opts.iterations > 10) {
                usage();
                return 1;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            usage();
            return 1;
        } else if (!in) {
            in = argv[i];
        } else if (!outp) {
            outp = argv[i];
        } else {
            usage();
            return 1;
        }
    }
    if (!in || !outp) {
        usage();
        return 1;
    }

    uint8_t *file = NULL;
    size_t len = 0;
    if (read_file(in, &file, &len) != 0) {
        fprintf(stderr, "cleanpng-cutout: cannot read %s: %s\n", in, strerror(errno));
        return 1;
    }
    img_limits lim = {TOOL_MAX_SIDE, TOOL_MAX_PIXELS};
    img_rgba img = {0, 0, NULL};
    char err[256] = "";
    img_status st = img_decode(file, len, &lim, &img, err, sizeof(err));
    free(file);
    if (st != IMG_OK) {
        fprintf(stderr, "cleanpng-cutout: %s: cannot decode: %s\n", in, err);
        return 2;
    }

    int status = 2;
    cutout_result res;
    double t0 = now_ms();
    cutout_status rc = cutout_compute(img.rgba, img.width, img.height, &opts, &res);
    double t1 = now_ms();
    if (rc != CUTOUT_OK) {
        fprintf(stderr, "cleanpng-cutout: engine error %d\n", (int)rc);
        goto done;
    }
    img_rgba mask = {img.width, img.height, NULL};
    if (maskp) {
        size_t n = (size_t)img.width * img.height;
        mask.rgba = malloc(n * 4);
        if (!mask.rgba) {
            fprintf(stderr, "cleanpng-cutout: out of memory\n");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            uint8_t a = res.alpha[i];
            mask.rgba[i * 4] = mask.rgba[i * 4 + 1] = mask.rgba[i * 4 + 2] = a;
            mask.rgba[i * 4 + 3] = 255;
        }
    }
    double t2 = now_ms();
    rc = cutout_apply(img.rgba, img.width, img.height, res.alpha, opts.threads);
    double t3 = now_ms();
    if (rc != CUTOUT_OK) {
        fprintf(stderr, "cleanpng-cutout: apply error %d\n", (int)rc);
        free(mask.rgba);
        goto done;
    }
    if (write_png(outp, &img) != 0 || (maskp && write_png(maskp, &mask) != 0)) {
        fprintf(stderr, "cleanpng-cutout: cannot write output\n");
        free(mask.rgba);
        status = 1;
        goto done;
    }
    free(mask.rgba);
    char flags[128];
    double ms = (t1 - t0) + (t3 - t2);
    double mp = (double)img.width * img.height / 1e6;
    printf("cleanpng-cutout: size=%ux%u threads=%d time_ms=%.1f matte_ms=%.1f apply_ms=%.1f "
           "ms_per_mp=%.1f confidence=%.3f warnings=%s crop=%u,%u,%u,%u\n",
           img.width, img.height, opts.threads, ms, t1 - t0, t3 - t2, ms / mp, res.confidence,
           cutout_flags_str(res.flags, flags, sizeof(flags)), res.crop_x0, res.crop_y0, res.crop_x1,
           res.crop_y1);
    status = 0;
done:
    cutout_result_free(&res);
    img_rgba_free(&img);
    return status;
}
