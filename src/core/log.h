/* Operational log: one key=value line per event on stderr (journald or the
 * run directory's log file picks it up). This is NOT the retention-bound
 * visitor log kept in Redis, and never carries secrets or image bytes. */
#ifndef CLEANPNG_CORE_LOG_H
#define CLEANPNG_CORE_LOG_H

typedef enum { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR } log_level;

/* Identity stamped on every line of this process (e.g. "master", "w3"). */
void log_set_process(const char *name);
void log_set_level(log_level min);

/* fmt continues the line after "level=... proc=..."; write key=value pairs. */
void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
