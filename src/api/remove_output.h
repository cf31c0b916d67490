/* What happens to every cut-out, whichever engine made it: preview sizing,
 * crop to the subject, background colour, and encoding. Pure. */
#ifndef CLEANPNG_API_REMOVE_OUTPUT_H
#define CLEANPNG_API_REMOVE_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "api/remove_options.h"
#include "codec.h"
#include "http/errors.h"

/* Transforms img in place (it may be replaced) and encodes it into *out
 * (malloc'd). *mime is a static string. -1 with err set on failure. */
int remove_output(img_rgba *img, const remove_options *o, uint8_t **out, size_t *out_len,
                  const char **mime, api_error *err);

/* "<name>-cleanpng.<ext>" from an upload's file name or a photo id: path,
 * extension and unsafe characters removed, at most 60 characters of name. */
void remove_download_name(const char *source, const char *ext, char *out, size_t outlen);

#endif
