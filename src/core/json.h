/* Tolerant getters over json-c objects: a missing key, a null or a value of
 * another type all read as "absent", so parsers of upstream answers can
 * treat every field as optional in one line. */
#ifndef CLEANPNG_CORE_JSON_H
#define CLEANPNG_CORE_JSON_H

#include <json-c/json.h>

/* The string at key, or NULL. Valid while o lives. */
const char *json_str(json_object *o, const char *key);
/* The object at key, or NULL. */
json_object *json_obj(json_object *o, const char *key);
/* The non-negative integer at key, or 0. */
long json_long(json_object *o, const char *key);

#endif
