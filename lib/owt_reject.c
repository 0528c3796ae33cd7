/* owt_reject.c - a minimal FastCGI responder for one canned answer. */
#include "owt_reject.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define ABORT_FLUSH_MS 500 /* how long an abort waits for the web server to read what came before */

enum { FCGI_BEGIN_REQUEST = 1, FCGI_END_REQUEST = 3, FCGI_STDIN = 5, FCGI_STDOUT = 6 };

static int read_full(int fd, unsigned char *p, size_t n, int timeout_ms) {
  while (n) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    ssize_t got = read(fd, p, n);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) return -1;
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

/* Never blocks longer than a second per stall, never raises SIGPIPE: the
 * watchdog writes with it from the worker's supervising thread. */
static int write_full(int fd, const unsigned char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
      struct pollfd pfd = {fd, POLLOUT, 0};
      if (poll(&pfd, 1, 1000) <= 0) return -1;
      continue;
    }
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void header(unsigned char h[8], int type, unsigned id, size_t len) {
  h[0] = 1;
  h[1] = (unsigned char)type;
  h[2] = (unsigned char)(id >> 8);
  h[3] = (unsigned char)id;
  h[4] = (unsigned char)(len >> 8);
  h[5] = (unsigned char)len;
  h[6] = 0;
  h[7] = 0;
}

/* Skip records until the empty STDIN that ends the request. Returns the
 * request id, or -1. */
static int consume_request(int fd, size_t max_bytes, int timeout_ms) {
  unsigned char h[8], sink[512];
  size_t seen = 0;
  int id = -1;
  for (;;) {
    if (read_full(fd, h, 8, timeout_ms)) return -1;
    size_t clen = (size_t)h[4] << 8 | h[5], plen = h[6];
    if (h[0] != 1) return -1;
    if (h[1] == FCGI_BEGIN_REQUEST && id < 0) id = h[2] << 8 | h[3];
    seen += 8 + clen + plen;
    if (seen > max_bytes) return id; /* enough: answer what we have */
    for (size_t left = clen + plen; left;) {
      size_t n = left < sizeof sink ? left : sizeof sink;
      if (read_full(fd, sink, n, timeout_ms)) return -1;
      left -= n;
    }
    if (h[1] == FCGI_STDIN && clen == 0) return id;
  }
}

void owt_reject_abort(int fd) {
  static const unsigned char bad_record[8] = {0, 0, 0, 0, 0, 0, 0, 0}; /* version 0 */
  /* First let the web server take what was written: read together with the
   * bad record, the last chunks would be thrown away with it (nginx drops
   * the whole read), and the client would not see output the adaptor did
   * produce. SIOCOUTQ: bytes the peer has not read yet. */
  for (int waited = 0, queued = 0; waited < ABORT_FLUSH_MS; waited += 5) {
    if (ioctl(fd, SIOCOUTQ, &queued) != 0 || queued == 0) break;
    struct pollfd p = {fd, 0, 0};
    poll(&p, 1, 5);
  }
  ssize_t ignored = send(fd, bad_record, sizeof bad_record, MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)ignored;
}

owt_err owt_reject_reply(int fd, unsigned id, const char *resp, size_t len) {
  unsigned char h[8], end[8] = {0};
  for (size_t off = 0; off < len;) {
    size_t n = len - off > 65535 ? 65535 : len - off;
    header(h, FCGI_STDOUT, id, n);
    if (write_full(fd, h, 8) || write_full(fd, (const unsigned char *)resp + off, n)) return OWT_E_IO;
    off += n;
  }
  header(h, FCGI_STDOUT, id, 0);
  if (write_full(fd, h, 8)) return OWT_E_IO;
  header(h, FCGI_END_REQUEST, id, 8);
  if (write_full(fd, h, 8) || write_full(fd, end, 8)) return OWT_E_IO; /* appStatus 0, REQUEST_COMPLETE */
  return OWT_OK;
}

owt_err owt_reject_connection(int fd, const char *resp, size_t len, size_t max_bytes, int timeout_ms) {
  int id = consume_request(fd, max_bytes, timeout_ms);
  owt_err rc = id < 0 ? OWT_E_IO : owt_reject_reply(fd, (unsigned)id, resp, len);
  close(fd);
  return rc;
}
