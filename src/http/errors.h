/* The one error convention: handlers and clients fill an api_error, and
 * response_error() is the one place that renders it as SPEC's JSON shape. */
#ifndef CLEANPNG_HTTP_ERRORS_H
#define CLEANPNG_HTTP_ERRORS_H

typedef struct {
    int status;          /* HTTP status, >= 400 */
    const char *code;    /* stable machine word, static string */
    const char *param;   /* the parameter at fault, static string or NULL */
    char message[240];   /* for people; never an upstream's raw body or a secret */
    long retry_after;    /* seconds, > 0 to send Retry-After */
    int upstream_status; /* what an upstream answered, for the error log; 0 if none */
} api_error;

void api_error_set(api_error *e, int status, const char *code, const char *param, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

const char *http_status_text(int status);

#endif
