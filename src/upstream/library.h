/* The local image library: a folder of images and a manifest.json, loaded
 * once at start-up (before the workers fork) and read-only afterwards, so
 * every thread may search it without locks. */
#ifndef CLEANPNG_UPSTREAM_LIBRARY_H
#define CLEANPNG_UPSTREAM_LIBRARY_H

#include <stddef.h>

#include "api/search_params.h"
#include "upstream/search_result.h"

#define LIBRARY_MANIFEST_MAX (8 * 1024 * 1024)
#define LIBRARY_MAX_PHOTOS 10000

typedef struct library library;

/* Loads dir/manifest.json. url_prefix is where nginx serves dir ("/library/").
 * NULL on error, with a one-line reason in err. */
library *library_load(const char *dir, const char *url_prefix, char *err, size_t errlen);

/* Same, from a manifest held in memory (for tests). */
library *library_load_buffer(const char *json, size_t len, const char *url_prefix, char *err,
                             size_t errlen);
void library_free(library *lib);
size_t library_count(const library *lib);

/* Ranks the photos against p (tags weigh most, then title, then
 * description; photos matching more of the query's words come first) and
 * fills one page. Never fails; out borrows strings from lib. */
void library_search(const library *lib, const search_params *p, search_page *out);

/* The file name (inside the library folder) of the full-size image of the
 * photo with this id, or NULL when there is no such photo. */
const char *library_full_file(const library *lib, const char *id);

#endif
