/* owt_response.h - the CGI/FastCGI response head, and error responses.
 *
 * Every response leaves through here, so the rules every response obeys
 * (a Status line, X-Content-Type-Options, the event-stream headers, no
 * header injection) live in one place. */
#ifndef OWT_RESPONSE_H
#define OWT_RESPONSE_H

#include "owt_buf.h"
#include "owt_io.h"

typedef struct {
  owt_str name;
  owt_str value;
} owt_header;

/* Append the head for status and headers to out: "Status: 200 OK", the given
 * headers (hop-by-hop ones, Status and Content-Length are dropped), then
 * Content-Type (text/plain when none), X-Content-Type-Options: nosniff,
 * Cache-Control: no-cache and X-Accel-Buffering: no for text/event-stream,
 * and Content-Length when content_length >= 0; then the blank line.
 * OWT_E_ADAPTOR when a header name is not a token or a value holds CR, LF or
 * another control byte (an adaptor bug, reported as a 500);
 * *event_stream (may be NULL) tells whether the type is text/event-stream. */
owt_err owt_response_head(owt_buf *out, int status, const owt_header *headers, size_t nheaders,
                          long long content_length, int *event_stream);

/* Write a complete error response for err: status from owt_err_status(),
 * body message, and extra headers (e.g. WWW-Authenticate). The body is
 * text/plain, except for errors a client must tell apart by machine
 * (OWT_E_UNKNOWN_CODE), whose message is a JSON object sent as
 * application/json.
 * Returns OWT_E_IO when the client has gone. */
owt_err owt_response_send_error(owt_io *io, owt_err err, owt_str message, const owt_header *extra,
                                size_t nextra);

/* Write a complete 200 response with a fixed body (the /_owt/ pages; their
 * errors go through owt_response_send_error). OWT_E_IO when the client has
 * gone. */
owt_err owt_response_send(owt_io *io, owt_str content_type, owt_str body);

/* Append to out the whole response owt_response_send_error would write for
 * err (head and body), for the places that must answer without building
 * one then: a watchdog's 504, the master's 503 while it drains, the CGI
 * deadline's last word from a signal handler. OWT_E_TOO_LARGE when out is
 * too small. */
owt_err owt_response_canned(owt_buf *out, owt_err err, owt_str message, const owt_header *extra,
                            size_t nextra);

/* The same with extra headers (at most 7: Location, Content-Security-Policy, ...). */
owt_err owt_response_send_with(owt_io *io, int status, owt_str content_type, owt_str body,
                               const owt_header *extra, size_t nextra);

#endif
