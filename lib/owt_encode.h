/* owt_encode.h - write a request for an adaptor file: the query string,
 * the JSON body, or a curl command (owt-fcgi --encode), the same encoding
 * the clients use (clients/README.md): standard padded base64, fields in
 * the order code_b64, kwargs_b64, RFC 3986 unreserved bytes kept. */
#ifndef OWT_ENCODE_H
#define OWT_ENCODE_H

#include <stdio.h>

#include "owt_buf.h"
#include "owt_config.h"

typedef enum { OWT_ENCODE_QUERY, OWT_ENCODE_JSON, OWT_ENCODE_CURL } owt_encode_format;

/* How to write a request: the format, and what stands for the code. */
typedef struct {
  owt_encode_format format;
  const char *url;                  /* OWT_ENCODE_CURL only */
  const unsigned char *code_sha256; /* 32 bytes: code_sha256 instead of code_b64; NULL: the code */
  const unsigned char *code_sig;    /* 64 bytes: code_sig too; NULL: none */
} owt_encode_opts;

/* Append the request for code (and kwargs text, if kwargs.p is not NULL)
 * in the given format; url is used by OWT_ENCODE_CURL only. */
owt_err owt_encode_request(owt_buf *out, owt_str code, owt_str kwargs, owt_encode_format format,
                           const char *url);

/* As owt_encode_request, with the fields in the order code_b64 or
 * code_sha256, code_sig, kwargs_b64 (clients/README.md). */
owt_err owt_encode_call(owt_buf *out, owt_str code, owt_str kwargs, const owt_encode_opts *opts);

/* The request --encode prints for cfg: its format, --by-digest (the code's
 * SHA-256 instead of the code) and --key PEM (a code_sig made with it).
 * A key that cannot sign is reported on err (OWT_E_BAD_REQUEST). */
owt_err owt_encode_for_config(owt_buf *out, owt_str code, owt_str kwargs, const owt_config *cfg, FILE *err);

/* Append s percent-encoded, RFC 3986 unreserved bytes kept. */
owt_err owt_encode_percent(owt_buf *out, owt_str s);

#endif
