#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "core/config.h"

static config cfg;

static void clear_env(void)
{
    extern char **environ;
    for (;;) {
        int found = 0;
        for (char **e = environ; *e; e++) {
            if (!strncmp(*e, "CLEANPNG_", 9)) {
                char name[128];
                size_t n = strcspn(*e, "=");
                snprintf(name, sizeof name, "%.*s", (int)n, *e);
                unsetenv(name);
                found = 1;
                break;
            }
        }
        if (!found)
            break;
    }
}

static void expect_bad(const char *var, const char *value, const char *must_name)
{
    char err[512] = "";
    clear_env();
    setenv("CLEANPNG_LIBRARY_DIR", "/", 1);
    setenv(var, value, 1);
    int rc = config_load(&cfg, NULL, err, sizeof err);
    CHECK(rc == -1);
    CHECK(strstr(err, must_name) != NULL);
    CHECK(strchr(err, '\n') == NULL);
    if (rc != -1 || !strstr(err, must_name))
        fprintf(stderr, "  %s=%s -> %s\n", var, value, err);
}

int main(void)
{
    long s;
    CHECK(config_parse_duration("90", &s) == 0 && s == 90);
    CHECK(config_parse_duration("30s", &s) == 0 && s == 30);
    CHECK(config_parse_duration("5m", &s) == 0 && s == 300);
    CHECK(config_parse_duration("1h", &s) == 0 && s == 3600);
    CHECK(config_parse_duration("7d", &s) == 0 && s == 7 * 86400);
    CHECK(config_parse_duration("h", &s) == 0 && s == 3600);
    CHECK(config_parse_duration("", &s) == -1);
    CHECK(config_parse_duration("0", &s) == -1);
    CHECK(config_parse_duration("-5s", &s) == -1);
    CHECK(config_parse_duration("5x", &s) == -1);
    CHECK(config_parse_duration("99999999999d", &s) == -1);
    rate_limit l;
    CHECK(config_parse_limit("60/1m", &l) == 0 && l.count == 60 && l.window == 60);
    CHECK(config_parse_limit("10/30s", &l) == 0 && l.count == 10 && l.window == 30);
    CHECK(config_parse_limit("100/h", &l) == 0 && l.window == 3600);
    CHECK(config_parse_limit("60", &l) == -1);
    CHECK(config_parse_limit("/1m", &l) == -1);
    CHECK(config_parse_limit("0/1m", &l) == -1);
    CHECK(config_parse_limit("5/2d", &l) == -1);

    char err[512];
    clear_env();
    setenv("CLEANPNG_LIBRARY_DIR", "/", 1);
    CHECK(config_load(&cfg, NULL, err, sizeof err) == 0);
    CHECK(cfg.search == SEARCH_LOCAL && cfg.engine == ENGINE_LOCAL);
    CHECK(cfg.limit_search.count == 60 && cfg.limit_search.window == 60);
    CHECK(cfg.retention_search_s == 7 * 86400 && cfg.retention_access_s == 90 * 86400);
    CHECK(cfg.search_cache_ttl_s == 3600);
    CHECK(cfg.workers >= 1 && cfg.threads >= 1);
    CHECK_STR(cfg.app_name, "cleanpng");
    CHECK(cfg.image_host_count == 1 && !strcmp(cfg.image_hosts[0], "images.unsplash.com"));

    setenv("CLEANPNG_UNSPLASH_ACCESS_KEY", "k", 1);
    setenv("CLEANPNG_REMOVEBG_API_KEY", "k2", 1);
    CHECK(config_load(&cfg, NULL, err, sizeof err) == 0);
    CHECK(cfg.search == SEARCH_UNSPLASH && cfg.engine == ENGINE_REMOVEBG);

    expect_bad("CLEANPNG_WORKERS", "abc", "CLEANPNG_WORKERS");
    expect_bad("CLEANPNG_WORKERS", "0", "CLEANPNG_WORKERS");
    expect_bad("CLEANPNG_THREADS", "-3", "CLEANPNG_THREADS");
    expect_bad("CLEANPNG_SEARCH_PROVIDER", "google", "CLEANPNG_SEARCH_PROVIDER");
    expect_bad("CLEANPNG_SEARCH_PROVIDER", "unsplash", "CLEANPNG_UNSPLASH_ACCESS_KEY");
    expect_bad("CLEANPNG_REMOVE_ENGINE", "rembg", "CLEANPNG_REMBG_URL");
    expect_bad("CLEANPNG_REMOVE_ENGINE", "magic", "CLEANPNG_REMOVE_ENGINE");
    expect_bad("CLEANPNG_LIMIT_SEARCH", "lots", "CLEANPNG_LIMIT_SEARCH");
    expect_bad("CLEANPNG_RETENTION_SEARCH", "8d", "CLEANPNG_RETENTION_SEARCH");
    expect_bad("CLEANPNG_REDIS_URL", "http://x", "CLEANPNG_REDIS_URL");
    expect_bad("CLEANPNG_UNSPLASH_API_URL", "ftp://x", "CLEANPNG_UNSPLASH_API_URL");
    expect_bad("CLEANPNG_APP_NAME", "a b", "CLEANPNG_APP_NAME");
    expect_bad("CLEANPNG_IMAGE_HOSTS", "evil/host", "CLEANPNG_IMAGE_HOSTS");
    expect_bad("CLEANPNG_SOCKET_MODE", "999", "CLEANPNG_SOCKET_MODE");

    /* a secret that is too long is reported without echoing it */
    char longkey[400];
    memset(longkey, 'S', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    clear_env();
    setenv("CLEANPNG_LIBRARY_DIR", "/", 1);
    setenv("CLEANPNG_REMOVEBG_API_KEY", longkey, 1);
    CHECK(config_load(&cfg, NULL, err, sizeof err) == -1);
    CHECK(strstr(err, "CLEANPNG_REMOVEBG_API_KEY") != NULL);
    CHECK(strstr(err, "SSSS") == NULL);

    /* env file: applies what the environment does not set */
    clear_env();
    char path[] = "/tmp/cleanpng-envXXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\nCLEANPNG_LIBRARY_DIR=/\nCLEANPNG_APP_NAME=\"fromfile\"\n"
               "export CLEANPNG_THREADS=7\nCLEANPNG_WORKERS=3\n");
    fclose(f);
    setenv("CLEANPNG_WORKERS", "2", 1);
    CHECK(config_load(&cfg, path, err, sizeof err) == 0);
    CHECK_STR(cfg.app_name, "fromfile");
    CHECK(cfg.threads == 7);
    CHECK(cfg.workers == 2);
    f = fopen(path, "w");
    fprintf(f, "NOT A VALID LINE\n");
    fclose(f);
    clear_env();
    CHECK(config_load(&cfg, path, err, sizeof err) == -1);
    CHECK(strstr(err, "CLEANPNG_ENV_FILE") != NULL);
    unlink(path);
    return check_done("config");
}
