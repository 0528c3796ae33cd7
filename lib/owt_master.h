/* owt_master.h - the standalone process manager (--listen): binds once,
 * forks workers that each start their own interpreter, respawns the dead
 * (with backoff against crash loops), kills the hung, reloads on SIGHUP and
 * drains on SIGTERM/SIGINT. PHP-FPM's and uWSGI's masters are the model. */
#ifndef OWT_MASTER_H
#define OWT_MASTER_H

#include "owt_config.h"
#include "owt_scoreboard.h"

/* Exit code a worker uses when it cannot start at all (bad --venv, no
 * runtime): respawning will not help, so the master stops. (EX_CONFIG) */
#define OWT_EXIT_CONFIG 78

/* The body of a worker process; returns its exit code. Runs in the child
 * after fork, with default signal dispositions and the master's signals
 * (SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP) still blocked: the worker
 * unblocks them once it has its handlers, so a stop asked for while it
 * starts is not lost. handoff_fd is the worker's end of its channel to the
 * master (owt_handoff.h): connections the web server keeps open that the
 * worker lets go of (it drains) go there, and the master passes them on to
 * a worker that stays; such connections from its siblings arrive there. */
typedef int (*owt_worker_fn)(void *ctx, int listen_fd, int handoff_fd, owt_scoreboard *board, int slot);

/* Run the master until SIGTERM/SIGINT (exit code 0 once the workers are
 * gone) or a worker reports OWT_EXIT_CONFIG (exit code 1). board must have
 * at least 2 * cfg->workers slots (old and new generation during reload). */
int owt_master_run(const owt_config *cfg, int listen_fd, owt_scoreboard *board, owt_worker_fn fn,
                   void *ctx);

/* Drop to cfg->user / cfg->group when running as root, handing the unix
 * socket at socket_path (NULL: none) to them first, so that --socket-mode
 * speaks of that user and group. OWT_OK; after logging why,
 * OWT_E_NOT_FOUND for a user or group that does not exist, OWT_E_INTERNAL
 * when a chown, setgid, initgroups or setuid fails. */
owt_err owt_master_drop_privileges(const owt_config *cfg, const char *socket_path);

#endif
