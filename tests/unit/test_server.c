/* test_server.c - the request pipeline (owt_server_handle) over an in-memory
 * owt_io, with a fake interpreter behind the owt_interp table: statuses,
 * heads and bodies, streams flushed chunk by chunk and cut when they fail
 * after their head, the cache, auth, the /_owt/ pages, body limits, and the
 * counters the scoreboard shows. No Python: the fake answers from C what
 * each test scripts. */
#define _GNU_SOURCE /* memmem, mkdtemp */
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "owt_auth.h"
#include "owt_server.h"
#include "unit.h"

/* ---- the fake interpreter ---------------------------------------------------- */

struct owt_py {
  int started;
};
struct owt_py_thread {
  int unused;
};

#define FAKE_MAX_CHUNKS 8

typedef struct {
  /* what the next call answers */
  owt_err err;           /* not OWT_OK: the call fails with it and message */
  const char *message;
  int status;
  owt_header headers[4];
  size_t nheaders;
  const char *body;
  int streaming;
  const char *chunks[FAKE_MAX_CHUNKS];
  size_t nchunks;
  size_t fail_after;     /* a stream's reply_next fails after this many chunks */
  owt_err stream_err;
  owt_err start_err;     /* what start answers */
  /* what the pipeline did */
  int calls, nexts, closes, open, stops;
  size_t next_chunk;
  char code[256], adaptor[64], kwargs[256], body_seen[256], path[256];
  unsigned char digest[32];
  uint64_t ticket;
  owt_inflight during;   /* the thread's in-flight record as the call saw it */
  const owt_inflight *rec;
} fake_state;

static fake_state fake;
static struct owt_py fake_py;
static struct owt_py_thread fake_thread;

static void copy_span(char *dst, size_t cap, owt_str s) {
  size_t n = s.len < cap - 1 ? s.len : cap - 1;
  if (n) memcpy(dst, s.p, n);
  dst[n] = '\0';
}

static owt_err fake_start(owt_py **out, const owt_config *cfg, const char *shipped, size_t threads, char *why,
                          size_t why_len) {
  (void)cfg, (void)shipped, (void)threads;
  if (fake.start_err) {
    snprintf(why, why_len, "the fake interpreter was told to fail");
    return fake.start_err;
  }
  fake_py.started = 1;
  *out = &fake_py;
  return OWT_OK;
}

static void fake_stop(owt_py *py) {
  assert_ptr_equal(py, &fake_py);
  fake.stops++;
}

static owt_err fake_call(owt_py_thread *t, const owt_py_call_in *in, owt_py_reply *reply, owt_buf *message) {
  assert_ptr_equal(t, &fake_thread);
  memset(reply, 0, sizeof *reply);
  fake.calls++;
  copy_span(fake.code, sizeof fake.code, in->code);
  copy_span(fake.adaptor, sizeof fake.adaptor, in->adaptor);
  copy_span(fake.kwargs, sizeof fake.kwargs, in->kwargs);
  copy_span(fake.body_seen, sizeof fake.body_seen, in->body);
  copy_span(fake.path, sizeof fake.path, in->path);
  memcpy(fake.digest, in->digest, sizeof fake.digest);
  fake.ticket = in->ticket;
  if (fake.rec) owt_inflight_read(fake.rec, &fake.during);
  if (fake.err) {
    if (fake.message) owt_buf_append_str(message, fake.message);
    return fake.err;
  }
  reply->status = fake.status;
  memcpy(reply->headers, fake.headers, sizeof fake.headers);
  reply->nheaders = fake.nheaders;
  reply->streaming = fake.streaming;
  reply->body = owt_str_of(fake.body);
  reply->result = &fake; /* something to close */
  fake.next_chunk = 0;
  fake.open++;
  return OWT_OK;
}

static owt_err fake_reply_next(owt_py_thread *t, owt_py_reply *reply, owt_str *chunk, owt_buf *message) {
  assert_ptr_equal(t, &fake_thread);
  assert_non_null(reply->result);
  fake.nexts++;
  if (fake.next_chunk >= fake.fail_after) {
    owt_buf_append_str(message, fake.message ? fake.message : "the generator raised");
    return fake.stream_err;
  }
  if (fake.next_chunk >= fake.nchunks) {
    *chunk = OWT_STR_NULL;
    reply->finished = 1;
    return OWT_OK;
  }
  *chunk = owt_str_of(fake.chunks[fake.next_chunk++]);
  return OWT_OK;
}

static void fake_reply_close(owt_py_thread *t, owt_py_reply *reply) {
  assert_ptr_equal(t, &fake_thread);
  if (!reply->result) return;
  fake.closes++;
  fake.open--;
  memset(reply, 0, sizeof *reply);
}

static const char *fake_version(void) { return "3.11.2 (fake, for the unit tests)"; }

static const owt_interp fake_interp = {fake_start, fake_stop, fake_call, fake_reply_next, fake_reply_close,
                                       fake_version};

/* A reply of status with body, content type text/plain. */
static void fake_answers(int status, const char *body) {
  fake.err = OWT_OK;
  fake.status = status;
  fake.body = body;
  fake.streaming = 0;
  fake.nheaders = 0;
}

/* A streamed reply of the NULL-terminated chunks. */
static void fake_streams(const char *const *chunks) {
  fake_answers(200, NULL);
  fake.streaming = 1;
  fake.nchunks = 0;
  while (chunks[fake.nchunks]) {
    fake.chunks[fake.nchunks] = chunks[fake.nchunks];
    fake.nchunks++;
  }
  fake.fail_after = SIZE_MAX;
}

/* ---- the deadline, as the pipeline drives it ------------------------------- */

static int arms, disarms;
static uint64_t armed_ticket;

static void fake_arm(void *arg, uint64_t ticket) {
  (void)arg;
  arms++;
  armed_ticket = ticket;
}

static int fake_disarm(void *arg) {
  (void)arg;
  disarms++;
  return 0;
}

/* ---- a server around it ---------------------------------------------------- */

typedef struct {
  owt_config cfg;
  owt_server srv;
  owt_ctx ctx;
  char cache_dir[64];
  int has_cache;
} harness;

static harness *h_new_limited(int with_cache, int with_auth, size_t max_body) {
  harness *h = calloc(1, sizeof *h);
  assert_non_null(h);
  memset(&fake, 0, sizeof fake);
  arms = disarms = 0;
  h->cfg.limits = OWT_LIMITS_DEFAULT;
  if (max_body) h->cfg.limits.max_body = max_body;
  h->cfg.timeout = 30;
  h->cfg.threads = 1;
  h->cfg.cache_max_bytes = 1u << 20;
  if (with_cache) {
    memcpy(h->cache_dir, "/tmp/owt-test-server-XXXXXX", sizeof "/tmp/owt-test-server-XXXXXX");
    assert_non_null(mkdtemp(h->cache_dir));
    h->cfg.cache_dir = h->cache_dir;
    h->has_cache = 1;
  }
  if (with_auth) {
    char hex[65], spec[128];
    const char *why = NULL;
    owt_auth_hash_password("wonderland", 10, hex);
    snprintf(spec, sizeof spec, "alice:%s", hex);
    assert_int_equal(owt_auth_add(&h->cfg.auth, owt_str_of(spec), &why), OWT_OK);
  }
  assert_int_equal(owt_server_init(&h->srv, &h->cfg, &fake_interp, "/nowhere", 1), OWT_OK);
  assert_ptr_equal(h->srv.py, &fake_py);
  owt_deadline_ops ops = {fake_arm, fake_disarm, NULL};
  assert_int_equal(owt_ctx_init(&h->ctx, &h->srv, &fake_thread, 0, ops), OWT_OK);
  assert_non_null(h->ctx.rec);
  fake.rec = h->ctx.rec;
  return h;
}

static harness *h_new(int with_cache, int with_auth) { return h_new_limited(with_cache, with_auth, 0); }

static void h_free(harness *h) {
  owt_ctx_free(&h->ctx);
  owt_server_free(&h->srv);
  assert_int_equal(fake.stops, 1);
  assert_int_equal(fake.open, 0); /* every reply was closed */
  owt_auth_free(&h->cfg.auth);
  if (h->has_cache) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->cache_dir);
    assert_int_equal(system(cmd), 0);
  }
  free(h);
}

/* Output positions at each flush: a stream flushes every chunk as it comes. */
typedef struct {
  mem_io m;
  size_t flushed_at[32];
  size_t nflushes;
} flush_io;

static int flush_io_flush(void *ctx) {
  flush_io *f = ctx;
  if (f->nflushes < ARRAY_LEN(f->flushed_at)) f->flushed_at[f->nflushes++] = f->m.out.len;
  return mem_io_flush(&f->m);
}

static ssize_t flush_io_read(void *ctx, char *buf, size_t n) { return mem_io_read(&((flush_io *)ctx)->m, buf, n); }
static int flush_io_write(void *ctx, const char *p, size_t n) { return mem_io_write(&((flush_io *)ctx)->m, p, n); }

typedef struct {
  const char *method;
  const char *path;
  const char *query;
  const char *body;
  const char *authorization;  /* HTTP_AUTHORIZATION, or NULL */
  const char *content_length; /* CONTENT_LENGTH as sent; NULL: the body's length */
} req;

/* Run one request; f holds what was written. Returns owt_server_handle's status. */
static int serve(harness *h, req r, flush_io *f) {
  char method[64], path[512], uri[512], query[1024], length[64], auth[256];
  char *envp[12];
  size_t n = 0;
  const char *body = r.body ? r.body : "";
  snprintf(method, sizeof method, "REQUEST_METHOD=%s", r.method ? r.method : (r.body ? "POST" : "GET"));
  snprintf(path, sizeof path, "PATH_INFO=%s", r.path ? r.path : "/");
  snprintf(uri, sizeof uri, "REQUEST_URI=%s", r.path ? r.path : "/");
  snprintf(query, sizeof query, "QUERY_STRING=%s", r.query ? r.query : "");
  if (r.content_length) snprintf(length, sizeof length, "CONTENT_LENGTH=%s", r.content_length);
  else snprintf(length, sizeof length, "CONTENT_LENGTH=%zu", strlen(body));
  envp[n++] = method;
  envp[n++] = path;
  envp[n++] = uri;
  envp[n++] = query;
  envp[n++] = length;
  envp[n++] = "REMOTE_ADDR=127.0.0.1";
  if (r.body) envp[n++] = "CONTENT_TYPE=application/x-www-form-urlencoded";
  if (r.authorization) {
    snprintf(auth, sizeof auth, "HTTP_AUTHORIZATION=%s", r.authorization);
    envp[n++] = auth;
  }
  envp[n] = NULL;
  owt_io io;
  memset(f, 0, sizeof *f);
  mem_io_bind(&io, &f->m, body, strlen(body), envp);
  io.ctx = f;
  io.read = flush_io_read;
  io.write = flush_io_write;
  io.flush = flush_io_flush;
  return owt_server_handle(&h->ctx, &io);
}

static owt_str out_of(const flush_io *f) { return owt_buf_str(&f->m.out); }

/* The head (up to the blank line) and the body of what was written. */
static owt_str head_of(const flush_io *f) {
  owt_str all = out_of(f);
  const char *end = memmem(all.p, all.len, "\r\n\r\n", 4);
  assert_non_null(end);
  return owt_str_make(all.p, (size_t)(end - all.p) + 4);
}

static owt_str body_of(const flush_io *f) {
  owt_str all = out_of(f), head = head_of(f);
  return owt_str_make(all.p + head.len, all.len - head.len);
}

static int has(owt_str s, const char *needle) { return memmem(s.p, s.len, needle, strlen(needle)) != NULL; }

#define assert_has(span, needle)                                                                     \
  do {                                                                                              \
    owt_str s_ = (span);                                                                            \
    if (!has(s_, (needle))) fail_msg("\"%s\" not in \"%.*s\"", (needle), (int)s_.len, s_.p);         \
  } while (0)

static const owt_stats *stats(harness *h) { return &h->srv.slot->worker; }

/* ---- tests -------------------------------------------------------------------- */

static void test_a_reply_goes_out_whole(void **state) {
  (void)state;
  harness *h = h_new(0, 0);
  flush_io f;
  fake_answers(201, "made");
  fake.headers[0] = (owt_header){OWT_STR_LIT("X-Mine"), OWT_STR_LIT("yes")};
  fake.nheaders = 1;
  assert_int_equal(serve(h, (req){.path = "/p/q", .query = "code=def+run%28%29%3A+pass&kwargs=%7B%7D"}, &f), 201);
  assert_span_equal(out_of(&f), "Status: 201 Created\r\nX-Mine: yes\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                "X-Content-Type-Options: nosniff\r\nContent-Length: 4\r\n\r\nmade");
  assert_int_equal(fake.calls, 1);
  assert_int_equal(fake.closes, 1);
  assert_string_equal(fake.code, "def run(): pass");
  assert_string_equal(fake.kwargs, "{}");
  assert_string_equal(fake.path, "/p/q");
  /* the deadline spans the call: armed with the call's ticket, disarmed after */
  assert_int_equal(arms, 1);
  assert_int_equal(disarms, 1);
  assert_true(fake.ticket != 0);
  assert_true(armed_ticket == fake.ticket);
  /* the request's path is published (after auth) while it runs, and gone after */
  assert_true(fake.during.busy_since > 0);
  assert_string_equal(fake.during.path, "/p/q");
  owt_inflight now;
  owt_inflight_read(h->ctx.rec, &now);
  assert_true(now.busy_since == 0);
  assert_int_equal(stats(h)->requests, 1);
  assert_int_equal(stats(h)->bytes_out, 4);
  mem_io_free(&f.m);
  h_free(h);
}

static void test_each_request_gets_its_ticket_and_digest(void **state) {
  (void)state;
  harness *h = h_new(0, 0);
  flush_io f;
  unsigned char first[32], zero[32] = {0};
  fake_answers(200, "x");
  assert_int_equal(serve(h, (req){.query = "code=a"}, &f), 200);
  memcpy(first, fake.digest, 32);
  uint64_t t1 = fake.ticket;
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.query = "code=a"}, &f), 200);
  assert_memory_equal(fake.digest, first, 32); /* the same code is the same warm adaptor */
  assert_memory_not_equal(first, zero, 32);
  assert_true(fake.ticket > t1);
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.query = "code=b"}, &f), 200);
  assert_memory_not_equal(fake.digest, first, 32);
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.query = "code=a&fn_name=other"}, &f), 200);
  assert_memory_not_equal(fake.digest, first, 32);
  mem_io_free(&f.m);
  h_free(h);
}

static void test_interpreter_errors_are_their_status(void **state) {
  (void)state;
  static const struct {
    owt_err err;
    int status;
    const char *message;
  } cases[] = {{OWT_E_BAD_REQUEST, 400, "kwargs do not fit run(name)"},
               {OWT_E_FORBIDDEN, 403, "refused"},
               {OWT_E_NOT_FOUND, 404, "no adaptor named nosuch"},
               {OWT_E_ADAPTOR, 500, "Error executing code: ZeroDivisionError"},
               {OWT_E_TIMEOUT, 504, "Error executing code: Timeout"}};
  harness *h = h_new(0, 0);
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    flush_io f;
    fake.err = cases[i].err;
    fake.message = cases[i].message;
    assert_int_equal(serve(h, (req){.query = "adaptor=nosuch"}, &f), cases[i].status);
    assert_int_equal(owt_str_eq(body_of(&f), owt_str_of(cases[i].message)), 1);
    assert_true(strncmp(f.m.out.data, "Status: ", 8) == 0);
    assert_string_equal(fake.adaptor, "nosuch");
    mem_io_free(&f.m);
  }
  assert_int_equal(fake.closes, 0); /* a failed call leaves nothing to close */
  assert_int_equal(stats(h)->requests, ARRAY_LEN(cases));
  assert_int_equal(stats(h)->errors_4xx, 3);
  assert_int_equal(stats(h)->errors_5xx, 2);
  assert_int_equal(stats(h)->timeouts, 1);
  h_free(h);
}

static void test_request_errors_never_reach_the_interpreter(void **state) {
  (void)state;
  harness *h = h_new(0, 0);
  flush_io f;
  assert_int_equal(serve(h, (req){.query = ""}, &f), 400); /* no code */
  assert_has(body_of(&f), "no code");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.query = "code=x&adaptor=y"}, &f), 400);
  assert_has(body_of(&f), "not both");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.query = "code_b64=%%%"}, &f), 400);
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.query = "code=x", .body = "", .content_length = "abc"}, &f), 400);
  mem_io_free(&f.m);
  assert_int_equal(fake.calls, 0);
  assert_int_equal(arms, 0);
  h_free(h);
}

static void test_body_limits(void **state) {
  (void)state;
  harness *h = h_new_limited(0, 0, 16);
  flush_io f;
  fake_answers(200, "ok");
  assert_int_equal(serve(h, (req){.body = "code=x&kwargs=12"}, &f), 200); /* 16 bytes: at the limit */
  assert_string_equal(fake.body_seen, "code=x&kwargs=12");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.body = "code=x&kwargs=123"}, &f), 413);
  assert_true(f.m.reads == 0); /* CONTENT_LENGTH said it: refused before reading */
  mem_io_free(&f.m);
  /* a body longer than CONTENT_LENGTH claims: refused when the limit is passed while reading */
  assert_int_equal(serve(h, (req){.body = "code=x&kwargs=0123456789", .content_length = "10"}, &f), 413);
  assert_true(f.m.reads > 0);
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.body = "code=x", .content_length = "12"}, &f), 400); /* short */
  assert_has(body_of(&f), "shorter than CONTENT_LENGTH");
  mem_io_free(&f.m);
  assert_int_equal(fake.calls, 1);
  h_free(h);
}

static void test_no_code_refuses_code_but_serves_adaptors(void **state) {
  (void)state;
  harness *h = h_new(0, 0);
  h->cfg.no_code = 1;
  flush_io f;
  fake_answers(200, "named");
  assert_int_equal(serve(h, (req){.query = "code=import+os"}, &f), 403);
  assert_has(body_of(&f), "--no-code");
  assert_int_equal(fake.calls, 0);
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.query = "adaptor=hello"}, &f), 200);
  assert_int_equal(fake.calls, 1);
  mem_io_free(&f.m);
  h_free(h);
}

static void test_a_stream_is_flushed_chunk_by_chunk(void **state) {
  (void)state;
  static const char *const chunks[] = {"data: 1\n\n", "", "data: 22\n\n", "data: 333\n\n", NULL};
  harness *h = h_new(0, 0);
  flush_io f;
  fake_streams(chunks);
  fake.headers[0] = (owt_header){OWT_STR_LIT("Content-Type"), OWT_STR_LIT("text/event-stream")};
  fake.nheaders = 1;
  assert_int_equal(serve(h, (req){.query = "code=x"}, &f), 200);
  owt_str head = head_of(&f);
  assert_span_equal(head, "Status: 200 OK\r\nContent-Type: text/event-stream\r\nX-Content-Type-Options: nosniff\r\n"
                          "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n\r\n");
  assert_span_equal(body_of(&f), "data: 1\n\ndata: 22\n\ndata: 333\n\n");
  /* the head, then each non-empty chunk, each flushed as it came */
  assert_int_equal(f.nflushes, 4);
  assert_int_equal(f.flushed_at[0], head.len);
  assert_int_equal(f.flushed_at[1], head.len + 9);
  assert_int_equal(f.flushed_at[2], head.len + 9 + 10);
  assert_int_equal(f.flushed_at[3], head.len + 9 + 10 + 11);
  assert_false(h->ctx.cut);
  assert_int_equal(fake.closes, 1);
  assert_int_equal(stats(h)->bytes_out, 30);
  mem_io_free(&f.m);
  h_free(h);
}

static void test_a_stream_that_fails_after_its_head_is_cut(void **state) {
  (void)state;
  static const char *const chunks[] = {"one ", "two ", "three", NULL};
  static const owt_err errs[] = {OWT_E_ADAPTOR, OWT_E_TIMEOUT};
  harness *h = h_new(0, 0);
  for (size_t i = 0; i < ARRAY_LEN(errs); i++) {
    flush_io f;
    fake_streams(chunks);
    fake.fail_after = 2;
    fake.stream_err = errs[i];
    fake.message = "the generator raised ValueError";
    assert_int_equal(serve(h, (req){.query = "code=x"}, &f), 200); /* the head said 200 */
    assert_true(h->ctx.cut); /* the connection must end without a proper end */
    assert_span_equal(body_of(&f), "one two ");
    assert_false(has(out_of(&f), "ValueError")); /* nothing after the head pretends to be an answer */
    mem_io_free(&f.m);
  }
  assert_int_equal(fake.closes, 2); /* the generator is closed, so its finally runs */
  assert_int_equal(stats(h)->timeouts, 1);
  /* the next request starts uncut */
  flush_io f;
  fake_answers(200, "fine");
  assert_int_equal(serve(h, (req){.query = "code=x"}, &f), 200);
  assert_false(h->ctx.cut);
  mem_io_free(&f.m);
  h_free(h);
}

static void test_a_client_that_leaves(void **state) {
  (void)state;
  static const char *const chunks[] = {"a", "b", NULL};
  harness *h = h_new(0, 0);
  flush_io f;
  fake_streams(chunks);
  owt_io io;
  /* writes fail from the start: nothing can be answered */
  char *envp[] = {"REQUEST_METHOD=GET", "QUERY_STRING=code=x", NULL};
  memset(&f, 0, sizeof f);
  mem_io_bind(&io, &f.m, "", 0, envp);
  f.m.write_fails = 1;
  assert_int_equal(owt_server_handle(&h->ctx, &io), -1);
  assert_int_equal(fake.closes, 1); /* the stream is closed, not left open */
  assert_int_equal(fake.nexts, 0);
  assert_int_equal(stats(h)->client_gone, 1);
  mem_io_free(&f.m);
  h_free(h);
}

static void test_an_invalid_header_from_the_adaptor_is_a_500(void **state) {
  (void)state;
  harness *h = h_new(0, 0);
  flush_io f;
  fake_answers(200, "body");
  fake.headers[0] = (owt_header){OWT_STR_LIT("X-A"), OWT_STR_LIT("a\r\nSet-Cookie: owned=1")};
  fake.nheaders = 1;
  assert_int_equal(serve(h, (req){.query = "code=x"}, &f), 500);
  assert_false(has(out_of(&f), "owned"));
  assert_has(body_of(&f), "invalid status or header");
  mem_io_free(&f.m);
  fake.nheaders = 0;
  fake.status = 42;
  assert_int_equal(serve(h, (req){.query = "code=x"}, &f), 500);
  mem_io_free(&f.m);
  assert_int_equal(fake.closes, 2);
  h_free(h);
}

static void test_cache_miss_then_hit(void **state) {
  (void)state;
  harness *h = h_new(1, 0);
  flush_io f;
  fake_answers(200, "computed once");
  assert_int_equal(serve(h, (req){.path = "/c", .query = "code=x&use_cache=true"}, &f), 200);
  assert_has(head_of(&f), "X-Owt-Cache: miss\r\n");
  assert_span_equal(body_of(&f), "computed once");
  mem_io_free(&f.m);
  fake_answers(200, "must not be seen");
  assert_int_equal(serve(h, (req){.path = "/c", .query = "code=x&use_cache=true"}, &f), 200);
  assert_has(head_of(&f), "X-Owt-Cache: hit\r\n");
  assert_span_equal(body_of(&f), "computed once");
  assert_int_equal(fake.calls, 1);
  mem_io_free(&f.m);
  /* a hit needs no code at all (and is served under --no-code) */
  h->cfg.no_code = 1;
  assert_int_equal(serve(h, (req){.path = "/c", .query = "use_cache=true"}, &f), 200);
  assert_span_equal(body_of(&f), "computed once");
  mem_io_free(&f.m);
  /* another path is another key; without use_cache the cache is not asked */
  h->cfg.no_code = 0;
  assert_int_equal(serve(h, (req){.path = "/other", .query = "code=x&use_cache=true"}, &f), 200);
  assert_has(head_of(&f), "X-Owt-Cache: miss\r\n");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/c", .query = "code=x"}, &f), 200);
  assert_false(has(head_of(&f), "X-Owt-Cache"));
  assert_span_equal(body_of(&f), "must not be seen");
  mem_io_free(&f.m);
  assert_int_equal(stats(h)->cache_hits, 2);
  assert_int_equal(stats(h)->cache_misses, 2);
  h_free(h);
}

static void test_cache_keeps_only_whole_200s(void **state) {
  (void)state;
  static const char *const chunks[] = {"s1 ", "s2", NULL};
  harness *h = h_new(1, 0);
  flush_io f;
  fake_answers(404, "not this");
  assert_int_equal(serve(h, (req){.path = "/e", .query = "code=x&use_cache=1"}, &f), 404);
  mem_io_free(&f.m);
  fake.err = OWT_E_ADAPTOR;
  fake.message = "raised";
  assert_int_equal(serve(h, (req){.path = "/e", .query = "code=x&use_cache=1"}, &f), 500);
  assert_has(head_of(&f), "X-Owt-Cache: miss\r\n");
  mem_io_free(&f.m);
  /* a stream cut half way is not kept */
  fake_streams(chunks);
  fake.fail_after = 1;
  fake.stream_err = OWT_E_ADAPTOR;
  assert_int_equal(serve(h, (req){.path = "/e", .query = "code=x&use_cache=1"}, &f), 200);
  assert_true(h->ctx.cut);
  mem_io_free(&f.m);
  /* a whole stream is, and a hit replays it chunk by chunk */
  fake_streams(chunks);
  assert_int_equal(serve(h, (req){.path = "/e", .query = "code=x&use_cache=1"}, &f), 200);
  mem_io_free(&f.m);
  int calls = fake.calls;
  assert_int_equal(serve(h, (req){.path = "/e", .query = "code=x&use_cache=1"}, &f), 200);
  assert_int_equal(fake.calls, calls);
  assert_has(head_of(&f), "X-Owt-Cache: hit\r\n");
  assert_false(has(head_of(&f), "Content-Length"));
  assert_span_equal(body_of(&f), "s1 s2");
  assert_true(f.nflushes >= 3); /* head, then each chunk */
  mem_io_free(&f.m);
  h_free(h);
}

static void test_auth(void **state) {
  (void)state;
  harness *h = h_new(0, 1);
  flush_io f;
  fake_answers(200, "in");
  assert_int_equal(serve(h, (req){.path = "/secret", .query = "code=x"}, &f), 401);
  assert_has(head_of(&f), "WWW-Authenticate: Basic realm=\"owt\"\r\n");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.query = "code=x", .authorization = "Basic YWxpY2U6d3Jvbmc="}, &f), 401);
  mem_io_free(&f.m);
  assert_int_equal(fake.calls, 0);
  assert_int_equal(serve(h, (req){.query = "code=x", .authorization = "Basic YWxpY2U6d29uZGVybGFuZA=="}, &f), 200);
  assert_int_equal(fake.calls, 1);
  mem_io_free(&f.m);
  /* health needs no credentials; the other pages do */
  assert_int_equal(serve(h, (req){.path = "/_owt/health"}, &f), 200);
  assert_span_equal(body_of(&f), "ok");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/_owt/status"}, &f), 401);
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/_owt/status", .authorization = "Basic YWxpY2U6d29uZGVybGFuZA=="}, &f),
                   200);
  mem_io_free(&f.m);
  assert_int_equal(stats(h)->errors_4xx, 3);
  h_free(h);
}

static void test_admin_pages(void **state) {
  (void)state;
  harness *h = h_new(0, 0);
  flush_io f;
  assert_int_equal(serve(h, (req){.path = "/_owt/health"}, &f), 200);
  assert_span_equal(out_of(&f), "Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                "X-Content-Type-Options: nosniff\r\nContent-Length: 2\r\n\r\nok");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/_owt/status"}, &f), 200);
  assert_has(head_of(&f), "Content-Type: application/json\r\n");
  owt_str body = body_of(&f);
  cJSON *doc = cJSON_ParseWithLength(body.p, body.len);
  assert_non_null(doc);
  assert_string_equal(cJSON_GetObjectItem(doc, "python")->valuestring, "3.11.2");
  /* the status request itself is in flight, on its own path */
  cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "workers"), 0);
  assert_non_null(w);
  assert_int_equal(cJSON_GetObjectItem(w, "busy")->valueint, 1);
  assert_string_equal(cJSON_GetObjectItem(w, "path")->valuestring, "/_owt/status");
  cJSON_Delete(doc);
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/_owt/metrics"}, &f), 200);
  assert_has(body_of(&f), "owt_requests_total{pid=");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/_owt/nope"}, &f), 404);
  assert_has(body_of(&f), "no such page");
  mem_io_free(&f.m);
  serve(h, (req){.path = "/_owt"}, &f); /* the dashboard's address without its slash */
  assert_has(owt_buf_str(&f.m.out), "Status: 308 Permanent Redirect\r\n");
  assert_has(owt_buf_str(&f.m.out), "Location: _owt/\r\n");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/_owt/"}, &f), 200);
  assert_has(body_of(&f), "<title>owt · dashboard</title>");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.method = "POST", .path = "/_owt/status", .body = "x"}, &f), 405);
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.method = "DELETE", .path = "/_owt/cache"}, &f), 409);
  assert_has(body_of(&f), "--cache-dir");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/_owt/cache"}, &f), 200);
  assert_has(body_of(&f), "\"enabled\":false");
  mem_io_free(&f.m);
  assert_int_equal(fake.calls, 0);
  /* /_owtx is not reserved: it is an ordinary request */
  fake_answers(200, "mine");
  assert_int_equal(serve(h, (req){.path = "/_owtx", .query = "code=x"}, &f), 200);
  assert_int_equal(fake.calls, 1);
  mem_io_free(&f.m);
  h_free(h);
}

static void test_cache_page_purges(void **state) {
  (void)state;
  harness *h = h_new(1, 0);
  flush_io f;
  fake_answers(200, "stored");
  assert_int_equal(serve(h, (req){.path = "/k", .query = "code=x&use_cache=1"}, &f), 200);
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/_owt/cache"}, &f), 200);
  assert_has(body_of(&f), "\"entries\":1");
  mem_io_free(&f.m);
  char many[256] = "";
  for (int i = 0; i < 65; i++) strcat(many, "k&"); /* over the 64 fields a purge query may have */
  assert_int_equal(serve(h, (req){.method = "DELETE", .path = "/_owt/cache", .query = many}, &f), 400);
  assert_has(body_of(&f), "does not parse");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.method = "DELETE", .path = "/_owt/cache", .query = "key=%2Fk"}, &f), 200);
  assert_span_equal(body_of(&f), "{\"purged\":1}\n");
  mem_io_free(&f.m);
  assert_int_equal(serve(h, (req){.path = "/k", .query = "code=x&use_cache=1"}, &f), 200);
  assert_has(head_of(&f), "X-Owt-Cache: miss");
  mem_io_free(&f.m);
  h_free(h);
}

static void test_init_fails_when_the_interpreter_does(void **state) {
  (void)state;
  owt_config cfg;
  owt_server srv;
  memset(&cfg, 0, sizeof cfg);
  cfg.limits = OWT_LIMITS_DEFAULT;
  memset(&fake, 0, sizeof fake);
  fake.start_err = OWT_E_INTERNAL;
  assert_int_equal(owt_server_init(&srv, &cfg, &fake_interp, "/nowhere", 0), OWT_E_INTERNAL);
  owt_server_free(&srv);
  assert_int_equal(fake.stops, 0); /* nothing started, nothing stopped */
  /* a cache directory that cannot be one */
  fake.start_err = OWT_OK;
  cfg.cache_dir = "/proc/version/cache";
  assert_int_not_equal(owt_server_init(&srv, &cfg, &fake_interp, "/nowhere", 0), OWT_OK);
  owt_server_free(&srv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_reply_goes_out_whole),
      cmocka_unit_test(test_each_request_gets_its_ticket_and_digest),
      cmocka_unit_test(test_interpreter_errors_are_their_status),
      cmocka_unit_test(test_request_errors_never_reach_the_interpreter),
      cmocka_unit_test(test_body_limits),
      cmocka_unit_test(test_no_code_refuses_code_but_serves_adaptors),
      cmocka_unit_test(test_a_stream_is_flushed_chunk_by_chunk),
      cmocka_unit_test(test_a_stream_that_fails_after_its_head_is_cut),
      cmocka_unit_test(test_a_client_that_leaves),
      cmocka_unit_test(test_an_invalid_header_from_the_adaptor_is_a_500),
      cmocka_unit_test(test_cache_miss_then_hit),
      cmocka_unit_test(test_cache_keeps_only_whole_200s),
      cmocka_unit_test(test_auth),
      cmocka_unit_test(test_admin_pages),
      cmocka_unit_test(test_cache_page_purges),
      cmocka_unit_test(test_init_fails_when_the_interpreter_does),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
