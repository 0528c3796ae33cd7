/*
 * The floor: the least a libfcgi responder can do per request.
 *
 * Accept a request, write a fixed reply, finish, repeat. Whatever owt-fcgi spends above
 * this, behind the same front server with the same process count, is its own cost.
 * Run with the listening socket on fd 0 (lighttpd bin-path, spawn-fcgi, bench/run);
 * started as plain CGI it answers one request and exits.
 */
#include <fcgiapp.h>
#include <stdio.h>

static const char reply[] =
    "Status: 200 OK\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 11\r\n"
    "\r\n"
    "Hello, owt!";

int main(void)
{
    FCGX_Request req;

    if (FCGX_IsCGI()) {
        /* plain CGI: FCGX_Accept_r only accepts on sockets, so answer on stdout */
        return fwrite(reply, 1, sizeof reply - 1, stdout) == sizeof reply - 1 ? 0 : 1;
    }
    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
        fputs("hello: FCGX_Init failed\n", stderr);
        return 1;
    }
    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_PutStr(reply, (int)(sizeof reply - 1), req.out);
        FCGX_Finish_r(&req);
    }
    return 0;
}
