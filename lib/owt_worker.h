/* owt_worker.h - one FastCGI worker process: request threads sharing one
 * warm interpreter, fed by a dispatcher that also keeps the time.
 *
 * The process's first thread is the dispatcher. It accepts connections only
 * while a request thread is free to take one (so a busy worker leaves them in
 * the shared backlog for other workers), waits until a connection has sent
 * something before giving it to a thread (an idle peer costs no thread), and
 * keeps the connections web servers keep open between requests
 * (FCGI_KEEP_CONN) without tying a thread to them. It is also the watchdog:
 * a request past --timeout is interrupted in its own thread; past
 * --kill-grace more it is answered 504 by the dispatcher and the worker
 * drains (stops accepting, lets its other requests finish within
 * --grace-timeout) and exits, for its manager to replace. Stop signals,
 * --max-requests and --max-rss drain the same way.
 *
 * The request threads run owt_server_handle(); an interrupter thread carries
 * the watchdog's interrupts into Python (that needs the GIL, which the
 * dispatcher never takes, so a request holding the GIL in C code cannot stop
 * the watchdog). */
#ifndef OWT_WORKER_H
#define OWT_WORKER_H

#include "owt_server.h"

/* Exit code of a worker that ended itself because a request would not stop
 * (the request was answered 504 first). */
#define OWT_EXIT_STUCK 70

/* Exit code of a worker that ended itself because an adaptor closed or
 * replaced one of its own descriptors (owt_hygiene_check_own). */
#define OWT_EXIT_DAMAGED 71

/* Serve FastCGI on listen_fd with srv->cfg->threads request threads until
 * asked to stop (SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGHUP), recycled
 * (--max-requests, --max-rss) or drained after a stuck request. srv must
 * have been initialised with that many threads. handoff_fd is the channel
 * to a master (owt_master.h; -1 without one): draining, the worker hands
 * the connections the web server keeps open to it instead of closing them,
 * and takes those its retiring siblings let go of. Returns the process exit
 * code; a worker that has a thread it cannot stop does not return (it
 * _exits with OWT_EXIT_STUCK). */
int owt_worker_run(owt_server *srv, int listen_fd, int handoff_fd);

#endif
