/* owt_request.h - one HTTP request as the web server handed it over.
 *
 * Read in two steps so auth can run between them: the params (bounded, no
 * body read yet), then the body (bounded by --max-body, never trusting
 * CONTENT_LENGTH). Spans point into the params, which belong to libfcgi or
 * the CGI environment: they are valid until the request is finished. */
#ifndef OWT_REQUEST_H
#define OWT_REQUEST_H

#include "owt_buf.h"
#include "owt_io.h"
#include "owt_limits.h"

typedef struct {
  char **envp;    /* all params, "NAME=value" */
  size_t nparams; /* entries in envp */
  owt_str method;
  owt_str query; /* QUERY_STRING, still encoded */
  owt_str content_type;
  owt_str content_length;
  owt_str path_info;
  owt_str request_uri;
  owt_str authorization; /* HTTP_AUTHORIZATION */
  owt_str remote_addr;
  owt_buf path;     /* the request path, percent-decoded, no query */
  owt_buf body;     /* the raw body */
  int body_complete; /* the body was read to its end */
  const char *error; /* why owt_request_read_params/_read_body failed, for the response body */
  char error_text[256]; /* where a message with numbers in it is written (error points here) */
} owt_request;

/* Prepare r for requests under limits (sets the buffers' caps). */
void owt_request_init(owt_request *r, const owt_limits *limits);

/* Index the params of envp. OWT_E_TOO_LARGE when they exceed
 * limits->max_params in total; OWT_E_URI_TOO_LONG when QUERY_STRING is over
 * limits->max_query (the GET limit: r->error tells the client to POST, and a
 * warning is logged). A missing REQUEST_METHOD counts as GET. */
owt_err owt_request_read_params(owt_request *r, char **envp, const owt_limits *limits);

/* Read the body from io. OWT_E_TOO_LARGE (before reading anything) when
 * CONTENT_LENGTH exceeds the cap, or while reading when more arrives;
 * OWT_E_BAD_REQUEST when CONTENT_LENGTH is not a number or the body ends
 * short of it; OWT_E_IO when the stream fails. On any failure but OWT_E_IO,
 * r->error is a message for the client saying which of these it was. */
owt_err owt_request_read_body(owt_request *r, owt_io *io);

/* A CONTENT_LENGTH value as a number (0 when empty); errors as below. */
owt_err owt_request_parse_length(owt_str value, size_t *out);

/* CONTENT_LENGTH as a number (0 when absent). OWT_E_BAD_REQUEST when it is
 * not one, OWT_E_TOO_LARGE when it does not fit. */
owt_err owt_request_content_length(const owt_request *r, size_t *out);

/* The value of param name (NUL-terminated), or OWT_STR_NULL. Linear: for
 * the few params not indexed above. */
owt_str owt_request_param(const owt_request *r, const char *name);

/* Forget this request, keep the buffers' memory for the next one. */
void owt_request_reset(owt_request *r);

void owt_request_free(owt_request *r);

#endif
