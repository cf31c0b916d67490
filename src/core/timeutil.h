#ifndef CLEANPNG_CORE_TIMEUTIL_H
#define CLEANPNG_CORE_TIMEUTIL_H

#include <stdint.h>

uint64_t now_mono_us(void); /* monotonic clock, for durations */
uint64_t now_wall_ms(void); /* wall clock, for timestamps */

#endif
