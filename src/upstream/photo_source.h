/* photo_id → image bytes, from whichever search provider is configured:
 * the local library reads its file from disk; Unsplash is asked for the
 * photo, told about the download (its rules require it), and the image is
 * fetched from the allow-listed image host through safe_fetch. */
#ifndef CLEANPNG_UPSTREAM_PHOTO_SOURCE_H
#define CLEANPNG_UPSTREAM_PHOTO_SOURCE_H

#include "api/remove_options.h"
#include "core/buf.h"
#include "core/config.h"
#include "http/errors.h"
#include "upstream/library.h"

struct worker_thread;

#define PHOTO_FETCH_SIDE_FULL 2500 /* longest side we ask the image host for */
#define PHOTO_FETCH_SIDE_PREVIEW 1000

/* 0 and the image bytes in out (initialised here), or -1 and err set:
 * 404 photo_not_found, 502/503/504 for upstream trouble. */
int photo_fetch(struct worker_thread *t, const config *cfg, const library *lib,
                const char *photo_id, remove_size size, buf *out, api_error *err);

/* Appends the bounded-size parameters to an Unsplash raw URL (pure). */
int unsplash_sized_url(const char *raw, int side, char *out, size_t outlen);

#endif
