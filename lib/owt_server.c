/* owt_server.c - the request pipeline (params -> auth -> body -> invocation
 * -> Python -> response) and the FastCGI / CGI loops around it. */
#include "owt_server.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "owt_admin.h"
#include "owt_auth.h"
#include "owt_deadline.h"
#include "owt_io_fcgx.h"
#include "owt_log.h"
#include "owt_response.h"

extern char **environ;

static volatile sig_atomic_t stop_requested;

/* Unread request body a finished request may discard before closing. */
#define FINISH_DRAIN_MAX (256u << 10)

int owt_server_init(owt_server *srv, const owt_config *cfg, const char *shipped) {
  char why[4096];
  memset(srv, 0, sizeof *srv);
  srv->cfg = cfg;
  if (owt_cache_open(&srv->cache, cfg->cache_dir, cfg->cache_max_bytes, cfg->cache_ttl, why, sizeof why)) {
    owt_log(OWT_LOG_ERROR, "%s", why);
    return 1;
  }
  owt_request_init(&srv->req, &cfg->limits);
  owt_invocation_init(&srv->inv, &cfg->limits);
  owt_buf_init(&srv->head, 256 * 1024);
  owt_buf_init(&srv->message, 256 * 1024);
  owt_buf_init(&srv->user, OWT_AUTH_USER_MAX);
  srv->stats.pid = getpid();
  srv->stats.started = owt_now();
  if (owt_scoreboard_create(&srv->own_board, 1) == 0) {
    srv->own_board.slots[0].in_use = 1; /* no master: this worker's own slot is live */
    owt_server_attach(srv, &srv->own_board, 0);
  }
  if (owt_py_start(&srv->py, cfg, shipped, why, sizeof why) != OWT_OK) {
    owt_log(OWT_LOG_ERROR, "%s", why);
    return 1;
  }
  return 0;
}

void owt_server_attach(owt_server *srv, owt_scoreboard *board, int i) {
  srv->board = board;
  srv->slot = &board->slots[i];
  srv->slot->worker = srv->stats;
}

static void publish(owt_server *srv) {
  if (srv->slot) srv->slot->worker = srv->stats;
}

void owt_server_free(owt_server *srv) {
  EVP_MD_CTX_free(srv->sha256_ctx);
  EVP_MD_free(srv->sha256);
  owt_cache_close(&srv->cache);
  owt_scoreboard_destroy(&srv->own_board);
  owt_py_stop(srv->py);
  owt_request_free(&srv->req);
  owt_invocation_free(&srv->inv);
  owt_buf_free(&srv->head);
  owt_buf_free(&srv->message);
  owt_buf_free(&srv->user);
}

/* ---- pieces of the pipeline ------------------------------------------------ */

static int send_error(owt_server *srv, owt_io *io, owt_err err, const char *fallback) {
  static const owt_header www_auth = {OWT_STR_LIT("WWW-Authenticate"), OWT_STR_LIT("Basic realm=\"owt\"")};
  static const owt_header cache_miss = {OWT_STR_LIT("X-Owt-Cache"), OWT_STR_LIT("miss")};
  owt_str msg = srv->message.len ? owt_buf_str(&srv->message) : owt_str_of(fallback);
  owt_header extra[2];
  size_t nextra = 0;
  if (err == OWT_E_UNAUTHORIZED) extra[nextra++] = www_auth;
  if (srv->cache_state) extra[nextra++] = cache_miss;
  if (owt_response_send_error(io, err, msg, extra, nextra) != OWT_OK) return -1;
  srv->stats.bytes_out += msg.len;
  return owt_err_status(err);
}

static void digest_of(owt_server *srv, const owt_invocation *inv, unsigned char out[32]) {
  unsigned int len = 32;
  memset(out, 0, 32);
  if (!srv->sha256) srv->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
  if (!srv->sha256_ctx) srv->sha256_ctx = EVP_MD_CTX_new();
  EVP_MD_CTX *ctx = srv->sha256_ctx;
  /* On failure the digest stays all-zero: the runtime then keys on the code itself. */
  if (!srv->sha256 || !ctx || !EVP_DigestInit_ex2(ctx, srv->sha256, NULL)) return;
  EVP_DigestUpdate(ctx, inv->fn_name.data, inv->fn_name.len);
  EVP_DigestUpdate(ctx, "", 1);
  if (inv->code.len) EVP_DigestUpdate(ctx, inv->code.data, inv->code.len);
  if (!EVP_DigestFinal_ex(ctx, out, &len)) memset(out, 0, 32);
}

static owt_err check_auth(owt_server *srv) {
  if (!owt_auth_enabled(&srv->cfg->auth)) return OWT_OK;
  owt_buf_reset(&srv->user);
  if (owt_auth_check(&srv->cfg->auth, srv->req.authorization, &srv->user) == OWT_OK) return OWT_OK;
  owt_log(OWT_LOG_WARNING, "auth failed for %.*s from %.*s (%s)", (int)srv->req.path.len,
          srv->req.path.data, (int)srv->req.remote_addr.len, srv->req.remote_addr.p,
          srv->req.authorization.len ? "wrong or malformed credentials" : "no credentials");
  owt_buf_append_str(&srv->message, "authentication required");
  return OWT_E_UNAUTHORIZED;
}

_Static_assert(OWT_PY_MAX_HEADERS <= OWT_CACHE_MAX_HEADERS, "a reply's headers fit a cache entry");

/* The head for status and headers into srv->head, with X-Owt-Cache: hit or
 * miss added when the request asked for the cache (an adaptor's own
 * X-Owt-Cache is dropped then). */
static owt_err build_head(owt_server *srv, int status, const owt_header *headers, size_t n,
                          long long length) {
  static const owt_str name = OWT_STR_LIT("X-Owt-Cache");
  owt_header all[OWT_CACHE_MAX_HEADERS + 1];
  size_t k = 0;
  owt_buf_reset(&srv->head);
  if (!srv->cache_state) return owt_response_head(&srv->head, status, headers, n, length, NULL);
  for (size_t i = 0; i < n && k < OWT_CACHE_MAX_HEADERS; i++)
    if (!owt_str_caseeq(headers[i].name, name)) all[k++] = headers[i];
  all[k++] = (owt_header){name, srv->cache_state == OWT_SERVER_CACHE_HIT ? OWT_STR_LIT("hit")
                                                                         : OWT_STR_LIT("miss")};
  return owt_response_head(&srv->head, status, all, k, length, NULL);
}

/* Answer from the cache when the request's key has an entry: the stored
 * head, then its chunks in order, flushing each one of a stream. Returns
 * the status sent, -1 when the client went away, or 0 on a miss (the
 * request goes on to Python, recorded under srv->cache_key). */
static int serve_from_cache(owt_server *srv, owt_io *io) {
  owt_invocation *inv = &srv->inv;
  owt_cache_hit hit;
  owt_str chunk;
  owt_str base = inv->has_cache_key ? owt_buf_str(&inv->cache_key) : owt_buf_str(&srv->req.path);
  owt_str kwargs = owt_buf_str(&inv->kwargs_raw), user = owt_buf_str(&srv->user);
  int status = -1;
  owt_cache_key_make(&srv->cache_key, base, inv->cache_kwargs ? &kwargs : NULL,
                     owt_auth_enabled(&srv->cfg->auth) ? &user : NULL);
  srv->cache_state = OWT_SERVER_CACHE_MISS;
  if (owt_cache_lookup(&srv->cache, &srv->cache_key, &hit) != OWT_OK) {
    srv->stats.cache_misses++;
    return 0;
  }
  srv->stats.cache_hits++;
  srv->cache_state = OWT_SERVER_CACHE_HIT;
  if (build_head(srv, hit.status, hit.headers, hit.nheaders, hit.streamed ? -1 : (long long)hit.body_len)) {
    srv->cache_state = OWT_SERVER_CACHE_MISS;
    status = send_error(srv, io, OWT_E_INTERNAL, "the cached response's head does not fit");
    goto done;
  }
  if (io->write(io->ctx, srv->head.data, srv->head.len) || (hit.streamed && io->flush(io->ctx))) goto done;
  while (owt_cache_hit_next(&hit, &chunk)) {
    if (io->write(io->ctx, chunk.p, chunk.len) || (hit.streamed && io->flush(io->ctx))) goto done;
    srv->stats.bytes_out += chunk.len;
  }
  status = hit.status;
done:
  owt_cache_hit_release(&hit);
  return status;
}

/* Write the reply: head, then the body or each chunk flushed as it comes.
 * A 200 to a request that asked for the cache is recorded into rec as it is
 * written and committed only once all of it went out; on any early return
 * the caller aborts rec. Returns the status, or -1 when the client went away. */
static int send_reply(owt_server *srv, owt_io *io, owt_py_reply *reply, owt_cache_writer *rec) {
  long long length = reply->streaming ? -1 : (long long)reply->body.len;
  owt_err err = build_head(srv, reply->status, reply->headers, reply->nheaders, length);
  if (err) {
    owt_buf_reset(&srv->message);
    owt_buf_append_str(&srv->message, "Error executing code: the adaptor returned an invalid "
                                      "status or header (CR/LF or a non-token name)");
    owt_log(OWT_LOG_ERROR, "%s", srv->message.data);
    return send_error(srv, io, OWT_E_ADAPTOR, NULL);
  }
  if (io->write(io->ctx, srv->head.data, srv->head.len)) return -1;
  if (srv->cache_state && reply->status == 200)
    owt_cache_writer_begin(&srv->cache, rec, &srv->cache_key, reply->status, reply->headers,
                           reply->nheaders, reply->streaming);
  if (!reply->streaming) {
    if (reply->body.len && io->write(io->ctx, reply->body.p, reply->body.len)) return -1;
    srv->stats.bytes_out += reply->body.len;
    owt_cache_writer_chunk(&srv->cache, rec, reply->body.p, reply->body.len);
    owt_cache_writer_commit(&srv->cache, rec);
    return reply->status;
  }
  if (io->flush(io->ctx)) return -1;
  for (;;) {
    owt_str chunk;
    owt_buf_reset(&srv->message);
    err = owt_py_reply_next(srv->py, reply, &chunk, &srv->message);
    if (err) {
      /* Headers are out: all that is left is to end the stream. The event-
       * stream error frame, if any, was the runtime's last chunk. */
      owt_log(OWT_LOG_WARNING, "stream for %s ended early: %.*s", srv->req.path.data,
              (int)srv->message.len, srv->message.data ? srv->message.data : "");
      if (err == OWT_E_TIMEOUT) srv->stats.timeouts++;
      return reply->status;
    }
    if (!chunk.p) {
      owt_cache_writer_commit(&srv->cache, rec); /* the stream finished: keep it */
      return reply->status;
    }
    if (chunk.len == 0) continue;
    if (io->write(io->ctx, chunk.p, chunk.len) || io->flush(io->ctx)) return -1;
    srv->stats.bytes_out += chunk.len;
    owt_cache_writer_chunk(&srv->cache, rec, chunk.p, chunk.len);
  }
}

static int run_invocation(owt_server *srv, owt_io *io) {
  owt_py_call_in in;
  owt_py_reply reply;
  owt_cache_writer rec = OWT_CACHE_WRITER_INIT;
  owt_invocation *inv = &srv->inv;
  memset(&in, 0, sizeof in);
  in.code = owt_buf_str(&inv->code);
  in.adaptor = owt_buf_str(&inv->adaptor);
  in.fn_name = owt_buf_str(&inv->fn_name);
  in.kwargs = owt_buf_str(&inv->kwargs);
  in.kwargs_kind = (int)inv->kwargs_kind;
  in.envp = srv->req.envp;
  in.nparams = srv->req.nparams;
  in.body = owt_buf_str(&srv->req.body);
  in.path = owt_buf_str(&srv->req.path);
  digest_of(srv, inv, in.digest);

  owt_deadline_arm(srv->cfg->timeout, srv->cfg->kill_grace);
  owt_err err = owt_py_call(srv->py, &in, &reply, &srv->message);
  int status = err ? send_error(srv, io, err, "Error executing code") : send_reply(srv, io, &reply, &rec);
  owt_cache_writer_abort(&srv->cache, &rec); /* nothing left when it was committed */
  if (owt_deadline_disarm()) {
    srv->stats.timeouts += err == OWT_E_TIMEOUT;
    owt_py_after_timeout(srv->py);
  }
  owt_py_reply_close(srv->py, &reply);
  return status;
}

static int handle_steps(owt_server *srv, owt_io *io) {
  owt_err err;
  const owt_limits *limits = &srv->cfg->limits;
  if ((err = owt_request_read_params(&srv->req, io->envp, limits)))
    return send_error(srv, io, err, "the request's parameters are over the size limits");
  owt_str path = owt_buf_str(&srv->req.path);
  snprintf(srv->stats.path, sizeof srv->stats.path, "%.*s", (int)path.len, path.p);
  publish(srv);
  if (owt_admin_is_reserved(path) && owt_admin_is_public(path))
    return owt_admin_handle(io, srv->req.method, path, srv->board, owt_py_version());
  if ((err = check_auth(srv))) return send_error(srv, io, err, NULL);
  if (owt_str_eq(path, OWT_STR_LIT("/_owt/cache")))
    return owt_admin_cache(io, srv->req.method, srv->req.query, &srv->cache, srv->board);
  if (owt_admin_is_reserved(path))
    return owt_admin_handle(io, srv->req.method, path, srv->board, owt_py_version());
  if ((err = owt_request_read_body(&srv->req, io))) {
    if (err == OWT_E_IO) return -1;
    return send_error(srv, io, err, srv->req.error); /* hook: owt_request says what was wrong */
  }
  err = owt_invocation_parse(&srv->inv, &srv->req, limits);
  /* A hit never runs code, so it is served with no code in the request
   * (the force-cache idea, PROTOCOL §8) and under --no-code. */
  if (srv->inv.use_cache && (!err || srv->inv.missing_code)) {
    int status = serve_from_cache(srv, io);
    if (status) return status;
  }
  if (err) return send_error(srv, io, err, srv->inv.error);
  if (srv->inv.has_code && srv->cfg->no_code)
    return send_error(srv, io, OWT_E_FORBIDDEN, "this server runs with --no-code: code in requests "
                                                "is refused; call a named adaptor with adaptor=NAME");
  return run_invocation(srv, io);
}

int owt_server_handle(owt_server *srv, owt_io *io) {
  double t0 = owt_now();
  srv->stats.busy_since = t0;
  srv->cache_state = 0;
  owt_buf_reset(&srv->message);
  uint64_t bytes_before = srv->stats.bytes_out;
  int status = handle_steps(srv, io);
  srv->stats.requests++;
  if (status < 0) srv->stats.client_gone++;
  else if (status >= 500) srv->stats.errors_5xx++;
  else if (status >= 400) srv->stats.errors_4xx++;
  if (owt_log_enabled(OWT_LOG_INFO))
    owt_log(OWT_LOG_INFO, "%.*s %s %d %llu %.2fms", (int)srv->req.method.len, srv->req.method.p,
            srv->stats.path, status < 0 ? 499 : status,
            (unsigned long long)(srv->stats.bytes_out - bytes_before), (owt_now() - t0) * 1000.0);
  srv->stats.busy_since = 0;
  if ((srv->stats.requests & 15) == 1) srv->stats.rss_bytes = owt_stats_rss(); /* cheap enough 1 in 16 */
  publish(srv);
  owt_request_reset(&srv->req);
  return status;
}

/* ---- FastCGI --------------------------------------------------------------- */

static void on_stop_signal(int signo) {
  (void)signo;
  stop_requested = 1;
  FCGX_ShutdownPending(); /* makes a blocked accept give up */
}

static void install_stop_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL); /* what mod_fcgid and libfcgi use to ask for a clean stop */
  sigaction(SIGHUP, &sa, NULL);  /* a hangup of the group: finish the request, then go */
  signal(SIGPIPE, SIG_IGN);      /* a gone client is a write error, not a death */
}

int owt_server_divert_stdout(void) {
  int saved = fcntl(1, F_DUPFD_CLOEXEC, 3);
  dup2(2, 1);
  return saved;
}

/* End the request. libfcgi's close shuts down its write side and then
 * blocks reading until the web server closes the connection (so a late
 * byte cannot turn into a TCP reset that loses the response); that wait is
 * idle time between every two requests. Once the request's stdin has been
 * read to its end nothing more can arrive, so a plain close() is as safe:
 * drain what is left (bounded), and skip the wait when the stream ended. */
static void finish_request(FCGX_Request *req) {
  char sink[4096];
  size_t drained = 0;
  while (req->in && !FCGX_HasSeenEOF(req->in) && drained < FINISH_DRAIN_MAX) {
    int n = FCGX_GetStr(sink, sizeof sink, req->in);
    if (n <= 0) break;
    drained += (size_t)n;
  }
  if (req->in && FCGX_HasSeenEOF(req->in) && !FCGX_GetError(req->in) && !req->keepConnection)
    req->detached = 1; /* FCGX_Free: close() without the lingering shutdown */
  FCGX_Finish_r(req);
}

/* --max-requests and --max-rss: a worker that has served enough, or grown
 * too big, ends after the request it just finished; its manager (our
 * master, lighttpd, mod_fcgid) starts a fresh one. */
static int worker_should_recycle(owt_server *srv) {
  const owt_config *cfg = srv->cfg;
  if (cfg->max_requests && srv->stats.requests >= cfg->max_requests) {
    owt_log(OWT_LOG_INFO, "recycling after %llu requests (--max-requests)",
            (unsigned long long)srv->stats.requests);
    return 1;
  }
  if (cfg->max_rss_bytes) {
    uint64_t rss = owt_stats_rss();
    if (rss > cfg->max_rss_bytes) {
      owt_log(OWT_LOG_WARNING, "recycling: RSS %llu MB is over --max-rss %llu MB",
              (unsigned long long)(rss >> 20), (unsigned long long)(cfg->max_rss_bytes >> 20));
      return 1;
    }
  }
  return 0;
}

/* A connection the web server keeps open between requests (FCGI_KEEP_CONN,
 * nginx fastcgi_keep_conn) pins this worker to it. While it is idle, watch
 * the listening socket too: when another connection waits there (more
 * concurrent requests than workers), hand the idle one back, or that
 * connection would wait for a worker forever. */
static void yield_idle_connection(FCGX_Request *req, int listen_fd) {
  struct pollfd p[2] = {{req->ipcFd, POLLIN, 0}, {listen_fd, POLLIN, 0}};
  if (req->ipcFd < 0) return;
  while (poll(p, 2, -1) < 0)
    if (errno != EINTR || stop_requested) return;
  if (!p[0].revents && (p[1].revents & POLLIN)) {
    req->detached = 1; /* nothing in flight: close() without the lingering shutdown */
    FCGX_Free(req, 1);
  }
}

int owt_server_run_fastcgi(owt_server *srv, int listen_fd) {
  FCGX_Request req;
  owt_io io;
  install_stop_handlers();
  if (FCGX_Init() != 0 || FCGX_InitRequest(&req, listen_fd, 0) != 0) {
    owt_log(OWT_LOG_ERROR, "libfcgi failed to initialise");
    return 1;
  }
  owt_log(OWT_LOG_INFO, "serving FastCGI on fd %d", listen_fd);
  while (!stop_requested) {
    yield_idle_connection(&req, listen_fd);
    if (stop_requested || FCGX_Accept_r(&req) < 0) break;
    if (!owt_allow_check_fd(&srv->cfg->allow_from, req.ipcFd)) {
      owt_log(OWT_LOG_WARNING, "refused a FastCGI connection from a peer not in --allow-from");
      FCGX_Free(&req, 1); /* drop it: no response at all, as libfcgi does for FCGI_WEB_SERVER_ADDRS */
      continue;
    }
    /* Programs adaptors start through C (libc system(), popen()) must not keep the
     * connection: a worker that died would leave the web server waiting for them. */
    fcntl(req.ipcFd, F_SETFD, FD_CLOEXEC);
    int fds[2] = {listen_fd, req.ipcFd};
    owt_py_protect_fds(fds, 2);
    owt_io_fcgx_bind(&io, &req);
    owt_server_handle(srv, &io);
    finish_request(&req);
    if (worker_should_recycle(srv)) break;
  }
  FCGX_Free(&req, 1);
  owt_log(OWT_LOG_INFO, "stopping after %llu requests", (unsigned long long)srv->stats.requests);
  return 0;
}

/* ---- CGI ------------------------------------------------------------------- */

int owt_server_run_cgi(owt_server *srv, int response_fd) {
  owt_io io;
  static const char timed_out[] = "Status: 504 Gateway Timeout\r\n"
                                  "Content-Type: text/plain; charset=utf-8\r\n"
                                  "X-Content-Type-Options: nosniff\r\n\r\n"
                                  "Error executing code: Timeout: the adaptor did not stop after its "
                                  "timeout (stuck in C code)";
  owt_io_cgi cgi = {0, response_fd, 0, 0};
  size_t length = 0;
  signal(SIGPIPE, SIG_IGN);
  if (owt_py_interrupt_on_sigterm(srv->py) != 0)
    owt_log(OWT_LOG_WARNING, "cannot route SIGTERM to the adaptor: a cut-off stream will not run its finally");
  owt_py_protect_fds(&cgi.out_fd, 1);
  owt_deadline_set_fallback(response_fd, timed_out, sizeof timed_out - 1, &cgi.started);
  /* CGI stdin carries exactly CONTENT_LENGTH bytes; read no more. (A bad
   * value reads nothing; the pipeline answers it with its own error.) */
  if (owt_request_parse_length(owt_str_of(getenv("CONTENT_LENGTH")), &length) == OWT_OK)
    cgi.body_left = length > srv->cfg->limits.max_body ? srv->cfg->limits.max_body + 1 : length;
  owt_io_cgi_bind(&io, &cgi, environ);
  owt_server_handle(srv, &io);
  return 0;
}
