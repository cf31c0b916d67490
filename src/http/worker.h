/* A worker process: T threads that accept FastCGI connections on the shared
 * listening socket and run each request through the dispatcher. */
#ifndef CLEANPNG_HTTP_WORKER_H
#define CLEANPNG_HTTP_WORKER_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/config.h"
#include "http/scoreboard.h"
#include "store/redis.h"

/* Per-thread resources, created once when the thread starts and reused by
 * every request it serves. Never shared between threads. */
typedef struct worker_thread {
    const config *cfg;
    long worker_index;
    long thread_index;
    pthread_t tid;
    int listen_fd;
    int stop_fd; /* eventfd, readable once the worker is stopping */
    int ep;      /* the worker's epoll set, shared by its threads (worker.c) */
    atomic_int *stopping;
    CURL *curl;
    redis_conn redis;
    scoreboard_slot *slot;
    struct request *current; /* the request this thread is serving, or NULL */
    atomic_int done;
} worker_thread;

/* Runs a worker process until SIGTERM/SIGINT; returns the exit status.
 * Expects SIGTERM, SIGINT and SIGHUP blocked in the calling thread. */
int worker_main(const config *cfg, long worker_index, int listen_fd, scoreboard_slot *sb);

#endif
