/* owt_server.c - the request pipeline: params -> auth -> body -> invocation
 * -> Python -> response. Plain C: the interpreter is reached through the
 * server's owt_interp table. The FastCGI worker (threads, accept, watchdog)
 * is lib/owt_worker.c, the one-shot CGI run lib/owt_cgi.c. */
#include "owt_server.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "owt_admin.h"
#include "owt_auth.h"
#include "owt_escape.h"
#include "owt_log.h"
#include "owt_response.h"

owt_err owt_server_init(owt_server *srv, const owt_config *cfg, const owt_interp *interp, const char *shipped,
                        size_t threads) {
  char why[4096];
  owt_err err;
  memset(srv, 0, sizeof *srv);
  srv->cfg = cfg;
  srv->interp = interp;
  err = owt_cache_open(&srv->cache, cfg->cache_dir, cfg->cache_max_bytes, cfg->cache_ttl, why, sizeof why);
  if (err) {
    owt_log(OWT_LOG_ERROR, "%s", why);
    return err;
  }
  owt_code_open(&srv->code, cfg); /* code store and trusted keys (lib/owt_code.h) */
  if (owt_scoreboard_create(&srv->own_board, 1, threads ? threads : 1) != 0) {
    owt_log(OWT_LOG_ERROR, "cannot map the worker's scoreboard: %s", strerror(errno));
    return OWT_E_NOMEM;
  }
  owt_scoreboard_slot(&srv->own_board, 0)->in_use = 1; /* no master: this worker's own slot is live */
  owt_server_attach(srv, &srv->own_board, 0);
  if ((err = interp->start(&srv->py, cfg, shipped, threads, why, sizeof why)) != OWT_OK) {
    owt_log(OWT_LOG_ERROR, "%s", why);
    return err;
  }
  return OWT_OK;
}

void owt_server_attach(owt_server *srv, owt_scoreboard *board, int i) {
  owt_slot *slot = owt_scoreboard_slot(board, (size_t)i);
  srv->board = board;
  srv->slot = slot;
  slot->worker.pid = getpid();
  slot->worker.started = owt_now();
  slot->worker.threads = (uint32_t)board->threads;
  owt_stats_set_self(&slot->worker); /* hook: where the runtime's warm-adaptor reports go */
}

void owt_server_free(owt_server *srv) {
  owt_cache_close(&srv->cache);
  owt_code_close(&srv->code);
  if (srv->interp && srv->py) srv->interp->stop(srv->py);
  srv->py = NULL;
  srv->board = NULL;
  srv->slot = NULL;
  owt_scoreboard_destroy(&srv->own_board);
}

owt_err owt_ctx_init(owt_ctx *c, owt_server *srv, owt_py_thread *py, size_t index, owt_deadline_ops deadline) {
  const owt_config *cfg = srv->cfg;
  memset(c, 0, sizeof *c);
  c->srv = srv;
  c->py = py;
  c->deadline = deadline;
  if (srv->slot && index < srv->board->threads) c->rec = &srv->slot->inflight[index];
  owt_request_init(&c->req, &cfg->limits);
  owt_invocation_init(&c->inv, &cfg->limits);
  owt_buf_init(&c->head, 256 * 1024);
  owt_buf_init(&c->message, 256 * 1024);
  owt_buf_init(&c->user, OWT_AUTH_USER_MAX);
  owt_buf_init(&c->last_fn, 1024);
  owt_code_memo_init(&c->code_memo);
  c->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
  c->sha256_ctx = EVP_MD_CTX_new();
  return c->sha256 && c->sha256_ctx ? OWT_OK : OWT_E_NOMEM;
}

void owt_ctx_free(owt_ctx *c) {
  EVP_MD_CTX_free(c->sha256_ctx);
  EVP_MD_free(c->sha256);
  owt_request_free(&c->req);
  owt_invocation_free(&c->inv);
  owt_buf_free(&c->head);
  owt_buf_free(&c->message);
  owt_buf_free(&c->user);
  owt_buf_free(&c->last_fn);
  owt_code_memo_free(&c->code_memo);
  memset(c, 0, sizeof *c);
}

/* ---- pieces of the pipeline ------------------------------------------------ */

static owt_stats *stats_of(owt_ctx *c) { return &c->srv->slot->worker; }

/* The request's path as log lines show it (escaped on first use). */
static const char *log_path(owt_ctx *c) {
  if (!c->log_path_ready) {
    owt_escape_field(c->log_path, sizeof c->log_path, owt_buf_str(&c->req.path));
    c->log_path_ready = 1;
  }
  return c->log_path;
}

static int send_error(owt_ctx *c, owt_io *io, owt_err err, const char *fallback) {
  static const owt_header www_auth = {OWT_STR_LIT("WWW-Authenticate"), OWT_STR_LIT("Basic realm=\"owt\"")};
  static const owt_header cache_miss = {OWT_STR_LIT("X-Owt-Cache"), OWT_STR_LIT("miss")};
  if (err == OWT_E_IO) return -1; /* the client left: there is no one to answer */
  owt_str msg = c->message.len ? owt_buf_str(&c->message) : owt_str_of(fallback);
  owt_header extra[2];
  size_t nextra = 0;
  if (err == OWT_E_UNAUTHORIZED) extra[nextra++] = www_auth;
  if (c->cache_state) extra[nextra++] = cache_miss;
  if (owt_response_send_error(io, err, msg, extra, nextra) != OWT_OK) return -1;
  c->bytes_out += msg.len;
  return owt_err_status(err);
}

/* Whether the digest c made last was of inv's fn_name and code. */
static int same_source(const owt_ctx *c, const owt_invocation *inv) {
  size_t n = inv->fn_name.len;
  /* An empty field may have no buffer at all: memcmp must not see its NULL. */
  return c->has_last_digest && inv->has_code_sum && c->last_fn.len == n &&
         (n == 0 || memcmp(c->last_fn.data, inv->fn_name.data, n) == 0) &&
         memcmp(c->last_code_sum, inv->code_sum, sizeof c->last_code_sum) == 0;
}

/* The warm-adaptor key: SHA-256 over fn_name, NUL, code; all zero when
 * OpenSSL fails (the runtime then hashes the code itself). The last one is
 * remembered with its fn_name and the code's own SHA-256, which
 * owt_code_resolve() found (from its memo, or the code store's name): no
 * second copy of the code to compare. Returns 1 when the source was that of
 * the thread's previous call. */
static int digest_of(owt_ctx *c, const owt_invocation *inv, unsigned char out[32]) {
  unsigned int len = 32;
  EVP_MD_CTX *ctx = c->sha256_ctx;
  if (same_source(c, inv)) {
    memcpy(out, c->last_digest, 32);
    return 1;
  }
  memset(out, 0, 32);
  c->has_last_digest = 0;
  if (!c->sha256 || !ctx || !EVP_DigestInit_ex2(ctx, c->sha256, NULL)) return 0;
  EVP_DigestUpdate(ctx, inv->fn_name.data, inv->fn_name.len);
  EVP_DigestUpdate(ctx, "", 1);
  if (inv->code.len) EVP_DigestUpdate(ctx, inv->code.data, inv->code.len);
  if (!EVP_DigestFinal_ex(ctx, out, &len)) {
    memset(out, 0, 32);
    return 0;
  }
  owt_buf_reset(&c->last_fn);
  if (!inv->has_code_sum || owt_buf_append(&c->last_fn, inv->fn_name.data, inv->fn_name.len)) return 0;
  memcpy(c->last_code_sum, inv->code_sum, 32);
  memcpy(c->last_digest, out, 32);
  c->has_last_digest = 1;
  return 0;
}

static owt_err check_auth(owt_ctx *c) {
  const owt_auth *auth = &c->srv->cfg->auth;
  char addr[64];
  if (!owt_auth_enabled(auth)) return OWT_OK;
  owt_buf_reset(&c->user);
  if (owt_auth_check(auth, c->req.authorization, &c->user) == OWT_OK) return OWT_OK;
  owt_escape_field(addr, sizeof addr, c->req.remote_addr);
  owt_log(OWT_LOG_WARNING, "auth failed for %s from %s (%s)", log_path(c), addr,
          c->req.authorization.len ? "wrong or malformed credentials" : "no credentials");
  owt_buf_append_str(&c->message, "authentication required");
  return OWT_E_UNAUTHORIZED;
}

_Static_assert(OWT_PY_MAX_HEADERS <= OWT_CACHE_MAX_HEADERS, "a reply's headers fit a cache entry");

/* The head for status and headers into c->head, with X-Owt-Cache: hit or
 * miss added when the request asked for the cache (an adaptor's own
 * X-Owt-Cache is dropped then). */
static owt_err build_head(owt_ctx *c, int status, const owt_header *headers, size_t n, long long length) {
  static const owt_str name = OWT_STR_LIT("X-Owt-Cache");
  owt_header all[OWT_CACHE_MAX_HEADERS + 1];
  size_t k = 0;
  owt_buf_reset(&c->head);
  if (!c->cache_state) return owt_response_head(&c->head, status, headers, n, length, NULL);
  for (size_t i = 0; i < n && k < OWT_CACHE_MAX_HEADERS; i++)
    if (!owt_str_caseeq(headers[i].name, name)) all[k++] = headers[i];
  all[k++] = (owt_header){name, c->cache_state == OWT_SERVER_CACHE_HIT ? OWT_STR_LIT("hit")
                                                                     : OWT_STR_LIT("miss")};
  return owt_response_head(&c->head, status, all, k, length, NULL);
}

/* Answer from the cache when the request's key has an entry: the stored
 * head, then its chunks in order, flushing each one of a stream. Returns
 * the status sent, -1 when the client went away, or 0 on a miss (the
 * request goes on to Python, recorded under c->cache_key). */
static int serve_from_cache(owt_ctx *c, owt_io *io) {
  owt_server *srv = c->srv;
  owt_invocation *inv = &c->inv;
  owt_cache_hit hit;
  owt_str chunk;
  owt_str base = inv->has_cache_key ? owt_buf_str(&inv->cache_key) : owt_buf_str(&c->req.path);
  owt_str kwargs = owt_buf_str(&inv->kwargs_raw), user = owt_buf_str(&c->user);
  int status = -1;
  owt_cache_key_make(&c->cache_key, base, inv->cache_kwargs ? &kwargs : NULL,
                     owt_auth_enabled(&srv->cfg->auth) ? &user : NULL);
  c->cache_state = OWT_SERVER_CACHE_MISS;
  if (owt_cache_lookup(&srv->cache, &c->cache_key, &hit) != OWT_OK) {
    owt_stats_add(&stats_of(c)->cache_misses, 1);
    return 0;
  }
  owt_stats_add(&stats_of(c)->cache_hits, 1);
  c->cache_state = OWT_SERVER_CACHE_HIT;
  if (build_head(c, hit.status, hit.headers, hit.nheaders, hit.streamed ? -1 : (long long)hit.body_len)) {
    c->cache_state = OWT_SERVER_CACHE_MISS;
    status = send_error(c, io, OWT_E_INTERNAL, "the cached response's head does not fit");
    goto done;
  }
  if (io->write(io->ctx, c->head.data, c->head.len) || (hit.streamed && io->flush(io->ctx))) goto done;
  while (owt_cache_hit_next(&hit, &chunk)) {
    if (io->write(io->ctx, chunk.p, chunk.len) || (hit.streamed && io->flush(io->ctx))) goto done;
    c->bytes_out += chunk.len;
  }
  status = hit.status;
done:
  owt_cache_hit_release(&hit);
  return status;
}

#define JOIN_BODY_MAX (16u << 10)

/* Write the reply: head, then the body or each chunk flushed as it comes.
 * A 200 to a request that asked for the cache is recorded into rec as it is
 * written and committed only once all of it went out; on any early return
 * the caller aborts rec. Returns the status, or -1 when the client went away. */
static int send_reply(owt_ctx *c, owt_io *io, owt_py_reply *reply, owt_cache_writer *rec) {
  owt_cache *cache = &c->srv->cache;
  long long length = reply->streaming ? -1 : (long long)reply->body.len;
  owt_err err = build_head(c, reply->status, reply->headers, reply->nheaders, length);
  if (err) {
    owt_buf_reset(&c->message);
    owt_buf_append_str(&c->message, "Error executing code: the adaptor returned an invalid "
                                    "status or header (CR/LF or a non-token name)");
    owt_log(OWT_LOG_ERROR, "%s", c->message.data);
    return send_error(c, io, OWT_E_ADAPTOR, NULL);
  }
  /* A small whole body goes out in one write with its head. */
  int joined = !reply->streaming && reply->body.len <= JOIN_BODY_MAX &&
               owt_buf_append(&c->head, reply->body.p ? reply->body.p : "", reply->body.len) == OWT_OK;
  if (io->write(io->ctx, c->head.data, c->head.len)) return -1;
  if (c->cache_state && reply->status == 200)
    owt_cache_writer_begin(cache, rec, &c->cache_key, reply->status, reply->headers, reply->nheaders,
                           reply->streaming);
  if (!reply->streaming) {
    if (!joined && reply->body.len && io->write(io->ctx, reply->body.p, reply->body.len)) return -1;
    c->bytes_out += reply->body.len;
    owt_cache_writer_chunk(cache, rec, reply->body.p, reply->body.len);
    owt_cache_writer_commit(cache, rec);
    return reply->status;
  }
  if (io->flush(io->ctx)) return -1;
  for (;;) {
    owt_str chunk;
    owt_buf_reset(&c->message);
    err = c->srv->interp->reply_next(c->py, reply, &chunk, &c->message);
    if (err) {
      /* Headers are out: a proper end would tell the client the body is
       * complete. Cut it instead (the event-stream error frame, if any, was
       * the runtime's last chunk and has been sent). */
      owt_log(OWT_LOG_WARNING, "stream for %s failed after %llu bytes, cut so the client sees it "
              "incomplete: %.*s", log_path(c), (unsigned long long)c->bytes_out, (int)c->message.len,
              c->message.data ? c->message.data : "");
      if (err == OWT_E_TIMEOUT) owt_stats_add(&stats_of(c)->timeouts, 1);
      c->cut = 1;
      return reply->status;
    }
    if (!chunk.p) {
      owt_cache_writer_commit(cache, rec); /* the stream finished: keep it */
      return reply->status;
    }
    if (chunk.len == 0) continue;
    if (io->write(io->ctx, chunk.p, chunk.len) || io->flush(io->ctx)) return -1;
    c->bytes_out += chunk.len;
    owt_cache_writer_chunk(cache, rec, chunk.p, chunk.len);
  }
}

static int run_invocation(owt_ctx *c, owt_io *io) {
  owt_py_call_in in;
  owt_py_reply reply;
  owt_cache_writer rec = OWT_CACHE_WRITER_INIT;
  owt_invocation *inv = &c->inv;
  memset(&in, 0, sizeof in);
  in.code = owt_buf_str(&inv->code);
  in.adaptor = owt_buf_str(&inv->adaptor);
  in.fn_name = owt_buf_str(&inv->fn_name);
  in.kwargs = owt_buf_str(&inv->kwargs);
  in.kwargs_kind = (int)inv->kwargs_kind;
  in.envp = c->req.envp;
  in.nparams = c->req.nparams;
  in.body = owt_buf_str(&c->req.body);
  in.path = owt_buf_str(&c->req.path);
  in.ticket = __atomic_add_fetch(&c->srv->tickets, 1, __ATOMIC_RELAXED);
  in.same_code = digest_of(c, inv, in.digest) && inv->code.len > 0;

  c->deadline.arm(c->deadline.arg, in.ticket);
  const owt_interp *interp = c->srv->interp;
  owt_err err = interp->call(c->py, &in, &reply, &c->message);
  int status = err ? send_error(c, io, err, "Error executing code") : send_reply(c, io, &reply, &rec);
  owt_cache_writer_abort(&c->srv->cache, &rec); /* nothing left when it was committed */
  interp->reply_close(c->py, &reply);
  c->deadline.disarm(c->deadline.arg);
  if (err == OWT_E_TIMEOUT) owt_stats_add(&stats_of(c)->timeouts, 1); /* a stream's: send_reply */
  return status;
}

/* The request's path in this thread's in-flight record, once it may be
 * shown (after auth). */
static void publish_path(owt_ctx *c) {
  if (!c->rec) return;
  owt_inflight_set_busy(c->rec, c->rec->busy_since, c->rec->number, c->req.method.p, c->req.method.len,
                        c->req.path.data, c->req.path.len);
}

/* The status of a response that said err, or -1 when it could not be sent. */
static int answered(owt_err err) { return err == OWT_E_IO ? -1 : owt_err_status(err); }

static int handle_steps(owt_ctx *c, owt_io *io) {
  owt_err err;
  owt_server *srv = c->srv;
  const owt_limits *limits = &srv->cfg->limits;
  if ((err = owt_request_read_params(&c->req, io->envp, limits)))
    return send_error(c, io, err,
                      c->req.error ? c->req.error : "the request's parameters are over the size limits");
  owt_str path = owt_buf_str(&c->req.path);
  if (owt_admin_is_reserved(path) && owt_admin_is_public(path))
    return answered(owt_admin_handle(io, c->req.method, path, srv->board, srv->interp->version()));
  if ((err = check_auth(c))) return send_error(c, io, err, NULL);
  publish_path(c);
  if (owt_str_eq(path, OWT_STR_LIT("/_owt/cache")))
    return answered(owt_admin_cache(io, c->req.method, c->req.query, &srv->cache, srv->board));
  if (owt_admin_is_reserved(path))
    return answered(owt_admin_handle(io, c->req.method, path, srv->board, srv->interp->version()));
  if ((err = owt_request_read_body(&c->req, io))) {
    if (err == OWT_E_IO) return -1;
    return send_error(c, io, err, c->req.error); /* hook: owt_request says what was wrong */
  }
  err = owt_invocation_parse(&c->inv, &c->req, limits);
  /* A hit never runs code, so it is served with no code in the request
   * (the force-cache idea, PROTOCOL §8) and under --no-code. */
  if (c->inv.use_cache && (!err || c->inv.missing_code)) {
    int status = serve_from_cache(c, io);
    if (status) return status;
  }
  if (err) return send_error(c, io, err, c->inv.error);
  if (c->inv.has_code && srv->cfg->no_code)
    return send_error(c, io, OWT_E_FORBIDDEN, "this server runs with --no-code: code in requests "
                                              "is refused; call a named adaptor with adaptor=NAME");
  /* hook: code_sha256 / code_sig -> the code to run, checked and stored (lib/owt_code.h) */
  if ((err = owt_code_resolve(&srv->code, &c->code_memo, &c->inv, &c->message))) return send_error(c, io, err, NULL);
  return run_invocation(c, io);
}

static void count_status(owt_stats *s, int status) {
  owt_stats_add(&s->requests, 1);
  if (status < 0) owt_stats_add(&s->client_gone, 1);
  else if (status >= 500) owt_stats_add(&s->errors_5xx, 1);
  else if (status >= 400) owt_stats_add(&s->errors_4xx, 1);
}

int owt_server_handle(owt_ctx *c, owt_io *io) {
  owt_stats *stats = stats_of(c);
  double t0 = owt_now();
  uint64_t number = owt_stats_get(&stats->requests);
  c->cache_state = 0;
  c->bytes_out = 0;
  c->cut = 0;
  c->log_path_ready = 0;
  owt_buf_reset(&c->message);
  if (c->rec) owt_inflight_set_busy(c->rec, t0, number, "", 0, "", 0);
  int status = handle_steps(c, io);
  owt_stats_add(&stats->bytes_out, c->bytes_out);
  count_status(stats, status);
  owt_stats_observe(stats, owt_now(), owt_now() - t0, status); /* hook: durations for /_owt/ */
  if (owt_log_enabled(OWT_LOG_INFO)) {
    char method[16];
    owt_escape_field(method, sizeof method, c->req.method);
    owt_log(OWT_LOG_INFO, "%s %s %d %llu %.2fms", method, log_path(c),
            status < 0 ? owt_err_status(OWT_E_IO) : status,
            (unsigned long long)c->bytes_out, (owt_now() - t0) * 1000.0);
  }
  if (c->rec) owt_inflight_set_idle(c->rec);
  owt_request_reset(&c->req);
  return status;
}

int owt_server_divert_stdout(void) {
  int saved = fcntl(1, F_DUPFD_CLOEXEC, 3);
  dup2(2, 1);
  return saved;
}
