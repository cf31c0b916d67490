#include "store/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/timeutil.h"
#include "store/keys.h"

/* KEYS[1] counter; ARGV[1] window ms, ARGV[2] limit, ARGV[3] cost.
 * Returns {allowed, count, pttl}. Refusals do not count, so a client that
 * keeps hammering does not extend its own window. */
static const char RL_SCRIPT[] =
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local cost = tonumber(ARGV[3])\n"
    "if cur + cost > tonumber(ARGV[2]) then\n"
    "  local t = redis.call('PTTL', KEYS[1])\n"
    "  if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); t = tonumber(ARGV[1]) end\n"
    "  return {0, cur, t}\n"
    "end\n"
    "local n = redis.call('INCRBY', KEYS[1], cost)\n"
    "local t = redis.call('PTTL', KEYS[1])\n"
    "if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); t = tonumber(ARGV[1]) end\n"
    "return {1, n, t}\n";

static char rl_sha[41];
static pthread_once_t rl_sha_once = PTHREAD_ONCE_INIT;

static void compute_sha(void)
{
    sha1_hex(RL_SCRIPT, sizeof RL_SCRIPT - 1, rl_sha);
}

/* --- in-memory fallback ---------------------------------------------------- */

#define LOCAL_SLOTS 4096

typedef struct {
    char key[96];
    long long window_end_ms;
    long count;
} local_slot;

static local_slot local_slots[LOCAL_SLOTS];
static pthread_mutex_t local_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned long hash_str(const char *s)
{
    unsigned long h = 1469598103934665603ul;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ul;
    return h;
}

void ratelimit_local(const char *key, const rate_limit *lim, long cost, long long now_ms,
                     rl_decision *out)
{
    unsigned long h = hash_str(key) % LOCAL_SLOTS;
    pthread_mutex_lock(&local_lock);
    local_slot *s = &local_slots[h];
    /* a slot holds one key; an expired or colliding entry is replaced, which
     * can only ever forgive a client, never block one wrongly */
    if (strcmp(s->key, key) != 0 || now_ms >= s->window_end_ms) {
        snprintf(s->key, sizeof s->key, "%s", key);
        s->window_end_ms = now_ms + lim->window * 1000;
        s->count = 0;
    }
    out->limit = lim->count;
    out->fallback = 1;
    out->reset_s = (long)((s->window_end_ms - now_ms + 999) / 1000);
    if (s->count + cost > lim->count) {
        out->allowed = 0;
    } else {
        s->count += cost;
        out->allowed = 1;
    }
    out->remaining = lim->count - s->count;
    if (out->remaining < 0)
        out->remaining = 0;
    pthread_mutex_unlock(&local_lock);
}

static int decode_reply(redisReply *r, const rate_limit *lim, rl_decision *out)
{
    int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
             r->element[0]->type == REDIS_REPLY_INTEGER;
    if (ok) {
        out->allowed = r->element[0]->integer == 1;
        long long count = r->element[1]->integer;
        long long pttl = r->element[2]->integer;
        out->limit = lim->count;
        out->remaining = lim->count - (long)count;
        if (out->remaining < 0)
            out->remaining = 0;
        out->reset_s = (long)((pttl + 999) / 1000);
        out->fallback = 0;
    }
    return ok ? 0 : -1;
}

static int run_script(redis_conn *c, const char *key, const rate_limit *lim, long cost,
                      rl_decision *out)
{
    pthread_once(&rl_sha_once, compute_sha);
    char win[24], lmt[24], cst[24];
    snprintf(win, sizeof win, "%ld", lim->window * 1000);
    snprintf(lmt, sizeof lmt, "%ld", lim->count);
    snprintf(cst, sizeof cst, "%ld", cost);
    redisReply *r = redis_conn_command(c, "EVALSHA %s 1 %s %s %s %s", rl_sha, key, win, lmt, cst);
    if (r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8)) {
        freeReplyObject(r);
        r = redis_conn_command(c, "EVAL %s 1 %s %s %s %s", RL_SCRIPT, key, win, lmt, cst);
    }
    if (!r)
        return -1;
    int rc = decode_reply(r, lim, out);
    freeReplyObject(r);
    return rc;
}

void ratelimit_check(redis_conn *c, const char *who, const char *cls, const rate_limit *lim,
                     rl_decision *out)
{
    char key[128];
    snprintf(key, sizeof key, "cp:rl:{%s}:%s", who, cls);
    if (run_script(c, key, lim, 1, out) != 0)
        ratelimit_local(key, lim, 1, (long long)now_wall_ms(), out);
}

void budget_spend(redis_conn *c, const char *upstream, const char *tag, long cost,
                  const rate_limit *lim, rl_decision *out)
{
    char key[128];
    snprintf(key, sizeof key, "cp:budget:%s:%s", upstream, tag);
    if (run_script(c, key, lim, cost, out) != 0)
        ratelimit_local(key, lim, cost, (long long)now_wall_ms(), out);
}

void ratelimit_check_and_get(redis_conn *c, const char *who, const char *cls, const rate_limit *lim,
                             rl_decision *out, const char *get_key, redisReply **got)
{
    *got = NULL;
    char key[128];
    snprintf(key, sizeof key, "cp:rl:{%s}:%s", who, cls);
    pthread_once(&rl_sha_once, compute_sha);
    redisContext *ctx = redis_conn_get(c);
    if (!ctx) {
        ratelimit_local(key, lim, 1, (long long)now_wall_ms(), out);
        return;
    }
    char win[24], lmt[24];
    snprintf(win, sizeof win, "%ld", lim->window * 1000);
    snprintf(lmt, sizeof lmt, "%ld", lim->count);
    redisAppendCommand(ctx, "EVALSHA %s 1 %s %s %s 1", rl_sha, key, win, lmt);
    redisAppendCommand(ctx, "GET %s", get_key);
    redisReply *rl = NULL, *get = NULL;
    if (redisGetReply(ctx, (void **)&rl) != REDIS_OK || !rl ||
        redisGetReply(ctx, (void **)&get) != REDIS_OK || !get) {
        if (rl)
            freeReplyObject(rl);
        redis_conn_fail(c);
        ratelimit_local(key, lim, 1, (long long)now_wall_ms(), out);
        return;
    }
    *got = get;
    int rc = -1;
    if (rl->type == REDIS_REPLY_ERROR && !strncmp(rl->str, "NOSCRIPT", 8))
        rc = run_script(c, key, lim, 1, out); /* loads the script for next time */
    else
        rc = decode_reply(rl, lim, out);
    freeReplyObject(rl);
    if (rc)
        ratelimit_local(key, lim, 1, (long long)now_wall_ms(), out);
}
