/* owt_request.c - params indexing and bounded body reading. */
#include "owt_request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owt_form.h"
#include "owt_log.h"

/* Bytes asked of the web server per read once the announced body is in. */
#define BODY_READ_STEP 65536
/* A body buffer bigger than this is released after its request. */
#define BODY_KEEP_BYTES (1u << 20)

void owt_request_init(owt_request *r, const owt_limits *limits) {
  memset(r, 0, sizeof *r);
  owt_buf_init(&r->path, limits->max_params);
  owt_buf_init(&r->body, limits->max_body);
}

typedef struct {
  const char *name;
  size_t len;
  size_t offset;
} param_slot;

#define SLOT(n, field) {n, sizeof(n) - 1, offsetof(owt_request, field)}
/* In order of their first letter: index_param looks only at those sharing it. */
static const param_slot indexed_params[] = {
    SLOT("CONTENT_TYPE", content_type), SLOT("CONTENT_LENGTH", content_length),
    SLOT("HTTP_AUTHORIZATION", authorization), SLOT("PATH_INFO", path_info),
    SLOT("QUERY_STRING", query),         SLOT("REQUEST_METHOD", method),
    SLOT("REQUEST_URI", request_uri),    SLOT("REMOTE_ADDR", remote_addr),
};
_Static_assert(sizeof indexed_params / sizeof indexed_params[0] == 8, "index_param's ranges follow this table");
#undef SLOT

static void index_param(owt_request *r, const char *kv, size_t len) {
  size_t from, to; /* the slots whose name starts with kv's first byte */
  switch (kv[0]) {
  case 'C': from = 0, to = 2; break;
  case 'H': from = 2, to = 3; break;
  case 'P': from = 3, to = 4; break;
  case 'Q': from = 4, to = 5; break;
  case 'R': from = 5, to = 8; break;
  default: return; /* most params: SERVER_*, SCRIPT_*, DOCUMENT_*, ... */
  }
  for (size_t i = from; i < to; i++) {
    const param_slot *s = &indexed_params[i];
    if (len <= s->len || kv[s->len] != '=' || memcmp(s->name, kv, s->len) != 0) continue;
    owt_str *field = (owt_str *)((char *)r + s->offset);
    *field = (owt_str){kv + s->len + 1, len - s->len - 1};
    return;
  }
}

/* The path the adaptor sees: PATH_INFO when the web server split one off
 * (lighttpd fix-root-scriptname, our nginx config, Apache wrappers), else
 * REQUEST_URI up to the query, else "/". Percent-decoded, as Flask does. */
static owt_err derive_path(owt_request *r) {
  owt_str src = r->path_info;
  int decode = 0;
  if (src.len == 0 && r->request_uri.len) {
    const char *q = memchr(r->request_uri.p, '?', r->request_uri.len);
    src = (owt_str){r->request_uri.p, q ? (size_t)(q - r->request_uri.p) : r->request_uri.len};
    decode = 1;
  }
  if (src.len == 0 || src.p[0] != '/') {
    owt_err err = owt_buf_append_byte(&r->path, '/');
    if (err) return err;
  }
  if (!decode) return owt_buf_append(&r->path, src.p, src.len);
  /* '+' is a literal plus in a path: decode only %XX here. */
  for (size_t i = 0; i < src.len; i++) {
    const char *plus = memchr(src.p + i, '+', src.len - i);
    size_t run = plus ? (size_t)(plus - (src.p + i)) : src.len - i;
    owt_err err = owt_url_decode(src.p + i, run, &r->path);
    if (err) return err;
    i += run;
    if (plus && (err = owt_buf_append_byte(&r->path, '+'))) return err;
  }
  return OWT_OK;
}

/* A query string over the GET limit: say what to do instead, and log it
 * (the operator sees clients that should POST). */
static owt_err query_too_long(owt_request *r, const owt_limits *limits) {
  snprintf(r->error_text, sizeof r->error_text,
           "the query string is %zu bytes, over this server's GET limit of %zu bytes: send the "
           "fields as a POST body instead (Content-Type: application/json or "
           "application/x-www-form-urlencoded)",
           r->query.len, limits->max_query);
  r->error = r->error_text;
  owt_log(OWT_LOG_WARNING, "refused a query string of %zu bytes (over --max-query %zu): answered 414, "
          "send it as a POST body", r->query.len, limits->max_query);
  return OWT_E_URI_TOO_LONG;
}

owt_err owt_request_read_params(owt_request *r, char **envp, const owt_limits *limits) {
  size_t total = 0;
  r->envp = envp;
  r->nparams = 0;
  for (char **e = envp; e && *e; e++) {
    size_t room = limits->max_params - total;
    size_t len = strnlen(*e, room + 1);
    if (len > room) return OWT_E_TOO_LARGE;
    total += len;
    r->nparams++;
    index_param(r, *e, len);
  }
  if (r->method.len == 0) r->method = OWT_STR_LIT("GET");
  if (r->query.len > limits->max_query) return query_too_long(r, limits);
  return derive_path(r);
}

owt_str owt_request_param(const owt_request *r, const char *name) {
  size_t nlen = strlen(name);
  for (size_t i = 0; i < r->nparams; i++) {
    const char *kv = r->envp[i];
    if (strncmp(kv, name, nlen) == 0 && kv[nlen] == '=') return owt_str_of(kv + nlen + 1);
  }
  return OWT_STR_NULL;
}

owt_err owt_request_parse_length(owt_str s, size_t *out) {
  char digits[24];
  s = owt_str_trim(s);
  if (s.len == 0) {
    *out = 0;
    return OWT_OK;
  }
  for (size_t i = 0; i < s.len; i++)
    if (s.p[i] < '0' || s.p[i] > '9') return OWT_E_BAD_REQUEST;
  if (s.len >= sizeof digits) return OWT_E_TOO_LARGE;
  memcpy(digits, s.p, s.len);
  digits[s.len] = '\0';
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(digits, &end, 10);
  if (errno || *end) return OWT_E_TOO_LARGE;
  *out = (size_t)v;
  return OWT_OK;
}

owt_err owt_request_content_length(const owt_request *r, size_t *out) {
  return owt_request_parse_length(r->content_length, out);
}

/* Fail with err and the message the client gets for it. */
static owt_err body_error(owt_request *r, owt_err err, const char *why) {
  r->error = why;
  return err;
}

owt_err owt_request_read_body(owt_request *r, owt_io *io) {
  static const char over[] = "the body is over the --max-body limit";
  size_t expected = 0;
  owt_err err = owt_request_parse_length(r->content_length, &expected);
  if (err == OWT_E_BAD_REQUEST)
    return body_error(r, err, "CONTENT_LENGTH is not a decimal number of bytes (digits only)");
  if (err) return body_error(r, err, "CONTENT_LENGTH is over the --max-body limit");
  if (expected > r->body.max) return body_error(r, OWT_E_TOO_LARGE, over);
  /* Read to the end of the stream, whatever CONTENT_LENGTH said, but never
   * past the cap: the web server frames the body, not the header. */
  for (;;) {
    size_t want = r->body.max - r->body.len;
    if (want == 0) {
      char probe;
      ssize_t n = io->read(io->ctx, &probe, 1);
      if (n < 0) return OWT_E_IO;
      if (n > 0) return body_error(r, OWT_E_TOO_LARGE, over);
      break;
    }
    if (want > BODY_READ_STEP) want = BODY_READ_STEP;
    if (r->body.len == 0 && expected > want) want = expected; /* one allocation for a big body */
    if ((err = owt_buf_reserve(&r->body, want)))
      return body_error(r, err, err == OWT_E_TOO_LARGE ? over : "no memory for the body");
    ssize_t n = io->read(io->ctx, r->body.data + r->body.len, want);
    if (n < 0) return OWT_E_IO;
    if (n == 0) break;
    r->body.len += (size_t)n;
    r->body.data[r->body.len] = '\0';
  }
  r->body_complete = 1;
  if (r->body.len < expected)
    return body_error(r, OWT_E_BAD_REQUEST, "the body is shorter than CONTENT_LENGTH");
  return OWT_OK;
}

void owt_request_reset(owt_request *r) {
  owt_buf path = r->path, body = r->body;
  owt_buf_reset(&path);
  if (body.cap > BODY_KEEP_BYTES) owt_buf_free(&body);
  owt_buf_reset(&body);
  memset(r, 0, sizeof *r);
  r->path = path;
  r->body = body;
}

void owt_request_free(owt_request *r) {
  owt_buf_free(&r->path);
  owt_buf_free(&r->body);
}
