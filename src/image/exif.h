/* EXIF orientation lookup over a memory buffer. Pure, bounds-checked: any
 * malformed or truncated EXIF block yields orientation 1 (as stored). */
#ifndef CLEANPNG_IMAGE_EXIF_H
#define CLEANPNG_IMAGE_EXIF_H

#include <stddef.h>
#include <stdint.h>

/* p points at a TIFF header ("II*\0" or "MM\0*"). Returns the IFD0
 * Orientation tag (0x0112) when it is 1..8, else 1. */
int exif_orientation_from_tiff(const uint8_t *p, size_t len);

/* p points at an EXIF payload that may start with "Exif\0\0" (JPEG APP1
 * body, most WebP EXIF chunks) or directly with the TIFF header. */
int exif_orientation(const uint8_t *p, size_t len);

#endif
