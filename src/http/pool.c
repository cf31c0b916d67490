#include "http/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/timeutil.h"
#include "http/scoreboard.h"
#include "http/worker.h"

#define LISTEN_BACKLOG 1024
#define RESPAWN_FAST_DEATH_US 1000000u /* a worker that dies this young is crash-looping */
#define RESPAWN_MAX_DELAY_US 5000000u

typedef struct {
    pid_t pid;
    uint64_t started_us;
    uint64_t respawn_at_us; /* when pid == 0: not before this */
    unsigned fast_deaths;
} worker_slot;

static int open_listener(const config *cfg)
{
    struct stat st;
    if (lstat(cfg->socket_path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            log_error("event=socket_path_taken path=%s", cfg->socket_path);
            return -1;
        }
        unlink(cfg->socket_path); /* stale socket from an earlier run */
    }
    int fd = FCGX_OpenSocket(cfg->socket_path, LISTEN_BACKLOG);
    if (fd < 0) {
        log_error("event=listen_failed path=%s err=\"%s\"", cfg->socket_path, strerror(errno));
        return -1;
    }
    if (chmod(cfg->socket_path, (mode_t)cfg->socket_mode) != 0)
        log_warn("event=chmod_failed path=%s", cfg->socket_path);
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

static pid_t spawn_worker(const config *cfg, long index, int listen_fd, scoreboard_slot *sb)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* child */
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the master */
    for (long t = 0; t < cfg->threads; t++)
        memset(scoreboard_slot_at(sb, cfg->threads, index, t), 0, sizeof(scoreboard_slot));
    _exit(worker_main(cfg, index, listen_fd, sb));
}

static void report_death(const config *cfg, long index, pid_t pid, int status, scoreboard_slot *sb,
                         int stopping)
{
    char how[64];
    if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "signal=%d", WTERMSIG(status));
    else
        snprintf(how, sizeof how, "exit=%d", WEXITSTATUS(status));
    int clean = !WIFSIGNALED(status) && WEXITSTATUS(status) == 0;
    if (clean && stopping) {
        log_info("event=worker_exited worker=%ld pid=%d %s", index, (int)pid, how);
        return;
    }
    log_error("event=worker_died worker=%ld pid=%d %s", index, (int)pid, how);
    for (long t = 0; t < cfg->threads; t++) {
        scoreboard_slot *s = scoreboard_slot_at(sb, cfg->threads, index, t);
        if (atomic_load(&s->busy))
            log_error("event=request_lost worker=%ld thread=%ld request_id=%.64s method=%.7s "
                      "route=%.47s age_ms=%llu",
                      index, t, s->request_id, s->method, s->route,
                      (unsigned long long)(now_wall_ms() - s->started_ms));
    }
}

int pool_run(const config *cfg)
{
    log_set_process("master");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL); /* inherited by workers, which sigwait() */

    if (FCGX_Init() != 0) {
        log_error("event=fcgx_init_failed");
        return 1;
    }
    int listen_fd = open_listener(cfg);
    if (listen_fd < 0)
        return 1;
    scoreboard_slot *sb = scoreboard_create(cfg->workers, cfg->threads);
    worker_slot *w = calloc((size_t)cfg->workers, sizeof *w);
    if (!sb || !w) {
        log_error("event=pool_init_failed");
        return 1;
    }
    log_info("event=pool_started pid=%d workers=%ld threads=%ld socket=%s", (int)getpid(),
             cfg->workers, cfg->threads, cfg->socket_path);

    int stopping = 0;
    uint64_t stop_deadline = 0;
    for (;;) {
        uint64_t now = now_mono_us();
        long alive = 0;
        for (long i = 0; i < cfg->workers; i++) {
            if (w[i].pid == 0 && !stopping && now >= w[i].respawn_at_us) {
                pid_t pid = spawn_worker(cfg, i, listen_fd, sb);
                if (pid < 0) {
                    log_error("event=fork_failed err=\"%s\"", strerror(errno));
                    w[i].respawn_at_us = now + 1000000u;
                } else {
                    w[i].pid = pid;
                    w[i].started_us = now;
                }
            }
            if (w[i].pid > 0)
                alive++;
        }
        if (stopping && alive == 0)
            break;
        if (stopping && now >= stop_deadline) {
            for (long i = 0; i < cfg->workers; i++)
                if (w[i].pid > 0) {
                    log_warn("event=worker_killed worker=%ld pid=%d reason=grace_expired", i,
                             (int)w[i].pid);
                    kill(w[i].pid, SIGKILL);
                }
            stop_deadline = now + 5000000u; /* then reap */
        }

        struct timespec ts = {0, 200 * 1000000L};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            if (!stopping) {
                log_info("event=shutdown_requested signal=%d", sig);
                stopping = 1;
                stop_deadline = now_mono_us() + (uint64_t)(cfg->shutdown_grace_s + 1) * 1000000u;
                for (long i = 0; i < cfg->workers; i++)
                    if (w[i].pid > 0)
                        kill(w[i].pid, SIGTERM);
            }
        }
        /* SIGHUP: nothing to reload yet; configuration is read once. */

        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (long i = 0; i < cfg->workers; i++) {
                if (w[i].pid != pid)
                    continue;
                report_death(cfg, i, pid, status, sb, stopping);
                uint64_t t = now_mono_us();
                if (t - w[i].started_us < RESPAWN_FAST_DEATH_US)
                    w[i].fast_deaths++;
                else
                    w[i].fast_deaths = 0;
                uint64_t delay =
                    w[i].fast_deaths ? 100000u << (w[i].fast_deaths < 6 ? w[i].fast_deaths : 6) : 0;
                if (delay > RESPAWN_MAX_DELAY_US)
                    delay = RESPAWN_MAX_DELAY_US;
                w[i].pid = 0;
                w[i].respawn_at_us = t + delay;
                if (!stopping)
                    metrics_worker_restart();
                if (!stopping)
                    log_info("event=worker_restart worker=%ld delay_ms=%llu", i,
                             (unsigned long long)(delay / 1000));
            }
        }
    }
    close(listen_fd);
    unlink(cfg->socket_path);
    free(w);
    log_info("event=pool_stopped");
    return 0;
}
