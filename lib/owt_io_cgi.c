/* owt_io_cgi.c - owt_io over plain file descriptors (CGI mode). */
#include <errno.h>
#include <unistd.h>

#include "owt_io.h"

static ssize_t cgi_read(void *ctx, char *buf, size_t n) {
  owt_io_cgi *cgi = ctx;
  if (cgi->body_left == 0) return 0;
  if (n > cgi->body_left) n = cgi->body_left;
  for (;;) {
    ssize_t r = read(cgi->in_fd, buf, n);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) cgi->body_left -= (size_t)r;
    return r;
  }
}

static int cgi_write(void *ctx, const char *p, size_t n) {
  owt_io_cgi *cgi = ctx;
  cgi->started = 1;
  while (n) {
    ssize_t w = write(cgi->out_fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int cgi_flush(void *ctx) {
  (void)ctx; /* writes are unbuffered */
  return 0;
}

void owt_io_cgi_bind(owt_io *io, owt_io_cgi *cgi, char **envp) {
  io->ctx = cgi;
  io->read = cgi_read;
  io->write = cgi_write;
  io->flush = cgi_flush;
  io->envp = envp;
}
