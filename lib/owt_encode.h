/* owt_encode.h - write a request for an adaptor file: the query string,
 * the JSON body, or a curl command (owt-fcgi --encode), the same encoding
 * the clients use (clients/README.md): standard padded base64, fields in
 * the order code_b64, kwargs_b64, RFC 3986 unreserved bytes kept. */
#ifndef OWT_ENCODE_H
#define OWT_ENCODE_H

#include "owt_buf.h"

typedef enum { OWT_ENCODE_QUERY, OWT_ENCODE_JSON, OWT_ENCODE_CURL } owt_encode_format;

/* Append the request for code (and kwargs text, if kwargs.p is not NULL)
 * in the given format; url is used by OWT_ENCODE_CURL only. */
owt_err owt_encode_request(owt_buf *out, owt_str code, owt_str kwargs, owt_encode_format format,
                           const char *url);

/* Append s percent-encoded, RFC 3986 unreserved bytes kept. */
owt_err owt_encode_percent(owt_buf *out, owt_str s);

#endif
