#include "store/logq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/timeutil.h"
#include "store/keys.h"
#include "store/redis.h"

#define LOGQ_BATCH 128

/* One call writes a run of entries of one client (so every key it touches
 * shares the client's hash slot). KEYS[1] the erase mark, KEYS[2..4] the
 * access/search/error indexes, KEYS[5..] the entries. ARGV[1] now (ms), then
 * per entry: value, expire-at ms, entry time ms, kind (0..2).
 * An entry older than the client's last erase is skipped, one whose
 * retention has already run out is not written; each touched index is
 * trimmed of expired members and lives exactly as long as its newest entry.
 * Returns {written, expired}. */
const char LOGQ_WRITE_SCRIPT[] =
    "local now = tonumber(ARGV[1])\n"
    "local erased = tonumber(redis.call('GET', KEYS[1]) or '-1')\n"
    "local written, expired, touched = 0, 0, {}\n"
    "for i = 5, #KEYS do\n"
    "  local a = 2 + (i - 5) * 4\n"
    "  local exp, t, kind = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])\n"
    "  if exp <= now then expired = expired + 1\n"
    "  elseif t > erased then\n"
    "    redis.call('SET', KEYS[i], ARGV[a], 'PXAT', exp)\n"
    "    redis.call('ZADD', KEYS[2 + kind], exp, KEYS[i])\n"
    "    touched[kind] = true\n"
    "    written = written + 1\n"
    "  end\n"
    "end\n"
    "for kind in pairs(touched) do\n"
    "  local idx = KEYS[2 + kind]\n"
    "  redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)\n"
    "  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')\n"
    "  if top[2] then redis.call('PEXPIREAT', idx, top[2]) end\n"
    "end\n"
    "return {written, expired}\n";

#define LOGQ_RUN_MAX 32 /* entries of one client per script call */

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
    long worker;
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
        metrics_log_queue(q.worker, q.count, d);
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
    /* wake the writer only when it may be idle; while it gathers a batch,
     * further entries just accumulate */
    if (q.count++ == 0)
        pthread_cond_signal(&q.cond);
    pthread_mutex_unlock(&q.lock);
    return 0;
}

/* Writes entries [0, n) of the queue's front in one pipeline, one script
 * call per run of entries of the same client. Returns how many were handled
 * (written, skipped as erased, or expired), or -1 on a connection error
 * (none are removed then). */
static long write_batch(redis_conn *c, entry *batch, size_t n)
{
    redisContext *ctx = redis_conn_get(c);
    if (!ctx)
        return -1;
    enum { PER_ENTRY_STR = 3 };
    static __thread char keys[LOGQ_RUN_MAX + 4][160];
    static __thread char nums[LOGQ_RUN_MAX * PER_ENTRY_STR + 1][24];
    const char *argv[3 + (LOGQ_RUN_MAX + 4) + 1 + LOGQ_RUN_MAX * 4];
    size_t argl[sizeof argv / sizeof argv[0]];
    size_t runs[LOGQ_BATCH];
    size_t nruns = 0;
    pid_t pid = getpid();
    long long now = (long long)now_wall_ms();
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && j - i < LOGQ_RUN_MAX && !strcmp(batch[j].who, batch[i].who))
            j++;
        size_t m = j - i, a = 0, k = 0;
        snprintf(keys[0], sizeof keys[0], "cp:erased:{%s}", batch[i].who);
        for (int kind = 0; kind < LOGK_COUNT; kind++)
            snprintf(keys[1 + kind], sizeof keys[0], "cp:idx:{%s}:%s", batch[i].who,
                     log_kind_name((log_kind)kind));
        for (size_t e = 0; e < m; e++) {
            entry *en = &batch[i + e];
            snprintf(keys[4 + e], sizeof keys[0], "cp:log:{%s}:%s:%lld-%d-%lu", en->who,
                     log_kind_name(en->kind), en->time_ms, (int)pid, en->seq);
        }
        char numkeys[8];
        snprintf(numkeys, sizeof numkeys, "%zu", 4 + m);
        argv[a++] = "EVALSHA";
        argv[a++] = q.sha;
        argv[a++] = numkeys;
        for (size_t e = 0; e < 4 + m; e++)
            argv[a++] = keys[e];
        snprintf(nums[k], sizeof nums[k], "%lld", now);
        argv[a++] = nums[k++];
        for (size_t e = 0; e < m; e++) {
            entry *en = &batch[i + e];
            argv[a++] = en->json;
            snprintf(nums[k], sizeof nums[k], "%lld",
                     en->time_ms + (long long)log_kind_retention(q.cfg, en->kind) * 1000);
            argv[a++] = nums[k++];
            snprintf(nums[k], sizeof nums[k], "%lld", en->time_ms);
            argv[a++] = nums[k++];
            argv[a++] = en->kind == LOGK_ACCESS ? "0" : en->kind == LOGK_SEARCH ? "1" : "2";
        }
        for (size_t e = 0; e < a; e++)
            argl[e] = strlen(argv[e]);
        /* hiredis copies the arguments into its output buffer here */
        redisAppendCommandArgv(ctx, (int)a, argv, argl);
        runs[nruns++] = m;
        i = j;
    }
    long handled = 0;
    int noscript = 0;
    for (size_t r_i = 0; r_i < nruns; r_i++) {
        redisReply *r = NULL;
        if (redisGetReply(ctx, (void **)&r) != REDIS_OK || !r) {
            redis_conn_fail(c);
            return handled ? handled : -1;
        }
        if (r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8)) {
            noscript = 1;
        } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && !noscript) {
            q.written += (unsigned long long)r->element[0]->integer;
            q.expired += (unsigned long long)r->element[1]->integer;
            handled += (long)runs[r_i];
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
    }
    return handled; /* after NOSCRIPT the rest is retried at once */
}

/* Waits on the queue's condition (lock held) for at most ms milliseconds. */
static void wait_locked_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&q.cond, &q.lock, &ts);
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
        if (q.count < LOGQ_RUN_MAX && !q.stopping) {
            /* let a few more entries gather: fewer, fuller pipelines */
            wait_locked_ms(2);
        }
        size_t n = q.count < LOGQ_BATCH ? q.count : LOGQ_BATCH;
        for (size_t i = 0; i < n; i++)
            batch[i] = q.ring[(q.head + i) % q.cap];
        pthread_mutex_unlock(&q.lock);
        long done = write_batch(&c, batch, n);
        pthread_mutex_lock(&q.lock);
        q.redis_up = redis_conn_up(&c);
        metrics_log_queue(q.worker, q.count - (done > 0 ? (size_t)done : 0), q.dropped);
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
            wait_locked_ms(200);
        }
    }
    if (q.count)
        log_warn("event=log_queue_unwritten_at_exit entries=%zu", q.count);
    pthread_mutex_unlock(&q.lock);
    redis_conn_close(&c);
    return NULL;
}

int logq_start(const config *cfg, long worker_index)
{
    q.cfg = cfg;
    q.worker = worker_index;
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
