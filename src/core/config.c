#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/log.h"

#define ENV_FILE_MAX_LINE 4096

static int parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return -1;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int config_parse_duration(const char *s, long *seconds)
{
    if (!s || !*s)
        return -1;
    size_t n = strlen(s);
    long mult = 1;
    char num[32];
    switch (s[n - 1]) {
    case 's':
        mult = 1;
        n--;
        break;
    case 'm':
        mult = 60;
        n--;
        break;
    case 'h':
        mult = 3600;
        n--;
        break;
    case 'd':
        mult = 86400;
        n--;
        break;
    default:
        break;
    }
    if (n == 0) {
        if (mult == 1)
            return -1;
        snprintf(num, sizeof num, "1"); /* "h" alone means one hour */
    } else {
        if (n >= sizeof num)
            return -1;
        memcpy(num, s, n);
        num[n] = '\0';
    }
    long v;
    if (parse_long(num, 1, 10L * 365 * 86400, &v))
        return -1;
    if (v > (10L * 365 * 86400) / mult)
        return -1;
    *seconds = v * mult;
    return 0;
}

int config_parse_limit(const char *s, rate_limit *out)
{
    if (!s)
        return -1;
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || (size_t)(slash - s) >= 16)
        return -1;
    char num[16];
    memcpy(num, s, (size_t)(slash - s));
    num[slash - s] = '\0';
    long count, window;
    if (parse_long(num, 1, 1000000, &count) || config_parse_duration(slash + 1, &window))
        return -1;
    if (window > 86400)
        return -1;
    out->count = count;
    out->window = window;
    return 0;
}

const char *config_search_name(search_provider p)
{
    return p == SEARCH_UNSPLASH ? "unsplash" : "local";
}

const char *config_engine_name(remove_engine e)
{
    switch (e) {
    case ENGINE_REMOVEBG:
        return "removebg";
    case ENGINE_REMBG:
        return "rembg";
    default:
        return "local";
    }
}

/* KEY=VALUE lines; '#' comments; optional matching quotes around VALUE. */
static int apply_env_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "CLEANPNG_ENV_FILE: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char line[ENV_FILE_MAX_LINE];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            snprintf(err, errlen, "CLEANPNG_ENV_FILE: line %d of %s is too long", lineno, path);
            rc = -1;
            break;
        }
        while (n && isspace((unsigned char)line[n - 1]))
            line[--n] = '\0';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        if (!strncmp(p, "export ", 7))
            p += 7;
        char *eq = strchr(p, '=');
        if (!eq || eq == p) {
            snprintf(err, errlen, "CLEANPNG_ENV_FILE: line %d of %s is not KEY=VALUE", lineno,
                     path);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *val = eq + 1;
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        }
        setenv(p, val, 0); /* the real environment wins over the file */
    }
    fclose(f);
    return rc;
}

/* Copies an optional string variable; -1 if it does not fit. */
/* Messages never echo the value: some variables hold secrets. */
static int get_str(const char *name, char *dst, size_t cap, const char *def, char *err,
                   size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v)
        v = def;
    if (strlen(v) >= cap) {
        snprintf(err, errlen, "%s: value is too long (at most %zu bytes)", name, cap - 1);
        return -1;
    }
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "%s: value contains control characters", name);
            return -1;
        }
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int get_long(const char *name, long def, long min, long max, long *out, char *err,
                    size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    if (parse_long(v, min, max, out)) {
        snprintf(err, errlen, "%s: must be a whole number from %ld to %ld (got '%.40s')", name, min,
                 max, v);
        return -1;
    }
    return 0;
}

static int get_duration(const char *name, const char *def, long min, long max, long *out, char *err,
                        size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v)
        v = def;
    if (config_parse_duration(v, out) || *out < min || *out > max) {
        snprintf(err, errlen,
                 "%s: must be a duration such as 30s, 5m, 1h or 7d between %lds and %lds "
                 "(got '%.40s')",
                 name, min, max, v);
        return -1;
    }
    return 0;
}

static int get_limit(const char *name, const char *def, rate_limit *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v)
        v = def;
    if (config_parse_limit(v, out)) {
        snprintf(err, errlen,
                 "%s: must look like 60/1m (count/window, window up to 1d) (got '%.40s')", name, v);
        return -1;
    }
    return 0;
}

static int check_base_url(const char *name, const char *url, char *err, size_t errlen)
{
    if (!*url)
        return 0;
    if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) {
        snprintf(err, errlen, "%s: must start with https:// or http://", name);
        return -1;
    }
    return 0;
}

static long default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > 16)
        n = 16;
    return n;
}

int config_load(config *cfg, const char *env_file, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    const char *ef = env_file ? env_file : getenv("CLEANPNG_ENV_FILE");
    if (ef && *ef && apply_env_file(ef, err, errlen))
        return -1;

#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return -1;                                                                             \
    } while (0)

    TRY(get_str("CLEANPNG_UNSPLASH_ACCESS_KEY", cfg->unsplash_key, sizeof cfg->unsplash_key, "",
                err, errlen));
    TRY(get_str("CLEANPNG_UNSPLASH_API_URL", cfg->unsplash_url, sizeof cfg->unsplash_url,
                "https://api.unsplash.com", err, errlen));
    TRY(check_base_url("CLEANPNG_UNSPLASH_API_URL", cfg->unsplash_url, err, errlen));
    TRY(get_str("CLEANPNG_REMOVEBG_API_KEY", cfg->removebg_key, sizeof cfg->removebg_key, "", err,
                errlen));
    TRY(get_str("CLEANPNG_REMOVEBG_API_URL", cfg->removebg_url, sizeof cfg->removebg_url,
                "https://api.remove.bg/v1.0", err, errlen));
    TRY(check_base_url("CLEANPNG_REMOVEBG_API_URL", cfg->removebg_url, err, errlen));
    TRY(get_str("CLEANPNG_REMBG_URL", cfg->rembg_url, sizeof cfg->rembg_url, "", err, errlen));
    TRY(check_base_url("CLEANPNG_REMBG_URL", cfg->rembg_url, err, errlen));

    char tmp[1024];
    TRY(get_str("CLEANPNG_SEARCH_PROVIDER", tmp, sizeof tmp, "auto", err, errlen));
    if (!strcmp(tmp, "auto"))
        cfg->search = cfg->unsplash_key[0] ? SEARCH_UNSPLASH : SEARCH_LOCAL;
    else if (!strcmp(tmp, "unsplash"))
        cfg->search = SEARCH_UNSPLASH;
    else if (!strcmp(tmp, "local"))
        cfg->search = SEARCH_LOCAL;
    else {
        snprintf(err, errlen, "CLEANPNG_SEARCH_PROVIDER: must be auto, unsplash or local");
        return -1;
    }
    if (cfg->search == SEARCH_UNSPLASH && !cfg->unsplash_key[0]) {
        snprintf(err, errlen,
                 "CLEANPNG_UNSPLASH_ACCESS_KEY: required when CLEANPNG_SEARCH_PROVIDER=unsplash");
        return -1;
    }

    TRY(get_str("CLEANPNG_REMOVE_ENGINE", tmp, sizeof tmp, "auto", err, errlen));
    if (!strcmp(tmp, "auto"))
        cfg->engine = cfg->removebg_key[0] ? ENGINE_REMOVEBG : ENGINE_LOCAL;
    else if (!strcmp(tmp, "removebg"))
        cfg->engine = ENGINE_REMOVEBG;
    else if (!strcmp(tmp, "rembg"))
        cfg->engine = ENGINE_REMBG;
    else if (!strcmp(tmp, "local"))
        cfg->engine = ENGINE_LOCAL;
    else {
        snprintf(err, errlen, "CLEANPNG_REMOVE_ENGINE: must be auto, removebg, rembg or local");
        return -1;
    }
    if (cfg->engine == ENGINE_REMOVEBG && !cfg->removebg_key[0]) {
        snprintf(err, errlen,
                 "CLEANPNG_REMOVEBG_API_KEY: required when CLEANPNG_REMOVE_ENGINE=removebg");
        return -1;
    }
    if (cfg->engine == ENGINE_REMBG && !cfg->rembg_url[0]) {
        snprintf(err, errlen, "CLEANPNG_REMBG_URL: required when CLEANPNG_REMOVE_ENGINE=rembg");
        return -1;
    }

    TRY(get_str("CLEANPNG_IMAGE_HOSTS", tmp, sizeof tmp, "images.unsplash.com", err, errlen));
    for (char *save = NULL, *h = strtok_r(tmp, ", ", &save); h; h = strtok_r(NULL, ", ", &save)) {
        if (cfg->image_host_count == CONFIG_MAX_IMAGE_HOSTS || strlen(h) >= 128) {
            snprintf(err, errlen, "CLEANPNG_IMAGE_HOSTS: at most %d hosts of up to 127 bytes",
                     CONFIG_MAX_IMAGE_HOSTS);
            return -1;
        }
        for (char *c = h; *c; c++) {
            if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != ':') {
                snprintf(err, errlen, "CLEANPNG_IMAGE_HOSTS: '%s' is not a host name", h);
                return -1;
            }
            *c = (char)tolower((unsigned char)*c);
        }
        strcpy(cfg->image_hosts[cfg->image_host_count++], h);
    }

    long flag;
    TRY(get_long("CLEANPNG_FETCH_ALLOW_HTTP", 0, 0, 1, &flag, err, errlen));
    cfg->fetch_allow_http = (int)flag;
    TRY(get_long("CLEANPNG_FETCH_ALLOW_LOOPBACK", 0, 0, 1, &flag, err, errlen));
    cfg->fetch_allow_loopback = (int)flag;

    TRY(get_str("CLEANPNG_LIBRARY_DIR", cfg->library_dir, sizeof cfg->library_dir,
                CLEANPNG_DEFAULT_LIBRARY_DIR, err, errlen));
    TRY(get_str("CLEANPNG_LIBRARY_URL", cfg->library_url_prefix, sizeof cfg->library_url_prefix,
                "/library/", err, errlen));
    if (cfg->search == SEARCH_LOCAL && access(cfg->library_dir, R_OK) != 0) {
        snprintf(err, errlen,
                 "CLEANPNG_LIBRARY_DIR: %s is not readable (run scripts/build-library)",
                 cfg->library_dir);
        return -1;
    }

    TRY(get_str("CLEANPNG_REDIS_URL", cfg->redis_url, sizeof cfg->redis_url,
                "redis://127.0.0.1:6379", err, errlen));
    if (strncmp(cfg->redis_url, "redis://", 8) && strncmp(cfg->redis_url, "unix://", 7)) {
        snprintf(err, errlen, "CLEANPNG_REDIS_URL: must be redis://host:port or unix:///path");
        return -1;
    }
    TRY(get_long("CLEANPNG_REDIS_TIMEOUT_MS", 150, 5, 10000, &cfg->redis_timeout_ms, err, errlen));

    TRY(get_str("CLEANPNG_SOCKET", cfg->socket_path, sizeof cfg->socket_path,
                "/run/cleanpng/cleanpng.sock", err, errlen));
    if (strlen(cfg->socket_path) >= 100) {
        snprintf(err, errlen, "CLEANPNG_SOCKET: path must be shorter than 100 bytes");
        return -1;
    }
    TRY(get_str("CLEANPNG_SOCKET_MODE", tmp, sizeof tmp, "0660", err, errlen));
    {
        char *end;
        errno = 0;
        cfg->socket_mode = strtol(tmp, &end, 8);
        if (errno || *end || cfg->socket_mode < 0600 || cfg->socket_mode > 0777) {
            snprintf(err, errlen,
                     "CLEANPNG_SOCKET_MODE: must be octal permission bits from 0600 to 0777");
            return -1;
        }
    }
    TRY(get_long("CLEANPNG_WORKERS", default_workers(), 1, 64, &cfg->workers, err, errlen));
    TRY(get_long("CLEANPNG_THREADS", 64, 1, 1024, &cfg->threads, err, errlen));
    TRY(get_duration("CLEANPNG_SHUTDOWN_GRACE", "10s", 1, 600, &cfg->shutdown_grace_s, err,
                     errlen));

    TRY(get_limit("CLEANPNG_LIMIT_SEARCH", "60/1m", &cfg->limit_search, err, errlen));
    TRY(get_limit("CLEANPNG_LIMIT_REMOVE", "10/1m", &cfg->limit_remove, err, errlen));
    TRY(get_limit("CLEANPNG_LIMIT_PRIVACY", "20/1m", &cfg->limit_privacy, err, errlen));
    TRY(get_limit("CLEANPNG_LIMIT_HEALTH", "600/1m", &cfg->limit_health, err, errlen));
    TRY(get_limit("CLEANPNG_BUDGET_UNSPLASH", "50/1h", &cfg->budget_unsplash, err, errlen));
    TRY(get_limit("CLEANPNG_BUDGET_REMOVEBG", "500/1m", &cfg->budget_removebg, err, errlen));
    TRY(get_long("CLEANPNG_LOG_QUEUE", 10000, 10, 1000000, &cfg->log_queue_size, err, errlen));
    TRY(get_str("CLEANPNG_LOG_SECRET", cfg->log_secret, sizeof cfg->log_secret, "", err, errlen));
    if (!cfg->log_secret[0]) {
        /* Without a configured secret the hashes change at every start, so
         * visitors cannot find entries written before a restart (they still
         * expire on time). Production sets one; see README. */
        unsigned char rnd[24];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            snprintf(err, errlen, "CLEANPNG_LOG_SECRET: not set and no randomness available");
            return -1;
        }
        for (size_t i = 0; i < sizeof rnd; i++)
            snprintf(cfg->log_secret + 2 * i, 3, "%02x", rnd[i]);
        cfg->log_secret_generated = 1;
    } else if (strlen(cfg->log_secret) < 16) {
        snprintf(err, errlen, "CLEANPNG_LOG_SECRET: must be at least 16 characters");
        return -1;
    }
    TRY(get_duration("CLEANPNG_RETENTION_SEARCH", "7d", 1, 7 * 86400, &cfg->retention_search_s, err,
                     errlen));
    TRY(get_duration("CLEANPNG_RETENTION_ERROR", "30d", 1, 30 * 86400, &cfg->retention_error_s, err,
                     errlen));
    TRY(get_duration("CLEANPNG_RETENTION_ACCESS", "90d", 1, 90 * 86400, &cfg->retention_access_s,
                     err, errlen));
    TRY(get_duration("CLEANPNG_SEARCH_CACHE_TTL", "1h", 1, 7 * 86400, &cfg->search_cache_ttl_s, err,
                     errlen));

    TRY(get_long("CLEANPNG_UPSTREAM_CONNECT_TIMEOUT_MS", 3000, 10, 60000,
                 &cfg->upstream_connect_timeout_ms, err, errlen));
    TRY(get_long("CLEANPNG_SEARCH_TIMEOUT_MS", 8000, 10, 120000, &cfg->search_timeout_ms, err,
                 errlen));

    TRY(get_long("CLEANPNG_ENGINE_TIMEOUT_MS", 60000, 100, 600000, &cfg->engine_timeout_ms, err,
                 errlen));

    TRY(get_str("CLEANPNG_APP_NAME", cfg->app_name, sizeof cfg->app_name, "cleanpng", err, errlen));
    for (const char *c = cfg->app_name; *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-') {
            snprintf(err, errlen, "CLEANPNG_APP_NAME: only letters, digits, '_' and '-'");
            return -1;
        }
    }
    if (!cfg->app_name[0]) {
        snprintf(err, errlen, "CLEANPNG_APP_NAME: must not be empty");
        return -1;
    }

    TRY(get_str("CLEANPNG_LOG_LEVEL", tmp, sizeof tmp, "info", err, errlen));
    if (!strcmp(tmp, "debug"))
        cfg->log_level = LOG_LVL_DEBUG;
    else if (!strcmp(tmp, "info"))
        cfg->log_level = LOG_LVL_INFO;
    else if (!strcmp(tmp, "warn"))
        cfg->log_level = LOG_LVL_WARN;
    else if (!strcmp(tmp, "error"))
        cfg->log_level = LOG_LVL_ERROR;
    else {
        snprintf(err, errlen, "CLEANPNG_LOG_LEVEL: must be debug, info, warn or error");
        return -1;
    }
#undef TRY
    return 0;
}
