/* owt_buf.c - capped growable buffers. */
#include "owt_buf.h"

#include "owt_cfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void owt_buf_init(owt_buf *b, size_t max) { *b = OWT_BUF_INIT(max); }

owt_err owt_buf_reserve(owt_buf *b, size_t n) {
  if (n > b->max || b->len > b->max - n) return OWT_E_TOO_LARGE;
  size_t need = b->len + n + 1; /* +1: the terminating NUL */
  if (need <= b->cap) return OWT_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
  char *p = realloc(b->data, cap);
  if (!p) return OWT_E_NOMEM;
  p[b->len] = '\0'; /* a first allocation must hold the terminator too */
  b->data = p;
  b->cap = cap;
  return OWT_OK;
}

owt_err owt_buf_append_grow(owt_buf *b, const void *p, size_t n) {
  owt_err err = owt_buf_reserve(b, n);
  if (err) return err;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return OWT_OK;
}

owt_err owt_buf_printf(owt_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = owt_cfmt_v(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return OWT_E_INTERNAL;
  owt_err err = owt_buf_reserve(b, (size_t)n);
  if (err) return err;
  va_start(ap, fmt);
  owt_cfmt_v(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return OWT_OK;
}

void owt_buf_reset(owt_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void owt_buf_free(owt_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
