/* EXIF orientation: read only IFD0 tag 0x0112, nothing else. Every offset
 * comes from untrusted data, so each read is checked against len first. */
#include "exif.h"

#include <string.h>

#define EXIF_TAG_ORIENTATION 0x0112
#define EXIF_TYPE_SHORT 3

static uint32_t rd16(const uint8_t *p, int big_endian)
{
    return big_endian ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t rd32(const uint8_t *p, int big_endian)
{
    return big_endian ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                      : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int exif_orientation_from_tiff(const uint8_t *p, size_t len)
{
    int be;
    if (!p || len < 8)
        return 1;
    if (p[0] == 'I' && p[1] == 'I')
        be = 0;
    else if (p[0] == 'M' && p[1] == 'M')
        be = 1;
    else
        return 1;
    if (rd16(p + 2, be) != 42)
        return 1;
    uint64_t ifd = rd32(p + 4, be);
    if (ifd + 2 > len)
        return 1;
    uint32_t count = rd16(p + ifd, be);
    /* The entry count is bounded by the data actually present. */
    for (uint32_t i = 0; i < count; i++) {
        uint64_t e = ifd + 2 + (uint64_t)i * 12;
        if (e + 12 > len)
            return 1;
        if (rd16(p + e, be) != EXIF_TAG_ORIENTATION)
            continue;
        if (rd16(p + e + 2, be) != EXIF_TYPE_SHORT || rd32(p + e + 4, be) < 1)
            return 1;
        /* A single SHORT sits left-justified in the 4-byte value field. */
        uint32_t v = rd16(p + e + 8, be);
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

int exif_orientation(const uint8_t *p, size_t len)
{
    if (p && len >= 6 && memcmp(p, "Exif\0\0", 6) == 0)
        return exif_orientation_from_tiff(p + 6, len - 6);
    return exif_orientation_from_tiff(p, len);
}
