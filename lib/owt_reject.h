/* owt_reject.h - answer one FastCGI connection with a fixed response,
 * without libfcgi and without Python: what the master says (503) to
 * requests that arrive while it drains. */
#ifndef OWT_REJECT_H
#define OWT_REJECT_H

#include <stddef.h>

#include "owt_err.h"

/* Read the request on fd far enough to know its id (BEGIN_REQUEST), consume
 * its params and stdin until the empty STDIN record, at most max_bytes or
 * timeout_ms (each read), then write cgi_response (a CGI-style response:
 * "Status: ...\r\n...\r\n\r\nbody") as STDOUT and END_REQUEST, and close
 * fd. OWT_OK when the response was written; OWT_E_IO when the peer sent
 * no request (garbage, silence, a close) or did not take the answer (fd
 * closed either way). */
owt_err owt_reject_connection(int fd, const char *cgi_response, size_t len, size_t max_bytes,
                              int timeout_ms);

/* Write cgi_response as the whole answer to request id on fd: STDOUT
 * records, the empty STDOUT, END_REQUEST. Never blocks for long (a stalled
 * peer fails it after a second). OWT_OK, or OWT_E_IO when the peer is gone
 * or stalled. fd stays open. */
owt_err owt_reject_reply(int fd, unsigned id, const char *cgi_response, size_t len);

#endif
