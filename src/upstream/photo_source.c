#include "upstream/photo_source.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/body.h"
#include "http/request.h"
#include "http/worker.h"
#include "upstream/http_client.h"
#include "upstream/safe_fetch.h"
#include "upstream/unsplash.h"

#define PHOTO_JSON_MAX (1024 * 1024)

static int read_library_file(const config *cfg, const char *name, buf *out, api_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", cfg->library_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (size_t)st.st_size > REQUEST_BODY_MAX) {
        if (fd >= 0)
            close(fd);
        log_error("event=library_file_unreadable file=%s", name);
        api_error_set(err, 404, "photo_not_found", "photo_id", "this photo is not available");
        return -1;
    }
    int rc = buf_reserve(out, (size_t)st.st_size);
    char chunk[65536];
    ssize_t n;
    while (rc == 0 && (n = read(fd, chunk, sizeof chunk)) > 0)
        rc = buf_append(out, chunk, (size_t)n);
    close(fd);
    if (rc) {
        api_error_set(err, 500, "internal", NULL, "out of memory");
        return -1;
    }
    return 0;
}

int unsplash_sized_url(const char *raw, int side, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s%sw=%d&h=%d&fit=max&fm=jpg&q=85", raw,
                     strchr(raw, '?') ? "&" : "?", side, side);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int unsplash_photo(worker_thread *t, const config *cfg, const char *id, remove_size size,
                          buf *out, api_error *err)
{
    char url[512], auth[192];
    snprintf(url, sizeof url, "%s/photos/%s", cfg->unsplash_url, id);
    snprintf(auth, sizeof auth, "Authorization: Client-ID %s", cfg->unsplash_key);
    const char *headers[] = {auth, "Accept-Version: v1", NULL};
    httpc_request req = {.url = url,
                         .headers = headers,
                         .connect_timeout_ms = cfg->upstream_connect_timeout_ms,
                         .timeout_ms = cfg->search_timeout_ms,
                         .max_body = PHOTO_JSON_MAX};
    httpc_response resp;
    httpc_result res = httpc_perform(t->curl, &req, &resp);
    json_object *root = NULL;
    int rc = -1;
    if (res == HTTPC_OK && resp.status == 404) {
        api_error_set(err, 404, "photo_not_found", "photo_id", "there is no photo with this id");
        goto out;
    }
    if (res != HTTPC_OK || resp.status != 200) {
        unsplash_map_failure(res, &resp, err);
        goto out;
    }
    root = json_tokener_parse(resp.body.data ? resp.body.data : "");
    const char *raw = root ? json_str(json_obj(root, "urls"), "raw") : NULL;
    const char *dl = root ? json_str(json_obj(root, "links"), "download_location") : NULL;
    if (!raw) {
        unsplash_map_failure(HTTPC_OK, &resp, err);
        goto out;
    }
    /* Tell Unsplash the photo is being used, as its rules require; our key
     * goes only to the configured API, never to a host the answer names. */
    size_t base = strlen(cfg->unsplash_url);
    if (dl && !strncmp(dl, cfg->unsplash_url, base) && dl[base] == '/') {
        httpc_request dreq = req;
        dreq.url = dl;
        httpc_response dresp;
        httpc_result dres = httpc_perform(t->curl, &dreq, &dresp);
        if (dres != HTTPC_OK || dresp.status != 200) {
            log_warn("event=download_report_failed provider=unsplash status=%ld", dresp.status);
            request_log_upstream_failure(t->current, "unsplash", dresp.status,
                                         "reporting the download to Unsplash failed");
        }
        httpc_response_free(&dresp);
    } else {
        log_warn("event=download_location_refused provider=unsplash");
    }
    char img_url[2048];
    int side = size == SIZE_PREVIEW ? PHOTO_FETCH_SIDE_PREVIEW : PHOTO_FETCH_SIDE_FULL;
    if (unsplash_sized_url(raw, side, img_url, sizeof img_url)) {
        api_error_set(err, 502, "upstream_error", NULL, "the photo's address is too long");
        goto out;
    }
    fetch_policy pol = {.hosts = cfg->image_hosts,
                        .host_count = cfg->image_host_count,
                        .allow_http = cfg->fetch_allow_http,
                        .allow_loopback = cfg->fetch_allow_loopback,
                        .max_bytes = REQUEST_BODY_MAX,
                        .connect_timeout_ms = cfg->upstream_connect_timeout_ms,
                        .timeout_ms = 30000,
                        .max_redirects = 3};
    long status = 0;
    char ctype[128], why[160];
    fetch_result fr =
        safe_fetch(t->curl, img_url, &pol, out, &status, ctype, sizeof ctype, why, sizeof why);
    metrics_upstream(MU_IMAGE_FETCH, fr == FETCH_OK            ? MO_OK
                                     : fr == FETCH_ERR_TIMEOUT ? MO_TIMEOUT
                                                               : MO_ERROR);
    if (fr != FETCH_OK) {
        log_warn("event=image_fetch_failed result=%s status=%ld why=\"%s\"", fetch_result_name(fr),
                 status, why);
        if (fr == FETCH_ERR_TIMEOUT)
            api_error_set(err, 504, "upstream_timeout", NULL, "fetching the photo took too long");
        else if (fr == FETCH_ERR_TOO_LARGE)
            api_error_set(err, 413, "payload_too_large", NULL, "the photo is larger than 22 MB");
        else if (fr == FETCH_ERR_HOST_NOT_ALLOWED || fr == FETCH_ERR_ADDRESS_FORBIDDEN ||
                 fr == FETCH_ERR_SCHEME || fr == FETCH_ERR_BAD_URL ||
                 fr == FETCH_ERR_TOO_MANY_REDIRECTS)
            api_error_set(err, 422, "fetch_refused", "photo_id",
                          "the photo lives at an address we do not fetch from");
        else
            api_error_set(err, 502, "upstream_error", NULL, "the photo could not be fetched");
        err->upstream_status = (int)status;
        goto out;
    }
    rc = 0;
out:
    json_object_put(root);
    httpc_response_free(&resp);
    return rc;
}

int photo_fetch(worker_thread *t, const config *cfg, const library *lib, const char *photo_id,
                remove_size size, buf *out, api_error *err)
{
    buf_init(out, REQUEST_BODY_MAX);
    if (cfg->search == SEARCH_LOCAL) {
        const char *file = library_full_file(lib, photo_id);
        if (!file) {
            api_error_set(err, 404, "photo_not_found", "photo_id",
                          "there is no photo with this id");
            return -1;
        }
        return read_library_file(cfg, file, out, err);
    }
    int rc = unsplash_photo(t, cfg, photo_id, size, out, err);
    if (rc)
        buf_free(out);
    return rc;
}
