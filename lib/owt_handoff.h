/* owt_handoff.h - passing open connections between processes.
 *
 * A web server that keeps FastCGI connections open (nginx fastcgi_keep_conn)
 * may send the next request on one at any moment. A worker that exits
 * (recycled, reloaded, a stuck request) must therefore never close such a
 * connection: it hands it to its master over a unix socket (SCM_RIGHTS),
 * and the master hands it to a worker that stays. The connection survives,
 * and a request already on its way waits in it for the new owner. */
#ifndef OWT_HANDOFF_H
#define OWT_HANDOFF_H

#include "owt_err.h"

/* A pair of connected channels, non-blocking and close-on-exec: ends[0]
 * for the master, ends[1] for a worker. OWT_OK or OWT_E_INTERNAL. */
owt_err owt_handoff_pair(int ends[2]);

/* Send fd over chan (the caller still owns fd and closes its copy).
 * OWT_OK, or OWT_E_IO when the channel is full or closed. */
owt_err owt_handoff_send(int chan, int fd);

/* Receive one fd from chan into *fd. OWT_OK with *fd >= 0; OWT_OK with *fd
 * -1 when nothing waits; OWT_E_IO when the other end is gone. */
owt_err owt_handoff_recv(int chan, int *fd);

#endif
