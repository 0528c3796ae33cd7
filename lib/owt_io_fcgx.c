/* owt_io_fcgx.c - owt_io over libfcgi streams (FastCGI mode). */
#include "owt_io_fcgx.h"

#include <limits.h>

static ssize_t fcgx_read(void *ctx, char *buf, size_t n) {
  FCGX_Request *req = ctx;
  if (n > INT_MAX) n = INT_MAX;
  int r = FCGX_GetStr(buf, (int)n, req->in);
  if (r < 0 || FCGX_GetError(req->in)) return -1;
  return r;
}

static int fcgx_write(void *ctx, const char *p, size_t n) {
  FCGX_Request *req = ctx;
  while (n) {
    int chunk = n > INT_MAX ? INT_MAX : (int)n;
    if (FCGX_PutStr(p, chunk, req->out) != chunk) return -1;
    p += chunk;
    n -= (size_t)chunk;
  }
  return 0;
}

static int fcgx_flush(void *ctx) {
  FCGX_Request *req = ctx;
  return FCGX_FFlush(req->out) < 0 ? -1 : 0;
}

void owt_io_fcgx_bind(owt_io *io, FCGX_Request *req) {
  io->ctx = req;
  io->read = fcgx_read;
  io->write = fcgx_write;
  io->flush = fcgx_flush;
  io->envp = req->envp;
}
