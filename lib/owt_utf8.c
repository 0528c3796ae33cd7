/* owt_utf8.c - a table-free UTF-8 validator (RFC 3629). */
#include "owt_utf8.h"

#include <stdint.h>
#include <string.h>

int owt_utf8_valid_text(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    /* Eight ASCII bytes, none of them NUL, at a time: most code is ASCII. */
    while (len - i >= 8) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) || ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)) break;
      i += 8;
    }
    if (i >= len) break;
    unsigned char c = p[i];
    if (c == 0) return 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;      /* overlong */
      else if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;      /* overlong */
      else if (c == 0xF4) hi = 0x8F; /* > U+10FFFF */
    } else {
      return 0;
    }
    if (len - i - 1 < n) return 0;
    if (p[i + 1] < lo || p[i + 1] > hi) return 0;
    for (size_t k = 2; k <= n; k++)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return 0;
    i += n + 1;
  }
  return 1;
}
