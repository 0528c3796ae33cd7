/* owt_escape.c - \xNN escaping for logs and status fields. */
#include "owt_escape.h"

static int needs_escape(unsigned char c, owt_escape_level level) {
  if (level == OWT_ESCAPE_TEXT) return (c < 0x20 && c != '\t') || c == 0x7f;
  return c <= 0x20 || c == 0x7f || c == '\\' || c == '"' || c >= 0x80;
}

size_t owt_escape(char *dst, size_t cap, owt_str src, owt_escape_level level) {
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
  if (cap == 0) return 0;
  for (size_t i = 0; i < src.len; i++) {
    unsigned char c = (unsigned char)src.p[i];
    if (!needs_escape(c, level)) {
      if (n + 1 >= cap) break;
      dst[n++] = (char)c;
      continue;
    }
    if (n + 4 >= cap) break;
    dst[n++] = '\\';
    dst[n++] = 'x';
    dst[n++] = hex[c >> 4];
    dst[n++] = hex[c & 15];
  }
  dst[n] = '\0';
  return n;
}
