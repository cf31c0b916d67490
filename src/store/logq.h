/* Retention-bound visitor logs (access 90 d, error 30 d, search 7 d by
 * default), written to Redis by one writer thread per worker process.
 *
 * Request threads only append to a bounded in-memory queue, so writing a
 * log entry adds no Redis round trip to any request. While Redis is down the
 * entries wait in the queue and are written, with their original times and
 * expiry dates, when it returns; an entry whose retention has already passed
 * is not written at all. When the queue is full a new entry is refused and
 * counted (logq_stats, /api/health, and an operational log line), never
 * dropped silently. */
#ifndef CLEANPNG_STORE_LOGQ_H
#define CLEANPNG_STORE_LOGQ_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

typedef enum { LOGK_ACCESS = 0, LOGK_SEARCH, LOGK_ERROR, LOGK_COUNT } log_kind;

const char *log_kind_name(log_kind k); /* "access", "search", "error" */
long log_kind_retention(const config *cfg, log_kind k);

/* Starts the writer of this process. 0 on success. */
int logq_start(const config *cfg, long worker_index);

/* Stops accepting, writes what is queued until deadline (monotonic us), stops. */
void logq_stop(uint64_t deadline_us);

/* Queues one entry for client hash `who`; takes ownership of json (a
 * malloc'd JSON object text). Returns 0, or -1 when the queue is full (the
 * entry is freed and counted as dropped). */
int logq_push(log_kind kind, const char *who, long long time_ms, char *json);

typedef struct {
    size_t depth;
    size_t capacity;
    unsigned long long written;
    unsigned long long dropped;
    unsigned long long expired_unwritten; /* waited past their retention */
    int redis_up;
} logq_stats_t;

void logq_stats(logq_stats_t *out);

/* Lua source of the per-entry write, exposed so tests can run it. */
extern const char LOGQ_WRITE_SCRIPT[];

#endif
