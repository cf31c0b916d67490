/* POST /api/remove: gather the image and the options, pass intake (format
 * from the bytes, dimensions before decoding, SPEC's caps), run the engine,
 * finish the cut-out the same way for every engine, and answer with it.
 * Image bytes live in memory only and are freed before the handler returns. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/remove_options.h"
#include "api/remove_output.h"
#include "core/log.h"
#include "http/body.h"
#include "http/multipart.h"
#include "http/query.h"
#include "http/worker.h"
#include "upstream/engine.h"
#include "store/keys.h"
#include "store/ratelimit.h"
#include "upstream/photo_source.h"

#define REMOVE_JSON_MAX (64 * 1024)
#define IMAGE_MAX_SIDE 20000u
#define IMAGE_MAX_PIXELS 50000000u

static const library *remove_library;

void api_set_remove_library(const library *lib)
{
    remove_library = lib;
}

static int starts_with_ci(const char *s, const char *prefix)
{
    return s && !strncasecmp(s, prefix, strlen(prefix));
}

static int add_query_pairs(const char *qs, size_t len, remove_params *p, api_error *err)
{
    static __thread query q;
    query_status st = query_parse(qs, len, &q);
    if (st != QUERY_OK) {
        api_error_set(err, st == QUERY_ERR_TOO_LONG ? 414 : 400,
                      st == QUERY_ERR_TOO_LONG ? "uri_too_long" : "invalid_parameter", NULL, "%s",
                      query_status_message(st));
        return -1;
    }
    for (int i = 0; i < q.count; i++) {
        if (!strcmp(q.params[i].key, "image_url")) {
            api_error_set(err, 400, "invalid_parameter", "image_url",
                          "image_url is not accepted: upload the image or give a photo_id");
            return -1;
        }
        if (remove_params_add(p, q.params[i].key, q.params[i].value, q.params[i].value_len, err))
            return -1;
    }
    return 0;
}

static int add_json_pairs(const char *body, size_t len, remove_params *p, api_error *err)
{
    if (len > REMOVE_JSON_MAX) {
        api_error_set(err, 413, "payload_too_large", NULL, "the JSON body is too large");
        return -1;
    }
    json_tokener *tok = json_tokener_new();
    json_object *root = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
    int complete = tok && json_tokener_get_error(tok) == json_tokener_success;
    if (tok)
        json_tokener_free(tok);
    if (!root || !complete || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        api_error_set(err, 400, "invalid_parameter", NULL, "the body is not a JSON object");
        return -1;
    }
    int rc = 0;
    json_object_object_foreach(root, key, val)
    {
        if (rc)
            break;
        if (!strcmp(key, "image_url")) {
            api_error_set(err, 400, "invalid_parameter", "image_url",
                          "image_url is not accepted: upload the image or give a photo_id");
            rc = -1;
        } else if (json_object_is_type(val, json_type_string) ||
                   json_object_is_type(val, json_type_boolean) ||
                   json_object_is_type(val, json_type_int)) {
            const char *s = json_object_get_string(val);
            rc = remove_params_add(p, key, s, strlen(s), err);
        } else if (!json_object_is_type(val, json_type_null)) {
            api_error_set(err, 400, "invalid_parameter", NULL, "%.40s must be a string", key);
            err->param = NULL;
            rc = -1;
        }
    }
    json_object_put(root);
    return rc;
}

typedef struct {
    remove_params params;
    remove_options opts;
    buf body;
    buf fetched;
    const uint8_t *image;
    size_t image_len;
    char upload_name[256];
    img_rgba decoded;
    engine_result result;
    uint8_t *encoded;
} remove_job;

static void job_free(remove_job *j)
{
    buf_free(&j->body);
    buf_free(&j->fetched);
    img_rgba_free(&j->decoded);
    img_rgba_free(&j->result.rgba);
    free(j->encoded);
}

/* Collects the options and the image (or photo id) from the request. */
static int gather(request *r, remove_job *j, api_error *err)
{
    if (add_query_pairs(r->query_string, strlen(r->query_string), &j->params, err))
        return -1;
    const char *ct = r->content_type;
    int has_body = r->content_length > 0 || (ct && *ct);
    if (!has_body)
        return 0;
    if (request_read_body(r, REQUEST_BODY_MAX, &j->body, err))
        return -1;
    const uint8_t *data = (const uint8_t *)j->body.data;
    size_t len = j->body.len;
    if (starts_with_ci(ct, "multipart/form-data")) {
        char boundary[128];
        if (multipart_boundary(ct, boundary, sizeof boundary)) {
            api_error_set(err, 400, "invalid_parameter", NULL,
                          "the multipart body has no valid boundary");
            return -1;
        }
        multipart_part parts[MULTIPART_MAX_PARTS];
        int count = 0;
        multipart_status st =
            multipart_parse(data, len, boundary, parts, MULTIPART_MAX_PARTS, &count);
        if (st != MULTIPART_OK) {
            api_error_set(err, 400, "invalid_parameter", NULL, "%s", multipart_status_message(st));
            return -1;
        }
        for (int i = 0; i < count; i++) {
            const multipart_part *part = &parts[i];
            if (!strcmp(part->name, "image_file") || !strcmp(part->name, "file")) {
                if (j->image) {
                    api_error_set(err, 400, "invalid_parameter", "image_file",
                                  "send one image per request");
                    return -1;
                }
                j->image = part->data;
                j->image_len = part->len;
                snprintf(j->upload_name, sizeof j->upload_name, "%s", part->filename);
            } else if (!strcmp(part->name, "image_url")) {
                api_error_set(err, 400, "invalid_parameter", "image_url",
                              "image_url is not accepted: upload the image or give a photo_id");
                return -1;
            } else if (remove_params_add(&j->params, part->name, (const char *)part->data,
                                         part->len, err)) {
                return -1;
            }
        }
        if (j->image && j->image_len == 0) {
            api_error_set(err, 422, "invalid_image", "image_file", "the uploaded file is empty");
            return -1;
        }
        return 0;
    }
    if (starts_with_ci(ct, "image/") || starts_with_ci(ct, "application/octet-stream")) {
        if (len == 0) {
            api_error_set(err, 422, "invalid_image", NULL, "the uploaded image is empty");
            return -1;
        }
        j->image = data;
        j->image_len = len;
        return 0;
    }
    if (starts_with_ci(ct, "application/json"))
        return add_json_pairs((const char *)data, len, &j->params, err);
    if (starts_with_ci(ct, "application/x-www-form-urlencoded")) {
        if (len > QUERY_MAX_LEN) {
            api_error_set(err, 413, "payload_too_large", NULL, "the form body is too large");
            return -1;
        }
        return add_query_pairs((const char *)data, len, &j->params, err);
    }
    if (len == 0)
        return 0;
    api_error_set(err, 415, "unsupported_media_type", NULL,
                  "send the image as multipart/form-data (field image_file), as an image/jpeg, "
                  "image/png or image/webp body, or give a photo_id");
    return -1;
}

/* Intake: format from the bytes, dimensions from the header, caps, decode. */
static int intake(remove_job *j, intake_image *in, api_error *err)
{
    memset(in, 0, sizeof *in);
    in->bytes = j->image;
    in->len = j->image_len;
    img_status st = img_read_header(j->image, j->image_len, &in->header);
    if (st == IMG_ERR_UNSUPPORTED) {
        img_format f = img_sniff_format(j->image, j->image_len);
        api_error_set(err, 415, "unsupported_media_type", NULL,
                      "only JPEG, PNG and WebP images are accepted%s%s",
                      f != IMG_FMT_UNKNOWN ? "; this one is " : "",
                      f != IMG_FMT_UNKNOWN ? img_format_name(f) : "");
        return -1;
    }
    if (st != IMG_OK) {
        api_error_set(err, 422, "invalid_image", NULL,
                      "the image could not be read: is it damaged?");
        return -1;
    }
    if (in->header.width > IMAGE_MAX_SIDE || in->header.height > IMAGE_MAX_SIDE ||
        (uint64_t)in->header.width * in->header.height > IMAGE_MAX_PIXELS) {
        api_error_set(err, 422, "image_too_large", NULL,
                      "the image is %ux%u; at most 50 megapixels and 20000 px per side are "
                      "accepted",
                      in->header.width, in->header.height);
        return -1;
    }
    img_limits lim = {IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS};
    char why[160] = "";
    st = img_decode(j->image, j->image_len, &lim, &j->decoded, why, sizeof why);
    if (st == IMG_ERR_NOMEM) {
        api_error_set(err, 503, "unavailable", NULL, "the server is short of memory; try again");
        return -1;
    }
    if (st != IMG_OK) {
        api_error_set(err, st == IMG_ERR_TOO_LARGE ? 422 : 422,
                      st == IMG_ERR_TOO_LARGE ? "image_too_large" : "invalid_image", NULL,
                      "the image could not be decoded: %s", why[0] ? why : "it is damaged");
        return -1;
    }
    in->image = j->decoded;
    return 0;
}

/* remove.bg counts megapixels per minute (a preview counts 1, any image at
 * least 1); the operator's allowance is shared by all visitors. */
static int removebg_budget_or_fail(request *r, const intake_image *in, remove_size size,
                                   api_error *err)
{
    uint64_t px = (uint64_t)in->header.width * in->header.height;
    long cost = size == SIZE_PREVIEW ? 1 : (long)((px + 999999) / 1000000);
    if (cost < 1)
        cost = 1;
    char tag[17];
    key_tag(r->cfg->removebg_key, tag);
    rl_decision d;
    budget_spend(&r->thread->redis, "removebg", tag, cost, &r->cfg->budget_removebg, &d);
    if (d.allowed)
        return 0;
    api_error_set(err, 503, "upstream_quota", NULL,
                  "the background-removal allowance of this site is used up for now; try again "
                  "in a minute");
    err->retry_after = d.reset_s > 0 ? d.reset_s : 60;
    return -1;
}

void api_remove(request *r)
{
    remove_job *j = calloc(1, sizeof *j);
    if (!j) {
        response_fail(r, 503, "unavailable", NULL, "the server is short of memory; try again");
        return;
    }
    buf_init(&j->body, 0);
    buf_init(&j->fetched, 0);
    api_error err;
    intake_image in;
    if (gather(r, j, &err) || remove_options_parse(&j->params, &j->opts, &err))
        goto fail;
    if (j->image && j->opts.photo_id[0]) {
        api_error_set(&err, 400, "invalid_parameter", "photo_id",
                      "send either an image or a photo_id, not both");
        goto fail;
    }
    if (!j->image && !j->opts.photo_id[0]) {
        api_error_set(&err, 400, "missing_parameter", "image_file",
                      "no image: upload one in the field image_file, or give a photo_id");
        goto fail;
    }
    if (j->opts.photo_id[0]) {
        /* looking the photo up and reporting its use: two Unsplash calls */
        if (r->cfg->search == SEARCH_UNSPLASH && api_unsplash_budget_or_fail(r, 2, &err))
            goto fail;
        if (photo_fetch(r->thread, r->cfg, remove_library, j->opts.photo_id, j->opts.size,
                        &j->fetched, &err))
            goto fail;
        j->image = (const uint8_t *)j->fetched.data;
        j->image_len = j->fetched.len;
    }
    if (intake(j, &in, &err))
        goto fail;
    /* A remote engine gets the bytes as received (unless EXIF turned them):
     * the decoded pixels were only needed to prove the image sound, and
     * freeing them now keeps a waiting request small. */
    if (r->cfg->engine != ENGINE_LOCAL && in.header.orientation == 1) {
        img_rgba_free(&j->decoded);
        memset(&in.image, 0, sizeof in.image);
    }
    if (r->cfg->engine == ENGINE_REMOVEBG && removebg_budget_or_fail(r, &in, j->opts.size, &err))
        goto fail;
    if (engine_remove(r->thread, r->cfg, &in, j->opts.size, &j->result, &err))
        goto fail;
    img_rgba_free(&j->decoded); /* the input is no longer needed */
    buf_free(&j->body);
    buf_free(&j->fetched);

    size_t out_len;
    const char *mime;
    if (remove_output(&j->result.rgba, &j->opts, &j->encoded, &out_len, &mime, &err))
        goto fail;
    char name[96], headers[512];
    remove_download_name(j->opts.photo_id[0] ? j->opts.photo_id : j->upload_name,
                         j->opts.format == FORMAT_WEBP ? "webp" : "png", name, sizeof name);
    int n = snprintf(headers, sizeof headers,
                     "Content-Disposition: attachment; filename=\"%s\"\r\n"
                     "X-Width: %u\r\nX-Height: %u\r\nX-Engine: %s\r\n",
                     name, j->result.rgba.width, j->result.rgba.height,
                     config_engine_name(r->cfg->engine));
    if (j->result.confidence >= 0)
        n += snprintf(headers + n, sizeof headers - (size_t)n, "X-Cutout-Confidence: %.2f\r\n",
                      (double)j->result.confidence);
    if (j->result.warning[0])
        snprintf(headers + n, sizeof headers - (size_t)n, "X-Cutout-Warning: %s\r\n",
                 j->result.warning);
    response_send(r, 200, mime, headers, j->encoded, out_len);
    job_free(j);
    free(j);
    return;
fail:
    response_error(r, &err);
    job_free(j);
    free(j);
}
