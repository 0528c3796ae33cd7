/* owt_server.h - one worker: the request pipeline and the two ways requests
 * arrive (a FastCGI accept loop, or one CGI request). */
#ifndef OWT_SERVER_H
#define OWT_SERVER_H

#include "owt_cache.h"
#include "owt_config.h"
#include "owt_invocation.h"
#include "owt_io.h"
#include "owt_py.h"
#include "owt_request.h"
#include "owt_scoreboard.h"
#include "owt_stats.h"

typedef struct {
  const owt_config *cfg;
  owt_py *py;
  owt_request req;
  owt_invocation inv;
  owt_buf head;     /* the response head being built */
  owt_buf message;  /* an error body being built */
  owt_buf user;     /* the authenticated user, when auth is on */
  owt_stats stats;         /* this worker's counters; copied into slot after each change */
  owt_scoreboard *board;   /* every worker's slot (shared with the master), for /_owt/status */
  owt_slot *slot;          /* this worker's slot in board */
  owt_scoreboard own_board; /* a one-slot board when no master provides one */
  struct evp_md_st *sha256;        /* fetched once: a fetch per request costs more than the hash */
  struct evp_md_ctx_st *sha256_ctx; /* reused for every request's digest */
  owt_cache cache;          /* the response cache; off without --cache-dir */
  owt_cache_key cache_key;  /* this request's key, when it asked for the cache */
  int cache_state;          /* this request: 0 no cache asked, else OWT_SERVER_CACHE_HIT/_MISS */
} owt_server;

enum { OWT_SERVER_CACHE_MISS = 1, OWT_SERVER_CACHE_HIT = 2 };

/* Prepare srv and start the interpreter. Returns 0, or 1 after logging why. */
int owt_server_init(owt_server *srv, const owt_config *cfg, const char *shipped_adaptors);

/* Publish this worker's counters into slot i of board (shared with the
 * master) instead of the private one-slot board owt_server_init made. */
void owt_server_attach(owt_server *srv, owt_scoreboard *board, int i);

/* Answer one request from io, whatever it holds: every outcome is a
 * response (or a logged client disconnect). Returns the status sent. */
int owt_server_handle(owt_server *srv, owt_io *io);

/* Serve FastCGI requests on listen_fd until SIGTERM/SIGINT or the web
 * server closes it. Returns the process exit code. */
int owt_server_run_fastcgi(owt_server *srv, int listen_fd);

/* Serve the one CGI request in the environment, writing the response to
 * response_fd. Returns the exit code. */
int owt_server_run_cgi(owt_server *srv, int response_fd);

/* Point fd 1 at fd 2 so print() from adaptors and their children lands in
 * the error log, never in a response. Returns a CLOEXEC copy of the old
 * fd 1 (the CGI response channel), or -1. */
int owt_server_divert_stdout(void);

void owt_server_free(owt_server *srv);

#endif
