/* The master process: opens the FastCGI socket, keeps N worker processes
 * running (restarting any that die, and logging what they were serving), and
 * stops them all gracefully on SIGTERM or SIGINT. */
#ifndef CLEANPNG_HTTP_POOL_H
#define CLEANPNG_HTTP_POOL_H

#include "core/config.h"

/* Returns the process exit status: 0 after a clean shutdown. */
int pool_run(const config *cfg);

#endif
