#include "http/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "http/dispatch.h"
#include "store/logq.h"

#define WORKER_THREAD_STACK (1024 * 1024)

static int thread_init(worker_thread *t)
{
    t->curl = curl_easy_init();
    if (!t->curl)
        return -1;
    redis_conn_init(&t->redis, t->cfg);
    redis_conn_get(&t->redis); /* connect eagerly; failure is not fatal */
    return 0;
}

static void thread_cleanup(worker_thread *t)
{
    if (t->curl)
        curl_easy_cleanup(t->curl);
    t->curl = NULL;
    redis_conn_close(&t->redis);
}

/* Waits until the listening socket is readable (one thread is woken per
 * connection thanks to EPOLLEXCLUSIVE) or the worker is stopping. The
 * listening socket is non-blocking, so a thread that loses the race for a
 * connection gets EAGAIN from accept and comes back here: no thread ever
 * sits in accept() where a shutdown could not reach it. */
static void *thread_main(void *arg)
{
    worker_thread *t = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || thread_init(t) != 0) {
        log_error("event=thread_init_failed thread=%ld", t->thread_index);
        if (ep >= 0)
            close(ep);
        thread_cleanup(t);
        atomic_store(&t->done, 1);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = t->listen_fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, t->listen_fd, &ev);
    struct epoll_event sev = {.events = EPOLLIN, .data.fd = t->stop_fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, t->stop_fd, &sev);

    FCGX_Request req;
    FCGX_InitRequest(&req, t->listen_fd, 0);
    for (;;) {
        struct epoll_event out[2];
        int n = epoll_wait(ep, out, 2, -1);
        if (n < 0 && errno != EINTR)
            break;
        int stop = 0, ready = 0;
        for (int i = 0; i < n; i++) {
            if (out[i].data.fd == t->stop_fd)
                stop = 1;
            else
                ready = 1;
        }
        if (stop)
            break;
        if (!ready)
            continue;
        int rc = FCGX_Accept_r(&req);
        if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR)
            continue;
        if (rc < 0) {
            log_warn("event=accept_failed rc=%d", rc);
            continue;
        }
        dispatch_request(t, &req);
        FCGX_Finish_r(&req);
    }
    FCGX_Free(&req, 1);
    close(ep);
    thread_cleanup(t);
    atomic_store(&t->done, 1);
    return NULL;
}

static void on_sigpipe(int sig)
{
    (void)sig;
}

int worker_main(const config *cfg, long worker_index, int listen_fd, scoreboard_slot *sb)
{
    char name[32];
    snprintf(name, sizeof name, "w%ld", worker_index);
    log_set_process(name);

    /* A client that goes away mid-response must not kill the process. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);

    if (logq_start(cfg, worker_index) != 0) {
        log_error("event=log_writer_failed");
        return 1;
    }
    int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    worker_thread *threads = calloc((size_t)cfg->threads, sizeof *threads);
    if (stop_fd < 0 || !threads) {
        log_error("event=worker_init_failed");
        return 1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_THREAD_STACK);
    long started = 0;
    for (long i = 0; i < cfg->threads; i++) {
        worker_thread *t = &threads[i];
        t->cfg = cfg;
        t->worker_index = worker_index;
        t->thread_index = i;
        t->listen_fd = listen_fd;
        t->stop_fd = stop_fd;
        t->slot = sb ? scoreboard_slot_at(sb, cfg->threads, worker_index, i) : NULL;
        if (pthread_create(&t->tid, &attr, thread_main, t) != 0) {
            log_error("event=thread_create_failed thread=%ld", i);
            atomic_store(&t->done, 1);
            continue;
        }
        started++;
    }
    pthread_attr_destroy(&attr);
    log_info("event=worker_started pid=%d threads=%ld", (int)getpid(), started);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;

    /* Stop accepting: every idle thread wakes on stop_fd and leaves; busy
     * threads finish their request first. */
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof one) != sizeof one)
        log_error("event=stop_signal_failed");
    uint64_t deadline = now_mono_us() + (uint64_t)cfg->shutdown_grace_s * 1000000u;
    int all_done = 0;
    while (!all_done && now_mono_us() < deadline) {
        all_done = 1;
        for (long i = 0; i < cfg->threads; i++)
            if (!atomic_load(&threads[i].done))
                all_done = 0;
        if (!all_done) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (!all_done) {
        log_warn("event=shutdown_grace_expired pid=%d", (int)getpid());
        _exit(0); /* abandon what is still running; the master reports it */
    }
    /* write what the log queue holds, within what is left of the grace */
    uint64_t now = now_mono_us();
    logq_stop(deadline > now + 1000000u ? deadline : now + 1000000u);
    for (long i = 0; i < cfg->threads; i++)
        if (threads[i].tid)
            pthread_join(threads[i].tid, NULL);
    free(threads);
    close(stop_fd);
    log_info("event=worker_stopped pid=%d", (int)getpid());
    return 0;
}
