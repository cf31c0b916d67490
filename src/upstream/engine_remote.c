/* The engines that run elsewhere: remove.bg (or any server with its
 * contract) and a self-hosted rembg server. Both get the image as multipart
 * and answer with a PNG, which is checked with libpng before we use it. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/metrics.h"
#include "http/request.h"
#include "http/worker.h"
#include "upstream/engine.h"
#include "upstream/http_client.h"

#define REMOVEBG_RETRIES 2 /* extra attempts after a 5xx */
#define ENGINE_CONNECT_TIMEOUT_MS 5000

/* The bytes to send: the upload itself, or when EXIF rotated it, the
 * upright pixels as PNG (so every engine sees what the visitor sees). */
static int payload(const intake_image *in, const uint8_t **data, size_t *len, uint8_t **owned,
                   const char **type, api_error *err)
{
    *owned = NULL;
    if (in->header.orientation == 1) {
        *data = in->bytes;
        *len = in->len;
        *type = img_format_mime(in->header.format);
        return 0;
    }
    if (img_encode_png(&in->image, owned, len) != IMG_OK) {
        api_error_set(err, 500, "internal", NULL, "out of memory");
        return -1;
    }
    *data = *owned;
    *type = "image/png";
    return 0;
}

static curl_mime *mime_with_file(CURL *curl, const char *field, const uint8_t *data, size_t len,
                                 const char *type)
{
    curl_mime *mime = curl_mime_init(curl);
    if (!mime)
        return NULL;
    curl_mimepart *part = curl_mime_addpart(mime);
    /* curl_mime_data copies; the image is at most 22 MB and the copy lives
     * only for the call, which keeps ownership simple */
    if (!part || curl_mime_name(part, field) != CURLE_OK ||
        curl_mime_data(part, (const char *)data, len) != CURLE_OK ||
        curl_mime_filename(part, "image") != CURLE_OK || curl_mime_type(part, type) != CURLE_OK) {
        curl_mime_free(mime);
        return NULL;
    }
    return mime;
}

static void mime_add_field(curl_mime *mime, const char *name, const char *value)
{
    curl_mimepart *part = curl_mime_addpart(mime);
    if (part) {
        curl_mime_name(part, name);
        curl_mime_data(part, value, CURL_ZERO_TERMINATED);
    }
}

static void map_transport(httpc_result res, const char *who, api_error *err)
{
    if (res == HTTPC_TIMEOUT)
        api_error_set(err, 504, "upstream_timeout", NULL, "%s took too long; try again", who);
    else if (res == HTTPC_TOO_LARGE)
        api_error_set(err, 502, "upstream_error", NULL, "%s sent an oversized answer", who);
    else
        api_error_set(err, 502, "upstream_error", NULL, "%s could not be reached", who);
}

void removebg_map_error(long status, const char *body, size_t len, long retry_after, api_error *err)
{
    const char *code = NULL, *title = NULL;
    json_tokener *tok = json_tokener_new();
    json_object *root = tok && body ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
    if (tok)
        json_tokener_free(tok);
    json_object *errs, *first, *v;
    if (root && json_object_object_get_ex(root, "errors", &errs) &&
        json_object_is_type(errs, json_type_array) && json_object_array_length(errs) > 0) {
        first = json_object_array_get_idx(errs, 0);
        if (json_object_object_get_ex(first, "code", &v) &&
            json_object_is_type(v, json_type_string))
            code = json_object_get_string(v);
        if (json_object_object_get_ex(first, "title", &v) &&
            json_object_is_type(v, json_type_string))
            title = json_object_get_string(v);
    }
    if (status == 400) {
        /* the engine's own words are not passed on; ours say what to do */
        if (code && (!strcmp(code, "resolution_too_high") || !strcmp(code, "file_too_large")))
            api_error_set(err, 422, "image_too_large", NULL,
                          "the image is too large for the removal service; try a smaller one");
        else if (code && !strcmp(code, "unknown_foreground"))
            api_error_set(err, 422, "invalid_image", NULL,
                          "no clear subject was found in this image; try a photo with one main "
                          "subject");
        else if (code && !strcmp(code, "invalid_file_type"))
            api_error_set(err, 422, "invalid_image", NULL,
                          "the removal service does not accept this kind of image");
        else if ((code && !strcmp(code, "failed_to_read_image")) ||
                 (title && strstr(title, "read image")))
            api_error_set(err, 422, "invalid_image", NULL,
                          "the removal service could not read this image; is it damaged?");
        else
            api_error_set(err, 422, "invalid_image", NULL,
                          "the removal service refused this image; try another one");
    } else if (status == 402) {
        api_error_set(err, 503, "upstream_quota", NULL,
                      "the removal service has no credits left; the operator has been told");
        err->retry_after = retry_after > 0 ? retry_after : 0;
    } else if (status == 429) {
        api_error_set(err, 503, "upstream_quota", NULL,
                      "the removal service is busy; try again in a minute");
        err->retry_after = retry_after > 0 ? retry_after : 60;
    } else if (status == 401 || status == 403) {
        api_error_set(err, 502, "upstream_error", NULL,
                      "the removal service refused our credentials; the operator has been told");
    } else {
        api_error_set(err, 502, "upstream_error", NULL,
                      "the removal service is having trouble; try again");
    }
    err->upstream_status = (int)status;
    json_object_put(root);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int engine_removebg(worker_thread *t, const config *cfg, const intake_image *in, remove_size size,
                    engine_result *out, api_error *err)
{
    const uint8_t *data;
    size_t len;
    uint8_t *owned;
    const char *type;
    if (payload(in, &data, &len, &owned, &type, err))
        return -1;
    char url[320], key[160];
    snprintf(url, sizeof url, "%s/removebg", cfg->removebg_url);
    snprintf(key, sizeof key, "X-Api-Key: %s", cfg->removebg_key);
    const char *headers[] = {key, "Accept: image/png", NULL};
    const char *size_word = size == SIZE_PREVIEW ? "preview" : size == SIZE_FULL ? "full" : "auto";
    int rc = -1;
    for (int attempt = 0; attempt <= REMOVEBG_RETRIES; attempt++) {
        curl_mime *mime = mime_with_file(t->curl, "image_file", data, len, type);
        if (!mime) {
            api_error_set(err, 500, "internal", NULL, "out of memory");
            break;
        }
        mime_add_field(mime, "size", size_word);
        mime_add_field(mime, "format", "png");
        mime_add_field(mime, "channels", "rgba");
        httpc_request req = {.url = url,
                             .headers = headers,
                             .connect_timeout_ms = ENGINE_CONNECT_TIMEOUT_MS,
                             .timeout_ms = cfg->engine_timeout_ms,
                             .max_body = ENGINE_RESPONSE_MAX,
                             .mime = mime};
        httpc_response resp;
        httpc_result res = httpc_perform(t->curl, &req, &resp);
        curl_mime_free(mime);
        metrics_upstream(MU_REMOVEBG,
                         res == HTTPC_TIMEOUT                    ? MO_TIMEOUT
                         : res == HTTPC_OK && resp.status == 200 ? MO_OK
                         : res == HTTPC_OK && (resp.status == 402 || resp.status == 429)
                             ? MO_QUOTA
                             : MO_ERROR);
        if (res == HTTPC_OK && resp.status == 200) {
            rc = engine_decode_png((const uint8_t *)resp.body.data, resp.body.len, &out->rgba, err);
            if (rc)
                log_warn("event=upstream_failure engine=removebg reason=bad_png bytes=%zu",
                         resp.body.len);
            httpc_response_free(&resp);
            break;
        }
        int retry = (res == HTTPC_OK && resp.status >= 500) ||
                    (res == HTTPC_CONNECT && attempt < REMOVEBG_RETRIES);
        if (res != HTTPC_OK)
            map_transport(res, "the removal service", err);
        else
            removebg_map_error(resp.status, resp.body.data, resp.body.len, resp.retry_after, err);
        if (res == HTTPC_OK && (resp.status == 401 || resp.status == 403))
            log_error("event=upstream_auth_failed engine=removebg status=%ld "
                      "hint=\"check CLEANPNG_REMOVEBG_API_KEY\"",
                      resp.status);
        else
            log_warn("event=upstream_failure engine=removebg result=%d status=%ld attempt=%d",
                     (int)res, resp.status, attempt + 1);
        if (retry && attempt < REMOVEBG_RETRIES)
            request_log_upstream_failure(t->current, "removebg", resp.status,
                                         "the removal service failed; retrying");
        httpc_response_free(&resp);
        if (!retry || attempt == REMOVEBG_RETRIES)
            break;
        sleep_ms(250L << attempt); /* 250 ms, then 500 ms */
    }
    free(owned);
    return rc;
}

int engine_rembg(worker_thread *t, const config *cfg, const intake_image *in, engine_result *out,
                 api_error *err)
{
    const uint8_t *data;
    size_t len;
    uint8_t *owned;
    const char *type;
    if (payload(in, &data, &len, &owned, &type, err))
        return -1;
    char url[320];
    snprintf(url, sizeof url, "%s/api/remove", cfg->rembg_url);
    int rc = -1;
    curl_mime *mime = mime_with_file(t->curl, "file", data, len, type);
    if (!mime) {
        free(owned);
        api_error_set(err, 500, "internal", NULL, "out of memory");
        return -1;
    }
    httpc_request req = {.url = url,
                         .connect_timeout_ms = ENGINE_CONNECT_TIMEOUT_MS,
                         .timeout_ms = cfg->engine_timeout_ms,
                         .max_body = ENGINE_RESPONSE_MAX,
                         .mime = mime};
    httpc_response resp;
    httpc_result res = httpc_perform(t->curl, &req, &resp);
    curl_mime_free(mime);
    metrics_upstream(MU_REMBG, res == HTTPC_TIMEOUT                    ? MO_TIMEOUT
                               : res == HTTPC_OK && resp.status == 200 ? MO_OK
                                                                       : MO_ERROR);
    if (res != HTTPC_OK) {
        map_transport(res, "the removal server", err);
    } else if (resp.status == 200) {
        rc = engine_decode_png((const uint8_t *)resp.body.data, resp.body.len, &out->rgba, err);
    } else if (resp.status == 400 || resp.status == 422) {
        api_error_set(err, 422, "invalid_image", NULL,
                      "the removal server could not read this image; is it damaged?");
        err->upstream_status = (int)resp.status;
    } else {
        api_error_set(err, 502, "upstream_error", NULL, "the removal server is having trouble");
        err->upstream_status = (int)resp.status;
    }
    if (rc)
        log_warn("event=upstream_failure engine=rembg result=%d status=%ld", (int)res, resp.status);
    httpc_response_free(&resp);
    free(owned);
    return rc;
}
