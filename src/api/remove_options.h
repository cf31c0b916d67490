/* Options of POST /api/remove, gathered from the query string, form fields
 * or a JSON body into one list of key/value pairs, then validated. Pure. */
#ifndef CLEANPNG_API_REMOVE_OPTIONS_H
#define CLEANPNG_API_REMOVE_OPTIONS_H

#include <stddef.h>

#include "http/errors.h"
#include "imgops.h"

#define REMOVE_PARAMS_MAX 24
#define REMOVE_PARAM_VALUE_MAX 256
#define PHOTO_ID_MAX 64

typedef enum { SIZE_AUTO, SIZE_PREVIEW, SIZE_FULL } remove_size;
typedef enum { FORMAT_PNG, FORMAT_WEBP } remove_format;

typedef struct {
    char key[32];
    char value[REMOVE_PARAM_VALUE_MAX];
} remove_param;

typedef struct {
    remove_param items[REMOVE_PARAMS_MAX];
    int count;
} remove_params;

typedef struct {
    remove_size size;
    int crop;
    int has_margin;
    img_margin margin;
    int has_bg;
    img_color bg;
    remove_format format;
    char photo_id[PHOTO_ID_MAX + 1]; /* "" when the image is uploaded */
} remove_options;

/* Adds one pair; -1 with err set when there are too many or a value is too
 * long. Unknown keys are kept and ignored by remove_options_parse. */
int remove_params_add(remove_params *p, const char *key, const char *value, size_t value_len,
                      api_error *err);

/* Validates the pairs into *out; -1 with err set (400) on a bad value or a
 * key given twice. */
int remove_options_parse(const remove_params *p, remove_options *out, api_error *err);

/* Whether s is an acceptable photo id: 1..64 of [A-Za-z0-9_-]. */
int photo_id_valid(const char *s);

#endif
