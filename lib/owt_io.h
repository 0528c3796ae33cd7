/* owt_io.h - one interface for where a request comes from and goes to.
 *
 * FastCGI (libfcgi streams) and plain CGI (environment, stdin, a private copy
 * of stdout) both fill this in, so the request pipeline in owt_server.c is
 * the same code for both modes. */
#ifndef OWT_IO_H
#define OWT_IO_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct owt_io {
  void *ctx;
  /* Up to n bytes of the request body; 0 at its end, -1 on error. */
  ssize_t (*read)(void *ctx, char *buf, size_t n);
  /* All of p[0..n) or -1 when the client or web server has gone away. */
  int (*write)(void *ctx, const char *p, size_t n);
  /* Push buffered output to the web server now; -1 when it has gone away. */
  int (*flush)(void *ctx);
  /* The request's parameters as NUL-terminated "NAME=value" strings. */
  char **envp;
} owt_io;

/* The CGI backend: body from fd in_fd, response to fd out_fd, params from envp. */
typedef struct {
  int in_fd;
  int out_fd;
  volatile sig_atomic_t started; /* a byte of the response has been written */
  size_t body_left; /* CONTENT_LENGTH still to read; CGI stdin has no EOF marker of its own */
} owt_io_cgi;

void owt_io_cgi_bind(owt_io *io, owt_io_cgi *cgi, char **envp);

#endif
