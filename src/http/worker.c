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

/* The thread loop. All threads of a worker wait on one shared epoll set
 * (epoll_wait wakes one waiter per event) holding three kinds of file:
 *
 * - the listening socket: a new connection from nginx. It is non-blocking
 *   (and EPOLLEXCLUSIVE across worker processes), so a thread that loses the
 *   race gets EAGAIN from accept: no thread ever sits inside libfcgi's
 *   accept() where a shutdown could not reach it;
 * - idle kept-alive connections: nginx keeps FastCGI connections open
 *   (fastcgi_keep_conn), saving a connect, accept and close per request. An
 *   idle connection waits in the set with EPOLLONESHOT, so exactly one thread
 *   takes it when the next request arrives, and does not pin a thread. libfcgi
 *   is pointed at it by setting the request's ipcFd with keepConnection, which
 *   FCGX_Accept_r then reads from instead of accepting;
 * - the stop eventfd: level-triggered, so every waiting thread sees it.
 *
 * On stop, idle threads leave at once; busy ones finish their request and
 * close its connection instead of parking it; connections still parked are
 * closed when the worker exits. */
static void *thread_main(void *arg)
{
    worker_thread *t = arg;
    if (thread_init(t) != 0) {
        log_error("event=thread_init_failed thread=%ld", t->thread_index);
        thread_cleanup(t);
        atomic_store(&t->done, 1);
        return NULL;
    }
    FCGX_Request req;
    FCGX_InitRequest(&req, t->listen_fd, 0);
    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(t->ep, &ev, 1, -1);
        if (n < 0 && errno != EINTR)
            break;
        if (n != 1)
            continue;
        if (ev.data.fd == t->stop_fd)
            break;
        if (ev.data.fd != t->listen_fd) {
            req.ipcFd = ev.data.fd; /* the next request on a kept connection */
            req.keepConnection = 1;
        }
        int rc = FCGX_Accept_r(&req);
        if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR)
            continue;
        if (rc < 0) {
            log_warn("event=accept_failed rc=%d", rc);
            continue;
        }
        dispatch_request(t, &req);
        FCGX_Finish_r(&req);
        if (req.ipcFd >= 0) {
            /* nginx keeps the connection: park it for whichever thread is free */
            int fd = req.ipcFd;
            req.ipcFd = -1;
            struct epoll_event kev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = fd};
            if (atomic_load(t->stopping) || (epoll_ctl(t->ep, EPOLL_CTL_MOD, fd, &kev) != 0 &&
                                             epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &kev) != 0))
                close(fd);
        }
    }
    FCGX_Free(&req, 1);
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
    int ep = epoll_create1(EPOLL_CLOEXEC);
    static atomic_int stopping;
    worker_thread *threads = calloc((size_t)cfg->threads, sizeof *threads);
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd};
    struct epoll_event sev = {.events = EPOLLIN, .data.fd = stop_fd};
    if (stop_fd < 0 || ep < 0 || !threads || epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &lev) != 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, stop_fd, &sev) != 0) {
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
        t->ep = ep;
        t->stopping = &stopping;
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
    atomic_store(&stopping, 1);
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
