/* cleanpngd: the CleanPNG FastCGI worker pool.
 *   cleanpngd [--env-file FILE] [--check-config]
 * Configuration comes from CLEANPNG_* environment variables (README). */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/pool.h"
#include "upstream/library.h"

static void usage(void)
{
    fprintf(stderr, "usage: cleanpngd [--env-file FILE] [--check-config]\n");
}

int main(int argc, char **argv)
{
    const char *env_file = NULL;
    int check_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--env-file") && i + 1 < argc)
            env_file = argv[++i];
        else if (!strcmp(argv[i], "--check-config"))
            check_only = 1;
        else {
            usage();
            return 2;
        }
    }
    static config cfg;
    char err[512];
    if (config_load(&cfg, env_file, err, sizeof err)) {
        fprintf(stderr, "cleanpngd: configuration error: %s\n", err);
        return 2;
    }
    log_set_level((log_level)cfg.log_level);
    library *lib = NULL;
    if (cfg.search == SEARCH_LOCAL) {
        lib = library_load(cfg.library_dir, cfg.library_url_prefix, err, sizeof err);
        if (!lib) {
            fprintf(stderr, "cleanpngd: configuration error: CLEANPNG_LIBRARY_DIR: %s\n", err);
            return 2;
        }
        api_set_library(lib);
        api_set_remove_library(lib);
    }
    if (check_only) {
        printf("configuration ok: search=%s engine=%s workers=%ld threads=%ld\n",
               config_search_name(cfg.search), config_engine_name(cfg.engine), cfg.workers,
               cfg.threads);
        library_free(lib);
        return 0;
    }
    if (curl_global_init(CURL_GLOBAL_ALL) != 0) {
        fprintf(stderr, "cleanpngd: curl_global_init failed\n");
        return 1;
    }
    log_info("event=starting search=%s engine=%s library_photos=%zu",
             config_search_name(cfg.search), config_engine_name(cfg.engine), library_count(lib));
    if (cfg.log_secret_generated)
        log_warn("event=no_log_secret hint=\"set CLEANPNG_LOG_SECRET: without it visitors cannot "
                 "find log entries written before a restart (they still expire on time)\"");
    if (cfg.fetch_allow_http || cfg.fetch_allow_loopback)
        log_warn("event=test_only_fetch_settings allow_http=%d allow_loopback=%d",
                 cfg.fetch_allow_http, cfg.fetch_allow_loopback);
    if (metrics_init() != 0) {
        fprintf(stderr, "cleanpngd: cannot map the metrics block\n");
        return 1;
    }
    int rc = pool_run(&cfg);
    library_free(lib);
    curl_global_cleanup();
    return rc;
}
