#include "api/remove_options.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const known_keys[] = {"size",   "crop",     "crop_margin", "bg_color",
                                         "format", "photo_id", NULL};

int remove_params_add(remove_params *p, const char *key, const char *value, size_t value_len,
                      api_error *err)
{
    int known = 0;
    for (int i = 0; known_keys[i]; i++)
        if (!strcmp(known_keys[i], key))
            known = 1;
    if (!known)
        return 0; /* ignore what we do not know (e.g. a cache-buster) */
    if (p->count == REMOVE_PARAMS_MAX) {
        api_error_set(err, 400, "invalid_parameter", NULL, "too many options");
        return -1;
    }
    if (value_len >= REMOVE_PARAM_VALUE_MAX || memchr(value, '\0', value_len)) {
        api_error_set(err, 400, "invalid_parameter", NULL, "the value of %.31s is too long", key);
        return -1;
    }
    remove_param *it = &p->items[p->count++];
    snprintf(it->key, sizeof it->key, "%s", key);
    memcpy(it->value, value, value_len);
    it->value[value_len] = '\0';
    return 0;
}

/* The value of key, NULL when absent; -1 when given twice. */
static int lookup(const remove_params *p, const char *key, const char **value)
{
    *value = NULL;
    for (int i = 0; i < p->count; i++) {
        if (!strcmp(p->items[i].key, key)) {
            if (*value)
                return -1;
            *value = p->items[i].value;
        }
    }
    return 0;
}

int photo_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PHOTO_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int remove_options_parse(const remove_params *p, remove_options *out, api_error *err)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; known_keys[i]; i++) {
        const char *v;
        if (lookup(p, known_keys[i], &v)) {
            api_error_set(err, 400, "invalid_parameter", known_keys[i],
                          "%s must be given only once", known_keys[i]);
            return -1;
        }
    }
    const char *v;
    lookup(p, "size", &v);
    if (!v || !*v || !strcmp(v, "auto"))
        out->size = SIZE_AUTO;
    else if (!strcmp(v, "preview") || !strcmp(v, "small") || !strcmp(v, "regular"))
        out->size = SIZE_PREVIEW;
    else if (!strcmp(v, "full") || !strcmp(v, "4k"))
        out->size = SIZE_FULL;
    else {
        api_error_set(err, 400, "invalid_parameter", "size", "size must be preview, full or auto");
        return -1;
    }
    lookup(p, "crop", &v);
    if (!v || !*v || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
        out->crop = 0;
    else if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
             !strcasecmp(v, "on"))
        out->crop = 1;
    else {
        api_error_set(err, 400, "invalid_parameter", "crop", "crop must be true or false");
        return -1;
    }
    lookup(p, "crop_margin", &v);
    if (v && *v) {
        if (!img_margin_parse(v, &out->margin)) {
            api_error_set(err, 400, "invalid_parameter", "crop_margin",
                          "crop_margin must be 1, 2 or 4 values in px or %% (e.g. 10px or 5%%)");
            return -1;
        }
        out->has_margin = 1;
    }
    lookup(p, "bg_color", &v);
    if (v && *v) {
        if (!img_color_parse(v, &out->bg)) {
            api_error_set(err, 400, "invalid_parameter", "bg_color",
                          "bg_color must be a hex colour: rgb, rrggbb or rrggbbaa");
            return -1;
        }
        out->has_bg = 1;
    }
    lookup(p, "format", &v);
    if (!v || !*v || !strcmp(v, "png"))
        out->format = FORMAT_PNG;
    else if (!strcmp(v, "webp"))
        out->format = FORMAT_WEBP;
    else {
        api_error_set(err, 400, "invalid_parameter", "format", "format must be png or webp");
        return -1;
    }
    lookup(p, "photo_id", &v);
    if (v) {
        if (!photo_id_valid(v)) {
            api_error_set(err, 400, "invalid_parameter", "photo_id",
                          "photo_id must be 1 to 64 letters, digits, '-' or '_'");
            return -1;
        }
        snprintf(out->photo_id, sizeof out->photo_id, "%s", v);
    }
    return 0;
}
