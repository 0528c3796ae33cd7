/* owt_reject.h - answer one FastCGI connection with a fixed response,
 * without libfcgi and without Python: what the master says (503) to
 * requests that arrive while it drains. */
#ifndef OWT_REJECT_H
#define OWT_REJECT_H

#include <stddef.h>

/* Read the request on fd far enough to know its id (BEGIN_REQUEST), consume
 * its params and stdin until the empty STDIN record, at most max_bytes or
 * timeout_ms (each read), then write cgi_response (a CGI-style response:
 * "Status: ...\r\n...\r\n\r\nbody") as STDOUT and END_REQUEST, and close
 * fd. Returns 0 when the response was written, -1 otherwise (fd closed
 * either way). */
int owt_reject_connection(int fd, const char *cgi_response, size_t len, size_t max_bytes,
                          int timeout_ms);

/* Write cgi_response as the whole answer to request id on fd: STDOUT
 * records, the empty STDOUT, END_REQUEST. Never blocks for long (a stalled
 * peer fails it after a second). 0, or -1 when the peer is gone or stalled.
 * fd stays open. */
int owt_reject_reply(int fd, unsigned id, const char *cgi_response, size_t len);

#endif
