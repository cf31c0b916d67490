#include "http/scoreboard.h"

#include <stddef.h>
#include <sys/mman.h>

scoreboard_slot *scoreboard_create(long workers, long threads)
{
    size_t size = (size_t)workers * (size_t)threads * sizeof(scoreboard_slot);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p; /* mmap zero-fills */
}

scoreboard_slot *scoreboard_slot_at(scoreboard_slot *sb, long threads, long worker, long thread)
{
    return &sb[worker * threads + thread];
}
