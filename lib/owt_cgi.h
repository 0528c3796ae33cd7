/* owt_cgi.h - one plain CGI request: the process a web server starts for
 * it runs the request pipeline once, with SIGALRM keeping its time limit. */
#ifndef OWT_CGI_H
#define OWT_CGI_H

#include "owt_server.h"

/* Serve the one CGI request in the environment (srv initialised with 0
 * threads), writing the response to response_fd. Returns the exit code. */
int owt_cgi_run(owt_server *srv, int response_fd);

#endif
