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

/* Make the web server end the response it is relaying on fd as failed.
 * FastCGI has no record that says so (FCGI_END_REQUEST means complete, and
 * a plain close is taken by nginx for a complete body): send a record header
 * no web server accepts (version 0), after which nginx, lighttpd and
 * mod_fcgid give up on the response and close the client's connection
 * without ending its body. Waits (up to 0.2 s) for the web server to have
 * read what was written before, then sends without blocking; best effort;
 * fd stays open. */
void owt_reject_abort(int fd);

#endif
