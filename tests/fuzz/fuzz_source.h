/* fuzz_source.h - a request body read from the fuzzer's bytes in small
 * pieces (at most step bytes per read), so the readers' loops are fuzzed
 * too. Header-only: each fuzz target is one .c file plus lib/. */
#ifndef OWT_FUZZ_SOURCE_H
#define OWT_FUZZ_SOURCE_H

#include <string.h>
#include <sys/types.h>

typedef struct {
  const unsigned char *p;
  size_t left;
  size_t step;
} source;

static inline ssize_t source_read(void *ctx, char *buf, size_t n) {
  source *s = ctx;
  n = n < s->left ? n : s->left;
  n = n < s->step ? n : s->step;
  memcpy(buf, s->p, n);
  s->p += n;
  s->left -= n;
  return (ssize_t)n;
}

#endif
