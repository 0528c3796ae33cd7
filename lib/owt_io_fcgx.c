/* owt_io_fcgx.c - owt_io over libfcgi streams (FastCGI mode). */
#include "owt_io_fcgx.h"

#include <limits.h>

static ssize_t fcgx_read(void *ctx, char *buf, size_t n) {
  owt_io_fcgx *fx = ctx;
  if (n > INT_MAX) n = INT_MAX;
  owt_flight_read_begin(fx->flight);
  int r = FCGX_GetStr(buf, (int)n, fx->req->in);
  owt_flight_read_end(fx->flight);
  if (r < 0 || FCGX_GetError(fx->req->in)) return -1;
  return r;
}

static int fcgx_write(void *ctx, const char *p, size_t n) {
  owt_io_fcgx *fx = ctx;
  int rc = 0;
  if (owt_flight_write_begin(fx->flight) != OWT_OK) return -1;
  while (n) {
    int chunk = n > INT_MAX ? INT_MAX : (int)n;
    if (FCGX_PutStr(p, chunk, fx->req->out) != chunk) {
      rc = -1;
      break;
    }
    p += chunk;
    n -= (size_t)chunk;
  }
  owt_flight_write_end(fx->flight);
  return rc;
}

static int fcgx_flush(void *ctx) {
  owt_io_fcgx *fx = ctx;
  if (owt_flight_write_begin(fx->flight) != OWT_OK) return -1;
  int rc = FCGX_FFlush(fx->req->out) < 0 ? -1 : 0;
  owt_flight_write_end(fx->flight);
  return rc;
}

void owt_io_fcgx_bind(owt_io *io, owt_io_fcgx *fx, FCGX_Request *req, owt_flight *flight) {
  fx->req = req;
  fx->flight = flight;
  io->ctx = fx;
  io->read = fcgx_read;
  io->write = fcgx_write;
  io->flush = fcgx_flush;
  io->envp = req->envp;
}
