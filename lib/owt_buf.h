/* owt_buf.h - a growable byte buffer with a hard cap.
 *
 * Every buffer that holds request-derived data has a maximum, so a hostile
 * request can cost at most the configured bytes. The contents are always
 * NUL-terminated (not counted in len) so they can be handed to APIs that
 * want C strings once they are known to hold no NUL. */
#ifndef OWT_BUF_H
#define OWT_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "owt_err.h"
#include "owt_str.h"

typedef struct {
  char *data; /* NULL until the first append; owned */
  size_t len;
  size_t cap;
  size_t max; /* append fails with OWT_E_TOO_LARGE past this many bytes */
} owt_buf;

#define OWT_BUF_INIT(maxbytes) ((owt_buf){NULL, 0, 0, (maxbytes)})

/* A buffer over a caller's fixed array: cap == max + 1, so owt_buf_reserve
 * refuses with OWT_E_TOO_LARGE before it would ever realloc the array.
 * Never owt_buf_free() one. */
#define OWT_BUF_FIXED(array) ((owt_buf){(array), 0, sizeof(array), sizeof(array) - 1})

void owt_buf_init(owt_buf *b, size_t max);

/* Append n bytes. OWT_E_TOO_LARGE past b->max, OWT_E_NOMEM when malloc fails;
 * on failure b is unchanged. Inline when the room is there already (heads,
 * decoded fields: every request appends a few dozen times). */
owt_err owt_buf_append_grow(owt_buf *b, const void *p, size_t n);

static inline owt_err owt_buf_append(owt_buf *b, const void *p, size_t n) {
  if (n >= b->cap - b->len || n > b->max - b->len || b->len > b->max) return owt_buf_append_grow(b, p, n);
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return OWT_OK;
}

static inline owt_err owt_buf_append_str(owt_buf *b, const char *s) { return owt_buf_append(b, s, strlen(s)); }
static inline owt_err owt_buf_append_byte(owt_buf *b, char c) { return owt_buf_append(b, &c, 1); }
owt_err owt_buf_printf(owt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Make room for n more bytes without changing len. */
owt_err owt_buf_reserve(owt_buf *b, size_t n);

static inline owt_str owt_buf_str(const owt_buf *b) {
  return (owt_str){b->data ? b->data : "", b->len};
}

/* Forget the contents, keep the memory (request-scoped reuse). */
void owt_buf_reset(owt_buf *b);

/* Release the memory; b can be appended to again afterwards. */
void owt_buf_free(owt_buf *b);

#endif
