/* Shared memory the master reads to know what each worker thread was doing
 * when its process died. Written only by the owning thread; read by the
 * master after the worker is gone, so no lock is needed. */
#ifndef CLEANPNG_HTTP_SCOREBOARD_H
#define CLEANPNG_HTTP_SCOREBOARD_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct {
    atomic_int busy;
    char request_id[65];
    char method[8];
    char route[48];
    uint64_t started_ms;
} scoreboard_slot;

/* workers * threads slots in one MAP_SHARED anonymous mapping, or NULL. */
scoreboard_slot *scoreboard_create(long workers, long threads);
scoreboard_slot *scoreboard_slot_at(scoreboard_slot *sb, long threads, long worker, long thread);

#endif
