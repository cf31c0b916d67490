/* Configuration: read once from the environment (and optionally an env file)
 * at start-up, validated, then shared read-only by every thread. */
#ifndef CLEANPNG_CORE_CONFIG_H
#define CLEANPNG_CORE_CONFIG_H

#include <stddef.h>

typedef enum { SEARCH_UNSPLASH, SEARCH_LOCAL } search_provider;
typedef enum { ENGINE_REMOVEBG, ENGINE_REMBG, ENGINE_LOCAL } remove_engine;

typedef struct {
    long count;  /* requests allowed ... */
    long window; /* ... per this many seconds */
} rate_limit;

#define CONFIG_MAX_IMAGE_HOSTS 8

typedef struct config {
    search_provider search;
    remove_engine engine;

    char unsplash_key[128]; /* secret: never logged */
    char unsplash_url[256];
    char removebg_key[128]; /* secret: never logged */
    char removebg_url[256];
    char rembg_url[256];
    char image_hosts[CONFIG_MAX_IMAGE_HOSTS][128];
    int image_host_count;
    int fetch_allow_http;     /* test only: fetch images over plain http */
    int fetch_allow_loopback; /* test only: fetch images from 127.0.0.0/8 and ::1 */

    char library_dir[512];
    char library_url_prefix[128]; /* where nginx serves the library, e.g. "/library/" */

    char redis_url[256];
    long redis_timeout_ms;

    char socket_path[256];
    long socket_mode; /* permission bits of the socket file */
    long workers;
    long threads;
    long shutdown_grace_s;

    rate_limit limit_search, limit_remove, limit_privacy, limit_health;
    rate_limit budget_unsplash; /* requests per window, all visitors together */
    rate_limit budget_removebg; /* megapixels per window, all visitors together */
    char log_secret[128];       /* HMAC key for client hashes; secret: never logged */
    int log_secret_generated;   /* 1 when none was configured */
    long log_queue_size;
    long retention_search_s, retention_error_s, retention_access_s;
    long search_cache_ttl_s;

    long upstream_connect_timeout_ms;
    long search_timeout_ms;
    long engine_timeout_ms;
    char app_name[64];
    int log_level; /* log_level from core/log.h */
} config;

/* Fills cfg from the process environment. When CLEANPNG_ENV_FILE (or
 * env_file, if not NULL) names a file, its KEY=VALUE lines are applied first
 * for variables the environment does not already set. Returns 0, or -1 after
 * writing one line naming the faulty variable to err. */
int config_load(config *cfg, const char *env_file, char *err, size_t errlen);

/* Helpers, exposed for unit tests. Each returns 0 on success, -1 on error. */
int config_parse_duration(const char *s, long *seconds); /* "90", "30s", "5m", "1h", "7d" */
int config_parse_limit(const char *s, rate_limit *out);  /* "60/1m", "10/30s", "100/h" */

const char *config_search_name(search_provider p);
const char *config_engine_name(remove_engine e);

#endif
