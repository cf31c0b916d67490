#include "store/logq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "store/keys.h"
#include "store/redis.h"

#define LOGQ_BATCH 128

/* KEYS[1] entry, KEYS[2] index, KEYS[3] erase marker.
 * ARGV[1] value, ARGV[2] expire-at ms, ARGV[3] entry time ms.
 * Writes nothing for an entry older than the visitor's last erase or whose
 * retention has already run out; the index is trimmed of expired members
 * and lives exactly as long as its newest entry. */
const char LOGQ_WRITE_SCRIPT[] =
    "local now = redis.call('TIME')\n"
    "local nowms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)\n"
    "local exp = tonumber(ARGV[2])\n"
    "if exp <= nowms then return -1 end\n"
    "local erased = redis.call('GET', KEYS[3])\n"
    "if erased and tonumber(erased) >= tonumber(ARGV[3]) then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PXAT', exp)\n"
    "redis.call('ZADD', KEYS[2], exp, KEYS[1])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowms)\n"
    "local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')\n"
    "redis.call('PEXPIREAT', KEYS[2], tonumber(top[2]))\n"
    "return 1\n";

typedef struct {
    log_kind kind;
    char who[CLIENT_HASH_LEN + 1];
    long long time_ms;
    unsigned long seq;
    char *json;
} entry;

static struct {
    const config *cfg;
    entry *ring;
    size_t cap, head, count;
    unsigned long seq;
    int stopping;
    int running;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned long long written, dropped, expired;
    int redis_up;
    uint64_t deadline_us;
    char sha[41];
} q = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

const char *log_kind_name(log_kind k)
{
    static const char *names[] = {"access", "search", "error"};
    return k < LOGK_COUNT ? names[k] : "?";
}

long log_kind_retention(const config *cfg, log_kind k)
{
    switch (k) {
    case LOGK_ACCESS:
        return cfg->retention_access_s;
    case LOGK_SEARCH:
        return cfg->retention_search_s;
    default:
        return cfg->retention_error_s;
    }
}

int logq_push(log_kind kind, const char *who, long long time_ms, char *json)
{
    pthread_mutex_lock(&q.lock);
    if (!q.running || q.stopping || q.count == q.cap) {
        unsigned long long d = ++q.dropped;
        pthread_mutex_unlock(&q.lock);
        free(json);
        /* every power of two, so a long outage does not flood the log */
        if ((d & (d - 1)) == 0)
            log_error("event=log_queue_full dropped_total=%llu capacity=%zu", d, q.cap);
        return -1;
    }
    entry *e = &q.ring[(q.head + q.count) % q.cap];
    e->kind = kind;
    snprintf(e->who, sizeof e->who, "%s", who);
    e->time_ms = time_ms;
    e->seq = ++q.seq;
    e->json = json;
    q.count++;
    pthread_cond_signal(&q.cond);
    pthread_mutex_unlock(&q.lock);
    return 0;
}

/* Writes entries [0, n) of the queue's front in one pipeline. Returns how
 * many were handled (written, skipped as erased, or expired), or -1 on a
 * connection error (none are removed then). */
static long write_batch(redis_conn *c, entry *batch, size_t n)
{
    redisContext *ctx = redis_conn_get(c);
    if (!ctx)
        return -1;
    pid_t pid = getpid();
    for (size_t i = 0; i < n; i++) {
        entry *e = &batch[i];
        char key[160], idx[128], erased[96], exp[24], t[24];
        snprintf(key, sizeof key, "cp:log:{%s}:%s:%lld-%d-%lu", e->who, log_kind_name(e->kind),
                 e->time_ms, (int)pid, e->seq);
        snprintf(idx, sizeof idx, "cp:idx:{%s}:%s", e->who, log_kind_name(e->kind));
        snprintf(erased, sizeof erased, "cp:erased:{%s}", e->who);
        snprintf(exp, sizeof exp, "%lld",
                 e->time_ms + (long long)log_kind_retention(q.cfg, e->kind) * 1000);
        snprintf(t, sizeof t, "%lld", e->time_ms);
        redisAppendCommand(ctx, "EVALSHA %s 3 %s %s %s %s %s %s", q.sha, key, idx, erased, e->json,
                           exp, t);
    }
    long handled = 0;
    int noscript = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(ctx, (void **)&r) != REDIS_OK || !r) {
            redis_conn_fail(c);
            return handled ? handled : -1;
        }
        if (r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8))
            noscript = 1;
        else if (r->type == REDIS_REPLY_INTEGER && !noscript) {
            if (r->integer == -1)
                q.expired++;
            else
                q.written += (r->integer == 1);
            handled++;
        } else if (!noscript) {
            log_warn("event=log_write_error err=\"%s\"",
                     r->type == REDIS_REPLY_ERROR ? r->str : "?");
            redis_conn_fail(c);
            freeReplyObject(r);
            return handled ? handled : -1;
        }
        freeReplyObject(r);
    }
    if (noscript) {
        redisReply *r = redis_conn_command(c, "SCRIPT LOAD %s", LOGQ_WRITE_SCRIPT);
        if (r)
            freeReplyObject(r);
        return handled; /* the rest is retried at once */
    }
    return handled;
}

static void *writer_main(void *arg)
{
    (void)arg;
    redis_conn c;
    redis_conn_init(&c, q.cfg);
    entry batch[LOGQ_BATCH];
    pthread_mutex_lock(&q.lock);
    for (;;) {
        while (q.count == 0 && !q.stopping)
            pthread_cond_wait(&q.cond, &q.lock);
        if (q.count == 0 || (q.stopping && now_mono_us() >= q.deadline_us))
            break;
        size_t n = q.count < LOGQ_BATCH ? q.count : LOGQ_BATCH;
        for (size_t i = 0; i < n; i++)
            batch[i] = q.ring[(q.head + i) % q.cap];
        pthread_mutex_unlock(&q.lock);
        long done = write_batch(&c, batch, n);
        pthread_mutex_lock(&q.lock);
        q.redis_up = redis_conn_up(&c);
        if (done > 0) {
            /* only this thread removes, so the batch is still at the front */
            for (long i = 0; i < done; i++) {
                free(q.ring[q.head].json);
                q.ring[q.head].json = NULL;
                q.head = (q.head + 1) % q.cap;
                q.count--;
            }
        } else if (done < 0) {
            /* Redis is away: wait for the reconnect backoff, or for stop */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&q.cond, &q.lock, &ts);
        }
    }
    if (q.count)
        log_warn("event=log_queue_unwritten_at_exit entries=%zu", q.count);
    pthread_mutex_unlock(&q.lock);
    redis_conn_close(&c);
    return NULL;
}

int logq_start(const config *cfg)
{
    q.cfg = cfg;
    q.cap = (size_t)cfg->log_queue_size;
    q.ring = calloc(q.cap, sizeof *q.ring);
    if (!q.ring)
        return -1;
    sha1_hex(LOGQ_WRITE_SCRIPT, strlen(LOGQ_WRITE_SCRIPT), q.sha);
    q.running = 1;
    if (pthread_create(&q.tid, NULL, writer_main, NULL) != 0) {
        q.running = 0;
        return -1;
    }
    return 0;
}

void logq_stop(uint64_t deadline_us)
{
    if (!q.running)
        return;
    pthread_mutex_lock(&q.lock);
    q.stopping = 1;
    q.deadline_us = deadline_us;
    pthread_cond_broadcast(&q.cond);
    pthread_mutex_unlock(&q.lock);
    pthread_join(q.tid, NULL);
    for (size_t i = 0; i < q.count; i++)
        free(q.ring[(q.head + i) % q.cap].json);
    free(q.ring);
    q.ring = NULL;
    q.running = 0;
}

void logq_stats(logq_stats_t *out)
{
    pthread_mutex_lock(&q.lock);
    out->depth = q.count;
    out->capacity = q.cap;
    out->written = q.written;
    out->dropped = q.dropped;
    out->expired_unwritten = q.expired;
    out->redis_up = q.redis_up;
    pthread_mutex_unlock(&q.lock);
}
