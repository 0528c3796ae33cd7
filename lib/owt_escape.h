/* owt_escape.h - the one escaper for bytes that reach logs and status pages.
 *
 * A request can put any byte into a path or a header, and an adaptor can
 * print any byte: written raw, a newline forges a log line and a control
 * byte breaks the JSON of /_owt/status. Everything that leaves the process
 * as text for operators goes through here. Escapes are \xNN. */
#ifndef OWT_ESCAPE_H
#define OWT_ESCAPE_H

#include <stddef.h>

#include "owt_str.h"

typedef enum {
  /* Log text (messages, tracebacks, an adaptor's print()): control bytes
   * but tab (and DEL) are escaped; UTF-8 stays readable. Newlines never
   * reach it: the logger splits text into lines first. */
  OWT_ESCAPE_TEXT = 0,
  /* One field of a log line or a status record (a path, a method): every
   * control byte, space, quote, backslash and byte >= 0x80, so the field is
   * one printable ASCII word and the escaping is unambiguous. */
  OWT_ESCAPE_FIELD = 1,
} owt_escape_level;

/* Escape src into dst (cap bytes, cap >= 1), always NUL-terminated. Output
 * that does not fit is cut before an escape sequence, never inside one.
 * Returns the length written (without the NUL). */
size_t owt_escape(char *dst, size_t cap, owt_str src, owt_escape_level level);

static inline size_t owt_escape_field(char *dst, size_t cap, owt_str src) {
  return owt_escape(dst, cap, src, OWT_ESCAPE_FIELD);
}

#endif
