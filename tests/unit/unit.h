/* unit.h - what the cmocka unit test binaries share.
 *
 * An owt_io over memory (a body read in pieces of a chosen size, output
 * collected in a buffer, failures on demand), span assertions that print
 * both sides, and a deterministic byte generator. Header-only so each test
 * binary stays one .c file plus the library. */
#ifndef OWT_UNIT_H
#define OWT_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "owt_buf.h"
#include "owt_io.h"
#include "owt_str.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A span equals a C string, or the test fails showing both. */
#define assert_span_equal(span, expected)                                                     \
  do {                                                                                        \
    owt_str got_ = (span);                                                                    \
    const char *want_ = (expected);                                                           \
    size_t want_len_ = strlen(want_);                                                         \
    if (got_.len != want_len_ || (want_len_ && memcmp(got_.p, want_, want_len_) != 0))        \
      fail_msg("%s: got \"%.*s\" (%zu bytes), want \"%s\" (%zu bytes)", #span, (int)got_.len, \
               got_.p ? got_.p : "", got_.len, want_, want_len_);                             \
  } while (0)

/* A buffer's contents equal want[0..want_len), which may hold any byte. */
#define assert_buf_bytes(buf, want, want_len)          \
  do {                                                 \
    const owt_buf *b_ = (buf);                         \
    size_t n_ = (want_len);                            \
    assert_int_equal(b_->len, n_);                     \
    if (n_) assert_memory_equal(b_->data, (want), n_); \
  } while (0)

/* ---- an owt_io over memory ---------------------------------------------------- */

typedef struct {
  const char *in; /* the request body */
  size_t in_len;
  size_t in_pos;
  size_t piece;    /* most bytes one read returns; 0: as many as asked */
  size_t fail_at;  /* a read starting at or past this offset fails; SIZE_MAX: never */
  int write_fails; /* every write returns -1 */
  int reads;       /* read calls made */
  int flushes;     /* flush calls made */
  owt_buf out;     /* everything written */
} mem_io;

static inline ssize_t mem_io_read(void *ctx, char *buf, size_t n) {
  mem_io *m = ctx;
  m->reads++;
  if (m->in_pos >= m->fail_at) return -1;
  size_t left = m->in_len - m->in_pos;
  if (n > left) n = left;
  if (m->piece && n > m->piece) n = m->piece;
  if (n) memcpy(buf, m->in + m->in_pos, n);
  m->in_pos += n;
  return (ssize_t)n;
}

static inline int mem_io_write(void *ctx, const char *p, size_t n) {
  mem_io *m = ctx;
  if (m->write_fails) return -1;
  return owt_buf_append(&m->out, p, n) == OWT_OK ? 0 : -1;
}

static inline int mem_io_flush(void *ctx) {
  mem_io *m = ctx;
  m->flushes++;
  return m->write_fails ? -1 : 0;
}

/* Bind io to m, reading body[0..len) and collecting output (up to 1 MiB). */
static inline void mem_io_bind(owt_io *io, mem_io *m, const char *body, size_t len, char **envp) {
  memset(m, 0, sizeof *m);
  m->in = body;
  m->in_len = len;
  m->fail_at = SIZE_MAX;
  owt_buf_init(&m->out, 1u << 20);
  io->ctx = m;
  io->read = mem_io_read;
  io->write = mem_io_write;
  io->flush = mem_io_flush;
  io->envp = envp;
}

static inline void mem_io_free(mem_io *m) { owt_buf_free(&m->out); }

/* ---- deterministic bytes ------------------------------------------------------ */

/* xorshift32: the same "random" bytes on every run and every machine. */
static inline void unit_fill_bytes(unsigned char *p, size_t n, uint32_t seed) {
  uint32_t x = seed ? seed : 0x9e3779b9u;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (unsigned char)x;
  }
}

/* ---- scratch directories -------------------------------------------------------- */

/* A fresh directory $TMPDIR/owt-test-NAME.XXXXXX (/tmp without TMPDIR) into dir. */
static inline void unit_temp_dir(char *dir, size_t size, const char *name) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, size, "%s/owt-test-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
  assert_non_null(mkdtemp(dir));
}

/* rm -rf dir (one unit_temp_dir made). */
static inline void unit_remove_dir(const char *dir) {
  char cmd[600];
  assert_true((size_t)snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) < sizeof cmd);
  assert_int_equal(system(cmd), 0);
}

#endif
