/* owt_server.h - the request pipeline of a worker.
 *
 * An owt_server is the worker process: its interpreter, cache and
 * scoreboard slot, shared by its request threads. An owt_ctx is one request
 * thread: the request in hand and every buffer it needs, private to that
 * thread. owt_server_handle() runs one request through the pipeline:
 * params -> admin -> auth -> body -> invocation -> cache -> Python -> reply.
 * The interpreter is reached through an owt_interp table (owt_interp.h), so
 * this file is plain C; what drives it is lib/owt_worker.c (FastCGI) or
 * lib/owt_cgi.c (one CGI request). */
#ifndef OWT_SERVER_H
#define OWT_SERVER_H

#include "owt_cache.h"
#include "owt_code.h"
#include "owt_config.h"
#include "owt_invocation.h"
#include "owt_interp.h"
#include "owt_io.h"
#include "owt_request.h"
#include "owt_scoreboard.h"
#include "owt_stats.h"

typedef struct {
  const owt_config *cfg;
  const owt_interp *interp; /* how the pipeline reaches the interpreter (owt_py_interp) */
  owt_py *py;
  owt_cache cache;          /* the response cache; off without --cache-dir */
  owt_code code;            /* hook: code store, trusted keys (lib/owt_code.h); thread-safe */
  owt_scoreboard *board;    /* every worker's slot (shared with a master), for /_owt/status */
  owt_slot *slot;           /* this worker's slot in board */
  owt_scoreboard own_board; /* a one-slot board when no master provides one */
  uint64_t tickets;         /* the last interrupt ticket handed out (atomic) */
} owt_server;

/* How a request's time limit is kept: SIGALRM in CGI mode, the worker's
 * watchdog in FastCGI mode. arm() runs as the request enters Python (its
 * body has been read by then), disarm() when its reply is done and returns
 * 1 when the time limit had passed. */
typedef struct {
  void (*arm)(void *arg, uint64_t ticket);
  int (*disarm)(void *arg);
  void *arg;
} owt_deadline_ops;

typedef struct {
  owt_server *srv;
  owt_py_thread *py;      /* this thread's interpreter state */
  owt_inflight *rec;      /* this thread's record in the slot; NULL: none */
  owt_deadline_ops deadline;
  owt_request req;
  owt_invocation inv;
  owt_buf head;           /* the response head being built */
  owt_buf message;        /* an error body being built */
  owt_buf user;           /* the authenticated user, when auth is on */
  struct evp_md_st *sha256;         /* fetched once: a fetch per request costs more than the hash */
  struct evp_md_ctx_st *sha256_ctx; /* reused for every request's digest */
  owt_buf last_fn;          /* the last digest made was of this fn_name and the code whose */
  unsigned char last_code_sum[32]; /* SHA-256 is this (a thread runs the same adaptor again and */
  unsigned char last_digest[32];   /* again: comparing them costs less than hashing) */
  int has_last_digest;
  owt_code_memo code_memo;  /* the code this thread checked last, and its SHA-256 */
  owt_cache_key cache_key;  /* this request's key, when it asked for the cache */
  int cache_state;          /* this request: 0 no cache asked, else OWT_SERVER_CACHE_HIT/_MISS */
  uint64_t bytes_out;       /* body bytes this request sent */
  int cut;                  /* the reply failed after its head was sent: the connection must end
                               without the FastCGI end of request, so the client sees it cut */
  char log_path[4 * OWT_INFLIGHT_PATH + 1]; /* the path, escaped, once a log line needs it */
  int log_path_ready;
} owt_ctx;

enum { OWT_SERVER_CACHE_MISS = 1, OWT_SERVER_CACHE_HIT = 2 };

/* Prepare srv and start its interpreter through interp (threads > 0: for
 * that many request threads; 0: CGI, one request in this thread). OWT_OK,
 * or the error after logging why (release srv with owt_server_free either
 * way). */
owt_err owt_server_init(owt_server *srv, const owt_config *cfg, const owt_interp *interp,
                        const char *shipped_adaptors, size_t threads);

/* Publish this worker's counters into slot i of board (shared with the
 * master) instead of the private one-slot board owt_server_init made. */
void owt_server_attach(owt_server *srv, owt_scoreboard *board, int i);

/* A request context for one thread: py is its interpreter state, index its
 * in-flight record in the slot. OWT_OK, or OWT_E_NOMEM (release c with
 * owt_ctx_free either way). */
owt_err owt_ctx_init(owt_ctx *c, owt_server *srv, owt_py_thread *py, size_t index, owt_deadline_ops deadline);
void owt_ctx_free(owt_ctx *c);

/* Answer one request from io, whatever it holds: every outcome is a
 * response (or a logged client disconnect). Returns the status sent, -1 when
 * the client went away. */
int owt_server_handle(owt_ctx *c, owt_io *io);

/* Point fd 1 at fd 2 so print() from adaptors and their children lands in
 * the error log, never in a response. Returns a CLOEXEC copy of the old
 * fd 1 (the CGI response channel), or -1. */
int owt_server_divert_stdout(void);

void owt_server_free(owt_server *srv);

#endif
