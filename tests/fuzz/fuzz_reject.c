/* fuzz_reject.c - the master's own FastCGI reader (owt_reject_connection):
 * whatever bytes a peer sends, it answers with well-formed records for the
 * request id it read, or writes nothing; it never reads past its limit,
 * hangs or crashes. The input is what the peer sends before it stops
 * writing (a socketpair with its write side shut). */
#undef NDEBUG /* the asserts are the checks */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "owt_reject.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char answer[] = "Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\ndraining\n";

/* Check out[0..n): STDOUT records of id carrying answer, the empty STDOUT,
 * END_REQUEST with REQUEST_COMPLETE, nothing after. */
static void check_reply(const unsigned char *out, size_t n) {
  size_t at = 0, got = 0;
  int id = -1, ended = 0;
  while (at < n) {
    assert(n - at >= 8);
    const unsigned char *h = out + at;
    size_t clen = (size_t)h[4] << 8 | h[5];
    assert(h[0] == 1 && h[6] == 0 && n - at - 8 >= clen);
    int rid = h[2] << 8 | h[3];
    if (id < 0) id = rid;
    assert(rid == id && !ended);
    if (h[1] == 6 && clen) { /* STDOUT */
      assert(got + clen <= sizeof answer - 1 && memcmp(h + 8, answer + got, clen) == 0);
      got += clen;
    } else if (h[1] == 6) {
      assert(got == sizeof answer - 1);
    } else {
      assert(h[1] == 3 && clen == 8 && h[8 + 4] == 0); /* END_REQUEST, REQUEST_COMPLETE */
      ended = 1;
    }
    at += 8 + clen;
  }
  assert(ended);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  int sv[2];
  unsigned char out[4096];
  size_t n = 0;
  if (size > 65536) return 0; /* stays inside the socket buffer: no writer thread needed */
  assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  for (size_t off = 0; off < size;) {
    ssize_t w = write(sv[1], data + off, size - off);
    assert(w > 0);
    off += (size_t)w;
  }
  shutdown(sv[1], SHUT_WR); /* the peer said all it will say */
  /* a small max_bytes so the limit is reached too */
  owt_err rc = owt_reject_connection(sv[0], answer, sizeof answer - 1, 2048, 50);
  for (;;) {
    ssize_t r = read(sv[1], out + n, sizeof out - n);
    /* ECONNRESET: it closed with input unread; what it wrote came first */
    assert(r >= 0 || errno == ECONNRESET);
    if (r <= 0) break;
    n += (size_t)r;
    assert(n < sizeof out); /* a reply is a few records, never more */
  }
  close(sv[1]);
  if (rc == OWT_OK) check_reply(out, n);
  else assert(n == 0);
  return 0;
}
